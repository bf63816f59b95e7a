/* Catalog tables of motion analysis: motion events (with the JPEG of their peak picture), the
 * per-second activity index, and each camera's zones and masks. Prepared statements only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "catalog/catalog_int.h"

enum {
    Q_EV_ADD = CATALOG__EVENTS_FIRST, Q_EV_UPDATE, Q_EV_UPDATE_THUMB, Q_EV_GET, Q_EV_THUMB, Q_EV_LIST,
    Q_EV_CLOSE_ALL, Q_EV_EXPIRE, Q_ACT_EXPIRE, Q_ACT_GET_ONE, Q_ACT_PUT, Q_ACT_RANGE, Q_ZONES_GET, Q_ZONES_SET,
    Q_LAST
};
_Static_assert((int)Q_LAST <= (int)CATALOG__N_EXTRA, "catalog_events.c's statement slots overflow");

#define EV_COLS "id, camera_id, stream, start_us, end_us, peak_us, peak_score, zones, thumb IS NOT NULL"

static const char *const sql[Q_LAST - CATALOG__EVENTS_FIRST] = {
#define Q(id) [(id) - CATALOG__EVENTS_FIRST]
    Q(Q_EV_ADD) = "INSERT INTO motion_events (camera_id, stream, start_us, end_us, peak_us, peak_score, zones)"
                  " VALUES (?,?,?,?,?,?,?)",
    Q(Q_EV_UPDATE) = "UPDATE motion_events SET end_us=?2, peak_us=?3, peak_score=?4, zones=?5 WHERE id=?1",
    Q(Q_EV_UPDATE_THUMB) = "UPDATE motion_events SET end_us=?2, peak_us=?3, peak_score=?4, zones=?5, thumb=?6"
                           " WHERE id=?1",
    Q(Q_EV_GET) = "SELECT " EV_COLS " FROM motion_events WHERE id=?",
    Q(Q_EV_THUMB) = "SELECT thumb FROM motion_events WHERE id=? AND thumb IS NOT NULL",
    /* cameras: a JSON array of ids (the caller's visible cameras); zone: a name in the event's
     * JSON array of zones */
    Q(Q_EV_LIST) = "SELECT " EV_COLS " FROM motion_events"
                   " WHERE camera_id IN (SELECT value FROM json_each(?1))"
                   " AND (?2 IS NULL OR EXISTS (SELECT 1 FROM json_each(zones) z WHERE z.value = ?2))"
                   " AND (?3 = 0 OR end_us = 0 OR end_us >= ?3) AND (?4 = 0 OR start_us < ?4)"
                   " AND peak_score >= ?5 AND (?6 = 0 OR id < ?6) ORDER BY id DESC LIMIT ?7",
    Q(Q_EV_CLOSE_ALL) = "UPDATE motion_events SET end_us = max(peak_us, start_us) WHERE end_us = 0",
    /* What the camera's retention no longer keeps, unless an evidence lock covers it: the
     * events and activity of footage that is gone go with it. */
    Q(Q_EV_EXPIRE) = "DELETE FROM motion_events WHERE end_us <> 0 AND end_us < ?1 - (SELECT c.retain_hours"
                     " FROM cameras c WHERE c.id = motion_events.camera_id) * 3600000000"
                     " AND NOT EXISTS (SELECT 1 FROM evidence_locks l WHERE (l.camera_id = 0 OR"
                     " l.camera_id = motion_events.camera_id) AND l.start_us < motion_events.end_us"
                     " AND l.end_us > motion_events.start_us)",
    Q(Q_ACT_EXPIRE) = "DELETE FROM activity WHERE minute_us + 60000000 < ?1 - (SELECT c.retain_hours"
                      " FROM cameras c WHERE c.id = activity.camera_id) * 3600000000"
                      " AND NOT EXISTS (SELECT 1 FROM evidence_locks l WHERE (l.camera_id = 0 OR"
                      " l.camera_id = activity.camera_id) AND l.start_us < activity.minute_us + 60000000"
                      " AND l.end_us > activity.minute_us)",
    Q(Q_ACT_GET_ONE) = "SELECT levels, zones FROM activity WHERE camera_id=? AND minute_us=?",
    Q(Q_ACT_PUT) = "INSERT INTO activity (camera_id, minute_us, levels, zones) VALUES (?,?,?,?)"
                   " ON CONFLICT (camera_id, minute_us) DO UPDATE SET levels=excluded.levels,"
                   " zones=excluded.zones",
    Q(Q_ACT_RANGE) = "SELECT minute_us, levels, zones FROM activity WHERE camera_id=? AND minute_us >= ?"
                     " AND minute_us < ? ORDER BY minute_us",
    Q(Q_ZONES_GET) = "SELECT zones FROM camera_zones WHERE camera_id=?",
    Q(Q_ZONES_SET) = "INSERT INTO camera_zones (camera_id, zones, updated_us) VALUES (?,?,?)"
                     " ON CONFLICT (camera_id) DO UPDATE SET zones=excluded.zones, updated_us=excluded.updated_us",
#undef Q
};

