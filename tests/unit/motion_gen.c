/* Labelled synthetic clips for the motion tests: see motion_gen.h. */
#include "motion_gen.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI_F 3.14159265f
#define GTAB 65536
#define TILE 64

/* ---- randomness ---- */

static uint64_t sm64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t hash3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t s = a * 0x9E3779B97F4A7C15ull ^ b * 0xC2B2AE3D27D4EB4Full ^ c * 0x165667B19E3779F9ull;
    return sm64(&s);
}

static double urand(uint64_t *s)
{
    return (double)(sm64(s) >> 11) * (1.0 / 9007199254740992.0);
}

static double uni(uint64_t *s, double a, double b)
{
    return a + (b - a) * urand(s);
}

static double logu(uint64_t *s, double a, double b)
{
    return exp(uni(s, log(a), log(b)));
}

static int pick(uint64_t *s, int n)
{
    return (int)(sm64(s) % (uint64_t)n);
}

static float gtab[GTAB + 8192]; /* the tail repeats the head: rows read it contiguously */

static void gtab_init(void)
{
    uint64_t s = 12345;
    if (gtab[1] != 0.0f)
        return;
    for (int i = 0; i < GTAB; i += 2) {
        double u1 = urand(&s), u2 = urand(&s), r;
        if (u1 < 1e-300)
            u1 = 1e-300;
        r = sqrt(-2.0 * log(u1));
        gtab[i] = (float)(r * cos(2.0 * M_PI * u2));
        gtab[i + 1] = (float)(r * sin(2.0 * M_PI * u2));
    }
    memcpy(gtab + GTAB, gtab, 8192 * sizeof(float));
}

/* row = row * g * light (+ 16 (1 - g light) for video range); chunks of 16 for gcc -O2. */
static void light_row(float *restrict row, const float *restrict light, float g, int video, int w)
{
    const float off = video ? 16.0f : 0.0f;
    int x = 0;

    if (light) {
        for (; x + 16 <= w; x += 16)
            for (int k = 0; k < 16; k++)
                row[x + k] = (row[x + k] - off) * (g * light[x + k]) + off;
        for (; x < w; x++)
            row[x] = (row[x] - off) * (g * light[x]) + off;
    } else {
        for (; x + 16 <= w; x += 16)
            for (int k = 0; k < 16; k++)
                row[x + k] = (row[x + k] - off) * g + off;
        for (; x < w; x++)
            row[x] = (row[x] - off) * g + off;
    }
}

/* out = clamp(round(v + sigma * noise)); in chunks of 16 so that gcc -O2 vectorises it. */
static void finish_row(uint8_t *restrict o8, const float *restrict v, const float *restrict nz,
                       float sigma, int w)
{
    int x = 0;

    for (; x + 16 <= w; x += 16)
        for (int k = 0; k < 16; k++) {
            float t = v[x + k] + sigma * nz[x + k] + 0.5f;
            t = t < 0.0f ? 0.0f : t > 255.0f ? 255.0f : t;
            o8[x + k] = (uint8_t)t;
        }
    for (; x < w; x++) {
        float t = v[x] + sigma * nz[x] + 0.5f;
        t = t < 0.0f ? 0.0f : t > 255.0f ? 255.0f : t;
        o8[x] = (uint8_t)t;
    }
}

/* Value noise in -1..1, lattice units. */
static float vnoise(uint64_t seed, float x, float y)
{
    float fx = floorf(x), fy = floorf(y), tx = x - fx, ty = y - fy;
    int64_t ix = (int64_t)fx, iy = (int64_t)fy;
    float v[4];

    for (int k = 0; k < 4; k++) {
        uint64_t h = hash3(seed, (uint64_t)(ix + (k & 1)), (uint64_t)(iy + (k >> 1)));
        v[k] = (float)(h >> 40) / (float)(1 << 23) - 1.0f;
    }
    tx = tx * tx * (3.0f - 2.0f * tx);
    ty = ty * ty * (3.0f - 2.0f * ty);
    return (v[0] + (v[1] - v[0]) * tx) + ((v[2] + (v[3] - v[2]) * tx) - (v[0] + (v[1] - v[0]) * tx)) * ty;
}

/* ---- the scene ---- */

struct rect {
    float x0, y0, x1, y1, level;
};

