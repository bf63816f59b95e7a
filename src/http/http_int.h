/* Internals of the HTTP module shared by its files. */
#ifndef SG_HTTP_HTTP_INT_H
#define SG_HTTP_HTTP_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/thread.h"
#include "catalog/catalog.h"
#include "http/http.h"
#include "playback/playback.h"

#define SG_HTTP_MAX_BODY (64 * 1024) /* JSON request bodies */

enum sg_method { M_GET = 1, M_POST = 2, M_PATCH = 4, M_DELETE = 8, M_PUT = 16, M_HEAD = 32 };

/* What a route gives access to. The authorisation hook (authz.c) decides per principal:
 * unauthenticated -> 401; the principal's permissions lack the kind's -> 403 (whatever the
 * object); the object named by {id} is missing, in another site or not granted -> 404,
 * exactly as if it did not exist. */
enum sg_access {
    A_PUBLIC = 1,       /* no session needed (health, login, setup, the session probe) */
    A_SESSION,          /* any signed-in principal */
    A_CAMERA_LIST,      /* list cameras (filtered per principal) */
    A_CAMERA_READ,      /* a camera's settings and state */
    A_CAMERA_ADMIN,     /* create, change, delete cameras */
    A_LIVE,             /* live video and snapshots of {id} */
    A_PLAYBACK,         /* recordings, playback and segments of {id} */
    A_EXPORT,           /* downloads of {id} */
    A_LIVE_MANY,        /* live video of several cameras named in the query (each authorised) */
    A_USERS_READ,       /* the user register and grants */
    A_USERS_ADMIN,      /* create, change, delete users, grants, sessions */
    A_AUDIT,            /* the audit trail */
    A_CASES_READ,       /* cases and their items */
    A_CASES,            /* create cases, add items (locks) */
    A_RELEASE,          /* release a lock, close a case */
};

/* What a route's {id} names. */
enum sg_object { O_NONE = 0, O_CAMERA, O_USER, O_TOKEN, O_EVENT, O_CASE, O_EXPORT };

/* Who is asking: filled by authentication before authorisation. */
struct sg_principal {
    int64_t user_id;          /* 0 = nobody signed in */
    int64_t site_id;
    int64_t session_id;       /* console session (cookie), 0 if none */
    int64_t token_id;         /* API token, 0 if none */
    char name[SG_NAME_MAX];
    int role;
    unsigned perms;           /* role's permissions (intersected with the token's scopes) */
    int all_cameras;
    char csrf[SG_CSRF_MAX];
    int64_t session_expires_us;
};

struct sg_req;
struct sg_live_mux;
typedef int (*sg_handler)(struct sg_req *r);

#define R_BODY  1 /* takes a JSON body */
#define R_DEFER 2 /* runs on a job thread (slow: decoding, remuxing) */

struct sg_route {
    int method;
    const char *pattern;  /* "/api/v1/cameras/{id}/live/{stream}.mp4" */
    int access;           /* enum sg_access */
    int object;           /* enum sg_object: what {id} names */
    int flags;
    sg_handler fn;
};

struct sg_http {
    struct MHD_Daemon *mhd;
    const struct sg_config *cfg;
    struct sg_live *live;
    struct sg_analysis *analysis; /* may be NULL */
    const char *version;
    int64_t started_mono_ns;
    atomic_int stopping;
    char web_root[4096];  /* realpath */

    /* catalog connections, one per thread that may use one at a time */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    struct sg_catalog **pool;
    int pool_n, pool_free;
    struct sg_catalog **pool_stack;

    struct sg_frag_cache *frags;

    /* job threads for R_DEFER routes */
    pthread_mutex_t job_mu;
    pthread_cond_t job_cv;
    struct sg_req *job_head, *job_tail;
    int job_stop;
    struct sg_thread *job_threads;
    int n_job_threads;
    atomic_int live_viewers;
    pthread_mutex_t mux_mu;   /* guards the list of multiplexed live responses */
    struct sg_live_mux *muxes;
    char tls_cert_pem[65536], tls_key_pem[65536];

    struct sg_ratelimit *login_fails_user, *login_fails_addr;
    pthread_mutex_t setup_mu;
    unsigned char setup_hash[32]; /* one-time setup token while no admin exists */
    int setup_active;
};

