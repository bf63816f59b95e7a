/* SQLite backend of the catalog. Prepared statements only, parameters always bound. */
#include "catalog/catalog.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "catalog/catalog_int.h"

/* Numbered migrations, applied in order at open; PRAGMA user_version records how far. */
static const char *const migrations[] = {
    /* 1: the recorder core */
    "CREATE TABLE cameras ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  main_url TEXT NOT NULL,"
    "  sub_url TEXT NOT NULL DEFAULT '',"
    "  retain_hours INTEGER NOT NULL CHECK (retain_hours > 0),"
    "  transport INTEGER NOT NULL DEFAULT 0,"
    "  record_sub INTEGER NOT NULL DEFAULT 0,"
    "  enabled INTEGER NOT NULL DEFAULT 1,"
    "  removed INTEGER NOT NULL DEFAULT 0,"
    "  created_us INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL);"
    "CREATE TABLE stream_state ("
    "  camera_id INTEGER NOT NULL,"
    "  stream INTEGER NOT NULL,"
    "  state TEXT NOT NULL,"
    "  since_us INTEGER NOT NULL,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  codec TEXT NOT NULL DEFAULT '',"
    "  width INTEGER NOT NULL DEFAULT 0,"
    "  height INTEGER NOT NULL DEFAULT 0,"
    "  updated_us INTEGER NOT NULL,"
    "  PRIMARY KEY (camera_id, stream));"
    "CREATE TABLE segments ("
    "  id INTEGER PRIMARY KEY,"
    "  camera_id INTEGER NOT NULL,"
    "  stream INTEGER NOT NULL,"
    "  start_us INTEGER NOT NULL,"
    "  end_us INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  root TEXT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  codec TEXT NOT NULL,"
    "  width INTEGER NOT NULL,"
    "  height INTEGER NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  UNIQUE (root, path));"
    "CREATE INDEX segments_by_camera ON segments (camera_id, stream, start_us);"
    "CREATE INDEX segments_by_start ON segments (start_us);"
    "CREATE INDEX segments_by_status ON segments (status) WHERE status <> 1;"
    "CREATE TABLE video_loss ("
    "  id INTEGER PRIMARY KEY,"
    "  camera_id INTEGER NOT NULL,"
    "  stream INTEGER NOT NULL,"
    "  start_us INTEGER NOT NULL,"
    "  end_us INTEGER,"
    "  reason TEXT NOT NULL);"
    "CREATE INDEX video_loss_by_camera ON video_loss (camera_id, start_us);"
    "CREATE TABLE evidence_locks ("
    "  id INTEGER PRIMARY KEY,"
    "  camera_id INTEGER NOT NULL DEFAULT 0,"
    "  start_us INTEGER NOT NULL,"
    "  end_us INTEGER NOT NULL CHECK (end_us > start_us),"
    "  reason TEXT NOT NULL CHECK (length(reason) > 0),"
    "  created_by TEXT NOT NULL DEFAULT '',"
    "  created_us INTEGER NOT NULL);",
    /* 2: sites, accounts, sessions, API tokens and the audit trail. Camera names become
     * unique per site (a table rebuild: SQLite cannot drop a column constraint). */
    "CREATE TABLE sites ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  public_key BLOB,"          /* Ed25519; the secret key is a file in key_dir */
    "  created_us INTEGER NOT NULL);"
    "INSERT INTO sites (id, name, created_us)"
    "  VALUES (1, 'default', CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));"
    "CREATE TABLE cameras_v2 ("
    "  id INTEGER PRIMARY KEY,"
    "  site_id INTEGER NOT NULL DEFAULT 1 REFERENCES sites (id),"
    "  name TEXT NOT NULL,"
    "  main_url TEXT NOT NULL,"
    "  sub_url TEXT NOT NULL DEFAULT '',"
    "  retain_hours INTEGER NOT NULL CHECK (retain_hours > 0),"
    "  transport INTEGER NOT NULL DEFAULT 0,"
    "  record_sub INTEGER NOT NULL DEFAULT 0,"
    "  enabled INTEGER NOT NULL DEFAULT 1,"
    "  removed INTEGER NOT NULL DEFAULT 0,"
    "  created_us INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL,"
    "  UNIQUE (site_id, name));"
    "INSERT INTO cameras_v2 (id, site_id, name, main_url, sub_url, retain_hours, transport,"
    "  record_sub, enabled, removed, created_us, updated_us)"
    "  SELECT id, 1, name, main_url, sub_url, retain_hours, transport, record_sub, enabled,"
    "  removed, created_us, updated_us FROM cameras;"
    "DROP TABLE cameras;"
    "ALTER TABLE cameras_v2 RENAME TO cameras;"
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  site_id INTEGER NOT NULL REFERENCES sites (id),"
    "  name TEXT NOT NULL UNIQUE,"
    "  role INTEGER NOT NULL CHECK (role BETWEEN 1 AND 5),"
    "  all_cameras INTEGER NOT NULL DEFAULT 1,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  pw_hash TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL);"
    "CREATE TABLE grants ("
    "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  camera_id INTEGER NOT NULL REFERENCES cameras (id),"
    "  allow INTEGER NOT NULL CHECK (allow IN (0, 1)),"
    "  PRIMARY KEY (user_id, camera_id));"
    "CREATE TABLE sessions ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  token_hash BLOB NOT NULL UNIQUE,"
    "  csrf TEXT NOT NULL,"
    "  source TEXT NOT NULL DEFAULT '',"
    "  created_us INTEGER NOT NULL,"
    "  expires_us INTEGER NOT NULL,"
    "  last_seen_us INTEGER NOT NULL,"
    "  revoked_us INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX sessions_by_user ON sessions (user_id);"
    "CREATE TABLE api_tokens ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  token_hash BLOB NOT NULL UNIQUE,"
    "  perms INTEGER NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  expires_us INTEGER NOT NULL DEFAULT 0,"
    "  last_used_us INTEGER NOT NULL DEFAULT 0,"
    "  revoked_us INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE audit ("
    "  seq INTEGER PRIMARY KEY,"
    "  ts_us INTEGER NOT NULL,"
    "  site_id INTEGER NOT NULL,"
    "  user_id INTEGER NOT NULL DEFAULT 0,"
    "  user_name TEXT NOT NULL DEFAULT '',"
    "  source TEXT NOT NULL DEFAULT '',"
    "  action TEXT NOT NULL,"
    "  outcome TEXT NOT NULL,"
    "  camera_id INTEGER NOT NULL DEFAULT 0,"
    "  object TEXT NOT NULL DEFAULT '',"
    "  detail TEXT NOT NULL DEFAULT '',"
    "  prev_hash BLOB NOT NULL,"
    "  hash BLOB NOT NULL);"
    "CREATE INDEX audit_by_site ON audit (site_id, ts_us);"
    "CREATE TABLE audit_signatures ("
    "  id INTEGER PRIMARY KEY,"
    "  seq INTEGER NOT NULL,"
    "  site_id INTEGER NOT NULL,"
    "  ts_us INTEGER NOT NULL,"
    "  hash BLOB NOT NULL,"
    "  signature BLOB NOT NULL);"
    /* Append-only: the catalog refuses to change or delete what was written. Someone with
     * the database file can still drop these triggers; the hash chain and the signatures are
     * what make that visible (sargas audit verify). */
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    "CREATE TRIGGER audit_sig_no_update BEFORE UPDATE ON audit_signatures"
    "  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    "CREATE TRIGGER audit_sig_no_delete BEFORE DELETE ON audit_signatures"
    "  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;",
    /* 3: motion analysis: zones and masks per camera, events, the per-second activity index */
    "CREATE TABLE camera_zones ("
    "  camera_id INTEGER PRIMARY KEY REFERENCES cameras (id),"
    "  zones TEXT NOT NULL,"          /* JSON array, as the API shows it */
    "  updated_us INTEGER NOT NULL);"
    "CREATE TABLE motion_events ("
    "  id INTEGER PRIMARY KEY,"
    "  camera_id INTEGER NOT NULL,"
    "  stream INTEGER NOT NULL,"
    "  start_us INTEGER NOT NULL,"
    "  end_us INTEGER NOT NULL DEFAULT 0,"  /* 0 while it goes on */
    "  peak_us INTEGER NOT NULL,"
    "  peak_score REAL NOT NULL,"
    "  zones TEXT NOT NULL DEFAULT '[]'," /* JSON array of zone names */
    "  thumb BLOB);"                       /* JPEG of the peak picture */
    "CREATE INDEX motion_events_by_camera ON motion_events (camera_id, start_us);"
    "CREATE INDEX motion_events_by_start ON motion_events (start_us);"
    "CREATE TABLE activity ("
    "  camera_id INTEGER NOT NULL,"
    "  minute_us INTEGER NOT NULL,"        /* UTC start of the minute */
    "  levels BLOB NOT NULL,"              /* 60 bytes: the highest level (0..255) of each second */
    "  zones BLOB NOT NULL,"               /* 60 x 4 bytes little-endian: zone bits of each second */
    "  PRIMARY KEY (camera_id, minute_us)) WITHOUT ROWID;",
    /* 4: evidence: cases and their items (each item of an open case holds an evidence lock),
     * export jobs and what each exported. */
    "CREATE TABLE cases ("
    "  id INTEGER PRIMARY KEY,"
    "  site_id INTEGER NOT NULL REFERENCES sites (id),"
    "  reference TEXT NOT NULL CHECK (length(reference) BETWEEN 1 AND 64),"
    "  title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),"
    "  reason TEXT NOT NULL CHECK (length(reason) > 0),"
    "  owner_id INTEGER NOT NULL,"
    "  state INTEGER NOT NULL DEFAULT 0,"     /* 0 open, 1 closed */
    "  created_us INTEGER NOT NULL,"
    "  closed_us INTEGER NOT NULL DEFAULT 0,"
    "  close_reason TEXT NOT NULL DEFAULT '',"
    "  UNIQUE (site_id, reference));"
    "CREATE TABLE case_items ("
    "  id INTEGER PRIMARY KEY,"
    "  case_id INTEGER NOT NULL REFERENCES cases (id),"
    "  camera_id INTEGER NOT NULL,"
    "  start_us INTEGER NOT NULL,"
    "  end_us INTEGER NOT NULL CHECK (end_us > start_us),"
    "  note TEXT NOT NULL DEFAULT '',"
    "  event_id INTEGER NOT NULL DEFAULT 0,"
    "  added_by INTEGER NOT NULL,"
    "  added_us INTEGER NOT NULL,"
    "  released_us INTEGER NOT NULL DEFAULT 0,"  /* 0 while locked */
    "  released_by INTEGER NOT NULL DEFAULT 0,"
    "  release_reason TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX case_items_by_case ON case_items (case_id);"
    "ALTER TABLE evidence_locks ADD COLUMN item_id INTEGER NOT NULL DEFAULT 0;" /* 0: a CLI lock */
    "CREATE TABLE exports ("
    "  id INTEGER PRIMARY KEY,"
    "  site_id INTEGER NOT NULL,"
    "  case_id INTEGER NOT NULL DEFAULT 0,"
    "  user_id INTEGER NOT NULL,"
    "  user_name TEXT NOT NULL,"
    "  reason TEXT NOT NULL CHECK (length(reason) > 0),"
    "  format TEXT NOT NULL,"
    "  state INTEGER NOT NULL DEFAULT 0,"     /* enum sg_export_state */
    "  progress REAL NOT NULL DEFAULT 0,"
    "  created_us INTEGER NOT NULL,"
    "  finished_us INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT NOT NULL DEFAULT '',"
    "  file TEXT NOT NULL DEFAULT '',"        /* the package's name in the export directory */
    "  bytes INTEGER NOT NULL DEFAULT 0,"
    "  sha256 TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE export_items ("
    "  export_id INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  camera_id INTEGER NOT NULL,"
    "  start_us INTEGER NOT NULL,"
    "  end_us INTEGER NOT NULL,"
    "  PRIMARY KEY (export_id, seq)) WITHOUT ROWID;",
};
#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum stmt_id {
    S_CAM_ADD, S_CAM_UPDATE, S_CAM_REMOVE, S_CAM_GET, S_CAM_FIND, S_CAM_LIST,
    S_STATE_SET, S_STATE_LIST,
    S_SEG_INSERT, S_SEG_UPDATE, S_SEG_DELETE, S_SEG_BY_PATH, S_SEG_GET, S_SEG_LIST, S_SEG_PAGE, S_SEG_LAST_END,
    S_SEG_DELETABLE_AGE, S_SEG_DELETABLE_ROOT, S_SEG_DELETABLE_ANY, S_ROOT_BYTES, S_IS_LOCKED,
    S_LOSS_OPEN, S_LOSS_CLOSE, S_LOSS_CLOSE_ALL, S_LOSS_LIST,
    S_LOCK_ADD, S_LOCK_REMOVE, S_LOCK_LIST,
    S_BEGIN, S_COMMIT, S_ROLLBACK,
    S_COUNT
};

