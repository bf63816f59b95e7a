/* The MQTT publisher (mqtt.h). Topic scheme and payloads: docs/ARCHITECTURE.md, "Events and
 * MQTT".
 *
 * One thread ("sg-mqtt") owns the libmosquitto handle and drives it with poll(2) on the
 * broker socket and an eventfd, through mosquitto_loop_read/write/misc: no libmosquitto
 * thread, no select() (which breaks on descriptors above FD_SETSIZE), and a stop that is
 * noticed at once. It reconnects by itself with a capped, doubling backoff.
 *
 * The bus callback runs on the publishers' threads (ingest workers, analysis). It never
 * blocks: it copies the event into a bounded queue (QUEUE_MAX events; when full the new
 * event is dropped and counted) and pokes the eventfd. For camera state it also records the
 * stream's latest state in a small table: after every (re)connection, and whenever a state
 * event was dropped, the thread republishes the table's entries that the broker may not hold,
 * so the retained state topics always end on the current state, even after a broker restart
 * that lost its retained messages. Events are handed to libmosquitto only while connected and
 * at most INFLIGHT_MAX at a time; with QoS 1 or 2 libmosquitto resends the unacknowledged
 * ones after a reconnection, so its own queue stays bounded too. */
#include "events/mqtt.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <mosquitto.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/queue.h"
#include "base/thread.h"

#define QUEUE_MAX          4096                 /* events waiting for the broker */
#define INFLIGHT_MAX       64                   /* handed to libmosquitto, not yet acknowledged */
#define BACKOFF_MIN_MS     500
#define BACKOFF_MAX_MS     5000
#define STABLE_NS          (10 * SG_NS_PER_SEC) /* a connection this old resets the backoff */
#define CONNECT_TIMEOUT_NS (10 * SG_NS_PER_SEC) /* TCP connect + CONNACK */
#define FLUSH_NS           SG_NS_PER_SEC        /* at stop: time to send what is queued */
#define GOODBYE_NS         (500 * SG_NS_PER_MS) /* ... and then the offline status */
#define TOPIC_MAX          512
#define SUB                "mqtt"
#define SYSTEM_CA_DIR      "/etc/ssl/certs"     /* mqtt_tls without mqtt_ca_file */

static const char will_payload[] = "{\"online\":false}";

enum conn { C_DOWN, C_CONNECTING, C_UP };

struct item {
    struct sg_event ev;
    uint64_t seq;               /* camera state: the table's sequence number; 0 otherwise */
};

/* The latest state of one camera stream, as the bus last said it. */
struct stream_state {
    struct sg_event ev;
    uint64_t seq;
    int dirty;                  /* the broker may not hold ev as the retained state */
};

struct sg_mqtt {
    /* settings, fixed once the thread runs */
    char host[256];
    int port, qos, keepalive_s;
    char prefix[128];
    char client_id[128];
    char username[128];
    char password[256];
    char version[32];
    char status_topic[TOPIC_MAX];
    char started[SG_UTC_STRLEN];

    /* shared with the bus callback */
    struct sg_queue *q;
    int wake_fd;                /* eventfd: new events, or stop */
    atomic_int stopping;
    atomic_uint_fast64_t dropped;
    pthread_mutex_t lock;       /* guards the state table */
    struct stream_state *st;
    int n_st, cap_st;
    int maybe_dirty;            /* some entry may be dirty: the thread looks */
    uint64_t seq;