/* Reflectance at a normalised point (y in picture heights; asp = height / width). */
static float scene_at(const struct mg_clip *c, const struct rect *blk, int nblk, float x, float y,
                      float asp)
{
    uint64_t s = c->seed;
    float v, ya = y * asp;

    switch (c->bg) {
    case MG_BG_GRADIENT:
        v = c->level + c->contrast * (0.9f * ((x - 0.5f) * 0.7f + (y - 0.5f) * 0.7f) +
                                      0.25f * vnoise(s + 1, x * 3.0f, ya * 3.0f));
        break;
    case MG_BG_TEXTURE:
        v = c->level + c->contrast * (0.5f * vnoise(s + 2, x * 8.0f, ya * 8.0f) +
                                      0.3f * vnoise(s + 3, x * 24.0f, ya * 24.0f) +
                                      0.2f * vnoise(s + 4, x * 70.0f, ya * 70.0f));
        break;
    default: /* street: sky, buildings with windows, road with lane marks */
        if (y < 0.35f) {
            v = c->level + c->contrast * (0.6f - y) + 3.0f * vnoise(s + 5, x * 4.0f, ya * 4.0f);
        } else if (y < 0.6f) {
            v = c->level - c->contrast * 0.3f;
        } else {
            v = c->level - c->contrast * 0.5f + 6.0f * vnoise(s + 6, x * 60.0f, ya * 60.0f);
            if (fabsf(y - 0.8f) < 0.008f && fmodf(x * 10.0f, 1.0f) < 0.55f)
                v = c->level + c->contrast;
            if (fabsf(y - 0.62f) < 0.006f)
                v = c->level + 0.6f * c->contrast;
        }
        for (int i = 0; i < nblk; i++) {
            const struct rect *r = &blk[i];
            if (x >= r->x0 && x < r->x1 && y >= r->y0 && y < r->y1) {
                float u = (x - r->x0) * 40.0f, w = (y - r->y0) * 30.0f;
                v = r->level;
                if (fmodf(u, 1.0f) > 0.45f && fmodf(w, 1.0f) > 0.5f)
                    v = r->level + ((i & 1) ? 0.5f : -0.4f) * c->contrast;
            }
        }
        v += 3.0f * vnoise(s + 7, x * 90.0f, ya * 90.0f);
        break;
    }
    if (c->night)
        v = 8.0f + (v - 8.0f) * 0.35f;
    return v < 8.0f ? 8.0f : v > 200.0f ? 200.0f : v;
}

static int street_blocks(const struct mg_clip *c, struct rect *blk)
{
    uint64_t s = c->seed ^ 0x5151;
    int n = 0;
    float x = (float)uni(&s, -0.05, 0.05);

    while (x < 1.0f && n < 12) {
        float w = (float)uni(&s, 0.06, 0.2);
        blk[n].x0 = x;
        blk[n].x1 = x + w;
        blk[n].y0 = (float)uni(&s, 0.08, 0.35);
        blk[n].y1 = 0.6f;
        blk[n].level = c->level + c->contrast * (float)uni(&s, -0.6, 0.5);
        n++;
        x += w + (float)uni(&s, 0.0, 0.08);
    }
    return n;
}

float mg_scene_mean(const struct mg_clip *c, float x, float y, float rx, float ry)
{
    struct rect blk[12];
    int nblk = street_blocks(c, blk);
    float asp = (float)c->h / (float)c->w, sum = 0.0f;

    for (int j = 0; j < 5; j++)
        for (int i = 0; i < 5; i++)
            sum += scene_at(c, blk, nblk, x + rx * ((float)i - 2.0f) / 2.0f,
                            y + ry * ((float)j - 2.0f) / 2.0f, asp);
    return sum / 25.0f;
}

void mg_clip_init(struct mg_clip *c, const char *name, int w, int h, double dur_s, uint64_t seed)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->w = w;
    c->h = h;
    c->fps = 5.0;
    c->dur_s = dur_s;
    c->seed = seed;
    c->bg = MG_BG_TEXTURE;
    c->level = 110.0f;
    c->contrast = 40.0f;
    c->noise = 2.0f;
}

struct mg_object *mg_add_object(struct mg_clip *c, float area, float aspect, float contrast,
                                float tex, double t0, double t1, float x0, float y0, float x1,
                                float y1)
{
    struct mg_object *o;
    float px = area * (float)c->w * (float)c->h, wpx = sqrtf(px * aspect), mean;

    if (c->nobj >= MG_MAX_OBJ)
        return NULL;
    o = &c->obj[c->nobj++];
    memset(o, 0, sizeof(*o));
    o->w = wpx / (float)c->w;
    o->h = px / wpx / (float)c->h;
    mean = mg_scene_mean(c, (x0 + x1) / 2.0f, (y0 + y1) / 2.0f, o->w / 2.0f, o->h / 2.0f);
    if (c->night)
        contrast *= 0.6f;
    o->base = mean + contrast;
    if (o->base > 230.0f || o->base < 12.0f)
        o->base = mean - contrast;
    o->base = o->base < 12.0f ? 12.0f : o->base > 230.0f ? 230.0f : o->base;
    o->tex = tex;
    o->nkeys = 2;
    o->t[0] = t0;
    o->t[1] = t1;
    o->x[0] = x0;
    o->y[0] = y0;
    o->x[1] = x1;
    o->y[1] = y1;
    o->seed = hash3(c->seed, (uint64_t)c->nobj, 77);
    o->ellipse = (int)(o->seed & 1);
    return o;
}

