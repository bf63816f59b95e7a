/* Motion analysis against labelled synthetic clips (tests/unit/motion_gen.c): the standard set
 * of quiet and event clips with their disturbances, zones and masks, resets and resolution
 * changes, the event machine's contract, and a cost line (printed, never asserted). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/motion.h"
#include "analysis/zones.h"
#include "motion_gen.h"
#include "check.h"

/* Under AddressSanitizer (a Debug build) the pixel loops run ~12 times slower: the quality
 * set is cut to one draw of each clip type there (HD clips left to cost()), which still runs
 * every path, and the directed tests use 320x180 frames. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* the directed tests' clips: 640x360, or 320x180 under sanitizers (the same 160x90 grid) */
#define DIR_W (SANITIZED ? 320 : 640)
#define DIR_H (SANITIZED ? 180 : 360)

#define BASE_US 1700000000000000LL
#define MAX_EV 64

struct det {
    int64_t start_us, end_us; /* clip time */
    float peak;
    uint32_t zones;
};

struct run {
    int nev;
    struct det ev[MAX_EV];
    int frames;
    int contract_errors;       /* broken promises of struct sg_motion_result */
    int ended_at_reset;        /* an event ended by a reset/resize/gap, end = last frame before */
    int max_level;
};

static int64_t clip_time(const struct mg_clip *c, int64_t utc)
{
    int64_t t = utc - BASE_US;
    if (c->gap_s > 0.0 && t >= (int64_t)llround((c->gap_t + c->gap_s) * 1e6))
        t -= (int64_t)llround(c->gap_s * 1e6);
    return t;
}

static void zone_rect(struct sg_zone *z, int kind, float x0, float y0, float x1, float y1)
{
    memset(z, 0, sizeof(*z));
    z->kind = kind;
    snprintf(z->name, sizeof(z->name), "%s", kind == SG_ZONE_MASK ? "mask" : "zone");
    z->n = 4;
    z->x[0] = z->x[3] = x0 < 0.0f ? 0.0f : x0;
    z->x[1] = z->x[2] = x1 > 1.0f ? 1.0f : x1;
    z->y[0] = z->y[1] = y0 < 0.0f ? 0.0f : y0;
    z->y[2] = z->y[3] = y1 > 1.0f ? 1.0f : y1;
}

/* Books one frame's result: events opened and closed, and broken promises. */
static void record(const struct mg_clip *c, struct run *ro, const struct sg_motion_result *res, int64_t utc,
                   int64_t last_utc, int restarted, int *open)
{
    ro->frames++;
    if (res->level > ro->max_level)
        ro->max_level = res->level;
    if (res->level < 0 || res->level > 255 || res->score < 0.0f || res->score > 1.0f ||
        (res->started && !res->in_event) || (res->peak && !res->in_event) ||
        (res->started && !res->peak) || (res->zones && res->score <= 0.0f))
        ro->contract_errors++;
    if (res->ended) {
        if (!*open || ro->nev == 0) {
            ro->contract_errors++;
        } else {
            struct det *d = &ro->ev[ro->nev - 1];
            d->end_us = clip_time(c, res->event_end_us);
            d->peak = res->event_peak_score;
            d->zones = res->event_zones;
            if (res->event_end_us > utc || res->event_end_us < res->event_start_us)
                ro->contract_errors++;
            if (res->event_end_us == last_utc && !res->in_event && res->level == 0)
                ro->ended_at_reset += restarted && res->event_end_us < utc;
        }
        *open = 0;
    }
    if (res->started) {
        if (*open)
            ro->contract_errors++;
        if (ro->nev < MAX_EV) {
            struct det *d = &ro->ev[ro->nev++];
            d->start_us = clip_time(c, res->event_start_us);
            d->end_us = clip_time(c, utc);
        }
        *open = 1;
    }
    if (*open && ro->nev) {
        struct det *d = &ro->ev[ro->nev - 1];
        d->end_us = clip_time(c, res->event_end_us);
        d->peak = res->event_peak_score;
        d->zones = res->event_zones;
        if (res->peak && res->event_peak_us != utc)
            ro->contract_errors++;
    }
}

