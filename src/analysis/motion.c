/* Motion analysis: background subtraction on a small grid, with a robust lighting fit, a
 * structure test that tells light from objects, per-cell noise, and a memory of the
 * background. This is Sargas' own method; docs/ARCHITECTURE.md quotes the reasoning below.
 * The numbers quoted come from tests/unit/test_motion.c and its clip generator; "in 190 clips"
 * is SG_MOTION_CLIPS=190 ./test_motion (10 draws of each of the 19 clip types: 103 labelled
 * events, 2 h 22 min), with the part named taken out. The whole method: recall 1.000, no false
 * event, no event outlasting its label.
 *
 * 1. The grid. The luma plane is block-averaged in square blocks of b x b pixels, b chosen so
 *    that the grid is at most 160 x 90 cells (640x360 -> b = 4 and 1920x1080 -> b = 12, both
 *    160 x 90; 320x240 -> b = 3, 106 x 80). Averaging is the only pass over the input (one
 *    vectorised add per pixel into a column accumulator, then one sum per cell); everything
 *    after it works on at most 14,400 cells, so the cost hardly grows with the input. Averaging
 *    b^2 pixels also divides the sensor noise by b.
 *
 * 2. Global lighting. Clouds, auto exposure, a street light, mains flicker sampled at 5 fps
 *    change the whole picture at once. Each frame is compared with a prediction P = a B + o of
 *    the background B. a and o are fitted from the medians of F / B (histograms, half of the
 *    cells) in the darker and the brighter half of the scene: the line F/B = a + o/B through
 *    the two. Medians of ratios are tight around the true gain (their spread is the noise, not
 *    the texture), so a large object moves them little; cells that changed in the previous
 *    frame are left out. The grid holds luma above the black level the stream declares
 *    (sg_motion_set_black: 16 in limited range): light multiplies that, not the luma, and in
 *    limited range an exposure change or a beam otherwise leaves residuals of (B - 16) / B
 *    that follow the texture (8 false events in 570 limited-range clips, none with it). An
 *    offset is still needed because cameras with a black level (a pedestal) above the declared
 *    one turn a gain in light into gain plus offset in luma: an
 *    exposure jump of a third then leaves a residual proportional to 16/B, which follows the
 *    texture and looks like structure (without the offset, 4 false events in 190 clips, all
 *    exposure jumps). A wrong offset is worse than none, since its error -o/P also follows the
 *    texture while a gain error is flat: a beam lighting a third of a dark scene once biased
 *    the two medians into a = 0.72, o = 8.8. So the offset is only kept when it is physical
 *    (light pivots around the black level: o = black (1 - a) with black in -4..32, and the
 *    gain changed by 3 % or more) and when it explains more cells, within their own
 *    thresholds, than the gain alone. The fit is from frame to frame: B is rebased every frame
 *    (B <- P + alpha (F - P)), so a step of 30 % in one frame, a ramp or flicker never reach
 *    the differencing.
 *
 * 3. Relative difference. The residual of a cell is r = (F - P) / P. Light multiplies (and
 *    gamma keeps it so: (L R)^g = L^g R^g), so a light the global fit cannot explain, a beam
 *    sweeping a wall or a lamp's pool, leaves r = L - 1: a smooth field, whatever the texture
 *    under it. An object replaces the texture: r has edges. Dark cells get a large relative
 *    noise, which their own noise estimate absorbs.
 *
 * 4. Structure. h = r - mean5x5(r) is r's high-pass. For a smooth bump of amplitude A and width
 *    s cells, |h| ~ 2A / s^2 (a beam of s = 16 cells and A = 0.8: 0.006); at the edge of an
 *    object of contrast A it is 0.3 A to 0.4 A. A cell is
 *      changed    (C) when |r| > k sigma + floor,
 *      structured (E) when |h| > k sigma + 0.7 floor,
 *    and a candidate when it is changed and within 2 cells of a structured cell. A smooth
 *    change (a lamp, a beam, a lamp that flickers on its own) makes changed cells but no
 *    candidates, while an object is found with its body, not only its outline, when it is
 *    textured or small; the interior of a large uniform object more than 2 cells from its
 *    edges is not counted (its outline is). Without this test: 39 false events in 190 clips.
 *
 * 5. Noise. Each cell keeps its own noise, sigma ~ 1.25 mean |h|, learnt (tau 8 s) only while
 *    no object covers it and with each sample clipped to 3 sigma; learnt on h, not r, so that a
 *    slow light change does not inflate it. With sensitivity s, k = 2.5 + 2 (100 - s) / 99 and
 *    floor = 5 % * 2^((50 - s) / 25): k = 3.5 and 5 % at 50, 2.5 and 1.25 % at 100, 4.5 and
 *    20 % at 1. Sensor noise, compression blocks (8x8 pixels = 2x2 cells at 640x360) and
 *    leaves outside masks raise their own cells' thresholds, not the picture's. With one
 *    fixed sigma instead: 25 false events in 190 clips.
 *
 * 6. Objects. Candidates form 8-connected components. A component counts when (a) at least 3
 *    of its cells, and 1 in 12, are structured (a field of changed cells around a few noisy
 *    structured cells, as under a beam, does not), (b) its cells that do not match the memory
 *    (7.) are enough for a zone: for each detection zone, the component's cells inside the zone
 *    that pass that zone's own threshold must number at least the zone's min_area (a fraction
 *    of the whole grid). With no detection zone, the picture minus masks is one zone with the
 *    camera's settings. Zones are rasterised once per grid (cell centres, even-odd rule).
 *    Masked cells get r = 0 before the high-pass, so a flag inside a mask neither triggers nor
 *    bleeds into its neighbours. Score = cells of counted components / cells outside masks;
 *    level = 1 + 254 sqrt(score) on frames with motion, else 0.
 *
 * 7. Learning. Rates are per second, alpha = 1 - exp(-dt / tau), so the same model runs at
 *    5 fps and on keyframes every 2 s. Cells outside objects: tau 4 s. Cells in the bounding
 *    box of an object: tau 300 s, so that a slow crossing is not learnt and leaves no ghost.
 *    An object cell whose r has not moved for 5 s (frame-to-frame change under its threshold)
 *    is learnt with tau 1.5 s: a parked car becomes background in about 8 s and its event
 *    ends (without this: 7 events in 190 clips outlast their labels). A second background, the
 *    memory, copies B where the two agree within 2 % and the cell is calm, never learns a
 *    changed cell or an object, and elsewhere forgets with tau 600 s (copying B wherever it
 *    agreed let it learn a weakly textured car, whose inside is plain change absorbed at 1 %
 *    a frame). When a parked car that was learnt leaves, the road it uncovers matches the
 *    memory: those cells are not motion and are reset to it, so no ghost keeps the event going
 *    (without it: 5 overruns in 190 clips). The memory is consulted per component, after the
 *    structure test (resetting single cells before it cut sharp edges into smooth light and
 *    made false events), and only when a quarter of the component or more matches it, so
 *    that a few cells of a passer-by that happen to match are left alone.
 *
 * 8. Warm-up, resets. After creation, sg_motion_reset, a size change, a gap of more than
 *    max(5 s, 3 frame intervals) or time going backwards, the model learns the scene again
 *    (alpha = 1/n) and nothing triggers until warmup_us has passed and 4 frames were seen;
 *    an event in progress ends at the last frame seen before. If more than half of the
 *    picture becomes candidates at once (the camera was moved, its IR filter switched), the
 *    model relearns the same way: no event starts from that frame.
 *
 * 9. Events. An event starts after start_frames consecutive frames with motion (its start is
 *    the first of them) and ends when there was no motion for end_quiet_us (its end is the
 *    last frame with motion). peak is set on the frame that starts the event and on every
 *    later frame that beats the event's best score, so the caller can take the thumbnail of
 *    the frame it holds.
 *
 * Cost (2-core EPYC, gcc -O3 with strict aliasing, bench_motion_core): about 0.13 ms per frame
 * at 640x360, 0.06 % of a core at 5 fps; about 0.27 ms per 1920x1080 keyframe, 0.014 % of a
 * core at one keyframe every 2 s. The grid stages cost the same for every input size
 * (320x180 takes as long as 640x360).
 *
 * Not handled: a sharp-edged light (a hard shadow line, a beam cut off by a wall) has
 * structure and triggers, and so can a small spot: a light doubling the brightness with a
 * Gaussian sigma of 3 % of the width triggered in 3 of 8 trials, 4 % and wider never; light that
 * drives cells into saturation is seen through clipped values (cells saturated both in the
 * frame and in the background are ignored); a camera that shakes; rolling-shutter flicker
 * bands narrower than a few cells. */