    /* owned by the thread */
    struct sg_thread thread;
    struct mosquitto *mosq;
    enum conn conn;
    int just_up;                /* CONNACK accepted; the loop publishes the status */
    int ever_up;
    int connack_rc;             /* the broker's refusal, reported with the disconnection */
    int outstanding;            /* publishes libmosquitto has not reported as done */
    struct item *held;          /* popped but not accepted by libmosquitto: sent first */
    int64_t attempt_deadline_ns, next_attempt_ns, up_since_ns, outage_since_ns;
    int backoff_ms;
    uint64_t dropped_logged;
    int64_t drop_log_ns;
    char lib_err[256];          /* libmosquitto's last error line (TLS: OpenSSL's reason) */
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_init(void) { mosquitto_lib_init(); }

static const char *stream_name(int stream) { return stream == SG_STREAM_SUB ? "sub" : "main"; }

static void wake(struct sg_mqtt *m)
{
    uint64_t one = 1;
    ssize_t w = write(m->wake_fd, &one, sizeof(one)); /* EAGAIN: already awake */

    (void)w;
}

static void drain_wake(struct sg_mqtt *m)
{
    uint64_t v;
    ssize_t r = read(m->wake_fd, &v, sizeof(v));

    (void)r;
}

/* ---------------------------------------------------------------- the bus side */

/* Under m->lock. Returns the table entry of the event's stream, added when new. */
static struct stream_state *state_slot(struct sg_mqtt *m, int64_t camera_id, int stream)
{
    for (int i = 0; i < m->n_st; i++)
        if (m->st[i].ev.camera_id == camera_id && m->st[i].ev.stream == stream)
            return &m->st[i];
    if (m->n_st == m->cap_st) {
        int ncap = m->cap_st ? m->cap_st * 2 : 16;
        struct stream_state *n = realloc(m->st, (size_t)ncap * sizeof(*n));
        if (!n)
            abort(); /* bookkeeping: a few hundred bytes per camera stream */
        m->st = n;
        m->cap_st = ncap;
    }
    memset(&m->st[m->n_st], 0, sizeof(m->st[0]));
    return &m->st[m->n_st++];
}

/* What a state event means for MQTT: 0 nothing (ingest reports every retry of an offline
 * stream as "connecting" then "offline" again: for MQTT it stays offline, since the first
 * failure), 1 the same state with another reason, 2 a new state. */
static int state_change(const struct stream_state *s, const struct sg_event *ev)
{
    if (!s->seq)
        return 2;
    if (!strcmp(s->ev.state, "offline") && !strcmp(ev->state, "connecting"))
        return 0;
    if (strcmp(s->ev.state, ev->state))
        return 2;
    return strcmp(s->ev.error, ev->error) ? 1 : 0;
}

/* Called on the publishers' threads: copies, queues, wakes; never blocks on the broker. */
static void on_event(void *opaque, const struct sg_event *ev)
{
    struct sg_mqtt *m = opaque;
    struct item *it;

    if (atomic_load(&m->stopping))
        return;
    it = malloc(sizeof(*it));
    if (it) {
        it->ev = *ev;
        it->seq = 0;
    }
    if (ev->type == SG_EV_CAMERA_STATE) {
        /* Table and queue under one lock: a stream's events queue in sequence order. */
        pthread_mutex_lock(&m->lock);
        struct stream_state *s = state_slot(m, ev->camera_id, ev->stream);
        switch (state_change(s, ev)) {
        case 0: /* a retry of an offline stream, or nothing new */
            pthread_mutex_unlock(&m->lock);
            free(it);
            return;
        case 1: { /* the same state with another reason: "since" stays */
            int64_t since = s->ev.utc_us;
            s->ev = *ev;
            s->ev.utc_us = since;
            if (it)
                it->ev.utc_us = since;
            break;
        }
        default:
            s->ev = *ev;
        }
        s->seq = ++m->seq;
        s->dirty = 1;
        m->maybe_dirty = 1;
        if (it) {
            it->seq = s->seq;
            if (sg_queue_push(m->q, it, sizeof(*it), 0) < 0) {
                free(it);
                it = NULL;
            }
        }
        pthread_mutex_unlock(&m->lock);
        /* Dropped: the entry stays dirty and is republished once the queue has drained. */
    } else if (it && sg_queue_push(m->q, it, sizeof(*it), 0) < 0) {
        free(it);
        it = NULL;
    }
    if (!it)
        atomic_fetch_add(&m->dropped, 1);
    wake(m);
}

/* ---------------------------------------------------------------- payloads and topics */

/* A JSON string; text that is not UTF-8 (an error message quoting a camera) keeps its ASCII. */
static json_t *jstr(const char *s)
{
    char buf[512];
    size_t i;
    json_t *j = json_string(s);

    if (j)
        return j;
    for (i = 0; s[i] && i + 1 < sizeof(buf); i++)
        buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    buf[i] = 0;
    return json_string(buf);
}

static json_t *jtime(int64_t utc_us)
{
    char t[SG_UTC_STRLEN];

    if (sg_utc_format(utc_us, 3, t, sizeof(t)) < 0)
        return json_null();
    return json_string(t);
}

/* Dumps and frees o. NULL on OOM. */
static char *dump(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));

    json_decref(o);
    return s;
}

static void add_camera_fields(json_t *o, const struct sg_event *ev)
{
    json_object_set_new(o, "camera_id", json_integer(ev->camera_id));
    json_object_set_new(o, "camera", jstr(ev->camera));
    json_object_set_new(o, "site_id", json_integer(ev->site_id));
    json_object_set_new(o, "site", ev->site[0] ? jstr(ev->site) : json_null());
}

static char *state_json(const struct sg_event *ev)
{
    json_t *o = json_object();

    add_camera_fields(o, ev);
    json_object_set_new(o, "stream", json_string(stream_name(ev->stream)));
    json_object_set_new(o, "state", jstr(ev->state));
    json_object_set_new(o, "since", jtime(ev->utc_us));
    json_object_set_new(o, "error", ev->error[0] ? jstr(ev->error) : json_null());
    return dump(o);
}

