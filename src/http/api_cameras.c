/* API: server health, the OpenAPI document, cameras and their state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "base/clock.h"
#include "base/err.h"
#include "auth/auth.h"
#include "base/log.h"
#include "http/http_int.h"
#include "ingest/url.h"

/* Generated from docs/openapi.json at build time (see CMakeLists.txt). */
extern const unsigned char sg_openapi_json[];
extern const unsigned long sg_openapi_json_len;

int sg_api_openapi(struct sg_req *r)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        sg_openapi_json_len, (void *)sg_openapi_json, MHD_RESPMEM_PERSISTENT);

    MHD_add_response_header(resp, "Content-Type", "application/json");
    return sg_reply(r, MHD_HTTP_OK, resp);
}

/* What motion analysis did on this stream, or null when the stream is not analysed. */
static json_t *analysis_json(struct sg_req *r, const struct sg_camera *c, int stream)
{
    struct sg_analysis_info ai;

    if (sg_analysis_info(r->srv->analysis, c->id, stream, &ai) < 0)
        return json_null();
    return json_pack("{s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "frames", (json_int_t)ai.frames, "decoded",
                     (json_int_t)ai.decoded, "skipped", (json_int_t)ai.skipped, "restarts",
                     (json_int_t)ai.restarts, "last", sg_json_time(ai.last_utc_us),
                     "width", ai.width ? json_integer(ai.width) : json_null(),
                     "height", ai.height ? json_integer(ai.height) : json_null());
}

static json_t *stream_state(struct sg_req *r, const struct sg_camera *c, int stream,
                            const struct sg_stream_state *rows, int n_rows)
{
    struct sg_live_info li;
    const struct sg_stream_state *row = NULL;
    const char *state;

    if (stream == SG_STREAM_SUB && !c->sub_url[0])
        return json_null();
    for (int i = 0; i < n_rows; i++)
        if (rows[i].camera_id == c->id && rows[i].stream == stream)
            row = &rows[i];
    if (sg_live_info(r->srv->live, c->id, stream, &li) == 0) {
        static const char *const names[] = { "connecting", "online", "offline" };
        state = li.state >= 0 && li.state <= 2 ? names[li.state] : "offline";
        return json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:b,s:i,s:o}", "state", state,
                         "since", sg_json_time(li.since_us),
                         "last_error", li.last_error[0] ? json_string(li.last_error) : json_null(),
                         "codec", li.codec ? json_string(sg_codec_name(li.codec)) : json_null(),
                         "width", li.width ? json_integer(li.width) : json_null(),
                         "height", li.height ? json_integer(li.height) : json_null(),
                         "live", li.has_video, "viewers", li.viewers, "analysis", analysis_json(r, c, stream));
    }
    return json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:b,s:i,s:o}", "state", c->enabled ? "connecting" : "disabled",
                     "since", sg_json_time(row ? row->since_us : c->updated_us),
                     "last_error", row && row->last_error[0] ? json_string(row->last_error) : json_null(),
                     "codec", row && row->codec[0] ? json_string(row->codec) : json_null(),
                     "width", row && row->width ? json_integer(row->width) : json_null(),
                     "height", row && row->height ? json_integer(row->height) : json_null(),
                     "live", 0, "viewers", 0, "analysis", analysis_json(r, c, stream));
}

static json_t *streams_json(struct sg_req *r, const struct sg_camera *c,
                            const struct sg_stream_state *rows, int n)
{
    return json_pack("{s:o,s:o}", "main", stream_state(r, c, SG_STREAM_MAIN, rows, n), "sub",
                     stream_state(r, c, SG_STREAM_SUB, rows, n));
}

static json_t *camera_json(struct sg_req *r, const struct sg_camera *c,
                           const struct sg_stream_state *rows, int n)
{
    char mainu[SG_URL_MAX], subu[SG_URL_MAX];

    sg_url_redact(c->main_url, mainu, sizeof(mainu));
    sg_url_redact(c->sub_url, subu, sizeof(subu));
    return json_pack("{s:I,s:I,s:s,s:s,s:o,s:i,s:s,s:b,s:b,s:o,s:o,s:o}", "id", (json_int_t)c->id,
                     "site", (json_int_t)c->site_id, "name", c->name, "main_url", mainu, "sub_url",
                     c->sub_url[0] ? json_string(subu) : json_null(), "retain_hours", c->retain_hours,
                     "transport", sg_transport_name(c->transport), "record_sub", c->record_sub,
                     "enabled", c->enabled, "created", sg_json_time(c->created_us), "updated",
                     sg_json_time(c->updated_us), "streams", streams_json(r, c, rows, n));
}

