/* tools/fakecam: the feeder thread (see feeder.h). */
#include "feeder.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BEHIND_FRAMES 25 /* 1 s: further behind, skip ahead */
#define MAX_QUEUED_FRAMES 5  /* appsrc backlog (200 ms) before resyncing */

enum stream_state {
    STREAM_PREROLL, /* waiting to push its one preroll frame */
    STREAM_IDLE,    /* no client is playing: nothing is pushed */
    STREAM_LIVE,    /* every frame, from an IDR on */
};

struct stream {
    struct stream *next;
    const void *key;
    GstAppSrc *src;
    struct fc_media *media;
    char *name;
    enum stream_state state;
    int started;    /* live and has had its first IDR */
    int overflowed; /* backlog was too large; logged once until it recovers */
    GstClockTime last_pts; /* of the last buffer pushed */
    uint64_t pushed;
};

struct fc_feeder {
    pthread_mutex_t lock; /* guards streams */
    struct stream *streams;
    pthread_t thread;
    int started;
    atomic_int stop;
};

static int64_t clock_us(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void stream_free(struct stream *s)
{
    if (!s)
        return;
    if (s->src)
        gst_object_unref(s->src);
    fc_media_unref(&s->media);
    free(s->name);
    free(s);
}

int fc_feeder_create(struct fc_feeder **out)
{
    struct fc_feeder *f = calloc(1, sizeof(*f));

    if (!f)
        return -ENOMEM;
    pthread_mutex_init(&f->lock, NULL);
    atomic_init(&f->stop, 0);
    *out = f;
    return 0;
}

int fc_feeder_add(struct fc_feeder *f, const void *key, GstAppSrc *src,
                  struct fc_media *m, const char *name)
{
    struct stream *s = calloc(1, sizeof(*s));

    if (!s)
        return -ENOMEM;
    s->name = strdup(name);
    if (!s->name) {
        free(s);
        return -ENOMEM;
    }
    s->key = key;
    s->src = gst_object_ref(src);
    s->media = fc_media_ref(m);
    s->state = STREAM_PREROLL;
    s->last_pts = GST_CLOCK_TIME_NONE;
    pthread_mutex_lock(&f->lock);
    s->next = f->streams;
    f->streams = s;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

void fc_feeder_remove(struct fc_feeder *f, const void *key)
{
    struct stream *found = NULL;

    pthread_mutex_lock(&f->lock);
    for (struct stream **p = &f->streams; *p; p = &(*p)->next) {
        if ((*p)->key == key) {
            found = *p;
            *p = found->next;
            break;
        }
    }
    pthread_mutex_unlock(&f->lock);
    if (found) {
        fprintf(stderr, "fakecam: %s: stopped after %" PRIu64 " frames\n", found->name,
                found->pushed);
        stream_free(found);
    }
}

int fc_feeder_set_live(struct fc_feeder *f, const void *key, int live)
{
    int ret = -ENOENT;

    pthread_mutex_lock(&f->lock);
    for (struct stream *s = f->streams; s; s = s->next) {
        if (s->key != key)
            continue;
        ret = 0;
        if (live && s->state != STREAM_LIVE) {
            s->state = STREAM_LIVE;
            s->started = 0;
            ret = 1;
        } else if (!live && s->state == STREAM_LIVE) {
            s->state = STREAM_IDLE;
            ret = 1;
        }
        if (ret == 1)
            fprintf(stderr, "fakecam: %s: %s\n", s->name,
                    live ? "playing: live from the next IDR" : "not playing: idle");
        break;
    }
    pthread_mutex_unlock(&f->lock);
    return ret;
}

static void push_preroll(struct stream *s, uint64_t counter);

int fc_feeder_preroll(struct fc_feeder *f, const void *key)
{
    int ret = -ENOENT;

    pthread_mutex_lock(&f->lock);
    for (struct stream *s = f->streams; s; s = s->next) {
        if (s->key == key) {
            if (s->state == STREAM_PREROLL)
                push_preroll(s, (uint64_t)(clock_us(CLOCK_REALTIME) / FC_FRAME_US));
            ret = s->state != STREAM_PREROLL;
            break;
        }
    }
    pthread_mutex_unlock(&f->lock);
    return ret;
}

int fc_feeder_last_pts(struct fc_feeder *f, const void *key, GstClockTime *pts)
{
    int ret = -ENOENT;

    pthread_mutex_lock(&f->lock);
    for (struct stream *s = f->streams; s; s = s->next) {
        if (s->key == key) {
            *pts = s->last_pts;
            ret = 0;
            break;
        }
    }
    pthread_mutex_unlock(&f->lock);
    return ret;
}

static void media_release(gpointer p)
{
    struct fc_media *m = p;

    fc_media_unref(&m);
}

/* Wraps a range of the shared media: no copy; the memory holds a reference. */
static GstMemory *wrap_media(struct fc_media *m, size_t off, size_t len)
{
    return gst_memory_new_wrapped(GST_MEMORY_FLAG_READONLY, m->data, m->size, off, len,
                                  fc_media_ref(m), media_release);
}

/* Running time for a frame that began lag_ns ago in UTC terms; NONE while
 * the appsrc is not (going) PLAYING. Its clock is set before its base time:
 * before PLAYING the base time may still be 0 or, after a pause, stale, and a
 * PTS from it would lie in the future and hold up the sinks. */
static GstClockTime frame_pts(struct stream *s, int64_t lag_ns)
{
    GstElement *e = GST_ELEMENT(s->src);
    GstClock *clock = NULL;
    GstClockTime now, base = GST_CLOCK_TIME_NONE, pts;

    GST_OBJECT_LOCK(e);
    if (GST_STATE(e) == GST_STATE_PLAYING || GST_STATE_NEXT(e) == GST_STATE_PLAYING) {
        clock = GST_ELEMENT_CLOCK(e) ? gst_object_ref(GST_ELEMENT_CLOCK(e)) : NULL;
        base = GST_ELEMENT_CAST(e)->base_time;
    }
    GST_OBJECT_UNLOCK(e);
    if (!clock)
        return GST_CLOCK_TIME_NONE;
    now = gst_clock_get_time(clock);
    gst_object_unref(clock);
    if (!GST_CLOCK_TIME_IS_VALID(base) || now < base)
        return GST_CLOCK_TIME_NONE;
    pts = now - base;
    pts = (int64_t)pts > lag_ns ? pts - (GstClockTime)lag_ns : 0;
    /* strictly increasing: callers tell stale from live by PTS (feeder.h) */
    if (GST_CLOCK_TIME_IS_VALID(s->last_pts) && pts <= s->last_pts)
        pts = s->last_pts + 1;
    return pts;
}

/* Pushes access unit `counter` mod FC_LOOP_FRAMES with the SEI for `counter`
 * and PTS pts. Returns the appsrc's flow return. */
static GstFlowReturn push_au(struct stream *s, uint64_t counter, int64_t send_us,
                             GstClockTime pts)
{
    struct fc_media *m = s->media;
    const struct fc_au *au = &m->aus[counter % FC_LOOP_FRAMES];
    GstMemory *sei = gst_allocator_alloc(NULL, FC_SEI_MAX, NULL);
    GstMapInfo map;
    GstBuffer *buf;
    GstFlowReturn ret;

    if (!sei || !gst_memory_map(sei, &map, GST_MAP_WRITE)) {
        if (sei)
            gst_memory_unref(sei);
        return GST_FLOW_ERROR;
    }
    gst_memory_resize(sei, 0, fc_sei_build(m->codec, counter, (uint64_t)send_us, map.data));
    gst_memory_unmap(sei, &map);

    buf = gst_buffer_new();
    if (au->slice_off > 0)
        gst_buffer_append_memory(buf, wrap_media(m, au->off, au->slice_off));
    gst_buffer_append_memory(buf, sei);
    gst_buffer_append_memory(buf, wrap_media(m, au->off + au->slice_off,
                                             au->len - au->slice_off));
    GST_BUFFER_PTS(buf) = pts;
    GST_BUFFER_DTS(buf) = pts;
    GST_BUFFER_DURATION(buf) = (GstClockTime)FC_FRAME_US * 1000;
    if (!au->idr)
        GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
    ret = gst_app_src_push_buffer(s->src, buf); /* consumes buf */
    if (ret == GST_FLOW_OK) {
        if (GST_CLOCK_TIME_IS_VALID(pts))
            s->last_pts = pts;
        s->pushed++;
    }
    return ret;
}

/* Preroll: once the pipeline runs, the IDR that began the GOP of `counter`,
 * so that the server can answer DESCRIBE without waiting for the next one. */
static void push_preroll(struct stream *s, uint64_t counter)
{
    uint64_t idr = counter - counter % FC_GOP;
    GstClockTime pts = frame_pts(s, 0);

    if (!GST_CLOCK_TIME_IS_VALID(pts))
        return; /* not running yet: try again at the next tick */
    if (push_au(s, idr, clock_us(CLOCK_REALTIME), pts) != GST_FLOW_OK)
        return;
    s->state = STREAM_IDLE;
    fprintf(stderr, "fakecam: %s: prerolled with frame %" PRIu64 "\n", s->name, idr);
}

static void push_live(struct stream *s, uint64_t counter)
{
    int64_t send_us;

    if (!s->started) {
        if (!s->media->aus[counter % FC_LOOP_FRAMES].idr)
            return;
        s->started = 1;
        fprintf(stderr, "fakecam: %s: streaming from frame %" PRIu64 "\n", s->name, counter);
    }
    /* the feeder paces the stream; a backlog means the pipeline is stuck or
     * slow, and frames sent late are worse than frames skipped */
    if (gst_app_src_get_current_level_buffers(s->src) > MAX_QUEUED_FRAMES) {
        if (!s->overflowed)
            fprintf(stderr, "fakecam: %s: backlog over %d frames, dropping to the next IDR\n",
                    s->name, MAX_QUEUED_FRAMES);
        s->overflowed = 1;
        s->started = 0;
        return;
    }
    s->overflowed = 0;
    send_us = clock_us(CLOCK_REALTIME);
    push_au(s, counter, send_us,
            frame_pts(s, (send_us - (int64_t)counter * FC_FRAME_US) * 1000));
}

static void push_frame(struct stream *s, uint64_t counter)
{
    switch (s->state) {
    case STREAM_PREROLL:
        push_preroll(s, counter);
        break;
    case STREAM_LIVE:
        push_live(s, counter);
        break;
    case STREAM_IDLE:
        break;
    }
}

static void push_all(struct fc_feeder *f, uint64_t counter)
{
    pthread_mutex_lock(&f->lock);
    for (struct stream *s = f->streams; s; s = s->next)
        push_frame(s, counter);
    pthread_mutex_unlock(&f->lock);
}

static void *feeder_main(void *arg)
{
    struct fc_feeder *f = arg;
    int64_t last = -1; /* last counter pushed */

    while (!atomic_load(&f->stop)) {
        int64_t now_c = clock_us(CLOCK_REALTIME) / FC_FRAME_US;
        int64_t rt_us, mono_us, target_us;
        struct timespec ts;

        if (last < 0 || now_c - last > MAX_BEHIND_FRAMES || last - now_c > MAX_BEHIND_FRAMES) {
            if (last >= 0)
                fprintf(stderr, "fakecam: feeder %s by %" PRId64 " frames, skipping to frame %"
                        PRId64 "\n", now_c > last ? "behind" : "ahead (clock stepped back)",
                        now_c > last ? now_c - last : last - now_c, now_c);
            last = now_c - 1;
        }
        /* oversleeping pushes the missed frames in order: counters stay consecutive */
        for (int64_t c = last + 1; c <= now_c; c++)
            push_all(f, (uint64_t)c);
        if (now_c > last)
            last = now_c;

        /* sleep until UTC time enters frame last + 1 */
        rt_us = clock_us(CLOCK_REALTIME);
        mono_us = clock_us(CLOCK_MONOTONIC);
        target_us = (last + 1) * FC_FRAME_US - rt_us;
        if (target_us < 0)
            target_us = 0;
        if (target_us > FC_FRAME_US)
            target_us = FC_FRAME_US; /* clock stepped back: re-check every frame */
        target_us += mono_us;
        ts.tv_sec = target_us / 1000000;
        ts.tv_nsec = (target_us % 1000000) * 1000;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
    }
    return NULL;
}

int fc_feeder_start(struct fc_feeder *f)
{
    int ret = pthread_create(&f->thread, NULL, feeder_main, f);

    if (ret)
        return -ret;
    pthread_setname_np(f->thread, "fc-feeder");
    f->started = 1;
    return 0;
}

void fc_feeder_destroy(struct fc_feeder **pf)
{
    struct fc_feeder *f = *pf;

    if (!f)
        return;
    *pf = NULL;
    if (f->started) {
        atomic_store(&f->stop, 1);
        pthread_join(f->thread, NULL);
    }
    while (f->streams) {
        struct stream *s = f->streams;
        f->streams = s->next;
        stream_free(s);
    }
    pthread_mutex_destroy(&f->lock);
    free(f);
}