#define CAM_COLS "id, name, main_url, sub_url, retain_hours, transport, record_sub, enabled, created_us, updated_us, site_id"
#define SEG_COLS "s.id, s.camera_id, s.stream, s.start_us, s.end_us, s.bytes, s.root, s.path, s.codec, s.width, s.height, s.status"
#define NOT_LOCKED \
    " NOT EXISTS (SELECT 1 FROM evidence_locks l WHERE (l.camera_id = 0 OR l.camera_id = s.camera_id)" \
    " AND l.start_us < s.end_us AND l.end_us > s.start_us)"

static const char *const stmt_sql[S_COUNT] = {
    [S_CAM_ADD] = "INSERT INTO cameras (name, main_url, sub_url, retain_hours, transport, record_sub,"
                  " enabled, created_us, updated_us, site_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
    [S_CAM_UPDATE] = "UPDATE cameras SET name=?, main_url=?, sub_url=?, retain_hours=?, transport=?,"
                     " record_sub=?, enabled=?, updated_us=? WHERE id=? AND removed=0",
    [S_CAM_REMOVE] = "UPDATE cameras SET removed=1, enabled=0, name=name||' (removed '||id||')',"
                     " updated_us=? WHERE id=? AND removed=0",
    [S_CAM_GET] = "SELECT " CAM_COLS " FROM cameras WHERE id=? AND removed=0",
    [S_CAM_FIND] = "SELECT " CAM_COLS " FROM cameras WHERE name=?1 AND (?2 = 0 OR site_id = ?2)"
                   " AND removed=0 ORDER BY id LIMIT 1",
    [S_CAM_LIST] = "SELECT " CAM_COLS " FROM cameras WHERE removed=0 ORDER BY id",
    [S_STATE_SET] = "INSERT INTO stream_state (camera_id, stream, state, since_us, last_error, codec,"
                    " width, height, updated_us) VALUES (?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (camera_id, stream) DO UPDATE SET state=excluded.state,"
                    " since_us=excluded.since_us, last_error=excluded.last_error,"
                    " codec=excluded.codec, width=excluded.width, height=excluded.height,"
                    " updated_us=excluded.updated_us",
    [S_STATE_LIST] = "SELECT camera_id, stream, state, since_us, last_error, codec, width, height,"
                     " updated_us FROM stream_state ORDER BY camera_id, stream",
    [S_SEG_INSERT] = "INSERT INTO segments (camera_id, stream, start_us, end_us, bytes, root, path,"
                     " codec, width, height, status) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
    [S_SEG_UPDATE] = "UPDATE segments SET end_us=?, bytes=?, status=? WHERE id=?",
    [S_SEG_DELETE] = "DELETE FROM segments WHERE id=?",
    [S_SEG_BY_PATH] = "SELECT " SEG_COLS " FROM segments s WHERE s.root=? AND s.path=?",
    [S_SEG_GET] = "SELECT " SEG_COLS " FROM segments s WHERE s.id=?",
    [S_SEG_LIST] = "SELECT " SEG_COLS " FROM segments s WHERE (?1 = 0 OR s.camera_id = ?1)"
                   " AND (?2 < 0 OR s.stream = ?2) AND (?3 < 0 OR s.status = ?3)"
                   " AND s.end_us >= ?4 AND (?5 = 0 OR s.start_us < ?5) ORDER BY s.start_us, s.id",
    [S_SEG_PAGE] = "SELECT " SEG_COLS " FROM segments s WHERE s.id > ? ORDER BY s.id LIMIT ?",
    [S_SEG_LAST_END] = "SELECT max(end_us) FROM segments WHERE camera_id=? AND stream=? AND status IN (0,1)",
    [S_SEG_DELETABLE_AGE] = "SELECT " SEG_COLS " FROM segments s JOIN cameras c ON c.id = s.camera_id"
                            " WHERE s.status IN (1,3) AND s.end_us < ?1 - c.retain_hours * 3600000000"
                            " AND" NOT_LOCKED " ORDER BY s.start_us LIMIT ?2",
    [S_SEG_DELETABLE_ROOT] = "SELECT " SEG_COLS " FROM segments s WHERE s.root = ?1 AND s.status IN (1,3)"
                             " AND" NOT_LOCKED " ORDER BY s.start_us LIMIT ?2",
    [S_SEG_DELETABLE_ANY] = "SELECT " SEG_COLS " FROM segments s WHERE s.status IN (1,3)"
                            " AND" NOT_LOCKED " ORDER BY s.start_us LIMIT ?2",
    [S_ROOT_BYTES] = "SELECT coalesce(sum(bytes), 0) FROM segments WHERE root=? AND status <> 3",
    [S_IS_LOCKED] = "SELECT EXISTS (SELECT 1 FROM evidence_locks l WHERE (l.camera_id = 0 OR"
                    " l.camera_id = ?1) AND l.start_us < ?3 AND l.end_us > ?2)",
    [S_LOSS_OPEN] = "INSERT INTO video_loss (camera_id, stream, start_us, end_us, reason) VALUES (?,?,?,?,?)",
    [S_LOSS_CLOSE] = "UPDATE video_loss SET end_us=? WHERE id=? AND end_us IS NULL",
    [S_LOSS_CLOSE_ALL] = "UPDATE video_loss SET end_us=max(start_us, ?) WHERE end_us IS NULL",
    [S_LOSS_LIST] = "SELECT id, camera_id, stream, start_us, coalesce(end_us, 0), reason FROM video_loss"
                    " WHERE (?1 = 0 OR camera_id = ?1) AND (end_us IS NULL OR end_us >= ?2)"
                    " AND (?3 = 0 OR start_us < ?3) ORDER BY start_us, id",
    [S_LOCK_ADD] = "INSERT INTO evidence_locks (camera_id, start_us, end_us, reason, created_by,"
                   " created_us) VALUES (?,?,?,?,?,?)",
    /* a case item's lock goes only with a release through its case (catalog_cases.c) */
    [S_LOCK_REMOVE] = "DELETE FROM evidence_locks WHERE id=? AND item_id = 0",
    [S_LOCK_LIST] = "SELECT id, camera_id, start_us, end_us, reason, created_by, created_us, item_id"
                    " FROM evidence_locks ORDER BY id",
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
};

