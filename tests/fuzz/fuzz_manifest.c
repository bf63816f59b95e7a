/* The evidence verifier with the input as manifest.json: a real package (made once per process
 * with the real writer and a fixed key, in $TMPDIR) whose manifest is replaced by the input,
 * checked with the site's key and without a key, then reported as text and JSON.
 * Invariants: the verdict is VERIFIED exactly when the input is the signed manifest, byte for
 * byte; a manifest that passed its checks has no errors; every path the report names is one
 * the format allows, and only the package's own two files are ever read (a path from the
 * manifest that is not theirs can only be MISSING or UNREADABLE).
 * SG_FUZZ_WRITE_SEED=DIR writes the signed manifest as DIR/valid.json (the seed corpus). */
#include <fcntl.h>
#include <ftw.h>
#include <sodium.h>
#include <sys/stat.h>

#include "evidence/package.h"
#include "fuzz.h"
#include "verify/verify.h"

#define T0 1795255200000000LL /* 2026-11-21T10:00:00Z */

static char pkg[4096];
static unsigned char pk[32];
static char *ref;          /* the signed manifest */
static size_t ref_len;
static FILE *devnull;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    if (pkg[0])
        nftw(pkg, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *rel, const void *data, size_t n)
{
    char path[4200];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", pkg, rel);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(write(fd, data, n) == (ssize_t)n);
    close(fd);
}

static void make_package(void)
{
    static const struct sg_evidence_range gap = { T0 + 10000000, T0 + 12500000 };
    static const struct sg_evidence_item item = {
        .camera_id = 1, .camera_name = "Gate", .stream = "main", .requested = { T0, T0 + 60000000 },
        .included = { T0 - 500000, T0 + 60000000 }, .frames = 1500, .gaps = &gap, .n_gaps = 1,
        .file = "cam1-main.mp4",
    };
    static const struct sg_evidence_info info = {
        .generator = "sargas fuzz", .created_us = T0 + 3600000000LL, .site_id = 1, .site_name = "Site",
        .export_id = 1, .user = "alice", .user_id = 2, .reason = "fuzz", .items = &item, .n_items = 1,
    };
    unsigned char seed[32], sk[64];
    const char *dir = getenv("TMPDIR"), *out = getenv("SG_FUZZ_WRITE_SEED");
    char path[4200], err[256];
    struct stat st;
    int fd;

    FUZZ_CHECK(sodium_init() >= 0);
    memset(seed, 0x5a, sizeof(seed));
    crypto_sign_seed_keypair(pk, sk, seed);
    snprintf(pkg, sizeof(pkg), "%s/sg-fuzz-manifest-XXXXXX", dir && dir[0] ? dir : "/tmp");
    FUZZ_CHECK(mkdtemp(pkg) != NULL);
    atexit(cleanup);
    snprintf(path, sizeof(path), "%s/media", pkg);
    FUZZ_CHECK(mkdir(path, 0755) == 0);
    write_file("media/cam1-main.mp4", "\0\0\0\x18" "ftypisom\0\0\0\0isomiso2", 24);
    if (sg_evidence_write(pkg, &info, sk, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_manifest: cannot make the package: %s\n", err);
        abort();
    }
    snprintf(path, sizeof(path), "%s/manifest.json", pkg);
    fd = open(path, O_RDONLY);
    FUZZ_CHECK(fd >= 0 && fstat(fd, &st) == 0);
    ref_len = (size_t)st.st_size;
    ref = malloc(ref_len);
    FUZZ_CHECK(ref && read(fd, ref, ref_len) == (ssize_t)ref_len);
    close(fd);
    if (out) {
        snprintf(path, sizeof(path), "%s/valid.json", out);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        FUZZ_CHECK(fd >= 0 && write(fd, ref, ref_len) == (ssize_t)ref_len);
        close(fd);
    }
    devnull = fopen("/dev/null", "w");
    FUZZ_CHECK(devnull != NULL);
}

static int is_real_file(const char *p)
{
    return !strcmp(p, "media/cam1-main.mp4") || !strcmp(p, "README.txt");
}

static void check_report(const struct sg_verify_report *rep, int same)
{
    json_t *j;
    char *s;

    FUZZ_CHECK((rep->problems == 0) == same);
    FUZZ_CHECK(!rep->manifest || rep->n_errors == 0);
    FUZZ_CHECK(rep->sig != SG_VERIFY_SIG_VALID || rep->fingerprint[0]);
    for (size_t i = 0; i < rep->n_files; i++) {
        const struct sg_verify_file *f = &rep->files[i];
        if (f->status == SG_VERIFY_UNEXPECTED) {
            FUZZ_CHECK(is_real_file(f->path));
            continue;
        }
        FUZZ_CHECK(sg_verify_path_ok(f->path));
        if (f->status != SG_VERIFY_MISSING && f->status != SG_VERIFY_UNREADABLE)
            FUZZ_CHECK(is_real_file(f->path));
    }
    sg_verify_print(rep, devnull);
    j = sg_verify_report_json(rep);
    FUZZ_CHECK(j != NULL);
    s = json_dumps(j, JSON_INDENT(2));
    FUZZ_CHECK(s != NULL);
    free(s);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_verify_report *rep = NULL;
    int same;

    if (!ref)
        make_package();
    same = size == ref_len && memcmp(data, ref, size) == 0;
    write_file("manifest.json", data, size);
    FUZZ_CHECK(sg_verify_package(pkg, (const unsigned char (*)[32])pk, 1, &rep) == 0);
    check_report(rep, same);
    FUZZ_CHECK(rep->keys_given);
    sg_verify_report_destroy(&rep);
    FUZZ_CHECK(rep == NULL);
    FUZZ_CHECK(sg_verify_package(pkg, NULL, 0, &rep) == 0);
    check_report(rep, same);
    sg_verify_report_destroy(&rep);
    return 0;
}
