/* Accounts: password hashing (Argon2id), secret tokens, roles and their permissions, and the
 * failed-login limiter. The only module besides audit/evidence that uses libsodium. */
#ifndef SG_AUTH_AUTH_H
#define SG_AUTH_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "catalog/catalog.h"

/* Permissions. A role is a set of them; an API token carries a subset of its user's. */
enum {
    SG_P_CAMERA_READ  = 1 << 0, /* list cameras, their settings and state */
    SG_P_CAMERA_ADMIN = 1 << 1, /* create, change, delete cameras */
    SG_P_LIVE         = 1 << 2, /* live video, snapshots */
    SG_P_PLAYBACK     = 1 << 3, /* recordings, playback, segments */
    SG_P_EXPORT       = 1 << 4, /* downloads (and exports) */
    SG_P_USERS_READ   = 1 << 5, /* the user register and grants */
    SG_P_USERS_ADMIN  = 1 << 6, /* create, change, delete users and grants */
    SG_P_AUDIT_READ   = 1 << 7, /* the audit trail */
    SG_P_CASES_READ   = 1 << 8, /* see cases and their items (not their video) */
    SG_P_CASES        = 1 << 9, /* create cases, add items (which locks them) */
    SG_P_RELEASE      = 1 << 10,/* release an evidence lock, close a case (with a reason) */
    SG_P_ALL          = (1 << 11) - 1,
};

/* Must be called once before anything else here (sodium_init). 0 or a negative code. */
int sg_auth_init(void);

const char *sg_role_name(int role);          /* "admin", ...; "?" when unknown */
int sg_role_parse(const char *s);            /* -> enum sg_role or -EINVAL */
unsigned sg_role_perms(int role);            /* 0 for an unknown role */
const char *sg_perm_name(unsigned bit);      /* one bit -> "live", ...; NULL when unknown */
int sg_perm_parse(const char *s, unsigned *bit); /* "live" -> bit; -EINVAL */

/* Password policy: 10 to 256 bytes of valid UTF-8 without control characters. Returns 0, or
 * -EINVAL with the reason in why. */
int sg_password_ok(const char *pw, char *why, size_t n);
/* Argon2id hash (crypto_pwhash_str) with the given cost. 0 or a negative code. */
int sg_password_hash(const char *pw, int opslimit, int64_t memlimit, char out[SG_PWHASH_MAX]);
/* 0 when pw matches hash, SG_E_AUTH when not. */
int sg_password_verify(const char *hash, const char *pw);
/* 1 when hash was made with other parameters than these (rehash at login). */
int sg_password_needs_rehash(const char *hash, int opslimit, int64_t memlimit);
/* Spends the time of one verification, for unknown accounts (no timing oracle). */
void sg_password_burn(const char *pw, int opslimit, int64_t memlimit);

/* A fresh secret: 32 random bytes, base64url without padding (43 characters + NUL). */
#define SG_TOKEN_CHARS 44
void sg_token_new(char out[SG_TOKEN_CHARS]);
/* SHA-256 of a token as stored (tokens are random, so a fast hash is enough). */
void sg_token_hash(const char *token, unsigned char out[SG_HASH_BYTES]);
/* Constant-time comparison of two hashes. 1 when equal. */
int sg_hash_equal(const unsigned char a[SG_HASH_BYTES], const unsigned char b[SG_HASH_BYTES]);
/* 1 when n is an acceptable user name: 1-64 ASCII letters, digits, '.', '_', '-', '@'. */
int sg_user_name_valid(const char *n);
/* Constant-time comparison of two NUL-terminated secrets. 1 when equal. */
int sg_secret_equal(const char *a, const char *b);

/* The failed-login limiter: per key (an account name, a client address), failures within the
 * last window_s seconds; at `max` of them further attempts are refused until the oldest
 * counted failure leaves the window. In memory, bounded, thread-safe. */
struct sg_ratelimit;
struct sg_ratelimit *sg_ratelimit_create(int max, int window_s);
void sg_ratelimit_destroy(struct sg_ratelimit **rl);
/* 0 when an attempt is allowed, else the seconds until one is. */
int sg_ratelimit_check(struct sg_ratelimit *rl, const char *key, int64_t now_mono_ns);
void sg_ratelimit_fail(struct sg_ratelimit *rl, const char *key, int64_t now_mono_ns);
void sg_ratelimit_clear(struct sg_ratelimit *rl, const char *key);

#endif
