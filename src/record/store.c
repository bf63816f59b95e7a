/* The store thread: the only writer of segment files and of recording rows in the catalog.
 *
 * On-disk layout, UTC only (DST can never make two files share a name):
 *   <root>/<camera id>/<main|sub>/<YYYY-MM-DD>/<HH>/<YYYYMMDDTHHMMSS.mmmZ>.mp4
 * Catalog updates are batched: one transaction per second at most. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/queue.h"
#include "base/thread.h"
#include "ingest/h26x.h"
#include "record/store_int.h"

#define COMMIT_NS (1 * SG_NS_PER_SEC)
#define SPACE_NS (1 * SG_NS_PER_SEC)
#define DROP_BEHIND (4 * 1024 * 1024) /* keep the last few MB of a file cached, drop the rest */

struct root {
    char path[SG_ROOT_MAX];
    int64_t free_bytes;
    int full;
    int64_t last_full_log_ns;
};

struct sg_store {
    struct sg_store_opts opts;
    struct root roots[8];
    int n_roots;
    struct sg_catalog *cat;
    struct sg_queue *q;
    struct sg_thread th;
    atomic_int full_roots;
    atomic_int all_full;
    atomic_int poke;
    int in_txn;
    int64_t txn_start_ns;
    int64_t next_space_ns;
    struct seg *dirty;
};

void msg_free(struct msg *m)
{
    sg_buf_free(&m->a);
    for (size_t i = 0; i < m->n_frames; i++)
        sg_blob_unref(&m->frames[i]);
    free(m->frames);
    free(m);
}

int store_push(struct sg_store *st, struct msg *m, int force)
{
    size_t bytes = m->a.len + m->payload_len + m->n_frames * sizeof(*m->frames) + sizeof(*m);
    int r = sg_queue_push(st->q, m, bytes, force);

    if (r < 0 && force) {
        /* Only at shutdown: nothing will process it. */
        if (m->type == M_CLOSE)
            free(m->seg);
        if (m->type == M_LOSS_CLOSE)
            free(m->loss);
        msg_free(m);
    }
    return r;
}

int store_segment_seconds(struct sg_store *st) { return st->opts.segment_seconds; }
int store_is_full(struct sg_store *st) { return atomic_load(&st->all_full); }
int sg_store_full_roots(struct sg_store *st) { return atomic_load(&st->full_roots); }
void sg_store_poke(struct sg_store *st) { atomic_store(&st->poke, 1); }

static int txn(struct sg_store *st)
{
    if (st->in_txn)
        return 0;
    if (sg_catalog_begin(st->cat) < 0)
        return SG_E_CATALOG;
    st->in_txn = 1;
    st->txn_start_ns = sg_mono_ns();
    return 0;
}

static void commit(struct sg_store *st)
{
    for (struct seg *s = st->dirty, *next; s; s = next) {
        next = s->next_dirty;
        if (s->id)
            sg_catalog_segment_update(st->cat, s->id, s->end_us, s->bytes, SG_SEG_RECORDING);
        s->dirty = 0;
        s->next_dirty = NULL;
    }
    st->dirty = NULL;
    if (!st->in_txn)
        return;
    if (sg_catalog_commit(st->cat) < 0) {
        /* The files are safe; start-up reconciliation rebuilds what the catalog missed. */
        sg_error("store", 0, "catalog commit failed; recordings continue on disk");
        sg_catalog_rollback(st->cat);
    }
    st->in_txn = 0;
}