static int reply_camera(struct sg_req *r, unsigned status, int64_t id)
{
    struct sg_camera c;
    struct sg_stream_state *rows = NULL;
    int n, rc;

    if ((rc = sg_catalog_camera_get(r->cat, id, &c)) < 0)
        return sg_reply_errno(r, rc, "camera");
    n = sg_catalog_state_list(r->cat, &rows);
    rc = sg_reply_json(r, status, camera_json(r, &c, rows, n > 0 ? n : 0));
    free(rows);
    return rc;
}

int sg_api_cameras_list(struct sg_req *r)
{
    struct sg_camera *cams = NULL;
    struct sg_stream_state *rows = NULL;
    json_t *arr;
    int n, nr;

    if ((n = sg_catalog_camera_list(r->cat, &cams)) < 0)
        return sg_reply_errno(r, n, "camera list");
    nr = sg_catalog_state_list(r->cat, &rows);
    arr = json_array();
    for (int i = 0; i < n; i++)
        if (sg_http_camera_visible(r, &cams[i]))
            json_array_append_new(arr, camera_json(r, &cams[i], rows, nr > 0 ? nr : 0));
    free(cams);
    free(rows);
    return sg_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "cameras", arr));
}

int sg_api_camera_get(struct sg_req *r) { return reply_camera(r, MHD_HTTP_OK, r->id); }

int sg_api_camera_state(struct sg_req *r)
{
    struct sg_camera c;
    struct sg_stream_state *rows = NULL;
    int n, rc;

    if ((rc = sg_catalog_camera_get(r->cat, r->id, &c)) < 0)
        return sg_reply_errno(r, rc, "camera");
    n = sg_catalog_state_list(r->cat, &rows);
    rc = sg_reply_json(r, MHD_HTTP_OK, streams_json(r, &c, rows, n > 0 ? n : 0));
    free(rows);
    return rc;
}

/* Applies the JSON fields of a create/update body to cam. Returns 0, or replies 400 and
 * returns -1. Unknown fields are refused so that a typo is not silently ignored. */
static int apply_fields(struct sg_req *r, json_t *o, struct sg_camera *cam)
{
    static const char *const known[] = { "name", "main_url", "sub_url", "retain_hours",
                                         "transport", "record_sub", "enabled" };
    const char *key, *s;
    json_t *v;
    char err[256];
    struct sg_url u;

    json_object_foreach(o, key, v) {
        size_t i;
        for (i = 0; i < sizeof(known) / sizeof(known[0]) && strcmp(key, known[i]); i++)
            ;
        if (i == sizeof(known) / sizeof(known[0]))
            goto bad_field;
        if (!strcmp(key, "name")) {
            if (!json_is_string(v) || !sg_camera_name_valid(json_string_value(v)))
                return sg_reply_error(r, 400, "bad_request", "name: 1-127 characters, no control characters"), -1;
            snprintf(cam->name, sizeof(cam->name), "%s", json_string_value(v));
        } else if (!strcmp(key, "main_url") || !strcmp(key, "sub_url")) {
            char *dst = key[0] == 'm' ? cam->main_url : cam->sub_url;
            if (json_is_null(v) && key[0] == 's') {
                dst[0] = 0;
                continue;
            }
            s = json_string_value(v);
            if (!s || strlen(s) >= SG_URL_MAX ||
                sg_url_parse(s, r->srv->cfg->allow_test_sources, &u, err, sizeof(err)) < 0)
                return sg_reply_error(r, 400, "bad_url", "%s refused: %s", key,
                                      s ? err : "must be a string"), -1;
            snprintf(dst, SG_URL_MAX, "%s", s);
        } else if (!strcmp(key, "retain_hours")) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 24 * 366 * 10)
                return sg_reply_error(r, 400, "bad_request", "retain_hours: integer from 1 to 87840"), -1;
            cam->retain_hours = (int)json_integer_value(v);
        } else if (!strcmp(key, "transport")) {
            int t = json_is_string(v) ? sg_transport_parse(json_string_value(v)) : -EINVAL;
            if (t < 0)
                return sg_reply_error(r, 400, "bad_request", "transport: default, tcp or udp"), -1;
            cam->transport = t;
        } else {
            if (!json_is_boolean(v))
                goto bad_field;
            *(key[0] == 'r' ? &cam->record_sub : &cam->enabled) = json_is_true(v);
        }
    }
    return 0;
bad_field:
    sg_reply_error(r, 400, "bad_request", "unknown field or wrong type: '%.64s'", key);
    return -1;
}

/* Audits a camera change with the fields the request sent (URLs without credentials). */
static void audit_change(struct sg_req *r, const char *action, const struct sg_camera *cam)
{
    json_t *d = json_deep_copy(r->json);
    const char *urls[] = { "main_url", "sub_url" };
    char red[SG_URL_MAX];

    for (int i = 0; i < 2; i++) {
        const char *u = json_string_value(json_object_get(d, urls[i]));
        if (u) {
            sg_url_redact(u, red, sizeof(red));
            json_object_set_new(d, urls[i], json_string(red));
        }
    }
    sg_http_audit_json(r, action, "ok", cam->id, cam->name, d);
}

