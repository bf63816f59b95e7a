#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "base/queue.h"
#include "check.h"

static void test_time(void)
{
    char buf[SG_UTC_STRLEN];
    int64_t t;

    CHECK_EQ_INT(sg_utc_parse("1970-01-01T00:00:00Z", &t), 0);
    CHECK_EQ_INT(t, 0);
    CHECK_EQ_INT(sg_utc_parse("2026-11-21T02:30:00.123456Z", &t), 0);
    CHECK_EQ_INT(t, 1795228200123456LL);
    sg_utc_format(t, 6, buf, sizeof(buf));
    CHECK_STR(buf, "2026-11-21T02:30:00.123456Z");
    sg_utc_format(t, 3, buf, sizeof(buf));
    CHECK_STR(buf, "2026-11-21T02:30:00.123Z");
    sg_utc_format_compact(t, buf, sizeof(buf));
    CHECK_STR(buf, "20261121T023000.123Z");
    /* Offsets: local Vilnius time in summer (+03:00) is the same instant. */
    CHECK_EQ_INT(sg_utc_parse("2026-07-01T03:00:00+03:00", &t), 0);
    {
        int64_t u;
        sg_utc_parse("2026-07-01T00:00:00Z", &u);
        CHECK_EQ_INT(t, u);
    }
    CHECK_EQ_INT(sg_utc_parse("2024-02-29T00:00:00Z", &t), 0);
    CHECK(sg_utc_parse("2026-02-29T00:00:00Z", &t) < 0);   /* not a leap year */
    CHECK(sg_utc_parse("2026-13-01T00:00:00Z", &t) < 0);
    CHECK(sg_utc_parse("2026-11-21 02:30:00Z", &t) < 0);
    CHECK(sg_utc_parse("2026-11-21T02:30:00", &t) < 0);     /* no zone: refused, never local */
    CHECK(sg_utc_parse("2026-11-21T02:30:00Zjunk", &t) < 0);
    CHECK(sg_utc_parse("", &t) < 0);
    CHECK(sg_utc_parse("2026-11-21T02:30:00.Z", &t) < 0);
    /* Before the epoch: formatting still works. */
    CHECK_EQ_INT(sg_utc_format(-1, 3, buf, sizeof(buf)), 0);
    CHECK_STR(buf, "1969-12-31T23:59:59.999Z");
}

static void test_buf(void)
{
    struct sg_buf b = { .max = 10 };

    CHECK_EQ_INT(sg_buf_put_u32(&b, 0x01020304), 0);
    CHECK_EQ_INT(b.len, 4);
    CHECK_EQ_INT(sg_rd32(b.data), 0x01020304);
    CHECK_EQ_INT(sg_buf_put_u32(&b, 5), 0);
    CHECK_EQ_INT(sg_buf_put_u32(&b, 6), SG_E_TOOBIG); /* 12 > max 10 */
    CHECK_EQ_INT(b.len, 8);
    sg_buf_consume(&b, 4);
    CHECK_EQ_INT(b.len, 4);
    CHECK_EQ_INT(sg_rd32(b.data), 5);
    sg_buf_free(&b);
    CHECK(b.data == NULL);
}

/* Shared blocks: a copy of the bytes, counted references, freed with the last (ASan/LSan in
 * the sanitizer pass would see a double free or a leak), NULL accepted everywhere. */
static void test_blob(void)
{
    struct sg_blob *b = sg_blob_copy("frame", 5), *c, *none = NULL, *empty = sg_blob_copy(NULL, 0);

    CHECK(b != NULL && empty != NULL);
    if (!b || !empty)
        return;
    CHECK_EQ_INT(b->size, 5);
    CHECK(!memcmp(b->data, "frame", 5));
    CHECK_EQ_INT(atomic_load(&b->refs), 1);
    c = sg_blob_ref(b);
    CHECK(c == b);
    CHECK_EQ_INT(atomic_load(&b->refs), 2);
    sg_blob_unref(&c);
    CHECK(c == NULL);
    CHECK_EQ_INT(atomic_load(&b->refs), 1);
    CHECK(!memcmp(b->data, "frame", 5));
    sg_blob_unref(&b);
    CHECK(b == NULL);
    CHECK(sg_blob_ref(NULL) == NULL);
    sg_blob_unref(&none);
    CHECK_EQ_INT(empty->size, 0);
    sg_blob_unref(&empty);
}

