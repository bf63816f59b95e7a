/* Authentication and the one authorisation hook. Every routed request passes
 * sg_http_authenticate() and sg_http_authorize() before its handler runs; handlers that name
 * several cameras ask sg_http_authorize_camera() for each.
 *
 * Deny by default: a route whose access kind is not listed here is refused. The decision:
 *   public routes: allowed;
 *   nobody signed in: 401;
 *   the principal's permissions lack what the access kind needs: 403, whatever the object,
 *     so that the answer says nothing about which ids exist;
 *   {id} names a camera, user or token that is missing, belongs to another site or is not
 *     granted: 404 with the same body as a missing one.
 * Principals come from a session cookie (the console) or an API token (machines), both
 * looked up by their SHA-256 in the catalog on every request, so a revocation holds at once. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "http/http_int.h"

#define TOUCH_EVERY_US (15 * 1000000LL) /* last-seen writes at most this often per session */

static void client_address(struct sg_req *r)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    snprintf(r->source, sizeof(r->source), "?");
    if (!sa)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, r->source,
                  sizeof(r->source));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, r->source,
                  sizeof(r->source));
}

/* Loads the user behind a session or token into r->who; 0 or -1 (disabled / gone). */
static int load_user(struct sg_req *r, int64_t user_id, unsigned scope)
{
    struct sg_user u;

    if (sg_catalog_user_get(r->cat, user_id, &u) < 0 || u.disabled)
        return -1;
    r->who.user_id = u.id;
    r->who.site_id = u.site_id;
    r->who.role = u.role;
    r->who.all_cameras = u.all_cameras;
    r->who.perms = sg_role_perms(u.role) & scope;
    snprintf(r->who.name, sizeof(r->who.name), "%s", u.name);
    return 0;
}

static void from_token(struct sg_req *r, const char *token)
{
    unsigned char hash[SG_HASH_BYTES];
    struct sg_token t;
    int64_t now = sg_utc_us();

    sg_token_hash(token, hash);
    if (sg_catalog_token_find(r->cat, hash, &t) < 0 || t.revoked_us ||
        (t.expires_us && t.expires_us <= now))
        return;
    if (load_user(r, t.user_id, t.perms) < 0)
        return;
    r->who.token_id = t.id;
    if (t.last_used_us + TOUCH_EVERY_US < now)
        sg_catalog_token_touch(r->cat, t.id, now);
}

static void from_cookie(struct sg_req *r, const char *token)
{
    const struct sg_config *cfg = r->srv->cfg;
    unsigned char hash[SG_HASH_BYTES];
    struct sg_session s;
    int64_t now = sg_utc_us();

    sg_token_hash(token, hash);
    if (sg_catalog_session_find(r->cat, hash, &s) < 0 || s.revoked_us || s.expires_us <= now ||
        s.last_seen_us + (int64_t)cfg->session_idle_minutes * 60000000LL <= now)
        return;
    if (load_user(r, s.user_id, SG_P_ALL) < 0)
        return;
    r->who.session_id = s.id;
    r->who.session_expires_us = s.expires_us;
    snprintf(r->who.csrf, sizeof(r->who.csrf), "%s", s.csrf);
    if (s.last_seen_us + TOUCH_EVERY_US < now)
        sg_catalog_session_touch(r->cat, s.id, now);
}

void sg_http_authenticate(struct sg_req *r)
{
    const char *auth = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
    const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "sargas_session");

    memset(&r->who, 0, sizeof(r->who));
    client_address(r);
    if (auth && !strncasecmp(auth, "Bearer ", 7) && strlen(auth + 7) < 128)
        from_token(r, auth + 7);
    else if (cookie && strlen(cookie) < 128)
        from_cookie(r, cookie);
}

