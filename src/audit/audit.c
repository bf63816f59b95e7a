/* Appending to the audit trail, and the chain hash of an entry.
 *
 * The chain hash of an entry, for anyone who wants to check a trail without this program:
 *
 *   hash = SHA-256( "sargas-audit-v1" 0x00        the 15 ASCII bytes of the tag, then one NUL
 *                   seq        int64, 8 bytes big-endian (two's complement)
 *                   ts_us      int64 BE  (UTC microseconds since 1970-01-01T00:00:00Z)
 *                   site_id    int64 BE
 *                   user_id    int64 BE
 *                   user       uint32 BE byte length, then the bytes (UTF-8, no NUL)
 *                   source     length + bytes
 *                   action     length + bytes
 *                   outcome    length + bytes
 *                   camera_id  int64 BE
 *                   object     length + bytes
 *                   detail     length + bytes
 *                   prev_hash  32 bytes: the hash of entry seq-1; 32 zero bytes for entry 1 )
 *
 * The columns of table `audit` hold exactly these values (user is column user_name). The
 * lengths make the encoding unambiguous: no two different entries encode to the same bytes.
 * Entries are numbered 1, 2, 3, ... without gaps, so a deleted entry shows as a gap, an edited
 * one as a hash that does not match its contents, and a moved one as both a wrong hash and a
 * prev_hash that does not match the entry before it. Signatures (verify.c, checkpoint in
 * sitekey.c) pin the chain head so that recomputing every later hash does not go unnoticed. */
#include "audit/audit.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"

static const char hash_tag[] = "sargas-audit-v1"; /* hashed with its NUL */

static void put_i64(crypto_hash_sha256_state *st, int64_t v)
{
    unsigned char b[8];
    uint64_t u = (uint64_t)v;

    for (int i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(u & 0xff);
        u >>= 8;
    }
    crypto_hash_sha256_update(st, b, sizeof(b));
}

/* A field of n bytes at most (the struct's array): its length up to the first NUL. */
static void put_str(crypto_hash_sha256_state *st, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    unsigned char b[4] = { (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                           (unsigned char)(len >> 8), (unsigned char)len };

    crypto_hash_sha256_update(st, b, sizeof(b));
    crypto_hash_sha256_update(st, (const unsigned char *)s, len);
}

void sg_audit_entry_hash(const struct sg_audit_entry *e, unsigned char out[SG_HASH_BYTES])
{
    crypto_hash_sha256_state st;

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)hash_tag, sizeof(hash_tag));
    put_i64(&st, e->seq);
    put_i64(&st, e->ts_us);
    put_i64(&st, e->site_id);
    put_i64(&st, e->user_id);
    put_str(&st, e->user, sizeof(e->user));
    put_str(&st, e->source, sizeof(e->source));
    put_str(&st, e->action, sizeof(e->action));
    put_str(&st, e->outcome, sizeof(e->outcome));
    put_i64(&st, e->camera_id);
    put_str(&st, e->object, sizeof(e->object));
    put_str(&st, e->detail, sizeof(e->detail));
    crypto_hash_sha256_update(&st, e->prev_hash, SG_HASH_BYTES);
    crypto_hash_sha256_final(&st, out);
}

/* Fields that are not NUL-terminated inside their array are cut to fit: what is stored is
 * then exactly what was hashed. */
static void terminate(struct sg_audit_entry *e)
{
    e->user[sizeof(e->user) - 1] = 0;
    e->source[sizeof(e->source) - 1] = 0;
    e->action[sizeof(e->action) - 1] = 0;
    e->outcome[sizeof(e->outcome) - 1] = 0;
    e->object[sizeof(e->object) - 1] = 0;
    e->detail[sizeof(e->detail) - 1] = 0;
}

int sg_audit_append(struct sg_catalog *cat, struct sg_audit_entry *e)
{
    int64_t head;
    int r;

    terminate(e);
    if (e->site_id <= 0)
        e->site_id = 1; /* site 1 always exists */
    /* BEGIN IMMEDIATE takes the write lock before reading the head: another connection or
     * process cannot append between our read of the head and our insert. */
    if ((r = sg_catalog_begin(cat)) < 0)
        return r;
    if ((r = sg_catalog_audit_head(cat, &head, e->prev_hash)) < 0)
        goto fail;
    e->seq = head + 1;
    if (!e->ts_us)
        e->ts_us = sg_utc_us();
    sg_audit_entry_hash(e, e->hash);
    if ((r = sg_catalog_audit_insert(cat, e)) < 0)
        goto fail;
    if ((r = sg_catalog_commit(cat)) < 0)
        goto fail;
    return 0;
fail:
    sg_catalog_rollback(cat);
    sg_debug("audit", e->camera_id, "append %s failed: %s", e->action, sg_strerror(r));
    return r;
}

int sg_audit_log(struct sg_catalog *cat, int64_t site_id, int64_t user_id, const char *user,
                 const char *source, const char *action, const char *outcome, int64_t camera_id,
                 const char *object, const char *detail)
{
    struct sg_audit_entry e = { .site_id = site_id > 0 ? site_id : 1, .user_id = user_id,
                                .camera_id = camera_id };

    snprintf(e.user, sizeof(e.user), "%s", user ? user : "");
    snprintf(e.source, sizeof(e.source), "%s", source ? source : "");
    snprintf(e.action, sizeof(e.action), "%s", action ? action : "");
    snprintf(e.outcome, sizeof(e.outcome), "%s", outcome ? outcome : "ok");
    snprintf(e.object, sizeof(e.object), "%s", object ? object : "");
    snprintf(e.detail, sizeof(e.detail), "%s", detail ? detail : "");
    return sg_audit_append(cat, &e);
}
