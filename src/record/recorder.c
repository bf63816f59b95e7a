/* Per-stream recorder: runs on the ingest worker thread that receives the stream, never
 * blocks, and talks to the store thread only through its bounded queue. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "record/fmp4.h"
#include "record/store_int.h"

#define FRAG_MAX_SECONDS 10            /* a GOP longer than this is split into fragments */
#define FRAG_MAX_BYTES (16 * 1024 * 1024)
#define REANCHOR_US (1 * SG_US_PER_SEC) /* media clock vs wall clock tolerance */

struct sg_recorder {
    struct sg_store *st;
    int64_t camera_id;
    int stream;

    struct seg *seg;
    struct msg *open_msg;      /* M_OPEN held back until the first fragment fixes the start */
    int64_t seg_first_dts;
    uint32_t frag_seq;
    int64_t anchor_us;         /* min(arrival - media offset) over this segment's frames */

    /* fragment being accumulated: its frames are references to the shared blocks the live hub
     * holds too (no copy); the store writes them and lets them go */
    struct sg_blob **frames;
    size_t payload_len;
    struct sg_fmp4_sample *samples;
    int64_t *dts;
    size_t n, cap;

    int64_t last_dts;          /* of the last frame taken */
    int64_t last_end_us;       /* UTC end of what has been recorded (0 = nothing yet) */
    int64_t session_no;
    int64_t cur_seg_session, prev_seg_session; /* sessions of this and the previous segment */
    int64_t nominal_dur;

    struct loss_tok *loss;     /* open video-loss interval */
    int64_t prev_end_us;       /* from the catalog, for the first frame */
    int waiting_key;           /* dropped data: wait for the next keyframe */
    char last_state[16];
};

static void send_open(struct sg_recorder *r);
static void close_loss(struct sg_recorder *r, int64_t end_us);

static int64_t dts_to_us(int64_t ticks) { return ticks * SG_US_PER_SEC / SG_FMP4_TIMESCALE; }

static void open_loss(struct sg_recorder *r, int64_t start_us, const char *reason)
{
    struct msg *m;

    if (r->loss)
        return;
    m = calloc(1, sizeof(*m));
    r->loss = calloc(1, sizeof(*r->loss));
    if (!m || !r->loss)
        abort(); /* bookkeeping */
    m->type = M_LOSS_OPEN;
    m->loss = r->loss;
    m->loss_row.camera_id = r->camera_id;
    m->loss_row.stream = r->stream;
    m->loss_row.start_us = start_us;
    snprintf(m->loss_row.reason, sizeof(m->loss_row.reason), "%s", reason);
    store_push(r->st, m, 1);
}

static void close_loss(struct sg_recorder *r, int64_t end_us)
{
    struct msg *m;

    if (!r->loss)
        return;
    m = calloc(1, sizeof(*m));
    if (!m)
        abort();
    m->type = M_LOSS_CLOSE;
    m->loss = r->loss; /* the store frees the token */
    m->end_us = end_us;
    r->loss = NULL;
    store_push(r->st, m, 1);
}

/* Hands the accumulated fragment to the store; `next_dts` gives the last sample's duration
 * (or 0 when unknown: the nominal duration is used). Returns 0 or -EAGAIN when the store's
 * queue is full (the fragment is dropped). */