/* 0.1234567 -> 0.123: three decimals say enough about a 0..1 score. */
static double peak_3(float score)
{
    double x = score < 0 ? 0 : score > 1 ? 1 : (double)score;

    return (double)(int64_t)(x * 1000.0 + 0.5) / 1000.0;
}

static char *motion_json(const struct sg_event *ev)
{
    json_t *o = json_object(), *zones = json_array();
    const char *p = ev->zones;

    /* "door, gate" -> ["door","gate"] */
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char z[sizeof(ev->zones)];
        while (n && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n) {
            memcpy(z, p, n);
            z[n] = 0;
            json_array_append_new(zones, jstr(z));
        }
        p = e ? e + 1 : p + strlen(p);
    }
    json_object_set_new(o, "event", json_string(ev->type == SG_EV_MOTION_START ? "start" : "end"));
    json_object_set_new(o, "event_id", json_integer(ev->event_id));
    add_camera_fields(o, ev);
    json_object_set_new(o, "start", jtime(ev->start_us));
    json_object_set_new(o, "end", ev->end_us ? jtime(ev->end_us) : json_null());
    json_object_set_new(o, "peak_score", json_real(peak_3(ev->peak_score)));
    json_object_set_new(o, "zones", zones);
    return dump(o);
}

static char *status_json(const struct sg_mqtt *m, int online)
{
    json_t *o = json_object();

    json_object_set_new(o, "online", json_boolean(online));
    json_object_set_new(o, "version", json_string(m->version));
    if (online)
        json_object_set_new(o, "since", json_string(m->started));
    else
        json_object_set_new(o, "since", jtime(sg_utc_us()));
    return dump(o);
}

/* One topic level from a name: '/', '+', '#' and control characters become '_'; an empty
 * name or one that is not valid UTF-8 becomes the id. */
static void topic_level(char *out, size_t n, const char *name, int64_t id)
{
    size_t j = 0;

    for (const unsigned char *p = (const unsigned char *)name; *p && j + 1 < n; p++)
        out[j++] = (*p == '/' || *p == '+' || *p == '#' || *p < 0x20 || *p == 0x7f) ? '_' : (char)*p;
    out[j] = 0;
    if (!j || mosquitto_validate_utf8(out, (int)j) != MOSQ_ERR_SUCCESS)
        snprintf(out, n, "%lld", (long long)id);
}

static void event_topic(const struct sg_mqtt *m, const struct sg_event *ev, char *t, size_t n)
{
    char site[SG_NAME_MAX], cam[SG_NAME_MAX];

    topic_level(site, sizeof(site), ev->site, ev->site_id);
    topic_level(cam, sizeof(cam), ev->camera, ev->camera_id);
    if (ev->type == SG_EV_CAMERA_STATE)
        snprintf(t, n, "%s/%s/%s/%s/state", m->prefix, site, cam, stream_name(ev->stream));
    else
        snprintf(t, n, "%s/%s/%s/motion", m->prefix, site, cam);
}

/* ---------------------------------------------------------------- publishing (the thread) */

/* 0; -EAGAIN when it should be tried again after a reconnection; another code when it can
 * never be sent (it is dropped with a warning). */
static int publish(struct sg_mqtt *m, const char *topic, const char *payload, int retain)
{
    int rc = mosquitto_publish(m->mosq, NULL, topic, (int)strlen(payload), payload, m->qos, retain);

    switch (rc) {
    case MOSQ_ERR_SUCCESS:
        m->outstanding++;
        return 0;
    case MOSQ_ERR_NO_CONN:
    case MOSQ_ERR_CONN_LOST:
    case MOSQ_ERR_ERRNO:
    case MOSQ_ERR_NOMEM:
        return -EAGAIN;
    default:
        sg_warn(SUB, 0, "cannot publish to %s: %s; message dropped", topic, mosquitto_strerror(rc));
        return SG_E_PROTO;
    }
}

static int publish_event(struct sg_mqtt *m, const struct sg_event *ev)
{
    char topic[TOPIC_MAX];
    char *payload;
    int r;

    event_topic(m, ev, topic, sizeof(topic));
    if (ev->type == SG_EV_CAMERA_STATE && !ev->state[0]) /* gone: an empty retained message */
        return publish(m, topic, "", 1);                 /* clears the topic on the broker */
    payload = ev->type == SG_EV_CAMERA_STATE ? state_json(ev) : motion_json(ev);
    if (!payload)
        return -EAGAIN;
    r = publish(m, topic, payload, ev->type == SG_EV_CAMERA_STATE);
    free(payload);
    return r;
}