static sqlite3_stmt *q(struct sg_catalog *cat, int id)
{
    return catalog__stmt(cat, id, sql[id - CATALOG__EVENTS_FIRST]);
}

/* ---- motion events ---- */

static void read_event(sqlite3_stmt *s, void *p)
{
    struct sg_motion_event *e = p;

    memset(e, 0, sizeof(*e));
    e->id = sqlite3_column_int64(s, 0);
    e->camera_id = sqlite3_column_int64(s, 1);
    e->stream = sqlite3_column_int(s, 2);
    e->start_us = sqlite3_column_int64(s, 3);
    e->end_us = sqlite3_column_int64(s, 4);
    e->peak_us = sqlite3_column_int64(s, 5);
    e->peak_score = sqlite3_column_double(s, 6);
    catalog__copy_text(e->zones, sizeof(e->zones), s, 7);
    e->has_thumb = sqlite3_column_int(s, 8);
}

int sg_catalog_event_add(struct sg_catalog *cat, struct sg_motion_event *ev)
{
    sqlite3_stmt *s = q(cat, Q_EV_ADD);
    int r;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, ev->camera_id);
    sqlite3_bind_int(s, 2, ev->stream);
    sqlite3_bind_int64(s, 3, ev->start_us);
    sqlite3_bind_int64(s, 4, ev->end_us);
    sqlite3_bind_int64(s, 5, ev->peak_us);
    sqlite3_bind_double(s, 6, ev->peak_score);
    sqlite3_bind_text(s, 7, ev->zones[0] ? ev->zones : "[]", -1, SQLITE_TRANSIENT);
    if ((r = catalog__run(cat, s, "event add")) < 0)
        return r;
    ev->id = sqlite3_last_insert_rowid(sqlite3_db_handle(s));
    return 0;
}

int sg_catalog_event_update(struct sg_catalog *cat, const struct sg_motion_event *ev,
                            const void *thumb, size_t thumb_len)
{
    sqlite3_stmt *s = q(cat, thumb ? Q_EV_UPDATE_THUMB : Q_EV_UPDATE);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, ev->id);
    sqlite3_bind_int64(s, 2, ev->end_us);
    sqlite3_bind_int64(s, 3, ev->peak_us);
    sqlite3_bind_double(s, 4, ev->peak_score);
    sqlite3_bind_text(s, 5, ev->zones[0] ? ev->zones : "[]", -1, SQLITE_TRANSIENT);
    if (thumb)
        sqlite3_bind_blob(s, 6, thumb, (int)thumb_len, SQLITE_TRANSIENT);
    return catalog__run(cat, s, "event update");
}

int sg_catalog_event_get(struct sg_catalog *cat, int64_t id, struct sg_motion_event *out)
{
    sqlite3_stmt *s = q(cat, Q_EV_GET);

    if (s)
        sqlite3_bind_int64(s, 1, id);
    return catalog__one(cat, s, read_event, out, "event get");
}

int sg_catalog_event_thumb(struct sg_catalog *cat, int64_t id, void **jpeg, size_t *len)
{
    sqlite3_stmt *s = q(cat, Q_EV_THUMB);
    int rc;

    *jpeg = NULL;
    *len = 0;
    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        int n = sqlite3_column_bytes(s, 0);
        if (n > 0 && (*jpeg = malloc((size_t)n)) != NULL) {
            memcpy(*jpeg, sqlite3_column_blob(s, 0), (size_t)n);
            *len = (size_t)n;
        }
        sqlite3_reset(s);
        return *jpeg ? 0 : n > 0 ? -ENOMEM : SG_E_NOTFOUND;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SG_E_NOTFOUND : catalog__error(cat, "event thumb");
}

int sg_catalog_event_list(struct sg_catalog *cat, const struct sg_event_filter *f,
                          struct sg_motion_event **out)
{
    sqlite3_stmt *s = q(cat, Q_EV_LIST);
    char *ids;
    size_t cap = 3 + (size_t)f->n_cameras * 21, off = 0;
    int r;

    *out = NULL;
    if (!s)
        return SG_E_CATALOG;
    if (!(ids = malloc(cap)))
        return -ENOMEM;
    ids[off++] = '[';
    for (int i = 0; i < f->n_cameras; i++)
        off += (size_t)snprintf(ids + off, cap - off, "%s%lld", i ? "," : "", (long long)f->cameras[i]);
    ids[off++] = ']';
    ids[off] = 0;
    sqlite3_bind_text(s, 1, ids, -1, SQLITE_TRANSIENT);
    if (f->zone)
        sqlite3_bind_text(s, 2, f->zone, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, f->from_us);
    sqlite3_bind_int64(s, 4, f->to_us);
    sqlite3_bind_double(s, 5, f->min_score);
    sqlite3_bind_int64(s, 6, f->before_id);
    sqlite3_bind_int(s, 7, f->limit > 0 ? f->limit : 100);
    r = catalog__collect(cat, s, sizeof(**out), read_event, (void **)out);
    free(ids);
    return r;
}

