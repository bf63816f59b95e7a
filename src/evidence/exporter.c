/* The export runner (see exporter.h). One export:
 *   1. in a work directory export_dir/.work-ID/, per requested range (camera, UTC start, end)
 *      the recordings of the main stream are cut into media/NN-cameraID.mp4 by
 *      sg_export_mp4 (or sg_onvif_export), starting at the keyframe at or before the start;
 *      a range whose picture size changes inside it becomes several files (one per run);
 *   2. the gaps inside each range (no recording for more than half a second) are listed;
 *   3. the package writer adds README.txt, manifest.json (sizes, SHA-256) and its Ed25519
 *      signature with the site's key;
 *   4. the directory is zipped (stored, not compressed: video does not compress) into
 *      export_dir/export-ID.zip via a temporary name and a rename, and the work directory
 *      is removed.
 * Progress goes to the catalog after every range; the result (or the error) and an audit
 * entry at the end. */
#include "evidence/exporter.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/ioprio.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "audit/audit.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/thread.h"
#include "catalog/catalog.h"
#include "evidence/package.h"
#include "playback/playback.h"

#define GAP_US 500000           /* a hole longer than this inside a range is a gap */
#define MAX_PARTS 64            /* files per range (picture size changes) */
#define ZIP_CHUNK (1u << 20)
#define MAX_GAPS 256            /* listed per file; more are counted in the log */

/* One media file of the package and what the manifest says of it. */
struct part {
    int64_t camera_id;
    char camera_name[SG_NAME_MAX];
    struct sg_evidence_range requested, included;
    int64_t frames;
    struct sg_evidence_range gaps[MAX_GAPS];
    int n_gaps;
    char file[64];                 /* name under media/; "" when nothing was recorded */
};

struct sg_exporter {
    struct sg_exporter_opts o;
    struct sg_thread th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int stop;
};

/* What the cut of every range of one export needs. */
struct job_ctx {
    const struct sg_exporter_opts *o;
    int onvif;                           /* ONVIF Export Files instead of plain MP4 */
    struct sg_onvif_signer *signer;      /* onvif: the site's RSA key and certificate */
    struct sg_onvif_desc desc;           /* onvif: unit, operator, user info (source per range) */
};

/* ---- one range ---- */

static int playable(const struct sg_segment *s)
{
    return s->status == SG_SEG_RECORDING || s->status == SG_SEG_COMPLETE;
}

/* Appends to gaps (a JSON array) the holes of [from, to) that no playable segment covers. */
static void list_gaps(const struct sg_segment *g, int n, int64_t from, int64_t to, struct part *it)
{
    int64_t covered = from;

    for (int i = 0; i < n && covered < to; i++) {
        if (!playable(&g[i]) || g[i].end_us <= covered)
            continue;
        if (g[i].start_us - covered > GAP_US && it->n_gaps < MAX_GAPS)
            it->gaps[it->n_gaps++] = (struct sg_evidence_range){ covered, g[i].start_us < to ? g[i].start_us : to };
        if (g[i].end_us > covered)
            covered = g[i].end_us;
    }
    if (to - covered > GAP_US && it->n_gaps < MAX_GAPS)
        it->gaps[it->n_gaps++] = (struct sg_evidence_range){ covered, to };
}

