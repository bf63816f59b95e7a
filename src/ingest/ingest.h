/* Ingest: receives camera streams. A few worker threads (one per core by default) each run
 * an epoll loop over many non-blocking RTSP sessions; every phase of a session has a deadline
 * on CLOCK_MONOTONIC. A session that fails is retried with capped exponential backoff and full
 * jitter, and costs nothing while it waits. Complete access units go to the stream's sink,
 * called on the worker thread. */
#ifndef SG_INGEST_INGEST_H
#define SG_INGEST_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/h26x.h"

struct sg_blob; /* base/buf.h */

struct sg_ingest_opts {
    int threads;                /* worker threads, >= 1 */
    int connect_timeout_ms;
    int handshake_timeout_ms;
    int frame_timeout_ms;
    int backoff_min_ms;
    int backoff_max_ms;
    size_t max_frame_bytes;
    int batch_ms;               /* minimum time between two polls of a worker */
    int allow_test_sources;
};

/* One complete frame, borrowed for the duration of the callback. */
struct sg_frame {
    const uint8_t *data;        /* length-prefixed (4 bytes, big-endian) NAL units */
    size_t size;
    int64_t dts;                /* 90 kHz, the stream's own monotonic timeline (see session.c) */
    int64_t arrival_utc_us;
    int64_t arrival_mono_ns;
    int key;
    int damaged;
    const struct sg_codec_params *params; /* current parameter sets */
    int params_changed;         /* differ from those of the previous frame handed out */
    int64_t session_no;         /* increments at every (re)connection */
    struct sg_blob *blob;       /* the same bytes as a shared block, when the caller made one
                                 * (the camera manager's tee does, once for all consumers) */
};

enum sg_stream_state_kind {
    SG_ST_CONNECTING = 0,
    SG_ST_ONLINE = 1,
    SG_ST_OFFLINE = 2,
};

struct sg_stream_sink {
    void *opaque;
    /* A frame arrived (only frames from the first keyframe of a session on). */
    void (*on_frame)(void *opaque, const struct sg_frame *f);
    /* State change, or an error while in a state (err < 0, msg says what). */
    void (*on_state)(void *opaque, int state, int err, const char *msg);
};

struct sg_ingest_stream_desc {
    int64_t camera_id;
    int stream;                 /* enum sg_stream */
    char url[1024];             /* may hold credentials: never logged as is */
    int transport;              /* enum sg_transport (DEFAULT resolved by the caller) */
};

struct sg_ingest;
struct sg_ingest_stream;

int sg_ingest_create(const struct sg_ingest_opts *opts, struct sg_ingest **out);
/* Stops every session (closing connections) and joins the workers. */
void sg_ingest_destroy(struct sg_ingest **ing);
/* Starts receiving a stream. The sink is called from a worker thread until remove returns. */
int sg_ingest_add(struct sg_ingest *ing, const struct sg_ingest_stream_desc *desc,
                  const struct sg_stream_sink *sink, struct sg_ingest_stream **out);
/* Stops the stream; when it returns the sink will not be called again. Sets *s to NULL. */
void sg_ingest_remove(struct sg_ingest *ing, struct sg_ingest_stream **s);

#endif
