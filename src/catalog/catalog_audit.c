/* The catalog's part of the audit trail: sites (each with the public key that checks its
 * signatures), the entries and the signatures over the chain head. Storage only: the hashing
 * and signing are src/audit's. The triggers of migration 2 refuse UPDATE and DELETE on the
 * two audit tables; nothing here tries either. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "catalog/catalog_int.h"

enum {
    S_SITE_ADD = CATALOG__AUDIT_FIRST,
    S_SITE_GET, S_SITE_FIND, S_SITE_LIST, S_SITE_SET_KEY,
    S_AUDIT_HEAD, S_AUDIT_INSERT, S_AUDIT_PAGE, S_AUDIT_LIST,
    S_SIG_ADD, S_SIG_LIST, S_SIG_LAST,
    S_AUDIT_END
};
_Static_assert((int)S_AUDIT_END <= (int)CATALOG__AUDIT_FIRST + 32, "catalog_audit.c's slots are 64..95");

#define SITE_COLS "id, name, public_key, created_us"
#define AUDIT_COLS "seq, ts_us, site_id, user_id, user_name, source, action, outcome, camera_id," \
                   " object, detail, prev_hash, hash"
#define SIG_COLS "id, seq, site_id, ts_us, hash, signature"

/* ---- sites ---- */

static void read_site(sqlite3_stmt *s, void *p)
{
    struct sg_site *site = p;

    memset(site, 0, sizeof(*site));
    site->id = sqlite3_column_int64(s, 0);
    catalog__copy_text(site->name, sizeof(site->name), s, 1);
    site->has_key = catalog__copy_blob(site->public_key, SG_PUBKEY_BYTES, s, 2) == 0;
    site->created_us = sqlite3_column_int64(s, 3);
}

int sg_catalog_site_add(struct sg_catalog *cat, struct sg_site *site)
{
    sqlite3_stmt *s;
    int64_t now = sg_utc_us();
    int r;

    if (!sg_camera_name_valid(site->name)) /* the same rule as camera names */
        return -EINVAL;
    s = catalog__stmt(cat, S_SITE_ADD,
                      "INSERT INTO sites (name, public_key, created_us) VALUES (?, ?, ?)");
    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_text(s, 1, site->name, -1, SQLITE_TRANSIENT);
    if (site->has_key)
        sqlite3_bind_blob(s, 2, site->public_key, SG_PUBKEY_BYTES, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, 2);
    sqlite3_bind_int64(s, 3, now);
    if ((r = catalog__run(cat, s, "site add")) < 0)
        return r;
    site->id = sqlite3_last_insert_rowid(cat->db);
    site->created_us = now;
    return 0;
}

int sg_catalog_site_get(struct sg_catalog *cat, int64_t id, struct sg_site *out)
{
    sqlite3_stmt *s = catalog__stmt(cat, S_SITE_GET, "SELECT " SITE_COLS " FROM sites WHERE id = ?");

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, id);
    return catalog__one(cat, s, read_site, out, "site get");
}

int sg_catalog_site_find(struct sg_catalog *cat, const char *name, struct sg_site *out)
{
    sqlite3_stmt *s = catalog__stmt(cat, S_SITE_FIND, "SELECT " SITE_COLS " FROM sites WHERE name = ?");

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    return catalog__one(cat, s, read_site, out, "site find");
}

int sg_catalog_site_list(struct sg_catalog *cat, struct sg_site **out)
{
    sqlite3_stmt *s = catalog__stmt(cat, S_SITE_LIST, "SELECT " SITE_COLS " FROM sites ORDER BY id");

    *out = NULL;
    if (!s)
        return SG_E_CATALOG;
    return catalog__collect(cat, s, sizeof(**out), read_site, (void **)out);
}

int sg_catalog_site_set_key(struct sg_catalog *cat, int64_t id,
                            const unsigned char pk[SG_PUBKEY_BYTES])
{
    sqlite3_stmt *s;
    struct sg_site site;
    int r;

    /* Only where there is none: replacing a key would disown every signature made with it. */
    s = catalog__stmt(cat, S_SITE_SET_KEY,
                      "UPDATE sites SET public_key = ? WHERE id = ? AND public_key IS NULL");
    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_blob(s, 1, pk, SG_PUBKEY_BYTES, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, id);
    if ((r = catalog__run(cat, s, "site set key")) < 0)
        return r;
    if (sqlite3_changes(cat->db))
        return 0;
    r = sg_catalog_site_get(cat, id, &site);
    return r < 0 ? r : SG_E_EXISTS;
}

/* ---- audit entries ---- */

