/* API: cases (reference, title, reason, owner, items), the evidence lock each item of an open
 * case holds, releases and closing, export jobs and their packages, and the site's public key
 * for recipients. The router has authorised the route and {id} (authz.c: a case or an export
 * of another site, or an export of a camera the principal may not see, never reaches these
 * handlers); cameras named in a body are authorised here, one by one, with the same function.
 * Every change and every refusal here is audited. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "http/http_int.h"

#define HOUR_US         (3600 * SG_US_PER_SEC)
#define MAX_ITEM_US     (24 * HOUR_US) /* one item, one export range */
#define MAX_EXPORT_RANGES 64
#define EVENT_PAD_US    (10 * SG_US_PER_SEC) /* default padding around an event added to a case */

/* ---- JSON ---- */

static json_t *item_json(const struct sg_case_item *it)
{
    json_t *o = json_pack("{s:I,s:I,s:o,s:o,s:s,s:b,s:I,s:o}", "id", (json_int_t)it->id, "camera_id",
                          (json_int_t)it->camera_id, "start", sg_json_time(it->start_us), "end",
                          sg_json_time(it->end_us), "note", it->note, "locked", !it->released_us,
                          "added_by", (json_int_t)it->added_by, "added", sg_json_time(it->added_us));

    json_object_set_new(o, "event_id", it->event_id ? json_integer(it->event_id) : json_null());
    if (it->released_us) {
        json_object_set_new(o, "released", sg_json_time(it->released_us));
        json_object_set_new(o, "released_by", json_integer(it->released_by));
        json_object_set_new(o, "release_reason", json_string(it->release_reason));
    }
    return o;
}

static json_t *case_json(const struct sg_case *c)
{
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:{s:I,s:s},s:s,s:o,s:i,s:i}", "id", (json_int_t)c->id,
                          "reference", c->reference, "title", c->title, "reason", c->reason, "owner",
                          "id", (json_int_t)c->owner_id, "name", c->owner, "state",
                          c->state == SG_CASE_OPEN ? "open" : "closed", "created",
                          sg_json_time(c->created_us), "items", c->n_items, "locked_items", c->n_locked);

    if (c->state != SG_CASE_OPEN) {
        json_object_set_new(o, "closed", sg_json_time(c->closed_us));
        json_object_set_new(o, "close_reason", json_string(c->close_reason));
    }
    return o;
}

static const char *export_state_name(int s)
{
    switch (s) {
    case SG_EXPORT_QUEUED: return "queued";
    case SG_EXPORT_RUNNING: return "running";
    case SG_EXPORT_DONE: return "done";
    case SG_EXPORT_FAILED: return "failed";
    }
    return "?";
}

static json_t *export_json(struct sg_req *r, const struct sg_export_job *j, int with_ranges)
{
    json_t *o = json_pack("{s:I,s:s,s:f,s:s,s:{s:I,s:s},s:s,s:o,s:o}", "id", (json_int_t)j->id, "state",
                          export_state_name(j->state), "progress", j->progress, "format", j->format,
                          "user", "id", (json_int_t)j->user_id, "name", j->user_name, "reason", j->reason,
                          "created", sg_json_time(j->created_us), "finished", sg_json_time(j->finished_us));

    json_object_set_new(o, "case_id", j->case_id ? json_integer(j->case_id) : json_null());
    if (j->state == SG_EXPORT_FAILED)
        json_object_set_new(o, "error", json_string(j->error));
    if (j->state == SG_EXPORT_DONE) {
        char url[96];
        snprintf(url, sizeof(url), "/api/v1/exports/%" PRId64 "/package.zip", j->id);
        json_object_set_new(o, "bytes", json_integer(j->bytes));
        json_object_set_new(o, "sha256", json_string(j->sha256));
        json_object_set_new(o, "download", json_string(url));
    }
    if (with_ranges) {
        struct sg_export_range *rg = NULL;
        int n = sg_catalog_export_ranges(r->cat, j->id, &rg);
        json_t *a = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(a, json_pack("{s:I,s:o,s:o}", "camera_id", (json_int_t)rg[i].camera_id,
                                               "start", sg_json_time(rg[i].start_us), "end",
                                               sg_json_time(rg[i].end_us)));
        free(rg);
        json_object_set_new(o, "items", a);
    }
    return o;
}

