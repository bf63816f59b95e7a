/* Evidence packages: the writer (src/evidence/package.c) makes a package that the verifier
 * (src/verify/) accepts, checked also by hand here (hashes, signature, field order); then every
 * kind of tampering with a copy of it must make the verdict fail and name the problem; hostile
 * manifests never make the verifier read outside the package; the command line's output and
 * exit status. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/log.h"
#include "check.h"
#include "evidence/package.h"
#include "verify/verify.h"

#define T0 1795255200000000LL /* 2026-11-21T10:00:00Z */
#define BIG_SIZE (600 << 10)  /* more than the hashing buffer: hashed in several reads */

static char dir[] = "/tmp/sg-verify-XXXXXX";
static char good[300];        /* the reference package, never changed after it is made */
static unsigned char pk1[32], sk1[64], pk2[32], sk2[64];
static int copies;

/* ---- small file helpers ---- */

static void write_bytes(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    CHECK(fd >= 0 && write(fd, data, n) == (ssize_t)n);
    if (fd >= 0)
        close(fd);
}

static char *read_all(const char *path, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    int fd = open(path, O_RDONLY);

    *len = 0;
    if (fd >= 0 && fstat(fd, &st) == 0 && (buf = malloc((size_t)st.st_size + 1)) &&
        read(fd, buf, (size_t)st.st_size) == st.st_size) {
        buf[st.st_size] = 0;
        *len = (size_t)st.st_size;
    }
    if (fd >= 0)
        close(fd);
    CHECK(buf != NULL);
    return buf;
}

static void path_in(char *out, size_t n, const char *pkg, const char *rel)
{
    snprintf(out, n, "%s/%s", pkg, rel);
}

static void copy_tree(const char *from, const char *to)
{
    DIR *d = opendir(from);
    struct dirent *de;

    CHECK(d != NULL && mkdir(to, 0755) == 0);
    while (d && (de = readdir(d))) {
        char a[600], b[600];
        struct stat st;

        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
            continue;
        snprintf(a, sizeof(a), "%s/%s", from, de->d_name);
        snprintf(b, sizeof(b), "%s/%s", to, de->d_name);
        CHECK(lstat(a, &st) == 0);
        if (S_ISDIR(st.st_mode)) {
            copy_tree(a, b);
        } else {
            size_t n;
            char *data = read_all(a, &n);
            write_bytes(b, data, n);
            free(data);
        }
    }
    if (d)
        closedir(d);
}

/* A fresh copy of the reference package; its path in out. */
static void fresh_copy(char *out, size_t n)
{
    snprintf(out, n, "%s/copy%d", dir, ++copies);
    copy_tree(good, out);
}

static void flip_byte(const char *pkg, const char *rel, size_t off)
{
    char path[600];
    size_t n;
    char *data;

    path_in(path, sizeof(path), pkg, rel);
    data = read_all(path, &n);
    CHECK(off < n);
    if (off < n)
        data[off] ^= 0x01;
    write_bytes(path, data, n);
    free(data);
}

/* Writes manifest bytes into pkg and signs them with sk (NULL: leaves manifest.sig alone). */
static void put_manifest(const char *pkg, const char *bytes, size_t n, const unsigned char *sk)
{
    unsigned char sig[64];
    char path[600], hex[130];

    path_in(path, sizeof(path), pkg, "manifest.json");
    write_bytes(path, bytes, n);
    if (!sk)
        return;
    crypto_sign_detached(sig, NULL, (const unsigned char *)bytes, n, sk);
    sodium_bin2hex(hex, sizeof(hex), sig, sizeof(sig));
    strcat(hex, "\n");
    path_in(path, sizeof(path), pkg, "manifest.sig");
    write_bytes(path, hex, strlen(hex));
}

/* The package's manifest, parsed (caller decrefs). */
static json_t *load_manifest(const char *pkg)
{
    char path[600];
    json_t *m;

    path_in(path, sizeof(path), pkg, "manifest.json");
    m = json_load_file(path, 0, NULL);
    CHECK(m != NULL);
    return m;
}

/* Saves m as the writer does, re-signed with sk (NULL: the old signature stays). */
static void save_manifest(const char *pkg, json_t *m, const unsigned char *sk)
{
    char *s = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    size_t n = strlen(s);
    char *bytes = malloc(n + 1);

    memcpy(bytes, s, n);
    bytes[n] = '\n';
    put_manifest(pkg, bytes, n + 1, sk);
    free(bytes);
    free(s);
}

/* Makes m name pk as the site's key. */
static void set_site_key(json_t *m, const unsigned char *pk)
{
    char hex[65], fp[48];

    sodium_bin2hex(hex, sizeof(hex), pk, 32);
    sg_verify_fingerprint(pk, fp);
    json_object_set_new(json_object_get(m, "site"), "public_key", json_string(hex));
    json_object_set_new(json_object_get(m, "site"), "fingerprint", json_string(fp));
}

/* ---- checking reports ---- */

static struct sg_verify_report *verify(const char *pkg, const unsigned char *key1, const unsigned char *key2)
{
    unsigned char keys[2][32];
    struct sg_verify_report *rep = NULL;
    size_t n = 0;

    if (key1)
        memcpy(keys[n++], key1, 32);
    if (key2)
        memcpy(keys[n++], key2, 32);
    CHECK_EQ_INT(sg_verify_package(pkg, keys, n, &rep), 0);
    CHECK(rep != NULL);
    return rep;
}

static const struct sg_verify_file *find_file(const struct sg_verify_report *rep, const char *path)
{
    for (size_t i = 0; i < rep->n_files; i++)
        if (!strcmp(rep->files[i].path, path))
            return &rep->files[i];
    return NULL;
}

static int status_of(const struct sg_verify_report *rep, const char *path)
{
    const struct sg_verify_file *f = find_file(rep, path);

    return f ? (int)f->status : -1;
}

/* 1 when some manifest error contains `words`. */
static int has_error(const struct sg_verify_report *rep, const char *words)
{
    for (size_t i = 0; i < rep->n_errors; i++)
        if (strstr(rep->errors[i], words))
            return 1;
    return 0;
}