int mg_clip_prepare(struct mg_clip *c, int w, int h)
{
    struct rect blk[12];
    int nblk;
    float asp = (float)h / (float)w;

    if (w < 16 || h < 16 || w > 8192 || h > 8192)
        return -EINVAL;
    gtab_init();
    mg_clip_free(c);
    c->refl = malloc((size_t)w * (size_t)h * sizeof(float));
    c->row = malloc((size_t)w * sizeof(float));
    c->lrow = malloc((size_t)w * 5 * sizeof(float));
    c->tiles = malloc((size_t)MG_MAX_OBJ * TILE * TILE * sizeof(float));
    if (!c->refl || !c->row || !c->lrow || !c->tiles) {
        mg_clip_free(c);
        return -ENOMEM;
    }
    c->rw = w;
    c->rh = h;
    nblk = street_blocks(c, blk);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            c->refl[(size_t)y * (size_t)w + (size_t)x] =
                scene_at(c, blk, nblk, ((float)x + 0.5f) / (float)w, ((float)y + 0.5f) / (float)h, asp);
    for (int k = 0; k < MG_MAX_OBJ; k++)
        for (int v = 0; v < TILE; v++)
            for (int u = 0; u < TILE; u++)
                c->tiles[(k * TILE + v) * TILE + u] =
                    0.6f * vnoise(c->obj[k].seed + 1, (float)u / 8.0f, (float)v / 8.0f) +
                    0.4f * vnoise(c->obj[k].seed + 2, (float)u / 3.0f, (float)v / 3.0f);
    return 0;
}

void mg_clip_free(struct mg_clip *c)
{
    free(c->refl);
    free(c->row);
    free(c->lrow);
    free(c->tiles);
    c->refl = c->row = c->lrow = c->tiles = NULL;
}

/* ---- rendering ---- */

/* Centre of an object at t; returns 0 when it is not in the scene. */
static int object_at(const struct mg_object *o, double t, float *x, float *y)
{
    int k;

    if (o->nkeys < 1 || t < o->t[0])
        return 0;
    if (t >= o->t[o->nkeys - 1]) {
        if (!o->stays && o->nkeys > 1)
            return 0;
        *x = o->x[o->nkeys - 1];
        *y = o->y[o->nkeys - 1];
        return 1;
    }
    for (k = 0; k + 1 < o->nkeys && t >= o->t[k + 1]; k++)
        ;
    float f = (float)((t - o->t[k]) / (o->t[k + 1] - o->t[k]));
    *x = o->x[k] + (o->x[k + 1] - o->x[k]) * f;
    *y = o->y[k] + (o->y[k + 1] - o->y[k]) * f;
    return 1;
}

static double global_gain(const struct mg_clip *c, double t)
{
    double g = 1.0;

    if (c->ramp != 0.0f && t >= c->ramp_t0)
        g *= 1.0 + c->ramp * (c->ramp_s > 0 ? fmin(1.0, (t - c->ramp_t0) / c->ramp_s) : 1.0);
    if (c->step != 0.0f && t >= c->step_t && (c->step2_t <= 0.0 || t < c->step2_t))
        g *= 1.0 + c->step;
    if (c->flicker != 0.0f)
        g *= 1.0 + c->flicker * sin(2.0 * M_PI * c->flicker_hz * t + c->flicker_phase);
    if (c->gap_t > 0.0 && t >= c->gap_t)
        g *= 1.0 + c->gap_gain;
    return g;
}

struct live_light {
    float amp, cy, sig;
    const float *gx;
};

/* What a frame at time t holds: objects, lights, global gain. */
struct frame {
    float ox[MG_MAX_OBJ], oy[MG_MAX_OBJ];
    int vis[MG_MAX_OBJ];
    struct live_light ll[4];
    int nll;
    float g, flag_phase;
    uint64_t seed;
};