/* Feeds the clip to a fresh analyser and collects the events. */
static int run_clip(struct mg_clip *c, const struct sg_motion_config *cfg, const struct sg_zone *zones,
                    int nz, struct run *ro)
{
    struct sg_motion *m = sg_motion_create(cfg);
    struct sg_motion_result res;
    uint8_t *buf = NULL;
    int resized = 0, was_reset = 0, open = 0, rc = -ENOMEM;
    int64_t last_utc = 0;
    double dt = 1.0 / c->fps;

    memset(ro, 0, sizeof(*ro));
    if (!m || mg_clip_prepare(c, c->w, c->h) < 0)
        goto fail;
    buf = malloc((size_t)c->rw * (size_t)c->rh);
    if (!buf)
        goto fail;
    if (c->limited_out && sg_motion_set_black(m, 16) < 0) {
        rc = -EINVAL;
        goto fail;
    }
    if (nz && sg_motion_set_zones(m, zones, nz) < 0) {
        rc = -EINVAL;
        goto fail;
    }
    for (int k = 0; k * dt < c->dur_s - 1e-9; k++) {
        double t = k * dt;
        int64_t utc = BASE_US + (int64_t)llround(t * 1e6);
        if (c->gap_s > 0.0 && t >= c->gap_t)
            utc += (int64_t)llround(c->gap_s * 1e6);
        if (c->resize_t > 0.0 && !resized && t >= c->resize_t) {
            resized = 1;
            free(buf);
            buf = NULL;
            if (mg_clip_prepare(c, c->resize_w, c->resize_h) < 0)
                goto fail;
            buf = malloc((size_t)c->rw * (size_t)c->rh);
            if (!buf)
                goto fail;
        }
        if (c->reset_t > 0.0 && !was_reset && t >= c->reset_t) {
            was_reset = 1;
            sg_motion_reset(m);
        }
        mg_render(c, t, buf);
        if (sg_motion_frame(m, buf, c->rw, c->rh, c->rw, utc, &res) < 0) {
            rc = -EINVAL;
            goto fail;
        }
        record(c, ro, &res, utc, last_utc, was_reset || resized || (c->gap_s > 0 && t >= c->gap_t), &open);
        last_utc = utc;
    }
    rc = 0;
fail:
    free(buf);
    mg_clip_free(c);
    sg_motion_destroy(&m);
    return rc;
}

static int overlaps(const struct det *d, const struct mg_label *l)
{
    return d->start_us <= l->end_us && d->end_us >= l->start_us;
}

/* Labelled events found, labelled events, events overlapping no label, and events that
 * overlap a label but go on past the end of every label they overlap (a ghost, a parked car
 * never learnt). */
static void score_run(const struct mg_clip *c, const struct run *ro, int *found, int *must, int *false_ev,
                      int *overrun)
{
    struct mg_label lab[MG_MAX_LABELS];
    int nl = mg_labels(c, lab, MG_MAX_LABELS);

    *found = *must = *false_ev = *overrun = 0;
    for (int i = 0; i < nl; i++) {
        if (!lab[i].must)
            continue;
        (*must)++;
        for (int e = 0; e < ro->nev; e++)
            if (overlaps(&ro->ev[e], &lab[i])) {
                (*found)++;
                break;
            }
    }
    for (int e = 0; e < ro->nev; e++) {
        int hit = 0;
        int64_t end = 0;
        for (int i = 0; i < nl; i++)
            if (overlaps(&ro->ev[e], &lab[i])) {
                hit = 1;
                end = lab[i].end_us > end ? lab[i].end_us : end;
            }
        *false_ev += !hit;
        *overrun += hit && ro->ev[e].end_us > end;
    }
}

/* ---- the standard clip set ---- */

/* The standard set, in full range, or in limited range as a decoder gives back what an encoder
 * took as limited range (luma 16 + 219 y / 255: black at 16, or at 29.7 for the clips whose
 * camera already has a black level of 16), with the black level 16 the stream declares. */
