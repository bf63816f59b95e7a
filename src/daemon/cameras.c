#include "daemon/cameras.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "ingest/url.h"

/* What one camera stream feeds: its recorder (when the stream is recorded) and the live hub
 * (always). Heap-allocated because the ingest worker holds a pointer to it. */
struct tee {
    struct sg_recorder *rec;
    struct sg_stream_sink rec_sink;
    struct sg_live_stream *live;
    struct sg_bus *bus;
    pthread_mutex_t lock;     /* guards ev: the ingest thread publishes states, the camera
                               * manager renames */
    struct sg_event ev;       /* camera, site and stream filled in; the last state published */
    struct sg_analyser *an;   /* motion analysis of this stream, or NULL */
};

struct running_stream {
    struct tee *t;
    struct sg_ingest_stream *is;
};

struct entry {
    struct sg_camera cam;
    struct running_stream s[2];
};

struct sg_cameras {
    const struct sg_config *cfg;
    struct sg_catalog *cat;
    struct sg_ingest *ing;
    struct sg_store *st;
    struct sg_live *live;
    struct sg_bus *bus;
    struct sg_analysis *analysis;
    struct entry *e;
    int n, cap;
};

struct sg_cameras *sg_cameras_create(const struct sg_config *cfg, struct sg_catalog *cat,
                                     struct sg_ingest *ing, struct sg_store *st, struct sg_live *live)
{
    struct sg_cameras *cm = calloc(1, sizeof(*cm));

    if (!cm)
        abort();
    cm->cfg = cfg;
    cm->cat = cat;
    cm->ing = ing;
    cm->st = st;
    cm->live = live;
    return cm;
}

void sg_cameras_set_bus(struct sg_cameras *cm, struct sg_bus *bus) { cm->bus = bus; }
void sg_cameras_set_analysis(struct sg_cameras *cm, struct sg_analysis *a) { cm->analysis = a; }

/* The frame's bytes are copied once, into a shared block that the live hub and the recorder
 * (and after it the store) each hold a reference to: one copy of every GOP in memory, not one
 * per consumer. */
static void tee_frame(void *opaque, const struct sg_frame *f)
{
    struct tee *t = opaque;
    struct sg_frame g = *f;

    if (!g.blob)
        g.blob = sg_blob_copy(f->data, f->size); /* NULL without memory: each copies its own */
    if (t->rec)
        t->rec_sink.on_frame(t->rec_sink.opaque, &g);
    sg_live_frame(t->live, &g);
    sg_analysis_frame(t->an, &g);
    if (g.blob != f->blob)
        sg_blob_unref(&g.blob);
}

static void tee_state(void *opaque, int state, int err, const char *msg)
{
    struct tee *t = opaque;
    const char *name = state == SG_ST_ONLINE ? "online" : state == SG_ST_OFFLINE ? "offline" : "connecting";

    if (t->rec)
        t->rec_sink.on_state(t->rec_sink.opaque, state, err, msg);
    sg_live_state(t->live, state, err, msg);
    if (state != SG_ST_ONLINE)
        sg_analysis_offline(t->an);
    /* Each change once on the bus (retries of an offline camera repeat "offline"). */
    pthread_mutex_lock(&t->lock);
    if (t->bus && strcmp(t->ev.state, name)) {
        snprintf(t->ev.state, sizeof(t->ev.state), "%s", name);
        snprintf(t->ev.error, sizeof(t->ev.error), "%s", state == SG_ST_ONLINE || !msg ? "" : msg);
        t->ev.utc_us = sg_utc_us();
        sg_bus_publish(t->bus, &t->ev);
    }
    pthread_mutex_unlock(&t->lock);
}

/* A running stream's camera was renamed or moved to another site (its streams go on): the
 * state it last published moves to the new name on the bus (MQTT clears the old retained
 * topic, an empty state, and retains the state under the new one), and the analysis names
 * its next motion messages anew. */
static void rename_stream(const struct sg_camera *c, const char *site, struct tee *t)
{
    struct sg_event old;

    pthread_mutex_lock(&t->lock);
    if (!strcmp(t->ev.camera, c->name) && !strcmp(t->ev.site, site) && t->ev.site_id == c->site_id) {
        pthread_mutex_unlock(&t->lock);
        return;
    }
    sg_info("cameras", c->id, "%s stream: now named '%s' (site '%s'), was '%s' (site '%s')",
            sg_stream_name(t->ev.stream), c->name, site, t->ev.camera, t->ev.site);
    old = t->ev;
    snprintf(t->ev.camera, sizeof(t->ev.camera), "%s", c->name);
    snprintf(t->ev.site, sizeof(t->ev.site), "%s", site);
    t->ev.site_id = c->site_id;
    if (t->bus && old.state[0]) {
        old.state[0] = 0;
        old.error[0] = 0;
        sg_bus_publish(t->bus, &old);
        sg_bus_publish(t->bus, &t->ev);
    }
    pthread_mutex_unlock(&t->lock);
    sg_analysis_rename(t->an, c->name, site, c->site_id);
}

