/* sargas-fakecam: a fleet of fake RTSP cameras for tests.
 *
 *   sargas-fakecam --cameras N --port P [--codec h264|h265] [--media DIR]
 *                  [--bind ADDR]
 *
 * Serves rtsp://ADDR:P/camK/main, /camK/sub and, H.264 only, /camK/sub720 and
 * the motion scenes /camK/still, /camK/still720, /camK/mover and /camK/parked
 * (see scripts/gen-media.sh) for K = 1..N from the files scripts/gen-media.sh
 * writes, looping them forever; every file a codec serves must exist.
 * Every frame carries an SEI with an absolute frame counter and its send time
 * (see feeder.h and media.h). Like a real camera it sends live frames only:
 * DESCRIBE is answered at once, and after PLAY the first frame is the next IDR
 * (a client joining a stream that already plays starts where it is); nothing
 * produced before PLAY is ever sent. Prints "fakecam: ready rtsp://ADDR:P/
 * cameras=N codec=C" on stdout once listening; SIGINT/SIGTERM stop it (exit
 * 0); bad arguments or media exit 2, other start-up failures exit 1.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gst/app/gstappsrc.h>
#include <gst/base/gstbasesink.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#include "feeder.h"
#include "media.h"

#define MAX_CAMERAS 1000
#define MAX_KINDS   7
#define APPSRC_MAX_BUFFERS 25 /* 1 s of frames */

#if defined(__SANITIZE_ADDRESS__)
/* GStreamer and GLib keep allocations until exit by design; their leaks are
 * not ours and would turn a clean exit into a failure under ASan. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}
#endif

struct options {
    long cameras;
    long port;
    enum fc_codec codec;
    const char *media_dir;
    const char *bind;
};

struct kind {
    const char *name; /* path component: main, sub, sub720, still, ... */
    const char *file;
};

static const struct kind kinds_h264[] = {
    { "main", "main.h264" },   { "sub", "sub.h264" },           { "sub720", "sub720.h264" },
    { "still", "still.h264" }, { "still720", "still720.h264" }, { "mover", "mover.h264" },
    { "parked", "parked.h264" },
};
_Static_assert(sizeof(kinds_h264) / sizeof(kinds_h264[0]) <= MAX_KINDS, "raise MAX_KINDS");
static const struct kind kinds_h265[] = {
    { "main", "main.h265" }, { "sub", "sub.h265" },
};

struct mount {
    struct fc_media *media; /* a reference, never dropped: server threads may use it
                             * until the process exits */
    char name[48];          /* "camK/kind", for log lines */
};

static struct {
    pthread_mutex_t lock; /* guards feeder against the server's threads */
    struct fc_feeder *feeder;
    struct fc_media *media[MAX_KINDS];
    size_t n_media;
    GstCaps *caps;
    struct mount *mounts;
    GMainLoop *loop;
} app = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sargas-fakecam --cameras N --port P [--codec h264|h265] [--media DIR]\n"
            "                      [--bind ADDR]\n"
            "  --cameras N   number of cameras, 1..%d\n"
            "  --port P      RTSP port (0: any free port, printed in the ready line)\n"
            "  --codec C     h264 (default) or h265\n"
            "  --media DIR   media from scripts/gen-media.sh (default: $SG_MEDIA_DIR, else\n"
            "                the directory 'media' next to this executable)\n"
            "  --bind ADDR   listen address (default 127.0.0.1)\n"
            "serves rtsp://ADDR:P/camK/main, /camK/sub and, for h264, /camK/sub720 and the\n"
            "motion scenes /camK/still, /camK/still720, /camK/mover, /camK/parked\n",
            MAX_CAMERAS);
}