static void refresh_space(struct sg_store *st, int64_t now)
{
    int full = 0;

    for (int i = 0; i < st->n_roots; i++) {
        struct root *r = &st->roots[i];
        int64_t fb = 0;
        int was = r->full;

        if (sg_fs_space(r->path, &fb, NULL) < 0)
            fb = 0;
        r->free_bytes = fb;
        /* Hysteresis: stop below half the floor, resume above three quarters of it. */
        if (st->opts.min_free > 0) {
            if (fb < st->opts.min_free / 2)
                r->full = 1;
            else if (fb >= st->opts.min_free / 4 * 3)
                r->full = 0;
        } else if (fb > 64 * 1024 * 1024) {
            r->full = 0;
        }
        if (r->full && (!was || now - r->last_full_log_ns > 30 * SG_NS_PER_SEC)) {
            r->last_full_log_ns = now;
            sg_error("store", 0, "storage root %s is full (%lld MB free) and retention cannot free "
                     "space: new video is NOT being recorded there", r->path, (long long)(fb >> 20));
        } else if (was && !r->full) {
            sg_warn("store", 0, "storage root %s has space again: recording resumes", r->path);
        }
        full += r->full;
    }
    atomic_store(&st->full_roots, full);
    atomic_store(&st->all_full, full == st->n_roots);
    st->next_space_ns = now + SPACE_NS;
}

static int pick_root(struct sg_store *st)
{
    int best = -1;

    for (int i = 0; i < st->n_roots; i++)
        if (!st->roots[i].full && (best < 0 || st->roots[i].free_bytes > st->roots[best].free_bytes))
            best = i;
    return best;
}

