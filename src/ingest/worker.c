/* Ingest workers: each owns an epoll set and a list of sessions. Sessions are added and
 * removed through a small locked request list and an eventfd; the worker applies requests at
 * the top of its loop, so a session is never freed while one of its events is being handled.
 *
 * CPU: a worker lets packets accumulate for `batch_ms` between polls, so one wakeup reads many
 * RTP packets of many cameras at once (see docs/ARCHITECTURE.md, "Receive batching"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "catalog/catalog.h"
#include "ingest/session_int.h"

#define MAX_EVENTS 256
#define TICK_NS (50 * SG_NS_PER_MS)

int worker_watch(struct worker *w, int fd, struct ep_handle *h, uint32_t events, int add)
{
    struct epoll_event ev = { .events = events, .data.ptr = h };

    if (epoll_ctl(w->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) < 0)
        return -errno;
    return 0;
}

void worker_unwatch(struct worker *w, int fd)
{
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void apply_requests(struct worker *w, int64_t now)
{
    struct sg_ingest_stream *adds, *removes;

    pthread_mutex_lock(&w->lock);
    adds = w->adds;
    removes = w->removes;
    w->adds = w->removes = NULL;
    pthread_mutex_unlock(&w->lock);

    for (struct sg_ingest_stream *s = adds, *next; s; s = next) {
        uint32_t stagger = 0;
        next = s->next_pending;
        if (w->n_sessions == w->cap_sessions) {
            size_t nc = w->cap_sessions ? w->cap_sessions * 2 : 64;
            struct sg_ingest_stream **ns = realloc(w->sessions, nc * sizeof(*ns));
            if (!ns)
                abort(); /* bookkeeping allocation */
            w->sessions = ns;
            w->cap_sessions = nc;
        }
        w->sessions[w->n_sessions++] = s;
        session_start(s, now);
        /* Spread the first connection attempts of many cameras over up to a second. */
        stagger = (uint32_t)((uintptr_t)s >> 4) % 1000;
        s->retry_at_ns = now + (int64_t)stagger * SG_NS_PER_MS / (w->n_sessions > 16 ? 1 : 50);
    }
    if (!removes)
        return;
    for (struct sg_ingest_stream *s = removes, *next; s; s = next) {
        next = s->next_pending;
        session_stop(s);
        for (size_t i = 0; i < w->n_sessions; i++)
            if (w->sessions[i] == s) {
                w->sessions[i] = w->sessions[--w->n_sessions];
                break;
            }
        pthread_mutex_lock(&w->lock);
        s->removed = 1;
        pthread_mutex_unlock(&w->lock);
    }
    pthread_mutex_lock(&w->lock);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct epoll_event evs[MAX_EVENTS];
    int64_t batch_ns = (int64_t)w->ing->opts.batch_ms * SG_NS_PER_MS;
    int64_t next_tick = 0;

    while (!w->stop) {
        int64_t now = sg_mono_ns(), wait_ns, loop_start;
        int n, timeout_ms;

        apply_requests(w, now);
        if (now >= next_tick) {
            /* Deadlines are checked on a coarse tick: cheap for hundreds of sessions. */
            for (size_t i = 0; i < w->n_sessions; i++)
                session_tick(w->sessions[i], now);
            next_tick = now + TICK_NS;
        }
        wait_ns = next_tick - now;
        for (size_t i = 0; i < w->n_sessions; i++) {
            int64_t d = session_next_deadline(w->sessions[i]) - now;
            if (d < wait_ns)
                wait_ns = d > 0 ? d : 0;
        }
        timeout_ms = (int)((wait_ns + SG_NS_PER_MS - 1) / SG_NS_PER_MS);
        if (wait_ns <= 0)
            next_tick = 0; /* something is due: tick at once */
        loop_start = sg_mono_ns();
        n = epoll_wait(w->epfd, evs, MAX_EVENTS, timeout_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            sg_error("ingest", 0, "epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                uint64_t v;
                if (read(w->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                    sg_warn("ingest", 0, "eventfd read: %s", strerror(errno));
                continue;
            }
            session_on_event(evs[i].data.ptr, evs[i].events);
        }
        /* Batching: after real work, let more packets arrive before polling again. */
        if (n > 0 && batch_ns > 0) {
            int64_t until = loop_start + batch_ns;
            if (until > sg_mono_ns())
                sg_sleep_until(until);
        }
    }
    for (size_t i = 0; i < w->n_sessions; i++) {
        session_stop(w->sessions[i]);
        w->sessions[i]->removed = 1;
    }
    return NULL;
}

int sg_ingest_create(const struct sg_ingest_opts *opts, struct sg_ingest **out)
{
    struct sg_ingest *ing = calloc(1, sizeof(*ing));
    int r = 0;

    *out = NULL;
    if (!ing)
        return -ENOMEM;
    ing->opts = *opts;
    if (ing->opts.threads < 1)
        ing->opts.threads = 1;
    pthread_mutex_init(&ing->lock, NULL);
    ing->workers = calloc((size_t)ing->opts.threads, sizeof(*ing->workers));
    if (!ing->workers) {
        free(ing);
        return -ENOMEM;
    }
    for (int i = 0; i < ing->opts.threads; i++) {
        struct worker *w = &ing->workers[i];
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
        char name[16];

        w->ing = ing;
        w->idx = i;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (w->epfd < 0 || w->evfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev) < 0) {
            r = -errno;
            ing->n_workers = i + 1;
            goto fail;
        }
        snprintf(name, sizeof(name), "sg-ingest-%d", i & 0xffff);
        ing->n_workers = i + 1;
        if ((r = sg_thread_start(&w->th, name, worker_main, w)) < 0)
            goto fail;
    }
    *out = ing;
    return 0;
fail:
    sg_ingest_destroy(&ing);
    return r;
}

