/* Catalog: migrations, cameras, segments, loss intervals and evidence locks with retention's
 * deletion queries. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "catalog/catalog.h"
#include "check.h"

#define H (3600LL * 1000000)
#define S 1000000LL

static int64_t act_minutes;
static uint8_t act_level7;
static uint32_t act_zone7;

static void on_minute(void *opaque, int64_t minute_us, const uint8_t levels[60], const uint32_t zones[60])
{
    (void)opaque;
    (void)minute_us;
    act_minutes++;
    act_level7 = levels[7];
    act_zone7 = zones[7];
}

/* Motion events, the activity index and zones (catalog_events.c). */
static void test_motion_tables(struct sg_catalog *cat, int64_t cam_a, int64_t cam_b)
{
    struct sg_motion_event e = { .camera_id = cam_a, .start_us = 1000 * H, .peak_us = 1000 * H,
                                 .peak_score = 0.2 }, f = e, *list = NULL, got;
    int64_t both[2] = { cam_a, cam_b }, only_b[1] = { cam_b };
    struct sg_event_filter flt = { .cameras = both, .n_cameras = 2, .limit = 10 };
    uint8_t lv[60] = { 0 };
    uint32_t zs[60] = { 0 };
    char json[256];
    void *jpeg;
    size_t len;

    snprintf(e.zones, sizeof(e.zones), "[\"door\",\"it's; --\"]");
    CHECK_EQ_INT(sg_catalog_event_add(cat, &e), 0);
    f.camera_id = cam_b;
    f.start_us = f.peak_us = 1001 * H;
    f.peak_score = 0.05;
    CHECK_EQ_INT(sg_catalog_event_add(cat, &f), 0);
    CHECK_EQ_INT(sg_catalog_event_thumb(cat, e.id, &jpeg, &len), SG_E_NOTFOUND);
    e.end_us = e.start_us + 5000000;
    e.peak_score = 0.4;
    CHECK_EQ_INT(sg_catalog_event_update(cat, &e, "\xff\xd8jpeg", 6), 0);
    CHECK_EQ_INT(sg_catalog_event_get(cat, e.id, &got), 0);
    CHECK(got.has_thumb && got.end_us == e.end_us && got.peak_score > 0.39);
    CHECK_EQ_INT(sg_catalog_event_thumb(cat, e.id, &jpeg, &len), 0);
    CHECK(len == 6 && !memcmp(jpeg, "\xff\xd8jpeg", 6));
    free(jpeg);
    CHECK_EQ_INT(sg_catalog_event_list(cat, &flt, &list), 2);
    CHECK(list[0].id == f.id); /* newest first */
    free(list);
    flt.zone = "it's; --";
    CHECK_EQ_INT(sg_catalog_event_list(cat, &flt, &list), 1);
    free(list);
    flt.zone = "do"; /* whole names only */
    CHECK_EQ_INT(sg_catalog_event_list(cat, &flt, &list), 0);
    free(list);
    flt.zone = NULL;
    flt.min_score = 0.1;
    CHECK_EQ_INT(sg_catalog_event_list(cat, &flt, &list), 1);
    free(list);
    flt.min_score = 0;
    flt.cameras = only_b;
    flt.n_cameras = 1;
    CHECK_EQ_INT(sg_catalog_event_list(cat, &flt, &list), 1);
    CHECK(list[0].camera_id == cam_b);
    free(list);
    flt.n_cameras = 0; /* no visible camera: nothing */
    CHECK_EQ_INT(sg_catalog_event_list(cat, &flt, &list), 0);
    free(list);
    flt.cameras = both;
    flt.n_cameras = 2;
    flt.from_us = 1000 * H + 6000000; /* after e ended, while f is open */
    CHECK_EQ_INT(sg_catalog_event_list(cat, &flt, &list), 1);
    free(list);
    CHECK_EQ_INT(sg_catalog_event_close_all(cat), 1);
    CHECK_EQ_INT(sg_catalog_event_get(cat, f.id, &got), 0);
    CHECK(got.end_us == f.peak_us);

    lv[7] = 40;
    zs[7] = 1;
    CHECK_EQ_INT(sg_catalog_activity_put(cat, cam_a, 60 * 1000000LL * 1000, lv, zs), 0);
    lv[7] = 20; /* merged: the higher level stays, zone bits add up */
    zs[7] = 4;
    CHECK_EQ_INT(sg_catalog_activity_put(cat, cam_a, 60 * 1000000LL * 1000, lv, zs), 0);
    CHECK_EQ_INT(sg_catalog_activity_get(cat, cam_a, 60 * 1000000LL * 1000, 60 * 1000000LL * 1001, on_minute,
                                         NULL), 1);
    CHECK(act_minutes == 1 && act_level7 == 40 && act_zone7 == 5);
    CHECK_EQ_INT(sg_catalog_activity_get(cat, cam_b, 0, INT64_MAX, on_minute, NULL), 0);

    CHECK_EQ_INT(sg_catalog_zones_get(cat, cam_a, json, sizeof(json)), 0);
    CHECK_STR(json, "[]");
    CHECK_EQ_INT(sg_catalog_zones_set(cat, cam_a, "[{\"name\":\"door\"}]"), 0);
    CHECK_EQ_INT(sg_catalog_zones_get(cat, cam_a, json, sizeof(json)), 0);
    CHECK_STR(json, "[{\"name\":\"door\"}]");
}

