/* Unit tests of src/auth: passwords, tokens, roles, the failed-login limiter. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "base/clock.h"
#include "base/err.h"
#include "check.h"

static void test_passwords(void)
{
    char h[SG_PWHASH_MAX], h2[SG_PWHASH_MAX], why[128];

    CHECK_EQ_INT(sg_password_ok("short", why, sizeof(why)), -EINVAL);
    CHECK_EQ_INT(sg_password_ok("0123456789", why, sizeof(why)), 0);
    CHECK_EQ_INT(sg_password_ok("with\ttab-inside", why, sizeof(why)), -EINVAL);
    CHECK_EQ_INT(sg_password_ok("šaltas žiemos rytas", why, sizeof(why)), 0); /* UTF-8 */
    CHECK_EQ_INT(sg_password_ok("bad utf8 \xc3\x28 here", why, sizeof(why)), -EINVAL);
    CHECK_EQ_INT(sg_password_ok("truncated utf8 \xe2\x82", why, sizeof(why)), -EINVAL);
    {
        char longpw[300];
        memset(longpw, 'a', sizeof(longpw) - 1);
        longpw[sizeof(longpw) - 1] = 0;
        CHECK_EQ_INT(sg_password_ok(longpw, why, sizeof(why)), -EINVAL);
    }
    CHECK_EQ_INT(sg_password_hash("correct horse battery", 1, 1 << 20, h), 0);
    CHECK(!strncmp(h, "$argon2id$", 10));
    CHECK(strstr(h, "correct") == NULL);
    CHECK_EQ_INT(sg_password_verify(h, "correct horse battery"), 0);
    CHECK_EQ_INT(sg_password_verify(h, "correct horse batterY"), SG_E_AUTH);
    CHECK_EQ_INT(sg_password_verify(h, ""), SG_E_AUTH);
    CHECK_EQ_INT(sg_password_verify("not a hash", "x"), SG_E_AUTH);
    /* same password, new salt */
    CHECK_EQ_INT(sg_password_hash("correct horse battery", 1, 1 << 20, h2), 0);
    CHECK(strcmp(h, h2) != 0);
    CHECK_EQ_INT(sg_password_needs_rehash(h, 1, 1 << 20), 0);
    CHECK_EQ_INT(sg_password_needs_rehash(h, 2, 1 << 20), 1);
    CHECK_EQ_INT(sg_password_needs_rehash(h, 1, 2 << 20), 1);
}

