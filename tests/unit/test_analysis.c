/* The analysis threads with real frames (the generated test media, media_fixture.c): which
 * frames are decoded, and that leaving frames out changes nothing the analysis sees.
 *
 * - sub.h264 and still.h264 (25 fps, P frames only, an IDR every 50 frames) analysed at 5 fps:
 *   every IDR and every 5th frame after it are analysed (10 a GOP), and the 4 frames after a
 *   GOP's last analysed frame are never decoded: nothing after the next IDR needs them;
 * - bframes.h264 (the moving box of mover.h264 with 2 non-reference B frames between P frames):
 *   a B frame that is not analysed is never decoded;
 * - the still scene gives no event and the moving box gives one, in both codings: pictures
 *   decoded from what was kept are the pictures the camera sent.
 *
 * Frames are handed to the analysis as the ingest thread does (sg_analysis_frame), with UTC
 * arrival times 40 ms apart; the test waits for the analysis thread by polling its counters
 * (sg_analysis_info), never by sleeping a fixed time. Without the media it is skipped (77). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "base/clock.h"
#include "catalog/catalog.h"
#include "ingest/h26x.h"
#include "check.h"
#include "media_fixture.h"

#define T0_US 1795228200000000LL /* 2026-11-21 00:30 UTC */
#define FRAME_US 40000

static char tmpdir[] = "/tmp/sg-analysis-XXXXXX";

/* Hands frames [0, n) of m to the analyser, then the stream going offline, and waits until
 * the thread has taken all of it: the offline restarts the model (restarts goes up) and drops
 * the frames still waiting, so decoded + skipped counts every frame. */
static int run(struct sg_analysis *a, struct sg_analyser *an, int64_t camera_id, const struct media *m, int n,
               struct sg_analysis_info *out)
{
    struct sg_analysis_info before = { 0 };
    int64_t deadline = sg_mono_ns() + 60 * SG_NS_PER_SEC;

    sg_analysis_info(a, camera_id, SG_STREAM_SUB, &before);
    for (int i = 0; i < n; i++) {
        struct sg_frame f = { .data = m->aus[i].data, .size = m->aus[i].size, .dts = (int64_t)i * FRAME_TICKS,
                              .arrival_utc_us = T0_US + (int64_t)i * FRAME_US, .key = m->aus[i].key,
                              .params = &m->p, .params_changed = i == 0, .session_no = 1 };
        sg_analysis_frame(an, &f);
    }
    sg_analysis_offline(an);
    while (sg_mono_ns() < deadline) {
        if (sg_analysis_info(a, camera_id, SG_STREAM_SUB, out) == 0 && out->restarts > before.restarts)
            return 0;
        usleep(10000);
    }
    fprintf(stderr, "test_analysis: the analysis thread did not finish camera %lld in 60 s\n", (long long)camera_id);
    return -1;
}

/* Motion events of a camera in the catalog (the analysis thread wrote them before it counted
 * the restart that run() waited for). */
static int events(struct sg_catalog *cat, int64_t camera_id)
{
    struct sg_event_filter f = { .cameras = &camera_id, .n_cameras = 1, .limit = 100 };
    struct sg_motion_event *ev = NULL;
    int n = sg_catalog_event_list(cat, &f, &ev);

    free(ev);
    return n;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];

    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

static int64_t add_camera(struct sg_catalog *cat, const char *name)
{
    struct sg_camera c = { .enabled = 1, .retain_hours = 24 };

    snprintf(c.name, sizeof(c.name), "%s", name);
    snprintf(c.main_url, sizeof(c.main_url), "rtsp://127.0.0.1:1/%s/main", name);
    snprintf(c.sub_url, sizeof(c.sub_url), "rtsp://127.0.0.1:1/%s/sub", name);
    CHECK_EQ_INT(sg_catalog_camera_add(cat, &c), 0);
    return c.id;
}

/* sg_au_refs on every AU of a file: IDR exactly on the keyframes; non-reference exactly where
 * the first slice's nal_ref_idc (bits 5-6 of its NAL header) is 0. Returns the number of
 * non-reference AUs. */
static int classify(const struct media *m)
{
    int nonref = 0;

    for (int i = 0; i < m->n; i++) {
        const uint8_t *nal;
        size_t off = 0, len;
        int k = sg_au_refs(m->p.codec, m->aus[i].data, m->aus[i].size), ref_idc = -1;

        while (ref_idc < 0 && (nal = sg_au_next(m->aus[i].data, m->aus[i].size, &off, &len)))
            if ((nal[0] & 0x1f) == 1 || (nal[0] & 0x1f) == 5)
                ref_idc = (nal[0] >> 5) & 3;
        CHECK_EQ_INT(!!(k & SG_AU_IDR), m->aus[i].key);
        CHECK_EQ_INT(!!(k & SG_AU_NONREF), ref_idc == 0);
        nonref += ref_idc == 0;
    }
    /* damaged input: a length past the end, or no VCL unit, is an ordinary picture */
    if (m->n > 1) {
        CHECK_EQ_INT(sg_au_refs(m->p.codec, m->aus[1].data, m->aus[1].size - 1), 0);
        CHECK_EQ_INT(sg_au_refs(m->p.codec, m->aus[1].data, 3), 0);
        CHECK_EQ_INT(sg_au_refs(SG_CODEC_NONE, m->aus[1].data, m->aus[1].size), 0);
    }
    return nonref;
}