static void test_quality(int limited)
{
    int found = 0, must = 0, false_ev = 0, quiet_false = 0, overruns = 0, clips = 0;
    int nclips = mg_set_size();
    double seconds = 0.0;
    struct sg_motion_config cfg = { 0 };
    const char *env = getenv("SG_MOTION_CLIPS"); /* more draws of the same set, to explore */

    if (SANITIZED)
        nclips /= 3;
    if (env && atoi(env) > 0)
        nclips = atoi(env);
    sg_motion_config_defaults(&cfg);
    for (int i = 0; i < nclips; i++) {
        struct mg_clip c;
        struct sg_zone mask;
        struct run ro;
        int f, mu, fe, ov;

        mg_clip_from_set(&c, i);
        c.limited_out = limited;
        if (SANITIZED && c.w * c.h > 800 * 450) /* HD frames: cost() runs them under ASan */
            continue;
        if (c.flag) /* the user's polygon around the flag, drawn a little generously */
            zone_rect(&mask, SG_ZONE_MASK, c.flag_x0 - 0.03f, c.flag_y0 - 0.03f, c.flag_x1 + 0.03f,
                      c.flag_y1 + 0.03f);
        CHECK_EQ_INT(run_clip(&c, &cfg, &mask, c.flag ? 1 : 0, &ro), 0);
        CHECK_EQ_INT(ro.contract_errors, 0);
        score_run(&c, &ro, &f, &mu, &fe, &ov);
        printf("clip %-13s %4dx%-4d %5.1f fps noise %.1f: events %d, found %d/%d, false %d%s", c.name,
               c.w, c.h, c.fps, c.noise, ro.nev, f, mu, fe, ov ? ", overrun" : "");
        for (int e = 0; e < ro.nev && e < 4; e++)
            printf(" [%.1f-%.1f %.3f]", (double)ro.ev[e].start_us / 1e6, (double)ro.ev[e].end_us / 1e6,
                   (double)ro.ev[e].peak);
        printf("\n");
        if (getenv("SG_MOTION_VERBOSE")) {
            struct mg_label lab[MG_MAX_LABELS];
            int nl = mg_labels(&c, lab, MG_MAX_LABELS);
            for (int l = 0; l < nl; l++)
                printf("    label %s %.1f-%.1f\n", lab[l].must ? "must" : "may ",
                       (double)lab[l].start_us / 1e6, (double)lab[l].end_us / 1e6);
        }
        if (c.quiet) {
            CHECK_EQ_INT(ro.nev, 0);
            quiet_false += ro.nev;
        }
        found += f;
        must += mu;
        false_ev += fe;
        overruns += ov;
        clips++;
        seconds += c.dur_s;
    }
    double recall = must ? (double)found / must : 0.0, per_hour = false_ev / (seconds / 3600.0);
    printf("%s range: ", limited ? "limited" : "full");
    printf("RESULT motion_quality recall=%.3f false_events=%d false_per_hour=%.2f clips=%d "
           "(labelled events %d, quiet-clip events %d, %.0f s of clips)\n",
           recall, false_ev, per_hour, clips, must, quiet_false, seconds);
    printf("events that outlast their labels (ghosts, parked objects not learnt): %d\n", overruns);
    CHECK(must >= (SANITIZED ? 8 : 20));
    CHECK(recall >= 0.95);
    CHECK_EQ_INT(quiet_false, 0);
    CHECK(per_hour <= 5.0);
    CHECK(overruns * 20 <= clips);
}

/* ---- zones and masks ---- */

/* An object crossing the middle band left to right. */
static void path_clip(struct mg_clip *c, float area, float contrast, float tex, float noise)
{
    mg_clip_init(c, "path", DIR_W, DIR_H, 20.0, 4242);
    c->bg = MG_BG_STREET;
    c->level = 110.0f;
    c->contrast = 40.0f;
    c->noise = noise;
    mg_add_object(c, area, 1.5f, contrast, tex, 4.0, 14.0, -0.1f, 0.5f, 1.1f, 0.5f);
}

static int count_events(struct mg_clip *c, const struct sg_zone *z, int nz, uint32_t *zones)
{
    struct sg_motion_config cfg = { 0 };
    struct run ro;

    sg_motion_config_defaults(&cfg);
    CHECK_EQ_INT(run_clip(c, &cfg, z, nz, &ro), 0);
    CHECK_EQ_INT(ro.contract_errors, 0);
    *zones = 0;
    for (int e = 0; e < ro.nev; e++)
        *zones |= ro.ev[e].zones;
    return ro.nev;
}