/* A queued state event reached libmosquitto: when it is still the stream's latest, the broker
 * will hold the current state and the table need not republish it. */
static void state_sent(struct sg_mqtt *m, const struct item *it, int ok)
{
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < m->n_st; i++)
        if (m->st[i].ev.camera_id == it->ev.camera_id && m->st[i].ev.stream == it->ev.stream) {
            if (!ok)
                m->st[i].dirty = m->maybe_dirty = 1;
            else if (m->st[i].seq == it->seq)
                m->st[i].dirty = 0;
            break;
        }
    pthread_mutex_unlock(&m->lock);
}

/* Republishes the latest state of every stream the broker may not hold. Stops early when
 * INFLIGHT_MAX is reached (the rest stays dirty for the next round). */
static void republish_dirty(struct sg_mqtt *m)
{
    pthread_mutex_lock(&m->lock);
    if (!m->maybe_dirty) {
        pthread_mutex_unlock(&m->lock);
        return;
    }
    m->maybe_dirty = 0; /* set again by whatever becomes dirty from now on */
    pthread_mutex_unlock(&m->lock);
    for (int i = 0;; i++) {
        struct item it;
        int found = 0, r;

        pthread_mutex_lock(&m->lock);
        if (i >= m->n_st) {
            pthread_mutex_unlock(&m->lock);
            return;
        }
        if (m->conn != C_UP || m->outstanding >= INFLIGHT_MAX) {
            m->maybe_dirty = 1; /* the rest next time */
            pthread_mutex_unlock(&m->lock);
            return;
        }
        if (m->st[i].dirty) {
            it.ev = m->st[i].ev;
            it.seq = m->st[i].seq;
            m->st[i].dirty = 0;
            found = 1;
        }
        pthread_mutex_unlock(&m->lock);
        if (found && (r = publish_event(m, &it.ev)) == -EAGAIN) {
            state_sent(m, &it, 0);
            return;
        }
    }
}

/* While connected: what is held, then the queue, then the table. */
static void send_pending(struct sg_mqtt *m)
{
    while (m->conn == C_UP && m->outstanding < INFLIGHT_MAX) {
        struct item *it = m->held;
        int r;

        m->held = NULL;
        if (!it && sg_queue_pop(m->q, (void **)&it, 0) < 0) {
            republish_dirty(m);
            return;
        }
        r = publish_event(m, &it->ev);
        if (it->ev.type == SG_EV_CAMERA_STATE && r != -EAGAIN)
            state_sent(m, it, 1);
        if (r == -EAGAIN) {
            m->held = it; /* the connection is failing: the loop will notice */
            return;
        }
        free(it);
    }
}

static int all_sent(struct sg_mqtt *m)
{
    int dirty = 0;

    if (m->held || m->outstanding > 0 || sg_queue_bytes(m->q) > 0)
        return 0;
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < m->n_st && !dirty; i++)
        dirty = m->st[i].dirty;
    pthread_mutex_unlock(&m->lock);
    return !dirty;
}

static void publish_status(struct sg_mqtt *m, int online)
{
    char *payload = status_json(m, online);

    if (payload) {
        publish(m, m->status_topic, payload, 1);
        free(payload);
    }
}

/* ---------------------------------------------------------------- the connection (the thread) */

static void log_drops(struct sg_mqtt *m, int64_t now)
{
    uint64_t d = atomic_load(&m->dropped);

    if (d == m->dropped_logged || now < m->drop_log_ns)
        return;
    sg_warn(SUB, 0, "event queue full (%d events): %llu event(s) dropped, %llu in all",
            QUEUE_MAX, (unsigned long long)(d - m->dropped_logged), (unsigned long long)d);
    m->dropped_logged = d;
    m->drop_log_ns = now + SG_NS_PER_SEC;
}

/* The connection attempt failed or the connection was lost: schedules the next attempt and
 * warns once per outage. err: errno when rc is MOSQ_ERR_ERRNO. */
