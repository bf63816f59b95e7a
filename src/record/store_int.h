/* Messages between recorders (ingest threads) and the store thread. */
#ifndef SG_RECORD_STORE_INT_H
#define SG_RECORD_STORE_INT_H

#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>

#include "base/buf.h"
#include "record/record.h"

/* A segment file. Created by a recorder; the store thread owns every field but `failed`
 * after M_OPEN, and frees it when it processes M_CLOSE. */
struct seg {
    int64_t camera_id;
    int stream;
    int64_t start_us;
    int codec, width, height;
    atomic_int failed;         /* set by the store on a write error or a full disk */
    /* store thread only */
    int fd;
    int64_t id;
    int root_idx;
    char rel[SG_RELPATH_MAX];
    int64_t bytes, end_us;
    int64_t dropped_to;        /* page cache dropped up to here */
    int fragments;
    int dirty;
    struct seg *next_dirty;
};

struct loss_tok {
    int64_t id;                /* catalog row, set by the store */
};

enum msg_type { M_OPEN, M_FRAG, M_CLOSE, M_LOSS_OPEN, M_LOSS_CLOSE, M_STATE };

struct msg {
    int type;
    struct seg *seg;
    struct sg_buf a;           /* OPEN: the init segment; FRAG: the fragment's header */
    struct sg_blob **frames;   /* FRAG: the samples' access units in order, one reference each
                                * (shared with the live hub: no copy of the GOP is made) */
    size_t n_frames;
    size_t payload_len;        /* FRAG: their total size */
    int64_t end_us;            /* FRAG: UTC end of the fragment; LOSS_CLOSE: end */
    struct loss_tok *loss;
    struct sg_loss loss_row;
    struct sg_stream_state state;
};

int store_push(struct sg_store *st, struct msg *m, int force);
/* Frees m, its buffer and its frames' references. A segment or loss token it points to is not
 * freed here: who owns it depends on the message (see store_push and handle). */
void msg_free(struct msg *m);
int store_segment_seconds(struct sg_store *st);
int store_is_full(struct sg_store *st);

#endif
