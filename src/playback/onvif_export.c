/* A range of recordings as an ONVIF Export File (ONVIF Export File Format Specification; what
 * it requires and what is implemented: docs/ONVIF-EXPORT.md).
 *
 *   ftyp, moov                    the recording's decoder configuration record, verbatim
 *   prft, moof, mdat  (per GOP)   the recorded samples, unchanged; tfdt on one timeline whose
 *                                 holes are the real holes between fragments and files
 *   meta                          hdlr 'null', suep (who exported what), cstb (the UTC of the
 *                                 timeline's origin), ipro/sinf: schm 'oeff' 1.0, schi: sibo
 *                                 (the signature), cert (DER), auib (optional text)
 *
 * The seal is one RSASSA-PSS signature (SHA-256, MGF1-SHA-256, salt 20) over every byte of the
 * file from the first to the end of the meta box, with the signature's own bytes zeroed. The
 * meta box comes last so that the file is written in one pass: every byte is hashed as it is
 * written, the meta box is built with a zeroed signature, hashed, signed, patched and appended.
 * The samples are read with our own fragment reader (index.c), as in export.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "playback/export_int.h"
#include "playback/onvif_int.h"
#include "playback/playback.h"
#include "record/fmp4.h"

#define KEY_FILE_MAX (64 * 1024)  /* a PEM key or certificate larger than this is not one */
#define DEFAULT_BITS 3072
#define DEFAULT_DAYS 3650

struct sg_onvif_signer {
    EVP_PKEY *key;
    uint8_t *cert;             /* DER, OPENSSL_malloc'd */
    size_t cert_len;
};

/* Logs the newest OpenSSL error with what failed; returns -EIO (OpenSSL failed us). */
static int ssl_fail(const char *what)
{
    char msg[256];

    ERR_error_string_n(ERR_get_error(), msg, sizeof(msg));
    ERR_clear_error();
    sg_error("export", 0, "%s: %s", what, msg);
    return -EIO;
}

/* ---- the signer ---- */

void sg_onvif_signer_destroy(struct sg_onvif_signer **sp)
{
    struct sg_onvif_signer *s = sp ? *sp : NULL;

    if (!s)
        return;
    EVP_PKEY_free(s->key);
    OPENSSL_free(s->cert);
    free(s);
    *sp = NULL;
}

void sg_onvif_signer_cert(const struct sg_onvif_signer *s, const uint8_t **der, size_t *len)
{
    *der = s->cert;
    *len = s->cert_len;
}

static int check_key(EVP_PKEY *key)
{
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        sg_error("export", 0, "ONVIF export key: not an RSA key (the format requires RSASSA-PSS)");
        return SG_E_UNSUPPORTED;
    }
    if (EVP_PKEY_get_bits(key) < SG_ONVIF_RSA_MIN_BITS) {
        sg_error("export", 0, "ONVIF export key: %d bits; at least %d are required",
                 EVP_PKEY_get_bits(key), SG_ONVIF_RSA_MIN_BITS);
        return SG_E_UNSUPPORTED;
    }
    return 0;
}

/* Takes key and x (consumed in every case) into a new signer. */
static int signer_make(EVP_PKEY *key, X509 *x, struct sg_onvif_signer **out)
{
    struct sg_onvif_signer *s = NULL;
    int r, len;

    *out = NULL;
    if ((r = check_key(key)) < 0)
        goto fail;
    if (EVP_PKEY_eq(X509_get0_pubkey(x), key) != 1) {
        sg_error("export", 0, "ONVIF export certificate: not the certificate of the key");
        r = SG_E_CONFIG;
        goto fail;
    }
    if (!(s = calloc(1, sizeof(*s)))) {
        r = -ENOMEM;
        goto fail;
    }
    if ((len = i2d_X509(x, &s->cert)) <= 0) {
        r = ssl_fail("certificate encoding");
        goto fail;
    }
    s->cert_len = (size_t)len;
    s->key = key;
    X509_free(x);
    *out = s;
    return 0;
fail:
    if (s)
        OPENSSL_free(s->cert);
    free(s);
    EVP_PKEY_free(key);
    X509_free(x);
    return r;
}