#include "analysis/motion.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GRID_W 160
#define GRID_H 90
#define MIN_INPUT 16
#define MAX_INPUT 16384

#define TAU_BG_S 4.0
#define TAU_FG_S 300.0
#define TAU_STILL_S 1.5
#define STILL_S 5.0f
#define TAU_MEMORY_S 600.0
#define AGREE 0.02f        /* background and memory within 2 %: the memory follows */
#define TAU_NOISE_S 8.0
#define GAP_US 5000000
#define MIN_WARM_FRAMES 4
#define DEN_MIN 4.0f       /* luma: denominator floor of the relative difference */
#define SAT_MARGIN 15.0f   /* luma: within this of white is saturated */
#define SCENE_CHANGE 0.5f  /* fraction of the picture that relearns instead of triggering */
#define BLACK_MIN -4.0f    /* luma: black levels the lighting fit accepts */
#define BLACK_MAX 32.0f
#define FIT_BINS 1024      /* ratio histogram, 0..4 */
#define FIT_SCALE 256.0f

/* per-cell flags */
#define F_MASK 0x01
#define F_C 0x02
#define F_E 0x04
#define F_K 0x08
#define F_SEEN 0x10
#define F_OBJ 0x20
#define F_PREVC 0x40
#define F_SNAP 0x80

struct zone_rt {
    float k, floor;            /* threshold of the zone's sensitivity */
    int min_cells;
};

struct sg_motion {
    struct sg_motion_config cfg;
    struct sg_zone zones[SG_MOTION_MAX_ZONES];
    int nzones;
    uint32_t detect_mask;      /* bits of DETECT zones */
    struct zone_rt zrt[SG_MOTION_MAX_ZONES];
    struct zone_rt cam;        /* the camera's settings (no DETECT zone) */
    float cand_k, cand_floor;  /* the most sensitive threshold in use */
    int obj_min_cells;

    /* geometry (0 before the first frame) */
    int width, height, block, gw, gh, ncell, nfree;
    uint16_t *acc;
    float *f, *b, *b2, *n, *r, *rprev, *h, *tmp, *still;
    uint8_t *flags, *sup, *tmp8;
    uint16_t *zbits;
    int32_t *list;
    int black;                 /* luma of black: 16 limited range, 0 full (sg_motion_set_black) */
    float sat;                 /* grid values above this are saturated (white - black - margin) */
    float split;               /* mean background luma: splits the fit's two halves */
    float fit_a, fit_o;        /* this frame's lighting fit */

    /* time */
    int have_last;
    int64_t last_us;
    double dt_avg;
    int warm_frames;           /* frames since the model was (re)started; 0 = restart */
    int64_t warm_start_us;

