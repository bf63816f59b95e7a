/* Catalog tables of accounts: users, per-camera grants, console sessions and API tokens.
 * (Sites are catalog_audit.c's, next to the keys and the audit trail.) Prepared statements
 * only, parameters always bound. Secrets are never stored: sessions and tokens by SHA-256,
 * passwords as Argon2id strings made by src/auth. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "catalog/catalog_int.h"

enum {
    Q_USER_ADD = CATALOG__AUTH_FIRST, Q_USER_UPDATE, Q_USER_REMOVE, Q_USER_GET, Q_USER_FIND,
    Q_USER_LIST, Q_ADMIN_COUNT,
    Q_GRANT_SET, Q_GRANT_REMOVE, Q_GRANT_GET, Q_GRANT_LIST, Q_GRANT_CLEAR,
    Q_SESSION_ADD, Q_SESSION_FIND, Q_SESSION_GET, Q_SESSION_TOUCH, Q_SESSION_REVOKE, Q_SESSION_REVOKE_USER,
    Q_SESSION_PURGE,
    Q_TOKEN_ADD, Q_TOKEN_FIND, Q_TOKEN_GET, Q_TOKEN_LIST, Q_TOKEN_REVOKE, Q_TOKEN_TOUCH,
    Q_LAST
};
_Static_assert((int)Q_LAST <= (int)CATALOG__AUDIT_FIRST, "catalog_auth.c's statement slots overflow");

#define USER_COLS "id, site_id, name, role, all_cameras, disabled, pw_hash, created_us, updated_us"
#define SESSION_COLS "id, user_id, token_hash, csrf, source, created_us, expires_us, last_seen_us, revoked_us"
#define TOKEN_COLS "id, user_id, name, token_hash, perms, created_us, expires_us, last_used_us, revoked_us"

static const char *const sql[Q_LAST - CATALOG__AUTH_FIRST] = {
#define Q(id) [(id) - CATALOG__AUTH_FIRST]
    Q(Q_USER_ADD) = "INSERT INTO users (site_id, name, role, all_cameras, disabled, pw_hash, created_us,"
                    " updated_us) VALUES (?,?,?,?,?,?,?,?)",
    Q(Q_USER_UPDATE) = "UPDATE users SET role=?, all_cameras=?, disabled=?, pw_hash=?, updated_us=?"
                       " WHERE id=?",
    Q(Q_USER_REMOVE) = "DELETE FROM users WHERE id=?",
    Q(Q_USER_GET) = "SELECT " USER_COLS " FROM users WHERE id=?",
    Q(Q_USER_FIND) = "SELECT " USER_COLS " FROM users WHERE name=?",
    Q(Q_USER_LIST) = "SELECT " USER_COLS " FROM users WHERE (?1 = 0 OR site_id = ?1) ORDER BY id",
    Q(Q_ADMIN_COUNT) = "SELECT count(*) FROM users WHERE role = 1 AND disabled = 0",
    Q(Q_GRANT_SET) = "INSERT INTO grants (user_id, camera_id, allow) VALUES (?,?,?)"
                     " ON CONFLICT (user_id, camera_id) DO UPDATE SET allow=excluded.allow",
    Q(Q_GRANT_REMOVE) = "DELETE FROM grants WHERE user_id=? AND camera_id=?",
    Q(Q_GRANT_GET) = "SELECT user_id, camera_id, allow FROM grants WHERE user_id=? AND camera_id=?",
    Q(Q_GRANT_LIST) = "SELECT g.user_id, g.camera_id, g.allow FROM grants g JOIN cameras c"
                      " ON c.id = g.camera_id WHERE g.user_id=? AND c.removed = 0 ORDER BY g.camera_id",
    Q(Q_GRANT_CLEAR) = "DELETE FROM grants WHERE user_id=?",
    Q(Q_SESSION_ADD) = "INSERT INTO sessions (user_id, token_hash, csrf, source, created_us, expires_us,"
                       " last_seen_us) VALUES (?,?,?,?,?,?,?)",
    Q(Q_SESSION_FIND) = "SELECT " SESSION_COLS " FROM sessions WHERE token_hash=?",
    Q(Q_SESSION_GET) = "SELECT " SESSION_COLS " FROM sessions WHERE id=?",
    Q(Q_SESSION_TOUCH) = "UPDATE sessions SET last_seen_us=?2 WHERE id=?1 AND last_seen_us < ?2",
    Q(Q_SESSION_REVOKE) = "UPDATE sessions SET revoked_us=?2 WHERE id=?1 AND revoked_us = 0",
    Q(Q_SESSION_REVOKE_USER) = "UPDATE sessions SET revoked_us=?2 WHERE user_id=?1 AND revoked_us = 0",
    Q(Q_SESSION_PURGE) = "DELETE FROM sessions WHERE (revoked_us <> 0 AND revoked_us < ?1)"
                         " OR expires_us < ?1",
    Q(Q_TOKEN_ADD) = "INSERT INTO api_tokens (user_id, name, token_hash, perms, created_us, expires_us)"
                     " VALUES (?,?,?,?,?,?)",
    Q(Q_TOKEN_FIND) = "SELECT " TOKEN_COLS " FROM api_tokens WHERE token_hash=?",
    Q(Q_TOKEN_GET) = "SELECT " TOKEN_COLS " FROM api_tokens WHERE id=?",
    Q(Q_TOKEN_LIST) = "SELECT " TOKEN_COLS " FROM api_tokens WHERE (?1 = 0 OR user_id = ?1) ORDER BY id",
    Q(Q_TOKEN_REVOKE) = "UPDATE api_tokens SET revoked_us=?2 WHERE id=?1 AND revoked_us = 0",
    Q(Q_TOKEN_TOUCH) = "UPDATE api_tokens SET last_used_us=?2 WHERE id=?1",
#undef Q
};

static sqlite3_stmt *q(struct sg_catalog *cat, int id)
{
    return catalog__stmt(cat, id, sql[id - CATALOG__AUTH_FIRST]);
}

/* Runs a change and reports SG_E_NOTFOUND when it touched no row. */
static int change(struct sg_catalog *cat, sqlite3_stmt *s, const char *what)
{
    int r;

    if (!s)
        return SG_E_CATALOG;
    if ((r = catalog__run(cat, s, what)) < 0)
        return r;
    return sqlite3_changes(sqlite3_db_handle(s)) ? 0 : SG_E_NOTFOUND;
}