/* Never asks for a pass phrase: an encrypted key is refused, not prompted for. */
static int no_pass(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* Reads a small file whole (at most KEY_FILE_MAX). warn_open: warn when others may read it. */
static int read_small(const char *path, int warn_open, uint8_t **data, size_t *len)
{
    struct stat st;
    ssize_t got;
    size_t done = 0;
    int fd, r = 0;

    *data = NULL;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > KEY_FILE_MAX) {
        sg_error("export", 0, "%s: not a key or certificate file", path);
        r = SG_E_CORRUPT;
        goto out;
    }
    if (warn_open && (st.st_mode & 077))
        sg_warn("export", 0, "%s: readable by others (mode %03o); it should be 0600", path,
                (unsigned)(st.st_mode & 0777));
    if (!(*data = malloc((size_t)st.st_size))) {
        r = -ENOMEM;
        goto out;
    }
    while (done < (size_t)st.st_size) {
        got = read(fd, *data + done, (size_t)st.st_size - done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            r = got < 0 ? -errno : SG_E_CORRUPT;
            goto out;
        }
        done += (size_t)got;
    }
    *len = done;
out:
    close(fd);
    if (r < 0) {
        if (*data)
            OPENSSL_cleanse(*data, (size_t)st.st_size);
        free(*data);
        *data = NULL;
    }
    return r;
}

/* An X.509 certificate in PEM or DER; NULL when it is neither. */
static X509 *cert_parse(const uint8_t *cd, size_t cl)
{
    BIO *bio = BIO_new_mem_buf(cd, (int)cl);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, no_pass, NULL) : NULL;

    BIO_free(bio);
    if (!x) {
        const uint8_t *p = cd;
        ERR_clear_error();
        x = d2i_X509(NULL, &p, (long)cl);
    }
    ERR_clear_error();
    return x;
}

int sg_onvif_cert_read(const char *path, uint8_t **der, size_t *len)
{
    uint8_t *cd = NULL, *out = NULL;
    size_t cl = 0;
    X509 *x;
    int r, n;

    *der = NULL;
    *len = 0;
    if ((r = read_small(path, 0, &cd, &cl)) < 0)
        return r;
    x = cert_parse(cd, cl);
    free(cd);
    if (!x)
        return SG_E_CORRUPT;
    n = i2d_X509(x, NULL);
    if (n <= 0 || !(out = malloc((size_t)n))) {
        X509_free(x);
        return -ENOMEM;
    }
    *der = out;
    *len = (size_t)i2d_X509(x, &out);
    X509_free(x);
    return 0;
}

int sg_onvif_signer_load(const char *key_path, const char *cert_path, struct sg_onvif_signer **out)
{
    uint8_t *kd = NULL, *cd = NULL;
    size_t kl = 0, cl = 0;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    BIO *bio = NULL;
    int r;

    *out = NULL;
    if ((r = read_small(key_path, 1, &kd, &kl)) < 0 || (r = read_small(cert_path, 0, &cd, &cl)) < 0)
        goto out;
    if (!(bio = BIO_new_mem_buf(kd, (int)kl)) ||
        !(key = PEM_read_bio_PrivateKey(bio, NULL, no_pass, NULL))) {
        ERR_clear_error();
        sg_error("export", 0, "%s: not a PEM private key (or one with a pass phrase)", key_path);
        r = SG_E_CORRUPT;
        goto out;
    }
    if (!(x = cert_parse(cd, cl))) {
        sg_error("export", 0, "%s: not an X.509 certificate (PEM or DER)", cert_path);
        r = SG_E_CORRUPT;
        goto out;
    }
    r = signer_make(key, x, out);
    key = NULL;
    x = NULL;
out:
    BIO_free(bio);
    EVP_PKEY_free(key);
    X509_free(x);
    if (kd)
        OPENSSL_cleanse(kd, kl);
    free(kd);
    free(cd);
    return r;
}

/* A self-signed certificate for key: version 3, random serial, CN = cn, end entity, for
 * digital signatures and non-repudiation (what an evidence seal is). */
