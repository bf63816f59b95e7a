/* Live hub: see live.h. */
#include "live/live.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "record/fmp4.h"

#define RING_SLOTS 1024         /* chunks kept at most per stream (40 s at 25 fps) */
#define DEFAULT_MAX_BYTES (24u * 1024 * 1024)
/* Frames older than the newest keyframe are kept this long at most, and only while the stream
 * has viewers: enough for a viewer on a slow link to catch up, while one further behind resumes
 * at the newest keyframe anyway (live means now). Without it every stream filled its
 * live_buffer: 24 MB per stream, ~30 MB per camera, when the current GOP of a 4 Mbit/s main
 * stream is 1 MB. */
#define SLACK_NS (2 * SG_NS_PER_SEC)

/* An immutable, shared piece of a stream: an init segment or one frame's moof+mdat. */
struct chunk {
    atomic_int refs;
    struct chunk *init;         /* the init segment this frame needs (frames only) */
    int64_t seq;                /* frames: position in the stream; init: generation */
    int key;
    int64_t mono_ns;            /* frames: when it arrived (CLOCK_MONOTONIC, the frame's own) */
    size_t payload_off;         /* where the access unit starts (frames) */
    size_t size;                /* header and access unit */
    struct sg_blob *blob;       /* the access unit, shared with the recorder; data[] then holds
                                 * only the header (payload_off bytes) */
    uint8_t data[];
};

struct viewer_link {
    struct sg_live_viewer *v;
};

struct sg_live_stream {
    struct sg_live *hub;
    int64_t camera_id;
    int stream;
    pthread_mutex_t mu;
    int ended;

    /* producer state (ingest thread; the fields viewers read are under mu) */
    struct sg_codec_params params;
    struct chunk *init;         /* current init segment */
    int64_t init_gen;
    int64_t session_no;
    int64_t base_dts;           /* stream dts that maps to tfdt 0 of the current session run */
    int64_t tfdt_offset;        /* tfdt of base_dts */
    int64_t last_tfdt, last_dur;
    int64_t last_dts;
    char codecs[32];

    struct chunk *ring[RING_SLOTS]; /* ring[seq % RING_SLOTS] for seq in [first_seq, next_seq) */
    int64_t first_seq, next_seq;
    int64_t key_seq;            /* newest keyframe, -1 before the first */
    size_t bytes;
    size_t max_bytes;

    struct sg_live_viewer **viewers;
    int n_viewers, cap_viewers;

    struct sg_live_info info;
};

struct sg_live_viewer {
    struct sg_live_stream *s;
    sg_live_wake_fn wake;
    void *opaque;
    int parked;
    int64_t next_seq;           /* next frame to send */
    int64_t sent_gen;           /* init generation already sent (-1 none) */
    struct chunk *cur;          /* chunk being copied out */
    size_t cur_off;
};

struct sg_live {
    pthread_mutex_t mu;
    size_t max_bytes;
    struct sg_live_stream **streams;
    int n, cap;
};

static struct chunk *chunk_new(size_t size)
{
    struct chunk *c = malloc(sizeof(*c) + size);

    if (!c)
        return NULL;
    atomic_init(&c->refs, 1);
    c->init = NULL;
    c->seq = 0;
    c->key = 0;
    c->mono_ns = 0;
    c->payload_off = 0;
    c->size = size;
    c->blob = NULL;
    return c;
}

/* The bytes of c from off on that lie in one piece; *n says how many. */
static const uint8_t *chunk_at(const struct chunk *c, size_t off, size_t *n)
{
    if (c->blob && off >= c->payload_off) {
        *n = c->size - off;
        return c->blob->data + (off - c->payload_off);
    }
    *n = (c->blob ? c->payload_off : c->size) - off;
    return c->data + off;
}