static int count_not_ok(const struct sg_verify_report *rep)
{
    int n = 0;

    for (size_t i = 0; i < rep->n_files; i++)
        n += rep->files[i].status != SG_VERIFY_OK;
    return n;
}

/* ---- the reference package ---- */

static const struct sg_evidence_range gaps7[] = {
    { T0 + 61 * 1000000LL, T0 + 64 * 1000000LL + 250000 },
    { T0 + 100 * 1000000LL, T0 + 101 * 1000000LL },
};

static const struct sg_evidence_case the_case = {
    .id = 4, .reference = "LT-2026/118", .title = "Gate incident", .reason = "court order 17",
};

static struct sg_evidence_item items[] = {
    { .camera_id = 7, .camera_name = "Vartai \"šiaurė\"", .stream = "main",
      .requested = { T0, T0 + 300 * 1000000LL }, .included = { T0 - 1500000, T0 + 300 * 1000000LL },
      .frames = 7537, .gaps = gaps7, .n_gaps = 2, .file = "cam7-main.mp4" },
    { .camera_id = 8, .camera_name = "Yard", .stream = "sub",
      .requested = { T0, T0 + 300 * 1000000LL }, .included = { T0, T0 + 299 * 1000000LL + 960000 },
      .frames = 3000, .file = "cam8-sub.mp4" },
};

static struct sg_evidence_info info = {
    .generator = "sargas 0.1.0", .created_us = T0 + 3600 * 1000000LL + 123456, .site_id = 1,
    .site_name = "Vilniaus m.", .export_id = 12, .user = "alice", .user_id = 3,
    .reason = "Incident 2026-11-21 at the gate", .export_case = &the_case,
    .items = items, .n_items = 2,
};

/* Makes a package directory with the two media files (fake content) and no manifest. */
static void make_media(const char *pkg)
{
    unsigned char *big = malloc(BIG_SIZE);
    char path[600];

    randombytes_buf(big, BIG_SIZE);
    CHECK(mkdir(pkg, 0755) == 0);
    path_in(path, sizeof(path), pkg, "media");
    CHECK(mkdir(path, 0755) == 0);
    path_in(path, sizeof(path), pkg, "media/cam7-main.mp4");
    write_bytes(path, big, BIG_SIZE);
    path_in(path, sizeof(path), pkg, "media/cam8-sub.mp4");
    write_bytes(path, "\0\0\0\x18" "ftypisom", 12);
    free(big);
}

static void expect_sha256(json_t *entry, const char *pkg)
{
    unsigned char h[32];
    char path[600], hex[65];
    size_t n;
    char *data;

    path_in(path, sizeof(path), pkg, json_string_value(json_object_get(entry, "path")));
    data = read_all(path, &n);
    crypto_hash_sha256(h, (unsigned char *)data, n);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    CHECK_STR(json_string_value(json_object_get(entry, "sha256")), hex);
    CHECK_EQ_INT(json_integer_value(json_object_get(entry, "size")), (long long)n);
    free(data);
}

/* The manifest as written, checked without the verifier. */
static void check_written(const char *pkg)
{
    static const char *const top[] = { "format", "created", "generator", "site", "export", "items", "files" };
    char path[600], fp[48], *bytes, *sig_hex;
    unsigned char sig[64];
    size_t n, sn, i = 0;
    const char *key;
    json_t *m, *v, *files;

    path_in(path, sizeof(path), pkg, "manifest.json");
    bytes = read_all(path, &n);
    for (size_t k = 0; k < n; k++)
        CHECK((unsigned char)bytes[k] < 0x80); /* JSON_ENSURE_ASCII */
    CHECK(n > 0 && bytes[n - 1] == '\n');
    CHECK(strstr(bytes, "\\u0161") != NULL);  /* "š" escaped */
    path_in(path, sizeof(path), pkg, "manifest.sig");
    sig_hex = read_all(path, &sn);
    CHECK_EQ_INT(sn, 129);
    CHECK(sig_hex[128] == '\n');
    CHECK(sodium_hex2bin(sig, 64, sig_hex, 128, NULL, NULL, NULL) == 0);
    CHECK(crypto_sign_verify_detached(sig, (unsigned char *)bytes, n, pk1) == 0);

    m = json_loadb(bytes, n, 0, NULL);
    CHECK(m != NULL);
    json_object_foreach(m, key, v) {
        CHECK(i < 7 && !strcmp(key, top[i]));
        i++;
    }
    CHECK_EQ_INT(i, 7);
    CHECK_STR(json_string_value(json_object_get(m, "format")), "sargas-evidence/1");
    CHECK_STR(json_string_value(json_object_get(m, "created")), "2026-11-21T11:00:00.123Z");
    v = json_object_get(m, "site");
    sg_sitekey_fingerprint(pk1, fp, sizeof(fp));
    CHECK_STR(json_string_value(json_object_get(v, "fingerprint")), fp);
    sodium_bin2hex(path, sizeof(path), pk1, 32);
    CHECK_STR(json_string_value(json_object_get(v, "public_key")), path);
    v = json_object_get(json_object_get(m, "export"), "case");
    CHECK_STR(json_string_value(json_object_get(v, "reference")), "LT-2026/118");
    v = json_array_get(json_object_get(m, "items"), 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(v, "camera"), "name")), "Vartai \"šiaurė\"");
    CHECK_STR(json_string_value(json_object_get(json_object_get(v, "included"), "start")),
              "2026-11-21T09:59:58.500Z");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(v, "gaps"), 0), "end")),
              "2026-11-21T10:01:04.250Z");
    CHECK_STR(json_string_value(json_object_get(v, "file")), "media/cam7-main.mp4");
    files = json_object_get(m, "files");
    CHECK_EQ_INT(json_array_size(files), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(files, 2), "path")), "README.txt");
    for (i = 0; i < json_array_size(files); i++)
        expect_sha256(json_array_get(files, i), pkg);
    json_decref(m);
    free(bytes);
    free(sig_hex);
}