    /* events */
    int in_event, run;
    int64_t run_start_us;
    uint32_t run_zones;
    int64_t ev_start_us, ev_last_us, ev_peak_us;
    float ev_peak;
    uint32_t ev_zones;
    int pending_end;           /* ended by a reset, reported with the next frame */
    int64_t pend_start_us, pend_end_us, pend_peak_us;
    float pend_peak;
    uint32_t pend_zones;
};

static float sens_k(int s)
{
    return 2.5f + 2.0f * (float)(100 - s) / 99.0f;
}

static float sens_floor(int s)
{
    return 0.05f * exp2f((float)(50 - s) / 25.0f);
}

void sg_motion_config_defaults(struct sg_motion_config *cfg)
{
    if (!cfg)
        return;
    if (!cfg->sensitivity)
        cfg->sensitivity = 50;
    if (!(cfg->min_area > 0.0f)) /* 0, negative or NaN */
        cfg->min_area = 0.002f;
    if (!cfg->start_frames)
        cfg->start_frames = 2;
    if (!cfg->end_quiet_us)
        cfg->end_quiet_us = 3000000;
    if (!cfg->warmup_us)
        cfg->warmup_us = 2000000;
}

static void free_grid(struct sg_motion *m)
{
    free(m->acc);
    free(m->f);
    free(m->flags);
    free(m->zbits);
    free(m->list);
    m->acc = NULL;
    m->f = NULL;
    m->flags = NULL;
    m->zbits = NULL;
    m->list = NULL;
    m->width = m->height = m->ncell = 0;
}

struct sg_motion *sg_motion_create(const struct sg_motion_config *cfg)
{
    struct sg_motion *m = calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    if (cfg)
        m->cfg = *cfg;
    sg_motion_config_defaults(&m->cfg);
    sg_motion_set_black(m, 0);
    if (m->cfg.sensitivity < 1)
        m->cfg.sensitivity = 1;
    if (m->cfg.sensitivity > 100)
        m->cfg.sensitivity = 100;
    if (!(m->cfg.min_area <= 1.0f))
        m->cfg.min_area = 1.0f;
    if (m->cfg.start_frames < 1)
        m->cfg.start_frames = 1;
    if (m->cfg.end_quiet_us < 0)
        m->cfg.end_quiet_us = 0;
    if (m->cfg.warmup_us < 0)
        m->cfg.warmup_us = 0;
    return m;
}

void sg_motion_destroy(struct sg_motion **pm)
{
    if (!pm || !*pm)
        return;
    free_grid(*pm);
    free(*pm);
    *pm = NULL;
}

/* ---- zones ---- */

/* Marks the cells whose centre lies inside the polygon (even-odd rule), row by row. */
static void raster_polygon(const struct sg_motion *m, const struct sg_zone *z, uint16_t bit,
                           uint8_t mflag)
{
    float xs[SG_MOTION_MAX_POINTS];

    for (int gy = 0; gy < m->gh; gy++) {
        float cy = ((float)gy + 0.5f) * (float)m->block / (float)m->height;
        int nx = 0;

        for (int i = 0, j = z->n - 1; i < z->n; j = i++) {
            float yi = z->y[i], yj = z->y[j];
            if ((yi > cy) != (yj > cy))
                xs[nx++] = z->x[i] + (cy - yi) * (z->x[j] - z->x[i]) / (yj - yi);
        }
        for (int i = 1; i < nx; i++) /* insertion sort: at most 32 crossings */
            for (int j = i; j > 0 && xs[j - 1] > xs[j]; j--) {
                float t = xs[j];
                xs[j] = xs[j - 1];
                xs[j - 1] = t;
            }
        for (int i = 0; i + 1 < nx; i += 2) {
            /* cells with x0 <= centre < x1 */
            float sx = (float)m->width / (float)m->block;
            int x0 = (int)ceilf(xs[i] * sx - 0.5f), x1 = (int)ceilf(xs[i + 1] * sx - 0.5f);
            if (x0 < 0)
                x0 = 0;
            if (x1 > m->gw)
                x1 = m->gw;
            for (int gx = x0; gx < x1; gx++) {
                m->zbits[gy * m->gw + gx] |= bit;
                m->flags[gy * m->gw + gx] |= mflag;
            }
        }
    }
}

static int min_cells(const struct sg_motion *m, float area)
{
    int c = (int)lrintf(area * (float)m->ncell);
    return c < 1 ? 1 : c;
}

/* Thresholds and zone bitmaps for the current settings and grid. */
static void apply_zones(struct sg_motion *m)
{
    int smax;

    m->cam.k = sens_k(m->cfg.sensitivity);
    m->cam.floor = sens_floor(m->cfg.sensitivity);
    m->detect_mask = 0;
    smax = m->cfg.sensitivity;
    for (int i = 0; i < m->nzones; i++) {
        const struct sg_zone *z = &m->zones[i];
        int s = z->sensitivity ? z->sensitivity : m->cfg.sensitivity;
        if (z->kind != SG_ZONE_DETECT)
            continue;
        m->detect_mask |= 1u << i;
        m->zrt[i].k = sens_k(s);
        m->zrt[i].floor = sens_floor(s);
        if (m->detect_mask == 1u << i || s > smax)
            smax = s;
    }
    m->cand_k = sens_k(smax);
    m->cand_floor = sens_floor(smax);
    if (!m->ncell)
        return;

    m->cam.min_cells = min_cells(m, m->cfg.min_area);
    m->obj_min_cells = m->detect_mask ? INT32_MAX : m->cam.min_cells;
    for (int i = 0; i < m->nzones; i++) {
        const struct sg_zone *z = &m->zones[i];
        if (z->kind != SG_ZONE_DETECT)
            continue;
        m->zrt[i].min_cells = min_cells(m, z->min_area > 0.0f ? z->min_area : m->cfg.min_area);
        if (m->zrt[i].min_cells < m->obj_min_cells)
            m->obj_min_cells = m->zrt[i].min_cells;
    }
    if (m->obj_min_cells < 3)
        m->obj_min_cells = 3;

    memset(m->zbits, 0, (size_t)m->ncell * sizeof(*m->zbits));
    for (int i = 0; i < m->ncell; i++)
        m->flags[i] &= (uint8_t)~F_MASK;
    for (int i = 0; i < m->nzones; i++) {
        const struct sg_zone *z = &m->zones[i];
        if (z->kind == SG_ZONE_DETECT)
            raster_polygon(m, z, (uint16_t)(1u << i), 0);
        else
            raster_polygon(m, z, 0, F_MASK);
    }
    m->nfree = 0;
    for (int i = 0; i < m->ncell; i++)
        m->nfree += !(m->flags[i] & F_MASK);
}

