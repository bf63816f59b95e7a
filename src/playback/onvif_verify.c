/* Verification of an ONVIF Export File (docs/ONVIF-EXPORT.md): the box structure, the
 * export's metadata, and every signing instance, the way the format's reference player checks
 * them: the SHA-256 of the file from its first byte to the end of the signing instance's sinf
 * box, with that instance's signature bytes zeroed and, when later instances follow, the sizes
 * of meta and ipro cut back to that end (Annex A), verified as RSASSA-PSS with the public key
 * of the certificate in the same instance.
 *
 * The file comes from outside: nothing read from it is trusted. Every box must lie inside its
 * parent, the meta box and each moof are read whole only up to SG_BOX_MAX, the rest of the
 * file is hashed in bounded chunks, and every string that reaches the report is cut to its
 * field and stripped of control characters. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "base/err.h"
#include "playback/onvif_int.h"
#include "playback/playback.h"
#include "record/box.h"
#include "record/fmp4.h"

#define HASH_CHUNK (1 << 20)
#define PRFT_MAX 256
#define SINF_MAX 16               /* signing instances looked at */

struct verify {
    int fd;
    int64_t size;
    struct sg_onvif_report *rep;
    uint32_t timescale;           /* of the first track (mdhd); 0: unknown */
    int64_t meta_off, meta_size;
    uint8_t *meta;                /* the whole meta box */
    int64_t pending_utc;          /* prft before the next moof; INT64_MIN: none */
};

static int fail(struct verify *v, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct verify *v, int code, const char *fmt, ...)
{
    va_list ap;

    if (!v->rep->problem[0]) {
        va_start(ap, fmt);
        vsnprintf(v->rep->problem, sizeof(v->rep->problem), fmt, ap);
        va_end(ap);
    }
    return code;
}

/* A string field of [p, end) into out (cut to n - 1, control characters as '?'); returns the
 * position after its terminator, or NULL when it has none. */
static const uint8_t *get_str(const uint8_t *p, const uint8_t *end, char *out, size_t n)
{
    const uint8_t *z = memchr(p, 0, (size_t)(end - p));
    size_t len, k = 0;

    if (!z)
        return NULL;
    len = (size_t)(z - p);
    for (size_t i = 0; i < len && k + 1 < n; i++)
        out[k++] = p[i] < 0x20 || p[i] == 0x7f ? '?' : (char)p[i];
    if (n)
        out[k] = 0;
    return z + 1;
}

/* The next child box in [*pos, end) of buf: its type, payload offset and length. Returns 1,
 * 0 at the end, or -1 when a box does not fit (64-bit sizes are not used inside meta). */
static int next_box(const uint8_t *buf, size_t *pos, size_t end, const uint8_t **type,
                    size_t *payload, size_t *len)
{
    uint32_t sz;

    if (*pos >= end)
        return 0;
    if (end - *pos < 8)
        return -1;
    sz = sg_rd32(buf + *pos);
    if (sz < 8 || sz > end - *pos)
        return -1;
    *type = buf + *pos + 4;
    *payload = *pos + 8;
    *len = sz - 8;
    *pos += sz;
    return 1;
}

/* ---- the media: top-level boxes before meta ---- */

static void read_moov(struct verify *v, const uint8_t *m, size_t len)
{
    static const char *const path[] = { "trak", "mdia", "mdhd" };
    const uint8_t *p = m, *e = m + len;
    size_t l = len;

    for (int i = 0; i < 3; i++) {
        if (!(p = sg_box_find(p, e, path[i], &l)))
            return;
        e = p + l;
    }
    if (l >= 24 && p[0] == 1)
        v->timescale = sg_rd32(p + 20);
    else if (l >= 16 && p[0] == 0)
        v->timescale = sg_rd32(p + 12);
}

/* Reads a top-level box's payload (at most SG_BOX_MAX) into *buf (caller frees). */
static int read_payload(struct verify *v, int64_t off, uint64_t size, size_t hl, uint8_t **buf,
                        size_t *len)
{
    int r;

    if (size - hl > SG_BOX_MAX)
        return fail(v, SG_E_CORRUPT, "the box of %llu bytes at offset %lld is too large",
                    (unsigned long long)size, (long long)off);
    *len = (size_t)(size - hl);
    if (!(*buf = malloc(*len ? *len : 1)))
        return -ENOMEM;
    if ((r = sg_box_pread(v->fd, *buf, *len, off + (int64_t)hl)) < 0) {
        free(*buf);
        *buf = NULL;
        return r == SG_E_CORRUPT ? fail(v, r, "the file ends inside the box at offset %lld",
                                        (long long)off) : r;
    }
    return 0;
}

