/* sg_onvif_verify, the verifier of ONVIF Export Files (which come from anywhere: a court, a
 * partner, an attacker): the input is written to a temporary file (created once per process
 * under $TMPDIR, rewritten for every input, removed at exit) and verified; the report must be
 * well-formed whatever the file says. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "fuzz.h"
#include "playback/playback.h"

static int fd = -1;

/* A report string: terminated inside its field, no control characters. */
static void check_str(const char *s, size_t n)
{
    size_t len = strnlen(s, n);

    FUZZ_CHECK(len < n);
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_onvif_report rep;
    int r;

    if (fd < 0)
        fd = fuzz_file_open("onvif");
    fuzz_file_write(fd, data, size);
    r = sg_onvif_verify(fuzz_file_path(), NULL, 0, &rep);
    FUZZ_CHECK(r == 0 || r == SG_E_CORRUPT || r == SG_E_UNSUPPORTED || r == -ENOMEM);
    FUZZ_CHECK(r == 0 ? rep.problem[0] == 0 : rep.problem[0] != 0 || r == -ENOMEM);
    FUZZ_CHECK(rep.valid >= 0 && rep.valid <= rep.signatures);
    FUZZ_CHECK(r != 0 || (rep.signatures > 0 && rep.valid == rep.signatures));
    FUZZ_CHECK(rep.frames >= 0 && rep.fragments >= 0);
    FUZZ_CHECK(rep.sealed_bytes >= 0 && rep.sealed_bytes <= (int64_t)size);
    FUZZ_CHECK(rep.unsealed_bytes >= 0 && rep.unsealed_bytes <= (int64_t)size);
    check_str(rep.subject, sizeof(rep.subject));
    check_str(rep.issuer, sizeof(rep.issuer));
    check_str(rep.unit_name, sizeof(rep.unit_name));
    check_str(rep.unit_url, sizeof(rep.unit_url));
    check_str(rep.operator_name, sizeof(rep.operator_name));
    check_str(rep.source_name, sizeof(rep.source_name));
    check_str(rep.source_url, sizeof(rep.source_url));
    check_str(rep.source_line, sizeof(rep.source_line));
    check_str(rep.user_info, sizeof(rep.user_info));
    check_str(rep.problem, sizeof(rep.problem));
    return 0;
}
