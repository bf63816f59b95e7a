/* sargas-replaycam: a cheap fleet of replayed RTSP cameras for benchmarks.
 *
 *   sargas-replaycam --cameras N --port P [--media DIR] [--bind ADDR]
 *                    [--streams main|sub|both] [--sub-rate R] [--clips DIR]
 *
 * Serves rtsp://ADDR:P/camK/main and /camK/sub, K = 1..N, from main.h264 and
 * sub.h264 as scripts/gen-media.sh writes them, looping forever, with the
 * same SEI and frame counters as sargas-fakecam (tools/fakecam): frame c =
 * floor(utc_us / 40000) is access unit c mod 750 and carries c and its send
 * time. Unlike sargas-fakecam (GStreamer, ~0.6 % of a core per 1080p stream)
 * it loads each file once, packetises it into RTP once (stream.h) and sends
 * every client its frame as one writev from one epoll thread (server.h), so
 * hundreds of cameras cost little beside the recorder under test.
 *
 * --sub-rate R: sub.h264 holds R frames/s (a divisor of 1000000 up to 25,
 * e.g. a 10 fps sub stream re-encoded from gen-media.sh's: 300 frames, an IDR
 * every 20) and is sent at that rate, its frame f when UTC time enters
 * f / R seconds; the main stream stays at 25.
 *
 * --clips DIR: camera K serves its own file, DIR/camK.h264, at both
 * /camK/main and /camK/sub (bench/motion.sh's labelled clips). A clip is
 * H.264 Annex B at 25 fps of any length that is a multiple of 50 frames, an
 * IDR exactly every 50 (FC_GOP); frame c is its access unit c mod length, so
 * a clip plays from its start whenever UTC time is a multiple of its length
 * and clips of one length loop in step.
 *
 * Prints "replaycam: ready rtsp://ADDR:P/ cameras=N" on stdout once listening
 * (P is the real port when --port 0). SIGINT/SIGTERM stop it (exit 0), after
 * it prints what it sent, the frames it dropped for full sockets and its own
 * CPU use. Bad arguments or media exit 2, other failures 1. Log lines go to
 * stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "media.h"

#include "server.h"
#include "stream.h"

#define MAX_CAMERAS 4000

struct options {
    long cameras;
    long port;
    const char *media_dir;
    const char *bind;
    const char *clips; /* NULL: main.h264 and sub.h264 from media_dir */
    long sub_rate;
    int main, sub;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sargas-replaycam --cameras N --port P [--media DIR] [--bind ADDR]\n"
            "                        [--streams main|sub|both] [--sub-rate R] [--clips DIR]\n"
            "  --cameras N   number of cameras, 1..%d\n"
            "  --port P      RTSP port (0: any free port, printed in the ready line)\n"
            "  --media DIR   main.h264 and sub.h264 from scripts/gen-media.sh (default:\n"
            "                $SG_MEDIA_DIR, else the directory 'media' next to this executable)\n"
            "  --bind ADDR   listen address (default 127.0.0.1)\n"
            "  --streams S   which paths to serve: main, sub or both (default)\n"
            "  --sub-rate R  frames/s of sub.h264 (default 25; a divisor of 1000000, e.g. 10)\n"
            "  --clips DIR   camera K serves DIR/camK.h264 at both of its paths (25 fps,\n"
            "                a multiple of %d frames, an IDR every %d); --media is not used\n"
            "serves rtsp://ADDR:P/camK/main and /camK/sub over TCP (interleaved) only\n",
            MAX_CAMERAS, FC_GOP, FC_GOP);
}