/* ticks of `scale` per second as microseconds, capped far beyond any real duration so that
 * sums with a wall-clock time cannot overflow whatever a hostile file says */
static int64_t ticks_us(uint64_t ticks, uint32_t scale)
{
    uint64_t sec = ticks / scale;

    if (sec > 100000000000ULL) /* 3,000 years */
        return 100000000000LL * 1000000;
    return (int64_t)(sec * 1000000 + ticks % scale * 1000000 / scale);
}

/* A moof: counts its samples and, with the prft before it, the wall-clock they cover. */
static int read_moof(struct verify *v, int64_t off, uint64_t size, size_t hl)
{
    struct sg_onvif_report *rep = v->rep;
    struct sg_trun t;
    uint8_t *m = NULL;
    uint64_t dur = 0;
    size_t len;
    int r;

    if ((r = read_payload(v, off, size, hl, &m, &len)) < 0)
        return r;
    if (sg_box_trun(m, len, &t) < 0) {
        free(m);
        return fail(v, SG_E_CORRUPT, "the movie fragment at offset %lld is damaged",
                    (long long)off);
    }
    for (uint32_t i = 0; i < t.n; i++)
        dur += sg_trun_duration(&t, i);
    free(m);
    rep->fragments++;
    rep->frames += t.n;
    if (v->pending_utc != INT64_MIN) {
        if (!rep->first_utc_us)
            rep->first_utc_us = v->pending_utc;
        if (v->timescale)
            rep->last_utc_us = v->pending_utc + ticks_us(dur, v->timescale);
        v->pending_utc = INT64_MIN;
    }
    return 0;
}

static int read_prft(struct verify *v, int64_t off, uint64_t size, size_t hl)
{
    uint8_t p[PRFT_MAX];

    if (size - hl < 4 + 4 + 8 || size - hl > PRFT_MAX)
        return 0; /* not one we can read: no wall-clock for the next fragment */
    if (sg_box_pread(v->fd, p, (size_t)(size - hl), off + (int64_t)hl) < 0)
        return fail(v, SG_E_CORRUPT, "the file ends inside the box at offset %lld", (long long)off);
    v->pending_utc = sg_utc_us_from_ntp(sg_rd64(p + 8));
    return 0;
}

/* Walks the top-level boxes: ftyp first, one moov, fragments, one meta, then at most an mfra
 * (which the format leaves outside the seal). */
static int walk(struct verify *v)
{
    uint8_t hdr[16], *buf = NULL;
    uint64_t sz;
    size_t hl, len;
    int64_t off = 0;
    int moov = 0, r;

    v->meta_off = -1;
    while (off < v->size) {
        if ((r = sg_box_head(v->fd, off, v->size, hdr, &sz, &hl)) < 0)
            return r;
        if (r == 0)
            return fail(v, SG_E_CORRUPT, "the box at offset %lld runs past the end of the file "
                        "(%lld bytes): the file is cut short or damaged", (long long)off,
                        (long long)v->size);
        if (off == 0 && memcmp(hdr + 4, "ftyp", 4))
            return fail(v, SG_E_CORRUPT, "not an ISO BMFF (MP4) file: it does not start with ftyp");
        if (v->meta_off >= 0) {
            /* the movie fragment random access box is redundant and not sealed (4.2) */
            if (!memcmp(hdr + 4, "mfra", 4) && off + (int64_t)sz == v->size) {
                v->rep->unsealed_bytes = (int64_t)sz;
                break;
            }
            return fail(v, SG_E_CORRUPT, "%lld bytes after the sealed meta box (from offset "
                        "%lld) are not covered by the signature", (long long)(v->size - off),
                        (long long)off);
        }
        if (!memcmp(hdr + 4, "moov", 4)) {
            if (moov++)
                return fail(v, SG_E_CORRUPT, "more than one moov box");
            if ((r = read_payload(v, off, sz, hl, &buf, &len)) < 0)
                return r;
            read_moov(v, buf, len);
            free(buf);
        } else if (!memcmp(hdr + 4, "prft", 4)) {
            if ((r = read_prft(v, off, sz, hl)) < 0)
                return r;
        } else if (!memcmp(hdr + 4, "moof", 4)) {
            if (!moov)
                return fail(v, SG_E_CORRUPT, "a movie fragment before the moov box");
            if ((r = read_moof(v, off, sz, hl)) < 0)
                return r;
        } else if (!memcmp(hdr + 4, "meta", 4)) {
            if (sz - hl > SG_BOX_MAX || hl != 8)
                return fail(v, SG_E_CORRUPT, "the meta box at offset %lld is too large",
                            (long long)off);
            v->meta_off = off;
            v->meta_size = (int64_t)sz;
        }
        off += (int64_t)sz;
    }
    if (!moov)
        return fail(v, SG_E_CORRUPT, "no moov box: not a playable MP4 file");
    if (v->meta_off < 0)
        return fail(v, SG_E_CORRUPT, "no file-level meta box: the file is not sealed "
                    "(not an ONVIF export, or cut short)");
    if (!v->rep->fragments)
        return fail(v, SG_E_CORRUPT, "no movie fragments: nothing was exported");
    return 0;
}

