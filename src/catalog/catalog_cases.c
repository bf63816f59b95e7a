/* Catalog tables of evidence: cases, their items and the evidence lock each item of an open case
 * holds, export jobs and the ranges each exported. An item and its lock are written in one
 * transaction, and so are a release and the lock's removal: the catalog never shows an open
 * item without its lock, nor a lock that outlived its release. Prepared statements only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "catalog/catalog_int.h"

enum {
    Q_CASE_ADD = CATALOG__CASES_FIRST, Q_CASE_GET, Q_CASE_LIST, Q_CASE_CLOSE, Q_ITEM_ADD, Q_ITEM_GET,
    Q_ITEM_LIST, Q_ITEM_RELEASE, Q_ITEM_RELEASE_ALL, Q_LOCK_ADD, Q_LOCK_DROP, Q_LOCK_DROP_CASE,
    Q_EXP_ADD, Q_EXP_RANGE_ADD, Q_EXP_GET, Q_EXP_LIST, Q_EXP_RANGES, Q_EXP_NEXT, Q_EXP_STATE,
    Q_EXP_FINISH, Q_EXP_REQUEUE, Q_EXP_DELETE, Q_EXP_DELETE_RANGES, Q_EXP_EXPIRED,
    Q_LAST
};
_Static_assert((int)Q_LAST <= (int)CATALOG__N_EXTRA, "catalog_cases.c's statement slots overflow");

#define CASE_COLS                                                                                   \
    "c.id, c.site_id, c.reference, c.title, c.reason, c.owner_id, c.state, c.created_us,"         \
    " c.closed_us, c.close_reason, coalesce(u.name, ''),"                                           \
    " (SELECT count(*) FROM case_items i WHERE i.case_id = c.id),"                                  \
    " (SELECT count(*) FROM case_items i WHERE i.case_id = c.id AND i.released_us = 0)"
#define ITEM_COLS                                                                                   \
    "id, case_id, camera_id, start_us, end_us, note, event_id, added_by, added_us, released_us,"   \
    " released_by, release_reason"
#define EXP_COLS                                                                                    \
    "id, site_id, case_id, user_id, user_name, reason, format, state, progress, created_us,"       \
    " finished_us, error, file, bytes, sha256"

static const char *const sql[Q_LAST - CATALOG__CASES_FIRST] = {
#define Q(id) [(id) - CATALOG__CASES_FIRST]
    Q(Q_CASE_ADD) = "INSERT INTO cases (site_id, reference, title, reason, owner_id, created_us)"
                    " VALUES (?,?,?,?,?,?)",
    Q(Q_CASE_GET) = "SELECT " CASE_COLS " FROM cases c LEFT JOIN users u ON u.id = c.owner_id"
                    " WHERE c.id = ?",
    Q(Q_CASE_LIST) = "SELECT " CASE_COLS " FROM cases c LEFT JOIN users u ON u.id = c.owner_id"
                     " WHERE c.site_id = ?1 AND (?2 < 0 OR c.state = ?2) ORDER BY c.id DESC",
    Q(Q_CASE_CLOSE) = "UPDATE cases SET state = 1, closed_us = ?2, close_reason = ?3"
                      " WHERE id = ?1 AND state = 0",
    Q(Q_ITEM_ADD) = "INSERT INTO case_items (case_id, camera_id, start_us, end_us, note, event_id,"
                    " added_by, added_us) SELECT ?1,?2,?3,?4,?5,?6,?7,?8"
                    " WHERE EXISTS (SELECT 1 FROM cases WHERE id = ?1 AND state = 0)",
    Q(Q_ITEM_GET) = "SELECT " ITEM_COLS " FROM case_items WHERE id = ?",
    Q(Q_ITEM_LIST) = "SELECT " ITEM_COLS " FROM case_items WHERE case_id = ? ORDER BY id",
    Q(Q_ITEM_RELEASE) = "UPDATE case_items SET released_us = ?2, released_by = ?3, release_reason = ?4"
                        " WHERE id = ?1 AND released_us = 0",
    Q(Q_ITEM_RELEASE_ALL) = "UPDATE case_items SET released_us = ?2, released_by = ?3,"
                            " release_reason = ?4 WHERE case_id = ?1 AND released_us = 0",
    Q(Q_LOCK_ADD) = "INSERT INTO evidence_locks (camera_id, start_us, end_us, reason, created_by,"
                    " created_us, item_id) VALUES (?,?,?,?,?,?,?)",
    Q(Q_LOCK_DROP) = "DELETE FROM evidence_locks WHERE item_id = ? AND item_id <> 0",
    Q(Q_LOCK_DROP_CASE) = "DELETE FROM evidence_locks WHERE item_id <> 0 AND item_id IN"
                          " (SELECT id FROM case_items WHERE case_id = ?)",
    Q(Q_EXP_ADD) = "INSERT INTO exports (site_id, case_id, user_id, user_name, reason, format, created_us)"
                   " VALUES (?,?,?,?,?,?,?)",
    Q(Q_EXP_RANGE_ADD) = "INSERT INTO export_items (export_id, seq, camera_id, start_us, end_us)"
                         " VALUES (?,?,?,?,?)",
    Q(Q_EXP_GET) = "SELECT " EXP_COLS " FROM exports WHERE id = ?",
    Q(Q_EXP_LIST) = "SELECT " EXP_COLS " FROM exports WHERE site_id = ? ORDER BY id DESC LIMIT ?",
    Q(Q_EXP_RANGES) = "SELECT camera_id, start_us, end_us FROM export_items WHERE export_id = ?"
                      " ORDER BY seq",
    Q(Q_EXP_NEXT) = "SELECT id FROM exports WHERE state = 0 ORDER BY id LIMIT 1",
    Q(Q_EXP_STATE) = "UPDATE exports SET state = ?2, progress = ?3, error = ?4,"
                     " finished_us = CASE WHEN ?2 >= 2 THEN ?5 ELSE finished_us END WHERE id = ?1",
    Q(Q_EXP_FINISH) = "UPDATE exports SET state = 2, progress = 1, finished_us = ?2, file = ?3,"
                      " bytes = ?4, sha256 = ?5, error = '' WHERE id = ?1",
    Q(Q_EXP_REQUEUE) = "UPDATE exports SET state = 0, progress = 0 WHERE state = 1",
    Q(Q_EXP_DELETE) = "DELETE FROM exports WHERE id = ?",
    Q(Q_EXP_DELETE_RANGES) = "DELETE FROM export_items WHERE export_id = ?",
    Q(Q_EXP_EXPIRED) = "SELECT " EXP_COLS " FROM exports WHERE state >= 2 AND finished_us > 0"
                       " AND finished_us < ? ORDER BY id LIMIT 100",
#undef Q
};

static sqlite3_stmt *q(struct sg_catalog *cat, int id)
{
    return catalog__stmt(cat, id, sql[id - CATALOG__CASES_FIRST]);
}

/* ---- cases ---- */

