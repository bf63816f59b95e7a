/* What a decoded frame costs when an analysis thread decodes in runs with pauses between them,
 * as sargasd's analysis threads do (worker.c, motion_batch_ms), against decoding without pause.
 *
 *   bench_decode_runs [--cameras N] [--rounds R] [FILE]
 *
 * N decoders (default 8, the cameras of one analysis thread with 16 cameras on two) decode the
 * generated FILE (default sub.h264 of SG_MEDIA_DIR: 640x360, 25 fps) through sg_decoder, and
 * every 5th picture goes through the motion core, like a camera analysed at 5 fps. Each
 * configuration decodes 20 s of stream per camera: a run takes batch_ms of frames of every
 * camera, camera by camera, then the thread sleeps batch_ms less the time it worked (so the
 * frames arrive in real time as they would from cameras), for batch_ms = 200, 500 and 1000,
 * and "none" decodes without pause. The configurations alternate, R rounds (default 3), so
 * that a noisy machine spreads over all of them. CPU time of this thread only. Prints per
 * configuration the decode and motion-core time per frame, and last
 *   RESULT decode_runs cameras=N us_per_frame_200ms=X us_per_frame_500ms=X
 *     us_per_frame_1000ms=X us_per_frame_nopause=X ratio_200ms_to_1000ms=X
 *
 * Not a test: it is built with the tests but never run by ctest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/motion.h"
#include "base/clock.h"
#include "media_fixture.h"
#include "playback/playback.h"

#define MAX_CAMS 64
#define STREAM_S 20
#define BASE_US 1795228200000000LL

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct result {
    double dec_s, motion_s;
    long frames, analysed;
};

/* Decodes STREAM_S seconds of m on each of n cameras in runs of batch_ms (0: no pause). */
static int measure(const struct media *m, int n, int batch_ms, struct result *res)
{
    struct sg_decoder *dec[MAX_CAMS] = { 0 };
    struct sg_motion *mo[MAX_CAMS] = { 0 };
    int pos[MAX_CAMS];
    int per_run = batch_ms ? batch_ms / 40 : 25, total = STREAM_S * 25, rc = 0;

    for (int i = 0; i < n; i++) {
        if (sg_decoder_open(&m->p, &dec[i]) < 0 || !(mo[i] = sg_motion_create(NULL))) {
            rc = -1;
            goto out;
        }
        pos[i] = 0;
    }
    for (int done = 0; done < total; done += per_run) {
        int64_t woke = sg_mono_ns();
        for (int i = 0; i < n; i++)
            for (int k = done; k < done + per_run && k < total; k++) {
                const struct au *a = &m->aus[pos[i]];
                struct sg_picture pic;
                struct sg_motion_result r;
                double t0 = thread_cpu_s(), t1;
                int got = sg_decoder_decode(dec[i], a->data, a->size, &pic);

                t1 = thread_cpu_s();
                res->dec_s += t1 - t0;
                res->frames++;
                pos[i] = (pos[i] + 1) % m->n;
                if (got > 0 && k % 5 == 0) {
                    sg_motion_set_black(mo[i], pic.full_range ? 0 : 16);
                    sg_motion_frame(mo[i], pic.luma, pic.width, pic.height, pic.stride,
                                    BASE_US + (int64_t)k * 40000, &r);
                    res->motion_s += thread_cpu_s() - t1;
                    res->analysed++;
                }
            }
        if (batch_ms)
            sg_sleep_until(woke + (int64_t)batch_ms * SG_NS_PER_MS);
    }
out:
    for (int i = 0; i < n; i++) {
        sg_decoder_close(&dec[i]);
        sg_motion_destroy(&mo[i]);
    }
    return rc;
}

int main(int argc, char **argv)
{
    static const int configs[] = { 200, 500, 1000, 0 };
    enum { NC = sizeof(configs) / sizeof(configs[0]) };
    struct result res[NC];
    const char *file = "sub.h264";
    int cams = 8, rounds = 3;
    struct media m;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cameras") && i + 1 < argc)
            cams = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (argv[i][0] != '-')
            file = argv[i];
        else {
            fprintf(stderr, "usage: bench_decode_runs [--cameras N] [--rounds R] [FILE]\n");
            return 2;
        }
    }
    if (cams < 1 || cams > MAX_CAMS || rounds < 1) {
        fprintf(stderr, "bench_decode_runs: --cameras 1..%d, --rounds >= 1\n", MAX_CAMS);
        return 2;
    }
    if (media_load(file, 1u << 30, &m) < 0 || m.n < 50) {
        fprintf(stderr, "bench_decode_runs: cannot load %s (SG_MEDIA_DIR; scripts/gen-media.sh)\n", file);
        return 1;
    }
    memset(res, 0, sizeof(res));
    for (int r = 0; r < rounds; r++)
        for (int c = 0; c < NC; c++)
            if (measure(&m, cams, configs[c], &res[c]) < 0) {
                fprintf(stderr, "bench_decode_runs: cannot open a decoder for %s\n", file);
                return 1;
            }
    for (int c = 0; c < NC; c++) {
        char name[16];
        snprintf(name, sizeof(name), configs[c] ? "%d ms" : "no pause", configs[c]);
        printf("runs of %-8s: decode %.1f us per frame (%ld frames), motion core %.1f us per analysed frame\n",
               name, res[c].dec_s / (double)res[c].frames * 1e6, res[c].frames,
               res[c].analysed ? res[c].motion_s / (double)res[c].analysed * 1e6 : 0.0);
    }
    printf("RESULT decode_runs cameras=%d us_per_frame_200ms=%.1f us_per_frame_500ms=%.1f "
           "us_per_frame_1000ms=%.1f us_per_frame_nopause=%.1f ratio_200ms_to_1000ms=%.3f\n",
           cams, res[0].dec_s / (double)res[0].frames * 1e6, res[1].dec_s / (double)res[1].frames * 1e6,
           res[2].dec_s / (double)res[2].frames * 1e6, res[3].dec_s / (double)res[3].frames * 1e6,
           (res[0].dec_s / (double)res[0].frames) / (res[2].dec_s / (double)res[2].frames));
    media_free(&m);
    return 0;
}