static void frame_setup(struct mg_clip *c, double t, struct frame *fr)
{
    const int w = c->rw, h = c->rh;

    fr->seed = hash3(c->seed, (uint64_t)llround(t * 1e6), 99);
    fr->g = (float)global_gain(c, t);
    fr->flag_phase = (float)(2.0 * M_PI * 0.9 * t) + (float)uni(&fr->seed, -0.6, 0.6);
    fr->nll = 0;
    /* objects, and the beams that go with them */
    for (int k = 0; k < c->nobj; k++) {
        const struct mg_object *o = &c->obj[k];
        fr->vis[k] = object_at(o, t, &fr->ox[k], &fr->oy[k]);
        if (o->headlights) {
            struct mg_light *l = &c->lights[o->beam];
            float dir = o->x[o->nkeys - 1] >= o->x[0] ? 1.0f : -1.0f;
            l->t_on = fr->vis[k] ? 0.0 : 1e9;
            l->t_off = 1e9;
            l->vx = l->vy = 0.0f;
            if (fr->vis[k]) {
                l->x = fr->ox[k] + dir * (o->w / 2.0f + 1.2f * l->sigma);
                l->y = fr->oy[k] + o->h * 0.3f;
            }
        }
    }
    for (int k = 0; k < c->nlights && fr->nll < 4; k++) {
        const struct mg_light *l = &c->lights[k];
        struct live_light *q = &fr->ll[fr->nll];
        float *gx = c->lrow + (size_t)(fr->nll + 1) * (size_t)w, cx;
        if (t < l->t_on || t >= l->t_off)
            continue;
        cx = (l->x + l->vx * (float)(t - l->t_on)) * (float)w;
        q->sig = l->sigma * (float)w;
        q->amp = l->amp * (1.0f + l->flicker * sinf((float)(2.0 * M_PI * 7.3 * t)));
        q->cy = (l->y + l->vy * (float)(t - l->t_on)) * (float)h;
        for (int x = 0; x < w; x++) {
            float d = ((float)x - cx) / q->sig;
            gx[x] = expf(-0.5f * d * d);
        }
        q->gx = gx;
        fr->nll++;
    }
}

/* The flag and the objects over the scene's row y. */
static void paint_row(const struct mg_clip *c, const struct frame *fr, int y, float *row)
{
    const int w = c->rw, h = c->rh;
    float fy = ((float)y + 0.5f) / (float)h;

    if (c->flag && fy >= c->flag_y0 && fy < c->flag_y1) { /* stripes waving, its end flapping */
        int x0 = (int)(c->flag_x0 * (float)w), x1 = (int)(c->flag_x1 * (float)w);
        float v = (fy - c->flag_y0) / (c->flag_y1 - c->flag_y0);
        float len = 0.75f + 0.25f * sinf(fr->flag_phase + 3.0f * v);
        for (int x = x0; x < x1; x++) {
            float u = (float)(x - x0) / (float)(x1 - x0);
            if (u < len)
                row[x] = 110.0f + 60.0f * sinf(2.0f * PI_F * (2.5f * u + 0.4f * sinf(fr->flag_phase + 5.0f * u + 2.0f * v)));
        }
    }
    for (int k = 0; k < c->nobj; k++) {
        const struct mg_object *o = &c->obj[k];
        float top, bot, left, right, vy, half = 1.0f, cxp, hw;
        int x0, x1;
        if (!fr->vis[k])
            continue;
        top = (fr->oy[k] - o->h / 2.0f) * (float)h;
        bot = (fr->oy[k] + o->h / 2.0f) * (float)h;
        if ((float)y + 0.5f < top || (float)y + 0.5f >= bot)
            continue;
        left = (fr->ox[k] - o->w / 2.0f) * (float)w;
        right = (fr->ox[k] + o->w / 2.0f) * (float)w;
        vy = ((float)y + 0.5f - top) / (bot - top);
        if (o->ellipse) {
            float dy = 2.0f * vy - 1.0f;
            half = sqrtf(fmaxf(0.0f, 1.0f - dy * dy));
        }
        cxp = (left + right) / 2.0f;
        hw = (right - left) / 2.0f * half;
        x0 = (int)ceilf(cxp - hw - 0.5f);
        x1 = (int)ceilf(cxp + hw - 0.5f);
        const float *tile = c->tiles + (size_t)(k * TILE + (int)(vy * (TILE - 1))) * TILE;
        x0 = x0 < 0 ? 0 : x0;
        x1 = x1 > w ? w : x1;
        for (int x = x0; x < x1; x++) {
            int u = (int)(((float)x + 0.5f - left) / (right - left) * (TILE - 1));
            u = u < 0 ? 0 : u > TILE - 1 ? TILE - 1 : u;
            row[x] = o->base + o->tex * tile[u];
        }
    }
}

/* full range 0..255 -> limited 16..235, rounded, as swscale converts gray to yuv420p */
static const uint8_t limited_tab[256] = {
#define L1(v) (uint8_t)(16 + ((v) * 219 + 127) / 255)
#define L4(v) L1(v), L1(v + 1), L1(v + 2), L1(v + 3)
#define L16(v) L4(v), L4(v + 4), L4(v + 8), L4(v + 12)
#define L64(v) L16(v), L16(v + 16), L16(v + 32), L16(v + 48)
    L64(0), L64(64), L64(128), L64(192)
#undef L64
#undef L16
#undef L4
#undef L1
};