static void read_case(sqlite3_stmt *s, void *p)
{
    struct sg_case *c = p;

    memset(c, 0, sizeof(*c));
    c->id = sqlite3_column_int64(s, 0);
    c->site_id = sqlite3_column_int64(s, 1);
    catalog__copy_text(c->reference, sizeof(c->reference), s, 2);
    catalog__copy_text(c->title, sizeof(c->title), s, 3);
    catalog__copy_text(c->reason, sizeof(c->reason), s, 4);
    c->owner_id = sqlite3_column_int64(s, 5);
    c->state = sqlite3_column_int(s, 6);
    c->created_us = sqlite3_column_int64(s, 7);
    c->closed_us = sqlite3_column_int64(s, 8);
    catalog__copy_text(c->close_reason, sizeof(c->close_reason), s, 9);
    catalog__copy_text(c->owner, sizeof(c->owner), s, 10);
    c->n_items = sqlite3_column_int(s, 11);
    c->n_locked = sqlite3_column_int(s, 12);
}

int sg_catalog_case_add(struct sg_catalog *cat, struct sg_case *c)
{
    sqlite3_stmt *s = q(cat, Q_CASE_ADD);
    int r;

    if (!s)
        return SG_E_CATALOG;
    c->created_us = sg_utc_us();
    sqlite3_bind_int64(s, 1, c->site_id);
    sqlite3_bind_text(s, 2, c->reference, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, c->title, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, c->reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, c->owner_id);
    sqlite3_bind_int64(s, 6, c->created_us);
    if ((r = catalog__run(cat, s, "case add")) < 0)
        return r;
    c->id = sqlite3_last_insert_rowid(cat->db);
    c->state = SG_CASE_OPEN;
    return 0;
}

