#include "ingest/rtsp.h"

#include <libavutil/base64.h>
#include <libavutil/md5.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "base/buf.h"
#include "base/err.h"

/* Copies a header value into dst (n bytes), failing when it would not fit. */
static int copy_value(char *dst, size_t n, const char *v, size_t vl)
{
    if (vl >= n)
        return SG_E_TOOBIG;
    memcpy(dst, v, vl);
    dst[vl] = 0;
    return 0;
}

static int parse_int(const char *v, size_t vl, long max, long *out)
{
    long x = 0;

    if (vl == 0 || vl > 10)
        return SG_E_PROTO;
    for (size_t i = 0; i < vl; i++) {
        if (v[i] < '0' || v[i] > '9')
            return SG_E_PROTO;
        x = x * 10 + (v[i] - '0');
    }
    if (x > max)
        return SG_E_TOOBIG;
    *out = x;
    return 0;
}

static int header(struct sg_rtsp_msg *m, const char *name, size_t nl, const char *v, size_t vl)
{
    long x;
    int r;

#define IS(s) (nl == sizeof(s) - 1 && !strncasecmp(name, s, nl))
    if (IS("CSeq")) {
        if ((r = parse_int(v, vl, 0x7fffffff, &x)) < 0)
            return SG_E_PROTO;
        m->cseq = (int)x;
    } else if (IS("Content-Length")) {
        if ((r = parse_int(v, vl, SG_RTSP_MAX_BODY, &x)) < 0)
            return r;
        m->content_length = (size_t)x;
    } else if (IS("Session")) {
        const char *semi = memchr(v, ';', vl);
        size_t il = semi ? (size_t)(semi - v) : vl;
        if (il == 0 || copy_value(m->session, sizeof(m->session), v, il) < 0)
            return SG_E_PROTO;
        if (semi) {
            const char *t = semi + 1;
            size_t tl = vl - il - 1;
            while (tl && *t == ' ') { t++; tl--; }
            if (tl > 8 && !strncasecmp(t, "timeout=", 8) && parse_int(t + 8, tl - 8, 86400, &x) == 0)
                m->session_timeout = (int)x;
        }
    } else if (IS("Content-Base") || IS("Content-Location")) {
        if (!m->content_base[0] || IS("Content-Base"))
            if (copy_value(m->content_base, sizeof(m->content_base), v, vl) < 0)
                return SG_E_PROTO;
    } else if (IS("Transport")) {
        if (copy_value(m->transport, sizeof(m->transport), v, vl) < 0)
            return SG_E_PROTO;
    } else if (IS("WWW-Authenticate")) {
        if (vl >= 6 && !strncasecmp(v, "Basic", 5) && (vl == 5 || v[5] == ' '))
            m->www_auth_basic = 1;
        else if (vl > 7 && !strncasecmp(v, "Digest ", 7) && !m->www_auth_digest[0])
            if (copy_value(m->www_auth_digest, sizeof(m->www_auth_digest), v + 7, vl - 7) < 0)
                return SG_E_PROTO;
    }
#undef IS
    return 0;
}

long sg_rtsp_parse(const char *buf, size_t len, struct sg_rtsp_msg *m)
{
    const char *end = NULL, *p, *le;
    size_t scan = len < SG_RTSP_MAX_HEADER ? len : SG_RTSP_MAX_HEADER;

    memset(m, 0, sizeof(*m));
    m->cseq = -1;
    for (size_t i = 0; i + 3 < scan; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            end = buf + i + 4;
            break;
        }
    if (!end)
        return len >= SG_RTSP_MAX_HEADER ? SG_E_TOOBIG : 0;
    m->header_len = (size_t)(end - buf);
    le = memchr(buf, '\r', m->header_len);
    /* Start line. */
    if ((size_t)(le - buf) >= 12 && !memcmp(buf, "RTSP/1.0 ", 9)) {
        long st;
        if (parse_int(buf + 9, 3, 999, &st) < 0 || (le - buf > 12 && buf[12] != ' '))
            return SG_E_PROTO;
        m->status = (int)st;
    } else {
        const char *sp = memchr(buf, ' ', (size_t)(le - buf));
        size_t ml = sp ? (size_t)(sp - buf) : 0;
        if (!sp || ml == 0 || ml >= sizeof(m->method) || le - buf < 9 ||
            memcmp(le - 9, " RTSP/1.0", 9))
            return SG_E_PROTO;
        for (size_t i = 0; i < ml; i++)
            if (buf[i] < 'A' || buf[i] > 'Z')
                if (buf[i] != '_')
                    return SG_E_PROTO;
        memcpy(m->method, buf, ml);
        m->is_request = 1;
    }
    /* Header lines. */
    for (p = le + 2; p < end - 2; p = le + 2) {
        const char *colon, *v;
        size_t nl, vl;
        int r;

        le = memchr(p, '\r', (size_t)(end - p));
        if (!le || le[1] != '\n')
            return SG_E_PROTO;
        colon = memchr(p, ':', (size_t)(le - p));
        if (!colon || colon == p)
            return SG_E_PROTO;
        nl = (size_t)(colon - p);
        v = colon + 1;
        while (v < le && (*v == ' ' || *v == '\t'))
            v++;
        vl = (size_t)(le - v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        for (size_t i = 0; i < vl; i++)
            if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
                return SG_E_PROTO;
        if ((r = header(m, p, nl, v, vl)) < 0)
            return r;
    }
    if (m->content_length > len - m->header_len)
        return 0;
    m->body = end;
    return (long)(m->header_len + m->content_length);
}

/* Reads name="value" or name=value from a challenge parameter list. */
static int param(const char *s, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    const char *p = s;

    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!strncasecmp(p, name, nl) && p[nl] == '=') {
            const char *v = p + nl + 1, *e;
            if (*v == '"') {
                v++;
                e = strchr(v, '"');
                if (!e)
                    return SG_E_PROTO;
            } else {
                e = v + strcspn(v, ", ");
            }
            return copy_value(out, n, v, (size_t)(e - v));
        }
        /* skip this parameter */
        p += strcspn(p, "=");
        if (!*p)
            break;
        p++;
        if (*p == '"') {
            const char *e = strchr(p + 1, '"');
            if (!e)
                return SG_E_PROTO;
            p = e + 1;
        } else {
            p += strcspn(p, ",");
        }
    }
    out[0] = 0;
    return SG_E_NOTFOUND;
}

