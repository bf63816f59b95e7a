/* Catalog: migrations, cameras, segments, loss intervals and evidence locks with retention's
 * deletion queries. */
#include <stdlib.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "catalog/catalog.h"
#include "check.h"

#define H (3600LL * 1000000)

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
    CHECK_EQ_INT(sg_catalog_schema_version(cat), 2);

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
    CHECK_EQ_INT(sg_catalog_camera_remove(cat, c.id), 0);
    CHECK_EQ_INT(sg_catalog_camera_get(cat, c.id, &c), SG_E_NOTFOUND);
    CHECK_EQ_INT(sg_catalog_camera_remove(cat, c.id), SG_E_NOTFOUND);
    sg_catalog_close(&cat);
    /* reopening does not migrate again */
    CHECK_EQ_INT(sg_catalog_open(path, 1, &cat), 0);
    CHECK_EQ_INT(sg_catalog_schema_version(cat), 2);
    sg_catalog_close(&cat);
    unlink(path);
    return check_done("test_catalog");
}
