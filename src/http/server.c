/* libmicrohttpd adapter: request lifecycle, body limits, routing, the authorisation hook,
 * the catalog connection pool and the job threads for slow handlers.
 *
 * Threads: http_threads MHD threads, each with its own epoll loop (MHD's thread pool), and two
 * job threads. A slow handler (R_DEFER: snapshot decoding, MP4 remuxing) never runs on an MHD
 * thread, because every live viewer served by that thread would stall behind it: the
 * connection is suspended, the job runs, and the connection is resumed with its response. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "auth/auth.h"
#include "base/log.h"
#include "http/http_int.h"

#define JOB_THREADS 2
#define FRAG_CACHE_ENTRIES 512

/* ---- responses ---- */

int sg_reply(struct sg_req *r, unsigned status, struct MHD_Response *resp)
{
    int ret;

    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->set_cookie) {
        char c[256];
        int tls = r->srv->cfg->tls_cert[0] != 0;
        if (r->set_cookie > 0)
            snprintf(c, sizeof(c), "sargas_session=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s",
                     r->cookie_value, r->srv->cfg->session_hours * 3600, tls ? "; Secure" : "");
        else
            snprintf(c, sizeof(c), "sargas_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
                     tls ? "; Secure" : "");
        MHD_add_response_header(resp, "Set-Cookie", c);
    }
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"sargas\"");
    if (r->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", r->retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    if (r->deferred) { /* on a job thread: handed to the MHD thread on resume */
        r->pending = resp;
        r->pending_status = status;
        return MHD_YES;
    }
    ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

int sg_reply_buf(struct sg_req *r, unsigned status, const char *ctype, struct sg_buf *b)
{
    struct MHD_Response *resp;

    resp = MHD_create_response_from_buffer(b->len, b->data ? b->data : (void *)"",
                                           b->data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        sg_buf_free(b);
        return MHD_NO;
    }
    b->data = NULL; /* now owned by the response */
    b->len = b->cap = 0;
    MHD_add_response_header(resp, "Content-Type", ctype);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    return sg_reply(r, status, resp);
}

int sg_reply_json(struct sg_req *r, unsigned status, json_t *body)
{
    struct sg_buf b = { 0 };
    char *s = json_dumps(body, JSON_COMPACT);

    json_decref(body);
    if (!s)
        return MHD_NO;
    sg_buf_append(&b, s, strlen(s));
    free(s);
    return sg_reply_buf(r, status, "application/json", &b);
}

int sg_reply_error(struct sg_req *r, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return sg_reply_json(r, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

int sg_reply_errno(struct sg_req *r, int err, const char *what)
{
    switch (err) {
    case SG_E_NOTFOUND:
    case -ENOENT:
        return sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "%s: not found", what);
    case SG_E_EXISTS:
        return sg_reply_error(r, MHD_HTTP_CONFLICT, "conflict", "%s: already exists", what);
    case SG_E_URL:
    case SG_E_CONFIG:
    case -EINVAL:
        return sg_reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", "%s: %s", what, sg_strerror(err));
    case SG_E_TOOBIG:
        return sg_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", "%s: %s", what,
                              sg_strerror(err));
    case SG_E_UNSUPPORTED:
        return sg_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "unsupported", "%s: %s", what,
                              sg_strerror(err));
    default:
        sg_error("http", r->id, "%s: %s", what, sg_strerror(err));
        return sg_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "%s failed: %s", what,
                              sg_strerror(err));
    }
}

json_t *sg_json_time(int64_t utc_us)
{
    char s[40];

    if (!utc_us)
        return json_null();
    sg_utc_format(utc_us, 3, s, sizeof(s));
    return json_string(s);
}

int sg_http_only_keys(struct sg_req *r, json_t *o, const char *const *known)
{
    const char *key;
    json_t *v;

    json_object_foreach(o, key, v) {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            ok |= !strcmp(key, *k);
        if (!ok) {
            sg_reply_error(r, 400, "bad_request", "unknown field '%.64s'", key);
            return -1;
        }
    }
    return 0;
}