int sg_catalog_audit_head(struct sg_catalog *cat, int64_t *seq, unsigned char hash[SG_HASH_BYTES])
{
    sqlite3_stmt *s = catalog__stmt(cat, S_AUDIT_HEAD,
                                    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
    int rc;

    *seq = 0;
    memset(hash, 0, SG_HASH_BYTES);
    if (!s)
        return SG_E_CATALOG;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(s, 0);
        if (catalog__copy_blob(hash, SG_HASH_BYTES, s, 1) < 0) {
            sqlite3_reset(s);
            return SG_E_CORRUPT; /* never chain onto a damaged head */
        }
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return catalog__error(cat, "audit head");
    return 0;
}

int sg_catalog_audit_insert(struct sg_catalog *cat, const struct sg_audit_entry *e)
{
    sqlite3_stmt *s = catalog__stmt(cat, S_AUDIT_INSERT,
                                    "INSERT INTO audit (" AUDIT_COLS ")"
                                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, e->seq);
    sqlite3_bind_int64(s, 2, e->ts_us);
    sqlite3_bind_int64(s, 3, e->site_id);
    sqlite3_bind_int64(s, 4, e->user_id);
    sqlite3_bind_text(s, 5, e->user, (int)strnlen(e->user, sizeof(e->user)), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 6, e->source, (int)strnlen(e->source, sizeof(e->source)), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 7, e->action, (int)strnlen(e->action, sizeof(e->action)), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 8, e->outcome, (int)strnlen(e->outcome, sizeof(e->outcome)), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 9, e->camera_id);
    sqlite3_bind_text(s, 10, e->object, (int)strnlen(e->object, sizeof(e->object)), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 11, e->detail, (int)strnlen(e->detail, sizeof(e->detail)), SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 12, e->prev_hash, SG_HASH_BYTES, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 13, e->hash, SG_HASH_BYTES, SQLITE_TRANSIENT);
    return catalog__run(cat, s, "audit insert");
}

/* Reads one audit row. A row that the struct cannot hold faithfully (a text longer than its
 * field or with a NUL inside, a number stored as something else, a hash of another size)
 * was not written by sg_audit_append; it is returned with an all-zero hash, which no real
 * entry has, so that verification reports it instead of checking a truncated copy. */
static void read_entry(sqlite3_stmt *s, void *p)
{
    static const int int_cols[] = { 1, 2, 3, 8 };
    static const struct { int col; size_t n; } text_cols[] = {
        { 4, SG_NAME_MAX }, { 5, SG_SOURCE_MAX }, { 6, SG_ACTION_MAX }, { 7, SG_OUTCOME_MAX },
        { 9, SG_OBJECT_MAX }, { 10, SG_DETAIL_MAX },
    };
    struct sg_audit_entry *e = p;
    int ok = 1;

    /* Types first: sqlite3_column_type() means nothing once a value was converted. */
    for (size_t i = 0; i < sizeof(int_cols) / sizeof(int_cols[0]); i++)
        ok &= sqlite3_column_type(s, int_cols[i]) == SQLITE_INTEGER;
    for (size_t i = 0; i < sizeof(text_cols) / sizeof(text_cols[0]); i++) {
        int col = text_cols[i].col;
        const unsigned char *t;
        if (sqlite3_column_type(s, col) != SQLITE_TEXT) {
            ok = 0;
            continue;
        }
        t = sqlite3_column_text(s, col);
        ok &= t && (size_t)sqlite3_column_bytes(s, col) < text_cols[i].n &&
              strlen((const char *)t) == (size_t)sqlite3_column_bytes(s, col);
    }
    memset(e, 0, sizeof(*e));
    e->seq = sqlite3_column_int64(s, 0);
    e->ts_us = sqlite3_column_int64(s, 1);
    e->site_id = sqlite3_column_int64(s, 2);
    e->user_id = sqlite3_column_int64(s, 3);
    catalog__copy_text(e->user, sizeof(e->user), s, 4);
    catalog__copy_text(e->source, sizeof(e->source), s, 5);
    catalog__copy_text(e->action, sizeof(e->action), s, 6);
    catalog__copy_text(e->outcome, sizeof(e->outcome), s, 7);
    e->camera_id = sqlite3_column_int64(s, 8);
    catalog__copy_text(e->object, sizeof(e->object), s, 9);
    catalog__copy_text(e->detail, sizeof(e->detail), s, 10);
    ok &= catalog__copy_blob(e->prev_hash, SG_HASH_BYTES, s, 11) == 0;
    ok &= catalog__copy_blob(e->hash, SG_HASH_BYTES, s, 12) == 0;
    if (!ok)
        memset(e->hash, 0, SG_HASH_BYTES);
}

int sg_catalog_audit_page(struct sg_catalog *cat, int64_t after_seq, int limit,
                          struct sg_audit_entry **out)
{
    sqlite3_stmt *s = catalog__stmt(cat, S_AUDIT_PAGE,
                                    "SELECT " AUDIT_COLS " FROM audit WHERE seq > ?"
                                    " ORDER BY seq LIMIT ?");

    *out = NULL;
    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, after_seq);
    sqlite3_bind_int(s, 2, limit);
    return catalog__collect(cat, s, sizeof(**out), read_entry, (void **)out);
}

