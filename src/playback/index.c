/* Fragment index of our segment files (record/fmp4.h): where every fragment is and when it was
 * recorded, built incrementally with pread, never trusting a size read from the file, plus a
 * small LRU cache of indexes shared by the HTTP threads. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "playback/playback.h"
#include "record/box.h"
#include "record/fmp4.h"

#define PRFT_MAX 256            /* ours is 32 bytes */
#define FRAG_DURATION_MAX (3600LL * SG_FMP4_TIMESCALE) /* ours hold one GOP */
#define INIT_BOXES_MAX 8        /* top-level boxes before moov (ftyp, maybe free) */
#define VISUAL_ENTRY_FIELDS 78  /* VisualSampleEntry fields before its child boxes */

/* ---- init segment ---- */

/* moov/trak/mdia/minf/stbl/stsd: codec, picture size and decoder configuration. */
static int parse_moov(const uint8_t *m, size_t len, struct sg_frag_index *idx)
{
    static const char *const path[] = { "trak", "mdia", "minf", "stbl", "stsd" };
    const uint8_t *p = m, *e = m + len, *cfg;
    size_t l = len, cl;
    uint32_t esz;

    for (int i = 0; i < 5; i++) {
        if (!(p = sg_box_find(p, e, path[i], &l)))
            return SG_E_CORRUPT;
        e = p + l;
    }
    /* stsd: version/flags, entry_count, then the first sample entry */
    if (l < 8 + 8 + VISUAL_ENTRY_FIELDS)
        return SG_E_CORRUPT;
    p += 8;
    esz = sg_rd32(p);
    if (esz < 8 + VISUAL_ENTRY_FIELDS || esz > l - 8)
        return SG_E_CORRUPT;
    if (!memcmp(p + 4, "avc1", 4) || !memcmp(p + 4, "avc3", 4))
        idx->codec = SG_CODEC_H264;
    else if (!memcmp(p + 4, "hvc1", 4) || !memcmp(p + 4, "hev1", 4))
        idx->codec = SG_CODEC_H265;
    else
        return SG_E_UNSUPPORTED;
    idx->width = sg_rd16(p + 8 + 24);
    idx->height = sg_rd16(p + 8 + 26);
    cfg = sg_box_find(p + 8 + VISUAL_ENTRY_FIELDS, p + esz,
                      idx->codec == SG_CODEC_H264 ? "avcC" : "hvcC", &cl);
    if (!cfg || cl < 7 || cfg[0] != 1)
        return SG_E_CORRUPT;
    if (sg_codecs_rfc6381(idx->codec, cfg + 1, cl - 1, idx->rfc6381, sizeof(idx->rfc6381)) < 0)
        return SG_E_CORRUPT;
    if (!(idx->config = malloc(cl)))
        return -ENOMEM;
    memcpy(idx->config, cfg, cl);
    idx->config_len = cl;
    return 0;
}

/* ftyp, then moov (a torn or missing one means the file is not a recording). */
static int read_init(int fd, int64_t file_size, struct sg_frag_index *idx)
{
    uint8_t hdr[16], *moov = NULL;
    uint64_t sz;
    size_t hl;
    int64_t off = 0;
    int r;

    for (int i = 0; i < INIT_BOXES_MAX; i++) {
        if ((r = sg_box_head(fd, off, file_size, hdr, &sz, &hl)) <= 0)
            return r < 0 ? r : SG_E_CORRUPT;
        if (i == 0 && memcmp(hdr + 4, "ftyp", 4))
            return SG_E_CORRUPT;
        if (!memcmp(hdr + 4, "moov", 4))
            break;
        if (!memcmp(hdr + 4, "moof", 4) || !memcmp(hdr + 4, "mdat", 4))
            return SG_E_CORRUPT;
        off += (int64_t)sz;
    }
    if (memcmp(hdr + 4, "moov", 4) || sz > SG_BOX_MAX)
        return SG_E_CORRUPT;
    if (!(moov = malloc(sz)))
        return -ENOMEM;
    if ((r = sg_box_pread(fd, moov, sz, off)) == 0)
        r = parse_moov(moov + hl, sz - hl, idx);
    free(moov);
    if (r < 0) {
        free(idx->config);
        idx->config = NULL;
        idx->config_len = 0;
        return r;
    }
    idx->init_size = off + (int64_t)sz;
    idx->scanned_to = idx->init_size;
    return 0;
}

/* ---- fragments ---- */

