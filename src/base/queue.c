#include "base/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "base/clock.h"

struct entry {
    void *item;
    size_t bytes;
};

struct sg_queue {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC */
    struct entry *ring;
    size_t cap_items, max_items, max_bytes;
    size_t head, count, bytes;
    int closed;
};

struct sg_queue *sg_queue_create(size_t max_items, size_t max_bytes)
{
    struct sg_queue *q = calloc(1, sizeof(*q));
    pthread_condattr_t ca;

    if (!q)
        abort();
    q->max_items = max_items;
    q->max_bytes = max_bytes;
    q->cap_items = max_items + 64; /* room for forced control messages */
    q->ring = calloc(q->cap_items, sizeof(*q->ring));
    if (!q->ring)
        abort();
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cond, &ca);
    pthread_condattr_destroy(&ca);
    return q;
}

void sg_queue_destroy(struct sg_queue **qp)
{
    struct sg_queue *q = *qp;

    if (!q)
        return;
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->cond);
    free(q->ring);
    free(q);
    *qp = NULL;
}

static int grow(struct sg_queue *q)
{
    size_t ncap = q->cap_items * 2;
    struct entry *n = calloc(ncap, sizeof(*n));

    if (!n)
        return -ENOMEM;
    for (size_t i = 0; i < q->count; i++)
        n[i] = q->ring[(q->head + i) % q->cap_items];
    free(q->ring);
    q->ring = n;
    q->cap_items = ncap;
    q->head = 0;
    return 0;
}

int sg_queue_push(struct sg_queue *q, void *item, size_t bytes, int force)
{
    int r = 0;

    pthread_mutex_lock(&q->lock);
    if (q->closed) {
        r = -EPIPE;
    } else if (!force && (q->count >= q->max_items || q->bytes + bytes > q->max_bytes)) {
        r = -EAGAIN;
    } else if (q->count == q->cap_items && (r = grow(q)) < 0) {
        /* r set */
    } else {
        q->ring[(q->head + q->count) % q->cap_items] = (struct entry){ item, bytes };
        q->count++;
        q->bytes += bytes;
        pthread_cond_signal(&q->cond);
    }
    pthread_mutex_unlock(&q->lock);
    return r;
}

int sg_queue_pop(struct sg_queue *q, void **item, int64_t deadline_ns)
{
    struct timespec ts = { .tv_sec = deadline_ns / SG_NS_PER_SEC,
                           .tv_nsec = deadline_ns % SG_NS_PER_SEC };
    int r = 0;

    pthread_mutex_lock(&q->lock);
    while (q->count == 0) {
        if (q->closed) {
            r = -EPIPE;
            goto out;
        }
        if (deadline_ns <= 0 || pthread_cond_timedwait(&q->cond, &q->lock, &ts) == ETIMEDOUT) {
            if (q->count == 0) {
                r = q->closed ? -EPIPE : -ETIMEDOUT;
                goto out;
            }
        }
    }
    *item = q->ring[q->head].item;
    q->bytes -= q->ring[q->head].bytes;
    q->head = (q->head + 1) % q->cap_items;
    q->count--;
out:
    pthread_mutex_unlock(&q->lock);
    return r;
}

void sg_queue_close(struct sg_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

size_t sg_queue_bytes(struct sg_queue *q)
{
    size_t b;

    pthread_mutex_lock(&q->lock);
    b = q->bytes;
    pthread_mutex_unlock(&q->lock);
    return b;
}
