/* Reading segment files back: crash recovery and start-up reconciliation.
 *
 * Reconciliation rules (never silently drop data):
 *   - rows 'deleting': retention was interrupted; finish it (unlink, delete the row);
 *   - rows 'recording': the daemon died while writing; cut a torn tail off the file, set the
 *     row's end and size from the file, mark it complete (a file without one whole fragment
 *     held no video and is removed);
 *   - rows 'complete' whose file is gone: mark 'missing' and log it loudly;
 *     whose size differs: rescan and repair as above;
 *   - files without a row (created just before a crash, before the catalog commit): adopt;
 *   - video-loss intervals left open by a crash are closed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "ingest/h26x.h"
#include "record/box.h"
#include "record/fmp4.h"
#include "record/record.h"

static void parse_moov(const uint8_t *m, size_t len, struct sg_scan *out)
{
    /* moov/trak/mdia/minf/stbl/stsd */
    static const char *const path[] = { "trak", "mdia", "minf", "stbl", "stsd" };
    const uint8_t *p = m, *e = m + len;
    size_t l = len;

    for (int i = 0; i < 5; i++) {
        p = sg_box_find(p, e, path[i], &l);
        if (!p)
            return;
        e = p + l;
    }
    /* stsd: version/flags, entry_count, then the first sample entry */
    if (l < 8 + 8 + 28)
        return;
    if (!memcmp(p + 12, "avc1", 4))
        out->codec = SG_CODEC_H264;
    else if (!memcmp(p + 12, "hvc1", 4) || !memcmp(p + 12, "hev1", 4))
        out->codec = SG_CODEC_H265;
    out->width = sg_rd16(p + 8 + 8 + 24);
    out->height = sg_rd16(p + 8 + 8 + 26);
}

/* Sum of sample durations in a moof (trun entries, or tfhd default duration). */
static int moof_duration(const uint8_t *m, size_t len, int64_t *dur)
{
    struct sg_trun t;

    *dur = 0;
    if (sg_box_trun(m, len, &t) < 0)
        return SG_E_CORRUPT;
    for (uint32_t i = 0; i < t.n; i++)
        *dur += sg_trun_duration(&t, i);
    return 0;
}

int sg_scan_file(const char *path, struct sg_scan *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    struct sg_buf box = { 0 };
    uint8_t hdr[16];
    int64_t off = 0, frag_utc = 0, frag_start_off = -1;
    int saw_moov = 0, r = 0;

    memset(out, 0, sizeof(*out));
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    out->file_bytes = st.st_size;
    while (off + 8 <= st.st_size) {
        uint64_t sz;
        size_t hl;

        if ((r = sg_box_head(fd, off, st.st_size, hdr, &sz, &hl)) <= 0)
            break; /* 0: torn tail */
        r = 0;
        if (!memcmp(hdr + 4, "moov", 4) || !memcmp(hdr + 4, "moof", 4) || !memcmp(hdr + 4, "prft", 4)) {
            if (sz > SG_BOX_MAX) {
                r = SG_E_CORRUPT;
                break;
            }
            sg_buf_reset(&box);
            if ((r = sg_buf_reserve(&box, sz)) < 0 || (r = sg_box_pread(fd, box.data, sz, off)) < 0)
                break;
            box.len = sz;
        }
        if (!memcmp(hdr + 4, "moov", 4)) {
            parse_moov(box.data + 8, box.len - 8, out);
            saw_moov = 1;
            out->valid_bytes = off + (int64_t)sz;
        } else if (!memcmp(hdr + 4, "prft", 4)) {
            if (sz >= 8 + 4 + 4 + 8 && box.data[8] == 1)
                frag_utc = sg_utc_us_from_ntp(sg_rd64(box.data + 16));
            frag_start_off = off;
        } else if (!memcmp(hdr + 4, "moof", 4)) {
            int64_t d;
            /* A fragment claiming more than an hour is not one we wrote (ours hold one GOP). */
            if (moof_duration(box.data + 8, box.len - 8, &d) < 0 ||
                d > 3600LL * SG_FMP4_TIMESCALE) {
                r = 0;
                break; /* damaged fragment: the file is valid up to here */
            }
            if (frag_start_off < 0)
                frag_start_off = off;
            /* The fragment is complete only with its mdat. */
            off += (int64_t)sz;
            if (off + 8 > st.st_size || (r = sg_box_pread(fd, hdr, 8, off)) < 0 || memcmp(hdr + 4, "mdat", 4)) {
                r = 0;
                break;
            }
            sz = sg_rd32(hdr);
            if (sz < 8 || off + (int64_t)sz > st.st_size)
                break;
            off += (int64_t)sz;
            out->fragments++;
            if (!out->first_utc_us)
                out->first_utc_us = frag_utc;
            /* d * SG_US_PER_SEC / SG_FMP4_TIMESCALE, split so that it cannot overflow (d is up
             * to 10^6 samples of 2^32 ticks) */
            out->duration_us = (frag_utc ? frag_utc - out->first_utc_us : out->duration_us) +
                               d / SG_FMP4_TIMESCALE * SG_US_PER_SEC +
                               d % SG_FMP4_TIMESCALE * SG_US_PER_SEC / SG_FMP4_TIMESCALE;
            out->valid_bytes = off;
            frag_utc = 0;
            frag_start_off = -1;
            continue;
        }
        off += (int64_t)sz;
    }
    if (!saw_moov && r == 0)
        r = SG_E_CORRUPT;
out:
    sg_buf_free(&box);
    close(fd);
    return r;
}