int sg_catalog_case_get(struct sg_catalog *cat, int64_t id, struct sg_case *out)
{
    sqlite3_stmt *s = q(cat, Q_CASE_GET);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, id);
    return catalog__one(cat, s, read_case, out, "case get");
}

int sg_catalog_case_list(struct sg_catalog *cat, int64_t site_id, int state, struct sg_case **out)
{
    sqlite3_stmt *s = q(cat, Q_CASE_LIST);

    *out = NULL;
    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, site_id);
    sqlite3_bind_int(s, 2, state);
    return catalog__collect(cat, s, sizeof(**out), read_case, (void **)out);
}

/* ---- items and their locks ---- */

static void read_item(sqlite3_stmt *s, void *p)
{
    struct sg_case_item *it = p;

    memset(it, 0, sizeof(*it));
    it->id = sqlite3_column_int64(s, 0);
    it->case_id = sqlite3_column_int64(s, 1);
    it->camera_id = sqlite3_column_int64(s, 2);
    it->start_us = sqlite3_column_int64(s, 3);
    it->end_us = sqlite3_column_int64(s, 4);
    catalog__copy_text(it->note, sizeof(it->note), s, 5);
    it->event_id = sqlite3_column_int64(s, 6);
    it->added_by = sqlite3_column_int64(s, 7);
    it->added_us = sqlite3_column_int64(s, 8);
    it->released_us = sqlite3_column_int64(s, 9);
    it->released_by = sqlite3_column_int64(s, 10);
    catalog__copy_text(it->release_reason, sizeof(it->release_reason), s, 11);
}

/* Runs body(cat, arg) inside a transaction: commits on success, rolls back on failure. */
static int in_transaction(struct sg_catalog *cat, int (*body)(struct sg_catalog *, void *), void *arg)
{
    int r = sg_catalog_begin(cat);

    if (r < 0)
        return r;
    if ((r = body(cat, arg)) < 0) {
        sg_catalog_rollback(cat);
        return r;
    }
    if (sg_catalog_commit(cat) < 0) {
        sg_catalog_rollback(cat);
        return SG_E_CATALOG;
    }
    return r;
}

struct item_add_arg {
    struct sg_case_item *it;
    const char *by_name;
};

