/* The ONVIF Export File writer and verifier against real recordings: segment files are built
 * with the recorder's own writer (record/fmp4.c) from the generated test media (as in
 * test_playback), exported, and the result is checked three ways:
 *   - independently of our code: tests/tools/onvif_check.py parses the boxes itself, verifies
 *     the signature with the `openssl` program and decodes every frame with ffmpeg/ffprobe;
 *   - with our verifier (sg_onvif_verify), whose report must describe what was exported;
 *   - by reading the samples back and comparing them with the recorded access units.
 * Then tampered copies must fail both verifiers. Without the media the test is skipped (77). */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "playback/playback.h"
#include "record/fmp4.h"
#include "check.h"
#include "media_fixture.h"

#ifndef SG_TEST_SOURCE_DIR
#define SG_TEST_SOURCE_DIR "."
#endif
#define T0 1795228200000000LL           /* 2026-11-21T02:30:00Z */
#define EXPORT_T 1795300000000000LL     /* when the export "started" */

extern char **environ;

static char tmpdir[] = "/tmp/sg-onvif-XXXXXX";

/* ---- recordings (media_fixture.c) ---- */

/* A segment file of n GOPs; fragment i starts at utc starts[i] (dts contiguous). */
static void write_segment(const char *path, const struct media *m, const int64_t *starts, int n)
{
    struct sg_buf b = { 0 };

    CHECK_EQ_INT(media_segment(m, starts, n, &b), 0);
    CHECK_EQ_INT(media_write_file(path, b.data, b.len), 0);
    sg_buf_free(&b);
}

static void tmp_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

/* A segment file of n GOPs (tmpdir/name in path, 256 bytes) and the export source covering
 * it whole (GOPs of 2 s). */
static void segment_src(const char *name, const struct media *m, const int64_t *starts, int n, char *path,
                        struct sg_export_src *src)
{
    tmp_path(path, 256, name);
    write_segment(path, m, starts, n);
    *src = (struct sg_export_src){ path, starts[0], starts[n - 1] + 2000000 };
}

/* ---- files and programs ---- */

/* Runs argv (no shell); returns its exit status, or -1. */
static int run(const char *const *argv)
{
    pid_t pid;
    int st;

    if (posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ) != 0)
        return -1;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

static const char *checker(void)
{
    static char path[4096];

    snprintf(path, sizeof(path), "%s/tests/tools/onvif_check.py", SG_TEST_SOURCE_DIR);
    return path;
}

static struct sg_buf read_file(const char *path)
{
    struct sg_buf b = { 0 };
    uint8_t chunk[65536];
    ssize_t got;
    int fd = open(path, O_RDONLY);

    CHECK(fd >= 0);
    while (fd >= 0 && (got = read(fd, chunk, sizeof(chunk))) > 0)
        sg_buf_append(&b, chunk, (size_t)got);
    if (fd >= 0)
        close(fd);
    return b;
}

static void write_buf(const char *path, const uint8_t *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    CHECK(fd >= 0);
    CHECK(write(fd, data, len) == (ssize_t)len);
    close(fd);
}

/* Offset of the first top-level box of `type` at or after `from` in b (0 when none). */
static size_t find_top(const struct sg_buf *b, const char *type, size_t from)
{
    size_t pos = 0;

    while (pos + 8 <= b->len) {
        uint32_t sz = sg_rd32(b->data + pos);
        if (sz < 8)
            return 0;
        if (pos >= from && !memcmp(b->data + pos + 4, type, 4))
            return pos;
        pos += sz;
    }
    return 0;
}

/* Offset of the first box of `type` at any depth at or after `from` in b, by its type alone
 * (0 when none): for the boxes inside meta, which holds no media bytes. */
static size_t find_in(const struct sg_buf *b, size_t from, const char *type)
{
    for (size_t i = from + 4; i + 4 <= b->len; i++)
        if (!memcmp(b->data + i, type, 4))
            return i - 4;
    return 0;
}

/* ---- tests ---- */

