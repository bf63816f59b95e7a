/* tools/replaycam: RTSP request parsing (see rtsp.h). */
#include "rtsp.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Offset just past the blank line that ends the headers, or 0. */
static size_t header_end(const char *b, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (b[i] != '\n')
            continue;
        if (b[i + 1] == '\n')
            return i + 2;
        if (b[i + 1] == '\r' && i + 2 < len && b[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

static void copy_value(char *dst, size_t size, const char *v, size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(dst, v, n);
    dst[n] = 0;
}

static int header(struct rc_request *r, const char *line, size_t n)
{
    const char *colon = memchr(line, ':', n);
    size_t name_len;
    char val[512];

    if (!colon)
        return -EINVAL;
    name_len = (size_t)(colon - line);
    copy_value(val, sizeof(val), colon + 1, n - name_len - 1);
#define IS(h) (name_len == sizeof(h) - 1 && strncasecmp(line, h, name_len) == 0)
    if (IS("CSeq")) {
        char *end;
        long v = strtol(val, &end, 10);
        if (end == val || v < 0 || v > 1000000000)
            return -EINVAL;
        r->cseq = (int)v;
    } else if (IS("Session")) {
        copy_value(r->session, sizeof(r->session), val, strcspn(val, ";"));
    } else if (IS("Transport")) {
        copy_value(r->transport, sizeof(r->transport), val, strlen(val));
    } else if (IS("Content-Length")) {
        char *end;
        long v = strtol(val, &end, 10);
        if (end == val || *end || v < 0 || v > RC_RTSP_MAX_MSG)
            return -EMSGSIZE;
        r->content_length = (size_t)v;
    }
#undef IS
    return 0;
}

static int request_line(struct rc_request *r, const char *line, size_t n)
{
    const char *sp1 = memchr(line, ' ', n);
    const char *sp2;
    size_t mlen, ulen;

    if (!sp1)
        return -EINVAL;
    sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line));
    if (!sp2)
        return -EINVAL;
    mlen = (size_t)(sp1 - line);
    ulen = (size_t)(sp2 - sp1 - 1);
    if (mlen == 0 || mlen >= sizeof(r->method) || ulen == 0 || ulen >= sizeof(r->uri))
        return -EINVAL;
    if (n - (size_t)(sp2 + 1 - line) < 8 || strncmp(sp2 + 1, "RTSP/1.", 7) != 0)
        return -EINVAL;
    memcpy(r->method, line, mlen);
    r->method[mlen] = 0;
    memcpy(r->uri, sp1 + 1, ulen);
    r->uri[ulen] = 0;
    for (size_t i = 0; i < mlen; i++)
        if (!isupper((unsigned char)r->method[i]) && r->method[i] != '_')
            return -EINVAL;
    return 0;
}

long rc_rtsp_parse(const char *buf, size_t len, struct rc_request *r)
{
    size_t end = header_end(buf, len < RC_RTSP_MAX_MSG ? len : RC_RTSP_MAX_MSG);
    size_t pos = 0;
    int first = 1, ret;

    if (end == 0)
        return len >= RC_RTSP_MAX_MSG ? -EMSGSIZE : 0;
    memset(r, 0, sizeof(*r));
    r->cseq = -1;
    while (pos < end) {
        const char *line = buf + pos;
        const char *nl = memchr(line, '\n', end - pos);
        size_t n = (size_t)(nl - line);

        pos += n + 1;
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n == 0)
            break;
        ret = first ? request_line(r, line, n) : header(r, line, n);
        if (ret < 0)
            return ret;
        first = 0;
    }
    if (first)
        return -EINVAL;
    if (end + r->content_length > RC_RTSP_MAX_MSG)
        return -EMSGSIZE;
    if (len < end + r->content_length)
        return 0;
    return (long)(end + r->content_length);
}

int rc_rtsp_path(const char *uri, long *cam, char *kind, size_t kind_size)
{
    const char *p = uri;
    char path[512];
    size_t n;
    char *end, *slash;
    long k;

    if (strncasecmp(p, "rtsp://", 7) == 0) {
        p = strchr(p + 7, '/');
        if (!p)
            return -ENOENT;
    }
    n = strcspn(p, "?#");
    if (n >= sizeof(path))
        return -ENOENT;
    memcpy(path, p, n);
    path[n] = 0;
    while (n > 1 && path[n - 1] == '/')
        path[--n] = 0;
    if (n >= 10 && strcmp(path + n - 10, "/trackID=0") == 0) {
        n -= 10;
        path[n] = 0;
    }
    if (strncmp(path, "/cam", 4) != 0 || !isdigit((unsigned char)path[4]))
        return -ENOENT;
    k = strtol(path + 4, &end, 10);
    if (k < 1 || *end != '/')
        return -ENOENT;
    slash = end + 1;
    if (!*slash || strchr(slash, '/') || strlen(slash) >= kind_size)
        return -ENOENT;
    *cam = k;
    snprintf(kind, kind_size, "%s", slash);
    return 0;
}

int rc_rtsp_transport(const char *t, int *rtp_ch, int *rtcp_ch)
{
    const char *spec = t;

    while (spec && *spec) {
        size_t n = strcspn(spec, ",");
        char one[256];
        const char *il;

        snprintf(one, sizeof(one), "%.*s", (int)(n < sizeof(one) ? n : sizeof(one) - 1), spec);
        if (strstr(one, "RTP/AVP/TCP")) {
            int a = 0, b = -1;
            if ((il = strstr(one, "interleaved=")) &&
                (sscanf(il + 12, "%d-%d", &a, &b) < 1 || a < 0 || a > 255))
                return -EINVAL;
            *rtp_ch = a;
            *rtcp_ch = b >= 0 && b <= 255 ? b : (a + 1) & 255;
            return 0;
        }
        spec = spec[n] ? spec + n + 1 : NULL;
    }
    return -EPROTONOSUPPORT;
}