static int item_add_body(struct sg_catalog *cat, void *p)
{
    struct item_add_arg *a = p;
    struct sg_case_item *it = a->it;
    struct sg_case c;
    sqlite3_stmt *s;
    char reason[SG_REASON_MAX];
    int r;

    if ((r = sg_catalog_case_get(cat, it->case_id, &c)) < 0)
        return r;
    if (c.state != SG_CASE_OPEN)
        return SG_E_UNSUPPORTED;
    if (!(s = q(cat, Q_ITEM_ADD)))
        return SG_E_CATALOG;
    it->added_us = sg_utc_us();
    sqlite3_bind_int64(s, 1, it->case_id);
    sqlite3_bind_int64(s, 2, it->camera_id);
    sqlite3_bind_int64(s, 3, it->start_us);
    sqlite3_bind_int64(s, 4, it->end_us);
    sqlite3_bind_text(s, 5, it->note, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 6, it->event_id);
    sqlite3_bind_int64(s, 7, it->added_by);
    sqlite3_bind_int64(s, 8, it->added_us);
    if ((r = catalog__run(cat, s, "case item add")) < 0)
        return r;
    if (sqlite3_changes(cat->db) != 1)
        return SG_E_UNSUPPORTED;
    it->id = sqlite3_last_insert_rowid(cat->db);
    it->released_us = 0;
    if (!(s = q(cat, Q_LOCK_ADD)))
        return SG_E_CATALOG;
    snprintf(reason, sizeof(reason), "case %s", c.reference);
    sqlite3_bind_int64(s, 1, it->camera_id);
    sqlite3_bind_int64(s, 2, it->start_us);
    sqlite3_bind_int64(s, 3, it->end_us);
    sqlite3_bind_text(s, 4, reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 5, a->by_name ? a->by_name : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 6, it->added_us);
    sqlite3_bind_int64(s, 7, it->id);
    return catalog__run(cat, s, "case item lock");
}

int sg_catalog_case_item_add(struct sg_catalog *cat, struct sg_case_item *it, const char *by_name)
{
    struct item_add_arg a = { it, by_name };

    if (it->end_us <= it->start_us)
        return -EINVAL;
    return in_transaction(cat, item_add_body, &a);
}

int sg_catalog_case_item_get(struct sg_catalog *cat, int64_t id, struct sg_case_item *out)
{
    sqlite3_stmt *s = q(cat, Q_ITEM_GET);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, id);
    return catalog__one(cat, s, read_item, out, "case item get");
}

int sg_catalog_case_items(struct sg_catalog *cat, int64_t case_id, struct sg_case_item **out)
{
    sqlite3_stmt *s = q(cat, Q_ITEM_LIST);

    *out = NULL;
    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, case_id);
    return catalog__collect(cat, s, sizeof(**out), read_item, (void **)out);
}

struct release_arg {
    int64_t id, by;
    const char *reason;
};

static int item_release_body(struct sg_catalog *cat, void *p)
{
    struct release_arg *a = p;
    sqlite3_stmt *s = q(cat, Q_ITEM_RELEASE);
    int r;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, a->id);
    sqlite3_bind_int64(s, 2, sg_utc_us());
    sqlite3_bind_int64(s, 3, a->by);
    sqlite3_bind_text(s, 4, a->reason, -1, SQLITE_TRANSIENT);
    if ((r = catalog__run(cat, s, "case item release")) < 0)
        return r;
    if (sqlite3_changes(cat->db) != 1)
        return SG_E_UNSUPPORTED;
    if (!(s = q(cat, Q_LOCK_DROP)))
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, a->id);
    return catalog__run(cat, s, "case item unlock");
}

int sg_catalog_case_item_release(struct sg_catalog *cat, int64_t item_id, int64_t by_user,
                                 const char *reason)
{
    struct release_arg a = { item_id, by_user, reason };

    return in_transaction(cat, item_release_body, &a);
}

static int case_close_body(struct sg_catalog *cat, void *p)
{
    struct release_arg *a = p;
    int64_t now = sg_utc_us();
    sqlite3_stmt *s = q(cat, Q_CASE_CLOSE);
    int r, released;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, a->id);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_text(s, 3, a->reason, -1, SQLITE_TRANSIENT);
    if ((r = catalog__run(cat, s, "case close")) < 0)
        return r;
    if (sqlite3_changes(cat->db) != 1)
        return SG_E_UNSUPPORTED;
    if (!(s = q(cat, Q_ITEM_RELEASE_ALL)))
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, a->id);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int64(s, 3, a->by);
    sqlite3_bind_text(s, 4, a->reason, -1, SQLITE_TRANSIENT);
    if ((r = catalog__run(cat, s, "case release all")) < 0)
        return r;
    released = sqlite3_changes(cat->db);
    if (!(s = q(cat, Q_LOCK_DROP_CASE)))
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, a->id);
    if ((r = catalog__run(cat, s, "case unlock all")) < 0)
        return r;
    return released;
}