void mg_render(struct mg_clip *c, double t, uint8_t *out)
{
    const int w = c->rw, h = c->rh, bw = (w + 7) / 8;
    struct frame fr;
    float blk[1024];

    frame_setup(c, t, &fr);
    for (int y = 0; y < h; y++) {
        float *row = c->row, *lrow = c->lrow;
        uint32_t noff = (uint32_t)hash3(fr.seed, (uint64_t)y, 1);

        memcpy(row, c->refl + (size_t)y * (size_t)w, (size_t)w * sizeof(float));
        paint_row(c, &fr, y, row);
        if (fr.nll) {
            for (int x = 0; x < w; x++)
                lrow[x] = 1.0f;
            for (int k = 0; k < fr.nll; k++) {
                float d = ((float)y - fr.ll[k].cy) / fr.ll[k].sig;
                float a = fr.ll[k].amp * expf(-0.5f * d * d);
                if (a < 1e-3f)
                    continue;
                for (int x = 0; x < w; x++)
                    lrow[x] += a * fr.ll[k].gx[x];
            }
        }
        light_row(row, fr.nll ? lrow : NULL, fr.g, c->video_range, w);
        if (c->blocks > 0.0f) { /* compression: one offset per 8x8 block */
            if ((y & 7) == 0)
                for (int bx = 0; bx < bw && bx < 1024; bx++)
                    blk[bx] = (float)((double)(hash3(fr.seed, (uint64_t)(y >> 3), (uint64_t)bx) >> 11) *
                                      (2.0 / 9007199254740992.0) - 1.0) * c->blocks;
            for (int x = 0; x < w; x++)
                row[x] += blk[(x >> 3) & 1023];
        }
        finish_row(out + (size_t)y * (size_t)w, row, gtab + (noff & (GTAB - 1)), c->noise, w);
        if (c->limited_out)
            for (int x = 0; x < w; x++)
                out[(size_t)y * (size_t)w + (size_t)x] = limited_tab[out[(size_t)y * (size_t)w + (size_t)x]];
    }
}

/* ---- labels ---- */

static int add_label(struct mg_label *out, int n, int max, double a, double b, int must)
{
    if (n >= max)
        return n;
    out[n].start_us = (int64_t)llround(a * 1e6);
    out[n].end_us = (int64_t)llround(b * 1e6);
    out[n].must = must;
    return n + 1;
}

/* An object must be found while at least half of it is in the picture and it moves, for at
 * least 3 analysed frames. Whenever any part of it moves in the picture it may be found (and
 * until 2 s later; 30 s later when it stopped in the picture, while it becomes background). */
int mg_labels(const struct mg_clip *c, struct mg_label *out, int max)
{
    int n = 0;
    double dt = 1.0 / c->fps;

    for (int k = 0; k < c->nobj; k++) {
        const struct mg_object *o = &c->obj[k];
        double must0 = 0.0, must1 = 0.0, may0 = 0.0, may1 = 0.0;
        int must_n = 0, may_on = 0, had = 0;
        float px = 0.0f, py = 0.0f;

        for (double t = 0.0; t <= c->dur_s + dt / 2; t += dt) {
            float x = 0.0f, y = 0.0f, fx = 0.0f;
            int present = t < c->dur_s && object_at(o, t, &x, &y), moving = 0;
            if (present) {
                float ix0 = fmaxf(0.0f, x - o->w / 2), ix1 = fminf(1.0f, x + o->w / 2);
                float iy0 = fmaxf(0.0f, y - o->h / 2), iy1 = fminf(1.0f, y + o->h / 2);
                fx = fmaxf(0.0f, ix1 - ix0) * fmaxf(0.0f, iy1 - iy0) / (o->w * o->h);
                moving = had && (fabsf(x - px) > 1e-4f || fabsf(y - py) > 1e-4f);
            }
            if (fx >= 0.5f && moving) {
                if (must_n++ == 0)
                    must0 = t - dt;
                must1 = t;
            } else if (must_n) {
                n = add_label(out, n, max, must0, must1, must_n >= 3);
                must_n = 0;
            }
            if (fx > 0.0f && moving) {
                if (!may_on)
                    may0 = t - dt;
                may_on = 1;
                may1 = t;
            } else if (may_on) {
                n = add_label(out, n, max, may0, may1 + (fx > 0.0f ? 30.0 : 2.0), 0);
                may_on = 0;
            }
            had = present;
            px = x;
            py = y;
        }
    }
    return n;
}

/* ---- the standard clip set ---- */

enum {
    T_NOISE, T_RAMP, T_STEP, T_POOL, T_FLICKER, T_BEAM, T_FLAG, T_BLOCKS, T_RECONNECT,
    T_EXPOSURE, T_OBJECT, T_SMALL, T_FAST, T_CAR_NIGHT, T_PARK, T_TWO, T_STEP_OBJ, T_KEYFRAME, T_TURN,
    T_COUNT
};
#define DRAWS 3