/* Cases: an item of an open case holds a lock (which the CLI cannot remove); a release and a
 * close remove locks in the same transaction; a closed case takes no items. Export jobs: queue,
 * state, requeue after a stop, ranges, deletion. */
static void test_case_tables(struct sg_catalog *cat, int64_t cam, int64_t now)
{
    struct sg_case k = { 0 }, got, *ks = NULL;
    struct sg_case_item it = { 0 }, it2, *its = NULL;
    struct sg_lock *locks = NULL;
    struct sg_export_job j = { 0 }, jg;
    struct sg_export_range rg[2] = { { cam, now - 60 * S, now - 30 * S }, { cam, now - 20 * S, now - 10 * S } };
    struct sg_export_range *rgs = NULL;
    int64_t next = 0;
    int base, n;

    k.site_id = 1;
    k.owner_id = 1;
    snprintf(k.reference, sizeof(k.reference), "2026/17");
    snprintf(k.title, sizeof(k.title), "Fight at the bus station");
    snprintf(k.reason, sizeof(k.reason), "patrol report");
    CHECK_EQ_INT(sg_catalog_case_add(cat, &k), 0);
    CHECK(k.id > 0);
    got = k;
    CHECK_EQ_INT(sg_catalog_case_add(cat, &got), SG_E_EXISTS); /* references are unique per site */
    base = sg_catalog_lock_list(cat, &locks);
    free(locks);

    it.case_id = k.id;
    it.camera_id = cam;
    it.start_us = now - 50 * S;
    it.end_us = now - 40 * S;
    it.added_by = 1;
    CHECK_EQ_INT(sg_catalog_case_item_add(cat, &it, "olga"), 0);
    CHECK(it.id > 0);
    n = sg_catalog_lock_list(cat, &locks);
    CHECK_EQ_INT(n, base + 1);
    if (n == base + 1) {
        CHECK_EQ_INT(locks[n - 1].item_id, it.id);
        CHECK_EQ_INT(sg_catalog_lock_remove(cat, locks[n - 1].id), SG_E_NOTFOUND);
    }
    free(locks);
    CHECK_EQ_INT(sg_catalog_is_locked(cat, cam, now - 45 * S, now - 44 * S), 1);
    it2 = it;
    it2.start_us = now - 30 * S;
    it2.end_us = now - 20 * S;
    CHECK_EQ_INT(sg_catalog_case_item_add(cat, &it2, "olga"), 0);
    it2.end_us = it2.start_us;
    CHECK(sg_catalog_case_item_add(cat, &it2, "olga") < 0); /* an empty range */
    CHECK_EQ_INT(sg_catalog_case_get(cat, k.id, &got), 0);
    CHECK_EQ_INT(got.n_items, 2);
    CHECK_EQ_INT(got.n_locked, 2);

    CHECK_EQ_INT(sg_catalog_case_item_release(cat, it.id, 2, "wrong camera"), 0);
    CHECK_EQ_INT(sg_catalog_case_item_release(cat, it.id, 2, "again"), SG_E_UNSUPPORTED);
    CHECK_EQ_INT(sg_catalog_is_locked(cat, cam, now - 45 * S, now - 44 * S), 0);
    CHECK_EQ_INT(sg_catalog_case_items(cat, k.id, &its), 2);
    if (its) {
        CHECK(its[0].released_us > 0 && its[0].released_by == 2);
        CHECK_STR(its[0].release_reason, "wrong camera");
        CHECK_EQ_INT(its[1].released_us, 0);
    }
    free(its);

    CHECK_EQ_INT(sg_catalog_case_close(cat, k.id, 2, "handed over"), 1);
    CHECK_EQ_INT(sg_catalog_case_close(cat, k.id, 2, "again"), SG_E_UNSUPPORTED);
    CHECK_EQ_INT(sg_catalog_case_close(cat, 9999, 2, "none"), SG_E_NOTFOUND);
    CHECK_EQ_INT(sg_catalog_case_item_add(cat, &it, "olga"), SG_E_UNSUPPORTED);
    CHECK_EQ_INT(sg_catalog_lock_list(cat, &locks), base);
    free(locks);
    CHECK_EQ_INT(sg_catalog_case_get(cat, k.id, &got), 0);
    CHECK(got.state == SG_CASE_CLOSED && got.n_locked == 0 && got.closed_us > 0);
    CHECK_STR(got.close_reason, "handed over");
    CHECK_EQ_INT(sg_catalog_case_list(cat, 1, -1, &ks), 1);
    free(ks);
    CHECK_EQ_INT(sg_catalog_case_list(cat, 1, SG_CASE_OPEN, &ks), 0);
    free(ks);
    CHECK_EQ_INT(sg_catalog_case_list(cat, 2, -1, &ks), 0);
    free(ks);

    j.site_id = 1;
    j.case_id = k.id;
    j.user_id = 2;
    snprintf(j.user_name, sizeof(j.user_name), "ivy");
    snprintf(j.reason, sizeof(j.reason), "State Police request");
    snprintf(j.format, sizeof(j.format), "mp4");
    CHECK_EQ_INT(sg_catalog_export_add(cat, &j, rg, 2), 0);
    CHECK_EQ_INT(sg_catalog_export_next(cat, &next), 0);
    CHECK_EQ_INT(next, j.id);
    CHECK_EQ_INT(sg_catalog_export_set_state(cat, j.id, SG_EXPORT_RUNNING, 0.5, NULL), 0);
    CHECK_EQ_INT(sg_catalog_export_next(cat, &next), 0);
    CHECK_EQ_INT(next, 0);
    CHECK_EQ_INT(sg_catalog_export_requeue(cat), 1); /* a stop in the middle: queued again */
    CHECK_EQ_INT(sg_catalog_export_next(cat, &next), 0);
    CHECK_EQ_INT(next, j.id);
    CHECK_EQ_INT(sg_catalog_export_finish(cat, j.id, "export-1.zip", 1234, "ab"), 0);
    CHECK_EQ_INT(sg_catalog_export_get(cat, j.id, &jg), 0);
    CHECK(jg.state == SG_EXPORT_DONE && jg.bytes == 1234 && jg.finished_us > 0 && jg.progress == 1.0);
    CHECK_STR(jg.file, "export-1.zip");
    CHECK_STR(jg.reason, "State Police request");
    CHECK_EQ_INT(sg_catalog_export_ranges(cat, j.id, &rgs), 2);
    if (rgs)
        CHECK(rgs[1].start_us == rg[1].start_us && rgs[1].end_us == rg[1].end_us && rgs[0].camera_id == cam);
    free(rgs);
    {
        struct sg_export_job *ex = NULL;
        CHECK_EQ_INT(sg_catalog_export_expired(cat, jg.finished_us, &ex), 0); /* not before itself */
        free(ex);
        CHECK_EQ_INT(sg_catalog_export_expired(cat, jg.finished_us + 1, &ex), 1);
        if (ex)
            CHECK_EQ_INT(ex[0].id, j.id);
        free(ex);
    }
    CHECK_EQ_INT(sg_catalog_export_delete(cat, j.id), 0);
    CHECK_EQ_INT(sg_catalog_export_get(cat, j.id, &jg), SG_E_NOTFOUND);
    CHECK_EQ_INT(sg_catalog_export_ranges(cat, j.id, &rgs), 0);
    free(rgs);
}

