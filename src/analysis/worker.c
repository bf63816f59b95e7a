/* The analysis threads (analysis.h). */
#include "analysis/analysis.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/zones.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/queue.h"
#include "base/thread.h"
#include "playback/playback.h"

#define QUEUE_ITEMS 8192                /* 6.5 s of 50 cameras at 25 fps: the bytes bind first */
#define QUEUE_BYTES (16 * 1024 * 1024)  /* a few seconds of 50 sub streams */
#define PERIODIC_NS (2 * SG_NS_PER_SEC) /* zones re-read, activity written */
#define THUMB_EVERY_US 1000000          /* at most one new peak thumbnail a second */
#define THUMB_WIDTH 320
#define BATCH_MAX QUEUE_ITEMS           /* items handled in one batch at most */
#define PEND_MAX 64                     /* frames kept undecoded per camera at most */

enum { IT_ADD = 1, IT_FRAME, IT_OFFLINE, IT_REMOVE, IT_RENAME };

struct names { /* an IT_RENAME item's data */
    char camera[SG_NAME_MAX], site[SG_NAME_MAX];
    int64_t site_id;
};

struct item {
    int kind;
    struct sg_analyser *an;
    int64_t utc_us, session_no;
    int key, gap, has_params;
    struct sg_codec_params params;
    size_t size;
    uint8_t data[];
};

struct athread;

struct sg_analyser {
    struct athread *t;
    /* the ingest thread's */
    int drop_until_key, dropped;
    int64_t sent_session;
    /* the analysis thread's */
    int64_t camera_id, site_id;
    char camera[SG_NAME_MAX], site[SG_NAME_MAX];
    int stream, keyframes_only;
    struct sg_decoder *dec;
    struct sg_codec_params params;
    int have_params;
    int64_t session_no;
    /* frames received but not decoded yet (oldest first): decoded when a later frame is
     * analysed, dropped unread when an IDR or a gap makes them useless */
    struct item *pend[PEND_MAX];
    int npend;
    int64_t decoded, skipped;
    struct sg_motion *m;
    struct sg_zone zones[SG_MOTION_MAX_ZONES];
    int nz;
    char *zones_json;
    int64_t next_us, last_utc, prev_utc; /* prev_utc: the last frame received */
    struct sg_motion_event ev;
    /* zones named by the frames with motion that may start the next event */
    char run_zones[sizeof(((struct sg_motion_event *)0)->zones)];
    int in_event;
    int64_t last_thumb_us;
    int64_t minute_us;
    uint8_t levels[60];
    uint32_t zbits[60];
    int act_dirty;
    int64_t since_restart;   /* frames analysed since the model last started learning */
    /* written by the analysis thread, read by sg_analysis_info(), under the analysis' lock */
    struct sg_analysis_info info;
};

struct athread {
    struct sg_analysis *a;
    struct sg_thread th;
    struct sg_queue *q;
    struct sg_catalog *cat;
    struct sg_analyser **ans; /* the thread's own list */
    int n, cap;
};

struct sg_analysis {
    struct sg_analysis_opts o;
    struct athread *t;
    int nt;
    atomic_uint rr;
    pthread_mutex_t lock;     /* guards reg and every analyser's info */
    struct sg_analyser **reg; /* the analysers added and not yet removed */
    int nreg, capreg;
};

/* ---- the analysis thread ---- */

static void publish(struct sg_analyser *an, int type)
{
    struct sg_event ev = { .type = type, .utc_us = type == SG_EV_MOTION_START ? an->ev.start_us : an->ev.end_us,
                           .camera_id = an->camera_id, .site_id = an->site_id, .stream = an->stream,
                           .event_id = an->ev.id, .start_us = an->ev.start_us, .end_us = an->ev.end_us,
                           .peak_score = (float)an->ev.peak_score };

    snprintf(ev.camera, sizeof(ev.camera), "%s", an->camera);
    snprintf(ev.site, sizeof(ev.site), "%s", an->site);
    snprintf(ev.zones, sizeof(ev.zones), "%s", an->ev.zones);
    sg_bus_publish(an->t->a->o.bus, &ev);
}

static void event_end(struct sg_analyser *an, int64_t end_us)
{
    if (!an->in_event)
        return;
    an->in_event = 0;
    an->ev.end_us = end_us > an->ev.start_us ? end_us : an->ev.start_us;
    if (sg_catalog_event_update(an->t->cat, &an->ev, NULL, 0) < 0)
        sg_warn("analysis", an->camera_id, "cannot store the end of motion event %lld", (long long)an->ev.id);
    publish(an, SG_EV_MOTION_END);
}

