#include "ingest/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"

static int fail(char *err, size_t n, const char *msg)
{
    if (err && n)
        snprintf(err, n, "%s", msg);
    return SG_E_URL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int pct_decode(const char *s, size_t len, char *out, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int h, l;
            if (i + 2 >= len || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0)
                return -1;
            c = h << 4 | l;
            i += 2;
        }
        /* Decoded credentials go into request headers: no control characters, no quotes. */
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || o + 1 >= n)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = 0;
    return 0;
}

int sg_url_parse(const char *url, int allow_test, struct sg_url *u, char *err, size_t errlen)
{
    const char *p, *auth_end, *host_start, *at, *path;
    size_t len = strlen(url);

    memset(u, 0, sizeof(*u));
    if (len == 0)
        return fail(err, errlen, "empty URL");
    if (len >= 1024)
        return fail(err, errlen, "URL longer than 1023 characters");
    for (const char *c = url; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return fail(err, errlen, "URL contains spaces, control or non-ASCII characters "
                                     "(percent-encode them)");
    if (!strncasecmp(url, "rtsp://", 7)) {
        u->kind = SG_URL_RTSP;
        u->port = 554;
        p = url + 7;
    } else if (!strncasecmp(url, "rtsps://", 8)) {
        u->kind = SG_URL_RTSPS;
        u->port = 322;
        p = url + 8;
    } else if (!strncasecmp(url, "file://", 7)) {
        const char *fp = url + 7;
        size_t fl;
        if (!allow_test)
            return fail(err, errlen, "file: URLs are refused: only rtsp:// and rtsps:// camera "
                                     "URLs are allowed (file sources need allow_test_sources)");
        if (fp[0] != '/' || strstr(fp, "/../") || strstr(fp, "/./"))
            return fail(err, errlen, "file: URL must be file:///absolute/path without . or ..");
        fl = strlen(fp);
        if (!((fl > 5 && !strcmp(fp + fl - 5, ".h264")) || (fl > 5 && !strcmp(fp + fl - 5, ".h265"))))
            return fail(err, errlen, "file: sources must be .h264 or .h265 elementary streams");
        if (pct_decode(fp, fl, u->path, sizeof(u->path)) < 0)
            return fail(err, errlen, "bad percent-encoding in file: URL");
        u->kind = SG_URL_FILE;
        u->port = 0;
        return 0;
    } else {
        const char *colon = strchr(url, ':');
        char msg[160];
        int sl = colon ? (int)(colon - url) : 0;
        if (sl > 16)
            sl = 16;
        snprintf(msg, sizeof(msg), "URL scheme '%.*s' refused: only rtsp:// and rtsps:// camera "
                                   "URLs are allowed", sl, url);
        return fail(err, errlen, msg);
    }
    path = strchr(p, '/');
    auth_end = path ? path : p + strlen(p);
    /* The last '@' before the path separates userinfo (passwords may contain '@' encoded). */
    at = NULL;
    for (const char *c = p; c < auth_end; c++)
        if (*c == '@')
            at = c;
    host_start = p;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *ue = colon ? colon : at;
        if (pct_decode(p, (size_t)(ue - p), u->user, sizeof(u->user)) < 0 ||
            (colon && pct_decode(colon + 1, (size_t)(at - colon - 1), u->pass, sizeof(u->pass)) < 0))
            return fail(err, errlen, "bad user or password in URL (too long or bad %-encoding)");
        host_start = at + 1;
    }
    if (*host_start == '[') {
        const char *rb = memchr(host_start, ']', (size_t)(auth_end - host_start));
        size_t hl;
        if (!rb)
            return fail(err, errlen, "unterminated IPv6 address in URL");
        hl = (size_t)(rb - host_start - 1);
        if (hl == 0 || hl >= sizeof(u->host))
            return fail(err, errlen, "bad IPv6 address in URL");
        for (size_t i = 0; i < hl; i++) {
            char c = host_start[1 + i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == ':' || c == '.'))
                return fail(err, errlen, "bad IPv6 address in URL");
        }
        memcpy(u->host, host_start + 1, hl);
        p = rb + 1;
    } else {
        const char *colon = memchr(host_start, ':', (size_t)(auth_end - host_start));
        const char *he = colon ? colon : auth_end;
        size_t hl = (size_t)(he - host_start);
        if (hl == 0 || hl >= sizeof(u->host))
            return fail(err, errlen, "missing or too long host in URL");
        memcpy(u->host, host_start, hl);
        for (size_t i = 0; i < hl; i++) {
            char c = u->host[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_'))
                return fail(err, errlen, "invalid character in host name");
        }
        p = he;
    }
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || end != auth_end || port < 1 || port > 65535)
            return fail(err, errlen, "bad port in URL");
        u->port = (int)port;
    } else if (p != auth_end) {
        return fail(err, errlen, "unexpected characters after host in URL");
    }
    if (!path)
        strcpy(u->path, "/");
    else if (strlen(path) >= sizeof(u->path))
        return fail(err, errlen, "URL path too long");
    else
        strcpy(u->path, path);
    return 0;
}

void sg_url_redact(const char *url, char *out, size_t n)
{
    const char *scheme_end = strstr(url, "://");
    const char *host, *path, *at = NULL;

    if (!scheme_end) {
        snprintf(out, n, "%s", url);
        return;
    }
    host = scheme_end + 3;
    path = strchr(host, '/');
    if (!path)
        path = host + strlen(host);
    for (const char *c = host; c < path; c++)
        if (*c == '@')
            at = c;
    if (!at)
        snprintf(out, n, "%s", url);
    else
        snprintf(out, n, "%.*s***@%s", (int)(host - url), url, at + 1);
}

int sg_url_format(const struct sg_url *u, char *out, size_t n)
{
    int r;
    const char *scheme = u->kind == SG_URL_RTSPS ? "rtsps" : "rtsp";

    if (strchr(u->host, ':'))
        r = snprintf(out, n, "%s://[%s]:%d%s", scheme, u->host, u->port, u->path);
    else
        r = snprintf(out, n, "%s://%s:%d%s", scheme, u->host, u->port, u->path);
    return (r < 0 || (size_t)r >= n) ? SG_E_TOOBIG : 0;
}