/* ---- body fields ---- */

/* A required (or, with optional, possibly absent: *out = "") string of 1..max-1 bytes without
 * control characters. 0, or replies 400 and returns -1. */
static int text_field(struct sg_req *r, const char *name, size_t max, int optional, const char **out)
{
    json_t *v = json_object_get(r->json, name);
    const char *s;
    size_t n;

    *out = "";
    if (!v && optional)
        return 0;
    if (!v || !json_is_string(v)) {
        sg_reply_error(r, 400, "bad_request", "'%s' is required (a string)", name);
        return -1;
    }
    s = json_string_value(v);
    n = strlen(s);
    if ((!n && !optional) || n >= max) {
        sg_reply_error(r, 400, "bad_request", "'%s' must be 1 to %zu bytes", name, max - 1);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') {
            sg_reply_error(r, 400, "bad_request", "'%s' contains control characters", name);
            return -1;
        }
    *out = s;
    return 0;
}

static int time_field(struct sg_req *r, json_t *o, const char *name, int64_t *out)
{
    json_t *v = json_object_get(o, name);

    if (!json_is_string(v) || sg_utc_parse(json_string_value(v), out) < 0) {
        sg_reply_error(r, 400, "bad_request", "'%s' must be an RFC 3339 time", name);
        return -1;
    }
    return 0;
}

static int range_ok(struct sg_req *r, int64_t start, int64_t end)
{
    if (end <= start) {
        sg_reply_error(r, 400, "bad_request", "'start' must be before 'end'");
        return 0;
    }
    if (end - start > MAX_ITEM_US) {
        sg_reply_error(r, 400, "range_too_large", "at most 24 hours per item");
        return 0;
    }
    return 1;
}

static void audit_denied(struct sg_req *r, const char *action, int64_t camera_id, const char *object,
                         unsigned status)
{
    json_t *d = json_pack("{s:i}", "status", (int)status);

    sg_http_audit_json(r, action, "denied", camera_id, object, d);
}

/* ---- cases ---- */

int sg_api_cases_list(struct sg_req *r)
{
    const char *st = sg_query(r, "state");
    struct sg_case *c = NULL;
    int state = -1, n;
    json_t *a;

    if (st && !strcmp(st, "open"))
        state = SG_CASE_OPEN;
    else if (st && !strcmp(st, "closed"))
        state = SG_CASE_CLOSED;
    else if (st && strcmp(st, "all"))
        return sg_reply_error(r, 400, "bad_request", "state: open, closed or all");
    if ((n = sg_catalog_case_list(r->cat, r->who.site_id, state, &c)) < 0)
        return sg_reply_errno(r, n, "cases");
    a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, case_json(&c[i]));
    free(c);
    return sg_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "cases", a));
}

/* The case with its items; items of cameras the principal may not see are counted, not shown. */
static int reply_case(struct sg_req *r, unsigned status, int64_t id)
{
    struct sg_case c;
    struct sg_case_item *it = NULL;
    json_t *o, *a;
    int n, hidden = 0, rc;

    if ((rc = sg_catalog_case_get(r->cat, id, &c)) < 0)
        return sg_reply_errno(r, rc, "case");
    if ((n = sg_catalog_case_items(r->cat, id, &it)) < 0)
        return sg_reply_errno(r, n, "case items");
    o = case_json(&c);
    a = json_array();
    for (int i = 0; i < n; i++) {
        struct sg_camera cam;
        if (sg_catalog_camera_get(r->cat, it[i].camera_id, &cam) == 0 && sg_http_camera_visible(r, &cam)) {
            json_t *j = item_json(&it[i]);
            struct sg_user u;
            json_object_set_new(j, "camera", json_string(cam.name));
            /* names as well as ids: people reading a case may not read the user register */
            json_object_set_new(j, "added_by_name",
                                sg_catalog_user_get(r->cat, it[i].added_by, &u) == 0 ? json_string(u.name) : json_null());
            if (it[i].released_us)
                json_object_set_new(j, "released_by_name", sg_catalog_user_get(r->cat, it[i].released_by, &u) == 0
                                                               ? json_string(u.name) : json_null());
            json_array_append_new(a, j);
        } else {
            hidden++;
        }
    }
    free(it);
    json_object_set_new(o, "item_list", a);
    json_object_set_new(o, "hidden_items", json_integer(hidden));
    return sg_reply_json(r, status, o);
}

