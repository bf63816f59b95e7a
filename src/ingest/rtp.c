#include "ingest/rtp.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "ingest/h26x.h"

int sg_rtp_parse(const uint8_t *pkt, size_t len, struct sg_rtp_hdr *h)
{
    size_t off = 12;
    int cc;

    if (len < 12 || (pkt[0] >> 6) != 2)
        return SG_E_PROTO;
    cc = pkt[0] & 0x0f;
    off += (size_t)cc * 4;
    if (pkt[0] & 0x10) { /* header extension */
        if (len < off + 4)
            return SG_E_PROTO;
        off += 4 + (size_t)sg_rd16(pkt + off + 2) * 4;
    }
    if (len < off)
        return SG_E_PROTO;
    h->marker = pkt[1] >> 7;
    h->payload_type = pkt[1] & 0x7f;
    h->seq = sg_rd16(pkt + 2);
    h->ts = sg_rd32(pkt + 4);
    h->ssrc = sg_rd32(pkt + 8);
    h->payload = pkt + off;
    h->payload_len = len - off;
    if (pkt[0] & 0x20) { /* padding */
        size_t pad = pkt[len - 1];
        if (pad == 0 || pad > h->payload_len)
            return SG_E_PROTO;
        h->payload_len -= pad;
    }
    return 0;
}

struct sg_depack {
    int codec;
    sg_au_cb cb;
    void *opaque;
    struct sg_buf au;
    uint32_t ts;
    int have_ts;
    int have_seq;
    uint16_t next_seq;
    size_t fu_start;     /* offset of the length prefix of the NAL being reassembled */
    int in_fu;
    int damaged;
    int oversize;        /* current frame exceeded the cap: drop everything until its end */
    struct sg_depack_stats st;
};

struct sg_depack *sg_depack_create(int codec, size_t max_frame_bytes, sg_au_cb cb, void *opaque)
{
    struct sg_depack *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->codec = codec;
    d->cb = cb;
    d->opaque = opaque;
    d->au.max = max_frame_bytes;
    return d;
}

void sg_depack_destroy(struct sg_depack **dp)
{
    if (!*dp)
        return;
    sg_buf_free(&(*dp)->au);
    free(*dp);
    *dp = NULL;
}

void sg_depack_reset(struct sg_depack *d)
{
    sg_buf_reset(&d->au);
    d->have_ts = d->have_seq = d->in_fu = d->damaged = d->oversize = 0;
}

const struct sg_depack_stats *sg_depack_stats(const struct sg_depack *d) { return &d->st; }

static void emit(struct sg_depack *d)
{
    if (d->in_fu) { /* the last NAL never got its end fragment */
        d->au.len = d->fu_start;
        d->in_fu = 0;
        d->damaged = 1;
    }
    if (d->oversize) {
        d->st.oversize_frames++;
    } else if (d->au.len > 0) {
        struct sg_au au = { d->au.data, d->au.len, d->ts, d->damaged };
        d->st.frames++;
        d->cb(d->opaque, &au);
    }
    sg_buf_reset(&d->au);
    d->damaged = 0;
    d->oversize = 0;
    /* A frame that grew the buffer far beyond normal gives the memory back. */
    if (d->au.cap > 4 * 1024 * 1024)
        sg_buf_free(&d->au);
}

static void append(struct sg_depack *d, const uint8_t *p, size_t n)
{
    if (d->oversize)
        return;
    if (sg_buf_append(&d->au, p, n) < 0) {
        d->oversize = 1; /* over max_frame_bytes (or out of memory): this frame is lost */
        d->in_fu = 0;
        sg_buf_reset(&d->au);
    }
}

static void add_nal(struct sg_depack *d, const uint8_t *nal, size_t len)
{
    uint8_t pre[4];

    if (len == 0)
        return;
    sg_wr32(pre, (uint32_t)len);
    append(d, pre, 4);
    append(d, nal, len);
}

