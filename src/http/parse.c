/* Parsers of request input that are ours rather than the HTTP library's: percent-decoding
 * and the Range header. Fuzzed (tests/fuzz/fuzz_http.c) together with the router. */
#include <string.h>

#include "http/http_int.h"

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decoding of paths and query values. Unlike the library's default, an encoded NUL
 * (or a control character) is left encoded, so no handler ever sees a string that a NUL cut
 * short ("/index.html%00.js"); the '%' left behind fails every later check. */
size_t sg_http_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    char *w = s;

    (void)cls;
    (void)c;
    for (const char *p = s; *p; p++) {
        int hi, lo;
        if (*p == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0 && (hi << 4 | lo) >= 0x20 &&
            (hi << 4 | lo) != 0x7f) {
            *w++ = (char)(hi << 4 | lo);
            p += 2;
        } else {
            *w++ = *p;
        }
    }
    *w = 0;
    return (size_t)(w - s);
}

/* Parses a single "bytes=a-b" / "bytes=a-" / "bytes=-n" range against size. Returns 1 with
 * [*off, *off + *len) on a usable range, 0 when there is no Range header (whole file), -1 when
 * it is unsatisfiable or malformed. */
/* Reads 1-18 decimal digits; returns the position after them or NULL. */
static const char *read_num(const char *p, int64_t *v)
{
    int n = 0;

    *v = 0;
    while (*p >= '0' && *p <= '9') {
        if (++n > 18)
            return NULL;
        *v = *v * 10 + (*p++ - '0');
    }
    return n ? p : NULL;
}

int sg_http_parse_range(const char *h, int64_t size, int64_t *off, int64_t *len)
{
    int64_t a, b;
    const char *p;

    if (!h)
        return 0;
    if (strncmp(h, "bytes=", 6))
        return -1;
    p = h + 6;
    if (*p == '-') { /* suffix: the last b bytes */
        if (!(p = read_num(p + 1, &b)) || *p || !b || !size)
            return -1;
        if (b > size)
            b = size;
        *off = size - b;
        *len = b;
        return 1;
    }
    if (!(p = read_num(p, &a)) || *p++ != '-')
        return -1;
    if (!*p) {
        b = size - 1;
    } else if (!(p = read_num(p, &b)) || *p || b < a) {
        return -1;
    }
    if (a >= size)
        return -1;
    if (b >= size)
        b = size - 1;
    *off = a;
    *len = b - a + 1;
    return 1;
}

int sg_http_parse_streams(const char *s, int64_t *ids, int *streams, int max)
{
    int n = 0;

    if (!s || !*s)
        return -1;
    for (;;) {
        const char *colon = strchr(s, ':'), *end = strchr(s, ',');
        size_t sl;
        if (!end)
            end = s + strlen(s);
        if (!colon || colon > end || n == max || sg_http_parse_id(s, (size_t)(colon - s), &ids[n]) < 0)
            return -1;
        sl = (size_t)(end - colon - 1);
        if (sl == 4 && !memcmp(colon + 1, "main", 4))
            streams[n] = SG_STREAM_MAIN;
        else if (sl == 3 && !memcmp(colon + 1, "sub", 3))
            streams[n] = SG_STREAM_SUB;
        else
            return -1;
        n++;
        if (!*end)
            return n;
        s = end + 1;
    }
}