int sg_api_case_get(struct sg_req *r) { return reply_case(r, MHD_HTTP_OK, r->id); }

int sg_api_case_create(struct sg_req *r)
{
    static const char *const known[] = { "reference", "title", "reason", NULL };
    struct sg_case c = { 0 };
    const char *ref, *title, *reason;
    char obj[32];
    int rc;

    if (sg_http_only_keys(r, r->json, known) < 0 || text_field(r, "reference", sizeof(c.reference), 0, &ref) < 0 ||
        text_field(r, "title", sizeof(c.title), 0, &title) < 0 ||
        text_field(r, "reason", sizeof(c.reason), 0, &reason) < 0)
        return MHD_YES;
    for (const char *p = ref; *p; p++)
        if (*p == '\n' || *p == '\t')
            return sg_reply_error(r, 400, "bad_request", "'reference' must be one line");
    c.site_id = r->who.site_id;
    c.owner_id = r->who.user_id;
    snprintf(c.reference, sizeof(c.reference), "%s", ref);
    snprintf(c.title, sizeof(c.title), "%s", title);
    snprintf(c.reason, sizeof(c.reason), "%s", reason);
    if ((rc = sg_catalog_case_add(r->cat, &c)) == SG_E_EXISTS)
        return sg_reply_error(r, MHD_HTTP_CONFLICT, "exists", "a case with reference '%s' exists", c.reference);
    if (rc < 0)
        return sg_reply_errno(r, rc, "case");
    snprintf(obj, sizeof(obj), "case:%" PRId64, c.id);
    sg_http_audit_json(r, "case.create", "ok", 0, obj,
                       json_pack("{s:s,s:s,s:s}", "reference", c.reference, "title", c.title, "reason", c.reason));
    return reply_case(r, MHD_HTTP_CREATED, c.id);
}

int sg_api_case_item_add(struct sg_req *r)
{
    static const char *const known[] = { "camera_id", "start", "end", "note", "event_id", NULL };
    struct sg_case_item it = { 0 };
    struct sg_case c;
    json_t *ev_id = json_object_get(r->json, "event_id");
    const char *note;
    char obj[48];
    unsigned st;
    int rc;

    if (sg_http_only_keys(r, r->json, known) < 0 || text_field(r, "note", sizeof(it.note), 1, &note) < 0)
        return MHD_YES;
    it.case_id = r->id;
    snprintf(it.note, sizeof(it.note), "%s", note);
    if (ev_id) {
        /* from an event: its camera, its span with padding unless start/end are given */
        struct sg_motion_event ev;
        if (!json_is_integer(ev_id) || json_integer_value(ev_id) <= 0)
            return sg_reply_error(r, 400, "bad_request", "'event_id' must be an event id");
        rc = sg_catalog_event_get(r->cat, json_integer_value(ev_id), &ev);
        if (rc == 0 && (st = sg_http_authorize_camera(r, A_PLAYBACK, ev.camera_id)) != 0)
            rc = SG_E_NOTFOUND;
        if (rc == SG_E_NOTFOUND)
            return sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such event");
        if (rc < 0)
            return sg_reply_errno(r, rc, "event");
        it.event_id = ev.id;
        it.camera_id = ev.camera_id;
        it.start_us = ev.start_us - EVENT_PAD_US;
        it.end_us = (ev.end_us ? ev.end_us : sg_utc_us()) + EVENT_PAD_US;
    } else {
        json_t *cam = json_object_get(r->json, "camera_id");
        if (!json_is_integer(cam) || json_integer_value(cam) <= 0)
            return sg_reply_error(r, 400, "bad_request", "'camera_id' is required (or 'event_id')");
        it.camera_id = json_integer_value(cam);
    }
    if ((json_object_get(r->json, "start") && time_field(r, r->json, "start", &it.start_us) < 0) ||
        (json_object_get(r->json, "end") && time_field(r, r->json, "end", &it.end_us) < 0))
        return MHD_YES;
    if (!ev_id && (!json_object_get(r->json, "start") || !json_object_get(r->json, "end")))
        return sg_reply_error(r, 400, "bad_request", "'start' and 'end' are required");
    if (!range_ok(r, it.start_us, it.end_us))
        return MHD_YES;
    snprintf(obj, sizeof(obj), "case:%" PRId64, r->id);
    if ((st = sg_http_authorize_camera(r, A_PLAYBACK, it.camera_id)) != 0) {
        audit_denied(r, "case.item.add", it.camera_id, obj, st);
        return sg_reply_error(r, st, st == MHD_HTTP_NOT_FOUND ? "not_found" : "forbidden",
                              st == MHD_HTTP_NOT_FOUND ? "no such camera" : "not allowed");
    }
    it.added_by = r->who.user_id;
    rc = sg_catalog_case_item_add(r->cat, &it, r->who.name);
    if (rc == SG_E_UNSUPPORTED)
        return sg_reply_error(r, MHD_HTTP_CONFLICT, "case_closed", "the case is closed");
    if (rc < 0)
        return sg_reply_errno(r, rc, "case item");
    sg_catalog_case_get(r->cat, r->id, &c);
    sg_http_audit_json(r, "lock.add", "ok", it.camera_id, obj,
                       json_pack("{s:s,s:I,s:o,s:o,s:s}", "case", c.reference, "item", (json_int_t)it.id,
                                 "start", sg_json_time(it.start_us), "end", sg_json_time(it.end_us), "note",
                                 it.note));
    return reply_case(r, MHD_HTTP_CREATED, r->id);
}