/* ---- query parameters ---- */

const char *sg_query(struct sg_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int sg_query_time(struct sg_req *r, const char *name, int64_t def, int64_t *out)
{
    const char *v = sg_query(r, name);

    if (!v) {
        *out = def;
        return 0;
    }
    if (sg_utc_parse(v, out) < 0 || *out <= 0) {
        sg_reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
                       "'%s' must be an RFC 3339 UTC time such as 2026-11-21T08:00:00Z", name);
        return -1;
    }
    return 0;
}

int sg_query_int(struct sg_req *r, const char *name, int64_t def, int64_t lo, int64_t hi,
                 int64_t *out)
{
    const char *v = sg_query(r, name);
    char *end;
    long long x;

    if (!v) {
        *out = def;
        return 0;
    }
    errno = 0;
    x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        sg_reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", "'%s' must be an integer in [%lld, %lld]",
                       name, (long long)lo, (long long)hi);
        return -1;
    }
    *out = x;
    return 0;
}

/* ---- catalog pool ---- */

struct sg_catalog *sg_http_catalog(struct sg_http *h)
{
    struct sg_catalog *c;

    pthread_mutex_lock(&h->pool_mu);
    while (!h->pool_free)
        pthread_cond_wait(&h->pool_cv, &h->pool_mu);
    c = h->pool_stack[--h->pool_free];
    pthread_mutex_unlock(&h->pool_mu);
    return c;
}

void sg_http_catalog_put(struct sg_http *h, struct sg_catalog *c)
{
    pthread_mutex_lock(&h->pool_mu);
    h->pool_stack[h->pool_free++] = c;
    pthread_cond_signal(&h->pool_cv);
    pthread_mutex_unlock(&h->pool_mu);
}

/* ---- segment files ---- */

int sg_http_segment_path(struct sg_http *h, const struct sg_segment *seg, char *abs)
{
    return sg_segment_path(h->cfg->storage_roots, h->cfg->n_storage_roots, seg, abs);
}

/* ---- request lifecycle ---- */

static int method_of(const char *m)
{
    static const struct { const char *s; int m; } t[] = {
        { "GET", M_GET }, { "HEAD", M_HEAD }, { "POST", M_POST }, { "PATCH", M_PATCH },
        { "DELETE", M_DELETE }, { "PUT", M_PUT },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (!strcmp(m, t[i].s))
            return t[i].m;
    return 0;
}

static void job_push(struct sg_http *h, struct sg_req *r)
{
    pthread_mutex_lock(&h->job_mu);
    r->job_next = NULL;
    if (h->job_tail)
        h->job_tail->job_next = r;
    else
        h->job_head = r;
    h->job_tail = r;
    pthread_cond_signal(&h->job_cv);
    pthread_mutex_unlock(&h->job_mu);
}

static void *job_main(void *arg)
{
    struct sg_http *h = arg;

    for (;;) {
        struct sg_req *r;
        pthread_mutex_lock(&h->job_mu);
        while (!h->job_head && !h->job_stop)
            pthread_cond_wait(&h->job_cv, &h->job_mu);
        if (!h->job_head) {
            pthread_mutex_unlock(&h->job_mu);
            return NULL;
        }
        r = h->job_head;
        h->job_head = r->job_next;
        if (!h->job_head)
            h->job_tail = NULL;
        pthread_mutex_unlock(&h->job_mu);

        r->cat = sg_http_catalog(h);
        if (r->route->fn(r) != MHD_YES && !r->pending)
            sg_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "request failed");
        sg_http_catalog_put(h, r->cat);
        r->cat = NULL;
        MHD_resume_connection(r->conn);
    }
}

/* Refuses a routed request: audits the refusal (route, status, reason), gives the catalog
 * connection back and answers with the error. */