static X509 *self_signed(EVP_PKEY *key, const char *cn, int days)
{
    static const char *const ext[][2] = {
        { "basicConstraints", "critical,CA:FALSE" },
        { "keyUsage", "critical,digitalSignature,nonRepudiation" },
        { "subjectKeyIdentifier", "hash" },
    };
    X509 *x = X509_new();
    X509_NAME *name;
    BIGNUM *serial = NULL;
    uint8_t rnd[16];
    X509V3_CTX ctx;
    int ok = x != NULL;

    if (ok && RAND_bytes(rnd, sizeof(rnd)) == 1) {
        rnd[0] &= 0x7f; /* positive */
        rnd[0] |= 0x40; /* and of full length */
        serial = BN_bin2bn(rnd, sizeof(rnd), NULL);
    }
    ok = ok && serial && X509_set_version(x, 2) &&
         BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) &&
         X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
         X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) && X509_set_pubkey(x, key);
    name = ok ? X509_get_subject_name(x) : NULL;
    ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
                                          -1, -1, 0) &&
         X509_set_issuer_name(x, name);
    if (ok) {
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    }
    for (size_t i = 0; ok && i < sizeof(ext) / sizeof(ext[0]); i++) {
        X509_EXTENSION *e = X509V3_EXT_conf(NULL, &ctx, ext[i][0], ext[i][1]);
        ok = e && X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    ok = ok && X509_sign(x, key, EVP_sha256()) > 0;
    BN_free(serial);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* Writes data as a new file at path (mode), through a temporary file and link() so that an
 * existing file is never replaced (SG_E_EXISTS) and no partial file is ever seen. */
static int write_new_file(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[PATH_MAX];
    struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
    int fd, r = 0;

    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    if ((fd = mkstemp(tmp)) < 0)
        return -errno;
    if (fchmod(fd, mode) < 0 || (r = sg_writev_all(fd, &iov, 1)) < 0 || fsync(fd) < 0)
        r = r < 0 ? r : -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && link(tmp, path) < 0)
        r = errno == EEXIST ? SG_E_EXISTS : -errno;
    unlink(tmp);
    return r < 0 ? r : sg_fsync_parent(path);
}

/* PEM of key (private) or x (certificate) into one allocation (*out, caller frees). */
static int to_pem(EVP_PKEY *key, X509 *x, char **out, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p;
    long n;
    int ok;

    *out = NULL;
    if (!bio)
        return -ENOMEM;
    ok = key ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
             : PEM_write_bio_X509(bio, x);
    n = ok ? BIO_get_mem_data(bio, &p) : 0;
    if (n > 0 && (*out = malloc((size_t)n))) {
        memcpy(*out, p, (size_t)n);
        *len = (size_t)n;
    }
    BIO_free(bio); /* clears the key's PEM from its memory */
    return *out ? 0 : ok ? -ENOMEM : ssl_fail("PEM encoding");
}

static int store_signer(const char *key_path, const char *cert_path, EVP_PKEY *key, X509 *x)
{
    char *kp = NULL, *cp = NULL;
    size_t kl = 0, cl = 0;
    int r;

    if ((r = to_pem(key, NULL, &kp, &kl)) < 0 || (r = to_pem(NULL, x, &cp, &cl)) < 0)
        goto out;
    if ((r = write_new_file(key_path, kp, kl, 0600)) < 0)
        goto out;
    if ((r = write_new_file(cert_path, cp, cl, 0644)) < 0)
        unlink(key_path); /* ours, made just now: a key without its certificate is no use */
out:
    if (kp)
        OPENSSL_cleanse(kp, kl);
    free(kp);
    free(cp);
    return r;
}

int sg_onvif_signer_create(const char *key_path, const char *cert_path, const char *common_name,
                           int bits, int days, struct sg_onvif_signer **out)
{
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    int r;

    *out = NULL;
    bits = bits ? bits : DEFAULT_BITS;
    days = days ? days : DEFAULT_DAYS;
    if (bits < SG_ONVIF_RSA_MIN_BITS || bits > 16384 || days < 1 || days > 36500 ||
        !common_name || !common_name[0] || strlen(common_name) > 64 || !key_path != !cert_path)
        return -EINVAL;
    if (!(key = EVP_RSA_gen((unsigned)bits)))
        return ssl_fail("RSA key generation");
    if (!(x = self_signed(key, common_name, days))) {
        EVP_PKEY_free(key);
        return ssl_fail("self-signed certificate");
    }
    if (key_path && (r = store_signer(key_path, cert_path, key, x)) < 0) {
        EVP_PKEY_free(key);
        X509_free(x);
        return r;
    }
    return signer_make(key, x, out);
}

/* ---- the file ---- */

/* The output: every byte written is also hashed (the seal covers all of them). */
struct out {
    int fd;
    EVP_MD_CTX *md;
    int64_t bytes;
};

static int out_write(struct out *o, const void *p, size_t n)
{
    struct iovec iov = { .iov_base = (void *)p, .iov_len = n };
    int r;

    if (n == 0)
        return 0;
    if (EVP_DigestUpdate(o->md, p, n) != 1)
        return ssl_fail("SHA-256");
    if ((r = sg_writev_all(o->fd, &iov, 1)) < 0)
        return r;
    o->bytes += (int64_t)n;
    return 0;
}