int sg_http_principal_valid(struct sg_http *h, const struct sg_principal *who)
{
    struct sg_catalog *cat = sg_http_catalog(h);
    int64_t now = sg_utc_us();
    struct sg_session s;
    struct sg_token t;
    struct sg_user u;
    int ok = sg_catalog_user_get(cat, who->user_id, &u) == 0 && !u.disabled;

    if (ok && who->session_id)
        ok = sg_catalog_session_get(cat, who->session_id, &s) == 0 && !s.revoked_us && s.expires_us > now;
    else if (ok && who->token_id)
        ok = sg_catalog_token_get(cat, who->token_id, &t) == 0 && !t.revoked_us &&
             (!t.expires_us || t.expires_us > now);
    sg_http_catalog_put(h, cat);
    return ok;
}

/* What each access kind needs; 0 = only a signed-in principal. */
static int needed_perms(int access, unsigned *perms)
{
    switch (access) {
    case A_SESSION: *perms = 0; return 0;
    case A_CAMERA_LIST:
    case A_CAMERA_READ: *perms = SG_P_CAMERA_READ; return 0;
    case A_CAMERA_ADMIN: *perms = SG_P_CAMERA_ADMIN; return 0;
    case A_LIVE:
    case A_LIVE_MANY: *perms = SG_P_LIVE; return 0;
    case A_PLAYBACK: *perms = SG_P_PLAYBACK; return 0;
    case A_EXPORT: *perms = SG_P_EXPORT; return 0;
    case A_USERS_READ: *perms = SG_P_USERS_READ; return 0;
    case A_USERS_ADMIN: *perms = SG_P_USERS_ADMIN; return 0;
    case A_AUDIT: *perms = SG_P_AUDIT_READ; return 0;
    case A_CASES_READ: *perms = SG_P_CASES_READ; return 0;
    case A_CASES: *perms = SG_P_CASES | SG_P_CASES_READ; return 0;
    case A_RELEASE: *perms = SG_P_RELEASE | SG_P_CASES_READ; return 0;
    }
    return -1;
}

int sg_http_camera_visible(struct sg_req *r, const struct sg_camera *cam)
{
    int allow = 0, rc;

    if (!r->who.user_id || cam->site_id != r->who.site_id)
        return 0;
    rc = sg_catalog_grant_get(r->cat, r->who.user_id, cam->id, &allow);
    if (rc < 0)
        return 0;
    return rc ? allow : r->who.all_cameras;
}

unsigned sg_http_authorize_camera(struct sg_req *r, int access, int64_t camera_id)
{
    struct sg_camera cam;
    unsigned need;
    int rc;

    if (access == A_PUBLIC || needed_perms(access, &need) < 0)
        return MHD_HTTP_FORBIDDEN;
    if (!r->who.user_id)
        return MHD_HTTP_UNAUTHORIZED;
    if ((r->who.perms & need) != need)
        return MHD_HTTP_FORBIDDEN;
    rc = sg_catalog_camera_get(r->cat, camera_id, &cam);
    if (rc == SG_E_NOTFOUND || (rc == 0 && !sg_http_camera_visible(r, &cam)))
        return MHD_HTTP_NOT_FOUND; /* missing, other site, not granted: one answer */
    return rc < 0 ? MHD_HTTP_SERVICE_UNAVAILABLE : 0;
}

static unsigned authorize_user_object(struct sg_req *r)
{
    struct sg_user u;
    int rc = sg_catalog_user_get(r->cat, r->id, &u);

    if (rc == SG_E_NOTFOUND || (rc == 0 && u.site_id != r->who.site_id))
        return MHD_HTTP_NOT_FOUND;
    return rc < 0 ? MHD_HTTP_SERVICE_UNAVAILABLE : 0;
}

/* A token: one's own, or (users.admin) one of a user of the same site. */
static unsigned authorize_token_object(struct sg_req *r)
{
    struct sg_token t;
    struct sg_user u;
    int rc = sg_catalog_token_get(r->cat, r->id, &t);

    if (rc == 0 && t.user_id == r->who.user_id)
        return 0;
    if (rc == 0 && (r->who.perms & SG_P_USERS_ADMIN) && sg_catalog_user_get(r->cat, t.user_id, &u) == 0 &&
        u.site_id == r->who.site_id)
        return 0;
    return rc < 0 && rc != SG_E_NOTFOUND ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_NOT_FOUND;
}