int sg_motion_set_zones(struct sg_motion *m, const struct sg_zone *zones, int n)
{
    if (!m || n < 0 || n > SG_MOTION_MAX_ZONES || (n > 0 && !zones))
        return -EINVAL;
    for (int i = 0; i < n; i++) {
        const struct sg_zone *z = &zones[i];
        if ((z->kind != SG_ZONE_DETECT && z->kind != SG_ZONE_MASK) || z->n < 3 ||
            z->n > SG_MOTION_MAX_POINTS || z->sensitivity < 0 || z->sensitivity > 100 ||
            !(z->min_area >= 0.0f && z->min_area <= 1.0f))
            return -EINVAL;
        for (int j = 0; j < z->n; j++)
            if (!(z->x[j] >= 0.0f && z->x[j] <= 1.0f && z->y[j] >= 0.0f && z->y[j] <= 1.0f))
                return -EINVAL;
    }
    if (n)
        memcpy(m->zones, zones, (size_t)n * sizeof(*zones));
    for (int i = 0; i < n; i++)
        m->zones[i].name[sizeof(m->zones[i].name) - 1] = '\0';
    m->nzones = n;
    apply_zones(m);
    return 0;
}

/* ---- model life ---- */

/* Ends the event in progress at the last frame seen and restarts learning. */
static void restart(struct sg_motion *m)
{
    if (m->in_event) {
        m->pending_end = 1;
        m->pend_start_us = m->ev_start_us;
        m->pend_end_us = m->last_us;
        m->pend_peak_us = m->ev_peak_us;
        m->pend_peak = m->ev_peak;
        m->pend_zones = m->ev_zones;
        m->in_event = 0;
    }
    m->run = 0;
    m->run_zones = 0;
    m->warm_frames = 0;
    m->have_last = 0;
}

void sg_motion_reset(struct sg_motion *m)
{
    if (m)
        restart(m);
}

int sg_motion_set_black(struct sg_motion *m, int black)
{
    if (!m || black < 0 || black > 64)
        return -EINVAL;
    if (black != m->black) {
        restart(m);
        m->black = black;
    }
    m->sat = (black >= 16 ? 235.0f : 255.0f) - (float)black - SAT_MARGIN;
    return 0;
}

static int alloc_grid(struct sg_motion *m, int width, int height)
{
    int b = (width + GRID_W - 1) / GRID_W, bh = (height + GRID_H - 1) / GRID_H;
    size_t nc;

    free_grid(m);
    if (bh > b)
        b = bh;
    if (width / b < 5 || height / b < 5) /* a strip: the 5x5 filters need room */
        return -EINVAL;
    m->block = b;
    m->gw = width / b;
    m->gh = height / b;
    nc = (size_t)m->gw * (size_t)m->gh;
    m->acc = malloc((size_t)width * sizeof(*m->acc));
    m->f = malloc(nc * 9 * sizeof(float));
    m->flags = malloc(nc * 4);
    m->zbits = malloc(nc * sizeof(*m->zbits));
    m->list = malloc(nc * sizeof(*m->list));
    if (!m->acc || !m->f || !m->flags || !m->zbits || !m->list) {
        free_grid(m);
        return -ENOMEM;
    }
    m->b = m->f + nc;
    m->n = m->b + nc;
    m->r = m->n + nc;
    m->rprev = m->r + nc;
    m->h = m->rprev + nc;
    m->tmp = m->h + nc;
    m->still = m->tmp + nc;
    m->b2 = m->still + nc;
    m->sup = m->flags + nc;
    m->tmp8 = m->sup + nc;
    memset(m->flags, 0, nc);
    m->width = width;
    m->height = height;
    m->ncell = (int)nc;
    apply_zones(m);
    return 0;
}

/* ---- per-frame passes ---- */

/* acc[x] += row[x]; in chunks of 32 so that gcc vectorises it at -O2 (its "very cheap" cost
 * model wants a trip count that is a multiple of the vector width, and no alias check). */
static void acc_row(uint16_t *restrict acc, const uint8_t *restrict row, int w)
{
    int x = 0;

    for (; x + 32 <= w; x += 32)
        for (int k = 0; k < 32; k++)
            acc[x + k] = (uint16_t)(acc[x + k] + row[x + k]);
    for (; x < w; x++)
        acc[x] = (uint16_t)(acc[x] + row[x]);
}

/* Block average into m->f: the only pass over the input. A column accumulator sums the b
 * rows of a grid row (uint16: b <= 257 rows of 255), then each cell sums b columns. */