static void flush_activity(struct sg_analyser *an)
{
    if (!an->act_dirty)
        return;
    if (sg_catalog_activity_put(an->t->cat, an->camera_id, an->minute_us, an->levels, an->zbits) == 0)
        an->act_dirty = 0;
}

static void activity(struct sg_analyser *an, int64_t utc_us, int level, uint32_t zones)
{
    int64_t minute = utc_us - utc_us % (60 * SG_US_PER_SEC);
    int sec = (int)((utc_us / SG_US_PER_SEC) % 60);

    if (minute != an->minute_us) {
        flush_activity(an);
        an->minute_us = minute;
        memset(an->levels, 0, sizeof(an->levels));
        memset(an->zbits, 0, sizeof(an->zbits));
    }
    if (level > an->levels[sec])
        an->levels[sec] = (uint8_t)level;
    an->zbits[sec] |= zones;
    an->act_dirty = 1;
}

/* The model learns the scene again from the next frame: counted once it had learnt something. */
static void count_restart(struct sg_analyser *an, const char *why)
{
    if (!an->since_restart)
        return;
    sg_debug("analysis", an->camera_id, "the model starts again (%s) after %lld analysed frames", why,
             (long long)an->since_restart);
    an->since_restart = 0;
    pthread_mutex_lock(&an->t->a->lock);
    an->info.restarts++;
    an->info.decoded = an->decoded;
    an->info.skipped = an->skipped; /* restart() dropped the frames that waited */
    pthread_mutex_unlock(&an->t->a->lock);
}

/* Frees the frames waiting to be decoded: none of them will be (counted as skipped). */
static void drop_pending(struct sg_analyser *an)
{
    for (int i = 0; i < an->npend; i++)
        free(an->pend[i]);
    an->skipped += an->npend;
    an->npend = 0;
}

static void close_decoder(struct sg_analyser *an)
{
    drop_pending(an);
    sg_decoder_close(&an->dec);
}

/* The model starts again: after a reconnection, the stream going offline, frames dropped. */
static void restart(struct sg_analyser *an, const char *why)
{
    event_end(an, an->last_utc);
    sg_motion_reset(an->m);
    close_decoder(an);
    count_restart(an, why);
}

static void on_result(struct sg_analyser *an, const struct sg_motion_result *res, int64_t utc_us)
{
    struct sg_buf jpeg = { 0 };

    activity(an, utc_us, res->level, res->zones);
    if (res->ended)
        event_end(an, res->event_end_us);
    /* An event's zones are gathered by name, frame by frame: a frame's zone bits index the zone
     * list in force for that frame, and the list may change while an event goes on (the core's
     * event_zones would then name the new list's zones for the old one's bits). The frames with
     * motion before an event starts count too; a frame without motion ends their run. */
    if (!an->in_event && !res->level)
        snprintf(an->run_zones, sizeof(an->run_zones), "[]");
    if (res->zones)
        sg_zones_names_merge(an->zones, an->nz, res->zones, an->in_event ? an->ev.zones : an->run_zones,
                             sizeof(an->run_zones));
    if (res->started && !an->in_event) {
        memset(&an->ev, 0, sizeof(an->ev));
        an->ev.camera_id = an->camera_id;
        an->ev.stream = an->stream;
        an->ev.start_us = res->event_start_us;
        an->ev.peak_us = res->event_peak_us;
        an->ev.peak_score = res->event_peak_score;
        snprintf(an->ev.zones, sizeof(an->ev.zones), "%s", an->run_zones);
        snprintf(an->run_zones, sizeof(an->run_zones), "[]");
        if (sg_catalog_event_add(an->t->cat, &an->ev) < 0) {
            sg_warn("analysis", an->camera_id, "cannot store a motion event");
            return;
        }
        an->in_event = 1;
        an->last_thumb_us = 0;
        publish(an, SG_EV_MOTION_START);
    }
    if (!an->in_event || !res->in_event)
        return;
    an->ev.peak_us = res->event_peak_us;
    an->ev.peak_score = res->event_peak_score;
    if ((res->peak || res->started) && utc_us - an->last_thumb_us >= THUMB_EVERY_US &&
        sg_decoder_jpeg(an->dec, 70, THUMB_WIDTH, &jpeg) == 0) {
        sg_catalog_event_update(an->t->cat, &an->ev, jpeg.data, jpeg.len);
        an->last_thumb_us = utc_us;
    }
    sg_buf_free(&jpeg);
}