/* Cuts one run of segments (one decoder configuration) into media/name under dir. */
static int cut(const struct job_ctx *x, const struct sg_camera *cam, const struct sg_segment *g, int n,
               int64_t from, int64_t to, const char *dir, const char *name, struct sg_export_info *info)
{
    struct sg_export_src *src = calloc((size_t)n + 1, sizeof(*src));
    char (*paths)[PATH_MAX] = calloc((size_t)n + 1, sizeof(*paths));
    char out[PATH_MAX];
    int m = 0, r;

    if (!src || !paths) {
        free(src);
        free(paths);
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        if (!playable(&g[i]) || sg_segment_path(x->o->roots, x->o->n_roots, &g[i], paths[m]) < 0)
            continue;
        src[m] = (struct sg_export_src){ .path = paths[m], .start_us = g[i].start_us, .end_us = g[i].end_us };
        m++;
    }
    r = SG_E_NOTFOUND;
    if (m && snprintf(out, sizeof(out), "%s/media/%s", dir, name) < (int)sizeof(out)) {
        if (x->onvif) {
            struct sg_onvif_desc d = x->desc;
            d.source_name = cam->name;
            d.source_url = cam->main_url; /* the writer drops any user:password@ */
            r = sg_onvif_export(src, m, from, to, &d, x->signer, out, info);
        } else {
            r = sg_export_mp4(src, m, from, to, out, info);
        }
    }
    free(src);
    free(paths);
    return r;
}

/* Exports range `seq` into media files of dir; fills the package items (several when the
 * picture size changes inside the range). Returns the number of items filled or <0. */
static int export_range(struct sg_catalog *cat, const struct job_ctx *x, int seq, const struct sg_export_range *rg, const char *dir, struct part *items,
                        int max_items)
{
    struct sg_segment *g = NULL;
    struct sg_camera cam;
    int n, filled = 0, r = 0;

    if ((r = sg_catalog_camera_get(cat, rg->camera_id, &cam)) < 0) {
        memset(&cam, 0, sizeof(cam));
        snprintf(cam.name, sizeof(cam.name), "camera %" PRId64, rg->camera_id);
    }
    if ((n = sg_catalog_segment_list(cat, rg->camera_id, SG_STREAM_MAIN, -1, rg->start_us, rg->end_us, &g)) < 0)
        return n;
    /* runs of segments with one codec and picture size: one file each */
    for (int a = 0; a < n || (a == 0 && n == 0);) {
        struct part *it = &items[filled];
        struct sg_export_info info = { 0 };
        int b = a;
        int64_t from = rg->start_us, to = rg->end_us;
        if (filled == max_items)
            break;
        while (b < n && (!playable(&g[b]) ||
                         (!strcmp(g[b].codec, g[a].codec) && g[b].width == g[a].width && g[b].height == g[a].height)))
            b++;
        memset(it, 0, sizeof(*it));
        it->camera_id = rg->camera_id;
        snprintf(it->camera_name, sizeof(it->camera_name), "%s", cam.name);
        it->requested = (struct sg_evidence_range){ rg->start_us, rg->end_us };
        if (a > 0 && a < n)
            from = g[a].start_us > from ? g[a].start_us : from;
        if (b < n)
            to = g[b].start_us < to ? g[b].start_us : to;
        if (n && b - a < n)
            snprintf(it->file, sizeof(it->file), "%02d-camera%" PRId64 "-part%d.mp4", seq + 1, rg->camera_id,
                     filled + 1);
        else
            snprintf(it->file, sizeof(it->file), "%02d-camera%" PRId64 ".mp4", seq + 1, rg->camera_id);
        r = n ? cut(x, &cam, g + a, b - a, from, to, dir, it->file, &info) : SG_E_NOTFOUND;
        if (r == SG_E_NOTFOUND) {
            it->file[0] = 0; /* nothing recorded: the manifest says so, with the whole range as a gap */
        } else if (r < 0) {
            free(g);
            return r;
        } else {
            it->included = (struct sg_evidence_range){ info.first_utc_us, info.last_utc_us };
            it->frames = info.frames;
        }
        list_gaps(g + a, b - a, from, to, it);
        filled++;
        if (n == 0)
            break;
        a = b;
    }
    free(g);
    return filled;
}

/* ---- zip ---- */

/* Adds every regular file under dir/rel (recursively) to the archive as top/rel/...; buf holds
 * ZIP_CHUNK bytes. */