static void grid_average(struct sg_motion *m, const uint8_t *luma, int stride)
{
    const int b = m->block, gw = m->gw, w = gw * b;
    const float inv = 1.0f / (float)(b * b), black = (float)m->black;

    for (int gy = 0; gy < m->gh; gy++) {
        const uint8_t *row = luma + (size_t)gy * (size_t)b * (size_t)stride;
        uint16_t *acc = m->acc;
        float *out = m->f + gy * gw;

        memset(acc, 0, (size_t)w * sizeof(*acc));
        for (int y = 0; y < b; y++, row += stride)
            acc_row(acc, row, w);
        if (b == 4) {
            for (int gx = 0; gx < gw; gx++, acc += 4) {
                float v = (float)((uint32_t)acc[0] + acc[1] + acc[2] + acc[3]) * inv - black;
                out[gx] = v > 0.0f ? v : 0.0f; /* not fmaxf: a libm call per cell at -O2 */
            }
        } else {
            for (int gx = 0; gx < gw; gx++, acc += b) {
                uint32_t sum = 0;
                for (int i = 0; i < b; i++)
                    sum += acc[i];
                float v = (float)sum * inv - black;
                out[gx] = v > 0.0f ? v : 0.0f;
            }
        }
    }
}

static float hist_median(const int *hist, int total)
{
    int half = total / 2, cum = 0;

    for (int i = 0; i < FIT_BINS; i++) {
        if (cum + hist[i] > half)
            return ((float)i + (float)(half - cum) / (float)hist[i]) / FIT_SCALE;
        cum += hist[i];
    }
    return 1.0f;
}

/* Frame-to-frame lighting: F ~ a * B + o, from the medians of F / B in the dark and the bright
 * half of the cells (see 2. above). */
static void global_fit(struct sg_motion *m, float *pa, float *po)
{
    int hist[2][FIT_BINS], cnt[2] = { 0, 0 };
    float sinv[2] = { 0.0f, 0.0f };
    uint8_t skip = F_MASK | F_PREVC;

    *pa = 1.0f;
    *po = 0.0f;
    for (int pass = 0; pass < 2; pass++) {
        memset(hist, 0, sizeof(hist));
        for (int i = 0; i < m->ncell; i += 2) { /* half the cells are plenty for medians */
            float bv = m->b[i], fv = m->f[i], inv, ratio;
            int g, bin;
            if ((m->flags[i] & skip) || bv < 8.0f || bv > m->sat || fv > m->sat)
                continue;
            inv = 1.0f / bv;
            ratio = fv * inv;
            bin = ratio < 4.0f ? (int)(ratio * FIT_SCALE) : FIT_BINS - 1;
            g = bv >= m->split;
            hist[g][bin]++;
            cnt[g]++;
            sinv[g] += inv;
        }
        /* too much excluded (a big change last frame): use every cell */
        if (pass == 0 && (cnt[0] + cnt[1]) * 8 < m->nfree) {
            skip = F_MASK;
            cnt[0] = cnt[1] = 0;
            sinv[0] = sinv[1] = 0.0f;
            continue;
        }
        break;
    }
    int total = cnt[0] + cnt[1];
    float ga, aa = 0.0f, ao = 0.0f;
    int affine = 0;
    if (total < 16)
        return;
    if (cnt[0] * 100 >= total * 15 && cnt[1] * 100 >= total * 15) {
        float ib0 = sinv[0] / (float)cnt[0], ib1 = sinv[1] / (float)cnt[1];
        if (ib0 >= 1.6f * ib1) {
            float r0 = hist_median(hist[0], cnt[0]), r1 = hist_median(hist[1], cnt[1]);
            ao = (r0 - r1) / (ib0 - ib1);
            aa = r1 - ao * ib1;
            /* light pivots around the camera's black level: o = black * (1 - a), with black
             * above the declared one: 0 to 16 (a full-range camera whose black is 16), up to 32
             * (a limited-range one with a pedestal); a gain change too small
             * to tell an offset is left to the gain alone */
            affine = aa >= 0.1f && aa <= 10.0f && fabsf(1.0f - aa) >= 0.03f &&
                     ao / (1.0f - aa) >= BLACK_MIN && ao / (1.0f - aa) <= BLACK_MAX;
        }
    }
    for (int i = 0; i < FIT_BINS; i++)
        hist[0][i] += hist[1][i];
    ga = hist_median(hist[0], total);
    if (ga < 0.1f)
        ga = 0.1f;
    *pa = ga;
    if (!affine)
        return;
    /* Two models: keep the offset only if it explains more cells (within their own
     * thresholds) than the gain alone. A local light (a beam over a third of the picture) can
     * bias the two medians into a false offset, whose error -o/P follows the texture; the
     * gain's error is flat. Every third eligible cell votes. */
    int in_g = 0, in_a = 0;
    for (int i = 0; i < m->ncell; i += 3) {
        float bv = m->b[i], fv = m->f[i], t, pg, pa2;
        if ((m->flags[i] & skip) || bv < 8.0f || bv > m->sat || fv > m->sat)
            continue;
        t = m->cand_k * m->n[i] + m->cand_floor;
        pg = ga * bv;
        pa2 = aa * bv + ao;
        in_g += fabsf(fv - pg) <= t * (pg > DEN_MIN ? pg : DEN_MIN);
        in_a += fabsf(fv - pa2) <= t * (pa2 > DEN_MIN ? pa2 : DEN_MIN);
    }
    if (in_a > in_g) {
        *pa = aa;
        *po = ao;
    }
}