static int flush_fragment(struct sg_recorder *r, int64_t next_dts)
{
    struct msg *m;
    int64_t first_us, end_us;
    int rc;

    if (!r->n || !r->seg)
        return 0;
    if (r->open_msg)
        send_open(r);
    for (size_t i = 0; i + 1 < r->n; i++) {
        int64_t d = r->dts[i + 1] - r->dts[i];
        r->samples[i].duration = (uint32_t)(d > 0 && d < 0x7fffffff ? d : 1);
    }
    {
        int64_t d = next_dts > r->dts[r->n - 1] ? next_dts - r->dts[r->n - 1] : r->nominal_dur;
        if (d <= 0 || d > 10 * SG_FMP4_TIMESCALE)
            d = r->nominal_dur > 0 ? r->nominal_dur : 3600;
        r->samples[r->n - 1].duration = (uint32_t)d;
        end_us = r->seg->start_us + dts_to_us(r->dts[r->n - 1] + d - r->seg_first_dts);
    }
    first_us = r->seg->start_us + dts_to_us(r->dts[0] - r->seg_first_dts);
    m = calloc(1, sizeof(*m));
    if (!m)
        abort();
    m->type = M_FRAG;
    m->seg = r->seg;
    m->end_us = end_us;
    rc = sg_fmp4_fragment_header(&m->a, ++r->frag_seq, (uint64_t)(r->dts[0] - r->seg_first_dts),
                                 first_us, r->samples, r->n, r->payload_len);
    if (rc < 0)
        abort(); /* only OOM: the sizes are bounded above */
    /* the references go with the message; the next fragment gets an array as large */
    m->frames = r->frames;
    m->n_frames = r->n;
    m->payload_len = r->payload_len;
    if (!(r->frames = malloc(r->cap * sizeof(*r->frames))))
        abort();
    r->payload_len = 0;
    r->n = 0;
    rc = store_push(r->st, m, 0);
    if (rc < 0) {
        msg_free(m);
        return rc;
    }
    r->last_end_us = end_us;
    return 0;
}

static void close_segment(struct sg_recorder *r, int64_t next_dts)
{
    struct msg *m;

    if (!r->seg)
        return;
    if (flush_fragment(r, next_dts) == -EAGAIN)
        sg_warn("record", r->camera_id, "storage queue full: last fragment of a segment dropped");
    if (r->open_msg) { /* nothing was ever written: the store never heard of it */
        msg_free(r->open_msg);
        r->open_msg = NULL;
        free(r->seg);
        r->seg = NULL;
        return;
    }
    m = calloc(1, sizeof(*m));
    if (!m)
        abort();
    m->type = M_CLOSE;
    m->seg = r->seg;
    r->seg = NULL;
    store_push(r->st, m, 1);
}

/* Fixes the segment's UTC start and hands M_OPEN to the store. Called with the first fragment,
 * when a GOP of arrival times is known: frames can arrive late (network, a camera that bursts
 * its buffer at connection) but never early, so the smallest (arrival - media offset) is the
 * best estimate of when the first frame was captured. */
static void send_open(struct sg_recorder *r)
{
    int64_t est = r->anchor_us + dts_to_us(r->seg_first_dts);
    int64_t start_us = est;

    /* Contiguous with the previous segment of the same session: continue its timeline unless
     * the stream clock and the wall clock disagree by more than a second (clock step, drift). */
    if (r->last_end_us && r->prev_seg_session == r->cur_seg_session) {
        int64_t cont = r->last_end_us;
        if (llabs(cont - est) <= REANCHOR_US)
            start_us = cont;
        else
            sg_warn("record", r->camera_id, "wall clock and stream clock differ by %lld ms: "
                    "re-anchoring the timeline", (long long)((est - cont) / 1000));
    }
    if (r->last_end_us && start_us < r->last_end_us)
        start_us = r->last_end_us; /* the wall clock stepped back: never overlap */
    r->seg->start_us = start_us;
    store_push(r->st, r->open_msg, 1);
    r->open_msg = NULL;
    close_loss(r, start_us); /* the loss ends exactly where recording resumes */
}

static int open_segment(struct sg_recorder *r, const struct sg_frame *f)
{
    struct seg *s = calloc(1, sizeof(*s));
    struct msg *m = calloc(1, sizeof(*m));

    if (!s || !m)
        abort();
    s->camera_id = r->camera_id;
    s->stream = r->stream;
    s->codec = f->params->codec;
    s->width = f->params->width;
    s->height = f->params->height;
    s->fd = -1;
    m->type = M_OPEN;
    m->seg = s;
    if (sg_fmp4_init_segment(&m->a, f->params) < 0) {
        sg_error("record", r->camera_id, "cannot build an MP4 header for these parameter sets");
        free(s);
        msg_free(m);
        return SG_E_PROTO;
    }
    r->prev_seg_session = r->cur_seg_session;
    r->cur_seg_session = f->session_no;
    r->seg = s;
    r->open_msg = m;
    r->seg_first_dts = f->dts;
    r->anchor_us = f->arrival_utc_us - dts_to_us(f->dts);
    r->frag_seq = 0;
    return 0;
}

