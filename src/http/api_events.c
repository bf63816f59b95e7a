/* API: motion events (search, thumbnails), the activity index, zones and masks. Events and
 * activity show what happened on camera, so they need the playback permission; every event
 * answered belongs to a camera the principal may see (the search runs over those cameras
 * only, a thumbnail's event is authorised through its camera). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/zones.h"
#include "base/clock.h"
#include "base/err.h"
#include "http/http_int.h"

#define EVENTS_MAX 500
#define ACTIVITY_MAX_US (31LL * 86400 * SG_US_PER_SEC)
#define ACTIVITY_MAX_POINTS 4000

static json_t *event_json(const struct sg_motion_event *e)
{
    char uri[96];
    json_t *zones = json_loads(e->zones, 0, NULL);

    snprintf(uri, sizeof(uri), "/api/v1/events/%lld/thumbnail.jpg", (long long)e->id);
    return json_pack("{s:I,s:I,s:s,s:o,s:o,s:o,s:f,s:o,s:o}", "id", (json_int_t)e->id, "camera",
                     (json_int_t)e->camera_id, "stream", sg_stream_name(e->stream), "start",
                     sg_json_time(e->start_us), "end", sg_json_time(e->end_us), "peak",
                     sg_json_time(e->peak_us), "peak_score", e->peak_score, "zones",
                     json_is_array(zones) ? zones : (json_decref(zones), json_array()), "thumbnail",
                     e->has_thumb ? json_string(uri) : json_null());
}

/* The visible cameras among "camera=1,2,3" (or all visible ones when absent). Returns the
 * count, or replies 400 and returns -1. */
static int visible_cameras(struct sg_req *r, int64_t **out)
{
    const char *want = sg_query(r, "camera");
    struct sg_camera *cams = NULL;
    int64_t ids[64];
    int n, m = 0, nw = 0;

    *out = NULL;
    if (want) {
        const char *p = want;
        while (*p) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            if (nw == 64 || sg_http_parse_id(p, len, &ids[nw]) < 0) {
                sg_reply_error(r, 400, "bad_request", "camera: up to 64 camera ids separated by commas");
                return -1;
            }
            nw++;
            p += len + (c ? 1 : 0);
            if (c && !*p) {
                sg_reply_error(r, 400, "bad_request", "camera: up to 64 camera ids separated by commas");
                return -1;
            }
        }
    }
    if ((n = sg_catalog_camera_list(r->cat, &cams)) < 0) {
        sg_reply_errno(r, n, "cameras");
        return -1;
    }
    if (!(*out = calloc((size_t)n + 1, sizeof(**out))))
        abort();
    for (int i = 0; i < n; i++) {
        int asked = !want;
        for (int k = 0; k < nw; k++)
            asked |= ids[k] == cams[i].id;
        /* a camera asked for but not visible is left out, exactly like a missing one */
        if (asked && sg_http_camera_visible(r, &cams[i]))
            (*out)[m++] = cams[i].id;
    }
    free(cams);
    return m;
}

int sg_api_events(struct sg_req *r)
{
    struct sg_event_filter f = { 0 };
    struct sg_motion_event *ev = NULL;
    const char *zone = sg_query(r, "zone"), *score = sg_query(r, "min_score");
    int64_t *cams = NULL, limit, before;
    json_t *a, *next;
    int n;

    if (sg_query_time(r, "from", 0, &f.from_us) < 0 || sg_query_time(r, "to", 0, &f.to_us) < 0 ||
        sg_query_int(r, "limit", 100, 1, EVENTS_MAX, &limit) < 0 ||
        sg_query_int(r, "before", 0, 1, INT64_MAX, &before) < 0)
        return MHD_YES;
    if (zone && (!zone[0] || strlen(zone) > 63))
        return sg_reply_error(r, 400, "bad_request", "zone: a zone name of 1-63 characters");
    if (score) {
        char *end;
        f.min_score = strtod(score, &end);
        if (*end || end == score || !(f.min_score >= 0 && f.min_score <= 1))
            return sg_reply_error(r, 400, "bad_request", "min_score: a number from 0 to 1");
    }
    if ((f.n_cameras = visible_cameras(r, &cams)) < 0)
        return MHD_YES;
    f.cameras = cams;
    f.zone = zone;
    f.limit = (int)limit;
    f.before_id = before;
    n = sg_catalog_event_list(r->cat, &f, &ev);
    free(cams);
    if (n < 0)
        return sg_reply_errno(r, n, "events");
    a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, event_json(&ev[i]));
    next = n == f.limit ? json_integer(ev[n - 1].id) : json_null();
    free(ev);
    return sg_reply_json(r, MHD_HTTP_OK, json_pack("{s:o,s:o}", "events", a, "next_before", next));
}