/* Parses a fragment's boxes held in memory: an optional prft at p[0..moof_off), the moof at
 * p[moof_off..len), followed in the file by an mdat of mdat_size bytes with a header of
 * mdat_hl. Fills f (not offset/size; utc_us only when there is a prft, else *has_utc = 0) and
 * the trun. Returns 0 or SG_E_CORRUPT. */
static int parse_frag(const uint8_t *p, size_t moof_off, size_t len, uint64_t mdat_size,
                      size_t mdat_hl, struct sg_frag *f, struct sg_trun *t, int *has_utc)
{
    size_t moof_size = len - moof_off;
    int64_t dur = 0, bytes = 0;

    *has_utc = 0;
    if (moof_off >= 8 + 4 + 4 + 8 && p[8] == 1) { /* prft version 1: 64-bit media time */
        f->utc_us = sg_utc_us_from_ntp(sg_rd64(p + 16));
        *has_utc = 1;
    }
    if (moof_size < 8 || sg_box_trun(p + moof_off + 8, moof_size - 8, t) < 0)
        return SG_E_CORRUPT;
    if (t->base_dts < 0 || t->data_offset < 0 || t->n == 0)
        return SG_E_CORRUPT;
    for (uint32_t i = 0; i < t->n; i++) {
        dur += sg_trun_duration(t, i);
        bytes += sg_trun_size(t, i);
    }
    /* Every sample inside this fragment's mdat payload (default-base-is-moof). */
    if (dur > FRAG_DURATION_MAX || t->data_offset < (int64_t)(moof_size + mdat_hl) ||
        (uint64_t)(t->data_offset + bytes) > moof_size + mdat_size)
        return SG_E_CORRUPT;
    f->dts = t->base_dts;
    f->duration = dur;
    f->samples = (int)t->n;
    return 0;
}

/* Reads the fragment starting at off. Returns 1 with *f and *end (its last byte + 1), 0 when
 * the file ends inside it or it is damaged (the file is valid up to off), or -errno. */
static int read_frag(int fd, int64_t off, int64_t file_size, struct sg_buf *b, struct sg_frag *f,
                     int *has_utc, int64_t *end)
{
    uint8_t hdr[16];
    uint64_t sz, moof_sz, mdat_sz;
    size_t hl, prft = 0, mdat_hl;
    struct sg_trun t;
    int r;

    if ((r = sg_box_head(fd, off, file_size, hdr, &sz, &hl)) <= 0)
        return r;
    if (!memcmp(hdr + 4, "prft", 4)) {
        if (sz > PRFT_MAX || hl != 8)
            return 0;
        prft = sz;
        if ((r = sg_box_head(fd, off + (int64_t)prft, file_size, hdr, &moof_sz, &hl)) <= 0)
            return r;
    } else {
        moof_sz = sz;
    }
    if (memcmp(hdr + 4, "moof", 4) || hl != 8 || moof_sz > SG_BOX_MAX)
        return 0;
    if ((r = sg_box_head(fd, off + (int64_t)(prft + moof_sz), file_size, hdr, &mdat_sz,
                         &mdat_hl)) <= 0)
        return r;
    if (memcmp(hdr + 4, "mdat", 4))
        return 0;
    sg_buf_reset(b);
    if ((r = sg_buf_reserve(b, prft + moof_sz)) < 0 ||
        (r = sg_box_pread(fd, b->data, prft + moof_sz, off)) < 0)
        return r == SG_E_CORRUPT ? 0 : r;
    b->len = prft + moof_sz;
    if (parse_frag(b->data, prft, b->len, mdat_sz, mdat_hl, f, &t, has_utc) < 0)
        return 0;
    f->offset = off;
    *end = off + (int64_t)(prft + moof_sz + mdat_sz);
    f->size = *end - off;
    return 1;
}

static int skippable(const uint8_t *type)
{
    static const char *const ok[] = { "free", "skip", "styp", "sidx", "emsg", "udta" };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!memcmp(type, ok[i], 4))
            return 1;
    return 0;
}

static int push_frag(struct sg_frag_index *idx, const struct sg_frag *f)
{
    if (idx->n == idx->cap) {
        int cap = idx->cap ? idx->cap * 2 : 64;
        struct sg_frag *nf;
        if (idx->cap > INT_MAX / 4)
            return SG_E_TOOBIG;
        if (!(nf = realloc(idx->frags, (size_t)cap * sizeof(*nf))))
            return -ENOMEM;
        idx->frags = nf;
        idx->cap = cap;
    }
    idx->frags[idx->n++] = *f;
    return 0;
}

