/* Camera URLs: sg_url_parse with allow_test 0 and 1, sg_url_redact and sg_url_format, into
 * roomy and into too-small buffers. The input is NUL-terminated first (URLs come from the
 * configuration file and the CLI as C strings). */
#include <string.h>

#include "base/err.h"
#include "fuzz.h"
#include "ingest/url.h"

static void check_url(const struct sg_url *u)
{
    FUZZ_CHECK(memchr(u->user, 0, sizeof(u->user)) && memchr(u->pass, 0, sizeof(u->pass)));
    FUZZ_CHECK(memchr(u->host, 0, sizeof(u->host)) && memchr(u->path, 0, sizeof(u->path)));
    FUZZ_CHECK(u->path[0] == '/');
    if (u->kind == SG_URL_FILE) {
        FUZZ_CHECK(u->port == 0);
    } else {
        FUZZ_CHECK(u->kind == SG_URL_RTSP || u->kind == SG_URL_RTSPS);
        FUZZ_CHECK(u->port >= 1 && u->port <= 65535);
        FUZZ_CHECK(u->host[0] != 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sg_url u0, u1;
    char *s = malloc(size + 1);
    char err[256], tiny_err[4], out[2048], tiny[8];
    int r0, r1;

    FUZZ_CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = 0;

    r0 = sg_url_parse(s, 0, &u0, err, sizeof(err));
    FUZZ_CHECK(r0 == 0 || r0 == SG_E_URL);
    FUZZ_CHECK(memchr(err, 0, sizeof(err)) != NULL || r0 == 0);
    r1 = sg_url_parse(s, 1, &u1, tiny_err, sizeof(tiny_err));
    FUZZ_CHECK(r1 == 0 || r1 == SG_E_URL);
    FUZZ_CHECK(sg_url_parse(s, 1, &u1, NULL, 0) == r1);
    /* Test mode only adds file: URLs; it never changes how a camera URL parses. */
    if (r0 == 0) {
        FUZZ_CHECK(r1 == 0 && !memcmp(&u0, &u1, sizeof(u0)));
        FUZZ_CHECK(u0.kind != SG_URL_FILE);
    }
    if (r1 == 0) {
        check_url(&u1);
        if (u1.kind != SG_URL_FILE) {
            int r = sg_url_format(&u1, out, sizeof(out));
            FUZZ_CHECK(r == 0 || r == SG_E_TOOBIG);
            FUZZ_CHECK(memchr(out, 0, sizeof(out)) != NULL);
            r = sg_url_format(&u1, tiny, sizeof(tiny));
            FUZZ_CHECK(r == SG_E_TOOBIG && memchr(tiny, 0, sizeof(tiny)) != NULL);
        }
    }

    sg_url_redact(s, out, sizeof(out));
    FUZZ_CHECK(memchr(out, 0, sizeof(out)) != NULL);
    sg_url_redact(s, tiny, sizeof(tiny));
    FUZZ_CHECK(memchr(tiny, 0, sizeof(tiny)) != NULL);
    free(s);
    return 0;
}