static void test_zones(void)
{
    struct mg_clip c;
    struct sg_zone z[3];
    uint32_t zones;

    path_clip(&c, 0.02f, 50.0f, 15.0f, 3.0f);
    CHECK_EQ_INT(count_events(&c, NULL, 0, &zones), 1);
    CHECK_EQ_INT(zones, 0);

    /* a mask over its path: nothing */
    zone_rect(&z[0], SG_ZONE_MASK, 0.0f, 0.3f, 1.0f, 0.7f);
    CHECK_EQ_INT(count_events(&c, z, 1, &zones), 0);

    /* a detection zone elsewhere: nothing */
    zone_rect(&z[0], SG_ZONE_DETECT, 0.0f, 0.0f, 0.3f, 0.2f);
    CHECK_EQ_INT(count_events(&c, z, 1, &zones), 0);

    /* a mask, a zone elsewhere and one on the path: an event in zone 2 only */
    zone_rect(&z[1], SG_ZONE_MASK, 0.8f, 0.8f, 1.0f, 1.0f);
    zone_rect(&z[2], SG_ZONE_DETECT, 0.4f, 0.35f, 0.7f, 0.65f);
    CHECK_EQ_INT(count_events(&c, z, 3, &zones), 1);
    CHECK_EQ_INT(zones, 1u << 2);

    /* a triangle covering the path's right half */
    memset(&z[0], 0, sizeof(z[0]));
    z[0].kind = SG_ZONE_DETECT;
    z[0].n = 3;
    z[0].x[0] = 0.6f, z[0].y[0] = 0.1f;
    z[0].x[1] = 1.0f, z[0].y[1] = 0.5f;
    z[0].x[2] = 0.6f, z[0].y[2] = 0.9f;
    CHECK_EQ_INT(count_events(&c, z, 1, &zones), 1);
    CHECK_EQ_INT(zones, 1u);

    /* min_area: a 0.4 % object is ignored by a zone asking for 5 %, found by one asking 0.1 % */
    path_clip(&c, 0.004f, 50.0f, 15.0f, 3.0f);
    zone_rect(&z[0], SG_ZONE_DETECT, 0.0f, 0.2f, 1.0f, 0.8f);
    z[0].min_area = 0.05f;
    CHECK_EQ_INT(count_events(&c, z, 1, &zones), 0);
    z[0].min_area = 0.001f;
    CHECK_EQ_INT(count_events(&c, z, 1, &zones), 1);
    /* both at once: only the permissive zone's bit */
    z[1] = z[0];
    z[0].min_area = 0.05f;
    CHECK_EQ_INT(count_events(&c, z, 2, &zones), 1);
    CHECK_EQ_INT(zones, 1u << 1);

    /* zones replaced while running apply from the next frame: a mask over the path set at
     * 2 s, before the object comes in at 4 s */
    {
        struct sg_motion *m = sg_motion_create(NULL);
        struct sg_motion_result res;
        uint8_t *buf;
        int started = 0;

        path_clip(&c, 0.02f, 50.0f, 15.0f, 3.0f);
        CHECK_EQ_INT(mg_clip_prepare(&c, c.w, c.h), 0);
        buf = malloc((size_t)c.w * (size_t)c.h);
        zone_rect(&z[0], SG_ZONE_MASK, 0.0f, 0.3f, 1.0f, 0.7f);
        for (int k = 0; m && buf && k < 100; k++) {
            if (k == 10)
                CHECK_EQ_INT(sg_motion_set_zones(m, z, 1), 0);
            mg_render(&c, k * 0.2, buf);
            CHECK_EQ_INT(sg_motion_frame(m, buf, c.w, c.h, c.w, BASE_US + k * 200000LL, &res), 0);
            started += res.started;
        }
        CHECK_EQ_INT(started, 0);
        free(buf);
        mg_clip_free(&c);
        sg_motion_destroy(&m);
    }

    /* sensitivity: a faint object (about 12 % darker, no texture) seen at 90, not at 10 */
    path_clip(&c, 0.03f, 13.0f, 0.0f, 2.0f);
    c.bg = MG_BG_GRADIENT;
    c.contrast = 10.0f;
    c.obj[0].base = mg_scene_mean(&c, 0.5f, 0.5f, 0.1f, 0.1f) - 13.0f;
    zone_rect(&z[0], SG_ZONE_DETECT, 0.0f, 0.0f, 1.0f, 1.0f);
    z[0].sensitivity = 10;
    CHECK_EQ_INT(count_events(&c, z, 1, &zones), 0);
    z[0].sensitivity = 90;
    CHECK_EQ_INT(count_events(&c, z, 1, &zones), 1);
}

/* ---- resets, resolution changes, gaps ---- */