/* POST /cases/{id}/items/{item}/release {"reason"} */
int sg_api_case_item_release(struct sg_req *r)
{
    static const char *const known[] = { "reason", NULL };
    struct sg_case_item it;
    const char *reason;
    char obj[48];
    int rc;

    if (sg_http_only_keys(r, r->json, known) < 0 || text_field(r, "reason", SG_REASON_MAX, 0, &reason) < 0)
        return MHD_YES;
    rc = sg_catalog_case_item_get(r->cat, r->item, &it);
    if (rc == SG_E_NOTFOUND || (rc == 0 && it.case_id != r->id))
        return sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such item in this case");
    if (rc < 0)
        return sg_reply_errno(r, rc, "case item");
    snprintf(obj, sizeof(obj), "case:%" PRId64, r->id);
    if (sg_http_authorize_camera(r, A_PLAYBACK, it.camera_id) != 0) {
        audit_denied(r, "lock.release", it.camera_id, obj, MHD_HTTP_NOT_FOUND);
        return sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such item in this case");
    }
    rc = sg_catalog_case_item_release(r->cat, it.id, r->who.user_id, reason);
    if (rc == SG_E_UNSUPPORTED)
        return sg_reply_error(r, MHD_HTTP_CONFLICT, "released", "the item's lock was already released");
    if (rc < 0)
        return sg_reply_errno(r, rc, "release");
    sg_http_audit_json(r, "lock.release", "ok", it.camera_id, obj,
                       json_pack("{s:I,s:o,s:o,s:s}", "item", (json_int_t)it.id, "start",
                                 sg_json_time(it.start_us), "end", sg_json_time(it.end_us), "reason", reason));
    return reply_case(r, MHD_HTTP_OK, r->id);
}

int sg_api_case_close(struct sg_req *r)
{
    static const char *const known[] = { "reason", NULL };
    const char *reason;
    char obj[48];
    int rc;

    struct sg_case_item *it = NULL;
    int n;

    if (sg_http_only_keys(r, r->json, known) < 0 || text_field(r, "reason", SG_REASON_MAX, 0, &reason) < 0)
        return MHD_YES;
    snprintf(obj, sizeof(obj), "case:%" PRId64, r->id);
    /* Closing releases every lock of the case: only someone who may see all its footage may
     * (releasing one hidden item answers 404; closing must not release it behind their back). */
    if ((n = sg_catalog_case_items(r->cat, r->id, &it)) < 0)
        return sg_reply_errno(r, n, "case items");
    for (int i = 0; i < n; i++)
        if (!it[i].released_us && sg_http_authorize_camera(r, A_PLAYBACK, it[i].camera_id) != 0) {
            int64_t cam = it[i].camera_id;
            free(it);
            audit_denied(r, "case.close", cam, obj, MHD_HTTP_FORBIDDEN);
            return sg_reply_error(r, MHD_HTTP_FORBIDDEN, "forbidden",
                                  "the case holds locked footage of cameras you may not see");
        }
    free(it);
    rc = sg_catalog_case_close(r->cat, r->id, r->who.user_id, reason);
    if (rc == SG_E_UNSUPPORTED)
        return sg_reply_error(r, MHD_HTTP_CONFLICT, "case_closed", "the case is already closed");
    if (rc < 0)
        return sg_reply_errno(r, rc, "close");
    sg_http_audit_json(r, "case.close", "ok", 0, obj,
                       json_pack("{s:s,s:i}", "reason", reason, "locks_released", rc));
    return reply_case(r, MHD_HTTP_OK, r->id);
}