int sg_catalog_event_close_all(struct sg_catalog *cat)
{
    sqlite3_stmt *s = q(cat, Q_EV_CLOSE_ALL);
    int r;

    if (!s)
        return SG_E_CATALOG;
    if ((r = catalog__run(cat, s, "event close")) < 0)
        return r;
    return sqlite3_changes(sqlite3_db_handle(s));
}

int sg_catalog_motion_expire(struct sg_catalog *cat, int64_t now_us)
{
    int ids[2] = { Q_EV_EXPIRE, Q_ACT_EXPIRE }, total = 0;

    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *s = q(cat, ids[i]);
        int r;
        if (!s)
            return SG_E_CATALOG;
        sqlite3_bind_int64(s, 1, now_us);
        if ((r = catalog__run(cat, s, "motion expire")) < 0)
            return r;
        total += sqlite3_changes(sqlite3_db_handle(s));
    }
    return total;
}

/* ---- the activity index ---- */

static void put_zones(uint8_t *b, const uint32_t zones[60])
{
    for (int i = 0; i < 60; i++)
        for (int k = 0; k < 4; k++)
            b[i * 4 + k] = (uint8_t)(zones[i] >> (8 * k));
}

static void get_zones(const uint8_t *b, int n, uint32_t zones[60])
{
    memset(zones, 0, 60 * sizeof(*zones));
    for (int i = 0; i < 60 && (i + 1) * 4 <= n; i++)
        zones[i] = (uint32_t)b[i * 4] | (uint32_t)b[i * 4 + 1] << 8 | (uint32_t)b[i * 4 + 2] << 16 |
                   (uint32_t)b[i * 4 + 3] << 24;
}

static void get_levels(sqlite3_stmt *s, int col, uint8_t levels[60])
{
    int n = sqlite3_column_bytes(s, col);
    const void *b = sqlite3_column_blob(s, col);

    memset(levels, 0, 60);
    if (b)
        memcpy(levels, b, n < 60 ? (size_t)n : 60);
}

int sg_catalog_activity_put(struct sg_catalog *cat, int64_t camera_id, int64_t minute_us,
                            const uint8_t levels[60], const uint32_t zones[60])
{
    sqlite3_stmt *s = q(cat, Q_ACT_GET_ONE);
    uint8_t lv[60], zb[240];
    uint32_t zs[60];
    int rc;

    if (!s)
        return SG_E_CATALOG;
    memcpy(lv, levels, 60);
    memcpy(zs, zones, sizeof(zs));
    sqlite3_bind_int64(s, 1, camera_id);
    sqlite3_bind_int64(s, 2, minute_us);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) { /* merge with what is there */
        uint8_t old[60];
        uint32_t oldz[60];
        get_levels(s, 0, old);
        get_zones(sqlite3_column_blob(s, 1), sqlite3_column_bytes(s, 1), oldz);
        for (int i = 0; i < 60; i++) {
            lv[i] = lv[i] > old[i] ? lv[i] : old[i];
            zs[i] |= oldz[i];
        }
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return catalog__error(cat, "activity get");
    if (!(s = q(cat, Q_ACT_PUT)))
        return SG_E_CATALOG;
    put_zones(zb, zs);
    sqlite3_bind_int64(s, 1, camera_id);
    sqlite3_bind_int64(s, 2, minute_us);
    sqlite3_bind_blob(s, 3, lv, 60, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 4, zb, 240, SQLITE_TRANSIENT);
    return catalog__run(cat, s, "activity put");
}

int sg_catalog_activity_get(struct sg_catalog *cat, int64_t camera_id, int64_t from_us,
                            int64_t to_us,
                            void (*fn)(void *opaque, int64_t minute_us, const uint8_t levels[60],
                                       const uint32_t zones[60]),
                            void *opaque)
{
    sqlite3_stmt *s = q(cat, Q_ACT_RANGE);
    int rc, n = 0;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, camera_id);
    sqlite3_bind_int64(s, 2, from_us - from_us % 60000000LL);
    sqlite3_bind_int64(s, 3, to_us);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        uint8_t lv[60];
        uint32_t zs[60];
        get_levels(s, 1, lv);
        get_zones(sqlite3_column_blob(s, 2), sqlite3_column_bytes(s, 2), zs);
        fn(opaque, sqlite3_column_int64(s, 0), lv, zs);
        n++;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? n : catalog__error(cat, "activity range");
}

/* ---- zones ---- */

int sg_catalog_zones_get(struct sg_catalog *cat, int64_t camera_id, char *json, size_t n)
{
    sqlite3_stmt *s = q(cat, Q_ZONES_GET);
    int rc;

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, camera_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        catalog__copy_text(json, n, s, 0);
    else
        snprintf(json, n, "[]");
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : catalog__error(cat, "zones get");
}

int sg_catalog_zones_set(struct sg_catalog *cat, int64_t camera_id, const char *json)
{
    sqlite3_stmt *s = q(cat, Q_ZONES_SET);

    if (!s)
        return SG_E_CATALOG;
    sqlite3_bind_int64(s, 1, camera_id);
    sqlite3_bind_text(s, 2, json, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, sg_utc_us());
    return catalog__run(cat, s, "zones set");
}