static const struct sg_onvif_desc desc = {
    .unit_name = "Sargas Biržai",
    .unit_url = "https://vms.birzai.example/",
    .unit_mac = "08:00:27:00:0C:15",
    .operator_name = "investigator.jonas",
    .source_name = "Vytauto g. / Rotušės a.",
    .source_url = "rtsp://admin:s3cret@10.1.2.3:554/stream1",
    .source_mac = "AC-CC-8E-01-02-03",
    .source_line = "",
    .user_info = "Case 2026/117: theft at the market",
    .export_time_us = EXPORT_T,
};

/* Reads the export back with our fragment reader: every sample must be the recorded AU, in
 * order, from AU `first` of each GOP of m (the fragment boundaries of the sources). */
static void check_samples(const char *path, const struct media *m, const int *gop_first,
                          const int *gop_n, int gops, const struct sg_frag_index *src_idx)
{
    struct sg_frag_index idx = { 0 };
    struct stat st;
    int fd = open(path, O_RDONLY);

    CHECK(fd >= 0);
    fstat(fd, &st);
    CHECK_EQ_INT(sg_frag_index_update(fd, st.st_size, &idx), 0);
    CHECK_EQ_INT(idx.n, gops);
    /* the decoder configuration record is the recording's, byte for byte */
    CHECK_EQ_INT(idx.config_len, src_idx->config_len);
    CHECK(idx.config && !memcmp(idx.config, src_idx->config, idx.config_len));
    for (int g = 0; g < idx.n && g < gops; g++) {
        struct sg_frag_data d;
        CHECK_EQ_INT(sg_frag_read(fd, &idx.frags[g], 64 << 20, &d), 0);
        CHECK_EQ_INT(d.n, gop_n[g]);
        for (int k = 0; k < d.n && k < gop_n[g]; k++) {
            const struct au *a = &m->aus[gop_first[g] + k];
            CHECK(d.s[k].size == a->size && !memcmp(d.s[k].data, a->data, a->size));
            CHECK_EQ_INT(d.s[k].key, a->key);
        }
        sg_frag_data_free(&d);
    }
    sg_frag_index_free(&idx);
    close(fd);
}

static int index_of(const char *path, struct sg_frag_index *idx)
{
    struct stat st;
    int fd = open(path, O_RDONLY), r;

    memset(idx, 0, sizeof(*idx));
    fstat(fd, &st);
    r = sg_frag_index_update(fd, st.st_size, idx);
    close(fd);
    return r;
}

/* Flips one byte at off of a copy of good; both verifiers must refuse the copy. */
static void check_tampered(const struct sg_buf *good, size_t off, const char *what)
{
    struct sg_onvif_report rep;
    char path[256];
    struct sg_buf c = { 0 };
    const char *argv[] = { "python3", checker(), path, NULL };

    tmp_path(path, sizeof(path), "tampered.mp4");
    sg_buf_append(&c, good->data, good->len);
    c.data[off] ^= 0x01;
    write_buf(path, c.data, c.len);
    CHECK_EQ_INT(sg_onvif_verify(path, NULL, 0, &rep), SG_E_CORRUPT);
    CHECK(rep.problem[0] != 0);
    fprintf(stderr, "  tampered %s (byte %zu): %s\n", what, off, rep.problem);
    CHECK(run(argv) != 0);
    sg_buf_free(&c);
    unlink(path);
}

