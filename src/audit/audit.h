/* The audit trail: append-only, every entry hash-chained to the one before, the chain head
 * signed from time to time with each site's Ed25519 key; and the sites' keys themselves.
 * Storage is the catalog's (sg_catalog_audit_*); hashing and signing (libsodium) are here.
 *
 * Entry hash = SHA-256 of a canonical encoding of every field of the entry (seq, time, site,
 * user, source, action, outcome, camera, object, detail) and the previous entry's hash, so
 * editing, deleting or reordering any stored entry breaks the chain at that entry. */
#ifndef SG_AUDIT_AUDIT_H
#define SG_AUDIT_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "catalog/catalog.h"

#define SG_SECKEY_BYTES 64  /* libsodium's Ed25519 secret key (seed + public key) */

/* Appends e to the trail: fills seq, ts_us (when 0: now), prev_hash and hash, inside its own
 * write transaction (so never call it inside another one). Returns 0 or a negative code; a
 * failure to audit is logged as an error by the caller's module. */
int sg_audit_append(struct sg_catalog *cat, struct sg_audit_entry *e);

/* Builds an entry from its parts (NULL strings = "", site_id 0 = 1, outcome NULL = "ok";
 * longer strings are cut to their field) and appends it. Returns what sg_audit_append does. */
int sg_audit_log(struct sg_catalog *cat, int64_t site_id, int64_t user_id, const char *user,
                 const char *source, const char *action, const char *outcome, int64_t camera_id,
                 const char *object, const char *detail);

/* The chain hash of e (from its fields and e->prev_hash). */
void sg_audit_entry_hash(const struct sg_audit_entry *e, unsigned char out[SG_HASH_BYTES]);

/* Site keys. The secret key of site N is the file key_dir/site-N.key (mode 0600, the
 * directory 0700); its public key is recorded in the catalog (sites.public_key). */
/* Gives every site that has no public key a fresh key pair (secret key written first). A key
 * file that exists already for such a site is adopted, never overwritten. Returns the number
 * of keys made, or a negative code (the first failure; the other sites still get theirs). */
int sg_sitekey_ensure(struct sg_catalog *cat, const char *key_dir);
/* Loads site N's secret key. 0, -ENOENT or another negative code. */
int sg_sitekey_load(const char *key_dir, int64_t site_id, unsigned char sk[SG_SECKEY_BYTES]);
/* A short, human-comparable fingerprint of a public key: the first 16 bytes of its SHA-256 in
 * hex, grouped by 4 ("1a2b 3c4d ..."). out: at least 48 bytes. */
void sg_sitekey_fingerprint(const unsigned char pk[SG_PUBKEY_BYTES], char *out, size_t n);

/* Signs the current chain head with the key of every site whose newest signature is older
 * than the head (sites without a readable secret key are skipped with a warning).
 * Returns the number of signatures written, or a negative code. */
int sg_audit_checkpoint(struct sg_catalog *cat, const char *key_dir);

/* A public key trusted for one site (overrides the key recorded in the catalog). */
struct sg_audit_key {
    int64_t site_id;
    unsigned char pk[SG_PUBKEY_BYTES];
};

struct sg_audit_report {
    int64_t entries;          /* entries checked */
    int64_t signatures;       /* signatures checked and valid */
    int64_t last_signed_seq;  /* newest entry covered by a valid signature (0 = none) */
    int64_t first_bad_seq;    /* 0 when the trail is intact */
    char problem[512];        /* what is wrong with first_bad_seq ("" when intact) */
};

/* Walks the whole trail and every signature. Returns 0 when intact, SG_E_CORRUPT when not
 * (report says where and why), or another negative code when it could not be read. */
int sg_audit_verify(struct sg_catalog *cat, const struct sg_audit_key *keys, int n_keys,
                    struct sg_audit_report *rep);

#endif
