/* Motion analysis cost, and the labelled clip set on disk for comparisons with other programs.
 *
 *   bench_motion_core                 ns per analysed frame (CPU time) at 320x180, 640x360,
 *                                     1280x720 and 1920x1080, and what that is per camera
 *   bench_motion_core --dump DIR [N]  writes clips 0..N-1 of the standard set (default: all)
 *                                     as DIR/NNN-name.y4m (8-bit grey, "Cmono") with
 *                                     DIR/NNN-name.txt: size, rate, labels, mask, directives
 *
 * Not a test: it is built with the tests but never run by ctest. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "analysis/motion.h"
#include "motion_gen.h"

#define BASE_US 1700000000000000LL

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int time_size(int w, int h, int n)
{
    enum { NF = 32 };
    struct mg_clip c;
    struct sg_motion *m = sg_motion_create(NULL);
    struct sg_motion_result res;
    uint8_t *frames = malloc((size_t)w * (size_t)h * NF);
    double t0, ns;
    int rc = -ENOMEM;

    mg_clip_init(&c, "cost", w, h, 60.0, 31337);
    c.bg = MG_BG_STREET;
    c.noise = 3.0f;
    mg_add_object(&c, 0.02f, 1.5f, 50.0f, 15.0f, 0.0, 60.0, 0.0f, 0.5f, 1.0f, 0.5f);
    if (!m || !frames || mg_clip_prepare(&c, w, h) < 0)
        goto out;
    for (int k = 0; k < NF; k++)
        mg_render(&c, 20.0 + k * 0.2, frames + (size_t)k * (size_t)w * (size_t)h);
    for (int k = 0; k < 20; k++) /* past the warm-up */
        sg_motion_frame(m, frames + (size_t)(k % NF) * (size_t)w * (size_t)h, w, h, w,
                        BASE_US + (int64_t)k * 200000, &res);
    t0 = cpu_s();
    for (int k = 20; k < 20 + n; k++)
        sg_motion_frame(m, frames + (size_t)(k % NF) * (size_t)w * (size_t)h, w, h, w,
                        BASE_US + (int64_t)k * 200000, &res);
    ns = (cpu_s() - t0) / n * 1e9;
    printf("%4dx%-4d %9.0f ns/frame  %.3f %% of a core at 5 fps  %.3f %% at 1 frame/s  "
           "%.3f %% at 1 frame / 2 s\n", w, h, ns, ns * 5.0 / 1e7, ns / 1e7, ns * 0.5 / 1e7);
    rc = 0;
out:
    mg_clip_free(&c);
    free(frames);
    sg_motion_destroy(&m);
    return rc;
}

static int write_y4m_header(FILE *f, const struct mg_clip *c, int w, int h)
{
    int num = (int)(c->fps * 1000.0 + 0.5);
    return fprintf(f, "YUV4MPEG2 W%d H%d F%d:1000 Ip A1:1 Cmono\n", w, h, num) < 0 ? -EIO : 0;
}

static int dump_clip(const char *dir, int index)
{
    struct mg_clip c;
    struct mg_label lab[MG_MAX_LABELS];
    char path[4096];
    FILE *y = NULL, *t = NULL;
    uint8_t *buf = NULL;
    int rc = -EIO, part = 1, nl;

    mg_clip_from_set(&c, index);
    snprintf(path, sizeof(path), "%s/%03d-%s.txt", dir, index, c.name);
    for (char *p = strrchr(path, '/') + 1; *p; p++)
        *p = *p == '#' ? '_' : *p;
    if (!(t = fopen(path, "w")))
        goto out;
    nl = mg_labels(&c, lab, MG_MAX_LABELS);
    fprintf(t, "name %s\nsize %dx%d\nfps %.3f\nduration_s %.1f\nquiet %d\nnoise %.2f\n", c.name, c.w,
            c.h, c.fps, c.dur_s, c.quiet, (double)c.noise);
    for (int i = 0; i < nl; i++)
        fprintf(t, "label %s %.3f %.3f\n", lab[i].must ? "must" : "may", (double)lab[i].start_us / 1e6,
                (double)lab[i].end_us / 1e6);
    if (c.flag) /* the mask the tests give: the flag's rectangle, 0.03 larger on each side */
        fprintf(t, "mask %.4f %.4f %.4f %.4f\n", (double)c.flag_x0 - 0.03, (double)c.flag_y0 - 0.03,
                (double)c.flag_x1 + 0.03, (double)c.flag_y1 + 0.03);
    if (c.reset_t > 0.0)
        fprintf(t, "reset_s %.3f\n", c.reset_t);
    if (c.resize_t > 0.0)
        fprintf(t, "resize_s %.3f %dx%d (frames from then on in the .part2.y4m)\n", c.resize_t,
                c.resize_w, c.resize_h);
    if (c.gap_s > 0.0)
        fprintf(t, "gap_s %.3f %.3f (frames from the first time on are shifted by the second)\n",
                c.gap_t, c.gap_s);

    if (mg_clip_prepare(&c, c.w, c.h) < 0 || !(buf = malloc((size_t)c.w * (size_t)c.h)))
        goto out;
    snprintf(path, sizeof(path), "%s/%03d-%s.y4m", dir, index, c.name);
    for (char *p = strrchr(path, '/') + 1; *p; p++)
        *p = *p == '#' ? '_' : *p;
    if (!(y = fopen(path, "wb")) || write_y4m_header(y, &c, c.rw, c.rh) < 0)
        goto out;
    for (int k = 0; k < c.dur_s * c.fps - 1e-9; k++) {
        double tt = k / c.fps;
        if (c.resize_t > 0.0 && part == 1 && tt >= c.resize_t) {
            part = 2;
            fclose(y);
            free(buf);
            buf = NULL;
            snprintf(path + strlen(path) - 4, 16, ".part2.y4m");
            if (mg_clip_prepare(&c, c.resize_w, c.resize_h) < 0 ||
                !(buf = malloc((size_t)c.rw * (size_t)c.rh)) || !(y = fopen(path, "wb")) ||
                write_y4m_header(y, &c, c.rw, c.rh) < 0)
                goto out;
        }
        mg_render(&c, tt, buf);
        if (fputs("FRAME\n", y) < 0 || fwrite(buf, (size_t)c.rw * (size_t)c.rh, 1, y) != 1)
            goto out;
    }
    rc = 0;
out:
    if (y && fclose(y) != 0)
        rc = -EIO;
    if (t && fclose(t) != 0)
        rc = -EIO;
    free(buf);
    mg_clip_free(&c);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "--dump")) {
        int n = argc >= 4 ? atoi(argv[3]) : mg_set_size();
        if (mkdir(argv[2], 0755) < 0 && errno != EEXIST) {
            perror(argv[2]);
            return 1;
        }
        for (int i = 0; i < n; i++) {
            if (dump_clip(argv[2], i) < 0) {
                fprintf(stderr, "clip %d: write failed\n", i);
                return 1;
            }
        }
        printf("%d clips in %s\n", n, argv[2]);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "usage: %s [--dump DIR [N]]\n", argv[0]);
        return 2;
    }
    if (time_size(320, 180, 1000) < 0 || time_size(640, 360, 1000) < 0 ||
        time_size(1280, 720, 300) < 0 || time_size(1920, 1080, 200) < 0)
        return 1;
    return 0;
}