/* One row by an id or by a secret's hash. */
static int one_by_id(struct sg_catalog *cat, int qid, int64_t id, void (*read)(sqlite3_stmt *, void *),
                     void *out, const char *what)
{
    sqlite3_stmt *s = q(cat, qid);

    if (s)
        sqlite3_bind_int64(s, 1, id);
    return catalog__one(cat, s, read, out, what);
}

static int one_by_hash(struct sg_catalog *cat, int qid, const unsigned char hash[SG_HASH_BYTES],
                       void (*read)(sqlite3_stmt *, void *), void *out, const char *what)
{
    sqlite3_stmt *s = q(cat, qid);

    if (s)
        sqlite3_bind_blob(s, 1, hash, SG_HASH_BYTES, SQLITE_TRANSIENT);
    return catalog__one(cat, s, read, out, what);
}

/* ---- users ---- */

static void read_user(sqlite3_stmt *s, void *p)
{
    struct sg_user *u = p;

    memset(u, 0, sizeof(*u));
    u->id = sqlite3_column_int64(s, 0);
    u->site_id = sqlite3_column_int64(s, 1);
    catalog__copy_text(u->name, sizeof(u->name), s, 2);
    u->role = sqlite3_column_int(s, 3);
    u->all_cameras = sqlite3_column_int(s, 4);
    u->disabled = sqlite3_column_int(s, 5);
    catalog__copy_text(u->pw_hash, sizeof(u->pw_hash), s, 6);
    u->created_us = sqlite3_column_int64(s, 7);
    u->updated_us = sqlite3_column_int64(s, 8);
}

int sg_catalog_user_add(struct sg_catalog *cat, struct sg_user *u)
{
    sqlite3_stmt *s = q(cat, Q_USER_ADD);
    int64_t now = sg_utc_us();
    int r;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, u->site_id);
    sqlite3_bind_text(s, 2, u->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 3, u->role);
    sqlite3_bind_int(s, 4, u->all_cameras);
    sqlite3_bind_int(s, 5, u->disabled);
    sqlite3_bind_text(s, 6, u->pw_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 7, now);
    sqlite3_bind_int64(s, 8, now);
    if ((r = catalog__run(cat, s, "user add")) < 0)
        return r;
    u->id = sqlite3_last_insert_rowid(sqlite3_db_handle(s));
    u->created_us = u->updated_us = now;
    return 0;
}

int sg_catalog_user_update(struct sg_catalog *cat, const struct sg_user *u)
{
    sqlite3_stmt *s = q(cat, Q_USER_UPDATE);

    if (s) {
        sqlite3_bind_int(s, 1, u->role);
        sqlite3_bind_int(s, 2, u->all_cameras);
        sqlite3_bind_int(s, 3, u->disabled);
        sqlite3_bind_text(s, 4, u->pw_hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 5, sg_utc_us());
        sqlite3_bind_int64(s, 6, u->id);
    }
    return change(cat, s, "user update");
}

int sg_catalog_user_remove(struct sg_catalog *cat, int64_t id)
{
    sqlite3_stmt *s = q(cat, Q_USER_REMOVE);

    if (s)
        sqlite3_bind_int64(s, 1, id);
    return change(cat, s, "user remove");
}