_Static_assert(S_COUNT <= 64, "catalog.c's statements must fit struct sg_catalog's stmt[]");

static int db_error(struct sg_catalog *cat, const char *what)
{
    int code = sqlite3_extended_errcode(cat->db);

    /* A unique-constraint hit is the caller's input (a taken name), not a catalog fault. */
    if ((code & 0xff) == SQLITE_CONSTRAINT)
        sg_debug("catalog", 0, "%s: %s (%d)", what, sqlite3_errmsg(cat->db), code);
    else
        sg_error("catalog", 0, "%s: %s (%d)", what, sqlite3_errmsg(cat->db), code);
    switch (code & 0xff) {
    case SQLITE_CONSTRAINT: return SG_E_EXISTS;
    case SQLITE_FULL:       return -ENOSPC;
    case SQLITE_BUSY:       return -EBUSY;
    case SQLITE_NOMEM:      return -ENOMEM;
    case SQLITE_READONLY:   return -EROFS;
    default:                return SG_E_CATALOG;
    }
}

static sqlite3_stmt *stmt(struct sg_catalog *cat, enum stmt_id id)
{
    sqlite3_stmt *s = cat->stmt[id];

    if (!s) {
        if (sqlite3_prepare_v3(cat->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL)) {
            db_error(cat, "prepare");
            return NULL;
        }
        cat->stmt[id] = s;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

/* Runs a statement that returns no rows. */
static int run(struct sg_catalog *cat, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return db_error(cat, what);
    return 0;
}

static void copy_text(char *dst, size_t n, sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    size_t len;

    if (!t) {
        dst[0] = 0;
        return;
    }
    len = strlen((const char *)t);
    if (len >= n)
        len = n - 1;
    memcpy(dst, t, len);
    dst[len] = 0;
}

static int exec_sql(struct sg_catalog *cat, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(cat->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        sg_error("catalog", 0, "%s", msg ? msg : "exec failed");
        sqlite3_free(msg);
        return SG_E_CATALOG;
    }
    return 0;
}

static int user_version(struct sg_catalog *cat)
{
    sqlite3_stmt *s;
    int v = -1;

    if (sqlite3_prepare_v2(cat->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
        return db_error(cat, "user_version");
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

static int migrate(struct sg_catalog *cat)
{
    int v = user_version(cat);

    if (v < 0)
        return SG_E_CATALOG;
    if (v > N_MIGRATIONS) {
        sg_error("catalog", 0, "catalog schema %d is newer than this program (%d)", v, N_MIGRATIONS);
        return SG_E_CATALOG;
    }
    while (v < N_MIGRATIONS) {
        char pragma[64];
        int r;

        /* Read the version again under the write lock: another process (sargas and sargasd
         * starting together) may have migrated in the meantime. */
        if ((r = exec_sql(cat, "BEGIN IMMEDIATE")) < 0)
            return r;
        if ((v = user_version(cat)) < 0 || v >= N_MIGRATIONS) {
            exec_sql(cat, "COMMIT");
            return v < 0 ? SG_E_CATALOG : 0;
        }
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if ((r = exec_sql(cat, migrations[v])) < 0 || (r = exec_sql(cat, pragma)) < 0) {
            exec_sql(cat, "ROLLBACK");
            return r;
        }
        if ((r = exec_sql(cat, "COMMIT")) < 0)
            return r;
        v++;
        sg_info("catalog", 0, "schema migrated to version %d", v);
    }
    return 0;
}

int sg_catalog_open(const char *path, int readonly, struct sg_catalog **out)
{
    struct sg_catalog *cat;
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int r;

    *out = NULL;
    cat = calloc(1, sizeof(*cat));
    if (!cat)
        return -ENOMEM;
    if (!readonly && (r = sg_mkdir_parent(path)) < 0) {
        sg_error("catalog", 0, "cannot create the directory of %s: %s", path, sg_strerror(r));
        goto fail;
    }
    if (sqlite3_open_v2(path, &cat->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        r = cat->db ? db_error(cat, path) : -ENOMEM;
        goto fail;
    }
    sqlite3_extended_result_codes(cat->db, 1);
    sqlite3_busy_timeout(cat->db, 10000);
    if ((!readonly && (r = exec_sql(cat, "PRAGMA journal_mode=WAL")) < 0) ||
        (r = exec_sql(cat, "PRAGMA synchronous=NORMAL")) < 0 ||
        (r = exec_sql(cat, "PRAGMA foreign_keys=ON")) < 0)
        goto fail;
    if (readonly) {
        if (user_version(cat) != N_MIGRATIONS) {
            sg_error("catalog", 0, "%s: schema version %d, expected %d (start sargasd once)", path,
                     user_version(cat), N_MIGRATIONS);
            r = SG_E_CATALOG;
            goto fail;
        }
    } else if ((r = migrate(cat)) < 0) {
        goto fail;
    }
    sg_catalog_changed(cat);
    *out = cat;
    return 0;
fail:
    sg_catalog_close(&cat);
    return r;
}

void sg_catalog_close(struct sg_catalog **catp)
{
    struct sg_catalog *cat = *catp;

    if (!cat)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(cat->stmt[i]);
    for (int i = 0; i < CATALOG__N_EXTRA; i++)
        sqlite3_finalize(cat->extra[i]);
    sqlite3_close(cat->db);
    free(cat);
    *catp = NULL;
}

int sg_catalog_schema_version(struct sg_catalog *cat) { return user_version(cat); }

static int simple(struct sg_catalog *cat, enum stmt_id id, const char *what)
{
    sqlite3_stmt *s = stmt(cat, id);

    return s ? run(cat, s, what) : SG_E_CATALOG;
}

int sg_catalog_begin(struct sg_catalog *cat) { return simple(cat, S_BEGIN, "begin"); }
int sg_catalog_commit(struct sg_catalog *cat) { return simple(cat, S_COMMIT, "commit"); }
int sg_catalog_rollback(struct sg_catalog *cat) { return simple(cat, S_ROLLBACK, "rollback"); }

int sg_catalog_changed(struct sg_catalog *cat)
{
    sqlite3_stmt *s;
    int64_t v = 0;
    int changed;

    if (sqlite3_prepare_v2(cat->db, "PRAGMA data_version", -1, &s, NULL) != SQLITE_OK)
        return db_error(cat, "data_version");
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    changed = v != cat->data_version;
    cat->data_version = v;
    return changed;
}

/* ---- cameras ---- */

static void bind_camera(sqlite3_stmt *s, const struct sg_camera *c)
{
    sqlite3_bind_text(s, 1, c->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, c->main_url, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, c->sub_url, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 4, c->retain_hours);
    sqlite3_bind_int(s, 5, c->transport);
    sqlite3_bind_int(s, 6, c->record_sub);
    sqlite3_bind_int(s, 7, c->enabled);
}

static void read_camera(sqlite3_stmt *s, struct sg_camera *c)
{
    memset(c, 0, sizeof(*c));
    c->id = sqlite3_column_int64(s, 0);
    copy_text(c->name, sizeof(c->name), s, 1);
    copy_text(c->main_url, sizeof(c->main_url), s, 2);
    copy_text(c->sub_url, sizeof(c->sub_url), s, 3);
    c->retain_hours = sqlite3_column_int(s, 4);
    c->transport = sqlite3_column_int(s, 5);
    c->record_sub = sqlite3_column_int(s, 6);
    c->enabled = sqlite3_column_int(s, 7);
    c->created_us = sqlite3_column_int64(s, 8);
    c->updated_us = sqlite3_column_int64(s, 9);
    c->site_id = sqlite3_column_int64(s, 10);
}

int sg_catalog_camera_add(struct sg_catalog *cat, struct sg_camera *cam)
{
    sqlite3_stmt *s = stmt(cat, S_CAM_ADD);
    int64_t now = sg_utc_us();
    int r;

    if (!s)
        return SG_E_CATALOG;
    bind_camera(s, cam);
    sqlite3_bind_int64(s, 8, now);
    sqlite3_bind_int64(s, 9, now);
    sqlite3_bind_int64(s, 10, cam->site_id > 0 ? cam->site_id : 1);
    if ((r = run(cat, s, "camera add")) < 0)
        return r;
    cam->id = sqlite3_last_insert_rowid(cat->db);
    cam->created_us = cam->updated_us = now;
    return 0;
}

int sg_catalog_camera_update(struct sg_catalog *cat, const struct sg_camera *cam)
{
    sqlite3_stmt *s = stmt(cat, S_CAM_UPDATE);
    int r;

    if (!s)
        return SG_E_CATALOG;
    bind_camera(s, cam);
    sqlite3_bind_int64(s, 8, sg_utc_us());
    sqlite3_bind_int64(s, 9, cam->id);
    if ((r = run(cat, s, "camera update")) < 0)
        return r;
    return sqlite3_changes(cat->db) ? 0 : SG_E_NOTFOUND;
}

int sg_catalog_camera_remove(struct sg_catalog *cat, int64_t id)
{
    sqlite3_stmt *s = stmt(cat, S_CAM_REMOVE);
    int r;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, sg_utc_us());
    sqlite3_bind_int64(s, 2, id);
    if ((r = run(cat, s, "camera remove")) < 0)
        return r;
    return sqlite3_changes(cat->db) ? 0 : SG_E_NOTFOUND;
}

static int camera_one(struct sg_catalog *cat, sqlite3_stmt *s, struct sg_camera *out)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW) {
        read_camera(s, out);
        sqlite3_reset(s);
        return 0;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SG_E_NOTFOUND : db_error(cat, "camera get");
}

int sg_catalog_camera_get(struct sg_catalog *cat, int64_t id, struct sg_camera *out)
{
    sqlite3_stmt *s = stmt(cat, S_CAM_GET);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, id);
    return camera_one(cat, s, out);
}

int sg_catalog_camera_find(struct sg_catalog *cat, int64_t site_id, const char *name,
                           struct sg_camera *out)
{
    sqlite3_stmt *s = stmt(cat, S_CAM_FIND);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, site_id);
    return camera_one(cat, s, out);
}

/* Collects all rows of `s` into a growing array of `size`-byte elements filled by `read`. */
static int collect(struct sg_catalog *cat, sqlite3_stmt *s, size_t size,
                   void (*read)(sqlite3_stmt *, void *), void **out)
{
    char *arr = NULL;
    int n = 0, cap = 0, rc;

    *out = NULL;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            int ncap = cap ? cap * 2 : 16;
            char *na = realloc(arr, (size_t)ncap * size);
            if (!na) {
                free(arr);
                sqlite3_reset(s);
                return -ENOMEM;
            }
            arr = na;
            cap = ncap;
        }
        read(s, arr + (size_t)n * size);
        n++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        free(arr);
        return db_error(cat, "query");
    }
    *out = arr;
    return n;
}