static void went_down(struct sg_mqtt *m, int rc, int err, const char *why)
{
    int64_t now = sg_mono_ns();
    char reason[448];
    int delay;

    if (m->conn == C_DOWN)
        return;
    if (m->conn == C_UP && now - m->up_since_ns >= STABLE_NS)
        m->backoff_ms = BACKOFF_MIN_MS;
    m->conn = C_DOWN;
    m->just_up = 0;
    if (m->qos == 0)
        m->outstanding = 0; /* QoS 0 packets not yet written are gone; QoS 1/2 are resent */
    delay = m->backoff_ms;
    m->backoff_ms = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
    m->next_attempt_ns = now + (int64_t)delay * SG_NS_PER_MS;
    if (atomic_load(&m->stopping))
        return;
    if (why)
        snprintf(reason, sizeof(reason), "%s", why);
    else if (m->connack_rc)
        snprintf(reason, sizeof(reason), "%s", mosquitto_connack_string(m->connack_rc));
    else if (rc == MOSQ_ERR_ERRNO && err)
        snprintf(reason, sizeof(reason), "%s", sg_strerror(-err));
    else
        snprintf(reason, sizeof(reason), "%s", mosquitto_strerror(rc));
    m->connack_rc = 0;
    if (reason[0] && reason[strlen(reason) - 1] == '.')
        reason[strlen(reason) - 1] = 0; /* libmosquitto's messages are sentences */
    if (m->lib_err[0]) { /* e.g. "OpenSSL Error[0]: ... certificate verify failed" */
        size_t len = strlen(reason);
        snprintf(reason + len, sizeof(reason) - len, ": %s", m->lib_err);
        m->lib_err[0] = 0;
    }
    if (!m->outage_since_ns) {
        m->outage_since_ns = now;
        sg_warn(SUB, 0, "broker %s:%d unavailable (%s); retrying in the background, up to %d "
                "events are kept meanwhile", m->host, m->port, reason, QUEUE_MAX);
    } else {
        sg_debug(SUB, 0, "broker %s:%d: %s; next attempt in %d ms", m->host, m->port, reason, delay);
    }
}

/* libmosquitto's own log (on this thread, from the loop calls): its error lines say what a
 * bare MOSQ_ERR_TLS does not, and go with the next disconnection's warning. */
static void on_log(struct mosquitto *mosq, void *opaque, int level, const char *str)
{
    struct sg_mqtt *m = opaque;

    (void)mosq;
    if (level == MOSQ_LOG_ERR && str)
        snprintf(m->lib_err, sizeof(m->lib_err), "%s", str);
}

static void on_connect(struct mosquitto *mosq, void *opaque, int rc)
{
    struct sg_mqtt *m = opaque;

    (void)mosq;
    if (rc == 0) {
        m->conn = C_UP;
        m->just_up = 1;
        m->up_since_ns = sg_mono_ns();
    } else {
        m->connack_rc = rc; /* libmosquitto disconnects next */
    }
}

static void on_disconnect(struct mosquitto *mosq, void *opaque, int rc)
{
    int err = errno;

    (void)mosq;
    went_down(opaque, rc, err, NULL);
}

static void on_publish(struct mosquitto *mosq, void *opaque, int mid)
{
    struct sg_mqtt *m = opaque;

    (void)mosq;
    (void)mid;
    if (m->outstanding > 0)
        m->outstanding--;
}

static void start_attempt(struct sg_mqtt *m, int64_t now)
{
    int rc;

    m->conn = C_CONNECTING;
    m->connack_rc = 0;
    m->attempt_deadline_ns = now + CONNECT_TIMEOUT_NS;
    errno = 0;
    /* Resolves the name here (blocking, bounded by the resolver's own timeouts), then
     * connects without blocking; CONNACK arrives through the loop. */
    rc = mosquitto_connect_async(m->mosq, m->host, m->port, m->keepalive_s);
    if (rc != MOSQ_ERR_SUCCESS)
        went_down(m, rc, errno, NULL);
}

/* Just connected: says so, then marks every stream's state for republishing. */
static void came_up(struct sg_mqtt *m)
{
    m->just_up = 0;
    if (!m->outage_since_ns)
        sg_info(SUB, 0, "connected to broker %s:%d", m->host, m->port);
    else
        sg_info(SUB, 0, "connected to broker %s:%d %s %.1f s", m->host, m->port,
                m->ever_up ? "again after" : "after trying for",
                (double)(sg_mono_ns() - m->outage_since_ns) / SG_NS_PER_SEC);
    m->outage_since_ns = 0;
    m->ever_up = 1;
    publish_status(m, 1);
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < m->n_st; i++)
        m->st[i].dirty = 1;
    m->maybe_dirty = 1;
    pthread_mutex_unlock(&m->lock);
}

/* Waits up to timeout_ms for the eventfd and (unless the connection is down) the socket, then
 * lets libmosquitto read, write and keep the connection alive. */