static const char *const type_names[T_COUNT] = {
    "noise", "ramp", "step", "lamp", "flicker", "beams", "flag", "blocks", "reconnect",
    "exposure", "object", "small", "fast", "car_night", "park", "two", "step_obj", "keyframe", "turn",
};

int mg_set_size(void)
{
    return T_COUNT * DRAWS;
}

/* A random object crossing the picture left to right or back, from t0, in `cross` seconds. */
static struct mg_object *crossing(struct mg_clip *c, uint64_t *s, float area, double t0,
                                  double cross, float noise)
{
    float aspect = (float)logu(s, 0.5, 2.5), contrast = (float)uni(s, fmax(20.0, 3.0 * noise), 90.0);
    float tex = (float)uni(s, 0.0, 30.0), y0 = (float)uni(s, 0.3, 0.75);
    float y1 = y0 + (float)uni(s, -0.15, 0.15), half;
    int ltr = pick(s, 2);
    struct mg_object *o;

    o = mg_add_object(c, area, aspect, contrast, tex, t0, t0 + cross, ltr ? 0.0f : 1.0f, y0,
                      ltr ? 1.0f : 0.0f, y1);
    if (!o)
        return NULL;
    /* start and end just outside the picture */
    half = o->w / 2.0f + 0.01f;
    o->x[0] = ltr ? -half : 1.0f + half;
    o->x[1] = ltr ? 1.0f + half : -half;
    return o;
}

static void random_scene(struct mg_clip *c, uint64_t *s)
{
    c->bg = pick(s, 3);
    c->level = (float)uni(s, 70.0, 140.0);
    c->contrast = (float)uni(s, 20.0, 70.0);
    c->noise = (float)uni(s, 1.0, 8.0);
}

static void beam(struct mg_clip *c, uint64_t *s, double t_on)
{
    struct mg_light *l = &c->lights[c->nlights++];
    double dur = uni(s, 1.5, 4.0);
    int ltr = pick(s, 2);

    l->t_on = t_on;
    l->t_off = t_on + dur;
    l->sigma = (float)uni(s, 0.05, 0.2);
    l->amp = (float)uni(s, 0.6, 1.5);
    l->y = (float)uni(s, 0.35, 0.8);
    l->x = ltr ? -0.3f : 1.3f;
    l->vx = (float)((ltr ? 1.6 : -1.6) / dur);
}