int sg_catalog_case_close(struct sg_catalog *cat, int64_t case_id, int64_t by_user, const char *reason)
{
    struct release_arg a = { case_id, by_user, reason };
    struct sg_case c;
    int r = sg_catalog_case_get(cat, case_id, &c);

    if (r < 0)
        return r;
    return in_transaction(cat, case_close_body, &a);
}

/* ---- export jobs ---- */

static void read_export(sqlite3_stmt *s, void *p)
{
    struct sg_export_job *j = p;

    memset(j, 0, sizeof(*j));
    j->id = sqlite3_column_int64(s, 0);
    j->site_id = sqlite3_column_int64(s, 1);
    j->case_id = sqlite3_column_int64(s, 2);
    j->user_id = sqlite3_column_int64(s, 3);
    catalog__copy_text(j->user_name, sizeof(j->user_name), s, 4);
    catalog__copy_text(j->reason, sizeof(j->reason), s, 5);
    catalog__copy_text(j->format, sizeof(j->format), s, 6);
    j->state = sqlite3_column_int(s, 7);
    j->progress = sqlite3_column_double(s, 8);
    j->created_us = sqlite3_column_int64(s, 9);
    j->finished_us = sqlite3_column_int64(s, 10);
    catalog__copy_text(j->error, sizeof(j->error), s, 11);
    catalog__copy_text(j->file, sizeof(j->file), s, 12);
    j->bytes = sqlite3_column_int64(s, 13);
    catalog__copy_text(j->sha256, sizeof(j->sha256), s, 14);
}

struct export_add_arg {
    struct sg_export_job *job;
    const struct sg_export_range *ranges;
    int n;
};

static int export_add_body(struct sg_catalog *cat, void *p)
{
    struct export_add_arg *a = p;
    struct sg_export_job *j = a->job;
    sqlite3_stmt *s = q(cat, Q_EXP_ADD);
    int r;

    if (!s)
        return SG_E_CATALOG;
    j->created_us = sg_utc_us();
    sqlite3_bind_int64(s, 1, j->site_id);
    sqlite3_bind_int64(s, 2, j->case_id);
    sqlite3_bind_int64(s, 3, j->user_id);
    sqlite3_bind_text(s, 4, j->user_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 5, j->reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 6, j->format, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 7, j->created_us);
    if ((r = catalog__run(cat, s, "export add")) < 0)
        return r;
    j->id = sqlite3_last_insert_rowid(cat->db);
    j->state = SG_EXPORT_QUEUED;
    for (int i = 0; i < a->n; i++) {
        if (!(s = q(cat, Q_EXP_RANGE_ADD)))
            return SG_E_CATALOG;
        sqlite3_bind_int64(s, 1, j->id);
        sqlite3_bind_int(s, 2, i);
        sqlite3_bind_int64(s, 3, a->ranges[i].camera_id);
        sqlite3_bind_int64(s, 4, a->ranges[i].start_us);
        sqlite3_bind_int64(s, 5, a->ranges[i].end_us);
        if ((r = catalog__run(cat, s, "export range add")) < 0)
            return r;
    }
    return 0;
}

int sg_catalog_export_add(struct sg_catalog *cat, struct sg_export_job *job,
                          const struct sg_export_range *ranges, int n)
{
    struct export_add_arg a = { job, ranges, n };

    return in_transaction(cat, export_add_body, &a);
}

int sg_catalog_export_get(struct sg_catalog *cat, int64_t id, struct sg_export_job *out)
{
    sqlite3_stmt *s = q(cat, Q_EXP_GET);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, id);
    return catalog__one(cat, s, read_export, out, "export get");
}