static int zip_tree(struct archive *a, const char *dir, const char *rel, const char *top, unsigned char *buf)
{
    char path[PATH_MAX];
    DIR *d;
    struct dirent *de;
    int r = 0;

    if (snprintf(path, sizeof(path), "%s%s%s", dir, *rel ? "/" : "", rel) >= (int)sizeof(path) ||
        !(d = opendir(path)))
        return -errno ? -errno : -ENAMETOOLONG;
    while (!r && (de = readdir(d))) {
        char sub[PATH_MAX], full[PATH_MAX], name[PATH_MAX];
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >= (int)sizeof(sub) ||
            snprintf(full, sizeof(full), "%s/%s", dir, sub) >= (int)sizeof(full) ||
            snprintf(name, sizeof(name), "%s/%s", top, sub) >= (int)sizeof(name)) {
            r = -ENAMETOOLONG;
            break;
        }
        if (lstat(full, &st) < 0) {
            r = -errno;
        } else if (S_ISDIR(st.st_mode)) {
            r = zip_tree(a, dir, sub, top, buf);
        } else if (S_ISREG(st.st_mode)) {
            struct archive_entry *e = archive_entry_new();
            int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            archive_entry_set_pathname(e, name);
            archive_entry_set_size(e, st.st_size);
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_mtime(e, st.st_mtim.tv_sec, 0);
            if (fd < 0 || archive_write_header(a, e) != ARCHIVE_OK) {
                r = fd < 0 ? -errno : SG_E_CORRUPT;
            } else {
                ssize_t got;
                while ((got = read(fd, buf, ZIP_CHUNK)) > 0)
                    if (archive_write_data(a, buf, (size_t)got) != got) {
                        r = SG_E_CORRUPT;
                        break;
                    }
                if (got < 0)
                    r = -errno;
            }
            if (fd >= 0)
                close(fd);
            archive_entry_free(e);
        }
    }
    closedir(d);
    return r;
}

/* The ZIP goes straight to its file and through SHA-256 (OpenSSL: the CPU's SHA extensions
 * where it has them) as it is written, so the package is read once for the archive, not twice. */
struct zip_out {
    int fd;
    EVP_MD_CTX *md;
    int64_t bytes;
    int err;
};

static la_ssize_t zip_write(struct archive *a, void *opaque, const void *buf, size_t n)
{
    struct zip_out *z = opaque;
    size_t done = 0;

    (void)a;
    while (done < n) {
        ssize_t w = write(z->fd, (const char *)buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            z->err = w < 0 ? -errno : -EIO;
            return -1;
        }
        done += (size_t)w;
    }
    EVP_DigestUpdate(z->md, buf, n);
    z->bytes += (int64_t)n;
    return (la_ssize_t)n;
}

/* Writes the tree under dir as zip_path (stored entries under top/); fills its SHA-256 (hex)
 * and size. The file is fsynced. */
static int zip_dir(const char *dir, const char *top, const char *zip_path, char sha_hex[65], int64_t *size)
{
    struct archive *a = archive_write_new();
    struct zip_out z = { .fd = -1 };
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hl = 0;
    int r;

    if (!a || !(z.md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(z.md, EVP_sha256(), NULL)) {
        archive_write_free(a);
        EVP_MD_CTX_free(z.md);
        return -ENOMEM;
    }
    if ((z.fd = open(zip_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640)) < 0) {
        r = -errno;
        archive_write_free(a);
        EVP_MD_CTX_free(z.md);
        return r;
    }
    if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
        archive_write_set_options(a, "zip:compression=store") != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open(a, &z, NULL, zip_write, NULL) != ARCHIVE_OK) {
        sg_error("export", 0, "cannot write %s: %s", zip_path, archive_error_string(a));
        r = SG_E_CORRUPT;
        goto out;
    }
    {
        /* from the heap, not thread-local: a 1 MiB __thread array is 1 MiB in every thread of
         * the process, HTTP and ingest threads included */
        unsigned char *buf = malloc(ZIP_CHUNK);
        r = buf ? zip_tree(a, dir, "", top, buf) : -ENOMEM;
        free(buf);
    }
    if (archive_write_close(a) != ARCHIVE_OK && !r) {
        sg_error("export", 0, "cannot finish %s: %s", zip_path, archive_error_string(a));
        r = z.err ? z.err : SG_E_CORRUPT;
    }
    if (!r && fsync(z.fd) < 0)
        r = -errno;
    if (!r) {
        EVP_DigestFinal_ex(z.md, h, &hl);
        sg_hex(h, hl, sha_hex);
        *size = z.bytes;
    }
out:
    archive_write_free(a);
    EVP_MD_CTX_free(z.md);
    close(z.fd);
    return r;
}