struct sg_req {
    struct sg_http *srv;
    struct MHD_Connection *conn;
    int method;
    const char *url;
    const struct sg_route *route;
    int64_t id;              /* {id} */
    int64_t segment;         /* {segment} */
    int64_t item;            /* {item} */
    int stream;              /* {stream} */
    struct sg_buf body;
    int body_too_big;
    json_t *json;            /* parsed body (R_BODY) */
    struct sg_catalog *cat;  /* borrowed from the pool while the handler runs */
    int deferred;            /* queued on a job thread / done */
    struct MHD_Response *pending;
    unsigned pending_status;
    struct sg_req *job_next;
    struct sg_principal who;
    char source[SG_SOURCE_MAX];  /* client address */
    int set_cookie;              /* 1: add the session cookie (token in cookie_value); -1: clear it */
    int retry_after;             /* > 0: add a Retry-After header (seconds) */
    char cookie_value[64];
};

/* Responses. Each returns the MHD result of queueing (MHD_YES/MHD_NO). */
int sg_reply(struct sg_req *r, unsigned status, struct MHD_Response *resp);
int sg_reply_json(struct sg_req *r, unsigned status, json_t *body /* consumed */);
int sg_reply_error(struct sg_req *r, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Maps one of our negative codes to a status and error code. */
int sg_reply_errno(struct sg_req *r, int err, const char *what);
int sg_reply_buf(struct sg_req *r, unsigned status, const char *ctype, struct sg_buf *b /* taken */);

/* Refuses any key of the JSON object o that is not in `known` (NULL-terminated): 0, or
 * replies 400 and returns -1. */
int sg_http_only_keys(struct sg_req *r, json_t *o, const char *const *known);

/* Query parameters. */
const char *sg_query(struct sg_req *r, const char *name);
/* Parses an RFC 3339 query parameter; missing -> def. Returns 0 or replies 400 and returns
 * -1 (the handler then returns *mhd_ret). */
int sg_query_time(struct sg_req *r, const char *name, int64_t def, int64_t *out);
int sg_query_int(struct sg_req *r, const char *name, int64_t def, int64_t lo, int64_t hi,
                 int64_t *out);

/* Time as RFC 3339 JSON string (null for 0). */
json_t *sg_json_time(int64_t utc_us);

/* Acquires / returns a catalog connection. */
struct sg_catalog *sg_http_catalog(struct sg_http *h);
void sg_http_catalog_put(struct sg_http *h, struct sg_catalog *c);

/* The absolute path (abs: PATH_MAX bytes) of a recorded segment file, resolved under its
 * configured storage root (symlinks and '..' cannot leave it). Returns 0, -ENOENT (file or
 * root gone) or -EACCES (resolves outside the root). */
int sg_http_segment_path(struct sg_http *h, const struct sg_segment *seg, char *abs);

/* parse.c */
/* Percent-decodes s in place (MHD's unescape callback); encoded NUL and control characters
 * stay encoded. Returns the new length. */
size_t sg_http_unescape(void *cls, struct MHD_Connection *c, char *s);
/* Parses a single "bytes=a-b" / "bytes=a-" / "bytes=-n" range against size. Returns 1 with
 * [*off, *off + *len) on a usable range, 0 when h is NULL (whole file), -1 when it is
 * unsatisfiable or malformed (multiple ranges included). */
int sg_http_parse_range(const char *h, int64_t size, int64_t *off, int64_t *len);

/* media_live.c: wakes every multiplexed live response (once a second, and at shutdown). */
void sg_http_wake_muxes(struct sg_http *h);
/* Parses "1:sub,2:main" (at most max entries). Returns the count or -1. */
int sg_http_parse_streams(const char *s, int64_t *ids, int *streams, int max);

/* router.c */
/* A positive decimal id of 1-18 digits without a leading zero, nothing else: 0 or -EINVAL. */
int sg_http_parse_id(const char *s, size_t n, int64_t *out);
extern const struct sg_route sg_routes[];
/* "GET", "HEAD", "POST", ... ("?" when unknown). */
const char *sg_http_method_name(int m);
extern const int sg_n_routes;
/* Finds the route for method + path and fills r->id/segment/stream. Returns the route, or
 * NULL with *status 404 (no such path) or 405 (path exists, method does not). */
const struct sg_route *sg_route_match(struct sg_req *r, const char *path, unsigned *status);

/* authz.c: authentication and the one authorisation hook. */
/* Finds the principal of r from its Authorization: Bearer token or its session cookie
 * (r->who.user_id stays 0 when neither is valid). */
void sg_http_authenticate(struct sg_req *r);
/* 1 while the principal's session or token is still valid and its user enabled (for long
 * responses, which re-check every few seconds so that a revocation also ends them). */
int sg_http_principal_valid(struct sg_http *h, const struct sg_principal *who);
/* Returns 0 (allowed) or an HTTP status to answer (401, 403, 404). */
unsigned sg_http_authorize(struct sg_req *r);
/* The same decision for one camera and access kind, for handlers that name several cameras. */
unsigned sg_http_authorize_camera(struct sg_req *r, int access, int64_t camera_id);
/* 1 when the principal may see this camera at all (site, grants). */
int sg_http_camera_visible(struct sg_req *r, const struct sg_camera *cam);
/* Writes an audit entry for r's principal (detail: a JSON object text or NULL). Logs, but
 * does not fail the request, when the entry cannot be written. */
void sg_http_audit(struct sg_req *r, const char *action, const char *outcome, int64_t camera_id,
                   const char *object, const char *detail);
/* The same with a JSON detail object (consumed). */
void sg_http_audit_json(struct sg_req *r, const char *action, const char *outcome,
                        int64_t camera_id, const char *object, json_t *detail);

/* handlers */
int sg_api_health(struct sg_req *r);
int sg_api_openapi(struct sg_req *r);
int sg_api_cameras_list(struct sg_req *r);
int sg_api_camera_get(struct sg_req *r);
int sg_api_camera_create(struct sg_req *r);
int sg_api_camera_update(struct sg_req *r);
int sg_api_camera_delete(struct sg_req *r);
int sg_api_camera_state(struct sg_req *r);
int sg_api_recordings(struct sg_req *r);
int sg_api_loss(struct sg_req *r);
int sg_media_live(struct sg_req *r);
int sg_media_live_mux(struct sg_req *r);
int sg_media_snapshot(struct sg_req *r);
int sg_media_playlist(struct sg_req *r);
int sg_media_segment(struct sg_req *r);
int sg_media_download(struct sg_req *r);
int sg_static_file(struct sg_req *r, const char *path);
/* api_auth.c */
int sg_api_login(struct sg_req *r);
int sg_api_logout(struct sg_req *r);
int sg_api_session(struct sg_req *r);
int sg_api_setup(struct sg_req *r);
int sg_api_password(struct sg_req *r);
int sg_api_site(struct sg_req *r);
/* Creates the one-time setup token when no admin exists (logged for the operator). */
void sg_http_setup_init(struct sg_http *h);
/* api_users.c */
int sg_api_users_list(struct sg_req *r);
int sg_api_user_create(struct sg_req *r);
int sg_api_user_get(struct sg_req *r);
int sg_api_user_update(struct sg_req *r);
int sg_api_user_delete(struct sg_req *r);
int sg_api_user_grants(struct sg_req *r);
int sg_api_user_sessions_revoke(struct sg_req *r);
int sg_api_tokens_list(struct sg_req *r);
int sg_api_token_create(struct sg_req *r);
int sg_api_token_delete(struct sg_req *r);
/* api_audit.c */
int sg_api_audit(struct sg_req *r);
int sg_api_audit_csv(struct sg_req *r);
/* api_events.c */
int sg_api_events(struct sg_req *r);
int sg_api_event_thumbnail(struct sg_req *r);
int sg_api_activity(struct sg_req *r);
int sg_api_zones_get(struct sg_req *r);
int sg_api_zones_put(struct sg_req *r);
/* api_cases.c */
int sg_api_cases_list(struct sg_req *r);
int sg_api_case_create(struct sg_req *r);
int sg_api_case_get(struct sg_req *r);
int sg_api_case_item_add(struct sg_req *r);
int sg_api_case_item_release(struct sg_req *r);
int sg_api_case_close(struct sg_req *r);
int sg_api_exports_list(struct sg_req *r);
int sg_api_export_create(struct sg_req *r);
int sg_api_export_get(struct sg_req *r);
int sg_api_export_package(struct sg_req *r);
int sg_api_export_delete(struct sg_req *r);
int sg_api_site_key(struct sg_req *r);
/* JSON of a user as the API shows it (no password hash). */
json_t *sg_json_user(const struct sg_user *u);

#endif