/* ---- the meta box ---- */

/* One signing instance: where its boxes are in v->meta. */
struct sinf {
    size_t end;                   /* offset in meta of the end of this sinf */
    size_t sig, sig_len;          /* sibo payload */
    size_t cert, cert_len;
    size_t alg, alg_len;          /* sigC payload (0: absent) */
    size_t info, info_len;        /* auib payload (0: absent) */
};

static int read_suep(struct verify *v, const uint8_t *p, size_t len)
{
    struct sg_onvif_report *rep = v->rep;
    const uint8_t *e = p + len;

    if (len < 4 || p[0] != 1)
        return fail(v, SG_E_CORRUPT, "the SurveillanceExportBox (suep) is not version 1");
    p += 4;
    if (!(p = get_str(p, e, rep->unit_name, sizeof(rep->unit_name))) ||
        !(p = get_str(p, e, rep->unit_url, sizeof(rep->unit_url))) ||
        !(p = get_str(p, e, rep->unit_mac, sizeof(rep->unit_mac))) || e - p < 8)
        return fail(v, SG_E_CORRUPT, "the SurveillanceExportBox (suep) is damaged");
    {
        uint64_t t = sg_rd64(p);
        /* seconds since 1904; anything past the year 9999 is not a time */
        if (t >= (uint64_t)SG_ONVIF_EPOCH_1904_S && t < 255000000000ULL)
            rep->export_time_us = ((int64_t)t - SG_ONVIF_EPOCH_1904_S) * 1000000;
    }
    p += 8;
    if (!(p = get_str(p, e, rep->operator_name, sizeof(rep->operator_name))) || e - p < 4)
        return fail(v, SG_E_CORRUPT, "the SurveillanceExportBox (suep) is damaged");
    if (sg_rd32(p) > 0) { /* the first track's source */
        p += 4;
        if (e - p < 2 || !(p = get_str(p + 2, e, rep->source_name, sizeof(rep->source_name))) ||
            !(p = get_str(p, e, rep->source_url, sizeof(rep->source_url))) ||
            !(p = get_str(p, e, rep->source_mac, sizeof(rep->source_mac))) ||
            !get_str(p, e, rep->source_line, sizeof(rep->source_line)))
            return fail(v, SG_E_CORRUPT, "the SurveillanceExportBox (suep) is damaged");
    }
    return 0;
}

static void read_cstb(struct verify *v, const uint8_t *p, size_t len)
{
    /* the first entry; the origin of the media timeline in 100 ns since 1601 */
    if (len >= 4 + 12 && sg_rd32(p) >= 1 && !v->rep->start_utc_us)
        v->rep->start_utc_us = sg_onvif_utc_from_filetime(sg_rd64(p + 8));
}

static int read_schi(struct verify *v, size_t pos, size_t end, struct sinf *s)
{
    const uint8_t *type;
    size_t pl, len;
    int r, sibo = 0, cert = 0;

    while ((r = next_box(v->meta, &pos, end, &type, &pl, &len)) > 0) {
        if (!memcmp(type, "sibo", 4)) {
            sibo++;
            s->sig = pl;
            s->sig_len = len;
        } else if (!memcmp(type, "cert", 4)) {
            cert++;
            s->cert = pl;
            s->cert_len = len;
        } else if (!memcmp(type, "sigC", 4)) {
            s->alg = pl;
            s->alg_len = len;
        } else if (!memcmp(type, "auib", 4)) {
            s->info = pl;
            s->info_len = len;
        } else if (!memcmp(type, "cstb", 4)) {
            read_cstb(v, v->meta + pl, len);
        }
    }
    if (r < 0)
        return fail(v, SG_E_CORRUPT, "the scheme information box (schi) is damaged");
    if (sibo != 1 || cert != 1 || s->sig_len == 0 || s->cert_len == 0)
        return fail(v, SG_E_CORRUPT, "a signing instance without exactly one signature (sibo) "
                    "and one certificate (cert)");
    return 0;
}