/* The disturbances of a quiet clip of type `type`. */
static void quiet_clip(struct mg_clip *c, int type, int draw, uint64_t *rng)
{
    uint64_t s = *rng;

    switch (type) {
    case T_NOISE:
        break;
    case T_RAMP:
        c->ramp = (float)(pick(&s, 2) ? uni(&s, 0.3, 0.4) : -uni(&s, 0.3, 0.4));
        c->ramp_s = (float)uni(&s, 30.0, 60.0);
        c->level = fminf(c->level, 120.0f);
        break;
    case T_STEP: /* every other draw: a camera with video-range luma, a contrasted street */
        c->step = (float)(pick(&s, 2) ? uni(&s, 0.2, 0.3) : -uni(&s, 0.2, 0.3));
        c->step_t = uni(&s, 8.0, 20.0);
        c->step2_t = c->step_t + uni(&s, 8.0, 20.0);
        c->level = fminf(c->level, 120.0f);
        if (draw % 2) {
            c->video_range = 1;
            c->bg = MG_BG_STREET;
            c->contrast = (float)uni(&s, 50.0, 70.0);
        }
        break;
    case T_POOL: {
        struct mg_light *l = &c->lights[c->nlights++];
        c->night = 1;
        l->t_on = uni(&s, 8.0, 20.0);
        l->t_off = pick(&s, 2) ? l->t_on + uni(&s, 8.0, 20.0) : 1e9;
        l->x = (float)uni(&s, 0.2, 0.8);
        l->y = (float)uni(&s, 0.3, 0.8);
        l->sigma = (float)uni(&s, 0.1, 0.25);
        l->amp = (float)uni(&s, 0.4, 1.0);
        break;
    }
    case T_FLICKER:
        c->flicker = (float)uni(&s, 0.02, 0.06);
        c->flicker_hz = uni(&s, 1.0, 10.0);
        c->flicker_phase = (float)uni(&s, 0.0, 6.28);
        if (pick(&s, 2)) { /* one lamp flickering on its own as well */
            struct mg_light *l = &c->lights[c->nlights++];
            l->t_on = 0.0;
            l->t_off = 1e9;
            l->x = (float)uni(&s, 0.2, 0.8);
            l->y = (float)uni(&s, 0.3, 0.8);
            l->sigma = (float)uni(&s, 0.12, 0.25);
            l->amp = (float)uni(&s, 0.3, 0.6);
            l->flicker = (float)uni(&s, 0.1, 0.3);
        }
        break;
    case T_BEAM:
        c->night = 1;
        c->bg = pick(&s, 2) ? MG_BG_STREET : MG_BG_TEXTURE;
        for (int k = 0; k < 3; k++)
            beam(c, &s, 5.0 + 12.0 * k + uni(&s, 0.0, 6.0));
        break;
    case T_FLAG:
        c->flag = 1;
        c->flag_x0 = (float)uni(&s, 0.1, 0.6);
        c->flag_y0 = (float)uni(&s, 0.1, 0.5);
        c->flag_x1 = c->flag_x0 + (float)uni(&s, 0.1, 0.3);
        c->flag_y1 = c->flag_y0 + (float)uni(&s, 0.1, 0.3);
        break;
    case T_BLOCKS:
        c->blocks = (float)uni(&s, 2.0, 5.0);
        c->video_range = 1;
        c->step = (float)(pick(&s, 2) ? uni(&s, 0.15, 0.3) : -uni(&s, 0.15, 0.3));
        c->step_t = uni(&s, 10.0, 30.0);
        break;
    case T_RECONNECT:
        if (draw % 3 == 0) {
            c->reset_t = uni(&s, 15.0, 30.0);
        } else if (draw % 3 == 1) {
            c->resize_t = uni(&s, 15.0, 30.0);
            c->resize_w = c->w == 640 ? 320 : 640;
            c->resize_h = c->w == 640 ? 240 : 360;
        } else {
            c->gap_t = uni(&s, 15.0, 30.0);
            c->gap_s = uni(&s, 6.0, 60.0);
        }
        c->gap_gain = (float)uni(&s, -0.2, 0.2); /* the camera comes back exposed differently */
        if (!c->gap_t)
            c->gap_t = c->reset_t > 0 ? c->reset_t : c->resize_t;
        break;
    case T_EXPOSURE: /* auto exposure of a video-range camera: a jump or a ramp of 1-2 s */
        c->video_range = 1;
        c->bg = pick(&s, 2) ? MG_BG_STREET : MG_BG_TEXTURE;
        c->level = (float)uni(&s, 60.0, 100.0);
        c->contrast = (float)uni(&s, 60.0, 85.0);
        c->noise = (float)uni(&s, 1.0, 3.0);
        c->dur_s = 30.0;
        if (draw % 3 == 0) {
            c->w = 1280;
            c->h = 720;
        }
        c->ramp = (float)(pick(&s, 2) ? uni(&s, 0.25, 0.35) : -uni(&s, 0.25, 0.3));
        c->ramp_s = pick(&s, 2) ? 0.01f : (float)uni(&s, 1.0, 2.0);
        c->ramp_t0 = uni(&s, 8.0, 20.0);
        break;
    default:
        break;
    }
    *rng = s;
}

