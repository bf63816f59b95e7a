/* Growable byte buffer with a hard cap, and big-endian writers for box/packet building; an
 * immutable reference-counted block for bytes that several threads hold at once. */
#ifndef SG_BASE_BUF_H
#define SG_BASE_BUF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct sg_buf {
    uint8_t *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* 0 = unlimited; appends beyond it fail with SG_E_TOOBIG */
};

/* Makes room for `extra` more bytes. Returns 0, SG_E_TOOBIG past `max`, or -ENOMEM. */
int sg_buf_reserve(struct sg_buf *b, size_t extra);
int sg_buf_append(struct sg_buf *b, const void *p, size_t n);
/* Lower-case hex of n bytes into out (2 n + 1 bytes, NUL-terminated). */
void sg_hex(const void *p, size_t n, char *out);
int sg_buf_put_u8(struct sg_buf *b, uint8_t v);
int sg_buf_put_u16(struct sg_buf *b, uint16_t v);
int sg_buf_put_u24(struct sg_buf *b, uint32_t v);
int sg_buf_put_u32(struct sg_buf *b, uint32_t v);
int sg_buf_put_u64(struct sg_buf *b, uint64_t v);
int sg_buf_put_zero(struct sg_buf *b, size_t n);
/* Overwrites 4 bytes at `off` (used to patch box sizes). */
void sg_buf_patch_u32(struct sg_buf *b, size_t off, uint32_t v);
/* Drops `n` bytes from the front. */
void sg_buf_consume(struct sg_buf *b, size_t n);
void sg_buf_reset(struct sg_buf *b); /* len = 0, memory kept */
void sg_buf_free(struct sg_buf *b);  /* releases memory, keeps max */

static inline uint16_t sg_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t sg_rd24(const uint8_t *p) { return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]; }
static inline uint32_t sg_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t sg_rd64(const uint8_t *p) { return (uint64_t)sg_rd32(p) << 32 | sg_rd32(p + 4); }
static inline void sg_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Immutable bytes shared between threads, freed with the last reference: one received frame,
 * held once by the live hub, the recorder and the store (docs/ARCHITECTURE.md, "Memory"). */
struct sg_blob {
    atomic_int refs;
    size_t size;
    uint8_t data[];
};

struct sg_blob *sg_blob_copy(const void *p, size_t n); /* one reference; NULL without memory */
struct sg_blob *sg_blob_ref(struct sg_blob *b);        /* b may be NULL */
void sg_blob_unref(struct sg_blob **bp);               /* *bp may be NULL; sets it NULL */

#endif