static int read_sinf(struct verify *v, size_t pos, size_t end, struct sinf *s)
{
    const uint8_t *type;
    size_t pl, len;
    int r, schm = 0, schi = 0;

    s->end = end;
    while ((r = next_box(v->meta, &pos, end, &type, &pl, &len)) > 0) {
        if (!memcmp(type, "schm", 4)) {
            schm++;
            /* 'oeff' as the specification writes it; the reference signer writes it in capitals */
            if (len < 12 || strncasecmp((const char *)v->meta + pl + 4, "oeff", 4))
                return fail(v, SG_E_CORRUPT, "a protection scheme that is not the ONVIF Export "
                            "File Format ('oeff')");
        } else if (!memcmp(type, "schi", 4)) {
            schi++;
            if ((r = read_schi(v, pl, pl + len, s)) < 0)
                return r;
        } else if (!memcmp(type, "cstb", 4)) {
            read_cstb(v, v->meta + pl, len);
        }
    }
    if (r < 0 || schm != 1 || schi != 1)
        return fail(v, SG_E_CORRUPT, "a protection scheme information box (sinf) without "
                    "exactly one schm and one schi");
    return 0;
}

/* meta: hdlr, suep, cstb, ipro (sinf...). Fills s[0..*n) in file order; *ipro: offset in meta
 * of the ipro box (its size field). */
static int read_meta(struct verify *v, struct sinf *s, int *n, size_t *ipro)
{
    const uint8_t *type, *m = v->meta;
    size_t pos = 8 + 4, end = (size_t)v->meta_size, pl, len;
    int r, suep = 0, ipros = 0;

    *n = 0;
    while ((r = next_box(m, &pos, end, &type, &pl, &len)) > 0) {
        if (!memcmp(type, "suep", 4)) {
            if (suep++ == 0 && (r = read_suep(v, m + pl, len)) < 0)
                return r;
        } else if (!memcmp(type, "cstb", 4)) {
            read_cstb(v, m + pl, len);
        } else if (!memcmp(type, "ipro", 4)) {
            size_t p2 = pl + 6, pl2, len2;
            const uint8_t *t2;
            int r2;
            if (ipros++)
                break;
            *ipro = pl - 8;
            if (len < 6)
                return fail(v, SG_E_CORRUPT, "the item protection box (ipro) is damaged");
            if (sg_rd16(m + pl + 4) != 1)
                return fail(v, SG_E_CORRUPT, "ipro's protection_count is %u, not 1",
                            sg_rd16(m + pl + 4));
            while ((r2 = next_box(m, &p2, pl + len, &t2, &pl2, &len2)) > 0) {
                if (memcmp(t2, "sinf", 4))
                    continue;
                if (*n == SINF_MAX)
                    return fail(v, SG_E_CORRUPT, "more than %d signing instances", SINF_MAX);
                memset(&s[*n], 0, sizeof(s[*n]));
                if ((r = read_sinf(v, pl2, pl2 + len2, &s[*n])) < 0)
                    return r;
                (*n)++;
            }
            if (r2 < 0)
                return fail(v, SG_E_CORRUPT, "the item protection box (ipro) is damaged");
        }
    }
    if (r < 0 || m[8] != 0)
        return fail(v, SG_E_CORRUPT, "the meta box is damaged (or not a full box of version 0)");
    if (suep != 1)
        return fail(v, SG_E_CORRUPT, "%s SurveillanceExportBox (suep); exactly one is required",
                    suep ? "more than one" : "no");
    if (ipros != 1 || *n == 0)
        return fail(v, SG_E_CORRUPT, "the file is not signed: no item protection box (ipro) "
                    "with a signing instance (sinf)");
    return 0;
}

/* ---- signatures ---- */

/* SHA-256 of the file [0, meta_off) into ctx. */
static int hash_prefix(struct verify *v, EVP_MD_CTX *ctx)
{
    uint8_t *buf = malloc(HASH_CHUNK);
    int64_t off = 0;
    int r = 0;

    if (!buf)
        return -ENOMEM;
    while (off < v->meta_off && r == 0) {
        size_t n = v->meta_off - off < HASH_CHUNK ? (size_t)(v->meta_off - off) : HASH_CHUNK;
        if ((r = sg_box_pread(v->fd, buf, n, off)) == 0 && EVP_DigestUpdate(ctx, buf, n) != 1)
            r = -ENOMEM;
        off += (int64_t)n;
    }
    free(buf);
    return r;
}

