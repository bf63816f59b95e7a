/* What login and user requests hand to src/auth as text from the network: the password
 * policy (our own UTF-8 check), user-name validation, token hashing and the failed-login
 * limiter keyed by the name tried. The input is NUL-terminated first (jansson hands C
 * strings; an embedded NUL ends them). Invariants: a password the policy accepts has 10-256
 * bytes, no control characters and well-formed UTF-8 (checked here with the iconv-free
 * reference below); an accepted user name has only its allowed characters. */
#include "auth/auth.h"
#include "base/clock.h"
#include "fuzz.h"

/* Reference UTF-8 check (RFC 3629 structure: lead byte, then the right number of 10xxxxxx). */
static int utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = s[i] < 0x80 ? 0 : (s[i] & 0xe0) == 0xc0 ? 1 : (s[i] & 0xf0) == 0xe0 ? 2 : (s[i] & 0xf8) == 0xf0 ? 3 : 9;
        if (k == 9 || i + k >= n + (k == 0))
            return 0;
        for (size_t j = 1; j <= k; j++)
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sg_ratelimit *rl;
    char *s = malloc(size + 1), why[128];
    unsigned char h[SG_HASH_BYTES];
    size_t n;

    FUZZ_CHECK(s != NULL);
    if (!rl) {
        FUZZ_CHECK(sg_auth_init() == 0);
        rl = sg_ratelimit_create(5, 300);
    }
    memcpy(s, data, size);
    s[size] = 0;
    n = strlen(s);
    if (sg_password_ok(s, why, sizeof(why)) == 0) {
        FUZZ_CHECK(n >= 10 && n <= 256);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
        FUZZ_CHECK(utf8_ok((const unsigned char *)s, n));
    } else {
        FUZZ_CHECK(memchr(why, 0, sizeof(why)) && why[0]);
    }
    if (sg_user_name_valid(s)) {
        FUZZ_CHECK(n >= 1 && n <= 64);
        FUZZ_CHECK(strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-@") == n);
    }
    sg_token_hash(s, h);
    sg_ratelimit_fail(rl, s, sg_mono_ns());
    FUZZ_CHECK(sg_ratelimit_check(rl, s, sg_mono_ns()) >= 0);
    free(s);
    return 0;
}