static int parse_args(int argc, char **argv, struct options *o, char *dirbuf, size_t dirsize)
{
    static const struct option longopts[] = {
        { "cameras", required_argument, NULL, 'n' },
        { "port", required_argument, NULL, 'p' },
        { "codec", required_argument, NULL, 'c' },
        { "media", required_argument, NULL, 'm' },
        { "bind", required_argument, NULL, 'b' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;

    memset(o, 0, sizeof(*o));
    o->cameras = -1;
    o->port = -1;
    o->bind = "127.0.0.1";
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            if (fc_parse_long(optarg, 1, MAX_CAMERAS, &o->cameras) < 0) {
                fprintf(stderr, "fakecam: --cameras must be 1..%d, not '%s'\n", MAX_CAMERAS,
                        optarg);
                return -EINVAL;
            }
            break;
        case 'p':
            if (fc_parse_long(optarg, 0, 65535, &o->port) < 0) {
                fprintf(stderr, "fakecam: --port must be 0..65535, not '%s'\n", optarg);
                return -EINVAL;
            }
            break;
        case 'c':
            if (strcmp(optarg, "h264") == 0) {
                o->codec = FC_H264;
            } else if (strcmp(optarg, "h265") == 0) {
                o->codec = FC_H265;
            } else {
                fprintf(stderr, "fakecam: --codec must be h264 or h265, not '%s'\n", optarg);
                return -EINVAL;
            }
            break;
        case 'm':
            o->media_dir = optarg;
            break;
        case 'b':
            if (!*optarg) {
                fprintf(stderr, "fakecam: --bind needs an address\n");
                return -EINVAL;
            }
            o->bind = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "fakecam: unexpected argument '%s'\n", argv[optind]);
        return -EINVAL;
    }
    if (o->cameras < 0 || o->port < 0) {
        fprintf(stderr, "fakecam: --cameras and --port are required\n");
        usage(stderr);
        return -EINVAL;
    }
    return fc_media_dir_resolve("fakecam", &o->media_dir, dirbuf, dirsize);
}

static int load_media(const struct options *o, const struct kind *kinds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        int ret;

        if ((size_t)snprintf(path, sizeof(path), "%s/%s", o->media_dir, kinds[i].file) >=
            sizeof(path))
            return -ENAMETOOLONG;
        ret = fc_media_load(path, o->codec, &app.media[i]);
        if (ret < 0) {
            if (ret == -ENOENT)
                fprintf(stderr, "fakecam: generate the media with: scripts/gen-media.sh %s\n",
                        o->media_dir);
            return ret;
        }
        app.n_media = i + 1;
    }
    return 0;
}

static void on_media_unprepared(GstRTSPMedia *media, gpointer user_data)
{
    (void)user_data;
    pthread_mutex_lock(&app.lock);
    if (app.feeder)
        fc_feeder_remove(app.feeder, media);
    pthread_mutex_unlock(&app.lock);
}

/* The PTS of the first buffer of a buffer or buffer list probe. */
static GstClockTime probe_pts(GstPadProbeInfo *info)
{
    GstBuffer *buf = NULL;

    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        buf = gst_pad_probe_info_get_buffer(info);
    } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
        GstBufferList *list = gst_pad_probe_info_get_buffer_list(info);
        if (list && gst_buffer_list_length(list) > 0)
            buf = gst_buffer_list_get(list, 0);
    }
    return buf ? GST_BUFFER_PTS(buf) : GST_CLOCK_TIME_NONE;
}

/* Drops the RTP packets of frames pushed before the stream went idle (the
 * preroll frame, or the last frames before a PAUSE), then removes itself at the
 * first packet of a later, live frame. user_data: the last stale PTS. */
static GstPadProbeReturn drop_stale(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
    GstClockTime stale = *(GstClockTime *)user_data;
    GstClockTime pts = probe_pts(info);

    (void)pad;
    if (GST_CLOCK_TIME_IS_VALID(pts) && pts <= stale)
        return GST_PAD_PROBE_DROP;
    return GST_PAD_PROBE_REMOVE; /* passes this buffer on */
}

/* Installs drop_stale, for what the feeder pushed so far, on the RTP output of
 * every stream of the media: rtpbin's send_rtp_src_N, the pad where the server
 * holds the preroll frame from DESCRIBE to PLAY (it releases it when a
 * transport is added, before the media's target state turns to PLAYING).
 * A non-blocking probe sees a held buffer once it is released. GStreamer 1.24
 * has gst_rtsp_stream_install_drop_probe() for this; 1.22 does not. */