/* Whether the frame at utc_us is to be analysed, at one frame per period on average. Due
 * times advance by exactly one period from the previous due time, not from the frame taken
 * (advance), and a frame counts when it is nearer to the due time than the next frame is
 * likely to be: up to half the last frame interval early (at most half a period). So 25 fps
 * taken at 5 fps is every 5th frame, the one on the due time (a quarter period of slack took
 * the frame 40 ms before it), and 5 fps arriving with jitter keeps every frame. An IDR up to
 * half a period early counts, and the due times start again from it: every IDR is analysed,
 * and the frames after a GOP's last analysed frame are never decoded (on_frame). After a gap,
 * slower input or a clock step, the due times start again from the frame taken. */
static int is_due(const struct sg_analyser *an, int64_t utc_us, int64_t period, int idr)
{
    int64_t gap = utc_us - an->prev_utc, slack = period / 4;

    if (an->next_us - utc_us > 2 * period)
        return 1; /* the clock stepped back, or the first frame */
    if (an->prev_utc && gap > 0 && gap < 2 * period)
        slack = gap / 2 < period / 2 ? gap / 2 : period / 2;
    if (idr)
        slack = period / 2;
    return utc_us >= an->next_us - slack;
}

static void advance(struct sg_analyser *an, int64_t utc_us, int64_t period, int idr)
{
    an->next_us += period;
    if (idr || an->next_us < utc_us || an->next_us - utc_us > 2 * period)
        an->next_us = utc_us + period;
}

/* Decodes one frame, opening the decoder on a keyframe; > 0 when a picture came out. */
static int decode(struct sg_analyser *an, struct item *it, struct sg_picture *pic)
{
    if (!an->dec && (!it->key || !an->have_params || sg_decoder_open(&an->params, &an->dec) < 0)) {
        an->skipped++; /* nothing to decode it from */
        return 0;
    }
    an->decoded++;
    return sg_decoder_decode(an->dec, it->data, it->size, pic);
}

/* Decodes the frames kept for later, oldest first. */
static void decode_pending(struct sg_analyser *an)
{
    for (int i = 0; i < an->npend; i++) {
        decode(an, an->pend[i], NULL);
        free(an->pend[i]);
    }
    an->npend = 0;
}

/* Keyframes-only: each keyframe decodes on its own. Keeping a decoder (and its picture
 * buffers, up to 16 frames of 1080p) from one keyframe to the next would only cost memory. */
static int decode_keyframe(struct sg_analyser *an, struct item *it, struct sg_picture *pic)
{
    int r = decode(an, it, pic);

    if (r == 0 && an->dec) /* a lone keyframe: flush its picture out */
        r = sg_decoder_decode(an->dec, NULL, 0, pic);
    if (r <= 0)
        sg_decoder_close(&an->dec);
    return r;
}

/* A frame of the analysed stream. Frames are decoded only when a later analysed frame needs
 * them: one that is not due waits in pend (P frames predict from their predecessors), an IDR
 * drops what waited (nothing after it references them), and a frame no other frame
 * references is dropped at once unless it is due. With a 25 fps sub stream analysed at 5 fps
 * in GOPs of 50 frames that leaves 4 frames of 50 undecoded; with non-reference frames (some
 * cameras send every other frame as one) more. Returns 1 when it kept the item. */
