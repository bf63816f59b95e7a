/* Motion analysis of every camera: a few threads (one per core by default) each decode and
 * analyse the streams assigned to them. The ingest thread that receives a frame only copies
 * it into the analysing thread's bounded queue (a full queue drops frames up to the next
 * keyframe and restarts that camera's model; recording never waits for analysis).
 *
 * Per camera: the sub stream, motion_fps frames a second analysed, and only the frames they
 * need decoded (P frames need their predecessors; what follows a GOP's last analysed frame
 * and frames nothing references are left out); a camera without a sub stream has the
 * keyframes of its main stream analysed, which costs a tenth of decoding it all. Events go
 * to the catalog (with the JPEG of their peak picture) and to the event bus; the per-second
 * activity level and zone bits go to the activity index. */
#ifndef SG_ANALYSIS_ANALYSIS_H
#define SG_ANALYSIS_ANALYSIS_H

#include <stdint.h>

#include "analysis/motion.h"
#include "catalog/catalog.h"
#include "events/bus.h"
#include "ingest/ingest.h"

struct sg_analysis_opts {
    int threads;                  /* >= 1 */
    int fps;                      /* analysed frames per second of a sub stream */
    int batch_ms;                 /* a thread takes its frames in runs this far apart */
    struct sg_motion_config motion;
    const char *catalog_path;     /* each thread opens its own connection */
    struct sg_bus *bus;           /* borrowed; may be NULL */
};

struct sg_analysis;
struct sg_analyser;

int sg_analysis_create(const struct sg_analysis_opts *o, struct sg_analysis **out);
/* Every analyser must have been removed. */
void sg_analysis_destroy(struct sg_analysis **a);

/* Starts analysing one stream of a camera (site: its name, for the bus). keyframes_only: a
 * main stream analysed on its keyframes. Returns NULL only on OOM (aborts). */
struct sg_analyser *sg_analysis_add(struct sg_analysis *a, const struct sg_camera *cam, const char *site,
                                    int stream, int keyframes_only);
/* Stops it: call after the stream's frames stopped coming (sg_ingest_remove). An event in
 * progress ends at the last analysed frame. *an is NULL afterwards. */
void sg_analysis_remove(struct sg_analyser **an);

/* The camera was renamed or moved to another site: motion messages name it anew from the next
 * one on (an event in progress ends under the new name). an may be NULL. */
void sg_analysis_rename(struct sg_analyser *an, const char *camera, const char *site, int64_t site_id);

/* From the ingest thread: a frame of the analysed stream (copied when it will be used). */
void sg_analysis_frame(struct sg_analyser *an, const struct sg_frame *f);
/* From the ingest thread: the stream is no longer online (the model restarts afterwards). */
void sg_analysis_offline(struct sg_analyser *an);

/* What the analysis of one stream has done since the stream was (re)started by the camera
 * manager, for the API: shows that analysis runs even when nothing moves. */
struct sg_analysis_info {
    int64_t frames;               /* frames analysed */
    int64_t decoded;              /* frames decoded (the analysed ones and those they need) */
    int64_t skipped;              /* frames never decoded: not needed by an analysed one */
    int64_t restarts;             /* times the model started learning the scene again after
                                   * having analysed frames: the stream went offline or
                                   * reconnected, frames were dropped, the picture size changed */
    int64_t last_utc_us;          /* UTC of the last analysed frame; 0: none yet */
    int width, height;            /* of the last analysed picture; 0: none yet */
};
/* Any thread: fills *out for the stream of the camera that is analysed. Returns 0, or
 * SG_E_NOTFOUND when that stream is not analysed (a is NULL, motion is off, another
 * stream is analysed). */
int sg_analysis_info(struct sg_analysis *a, int64_t camera_id, int stream, struct sg_analysis_info *out);

#endif
