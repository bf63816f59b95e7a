/* Live video (fMP4 over one endless HTTP response, for Media Source Extensions) and JPEG
 * snapshots, both served from the live hub's memory: no disk, no transcoding. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "http/http_int.h"

#define LIVE_BLOCK (64 * 1024)
#define SNAPSHOT_MAX_FRAMES 60   /* decode at most this many frames after the keyframe */

struct live_resp {
    struct sg_http *srv;
    struct MHD_Connection *conn;
    struct sg_live_viewer *v;
    int64_t camera_id;
    int stream;
    struct sg_principal who;     /* for the live.stop audit entry */
    char source[SG_SOURCE_MAX];
    int64_t start_ns;
    int64_t recheck_ns;          /* next check that the session is still valid */
};

#define RECHECK_NS (5 * SG_NS_PER_SEC)

/* A live response outlives the request that authorised it: every few seconds it checks that
 * its session or token was not revoked (nor the user disabled) meanwhile. 0 = go on. */
static int revoked(struct sg_http *h, const struct sg_principal *who, int64_t *recheck_ns)
{
    int64_t now = sg_mono_ns();

    if (now < *recheck_ns)
        return 0;
    *recheck_ns = now + RECHECK_NS;
    if (sg_http_principal_valid(h, who))
        return 0;
    sg_info("http", 0, "live view of %s ended: the session was revoked or the user disabled", who->name);
    return 1;
}

/* Audits the end of a live view (the request that began it is gone by then). */
static void audit_view_end(struct sg_http *h, const struct sg_principal *who, const char *source,
                           int64_t camera_id, int stream, int64_t start_ns)
{
    struct sg_req fake = { .srv = h, .who = *who };
    char detail[64];

    snprintf(fake.source, sizeof(fake.source), "%s", source);
    snprintf(detail, sizeof(detail), "{\"seconds\":%lld}", (long long)((sg_mono_ns() - start_ns) / SG_NS_PER_SEC));
    sg_http_audit(&fake, "live.stop", "ok", camera_id, sg_stream_name(stream), detail);
}

/* An endless response fed by reader(cls); free_cb(cls) runs when it ends (also here, when it
 * cannot be created) and must take the viewer out of srv->live_viewers, which shutdown waits
 * on. */
static struct MHD_Response *endless_response(struct sg_http *srv, MHD_ContentReaderCallback reader,
                                             void *cls, MHD_ContentReaderFreeCallback free_cb)
{
    struct MHD_Response *resp;

    atomic_fetch_add(&srv->live_viewers, 1);
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, LIVE_BLOCK, reader, cls, free_cb);
    if (!resp)
        free_cb(cls);
    return resp;
}

static void live_wake(void *opaque)
{
    struct live_resp *lr = opaque;

    MHD_resume_connection(lr->conn);
}

/* Called with the stream's lock held: a wake cannot come between parking and suspending. */
static void live_park(void *opaque)
{
    struct live_resp *lr = opaque;

    MHD_suspend_connection(lr->conn);
}

static ssize_t live_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct live_resp *lr = cls;
    ssize_t n;

    (void)pos;
    if (atomic_load(&lr->srv->stopping) || revoked(lr->srv, &lr->who, &lr->recheck_ns))
        return MHD_CONTENT_READER_END_OF_STREAM;
    n = sg_live_read(lr->v, (uint8_t *)buf, max, live_park, lr);
    if (n < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return n;
}

static void live_free(void *cls)
{
    struct live_resp *lr = cls;

    sg_live_leave(&lr->v);
    audit_view_end(lr->srv, &lr->who, lr->source, lr->camera_id, lr->stream, lr->start_ns);
    atomic_fetch_sub(&lr->srv->live_viewers, 1);
    sg_debug("http", lr->camera_id, "live %s viewer left", sg_stream_name(lr->stream));
    free(lr);
}

