/* Live hub: fans the frames of every camera stream out to any number of live viewers without
 * transcoding, as fragmented MP4 (an init segment, then one moof+mdat per frame so that a
 * frame leaves the server as soon as it arrived), and keeps the current GOP in memory so a
 * new viewer starts at once from the last keyframe. Many viewers of one camera share the one
 * camera connection: frames are packaged once into immutable, reference-counted chunks and
 * every viewer only holds a read position.
 *
 * Threads: frames arrive on ingest workers (sg_live_frame), viewers read on HTTP threads
 * (sg_live_read), registration happens on the daemon's main thread. One mutex per stream; the
 * registry has its own. Nothing here blocks: a viewer with nothing to read is parked and its
 * wake callback runs when the next chunk arrives (or at the next sg_live_tick). */
#ifndef SG_LIVE_LIVE_H
#define SG_LIVE_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "ingest/ingest.h"

struct sg_live;
struct sg_live_stream;
struct sg_live_viewer;

struct sg_live_opts {
    size_t max_bytes;   /* per stream, chunks kept in memory (at least the current GOP) */
};

int sg_live_create(const struct sg_live_opts *o, struct sg_live **out);
/* Every stream must have been unpublished and every viewer must have left. */
void sg_live_destroy(struct sg_live **l);

/* ---- producer side (the camera manager) ---- */

/* Registers the stream (camera_id, stream); returns its handle, or NULL if it is already
 * published. */
struct sg_live_stream *sg_live_publish(struct sg_live *l, int64_t camera_id, int stream);
/* Ends the stream: its viewers read to the end of what is buffered and then get end of
 * stream. Sets *s to NULL. */
void sg_live_unpublish(struct sg_live *l, struct sg_live_stream **s);
/* A frame (on the ingest worker thread). */
void sg_live_frame(struct sg_live_stream *s, const struct sg_frame *f);
/* A state change (enum sg_stream_state_kind; err/msg as in the ingest sink). */
void sg_live_state(struct sg_live_stream *s, int state, int err, const char *msg);

/* ---- viewer side ---- */

/* wake(opaque) is called (on any thread, with the stream's lock held: it must only schedule,
 * e.g. resume an HTTP connection) when a parked viewer has something to read. */
typedef void (*sg_live_wake_fn)(void *opaque);

/* Joins a stream. Returns 0, SG_E_NOTFOUND (not published) or SG_E_UNSUPPORTED (published
 * but no video yet: camera offline or connecting). On success *codecs receives the RFC 6381
 * codec string of the stream (for MSE). */
int sg_live_join(struct sg_live *l, int64_t camera_id, int stream, sg_live_wake_fn wake,
                 void *opaque, struct sg_live_viewer **out, char *codecs, size_t codecs_len);
/* Copies up to max bytes of the viewer's stream into buf. Returns the count (> 0), 0 when
 * nothing is ready: the viewer is then parked and park(opaque) has been called with the
 * stream's lock held (so that a wake cannot slip in between), or -EPIPE once the stream has
 * ended (unpublished) and everything buffered was read. */
ssize_t sg_live_read(struct sg_live_viewer *v, uint8_t *buf, size_t max,
                     void (*park)(void *opaque), void *opaque);
/* Leaves the stream; sets *v to NULL. */
void sg_live_leave(struct sg_live_viewer **v);
/* Wakes every parked viewer (once a second: lets HTTP notice viewers that went away while
 * nothing arrived, e.g. the camera is offline). */
void sg_live_tick(struct sg_live *l);

/* ---- state and the current picture ---- */

struct sg_live_info {
    int published;
    int state;              /* enum sg_stream_state_kind */
    int64_t since_us;       /* UTC of the last state change */
    char last_error[192];
    int codec, width, height;
    char codecs[32];        /* RFC 6381, "" before the first keyframe */
    int has_video;          /* a GOP is in memory */
    int viewers;
    int64_t last_frame_utc_us;
};

int sg_live_info(struct sg_live *l, int64_t camera_id, int stream, struct sg_live_info *out);

/* The access units from the last keyframe to the newest frame, for a snapshot: *params gets a
 * copy of the parameter sets, *frames a malloc'd array of n buffers (caller frees with
 * sg_live_gop_free). Returns n > 0, SG_E_NOTFOUND, or SG_E_UNSUPPORTED (no video). */
struct sg_live_au {
    uint8_t *data;          /* length-prefixed NAL units, malloc'd */
    size_t size;
};
int sg_live_gop(struct sg_live *l, int64_t camera_id, int stream, size_t max_frames,
                struct sg_codec_params *params, struct sg_live_au **frames);
void sg_live_gop_free(struct sg_live_au **frames, int n);

/* RFC 6381 codecs string of a stream's parameter sets ("avc1.640028", "hvc1.1.6.L120.90"). */
int sg_codecs_string(const struct sg_codec_params *p, char *buf, size_t n);

#endif