static int refuse(struct sg_req *r, const char *url, unsigned status, const char *code, const char *reason,
                  const char *message)
{
    char what[300], detail[96];

    snprintf(what, sizeof(what), "%s %.280s", sg_http_method_name(r->method), url);
    if (reason)
        snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"status\":%u}", reason, status);
    else
        snprintf(detail, sizeof(detail), "{\"status\":%u}", status);
    sg_http_audit(r, "access.denied", "denied", r->route->object == O_CAMERA ? r->id : 0, what, detail);
    sg_http_catalog_put(r->srv, r->cat);
    r->cat = NULL;
    return sg_reply_error(r, status, code, "%s", message);
}

/* Checks and parses the request body for the route. Returns 0, or (having queued a 4xx
 * answer) 1 + the MHD result of queueing it. */
static unsigned read_body(struct sg_req *r)
{
    if (r->body_too_big)
        return 1u + (unsigned)sg_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                                             "request body larger than %d bytes", SG_HTTP_MAX_BODY);
    if (r->route->flags & R_BODY) {
        json_error_t je;
        const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
        if (!ct || strncasecmp(ct, "application/json", 16))
            return 1u + (unsigned)sg_reply_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                                                 "send the body as application/json");
        r->json = json_loadb(r->body.data ? (const char *)r->body.data : "", r->body.len,
                             JSON_REJECT_DUPLICATES, &je);
        if (!r->json || !json_is_object(r->json))
            return 1u + (unsigned)sg_reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_json",
                                                 "body must be a JSON object%s%s", r->json ? "" : ": ",
                                                 r->json ? "" : je.text);
    } else if (r->body.len) {
        return 1u + (unsigned)sg_reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", "this request takes no body");
    }
    return 0;
}