int sg_media_live(struct sg_req *r)
{
    struct live_resp *lr = calloc(1, sizeof(*lr));
    struct MHD_Response *resp;
    char codecs[32];
    int rc;

    if (!lr)
        return MHD_NO;
    lr->srv = r->srv;
    lr->conn = r->conn;
    lr->camera_id = r->id;
    lr->stream = r->stream;
    lr->who = r->who;
    snprintf(lr->source, sizeof(lr->source), "%s", r->source);
    lr->start_ns = sg_mono_ns();
    lr->recheck_ns = lr->start_ns + RECHECK_NS;
    rc = sg_live_join(r->srv->live, r->id, r->stream, live_wake, lr, &lr->v, codecs, sizeof(codecs));
    if (rc < 0) {
        free(lr);
        if (rc == SG_E_NOTFOUND)
            return sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found",
                                  "the camera has no %s stream (or it is disabled)", sg_stream_name(r->stream));
        return sg_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                              "no live video now: the camera is offline or connecting");
    }
    sg_http_audit(r, "live.start", "ok", r->id, sg_stream_name(r->stream), NULL);
    if (!(resp = endless_response(r->srv, live_read, lr, live_free)))
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "video/mp4");
    MHD_add_response_header(resp, "X-Codecs", codecs);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Access-Control-Expose-Headers", "X-Codecs");
    sg_debug("http", r->id, "live %s viewer joined (%s)", sg_stream_name(r->stream), codecs);
    return sg_reply(r, MHD_HTTP_OK, resp);
}

/* ---- several streams over one response ----
 * Browsers open at most six HTTP/1.1 connections per host, so a 16-tile grid cannot hold one
 * endless response per tile. GET /api/v1/live?streams=1:sub,2:sub,... carries them all, as
 * messages: byte 0 = index in the list, byte 1 = type, bytes 2-3 = 0, bytes 4-7 = payload
 * length (big-endian), then the payload. Types: STATE (JSON), MEDIA (fMP4 bytes of that
 * stream, split anywhere), END (the stream ended; it is joined again when it can be). */

#define MUX_MAX 32
#define MUX_STATE 1
#define MUX_MEDIA 2
#define MUX_END 3
#define MUX_HDR 8
#define MUX_RETRY_NS SG_NS_PER_SEC

enum { E_WAIT = 0, E_JOINED = 1, E_DENIED = 2 };

struct mux_entry {
    int64_t camera_id;
    int stream;
    int state;
    char last_sent[16];      /* last STATE sent ("live", "unavailable", ...) */
    int64_t next_try_ns;
    struct sg_live_viewer *v;
};

struct sg_live_mux {
    struct sg_http *srv;
    struct MHD_Connection *conn;
    pthread_mutex_t mu;
    int pending;             /* something may be readable: do not suspend */
    int suspended;
    int n, rr;
    struct mux_entry e[MUX_MAX];
    struct sg_buf ctl;       /* STATE/END messages waiting to be sent */
    size_t ctl_off;
    struct sg_live_mux *next;
    struct sg_principal who; /* for the live.stop audit entries */
    char source[SG_SOURCE_MAX];
    int64_t start_ns;
    int64_t recheck_ns;
};

static void mux_wake(void *opaque)
{
    struct sg_live_mux *m = opaque;

    pthread_mutex_lock(&m->mu);
    m->pending = 1;
    if (m->suspended) {
        m->suspended = 0;
        MHD_resume_connection(m->conn);
    }
    pthread_mutex_unlock(&m->mu);
}

void sg_http_wake_muxes(struct sg_http *h)
{
    pthread_mutex_lock(&h->mux_mu);
    for (struct sg_live_mux *m = h->muxes; m; m = m->next)
        mux_wake(m);
    pthread_mutex_unlock(&h->mux_mu);
}

static void park_noop(void *opaque) { (void)opaque; }

static void put_msg(struct sg_buf *b, int idx, int type, const void *p, size_t n)
{
    uint8_t h[MUX_HDR] = { (uint8_t)idx, (uint8_t)type, 0, 0 };

    sg_wr32(h + 4, (uint32_t)n);
    sg_buf_append(b, h, sizeof(h));
    sg_buf_append(b, p, n);
}

static void send_state(struct sg_live_mux *m, int idx, const char *state, const char *codecs,
                       const char *message)
{
    struct mux_entry *e = &m->e[idx];
    json_t *j;
    char *txt;

    if (!strcmp(e->last_sent, state) && strcmp(state, "live"))
        return; /* "unavailable" once, not every second */
    snprintf(e->last_sent, sizeof(e->last_sent), "%s", state);
    j = codecs ? json_pack("{s:s,s:s}", "state", state, "codecs", codecs)
               : json_pack("{s:s,s:s}", "state", state, "message", message ? message : "");
    txt = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (txt)
        put_msg(&m->ctl, idx, MUX_STATE, txt, strlen(txt));
    free(txt);
}