/* Removes dir and everything under it (only what the exporter made: regular files and
 * directories; symlinks are removed, never followed). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d))) {
        char p[PATH_MAX];
        struct stat st;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= (int)sizeof(p))
            continue;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* ---- one export ---- */

static void audit_result(struct sg_catalog *cat, const struct sg_export_job *j, const char *outcome,
                         json_t *detail, const char *action)
{
    char obj[32], *s = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);

    snprintf(obj, sizeof(obj), "export:%" PRId64, j->id);
    if (sg_audit_log(cat, j->site_id, j->user_id, j->user_name, "exporter", action, outcome, 0, obj, s) < 0)
        sg_error("export", 0, "cannot write the audit entry of export %" PRId64, j->id);
    free(s);
    json_decref(detail);
}

/* Cuts s (UTF-8) to at most max bytes without splitting a character. */
static void utf8_cut(char *s, size_t max)
{
    size_t n = strlen(s), k;

    if (n <= max)
        return;
    k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--; /* s[k] is the lead byte of the character that would be split: cut before it */
    s[k] = 0;
}

/* The site's ONVIF signing key and certificate (RSA: the format requires RSASSA-PSS), in
 * key_dir next to its Ed25519 key; made on the first ONVIF export. The package manifest, signed
 * with the Ed25519 key, holds each file's hash, and so vouches for the certificate inside it. */
static int onvif_signer(const struct sg_exporter_opts *o, const struct sg_site *site, struct sg_onvif_signer **out)
{
    char key[PATH_MAX], crt[PATH_MAX], cn[SG_NAME_MAX + 32];
    int r;

    if (snprintf(key, sizeof(key), "%s/site-%" PRId64 "-onvif.key", o->key_dir, site->id) >= (int)sizeof(key) ||
        snprintf(crt, sizeof(crt), "%s/site-%" PRId64 "-onvif.crt", o->key_dir, site->id) >= (int)sizeof(crt))
        return -ENAMETOOLONG;
    if ((r = sg_onvif_signer_load(key, crt, out)) != -ENOENT)
        return r;
    snprintf(cn, sizeof(cn), "Sargas %s (site %" PRId64 ")", site->name, site->id);
    if ((r = sg_onvif_signer_create(key, crt, cn, 3072, 0, out)) == 0)
        sg_info("export", 0, "made the ONVIF export key of site %" PRId64 ": %s", site->id, crt);
    return r;
}

