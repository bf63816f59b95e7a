/* Our own parsers of HTTP request input (the HTTP library parses the protocol itself):
 * percent-decoding, the Range header, the router's path matching with its {id},
 * {segment} and {stream} parameters, and the stream list of the multiplexed live URL. The first byte picks the target; the rest, made a C
 * string, is the input. */
#include <string.h>

#include "fuzz.h"
#include "http/http_int.h"

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* Decoding never produces a NUL (strlen == returned length) nor a control character that
 * was not already there raw. */
static void fuzz_unescape(char *s, size_t n)
{
    int had = has_control(s);
    size_t len = sg_http_unescape(NULL, NULL, s);

    FUZZ_CHECK(len <= n && strlen(s) == len);
    FUZZ_CHECK(had || !has_control(s));
}

static void fuzz_range(const char *s, int64_t size)
{
    int64_t off = -1, len = -1;
    int r = sg_http_parse_range(s, size, &off, &len);

    FUZZ_CHECK(r == 1 || r == -1);
    if (r == 1) {
        FUZZ_CHECK(off >= 0 && len >= 1 && off + len <= size);
    }
}

static void fuzz_route(const char *s, int method)
{
    struct sg_req r;
    const struct sg_route *rt;
    unsigned status = 0;

    memset(&r, 0, sizeof(r));
    r.method = method;
    r.stream = -1;
    rt = sg_route_match(&r, s, &status);
    if (!rt) {
        FUZZ_CHECK(status == 404 || status == 405);
        return;
    }
    FUZZ_CHECK(rt->method == method || (method == M_HEAD && rt->method == M_GET));
    if (strstr(rt->pattern, "{id}"))
        FUZZ_CHECK(r.id > 0);
    if (strstr(rt->pattern, "{segment}"))
        FUZZ_CHECK(r.segment > 0);
    if (strstr(rt->pattern, "{stream}"))
        FUZZ_CHECK(r.stream == SG_STREAM_MAIN || r.stream == SG_STREAM_SUB);
    FUZZ_CHECK(!strstr(s, "..") && !strstr(s, "//"));
}

static void fuzz_streams(const char *s)
{
    int64_t ids[32];
    int streams[32];
    int n = sg_http_parse_streams(s, ids, streams, 32);

    FUZZ_CHECK(n == -1 || (n >= 1 && n <= 32));
    for (int i = 0; i < n; i++)
        FUZZ_CHECK(ids[i] > 0 && (streams[i] == SG_STREAM_MAIN || streams[i] == SG_STREAM_SUB));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int methods[] = { M_GET, M_POST, M_PATCH, M_DELETE, M_PUT, M_HEAD };
    char *s;

    if (size < 1)
        return 0;
    s = malloc(size);
    FUZZ_CHECK(s != NULL);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0;
    switch (data[0] % 4) {
    case 0: fuzz_unescape(s, size - 1); break;
    case 1: fuzz_range(s, (int64_t)(data[0] / 4) * 977 + (size & 0xff)); break;
    case 2: fuzz_route(s, methods[(data[0] / 4) % 6]); break;
    default: fuzz_streams(s); break;
    }
    free(s);
    return 0;
}