static void service(struct sg_mqtt *m, int timeout_ms)
{
    struct pollfd pf[2] = {
        { .fd = m->wake_fd, .events = POLLIN },
        { .fd = mosquitto_socket(m->mosq), .events = POLLIN },
    };
    int rc = MOSQ_ERR_SUCCESS, n = m->conn != C_DOWN && pf[1].fd >= 0 ? 2 : 1;

    if (n == 2 && mosquitto_want_write(m->mosq))
        pf[1].events |= POLLOUT;
    if (poll(pf, (nfds_t)n, timeout_ms) < 0)
        return; /* EINTR */
    if (pf[0].revents)
        drain_wake(m);
    if (n == 2) {
        if (pf[1].revents & (POLLIN | POLLERR | POLLHUP))
            rc = mosquitto_loop_read(m->mosq, 1);
        if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(m->mosq) >= 0 &&
            (pf[1].revents & (POLLOUT | POLLERR | POLLHUP)))
            rc = mosquitto_loop_write(m->mosq, 1);
        if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(m->mosq) >= 0)
            rc = mosquitto_loop_misc(m->mosq);
    }
    /* libmosquitto calls on_disconnect for most failures; this catches the others. */
    if (m->conn != C_DOWN && mosquitto_socket(m->mosq) < 0)
        went_down(m, rc ? rc : MOSQ_ERR_CONN_LOST, errno, NULL);
}

static int ms_until(int64_t deadline_ns, int64_t now, int cap_ms)
{
    int64_t ms = (deadline_ns - now + SG_NS_PER_MS - 1) / SG_NS_PER_MS;

    return ms < 0 ? 0 : ms > cap_ms ? cap_ms : (int)ms;
}

/* At stop, connected: the retained offline status, then DISCONNECT (so no will). */
static void goodbye(struct sg_mqtt *m)
{
    int64_t until = sg_mono_ns() + GOODBYE_NS;

    publish_status(m, 0);
    while (m->conn == C_UP && m->outstanding > 0 && sg_mono_ns() < until)
        service(m, ms_until(until, sg_mono_ns(), 100));
    if (m->conn != C_UP)
        return;
    mosquitto_disconnect(m->mosq);
    /* Written at once unless the socket is full; libmosquitto closes it once it is out. */
    while (m->conn == C_UP && mosquitto_want_write(m->mosq) && sg_mono_ns() < until)
        service(m, ms_until(until, sg_mono_ns(), 100));
}

static void *mqtt_main(void *arg)
{
    struct sg_mqtt *m = arg;
    int64_t flush_until = 0;

    for (;;) {
        int64_t now = sg_mono_ns();
        int timeout_ms = 1000;

        log_drops(m, now);
        if (atomic_load(&m->stopping)) {
            if (!flush_until)
                flush_until = now + FLUSH_NS;
            if (now >= flush_until || m->conn == C_DOWN || (m->conn == C_UP && !m->just_up && all_sent(m)))
                break;
            timeout_ms = ms_until(flush_until, now, 100);
        }
        if (m->conn == C_DOWN) {
            if (now >= m->next_attempt_ns) {
                start_attempt(m, now);
                continue;
            }
            service(m, ms_until(m->next_attempt_ns, now, timeout_ms)); /* only the eventfd */
            continue;
        }
        if (m->conn == C_CONNECTING && now >= m->attempt_deadline_ns) {
            went_down(m, MOSQ_ERR_CONN_LOST, 0, "no answer within 10 s");
            continue; /* the next attempt closes this socket */
        }
        if (m->conn == C_UP) {
            if (m->just_up)
                came_up(m);
            send_pending(m);
        }
        if (m->conn == C_CONNECTING)
            timeout_ms = ms_until(m->attempt_deadline_ns, now, timeout_ms);
        service(m, timeout_ms);
    }
    if (!all_sent(m))
        sg_warn(SUB, 0, "stopping with about %zu event(s) not delivered to the broker %s:%d",
                sg_queue_bytes(m->q) / sizeof(struct item) + (m->held ? 1 : 0) + (size_t)m->outstanding,
                m->host, m->port);
    if (m->conn == C_UP)
        goodbye(m);
    log_drops(m, INT64_MAX);
    return NULL;
}

/* ---------------------------------------------------------------- start and stop */

static int has_any(const char *s, const char *set)
{
    return strpbrk(s, set) != NULL;
}

static int has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

static int utf8_ok(const char *s)
{
    return mosquitto_validate_utf8(s, (int)strlen(s)) == MOSQ_ERR_SUCCESS;
}

/* The first line of the password file, without its line end; err gets what is wrong. */
static int read_password(const char *path, char *out, size_t n, char *err, size_t errn)
{
    struct stat sb;
    FILE *f = fopen(path, "re");
    int r = 0;
    size_t len;

    if (!f) {
        r = -errno;
        snprintf(err, errn, "cannot read mqtt_password_file %s: %s", path, sg_strerror(r));
        return r;
    }
    if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & S_IROTH))
        sg_warn(SUB, 0, "mqtt_password_file %s is readable by every user (mode %03o); "
                "make it 0600 or 0640", path, (unsigned)(sb.st_mode & 0777));
    if (!fgets(out, (int)n, f))
        out[0] = 0;
    len = strcspn(out, "\r\n");
    if (out[len] == 0 && len == n - 1 && !feof(f)) {
        snprintf(err, errn, "mqtt_password_file %s: the password is longer than %zu bytes", path, n - 2);
        r = SG_E_CONFIG;
    } else if (len == 0) {
        snprintf(err, errn, "mqtt_password_file %s: the first line is empty", path);
        r = SG_E_CONFIG;
    }
    out[len] = 0;
    fclose(f);
    return r;
}