static int on_frame(struct sg_analyser *an, struct item *it)
{
    struct sg_motion_result res;
    struct sg_picture pic;
    int64_t period = SG_US_PER_SEC / an->t->a->o.fps;
    int r;

    if (it->session_no != an->session_no || it->gap) {
        restart(an, it->gap ? "frames dropped" : "new session");
        an->session_no = it->session_no;
    }
    if (it->has_params && (!an->have_params || memcmp(&an->params, &it->params, sizeof(an->params)))) {
        close_decoder(an); /* a resolution change resets the model in sg_motion_frame */
        an->params = it->params;
        an->have_params = 1;
    }
    if (an->keyframes_only) {
        if ((r = decode_keyframe(an, it, &pic)) <= 0)
            return 0;
    } else {
        int refs = sg_au_refs(an->params.codec, it->data, it->size), due;

        if (refs & SG_AU_IDR)
            drop_pending(an);
        due = is_due(an, it->utc_us, period, refs & SG_AU_IDR);
        an->prev_utc = it->utc_us;
        if (!due) {
            if ((refs & SG_AU_NONREF) || (!an->dec && !an->npend && !it->key)) {
                an->skipped++; /* nothing will need it, or nothing can decode it */
                return 0;
            }
            if (an->npend == PEND_MAX)
                decode_pending(an); /* a long wait (a low motion_fps): decode what waited */
            an->pend[an->npend++] = it;
            return 1;
        }
        decode_pending(an);
        if ((r = decode(an, it, &pic)) <= 0)
            return 0; /* the next frame is due instead */
        advance(an, it->utc_us, period, refs & SG_AU_IDR);
    }
    if (pic.width != an->info.width || pic.height != an->info.height)
        count_restart(an, "new picture size"); /* sg_motion_frame resets the model on a new size */
    sg_motion_set_black(an->m, pic.full_range ? 0 : 16); /* restarts the model only on a change */
    if (sg_motion_frame(an->m, pic.luma, pic.width, pic.height, pic.stride, it->utc_us, &res) < 0)
        return 0;
    an->last_utc = it->utc_us;
    an->since_restart++;
    pthread_mutex_lock(&an->t->a->lock);
    an->info.frames++;
    an->info.decoded = an->decoded;
    an->info.skipped = an->skipped;
    an->info.last_utc_us = it->utc_us;
    an->info.width = pic.width;
    an->info.height = pic.height;
    pthread_mutex_unlock(&an->t->a->lock);
    on_result(an, &res, it->utc_us);
    if (an->keyframes_only)
        sg_decoder_close(&an->dec);
    return 0;
}

static void load_zones(struct sg_analyser *an)
{
    char *json = malloc(SG_ZONES_JSON_MAX), err[256];
    int n;

    if (!json)
        return;
    if (sg_catalog_zones_get(an->t->cat, an->camera_id, json, SG_ZONES_JSON_MAX) < 0 ||
        (an->zones_json && !strcmp(json, an->zones_json))) {
        free(json);
        return;
    }
    n = sg_zones_parse(json, an->zones, err, sizeof(err));
    if (n < 0 || sg_motion_set_zones(an->m, an->zones, n) < 0) {
        sg_warn("analysis", an->camera_id, "zones not applied: %s", n < 0 ? err : "refused by the analysis");
        n = 0;
        sg_motion_set_zones(an->m, NULL, 0);
    }
    an->nz = n;
    free(an->zones_json);
    an->zones_json = json;
}

static void analyser_free(struct sg_analyser *an)
{
    event_end(an, an->last_utc);
    flush_activity(an);
    close_decoder(an);
    sg_motion_destroy(&an->m);
    free(an->zones_json);
    free(an);
}

static void detach(struct athread *t, struct sg_analyser *an)
{
    for (int i = 0; i < t->n; i++)
        if (t->ans[i] == an) {
            t->ans[i] = t->ans[--t->n];
            break;
        }
}

static void periodic(struct athread *t)
{
    int changed = sg_catalog_changed(t->cat);

    sg_catalog_begin(t->cat);
    for (int i = 0; i < t->n; i++) {
        if (changed > 0)
            load_zones(t->ans[i]);
        flush_activity(t->ans[i]);
    }
    sg_catalog_commit(t->cat);
}

static void handle(struct athread *t, struct item *it)
{
    struct sg_analyser *an = it->an;

    if (it->kind == IT_FRAME) {
        if (on_frame(an, it))
            return; /* kept for later */
    } else if (it->kind == IT_ADD) {
        if (t->n == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 16;
            if (!(t->ans = realloc(t->ans, (size_t)t->cap * sizeof(*t->ans))))
                abort();
        }
        t->ans[t->n++] = an;
        load_zones(an);
    } else if (it->kind == IT_OFFLINE) {
        restart(an, "stream offline");
    } else if (it->kind == IT_RENAME) {
        struct names nm;
        memcpy(&nm, it->data, sizeof(nm));
        snprintf(an->camera, sizeof(an->camera), "%s", nm.camera);
        snprintf(an->site, sizeof(an->site), "%s", nm.site);
        an->site_id = nm.site_id;
    } else if (it->kind == IT_REMOVE) {
        detach(t, an);
        analyser_free(an);
    }
    free(it);
}

/* Batch order: by analyser, then by arrival (a stable sort: each camera's items keep their
 * order, so an analyser removed and another allocated at the same address in one batch still
 * see their items in turn). */
struct slot {
    struct item *it;
    int seq;
};

static int slot_cmp(const void *pa, const void *pb)
{
    const struct slot *a = pa, *b = pb;
    uintptr_t x = (uintptr_t)a->it->an, y = (uintptr_t)b->it->an;

    if (x != y)
        return x < y ? -1 : 1;
    return a->seq - b->seq;
}