static void fu_start(struct sg_depack *d, const uint8_t *hdr, size_t hdr_len)
{
    uint8_t pre[4] = { 0 };

    if (d->in_fu) { /* previous FU never ended */
        d->au.len = d->fu_start;
        d->damaged = 1;
    }
    d->fu_start = d->au.len;
    append(d, pre, 4);
    append(d, hdr, hdr_len);
    d->in_fu = !d->oversize;
}

static void fu_end(struct sg_depack *d)
{
    if (!d->in_fu)
        return;
    sg_buf_patch_u32(&d->au, d->fu_start, (uint32_t)(d->au.len - d->fu_start - 4));
    d->in_fu = 0;
}

static void h264(struct sg_depack *d, const uint8_t *p, size_t n)
{
    int type = p[0] & 0x1f;

    if (type >= 1 && type <= 23) {
        add_nal(d, p, n);
    } else if (type == 24) { /* STAP-A */
        size_t off = 1;
        while (off + 2 <= n) {
            size_t sz = sg_rd16(p + off);
            off += 2;
            if (sz == 0 || off + sz > n) {
                d->st.bad_packets++;
                d->damaged = 1;
                break;
            }
            add_nal(d, p + off, sz);
            off += sz;
        }
    } else if (type == 28) { /* FU-A */
        uint8_t fu, hdr;
        if (n < 2) {
            d->st.bad_packets++;
            return;
        }
        fu = p[1];
        if (fu & 0x80) {
            hdr = (uint8_t)((p[0] & 0xe0) | (fu & 0x1f));
            fu_start(d, &hdr, 1);
        } else if (!d->in_fu) {
            d->damaged = 1; /* continuation without a start: its start was lost */
            return;
        }
        append(d, p + 2, n - 2);
        if (fu & 0x40)
            fu_end(d);
    } else {
        d->st.bad_packets++; /* STAP-B, MTAP, FU-B: not used by cameras in non-interleaved mode */
    }
}

static void h265(struct sg_depack *d, const uint8_t *p, size_t n)
{
    int type;

    if (n < 3) {
        d->st.bad_packets++;
        return;
    }
    type = (p[0] >> 1) & 0x3f;
    if (type < 48) {
        add_nal(d, p, n);
    } else if (type == 48) { /* aggregation packet, no DONL */
        size_t off = 2;
        while (off + 2 <= n) {
            size_t sz = sg_rd16(p + off);
            off += 2;
            if (sz < 2 || off + sz > n) {
                d->st.bad_packets++;
                d->damaged = 1;
                break;
            }
            add_nal(d, p + off, sz);
            off += sz;
        }
    } else if (type == 49) { /* fragmentation unit */
        uint8_t fu = p[2];
        if (fu & 0x80) {
            uint8_t hdr[2] = { (uint8_t)((p[0] & 0x81) | ((fu & 0x3f) << 1)), p[1] };
            fu_start(d, hdr, 2);
        } else if (!d->in_fu) {
            d->damaged = 1;
            return;
        }
        append(d, p + 3, n - 3);
        if (fu & 0x40)
            fu_end(d);
    } else {
        d->st.bad_packets++; /* PACI and reserved types */
    }
}

void sg_depack_push(struct sg_depack *d, const struct sg_rtp_hdr *h)
{
    d->st.packets++;
    if (d->have_seq && h->seq != d->next_seq) {
        uint16_t gap = (uint16_t)(h->seq - d->next_seq);
        d->st.lost_packets += gap < 0x8000 ? gap : 1;
        if (d->au.len || d->in_fu)
            d->damaged = 1;
    }
    d->have_seq = 1;
    d->next_seq = (uint16_t)(h->seq + 1);
    /* A new timestamp starts a new frame even when the marker of the last one was lost. */
    if (d->have_ts && h->ts != d->ts && (d->au.len || d->oversize))
        emit(d);
    d->ts = h->ts;
    d->have_ts = 1;
    if (h->payload_len == 0) {
        d->st.bad_packets++;
    } else if (d->codec == SG_CODEC_H264) {
        h264(d, h->payload, h->payload_len);
    } else {
        h265(d, h->payload, h->payload_len);
    }
    if (h->marker)
        emit(d);
}