/* ---- helpers for the catalog's other files (catalog_int.h) ---- */

sqlite3_stmt *catalog__stmt(struct sg_catalog *cat, int slot, const char *sql)
{
    sqlite3_stmt *s;

    if (slot < 0 || slot >= CATALOG__N_EXTRA)
        return NULL;
    s = cat->extra[slot];
    if (!s) {
        if (sqlite3_prepare_v3(cat->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL)) {
            db_error(cat, "prepare");
            return NULL;
        }
        cat->extra[slot] = s;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

int catalog__run(struct sg_catalog *cat, sqlite3_stmt *s, const char *what) { return run(cat, s, what); }
int catalog__error(struct sg_catalog *cat, const char *what) { return db_error(cat, what); }
void catalog__copy_text(char *dst, size_t n, sqlite3_stmt *s, int col) { copy_text(dst, n, s, col); }

int catalog__copy_blob(void *dst, size_t n, sqlite3_stmt *s, int col)
{
    const void *b = sqlite3_column_blob(s, col);

    if (!b || (size_t)sqlite3_column_bytes(s, col) != n) {
        memset(dst, 0, n);
        return -1;
    }
    memcpy(dst, b, n);
    return 0;
}

int catalog__collect(struct sg_catalog *cat, sqlite3_stmt *s, size_t size,
                     void (*read)(sqlite3_stmt *, void *), void **out)
{
    return collect(cat, s, size, read, out);
}

int catalog__one(struct sg_catalog *cat, sqlite3_stmt *s, void (*read)(sqlite3_stmt *, void *),
                 void *out, const char *what)
{
    int rc;

    if (!s)
        return SG_E_CATALOG;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        read(s, out);
        sqlite3_reset(s);
        return 0;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SG_E_NOTFOUND : db_error(cat, what);
}

static void read_camera_v(sqlite3_stmt *s, void *p) { read_camera(s, p); }

int sg_catalog_camera_list(struct sg_catalog *cat, struct sg_camera **out)
{
    sqlite3_stmt *s = stmt(cat, S_CAM_LIST);

    if (!s)
        return SG_E_CATALOG;
    return collect(cat, s, sizeof(**out), read_camera_v, (void **)out);
}

/* ---- stream state ---- */

int sg_catalog_state_set(struct sg_catalog *cat, const struct sg_stream_state *st)
{
    sqlite3_stmt *s = stmt(cat, S_STATE_SET);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, st->camera_id);
    sqlite3_bind_int(s, 2, st->stream);
    sqlite3_bind_text(s, 3, st->state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, st->since_us);
    sqlite3_bind_text(s, 5, st->last_error, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 6, st->codec, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 7, st->width);
    sqlite3_bind_int(s, 8, st->height);
    sqlite3_bind_int64(s, 9, st->updated_us);
    return run(cat, s, "state set");
}

static void read_state(sqlite3_stmt *s, void *p)
{
    struct sg_stream_state *st = p;

    memset(st, 0, sizeof(*st));
    st->camera_id = sqlite3_column_int64(s, 0);
    st->stream = sqlite3_column_int(s, 1);
    copy_text(st->state, sizeof(st->state), s, 2);
    st->since_us = sqlite3_column_int64(s, 3);
    copy_text(st->last_error, sizeof(st->last_error), s, 4);
    copy_text(st->codec, sizeof(st->codec), s, 5);
    st->width = sqlite3_column_int(s, 6);
    st->height = sqlite3_column_int(s, 7);
    st->updated_us = sqlite3_column_int64(s, 8);
}

int sg_catalog_state_list(struct sg_catalog *cat, struct sg_stream_state **out)
{
    sqlite3_stmt *s = stmt(cat, S_STATE_LIST);

    if (!s)
        return SG_E_CATALOG;
    return collect(cat, s, sizeof(**out), read_state, (void **)out);
}

/* ---- segments ---- */

int sg_catalog_segment_insert(struct sg_catalog *cat, struct sg_segment *seg)
{
    sqlite3_stmt *s = stmt(cat, S_SEG_INSERT);
    int r;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, seg->camera_id);
    sqlite3_bind_int(s, 2, seg->stream);
    sqlite3_bind_int64(s, 3, seg->start_us);
    sqlite3_bind_int64(s, 4, seg->end_us);
    sqlite3_bind_int64(s, 5, seg->bytes);
    sqlite3_bind_text(s, 6, seg->root, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 7, seg->path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 8, seg->codec, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 9, seg->width);
    sqlite3_bind_int(s, 10, seg->height);
    sqlite3_bind_int(s, 11, seg->status);
    if ((r = run(cat, s, "segment insert")) < 0)
        return r;
    seg->id = sqlite3_last_insert_rowid(cat->db);
    return 0;
}