static void test_queue(void)
{
    struct sg_queue *q = sg_queue_create(2, 100);
    void *item;
    int a, b, c;

    CHECK_EQ_INT(sg_queue_push(q, &a, 10, 0), 0);
    CHECK_EQ_INT(sg_queue_push(q, &b, 10, 0), 0);
    CHECK_EQ_INT(sg_queue_push(q, &c, 10, 0), -EAGAIN); /* item limit */
    CHECK_EQ_INT(sg_queue_push(q, &c, 10, 1), 0);       /* forced control message */
    CHECK_EQ_INT(sg_queue_pop(q, &item, 0), 0);
    CHECK(item == &a);
    CHECK_EQ_INT(sg_queue_pop(q, &item, 0), 0);
    CHECK(item == &b);
    CHECK_EQ_INT(sg_queue_pop(q, &item, 0), 0);
    CHECK(item == &c);
    CHECK_EQ_INT(sg_queue_pop(q, &item, sg_mono_ns() + 20 * SG_NS_PER_MS), -ETIMEDOUT);
    CHECK_EQ_INT(sg_queue_push(q, &a, 101, 0), -EAGAIN); /* byte limit */
    sg_queue_close(q);
    CHECK_EQ_INT(sg_queue_pop(q, &item, 0), -EPIPE);
    CHECK_EQ_INT(sg_queue_push(q, &a, 1, 1), -EPIPE);
    sg_queue_destroy(&q);
    CHECK(q == NULL);
}

static void test_paths(void)
{
    char out[256];

    CHECK_EQ_INT(sg_path_join("/r", "1/main/2026-11-21/02/x.mp4", out, sizeof(out)), 0);
    CHECK_STR(out, "/r/1/main/2026-11-21/02/x.mp4");
    CHECK(sg_path_join("/r", "../etc/passwd", out, sizeof(out)) < 0);
    CHECK(sg_path_join("/r", "a/../../b", out, sizeof(out)) < 0);
    CHECK(sg_path_join("/r", "/etc/passwd", out, sizeof(out)) < 0);
    CHECK(sg_path_join("/r", "a//b", out, sizeof(out)) < 0);
    CHECK(sg_path_join("/r", "a/./b", out, sizeof(out)) < 0);
    CHECK(sg_path_join("/r", "a%2f..", out, sizeof(out)) < 0);
    CHECK(sg_path_join("/r", "a\\b", out, sizeof(out)) < 0);
    CHECK(sg_path_join("/r", "", out, sizeof(out)) < 0);
    CHECK(sg_path_join("/r", "ok", out, 4) == -ENAMETOOLONG);
}

/* sg_path_resolve_under on a real tree: a file inside, "..", a symlink out, a sibling whose
 * name starts with the root's, the root itself, a missing file. */
static void test_resolve_under(void)
{
    char tmpl[] = "/tmp/sg-resolve-XXXXXX", root[PATH_MAX], p[PATH_MAX + 64], out[PATH_MAX];
    char *dir = mkdtemp(tmpl);
    FILE *f;

    CHECK(dir != NULL);
    if (!dir)
        return;
    snprintf(p, sizeof(p), "%s/root", dir);
    CHECK_EQ_INT(mkdir(p, 0700), 0);
    CHECK(realpath(p, root) != NULL);
    snprintf(p, sizeof(p), "%s/root-sibling", dir);
    CHECK_EQ_INT(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/root/in.txt", dir);
    f = fopen(p, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    snprintf(p, sizeof(p), "%s/root-sibling/out.txt", dir);
    f = fopen(p, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    snprintf(p, sizeof(p), "%s/root/link", dir);
    CHECK_EQ_INT(symlink("../root-sibling/out.txt", p), 0);

    snprintf(p, sizeof(p), "%s/root/in.txt", dir);
    CHECK_EQ_INT(sg_path_resolve_under(root, p, out), 0);
    snprintf(p, sizeof(p), "%s/in.txt", root);
    CHECK_STR(out, p);
    snprintf(p, sizeof(p), "%s/root/../root-sibling/out.txt", dir);
    CHECK_EQ_INT(sg_path_resolve_under(root, p, out), -EACCES);
    snprintf(p, sizeof(p), "%s/root/link", dir);
    CHECK_EQ_INT(sg_path_resolve_under(root, p, out), -EACCES);
    CHECK_EQ_INT(sg_path_resolve_under(root, root, out), -EACCES); /* the root is not under itself */
    snprintf(p, sizeof(p), "%s/root/missing", dir);
    CHECK_EQ_INT(sg_path_resolve_under(root, p, out), -ENOENT);

    snprintf(p, sizeof(p), "%s/root/link", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/root/in.txt", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/root-sibling/out.txt", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/root", dir);
    rmdir(p);
    snprintf(p, sizeof(p), "%s/root-sibling", dir);
    rmdir(p);
    rmdir(dir);
}

int main(void)
{
    test_time();
    test_buf();
    test_blob();
    test_queue();
    test_paths();
    test_resolve_under();
    CHECK_STR(sg_strerror(SG_E_URL), "URL refused");
    CHECK_STR(sg_strerror(-ENOENT), "No such file or directory");
    return check_done("test_base");
}
