/* sg_rtsp_parse over a byte stream (as the session reads it: several pipelined messages),
 * then for every parsed message the authentication path a 401 answer takes:
 * sg_rtsp_auth_from_challenge + sg_rtsp_auth_header. */
#include <string.h>

#include "base/err.h"
#include "fuzz.h"
#include "ingest/rtsp.h"

#define MAX_MESSAGES 16

static void check_terminated(const char *s, size_t n)
{
    FUZZ_CHECK(memchr(s, 0, n) != NULL);
}

static void check_line(int r, const char *line, size_t n)
{
    FUZZ_CHECK(r == 0 || r == SG_E_TOOBIG);
    check_terminated(line, n);
    if (r == 0 && line[0]) {
        size_t l = strlen(line);
        FUZZ_CHECK(!strncmp(line, "Authorization: ", 15));
        FUZZ_CHECK(l >= 2 && line[l - 2] == '\r' && line[l - 1] == '\n');
    }
}

static void auth(const struct sg_rtsp_msg *m)
{
    struct sg_rtsp_auth a;
    char line[4096], small[48];
    const char *uri = m->content_base[0] ? m->content_base : "rtsp://192.0.2.10:554/Streaming/101";
    int r;

    r = sg_rtsp_auth_from_challenge(m, &a);
    FUZZ_CHECK(r == 0 || r == SG_E_AUTH);
    if (r < 0)
        return;
    FUZZ_CHECK(a.kind == 1 || a.kind == 2);
    check_terminated(a.realm, sizeof(a.realm));
    check_terminated(a.nonce, sizeof(a.nonce));
    check_terminated(a.opaque, sizeof(a.opaque));
    r = sg_rtsp_auth_header(&a, "admin", "s3cr:et@", "DESCRIBE", uri, line, sizeof(line));
    check_line(r, line, sizeof(line));
    /* The same challenge again (nc increments) into a buffer that is too small. */
    r = sg_rtsp_auth_header(&a, "admin", "s3cr:et@", "SETUP", uri, small, sizeof(small));
    check_line(r, small, sizeof(small));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t off = 0;

    for (int i = 0; i < MAX_MESSAGES && off < size; i++) {
        struct sg_rtsp_msg m;
        long r = sg_rtsp_parse(buf + off, size - off, &m);

        FUZZ_CHECK(r >= 0 || r == SG_E_PROTO || r == SG_E_TOOBIG);
        if (r <= 0)
            break;
        FUZZ_CHECK((size_t)r <= size - off);
        FUZZ_CHECK(m.header_len >= 4 && m.header_len <= SG_RTSP_MAX_HEADER);
        FUZZ_CHECK(m.content_length <= SG_RTSP_MAX_BODY);
        FUZZ_CHECK(m.header_len + m.content_length == (size_t)r);
        FUZZ_CHECK(m.body == buf + off + m.header_len);
        FUZZ_CHECK(m.is_request ? m.method[0] != 0 : (m.status >= 0 && m.status <= 999));
        check_terminated(m.method, sizeof(m.method));
        check_terminated(m.session, sizeof(m.session));
        check_terminated(m.content_base, sizeof(m.content_base));
        check_terminated(m.transport, sizeof(m.transport));
        check_terminated(m.www_auth_digest, sizeof(m.www_auth_digest));
        auth(&m);
        off += (size_t)r;
    }
    return 0;
}