/* Brings a file to its last complete fragment and returns what it holds. */
static int repair(const char *full, struct sg_scan *sc)
{
    int r = sg_scan_file(full, sc);

    if (r < 0)
        return r;
    if (sc->fragments > 0 && sc->valid_bytes < sc->file_bytes) {
        if (truncate(full, sc->valid_bytes) < 0)
            return -errno;
        sg_warn("recover", 0, "%s: cut %lld bytes of an unfinished fragment", full,
                (long long)(sc->file_bytes - sc->valid_bytes));
    }
    return 0;
}

static int fix_row(struct sg_catalog *cat, struct sg_segment *g, int *missing, int *repaired)
{
    char full[8192];
    struct sg_scan sc;
    struct stat st;
    int r;

    if (sg_path_join(g->root, g->path, full, sizeof(full)) < 0) {
        sg_error("recover", g->camera_id, "segment %lld has an invalid path '%s'", (long long)g->id, g->path);
        return sg_catalog_segment_update(cat, g->id, g->end_us, g->bytes, SG_SEG_MISSING);
    }
    if (g->status == SG_SEG_DELETING) {
        if (unlink(full) < 0 && errno != ENOENT)
            return -errno;
        return sg_catalog_segment_delete(cat, g->id);
    }
    if (stat(full, &st) < 0) {
        sg_error("recover", g->camera_id, "recording %s is listed in the catalog but missing on disk",
                 full);
        (*missing)++;
        return sg_catalog_segment_update(cat, g->id, g->end_us, g->bytes, SG_SEG_MISSING);
    }
    if (g->status == SG_SEG_COMPLETE && st.st_size == g->bytes)
        return 0;
    r = repair(full, &sc);
    if (r < 0 || sc.fragments == 0) {
        sg_warn("recover", g->camera_id, "%s holds no complete fragment: removed", full);
        unlink(full);
        return sg_catalog_segment_delete(cat, g->id);
    }
    (*repaired)++;
    return sg_catalog_segment_update(cat, g->id, g->start_us + sc.duration_us, sc.valid_bytes,
                                     SG_SEG_COMPLETE);
}

