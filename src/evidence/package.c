/* Writes an evidence package's README.txt, manifest.json and manifest.sig (see package.h and
 * docs/EVIDENCE.md).
 *
 * The manifest is jansson output with JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII
 * and a final newline: fields in the documented order, and only ASCII bytes (non-ASCII text as
 * \uXXXX escapes), so the signed bytes survive any transport or tool that mangles encodings,
 * and what a recipient sees in a text viewer is what was signed. The signature is over those
 * exact bytes; nobody needs to re-serialise anything to check it.
 *
 * Paths and names follow the verifier's rules (sg_verify_path_ok), so the writer never signs a
 * package that the verifier would refuse. */
#include "evidence/package.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "verify/verify.h"

/* 10000-01-01T00:00:00Z: the format has four-digit years. */
#define MAX_TIME_US 253402300800000000LL
#define HASH_BUF (256 << 10)

_Static_assert(SG_EVIDENCE_SECKEY_BYTES == crypto_sign_SECRETKEYBYTES, "secret key size");

struct writer {
    const struct sg_evidence_info *info;
    int dfd, mfd;                  /* the package directory and its media/ */
    char *err;
    size_t err_len;
    json_t *files;                 /* the manifest's "files" array, built as files are hashed */
    unsigned char *buf;
};

static int fail(struct writer *w, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Records why the write failed (the first reason only) and returns r. */
static int fail(struct writer *w, int r, const char *fmt, ...)
{
    va_list ap;

    if (w->err && w->err_len && !w->err[0]) {
        va_start(ap, fmt);
        vsnprintf(w->err, w->err_len, fmt, ap);
        va_end(ap);
    }
    return r;
}

/* ---- checking what the caller gave ---- */

static int check_str(struct writer *w, const char *what, const char *s)
{
    json_t *j;

    if (!s)
        return fail(w, -EINVAL, "%s is missing", what);
    if (!(j = json_string(s)))
        return fail(w, -EINVAL, "%s is not valid UTF-8", what);
    json_decref(j);
    return 0;
}

static int check_range(struct writer *w, const char *what, const struct sg_evidence_range *r)
{
    if (r->start_us < 0 || r->end_us >= MAX_TIME_US || r->start_us > r->end_us)
        return fail(w, -EINVAL, "%s: not a time range between 1970 and 9999", what);
    return 0;
}

static int check_item(struct writer *w, size_t i)
{
    const struct sg_evidence_item *it = &w->info->items[i];
    char what[64];
    int r;

    snprintf(what, sizeof(what), "items[%zu]", i);
    if (it->camera_id < 1 || it->frames < 0)
        return fail(w, -EINVAL, "%s: camera id or frame count out of range", what);
    if (!it->stream || (strcmp(it->stream, "main") && strcmp(it->stream, "sub")))
        return fail(w, -EINVAL, "%s: stream must be \"main\" or \"sub\"", what);
    if ((r = check_str(w, what, it->camera_name)) < 0 ||
        (r = check_range(w, what, &it->requested)) < 0 || (r = check_range(w, what, &it->included)) < 0)
        return r;
    if (it->n_gaps && !it->gaps)
        return fail(w, -EINVAL, "%s: gaps missing", what);
    for (size_t g = 0; g < it->n_gaps; g++)
        if ((r = check_range(w, what, &it->gaps[g])) < 0)
            return r;
    if (!it->file || strchr(it->file, '/') || !sg_verify_path_ok(it->file) || strlen(it->file) > 200)
        return fail(w, -EINVAL, "%s: file name \"%.80s\" is not a plain name of [A-Za-z0-9._-]"
                    " (not starting with '.')", what, it->file ? it->file : "");
    for (size_t j = 0; j < i; j++)
        if (!strcmp(w->info->items[j].file, it->file))
            return fail(w, -EINVAL, "%s: file \"%s\" is also items[%zu]'s", what, it->file, j);
    return 0;
}

static int check_info(struct writer *w)
{
    const struct sg_evidence_info *in = w->info;
    const struct sg_evidence_case *cs = in->export_case;
    int r;

    if ((r = check_str(w, "generator", in->generator)) < 0 || (r = check_str(w, "site name", in->site_name)) < 0 ||
        (r = check_str(w, "user", in->user)) < 0 || (r = check_str(w, "reason", in->reason)) < 0)
        return r;
    if (in->site_id < 1 || in->export_id < 1 || in->user_id < 0)
        return fail(w, -EINVAL, "site, export or user id out of range");
    if (in->created_us < 0 || in->created_us >= MAX_TIME_US)
        return fail(w, -EINVAL, "creation time out of range");
    if (cs && cs->id < 1)
        return fail(w, -EINVAL, "case id out of range");
    if (cs && ((r = check_str(w, "case reference", cs->reference)) < 0 ||
               (r = check_str(w, "case title", cs->title)) < 0 ||
               (r = check_str(w, "case reason", cs->reason)) < 0))
        return r;
    if (in->n_items == 0 || !in->items)
        return fail(w, -EINVAL, "a package needs at least one item");
    for (size_t i = 0; i < in->n_items; i++)
        if ((r = check_item(w, i)) < 0)
            return r;
    return 0;
}

/* ---- files ---- */

static int add_file_entry(struct writer *w, const char *path, int64_t size, const unsigned char h[32])
{
    char hex[65];
    json_t *o;

    sg_hex(h, 32, hex);
    o = json_pack("{s:s, s:I, s:s}", "path", path, "size", (json_int_t)size, "sha256", hex);
    if (!o || json_array_append_new(w->files, o) < 0)
        return fail(w, -ENOMEM, "out of memory");
    return 0;
}

/* Hashes media/<name> (and fsyncs it: the signature will vouch for these bytes). SHA-256 is
 * OpenSSL's here: it uses the CPU's SHA extensions (1.1-1.9 GB/s against libsodium's
 * 0.24-0.44 GB/s on this machine), and every exported byte goes through it. */
static int hash_media(struct writer *w, const char *name)
{
    EVP_MD_CTX *st = EVP_MD_CTX_new();
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hl = 0;
    char path[256];
    struct stat sb;
    int64_t total = 0;
    int fd, r;

    snprintf(path, sizeof(path), "media/%s", name);
    if (!st || !EVP_DigestInit_ex(st, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(st);
        return fail(w, -ENOMEM, "out of memory");
    }
    if ((fd = openat(w->mfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        EVP_MD_CTX_free(st);
        return fail(w, -errno, "%s: %s", path, strerror(errno));
    }
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        r = fail(w, -EINVAL, "%s: not a regular file", path);
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, w->buf, HASH_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = fail(w, -errno, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(st, w->buf, (size_t)n);
        total += n;
    }
    if (total != (int64_t)sb.st_size) {
        r = fail(w, -EAGAIN, "%s: changed while it was being hashed", path);
        goto out;
    }
    if (fsync(fd) < 0) {
        r = fail(w, -errno, "%s: fsync: %s", path, strerror(errno));
        goto out;
    }
    EVP_DigestFinal_ex(st, h, &hl);
    r = add_file_entry(w, path, total, h);
out:
    EVP_MD_CTX_free(st);
    close(fd);
    return r;
}

/* Renames tmp to name unless name exists (-EEXIST). renameat2 leaves no second name behind
 * after a crash; file systems without RENAME_NOREPLACE get link + unlink. */
static int rename_noreplace(int dfd, const char *tmp, const char *name)
{
    if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -errno;
    if (linkat(dfd, tmp, dfd, name, 0) < 0)
        return -errno;
    unlinkat(dfd, tmp, 0);
    return 0;
}

/* Writes data as dfd/name through a temporary name, durably. no_replace: fail with -EEXIST
 * rather than replace an existing name. */
static int write_file(struct writer *w, const char *name, const void *data, size_t len, int no_replace)
{
    struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
    char tmp[64];
    int fd, r;

    snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
    fd = openat(w->dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(w, -errno, "%s: %s", tmp, strerror(errno));
    if ((r = sg_writev_all(fd, &iov, 1)) == 0 && fsync(fd) < 0)
        r = -errno;
    if (r < 0) {
        close(fd);
        goto fail;
    }
    if (close(fd) < 0) {
        r = -errno;
        goto fail;
    }
    if (no_replace) {
        if ((r = rename_noreplace(w->dfd, tmp, name)) < 0)
            goto fail;
    } else if (renameat(w->dfd, tmp, w->dfd, name) < 0) {
        r = -errno;
        goto fail;
    }
    if (fsync(w->dfd) < 0)
        return fail(w, -errno, "fsync of the package directory: %s", strerror(errno));
    return 0;
fail:
    unlinkat(w->dfd, tmp, 0);
    return fail(w, r, "%s: %s", name, strerror(-r));
}

/* 1 when `name` in directory `fd` (the package, or media/ when media) will be listed or is
 * the writer's own. */
static int expected_entry(const struct sg_evidence_info *in, const char *name, int media)
{
    static const char *const own[] = { "media", "README.txt", "manifest.sig", ".README.txt.tmp",
                                        ".manifest.sig.tmp", ".manifest.json.tmp", NULL };

    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return 1;
    if (media) {
        for (size_t i = 0; i < in->n_items; i++)
            if (!strcmp(name, in->items[i].file))
                return 1;
        return 0;
    }
    for (int i = 0; own[i]; i++)
        if (!strcmp(name, own[i]))
            return 1;
    return 0;
}

/* Refuses a directory holding anything the manifest will not list: the package would be
 * signed and then fail verification (UNEXPECTED). fd is consumed. */
static int check_nothing_else(struct writer *w, int fd, int media)
{
    DIR *d = fdopendir(fd);
    struct dirent *de;
    int r = 0;

    if (!d) {
        close(fd);
        return fail(w, -errno, "cannot list the package directory: %s", strerror(errno));
    }
    while (r == 0 && (de = readdir(d)))
        if (!expected_entry(w->info, de->d_name, media))
            r = fail(w, -ENOTEMPTY, "%s%.200s: not a file of the package (it would not verify)",
                     media ? "media/" : "", de->d_name);
    closedir(d);
    return r;
}

/* ---- README.txt ---- */

/* Text from the caller on one line of the README: control characters become '?'. */
static void put_line_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

static void put_time(FILE *f, int64_t us)
{
    char t[SG_UTC_STRLEN];

    fputs(sg_utc_format(us, 3, t, sizeof(t)) == 0 ? t : "?", f);
}

static void readme_head(FILE *f, const struct sg_evidence_info *in, const char *fingerprint)
{
    fputs("SARGAS EVIDENCE PACKAGE\n"
          "=======================\n\n"
          "This directory is an evidence package: video footage exported from Sargas, a video\n"
          "management system, with a signed list of its contents.\n\n", f);
    fprintf(f, "  Site:         ");
    put_line_text(f, in->site_name);
    fprintf(f, " (site %lld)\n  Export:       %lld, created ", (long long)in->site_id,
            (long long)in->export_id);
    put_time(f, in->created_us);
    fputs(" (UTC) by ", f);
    put_line_text(f, in->user);
    fputs("\n  Reason:       ", f);
    put_line_text(f, in->reason);
    fputs("\n  Case:         ", f);
    if (in->export_case) {
        put_line_text(f, in->export_case->reference);
        fputs(" - ", f);
        put_line_text(f, in->export_case->title);
    } else {
        fputs("none", f);
    }
    fprintf(f, "\n  Signing key:  fingerprint %s (as written in this package)\n\n", fingerprint);
}

static void readme_items(FILE *f, const struct sg_evidence_info *in)
{
    fputs("VIDEO FILES (MP4, playable with common video players; times in UTC)\n", f);
    for (size_t i = 0; i < in->n_items; i++) {
        const struct sg_evidence_item *it = &in->items[i];
        fprintf(f, "  media/%s\n      camera %lld \"", it->file, (long long)it->camera_id);
        put_line_text(f, it->camera_name);
        fprintf(f, "\", %s stream\n      ", it->stream);
        put_time(f, it->included.start_us);
        fputs(" to ", f);
        put_time(f, it->included.end_us);
        fprintf(f, ", %lld frames, %zu gap%s in the recording\n", (long long)it->frames, it->n_gaps,
                it->n_gaps == 1 ? "" : "s");
    }
    fputc('\n', f);
}

static const char readme_tail[] =
    "CONTENTS\n"
    "  manifest.json  Describes the export (site, user, reason, cameras, requested and included\n"
    "                 time ranges, gaps in the recording) and lists every file of the package\n"
    "                 with its size and SHA-256 hash. This README.txt is listed there too.\n"
    "  manifest.sig   The site's Ed25519 signature of manifest.json, byte for byte (hex).\n"
    "  media/         The video files.\n\n"
    "HOW TO CHECK THAT NOTHING WAS ALTERED\n"
    "  1. Get the site's public key from the site itself, not from this package (its\n"
    "     administrators can give it as a file, site.pub, and publish its fingerprint).\n"
    "  2. Run the verifier, a small program that can be built alone from the Sargas sources\n"
    "     (cmake -S tools/verify -B build-verify && cmake --build build-verify):\n\n"
    "         sargas-verify --key site.pub THIS_DIRECTORY\n\n"
    "     It checks the signature and every file's size and hash, names every problem, and\n"
    "     ends with \"VERDICT: VERIFIED\" or \"VERDICT: NOT VERIFIED\".\n"
    "  3. Or without any Sargas software: check the Ed25519 signature of manifest.json with\n"
    "     any Ed25519 tool (docs/EVIDENCE.md in the Sargas sources shows how with OpenSSL)\n"
    "     and compare the SHA-256 of every file (sha256sum) with manifest.json.\n\n"
    "Any change to any file, however small, makes the check fail. Playing or copying the\n"
    "files does not change them; extracting them from a ZIP archive does not either.\n";

/* README.txt's bytes (malloc'd, caller frees). */
static int readme_text(const struct sg_evidence_info *in, const char *fingerprint, char **out, size_t *len)
{
    FILE *f = open_memstream(out, len);

    if (!f)
        return -ENOMEM;
    readme_head(f, in, fingerprint);
    readme_items(f, in);
    fputs(readme_tail, f);
    if (fclose(f) != 0) {
        free(*out);
        *out = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* ---- manifest.json ---- */

static json_t *jtime(int64_t us)
{
    char t[SG_UTC_STRLEN];

    return sg_utc_format(us, 3, t, sizeof(t)) == 0 ? json_string(t) : NULL;
}

/* json_pack's "o" fails on NULL (out of memory; times were checked) and then releases the
 * other values it was given, so a NULL from any part makes the whole manifest NULL. */
static json_t *jrange(const struct sg_evidence_range *r)
{
    return json_pack("{s:o, s:o}", "start", jtime(r->start_us), "end", jtime(r->end_us));
}

static json_t *item_json(const struct sg_evidence_item *it)
{
    json_t *gaps = json_array();
    char file[256];

    for (size_t g = 0; gaps && g < it->n_gaps; g++)
        if (json_array_append_new(gaps, jrange(&it->gaps[g])) < 0) {
            json_decref(gaps);
            gaps = NULL;
        }
    snprintf(file, sizeof(file), "media/%s", it->file); /* names are <= 200 bytes */
    return json_pack("{s:{s:I, s:s}, s:s, s:o, s:{s:o, s:o, s:I}, s:o, s:s}",
                     "camera", "id", (json_int_t)it->camera_id, "name", it->camera_name,
                     "stream", it->stream,
                     "requested", jrange(&it->requested),
                     "included", "start", jtime(it->included.start_us), "end",
                     jtime(it->included.end_us), "frames", (json_int_t)it->frames,
                     "gaps", gaps,
                     "file", file);
}

static json_t *manifest_json(struct writer *w, const unsigned char pk[32], const char *fingerprint)
{
    const struct sg_evidence_info *in = w->info;
    const struct sg_evidence_case *cs = in->export_case;
    json_t *items = json_array(), *jcase = NULL;
    char pk_hex[65];

    sg_hex(pk, 32, pk_hex);
    if (cs)
        jcase = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)cs->id, "reference", cs->reference,
                          "title", cs->title, "reason", cs->reason);
    for (size_t i = 0; items && i < in->n_items; i++)
        if (json_array_append_new(items, item_json(&in->items[i])) < 0) {
            json_decref(items);
            items = NULL;
        }
    if (!items || (cs && !jcase)) {
        json_decref(items);
        json_decref(jcase);
        return NULL;
    }
    return json_pack("{s:s, s:o, s:s, s:{s:I, s:s, s:s, s:s}, s:{s:I, s:s, s:I, s:s, s:o}, s:o, s:O}",
                     "format", SG_VERIFY_FORMAT,
                     "created", jtime(in->created_us),
                     "generator", in->generator,
                     "site", "id", (json_int_t)in->site_id, "name", in->site_name,
                     "public_key", pk_hex, "fingerprint", fingerprint,
                     "export", "id", (json_int_t)in->export_id, "user", in->user,
                     "user_id", (json_int_t)in->user_id, "reason", in->reason,
                     "case", jcase ? jcase : json_null(),
                     "items", items,
                     "files", w->files);
}

/* manifest.json's bytes: the dump and a newline (malloc'd). */
static int manifest_bytes(struct writer *w, const unsigned char pk[32], const char *fingerprint,
                          char **out, size_t *len)
{
    json_t *m = manifest_json(w, pk, fingerprint);
    char *s = m ? json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) : NULL;
    size_t n;

    json_decref(m);
    if (!s)
        return fail(w, -ENOMEM, "out of memory building the manifest");
    n = strlen(s);
    *out = malloc(n + 2);
    if (*out)
        memcpy(*out, s, n);
    free(s);
    if (!*out)
        return fail(w, -ENOMEM, "out of memory building the manifest");
    (*out)[n] = '\n';
    (*out)[n + 1] = 0;
    *len = n + 1;
    return 0;
}

/* ---- the whole package ---- */

static int sign_and_write(struct writer *w, const unsigned char sk[SG_EVIDENCE_SECKEY_BYTES])
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
    char fingerprint[SG_VERIFY_FP_LEN], sig_hex[2 * crypto_sign_BYTES + 2];
    char *readme = NULL, *manifest = NULL;
    size_t readme_len = 0, manifest_len = 0;
    unsigned char h[crypto_hash_sha256_BYTES];
    int r;

    crypto_sign_ed25519_sk_to_pk(pk, sk);
    sg_verify_fingerprint(pk, fingerprint);
    if ((r = readme_text(w->info, fingerprint, &readme, &readme_len)) < 0) {
        r = fail(w, r, "out of memory writing README.txt");
        goto out;
    }
    crypto_hash_sha256(h, (const unsigned char *)readme, readme_len);
    if ((r = write_file(w, "README.txt", readme, readme_len, 0)) < 0 ||
        (r = add_file_entry(w, "README.txt", (int64_t)readme_len, h)) < 0 ||
        (r = manifest_bytes(w, pk, fingerprint, &manifest, &manifest_len)) < 0)
        goto out;
    crypto_sign_detached(sig, NULL, (const unsigned char *)manifest, manifest_len, sk);
    /* A secret key whose public half is not its seed's would sign what nobody can verify. */
    if (crypto_sign_verify_detached(sig, (const unsigned char *)manifest, manifest_len, pk) != 0) {
        r = fail(w, -EINVAL, "the secret key is damaged (its public half does not match)");
        goto out;
    }
    sg_hex(sig, sizeof(sig), sig_hex);
    strcat(sig_hex, "\n");
    /* The signature first, the manifest last: manifest.json present = package complete. */
    if ((r = write_file(w, "manifest.sig", sig_hex, strlen(sig_hex), 0)) < 0)
        goto out;
    r = write_file(w, "manifest.json", manifest, manifest_len, 1);
    if (r == -EEXIST)
        r = fail(w, -EEXIST, "manifest.json appeared while the package was written");
out:
    free(readme);
    free(manifest);
    return r;
}

int sg_evidence_write(const char *dir, const struct sg_evidence_info *in_info,
                      const unsigned char sk[SG_EVIDENCE_SECKEY_BYTES], char *err, size_t err_len)
{
    struct sg_evidence_info info = *in_info;
    struct writer w = { .info = &info, .dfd = -1, .mfd = -1, .err = err, .err_len = err_len };
    struct stat st;
    int r;

    if (err && err_len)
        err[0] = 0;
    if (sodium_init() < 0)
        return fail(&w, -EIO, "libsodium cannot be initialised");
    if (!info.created_us)
        info.created_us = sg_utc_us();
    if ((r = check_info(&w)) < 0)
        return r;
    if ((w.dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return fail(&w, -errno, "%s: %s", dir, strerror(errno));
    if (fstatat(w.dfd, "manifest.json", &st, AT_SYMLINK_NOFOLLOW) == 0) {
        r = fail(&w, -EEXIST, "%s/manifest.json exists: a package is written once", dir);
        goto out;
    }
    if ((w.mfd = openat(w.dfd, "media", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        r = fail(&w, -errno, "%s/media: %s", dir, strerror(errno));
        goto out;
    }
    if (!(w.files = json_array()) || !(w.buf = malloc(HASH_BUF))) {
        r = fail(&w, -ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < info.n_items; i++)
        if ((r = hash_media(&w, info.items[i].file)) < 0)
            goto out;
    if (fsync(w.mfd) < 0) {
        r = fail(&w, -errno, "fsync of media/: %s", strerror(errno));
        goto out;
    }
    if ((r = check_nothing_else(&w, openat(w.dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), 0)) < 0 ||
        (r = check_nothing_else(&w, openat(w.mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), 1)) < 0)
        goto out;
    r = sign_and_write(&w, sk);
out:
    json_decref(w.files);
    free(w.buf);
    if (w.mfd >= 0)
        close(w.mfd);
    close(w.dfd);
    return r;
}
