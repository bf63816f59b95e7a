/* Bounded reading of our own ISO BMFF boxes, shared by crash recovery (record/scan.c) and
 * playback (playback/index.c). Nothing here trusts a size read from a file: every box is checked
 * against the bytes that are really there. Internal to record and playback. */
#ifndef SG_RECORD_BOX_H
#define SG_RECORD_BOX_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"

#define SG_BOX_MAX (4 * 1024 * 1024) /* moov / moof larger than this are not ours */
#define SG_TRUN_MAX 1000000          /* samples in one trun */

/* Reads exactly n bytes at off: 0, SG_E_CORRUPT when the file is shorter, or -errno. */
static inline int sg_box_pread(int fd, void *buf, size_t n, int64_t off)
{
    size_t done = 0;

    while (done < n) {
        ssize_t r = pread(fd, (uint8_t *)buf + done, n - done, (off_t)(off + (int64_t)done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return SG_E_CORRUPT;
        done += (size_t)r;
    }
    return 0;
}

/* Finds a child box `type` inside [p, end); returns its payload and payload size. */
static inline const uint8_t *sg_box_find(const uint8_t *p, const uint8_t *end, const char *type,
                                         size_t *len)
{
    while (end - p >= 8) {
        uint32_t sz = sg_rd32(p);
        if (sz < 8 || sz > (size_t)(end - p))
            return NULL;
        if (!memcmp(p + 4, type, 4)) {
            *len = sz - 8;
            return p + 8;
        }
        p += sz;
    }
    return NULL;
}

/* Reads the header of the top-level box at off of a file of file_size bytes into hdr[16]
 * (type at hdr + 4). Returns 1 with *size (whole box) and *hlen (8 or 16) when the box lies
 * entirely inside the file, 0 when the file ends inside it (a torn tail), or -errno. */
static inline int sg_box_head(int fd, int64_t off, int64_t file_size, uint8_t hdr[16],
                              uint64_t *size, size_t *hlen)
{
    int r;

    if (off < 0 || off + 8 > file_size)
        return 0;
    if ((r = sg_box_pread(fd, hdr, 8, off)) < 0)
        return r == SG_E_CORRUPT ? 0 : r;
    *size = sg_rd32(hdr);
    *hlen = 8;
    if (*size == 1) {
        if (off + 16 > file_size)
            return 0;
        if ((r = sg_box_pread(fd, hdr + 8, 8, off + 8)) < 0)
            return r == SG_E_CORRUPT ? 0 : r;
        *size = sg_rd64(hdr + 8);
        *hlen = 16;
    }
    /* off + 8 <= file_size here; a 64-bit size must not wrap off (unsigned compare) */
    if (*size < *hlen || *size > (uint64_t)(file_size - off))
        return 0;
    return 1;
}

/* The track run of a moof (one traf, one trun, as we write them) with its tfhd defaults. */
struct sg_trun {
    const uint8_t *entries;    /* first sample entry */
    uint32_t n, flags;
    size_t per;                /* bytes per sample entry */
    uint32_t def_duration, def_size;
    int64_t data_offset;       /* from the start of moof; -1 when absent */
    int64_t base_dts;          /* tfdt; -1 when absent or out of range */
};

/* Parses the payload of a moof box [m, m + len). Returns 0 or SG_E_CORRUPT. */
static inline int sg_box_trun(const uint8_t *m, size_t len, struct sg_trun *t)
{
    const uint8_t *traf, *p, *e;
    size_t l, off = 8;

    memset(t, 0, sizeof(*t));
    t->data_offset = t->base_dts = -1;
    traf = sg_box_find(m, m + len, "traf", &l);
    if (!traf)
        return SG_E_CORRUPT;
    e = traf + l;
    if ((p = sg_box_find(traf, e, "tfhd", &l)) && l >= 8) {
        uint32_t f = sg_rd24(p + 1);
        size_t o = 8 + ((f & 0x1) ? 8 : 0) + ((f & 0x2) ? 4 : 0);
        if ((f & 0x8) && l >= o + 4)
            t->def_duration = sg_rd32(p + o);
        o += (f & 0x8) ? 4 : 0;
        if ((f & 0x10) && l >= o + 4)
            t->def_size = sg_rd32(p + o);
    }
    if ((p = sg_box_find(traf, e, "tfdt", &l)) && l >= 8) {
        uint64_t d = p[0] == 1 ? (l >= 12 ? sg_rd64(p + 4) : UINT64_MAX) : sg_rd32(p + 4);
        /* no real timeline gets to 2^62; the bound keeps every later sum in range */
        if (d < (1ULL << 62))
            t->base_dts = (int64_t)d;
    }
    p = sg_box_find(traf, e, "trun", &l);
    if (!p || l < 8)
        return SG_E_CORRUPT;
    t->flags = sg_rd24(p + 1);
    t->n = sg_rd32(p + 4);
    if (t->flags & 0x1) {
        if (l < off + 4)
            return SG_E_CORRUPT;
        t->data_offset = (int32_t)sg_rd32(p + off);
        off += 4;
    }
    off += (t->flags & 0x4) ? 4 : 0;
    t->per = ((t->flags & 0x100) ? 4 : 0) + ((t->flags & 0x200) ? 4 : 0) +
             ((t->flags & 0x400) ? 4 : 0) + ((t->flags & 0x800) ? 4 : 0);
    if (t->n > SG_TRUN_MAX || off + (size_t)t->n * t->per > l)
        return SG_E_CORRUPT;
    t->entries = p + off;
    return 0;
}

static inline uint32_t sg_trun_duration(const struct sg_trun *t, uint32_t i)
{
    return (t->flags & 0x100) ? sg_rd32(t->entries + i * t->per) : t->def_duration;
}

static inline uint32_t sg_trun_size(const struct sg_trun *t, uint32_t i)
{
    return (t->flags & 0x200) ? sg_rd32(t->entries + i * t->per + ((t->flags & 0x100) ? 4 : 0))
                              : t->def_size;
}

/* 1 when sample i is a sync sample (sample_is_non_sync_sample clear); without per-sample
 * flags only the first sample of a fragment is taken as one (our fragments start with one). */
static inline int sg_trun_key(const struct sg_trun *t, uint32_t i)
{
    size_t o = ((t->flags & 0x100) ? 4 : 0) + ((t->flags & 0x200) ? 4 : 0);

    if (!(t->flags & 0x400))
        return i == 0;
    return !(sg_rd32(t->entries + i * t->per + o) & 0x00010000);
}

#endif
