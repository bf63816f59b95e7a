/* Motion analysis of one camera: a background model over a small greyscale grid, with
 * adaptation, noise suppression and compensation for global lighting changes, zones and
 * masks as polygons, and an event state machine. Pure C, no decoding: the caller hands it
 * luma planes (see decode.c). One struct sg_motion per camera; not thread-safe (one caller).
 *
 * Cost: the caller's luma is block-averaged down to the analysis grid (at most 160 cells
 * wide), and everything after that works on the grid, so the analysis costs next to nothing
 * beside decoding. */
#ifndef SG_ANALYSIS_MOTION_H
#define SG_ANALYSIS_MOTION_H

#include <stddef.h>
#include <stdint.h>

#define SG_MOTION_MAX_ZONES 16
#define SG_MOTION_MAX_POINTS 32

enum sg_zone_kind { SG_ZONE_DETECT = 0, SG_ZONE_MASK = 1 };

/* A polygon in normalised coordinates (0..1, x to the right, y down). */
struct sg_zone {
    int kind;                  /* enum sg_zone_kind: masks never trigger */
    char name[64];
    int n;                     /* 3..SG_MOTION_MAX_POINTS points */
    float x[SG_MOTION_MAX_POINTS], y[SG_MOTION_MAX_POINTS];
    int sensitivity;           /* 1..100 (higher = smaller changes count); 0 = the camera's */
    float min_area;            /* smallest object, as a fraction of the picture (0 = the camera's) */
};

struct sg_motion_config {
    int sensitivity;           /* 1..100, default 50 */
    float min_area;            /* default 0.002 (0.2 % of the picture) */
    int start_frames;          /* analysed frames with motion before an event starts (default 2) */
    int64_t end_quiet_us;      /* quiet time that ends an event (default 3 s) */
    int64_t warmup_us;         /* after a reset: learn, never trigger (default 2 s) */
};

/* What one analysed frame gave. */
struct sg_motion_result {
    int level;                 /* 0..255 activity of the frame (for the activity index) */
    float score;               /* 0..1: fraction of the picture (outside masks) in motion */
    uint32_t zones;            /* bit i: detection zone i saw motion in this frame */
    int in_event;              /* an event is going on after this frame */
    int started;               /* ... and it started with this frame */
    int ended;                 /* an event ended with this frame (its end time: end_us below) */
    /* the event in progress (or just ended) */
    int64_t event_start_us, event_end_us, event_peak_us;
    float event_peak_score;
    uint32_t event_zones;      /* zones touched during the event */
    int peak;                  /* this frame is the event's new peak (take its thumbnail now) */
};

struct sg_motion;

/* Defaults for the fields left 0. */
void sg_motion_config_defaults(struct sg_motion_config *cfg);
struct sg_motion *sg_motion_create(const struct sg_motion_config *cfg);
void sg_motion_destroy(struct sg_motion **m);
/* Replaces the zones and masks (copied). No zones of kind DETECT = the whole picture detects.
 * Returns 0 or -EINVAL (a polygon with < 3 points or coordinates outside 0..1). */
int sg_motion_set_zones(struct sg_motion *m, const struct sg_zone *zones, int n);
/* Forgets the background: after a reconnect, a resolution change or a gap in the frames.
 * Nothing triggers until the model has learnt the scene again (warmup_us). An event in
 * progress ends at the last frame seen before the reset. */
void sg_motion_reset(struct sg_motion *m);
/* The luma of black in the frames to come: 16 for limited ("video", 16..235) range, 0 for
 * full range, as the decoder reports the stream. Light multiplies the signal above black, so
 * the analysis works on luma - black; without it, a limited-range picture's residuals under
 * a local light or an exposure change follow the texture ((B - 16) / B) and look like
 * objects. A change restarts the model. Default 0. Returns 0 or -EINVAL (outside 0..64). */
int sg_motion_set_black(struct sg_motion *m, int black);
/* Analyses one frame: the luma plane (8 bit), its size and stride, its UTC time. A size
 * different from the previous frame resets the model. Returns 0 or -EINVAL. */
int sg_motion_frame(struct sg_motion *m, const uint8_t *luma, int width, int height, int stride,
                    int64_t utc_us, struct sg_motion_result *out);

#endif