int sg_catalog_audit_list(struct sg_catalog *cat, const struct sg_audit_filter *f,
                          struct sg_audit_entry **out)
{
    /* An action ending in '.' is a prefix ("live." = live.start, live.stop, ...); substr()
     * rather than LIKE so that '%' and '_' in it mean nothing. */
    sqlite3_stmt *s = catalog__stmt(cat, S_AUDIT_LIST,
        "SELECT " AUDIT_COLS " FROM audit"
        " WHERE (?1 = 0 OR site_id = ?1)"
        " AND (?2 IS NULL OR user_name = ?2)"
        " AND (?3 = 0 OR camera_id = ?3)"
        " AND (?4 IS NULL OR action = ?4 OR (?5 AND substr(action, 1, length(?4)) = ?4))"
        " AND (?6 = 0 OR ts_us >= ?6)"
        " AND (?7 = 0 OR ts_us < ?7)"
        " AND (?8 = 0 OR seq < ?8)"
        " ORDER BY seq DESC LIMIT ?9");
    size_t alen = f->action ? strlen(f->action) : 0;

    *out = NULL;
    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, f->site_id);
    if (f->user)
        sqlite3_bind_text(s, 2, f->user, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, f->camera_id);
    if (f->action)
        sqlite3_bind_text(s, 4, f->action, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 5, alen > 0 && f->action[alen - 1] == '.');
    sqlite3_bind_int64(s, 6, f->from_us);
    sqlite3_bind_int64(s, 7, f->to_us);
    sqlite3_bind_int64(s, 8, f->before_seq);
    sqlite3_bind_int(s, 9, f->limit > 0 ? f->limit : 100);
    return catalog__collect(cat, s, sizeof(**out), read_entry, (void **)out);
}

/* ---- signatures over the chain head ---- */

int sg_catalog_audit_sig_add(struct sg_catalog *cat, struct sg_audit_sig *sig)
{
    sqlite3_stmt *s = catalog__stmt(cat, S_SIG_ADD,
                                    "INSERT INTO audit_signatures (seq, site_id, ts_us, hash, signature)"
                                    " VALUES (?, ?, ?, ?, ?)");
    int r;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, sig->seq);
    sqlite3_bind_int64(s, 2, sig->site_id);
    sqlite3_bind_int64(s, 3, sig->ts_us);
    sqlite3_bind_blob(s, 4, sig->hash, SG_HASH_BYTES, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 5, sig->sig, SG_SIG_BYTES, SQLITE_TRANSIENT);
    if ((r = catalog__run(cat, s, "audit signature add")) < 0)
        return r;
    sig->id = sqlite3_last_insert_rowid(cat->db);
    return 0;
}

/* A blob of another size reads as zeros: the signature then fails to verify. */
static void read_sig(sqlite3_stmt *s, void *p)
{
    struct sg_audit_sig *g = p;

    memset(g, 0, sizeof(*g));
    g->id = sqlite3_column_int64(s, 0);
    g->seq = sqlite3_column_int64(s, 1);
    g->site_id = sqlite3_column_int64(s, 2);
    g->ts_us = sqlite3_column_int64(s, 3);
    catalog__copy_blob(g->hash, SG_HASH_BYTES, s, 4);
    catalog__copy_blob(g->sig, SG_SIG_BYTES, s, 5);
}

int sg_catalog_audit_sig_list(struct sg_catalog *cat, struct sg_audit_sig **out)
{
    sqlite3_stmt *s = catalog__stmt(cat, S_SIG_LIST,
                                    "SELECT " SIG_COLS " FROM audit_signatures ORDER BY id");

    *out = NULL;
    if (!s)
        return SG_E_CATALOG;
    return catalog__collect(cat, s, sizeof(**out), read_sig, (void **)out);
}

int sg_catalog_audit_sig_last(struct sg_catalog *cat, int64_t site_id, int64_t *seq)
{
    sqlite3_stmt *s = catalog__stmt(cat, S_SIG_LAST,
                                    "SELECT coalesce(max(seq), 0) FROM audit_signatures WHERE site_id = ?");
    int rc;

    *seq = 0;
    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, site_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : catalog__error(cat, "audit signature last");
}