/* ---- exports ---- */

int sg_api_exports_list(struct sg_req *r)
{
    struct sg_export_job *j = NULL;
    int n = sg_catalog_export_list(r->cat, r->who.site_id, 200, &j);
    json_t *a;

    if (n < 0)
        return sg_reply_errno(r, n, "exports");
    a = json_array();
    for (int i = 0; i < n; i++) {
        /* only exports of cameras the principal may see all of */
        struct sg_export_range *rg = NULL;
        int m = sg_catalog_export_ranges(r->cat, j[i].id, &rg), ok = m >= 0;
        for (int k = 0; k < m && ok; k++)
            ok = sg_http_authorize_camera(r, A_EXPORT, rg[k].camera_id) == 0;
        free(rg);
        if (ok)
            json_array_append_new(a, export_json(r, &j[i], 0));
    }
    free(j);
    return sg_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "exports", a));
}

int sg_api_export_get(struct sg_req *r)
{
    struct sg_export_job j;
    int rc = sg_catalog_export_get(r->cat, r->id, &j);

    if (rc < 0)
        return sg_reply_errno(r, rc, "export");
    return sg_reply_json(r, MHD_HTTP_OK, export_json(r, &j, 1));
}

/* Collects the ranges of a body's "items" (each camera authorised for export). */
static int body_ranges(struct sg_req *r, json_t *items, struct sg_export_range *rg, int *n)
{
    size_t i;
    json_t *v;

    if (!json_is_array(items) || !json_array_size(items) || json_array_size(items) > MAX_EXPORT_RANGES) {
        sg_reply_error(r, 400, "bad_request", "'items' must be 1 to %d ranges", MAX_EXPORT_RANGES);
        return -1;
    }
    json_array_foreach(items, i, v) {
        static const char *const known[] = { "camera_id", "start", "end", NULL };
        json_t *cam = json_object_get(v, "camera_id");
        unsigned st;
        if (!json_is_object(v) || sg_http_only_keys(r, v, known) < 0)
            return json_is_object(v) ? -1 : (sg_reply_error(r, 400, "bad_request", "an item is an object"), -1);
        if (!json_is_integer(cam) || json_integer_value(cam) <= 0) {
            sg_reply_error(r, 400, "bad_request", "each item needs 'camera_id'");
            return -1;
        }
        rg[i].camera_id = json_integer_value(cam);
        if (time_field(r, v, "start", &rg[i].start_us) < 0 || time_field(r, v, "end", &rg[i].end_us) < 0 ||
            !range_ok(r, rg[i].start_us, rg[i].end_us))
            return -1;
        if ((st = sg_http_authorize_camera(r, A_EXPORT, rg[i].camera_id)) != 0) {
            audit_denied(r, "export.create", rg[i].camera_id, "export", st);
            sg_reply_error(r, st, st == MHD_HTTP_NOT_FOUND ? "not_found" : "forbidden",
                           st == MHD_HTTP_NOT_FOUND ? "no such camera" : "not allowed");
            return -1;
        }
    }
    *n = (int)json_array_size(items);
    return 0;
}