static void drop_stale_buffers(GstRTSPMedia *media, const char *name)
{
    GstClockTime stale = GST_CLOCK_TIME_NONE;
    guint n;

    pthread_mutex_lock(&app.lock);
    if (app.feeder)
        fc_feeder_last_pts(app.feeder, media, &stale);
    pthread_mutex_unlock(&app.lock);
    if (!GST_CLOCK_TIME_IS_VALID(stale))
        return; /* nothing pushed, nothing stale */

    n = gst_rtsp_media_n_streams(media);
    for (guint i = 0; i < n; i++) {
        GstRTSPStream *stream = gst_rtsp_media_get_stream(media, i); /* borrowed */
        GstPad *src = stream ? gst_rtsp_stream_get_srcpad(stream) : NULL;
        GstPad *peer = src ? gst_pad_get_peer(src) : NULL;
        GstElement *rtpbin = peer ? gst_pad_get_parent_element(peer) : NULL;
        GstPad *out = NULL;
        char pad_name[32];

        if (rtpbin) {
            snprintf(pad_name, sizeof(pad_name), "send_rtp_src_%u",
                     gst_rtsp_stream_get_index(stream));
            out = gst_element_get_static_pad(rtpbin, pad_name);
        }
        if (out) {
            GstClockTime *data = g_new(GstClockTime, 1);

            *data = stale;
            gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                              drop_stale, data, g_free);
            gst_object_unref(out);
        } else {
            fprintf(stderr, "fakecam: %s: stream %u: no RTP output pad; stale frames may be "
                    "sent\n", name, i);
        }
        if (rtpbin)
            gst_object_unref(rtpbin);
        if (peer)
            gst_object_unref(peer);
        if (src)
            gst_object_unref(src);
    }
}

/* The appsrc's queue is empty; the first time, its pipeline has just started
 * to preroll (DESCRIBE waits for that): give it its frame now rather than at
 * the next tick. Then this handler goes: live, the queue runs empty every
 * frame. Runs on the appsrc's streaming thread. user_data: the media, the
 * feeder's key. */
static void on_need_data(GstAppSrc *src, guint length, gpointer user_data)
{
    int ret = -ENOENT;

    (void)length;
    pthread_mutex_lock(&app.lock);
    if (app.feeder)
        ret = fc_feeder_preroll(app.feeder, user_data);
    pthread_mutex_unlock(&app.lock);
    if (ret != 0)
        g_signal_handlers_disconnect_by_func(src, (gpointer)on_need_data, user_data);
}

/* DESCRIBE prerolled the media with one frame, now held until PLAY. */
static void on_media_prepared(GstRTSPMedia *media, gpointer user_data)
{
    struct mount *mt = user_data;

    drop_stale_buffers(media, mt->name);
}

/* The server wants the media PLAYING (a client's PLAY) or not (preroll, the
 * last client's PAUSE, unprepare): feed it live frames only while it plays.
 * Runs with the media's state lock held. */
static void on_media_target_state(GstRTSPMedia *media, gint state, gpointer user_data)
{
    struct mount *mt = user_data;
    int live = state == GST_STATE_PLAYING;
    int ret = -ENOENT;

    pthread_mutex_lock(&app.lock);
    if (app.feeder)
        ret = fc_feeder_set_live(app.feeder, media, live);
    pthread_mutex_unlock(&app.lock);
    /* paused: what is still on its way is stale when a client plays again */
    if (ret == 1 && !live && state != GST_STATE_NULL)
        drop_stale_buffers(media, mt->name);
}

/* The server's sinks (one per transport, added at SETUP) sync to the clock
 * with a 20 ms processing deadline, which holds every frame back 20 ms once
 * queues let it (clients on UDP and TCP at once). Frames are due when pushed. */
static void on_element_added(GstBin *pipeline, GstBin *bin, GstElement *element,
                             gpointer user_data)
{
    (void)pipeline;
    (void)bin;
    (void)user_data;
    if (GST_IS_BASE_SINK(element))
        gst_base_sink_set_processing_deadline(GST_BASE_SINK(element), 0);
}