int sg_mqtt_check(const struct sg_config *cfg, char *err, size_t n)
{
    const char *p = cfg->mqtt_topic_prefix, *id = cfg->mqtt_client_id;
    size_t pl = strlen(p);

    if (!cfg->mqtt_host[0])
        return 0;
    if (!pl || has_any(p, "+#") || p[0] == '$' || p[pl - 1] == '/' || has_control(p) || !utf8_ok(p)) {
        snprintf(err, n, "mqtt_topic_prefix '%s' is not usable: it must be UTF-8 text without "
                 "'+' or '#' (MQTT wildcards), control characters, a leading '$' or a trailing '/'", p);
        return SG_E_CONFIG;
    }
    if (!id[0] || has_any(id, "/+#") || has_control(id) || !utf8_ok(id)) {
        snprintf(err, n, "mqtt_client_id '%s' is not usable: it must be UTF-8 text without "
                 "'/', '+', '#' or control characters (it is a level of the status topic)", id);
        return SG_E_CONFIG;
    }
    if (has_control(cfg->mqtt_host) || has_any(cfg->mqtt_host, " /")) {
        snprintf(err, n, "mqtt_host '%s' is not a host name or address", cfg->mqtt_host);
        return SG_E_CONFIG;
    }
    if (cfg->mqtt_qos < 0 || cfg->mqtt_qos > 2) {
        snprintf(err, n, "mqtt_qos must be 0, 1 or 2 (not %d)", cfg->mqtt_qos);
        return SG_E_CONFIG;
    }
    if (cfg->mqtt_port < 1 || cfg->mqtt_port > 65535) {
        snprintf(err, n, "mqtt_port must be 1..65535 (not %d)", cfg->mqtt_port);
        return SG_E_CONFIG;
    }
    if (has_control(cfg->mqtt_username) || !utf8_ok(cfg->mqtt_username)) {
        snprintf(err, n, "mqtt_username must be UTF-8 text without control characters");
        return SG_E_CONFIG;
    }
    if (cfg->mqtt_password_file[0] && !cfg->mqtt_username[0]) {
        snprintf(err, n, "mqtt_password_file is set but mqtt_username is empty (MQTT 3.1.1 "
                 "sends a password only with a user name)");
        return SG_E_CONFIG;
    }
    {
        const char *files[3][2] = { { "mqtt_ca_file", cfg->mqtt_ca_file }, { "mqtt_cert_file", cfg->mqtt_cert_file },
                                    { "mqtt_key_file", cfg->mqtt_key_file } };
        for (int i = 0; i < 3; i++)
            if (files[i][1][0] && access(files[i][1], R_OK) < 0) {
                int e = errno;
                snprintf(err, n, "cannot read %s %s: %s", files[i][0], files[i][1], sg_strerror(-e));
                return -e;
            }
    }
    if (cfg->mqtt_password_file[0]) {
        char pw[sizeof(((struct sg_mqtt *)0)->password)];
        int r = read_password(cfg->mqtt_password_file, pw, sizeof(pw), err, n);
        explicit_bzero(pw, sizeof(pw));
        if (r < 0)
            return r;
    }
    return 0;
}

/* Frees what start made; the thread has been joined (or never started). */
static void destroy(struct sg_mqtt *m)
{
    void *it;

    if (!m)
        return;
    if (m->q) {
        sg_queue_close(m->q);
        while (sg_queue_pop(m->q, &it, 0) == 0)
            free(it);
        sg_queue_destroy(&m->q);
    }
    free(m->held);
    if (m->mosq)
        mosquitto_destroy(m->mosq);
    if (m->wake_fd >= 0)
        close(m->wake_fd);
    pthread_mutex_destroy(&m->lock);
    free(m->st);
    explicit_bzero(m->password, sizeof(m->password));
    free(m);
}

int sg_mqtt_start(const struct sg_config *cfg, struct sg_bus *bus, const char *version,
                  struct sg_mqtt **out)
{
    struct sg_mqtt *m;
    char err[512];
    int r, rc;

