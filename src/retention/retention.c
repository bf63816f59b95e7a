#include "retention/retention.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/thread.h"
#include "catalog/catalog.h"

#define BATCH 64

struct sg_retention {
    struct sg_retention_opts opts;
    struct sg_thread th;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop;
};

/* Deletes one batch of segments safely. Returns the number deleted or <0. */
static int delete_batch(struct sg_catalog *cat, struct sg_segment *g, int n, const char *why,
                        int64_t *freed)
{
    int done = 0, r;

    /* 1. mark (durable), 2. unlink, 3. forget. A crash between steps leaves a 'deleting' row
     * that start-up reconciliation completes; never a row pointing at nothing. */
    if ((r = sg_catalog_begin(cat)) < 0)
        return r;
    for (int i = 0; i < n; i++)
        sg_catalog_segment_update(cat, g[i].id, g[i].end_us, g[i].bytes, SG_SEG_DELETING);
    if ((r = sg_catalog_commit(cat)) < 0) {
        sg_catalog_rollback(cat);
        return r;
    }
    for (int i = 0; i < n; i++) {
        char full[8192];
        if (sg_path_join(g[i].root, g[i].path, full, sizeof(full)) == 0 && unlink(full) < 0 &&
            errno != ENOENT) {
            sg_error("retention", g[i].camera_id, "cannot delete %s: %s", full, strerror(errno));
            continue;
        }
        g[i].status = -1; /* unlinked */
    }
    if ((r = sg_catalog_begin(cat)) < 0)
        return r;
    for (int i = 0; i < n; i++)
        if (g[i].status == -1) {
            sg_catalog_segment_delete(cat, g[i].id);
            *freed += g[i].bytes;
            done++;
        }
    if ((r = sg_catalog_commit(cat)) < 0) {
        sg_catalog_rollback(cat);
        return r;
    }
    if (done)
        sg_info("retention", 0, "deleted %d segments (%s)", done, why);
    return done;
}

static int age_pass(struct sg_catalog *cat, int64_t *freed)
{
    int total = 0;

    for (;;) {
        struct sg_segment *g = NULL;
        int n = sg_catalog_deletable(cat, NULL, 1, sg_utc_us(), BATCH, &g);
        int r;
        if (n <= 0) {
            free(g);
            return n < 0 ? n : total;
        }
        r = delete_batch(cat, g, n, "older than the camera's retention", freed);
        free(g);
        if (r <= 0)
            return r < 0 ? r : total;
        total += r;
    }
}

/* Deletes oldest unlocked segments of `root` until `need` returns 0. */
static int space_pass(struct sg_catalog *cat, const struct sg_retention_opts *o, int root_idx,
                      int64_t *freed)
{
    const char *root = o->roots[root_idx];
    int total = 0;

    for (int rounds = 0; rounds < 10000; rounds++) {
        int64_t used = 0, free_b = 0, over_quota = 0, under_floor = 0;
        struct sg_segment *g = NULL;
        int n, r;

        if (o->quota > 0 && sg_catalog_root_bytes(cat, root, &used) == 0 && used > o->quota)
            over_quota = used - o->quota;
        if (o->min_free > 0 && sg_fs_space(root, &free_b, NULL) == 0 && free_b < o->min_free)
            under_floor = o->min_free - free_b;
        if (!over_quota && !under_floor)
            return total;
        n = sg_catalog_deletable(cat, root, 0, 0, BATCH, &g);
        if (n <= 0) {
            /* Loud, but once per 30 s per root, not every second. */
            static __thread int64_t last_log[16];
            int64_t now = sg_mono_ns();
            int64_t *last = &last_log[root_idx & 15];
            free(g);
            if (n == 0 && (!*last || now - *last > 30 * SG_NS_PER_SEC) && (*last = now))
                sg_error("retention", 0, "%s: %s and every remaining segment is under an evidence "
                         "lock or still recording: nothing can be deleted", root,
                         over_quota ? "over quota" : "below the free-space floor");
            return n < 0 ? n : total;
        }
        /* Delete only as much as needed, oldest first. */
        {
            int64_t want = over_quota > under_floor ? over_quota : under_floor, sum = 0;
            int k = 0;
            while (k < n && sum < want)
                sum += g[k++].bytes;
            r = delete_batch(cat, g, k, over_quota ? "storage quota" : "free-space floor", freed);
        }
        free(g);
        if (r <= 0)
            return r < 0 ? r : total;
        total += r;
    }
    return total;
}

