#include "base/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

int sg_buf_reserve(struct sg_buf *b, size_t extra)
{
    size_t need, ncap;
    uint8_t *p;

    if (extra > SIZE_MAX - b->len)
        return SG_E_TOOBIG;
    need = b->len + extra;
    if (b->max && need > b->max)
        return SG_E_TOOBIG;
    if (need <= b->cap)
        return 0;
    ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (b->max && ncap > b->max)
        ncap = b->max;
    p = realloc(b->data, ncap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = ncap;
    return 0;
}

int sg_buf_append(struct sg_buf *b, const void *p, size_t n)
{
    int r = sg_buf_reserve(b, n);

    if (r < 0)
        return r;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int sg_buf_put_u8(struct sg_buf *b, uint8_t v) { return sg_buf_append(b, &v, 1); }

int sg_buf_put_u16(struct sg_buf *b, uint16_t v)
{
    uint8_t t[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    return sg_buf_append(b, t, 2);
}

int sg_buf_put_u24(struct sg_buf *b, uint32_t v)
{
    uint8_t t[3] = { (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    return sg_buf_append(b, t, 3);
}

int sg_buf_put_u32(struct sg_buf *b, uint32_t v)
{
    uint8_t t[4];
    sg_wr32(t, v);
    return sg_buf_append(b, t, 4);
}

int sg_buf_put_u64(struct sg_buf *b, uint64_t v)
{
    int r = sg_buf_put_u32(b, (uint32_t)(v >> 32));
    return r < 0 ? r : sg_buf_put_u32(b, (uint32_t)v);
}

int sg_buf_put_zero(struct sg_buf *b, size_t n)
{
    int r = sg_buf_reserve(b, n);

    if (r < 0)
        return r;
    memset(b->data + b->len, 0, n);
    b->len += n;
    return 0;
}

void sg_buf_patch_u32(struct sg_buf *b, size_t off, uint32_t v)
{
    if (off + 4 <= b->len)
        sg_wr32(b->data + off, v);
}

void sg_buf_consume(struct sg_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void sg_buf_reset(struct sg_buf *b) { b->len = 0; }

void sg_buf_free(struct sg_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void sg_hex(const void *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = 0;
}

struct sg_blob *sg_blob_copy(const void *p, size_t n)
{
    struct sg_blob *b;

    if (n > SIZE_MAX - sizeof(*b) || !(b = malloc(sizeof(*b) + n)))
        return NULL;
    atomic_init(&b->refs, 1);
    b->size = n;
    if (n)
        memcpy(b->data, p, n);
    return b;
}

struct sg_blob *sg_blob_ref(struct sg_blob *b)
{
    if (b)
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void sg_blob_unref(struct sg_blob **bp)
{
    struct sg_blob *b = *bp;

    *bp = NULL;
    if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
        free(b);
}