    *out = NULL;
    if (!cfg->mqtt_host[0])
        return 0;
    if ((r = sg_mqtt_check(cfg, err, sizeof(err))) < 0) {
        sg_error(SUB, 0, "%s", err);
        return r;
    }
    m = calloc(1, sizeof(*m));
    if (!m)
        abort();
    m->wake_fd = -1;
    pthread_mutex_init(&m->lock, NULL);
    snprintf(m->host, sizeof(m->host), "%s", cfg->mqtt_host);
    m->port = cfg->mqtt_port;
    m->qos = cfg->mqtt_qos;
    m->keepalive_s = cfg->mqtt_keepalive_s;
    snprintf(m->prefix, sizeof(m->prefix), "%s", cfg->mqtt_topic_prefix);
    snprintf(m->client_id, sizeof(m->client_id), "%s", cfg->mqtt_client_id);
    snprintf(m->username, sizeof(m->username), "%s", cfg->mqtt_username);
    snprintf(m->version, sizeof(m->version), "%s", version ? version : "");
    snprintf(m->status_topic, sizeof(m->status_topic), "%s/server/%s/status", m->prefix, m->client_id);
    sg_utc_format(sg_utc_us(), 3, m->started, sizeof(m->started));
    m->backoff_ms = BACKOFF_MIN_MS;
    if (cfg->mqtt_password_file[0] &&
        (r = read_password(cfg->mqtt_password_file, m->password, sizeof(m->password), err, sizeof(err))) < 0) {
        sg_error(SUB, 0, "%s", err);
        goto fail;
    }

    pthread_once(&lib_once, lib_init);
    errno = 0;
    if (!(m->mosq = mosquitto_new(m->client_id, true, m))) {
        r = errno == EINVAL ? SG_E_CONFIG : -ENOMEM;
        sg_error(SUB, 0, "cannot create the MQTT client: %s", sg_strerror(r));
        goto fail;
    }
    mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(m->mosq, on_connect);
    mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
    mosquitto_publish_callback_set(m->mosq, on_publish);
    mosquitto_log_callback_set(m->mosq, on_log);
    /* TLS: the broker's certificate chain and host name are verified (libmosquitto's default,
     * never turned off); a client certificate when one is configured. */
    if (cfg->mqtt_tls &&
        (rc = mosquitto_tls_set(m->mosq, cfg->mqtt_ca_file[0] ? cfg->mqtt_ca_file : NULL,
                                cfg->mqtt_ca_file[0] ? NULL : SYSTEM_CA_DIR,
                                cfg->mqtt_cert_file[0] ? cfg->mqtt_cert_file : NULL,
                                cfg->mqtt_key_file[0] ? cfg->mqtt_key_file : NULL, NULL)) != MOSQ_ERR_SUCCESS) {
        sg_error(SUB, 0, "MQTT TLS settings refused by libmosquitto: %s", mosquitto_strerror(rc));
        r = SG_E_CONFIG;
        goto fail;
    }
    if (m->username[0] &&
        mosquitto_username_pw_set(m->mosq, m->username, m->password[0] ? m->password : NULL)) {
        r = -ENOMEM;
        goto fail;
    }
    /* Sent by the broker when the connection dies without a DISCONNECT (crash, network). */
    if (mosquitto_will_set(m->mosq, m->status_topic, (int)strlen(will_payload), will_payload,
                           m->qos, true) != MOSQ_ERR_SUCCESS) {
        sg_error(SUB, 0, "status topic %s refused by libmosquitto", m->status_topic);
        r = SG_E_CONFIG;
        goto fail;
    }
    if ((m->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        r = -errno;
        goto fail;
    }
    m->q = sg_queue_create(QUEUE_MAX, QUEUE_MAX * sizeof(struct item));
    sg_info(SUB, 0, "publishing events to %s:%d%s under %s/ as client '%s' (QoS %d)", m->host,
            m->port, cfg->mqtt_tls ? " over TLS" : "", m->prefix, m->client_id, m->qos);
    if ((r = sg_thread_start(&m->thread, "sg-mqtt", mqtt_main, m)) < 0)
        goto fail;
    /* After the thread: the bus cannot forget a subscriber, so one is added only for good. */
    if ((r = sg_bus_subscribe(bus, on_event, m)) < 0) {
        sg_mqtt_stop(&m);
        return r;
    }
    *out = m;
    return 0;
fail:
    destroy(m);
    return r;
}

void sg_mqtt_stop(struct sg_mqtt **mp)
{
    struct sg_mqtt *m = *mp;

    if (!m)
        return;
    sg_queue_close(m->q); /* refuses new events; the thread sends what is queued */
    atomic_store(&m->stopping, 1);
    wake(m);
    sg_thread_join(&m->thread);
    destroy(m);
    *mp = NULL;
}