static void test_resets(void)
{
    struct sg_motion_config cfg = { 0 };
    struct mg_clip c;
    struct run ro;

    sg_motion_config_defaults(&cfg);
    /* an object in the picture when the camera reconnects: the event ends at the last frame
     * before the reset, and the warm-up after it does not start another one */
    path_clip(&c, 0.03f, 50.0f, 15.0f, 3.0f);
    c.reset_t = 8.0;
    CHECK_EQ_INT(run_clip(&c, &cfg, NULL, 0, &ro), 0);
    CHECK_EQ_INT(ro.contract_errors, 0);
    CHECK(ro.nev >= 1);
    CHECK_EQ_INT(ro.ended_at_reset, 1);
    if (ro.nev >= 1)
        CHECK_EQ_INT(ro.ev[0].end_us, 7800000);
    for (int e = 1; e < ro.nev; e++) /* the object still moving after the warm-up */
        CHECK(ro.ev[e].start_us >= 10000000);

    /* the same with a resolution change */
    path_clip(&c, 0.03f, 50.0f, 15.0f, 3.0f);
    c.resize_t = 8.0;
    c.resize_w = 320;
    c.resize_h = 240;
    CHECK_EQ_INT(run_clip(&c, &cfg, NULL, 0, &ro), 0);
    CHECK_EQ_INT(ro.contract_errors, 0);
    CHECK_EQ_INT(ro.ended_at_reset, 1);
    if (ro.nev >= 1)
        CHECK_EQ_INT(ro.ev[0].end_us, 7800000);

    /* and with a gap of 20 s in the frames */
    path_clip(&c, 0.03f, 50.0f, 15.0f, 3.0f);
    c.gap_t = 8.0;
    c.gap_s = 20.0;
    CHECK_EQ_INT(run_clip(&c, &cfg, NULL, 0, &ro), 0);
    CHECK_EQ_INT(ro.ended_at_reset, 1);

    /* static scenes: reset, resize, gap, each with the exposure changed on return: quiet */
    for (int k = 0; k < 3; k++) {
        mg_clip_init(&c, "static", DIR_W, DIR_H, 20.0, 99 + (uint64_t)k);
        c.bg = k;
        c.noise = 4.0f;
        c.gap_t = 8.0;
        c.gap_gain = 0.25f;
        if (k == 0)
            c.reset_t = 8.0;
        else if (k == 1)
            c.resize_t = 8.0, c.resize_w = 2 * DIR_W, c.resize_h = 2 * DIR_H;
        else
            c.gap_s = 7.0;
        CHECK_EQ_INT(run_clip(&c, &cfg, NULL, 0, &ro), 0);
        CHECK_EQ_INT(ro.nev, 0);
        CHECK_EQ_INT(ro.max_level, 0);
    }
}

/* ---- the interface's promises ---- */