static void test_write_and_verify(void)
{
    char path[600], fp1[48], keydir[400], *readme;
    unsigned char sk_loaded[64];
    struct sg_verify_report *rep;
    size_t n;
    int fd;

    /* the secret key comes from a site key file, as the export job will load it */
    snprintf(keydir, sizeof(keydir), "%s/keys", dir);
    CHECK(mkdir(keydir, 0700) == 0);
    snprintf(path, sizeof(path), "%s/site-1.key", keydir);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0 && write(fd, sk1, 64) == 64);
    close(fd);
    CHECK_EQ_INT(sg_sitekey_load(keydir, 1, sk_loaded), 0);

    snprintf(good, sizeof(good), "%s/good", dir);
    make_media(good);
    CHECK_EQ_INT(sg_evidence_write(good, &info, sk_loaded, path, sizeof(path)), 0);
    check_written(good);
    /* written once */
    CHECK_EQ_INT(sg_evidence_write(good, &info, sk_loaded, path, sizeof(path)), -EEXIST);
    CHECK(strstr(path, "written once") != NULL);
    path_in(path, sizeof(path), good, "README.txt");
    readme = read_all(path, &n);
    sg_sitekey_fingerprint(pk1, fp1, sizeof(fp1));
    CHECK(strstr(readme, fp1) && strstr(readme, "sargas-verify --key") && strstr(readme, "LT-2026/118"));
    CHECK(strstr(readme, "media/cam7-main.mp4") && strstr(readme, "2 gaps"));
    free(readme);

    /* with the site's key, with two keys, without a key */
    rep = verify(good, pk1, NULL);
    CHECK_EQ_INT(rep->problems, 0);
    CHECK_EQ_INT(rep->n_errors, 0);
    CHECK_EQ_INT(rep->n_files, 3);
    CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_VALID);
    CHECK_STR(rep->fingerprint, fp1);
    CHECK(rep->manifest != NULL);
    CHECK_EQ_INT(status_of(rep, "media/cam7-main.mp4"), SG_VERIFY_OK);
    CHECK_EQ_INT(find_file(rep, "media/cam7-main.mp4")->size, BIG_SIZE);
    CHECK_EQ_INT(status_of(rep, "media/cam8-sub.mp4"), SG_VERIFY_OK);
    CHECK_EQ_INT(status_of(rep, "README.txt"), SG_VERIFY_OK);
    sg_verify_report_destroy(&rep);
    CHECK(rep == NULL);
    sg_verify_report_destroy(&rep);
    rep = verify(good, pk2, pk1);
    CHECK_EQ_INT(rep->problems, 0);
    sg_verify_report_destroy(&rep);
    rep = verify(good, NULL, NULL);
    CHECK_EQ_INT(rep->problems, 0);
    CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_VALID);
    CHECK(!rep->keys_given);
    CHECK_STR(rep->fingerprint, fp1);
    sg_verify_report_destroy(&rep);
    sodium_memzero(sk_loaded, sizeof(sk_loaded));
}

/* The writer refuses what the verifier would refuse, and missing media. */
static void test_writer_refusals(void)
{
    static const char *const bad_names[] = { "../x.mp4", ".hidden.mp4", "a/b.mp4", "", "sp ace.mp4",
                                             "back\\slash.mp4", "..", NULL };
    static const int n_bad = 8; /* the last one: no name at all */
    struct sg_evidence_item it[2];
    struct sg_evidence_info in = info;
    struct sg_evidence_case cs = the_case;
    char pkg[400], err[256], path[600];
    struct stat st;

    snprintf(pkg, sizeof(pkg), "%s/refused", dir);
    make_media(pkg);
    memcpy(it, items, sizeof(it));
    in.items = it;
    for (int i = 0; i < n_bad; i++) {
        it[1].file = bad_names[i];
        CHECK_EQ_INT(sg_evidence_write(pkg, &in, sk1, err, sizeof(err)), -EINVAL);
        CHECK(strstr(err, "items[1]") != NULL);
    }
    it[1].file = "cam7-main.mp4";
    CHECK_EQ_INT(sg_evidence_write(pkg, &in, sk1, err, sizeof(err)), -EINVAL); /* twice */
    it[1].file = "absent.mp4";
    CHECK_EQ_INT(sg_evidence_write(pkg, &in, sk1, err, sizeof(err)), -ENOENT);
    CHECK(strstr(err, "media/absent.mp4") != NULL);
    it[1].file = items[1].file;
    it[1].stream = "third";
    CHECK_EQ_INT(sg_evidence_write(pkg, &in, sk1, err, sizeof(err)), -EINVAL);
    it[1].stream = "sub";
    it[1].included.end_us = it[1].included.start_us - 1;
    CHECK_EQ_INT(sg_evidence_write(pkg, &in, sk1, err, sizeof(err)), -EINVAL);
    it[1].included = items[1].included;
    in.reason = "bad \xff UTF-8";
    CHECK_EQ_INT(sg_evidence_write(pkg, &in, sk1, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "reason") != NULL);
    in.reason = info.reason;
    cs.title = NULL;
    in.export_case = &cs;
    CHECK_EQ_INT(sg_evidence_write(pkg, &in, sk1, err, sizeof(err)), -EINVAL);
    in.export_case = NULL;
    in.n_items = 0;
    CHECK_EQ_INT(sg_evidence_write(pkg, &in, sk1, err, sizeof(err)), -EINVAL);
    in.n_items = 2;
    /* a damaged key: its public half is not its seed's */
    {
        unsigned char bad_sk[64];
        memcpy(bad_sk, sk1, 64);
        memcpy(bad_sk + 32, pk2, 32);
        CHECK_EQ_INT(sg_evidence_write(pkg, &in, bad_sk, err, sizeof(err)), -EINVAL);
        CHECK(strstr(err, "key") != NULL);
    }
    /* files that would not be listed, in the package or in media/ */
    path_in(path, sizeof(path), pkg, "media/cam9.mp4.part");
    write_bytes(path, "x", 1);
    CHECK_EQ_INT(sg_evidence_write(pkg, &in, sk1, err, sizeof(err)), -ENOTEMPTY);
    CHECK(strstr(err, "media/cam9.mp4.part") != NULL);
    CHECK(unlink(path) == 0);
    path_in(path, sizeof(path), pkg, "notes.txt");
    write_bytes(path, "x", 1);
    CHECK_EQ_INT(sg_evidence_write(pkg, &in, sk1, err, sizeof(err)), -ENOTEMPTY);
    CHECK(unlink(path) == 0);
    path_in(path, sizeof(path), pkg, "manifest.json");
    CHECK(stat(path, &st) < 0); /* nothing was signed */
    /* what an interrupted earlier call left is taken over */
    path_in(path, sizeof(path), pkg, ".manifest.json.tmp");
    write_bytes(path, "{", 1);
    path_in(path, sizeof(path), pkg, ".README.txt.tmp");
    write_bytes(path, "old", 3);
    path_in(path, sizeof(path), pkg, "manifest.sig");
    write_bytes(path, "old\n", 4);
    /* after the refusals the same directory still becomes a good package (no case) */
    CHECK_EQ_INT(sg_evidence_write(pkg, &in, sk1, err, sizeof(err)), 0);
    {
        struct sg_verify_report *rep = verify(pkg, pk1, NULL);
        CHECK_EQ_INT(rep->problems, 0);
        CHECK(json_is_null(json_object_get(json_object_get(rep->manifest, "export"), "case")));
        sg_verify_report_destroy(&rep);
    }
}