/* Relative residual r of every cell. */
static void residuals(struct sg_motion *m, float a, float o)
{
    for (int i = 0; i < m->ncell; i++) {
        float p = a * m->b[i] + o, fv = m->f[i], d;
        if (p < 0.0f)
            p = 0.0f;
        d = p > DEN_MIN ? p : DEN_MIN;
        m->r[i] = (fv - p) / d;
        if ((m->flags[i] & F_MASK) || (fv > m->sat && p > m->sat))
            m->r[i] = 0.0f;
    }
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* out = mean of the 5x5 neighbourhood (edges replicated); w, h >= 5. */
static void box5(const float *restrict in, float *restrict tmp, float *restrict out, int w, int h)
{
    for (int y = 0; y < h; y++) {
        const float *s = in + y * w;
        float *d = tmp + y * w;
        for (int x = 2; x < w - 2; x++)
            d[x] = s[x - 2] + s[x - 1] + s[x] + s[x + 1] + s[x + 2];
        for (int x = 0; x < w; x += (x == 1 ? w - 3 : 1)) { /* 0, 1, w-2, w-1 */
            float acc = 0.0f;
            for (int k = -2; k <= 2; k++)
                acc += s[clampi(x + k, 0, w - 1)];
            d[x] = acc;
        }
    }
    for (int y = 0; y < h; y++) {
        const float *r0 = tmp + clampi(y - 2, 0, h - 1) * w, *r1 = tmp + clampi(y - 1, 0, h - 1) * w;
        const float *r2 = tmp + y * w, *r3 = tmp + clampi(y + 1, 0, h - 1) * w;
        const float *r4 = tmp + clampi(y + 2, 0, h - 1) * w;
        float *d = out + y * w;
        for (int x = 0; x < w; x++)
            d[x] = (r0[x] + r1[x] + r2[x] + r3[x] + r4[x]) * (1.0f / 25.0f);
    }
}

/* out = 1 where a 5x5 neighbourhood holds a set cell; w, h >= 5. */
static void dilate5(const uint8_t *restrict in, uint8_t *restrict tmp, uint8_t *restrict out, int w, int h)
{
    for (int y = 0; y < h; y++) {
        const uint8_t *s = in + y * w;
        uint8_t *d = tmp + y * w;
        for (int x = 2; x < w - 2; x++)
            d[x] = s[x - 2] | s[x - 1] | s[x] | s[x + 1] | s[x + 2];
        d[0] = s[0] | s[1] | s[2];
        d[1] = d[0] | s[3];
        d[w - 1] = s[w - 1] | s[w - 2] | s[w - 3];
        d[w - 2] = d[w - 1] | s[w - 4];
    }
    for (int y = 0; y < h; y++) {
        const uint8_t *r0 = tmp + clampi(y - 2, 0, h - 1) * w, *r1 = tmp + clampi(y - 1, 0, h - 1) * w;
        const uint8_t *r2 = tmp + y * w, *r3 = tmp + clampi(y + 1, 0, h - 1) * w;
        const uint8_t *r4 = tmp + clampi(y + 2, 0, h - 1) * w;
        uint8_t *d = out + y * w;
        for (int x = 0; x < w; x++)
            d[x] = r0[x] | r1[x] | r2[x] | r3[x] | r4[x];
    }
}

/* Changed (C), structured (E) and candidate (K) cells; returns the number of candidates. */
static int classify(struct sg_motion *m)
{
    const float k = m->cand_k, fl = m->cand_floor, fle = 0.7f * m->cand_floor;
    int nk = 0;

    box5(m->r, m->tmp, m->h, m->gw, m->gh);
    for (int i = 0; i < m->ncell; i++) {
        float t = k * m->n[i], ar = fabsf(m->r[i]), ah;
        uint8_t fl8 = m->flags[i] & F_MASK;
        m->h[i] = m->r[i] - m->h[i];
        ah = fabsf(m->h[i]);
        if (!fl8) {
            if (ar > t + fl)
                fl8 |= F_C;
            if (ah > t + fle)
                fl8 |= F_E;
        }
        m->flags[i] = fl8;
        m->tmp8[i] = (fl8 & F_E) ? 1 : 0;
    }
    dilate5(m->tmp8, m->sup, m->tmp8 + m->ncell, m->gw, m->gh);
    for (int i = 0; i < m->ncell; i++)
        if ((m->flags[i] & F_C) && m->tmp8[m->ncell + i]) {
            m->flags[i] |= F_K;
            nk++;
        }
    return nk;
}

static void mark_object(struct sg_motion *m, int x0, int y0, int x1, int y1)
{
    x0 = x0 > 0 ? x0 - 1 : 0;
    y0 = y0 > 0 ? y0 - 1 : 0;
    x1 = x1 + 1 < m->gw ? x1 + 1 : m->gw - 1;
    y1 = y1 + 1 < m->gh ? y1 + 1 : m->gh - 1;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            m->flags[y * m->gw + x] |= F_OBJ;
}

/* Zones that a component triggers (bit 31: the whole picture, when there is no DETECT zone). */
static uint32_t component_zones(const struct sg_motion *m, const int32_t *cells, int nc)
{
    int count[SG_MOTION_MAX_ZONES] = { 0 };
    uint32_t z = 0;

    if (!m->detect_mask) {
        int c = 0;
        for (int j = 0; j < nc; j++) {
            int i = cells[j];
            c += fabsf(m->r[i]) > m->cam.k * m->n[i] + m->cam.floor;
        }
        return c >= m->cam.min_cells ? 1u << 31 : 0;
    }
    for (int j = 0; j < nc; j++) {
        int i = cells[j];
        uint32_t bits = m->zbits[i] & m->detect_mask;
        float ar = fabsf(m->r[i]);
        while (bits) {
            int zi = __builtin_ctz(bits);
            bits &= bits - 1;
            count[zi] += ar > m->zrt[zi].k * m->n[i] + m->zrt[zi].floor;
        }
    }
    for (int zi = 0; zi < m->nzones; zi++)
        if ((m->detect_mask >> zi & 1) && count[zi] >= m->zrt[zi].min_cells)
            z |= 1u << zi;
    return z;
}

/* Cells of the component in m->list[0..n) that are back to what the memory holds are
 * background revealed again (the road where a parked car was): they are not motion and are
 * reset to the memory when learning. A ghost matches in bulk; a few cells of a passer-by that
 * happen to match are left alone. Compacts the list to the other cells; returns their number. */
static int drop_revealed(struct sg_motion *m, int n)
{
    int keep = 0, match = 0;

    for (int j = 0; j < n; j++) {
        int i = m->list[j];
        float p2 = m->fit_a * m->b2[i] + m->fit_o, r2;
        p2 = p2 > DEN_MIN ? p2 : DEN_MIN;
        r2 = (m->f[i] - p2) / p2;
        if (fabsf(r2) <= m->cand_k * m->n[i] + m->cand_floor) {
            m->flags[i] |= F_SNAP;
            match++;
        }
    }
    for (int j = 0; j < n; j++) {
        int i = m->list[j];
        if (match * 4 < n)
            m->flags[i] &= (uint8_t)~F_SNAP;
        if (!(m->flags[i] & F_SNAP))
            m->list[keep++] = i;
    }
    return keep;
}

/* Connected components of the candidates; returns the cells in motion and the zones hit. */
static int components(struct sg_motion *m, uint32_t *zones_out)
{
    const int gw = m->gw, gh = m->gh;
    int moving = 0;
    uint32_t zones = 0;

    for (int seed = 0; seed < m->ncell; seed++) {
        int head = 0, tail = 0, ne = 0, x0, y0, x1, y1;
        if ((m->flags[seed] & (F_K | F_SEEN)) != F_K)
            continue;
        m->flags[seed] |= F_SEEN;
        m->list[tail++] = seed;
        x0 = x1 = seed % gw;
        y0 = y1 = seed / gw;
        while (head < tail) {
            int i = m->list[head++], x = i % gw, y = i / gw;
            ne += (m->flags[i] & F_E) != 0;
            x0 = x < x0 ? x : x0;
            x1 = x > x1 ? x : x1;
            y0 = y < y0 ? y : y0;
            y1 = y > y1 ? y : y1;
            for (int dy = -1; dy <= 1; dy++) {
                int yy = y + dy;
                if (yy < 0 || yy >= gh)
                    continue;
                for (int dx = -1; dx <= 1; dx++) {
                    int xx = x + dx, j = yy * gw + xx;
                    if (xx < 0 || xx >= gw || (m->flags[j] & (F_K | F_SEEN)) != F_K)
                        continue;
                    m->flags[j] |= F_SEEN;
                    m->list[tail++] = j;
                }
            }
        }
        /* tail = cells of the component, in m->list[0..tail) */
        if (tail < m->obj_min_cells || ne < 3 || ne * 12 < tail)
            continue;
        int keep = drop_revealed(m, tail);
        if (keep < m->obj_min_cells)
            continue;
        mark_object(m, x0, y0, x1, y1);
        uint32_t z = component_zones(m, m->list, keep);
        if (z) {
            zones |= z;
            moving += keep;
        }
    }
    *zones_out = zones & ~(1u << 31);
    return moving;
}

/* Background, noise and stillness learning. */
static void learn(struct sg_motion *m, float a, float o, double dt)
{
    float abg, afg, ast, an;
    double sum = 0.0;
    int cnt = 0;

    if (m->warm_frames <= 1) {
        memcpy(m->b, m->f, (size_t)m->ncell * sizeof(float));
        memcpy(m->b2, m->f, (size_t)m->ncell * sizeof(float));
        for (int i = 0; i < m->ncell; i++) {
            m->n[i] = 1.0f / (m->b[i] > DEN_MIN ? m->b[i] : DEN_MIN);
            m->still[i] = 0.0f;
            m->rprev[i] = 0.0f;
        }
    } else {
        abg = (float)(1.0 - exp(-dt / TAU_BG_S));
        afg = (float)(1.0 - exp(-dt / TAU_FG_S));
        ast = (float)(1.0 - exp(-dt / TAU_STILL_S));
        an = (float)(1.0 - exp(-dt / TAU_NOISE_S));
        float amem = (float)(1.0 - exp(-dt / TAU_MEMORY_S));
        int warm = m->warm_frames <= MIN_WARM_FRAMES * 4;
        if (warm) {
            float w = 1.0f / (float)m->warm_frames;
            abg = abg > w ? abg : w;
            an = an > w ? an : w;
        }
        for (int i = 0; i < m->ncell; i++) {
            float p = a * m->b[i] + o, p2 = a * m->b2[i] + o, al = abg;
            uint8_t fl = m->flags[i];
            if (p < 0.0f)
                p = 0.0f;
            if (p2 < 0.0f)
                p2 = 0.0f;
            if (fl & F_SNAP)
                p = p2;
            if (fl & F_OBJ) {
                float dr = fabsf(m->r[i] - m->rprev[i]);
                if (dr < m->cand_k * m->n[i] * 1.5f + m->cand_floor)
                    m->still[i] += (float)dt;
                else
                    m->still[i] = 0.0f;
                al = m->still[i] >= STILL_S ? ast : afg;
            } else {
                float s = 1.25f * fabsf(m->h[i]), cap = 3.0f * m->n[i];
                m->still[i] = 0.0f;
                if (!warm && s > cap)
                    s = cap;
                m->n[i] += an * (s - m->n[i]);
                if (m->n[i] < 0.002f)
                    m->n[i] = 0.002f;
            }
            m->b[i] = p + al * (m->f[i] - p);
            /* the memory follows the background where they agree and the frame agrees with
             * both, forgets slowly where they disagree, and never learns a changed cell or an
             * object (a weakly textured parked car is partly learnt as plain change) */
            if (fl & (F_OBJ | F_C))
                m->b2[i] = p2;
            else if (warm || fabsf(m->b[i] - p2) <= AGREE * (p2 > DEN_MIN ? p2 : DEN_MIN))
                m->b2[i] = m->b[i];
            else
                m->b2[i] = p2 + amem * (m->f[i] - p2);
            m->rprev[i] = m->r[i];
        }
    }
    for (int i = 0; i < m->ncell; i++) {
        uint8_t fl = m->flags[i];
        /* carry "changed" to the next frame's fit as "changed last frame" */
        m->flags[i] = (uint8_t)((fl & F_MASK) | ((fl & F_C) ? F_PREVC : 0));
        if (!(fl & F_MASK) && m->b[i] >= 8.0f && m->b[i] <= m->sat) {
            sum += m->b[i];
            cnt++;
        }
    }
    m->split = cnt ? (float)(sum / cnt) : 128.0f;
}

/* ---- events ---- */

static void event_step(struct sg_motion *m, int64_t t, int warming, float score, uint32_t zones,
                       struct sg_motion_result *out)
{
    int motion = !warming && score > 0.0f;

    out->score = score;
    out->zones = zones;
    out->level = motion ? (int)lrintf(1.0f + 254.0f * sqrtf(score)) : 0;
    if (m->pending_end) {
        out->ended = 1;
        out->event_start_us = m->pend_start_us;
        out->event_end_us = m->pend_end_us;
        out->event_peak_us = m->pend_peak_us;
        out->event_peak_score = m->pend_peak;
        out->event_zones = m->pend_zones;
        m->pending_end = 0;
    }
    if (!m->in_event) {
        if (!motion) {
            m->run = 0;
            m->run_zones = 0;
            return;
        }
        if (m->run++ == 0)
            m->run_start_us = t;
        m->run_zones |= zones;
        if (m->run < m->cfg.start_frames)
            return;
        m->in_event = 1;
        m->ev_start_us = m->run_start_us;
        m->ev_last_us = t;
        m->ev_peak_us = t;
        m->ev_peak = score;
        m->ev_zones = m->run_zones;
        out->started = 1;
        out->peak = 1;
    } else if (motion) {
        m->ev_last_us = t;
        m->ev_zones |= zones;
        if (score > m->ev_peak) {
            m->ev_peak = score;
            m->ev_peak_us = t;
            out->peak = 1;
        }
    } else if (t - m->ev_last_us >= m->cfg.end_quiet_us) {
        m->in_event = 0;
        m->run = 0;
        m->run_zones = 0;
        out->ended = 1;
    }
    out->in_event = m->in_event;
    out->event_start_us = m->ev_start_us;
    out->event_end_us = m->ev_last_us;
    out->event_peak_us = m->ev_peak_us;
    out->event_peak_score = m->ev_peak;
    out->event_zones = m->ev_zones;
}

int sg_motion_frame(struct sg_motion *m, const uint8_t *luma, int width, int height, int stride,
                    int64_t utc_us, struct sg_motion_result *out)
{
    double dt = 0.0;
    float a = 1.0f, o = 0.0f, score = 0.0f;
    uint32_t zones = 0;
    int warming, rc;

    if (!m || !luma || !out || width < MIN_INPUT || height < MIN_INPUT || width > MAX_INPUT ||
        height > MAX_INPUT || stride < width)
        return -EINVAL;
    memset(out, 0, sizeof(*out));

    if (width != m->width || height != m->height) {
        restart(m);
        if ((rc = alloc_grid(m, width, height)) < 0)
            return rc;
    }
    if (m->have_last) {
        int64_t gap = GAP_US, d = utc_us - m->last_us;
        if ((int64_t)(3.0 * m->dt_avg) > gap)
            gap = (int64_t)(3.0 * m->dt_avg);
        if (d < 0 || d > gap) {
            restart(m);
        } else {
            dt = (double)d * 1e-6;
            m->dt_avg = m->dt_avg > 0.0 ? m->dt_avg + 0.1 * ((double)d - m->dt_avg) : (double)d;
        }
    }
    if (!m->have_last)
        m->dt_avg = 0.0;
    m->have_last = 1;
    m->last_us = utc_us;
    if (m->warm_frames == 0) {
        m->warm_start_us = utc_us;
        for (int i = 0; i < m->ncell; i++)
            m->flags[i] &= F_MASK;
    }
    m->warm_frames++;
    warming = m->warm_frames < MIN_WARM_FRAMES || utc_us - m->warm_start_us < m->cfg.warmup_us;

    grid_average(m, luma, stride);
    if (m->warm_frames == 1) {
        /* first frame: the background is this frame */
        double sum = 0.0;
        for (int i = 0; i < m->ncell; i++)
            sum += m->f[i];
        m->split = (float)(sum / m->ncell);
        memset(m->r, 0, (size_t)m->ncell * sizeof(float));
        memset(m->h, 0, (size_t)m->ncell * sizeof(float));
    } else {
        global_fit(m, &a, &o);
        m->fit_a = a;
        m->fit_o = o;
        residuals(m, a, o);
        int nk = classify(m);
        if (!warming && m->nfree && nk > SCENE_CHANGE * (float)m->nfree) {
            /* the whole scene changed: relearn it (keep the event machine running) */
            m->warm_frames = 1;
            m->warm_start_us = utc_us;
            warming = 1;
        } else if (!warming && nk) {
            int moving = components(m, &zones);
            score = m->nfree ? (float)moving / (float)m->nfree : 0.0f;
        }
    }
    learn(m, a, o, dt);
    event_step(m, utc_us, warming, score, zones, out);
    return 0;
}