static void test_api(void)
{
    struct sg_motion_config cfg = { 0 };
    struct sg_motion *m;
    struct sg_motion_result res;
    struct sg_zone z;
    uint8_t *img = calloc(640 * 360, 1);

    sg_motion_config_defaults(&cfg);
    CHECK_EQ_INT(cfg.sensitivity, 50);
    CHECK(fabsf(cfg.min_area - 0.002f) < 1e-6f);
    CHECK_EQ_INT(cfg.start_frames, 2);
    CHECK_EQ_INT(cfg.end_quiet_us, 3000000);
    CHECK_EQ_INT(cfg.warmup_us, 2000000);
    cfg.sensitivity = 70;
    sg_motion_config_defaults(&cfg);
    CHECK_EQ_INT(cfg.sensitivity, 70);

    sg_motion_destroy(NULL);
    m = sg_motion_create(NULL);
    CHECK(m != NULL);
    CHECK_EQ_INT(sg_motion_frame(m, NULL, 640, 360, 640, BASE_US, &res), -EINVAL);
    CHECK_EQ_INT(sg_motion_frame(m, img, 640, 360, 600, BASE_US, &res), -EINVAL);
    CHECK_EQ_INT(sg_motion_frame(m, img, 0, 360, 640, BASE_US, &res), -EINVAL);
    CHECK_EQ_INT(sg_motion_frame(m, img, 640, 360, 640, BASE_US, NULL), -EINVAL);
    CHECK_EQ_INT(sg_motion_set_black(m, -1), -EINVAL);
    CHECK_EQ_INT(sg_motion_set_black(m, 65), -EINVAL);
    CHECK_EQ_INT(sg_motion_set_black(NULL, 16), -EINVAL);
    zone_rect(&z, SG_ZONE_DETECT, 0.1f, 0.1f, 0.5f, 0.5f);
    z.n = 2;
    CHECK_EQ_INT(sg_motion_set_zones(m, &z, 1), -EINVAL);
    z.n = 4;
    z.x[1] = 1.5f;
    CHECK_EQ_INT(sg_motion_set_zones(m, &z, 1), -EINVAL);
    z.x[1] = NAN;
    CHECK_EQ_INT(sg_motion_set_zones(m, &z, 1), -EINVAL);
    z.x[1] = 0.5f;
    z.kind = 7;
    CHECK_EQ_INT(sg_motion_set_zones(m, &z, 1), -EINVAL);
    z.kind = SG_ZONE_DETECT;
    CHECK_EQ_INT(sg_motion_set_zones(m, &z, SG_MOTION_MAX_ZONES + 1), -EINVAL);
    CHECK_EQ_INT(sg_motion_set_zones(m, NULL, 1), -EINVAL);
    CHECK_EQ_INT(sg_motion_set_zones(m, &z, 1), 0);
    CHECK_EQ_INT(sg_motion_set_zones(m, NULL, 0), 0);

    /* a black then a white picture, odd sizes and strides: no crash, nothing during warm-up */
    for (int k = 0; k < 8; k++) {
        memset(img, k < 4 ? 0 : 255, 640 * 360);
        CHECK_EQ_INT(sg_motion_frame(m, img, 333, 197, 401, BASE_US + k * 200000, &res), 0);
        CHECK_EQ_INT(res.in_event, 0);
    }
    CHECK_EQ_INT(sg_motion_frame(m, img, 16, 16, 16, BASE_US + 9 * 200000, &res), 0);
    /* a strip too thin for a 5x5 grid */
    CHECK_EQ_INT(sg_motion_frame(m, img, 2000, 16, 2000, BASE_US + 10 * 200000, &res), -EINVAL);
    CHECK_EQ_INT(sg_motion_frame(m, img, 320, 180, 320, BASE_US + 11 * 200000, &res), 0);
    sg_motion_destroy(&m);
    CHECK(m == NULL);
    sg_motion_destroy(&m);
    free(img);
}

/* An event's zone names are gathered by name across zone-list changes (worker.c): bits index
 * the list in force, names stay once seen, text that is not a list starts a new one, and a
 * result that does not fit leaves the names as they were. */
static void test_zone_names(void)
{
    struct sg_zone z[2], z2[1];
    char names[64] = "[]", small[12] = "[\"lane\"]", err[128];

    CHECK_EQ_INT(sg_zones_parse("[{\"name\":\"lane\",\"kind\":\"detect\",\"points\":[[0,0],[1,0],[1,1]]},"
                                "{\"name\":\"door\",\"kind\":\"detect\",\"points\":[[0,0],[1,0],[1,1]]}]",
                                z, err, sizeof(err)), 2);
    sg_zones_names_merge(z, 2, 0, names, sizeof(names));
    CHECK_STR(names, "[]");
    sg_zones_names_merge(z, 2, 1u << 1, names, sizeof(names));
    CHECK_STR(names, "[\"door\"]");
    sg_zones_names_merge(z, 2, 3u, names, sizeof(names));
    CHECK_STR(names, "[\"door\",\"lane\"]");
    /* the list changed: bit 0 is now "quiet"; what was named stays */
    CHECK_EQ_INT(sg_zones_parse("[{\"name\":\"quiet\",\"kind\":\"detect\",\"points\":[[0,0],[1,0],[1,1]]}]",
                                z2, err, sizeof(err)), 1);
    sg_zones_names_merge(z2, 1, 1u, names, sizeof(names));
    CHECK_STR(names, "[\"door\",\"lane\",\"quiet\"]");
    snprintf(names, sizeof(names), "not json");
    sg_zones_names_merge(z2, 1, 1u, names, sizeof(names));
    CHECK_STR(names, "[\"quiet\"]");
    sg_zones_names_merge(z2, 1, 1u, small, sizeof(small)); /* ["lane","quiet"] does not fit in 12 */
    CHECK_STR(small, "[\"lane\"]");
}