static void test_tokens(void)
{
    char a[SG_TOKEN_CHARS], b[SG_TOKEN_CHARS];
    unsigned char ha[SG_HASH_BYTES], hb[SG_HASH_BYTES], ha2[SG_HASH_BYTES];

    sg_token_new(a);
    sg_token_new(b);
    CHECK_EQ_INT(strlen(a), 43);
    CHECK(strcmp(a, b) != 0);
    CHECK_EQ_INT(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
    sg_token_hash(a, ha);
    sg_token_hash(a, ha2);
    sg_token_hash(b, hb);
    CHECK(sg_hash_equal(ha, ha2));
    CHECK(!sg_hash_equal(ha, hb));
    CHECK(sg_secret_equal(a, a));
    CHECK(!sg_secret_equal(a, b));
    CHECK(!sg_secret_equal(a, ""));
}

static void test_roles(void)
{
    unsigned bit;

    CHECK_EQ_INT(sg_role_parse("admin"), SG_ROLE_ADMIN);
    CHECK_EQ_INT(sg_role_parse("auditor"), SG_ROLE_AUDITOR);
    CHECK_EQ_INT(sg_role_parse("root"), -EINVAL);
    CHECK_EQ_INT(sg_role_parse("Admin"), -EINVAL);
    CHECK_STR(sg_role_name(SG_ROLE_VIEWER), "viewer");
    CHECK_STR(sg_role_name(99), "?");
    CHECK_EQ_INT(sg_role_perms(SG_ROLE_ADMIN), SG_P_ALL);
    CHECK(!(sg_role_perms(SG_ROLE_OPERATOR) & SG_P_EXPORT));
    CHECK(sg_role_perms(SG_ROLE_INVESTIGATOR) & SG_P_EXPORT);
    CHECK(!(sg_role_perms(SG_ROLE_VIEWER) & SG_P_PLAYBACK));
    CHECK(!(sg_role_perms(SG_ROLE_AUDITOR) & (SG_P_LIVE | SG_P_PLAYBACK | SG_P_EXPORT)));
    CHECK(sg_role_perms(SG_ROLE_AUDITOR) & SG_P_AUDIT_READ);
    CHECK_EQ_INT(sg_role_perms(0), 0);
    for (unsigned b = 1; b & SG_P_ALL; b <<= 1) {
        CHECK(sg_perm_name(b) != NULL);
        CHECK_EQ_INT(sg_perm_parse(sg_perm_name(b), &bit), 0);
        CHECK_EQ_INT(bit, b);
    }
    CHECK(sg_perm_name(1u << 20) == NULL);
    CHECK_EQ_INT(sg_perm_parse("everything", &bit), -EINVAL);
    CHECK(sg_user_name_valid("jonas.p@zarasai"));
    CHECK(!sg_user_name_valid(""));
    CHECK(!sg_user_name_valid("with space"));
    CHECK(!sg_user_name_valid("x'); DROP TABLE users;--"));
    CHECK(!sg_user_name_valid("Jonas\xc5\xa1"));
}

static void test_ratelimit(void)
{
    struct sg_ratelimit *rl = sg_ratelimit_create(3, 60);
    int64_t t = 1000 * SG_NS_PER_SEC;
    char key[32];

    CHECK_EQ_INT(sg_ratelimit_check(rl, "u:jonas", t), 0);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(sg_ratelimit_check(rl, "u:jonas", t + i * SG_NS_PER_SEC), 0);
        sg_ratelimit_fail(rl, "u:jonas", t + i * SG_NS_PER_SEC);
    }
    /* three failures at t, t+1, t+2: blocked until the first leaves the 60 s window */
    CHECK_EQ_INT(sg_ratelimit_check(rl, "u:jonas", t + 3 * SG_NS_PER_SEC), 58);
    CHECK_EQ_INT(sg_ratelimit_check(rl, "u:ona", t + 3 * SG_NS_PER_SEC), 0); /* other keys unaffected */
    CHECK_EQ_INT(sg_ratelimit_check(rl, "u:jonas", t + 61 * SG_NS_PER_SEC), 0);
    /* the failure at t+2 still counts: two more block again */
    sg_ratelimit_fail(rl, "u:jonas", t + 61 * SG_NS_PER_SEC);
    CHECK_EQ_INT(sg_ratelimit_check(rl, "u:jonas", t + 61 * SG_NS_PER_SEC), 0);
    sg_ratelimit_fail(rl, "u:jonas", t + 61 * SG_NS_PER_SEC);
    CHECK_EQ_INT(sg_ratelimit_check(rl, "u:jonas", t + 61 * SG_NS_PER_SEC), 2);
    sg_ratelimit_clear(rl, "u:jonas");
    CHECK_EQ_INT(sg_ratelimit_check(rl, "u:jonas", t + 61 * SG_NS_PER_SEC), 0);
    /* a flood of other keys (more than the table holds) must not crash, and recent heavy
     * failures survive better than old single ones */
    for (int i = 0; i < 3; i++)
        sg_ratelimit_fail(rl, "a:10.0.0.1", t + 100 * SG_NS_PER_SEC);
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "u:spray%d", i);
        sg_ratelimit_fail(rl, key, t + 90 * SG_NS_PER_SEC);
    }
    CHECK(sg_ratelimit_check(rl, "a:10.0.0.1", t + 101 * SG_NS_PER_SEC) > 0);
    sg_ratelimit_destroy(&rl);
    CHECK(rl == NULL);
    sg_ratelimit_destroy(&rl);
}

int main(void)
{
    if (sg_auth_init() < 0)
        return 1;
    test_passwords();
    test_tokens();
    test_roles();
    test_ratelimit();
    printf("test_auth: %d checks, %d failed\n", check_count, check_failures);
    return check_failures != 0;
}
