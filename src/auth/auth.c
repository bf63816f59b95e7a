/* Passwords, secret tokens, roles and permissions (libsodium). */
#include "auth/auth.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

int sg_auth_init(void) { return sodium_init() < 0 ? SG_E_UNSUPPORTED : 0; }

/* ---- roles ---- */

static const struct {
    const char *name;
    unsigned perms;
} roles[] = {
    [SG_ROLE_ADMIN] = { "admin", SG_P_ALL },
    /* operators open cases and add footage to them (which locks it); investigators also
     * export and release locks */
    [SG_ROLE_OPERATOR] = { "operator", SG_P_CAMERA_READ | SG_P_LIVE | SG_P_PLAYBACK | SG_P_CASES_READ |
                                           SG_P_CASES },
    [SG_ROLE_INVESTIGATOR] = { "investigator", SG_P_CAMERA_READ | SG_P_LIVE | SG_P_PLAYBACK | SG_P_EXPORT |
                                                   SG_P_CASES_READ | SG_P_CASES | SG_P_RELEASE },
    [SG_ROLE_VIEWER] = { "viewer", SG_P_CAMERA_READ | SG_P_LIVE },
    /* audit trail and registers (users, cameras), no video */
    [SG_ROLE_AUDITOR] = { "auditor", SG_P_CAMERA_READ | SG_P_USERS_READ | SG_P_AUDIT_READ | SG_P_CASES_READ },
};
#define N_ROLES ((int)(sizeof(roles) / sizeof(roles[0])))

const char *sg_role_name(int role)
{
    return role >= SG_ROLE_ADMIN && role < N_ROLES ? roles[role].name : "?";
}

int sg_role_parse(const char *s)
{
    for (int i = SG_ROLE_ADMIN; i < N_ROLES; i++)
        if (s && !strcmp(s, roles[i].name))
            return i;
    return -EINVAL;
}

unsigned sg_role_perms(int role)
{
    return role >= SG_ROLE_ADMIN && role < N_ROLES ? roles[role].perms : 0;
}

static const char *const perm_names[] = {
    "cameras.read", "cameras.admin", "live", "playback", "export", "users.read", "users.admin",
    "audit.read", "cases.read", "cases", "release",
};

const char *sg_perm_name(unsigned bit)
{
    for (unsigned i = 0; i < sizeof(perm_names) / sizeof(perm_names[0]); i++)
        if (bit == 1u << i)
            return perm_names[i];
    return NULL;
}

int sg_perm_parse(const char *s, unsigned *bit)
{
    for (unsigned i = 0; i < sizeof(perm_names) / sizeof(perm_names[0]); i++)
        if (s && !strcmp(s, perm_names[i])) {
            *bit = 1u << i;
            return 0;
        }
    return -EINVAL;
}

/* ---- passwords ---- */

int sg_password_ok(const char *pw, char *why, size_t n)
{
    size_t len = strlen(pw);

    if (len < 10 || len > 256) {
        snprintf(why, n, "a password has 10 to 256 characters");
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f) {
            snprintf(why, n, "a password has no control characters");
            return -EINVAL;
        }
    /* UTF-8: jansson already refuses invalid UTF-8 in JSON; the command line is checked here. */
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)pw[i];
        size_t k = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
        if (k == 9 || i + k >= len) {
            snprintf(why, n, "a password must be valid UTF-8");
            return -EINVAL;
        }
        for (size_t j = 1; j <= k; j++)
            if (((unsigned char)pw[i + j] >> 6) != 2) {
                snprintf(why, n, "a password must be valid UTF-8");
                return -EINVAL;
            }
        i += k + 1;
    }
    return 0;
}

int sg_password_hash(const char *pw, int opslimit, int64_t memlimit, char out[SG_PWHASH_MAX])
{
    _Static_assert(SG_PWHASH_MAX >= crypto_pwhash_STRBYTES, "SG_PWHASH_MAX too small");
    if (crypto_pwhash_str_alg(out, pw, strlen(pw), (unsigned long long)opslimit, (size_t)memlimit,
                              crypto_pwhash_ALG_ARGON2ID13))
        return -ENOMEM; /* the only documented failure: not enough memory */
    return 0;
}

int sg_password_verify(const char *hash, const char *pw)
{
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0 ? 0 : SG_E_AUTH;
}

int sg_password_needs_rehash(const char *hash, int opslimit, int64_t memlimit)
{
    return crypto_pwhash_str_needs_rehash(hash, (unsigned long long)opslimit, (size_t)memlimit) != 0;
}

void sg_password_burn(const char *pw, int opslimit, int64_t memlimit)
{
    char h[SG_PWHASH_MAX];

    sg_password_hash(pw, opslimit, memlimit, h);
    sodium_memzero(h, sizeof(h));
}

/* ---- tokens ---- */

void sg_token_new(char out[SG_TOKEN_CHARS])
{
    unsigned char raw[32];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, SG_TOKEN_CHARS, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

void sg_token_hash(const char *token, unsigned char out[SG_HASH_BYTES])
{
    crypto_hash_sha256(out, (const unsigned char *)token, strlen(token));
}

int sg_secret_equal(const char *a, const char *b)
{
    unsigned char ha[32], hb[32];

    /* Compare digests so that neither the content nor the length leaks through timing. */
    crypto_hash_sha256(ha, (const unsigned char *)a, strlen(a));
    crypto_hash_sha256(hb, (const unsigned char *)b, strlen(b));
    return sodium_memcmp(ha, hb, sizeof(ha)) == 0;
}

int sg_hash_equal(const unsigned char a[SG_HASH_BYTES], const unsigned char b[SG_HASH_BYTES])
{
    return sodium_memcmp(a, b, SG_HASH_BYTES) == 0;
}

int sg_user_name_valid(const char *n)
{
    size_t len = strlen(n);

    if (!len || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-' || c == '@'))
            return 0;
    }
    return 1;
}