/* The bytes of meta that signing instance s covers, as they were when it was made: the last
 * one signed the whole box; an earlier one, the box as it ended with its own sinf, before the
 * later instances were appended to ipro (the sizes of meta and ipro cut back accordingly). */
static int signed_meta(struct verify *v, const struct sinf *s, int last, size_t ipro,
                       struct sg_buf *out)
{
    size_t end = last ? (size_t)v->meta_size : s->end;

    sg_buf_reset(out);
    if (sg_buf_append(out, v->meta, end) < 0)
        return -ENOMEM;
    memset(out->data + s->sig, 0, s->sig_len);
    if (!last) {
        sg_wr32(out->data, (uint32_t)end);
        sg_wr32(out->data + ipro, (uint32_t)(end - ipro));
    }
    return 0;
}

/* The signature algorithm: none named (the default) or RSASSA-PSS. */
static int check_alg(struct verify *v, const struct sinf *s)
{
    const uint8_t *p = v->meta + s->alg;
    X509_ALGOR *a;
    const ASN1_OBJECT *obj;
    char name[80];
    int nid;

    if (!s->alg_len)
        return 0;
    if (!(a = d2i_X509_ALGOR(NULL, &p, (long)s->alg_len))) {
        ERR_clear_error();
        return fail(v, SG_E_CORRUPT, "the signature configuration box (sigC) is damaged");
    }
    X509_ALGOR_get0(&obj, NULL, NULL, a);
    nid = OBJ_obj2nid(obj);
    OBJ_obj2txt(name, sizeof(name), obj, 0);
    X509_ALGOR_free(a);
    if (nid != NID_rsassaPss)
        return fail(v, SG_E_UNSUPPORTED, "signature algorithm %s is not supported (only "
                    "RSASSA-PSS)", name);
    return 0;
}

static int64_t asn1_time_us(const ASN1_TIME *t)
{
    struct tm tm;

    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm) * 1000000;
}

/* The export's certificate into the report. */
static void describe_cert(struct verify *v, X509 *x, const uint8_t *der, size_t len)
{
    struct sg_onvif_report *rep = v->rep;
    uint8_t md[32];
    unsigned mdlen = 0;
    struct {
        const X509_NAME *name;
        char *out;
    } names[2] = { { X509_get_subject_name(x), rep->subject },
                   { X509_get_issuer_name(x), rep->issuer } };

    for (int i = 0; i < 2; i++) {
        BIO *b = BIO_new(BIO_s_mem());
        char *p = NULL;
        long n;
        if (b &&
            X509_NAME_print_ex(b, names[i].name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
            (n = BIO_get_mem_data(b, &p)) > 0) {
            uint8_t tmp[SG_ONVIF_REPORT_STR + 1];
            size_t k = (size_t)n < SG_ONVIF_REPORT_STR ? (size_t)n : SG_ONVIF_REPORT_STR;
            memcpy(tmp, p, k);
            tmp[k] = 0;
            get_str(tmp, tmp + k + 1, names[i].out, SG_ONVIF_REPORT_STR);
        }
        BIO_free(b);
    }
    if (EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32)
        sg_hex(md, 32, rep->cert_sha256);
    rep->cert_not_before_us = asn1_time_us(X509_get0_notBefore(x));
    rep->cert_not_after_us = asn1_time_us(X509_get0_notAfter(x));
    ERR_clear_error();
}

/* 1 when signing instance s verifies over digest, 0 when it does not, or a negative code. */
static int check_sig(struct verify *v, const struct sinf *s, int index, const uint8_t *digest,
                     unsigned dlen)
{
    const uint8_t *p = v->meta + s->cert;
    X509 *x = d2i_X509(NULL, &p, (long)s->cert_len);
    EVP_PKEY_CTX *pc = NULL;
    EVP_PKEY *key;
    int r;

    if (!x || p != v->meta + s->cert + s->cert_len) {
        X509_free(x);
        ERR_clear_error();
        return fail(v, SG_E_CORRUPT, "signing instance %d: the certificate box does not hold "
                    "one DER X.509 certificate", index + 1);
    }
    if (index == 0)
        describe_cert(v, x, v->meta + s->cert, s->cert_len);
    key = X509_get0_pubkey(x);
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        X509_free(x);
        ERR_clear_error();
        return fail(v, SG_E_UNSUPPORTED, "signing instance %d: the certificate's key is not "
                    "RSA (only RSASSA-PSS is supported)", index + 1);
    }
    r = (pc = EVP_PKEY_CTX_new(key, NULL)) && EVP_PKEY_verify_init(pc) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
        EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
        EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) == 1 &&
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_AUTO) == 1 &&
        EVP_PKEY_verify(pc, v->meta + s->sig, s->sig_len, digest, dlen) == 1;
    EVP_PKEY_CTX_free(pc);
    X509_free(x);
    ERR_clear_error();
    return r;
}