/* The items of a case as ranges; every camera must be exportable by the principal. */
static int case_ranges(struct sg_req *r, int64_t case_id, struct sg_export_range *rg, int *n)
{
    struct sg_case c;
    struct sg_case_item *it = NULL;
    int m, rc = sg_catalog_case_get(r->cat, case_id, &c);
    char obj[48];

    snprintf(obj, sizeof(obj), "case:%" PRId64, case_id);
    if (rc == SG_E_NOTFOUND || (rc == 0 && c.site_id != r->who.site_id) ||
        !(r->who.perms & SG_P_CASES_READ)) {
        audit_denied(r, "export.create", 0, obj, MHD_HTTP_NOT_FOUND);
        sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such case");
        return -1;
    }
    if (rc < 0 || (m = sg_catalog_case_items(r->cat, case_id, &it)) < 0) {
        sg_reply_errno(r, SG_E_CATALOG, "case");
        return -1;
    }
    if (!m || m > MAX_EXPORT_RANGES) {
        free(it);
        sg_reply_error(r, 400, "bad_request", "a case exports 1 to %d items; this one has %d",
                       MAX_EXPORT_RANGES, m);
        return -1;
    }
    for (int i = 0; i < m; i++) {
        if (sg_http_authorize_camera(r, A_EXPORT, it[i].camera_id) != 0) {
            audit_denied(r, "export.create", it[i].camera_id, obj, MHD_HTTP_FORBIDDEN);
            free(it);
            sg_reply_error(r, MHD_HTTP_FORBIDDEN, "forbidden",
                           "the case holds footage of cameras you may not export");
            return -1;
        }
        rg[i] = (struct sg_export_range){ it[i].camera_id, it[i].start_us, it[i].end_us };
    }
    free(it);
    *n = m;
    return 0;
}

int sg_api_export_create(struct sg_req *r)
{
    static const char *const known[] = { "case_id", "items", "reason", "format", NULL };
    struct sg_export_range rg[MAX_EXPORT_RANGES];
    struct sg_export_job j = { 0 };
    json_t *cid = json_object_get(r->json, "case_id"), *items = json_object_get(r->json, "items"), *ranges;
    const char *reason, *format = "mp4";
    char obj[32];
    int n = 0, rc;

    if (sg_http_only_keys(r, r->json, known) < 0 || text_field(r, "reason", sizeof(j.reason), 0, &reason) < 0 ||
        (json_object_get(r->json, "format") && text_field(r, "format", 16, 0, &format) < 0))
        return MHD_YES;
    if (strcmp(format, "mp4") && strcmp(format, "onvif"))
        return sg_reply_error(r, 400, "bad_request", "'format' is 'mp4' or 'onvif'");
    if (!cid == !items)
        return sg_reply_error(r, 400, "bad_request", "give either 'case_id' or 'items'");
    if (cid) {
        if (!json_is_integer(cid) || json_integer_value(cid) <= 0)
            return sg_reply_error(r, 400, "bad_request", "'case_id' must be a case id");
        if (case_ranges(r, json_integer_value(cid), rg, &n) < 0)
            return MHD_YES;
        j.case_id = json_integer_value(cid);
    } else if (body_ranges(r, items, rg, &n) < 0) {
        return MHD_YES;
    }
    j.site_id = r->who.site_id;
    j.user_id = r->who.user_id;
    snprintf(j.user_name, sizeof(j.user_name), "%s", r->who.name);
    snprintf(j.reason, sizeof(j.reason), "%s", reason);
    snprintf(j.format, sizeof(j.format), "%s", format);
    if ((rc = sg_catalog_export_add(r->cat, &j, rg, n)) < 0)
        return sg_reply_errno(r, rc, "export");
    snprintf(obj, sizeof(obj), "export:%" PRId64, j.id);
    ranges = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(ranges, json_pack("{s:I,s:o,s:o}", "camera", (json_int_t)rg[i].camera_id, "start",
                                                sg_json_time(rg[i].start_us), "end", sg_json_time(rg[i].end_us)));
    sg_http_audit_json(r, "export.create", "ok", n == 1 ? rg[0].camera_id : 0, obj,
                       json_pack("{s:s,s:s,s:o,s:o}", "reason", j.reason, "format", j.format, "case",
                                 j.case_id ? json_integer(j.case_id) : json_null(), "items", ranges));
    return sg_reply_json(r, MHD_HTTP_ACCEPTED, export_json(r, &j, 1));
}

/* The path of an export's package under the export directory: 0, or -ENOENT when it has none
 * (or a name that is not a plain file name). */