/* Routes, authenticates, authorises and runs a request whose body (if any) is complete. */
static int dispatch(struct sg_req *r, const char *url)
{
    unsigned status = 0;
    int ret;

    if (strncmp(url, "/api/", 5)) {
        if (r->method != M_GET && r->method != M_HEAD)
            return sg_reply_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                                  "static files are read-only");
        return sg_static_file(r, url);
    }
    r->route = sg_route_match(r, url, &status);
    if (!r->route)
        return sg_reply_error(r, status, status == MHD_HTTP_NOT_FOUND ? "not_found" : "method_not_allowed",
                              status == MHD_HTTP_NOT_FOUND ? "no such resource" : "method not allowed here");
    r->cat = sg_http_catalog(r->srv);
    sg_http_authenticate(r);
    status = sg_http_authorize(r);
    if (!status && r->who.session_id && r->method != M_GET && r->method != M_HEAD) {
        /* A cookie travels with any request the browser makes; the CSRF token only with
         * those our console makes (it reads it from the session, not from a cookie). */
        const char *t = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-CSRF-Token");
        if (!t || !sg_secret_equal(t, r->who.csrf))
            return refuse(r, url, MHD_HTTP_FORBIDDEN, "csrf", "csrf",
                          "missing or wrong X-CSRF-Token header (reload the console)");
    }
    if (status == MHD_HTTP_UNAUTHORIZED)
        return refuse(r, url, status, "unauthorized", NULL, "sign in first");
    if (status == MHD_HTTP_NOT_FOUND)
        return refuse(r, url, status, "not_found", NULL, "no such resource");
    if (status)
        return refuse(r, url, status, "forbidden", NULL, "access denied");
    /* The body is looked at only once the principal may use the route: without a session
     * every route answers 401, whatever is sent. */
    if ((status = read_body(r)) != 0) {
        sg_http_catalog_put(r->srv, r->cat);
        r->cat = NULL;
        return (int)status - 1;
    }
    if (r->route->flags & R_DEFER) {
        sg_http_catalog_put(r->srv, r->cat);
        r->cat = NULL;
        r->deferred = 1;
        MHD_suspend_connection(r->conn);
        job_push(r->srv, r);
        return MHD_YES;
    }
    ret = r->route->fn(r);
    sg_http_catalog_put(r->srv, r->cat);
    r->cat = NULL;
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct sg_http *h = cls;
    struct sg_req *r = *con_cls;

    (void)version;
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        r->srv = h;
        r->conn = conn;
        r->url = url;
        r->method = method_of(method);
        r->body.max = SG_HTTP_MAX_BODY;
        *con_cls = r;
        if (!r->method)
            return sg_reply_error(r, MHD_HTTP_NOT_IMPLEMENTED, "method_not_allowed",
                                  "method not supported");
        return MHD_YES; /* wait for the body (or its absence) */
    }
    if (*upload_size) {
        if (!r->body_too_big && sg_buf_append(&r->body, upload, *upload_size) < 0) {
            r->body_too_big = 1;
            sg_buf_free(&r->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->deferred) { /* resumed after its job ran */
        int ret;
        if (!r->pending)
            return MHD_NO;
        ret = MHD_queue_response(conn, r->pending_status, r->pending);
        MHD_destroy_response(r->pending);
        r->pending = NULL;
        return ret;
    }
    return dispatch(r, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct sg_req *r = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (!r)
        return;
    if (r->pending)
        MHD_destroy_response(r->pending);
    json_decref(r->json);
    sg_buf_free(&r->body);
    free(r);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = 0;
    sg_debug("http", 0, "libmicrohttpd: %s", msg);
}

/* Parses "host:port" / "[v6]:port" into a socket address. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[128];
    const char *colon;
    struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM },
                    *ai = NULL;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
            return SG_E_CONFIG;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = 0;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof(host))
            return SG_E_CONFIG;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = 0;
    }
    if (getaddrinfo(host[0] ? host : "0.0.0.0", colon + 1, &hints, &ai) || !ai)
        return SG_E_CONFIG;
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static int read_pem(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got;

    if (fd < 0)
        return -errno;
    got = read(fd, buf, n - 1);
    close(fd);
    if (got < 0)
        return -errno;
    if ((size_t)got == n - 1)
        return SG_E_TOOBIG;
    buf[got] = 0;
    return 0;
}

static int start_mhd(struct sg_http *h)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    struct MHD_OptionItem tls[3] = { { MHD_OPTION_END, 0, NULL } };
    int r;

    if ((r = parse_listen(h->cfg->listen, &ss, &sl)) < 0) {
        sg_error("http", 0, "listen '%s' is not host:port with a numeric address", h->cfg->listen);
        return r;
    }
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (h->cfg->tls_cert[0]) {
        if ((r = read_pem(h->cfg->tls_cert, h->tls_cert_pem, sizeof(h->tls_cert_pem))) < 0 ||
            (r = read_pem(h->cfg->tls_key, h->tls_key_pem, sizeof(h->tls_key_pem))) < 0) {
            sg_error("http", 0, "cannot read tls_cert/tls_key: %s", sg_strerror(r));
            return r;
        }
        flags |= MHD_USE_TLS;
        tls[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert_pem };
        tls[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key_pem };
    }
    h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
                              MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                              MHD_OPTION_THREAD_POOL_SIZE, (unsigned)h->cfg->http_threads,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)h->cfg->http_max_connections,
                              MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 * 1024,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                              MHD_OPTION_UNESCAPE_CALLBACK, sg_http_unescape, h,
                              MHD_OPTION_ARRAY, tls,
                              MHD_OPTION_END);
    if (!h->mhd) {
        sg_error("http", 0, "cannot listen on %s (address in use or not local?)", h->cfg->listen);
        return -EADDRINUSE;
    }
    return 0;
}

int sg_http_start(const struct sg_http_deps *d, struct sg_http **out)
{
    struct sg_http *h = calloc(1, sizeof(*h));
    int r;

    if (!h)
        return -ENOMEM;
    h->cfg = d->cfg;
    h->live = d->live;
    h->analysis = d->analysis;
    h->version = d->version;
    h->started_mono_ns = sg_mono_ns();
    pthread_mutex_init(&h->pool_mu, NULL);
    pthread_cond_init(&h->pool_cv, NULL);
    pthread_mutex_init(&h->job_mu, NULL);
    pthread_cond_init(&h->job_cv, NULL);
    pthread_mutex_init(&h->mux_mu, NULL);
    if (!realpath(d->cfg->web_root, h->web_root)) {
        sg_warn("http", 0, "web_root %s not found: the console is not served", d->cfg->web_root);
        h->web_root[0] = 0;
    }
    h->pool_n = d->cfg->http_threads + JOB_THREADS;
    h->pool = calloc((size_t)h->pool_n, sizeof(*h->pool));
    h->pool_stack = calloc((size_t)h->pool_n, sizeof(*h->pool_stack));
    if (!h->pool || !h->pool_stack)
        abort();
    for (int i = 0; i < h->pool_n; i++) {
        if ((r = sg_catalog_open(d->cfg->catalog, 0, &h->pool[i])) < 0)
            goto fail;
        h->pool_stack[h->pool_free++] = h->pool[i];
    }
    h->frags = sg_frag_cache_create(FRAG_CACHE_ENTRIES);
    h->n_job_threads = JOB_THREADS;
    h->job_threads = calloc(JOB_THREADS, sizeof(*h->job_threads));
    if (!h->frags || !h->job_threads)
        abort();
    for (int i = 0; i < JOB_THREADS; i++)
        if ((r = sg_thread_start(&h->job_threads[i], "http-job", job_main, h)) < 0)
            goto fail;
    h->login_fails_user = sg_ratelimit_create(d->cfg->login_max_failures, d->cfg->login_lockout_s);
    h->login_fails_addr = sg_ratelimit_create(4 * d->cfg->login_max_failures, d->cfg->login_lockout_s);
    pthread_mutex_init(&h->setup_mu, NULL);
    sg_http_setup_init(h);
    if ((r = start_mhd(h)) < 0)
        goto fail;
    sg_info("http", 0, "serving the API and console on %s://%s (%d threads)",
            h->cfg->tls_cert[0] ? "https" : "http", h->cfg->listen, h->cfg->http_threads);
    *out = h;
    return 0;
fail:
    sg_http_stop(&h);
    return r;
}

void sg_http_tick(struct sg_http *h)
{
    if (!h)
        return;
    sg_live_tick(h->live);
    sg_http_wake_muxes(h); /* lets them retry streams that had no video */
}

void sg_http_stop(struct sg_http **hp)
{
    struct sg_http *h = *hp;

    if (!h)
        return;
    *hp = NULL;
    atomic_store(&h->stopping, 1);
    if (h->mhd) {
        /* Parked live viewers must be resumed before MHD may stop: they see `stopping`,
         * end their responses and are not parked again. */
        MHD_quiesce_daemon(h->mhd);
        sg_http_tick(h);
        for (int i = 0; i < 50 && atomic_load(&h->live_viewers) > 0; i++) {
            sg_sleep_until(sg_mono_ns() + 20 * SG_NS_PER_MS);
            sg_http_tick(h);
        }
    }
    pthread_mutex_lock(&h->job_mu);
    h->job_stop = 1;
    pthread_cond_broadcast(&h->job_cv);
    pthread_mutex_unlock(&h->job_mu);
    for (int i = 0; i < h->n_job_threads; i++)
        sg_thread_join(&h->job_threads[i]);
    if (h->mhd)
        MHD_stop_daemon(h->mhd);
    for (int i = 0; i < h->pool_n; i++)
        sg_catalog_close(&h->pool[i]);
    sg_frag_cache_destroy(&h->frags);
    free(h->pool);
    free(h->pool_stack);
    free(h->job_threads);
    pthread_mutex_destroy(&h->pool_mu);
    pthread_cond_destroy(&h->pool_cv);
    pthread_mutex_destroy(&h->job_mu);
    pthread_cond_destroy(&h->job_cv);
    pthread_mutex_destroy(&h->mux_mu);
    if (h->login_fails_user)
        pthread_mutex_destroy(&h->setup_mu);
    sg_ratelimit_destroy(&h->login_fails_user);
    sg_ratelimit_destroy(&h->login_fails_addr);
    free(h);
}