int sg_catalog_segment_update(struct sg_catalog *cat, int64_t id, int64_t end_us, int64_t bytes,
                              int status)
{
    sqlite3_stmt *s = stmt(cat, S_SEG_UPDATE);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, end_us);
    sqlite3_bind_int64(s, 2, bytes);
    sqlite3_bind_int(s, 3, status);
    sqlite3_bind_int64(s, 4, id);
    return run(cat, s, "segment update");
}

int sg_catalog_segment_delete(struct sg_catalog *cat, int64_t id)
{
    sqlite3_stmt *s = stmt(cat, S_SEG_DELETE);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, id);
    return run(cat, s, "segment delete");
}

static void read_segment(sqlite3_stmt *s, void *p)
{
    struct sg_segment *g = p;

    memset(g, 0, sizeof(*g));
    g->id = sqlite3_column_int64(s, 0);
    g->camera_id = sqlite3_column_int64(s, 1);
    g->stream = sqlite3_column_int(s, 2);
    g->start_us = sqlite3_column_int64(s, 3);
    g->end_us = sqlite3_column_int64(s, 4);
    g->bytes = sqlite3_column_int64(s, 5);
    copy_text(g->root, sizeof(g->root), s, 6);
    copy_text(g->path, sizeof(g->path), s, 7);
    copy_text(g->codec, sizeof(g->codec), s, 8);
    g->width = sqlite3_column_int(s, 9);
    g->height = sqlite3_column_int(s, 10);
    g->status = sqlite3_column_int(s, 11);
}