/* The event machine on a controlled scene: a square appears for 3 s, then goes. */
static void test_events(void)
{
    struct sg_motion_config cfg = { 0 };
    struct sg_motion *m;
    struct sg_motion_result res;
    uint8_t *img = malloc(320 * 180);
    int started = 0, ended = 0, peaks = 0;
    int64_t start = 0, end = 0;
    float last_peak = 0.0f;
    uint64_t s = 7;

    cfg.start_frames = 3;
    cfg.end_quiet_us = 2000000;
    m = sg_motion_create(&cfg);
    for (int k = 0; k < 100; k++) {
        int64_t t = BASE_US + (int64_t)k * 200000;
        for (int i = 0; i < 320 * 180; i++) { /* texture plus noise */
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            img[i] = (uint8_t)(60 + (i % 320 / 8 % 2) * 40 + (int)(s >> 61));
        }
        if (k >= 40 && k < 55) /* a 40x40 textured square, moving 4 px per frame */
            for (int y = 60; y < 100; y++)
                for (int x = 100 + (k - 40) * 4; x < 140 + (k - 40) * 4; x++)
                    img[y * 320 + x] = (uint8_t)(180 + ((x / 5 + y / 5) % 2) * 30);
        CHECK_EQ_INT(sg_motion_frame(m, img, 320, 180, 320, t, &res), 0);
        if (res.started) {
            started++;
            start = res.event_start_us;
            CHECK_EQ_INT(k, 42); /* 3 frames with motion: 40, 41, 42 */
            CHECK_EQ_INT(res.event_start_us, BASE_US + 40 * 200000);
        }
        if (res.peak) {
            peaks++;
            CHECK(res.event_peak_score >= last_peak);
            CHECK_EQ_INT(res.event_peak_us, t);
            last_peak = res.event_peak_score;
        }
        if (res.in_event)
            CHECK(res.level > 0 || k >= 55);
        if (res.ended) {
            ended++;
            end = res.event_end_us;
            CHECK_EQ_INT(k, 54 + 10); /* 2 s of quiet after the last frame with motion */
        }
    }
    CHECK_EQ_INT(started, 1);
    CHECK_EQ_INT(ended, 1);
    CHECK(peaks >= 1);
    CHECK_EQ_INT(start, BASE_US + 40 * 200000);
    CHECK_EQ_INT(end, BASE_US + 54 * 200000);
    sg_motion_destroy(&m);
    free(img);
}

/* ---- cost (printed only: timing assertions do not belong in make test) ---- */

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void cost(int w, int h, double fps, int n, const char *what)
{
    struct mg_clip c;
    struct sg_motion *m = sg_motion_create(NULL);
    struct sg_motion_result res;
    enum { NF = 16 };
    uint8_t *frames = malloc((size_t)w * (size_t)h * NF);
    double t0, ns;

    mg_clip_init(&c, "cost", w, h, 60.0, 31337);
    c.bg = MG_BG_STREET;
    c.noise = 3.0f;
    mg_add_object(&c, 0.02f, 1.5f, 50.0f, 15.0f, 0.0, 60.0, 0.0f, 0.5f, 1.0f, 0.5f);
    if (!m || !frames || mg_clip_prepare(&c, w, h) < 0) {
        CHECK(0);
        goto out;
    }
    for (int k = 0; k < NF; k++)
        mg_render(&c, 20.0 + k / fps, frames + (size_t)k * (size_t)w * (size_t)h);
    t0 = cpu_s();
    for (int k = 0; k < n; k++)
        sg_motion_frame(m, frames + (size_t)(k % NF) * (size_t)w * (size_t)h, w, h, w,
                        BASE_US + (int64_t)llround(k * 1e6 / fps), &res);
    ns = (cpu_s() - t0) / n * 1e9;
    printf("COST motion %dx%d ns_per_frame=%.0f core_pct=%.3f (%s, %.1f frames/s)%s\n", w, h, ns,
           ns * fps / 1e9 * 100.0, what, fps, SANITIZED ? " [sanitizer build: not a measure]" : "");
out:
    mg_clip_free(&c);
    free(frames);
    sg_motion_destroy(&m);
}

int main(void)
{
    test_api();
    test_zone_names();
    test_events();
    test_zones();
    test_resets();
    test_quality(0);
    test_quality(1);
    cost(640, 360, 5.0, SANITIZED ? 50 : 500, "sub-stream");
    cost(1920, 1080, 0.5, SANITIZED ? 10 : 60, "keyframes, 1 per 2 s");
    return check_done("test_motion");
}