static void note_gap(struct sg_recorder *r, int64_t now_us, const char *reason)
{
    int64_t start = r->last_end_us ? r->last_end_us : now_us;
    open_loss(r, start, reason);
}

static void on_frame(void *opaque, const struct sg_frame *f)
{
    struct sg_recorder *r = opaque;
    int new_session = f->session_no != r->session_no;
    int need_new = !r->seg || f->params_changed || new_session || atomic_load(&r->seg->failed);
    int64_t seg_ticks;

    if (r->prev_end_us) {
        /* First frame since start-up: the time since the last recording is a loss. */
        if (f->arrival_utc_us - r->prev_end_us > SG_US_PER_SEC)
            sg_store_loss(r->st, r->camera_id, r->stream, r->prev_end_us, f->arrival_utc_us,
                          "recorder not running");
        r->prev_end_us = 0;
    }
    if (store_is_full(r->st)) {
        if (r->seg) {
            close_segment(r, f->dts);
            sg_error("record", r->camera_id, "storage full and nothing deletable: recording stopped");
        }
        note_gap(r, f->arrival_utc_us, "storage full");
        r->waiting_key = 1;
        return;
    }
    /* Frames missing inside a session (UDP loss, a camera that skipped): not papered over with
     * a long sample, but a video-loss interval and a new segment from the next keyframe. */
    if (r->seg && !new_session && r->nominal_dur > 0 &&
        f->dts - r->last_dts > (r->nominal_dur * 10 > SG_FMP4_TIMESCALE ? r->nominal_dur * 10
                                                                       : SG_FMP4_TIMESCALE)) {
        sg_warn("record", r->camera_id, "%s: %lld ms of video missing in the stream",
                sg_stream_name(r->stream), (long long)((f->dts - r->last_dts) / 90));
        close_segment(r, 0);
        note_gap(r, f->arrival_utc_us, "frames missing in the stream");
        r->waiting_key = 1;
    }
    if (r->seg && atomic_load(&r->seg->failed) && !r->loss) {
        close_segment(r, f->dts);
        note_gap(r, f->arrival_utc_us, "write error");
    }
    if (r->seg && !need_new && f->key && r->n) {
        seg_ticks = f->dts - r->seg_first_dts;
        if (flush_fragment(r, f->dts) < 0) {
            sg_error("record", r->camera_id, "storage cannot keep up: fragment dropped");
            close_segment(r, 0);
            note_gap(r, f->arrival_utc_us, "storage too slow");
            r->waiting_key = 1;
        } else if (seg_ticks + r->nominal_dur / 2 >=
                   (int64_t)store_segment_seconds(r->st) * SG_FMP4_TIMESCALE) {
            need_new = 1;
        }
    }
    if (need_new || r->waiting_key) {
        if (!f->key) {
            if (r->seg) {
                close_segment(r, f->dts);
                note_gap(r, f->arrival_utc_us, f->params_changed ? "stream format changed" : "no keyframe");
            }
            return;
        }
        if (r->seg)
            close_segment(r, new_session ? 0 : f->dts);
        r->session_no = f->session_no;
        if (open_segment(r, f) < 0) {
            note_gap(r, f->arrival_utc_us, "unusable stream parameters");
            return;
        }
        r->waiting_key = 0;
    } else if (r->n && (f->dts - r->dts[0] > FRAG_MAX_SECONDS * SG_FMP4_TIMESCALE ||
                        r->payload_len + f->size > FRAG_MAX_BYTES)) {
        /* very long GOP: bound what a crash can lose */
        if (flush_fragment(r, f->dts) < 0) {
            close_segment(r, 0);
            note_gap(r, f->arrival_utc_us, "storage too slow");
            r->waiting_key = 1;
            return;
        }
    }
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 64;
        r->samples = realloc(r->samples, nc * sizeof(*r->samples));
        r->dts = realloc(r->dts, nc * sizeof(*r->dts));
        r->frames = realloc(r->frames, nc * sizeof(*r->frames));
        if (!r->samples || !r->dts || !r->frames)
            abort();
        r->cap = nc;
    }
    /* (ingest bounds a frame's size: max_frame_bytes) */
    if (!(r->frames[r->n] = f->blob ? sg_blob_ref(f->blob) : sg_blob_copy(f->data, f->size))) {
        sg_error("record", r->camera_id, "no memory for a frame of %zu bytes: dropped", f->size);
        r->waiting_key = 1;
        return;
    }
    r->payload_len += f->size;
    if (r->n)
        r->nominal_dur = f->dts - r->last_dts;
    {
        int64_t est = f->arrival_utc_us - dts_to_us(f->dts);
        if (est < r->anchor_us)
            r->anchor_us = est;
    }
    r->samples[r->n] = (struct sg_fmp4_sample){ .size = (uint32_t)f->size, .key = f->key };
    r->dts[r->n] = f->dts;
    r->n++;
    r->last_dts = f->dts;
}