/* The thread wakes every batch_ms (1 s by default) and takes what the cameras sent meanwhile,
 * camera by camera: a camera's frames decode one after the other while its decoder and
 * reference pictures are still in the cache, and the thread works in long runs instead of
 * waking once per frame (200 times a second for 8 cameras at 25 fps). On this VM a frame
 * decoded in runs of 200 ms cost 387-446 us, in runs of 1 s 333-351 us, close to decoding
 * without pause (bench/decode_runs.c, docs/PERFORMANCE.md). Events start up to batch_ms later; nothing is
 * lost, the queue holds seconds. */
static void *thread_main(void *arg)
{
    struct athread *t = arg;
    int64_t next_periodic = sg_mono_ns() + PERIODIC_NS;
    struct slot *batch = malloc(BATCH_MAX * sizeof(*batch));

    if (!batch)
        abort();
    for (;;) {
        struct item *it = NULL;
        int n = 0, r = sg_queue_pop(t->q, (void **)&it, next_periodic);
        int64_t woke = sg_mono_ns();

        if (r == -EPIPE)
            break;
        while (r == 0) {
            batch[n].it = it;
            batch[n].seq = n;
            if (++n == BATCH_MAX)
                break;
            r = sg_queue_pop(t->q, (void **)&it, 0);
        }
        if (n > 1)
            qsort(batch, (size_t)n, sizeof(*batch), slot_cmp);
        for (int i = 0; i < n; i++)
            handle(t, batch[i].it);
        if (sg_mono_ns() >= next_periodic) {
            periodic(t);
            next_periodic = sg_mono_ns() + PERIODIC_NS;
        }
        if (n > 0 && n < BATCH_MAX)
            sg_sleep_until(woke + (int64_t)t->a->o.batch_ms * 1000000); /* let the next batch gather */
    }
    free(batch);
    for (int i = 0; i < t->n; i++)
        analyser_free(t->ans[i]);
    t->n = 0;
    return NULL;
}

/* ---- the ingest side ---- */

static void push(struct sg_analyser *an, struct item *it, int force)
{
    if (sg_queue_push(an->t->q, it, sizeof(*it) + it->size, force) < 0) {
        free(it);
        if (!an->drop_until_key) /* restart at the next keyframe, and say so once */
            sg_warn("analysis", an->camera_id, "analysis behind: frames dropped up to the next keyframe");
        an->drop_until_key = 1;
    }
}

void sg_analysis_frame(struct sg_analyser *an, const struct sg_frame *f)
{
    struct item *it;

    if (!an || (an->keyframes_only && !f->key) || (an->drop_until_key && !f->key) || f->damaged)
        return;
    if (!(it = malloc(sizeof(*it) + f->size)))
        return;
    it->kind = IT_FRAME;
    it->an = an;
    it->utc_us = f->arrival_utc_us;
    it->session_no = f->session_no;
    it->key = f->key;
    it->gap = an->drop_until_key;
    it->has_params = f->key || f->params_changed || f->session_no != an->sent_session;
    if (it->has_params)
        it->params = *f->params;
    it->size = f->size;
    memcpy(it->data, f->data, f->size);
    an->drop_until_key = 0;
    an->sent_session = f->session_no;
    push(an, it, 0);
}

/* Queues a control item (with n bytes of data) behind the frames already sent. */
static void control(struct sg_analyser *an, int kind, const void *data, size_t n)
{
    struct item *it = calloc(1, sizeof(*it) + n);

    if (!it)
        abort();
    it->kind = kind;
    it->an = an;
    it->size = n;
    if (n)
        memcpy(it->data, data, n);
    if (sg_queue_push(an->t->q, it, sizeof(*it) + n, 1) < 0) /* closed: only at shutdown */
        free(it);
}

void sg_analysis_offline(struct sg_analyser *an)
{
    if (an)
        control(an, IT_OFFLINE, NULL, 0);
}

void sg_analysis_rename(struct sg_analyser *an, const char *camera, const char *site, int64_t site_id)
{
    struct names nm = { .site_id = site_id };

    if (!an)
        return;
    snprintf(nm.camera, sizeof(nm.camera), "%s", camera);
    snprintf(nm.site, sizeof(nm.site), "%s", site ? site : "");
    control(an, IT_RENAME, &nm, sizeof(nm));
}

/* ---- set-up ---- */