int sg_frag_index_update(int fd, int64_t file_size, struct sg_frag_index *idx)
{
    struct sg_buf b = { 0 };
    int r = 0;

    if (idx->init_size == 0 && (r = read_init(fd, file_size, idx)) < 0)
        return r;
    while (idx->scanned_to < file_size) {
        struct sg_frag f = { 0 };
        int64_t end = 0;
        int has_utc;

        r = read_frag(fd, idx->scanned_to, file_size, &b, &f, &has_utc, &end);
        if (r == 0 && b.len == 0) {
            /* not a fragment: step over boxes that may sit between fragments */
            uint8_t hdr[16];
            uint64_t sz;
            size_t hl;
            int h = sg_box_head(fd, idx->scanned_to, file_size, hdr, &sz, &hl);
            if (h > 0 && skippable(hdr + 4)) {
                idx->scanned_to += (int64_t)sz;
                continue;
            }
            r = h < 0 ? h : 0;
        }
        if (r <= 0)
            break; /* torn or damaged tail: stays unscanned */
        if (!has_utc) /* not ours, but readable: continue the previous fragment's clock */
            f.utc_us = idx->n ? sg_frag_end_us(&idx->frags[idx->n - 1]) : 0;
        if ((r = push_frag(idx, &f)) < 0)
            break;
        idx->scanned_to = end;
        sg_buf_reset(&b);
    }
    sg_buf_free(&b);
    return r < 0 ? r : 0;
}

void sg_frag_index_free(struct sg_frag_index *idx)
{
    if (!idx)
        return;
    free(idx->frags);
    free(idx->config);
    memset(idx, 0, sizeof(*idx));
}

int sg_frag_index_copy(struct sg_frag_index *dst, const struct sg_frag_index *src)
{
    *dst = *src;
    dst->frags = NULL;
    dst->config = NULL;
    dst->cap = src->n;
    if (src->n && !(dst->frags = malloc((size_t)src->n * sizeof(*dst->frags))))
        goto fail;
    if (src->n)
        memcpy(dst->frags, src->frags, (size_t)src->n * sizeof(*dst->frags));
    if (src->config_len && !(dst->config = malloc(src->config_len)))
        goto fail;
    if (src->config_len)
        memcpy(dst->config, src->config, src->config_len);
    return 0;
fail:
    sg_frag_index_free(dst);
    return -ENOMEM;
}