/* Stops a stream. gone: it is not coming back (camera removed or disabled, sub stream
 * removed), which the bus hears as a state event with an empty state (MQTT clears the
 * retained state topic); not at shutdown or for a restart with new settings. */
static void stop_stream(struct sg_cameras *cm, struct running_stream *rs, int gone)
{
    if (!rs->t)
        return;
    sg_ingest_remove(cm->ing, &rs->is); /* after this the tee gets no more callbacks */
    if (gone && rs->t->bus) {
        rs->t->ev.state[0] = 0;
        rs->t->ev.error[0] = 0;
        rs->t->ev.utc_us = sg_utc_us();
        sg_bus_publish(rs->t->bus, &rs->t->ev);
    }
    sg_analysis_remove(&rs->t->an);
    sg_recorder_destroy(&rs->t->rec);
    sg_live_unpublish(cm->live, &rs->t->live);
    pthread_mutex_destroy(&rs->t->lock);
    free(rs->t);
    rs->t = NULL;
}

static int records(const struct sg_camera *c, int stream)
{
    return stream == SG_STREAM_MAIN || c->record_sub;
}

static void start_stream(struct sg_cameras *cm, const struct sg_camera *c, const char *site, int stream,
                         struct running_stream *rs)
{
    struct sg_ingest_stream_desc d;
    struct sg_stream_sink sink;
    struct tee *t = calloc(1, sizeof(*t));
    int64_t last_end = 0;
    int r;

    if (!t)
        abort();
    pthread_mutex_init(&t->lock, NULL);
    memset(&d, 0, sizeof(d));
    d.camera_id = c->id;
    d.stream = stream;
    snprintf(d.url, sizeof(d.url), "%s", stream == SG_STREAM_MAIN ? c->main_url : c->sub_url);
    d.transport = c->transport != SG_TRANSPORT_DEFAULT ? c->transport
                  : cm->cfg->rtsp_transport ? SG_TRANSPORT_UDP : SG_TRANSPORT_TCP;
    if (records(c, stream)) {
        sg_catalog_segment_last_end(cm->cat, c->id, stream, &last_end);
        t->rec = sg_recorder_create(cm->st, c->id, stream, last_end);
        t->rec_sink = sg_recorder_sink(t->rec);
    }
    t->live = sg_live_publish(cm->live, c->id, stream);
    if (!t->live)
        abort(); /* published twice: a bookkeeping bug */
    t->bus = cm->bus;
    t->ev.type = SG_EV_CAMERA_STATE;
    t->ev.camera_id = c->id;
    t->ev.site_id = c->site_id;
    t->ev.stream = stream;
    snprintf(t->ev.camera, sizeof(t->ev.camera), "%s", c->name);
    snprintf(t->ev.site, sizeof(t->ev.site), "%s", site);
    /* Motion: the sub stream, or the main stream's keyframes when there is no sub stream. */
    if (cm->analysis && (stream == SG_STREAM_SUB || !c->sub_url[0]))
        t->an = sg_analysis_add(cm->analysis, c, t->ev.site, stream, stream == SG_STREAM_MAIN);
    rs->t = t;
    sink = (struct sg_stream_sink){ .opaque = t, .on_frame = tee_frame, .on_state = tee_state };
    if ((r = sg_ingest_add(cm->ing, &d, &sink, &rs->is)) < 0) {
        struct sg_stream_state stt = { .camera_id = c->id, .stream = stream, .since_us = sg_utc_us(),
                                       .updated_us = sg_utc_us() };
        char msg[200];
        snprintf(stt.state, sizeof(stt.state), "offline");
        struct sg_url u;
        char why[160] = "";
        /* the parser's reason (it names no credentials), else the code's */
        if (r != SG_E_URL || sg_url_parse(d.url, cm->cfg->allow_test_sources, &u, why, sizeof(why)) == 0)
            snprintf(why, sizeof(why), "%s", sg_strerror(r));
        snprintf(msg, sizeof(msg), "URL refused: %s", why);
        snprintf(stt.last_error, sizeof(stt.last_error), "%s", msg);
        sg_catalog_state_set(cm->cat, &stt);
        sg_live_state(t->live, SG_ST_OFFLINE, r, msg);
        if (t->bus) { /* on MQTT too, as for a camera that cannot be reached */
            snprintf(t->ev.state, sizeof(t->ev.state), "offline");
            snprintf(t->ev.error, sizeof(t->ev.error), "%s", msg);
            t->ev.utc_us = stt.since_us;
            sg_bus_publish(t->bus, &t->ev);
        }
        /* Stays published (offline, with the reason) until the settings change. */
    }
}