static int run_pass(struct sg_catalog *cat, const struct sg_retention_opts *o, int do_age)
{
    int64_t freed = 0;
    int total = 0, r;

    if (do_age) {
        if ((r = age_pass(cat, &freed)) < 0)
            return r;
        total += r;
        /* motion events and activity follow their footage (never what a lock keeps) */
        if ((r = sg_catalog_motion_expire(cat, sg_utc_us())) > 0)
            sg_info("retention", 0, "deleted %d motion events and activity minutes past retention", r);
    }
    for (int i = 0; i < o->n_roots; i++) {
        if ((r = space_pass(cat, o, i, &freed)) < 0)
            return r;
        total += r;
    }
    if (freed && o->freed)
        o->freed(o->opaque);
    return total;
}

int sg_retention_run_once(const struct sg_retention_opts *o, int do_age)
{
    struct sg_catalog *cat;
    int r = sg_catalog_open(o->catalog_path, 0, &cat);

    if (r < 0)
        return r;
    r = run_pass(cat, o, do_age);
    sg_catalog_close(&cat);
    return r;
}

static void *retention_main(void *arg)
{
    struct sg_retention *rt = arg;
    struct sg_catalog *cat = NULL;
    int64_t next_age = 0;

    if (sg_catalog_open(rt->opts.catalog_path, 0, &cat) < 0) {
        sg_error("retention", 0, "cannot open the catalog: retention is NOT running");
        return NULL;
    }
    pthread_mutex_lock(&rt->lock);
    while (!rt->stop) {
        int64_t now = sg_mono_ns();
        int do_age = now >= next_age;
        struct timespec ts;
        int64_t wake = now + SG_NS_PER_SEC;

        pthread_mutex_unlock(&rt->lock);
        if (run_pass(cat, &rt->opts, do_age) < 0)
            sg_warn("retention", 0, "retention pass failed; retrying");
        if (do_age)
            next_age = now + (int64_t)rt->opts.interval_s * SG_NS_PER_SEC;
        pthread_mutex_lock(&rt->lock);
        ts.tv_sec = wake / SG_NS_PER_SEC;
        ts.tv_nsec = wake % SG_NS_PER_SEC;
        if (!rt->stop)
            pthread_cond_timedwait(&rt->cond, &rt->lock, &ts);
    }
    pthread_mutex_unlock(&rt->lock);
    sg_catalog_close(&cat);
    return NULL;
}

int sg_retention_start(const struct sg_retention_opts *opts, struct sg_retention **out)
{
    struct sg_retention *rt = calloc(1, sizeof(*rt));
    pthread_condattr_t ca;
    int r;

    *out = NULL;
    if (!rt)
        return -ENOMEM;
    rt->opts = *opts;
    pthread_mutex_init(&rt->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rt->cond, &ca);
    pthread_condattr_destroy(&ca);
    if ((r = sg_thread_start(&rt->th, "sg-retention", retention_main, rt)) < 0) {
        free(rt);
        return r;
    }
    *out = rt;
    return 0;
}

void sg_retention_stop(struct sg_retention **rtp)
{
    struct sg_retention *rt = *rtp;

    if (!rt)
        return;
    pthread_mutex_lock(&rt->lock);
    rt->stop = 1;
    pthread_cond_broadcast(&rt->cond);
    pthread_mutex_unlock(&rt->lock);
    sg_thread_join(&rt->th);
    pthread_mutex_destroy(&rt->lock);
    pthread_cond_destroy(&rt->cond);
    free(rt);
    *rtp = NULL;
}