/* ---- tampering ---- */

static void expect_modified(const char *rel, size_t off)
{
    struct sg_verify_report *rep;
    char pkg[400];

    fresh_copy(pkg, sizeof(pkg));
    flip_byte(pkg, rel, off);
    rep = verify(pkg, pk1, NULL);
    CHECK_EQ_INT(status_of(rep, rel), SG_VERIFY_MODIFIED);
    CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_VALID);
    CHECK_EQ_INT(rep->problems, 1);
    sg_verify_report_destroy(&rep);
}

static void test_flip_bytes(void)
{
    static const char *const rels[] = { "media/cam7-main.mp4", "media/cam8-sub.mp4", "README.txt" };
    struct sg_verify_report *rep;
    char pkg[400], path[600];
    size_t n, sn;
    char *orig, *sig;
    struct stat st;

    for (int i = 0; i < 3; i++) {
        path_in(path, sizeof(path), good, rels[i]);
        CHECK(stat(path, &st) == 0);
        expect_modified(rels[i], 0);
        expect_modified(rels[i], (size_t)st.st_size / 2);
        expect_modified(rels[i], (size_t)st.st_size - 1);
    }
    /* every single byte of manifest.json and manifest.sig: the signature no longer holds */
    fresh_copy(pkg, sizeof(pkg));
    path_in(path, sizeof(path), pkg, "manifest.json");
    orig = read_all(path, &n);
    for (size_t off = 0; off < n; off++) {
        orig[off] ^= 0x01;
        put_manifest(pkg, orig, n, NULL);
        orig[off] ^= 0x01;
        rep = verify(pkg, pk1, NULL);
        CHECK(rep->problems >= 1);
        if (rep->sig != SG_VERIFY_SIG_INVALID)
            fprintf(stderr, "manifest.json byte %zu flipped: signature not INVALID\n", off);
        CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_INVALID);
        sg_verify_report_destroy(&rep);
        /* without --key as well (the manifest's own key, maybe itself altered) */
        rep = verify(pkg, NULL, NULL);
        CHECK(rep->problems >= 1 && rep->sig != SG_VERIFY_SIG_VALID);
        sg_verify_report_destroy(&rep);
    }
    put_manifest(pkg, orig, n, NULL);
    path_in(path, sizeof(path), pkg, "manifest.sig");
    sig = read_all(path, &sn);
    for (size_t off = 0; off < sn; off++) {
        sig[off] ^= 0x01;
        write_bytes(path, sig, sn);
        sig[off] ^= 0x01;
        rep = verify(pkg, pk1, NULL);
        CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_INVALID);
        CHECK_EQ_INT(rep->problems, 1);
        CHECK_EQ_INT(count_not_ok(rep), 0); /* the files were checked all the same */
        sg_verify_report_destroy(&rep);
    }
    write_bytes(path, sig, sn);
    rep = verify(pkg, pk1, NULL);
    CHECK_EQ_INT(rep->problems, 0);
    sg_verify_report_destroy(&rep);
    free(orig);
    free(sig);
}