/* Hands the parts that hold a file to the package writer. */
static int write_package(struct sg_catalog *cat, const struct sg_exporter_opts *o, const struct sg_export_job *j,
                         const struct sg_site *site, const unsigned char *sk, const char *work,
                         const struct part *parts, int n_parts)
{
    struct sg_evidence_item *items = calloc((size_t)n_parts + 1, sizeof(*items));
    struct sg_evidence_case ec;
    struct sg_evidence_info info = { 0 };
    struct sg_case cs;
    char err[256] = "";
    size_t n = 0;
    int r;

    if (!items)
        return -ENOMEM;
    for (int i = 0; i < n_parts; i++) {
        if (!parts[i].file[0])
            continue; /* nothing recorded in that range */
        items[n] = (struct sg_evidence_item){
            .camera_id = parts[i].camera_id, .camera_name = parts[i].camera_name, .stream = "main",
            .requested = parts[i].requested, .included = parts[i].included, .frames = parts[i].frames,
            .gaps = parts[i].gaps, .n_gaps = (size_t)parts[i].n_gaps, .file = parts[i].file,
        };
        n++;
    }
    if (!n) {
        free(items);
        return SG_E_NOTFOUND;
    }
    info.generator = o->generator;
    info.site_id = site->id;
    info.site_name = site->name;
    info.export_id = j->id;
    info.user = j->user_name;
    info.user_id = j->user_id;
    info.reason = j->reason;
    if (j->case_id && sg_catalog_case_get(cat, j->case_id, &cs) == 0) {
        ec = (struct sg_evidence_case){ cs.id, cs.reference, cs.title, cs.reason };
        info.export_case = &ec;
    }
    info.items = items;
    info.n_items = n;
    if ((r = sg_evidence_write(work, &info, sk, err, sizeof(err))) < 0)
        sg_error("export", 0, "export %" PRId64 ": the package cannot be written: %s", j->id,
                 err[0] ? err : sg_strerror(r));
    free(items);
    return r;
}

static int run_export(struct sg_catalog *cat, const struct sg_exporter_opts *o, struct sg_export_job *j,
                      const atomic_int *stop)
{
    struct sg_export_range *rg = NULL;
    struct part *parts = NULL;
    struct sg_site site;
    struct job_ctx x = { .o = o, .onvif = !strcmp(j->format, "onvif") };
    unsigned char sk[SG_SECKEY_BYTES];
    char work[PATH_MAX], media[PATH_MAX], zip[PATH_MAX], tmpzip[PATH_MAX], top[64], sha[65];
    char unit[SG_NAME_MAX + 16], user_info[SG_REASON_MAX + 160];
    struct sg_case cs;
    int n, n_parts = 0, r;
    int64_t bytes = 0;

    if ((n = sg_catalog_export_ranges(cat, j->id, &rg)) < 0)
        return n;
    if ((r = sg_catalog_site_get(cat, j->site_id, &site)) < 0 || (r = sg_sitekey_load(o->key_dir, j->site_id, sk)) < 0) {
        free(rg);
        return r;
    }
    if (x.onvif) {
        if ((r = onvif_signer(o, &site, &x.signer)) < 0) {
            sg_error("export", 0, "export %" PRId64 ": no ONVIF signing key: %s", j->id, sg_strerror(r));
            free(rg);
            sodium_memzero(sk, sizeof(sk));
            return r;
        }
        snprintf(unit, sizeof(unit), "Sargas, %s", site.name);
        if (j->case_id && sg_catalog_case_get(cat, j->case_id, &cs) == 0)
            snprintf(user_info, sizeof(user_info), "case %s; export %" PRId64 ": %s", cs.reference, j->id, j->reason);
        else
            snprintf(user_info, sizeof(user_info), "export %" PRId64 ": %s", j->id, j->reason);
        utf8_cut(user_info, SG_ONVIF_STR_MAX);
        x.desc = (struct sg_onvif_desc){ .unit_name = unit, .operator_name = j->user_name,
                                         .user_info = user_info, .export_time_us = sg_utc_us() };
    }
    snprintf(top, sizeof(top), "export-%" PRId64, j->id);
    if (snprintf(work, sizeof(work), "%s/.work-%" PRId64, o->export_dir, j->id) >= (int)sizeof(work) ||
        snprintf(media, sizeof(media), "%s/media", work) >= (int)sizeof(media) ||
        snprintf(zip, sizeof(zip), "%s/%s.zip", o->export_dir, top) >= (int)sizeof(zip) ||
        snprintf(tmpzip, sizeof(tmpzip), "%s/.%s.zip.tmp", o->export_dir, top) >= (int)sizeof(tmpzip)) {
        free(rg);
        sodium_memzero(sk, sizeof(sk));
        return -ENAMETOOLONG;
    }
    remove_tree(work);
    if ((r = sg_mkdir_p(media)) < 0)
        goto out;
    if (!(parts = calloc((size_t)n * MAX_PARTS + 1, sizeof(*parts)))) {
        r = -ENOMEM;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        if (atomic_load(stop)) {
            r = -EINTR;
            goto out;
        }
        if ((r = export_range(cat, &x, i, &rg[i], work, parts + n_parts, MAX_PARTS)) < 0)
            goto out;
        n_parts += r;
        sg_catalog_export_set_state(cat, j->id, SG_EXPORT_RUNNING, 0.9 * (i + 1) / n, NULL);
    }
    if ((r = write_package(cat, o, j, &site, sk, work, parts, n_parts)) < 0)
        goto out;
    if ((r = zip_dir(work, top, tmpzip, sha, &bytes)) < 0)
        goto out;
    if (rename(tmpzip, zip) < 0) {
        r = -errno;
        goto out;
    }
    sg_fsync_parent(zip);
    snprintf(j->file, sizeof(j->file), "%s.zip", top);
    snprintf(j->sha256, sizeof(j->sha256), "%s", sha);
    j->bytes = bytes;
    r = 0;
out:
    sodium_memzero(sk, sizeof(sk));
    sg_onvif_signer_destroy(&x.signer);
    unlink(tmpzip);
    remove_tree(work);
    free(parts);
    free(rg);
    return r;
}