struct sg_analyser *sg_analysis_add(struct sg_analysis *a, const struct sg_camera *cam, const char *site,
                                    int stream, int keyframes_only)
{
    struct sg_analyser *an = calloc(1, sizeof(*an));
    struct athread *t = &a->t[atomic_fetch_add(&a->rr, 1) % (unsigned)a->nt];

    if (!an || !(an->m = sg_motion_create(&a->o.motion)))
        abort();
    an->t = t;
    an->camera_id = cam->id;
    an->site_id = cam->site_id;
    snprintf(an->camera, sizeof(an->camera), "%s", cam->name);
    snprintf(an->site, sizeof(an->site), "%s", site ? site : "");
    an->stream = stream;
    an->keyframes_only = keyframes_only;
    an->session_no = -1;
    an->sent_session = -1;
    snprintf(an->run_zones, sizeof(an->run_zones), "[]");
    pthread_mutex_lock(&a->lock);
    if (a->nreg == a->capreg) {
        a->capreg = a->capreg ? 2 * a->capreg : 16;
        if (!(a->reg = realloc(a->reg, (size_t)a->capreg * sizeof(*a->reg))))
            abort();
    }
    a->reg[a->nreg++] = an;
    pthread_mutex_unlock(&a->lock);
    control(an, IT_ADD, NULL, 0); /* the thread takes it into its list before any of its frames */
    return an;
}

void sg_analysis_remove(struct sg_analyser **anp)
{
    struct sg_analyser *an = *anp;

    if (an) {
        struct sg_analysis *a = an->t->a;
        pthread_mutex_lock(&a->lock); /* out of sg_analysis_info's sight before it is freed */
        for (int i = 0; i < a->nreg; i++)
            if (a->reg[i] == an) {
                a->reg[i] = a->reg[--a->nreg];
                break;
            }
        pthread_mutex_unlock(&a->lock);
        control(an, IT_REMOVE, NULL, 0); /* after its last frame; the thread frees it */
    }
    *anp = NULL;
}

int sg_analysis_info(struct sg_analysis *a, int64_t camera_id, int stream, struct sg_analysis_info *out)
{
    int r = SG_E_NOTFOUND;

    if (!a)
        return r;
    pthread_mutex_lock(&a->lock);
    for (int i = 0; i < a->nreg; i++)
        if (a->reg[i]->camera_id == camera_id && a->reg[i]->stream == stream) {
            *out = a->reg[i]->info;
            r = 0;
            break;
        }
    pthread_mutex_unlock(&a->lock);
    return r;
}

int sg_analysis_create(const struct sg_analysis_opts *o, struct sg_analysis **out)
{
    struct sg_analysis *a = calloc(1, sizeof(*a));
    int r;

    if (!a)
        abort();
    pthread_mutex_init(&a->lock, NULL);
    a->o = *o;
    if (a->o.fps < 1)
        a->o.fps = 1;
    if (a->o.batch_ms < 0)
        a->o.batch_ms = 0;
    a->nt = o->threads > 0 ? o->threads : 1;
    if (!(a->t = calloc((size_t)a->nt, sizeof(*a->t))))
        abort();
    for (int i = 0; i < a->nt; i++) {
        struct athread *t = &a->t[i];
        t->a = a;
        t->q = sg_queue_create(QUEUE_ITEMS, QUEUE_BYTES);
        if ((r = sg_catalog_open(o->catalog_path, 0, &t->cat)) < 0 ||
            (r = sg_thread_start(&t->th, "analysis", thread_main, t)) < 0) {
            sg_catalog_close(&t->cat);
            sg_queue_destroy(&t->q);
            a->nt = i;
            sg_analysis_destroy(&a);
            return r;
        }
    }
    *out = a;
    return 0;
}

void sg_analysis_destroy(struct sg_analysis **ap)
{
    struct sg_analysis *a = *ap;

    if (!a)
        return;
    for (int i = 0; i < a->nt; i++)
        sg_queue_close(a->t[i].q);
    for (int i = 0; i < a->nt; i++) {
        struct athread *t = &a->t[i];
        struct item *it;
        sg_thread_join(&t->th);
        while (sg_queue_pop(t->q, (void **)&it, 0) == 0) {
            if (it->kind == IT_REMOVE)
                analyser_free(it->an);
            free(it);
        }
        sg_queue_destroy(&t->q);
        sg_catalog_close(&t->cat);
        free(t->ans);
    }
    free(a->t);
    free(a->reg);
    pthread_mutex_destroy(&a->lock);
    free(a);
    *ap = NULL;
}