static int package_path(struct sg_req *r, const struct sg_export_job *j, char path[PATH_MAX])
{
    if (!j->file[0] || strchr(j->file, '/') || j->file[0] == '.' ||
        sg_path_join(r->srv->cfg->export_dir, j->file, path, PATH_MAX) < 0)
        return -ENOENT;
    return 0;
}

/* The package file of a finished export, opened. */
static int package_fd(struct sg_req *r, const struct sg_export_job *j, int64_t *size)
{
    char path[PATH_MAX];
    struct stat st;
    int fd;

    if (package_path(r, j, path) < 0)
        return -ENOENT;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -ENOENT;
    }
    *size = st.st_size;
    return fd;
}

int sg_api_export_package(struct sg_req *r)
{
    struct sg_export_job j;
    struct MHD_Response *resp;
    char disp[160], obj[32];
    int64_t size = 0;
    int fd, rc = sg_catalog_export_get(r->cat, r->id, &j);

    if (rc < 0)
        return sg_reply_errno(r, rc, "export");
    if (j.state != SG_EXPORT_DONE)
        return sg_reply_error(r, MHD_HTTP_CONFLICT, "not_ready", "the export is %s", export_state_name(j.state));
    if ((fd = package_fd(r, &j, &size)) < 0)
        return sg_reply_error(r, MHD_HTTP_GONE, "gone", "the package file is gone");
    if (!(resp = MHD_create_response_from_fd_at_offset64((uint64_t)size, fd, 0))) {
        close(fd);
        return MHD_NO;
    }
    snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", j.file);
    MHD_add_response_header(resp, "Content-Type", "application/zip");
    MHD_add_response_header(resp, "Content-Disposition", disp);
    MHD_add_response_header(resp, "X-Sargas-SHA256", j.sha256);
    snprintf(obj, sizeof(obj), "export:%" PRId64, j.id);
    if (r->method != M_HEAD)
        sg_http_audit_json(r, "export.download", "ok", 0, obj,
                           json_pack("{s:s,s:I,s:s}", "file", j.file, "bytes", (json_int_t)size, "sha256", j.sha256));
    return sg_reply(r, MHD_HTTP_OK, resp);
}

int sg_api_export_delete(struct sg_req *r)
{
    struct sg_export_job j;
    char path[PATH_MAX], obj[32];
    int rc = sg_catalog_export_get(r->cat, r->id, &j);

    if (rc < 0)
        return sg_reply_errno(r, rc, "export");
    if (j.state == SG_EXPORT_RUNNING || j.state == SG_EXPORT_QUEUED)
        return sg_reply_error(r, MHD_HTTP_CONFLICT, "busy", "the export is %s", export_state_name(j.state));
    if (package_path(r, &j, path) == 0 && unlink(path) < 0 && errno != ENOENT)
        return sg_reply_errno(r, -errno, "export file");
    if ((rc = sg_catalog_export_delete(r->cat, j.id)) < 0)
        return sg_reply_errno(r, rc, "export");
    snprintf(obj, sizeof(obj), "export:%" PRId64, j.id);
    sg_http_audit_json(r, "export.delete", "ok", 0, obj, json_pack("{s:s}", "file", j.file));
    return sg_reply(r, MHD_HTTP_NO_CONTENT, MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT));
}

/* The site's public key as a file for the verifier's --key (hex and a newline). */
int sg_api_site_key(struct sg_req *r)
{
    struct sg_site s;
    char hex[2 * SG_PUBKEY_BYTES + 2], disp[96];
    struct MHD_Response *resp;
    int rc;

    if ((rc = sg_catalog_site_get(r->cat, r->who.site_id, &s)) < 0)
        return sg_reply_errno(r, rc, "site");
    if (!s.has_key)
        return sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "the site has no key yet");
    sg_hex(s.public_key, SG_PUBKEY_BYTES, hex);
    strcat(hex, "\n");
    resp = MHD_create_response_from_buffer(strlen(hex), hex, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    snprintf(disp, sizeof(disp), "attachment; filename=\"site-%" PRId64 ".pub\"", s.id);
    MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
    MHD_add_response_header(resp, "Content-Disposition", disp);
    return sg_reply(r, MHD_HTTP_OK, resp);
}
