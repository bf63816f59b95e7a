/* The live hub's ring with real frames (the generated test media, media_fixture.c): a viewer
 * starts at the newest keyframe; frames older than the newest keyframe stay for 2 s of arrival
 * time (a viewer that far behind resumes at the newest keyframe), the current GOP always,
 * whatever its age. Frames carry their own monotonic arrival times, so no clock is faked and
 * nothing sleeps. Without the media the test is skipped (77). */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/clock.h"
#include "ingest/ingest.h"
#include "live/live.h"
#include "check.h"
#include "media_fixture.h"

#define FRAME_NS (40 * SG_NS_PER_MS)
#define T0_NS (1000 * SG_NS_PER_SEC)

static void wake(void *opaque) { (void)opaque; }
static void park(void *opaque) { (void)opaque; }

/* Arrival of frame i: every 40 ms (25 fps), and from the fourth GOP on every 100 ms (a GOP
 * of 5 s, as a camera at 10 fps would send). */
static int64_t arrival_ns(int i)
{
    return i < 3 * GOP ? T0_NS + (int64_t)i * FRAME_NS
                       : T0_NS + (int64_t)3 * GOP * FRAME_NS + (int64_t)(i - 3 * GOP) * 100 * SG_NS_PER_MS;
}

/* Feeds AUs [from, to) of m; with `shared`, each as a shared block (as the camera manager's tee
 * hands them), which the test lets go of at once: the hub's reference must keep it. */
static void feed_as(struct sg_live_stream *s, const struct media *m, int from, int to, int shared)
{
    for (int i = from; i < to; i++) {
        struct sg_frame f = { .data = m->aus[i].data, .size = m->aus[i].size,
                              .dts = (int64_t)i * FRAME_TICKS, .arrival_utc_us = 1795228200000000LL + i * 40000LL,
                              .arrival_mono_ns = arrival_ns(i), .key = m->aus[i].key,
                              .params = &m->p, .params_changed = i == 0, .session_no = 1 };
        if (shared) {
            CHECK((f.blob = sg_blob_copy(f.data, f.size)) != NULL);
            f.data = f.blob->data;
        }
        sg_live_frame(s, &f);
        sg_blob_unref(&f.blob);
    }
}

static void feed(struct sg_live_stream *s, const struct media *m, int from, int to) { feed_as(s, m, from, to, 0); }

/* Everything a viewer can read now, in reads of `step` bytes (odd sizes cross the boundary
 * between a fragment's header and its access unit). */
static size_t read_all(struct sg_live_viewer *v, uint8_t *buf, size_t max, size_t step)
{
    size_t got = 0;
    ssize_t n;

    while (got < max && (n = sg_live_read(v, buf + got, step < max - got ? step : max - got, park, NULL)) > 0)
        got += (size_t)n;
    return got;
}

/* Frames handed as shared blocks (the daemon's way) and as plain bytes (a caller without one)
 * give viewers the same bytes, read whole or 7 bytes at a time, and the same GOP to snapshots. */
static void shared_frames(const struct media *m)
{
    struct sg_live *l = NULL;
    struct sg_live_stream *plain, *shared;
    struct sg_live_viewer *vp = NULL, *vs = NULL, *vs7 = NULL;
    struct sg_live_opts o = { .max_bytes = 24u << 20 };
    struct sg_codec_params pp, ps;
    struct sg_live_au *gp = NULL, *gs = NULL;
    char codecs[32];
    size_t cap = 8u << 20, np, ns, ns7;
    uint8_t *bp = malloc(cap), *bs = malloc(cap), *bs7 = malloc(cap);
    int kp, ks;

    CHECK(bp && bs && bs7);
    CHECK_EQ_INT(sg_live_create(&o, &l), 0);
    plain = sg_live_publish(l, 1, 0);
    shared = sg_live_publish(l, 2, 0);
    CHECK(plain && shared && bp && bs && bs7);
    if (!plain || !shared || !bp || !bs || !bs7)
        return;
    feed_as(plain, m, 0, 1, 0);
    feed_as(shared, m, 0, 1, 1);
    CHECK_EQ_INT(sg_live_join(l, 1, 0, wake, NULL, &vp, codecs, sizeof(codecs)), 0);
    CHECK_EQ_INT(sg_live_join(l, 2, 0, wake, NULL, &vs, codecs, sizeof(codecs)), 0);
    CHECK_EQ_INT(sg_live_join(l, 2, 0, wake, NULL, &vs7, codecs, sizeof(codecs)), 0);
    /* two rounds of reading, so that no frame is 2 s old (and evicted) before it was read */
    feed_as(plain, m, 1, 30, 0);
    feed_as(shared, m, 1, 30, 1);
    np = read_all(vp, bp, cap, cap);
    ns = read_all(vs, bs, cap, cap);
    ns7 = read_all(vs7, bs7, cap, 7);
    feed_as(plain, m, 30, GOP + 20, 0);
    feed_as(shared, m, 30, GOP + 20, 1);
    np += read_all(vp, bp + np, cap - np, cap);
    ns += read_all(vs, bs + ns, cap - ns, cap);
    ns7 += read_all(vs7, bs7 + ns7, cap - ns7, 7);
    CHECK(np > (size_t)(GOP + 20) * 100);
    CHECK_EQ_INT(ns, np);
    CHECK_EQ_INT(ns7, np);
    CHECK(ns == np && !memcmp(bs, bp, np));
    CHECK(ns7 == np && !memcmp(bs7, bp, np));
    /* the snapshot's GOP: from the newest keyframe (GOP) on, the same access units */
    kp = sg_live_gop(l, 1, 0, 0, &pp, &gp);
    ks = sg_live_gop(l, 2, 0, 0, &ps, &gs);
    CHECK_EQ_INT(kp, 20);
    CHECK_EQ_INT(ks, kp);
    for (int i = 0; i < kp && i < ks; i++) {
        CHECK_EQ_INT(gs[i].size, m->aus[GOP + i].size);
        CHECK(gs[i].size == gp[i].size && !memcmp(gs[i].data, m->aus[GOP + i].data, gs[i].size));
    }
    sg_live_gop_free(&gp, kp);
    sg_live_gop_free(&gs, ks);
    sg_live_leave(&vp);
    sg_live_leave(&vs);
    sg_live_leave(&vs7);
    sg_live_unpublish(l, &plain);
    sg_live_unpublish(l, &shared);
    sg_live_destroy(&l);
    free(bp);
    free(bs);
    free(bs7);
}