int sg_frag_index_find(const struct sg_frag_index *idx, int64_t utc_us)
{
    int lo = 0, hi = idx->n - 1;

    if (idx->n <= 0)
        return -1;
    /* the last fragment starting at or before utc_us */
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if (idx->frags[mid].utc_us <= utc_us)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* ---- decoder configuration to parameter sets ---- */

static int store_ps(struct sg_codec_params *p, int kind, const uint8_t *nal, size_t len)
{
    if (len < 2)
        return SG_E_CORRUPT;
    if (sg_params_store(p, kind, nal, len) < 0)
        return SG_E_TOOBIG;
    if (kind == 2 && sg_sps_parse(p->codec, nal, len, p) < 0)
        return SG_E_UNSUPPORTED;
    return 0;
}

/* avcC: SPS and PPS arrays (ISO/IEC 14496-15 5.3.3.1); the first of each is kept. */
static int avcc_params(const uint8_t *c, size_t len, struct sg_codec_params *p)
{
    size_t off = 6;
    int r;

    for (int kind = 2; kind <= 3; kind++) {
        int count = kind == 2 ? c[5] & 0x1f : (off < len ? c[off++] : 0);
        for (int i = 0; i < count; i++) {
            size_t nl;
            if (off + 2 > len || (nl = sg_rd16(c + off)) > len - off - 2)
                return SG_E_CORRUPT;
            if ((kind == 2 ? p->sps_len : p->pps_len) == 0 &&
                (r = store_ps(p, kind, c + off + 2, nl)) < 0)
                return r;
            off += 2 + nl;
        }
    }
    return 0;
}

/* hvcC: arrays of VPS/SPS/PPS (and SEI) after the 22 fixed bytes (8.3.3.1). */
static int hvcc_params(const uint8_t *c, size_t len, struct sg_codec_params *p)
{
    size_t off = 23;
    int arrays, r;

    if (len < 23)
        return SG_E_CORRUPT;
    arrays = c[22];
    for (int a = 0; a < arrays; a++) {
        int kind, count;
        if (off + 3 > len)
            return SG_E_CORRUPT;
        kind = sg_nal_param_kind(SG_CODEC_H265, c[off] & 0x3f);
        count = sg_rd16(c + off + 1);
        off += 3;
        for (int i = 0; i < count; i++) {
            size_t nl;
            if (off + 2 > len || (nl = sg_rd16(c + off)) > len - off - 2)
                return SG_E_CORRUPT;
            if (kind && (r = store_ps(p, kind, c + off + 2, nl)) < 0)
                return r;
            off += 2 + nl;
        }
    }
    return 0;
}

int sg_frag_index_params(const struct sg_frag_index *idx, struct sg_codec_params *p)
{
    int r;

    memset(p, 0, sizeof(*p));
    p->codec = idx->codec;
    if (!idx->config || idx->config_len < 7)
        return SG_E_CORRUPT;
    if (idx->codec == SG_CODEC_H264)
        r = avcc_params(idx->config, idx->config_len, p);
    else if (idx->codec == SG_CODEC_H265)
        r = hvcc_params(idx->config, idx->config_len, p);
    else
        r = SG_E_UNSUPPORTED;
    if (r == 0 && (!p->sps_len || !p->pps_len || (p->codec == SG_CODEC_H265 && !p->vps_len)))
        r = SG_E_CORRUPT;
    return r;
}

/* ---- reading a fragment's samples ---- */

void sg_frag_data_free(struct sg_frag_data *d)
{
    if (!d)
        return;
    free(d->buf);
    free(d->s);
    memset(d, 0, sizeof(*d));
}

/* Splits a fragment held in d->buf into samples. */
static int split_frag(struct sg_frag_data *d)
{
    const uint8_t *p = d->buf;
    size_t moof_off = 0, moof_end, mdat_hl = 8;
    uint64_t mdat_sz;
    struct sg_frag f;
    struct sg_trun t;
    int has_utc;
    int64_t pos, dts;

    if (d->len >= 8 && !memcmp(p + 4, "prft", 4))
        moof_off = sg_rd32(p);
    if (moof_off > PRFT_MAX || moof_off + 8 > d->len || memcmp(p + moof_off + 4, "moof", 4))
        return SG_E_CORRUPT;
    moof_end = moof_off + sg_rd32(p + moof_off);
    if (moof_end < moof_off + 8 || moof_end + 8 > d->len || memcmp(p + moof_end + 4, "mdat", 4))
        return SG_E_CORRUPT;
    mdat_sz = sg_rd32(p + moof_end);
    if (mdat_sz == 1 && moof_end + 16 <= d->len) {
        mdat_sz = sg_rd64(p + moof_end + 8);
        mdat_hl = 16;
    }
    if (mdat_sz < mdat_hl || mdat_sz > d->len - moof_end)
        return SG_E_CORRUPT;
    if (parse_frag(p, moof_off, moof_end, mdat_sz, mdat_hl, &f, &t, &has_utc) < 0)
        return SG_E_CORRUPT;
    if (!(d->s = calloc(t.n, sizeof(*d->s))))
        return -ENOMEM;
    pos = (int64_t)moof_off + t.data_offset;
    dts = t.base_dts;
    for (uint32_t i = 0; i < t.n; i++) {
        d->s[i].data = p + pos;
        d->s[i].size = sg_trun_size(&t, i);
        d->s[i].duration = sg_trun_duration(&t, i);
        d->s[i].dts = dts;
        d->s[i].key = sg_trun_key(&t, i);
        pos += d->s[i].size;
        dts += d->s[i].duration;
    }
    d->n = (int)t.n;
    return 0;
}

int sg_frag_read(int fd, const struct sg_frag *f, size_t max_bytes, struct sg_frag_data *out)
{
    int r;

    memset(out, 0, sizeof(*out));
    if (f->size <= 0 || f->offset < 0)
        return SG_E_CORRUPT;
    if ((uint64_t)f->size > max_bytes)
        return SG_E_TOOBIG;
    if (!(out->buf = malloc((size_t)f->size)))
        return -ENOMEM;
    out->len = (size_t)f->size;
    if ((r = sg_box_pread(fd, out->buf, out->len, f->offset)) < 0 || (r = split_frag(out)) < 0)
        goto fail;
    return 0;
fail:
    sg_frag_data_free(out);
    return r;
}

/* ---- cache ---- */

struct entry {
    int64_t segment_id;
    char *path;                /* malloc'd */
    struct sg_frag_index idx;
    uint64_t used;             /* LRU clock */
};

struct sg_frag_cache {
    pthread_mutex_t mu;
    struct entry *e;           /* capacity entries; path == NULL: free */
    int cap;
    uint64_t clock;
};

struct sg_frag_cache *sg_frag_cache_create(int capacity)
{
    struct sg_frag_cache *c = calloc(1, sizeof(*c));

    if (!c)
        abort(); /* bookkeeping allocation (STYLE.md habit 6) */
    c->cap = capacity > 0 ? capacity : 1;
    if (!(c->e = calloc((size_t)c->cap, sizeof(*c->e))))
        abort();
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

static void entry_clear(struct entry *e)
{
    free(e->path);
    sg_frag_index_free(&e->idx);
    memset(e, 0, sizeof(*e));
}

void sg_frag_cache_destroy(struct sg_frag_cache **cp)
{
    struct sg_frag_cache *c = cp ? *cp : NULL;

    if (!c)
        return;
    for (int i = 0; i < c->cap; i++)
        entry_clear(&c->e[i]);
    free(c->e);
    pthread_mutex_destroy(&c->mu);
    free(c);
    *cp = NULL;
}

/* Under c->mu: the entry of segment_id (with the same path), else NULL. */
static struct entry *lookup(struct sg_frag_cache *c, int64_t segment_id, const char *path)
{
    for (int i = 0; i < c->cap; i++)
        if (c->e[i].path && c->e[i].segment_id == segment_id && !strcmp(c->e[i].path, path))
            return &c->e[i];
    return NULL;
}

/* Under c->mu: stores a copy of idx unless the cache already holds a newer one. */
static void store(struct sg_frag_cache *c, int64_t segment_id, const char *path,
                  const struct sg_frag_index *idx)
{
    struct entry *e = lookup(c, segment_id, path);
    struct sg_frag_index copy;
    char *p;

    if (e && e->idx.scanned_to >= idx->scanned_to)
        return;
    if (sg_frag_index_copy(&copy, idx) < 0 || !(p = strdup(path))) {
        sg_frag_index_free(&copy);
        return; /* the cache is only an optimisation */
    }
    if (!e) {
        e = &c->e[0];
        for (int i = 0; i < c->cap; i++) {
            if (!c->e[i].path) {
                e = &c->e[i];
                break;
            }
            if (c->e[i].used < e->used)
                e = &c->e[i];
        }
    }
    entry_clear(e);
    e->segment_id = segment_id;
    e->path = p;
    e->idx = copy;
    e->used = ++c->clock;
}

int sg_frag_cache_get(struct sg_frag_cache *c, int64_t segment_id, const char *abs_path,
                      struct sg_frag_index *out)
{
    struct entry *e;
    struct stat st;
    int fd, r = 0, grew;

    memset(out, 0, sizeof(*out));
    if ((fd = open(abs_path, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    pthread_mutex_lock(&c->mu);
    e = lookup(c, segment_id, abs_path);
    /* a file shorter than what was scanned was repaired or replaced: start again */
    if (e && e->idx.scanned_to > st.st_size) {
        entry_clear(e);
    } else if (e) {
        e->used = ++c->clock;
        r = sg_frag_index_copy(out, &e->idx);
    }
    pthread_mutex_unlock(&c->mu);
    if (r < 0)
        goto out;
    grew = out->init_size == 0 || st.st_size > out->scanned_to;
    /* the file is read without the lock: other viewers are not held up by this one's I/O */
    if (grew && (r = sg_frag_index_update(fd, st.st_size, out)) < 0)
        goto out;
    if (grew) {
        pthread_mutex_lock(&c->mu);
        store(c, segment_id, abs_path, out);
        pthread_mutex_unlock(&c->mu);
    }
out:
    close(fd);
    if (r < 0)
        sg_frag_index_free(out);
    return r;
}

/* ---- segment files ---- */

int sg_segment_path(const char (*roots)[SG_ROOT_MAX], int n_roots, const struct sg_segment *seg,
                    char *abs)
{
    char root_real[PATH_MAX], joined[PATH_MAX];
    int known = 0;

    for (int i = 0; i < n_roots; i++)
        if (!strcmp(roots[i], seg->root))
            known = 1;
    if (!known)
        return -ENOENT; /* a root that is no longer configured */
    if (!realpath(seg->root, root_real) || sg_path_join(seg->root, seg->path, joined, sizeof(joined)) < 0)
        return -ENOENT;
    return sg_path_resolve_under(root_real, joined, abs);
}