static void test_files_changed(void)
{
    struct sg_verify_report *rep;
    char pkg[400], path[600], target[600];

    /* truncated */
    fresh_copy(pkg, sizeof(pkg));
    path_in(path, sizeof(path), pkg, "media/cam7-main.mp4");
    CHECK(truncate(path, BIG_SIZE - 1000) == 0);
    rep = verify(pkg, pk1, NULL);
    CHECK_EQ_INT(status_of(rep, "media/cam7-main.mp4"), SG_VERIFY_SIZE_MISMATCH);
    CHECK_EQ_INT(find_file(rep, "media/cam7-main.mp4")->size, BIG_SIZE - 1000);
    CHECK_EQ_INT(find_file(rep, "media/cam7-main.mp4")->expected_size, BIG_SIZE);
    CHECK_EQ_INT(rep->problems, 1);
    sg_verify_report_destroy(&rep);

    /* removed: a media file, README.txt; and media/ as a whole */
    fresh_copy(pkg, sizeof(pkg));
    path_in(path, sizeof(path), pkg, "media/cam8-sub.mp4");
    CHECK(unlink(path) == 0);
    path_in(path, sizeof(path), pkg, "README.txt");
    CHECK(unlink(path) == 0);
    rep = verify(pkg, pk1, NULL);
    CHECK_EQ_INT(status_of(rep, "media/cam8-sub.mp4"), SG_VERIFY_MISSING);
    CHECK_EQ_INT(status_of(rep, "README.txt"), SG_VERIFY_MISSING);
    CHECK_EQ_INT(status_of(rep, "media/cam7-main.mp4"), SG_VERIFY_OK);
    CHECK_EQ_INT(rep->problems, 2);
    sg_verify_report_destroy(&rep);
    path_in(path, sizeof(path), pkg, "media/cam7-main.mp4");
    CHECK(unlink(path) == 0);
    path_in(path, sizeof(path), pkg, "media");
    CHECK(rmdir(path) == 0);
    write_bytes(path, "not a directory", 15);
    rep = verify(pkg, pk1, NULL);
    CHECK_EQ_INT(status_of(rep, "media/cam7-main.mp4"), SG_VERIFY_MISSING);
    CHECK_EQ_INT(status_of(rep, "media"), SG_VERIFY_UNEXPECTED);
    CHECK_EQ_INT(rep->problems, 4);
    sg_verify_report_destroy(&rep);

    /* added: files the manifest does not list, anywhere, of any kind */
    fresh_copy(pkg, sizeof(pkg));
    path_in(path, sizeof(path), pkg, "media/extra.mp4");
    write_bytes(path, "12345", 5);
    path_in(path, sizeof(path), pkg, ".hidden");
    write_bytes(path, "x", 1);
    path_in(path, sizeof(path), pkg, "notes");
    CHECK(mkdir(path, 0755) == 0);
    path_in(path, sizeof(path), pkg, "notes/a b\x1b[2J.txt");
    write_bytes(path, "x", 1);
    path_in(path, sizeof(path), pkg, "media/link.mp4");
    CHECK(symlink("cam7-main.mp4", path) == 0);
    rep = verify(pkg, pk1, NULL);
    CHECK_EQ_INT(status_of(rep, "media/extra.mp4"), SG_VERIFY_UNEXPECTED);
    CHECK_EQ_INT(find_file(rep, "media/extra.mp4")->size, 5);
    CHECK_EQ_INT(status_of(rep, ".hidden"), SG_VERIFY_UNEXPECTED);
    CHECK_EQ_INT(status_of(rep, "notes/a b\x1b[2J.txt"), SG_VERIFY_UNEXPECTED);
    CHECK_EQ_INT(status_of(rep, "media/link.mp4"), SG_VERIFY_UNEXPECTED);
    CHECK_STR(find_file(rep, "media/link.mp4")->detail, "symbolic link");
    CHECK_EQ_INT(rep->problems, 4);
    CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_VALID);
    /* listed first in manifest order, then the unexpected ones by name */
    CHECK_STR(rep->files[0].path, "media/cam7-main.mp4");
    CHECK_STR(rep->files[3].path, ".hidden");
    CHECK_STR(rep->files[6].path, "notes/a b\x1b[2J.txt");
    sg_verify_report_destroy(&rep);

    /* a listed file replaced by a symbolic link to identical bytes outside, by a FIFO, by a
     * directory; media/ replaced by a link to an identical directory outside */
    fresh_copy(pkg, sizeof(pkg));
    snprintf(target, sizeof(target), "%s/outside-cam8.mp4", dir);
    write_bytes(target, "\0\0\0\x18" "ftypisom", 12);
    path_in(path, sizeof(path), pkg, "media/cam8-sub.mp4");
    CHECK(unlink(path) == 0 && symlink(target, path) == 0);
    path_in(path, sizeof(path), pkg, "README.txt");
    CHECK(unlink(path) == 0 && mkfifo(path, 0644) == 0);
    rep = verify(pkg, pk1, NULL);
    CHECK_EQ_INT(status_of(rep, "media/cam8-sub.mp4"), SG_VERIFY_UNREADABLE);
    CHECK(strstr(find_file(rep, "media/cam8-sub.mp4")->detail, "symbolic link") != NULL);
    CHECK_EQ_INT(status_of(rep, "README.txt"), SG_VERIFY_UNREADABLE);
    CHECK_STR(find_file(rep, "README.txt")->detail, "is not a regular file");
    CHECK_EQ_INT(rep->problems, 2);
    sg_verify_report_destroy(&rep);
    fresh_copy(pkg, sizeof(pkg));
    snprintf(target, sizeof(target), "%s/media", good);
    path_in(path, sizeof(path), pkg, "media/cam7-main.mp4");
    CHECK(unlink(path) == 0);
    path_in(path, sizeof(path), pkg, "media/cam8-sub.mp4");
    CHECK(unlink(path) == 0);
    path_in(path, sizeof(path), pkg, "media");
    CHECK(rmdir(path) == 0 && symlink(target, path) == 0);
    rep = verify(pkg, pk1, NULL);
    CHECK_EQ_INT(status_of(rep, "media/cam7-main.mp4"), SG_VERIFY_UNREADABLE);
    CHECK_EQ_INT(status_of(rep, "media"), SG_VERIFY_UNEXPECTED);
    CHECK_EQ_INT(rep->problems, 3);
    sg_verify_report_destroy(&rep);
}