/* The sequence number of the first fragment (mfhd) a viewer reads, or -1. */
static long first_fragment(struct sg_live_viewer *v)
{
    static uint8_t buf[1 << 20];
    ssize_t n = sg_live_read(v, buf, sizeof(buf), park, NULL);

    for (ssize_t i = 4; i + 12 <= n; i++)
        if (!memcmp(buf + i, "mfhd", 4))
            return (long)((uint32_t)buf[i + 8] << 24 | (uint32_t)buf[i + 9] << 16 | (uint32_t)buf[i + 10] << 8 |
                          buf[i + 11]);
    return -1;
}

int main(void)
{
    struct media m;
    struct sg_live *l = NULL;
    struct sg_live_stream *s;
    struct sg_live_viewer *kept = NULL, *lagging = NULL, *fresh = NULL, *late = NULL;
    struct sg_live_opts o = { .max_bytes = 24u << 20 };
    char codecs[32];

    if (media_load("sub.h264", 8 << 20, &m) < 0) {
        fprintf(stderr, "test_live: no test media (scripts/gen-media.sh); skipped\n");
        return 77;
    }
    CHECK(m.n >= 4 * GOP && m.aus[0].key && m.aus[GOP].key && !m.aus[1].key);
    CHECK_EQ_INT(sg_live_create(&o, &l), 0);
    s = sg_live_publish(l, 1, 0);
    CHECK(s != NULL);
    if (!s)
        return 1;
    sg_live_state(s, SG_ST_ONLINE, 0, NULL);

    /* two viewers join at the first keyframe and read everything up to frame 40 (1.6 s) */
    feed(s, &m, 0, 41);
    CHECK_EQ_INT(sg_live_join(l, 1, 0, wake, NULL, &kept, codecs, sizeof(codecs)), 0);
    CHECK_EQ_INT(sg_live_join(l, 1, 0, wake, NULL, &lagging, codecs, sizeof(codecs)), 0);
    CHECK_EQ_INT(first_fragment(kept), 1);
    CHECK_EQ_INT(first_fragment(lagging), 1);
    /* up to frame 55 (2.2 s): frames 41.. are older than the newest keyframe (50) but within
     * 2 s: a viewer 0.6 s behind goes on where it was */
    feed(s, &m, 41, 56);
    CHECK_EQ_INT(first_fragment(kept), 42);
    /* up to frame 95 (3.8 s): frame 41 is 2.2 s old and gone; a viewer that far behind
     * resumes at the newest keyframe */
    feed(s, &m, 56, 96);
    CHECK_EQ_INT(first_fragment(lagging), GOP + 1);
    /* a new viewer starts at the newest keyframe */
    CHECK_EQ_INT(sg_live_join(l, 1, 0, wake, NULL, &fresh, codecs, sizeof(codecs)), 0);
    CHECK_EQ_INT(first_fragment(fresh), GOP + 1);

    /* the current GOP is kept whole however old: a GOP of 5 s (frames every 100 ms from
     * frame 150); a viewer that joined at its keyframe and read nothing gets it from the
     * start 4.9 s later */
    feed(s, &m, 96, 3 * GOP + 1);
    CHECK_EQ_INT(sg_live_join(l, 1, 0, wake, NULL, &late, codecs, sizeof(codecs)), 0);
    feed(s, &m, 3 * GOP + 1, 4 * GOP);
    CHECK_EQ_INT(first_fragment(late), 3 * GOP + 1);

    sg_live_leave(&kept);
    sg_live_leave(&lagging);
    sg_live_leave(&fresh);
    sg_live_leave(&late);
    sg_live_unpublish(l, &s);
    sg_live_destroy(&l);

    shared_frames(&m);
    media_free(&m);
    return check_done("test_live");
}