/* Sends a stream-state row to the store; `format` ("h264 1920x1080") fills codec and size. */
static void push_state(struct sg_recorder *r, const char *state, const char *error, const char *format)
{
    struct msg *m = calloc(1, sizeof(*m));
    int64_t now = sg_utc_us();

    if (!m)
        abort();
    m->type = M_STATE;
    m->state = (struct sg_stream_state){ .camera_id = r->camera_id, .stream = r->stream,
                                         .since_us = now, .updated_us = now };
    snprintf(m->state.state, sizeof(m->state.state), "%s", state);
    snprintf(m->state.last_error, sizeof(m->state.last_error), "%s", error);
    if (format)
        sscanf(format, "%7s %dx%d", m->state.codec, &m->state.width, &m->state.height);
    store_push(r->st, m, 1);
}

static void on_state(void *opaque, int state, int err, const char *msg)
{
    struct sg_recorder *r = opaque;
    static const char *const names[] = { "connecting", "online", "offline" };
    int64_t now = sg_utc_us();

    if (state == SG_ST_OFFLINE) {
        /* Keep what we have: flush the partial GOP and close the file, then note the loss. */
        if (r->seg)
            close_segment(r, 0);
        note_gap(r, now, msg && *msg ? msg : "camera offline");
    }
    /* Only transitions and errors go to the catalog. */
    if (!err && !strcmp(r->last_state, names[state]))
        return;
    snprintf(r->last_state, sizeof(r->last_state), "%s", names[state]);
    push_state(r, names[state], err && msg ? msg : "", state == SG_ST_ONLINE && !err ? msg : NULL);
}

struct sg_recorder *sg_recorder_create(struct sg_store *st, int64_t camera_id, int stream,
                                       int64_t prev_end_us)
{
    struct sg_recorder *r = calloc(1, sizeof(*r));

    if (!r)
        abort();
    r->st = st;
    r->camera_id = camera_id;
    r->stream = stream;
    r->prev_end_us = prev_end_us;
    r->session_no = -1;
    return r;
}

void sg_recorder_destroy(struct sg_recorder **rp)
{
    struct sg_recorder *r = *rp;

    if (!r)
        return;
    close_segment(r, 0);
    close_loss(r, sg_utc_us());
    /* The stream is no longer received: say so, or the catalog would show it online forever. */
    push_state(r, "stopped", "not recorded (recorder stopped or camera disabled)", NULL);
    for (size_t i = 0; i < r->n; i++) /* close_segment flushed them; none is left but on OOM */
        sg_blob_unref(&r->frames[i]);
    free(r->frames);
    free(r->samples);
    free(r->dts);
    free(r);
    *rp = NULL;
}

struct sg_stream_sink sg_recorder_sink(struct sg_recorder *r)
{
    return (struct sg_stream_sink){ .opaque = r, .on_frame = on_frame, .on_state = on_state };
}
