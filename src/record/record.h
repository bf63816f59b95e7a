/* Recording: per-stream recorders cut frames into fragmented-MP4 segments (new segment on a
 * keyframe after segment_seconds, on a parameter-set change, after any gap); one store thread
 * owns the files and the catalog connection and performs every write, batching catalog
 * updates into one transaction per second.
 *
 * Crash safety: a fragment (one GOP) reaches the file in one writev, after the moov; after
 * kill -9 the file holds every complete fragment, and start-up reconciliation (scan.c)
 * truncates a torn tail and brings the catalog row up to date. At most the GOP in memory
 * is lost. */
#ifndef SG_RECORD_RECORD_H
#define SG_RECORD_RECORD_H

#include <stdint.h>

#include "base/fsutil.h"

#include "catalog/catalog.h"
#include "ingest/ingest.h"

struct sg_store_opts {
    const char *catalog_path;
    char (*roots)[SG_ROOT_MAX];
    int n_roots;
    int64_t min_free;          /* writing stops below half of it; resumes above 3/4 */
    int segment_seconds;
    size_t queue_bytes;        /* bound of data waiting for the disk */
};

struct sg_store;
struct sg_recorder;

int sg_store_create(const struct sg_store_opts *opts, struct sg_store **out);
/* Writes everything queued, closes the files, commits, joins the thread. */
void sg_store_destroy(struct sg_store **st);
/* Number of roots currently refusing writes because they are full. */
int sg_store_full_roots(struct sg_store *st);
/* Asks the store to re-read free space now (after retention freed some). */
void sg_store_poke(struct sg_store *st);
/* Records a video-loss interval that is already over (e.g. the recorder was down). */
void sg_store_loss(struct sg_store *st, int64_t camera_id, int stream, int64_t start_us,
                   int64_t end_us, const char *reason);

/* A recorder for one camera stream; prev_end_us is where the stream's recording last ended
 * (0 if never), so the first frame can account for the time the recorder was not running. */
struct sg_recorder *sg_recorder_create(struct sg_store *st, int64_t camera_id, int stream,
                                       int64_t prev_end_us);
/* Flushes the fragment in memory and closes the segment. */
void sg_recorder_destroy(struct sg_recorder **rec);
/* The sink to give to sg_ingest_add. */
struct sg_stream_sink sg_recorder_sink(struct sg_recorder *rec);

/* ---- scan.c: reading our own files back ---- */

struct sg_scan {
    int64_t valid_bytes;       /* end of the last complete fragment */
    int64_t file_bytes;
    int fragments;
    int64_t first_utc_us;      /* from the first prft (0 if none) */
    int64_t duration_us;       /* sum of sample durations of complete fragments */
    int codec, width, height;
};

/* Parses a segment file. Returns 0 (even for a torn tail: see valid_bytes) or SG_E_CORRUPT
 * when even the init segment is unusable, or -errno. */
int sg_scan_file(const char *path, struct sg_scan *out);

/* Start-up reconciliation of disk and catalog; see scan.c. Returns 0 or a negative code. */
int sg_reconcile(struct sg_catalog *cat, char (*roots)[SG_ROOT_MAX], int n_roots);

#endif