static int adopt(struct sg_catalog *cat, const char *root, const char *rel, int *adopted)
{
    struct sg_segment g;
    struct sg_scan sc;
    char full[8192], stream[8];
    long long cam;
    int r;

    if (sg_catalog_segment_by_path(cat, root, rel, &g) == 0)
        return 0;
    if (sscanf(rel, "%lld/%7[a-z]/", &cam, stream) != 2 || cam <= 0 || sg_stream_parse(stream) < 0)
        return 0;
    if (sg_path_join(root, rel, full, sizeof(full)) < 0)
        return 0;
    r = repair(full, &sc);
    if (r < 0 || sc.fragments == 0 || !sc.first_utc_us) {
        sg_warn("recover", cam, "%s: unknown file without complete video, removed", full);
        unlink(full);
        return 0;
    }
    memset(&g, 0, sizeof(g));
    g.camera_id = cam;
    g.stream = sg_stream_parse(stream);
    g.start_us = sc.first_utc_us;
    g.end_us = sc.first_utc_us + sc.duration_us;
    g.bytes = sc.valid_bytes;
    snprintf(g.root, sizeof(g.root), "%s", root);
    snprintf(g.path, sizeof(g.path), "%s", rel);
    snprintf(g.codec, sizeof(g.codec), "%s", sg_codec_name(sc.codec));
    g.width = sc.width;
    g.height = sc.height;
    g.status = SG_SEG_COMPLETE;
    if ((r = sg_catalog_segment_insert(cat, &g)) < 0)
        return r;
    sg_info("recover", cam, "adopted %s (not yet in the catalog when the daemon stopped)", rel);
    (*adopted)++;
    return 0;
}

/* Walks <root>/<cam>/<stream>/<day>/<hour>/<file>.mp4 (depth-limited, no symlinks). */
static int walk(struct sg_catalog *cat, const char *root, const char *rel, int depth, int *adopted)
{
    char dirpath[8192];
    DIR *d;
    struct dirent *e;
    int r = 0;

    if (rel[0])
        snprintf(dirpath, sizeof(dirpath), "%s/%s", root, rel);
    else
        snprintf(dirpath, sizeof(dirpath), "%s", root);
    d = opendir(dirpath);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    while ((e = readdir(d)) && r >= 0) {
        char child[SG_RELPATH_MAX];
        int type = e->d_type;
        if (e->d_name[0] == '.')
            continue;
        if (type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                continue;
            type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
        }
        if (snprintf(child, sizeof(child), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name) >= (int)sizeof(child))
            continue;
        if (depth < 4 && type == DT_DIR)
            r = walk(cat, root, child, depth + 1, adopted);
        else if (depth == 4 && type == DT_REG && strlen(e->d_name) > 4 &&
                 !strcmp(e->d_name + strlen(e->d_name) - 4, ".mp4"))
            r = adopt(cat, root, child, adopted);
    }
    closedir(d);
    return r;
}

int sg_reconcile(struct sg_catalog *cat, char (*roots)[SG_ROOT_MAX], int n_roots)
{
    struct sg_segment *segs = NULL;
    int n, r = 0, missing = 0, repaired = 0, adopted = 0, closed;
    int64_t t0 = sg_mono_ns();

    if ((r = sg_catalog_begin(cat)) < 0)
        return r;
    /* Every row, a page at a time (a cheap stat for complete ones). */
    n = 0;
    for (int64_t after = 0;;) {
        int k = sg_catalog_segment_page(cat, after, 4096, &segs);
        if (k < 0) {
            r = k;
            goto fail;
        }
        for (int i = 0; i < k && r >= 0; i++)
            if (segs[i].status != SG_SEG_MISSING)
                r = fix_row(cat, &segs[i], &missing, &repaired);
        if (k > 0)
            after = segs[k - 1].id;
        free(segs);
        segs = NULL;
        n += k;
        if (r < 0)
            goto fail;
        if (k < 4096)
            break;
    }
    for (int i = 0; i < n_roots && r >= 0; i++)
        r = walk(cat, roots[i], "", 0, &adopted);
    if (r < 0)
        goto fail;
    closed = sg_catalog_loss_close_all(cat, sg_utc_us());
    if ((r = sg_catalog_commit(cat)) < 0)
        return r;
    sg_info("recover", 0, "reconciled %d segments in %lld ms: %d repaired, %d adopted, %d missing, "
            "%d open loss intervals closed", n, (long long)((sg_mono_ns() - t0) / SG_NS_PER_MS),
            repaired, adopted, missing, closed < 0 ? 0 : closed);
    return 0;
fail:
    sg_catalog_rollback(cat);
    return r;
}