static struct chunk *chunk_ref(struct chunk *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

static void chunk_unref(struct chunk **cp)
{
    struct chunk *c = *cp;

    *cp = NULL;
    if (c && atomic_fetch_sub(&c->refs, 1) == 1) {
        chunk_unref(&c->init);
        sg_blob_unref(&c->blob);
        free(c);
    }
}

int sg_codecs_string(const struct sg_codec_params *p, char *buf, size_t n)
{
    if (p->codec == SG_CODEC_H264)
        return sg_codecs_rfc6381(p->codec, p->sps + 1, p->sps_len > 1 ? p->sps_len - 1 : 0, buf, n);
    return sg_codecs_rfc6381(p->codec, p->hevc_ptl, sizeof(p->hevc_ptl), buf, n);
}

int sg_live_create(const struct sg_live_opts *o, struct sg_live **out)
{
    struct sg_live *l = calloc(1, sizeof(*l));

    if (!l)
        return -ENOMEM;
    pthread_mutex_init(&l->mu, NULL);
    l->max_bytes = o && o->max_bytes ? o->max_bytes : DEFAULT_MAX_BYTES;
    *out = l;
    return 0;
}

void sg_live_destroy(struct sg_live **lp)
{
    struct sg_live *l = *lp;

    if (!l)
        return;
    *lp = NULL;
    if (l->n)
        sg_error("live", 0, "%d stream(s) still published at shutdown", l->n);
    free(l->streams);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static struct sg_live_stream *find_locked(struct sg_live *l, int64_t camera_id, int stream)
{
    for (int i = 0; i < l->n; i++)
        if (l->streams[i]->camera_id == camera_id && l->streams[i]->stream == stream)
            return l->streams[i];
    return NULL;
}

/* The published stream (camera_id, stream) with its lock held, or NULL. The registry lock is
 * held only while looking: the stream cannot be freed meanwhile because unpublishing takes
 * the registry lock first. */
static struct sg_live_stream *find_and_lock(struct sg_live *l, int64_t camera_id, int stream)
{
    struct sg_live_stream *s;

    pthread_mutex_lock(&l->mu);
    s = find_locked(l, camera_id, stream);
    if (s)
        pthread_mutex_lock(&s->mu);
    pthread_mutex_unlock(&l->mu);
    return s;
}

struct sg_live_stream *sg_live_publish(struct sg_live *l, int64_t camera_id, int stream)
{
    struct sg_live_stream *s;

    pthread_mutex_lock(&l->mu);
    if (find_locked(l, camera_id, stream)) {
        pthread_mutex_unlock(&l->mu);
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (!s)
        abort(); /* bookkeeping */
    s->hub = l;
    s->camera_id = camera_id;
    s->stream = stream;
    pthread_mutex_init(&s->mu, NULL);
    s->key_seq = -1;
    s->max_bytes = l->max_bytes;
    s->session_no = -1;
    s->info.published = 1;
    s->info.state = SG_ST_CONNECTING;
    s->info.since_us = sg_utc_us();
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->streams = realloc(l->streams, (size_t)l->cap * sizeof(*l->streams));
        if (!l->streams)
            abort();
    }
    l->streams[l->n++] = s;
    pthread_mutex_unlock(&l->mu);
    return s;
}

static void wake_all_locked(struct sg_live_stream *s)
{
    for (int i = 0; i < s->n_viewers; i++) {
        struct sg_live_viewer *v = s->viewers[i];
        if (v->parked) {
            v->parked = 0;
            v->wake(v->opaque);
        }
    }
}

static void drop_ring_locked(struct sg_live_stream *s)
{
    for (int64_t q = s->first_seq; q < s->next_seq; q++)
        chunk_unref(&s->ring[q % RING_SLOTS]);
    s->first_seq = s->next_seq;
    s->bytes = 0;
    s->key_seq = -1;
}

/* The stream object lives on while viewers hold it; the last one out frees it. */
static void stream_free(struct sg_live_stream *s)
{
    drop_ring_locked(s);
    chunk_unref(&s->init);
    free(s->viewers);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void sg_live_unpublish(struct sg_live *l, struct sg_live_stream **sp)
{
    struct sg_live_stream *s = *sp;
    int orphan;

    if (!s)
        return;
    *sp = NULL;
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < l->n; i++)
        if (l->streams[i] == s) {
            l->streams[i] = l->streams[--l->n];
            break;
        }
    pthread_mutex_unlock(&l->mu);
    pthread_mutex_lock(&s->mu);
    s->ended = 1;
    wake_all_locked(s);
    orphan = s->n_viewers == 0;
    pthread_mutex_unlock(&s->mu);
    if (orphan)
        stream_free(s);
}

/* Builds a new init segment when the parameter sets changed (producer thread). */
static int refresh_init(struct sg_live_stream *s, const struct sg_frame *f)
{
    struct sg_buf b = { 0 };
    struct chunk *c;
    char codecs[32];

    if (s->init && !f->params_changed && s->params.codec == f->params->codec)
        return 0;
    if (sg_fmp4_init_segment(&b, f->params) < 0) {
        sg_buf_free(&b);
        return SG_E_UNSUPPORTED;
    }
    c = chunk_new(b.len);
    if (!c) {
        sg_buf_free(&b);
        return -ENOMEM;
    }
    memcpy(c->data, b.data, b.len);
    sg_buf_free(&b);
    sg_codecs_string(f->params, codecs, sizeof(codecs));
    pthread_mutex_lock(&s->mu);
    s->params = *f->params;
    c->seq = ++s->init_gen;
    chunk_unref(&s->init);
    s->init = c;
    memcpy(s->codecs, codecs, sizeof(codecs));
    memcpy(s->info.codecs, codecs, sizeof(codecs));
    s->info.codec = f->params->codec;
    s->info.width = f->params->width;
    s->info.height = f->params->height;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* Maps the session's dts onto one continuous tfdt timeline across reconnections. */
static int64_t next_tfdt(struct sg_live_stream *s, const struct sg_frame *f)
{
    int64_t t;

    if (f->session_no != s->session_no || f->dts <= s->last_dts - SG_FMP4_TIMESCALE * 10) {
        s->session_no = f->session_no;
        s->base_dts = f->dts;
        s->tfdt_offset = s->last_tfdt + (s->last_dur > 0 ? s->last_dur : 3600);
    }
    t = s->tfdt_offset + (f->dts - s->base_dts);
    if (t <= s->last_tfdt && s->next_seq > 0)
        t = s->last_tfdt + 1; /* never go backwards inside MSE's buffer */
    s->last_dur = t > s->last_tfdt && s->next_seq > 0 ? t - s->last_tfdt : s->last_dur;
    if (s->last_dur <= 0 || s->last_dur > 10 * SG_FMP4_TIMESCALE)
        s->last_dur = 3600;
    s->last_tfdt = t;
    s->last_dts = f->dts;
    return t;
}

static void evict_locked(struct sg_live_stream *s, int64_t now_ns)
{
    /* Keep from the newest keyframe on whatever the budget (a new viewer starts there); older
     * frames only for viewers that may still be reading them: while there are viewers, for
     * SLACK_NS, within the budget. */
    while (s->first_seq < s->next_seq &&
           (s->next_seq - s->first_seq >= RING_SLOTS ||
            (s->first_seq < s->key_seq &&
             (s->bytes > s->max_bytes || !s->n_viewers ||
              now_ns - s->ring[s->first_seq % RING_SLOTS]->mono_ns > SLACK_NS)))) {
        struct chunk **slot = &s->ring[s->first_seq % RING_SLOTS];
        s->bytes -= (*slot)->size;
        chunk_unref(slot);
        s->first_seq++;
    }
}

void sg_live_frame(struct sg_live_stream *s, const struct sg_frame *f)
{
    struct sg_buf hdr = { 0 };
    struct sg_fmp4_sample smp;
    struct chunk *c;
    int64_t tfdt;

    if (f->damaged || !f->params || refresh_init(s, f) < 0)
        return;
    tfdt = next_tfdt(s, f);
    smp.size = (uint32_t)f->size;
    smp.duration = (uint32_t)s->last_dur;
    smp.key = f->key;
    if (sg_fmp4_fragment_header(&hdr, (uint32_t)(s->next_seq + 1), (uint64_t)tfdt,
                                f->arrival_utc_us, &smp, 1, f->size) < 0 ||
        !(c = chunk_new(hdr.len + (f->blob ? 0 : f->size)))) {
        sg_buf_free(&hdr);
        return;
    }
    memcpy(c->data, hdr.data, hdr.len);
    if (f->blob)
        c->blob = sg_blob_ref(f->blob); /* the same bytes as f->data */
    else
        memcpy(c->data + hdr.len, f->data, f->size);
    c->payload_off = hdr.len;
    c->size = hdr.len + f->size;
    c->key = f->key;
    c->mono_ns = f->arrival_mono_ns ? f->arrival_mono_ns : sg_mono_ns();
    sg_buf_free(&hdr);

    pthread_mutex_lock(&s->mu);
    c->init = chunk_ref(s->init);
    c->seq = s->next_seq;
    if (s->next_seq - s->first_seq >= RING_SLOTS)
        evict_locked(s, c->mono_ns);
    s->ring[s->next_seq % RING_SLOTS] = c;
    s->next_seq++;
    s->bytes += c->size;
    if (c->key)
        s->key_seq = c->seq;
    evict_locked(s, c->mono_ns);
    s->info.has_video = s->key_seq >= 0;
    s->info.last_frame_utc_us = f->arrival_utc_us;
    wake_all_locked(s);
    pthread_mutex_unlock(&s->mu);
}

void sg_live_state(struct sg_live_stream *s, int state, int err, const char *msg)
{
    pthread_mutex_lock(&s->mu);
    /* 'since' dates the last change between online and not online: the retries of an offline
     * camera (connecting, offline, connecting...) do not move it. */
    if ((state == SG_ST_ONLINE) != (s->info.state == SG_ST_ONLINE))
        s->info.since_us = sg_utc_us();
    s->info.state = state;
    if (err && msg)
        snprintf(s->info.last_error, sizeof(s->info.last_error), "%s", msg);
    else if (state == SG_ST_ONLINE)
        s->info.last_error[0] = 0;
    if (state == SG_ST_OFFLINE) {
        /* Nothing stale is served as live: a new viewer waits for the next keyframe. */
        drop_ring_locked(s);
        s->info.has_video = 0;
    }
    pthread_mutex_unlock(&s->mu);
}

int sg_live_join(struct sg_live *l, int64_t camera_id, int stream, sg_live_wake_fn wake,
                 void *opaque, struct sg_live_viewer **out, char *codecs, size_t codecs_len)
{
    struct sg_live_stream *s;
    struct sg_live_viewer *v;

    if (!(s = find_and_lock(l, camera_id, stream)))
        return SG_E_NOTFOUND;
    if (s->key_seq < 0 || !s->init) {
        pthread_mutex_unlock(&s->mu);
        return SG_E_UNSUPPORTED;
    }
    v = calloc(1, sizeof(*v));
    if (!v)
        abort();
    v->s = s;
    v->wake = wake;
    v->opaque = opaque;
    v->next_seq = s->key_seq;
    v->sent_gen = -1;
    if (s->n_viewers == s->cap_viewers) {
        s->cap_viewers = s->cap_viewers ? s->cap_viewers * 2 : 4;
        s->viewers = realloc(s->viewers, (size_t)s->cap_viewers * sizeof(*s->viewers));
        if (!s->viewers)
            abort();
    }
    s->viewers[s->n_viewers++] = v;
    s->info.viewers = s->n_viewers;
    snprintf(codecs, codecs_len, "%s", s->codecs);
    pthread_mutex_unlock(&s->mu);
    *out = v;
    return 0;
}

/* Picks the next chunk to copy out (stream lock held): the init segment when the frame needs
 * another one than the viewer has, else the frame. A viewer that fell out of the ring resumes
 * at the newest keyframe: live means now, not everything. */
static struct chunk *next_chunk_locked(struct sg_live_viewer *v)
{
    struct sg_live_stream *s = v->s;
    struct chunk *c;

    if (v->next_seq < s->first_seq)
        v->next_seq = s->key_seq >= 0 ? s->key_seq : s->next_seq;
    if (v->next_seq >= s->next_seq)
        return NULL;
    c = s->ring[v->next_seq % RING_SLOTS];
    if (c->init && c->init->seq != v->sent_gen) {
        v->sent_gen = c->init->seq;
        return chunk_ref(c->init);
    }
    v->next_seq++;
    return chunk_ref(c);
}

ssize_t sg_live_read(struct sg_live_viewer *v, uint8_t *buf, size_t max,
                     void (*park)(void *opaque), void *opaque)
{
    struct sg_live_stream *s = v->s;
    size_t got = 0;

    while (got < max) {
        size_t n;
        if (!v->cur) {
            pthread_mutex_lock(&s->mu);
            v->cur = next_chunk_locked(v);
            if (!v->cur) {
                int ended = s->ended;
                if (!got && !ended) {
                    v->parked = 1;
                    park(opaque);
                }
                pthread_mutex_unlock(&s->mu);
                if (!got && ended)
                    return -EPIPE;
                break;
            }
            pthread_mutex_unlock(&s->mu);
            v->cur_off = 0;
        }
        {
            const uint8_t *p = chunk_at(v->cur, v->cur_off, &n);
            if (n > max - got)
                n = max - got;
            memcpy(buf + got, p, n);
        }
        got += n;
        v->cur_off += n;
        if (v->cur_off == v->cur->size)
            chunk_unref(&v->cur);
    }
    return (ssize_t)got;
}

void sg_live_leave(struct sg_live_viewer **vp)
{
    struct sg_live_viewer *v = *vp;
    struct sg_live_stream *s;
    int orphan;

    if (!v)
        return;
    *vp = NULL;
    s = v->s;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n_viewers; i++)
        if (s->viewers[i] == v) {
            s->viewers[i] = s->viewers[--s->n_viewers];
            break;
        }
    s->info.viewers = s->n_viewers;
    orphan = s->ended && s->n_viewers == 0;
    pthread_mutex_unlock(&s->mu);
    chunk_unref(&v->cur);
    free(v);
    if (orphan)
        stream_free(s);
}

void sg_live_tick(struct sg_live *l)
{
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < l->n; i++) {
        pthread_mutex_lock(&l->streams[i]->mu);
        wake_all_locked(l->streams[i]);
        pthread_mutex_unlock(&l->streams[i]->mu);
    }
    pthread_mutex_unlock(&l->mu);
}

int sg_live_info(struct sg_live *l, int64_t camera_id, int stream, struct sg_live_info *out)
{
    struct sg_live_stream *s;

    memset(out, 0, sizeof(*out));
    if (!(s = find_and_lock(l, camera_id, stream)))
        return SG_E_NOTFOUND;
    *out = s->info;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int sg_live_gop(struct sg_live *l, int64_t camera_id, int stream, size_t max_frames,
                struct sg_codec_params *params, struct sg_live_au **frames)
{
    struct sg_live_stream *s;
    struct sg_live_au *a;
    int64_t from;
    int n = 0;

    *frames = NULL;
    if (!(s = find_and_lock(l, camera_id, stream)))
        return SG_E_NOTFOUND;
    if (s->key_seq < 0 || s->ring[s->key_seq % RING_SLOTS]->init != s->init) {
        pthread_mutex_unlock(&s->mu);
        return SG_E_UNSUPPORTED; /* no keyframe yet, or its parameter sets are gone */
    }
    from = s->key_seq;
    a = calloc((size_t)(s->next_seq - from), sizeof(*a));
    if (!a)
        abort();
    *params = s->params;
    for (int64_t q = from; q < s->next_seq && (!max_frames || (size_t)n < max_frames); q++) {
        struct chunk *c = s->ring[q % RING_SLOTS];
        if (c->init != s->init)
            break; /* parameter sets changed after the keyframe */
        const uint8_t *p = chunk_at(c, c->payload_off, &a[n].size); /* the access unit: one piece */
        a[n].data = malloc(a[n].size);
        if (!a[n].data)
            abort();
        memcpy(a[n].data, p, a[n].size);
        n++;
    }
    pthread_mutex_unlock(&s->mu);
    *frames = a;
    return n;
}

void sg_live_gop_free(struct sg_live_au **frames, int n)
{
    if (!*frames)
        return;
    for (int i = 0; i < n; i++)
        free((*frames)[i].data);
    free(*frames);
    *frames = NULL;
}
