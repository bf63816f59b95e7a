/* The live hub's ring with real frames (the generated test media, media_fixture.c): a viewer
 * starts at the newest keyframe; frames older than the newest keyframe stay for 2 s of arrival
 * time (a viewer that far behind resumes at the newest keyframe), the current GOP always,
 * whatever its age. Frames carry their own monotonic arrival times, so no clock is faked and
 * nothing sleeps. Without the media the test is skipped (77). */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

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

/* Feeds AUs [from, to) of m. */
static void feed(struct sg_live_stream *s, const struct media *m, int from, int to)
{
    for (int i = from; i < to; i++) {
        struct sg_frame f = { .data = m->aus[i].data, .size = m->aus[i].size,
                              .dts = (int64_t)i * FRAME_TICKS, .arrival_utc_us = 1795228200000000LL + i * 40000LL,
                              .arrival_mono_ns = arrival_ns(i), .key = m->aus[i].key,
                              .params = &m->p, .params_changed = i == 0, .session_no = 1 };
        sg_live_frame(s, &f);
    }
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
    media_free(&m);
    return check_done("test_live");
}