static void test_manifest_edits(void)
{
    struct sg_verify_report *rep;
    char pkg[400], path[600], fp2[48];
    json_t *m;

    sg_sitekey_fingerprint(pk2, fp2, sizeof(fp2));
    /* the reason edited and the file re-saved, old signature kept */
    fresh_copy(pkg, sizeof(pkg));
    m = load_manifest(pkg);
    json_object_set_new(json_object_get(m, "export"), "reason", json_string("nothing happened"));
    save_manifest(pkg, m, NULL);
    json_decref(m);
    rep = verify(pkg, pk1, NULL);
    CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_INVALID);
    CHECK_EQ_INT(rep->problems, 1);
    CHECK_EQ_INT(count_not_ok(rep), 0);
    sg_verify_report_destroy(&rep);
    rep = verify(pkg, NULL, NULL);
    CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_INVALID);
    CHECK(strstr(rep->sig_detail, "altered") != NULL);
    sg_verify_report_destroy(&rep);

    /* re-signed by another key, as another site: the trust rule decides */
    fresh_copy(pkg, sizeof(pkg));
    m = load_manifest(pkg);
    json_object_set_new(json_object_get(m, "export"), "reason", json_string("nothing happened"));
    set_site_key(m, pk2);
    save_manifest(pkg, m, sk2);
    json_decref(m);
    rep = verify(pkg, pk1, NULL);
    CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_UNTRUSTED);
    CHECK_STR(rep->fingerprint, fp2);
    CHECK(strstr(rep->sig_detail, "did not give") && strstr(rep->sig_detail, fp2));
    CHECK_EQ_INT(rep->problems, 1);
    sg_verify_report_destroy(&rep);
    rep = verify(pkg, pk2, NULL);
    CHECK_EQ_INT(rep->problems, 0);
    CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_VALID);
    sg_verify_report_destroy(&rep);
    rep = verify(pkg, NULL, NULL); /* valid, but the fingerprint is not the site's */
    CHECK_EQ_INT(rep->problems, 0);
    CHECK_STR(rep->fingerprint, fp2);
    sg_verify_report_destroy(&rep);

    /* signed by another key while still naming the first site's key */
    fresh_copy(pkg, sizeof(pkg));
    m = load_manifest(pkg);
    save_manifest(pkg, m, sk2);
    json_decref(m);
    rep = verify(pkg, pk1, NULL);
    CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_INVALID);
    sg_verify_report_destroy(&rep);
    rep = verify(pkg, pk2, NULL);
    CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_VALID);
    CHECK(has_error(rep, "not the key that signed"));
    CHECK_EQ_INT(rep->problems, 1);
    sg_verify_report_destroy(&rep);

    /* a fingerprint that does not belong to the key, a wrong format, an unknown field: all
     * signed with the right key, all refused */
    fresh_copy(pkg, sizeof(pkg));
    m = load_manifest(pkg);
    json_object_set_new(json_object_get(m, "site"), "fingerprint", json_string(fp2));
    json_object_set_new(json_array_get(json_object_get(m, "items"), 1), "stream", json_string("hd"));
    json_object_set_new(json_array_get(json_object_get(m, "items"), 1), "extra", json_true());
    json_object_set_new(json_object_get(json_array_get(json_object_get(m, "items"), 0), "requested"),
                        "end", json_string("2026-11-21T09:00:00.000Z"));
    save_manifest(pkg, m, sk1);
    json_decref(m);
    rep = verify(pkg, pk1, NULL);
    CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_VALID);
    CHECK(has_error(rep, "site.fingerprint"));
    CHECK(has_error(rep, "items[1].stream"));
    CHECK(has_error(rep, "\"extra\": unknown field"));
    CHECK(has_error(rep, "items[0].requested: ends before it starts"));
    CHECK_EQ_INT(rep->problems, 4);
    CHECK(rep->manifest == NULL);
    sg_verify_report_destroy(&rep);
    fresh_copy(pkg, sizeof(pkg));
    m = load_manifest(pkg);
    json_object_set_new(m, "format", json_string("sargas-evidence/2"));
    save_manifest(pkg, m, sk1);
    json_decref(m);
    rep = verify(pkg, pk1, NULL);
    CHECK(has_error(rep, "sargas-evidence/2"));
    CHECK_EQ_INT(rep->n_files, 0); /* an unknown format's files are not guessed at */
    CHECK_EQ_INT(rep->problems, 1);
    sg_verify_report_destroy(&rep);

    /* malformed JSON, properly signed; missing manifest.sig; missing manifest.json */
    fresh_copy(pkg, sizeof(pkg));
    put_manifest(pkg, "{\"format\": \"sargas-evidence/1\",", 31, sk1);
    rep = verify(pkg, pk1, NULL);
    CHECK(has_error(rep, "not valid JSON"));
    CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_VALID);
    CHECK_EQ_INT(rep->problems, 1);
    sg_verify_report_destroy(&rep);
    rep = verify(pkg, NULL, NULL);
    CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_INVALID);
    CHECK_EQ_INT(rep->problems, 2);
    sg_verify_report_destroy(&rep);
    fresh_copy(pkg, sizeof(pkg));
    path_in(path, sizeof(path), pkg, "manifest.sig");
    CHECK(unlink(path) == 0);
    rep = verify(pkg, pk1, NULL);
    CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_NONE);
    CHECK_EQ_INT(rep->problems, 1);
    CHECK_EQ_INT(count_not_ok(rep), 0);
    sg_verify_report_destroy(&rep);
    path_in(path, sizeof(path), pkg, "manifest.json");
    CHECK(unlink(path) == 0);
    rep = verify(pkg, pk1, NULL);
    CHECK(has_error(rep, "manifest.json is missing"));
    CHECK_EQ_INT(rep->problems, 2);
    sg_verify_report_destroy(&rep);
}

/* Paths that point outside the package, with the right sizes and hashes of real files there
 * and a valid signature: refused by name, and never opened. */
