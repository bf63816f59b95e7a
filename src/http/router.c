/* The route table: every URL the server answers, with the access it grants. Adding a route
 * here is the only way to add one, so the OpenAPI test and the access-control test can both
 * enumerate it (sargasd --print-routes). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"

const struct sg_route sg_routes[] = {
    { M_GET, "/api/v1/health", A_PUBLIC, O_NONE, 0, sg_api_health },
    { M_POST, "/api/v1/login", A_PUBLIC, O_NONE, R_BODY | R_DEFER, sg_api_login },
    { M_GET, "/api/v1/session", A_PUBLIC, O_NONE, 0, sg_api_session },
    { M_POST, "/api/v1/setup", A_PUBLIC, O_NONE, R_BODY | R_DEFER, sg_api_setup },
    { M_POST, "/api/v1/logout", A_SESSION, O_NONE, 0, sg_api_logout },
    { M_POST, "/api/v1/session/password", A_SESSION, O_NONE, R_BODY | R_DEFER, sg_api_password },
    { M_GET, "/api/v1/openapi.json", A_SESSION, O_NONE, 0, sg_api_openapi },
    { M_GET, "/api/v1/site", A_SESSION, O_NONE, 0, sg_api_site },
    { M_GET, "/api/v1/site/key.pub", A_SESSION, O_NONE, 0, sg_api_site_key },
    { M_GET, "/api/v1/cameras", A_CAMERA_LIST, O_NONE, 0, sg_api_cameras_list },
    { M_POST, "/api/v1/cameras", A_CAMERA_ADMIN, O_NONE, R_BODY, sg_api_camera_create },
    { M_GET, "/api/v1/cameras/{id}", A_CAMERA_READ, O_CAMERA, 0, sg_api_camera_get },
    { M_PATCH, "/api/v1/cameras/{id}", A_CAMERA_ADMIN, O_CAMERA, R_BODY, sg_api_camera_update },
    { M_DELETE, "/api/v1/cameras/{id}", A_CAMERA_ADMIN, O_CAMERA, 0, sg_api_camera_delete },
    { M_GET, "/api/v1/cameras/{id}/state", A_CAMERA_READ, O_CAMERA, 0, sg_api_camera_state },
    { M_GET, "/api/v1/cameras/{id}/recordings", A_PLAYBACK, O_CAMERA, 0, sg_api_recordings },
    { M_GET, "/api/v1/cameras/{id}/loss", A_PLAYBACK, O_CAMERA, 0, sg_api_loss },
    { M_GET, "/api/v1/cameras/{id}/live/{stream}.mp4", A_LIVE, O_CAMERA, 0, sg_media_live },
    { M_GET, "/api/v1/live", A_LIVE_MANY, O_NONE, 0, sg_media_live_mux },
    { M_GET, "/api/v1/cameras/{id}/snapshot.jpg", A_LIVE, O_CAMERA, R_DEFER, sg_media_snapshot },
    { M_GET, "/api/v1/cameras/{id}/playback/{stream}.m3u8", A_PLAYBACK, O_CAMERA, 0, sg_media_playlist },
    { M_GET, "/api/v1/cameras/{id}/segments/{segment}.mp4", A_PLAYBACK, O_CAMERA, 0, sg_media_segment },
    { M_GET, "/api/v1/cameras/{id}/download.mp4", A_EXPORT, O_CAMERA, R_DEFER, sg_media_download },
    { M_GET, "/api/v1/cameras/{id}/zones", A_CAMERA_READ, O_CAMERA, 0, sg_api_zones_get },
    { M_PUT, "/api/v1/cameras/{id}/zones", A_CAMERA_ADMIN, O_CAMERA, R_BODY, sg_api_zones_put },
    { M_GET, "/api/v1/cameras/{id}/activity", A_PLAYBACK, O_CAMERA, 0, sg_api_activity },
    { M_GET, "/api/v1/events", A_PLAYBACK, O_NONE, 0, sg_api_events },
    { M_GET, "/api/v1/events/{id}/thumbnail.jpg", A_PLAYBACK, O_EVENT, 0, sg_api_event_thumbnail },
    { M_GET, "/api/v1/users", A_USERS_READ, O_NONE, 0, sg_api_users_list },
    { M_POST, "/api/v1/users", A_USERS_ADMIN, O_NONE, R_BODY | R_DEFER, sg_api_user_create },
    { M_GET, "/api/v1/users/{id}", A_USERS_READ, O_USER, 0, sg_api_user_get },
    { M_PATCH, "/api/v1/users/{id}", A_USERS_ADMIN, O_USER, R_BODY | R_DEFER, sg_api_user_update },
    { M_DELETE, "/api/v1/users/{id}", A_USERS_ADMIN, O_USER, 0, sg_api_user_delete },
    { M_PUT, "/api/v1/users/{id}/grants", A_USERS_ADMIN, O_USER, R_BODY, sg_api_user_grants },
    { M_DELETE, "/api/v1/users/{id}/sessions", A_USERS_ADMIN, O_USER, 0, sg_api_user_sessions_revoke },
    { M_GET, "/api/v1/tokens", A_SESSION, O_NONE, 0, sg_api_tokens_list },
    { M_POST, "/api/v1/tokens", A_SESSION, O_NONE, R_BODY, sg_api_token_create },
    { M_DELETE, "/api/v1/tokens/{id}", A_SESSION, O_TOKEN, 0, sg_api_token_delete },
    { M_GET, "/api/v1/audit", A_AUDIT, O_NONE, 0, sg_api_audit },
    { M_GET, "/api/v1/audit.csv", A_AUDIT, O_NONE, 0, sg_api_audit_csv },
    { M_GET, "/api/v1/cases", A_CASES_READ, O_NONE, 0, sg_api_cases_list },
    { M_POST, "/api/v1/cases", A_CASES, O_NONE, R_BODY, sg_api_case_create },
    { M_GET, "/api/v1/cases/{id}", A_CASES_READ, O_CASE, 0, sg_api_case_get },
    { M_POST, "/api/v1/cases/{id}/items", A_CASES, O_CASE, R_BODY, sg_api_case_item_add },
    { M_POST, "/api/v1/cases/{id}/items/{item}/release", A_RELEASE, O_CASE, R_BODY, sg_api_case_item_release },
    { M_POST, "/api/v1/cases/{id}/close", A_RELEASE, O_CASE, R_BODY, sg_api_case_close },
    { M_GET, "/api/v1/exports", A_EXPORT, O_NONE, 0, sg_api_exports_list },
    { M_POST, "/api/v1/exports", A_EXPORT, O_NONE, R_BODY, sg_api_export_create },
    { M_GET, "/api/v1/exports/{id}", A_EXPORT, O_EXPORT, 0, sg_api_export_get },
    { M_DELETE, "/api/v1/exports/{id}", A_EXPORT, O_EXPORT, 0, sg_api_export_delete },
    { M_GET, "/api/v1/exports/{id}/package.zip", A_EXPORT, O_EXPORT, 0, sg_api_export_package },
};
const int sg_n_routes = (int)(sizeof(sg_routes) / sizeof(sg_routes[0]));

/* A positive decimal id of at most 18 digits, nothing else. */
int sg_http_parse_id(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;

    if (!n || n > 18 || s[0] == '0')
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Matches one path segment against a pattern segment ("{id}", "{stream}.mp4", "cameras").
 * Returns 1 on match (filling r), 0 on mismatch. */
static int match_seg(struct sg_req *r, const char *pat, size_t plen, const char *s, size_t slen)
{
    const char *close;
    size_t suffix;

    if (pat[0] != '{')
        return plen == slen && !memcmp(pat, s, slen);
    close = memchr(pat, '}', plen);
    if (!close)
        return 0;
    suffix = plen - (size_t)(close + 1 - pat);
    if (slen <= suffix || memcmp(s + slen - suffix, close + 1, suffix))
        return 0;
    slen -= suffix;
    if (!strncmp(pat, "{id}", 4))
        return sg_http_parse_id(s, slen, &r->id) == 0;
    if (!strncmp(pat, "{segment}", 9))
        return sg_http_parse_id(s, slen, &r->segment) == 0;
    if (!strncmp(pat, "{item}", 6))
        return sg_http_parse_id(s, slen, &r->item) == 0;
    if (!strncmp(pat, "{stream}", 8)) {
        if (slen == 4 && !memcmp(s, "main", 4))
            r->stream = SG_STREAM_MAIN;
        else if (slen == 3 && !memcmp(s, "sub", 3))
            r->stream = SG_STREAM_SUB;
        else
            return 0;
        return 1;
    }
    return 0;
}

static int match_path(struct sg_req *r, const char *pattern, const char *path)
{
    const char *p = pattern, *s = path;

    while (*p && *s) {
        const char *pe = strchr(p + 1, '/'), *se = strchr(s + 1, '/');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p), sl = se ? (size_t)(se - s) : strlen(s);
        if (*p != '/' || *s != '/' || !match_seg(r, p + 1, pl - 1, s + 1, sl - 1))
            return 0;
        p += pl;
        s += sl;
    }
    return !*p && !*s;
}