static int run_one(struct sg_catalog *cat, const struct sg_exporter_opts *o, int64_t id, const atomic_int *stop)
{
    struct sg_export_job j;
    int r;

    if ((r = sg_catalog_export_get(cat, id, &j)) < 0)
        return r;
    sg_catalog_export_set_state(cat, id, SG_EXPORT_RUNNING, 0, NULL);
    sg_info("export", 0, "export %" PRId64 " by %s started", id, j.user_name);
    r = run_export(cat, o, &j, stop);
    if (r == -EINTR) {
        sg_catalog_export_set_state(cat, id, SG_EXPORT_QUEUED, 0, NULL); /* again at the next start */
        return r;
    }
    if (r < 0) {
        sg_error("export", 0, "export %" PRId64 " failed: %s", id, sg_strerror(r));
        sg_catalog_export_set_state(cat, id, SG_EXPORT_FAILED, j.progress, sg_strerror(r));
        audit_result(cat, &j, "failed", json_pack("{s:s}", "error", sg_strerror(r)), "export.finish");
        return r;
    }
    if ((r = sg_catalog_export_finish(cat, id, j.file, j.bytes, j.sha256)) < 0)
        return r;
    sg_info("export", 0, "export %" PRId64 " done: %s (%" PRId64 " bytes)", id, j.file, j.bytes);
    audit_result(cat, &j, "ok", json_pack("{s:s,s:I,s:s}", "file", j.file, "bytes", (json_int_t)j.bytes,
                                          "sha256", j.sha256), "export.finish");
    return 0;
}

int sg_exporter_run_one(const struct sg_exporter_opts *o, int64_t export_id)
{
    static const atomic_int never = 0;
    struct sg_catalog *cat;
    int r = sg_catalog_open(o->catalog_path, 0, &cat);

    if (r < 0)
        return r;
    if ((r = sg_mkdir_p(o->export_dir)) == 0)
        r = run_one(cat, o, export_id, &never);
    sg_catalog_close(&cat);
    return r;
}

/* Deletes the packages (and the jobs) of exports that finished more than keep_days ago: they
 * are copies of personal data, kept only as long as the site says. Each deletion is audited. */