static void on_media_configure(GstRTSPMediaFactory *factory, GstRTSPMedia *media,
                               gpointer user_data)
{
    struct mount *mt = user_data;
    GstElement *bin = gst_rtsp_media_get_element(media);
    GstElement *src = bin ? gst_bin_get_by_name(GST_BIN(bin), "src") : NULL;
    GstObject *pipeline = NULL;
    int ret = -ESRCH;

    (void)factory;
    if (!src) {
        fprintf(stderr, "fakecam: %s: no appsrc in the media pipeline\n", mt->name);
        goto out;
    }
    pipeline = gst_object_get_parent(GST_OBJECT(bin));
    if (pipeline && GST_IS_BIN(pipeline))
        g_signal_connect(pipeline, "deep-element-added", G_CALLBACK(on_element_added), NULL);
    /* The feeder pushes only while the media plays and resyncs at the next
     * IDR when a few frames queue up; the queue limit is a last resort that
     * drops the oldest frame rather than letting a backlog build. */
    g_object_set(src, "caps", app.caps, "max-buffers", (guint64)APPSRC_MAX_BUFFERS,
                 "max-bytes", (guint64)0, "max-time", (guint64)0, "block", FALSE, NULL);
    gst_app_src_set_leaky_type(GST_APP_SRC(src), GST_APP_LEAKY_TYPE_DOWNSTREAM);
    pthread_mutex_lock(&app.lock);
    if (app.feeder) {
        /* a stale entry with this key would belong to a freed media */
        fc_feeder_remove(app.feeder, media);
        ret = fc_feeder_add(app.feeder, media, GST_APP_SRC(src), mt->media, mt->name);
    }
    pthread_mutex_unlock(&app.lock);
    if (ret == 0) {
        g_signal_connect(media, "unprepared", G_CALLBACK(on_media_unprepared), NULL);
        g_signal_connect(src, "need-data", G_CALLBACK(on_need_data), media);
        g_signal_connect(media, "prepared", G_CALLBACK(on_media_prepared), mt);
        g_signal_connect(media, "target-state", G_CALLBACK(on_media_target_state), mt);
    } else {
        fprintf(stderr, "fakecam: %s: cannot feed the media: %s\n", mt->name, strerror(-ret));
    }
out:
    if (pipeline)
        gst_object_unref(pipeline);
    if (src)
        gst_object_unref(src);
    if (bin)
        gst_object_unref(bin);
}

static int add_mounts(GstRTSPServer *server, const struct options *o,
                      const struct kind *kinds, size_t n_kinds)
{
    GstRTSPMountPoints *mounts = gst_rtsp_server_get_mount_points(server);
    const char *launch = o->codec == FC_H264
        ? "( appsrc name=src is-live=true do-timestamp=true format=time ! h264parse ! "
          "rtph264pay name=pay0 pt=96 config-interval=-1 )"
        : "( appsrc name=src is-live=true do-timestamp=true format=time ! h265parse ! "
          "rtph265pay name=pay0 pt=96 config-interval=-1 )";

    app.mounts = calloc((size_t)o->cameras * n_kinds, sizeof(*app.mounts));
    if (!app.mounts) {
        g_object_unref(mounts);
        return -ENOMEM;
    }
    for (long cam = 1; cam <= o->cameras; cam++) {
        for (size_t k = 0; k < n_kinds; k++) {
            struct mount *mt = &app.mounts[(size_t)(cam - 1) * n_kinds + k];
            GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new();
            char path[64];

            mt->media = fc_media_ref(app.media[k]); /* kept for the process' life */
            snprintf(mt->name, sizeof(mt->name), "cam%ld/%s", cam, kinds[k].name);
            snprintf(path, sizeof(path), "/%s", mt->name);
            gst_rtsp_media_factory_set_launch(factory, launch);
            gst_rtsp_media_factory_set_shared(factory, TRUE);
            g_signal_connect(factory, "media-configure", G_CALLBACK(on_media_configure), mt);
            gst_rtsp_mount_points_add_factory(mounts, path, factory); /* consumes factory */
        }
    }
    g_object_unref(mounts);
    return 0;
}

static gboolean on_signal(gpointer user_data)
{
    (void)user_data;
    g_main_loop_quit(app.loop);
    return G_SOURCE_CONTINUE;
}