const struct sg_route *sg_route_match(struct sg_req *r, const char *path, unsigned *status)
{
    int path_found = 0;

    for (int i = 0; i < sg_n_routes; i++) {
        if (!match_path(r, sg_routes[i].pattern, path))
            continue;
        path_found = 1;
        if (sg_routes[i].method == r->method ||
            (r->method == M_HEAD && sg_routes[i].method == M_GET))
            return &sg_routes[i];
    }
    *status = path_found ? MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND;
    return NULL;
}

static const char *access_name(int a)
{
    switch (a) {
    case A_PUBLIC: return "public";
    case A_SESSION: return "session";
    case A_USERS_READ: return "users.read";
    case A_USERS_ADMIN: return "users.admin";
    case A_AUDIT: return "audit";
    case A_CAMERA_LIST: return "camera.list";
    case A_CAMERA_READ: return "camera.read";
    case A_CAMERA_ADMIN: return "camera.admin";
    case A_LIVE: return "live";
    case A_PLAYBACK: return "playback";
    case A_EXPORT: return "export";
    case A_LIVE_MANY: return "live.many";
    case A_CASES_READ: return "cases.read";
    case A_CASES: return "cases";
    case A_RELEASE: return "release";
    }
    return "?";
}

static const char *object_name(int o)
{
    switch (o) {
    case O_NONE: return "-";
    case O_CAMERA: return "camera";
    case O_USER: return "user";
    case O_TOKEN: return "token";
    case O_EVENT: return "event";
    case O_CASE: return "case";
    case O_EXPORT: return "export";
    }
    return "?";
}

const char *sg_http_method_name(int m)
{
    switch (m) {
    case M_GET: return "GET";
    case M_HEAD: return "HEAD";
    case M_POST: return "POST";
    case M_PATCH: return "PATCH";
    case M_DELETE: return "DELETE";
    case M_PUT: return "PUT";
    }
    return "?";
}

void sg_http_print_routes(FILE *f)
{
    for (int i = 0; i < sg_n_routes; i++)
        fprintf(f, "%s %s %s %s\n", sg_http_method_name(sg_routes[i].method), sg_routes[i].pattern,
                access_name(sg_routes[i].access), object_name(sg_routes[i].object));
}