int sg_rtsp_auth_from_challenge(const struct sg_rtsp_msg *m, struct sg_rtsp_auth *a)
{
    char qop[64], alg[32];

    memset(a, 0, sizeof(*a));
    if (m->www_auth_digest[0]) {
        if (param(m->www_auth_digest, "realm", a->realm, sizeof(a->realm)) < 0 ||
            param(m->www_auth_digest, "nonce", a->nonce, sizeof(a->nonce)) < 0)
            return SG_E_AUTH;
        if (param(m->www_auth_digest, "algorithm", alg, sizeof(alg)) == 0 &&
            strcasecmp(alg, "MD5") != 0)
            return SG_E_AUTH; /* MD5-sess, SHA-256: not offered by cameras in practice */
        param(m->www_auth_digest, "opaque", a->opaque, sizeof(a->opaque));
        if (param(m->www_auth_digest, "qop", qop, sizeof(qop)) == 0) {
            /* qop is a list; we speak "auth" */
            char *t = qop, *tok;
            while ((tok = strsep(&t, ", ")))
                if (!strcasecmp(tok, "auth"))
                    a->qop_auth = 1;
        }
        a->kind = 2;
        return 0;
    }
    if (m->www_auth_basic) {
        a->kind = 1;
        return 0;
    }
    return SG_E_AUTH;
}

static void md5_hex(const char *s, char out[33])
{
    uint8_t d[16];

    av_md5_sum(d, (const uint8_t *)s, (int)strlen(s));
    sg_hex(d, sizeof(d), out);
}

int sg_rtsp_auth_header(struct sg_rtsp_auth *a, const char *user, const char *pass,
                        const char *method, const char *uri, char *out, size_t n)
{
    char tmp[1024], ha1[33], ha2[33], resp[33];
    int r;

    out[0] = 0;
    if (a->kind == 1) {
        char enc[AV_BASE64_SIZE(sizeof(tmp))];
        r = snprintf(tmp, sizeof(tmp), "%s:%s", user, pass);
        if (r < 0 || (size_t)r >= sizeof(tmp))
            return SG_E_TOOBIG;
        av_base64_encode(enc, sizeof(enc), (const uint8_t *)tmp, r);
        r = snprintf(out, n, "Authorization: Basic %s\r\n", enc);
    } else if (a->kind == 2) {
        char cnonce[17];
        uint8_t rnd[8] = { 0 };

        snprintf(tmp, sizeof(tmp), "%s:%s:%s", user, a->realm, pass);
        md5_hex(tmp, ha1);
        snprintf(tmp, sizeof(tmp), "%s:%s", method, uri);
        md5_hex(tmp, ha2);
        if (a->qop_auth) {
            if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                return -EIO;
            sg_hex(rnd, 8, cnonce);
            a->nc++;
            snprintf(tmp, sizeof(tmp), "%s:%s:%08x:%s:auth:%s", ha1, a->nonce, a->nc, cnonce, ha2);
            md5_hex(tmp, resp);
            r = snprintf(out, n,
                         "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
                         "uri=\"%s\", response=\"%s\", qop=auth, nc=%08x, cnonce=\"%s\"%s%s%s\r\n",
                         user, a->realm, a->nonce, uri, resp, a->nc, cnonce,
                         a->opaque[0] ? ", opaque=\"" : "", a->opaque, a->opaque[0] ? "\"" : "");
        } else {
            snprintf(tmp, sizeof(tmp), "%s:%s:%s", ha1, a->nonce, ha2);
            md5_hex(tmp, resp);
            r = snprintf(out, n,
                         "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
                         "uri=\"%s\", response=\"%s\"%s%s%s\r\n",
                         user, a->realm, a->nonce, uri, resp,
                         a->opaque[0] ? ", opaque=\"" : "", a->opaque, a->opaque[0] ? "\"" : "");
        }
    } else {
        return 0;
    }
    return (r < 0 || (size_t)r >= n) ? SG_E_TOOBIG : 0;
}