static void test_export(const struct media *m, const struct sg_onvif_signer *signer,
                        const struct sg_onvif_signer *other)
{
    /* A: 3 GOPs from T0; B: 2 GOPs 1 s after A ends (as test_playback's export test) */
    int64_t sa[3] = { T0, T0 + 2000000, T0 + 4000000 }, sb[2] = { T0 + 7000000, T0 + 9000000 };
    char pa[256], pb[256], out[256], start[32], frames[16], xt[32];
    struct sg_export_src src[2];
    struct sg_export_info info, mp4info;
    struct sg_onvif_report rep;
    struct sg_frag_index aidx;
    const uint8_t *der;
    size_t der_len, mdat2, meta, suep;
    struct sg_buf file;
    struct stat st;

    segment_src("a.mp4", m, sa, 3, pa, &src[0]);
    segment_src("b.mp4", m, sb, 2, pb, &src[1]);
    tmp_path(out, sizeof(out), "export-onvif.mp4");

    /* from inside A's second GOP (starts at its keyframe, T0 + 2 s) to 1.5 s into B: the same
     * frames as the plain MP4 export */
    CHECK_EQ_INT(sg_export_mp4(src, 2, T0 + 3100000, T0 + 8500000, out, &mp4info), 0);
    unlink(out);
    CHECK_EQ_INT(sg_onvif_export(src, 2, T0 + 3100000, T0 + 8500000, &desc, signer, out, &info), 0);
    CHECK_EQ_INT(info.first_utc_us, mp4info.first_utc_us);
    CHECK_EQ_INT(info.last_utc_us, mp4info.last_utc_us);
    CHECK_EQ_INT(info.frames, mp4info.frames);
    CHECK_EQ_INT(info.frames, 2 * GOP + 38);
    CHECK_EQ_INT(info.gaps, 1);
    CHECK_EQ_INT(stat(out, &st), 0);
    CHECK_EQ_INT(info.bytes, st.st_size);

    /* independently: structure, openssl, ffmpeg */
    snprintf(start, sizeof(start), "%lld", (long long)(T0 + 2000000));
    snprintf(frames, sizeof(frames), "%lld", (long long)info.frames);
    snprintf(xt, sizeof(xt), "%lld", (long long)(EXPORT_T / 1000000));
    {
        const char *argv[] = { "python3", checker(), out, "--frames", frames, "--fragments", "3",
                               "--codec", "h264", "--key-bits", "2048", "--operator",
                               desc.operator_name, "--source-name", desc.source_name,
                               "--start-utc-us", start, "--export-time-s", xt, NULL };
        CHECK_EQ_INT(run(argv), 0);
    }
    /* the samples are the recorded ones, the configuration the recording's */
    CHECK_EQ_INT(index_of(pa, &aidx), 0);
    {
        int first[3] = { media_first_au(m, 1), media_first_au(m, 2), media_first_au(m, 0) };
        int n[3] = { GOP, GOP, 38 };
        check_samples(out, m, first, n, 3, &aidx);
    }
    sg_frag_index_free(&aidx);

    /* our verifier */
    sg_onvif_signer_cert(signer, &der, &der_len);
    CHECK_EQ_INT(sg_onvif_verify(out, der, der_len, &rep), 0);
    CHECK_STR(rep.problem, "");
    CHECK_EQ_INT(rep.signatures, 1);
    CHECK_EQ_INT(rep.valid, 1);
    CHECK_EQ_INT(rep.trusted, 1);
    CHECK_STR(rep.subject, "CN=Sargas site 1 ONVIF export");
    CHECK_STR(rep.issuer, rep.subject);
    CHECK_EQ_INT(strlen(rep.cert_sha256), 64);
    CHECK(rep.cert_not_before_us > 0 && rep.cert_not_after_us > rep.cert_not_before_us);
    CHECK_STR(rep.unit_name, desc.unit_name);
    CHECK_STR(rep.unit_url, desc.unit_url);
    CHECK_STR(rep.unit_mac, desc.unit_mac);
    CHECK_STR(rep.operator_name, desc.operator_name);
    CHECK_STR(rep.source_name, desc.source_name);
    CHECK_STR(rep.source_url, "rtsp://10.1.2.3:554/stream1"); /* credentials never exported */
    CHECK_STR(rep.source_mac, desc.source_mac);
    CHECK_STR(rep.user_info, desc.user_info);
    CHECK_EQ_INT(rep.export_time_us, EXPORT_T);
    CHECK_EQ_INT(rep.start_utc_us, T0 + 2000000);
    CHECK_EQ_INT(rep.fragments, 3);
    CHECK_EQ_INT(rep.frames, info.frames);
    CHECK_EQ_INT(rep.first_utc_us, info.first_utc_us);
    CHECK_EQ_INT(rep.last_utc_us, info.last_utc_us);
    CHECK_EQ_INT(rep.sealed_bytes, st.st_size);
    CHECK_EQ_INT(rep.unsealed_bytes, 0);
    /* intact but not signed with the certificate we trust */
    sg_onvif_signer_cert(other, &der, &der_len);
    CHECK_EQ_INT(sg_onvif_verify(out, der, der_len, &rep), SG_E_AUTH);
    CHECK_EQ_INT(rep.valid, 1);
    CHECK_EQ_INT(rep.trusted, 0);

    /* tampering */
    file = read_file(out);
    CHECK(memmem(file.data, file.len, "s3cret", 6) == NULL);
    mdat2 = find_top(&file, "mdat", find_top(&file, "mdat", 0) + 8); /* the second fragment */
    meta = find_top(&file, "meta", 0);
    suep = find_in(&file, meta, "suep");
    CHECK(mdat2 > 0 && meta > mdat2 && suep > meta);
    check_tampered(&file, mdat2 + 8 + 1000, "a sample of the second fragment");
    check_tampered(&file, find_top(&file, "moof", 0) + 40, "the first moof");
    check_tampered(&file, 20, "the ftyp");
    check_tampered(&file, suep + 12 + 2, "the exporting unit's name");
    check_tampered(&file, find_in(&file, meta, "sibo") + 8 + 100, "the signature");
    check_tampered(&file, find_in(&file, meta, "cert") + 8 + 200, "the certificate");
    {
        char path[256];
        struct sg_buf c = { 0 };
        tmp_path(path, sizeof(path), "cut.mp4");
        /* cut short: clear error, no crash */
        write_buf(path, file.data, file.len - 10);
        CHECK_EQ_INT(sg_onvif_verify(path, NULL, 0, &rep), SG_E_CORRUPT);
        fprintf(stderr, "  cut short: %s\n", rep.problem);
        /* without the seal at all */
        write_buf(path, file.data, meta);
        CHECK_EQ_INT(sg_onvif_verify(path, NULL, 0, &rep), SG_E_CORRUPT);
        fprintf(stderr, "  no meta: %s\n", rep.problem);
        /* something appended after the seal */
        sg_buf_append(&c, file.data, file.len);
        sg_buf_append(&c, "\0\0\0\x10" "free" "appended", 16);
        write_buf(path, c.data, c.len);
        CHECK_EQ_INT(sg_onvif_verify(path, NULL, 0, &rep), SG_E_CORRUPT);
        fprintf(stderr, "  appended: %s\n", rep.problem);
        /* an mfra after the seal is allowed, and reported as unsealed */
        c.len = file.len;
        sg_buf_append(&c, "\0\0\0\x10" "mfra" "\0\0\0\x08" "mfro", 16);
        write_buf(path, c.data, c.len);
        CHECK_EQ_INT(sg_onvif_verify(path, NULL, 0, &rep), 0);
        CHECK_EQ_INT(rep.unsealed_bytes, 16);
        CHECK_EQ_INT(rep.sealed_bytes, (int64_t)file.len);
        /* not an MP4 at all */
        write_buf(path, (const uint8_t *)"hello, world\n", 13);
        CHECK_EQ_INT(sg_onvif_verify(path, NULL, 0, &rep), SG_E_CORRUPT);
        CHECK_EQ_INT(sg_onvif_verify("/nonexistent/x.mp4", NULL, 0, &rep), -ENOENT);
        unlink(path);
        sg_buf_free(&c);
    }
    sg_buf_free(&file);
    unlink(out);

    /* nothing in range: no file left behind */
    CHECK_EQ_INT(sg_onvif_export(src, 2, T0 + 6100000, T0 + 6900000, &desc, signer, out, &info),
                 SG_E_NOTFOUND);
    CHECK(stat(out, &st) < 0);
    /* a description that is not UTF-8 is refused before anything is written */
    {
        struct sg_onvif_desc bad = desc;
        bad.operator_name = "\xc3\x28";
        CHECK_EQ_INT(sg_onvif_export(src, 2, T0, T0 + 9000000, &bad, signer, out, &info), -EINVAL);
        CHECK(stat(out, &st) < 0);
    }
    /* an output that is a symlink is not followed */
    CHECK_EQ_INT(symlink("/tmp/sg-onvif-never", out), 0);
    CHECK_EQ_INT(sg_onvif_export(src, 2, T0, T0 + 9000000, &desc, signer, out, &info), -ELOOP);
    CHECK(lstat("/tmp/sg-onvif-never", &st) < 0);
    unlink(out);
    unlink(pa);
    unlink(pb);
}