/* The timeline of the output: 90 kHz from the first exported fragment's wall-clock time. */
struct timeline {
    struct out *o;
    struct sg_buf hdr;
    uint32_t seq;
    int64_t base_utc, next_dts, prev_end_utc;
    int done;                  /* reached to_us */
    struct sg_export_info *info;
};

/* Writes the samples of fragment i of p that start before to_us as one fragment. */
static int write_frag(struct timeline *t, const struct sg_export_plan *p, int i, int64_t to_us)
{
    const struct sg_frag *f = &p->idx.frags[i];
    struct sg_fmp4_sample *s = NULL;
    struct sg_frag_data d;
    uint64_t payload = 0;
    int64_t dts, end_us = 0;
    int n = 0, r;

    if ((r = sg_frag_read(p->fd, f, SG_EXPORT_FRAG_MAX, &d)) < 0)
        return r;
    if (!(s = calloc((size_t)d.n, sizeof(*s)))) {
        r = -ENOMEM;
        goto out;
    }
    for (; n < d.n; n++) {
        int64_t utc = f->utc_us + sg_ticks_to_us(d.s[n].dts - f->dts);
        if (utc >= to_us) {
            t->done = 1;
            break;
        }
        s[n] = (struct sg_fmp4_sample){ d.s[n].size, d.s[n].duration, d.s[n].key };
        payload += d.s[n].size;
        end_us = utc + sg_ticks_to_us(d.s[n].duration);
    }
    if (n == 0)
        goto out;
    if (t->info->frames == 0)
        t->base_utc = f->utc_us;
    else if (f->utc_us - t->prev_end_utc > SG_EXPORT_GAP_US)
        t->info->gaps++;
    /* real time between fragments and files; a clock step back must not overlap the previous
     * fragment (tfdt only moves forward) */
    dts = (f->utc_us - t->base_utc) / 1000000 * SG_FMP4_TIMESCALE +
          (f->utc_us - t->base_utc) % 1000000 * SG_FMP4_TIMESCALE / 1000000;
    if (dts < t->next_dts)
        dts = t->next_dts;
    sg_buf_reset(&t->hdr);
    if ((r = sg_fmp4_fragment_header(&t->hdr, ++t->seq, (uint64_t)dts, f->utc_us, s, (size_t)n,
                                     payload)) < 0 ||
        (r = out_write(t->o, t->hdr.data, t->hdr.len)) < 0)
        goto out;
    for (int k = 0; k < n && r >= 0; k++)
        r = out_write(t->o, d.s[k].data, d.s[k].size);
    if (r < 0)
        goto out;
    for (int k = 0; k < n; k++)
        dts += s[k].duration;
    t->next_dts = dts;
    if (t->info->frames == 0)
        t->info->first_utc_us = f->utc_us;
    t->info->frames += n;
    t->info->last_utc_us = end_us;
    t->prev_end_utc = sg_frag_end_us(f);
out:
    free(s);
    sg_frag_data_free(&d);
    return r;
}

/* ---- the meta box ---- */

/* Well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF). */
static int utf8_ok(const char *str)
{
    const unsigned char *p = (const unsigned char *)str;

    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2
              : (*p & 0xf8) == 0xf0 ? 3 : -1;
        uint32_t c = n == 0 ? *p : n == 1 ? *p & 0x1fu : n == 2 ? *p & 0x0fu : *p & 0x07u;
        if (n < 0)
            return 0;
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            c = c << 6 | (p[i] & 0x3fu);
        }
        if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
            c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return 0;
        p += n + 1;
    }
    return 1;
}

static int desc_str_ok(const char *s, const char *what)
{
    if (!s)
        return 1;
    if (strlen(s) > SG_ONVIF_STR_MAX || !utf8_ok(s)) {
        sg_error("export", 0, "ONVIF export: %s is not UTF-8 of at most %d bytes", what,
                 SG_ONVIF_STR_MAX);
        return 0;
    }
    return 1;
}

static int desc_ok(const struct sg_onvif_desc *d)
{
    return desc_str_ok(d->unit_name, "the unit name") && desc_str_ok(d->unit_url, "the unit URL") &&
           desc_str_ok(d->unit_mac, "the unit MAC") &&
           desc_str_ok(d->operator_name, "the operator") &&
           desc_str_ok(d->source_name, "the source name") &&
           desc_str_ok(d->source_url, "the source URL") &&
           desc_str_ok(d->source_mac, "the source MAC") &&
           desc_str_ok(d->source_line, "the source line") &&
           desc_str_ok(d->user_info, "the user information");
}