/* The objects (and disturbances) of an event clip of type `type`. */
static void event_clip(struct mg_clip *c, int type, int draw, uint64_t *rng)
{
    uint64_t s = *rng;

    switch (type) {
    case T_OBJECT: {
        double cross = logu(&s, 1.5, 30.0);
        crossing(c, &s, (float)logu(&s, 0.003, 0.2), uni(&s, 3.0, fmax(4.0, 36.0 - cross)), cross, c->noise);
        switch (pick(&s, 4)) {
        case 0: c->ramp = (float)uni(&s, -0.3, 0.3); c->ramp_s = 40.0f; break;
        case 1: c->flicker = (float)uni(&s, 0.02, 0.05); c->flicker_hz = uni(&s, 1.0, 10.0); break;
        case 2: c->blocks = (float)uni(&s, 2.0, 4.0); break;
        default: break;
        }
        break;
    }
    case T_SMALL: {
        double cross = uni(&s, 15.0, 30.0);
        c->noise = (float)uni(&s, 3.0, 8.0);
        c->bg = pick(&s, 2) ? MG_BG_TEXTURE : MG_BG_STREET;
        crossing(c, &s, (float)uni(&s, 0.003, 0.01), uni(&s, 2.0, 36.0 - cross), cross, c->noise);
        break;
    }
    case T_FAST:
        crossing(c, &s, (float)uni(&s, 0.01, 0.06), uni(&s, 5.0, 30.0), uni(&s, 1.2, 2.5), c->noise);
        break;
    case T_CAR_NIGHT: {
        struct mg_object *o;
        struct mg_light *l = &c->lights[c->nlights];
        c->night = 1;
        c->bg = MG_BG_STREET;
        c->noise = (float)uni(&s, 2.0, 6.0);
        o = crossing(c, &s, (float)uni(&s, 0.02, 0.08), uni(&s, 5.0, 25.0), uni(&s, 3.0, 8.0), c->noise);
        if (o) {
            o->headlights = 1;
            o->beam = c->nlights++;
            l->sigma = (float)uni(&s, 0.08, 0.15);
            l->amp = (float)uni(&s, 0.8, 1.5);
        }
        break;
    }
    case T_PARK: {
        struct mg_object *o = crossing(c, &s, (float)uni(&s, 0.01, 0.08), uni(&s, 3.0, 8.0),
                                       uni(&s, 4.0, 10.0), c->noise);
        c->dur_s = 60.0;
        if (o) { /* stop half way; one draw in 3 leaves again at 45 s */
            float xs = (float)uni(&s, 0.3, 0.7), ys = o->y[0] + (o->y[1] - o->y[0]) * 0.5f;
            double ts = o->t[0] + (o->t[1] - o->t[0]) * 0.5;
            o->x[3] = o->x[1];
            o->y[3] = o->y[1];
            o->t[3] = 45.0 + (o->t[1] - o->t[0]) * 0.5;
            o->x[1] = o->x[2] = xs;
            o->y[1] = o->y[2] = ys;
            o->t[1] = ts;
            o->t[2] = 45.0;
            o->nkeys = draw % 3 == 1 ? 4 : 2;
            o->stays = draw % 3 != 1;
        }
        break;
    }
    case T_TWO:
        crossing(c, &s, (float)logu(&s, 0.005, 0.1), uni(&s, 2.0, 6.0), uni(&s, 3.0, 10.0), c->noise);
        crossing(c, &s, (float)logu(&s, 0.005, 0.1), uni(&s, 22.0, 26.0), uni(&s, 3.0, 10.0), c->noise);
        if (pick(&s, 2)) {
            c->flicker = (float)uni(&s, 0.02, 0.05);
            c->flicker_hz = uni(&s, 1.0, 10.0);
        } else {
            c->ramp = (float)uni(&s, -0.4, 0.4);
            c->ramp_s = 40.0f;
        }
        break;
    case T_STEP_OBJ: {
        double t0 = uni(&s, 5.0, 20.0), cross = uni(&s, 4.0, 12.0);
        c->level = fminf(c->level, 120.0f);
        crossing(c, &s, (float)logu(&s, 0.005, 0.1), t0, cross, c->noise);
        c->step = (float)(pick(&s, 2) ? 0.3 : -0.3);
        c->step_t = t0 + uni(&s, 0.0, cross);
        c->blocks = (float)uni(&s, 2.0, 4.0);
        c->video_range = 1;
        break;
    }
    case T_KEYFRAME: {
        double cross = uni(&s, 20.0, 40.0);
        c->w = draw % 3 == 0 ? 1920 : 1280;
        c->h = draw % 3 == 0 ? 1080 : 720;
        c->fps = 0.5;
        c->dur_s = 80.0;
        crossing(c, &s, (float)logu(&s, 0.005, 0.1), uni(&s, 5.0, 75.0 - cross), cross, c->noise);
        c->ramp = (float)uni(&s, -0.3, 0.3);
        c->ramp_s = 80.0f;
        break;
    }
    case T_TURN: { /* comes in from a side, walks in, goes back */
        struct mg_object *o = crossing(c, &s, (float)uni(&s, 0.005, 0.05), uni(&s, 3.0, 10.0),
                                       uni(&s, 6.0, 14.0), c->noise);
        if (o) {
            float xin = o->x[0] < 0.0f ? (float)uni(&s, 0.2, 0.5) : (float)uni(&s, 0.5, 0.8);
            double tm = o->t[1];
            o->x[2] = o->x[0];
            o->y[2] = o->y[0];
            o->t[2] = tm + (tm - o->t[0]);
            o->x[1] = xin;
            o->y[1] = o->y[0] + (float)uni(&s, -0.1, 0.1);
            o->nkeys = 3;
        }
        break;
    }
    default:
        break;
    }
    *rng = s;
}

int mg_clip_from_set(struct mg_clip *c, int index)
{
    static const int sizes[][2] = { { 640, 360 }, { 320, 180 }, { 640, 360 }, { 320, 240 },
                                    { 480, 270 }, { 640, 360 }, { 800, 450 } };
    int type = index % T_COUNT, draw = index / T_COUNT;
    uint64_t s = hash3(0x5A6A5, (uint64_t)index, 1);
    int si = pick(&s, (int)(sizeof(sizes) / sizeof(sizes[0])));
    char name[48];
    double dur = type < T_OBJECT ? 45.0 : 40.0;

    snprintf(name, sizeof(name), "%s#%d", type_names[type], draw);
    mg_clip_init(c, name, sizes[si][0], sizes[si][1], dur, hash3(0xC11, (uint64_t)index, 2));
    random_scene(c, &s);
    c->quiet = type < T_OBJECT;
    if (c->quiet)
        quiet_clip(c, type, draw, &s);
    else
        event_clip(c, type, draw, &s);
    return 0;
}