int sg_api_event_thumbnail(struct sg_req *r)
{
    struct sg_buf b = { 0 };
    void *jpeg;
    size_t len;
    int rc;

    if ((rc = sg_catalog_event_thumb(r->cat, r->id, &jpeg, &len)) < 0)
        return rc == SG_E_NOTFOUND ? sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no thumbnail for this event")
                                   : sg_reply_errno(r, rc, "thumbnail");
    b.data = jpeg;
    b.len = b.cap = len;
    return sg_reply_buf(r, MHD_HTTP_OK, "image/jpeg", &b);
}

/* ---- the activity index ---- */

struct act {
    int64_t from_us, step_us;
    int n;
    uint8_t *levels;
    uint32_t *zones;
};

static void on_minute(void *opaque, int64_t minute_us, const uint8_t levels[60], const uint32_t zones[60])
{
    struct act *a = opaque;

    for (int s = 0; s < 60; s++) {
        int64_t t = minute_us + s * SG_US_PER_SEC, k;
        if (t < a->from_us || (k = (t - a->from_us) / a->step_us) >= a->n)
            continue;
        if (levels[s] > a->levels[k])
            a->levels[k] = levels[s];
        a->zones[k] |= zones[s];
    }
}

int sg_api_activity(struct sg_req *r)
{
    struct act a = { 0 };
    int64_t now = sg_utc_us(), from, to, step;
    json_t *lv, *zs;
    int rc;

    if (sg_query_time(r, "from", now - 3600 * SG_US_PER_SEC, &from) < 0 || sg_query_time(r, "to", now, &to) < 0 ||
        sg_query_int(r, "step", 0, 1, 3600, &step) < 0)
        return MHD_YES;
    if (to <= from || to - from > ACTIVITY_MAX_US)
        return sg_reply_error(r, 400, "bad_request", "from must be before to, at most 31 days apart");
    from -= from % SG_US_PER_SEC;
    if (!step) /* at most ACTIVITY_MAX_POINTS points */
        step = ((to - from) / SG_US_PER_SEC + ACTIVITY_MAX_POINTS - 1) / ACTIVITY_MAX_POINTS;
    a.from_us = from;
    a.step_us = (step > 0 ? step : 1) * SG_US_PER_SEC;
    a.n = (int)((to - from + a.step_us - 1) / a.step_us);
    if (a.n > 31 * 86400)
        return sg_reply_error(r, 400, "bad_request", "too many points: use a larger step");
    a.levels = calloc((size_t)a.n, 1);
    a.zones = calloc((size_t)a.n, sizeof(*a.zones));
    if (!a.levels || !a.zones)
        abort();
    rc = sg_catalog_activity_get(r->cat, r->id, from, to, on_minute, &a);
    if (rc < 0) {
        free(a.levels);
        free(a.zones);
        return sg_reply_errno(r, rc, "activity");
    }
    lv = json_array();
    zs = json_array();
    for (int i = 0; i < a.n; i++) {
        json_array_append_new(lv, json_integer(a.levels[i]));
        json_array_append_new(zs, json_integer(a.zones[i]));
    }
    free(a.levels);
    free(a.zones);
    return sg_reply_json(r, MHD_HTTP_OK, json_pack("{s:o,s:I,s:o,s:o}", "from", sg_json_time(from), "step_s",
                                                   (json_int_t)(a.step_us / SG_US_PER_SEC), "levels", lv, "zones", zs));
}

/* ---- zones and masks ---- */

int sg_api_zones_get(struct sg_req *r)
{
    char *json = malloc(SG_ZONES_JSON_MAX);
    json_t *z;
    int rc;

    if (!json)
        abort();
    if ((rc = sg_catalog_zones_get(r->cat, r->id, json, SG_ZONES_JSON_MAX)) < 0) {
        free(json);
        return sg_reply_errno(r, rc, "zones");
    }
    z = json_loads(json, 0, NULL);
    free(json);
    return sg_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "zones", json_is_array(z) ? z : json_array()));
}

int sg_api_zones_put(struct sg_req *r)
{
    struct sg_zone zones[SG_MOTION_MAX_ZONES];
    json_t *list = json_object_get(r->json, "zones");
    char err[256] = "", *text, detail[64];
    int n, rc;

    if (json_object_size(r->json) != 1 || !json_is_array(list))
        return sg_reply_error(r, 400, "bad_request", "the body is {\"zones\": [zone, ...]}");
    text = json_dumps(list, JSON_COMPACT);
    if (!text)
        abort();
    if (strlen(text) >= SG_ZONES_JSON_MAX || (n = sg_zones_parse(text, zones, err, sizeof(err))) < 0) {
        free(text);
        return sg_reply_error(r, 400, "bad_request", "%s", strlen(err) ? err : "zones too large");
    }
    if ((rc = sg_catalog_zones_set(r->cat, r->id, text)) < 0) {
        free(text);
        return sg_reply_errno(r, rc, "zones");
    }
    snprintf(detail, sizeof(detail), "{\"zones\":%d}", n);
    sg_http_audit(r, "zones.set", "ok", r->id, "zones", detail);
    free(text);
    return sg_api_zones_get(r);
}