static void test_hostile_paths(void)
{
    static const char secret[] = "outside the package\n";
    struct sg_verify_report *rep;
    char pkg[400], outside[600], rel[700], hex[65];
    unsigned char h[32];
    json_t *m, *files;

    snprintf(outside, sizeof(outside), "%s/secret.txt", dir);
    write_bytes(outside, secret, sizeof(secret) - 1);
    crypto_hash_sha256(h, (const unsigned char *)secret, sizeof(secret) - 1);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    fresh_copy(pkg, sizeof(pkg));
    m = load_manifest(pkg);
    files = json_object_get(m, "files");
    json_array_append_new(files, json_pack("{s:s, s:i, s:s}", "path", "../secret.txt", "size",
                                           (int)sizeof(secret) - 1, "sha256", hex));
    json_array_append_new(files, json_pack("{s:s, s:i, s:s}", "path", outside, "size",
                                           (int)sizeof(secret) - 1, "sha256", hex));
    json_array_append_new(files, json_pack("{s:s, s:i, s:s}", "path", "../../etc/passwd", "size", 1,
                                           "sha256", hex));
    json_array_append_new(files, json_pack("{s:s, s:i, s:s}", "path", "media\\..\\..\\secret.txt",
                                           "size", 1, "sha256", hex));
    json_array_append_new(files, json_pack("{s:s, s:i, s:s}", "path", "media/./cam7-main.mp4", "size",
                                           1, "sha256", hex));
    json_array_append_new(files, json_pack("{s:s, s:i, s:s}", "path", "README.txt", "size", 1,
                                           "sha256", hex));
    json_array_append_new(files, json_pack("{s:s, s:i, s:s}", "path", "manifest.sig", "size", 129,
                                           "sha256", hex));
    save_manifest(pkg, m, sk1);
    json_decref(m);
    rep = verify(pkg, pk1, NULL);
    CHECK_EQ_INT(rep->sig, SG_VERIFY_SIG_VALID);
    CHECK(has_error(rep, "files[3].path \"../secret.txt\": refused, contains \"..\""));
    snprintf(rel, sizeof(rel), "files[4].path \"%.80s\": refused, absolute", outside);
    CHECK(has_error(rep, rel));
    CHECK(has_error(rep, "files[5].path \"../../etc/passwd\": refused, contains \"..\""));
    CHECK(has_error(rep, "refused, contains a backslash"));
    CHECK(has_error(rep, "files[7].path \"media/./cam7-main.mp4\": refused"));
    CHECK(has_error(rep, "files: \"README.txt\" listed more than once"));
    CHECK(has_error(rep, "files[9].path \"manifest.sig\": refused"));
    CHECK_EQ_INT(rep->n_errors, 7);
    CHECK_EQ_INT(rep->n_files, 4); /* only the good entries were opened (README.txt twice) */
    CHECK_EQ_INT(count_not_ok(rep), 1); /* the second README.txt entry's size */
    CHECK_EQ_INT(rep->problems, 8);
    for (size_t i = 0; i < rep->n_files; i++)
        CHECK(strstr(rep->files[i].path, "secret") == NULL);
    sg_verify_report_destroy(&rep);
}

/* ---- output and command line ---- */

static char last_stderr[4096]; /* what the last run_main wrote to stderr */

/* Runs sg_verify_main with stdout and stderr captured; returns the exit status, stdout in
 * *out (caller frees), stderr in last_stderr. */
static int run_main(char **out, const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[6] = { "sargas-verify", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL };
    char cap[400], cap_err[400], *err;
    int argc = 1, saved, saved_err, fd, fd_err, r;
    size_t n;

    while (argc < 5 && argv[argc])
        argc++;
    snprintf(cap, sizeof(cap), "%s/stdout.txt", dir);
    snprintf(cap_err, sizeof(cap_err), "%s/stderr.txt", dir);
    fflush(stdout);
    fflush(stderr);
    saved = dup(1);
    saved_err = dup(2);
    fd = open(cap, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    fd_err = open(cap_err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(saved >= 0 && fd >= 0 && dup2(fd, 1) == 1);
    CHECK(saved_err >= 0 && fd_err >= 0 && dup2(fd_err, 2) == 2);
    close(fd);
    close(fd_err);
    r = sg_verify_main(argc, argv, "sargas-verify");
    fflush(stdout);
    fflush(stderr);
    dup2(saved, 1);
    dup2(saved_err, 2);
    close(saved);
    close(saved_err);
    *out = read_all(cap, &n);
    err = read_all(cap_err, &n);
    snprintf(last_stderr, sizeof(last_stderr), "%s", err ? err : "");
    free(err);
    return r;
}

static void test_cli(void)
{
    char pkg[400], keyfile[400], hex[65], fp1[48], line[600], *out;
    struct sg_verify_report *rep;
    json_t *j, *m;

    sg_sitekey_fingerprint(pk1, fp1, sizeof(fp1));
    sodium_bin2hex(hex, sizeof(hex), pk1, 32);
    snprintf(keyfile, sizeof(keyfile), "%s/site.pub", dir);
    snprintf(line, sizeof(line), "# site 1 public key\n%s\n", hex);
    write_bytes(keyfile, line, strlen(line));

    CHECK_EQ_INT(run_main(&out, good, "--key", keyfile, NULL), 0);
    CHECK(strstr(out, "\nOK            media/cam7-main.mp4  (614400 bytes, sha256 ") != NULL);
    snprintf(line, sizeof(line), "SIGNATURE     VALID: made with a key you gave, fingerprint %s\n", fp1);
    CHECK(strstr(out, line) != NULL);
    CHECK(strstr(out, "Export:    12, created 2026-11-21T11:00:00.123Z by \"alice\" (user 3)") != NULL);
    CHECK(strstr(out, "requested 2026-11-21T10:00:00.000Z to 2026-11-21T10:05:00.000Z") != NULL);
    CHECK(strstr(out, "           gaps      2026-11-21T10:01:01.000Z to 2026-11-21T10:01:04.250Z\n"
                      "                     2026-11-21T10:01:40.000Z to 2026-11-21T10:01:41.000Z\n") != NULL);
    CHECK(strstr(out, "\nVERDICT: VERIFIED\n") != NULL);
    free(out);
    /* without a key: verified, with the instruction to compare the fingerprint */
    CHECK_EQ_INT(run_main(&out, good, NULL, NULL, NULL), 0);
    CHECK(strstr(out, "made with the key in the manifest") && strstr(out, "Compare the fingerprint"));
    free(out);
    CHECK_EQ_INT(run_main(&out, "--json", good, "--key", hex), 0);
    j = json_loads(out, 0, NULL);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "verdict")), "VERIFIED");
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "signature"), "key")), "given");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "files"), 2), "status")), "OK");
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(json_object_get(j, "manifest"), "export"), "id")), 12);
    json_decref(j);
    free(out);

    /* a package signed by the other key, with text meant to fool a terminal */
    fresh_copy(pkg, sizeof(pkg));
    m = load_manifest(pkg);
    json_object_set_new(json_object_get(m, "export"), "reason",
                        json_string("ok\x1b[2J\x1b[1;1HVERDICT: VERIFIED \xe2\x80\xae" "evil\xc2\x9b"));
    set_site_key(m, pk2);
    save_manifest(pkg, m, sk2);
    json_decref(m);
    CHECK_EQ_INT(run_main(&out, pkg, "--key", hex, NULL), 1);
    CHECK(strstr(out, "SIGNATURE     KEY_NOT_TRUSTED: signed by a key you did not give: fingerprint ") != NULL);
    CHECK(strstr(out, "VERDICT: NOT VERIFIED (1 problem)\n") != NULL);
    CHECK(strchr(out, '\x1b') == NULL);
    free(out);
    CHECK_EQ_INT(run_main(&out, pkg, "--key", hex, "--json"), 1);
    j = json_loads(out, 0, NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "signature"), "status")), "KEY_NOT_TRUSTED");
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "problems")), 1);
    json_decref(j);
    free(out);
    /* the terminal-safe summary of a valid package with such text */
    m = load_manifest(pkg);
    set_site_key(m, pk1);
    save_manifest(pkg, m, sk1);
    json_decref(m);
    CHECK_EQ_INT(run_main(&out, pkg, "--key", hex, NULL), 0);
    CHECK(strstr(out, "Reason:    ok?[2J?[1;1HVERDICT: VERIFIED ?evil?\n") != NULL);
    free(out);
    /* an unexpected file with an escape sequence in its name */
    snprintf(line, sizeof(line), "%s/x\x1b[2J", pkg);
    write_bytes(line, "1", 1);
    CHECK_EQ_INT(run_main(&out, pkg, "--key", hex, NULL), 1);
    CHECK(strstr(out, "UNEXPECTED    x\\x1b[2J  (1 bytes, not listed in the manifest)") != NULL);
    free(out);

    /* usage and I/O errors: 2 */
    CHECK_EQ_INT(run_main(&out, NULL, NULL, NULL, NULL), 2);
    CHECK(strstr(last_stderr, "usage: sargas-verify PACKAGE") && !out[0]);
    free(out);
    CHECK_EQ_INT(run_main(&out, good, "--key", "abcd", NULL), 2);
    CHECK(strstr(last_stderr, "--key abcd: neither 64 hex digits nor a file holding them") != NULL);
    free(out);
    CHECK_EQ_INT(run_main(&out, good, "--key", NULL, NULL), 2);
    CHECK(strstr(last_stderr, "--key needs a value") != NULL);
    free(out);
    CHECK_EQ_INT(run_main(&out, good, "--bogus", NULL, NULL), 2);
    CHECK(strstr(last_stderr, "unknown option --bogus") != NULL);
    free(out);
    CHECK_EQ_INT(run_main(&out, good, good, NULL, NULL), 2);
    free(out);
    snprintf(line, sizeof(line), "%s/no-such-package", dir);
    CHECK_EQ_INT(run_main(&out, line, NULL, NULL, NULL), 2);
    CHECK(strstr(last_stderr, "no-such-package: No such file or directory") && !out[0]);
    free(out);
    CHECK_EQ_INT(run_main(&out, "--help", NULL, NULL, NULL), 0);
    CHECK(strstr(out, "Exit status: 0 verified, 1 not verified, 2 usage or I/O error.") != NULL);
    free(out);
    CHECK_EQ_INT(sg_verify_package(line, NULL, 0, &rep), -ENOENT);
    CHECK(rep == NULL);
}