void sg_ingest_destroy(struct sg_ingest **ingp)
{
    struct sg_ingest *ing = *ingp;

    if (!ing)
        return;
    for (int i = 0; i < ing->n_workers; i++) {
        struct worker *w = &ing->workers[i];
        uint64_t one = 1;
        w->stop = 1;
        if (w->evfd >= 0 && write(w->evfd, &one, sizeof(one)) < 0)
            sg_warn("ingest", 0, "eventfd write: %s", strerror(errno));
    }
    for (int i = 0; i < ing->n_workers; i++) {
        struct worker *w = &ing->workers[i];
        sg_thread_join(&w->th);
        if (w->epfd >= 0)
            close(w->epfd);
        if (w->evfd >= 0)
            close(w->evfd);
        free(w->sessions);
        free(w->udp_bufs);
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
    }
    free(ing->workers);
    pthread_mutex_destroy(&ing->lock);
    free(ing);
    *ingp = NULL;
}

int sg_ingest_add(struct sg_ingest *ing, const struct sg_ingest_stream_desc *desc,
                  const struct sg_stream_sink *sink, struct sg_ingest_stream **out)
{
    struct sg_ingest_stream *s;
    struct worker *w;
    char err[256];
    uint64_t one = 1;
    int r;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->desc = *desc;
    s->sink = *sink;
    s->opts = &ing->opts;
    r = sg_url_parse(desc->url, ing->opts.allow_test_sources, &s->url, err, sizeof(err));
    if (r < 0) {
        sg_error("ingest", desc->camera_id, "%s", err);
        free(s);
        return r;
    }
    sg_url_format(&s->url, s->req_url, sizeof(s->req_url));
    sg_url_redact(desc->url, s->log_url, sizeof(s->log_url));
    pthread_mutex_lock(&ing->lock);
    w = &ing->workers[ing->next_worker++ % (unsigned)ing->n_workers];
    pthread_mutex_unlock(&ing->lock);
    s->w = w;
    pthread_mutex_lock(&w->lock);
    s->next_pending = w->adds;
    w->adds = s;
    pthread_mutex_unlock(&w->lock);
    if (write(w->evfd, &one, sizeof(one)) < 0)
        sg_warn("ingest", 0, "eventfd write: %s", strerror(errno));
    *out = s;
    return 0;
}

void sg_ingest_remove(struct sg_ingest *ing, struct sg_ingest_stream **sp)
{
    struct sg_ingest_stream *s = *sp;
    struct worker *w;
    uint64_t one = 1;

    (void)ing;
    if (!s)
        return;
    w = s->w;
    pthread_mutex_lock(&w->lock);
    /* Still waiting to be added? Then just take it back. */
    for (struct sg_ingest_stream **pp = &w->adds; *pp; pp = &(*pp)->next_pending)
        if (*pp == s) {
            *pp = s->next_pending;
            pthread_mutex_unlock(&w->lock);
            free(s);
            *sp = NULL;
            return;
        }
    if (!s->removed) {
        s->next_pending = w->removes;
        w->removes = s;
        if (write(w->evfd, &one, sizeof(one)) < 0)
            sg_warn("ingest", 0, "eventfd write: %s", strerror(errno));
        while (!s->removed)
            pthread_cond_wait(&w->cond, &w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    free(s);
    *sp = NULL;
}