int sg_catalog_export_list(struct sg_catalog *cat, int64_t site_id, int limit,
                           struct sg_export_job **out)
{
    sqlite3_stmt *s = q(cat, Q_EXP_LIST);

    *out = NULL;
    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, site_id);
    sqlite3_bind_int(s, 2, limit);
    return catalog__collect(cat, s, sizeof(**out), read_export, (void **)out);
}

static void read_range(sqlite3_stmt *s, void *p)
{
    struct sg_export_range *rg = p;

    rg->camera_id = sqlite3_column_int64(s, 0);
    rg->start_us = sqlite3_column_int64(s, 1);
    rg->end_us = sqlite3_column_int64(s, 2);
}

int sg_catalog_export_ranges(struct sg_catalog *cat, int64_t id, struct sg_export_range **out)
{
    sqlite3_stmt *s = q(cat, Q_EXP_RANGES);

    *out = NULL;
    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, id);
    return catalog__collect(cat, s, sizeof(**out), read_range, (void **)out);
}

static void read_id(sqlite3_stmt *s, void *p)
{
    *(int64_t *)p = sqlite3_column_int64(s, 0);
}

int sg_catalog_export_next(struct sg_catalog *cat, int64_t *id)
{
    sqlite3_stmt *s = q(cat, Q_EXP_NEXT);
    int r;

    *id = 0;
    if (!s)
        return SG_E_CATALOG;
    r = catalog__one(cat, s, read_id, id, "export next");
    return r == SG_E_NOTFOUND ? 0 : r;
}

int sg_catalog_export_set_state(struct sg_catalog *cat, int64_t id, int state, double progress,
                                const char *error)
{
    sqlite3_stmt *s = q(cat, Q_EXP_STATE);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, state);
    sqlite3_bind_double(s, 3, progress);
    sqlite3_bind_text(s, 4, error ? error : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, sg_utc_us());
    return catalog__run(cat, s, "export state");
}

int sg_catalog_export_finish(struct sg_catalog *cat, int64_t id, const char *file, int64_t bytes,
                             const char *sha256)
{
    sqlite3_stmt *s = q(cat, Q_EXP_FINISH);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, sg_utc_us());
    sqlite3_bind_text(s, 3, file, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, bytes);
    sqlite3_bind_text(s, 5, sha256, -1, SQLITE_TRANSIENT);
    return catalog__run(cat, s, "export finish");
}

int sg_catalog_export_requeue(struct sg_catalog *cat)
{
    sqlite3_stmt *s = q(cat, Q_EXP_REQUEUE);
    int r;

    if (!s)
        return SG_E_CATALOG;
    if ((r = catalog__run(cat, s, "export requeue")) < 0)
        return r;
    return sqlite3_changes(cat->db);
}

static int export_delete_body(struct sg_catalog *cat, void *p)
{
    int64_t id = *(int64_t *)p;
    sqlite3_stmt *s = q(cat, Q_EXP_DELETE_RANGES);
    int r;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, id);
    if ((r = catalog__run(cat, s, "export ranges delete")) < 0)
        return r;
    if (!(s = q(cat, Q_EXP_DELETE)))
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, id);
    if ((r = catalog__run(cat, s, "export delete")) < 0)
        return r;
    return sqlite3_changes(cat->db) == 1 ? 0 : SG_E_NOTFOUND;
}

int sg_catalog_export_delete(struct sg_catalog *cat, int64_t id)
{
    return in_transaction(cat, export_delete_body, &id);
}

int sg_catalog_export_expired(struct sg_catalog *cat, int64_t before_us, struct sg_export_job **out)
{
    sqlite3_stmt *s = q(cat, Q_EXP_EXPIRED);

    *out = NULL;
    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, before_us);
    return catalog__collect(cat, s, sizeof(**out), read_export, (void **)out);
}