static int check_all(struct verify *v, const struct sinf *s, int n, size_t ipro)
{
    struct sg_onvif_report *rep = v->rep;
    EVP_MD_CTX *prefix = EVP_MD_CTX_new(), *ctx = EVP_MD_CTX_new();
    struct sg_buf m = { 0 };
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned dlen;
    int r = 0, bad = -1;

    if (!prefix || !ctx || EVP_DigestInit_ex(prefix, EVP_sha256(), NULL) != 1) {
        r = -ENOMEM;
        goto out;
    }
    if ((r = hash_prefix(v, prefix)) < 0) {
        if (r == SG_E_CORRUPT)
            fail(v, r, "the file changed while it was being verified");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        if ((r = check_alg(v, &s[i])) < 0 || (r = signed_meta(v, &s[i], i == n - 1, ipro, &m)) < 0)
            goto out;
        if (EVP_MD_CTX_copy_ex(ctx, prefix) != 1 || EVP_DigestUpdate(ctx, m.data, m.len) != 1 ||
            EVP_DigestFinal_ex(ctx, digest, &dlen) != 1) {
            r = -ENOMEM;
            goto out;
        }
        if ((r = check_sig(v, &s[i], i, digest, dlen)) < 0)
            goto out;
        if (r == 1)
            rep->valid++;
        else if (bad < 0)
            bad = i;
        if (i == 0) {
            rep->sealed_bytes = v->meta_off + (int64_t)m.len;
            if (s[0].info_len)
                get_str(v->meta + s[0].info, v->meta + s[0].info + s[0].info_len, rep->user_info,
                        sizeof(rep->user_info));
        }
    }
    r = 0;
    if (bad >= 0)
        r = fail(v, SG_E_CORRUPT, "signature %d of %d does not match the file: the file was "
                 "changed after it was signed (or the signature is damaged)", bad + 1, n);
out:
    ERR_clear_error();
    sg_buf_free(&m);
    EVP_MD_CTX_free(prefix);
    EVP_MD_CTX_free(ctx);
    return r;
}

int sg_onvif_verify(const char *path, const uint8_t *trusted_der, size_t trusted_len,
                    struct sg_onvif_report *rep)
{
    struct verify v = { .fd = -1, .rep = rep, .pending_utc = INT64_MIN };
    struct sinf s[SINF_MAX];
    struct stat st;
    size_t ipro = 0;
    int n = 0, r;

    memset(rep, 0, sizeof(*rep));
    if ((v.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    if (fstat(v.fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        r = fail(&v, SG_E_CORRUPT, "not a regular file");
        goto out;
    }
    v.size = st.st_size;
    if ((r = walk(&v)) < 0)
        goto out;
    if (!(v.meta = malloc((size_t)v.meta_size))) {
        r = -ENOMEM;
        goto out;
    }
    if ((r = sg_box_pread(v.fd, v.meta, (size_t)v.meta_size, v.meta_off)) < 0) {
        if (r == SG_E_CORRUPT)
            fail(&v, r, "the file changed while it was being verified");
        goto out;
    }
    if (v.meta_size < 8 + 4) {
        r = fail(&v, SG_E_CORRUPT, "the meta box is damaged");
        goto out;
    }
    if ((r = read_meta(&v, s, &n, &ipro)) < 0)
        goto out;
    rep->signatures = n;
    if ((r = check_all(&v, s, n, ipro)) < 0)
        goto out;
    if (trusted_der) {
        rep->trusted = s[0].cert_len == trusted_len &&
                       !memcmp(v.meta + s[0].cert, trusted_der, trusted_len);
        if (!rep->trusted)
            r = fail(&v, SG_E_AUTH, "the file is intact but was signed with another "
                     "certificate than the trusted one");
    }
out:
    free(v.meta);
    close(v.fd);
    return r;
}
