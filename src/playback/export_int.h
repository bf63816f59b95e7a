/* What both export writers share (export.c: plain MP4 through libavformat; onvif_export.c: the
 * signed ONVIF export file): which fragments of which recorded files a range covers.
 * Internal to playback. */
#ifndef SG_PLAYBACK_EXPORT_INT_H
#define SG_PLAYBACK_EXPORT_INT_H

#include <stdint.h>

#include "playback/playback.h"

#define SG_EXPORT_FRAG_MAX (512u << 20) /* one GOP larger than this is not one of ours */
#define SG_EXPORT_GAP_US 500000         /* a hole longer than this is counted as a gap */

/* One source file and the fragments [first, last] of it that are exported (first > last:
 * none). fd is open (-1 before planning). */
struct sg_export_plan {
    int fd;
    struct sg_frag_index idx;
    int first, last;
};

/* Opens and indexes every source (ordered by start) and picks, in each, the fragments from
 * the one holding from_us (it starts with a keyframe) to the last starting before to_us. All
 * sources that contribute must share one decoder configuration (else SG_E_UNSUPPORTED).
 * On success *out (n entries; caller frees with sg_export_plan_free) and *ref, the index of the
 * first contributing source, -1 when none does. Returns 0 or a negative code (*out freed). */
int sg_export_plan(const struct sg_export_src *src, int n, int64_t from_us, int64_t to_us,
                   struct sg_export_plan **out, int *ref);
/* Closes and frees p (n entries); accepts NULL and leaves NULL behind. */
void sg_export_plan_free(struct sg_export_plan **p, int n);

#endif