/* A case of the principal's site. */
static unsigned authorize_case_object(struct sg_req *r)
{
    struct sg_case c;
    int rc = sg_catalog_case_get(r->cat, r->id, &c);

    if (rc == SG_E_NOTFOUND || (rc == 0 && c.site_id != r->who.site_id))
        return MHD_HTTP_NOT_FOUND;
    return rc < 0 ? MHD_HTTP_SERVICE_UNAVAILABLE : 0;
}

/* An export of the principal's site, every camera of which the principal may export: a
 * package shows its cameras' video, so it is as visible as the least visible of them. */
static unsigned authorize_export_object(struct sg_req *r)
{
    struct sg_export_job j;
    struct sg_export_range *rg = NULL;
    int n, rc = sg_catalog_export_get(r->cat, r->id, &j);
    unsigned st = 0;

    if (rc == SG_E_NOTFOUND || (rc == 0 && j.site_id != r->who.site_id))
        return MHD_HTTP_NOT_FOUND;
    if (rc < 0 || (n = sg_catalog_export_ranges(r->cat, j.id, &rg)) < 0)
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    for (int i = 0; i < n && !st; i++)
        st = sg_http_authorize_camera(r, A_EXPORT, rg[i].camera_id);
    free(rg);
    return st;
}

unsigned sg_http_authorize(struct sg_req *r)
{
    unsigned need;

    if (r->route->access == A_PUBLIC)
        return 0;
    if (needed_perms(r->route->access, &need) < 0)
        return MHD_HTTP_FORBIDDEN;
    if (!r->who.user_id)
        return MHD_HTTP_UNAUTHORIZED;
    switch (r->route->object) {
    case O_CAMERA:
        return sg_http_authorize_camera(r, r->route->access, r->id);
    case O_USER:
        if ((r->who.perms & need) != need)
            return MHD_HTTP_FORBIDDEN;
        return authorize_user_object(r);
    case O_TOKEN:
        if ((r->who.perms & need) != need)
            return MHD_HTTP_FORBIDDEN;
        return authorize_token_object(r);
    case O_EVENT: { /* an event is as visible as its camera */
        struct sg_motion_event ev;
        int rc = sg_catalog_event_get(r->cat, r->id, &ev);
        if ((r->who.perms & need) != need)
            return MHD_HTTP_FORBIDDEN;
        if (rc == SG_E_NOTFOUND)
            return MHD_HTTP_NOT_FOUND;
        if (rc < 0)
            return MHD_HTTP_SERVICE_UNAVAILABLE;
        return sg_http_authorize_camera(r, r->route->access, ev.camera_id);
    }
    case O_CASE:
        if ((r->who.perms & need) != need)
            return MHD_HTTP_FORBIDDEN;
        return authorize_case_object(r);
    case O_EXPORT:
        if ((r->who.perms & need) != need)
            return MHD_HTTP_FORBIDDEN;
        return authorize_export_object(r);
    case O_NONE:
        return (r->who.perms & need) == need ? 0 : MHD_HTTP_FORBIDDEN;
    }
    return MHD_HTTP_FORBIDDEN;
}

/* ---- audit ---- */

void sg_http_audit(struct sg_req *r, const char *action, const char *outcome, int64_t camera_id,
                   const char *object, const char *detail)
{
    struct sg_catalog *cat = r->cat ? r->cat : sg_http_catalog(r->srv);
    int rc = sg_audit_log(cat, r->who.site_id, r->who.user_id, r->who.name, r->source, action, outcome,
                          camera_id, object, detail);

    if (rc < 0)
        sg_error("audit", camera_id, "cannot write audit entry %s by %s: %s", action,
                 r->who.name[0] ? r->who.name : "-", sg_strerror(rc));
    if (cat != r->cat)
        sg_http_catalog_put(r->srv, cat);
}

void sg_http_audit_json(struct sg_req *r, const char *action, const char *outcome,
                        int64_t camera_id, const char *object, json_t *detail)
{
    char *s = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

    json_decref(detail);
    sg_http_audit(r, action, outcome, camera_id, object, s);
    free(s);
}