/* Steps a statement expected to return at most one segment row. */
static int one_segment(struct sg_catalog *cat, sqlite3_stmt *s, struct sg_segment *out,
                       const char *what)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW)
        read_segment(s, out);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? SG_E_NOTFOUND : db_error(cat, what);
}

int sg_catalog_segment_by_path(struct sg_catalog *cat, const char *root, const char *path,
                               struct sg_segment *out)
{
    sqlite3_stmt *s = stmt(cat, S_SEG_BY_PATH);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_text(s, 1, root, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, path, -1, SQLITE_TRANSIENT);
    return one_segment(cat, s, out, "segment by path");
}

int sg_catalog_segment_get(struct sg_catalog *cat, int64_t id, struct sg_segment *out)
{
    sqlite3_stmt *s = stmt(cat, S_SEG_GET);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, id);
    return one_segment(cat, s, out, "segment by id");
}

int sg_catalog_segment_list(struct sg_catalog *cat, int64_t camera_id, int stream, int status,
                            int64_t from_us, int64_t to_us, struct sg_segment **out)
{
    sqlite3_stmt *s = stmt(cat, S_SEG_LIST);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, camera_id);
    sqlite3_bind_int(s, 2, stream);
    sqlite3_bind_int(s, 3, status);
    sqlite3_bind_int64(s, 4, from_us);
    sqlite3_bind_int64(s, 5, to_us);
    return collect(cat, s, sizeof(**out), read_segment, (void **)out);
}