int sg_catalog_user_get(struct sg_catalog *cat, int64_t id, struct sg_user *out)
{
    return one_by_id(cat, Q_USER_GET, id, read_user, out, "user get");
}

int sg_catalog_user_find(struct sg_catalog *cat, const char *name, struct sg_user *out)
{
    sqlite3_stmt *s = q(cat, Q_USER_FIND);

    if (s)
        sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    return catalog__one(cat, s, read_user, out, "user find");
}

int sg_catalog_user_list(struct sg_catalog *cat, int64_t site_id, struct sg_user **out)
{
    sqlite3_stmt *s = q(cat, Q_USER_LIST);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, site_id);
    return catalog__collect(cat, s, sizeof(**out), read_user, (void **)out);
}

static void read_count(sqlite3_stmt *s, void *p) { *(int *)p = sqlite3_column_int(s, 0); }

int sg_catalog_admin_count(struct sg_catalog *cat)
{
    int n = 0, r = catalog__one(cat, q(cat, Q_ADMIN_COUNT), read_count, &n, "admin count");

    return r < 0 ? r : n;
}

/* ---- grants ---- */

static void read_grant(sqlite3_stmt *s, void *p)
{
    struct sg_grant *g = p;

    g->user_id = sqlite3_column_int64(s, 0);
    g->camera_id = sqlite3_column_int64(s, 1);
    g->allow = sqlite3_column_int(s, 2);
}

int sg_catalog_grant_set(struct sg_catalog *cat, int64_t user_id, int64_t camera_id, int allow)
{
    sqlite3_stmt *s = q(cat, Q_GRANT_SET);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_int64(s, 2, camera_id);
    sqlite3_bind_int(s, 3, allow ? 1 : 0);
    return catalog__run(cat, s, "grant set");
}

int sg_catalog_grant_remove(struct sg_catalog *cat, int64_t user_id, int64_t camera_id)
{
    sqlite3_stmt *s = q(cat, Q_GRANT_REMOVE);

    if (s) {
        sqlite3_bind_int64(s, 1, user_id);
        sqlite3_bind_int64(s, 2, camera_id);
    }
    return change(cat, s, "grant remove");
}

int sg_catalog_grant_get(struct sg_catalog *cat, int64_t user_id, int64_t camera_id, int *allow)
{
    sqlite3_stmt *s = q(cat, Q_GRANT_GET);
    struct sg_grant g;
    int r;

    if (s) {
        sqlite3_bind_int64(s, 1, user_id);
        sqlite3_bind_int64(s, 2, camera_id);
    }
    r = catalog__one(cat, s, read_grant, &g, "grant get");
    if (r == SG_E_NOTFOUND)
        return 0;
    if (r < 0)
        return r;
    *allow = g.allow;
    return 1;
}

int sg_catalog_grant_list(struct sg_catalog *cat, int64_t user_id, struct sg_grant **out)
{
    sqlite3_stmt *s = q(cat, Q_GRANT_LIST);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, user_id);
    return catalog__collect(cat, s, sizeof(**out), read_grant, (void **)out);
}

int sg_catalog_grant_clear(struct sg_catalog *cat, int64_t user_id)
{
    sqlite3_stmt *s = q(cat, Q_GRANT_CLEAR);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, user_id);
    return catalog__run(cat, s, "grant clear");
}

/* ---- sessions ---- */

static void read_session(sqlite3_stmt *s, void *p)
{
    struct sg_session *x = p;

    memset(x, 0, sizeof(*x));
    x->id = sqlite3_column_int64(s, 0);
    x->user_id = sqlite3_column_int64(s, 1);
    catalog__copy_blob(x->token_hash, sizeof(x->token_hash), s, 2);
    catalog__copy_text(x->csrf, sizeof(x->csrf), s, 3);
    catalog__copy_text(x->source, sizeof(x->source), s, 4);
    x->created_us = sqlite3_column_int64(s, 5);
    x->expires_us = sqlite3_column_int64(s, 6);
    x->last_seen_us = sqlite3_column_int64(s, 7);
    x->revoked_us = sqlite3_column_int64(s, 8);
}

int sg_catalog_session_add(struct sg_catalog *cat, struct sg_session *x)
{
    sqlite3_stmt *s = q(cat, Q_SESSION_ADD);
    int r;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, x->user_id);
    sqlite3_bind_blob(s, 2, x->token_hash, sizeof(x->token_hash), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, x->csrf, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, x->source, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, x->created_us);
    sqlite3_bind_int64(s, 6, x->expires_us);
    sqlite3_bind_int64(s, 7, x->last_seen_us);
    if ((r = catalog__run(cat, s, "session add")) < 0)
        return r;
    x->id = sqlite3_last_insert_rowid(sqlite3_db_handle(s));
    return 0;
}