/* A second signature added by someone else, as the specification's repeated signing does it
 * (here: the independent checker with the openssl program), verifies along with ours. */
static void test_countersign(const struct media *m, const struct sg_onvif_signer *signer)
{
    int64_t s[2] = { T0, T0 + 2000000 };
    char seg[256], out[256], signed2[256], key[256], cert[256];
    struct sg_export_src src;
    struct sg_export_info info;
    struct sg_onvif_report rep;
    struct sg_onvif_signer *court = NULL;
    struct sg_buf file;

    tmp_path(seg, sizeof(seg), "seg.mp4");
    tmp_path(out, sizeof(out), "export1.mp4");
    tmp_path(signed2, sizeof(signed2), "export2.mp4");
    tmp_path(key, sizeof(key), "court.key");
    tmp_path(cert, sizeof(cert), "court.crt");
    write_segment(seg, m, s, 2);
    src = (struct sg_export_src){ seg, s[0], s[1] + 2000000 };
    CHECK_EQ_INT(sg_onvif_export(&src, 1, T0, T0 + 4000000, &desc, signer, out, &info), 0);
    CHECK_EQ_INT(sg_onvif_signer_create(key, cert, "District court", 2048, 30, &court), 0);
    {
        const char *argv[] = { "python3", checker(), out, "--countersign", key, cert, signed2,
                               "--info", "received 2026-11-22", NULL };
        CHECK_EQ_INT(run(argv), 0);
    }
    {
        const char *argv[] = { "python3", checker(), signed2, "--frames", "100", NULL };
        CHECK_EQ_INT(run(argv), 0);
    }
    CHECK_EQ_INT(sg_onvif_verify(signed2, NULL, 0, &rep), 0);
    CHECK_STR(rep.problem, "");
    CHECK_EQ_INT(rep.signatures, 2);
    CHECK_EQ_INT(rep.valid, 2);
    CHECK_STR(rep.subject, "CN=Sargas site 1 ONVIF export"); /* the export's, not the court's */
    CHECK_STR(rep.user_info, desc.user_info);
    CHECK_EQ_INT(rep.frames, 100);
    /* a byte of the media changed after both signed: both fail */
    file = read_file(signed2);
    file.data[find_top(&file, "mdat", 0) + 500] ^= 0x80;
    write_buf(signed2, file.data, file.len);
    CHECK_EQ_INT(sg_onvif_verify(signed2, NULL, 0, &rep), SG_E_CORRUPT);
    CHECK_EQ_INT(rep.signatures, 2);
    CHECK_EQ_INT(rep.valid, 0);
    sg_buf_free(&file);
    sg_onvif_signer_destroy(&court);
    unlink(seg);
    unlink(out);
    unlink(signed2);
    unlink(key);
    unlink(cert);
}