int sg_catalog_segment_page(struct sg_catalog *cat, int64_t after_id, int limit,
                            struct sg_segment **out)
{
    sqlite3_stmt *s = stmt(cat, S_SEG_PAGE);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, after_id);
    sqlite3_bind_int(s, 2, limit);
    return collect(cat, s, sizeof(**out), read_segment, (void **)out);
}

static int scalar_i64(struct sg_catalog *cat, sqlite3_stmt *s, int64_t *v, const char *what)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : db_error(cat, what);
}

int sg_catalog_segment_last_end(struct sg_catalog *cat, int64_t camera_id, int stream,
                                int64_t *end_us)
{
    sqlite3_stmt *s = stmt(cat, S_SEG_LAST_END);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, camera_id);
    sqlite3_bind_int(s, 2, stream);
    *end_us = 0;
    return scalar_i64(cat, s, end_us, "segment last end");
}

int sg_catalog_deletable(struct sg_catalog *cat, const char *root, int per_camera_age,
                         int64_t now_us, int limit, struct sg_segment **out)
{
    sqlite3_stmt *s;

    if (per_camera_age) {
        s = stmt(cat, S_SEG_DELETABLE_AGE);
        if (s)
            sqlite3_bind_int64(s, 1, now_us);
    } else if (root) {
        s = stmt(cat, S_SEG_DELETABLE_ROOT);
        if (s)
            sqlite3_bind_text(s, 1, root, -1, SQLITE_TRANSIENT);
    } else {
        s = stmt(cat, S_SEG_DELETABLE_ANY);
    }
    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int(s, 2, limit);
    return collect(cat, s, sizeof(**out), read_segment, (void **)out);
}

int sg_catalog_root_bytes(struct sg_catalog *cat, const char *root, int64_t *bytes)
{
    sqlite3_stmt *s = stmt(cat, S_ROOT_BYTES);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_text(s, 1, root, -1, SQLITE_TRANSIENT);
    return scalar_i64(cat, s, bytes, "root bytes");
}

int sg_catalog_is_locked(struct sg_catalog *cat, int64_t camera_id, int64_t start_us,
                         int64_t end_us)
{
    sqlite3_stmt *s = stmt(cat, S_IS_LOCKED);
    int64_t v = 0;
    int r;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, camera_id);
    sqlite3_bind_int64(s, 2, start_us);
    sqlite3_bind_int64(s, 3, end_us);
    r = scalar_i64(cat, s, &v, "is locked");
    return r < 0 ? r : (int)(v != 0);
}