static void try_joins(struct sg_live_mux *m)
{
    int64_t now = sg_mono_ns();

    for (int i = 0; i < m->n; i++) {
        struct mux_entry *e = &m->e[i];
        char codecs[64];
        int rc;
        if (e->state != E_WAIT || now < e->next_try_ns)
            continue;
        rc = sg_live_join(m->srv->live, e->camera_id, e->stream, mux_wake, m, &e->v, codecs, sizeof(codecs));
        if (rc == 0) {
            e->state = E_JOINED;
            send_state(m, i, "live", codecs, NULL);
        } else {
            e->next_try_ns = now + MUX_RETRY_NS;
            send_state(m, i, "unavailable", NULL, rc == SG_E_NOTFOUND
                       ? "the camera has no such stream now (disabled, or no sub stream)"
                       : "no live video now: the camera is offline or connecting");
        }
    }
}

/* Copies media of the joined streams into buf, round robin, one message per stream. */
static size_t read_media(struct sg_live_mux *m, char *buf, size_t max)
{
    size_t got = 0;

    for (int k = 0; k < m->n && max - got > MUX_HDR + 512; k++) {
        int i = (m->rr + k) % m->n;
        struct mux_entry *e = &m->e[i];
        ssize_t r;
        if (e->state != E_JOINED)
            continue;
        r = sg_live_read(e->v, (uint8_t *)buf + got + MUX_HDR, max - got - MUX_HDR, park_noop, NULL);
        if (r > 0) {
            uint8_t *h = (uint8_t *)buf + got;
            h[0] = (uint8_t)i;
            h[1] = MUX_MEDIA;
            h[2] = h[3] = 0;
            sg_wr32(h + 4, (uint32_t)r);
            got += MUX_HDR + (size_t)r;
        } else if (r < 0) { /* the stream ended (camera removed or reconfigured) */
            sg_live_leave(&e->v);
            e->state = E_WAIT;
            e->next_try_ns = sg_mono_ns() + MUX_RETRY_NS;
            e->last_sent[0] = 0;
            put_msg(&m->ctl, i, MUX_END, NULL, 0);
        }
    }
    m->rr = m->n ? (m->rr + 1) % m->n : 0;
    return got;
}

static ssize_t mux_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sg_live_mux *m = cls;

    (void)pos;
    for (int round = 0;; round++) {
        size_t got = 0;
        if (atomic_load(&m->srv->stopping) || revoked(m->srv, &m->who, &m->recheck_ns))
            return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&m->mu);
        m->pending = 0;
        pthread_mutex_unlock(&m->mu);
        try_joins(m);
        if (m->ctl.len > m->ctl_off) {
            got = m->ctl.len - m->ctl_off < max ? m->ctl.len - m->ctl_off : max;
            memcpy(buf, m->ctl.data + m->ctl_off, got);
            m->ctl_off += got;
            if (m->ctl_off == m->ctl.len) {
                sg_buf_reset(&m->ctl);
                m->ctl_off = 0;
            }
        }
        got += read_media(m, buf + got, max - got);
        if (got)
            return (ssize_t)got;
        /* Nothing now: suspend unless a wake came in meanwhile. */
        pthread_mutex_lock(&m->mu);
        if (!m->pending || round > 8) {
            m->suspended = 1;
            MHD_suspend_connection(m->conn);
            pthread_mutex_unlock(&m->mu);
            return 0;
        }
        pthread_mutex_unlock(&m->mu);
    }
}