int main(void)
{
    char dir[] = "/tmp/sg-cat-XXXXXX";
    char path[256];
    struct sg_catalog *cat, *other;
    struct sg_camera c = { 0 }, c2 = { 0 }, *list = NULL;
    struct sg_segment g = { 0 }, *gs = NULL;
    struct sg_lock l = { 0 };
    struct sg_loss loss = { 0 };
    int64_t now = sg_utc_us(), v;
    int n;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/c.db", dir);
    CHECK_EQ_INT(sg_catalog_open(path, 0, &cat), 0);
    CHECK_EQ_INT(sg_catalog_schema_version(cat), 4);

    snprintf(c.name, sizeof(c.name), "Bus station");
    snprintf(c.main_url, sizeof(c.main_url), "rtsp://10.0.0.1/main");
    c.retain_hours = 72;
    c.enabled = 1;
    CHECK_EQ_INT(sg_catalog_camera_add(cat, &c), 0);
    CHECK(c.id > 0);
    c2 = c;
    CHECK_EQ_INT(sg_catalog_camera_add(cat, &c2), SG_E_EXISTS); /* names are unique */
    snprintf(c2.name, sizeof(c2.name), "Market '); DROP TABLE cameras;--");
    c2.retain_hours = 1;
    CHECK_EQ_INT(sg_catalog_camera_add(cat, &c2), 0);
    CHECK_EQ_INT(sg_catalog_camera_find(cat, 0, "Market '); DROP TABLE cameras;--", &c2), 0);
    n = sg_catalog_camera_list(cat, &list);
    CHECK_EQ_INT(n, 2);
    free(list);

    /* another connection sees the change counter move */
    CHECK_EQ_INT(sg_catalog_open(path, 0, &other), 0);
    CHECK_EQ_INT(sg_catalog_changed(other), 0);
    c.retain_hours = 48;
    CHECK_EQ_INT(sg_catalog_camera_update(cat, &c), 0);
    CHECK_EQ_INT(sg_catalog_changed(other), 1);
    sg_catalog_close(&other);

    /* segments for camera 2 (retain 1 h): one old, one new */
    g.camera_id = c2.id;
    snprintf(g.root, sizeof(g.root), "/r");
    snprintf(g.codec, sizeof(g.codec), "h264");
    g.status = SG_SEG_COMPLETE;
    g.start_us = now - 3 * H;
    g.end_us = now - 3 * H + 300000000;
    g.bytes = 1000;
    snprintf(g.path, sizeof(g.path), "a.mp4");
    CHECK_EQ_INT(sg_catalog_segment_insert(cat, &g), 0);
    g.start_us = now - 60000000;
    g.end_us = now;
    snprintf(g.path, sizeof(g.path), "b.mp4");
    CHECK_EQ_INT(sg_catalog_segment_insert(cat, &g), 0);
    n = sg_catalog_deletable(cat, NULL, 1, now, 10, &gs);
    CHECK_EQ_INT(n, 1);
    if (n == 1)
        CHECK_STR(gs[0].path, "a.mp4");
    free(gs);
    /* an evidence lock over the old one protects it from every kind of deletion */
    l.camera_id = c2.id;
    l.start_us = now - 3 * H + 1000000;
    l.end_us = now - 3 * H + 2000000;
    snprintf(l.reason, sizeof(l.reason), "incident 2026/17");
    CHECK_EQ_INT(sg_catalog_lock_add(cat, &l), 0);
    CHECK_EQ_INT(sg_catalog_deletable(cat, NULL, 1, now, 10, &gs), 0);
    free(gs);
    n = sg_catalog_deletable(cat, "/r", 0, 0, 10, &gs);
    CHECK_EQ_INT(n, 1);
    if (n == 1)
        CHECK_STR(gs[0].path, "b.mp4");
    free(gs);
    CHECK_EQ_INT(sg_catalog_is_locked(cat, c2.id, now - 3 * H, now - 2 * H), 1);
    CHECK_EQ_INT(sg_catalog_is_locked(cat, c.id, now - 3 * H, now - 2 * H), 0);
    strcpy(l.reason, "");
    CHECK(sg_catalog_lock_add(cat, &l) < 0); /* a lock needs a reason */
    CHECK_EQ_INT(sg_catalog_root_bytes(cat, "/r", &v), 0);
    CHECK_EQ_INT(v, 2000);

    /* loss intervals: open, close, close-all after a crash */
    loss.camera_id = c.id;
    loss.start_us = now - 10000000;
    snprintf(loss.reason, sizeof(loss.reason), "camera offline");
    CHECK_EQ_INT(sg_catalog_loss_open(cat, &loss), 0);
    CHECK_EQ_INT(sg_catalog_loss_close_all(cat, now), 1);
    {
        struct sg_loss *ls = NULL;
        CHECK_EQ_INT(sg_catalog_loss_list(cat, c.id, 0, 0, &ls), 1);
        CHECK_EQ_INT(ls[0].end_us, now);
        free(ls);
    }
    test_motion_tables(cat, c.id, c2.id);
    test_case_tables(cat, c2.id, now);
    CHECK_EQ_INT(sg_catalog_camera_remove(cat, c.id), 0);
    CHECK_EQ_INT(sg_catalog_camera_get(cat, c.id, &c), SG_E_NOTFOUND);
    CHECK_EQ_INT(sg_catalog_camera_remove(cat, c.id), SG_E_NOTFOUND);
    sg_catalog_close(&cat);
    /* reopening does not migrate again */
    CHECK_EQ_INT(sg_catalog_open(path, 1, &cat), 0);
    CHECK_EQ_INT(sg_catalog_schema_version(cat), 4);
    sg_catalog_close(&cat);
    unlink(path);
    return check_done("test_catalog");
}