int sg_api_camera_create(struct sg_req *r)
{
    struct sg_camera cam;
    int rc;

    memset(&cam, 0, sizeof(cam));
    cam.site_id = r->who.site_id;
    cam.retain_hours = r->srv->cfg->default_retain_hours;
    cam.enabled = 1;
    if (!json_object_get(r->json, "name") || !json_object_get(r->json, "main_url"))
        return sg_reply_error(r, 400, "bad_request", "name and main_url are required");
    if (apply_fields(r, r->json, &cam) < 0)
        return MHD_YES;
    if ((rc = sg_catalog_camera_add(r->cat, &cam)) < 0)
        return sg_reply_errno(r, rc, "camera");
    sg_info("http", cam.id, "camera '%s' created through the API", cam.name);
    audit_change(r, "camera.add", &cam);
    return reply_camera(r, MHD_HTTP_CREATED, cam.id);
}

int sg_api_camera_update(struct sg_req *r)
{
    struct sg_camera cam;
    int rc;

    if ((rc = sg_catalog_camera_get(r->cat, r->id, &cam)) < 0)
        return sg_reply_errno(r, rc, "camera");
    if (apply_fields(r, r->json, &cam) < 0)
        return MHD_YES;
    if ((rc = sg_catalog_camera_update(r->cat, &cam)) < 0)
        return sg_reply_errno(r, rc, "camera");
    sg_info("http", cam.id, "camera '%s' changed through the API", cam.name);
    audit_change(r, "camera.update", &cam);
    return reply_camera(r, MHD_HTTP_OK, cam.id);
}

int sg_api_camera_delete(struct sg_req *r)
{
    struct sg_buf empty = { 0 };
    int rc;

    if ((rc = sg_catalog_camera_remove(r->cat, r->id)) < 0)
        return sg_reply_errno(r, rc, "camera");
    sg_info("http", r->id, "camera removed through the API (recordings kept until retention)");
    sg_http_audit(r, "camera.remove", "ok", r->id, "", NULL);
    return sg_reply_buf(r, MHD_HTTP_NO_CONTENT, "application/json", &empty);
}

int sg_api_health(struct sg_req *r)
{
    const struct sg_config *cfg = r->srv->cfg;
    struct sg_camera *cams = NULL;
    json_t *roots = json_array();
    int n, online = 0, degraded = 0, visible = 0;
    char now[40];

    if (!(r->who.perms & SG_P_CAMERA_ADMIN)) {
        /* Without an administrator's session: only whether it runs (for load balancers and
         * monitoring); nothing about cameras, disks or versions. */
        sg_utc_format(sg_utc_us(), 3, now, sizeof(now));
        json_decref(roots);
        return sg_reply_json(r, MHD_HTTP_OK, json_pack("{s:s,s:s}", "status", "ok", "time", now));
    }
    n = sg_catalog_camera_list(r->cat, &cams);
    for (int i = 0; i < n; i++) {
        struct sg_live_info li;
        if (!sg_http_camera_visible(r, &cams[i]))
            continue;
        visible++;
        if (sg_live_info(r->srv->live, cams[i].id, SG_STREAM_MAIN, &li) == 0 && li.state == SG_ST_ONLINE)
            online++;
    }
    free(cams);
    for (int i = 0; i < cfg->n_storage_roots; i++) {
        struct statvfs vfs;
        int64_t free_b = 0, total = 0;
        int full;
        if (statvfs(cfg->storage_roots[i], &vfs) == 0) {
            free_b = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
            total = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
        }
        full = free_b < cfg->storage_min_free / 2;
        degraded |= full;
        json_array_append_new(roots, json_pack("{s:s,s:I,s:I,s:b}", "root", cfg->storage_roots[i],
                                               "free_bytes", (json_int_t)free_b, "total_bytes",
                                               (json_int_t)total, "full", full));
    }
    if (n < 0)
        degraded = 1;
    sg_utc_format(sg_utc_us(), 3, now, sizeof(now));
    return sg_reply_json(r, MHD_HTTP_OK,
                         json_pack("{s:s,s:s,s:s,s:I,s:{s:i,s:i},s:o}", "status", degraded ? "degraded" : "ok",
                                   "version", r->srv->version, "time", now, "uptime_s",
                                   (json_int_t)((sg_mono_ns() - r->srv->started_mono_ns) / SG_NS_PER_SEC),
                                   "cameras", "total", visible, "online", online, "storage", roots));
}