static void test_h265(const struct media *m, const struct sg_onvif_signer *signer)
{
    int64_t s[1] = { T0 };
    char seg[256], out[256];
    struct sg_export_src src;
    struct sg_export_info info;
    struct sg_onvif_report rep;
    const char *argv[] = { "python3", checker(), out, "--frames", "50", "--codec", "hevc", NULL };

    tmp_path(seg, sizeof(seg), "seg265.mp4");
    tmp_path(out, sizeof(out), "export265.mp4");
    write_segment(seg, m, s, 1);
    src = (struct sg_export_src){ seg, s[0], s[0] + 2000000 };
    CHECK_EQ_INT(sg_onvif_export(&src, 1, T0, T0 + 2000000, &desc, signer, out, &info), 0);
    CHECK_EQ_INT(info.frames, GOP);
    CHECK_EQ_INT(run(argv), 0);
    CHECK_EQ_INT(sg_onvif_verify(out, NULL, 0, &rep), 0);
    unlink(seg);
    unlink(out);
}

/* Parameter sets change inside the range: refused, nothing left behind. */
static void test_mixed(const struct media *a, const struct media *b,
                       const struct sg_onvif_signer *signer)
{
    int64_t s1[1] = { T0 }, s2[1] = { T0 + 2000000 };
    char p1[256], p2[256], out[256];
    struct sg_export_src src[2];
    struct sg_export_info info;
    struct stat st;

    segment_src("m1.mp4", a, s1, 1, p1, &src[0]);
    segment_src("m2.mp4", b, s2, 1, p2, &src[1]);
    tmp_path(out, sizeof(out), "mixed.mp4");
    CHECK_EQ_INT(sg_onvif_export(src, 2, T0, T0 + 4000000, &desc, signer, out, &info),
                 SG_E_UNSUPPORTED);
    CHECK(stat(out, &st) < 0);
    CHECK_EQ_INT(sg_onvif_export(src, 2, T0, T0 + 2000000, &desc, signer, out, &info), 0);
    unlink(out);
    unlink(p1);
    unlink(p2);
}