static void do_open(struct sg_store *st, struct msg *m)
{
    struct seg *s = m->seg;
    char name[48], day[32], full[8192];
    struct iovec iov;
    time_t t = (time_t)(s->start_us / SG_US_PER_SEC);
    struct tm tm;
    int r, attempt;

    s->root_idx = pick_root(st);
    if (s->root_idx < 0) {
        atomic_store(&s->failed, 1);
        return;
    }
    gmtime_r(&t, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d/%H", &tm);
    sg_utc_format_compact(s->start_us, name, sizeof(name));
    for (attempt = 0; attempt < 10; attempt++) {
        if (attempt == 0)
            snprintf(s->rel, sizeof(s->rel), "%lld/%s/%s/%s.mp4", (long long)s->camera_id,
                     sg_stream_name(s->stream), day, name);
        else
            snprintf(s->rel, sizeof(s->rel), "%lld/%s/%s/%s-%d.mp4", (long long)s->camera_id,
                     sg_stream_name(s->stream), day, name, attempt);
        if ((r = sg_path_join(st->roots[s->root_idx].path, s->rel, full, sizeof(full))) < 0)
            break;
        sg_mkdir_parent(full);
        s->fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (s->fd >= 0 || errno != EEXIST)
            break;
    }
    if (s->fd < 0) {
        sg_error("store", s->camera_id, "cannot create %s: %s", full, strerror(errno));
        atomic_store(&s->failed, 1);
        return;
    }
    iov = (struct iovec){ m->a.data, m->a.len };
    if ((r = sg_writev_all(s->fd, &iov, 1)) < 0) {
        sg_error("store", s->camera_id, "writing %s: %s", full, sg_strerror(r));
        close(s->fd);
        unlink(full);
        s->fd = -1;
        atomic_store(&s->failed, 1);
        if (r == -ENOSPC)
            st->roots[s->root_idx].full = 1;
        return;
    }
    s->bytes = (int64_t)m->a.len;
    s->end_us = s->start_us;
    if (txn(st) == 0) {
        struct sg_segment row = { .camera_id = s->camera_id, .stream = s->stream,
                                  .start_us = s->start_us, .end_us = s->start_us, .bytes = s->bytes,
                                  .width = s->width, .height = s->height,
                                  .status = SG_SEG_RECORDING };
        snprintf(row.root, sizeof(row.root), "%s", st->roots[s->root_idx].path);
        snprintf(row.path, sizeof(row.path), "%s", s->rel);
        snprintf(row.codec, sizeof(row.codec), "%s", sg_codec_name(s->codec));
        if (sg_catalog_segment_insert(st->cat, &row) == 0)
            s->id = row.id;
    }
    sg_debug("store", s->camera_id, "segment %s opened", s->rel);
}

/* The fragment's header and its frames, in writes of up to 64 pieces (IOV_MAX is 1024; a GOP
 * of 2 s at 25 fps goes in one). A crash between two of them leaves a torn fragment, which the
 * start-up reconciliation cuts off as it does a torn write. */
static int write_frag(int fd, const struct msg *m)
{
    struct iovec iov[64];
    int n = 0, r;

    iov[n++] = (struct iovec){ m->a.data, m->a.len };
    for (size_t i = 0; i < m->n_frames; i++) {
        iov[n++] = (struct iovec){ m->frames[i]->data, m->frames[i]->size };
        if (n == (int)(sizeof(iov) / sizeof(iov[0]))) {
            if ((r = sg_writev_all(fd, iov, n)) < 0)
                return r;
            n = 0;
        }
    }
    return n ? sg_writev_all(fd, iov, n) : 0;
}

static void do_frag(struct sg_store *st, struct msg *m)
{
    struct seg *s = m->seg;
    int r;

    if (s->fd < 0 || atomic_load(&s->failed))
        return;
    if (st->roots[s->root_idx].full) {
        atomic_store(&s->failed, 1);
        return;
    }
    r = write_frag(s->fd, m);
    if (r < 0) {
        /* Cut the torn write off so the file stays valid up to its last fragment. */
        if (ftruncate(s->fd, s->bytes) < 0)
            sg_error("store", s->camera_id, "truncate after failed write: %s", strerror(errno));
        sg_error("store", s->camera_id, "write to %s failed: %s", s->rel, sg_strerror(r));
        atomic_store(&s->failed, 1);
        if (r == -ENOSPC) {
            st->roots[s->root_idx].full = 1;
            refresh_space(st, sg_mono_ns());
        }
        return;
    }
    {
        int64_t off = s->bytes, len = (int64_t)(m->a.len + m->payload_len);
        /* Start writing this fragment to the disk now (asynchronously): a power cut then loses
         * about a GOP, not the kernel's 30 s of dirty pages. Pages written back earlier are
         * dropped: recordings are not re-read soon, and recycling warm pages is much cheaper
         * than filling fresh ones (see docs/PERFORMANCE.md) and keeps the page cache from
         * growing by gigabytes. */
        sync_file_range(s->fd, off, len, SYNC_FILE_RANGE_WRITE);
        if (off - s->dropped_to > DROP_BEHIND) {
            posix_fadvise(s->fd, s->dropped_to, off - DROP_BEHIND / 2 - s->dropped_to, POSIX_FADV_DONTNEED);
            s->dropped_to = off - DROP_BEHIND / 2;
        }
    }
    s->bytes += (int64_t)(m->a.len + m->payload_len);
    s->end_us = m->end_us;
    s->fragments++;
    if (!s->dirty) {
        s->dirty = 1;
        s->next_dirty = st->dirty;
        st->dirty = s;
    }
}

static void undirty(struct sg_store *st, struct seg *s)
{
    for (struct seg **pp = &st->dirty; *pp; pp = &(*pp)->next_dirty)
        if (*pp == s) {
            *pp = s->next_dirty;
            break;
        }
    s->dirty = 0;
}

static void do_close(struct sg_store *st, struct msg *m)
{
    struct seg *s = m->seg;
    char full[8192];

    if (s->dirty)
        undirty(st, s);
    if (s->fd >= 0) {
        /* Durable at close; between closes the page cache is enough for kill -9, and at most
         * the last seconds are at risk on power loss (see ARCHITECTURE.md). */
        fdatasync(s->fd);
        close(s->fd);
        s->fd = -1;
        sg_path_join(st->roots[s->root_idx].path, s->rel, full, sizeof(full));
        if (s->fragments == 0) {
            /* Only a header: nothing was recorded, leave nothing behind. */
            unlink(full);
            if (s->id && txn(st) == 0)
                sg_catalog_segment_delete(st->cat, s->id);
        } else if (txn(st) == 0) {
            if (s->id)
                sg_catalog_segment_update(st->cat, s->id, s->end_us, s->bytes, SG_SEG_COMPLETE);
        }
        sg_debug("store", s->camera_id, "segment %s closed, %lld bytes", s->rel, (long long)s->bytes);
    }
    free(s);
}

static void handle(struct sg_store *st, struct msg *m)
{
    switch (m->type) {
    case M_OPEN:
        do_open(st, m);
        break;
    case M_FRAG:
        do_frag(st, m);
        break;
    case M_CLOSE:
        do_close(st, m);
        break;
    case M_LOSS_OPEN:
        if (txn(st) == 0 && sg_catalog_loss_open(st->cat, &m->loss_row) == 0 && m->loss)
            m->loss->id = m->loss_row.id;
        if (m->loss_row.end_us == 0)
            sg_info("store", m->loss_row.camera_id, "%s: video loss begins (%s)",
                    sg_stream_name(m->loss_row.stream), m->loss_row.reason);
        break;
    case M_LOSS_CLOSE:
        if (m->loss->id && txn(st) == 0)
            sg_catalog_loss_close(st->cat, m->loss->id, m->end_us);
        free(m->loss);
        break;
    case M_STATE:
        if (txn(st) == 0)
            sg_catalog_state_set(st->cat, &m->state);
        break;
    }
    msg_free(m);
}

static void *store_main(void *arg)
{
    struct sg_store *st = arg;

    for (;;) {
        int64_t now = sg_mono_ns();
        int64_t deadline = st->in_txn ? st->txn_start_ns + COMMIT_NS : now + COMMIT_NS;
        void *item;
        int r;

        if (deadline > st->next_space_ns)
            deadline = st->next_space_ns;
        r = sg_queue_pop(st->q, &item, deadline);
        if (r == -EPIPE)
            break;
        if (r == 0)
            handle(st, item);
        now = sg_mono_ns();
        if (atomic_exchange(&st->poke, 0) || now >= st->next_space_ns)
            refresh_space(st, now);
        if (st->in_txn && now - st->txn_start_ns >= COMMIT_NS)
            commit(st);
    }
    commit(st);
    return NULL;
}

void sg_store_loss(struct sg_store *st, int64_t camera_id, int stream, int64_t start_us,
                   int64_t end_us, const char *reason)
{
    struct msg *m = calloc(1, sizeof(*m));

    if (!m)
        abort();
    m->type = M_LOSS_OPEN;
    m->loss_row = (struct sg_loss){ .camera_id = camera_id, .stream = stream, .start_us = start_us,
                                    .end_us = end_us };
    snprintf(m->loss_row.reason, sizeof(m->loss_row.reason), "%s", reason);
    store_push(st, m, 1);
}

int sg_store_create(const struct sg_store_opts *opts, struct sg_store **out)
{
    struct sg_store *st = calloc(1, sizeof(*st));
    int r;

    *out = NULL;
    if (!st)
        return -ENOMEM;
    st->opts = *opts;
    st->n_roots = opts->n_roots > 8 ? 8 : opts->n_roots;
    for (int i = 0; i < st->n_roots; i++) {
        snprintf(st->roots[i].path, sizeof(st->roots[i].path), "%s", opts->roots[i]);
        if ((r = sg_mkdir_p(st->roots[i].path)) < 0) {
            sg_error("store", 0, "cannot create storage root %s: %s", st->roots[i].path, sg_strerror(r));
            free(st);
            return r;
        }
    }
    if ((r = sg_catalog_open(opts->catalog_path, 0, &st->cat)) < 0) {
        free(st);
        return r;
    }
    st->q = sg_queue_create(1 << 16, opts->queue_bytes);
    refresh_space(st, sg_mono_ns());
    if ((r = sg_thread_start(&st->th, "sg-store", store_main, st)) < 0) {
        sg_queue_destroy(&st->q);
        sg_catalog_close(&st->cat);
        free(st);
        return r;
    }
    *out = st;
    return 0;
}

void sg_store_destroy(struct sg_store **stp)
{
    struct sg_store *st = *stp;

    if (!st)
        return;
    sg_queue_close(st->q);
    sg_thread_join(&st->th);
    sg_queue_destroy(&st->q);
    sg_catalog_close(&st->cat);
    free(st);
    *stp = NULL;
}