int sg_catalog_session_find(struct sg_catalog *cat, const unsigned char hash[SG_HASH_BYTES],
                            struct sg_session *out)
{
    return one_by_hash(cat, Q_SESSION_FIND, hash, read_session, out, "session find");
}

int sg_catalog_session_get(struct sg_catalog *cat, int64_t id, struct sg_session *out)
{
    return one_by_id(cat, Q_SESSION_GET, id, read_session, out, "session get");
}

static int id_time(struct sg_catalog *cat, int qid, int64_t id, int64_t t, const char *what)
{
    sqlite3_stmt *s = q(cat, qid);
    int r;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, t);
    if ((r = catalog__run(cat, s, what)) < 0)
        return r;
    return sqlite3_changes(sqlite3_db_handle(s));
}

int sg_catalog_session_touch(struct sg_catalog *cat, int64_t id, int64_t now_us)
{
    int r = id_time(cat, Q_SESSION_TOUCH, id, now_us, "session touch");

    return r < 0 ? r : 0;
}

int sg_catalog_session_revoke(struct sg_catalog *cat, int64_t id, int64_t now_us)
{
    int r = id_time(cat, Q_SESSION_REVOKE, id, now_us, "session revoke");

    return r < 0 ? r : r ? 0 : SG_E_NOTFOUND;
}

int sg_catalog_session_revoke_user(struct sg_catalog *cat, int64_t user_id, int64_t now_us)
{
    return id_time(cat, Q_SESSION_REVOKE_USER, user_id, now_us, "session revoke");
}

int sg_catalog_session_purge(struct sg_catalog *cat, int64_t before_us)
{
    sqlite3_stmt *s = q(cat, Q_SESSION_PURGE);
    int r;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, before_us);
    if ((r = catalog__run(cat, s, "session purge")) < 0)
        return r;
    return sqlite3_changes(sqlite3_db_handle(s));
}

/* ---- API tokens ---- */

static void read_token(sqlite3_stmt *s, void *p)
{
    struct sg_token *t = p;

    memset(t, 0, sizeof(*t));
    t->id = sqlite3_column_int64(s, 0);
    t->user_id = sqlite3_column_int64(s, 1);
    catalog__copy_text(t->name, sizeof(t->name), s, 2);
    catalog__copy_blob(t->token_hash, sizeof(t->token_hash), s, 3);
    t->perms = (unsigned)sqlite3_column_int64(s, 4);
    t->created_us = sqlite3_column_int64(s, 5);
    t->expires_us = sqlite3_column_int64(s, 6);
    t->last_used_us = sqlite3_column_int64(s, 7);
    t->revoked_us = sqlite3_column_int64(s, 8);
}

int sg_catalog_token_add(struct sg_catalog *cat, struct sg_token *t)
{
    sqlite3_stmt *s = q(cat, Q_TOKEN_ADD);
    int r;

    if (!s)
        return SG_E_CATALOG;
    if (!t->created_us)
        t->created_us = sg_utc_us();
    sqlite3_bind_int64(s, 1, t->user_id);
    sqlite3_bind_text(s, 2, t->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 3, t->token_hash, sizeof(t->token_hash), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, t->perms);
    sqlite3_bind_int64(s, 5, t->created_us);
    sqlite3_bind_int64(s, 6, t->expires_us);
    if ((r = catalog__run(cat, s, "token add")) < 0)
        return r;
    t->id = sqlite3_last_insert_rowid(sqlite3_db_handle(s));
    return 0;
}

int sg_catalog_token_find(struct sg_catalog *cat, const unsigned char hash[SG_HASH_BYTES],
                          struct sg_token *out)
{
    return one_by_hash(cat, Q_TOKEN_FIND, hash, read_token, out, "token find");
}

int sg_catalog_token_get(struct sg_catalog *cat, int64_t id, struct sg_token *out)
{
    return one_by_id(cat, Q_TOKEN_GET, id, read_token, out, "token get");
}

int sg_catalog_token_list(struct sg_catalog *cat, int64_t user_id, struct sg_token **out)
{
    sqlite3_stmt *s = q(cat, Q_TOKEN_LIST);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, user_id);
    return catalog__collect(cat, s, sizeof(**out), read_token, (void **)out);
}

int sg_catalog_token_revoke(struct sg_catalog *cat, int64_t id, int64_t now_us)
{
    int r = id_time(cat, Q_TOKEN_REVOKE, id, now_us, "token revoke");

    return r < 0 ? r : r ? 0 : SG_E_NOTFOUND;
}

int sg_catalog_token_touch(struct sg_catalog *cat, int64_t id, int64_t now_us)
{
    int r = id_time(cat, Q_TOKEN_TOUCH, id, now_us, "token touch");

    return r < 0 ? r : 0;
}