/* Keys on disk: made once (mode 0600), never overwritten, loaded back as the same signer. */
static void test_signer_files(void)
{
    struct sg_onvif_signer *s = NULL, *t = NULL, *u = NULL;
    char key[256], cert[256], key2[256], cert2[256];
    const uint8_t *d1, *d2;
    size_t l1, l2;
    struct stat st;

    tmp_path(key, sizeof(key), "site.key");
    tmp_path(cert, sizeof(cert), "site.crt");
    tmp_path(key2, sizeof(key2), "other.key");
    tmp_path(cert2, sizeof(cert2), "other.crt");
    CHECK_EQ_INT(sg_onvif_signer_create(key, cert, "Sargas site 2", 2048, 0, &s), 0);
    CHECK_EQ_INT(stat(key, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    CHECK_EQ_INT(sg_onvif_signer_create(key, cert, "Sargas site 2", 2048, 0, &t), SG_E_EXISTS);
    CHECK(t == NULL);
    CHECK_EQ_INT(sg_onvif_signer_load(key, cert, &t), 0);
    sg_onvif_signer_cert(s, &d1, &l1);
    sg_onvif_signer_cert(t, &d2, &l2);
    CHECK(l1 == l2 && !memcmp(d1, d2, l1));
    /* a certificate that is not the key's */
    CHECK_EQ_INT(sg_onvif_signer_create(key2, cert2, "other", 2048, 0, &u), 0);
    sg_onvif_signer_destroy(&u);
    CHECK(u == NULL);
    CHECK_EQ_INT(sg_onvif_signer_load(key, cert2, &u), SG_E_CONFIG);
    CHECK_EQ_INT(sg_onvif_signer_load(cert, cert, &u), SG_E_CORRUPT);
    CHECK_EQ_INT(sg_onvif_signer_load(key, "/nonexistent/x.crt", &u), -ENOENT);
    CHECK(u == NULL);
    /* the format requires at least 2048 bits */
    CHECK_EQ_INT(sg_onvif_signer_create(NULL, NULL, "weak", 1024, 0, &u), -EINVAL);
    sg_onvif_signer_destroy(&s);
    sg_onvif_signer_destroy(&t);
    sg_onvif_signer_destroy(&u);
    unlink(key);
    unlink(cert);
    unlink(key2);
    unlink(cert2);
}

int main(void)
{
    struct media sub, main264, sub265;
    struct sg_onvif_signer *signer = NULL, *other = NULL;

    if (media_load("sub.h264", 8 << 20, &sub) < 0) {
        printf("test_onvif_export: SKIP: no test media (scripts/gen-media.sh; SG_MEDIA_DIR)\n");
        return 77;
    }
    CHECK_EQ_INT(media_load("main.h264", 3 << 20, &main264), 0);
    CHECK_EQ_INT(media_load("sub.h265", 1 << 20, &sub265), 0);
    CHECK(sub.n >= 5 * GOP && main264.n >= GOP && sub265.n >= GOP);
    CHECK(mkdtemp(tmpdir) != NULL);
    CHECK_EQ_INT(sg_onvif_signer_create(NULL, NULL, "Sargas site 1 ONVIF export", 2048, 0, &signer), 0);
    CHECK_EQ_INT(sg_onvif_signer_create(NULL, NULL, "someone else", 2048, 0, &other), 0);
    if (check_failures)
        return check_done("test_onvif_export");

    test_export(&sub, signer, other);
    test_countersign(&sub, signer);
    test_h265(&sub265, signer);
    test_mixed(&sub, &main264, signer);
    test_signer_files();

    sg_onvif_signer_destroy(&signer);
    sg_onvif_signer_destroy(&other);
    CHECK_EQ_INT(rmdir(tmpdir), 0);
    media_free(&sub);
    media_free(&main264);
    media_free(&sub265);
    return check_done("test_onvif_export");
}