/* A null-terminated string field (NULL: just the terminator). */
static void put_str(struct sg_buf *b, const char *s)
{
    sg_buf_append(b, s ? s : "", (s ? strlen(s) : 0) + 1);
}

/* A URL field without its userinfo ("scheme://user:pass@host/..." -> "scheme://host/..."). */
static void put_url(struct sg_buf *b, const char *url)
{
    const char *host = url ? strstr(url, "://") : NULL;
    const char *at = NULL, *end;

    if (!host) {
        put_str(b, url);
        return;
    }
    host += 3;
    end = host + strcspn(host, "/?#");
    for (const char *c = host; c < end; c++)
        if (*c == '@')
            at = c;
    if (!at) {
        put_str(b, url);
        return;
    }
    sg_buf_append(b, url, (size_t)(host - url));
    put_str(b, at + 1);
}

/* The meta box with a zeroed signature of sig_len bytes at *sig_off. */
static int build_meta(struct sg_buf *b, const struct sg_onvif_desc *d, int64_t export_us,
                      int64_t start_utc_us, const struct sg_onvif_signer *signer, size_t sig_len,
                      size_t *sig_off)
{
    size_t meta, box, ipro, sinf, schi;

    meta = sg_fmp4_fullbox_open(b, "meta", 0, 0);
    box = sg_fmp4_fullbox_open(b, "hdlr", 0, 0);
    sg_buf_put_u32(b, 0);                   /* pre_defined */
    sg_buf_append(b, "null", 4);            /* handler_type: no timed metadata items */
    sg_buf_put_zero(b, 12);
    put_str(b, "Sargas ONVIF export");
    sg_fmp4_box_close(b, box);

    box = sg_fmp4_fullbox_open(b, "suep", 1, 0);
    put_str(b, d->unit_name);
    put_url(b, d->unit_url);
    put_str(b, d->unit_mac);
    sg_buf_put_u64(b, (uint64_t)(export_us / 1000000 + SG_ONVIF_EPOCH_1904_S));
    put_str(b, d->operator_name);
    sg_buf_put_u32(b, 1);                   /* entry_count: the one video track */
    sg_buf_put_u16(b, SG_ONVIF_TRACK_ID);
    put_str(b, d->source_name);
    put_url(b, d->source_url);
    put_str(b, d->source_mac);
    put_str(b, d->source_line);
    sg_fmp4_box_close(b, box);

    box = sg_fmp4_box_open(b, "cstb");
    sg_buf_put_u32(b, 1);
    sg_buf_put_u32(b, SG_ONVIF_TRACK_ID);
    sg_buf_put_u64(b, sg_onvif_filetime(start_utc_us));
    sg_fmp4_box_close(b, box);

    ipro = sg_fmp4_fullbox_open(b, "ipro", 0, 0);
    sg_buf_put_u16(b, 1);                   /* protection_count */
    sinf = sg_fmp4_box_open(b, "sinf");
    box = sg_fmp4_fullbox_open(b, "schm", 0, 0);
    sg_buf_put_u32(b, SG_ONVIF_SCHEME_TYPE);
    sg_buf_put_u32(b, SG_ONVIF_SCHEME_VERSION);
    sg_fmp4_box_close(b, box);
    schi = sg_fmp4_box_open(b, "schi");
    box = sg_fmp4_box_open(b, "sibo");
    *sig_off = b->len;
    sg_buf_put_zero(b, sig_len);
    sg_fmp4_box_close(b, box);
    box = sg_fmp4_box_open(b, "cert");
    sg_buf_append(b, signer->cert, signer->cert_len);
    sg_fmp4_box_close(b, box);
    if (d->user_info && d->user_info[0]) {
        box = sg_fmp4_box_open(b, "auib");
        put_str(b, d->user_info);
        sg_fmp4_box_close(b, box);
    }
    sg_fmp4_box_close(b, schi);
    sg_fmp4_box_close(b, sinf);
    sg_fmp4_box_close(b, ipro);
    sg_fmp4_box_close(b, meta);
    return b->data && b->len > *sig_off + sig_len ? 0 : -ENOMEM;
}