static void test_helpers(void)
{
    static const char *const ok[] = { "README.txt", "media/cam7.mp4", "a/b/c/d/e/f/g/h", "x..y", "a-b_c.D9", NULL };
    static const char *const bad[] = { "", "/etc/passwd", "../x", "a/../b", "a/..", ".", "./a", "a//b",
                                       "a/", "media\\x", ".hidden", "a/.b", "a b", "a/b/c/d/e/f/g/h/i",
                                       "caf\xc3\xa9", NULL };
    unsigned char pk[32], sk[64], parsed[32];
    char a[48], b[48], hex[65], spaced[300];

    for (int i = 0; ok[i]; i++)
        CHECK(sg_verify_path_ok(ok[i]));
    for (int i = 0; bad[i]; i++)
        CHECK(!sg_verify_path_ok(bad[i]));
    memset(spaced, 'a', 255);
    spaced[255] = 0;
    CHECK(sg_verify_path_ok(spaced));
    spaced[255] = 'a';
    spaced[256] = 0;
    CHECK(!sg_verify_path_ok(spaced));
    /* the verifier's fingerprint is the console's (sg_sitekey_fingerprint) */
    for (int i = 0; i < 20; i++) {
        crypto_sign_keypair(pk, sk);
        sg_verify_fingerprint(pk, a);
        sg_sitekey_fingerprint(pk, b, sizeof(b));
        CHECK_STR(a, b);
        sodium_bin2hex(hex, sizeof(hex), pk, 32);
        snprintf(spaced, sizeof(spaced), "  %s\n", hex);
        CHECK(sg_verify_parse_key(spaced, parsed) == 0 && !memcmp(parsed, pk, 32));
    }
    hex[63] = 'g';
    CHECK_EQ_INT(sg_verify_parse_key(hex, parsed), -EINVAL);
    hex[63] = 0;
    CHECK_EQ_INT(sg_verify_parse_key(hex, parsed), -EINVAL);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(void)
{
    sg_log_set_level(SG_LOG_ERROR);
    if (sodium_init() < 0)
        return 1;
    CHECK(mkdtemp(dir) != NULL);
    crypto_sign_keypair(pk1, sk1);
    crypto_sign_keypair(pk2, sk2);
    test_helpers();
    test_write_and_verify();
    test_writer_refusals();
    test_flip_bytes();
    test_files_changed();
    test_manifest_edits();
    test_hostile_paths();
    test_cli();
    /* SG_TEST_KEEP=1 keeps the packages (the reference one is <dir>/good) to look at */
    if (!check_failures && !getenv("SG_TEST_KEEP") && nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_done("test_verify");
}
