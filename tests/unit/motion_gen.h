/* Labelled synthetic clips for the motion analysis tests and benches: 8-bit luma frames of a
 * scene (smooth gradient, random texture, or a "street" of blocks and lines), lit by a global
 * gain (ramp, step, flicker) and local smooth lights (a street lamp's pool, headlight beams),
 * with moving objects, a waving flag, Gaussian sensor noise and 8x8 blocky "compression"
 * noise. Everything is drawn from a seeded PRNG: the same clip index gives the same frames.
 *
 * Physics kept on purpose: light multiplies the scene's reflectance (objects included), noise
 * is added after the light, values clip at 0 and 255; "video range" clips apply the light to
 * (luma - 16) as a camera producing 16..235 luma would. */
#ifndef SG_TEST_MOTION_GEN_H
#define SG_TEST_MOTION_GEN_H

#include <stdint.h>

#define MG_MAX_OBJ 4
#define MG_MAX_KEYS 4
#define MG_MAX_LABELS 16

enum mg_bg { MG_BG_GRADIENT, MG_BG_TEXTURE, MG_BG_STREET };

/* A light: a Gaussian blob of relative amplitude amp (0.8 = 80 % brighter at its centre) and
 * width sigma (fraction of the picture width), centred at (x, y) at time t; the centre moves
 * at (vx, vy) per second between t_on and t_off. */
struct mg_light {
    double t_on, t_off;        /* seconds */
    float x, y, vx, vy, sigma, amp;
    float flicker;             /* relative amplitude of its own flicker (0: none) */
};

/* An object moving through keyframes (time in s, centre normalised); absent before the first
 * key; after the last key it is gone unless stays is set. */
struct mg_object {
    int ellipse;
    float w, h;                /* normalised to the picture width / height */
    float base, tex;           /* luma reflectance and texture amplitude */
    int nkeys;
    double t[MG_MAX_KEYS];
    float x[MG_MAX_KEYS], y[MG_MAX_KEYS];
    int stays;
    int headlights;            /* a beam ahead of it (light index below) */
    int beam;                  /* index into lights[] of its beam, when headlights */
    uint64_t seed;
};

/* Something the analysis must find (must = 1), or may find without a false event (must = 0). */
struct mg_label {
    int64_t start_us, end_us;
    int must;
};

struct mg_clip {
    char name[48];
    int quiet;                 /* no event may be found at all */
    int w, h;
    double fps, dur_s;
    uint64_t seed;
    /* scene */
    int bg;
    float level, contrast;     /* mean reflectance, spread */
    int night;
    float noise;               /* sensor noise sigma (luma) */
    int video_range;
    int limited_out;           /* the frames as a decoder gives them back when an encoder took
                                * full-range pictures as limited range: luma 16 + 219 y / 255 */
    float blocks;              /* compression: per-8x8-block offset, uniform +-blocks */
    /* global light: gain = (1 + ramp * clamp((t - ramp_t0) / ramp_s, 0, 1)) *
     * (1 + step if t >= step_t) * (1 + flicker * sin(2 pi flicker_hz t + phase)) */
    float ramp, ramp_s, step, flicker, flicker_hz, flicker_phase;
    double ramp_t0;
    double step_t, step2_t;    /* step2: the step goes away again (0: never) */
    int nlights;
    struct mg_light lights[4];
    /* a waving flag (repetitive motion) in a rectangle, normalised; mask[] is a slightly larger
     * polygon that the tests give as a MASK zone */
    int flag;
    float flag_x0, flag_y0, flag_x1, flag_y1;
    int nobj;
    struct mg_object obj[MG_MAX_OBJ];
    /* directives to the runner */
    double reset_t;            /* call sg_motion_reset before the first frame at or after (0: none) */
    double resize_t;           /* from then on, frames are resize_w x resize_h (0: none) */
    int resize_w, resize_h;
    double gap_t, gap_s;       /* frames from gap_t on are shifted by gap_s (a camera away) */
    float gap_gain;            /* ... and come back with this extra global gain */
    /* rendering state (mg_clip_prepare / mg_clip_free) */
    int rw, rh;                /* size of refl */
    float *refl;
    float *row, *lrow;
    float *tiles;              /* 64x64 texture per object */
};

/* The standard clip set: clip `index` (0..mg_set_size()-1); different indices draw different
 * parameters from the distributions of their type. Returns 0. */
int mg_set_size(void);
int mg_clip_from_set(struct mg_clip *c, int index);

/* A plain clip to build on: one scene, no light, no object (the caller fills the rest). */
void mg_clip_init(struct mg_clip *c, const char *name, int w, int h, double dur_s, uint64_t seed);
/* Adds an object crossing from (x0, y0) to (x1, y1) between t0 and t1 (normalised centres). */
struct mg_object *mg_add_object(struct mg_clip *c, float area, float aspect, float contrast,
                                float tex, double t0, double t1, float x0, float y0, float x1,
                                float y1);
/* Renders the scene at w x h (also after a size change); returns 0 or -ENOMEM. */
int mg_clip_prepare(struct mg_clip *c, int w, int h);
void mg_clip_free(struct mg_clip *c);
/* The frame at time t (seconds from the clip's start), of size c->rw x c->rh, stride rw. */
void mg_render(struct mg_clip *c, double t, uint8_t *out);
/* The clip's labels; returns their number. */
int mg_labels(const struct mg_clip *c, struct mg_label *out, int max);
/* Mean reflectance of the scene around a normalised point. */
float mg_scene_mean(const struct mg_clip *c, float x, float y, float rx, float ry);

#endif