/* Signs the SHA-256 digest with RSASSA-PSS as the format requires. */
static int pss_sign(EVP_PKEY *key, const uint8_t *digest, size_t dlen, uint8_t *sig, size_t *slen)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(key, NULL);
    int ok = pc && EVP_PKEY_sign_init(pc) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, SG_ONVIF_PSS_SALT) == 1 &&
             EVP_PKEY_sign(pc, sig, slen, digest, dlen) == 1;

    EVP_PKEY_CTX_free(pc);
    return ok ? 0 : ssl_fail("RSASSA-PSS signature");
}

/* Appends the sealed meta box: hashed with a zeroed signature, signed, patched, written. */
static int seal(struct out *o, const struct sg_onvif_desc *d, int64_t start_utc_us,
                const struct sg_onvif_signer *signer)
{
    struct sg_buf meta = { 0 };
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    size_t sig_len = (size_t)EVP_PKEY_get_size(signer->key), sig_off, got;
    int64_t export_us = d->export_time_us ? d->export_time_us : sg_utc_us();
    int r;

    if ((r = build_meta(&meta, d, export_us, start_utc_us, signer, sig_len, &sig_off)) < 0)
        goto out;
    if (EVP_DigestUpdate(o->md, meta.data, meta.len) != 1 ||
        EVP_DigestFinal_ex(o->md, digest, &dlen) != 1) {
        r = ssl_fail("SHA-256");
        goto out;
    }
    got = sig_len;
    if ((r = pss_sign(signer->key, digest, dlen, meta.data + sig_off, &got)) < 0)
        goto out;
    if (got != sig_len) { /* RSA signatures are as long as the modulus */
        r = -EIO;
        goto out;
    }
    {
        struct iovec iov = { .iov_base = meta.data, .iov_len = meta.len };
        if ((r = sg_writev_all(o->fd, &iov, 1)) == 0)
            o->bytes += (int64_t)meta.len;
    }
out:
    sg_buf_free(&meta);
    return r;
}

int sg_onvif_export(const struct sg_export_src *src, int n, int64_t from_us, int64_t to_us,
                    const struct sg_onvif_desc *desc, const struct sg_onvif_signer *signer,
                    const char *out_path, struct sg_export_info *info)
{
    struct sg_export_plan *p = NULL;
    struct out o = { .fd = -1 };
    struct timeline t = { .o = &o, .info = info };
    int ref, r, opened = 0;

    memset(info, 0, sizeof(*info));
    if (!desc || !signer || !desc_ok(desc))
        return -EINVAL;
    if ((r = sg_export_plan(src, n, from_us, to_us, &p, &ref)) < 0)
        goto fail;
    if (ref < 0) {
        r = SG_E_NOTFOUND;
        goto fail;
    }
    if (!(o.md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(o.md, EVP_sha256(), NULL) != 1) {
        r = ssl_fail("SHA-256");
        goto fail;
    }
    if ((o.fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640)) < 0) {
        r = -errno;
        goto fail;
    }
    opened = 1; /* from here on out_path is ours and is removed on failure */
    if ((r = sg_fmp4_init_segment_config(&t.hdr, p[ref].idx.codec, p[ref].idx.width,
                                         p[ref].idx.height, p[ref].idx.config,
                                         p[ref].idx.config_len)) < 0 ||
        (r = out_write(&o, t.hdr.data, t.hdr.len)) < 0)
        goto fail;
    for (int i = ref; i < n && !t.done && r >= 0; i++)
        for (int j = p[i].first; j <= p[i].last && !t.done && r >= 0; j++)
            r = write_frag(&t, &p[i], j, to_us);
    if (r < 0)
        goto fail;
    if (info->frames == 0) {
        r = SG_E_NOTFOUND;
        goto fail;
    }
    if ((r = seal(&o, desc, t.base_utc, signer)) < 0)
        goto fail;
    r = fdatasync(o.fd) < 0 ? -errno : 0;
    if (close(o.fd) < 0 && r == 0)
        r = -errno;
    o.fd = -1;
    if (r < 0)
        goto fail;
    info->bytes = o.bytes;
    sg_buf_free(&t.hdr);
    EVP_MD_CTX_free(o.md);
    sg_export_plan_free(&p, n);
    return 0;
fail:
    if (o.fd >= 0)
        close(o.fd);
    if (opened)
        unlink(out_path);
    sg_buf_free(&t.hdr);
    EVP_MD_CTX_free(o.md);
    sg_export_plan_free(&p, n);
    memset(info, 0, sizeof(*info));
    return r;
}