int main(void)
{
    struct media sub, still, bf, mover;
    struct sg_catalog *cat = NULL;
    struct sg_analysis *a = NULL;
    struct sg_analysis_opts o = { .threads = 1, .fps = 5, .batch_ms = 20 };
    struct sg_analysis_info info;
    char path[256];
    int64_t cam[4];
    struct sg_analyser *an[4];
    int nonref;

    if (media_load("sub.h264", 64 << 20, &sub) < 0 || media_load("still.h264", 64 << 20, &still) < 0 ||
        media_load("bframes.h264", 64 << 20, &bf) < 0 || media_load("mover.h264", 64 << 20, &mover) < 0) {
        fprintf(stderr, "test_analysis: no test media (scripts/gen-media.sh); skipped\n");
        return 77;
    }
    /* 750 frames a file; media_load leaves out the last AU (it may be cut) */
    CHECK(sub.n >= 7 * GOP && still.n == 749 && bf.n == 749 && mover.n == 749);
    CHECK_EQ_INT(classify(&sub), 0);
    CHECK_EQ_INT(classify(&still), 0);
    nonref = classify(&bf);
    CHECK(nonref >= bf.n / 2); /* two B frames of every three, less the P frames before IDRs */

    CHECK(mkdtemp(tmpdir) != NULL);
    snprintf(path, sizeof(path), "%s/catalog.db", tmpdir);
    CHECK_EQ_INT(sg_catalog_open(path, 0, &cat), 0);
    if (!cat)
        return check_done("test_analysis");
    cam[0] = add_camera(cat, "sub");
    cam[1] = add_camera(cat, "still");
    cam[2] = add_camera(cat, "bframes");
    cam[3] = add_camera(cat, "mover");
    sg_motion_config_defaults(&o.motion);
    o.catalog_path = path;
    CHECK_EQ_INT(sg_analysis_create(&o, &a), 0);
    for (int i = 0; i < 4; i++) {
        struct sg_camera c = { .id = cam[i], .site_id = 1 };
        snprintf(c.name, sizeof(c.name), "cam%d", i);
        an[i] = sg_analysis_add(a, &c, "town", SG_STREAM_SUB, 0);
    }

    /* 6 GOPs and the next IDR: frames 0, 5, ..., 45 of each GOP and the IDR analysed, frames
     * 46-49 of each GOP left out */
    if (run(a, an[0], cam[0], &sub, 6 * GOP + 1, &info) == 0) {
        CHECK_EQ_INT(info.frames, 6 * 10 + 1);
        CHECK_EQ_INT(info.skipped, 6 * 4);
        CHECK_EQ_INT(info.decoded, 6 * GOP + 1 - 6 * 4);
        CHECK_EQ_INT(info.width, 640);
    }
    /* the still scene, 15 GOPs less the last frame: the same, and the 3 frames after the last
     * analysed one (745) dropped by the offline; no event */
    if (run(a, an[1], cam[1], &still, still.n, &info) == 0) {
        CHECK_EQ_INT(info.frames, 150);
        CHECK_EQ_INT(info.skipped, 14 * 4 + 3);
        CHECK_EQ_INT(info.decoded, still.n - 14 * 4 - 3);
        CHECK_EQ_INT(events(cat, cam[1]), 0);
    }
    /* B frames: every decoded frame is a reference frame or an analysed one, every B frame
     * not analysed is skipped; the box is seen moving */
    if (run(a, an[2], cam[2], &bf, bf.n, &info) == 0) {
        fprintf(stderr, "bframes.h264: %lld analysed, %lld decoded, %lld skipped of %d (%d non-reference)\n",
                (long long)info.frames, (long long)info.decoded, (long long)info.skipped, bf.n, nonref);
        CHECK(info.frames >= 145 && info.frames <= 151);
        CHECK_EQ_INT(info.decoded + info.skipped, bf.n);
        CHECK(info.decoded <= bf.n - nonref + info.frames + 2); /* + 2: B frames due while the
                                                                 * decoder still held back pictures */
        CHECK(info.skipped >= nonref - info.frames - 2);
        CHECK(events(cat, cam[2]) >= 1);
    }
    /* the same box coded without B frames: an event too */
    if (run(a, an[3], cam[3], &mover, mover.n, &info) == 0) {
        CHECK_EQ_INT(info.frames, 150);
        CHECK(events(cat, cam[3]) >= 1);
    }

    for (int i = 0; i < 4; i++)
        sg_analysis_remove(&an[i]);
    sg_analysis_destroy(&a);
    sg_catalog_close(&cat);
    remove_dir(tmpdir);
    media_free(&sub);
    media_free(&still);
    media_free(&bf);
    media_free(&mover);
    return check_done("test_analysis");
}