/* ---- video loss ---- */

int sg_catalog_loss_open(struct sg_catalog *cat, struct sg_loss *loss)
{
    sqlite3_stmt *s = stmt(cat, S_LOSS_OPEN);
    int r;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, loss->camera_id);
    sqlite3_bind_int(s, 2, loss->stream);
    sqlite3_bind_int64(s, 3, loss->start_us);
    if (loss->end_us)
        sqlite3_bind_int64(s, 4, loss->end_us);
    else
        sqlite3_bind_null(s, 4);
    sqlite3_bind_text(s, 5, loss->reason, -1, SQLITE_TRANSIENT);
    if ((r = run(cat, s, "loss open")) < 0)
        return r;
    loss->id = sqlite3_last_insert_rowid(cat->db);
    return 0;
}

int sg_catalog_loss_close(struct sg_catalog *cat, int64_t id, int64_t end_us)
{
    sqlite3_stmt *s = stmt(cat, S_LOSS_CLOSE);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, end_us);
    sqlite3_bind_int64(s, 2, id);
    return run(cat, s, "loss close");
}

int sg_catalog_loss_close_all(struct sg_catalog *cat, int64_t end_us)
{
    sqlite3_stmt *s = stmt(cat, S_LOSS_CLOSE_ALL);
    int r;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, end_us);
    if ((r = run(cat, s, "loss close all")) < 0)
        return r;
    return sqlite3_changes(cat->db);
}

static void read_loss(sqlite3_stmt *s, void *p)
{
    struct sg_loss *l = p;

    memset(l, 0, sizeof(*l));
    l->id = sqlite3_column_int64(s, 0);
    l->camera_id = sqlite3_column_int64(s, 1);
    l->stream = sqlite3_column_int(s, 2);
    l->start_us = sqlite3_column_int64(s, 3);
    l->end_us = sqlite3_column_int64(s, 4);
    copy_text(l->reason, sizeof(l->reason), s, 5);
}

int sg_catalog_loss_list(struct sg_catalog *cat, int64_t camera_id, int64_t from_us,
                         int64_t to_us, struct sg_loss **out)
{
    sqlite3_stmt *s = stmt(cat, S_LOSS_LIST);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, camera_id);
    sqlite3_bind_int64(s, 2, from_us);
    sqlite3_bind_int64(s, 3, to_us);
    return collect(cat, s, sizeof(**out), read_loss, (void **)out);
}

/* ---- evidence locks ---- */

int sg_catalog_lock_add(struct sg_catalog *cat, struct sg_lock *lock)
{
    sqlite3_stmt *s = stmt(cat, S_LOCK_ADD);
    int r;

    if (!s)
        return SG_E_CATALOG;
    lock->created_us = sg_utc_us();
    sqlite3_bind_int64(s, 1, lock->camera_id);
    sqlite3_bind_int64(s, 2, lock->start_us);
    sqlite3_bind_int64(s, 3, lock->end_us);
    sqlite3_bind_text(s, 4, lock->reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 5, lock->created_by, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 6, lock->created_us);
    if ((r = run(cat, s, "lock add")) < 0)
        return r;
    lock->id = sqlite3_last_insert_rowid(cat->db);
    return 0;
}

int sg_catalog_lock_remove(struct sg_catalog *cat, int64_t id)
{
    sqlite3_stmt *s = stmt(cat, S_LOCK_REMOVE);
    int r;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, id);
    if ((r = run(cat, s, "lock remove")) < 0)
        return r;
    return sqlite3_changes(cat->db) ? 0 : SG_E_NOTFOUND;
}

static void read_lock(sqlite3_stmt *s, void *p)
{
    struct sg_lock *l = p;

    memset(l, 0, sizeof(*l));
    l->id = sqlite3_column_int64(s, 0);
    l->camera_id = sqlite3_column_int64(s, 1);
    l->start_us = sqlite3_column_int64(s, 2);
    l->end_us = sqlite3_column_int64(s, 3);
    copy_text(l->reason, sizeof(l->reason), s, 4);
    copy_text(l->created_by, sizeof(l->created_by), s, 5);
    l->created_us = sqlite3_column_int64(s, 6);
    l->item_id = sqlite3_column_int64(s, 7);
}

int sg_catalog_lock_list(struct sg_catalog *cat, struct sg_lock **out)
{
    sqlite3_stmt *s = stmt(cat, S_LOCK_LIST);

    if (!s)
        return SG_E_CATALOG;
    return collect(cat, s, sizeof(**out), read_lock, (void **)out);
}

const char *sg_stream_name(int stream) { return stream == SG_STREAM_SUB ? "sub" : "main"; }

int sg_stream_parse(const char *s)
{
    if (!strcmp(s, "main"))
        return SG_STREAM_MAIN;
    if (!strcmp(s, "sub"))
        return SG_STREAM_SUB;
    return SG_E_NOTFOUND;
}

const char *sg_seg_status_name(int status)
{
    static const char *const names[] = { "recording", "complete", "deleting", "missing" };
    return status >= 0 && status <= 3 ? names[status] : "?";
}

int sg_transport_parse(const char *s)
{
    if (!strcmp(s, "default")) return SG_TRANSPORT_DEFAULT;
    if (!strcmp(s, "tcp")) return SG_TRANSPORT_TCP;
    if (!strcmp(s, "udp")) return SG_TRANSPORT_UDP;
    return -EINVAL;
}

const char *sg_transport_name(int t)
{
    return t == SG_TRANSPORT_TCP ? "tcp" : t == SG_TRANSPORT_UDP ? "udp" : "default";
}

int sg_camera_name_valid(const char *n)
{
    size_t l = strlen(n);

    if (l == 0 || l >= SG_NAME_MAX)
        return 0;
    for (const char *c = n; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return 0;
    return 1;
}