static GstRTSPFilterResult remove_client(GstRTSPServer *server, GstRTSPClient *client,
                                         gpointer user_data)
{
    (void)server;
    (void)client;
    (void)user_data;
    return GST_RTSP_FILTER_REMOVE;
}

static int serve(const struct options *o, const struct kind *kinds, size_t n_kinds)
{
    GstRTSPServer *server = gst_rtsp_server_new();
    guint sigint = 0, sigterm = 0, source = 0;
    char port[24];
    int bracket = strchr(o->bind, ':') != NULL;
    int ret;

    snprintf(port, sizeof(port), "%ld", o->port);
    gst_rtsp_server_set_address(server, o->bind);
    gst_rtsp_server_set_service(server, port);
    ret = add_mounts(server, o, kinds, n_kinds);
    if (ret < 0)
        goto out;
    ret = fc_feeder_start(app.feeder);
    if (ret < 0) {
        fprintf(stderr, "fakecam: cannot start the feeder thread: %s\n", strerror(-ret));
        goto out;
    }
    source = gst_rtsp_server_attach(server, NULL);
    if (!source) {
        fprintf(stderr, "fakecam: cannot listen on %s port %ld\n", o->bind, o->port);
        ret = -EADDRINUSE;
        goto out;
    }
    app.loop = g_main_loop_new(NULL, FALSE);
    sigint = g_unix_signal_add(SIGINT, on_signal, NULL);
    sigterm = g_unix_signal_add(SIGTERM, on_signal, NULL);
    printf("fakecam: ready rtsp://%s%s%s:%d/ cameras=%ld codec=%s\n", bracket ? "[" : "",
           o->bind, bracket ? "]" : "", gst_rtsp_server_get_bound_port(server), o->cameras,
           o->codec == FC_H264 ? "h264" : "h265");
    fflush(stdout);
    g_main_loop_run(app.loop);
    fprintf(stderr, "fakecam: stopping\n");
    ret = 0;

out:
    if (sigint)
        g_source_remove(sigint);
    if (sigterm)
        g_source_remove(sigterm);
    if (source)
        g_source_remove(source);
    /* stop feeding first, then close the clients, then forget the streams */
    pthread_mutex_lock(&app.lock);
    fc_feeder_destroy(&app.feeder);
    pthread_mutex_unlock(&app.lock);
    gst_rtsp_server_client_filter(server, remove_client, NULL);
    g_object_unref(server);
    if (app.loop)
        g_main_loop_unref(app.loop);
    app.loop = NULL;
    return ret;
}

int main(int argc, char **argv)
{
    char dirbuf[PATH_MAX];
    struct options o;
    const struct kind *kinds;
    size_t n_kinds;
    GError *err = NULL;
    int ret, status = 1;

    if (parse_args(argc, argv, &o, dirbuf, sizeof(dirbuf)) < 0)
        return 2;
    kinds = o.codec == FC_H264 ? kinds_h264 : kinds_h265;
    n_kinds = o.codec == FC_H264 ? G_N_ELEMENTS(kinds_h264) : G_N_ELEMENTS(kinds_h265);
    if (load_media(&o, kinds, n_kinds) < 0) {
        status = 2;
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    if (!gst_init_check(NULL, NULL, &err)) {
        fprintf(stderr, "fakecam: cannot initialise GStreamer: %s\n",
                err ? err->message : "unknown error");
        g_clear_error(&err);
        goto out;
    }
    app.caps = gst_caps_from_string(o.codec == FC_H264
        ? "video/x-h264,stream-format=byte-stream,alignment=au,framerate=25/1"
        : "video/x-h265,stream-format=byte-stream,alignment=au,framerate=25/1");
    ret = fc_feeder_create(&app.feeder);
    if (ret < 0)
        goto out;
    if (serve(&o, kinds, n_kinds) == 0)
        status = 0;

out:
    pthread_mutex_lock(&app.lock);
    fc_feeder_destroy(&app.feeder);
    pthread_mutex_unlock(&app.lock);
    /* app.caps and app.mounts stay: the server's threads may still run
     * media-configure until the process exits. The media data is freed with
     * its last reference (mounts and buffers in flight hold some). */
    for (size_t i = 0; i < app.n_media; i++)
        fc_media_unref(&app.media[i]);
    return status;
}