/* Streams are received when the camera is enabled: the main stream always, the sub stream
 * when it has a URL (live grids use it even when it is not recorded). */
static int wants(const struct sg_camera *c, int stream)
{
    if (!c->enabled)
        return 0;
    return stream == SG_STREAM_MAIN ? 1 : !!c->sub_url[0];
}

static int same_stream(const struct sg_camera *a, const struct sg_camera *b, int stream)
{
    if (a->transport != b->transport || wants(a, stream) != wants(b, stream) ||
        records(a, stream) != records(b, stream))
        return 0;
    return !strcmp(stream == SG_STREAM_MAIN ? a->main_url : a->sub_url,
                   stream == SG_STREAM_MAIN ? b->main_url : b->sub_url);
}

/* The name of site id in the list ("" when it is not there). */
static const char *site_name(const struct sg_site *sites, int n, int64_t id)
{
    for (int i = 0; i < n; i++)
        if (sites[i].id == id)
            return sites[i].name;
    return "";
}

int sg_cameras_sync(struct sg_cameras *cm, int force)
{
    struct sg_camera *cams = NULL;
    struct sg_site *sites = NULL;
    int n, n_sites, ch;

    ch = sg_catalog_changed(cm->cat);
    if (!force && ch <= 0)
        return ch < 0 ? ch : 0;
    /* The sites once per sync: any write to the catalog (activity every 2 s) brings one here,
     * and every running stream compares its site name (rename_stream). */
    if ((n_sites = sg_catalog_site_list(cm->cat, &sites)) < 0)
        return n_sites;
    n = sg_catalog_camera_list(cm->cat, &cams);
    if (n < 0) {
        free(sites);
        return n;
    }
    /* Stop what disappeared or changed. */
    for (int i = 0; i < cm->n; i++) {
        struct entry *e = &cm->e[i];
        const struct sg_camera *now = NULL;
        for (int j = 0; j < n; j++)
            if (cams[j].id == e->cam.id)
                now = &cams[j];
        for (int s = 0; s < 2; s++)
            if (e->s[s].t && (!now || !same_stream(&e->cam, now, s))) {
                sg_info("cameras", e->cam.id, "%s stream stopped (%s)", sg_stream_name(s),
                        now ? "settings changed" : "camera removed");
                stop_stream(cm, &e->s[s], !now || !wants(now, s));
            }
        if (!now) {
            cm->e[i] = cm->e[--cm->n];
            i--;
        }
    }
    /* Start what is new or changed. */
    for (int j = 0; j < n; j++) {
        struct entry *e = NULL;
        for (int i = 0; i < cm->n; i++)
            if (cm->e[i].cam.id == cams[j].id)
                e = &cm->e[i];
        if (!e) {
            if (cm->n == cm->cap) {
                cm->cap = cm->cap ? cm->cap * 2 : 16;
                cm->e = realloc(cm->e, (size_t)cm->cap * sizeof(*cm->e));
                if (!cm->e)
                    abort();
            }
            e = &cm->e[cm->n++];
            memset(e, 0, sizeof(*e));
        }
        e->cam = cams[j];
        for (int s = 0; s < 2; s++)
            if (e->s[s].t)
                rename_stream(&cams[j], site_name(sites, n_sites, cams[j].site_id), e->s[s].t);
        for (int s = 0; s < 2; s++)
            if (wants(&cams[j], s) && !e->s[s].t) {
                sg_info("cameras", cams[j].id, "%s %s stream of '%s'",
                        records(&cams[j], s) ? "recording" : "receiving (live only)", sg_stream_name(s),
                        cams[j].name);
                start_stream(cm, &cams[j], site_name(sites, n_sites, cams[j].site_id), s, &e->s[s]);
            }
    }
    free(cams);
    free(sites);
    return 0;
}

void sg_cameras_destroy(struct sg_cameras **cmp)
{
    struct sg_cameras *cm = *cmp;

    if (!cm)
        return;
    for (int i = 0; i < cm->n; i++)
        for (int s = 0; s < 2; s++)
            stop_stream(cm, &cm->e[i].s[s], 0);
    free(cm->e);
    free(cm);
    *cmp = NULL;
}