static void mux_free(void *cls)
{
    struct sg_live_mux *m = cls;
    struct sg_http *h = m->srv;

    pthread_mutex_lock(&h->mux_mu);
    for (struct sg_live_mux **pp = &h->muxes; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    pthread_mutex_unlock(&h->mux_mu);
    for (int i = 0; i < m->n; i++)
        sg_live_leave(&m->e[i].v); /* no wake can reach m after this */
    for (int i = 0; i < m->n; i++)
        if (m->e[i].state != E_DENIED)
            audit_view_end(h, &m->who, m->source, m->e[i].camera_id, m->e[i].stream, m->start_ns);
    atomic_fetch_sub(&h->live_viewers, 1);
    sg_buf_free(&m->ctl);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

int sg_media_live_mux(struct sg_req *r)
{
    int64_t ids[MUX_MAX];
    int streams[MUX_MAX], n;
    struct sg_live_mux *m;
    struct MHD_Response *resp;

    n = sg_http_parse_streams(sg_query(r, "streams"), ids, streams, MUX_MAX);
    if (n <= 0)
        return sg_reply_error(r, 400, "bad_request",
                              "streams must list 1 to %d entries such as 1:sub,2:main", MUX_MAX);
    m = calloc(1, sizeof(*m));
    if (!m)
        return MHD_NO;
    m->srv = r->srv;
    m->conn = r->conn;
    m->n = n;
    m->who = r->who;
    snprintf(m->source, sizeof(m->source), "%s", r->source);
    m->start_ns = sg_mono_ns();
    m->recheck_ns = m->start_ns + RECHECK_NS;
    pthread_mutex_init(&m->mu, NULL);
    for (int i = 0; i < n; i++) {
        char what[64];
        unsigned st;
        m->e[i].camera_id = ids[i];
        m->e[i].stream = streams[i];
        snprintf(what, sizeof(what), "%s", sg_stream_name(streams[i]));
        /* Every camera goes through the same authorisation hook as a single live URL; a
         * forbidden one answers exactly like a missing one. */
        if ((st = sg_http_authorize_camera(r, A_LIVE, ids[i])) != 0) {
            char detail[64];
            m->e[i].state = E_DENIED;
            send_state(m, i, "not_found", NULL, "no such camera");
            snprintf(detail, sizeof(detail), "{\"status\":%u,\"via\":\"live\"}", st);
            sg_http_audit(r, "access.denied", "denied", ids[i], what, detail);
        } else {
            sg_http_audit(r, "live.start", "ok", ids[i], what, NULL);
        }
    }
    pthread_mutex_lock(&r->srv->mux_mu);
    m->next = r->srv->muxes;
    r->srv->muxes = m;
    pthread_mutex_unlock(&r->srv->mux_mu);
    if (!(resp = endless_response(r->srv, mux_read, m, mux_free)))
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/vnd.sargas.live-mux");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    return sg_reply(r, MHD_HTTP_OK, resp);
}

/* Runs on a job thread (R_DEFER): decoding a GOP takes milliseconds to tens of them. */
int sg_media_snapshot(struct sg_req *r)
{
    struct sg_codec_params params;
    struct sg_live_au *frames = NULL;
    struct sg_snapshot_au *aus;
    struct sg_buf jpeg = { 0 };
    struct sg_camera cam;
    int64_t width, quality;
    int stream = -1, n, rc;
    const char *s = sg_query(r, "stream");

    if (sg_query_int(r, "width", 0, 0, 7680, &width) < 0 || sg_query_int(r, "quality", 80, 1, 100, &quality) < 0)
        return MHD_YES;
    if (s && (stream = sg_stream_parse(s)) < 0)
        return sg_reply_error(r, 400, "bad_request", "stream must be main or sub");
    if (stream < 0) { /* default: the sub stream when there is one (cheaper to decode) */
        stream = SG_STREAM_MAIN;
        if (sg_catalog_camera_get(r->cat, r->id, &cam) == 0 && cam.sub_url[0])
            stream = SG_STREAM_SUB;
    }
    n = sg_live_gop(r->srv->live, r->id, stream, SNAPSHOT_MAX_FRAMES, &params, &frames);
    if (n <= 0)
        return sg_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                              "no live picture now: the camera is offline or connecting");
    aus = calloc((size_t)n, sizeof(*aus));
    if (!aus)
        abort();
    for (int i = 0; i < n; i++)
        aus[i] = (struct sg_snapshot_au){ .data = frames[i].data, .size = frames[i].size };
    rc = sg_snapshot_jpeg(&params, aus, n, (int)quality, (int)width, &jpeg);
    free(aus);
    sg_live_gop_free(&frames, n);
    if (rc < 0) {
        sg_buf_free(&jpeg);
        return sg_reply_errno(r, rc, "snapshot");
    }
    sg_http_audit(r, "snapshot", "ok", r->id, sg_stream_name(stream), NULL);
    return sg_reply_buf(r, MHD_HTTP_OK, "image/jpeg", &jpeg);
}