static void expire(struct sg_catalog *cat, const struct sg_exporter_opts *o)
{
    struct sg_export_job *j = NULL;
    int n;

    if (o->keep_days <= 0)
        return;
    n = sg_catalog_export_expired(cat, sg_utc_us() - (int64_t)o->keep_days * 86400 * SG_US_PER_SEC, &j);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX];
        if (j[i].file[0] && !strchr(j[i].file, '/') && j[i].file[0] != '.' &&
            snprintf(path, sizeof(path), "%s/%s", o->export_dir, j[i].file) < (int)sizeof(path) &&
            unlink(path) < 0 && errno != ENOENT) {
            sg_error("export", 0, "cannot delete the expired package %s: %s", path, strerror(errno));
            continue;
        }
        if (sg_catalog_export_delete(cat, j[i].id) < 0)
            continue;
        sg_info("export", 0, "export %" PRId64 " (%s) deleted after %d days", j[i].id, j[i].file, o->keep_days);
        audit_result(cat, &j[i], "ok", json_pack("{s:s,s:i}", "file", j[i].file, "keep_days", o->keep_days),
                     "export.expire");
    }
    free(j);
}

/* ---- the thread ---- */

static void lowest_priority(void)
{
    /* nice 19 for this thread (Linux: per thread), and the idle I/O class: recording's reads
     * and writes always go first */
    pid_t tid = (pid_t)syscall(SYS_gettid);

    if (setpriority(PRIO_PROCESS, (id_t)tid, 19) < 0)
        sg_warn("export", 0, "cannot lower the exporter's CPU priority: %s", strerror(errno));
    if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, tid, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0)) < 0)
        sg_warn("export", 0, "cannot lower the exporter's I/O priority: %s", strerror(errno));
}

static void *exporter_main(void *arg)
{
    struct sg_exporter *e = arg;
    struct sg_catalog *cat = NULL;
    int64_t next_expire = 0;
    int r;

    lowest_priority();
    if (sg_catalog_open(e->o.catalog_path, 0, &cat) < 0) {
        sg_error("export", 0, "cannot open the catalog: exports are NOT running");
        return NULL;
    }
    if ((r = sg_catalog_export_requeue(cat)) > 0)
        sg_info("export", 0, "%d interrupted exports queued again", r);
    pthread_mutex_lock(&e->mu);
    while (!e->stop) {
        int64_t id = 0, now = sg_mono_ns();
        pthread_mutex_unlock(&e->mu);
        if (now >= next_expire) {
            expire(cat, &e->o);
            next_expire = now + 60 * SG_NS_PER_SEC;
        }
        if (sg_catalog_export_next(cat, &id) == 0 && id)
            run_one(cat, &e->o, id, &e->stop);
        pthread_mutex_lock(&e->mu);
        if (!id && !e->stop) {
            /* nothing queued: look again in a quarter of a second (the API only writes the
             * catalog; one indexed query is all an idle look costs) */
            int64_t wake = sg_mono_ns() + SG_NS_PER_SEC / 4;
            struct timespec ts = { .tv_sec = wake / SG_NS_PER_SEC, .tv_nsec = wake % SG_NS_PER_SEC };
            pthread_cond_timedwait(&e->cv, &e->mu, &ts);
        }
    }
    pthread_mutex_unlock(&e->mu);
    sg_catalog_close(&cat);
    return NULL;
}

int sg_exporter_start(const struct sg_exporter_opts *o, struct sg_exporter **out)
{
    struct sg_exporter *e = calloc(1, sizeof(*e));
    pthread_condattr_t ca;
    int r;

    *out = NULL;
    if (!e)
        return -ENOMEM;
    if ((r = sg_mkdir_p(o->export_dir)) < 0) {
        sg_error("export", 0, "cannot create the export directory %s: %s", o->export_dir, sg_strerror(r));
        free(e);
        return r;
    }
    e->o = *o;
    pthread_mutex_init(&e->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->cv, &ca);
    pthread_condattr_destroy(&ca);
    if ((r = sg_thread_start(&e->th, "sg-export", exporter_main, e)) < 0) {
        free(e);
        return r;
    }
    *out = e;
    return 0;
}

void sg_exporter_stop(struct sg_exporter **ep)
{
    struct sg_exporter *e = *ep;

    if (!e)
        return;
    pthread_mutex_lock(&e->mu);
    atomic_store(&e->stop, 1);
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    sg_thread_join(&e->th);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv);
    free(e);
    *ep = NULL;
}
