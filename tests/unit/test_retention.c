/* Retention against real files and a real catalog: per-camera age, quota, evidence locks,
 * and start-up reconciliation finishing an interrupted deletion. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "catalog/catalog.h"
#include "record/record.h"
#include "retention/retention.h"
#include "check.h"

#define H (3600LL * 1000000)

static char roots[1][SG_ROOT_MAX];

static int64_t add_seg(struct sg_catalog *cat, int64_t cam, int64_t start, int64_t dur, int64_t bytes,
                       const char *name)
{
    struct sg_segment g = { 0 };
    char full[8192];
    int fd;

    g.camera_id = cam;
    g.start_us = start;
    g.end_us = start + dur;
    g.bytes = bytes;
    g.status = SG_SEG_COMPLETE;
    snprintf(g.root, sizeof(g.root), "%s", roots[0]);
    snprintf(g.path, sizeof(g.path), "%lld/main/%s.mp4", (long long)cam, name);
    snprintf(g.codec, sizeof(g.codec), "h264");
    sg_path_join(roots[0], g.path, full, sizeof(full));
    sg_mkdir_parent(full);
    fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    if (ftruncate(fd, bytes) < 0)
        CHECK(0);
    close(fd);
    CHECK_EQ_INT(sg_catalog_segment_insert(cat, &g), 0);
    return g.id;
}

static int file_exists(struct sg_catalog *cat, int64_t cam, const char *name)
{
    char rel[256], full[8192];
    struct stat st;
    struct sg_segment g;

    snprintf(rel, sizeof(rel), "%lld/main/%s.mp4", (long long)cam, name);
    sg_path_join(roots[0], rel, full, sizeof(full));
    int on_disk = stat(full, &st) == 0;
    int in_cat = sg_catalog_segment_by_path(cat, roots[0], rel, &g) == 0;
    CHECK_EQ_INT(on_disk, in_cat); /* catalog and disk always agree */
    return on_disk;
}

static void count_minute(void *opaque, int64_t minute_us, const uint8_t levels[60], const uint32_t zones[60])
{
    (void)opaque;
    (void)minute_us;
    (void)levels;
    (void)zones;
}