static int parse_args(int argc, char **argv, struct options *o, char *dirbuf, size_t dirsize)
{
    static const struct option longopts[] = {
        { "cameras", required_argument, NULL, 'n' },
        { "port", required_argument, NULL, 'p' },
        { "media", required_argument, NULL, 'm' },
        { "bind", required_argument, NULL, 'b' },
        { "streams", required_argument, NULL, 's' },
        { "clips", required_argument, NULL, 'c' },
        { "sub-rate", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;

    memset(o, 0, sizeof(*o));
    o->cameras = -1;
    o->port = -1;
    o->bind = "127.0.0.1";
    o->main = o->sub = 1;
    o->sub_rate = 25;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            if (fc_parse_long(optarg, 1, MAX_CAMERAS, &o->cameras) < 0) {
                fprintf(stderr, "replaycam: --cameras must be 1..%d, not '%s'\n", MAX_CAMERAS,
                        optarg);
                return -EINVAL;
            }
            break;
        case 'p':
            if (fc_parse_long(optarg, 0, 65535, &o->port) < 0) {
                fprintf(stderr, "replaycam: --port must be 0..65535, not '%s'\n", optarg);
                return -EINVAL;
            }
            break;
        case 'm':
            o->media_dir = optarg;
            break;
        case 'b':
            if (!*optarg) {
                fprintf(stderr, "replaycam: --bind needs an address\n");
                return -EINVAL;
            }
            o->bind = optarg;
            break;
        case 's':
            o->main = strcmp(optarg, "main") == 0 || strcmp(optarg, "both") == 0;
            o->sub = strcmp(optarg, "sub") == 0 || strcmp(optarg, "both") == 0;
            if (!o->main && !o->sub) {
                fprintf(stderr, "replaycam: --streams must be main, sub or both, not '%s'\n",
                        optarg);
                return -EINVAL;
            }
            break;
        case 'r':
            if (fc_parse_long(optarg, 1, 25, &o->sub_rate) < 0 || 1000000 % o->sub_rate != 0) {
                fprintf(stderr, "replaycam: --sub-rate must divide 1000000 and be 1..25, not '%s'\n",
                        optarg);
                return -EINVAL;
            }
            break;
        case 'c':
            if (!*optarg) {
                fprintf(stderr, "replaycam: --clips needs a directory\n");
                return -EINVAL;
            }
            o->clips = optarg;
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
        fprintf(stderr, "replaycam: unexpected argument '%s'\n", argv[optind]);
        return -EINVAL;
    }
    if (o->cameras < 0 || o->port < 0) {
        fprintf(stderr, "replaycam: --cameras and --port are required\n");
        usage(stderr);
        return -EINVAL;
    }
    if (o->clips)
        return 0;
    return fc_media_dir_resolve("replaycam", &o->media_dir, dirbuf, dirsize);
}

static int load(const char *dir, const char *name, int rate, struct rc_stream **out)
{
    char path[PATH_MAX];
    int ret;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s.h264", dir, name) >= sizeof(path))
        return -ENAMETOOLONG;
    ret = rc_stream_load(path, name, rate, 0, out);
    if (ret == -ENOENT)
        fprintf(stderr, "replaycam: generate the media with: scripts/gen-media.sh %s\n", dir);
    return ret;
}

/* One clip per camera, DIR/camK.h264, into clips[0..n). */
static int load_clips(const char *dir, long n, struct rc_stream **clips)
{
    char path[PATH_MAX];
    int ret;

    for (long k = 0; k < n; k++) {
        if ((size_t)snprintf(path, sizeof(path), "%s/cam%ld.h264", dir, k + 1) >= sizeof(path))
            return -ENAMETOOLONG;
        if ((ret = rc_stream_load(path, "clip", 25, 1, &clips[k])) < 0)
            return ret;
    }
    return 0;
}

static void free_clips(struct rc_stream **clips, long n)
{
    for (long k = 0; clips && k < n; k++)
        rc_stream_destroy(&clips[k]);
    free(clips);
}

static double seconds(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const struct rc_server *srv, double start)
{
    struct rc_stats st;
    struct rusage ru;
    double wall = mono_s() - start, user, sys;

    rc_server_stats(srv, &st);
    getrusage(RUSAGE_SELF, &ru);
    user = seconds(&ru.ru_utime);
    sys = seconds(&ru.ru_stime);
    printf("replaycam: stopped after %.1f s: %llu connections, %llu plays, %llu frames "
           "(%.1f MB) sent, %llu frames dropped (socket full), %llu late ticks\n",
           wall, (unsigned long long)st.clients, (unsigned long long)st.plays,
           (unsigned long long)st.frames, (double)st.bytes / 1e6,
           (unsigned long long)st.drops, (unsigned long long)st.late);
    printf("replaycam: cpu %.2f s user + %.2f s system = %.2f %% of one core over %.1f s; "
           "max RSS %.1f MB\n", user, sys, wall > 0 ? (user + sys) * 100.0 / wall : 0.0, wall,
           (double)ru.ru_maxrss / 1024.0);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    struct options o;
    char dirbuf[PATH_MAX];
    struct rc_stream *main_s = NULL, *sub_s = NULL, **clips = NULL;
    struct rc_server *srv = NULL;
    struct rc_server_config cfg;
    sigset_t sigs;
    double start = mono_s();
    int ret, rc = 1;

    if (parse_args(argc, argv, &o, dirbuf, sizeof(dirbuf)) < 0)
        return 2;
    /* signals arrive through the server's signalfd (even when started with
     * them ignored, as a shell does for background jobs); a closed peer is an
     * error from writev, not a SIGPIPE */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (o.clips) {
        if (!(clips = calloc((size_t)o.cameras, sizeof(*clips)))) {
            fprintf(stderr, "replaycam: out of memory\n");
            goto out;
        }
        if (load_clips(o.clips, o.cameras, clips) < 0) {
            rc = 2;
            goto out;
        }
    } else if ((o.main && load(o.media_dir, "main", 25, &main_s) < 0) ||
               (o.sub && load(o.media_dir, "sub", (int)o.sub_rate, &sub_s) < 0)) {
        rc = 2;
        goto out;
    }
    cfg = (struct rc_server_config){
        .bind = o.bind, .port = (int)o.port, .cameras = o.cameras, .main = main_s, .sub = sub_s,
        .clips = clips,
    };
    if ((ret = rc_server_create(&cfg, &srv)) < 0) {
        rc = ret == -EINVAL ? 2 : 1; /* -EINVAL: a bad --bind */
        goto out;
    }
    printf("replaycam: ready rtsp://%s%s%s:%d/ cameras=%ld\n", strchr(o.bind, ':') ? "[" : "",
           o.bind, strchr(o.bind, ':') ? "]" : "", rc_server_port(srv), o.cameras);
    fflush(stdout);
    ret = rc_server_run(srv);
    report(srv, start);
    if (ret < 0) {
        fprintf(stderr, "replaycam: %s\n", strerror(-ret));
        goto out;
    }
    rc = 0;
out:
    rc_server_destroy(&srv);
    rc_stream_destroy(&main_s);
    rc_stream_destroy(&sub_s);
    free_clips(clips, o.cameras);
    return rc;
}