int main(void)
{
    char dir[] = "/tmp/sg-ret-XXXXXX", dbpath[4200];
    struct sg_catalog *cat;
    struct sg_camera short_cam = { 0 }, long_cam = { 0 };
    struct sg_lock lock = { 0 };
    struct sg_retention_opts o = { 0 };
    int64_t now = sg_utc_us();

    CHECK(mkdtemp(dir) != NULL);
    snprintf(roots[0], sizeof(roots[0]), "%s/media", dir);
    snprintf(dbpath, sizeof(dbpath), "%s/c.db", dir);
    CHECK_EQ_INT(sg_catalog_open(dbpath, 0, &cat), 0);
    snprintf(short_cam.name, sizeof(short_cam.name), "short");
    snprintf(short_cam.main_url, sizeof(short_cam.main_url), "rtsp://h/a");
    short_cam.retain_hours = 24;
    short_cam.enabled = 1;
    long_cam = short_cam;
    snprintf(long_cam.name, sizeof(long_cam.name), "long");
    long_cam.retain_hours = 24 * 30;
    CHECK_EQ_INT(sg_catalog_camera_add(cat, &short_cam), 0);
    CHECK_EQ_INT(sg_catalog_camera_add(cat, &long_cam), 0);

    /* the short camera keeps 24 h: its 30 h old segment goes, the 20 h old one stays */
    add_seg(cat, short_cam.id, now - 30 * H, 300000000, 1000, "old");
    add_seg(cat, short_cam.id, now - 29 * H, 300000000, 1000, "old_locked");
    add_seg(cat, short_cam.id, now - 20 * H, 300000000, 1000, "recent");
    add_seg(cat, long_cam.id, now - 30 * H, 300000000, 1000, "old");
    lock.camera_id = short_cam.id;
    lock.start_us = now - 29 * H + 1000000;
    lock.end_us = now - 29 * H + 2000000;
    snprintf(lock.reason, sizeof(lock.reason), "case 4");
    CHECK_EQ_INT(sg_catalog_lock_add(cat, &lock), 0);

    /* motion events and activity follow their camera's retention; a lock keeps its own */
    {
        struct sg_motion_event ev = { .camera_id = short_cam.id, .start_us = now - 30 * H, .end_us = now - 30 * H + 5000000,
                                      .peak_us = now - 30 * H, .peak_score = 0.1 };
        uint8_t lv[60] = { 9 };
        uint32_t zs[60] = { 0 };
        CHECK_EQ_INT(sg_catalog_event_add(cat, &ev), 0);                    /* goes */
        ev.start_us = now - 29 * H + 1500000;                               /* under the lock */
        ev.end_us = ev.start_us + 1000000;
        CHECK_EQ_INT(sg_catalog_event_add(cat, &ev), 0);
        ev.start_us = now - 20 * H;                                         /* recent */
        ev.end_us = ev.start_us + 1000000;
        CHECK_EQ_INT(sg_catalog_event_add(cat, &ev), 0);
        ev.camera_id = long_cam.id;                                         /* 30-day camera */
        ev.start_us = now - 30 * H;
        ev.end_us = ev.start_us + 1000000;
        CHECK_EQ_INT(sg_catalog_event_add(cat, &ev), 0);
        CHECK_EQ_INT(sg_catalog_activity_put(cat, short_cam.id, (now - 30 * H) / 60000000 * 60000000, lv, zs), 0);
        CHECK_EQ_INT(sg_catalog_activity_put(cat, short_cam.id, (now - 20 * H) / 60000000 * 60000000, lv, zs), 0);
        CHECK_EQ_INT(sg_catalog_motion_expire(cat, now - 40 * H), 0);       /* nothing old enough yet */
    }

    o.catalog_path = dbpath;
    o.roots = roots;
    o.n_roots = 1;
    o.interval_s = 60;
    CHECK_EQ_INT(sg_retention_run_once(&o, 1), 1);
    CHECK(!file_exists(cat, short_cam.id, "old"));
    CHECK(file_exists(cat, short_cam.id, "old_locked")); /* evidence survives its age */
    CHECK(file_exists(cat, short_cam.id, "recent"));
    CHECK(file_exists(cat, long_cam.id, "old"));         /* per-camera retention */
    {
        int64_t both[2] = { short_cam.id, long_cam.id };
        struct sg_event_filter f = { .cameras = both, .n_cameras = 2, .limit = 10 };
        struct sg_motion_event *evs = NULL;
        CHECK_EQ_INT(sg_catalog_event_list(cat, &f, &evs), 3); /* the old unlocked one went */
        for (int i = 0; i < 3; i++)
            CHECK(evs[i].camera_id == long_cam.id || evs[i].start_us >= now - 29 * H);
        free(evs);
        CHECK_EQ_INT(sg_catalog_activity_get(cat, short_cam.id, 0, INT64_MAX, count_minute, NULL), 1);
    }

    /* quota: 3000 bytes on the root and 2500 allowed -> the oldest unlocked one goes */
    o.quota = 2500;
    CHECK_EQ_INT(sg_retention_run_once(&o, 0), 1);
    CHECK(!file_exists(cat, long_cam.id, "old"));
    CHECK(file_exists(cat, short_cam.id, "old_locked"));
    CHECK(file_exists(cat, short_cam.id, "recent"));
    /* quota below what the locks hold: nothing more than the unlocked may go */
    o.quota = 10;
    CHECK_EQ_INT(sg_retention_run_once(&o, 0), 1);
    CHECK(file_exists(cat, short_cam.id, "old_locked"));
    CHECK(!file_exists(cat, short_cam.id, "recent"));

    /* a deletion interrupted after the 'deleting' mark: reconciliation finishes it */
    {
        int64_t id = add_seg(cat, long_cam.id, now - H, 300000000, 500, "interrupted");
        struct sg_segment g;
        char full[8192];
        CHECK_EQ_INT(sg_catalog_segment_update(cat, id, now - H + 300000000, 500, SG_SEG_DELETING), 0);
        CHECK_EQ_INT(sg_reconcile(cat, roots, 1), 0);
        sg_path_join(roots[0], "2/main/interrupted.mp4", full, sizeof(full));
        CHECK(access(full, F_OK) != 0);
        CHECK_EQ_INT(sg_catalog_segment_by_path(cat, roots[0], "2/main/interrupted.mp4", &g), SG_E_NOTFOUND);
    }
    sg_catalog_close(&cat);
    return check_done("test_retention");
}
