/* RTP depacketisation: single NAL, STAP-A, FU-A, lost fragments, the frame-size cap, H.265 FU. */
#include <stdlib.h>

#include "base/err.h"
#include "ingest/h26x.h"
#include "ingest/rtp.h"
#include "check.h"

struct got {
    int frames, damaged;
    size_t last_size;
    uint8_t last[4096];
    uint32_t last_ts;
};

static void cb(void *opaque, const struct sg_au *au)
{
    struct got *g = opaque;
    g->frames++;
    g->damaged += au->damaged;
    g->last_size = au->size;
    g->last_ts = au->rtp_ts;
    if (au->size <= sizeof(g->last))
        memcpy(g->last, au->data, au->size);
}

static void push(struct sg_depack *d, uint16_t seq, uint32_t ts, int marker, const uint8_t *p, size_t n)
{
    uint8_t pkt[2048];
    struct sg_rtp_hdr h;

    pkt[0] = 0x80;
    pkt[1] = (uint8_t)((marker ? 0x80 : 0) | 96);
    pkt[2] = (uint8_t)(seq >> 8);
    pkt[3] = (uint8_t)seq;
    sg_wr32(pkt + 4, ts);
    sg_wr32(pkt + 8, 0x1234);
    memcpy(pkt + 12, p, n);
    CHECK_EQ_INT(sg_rtp_parse(pkt, 12 + n, &h), 0);
    sg_depack_push(d, &h);
}

int main(void)
{
    struct got g = { 0 };
    struct sg_depack *d = sg_depack_create(SG_CODEC_H264, 1000, cb, &g);
    struct sg_rtp_hdr h;
    uint8_t pkt[16] = { 0x80, 96 };

    /* single NAL units, frame ends on the marker */
    push(d, 1, 100, 0, (const uint8_t[]){ 0x67, 1, 2 }, 3);
    push(d, 2, 100, 1, (const uint8_t[]){ 0x65, 9, 9, 9 }, 4);
    CHECK_EQ_INT(g.frames, 1);
    CHECK_EQ_INT(g.last_size, 4 + 3 + 4 + 4);
    CHECK_EQ_INT(sg_rd32(g.last), 3);
    CHECK_EQ_INT(g.last[4], 0x67);
    CHECK_EQ_INT(sg_rd32(g.last + 7), 4);
    /* STAP-A with two NALs */
    push(d, 3, 200, 1, (const uint8_t[]){ 24, 0, 2, 0x68, 7, 0, 3, 0x41, 1, 2 }, 10);
    CHECK_EQ_INT(g.frames, 2);
    CHECK_EQ_INT(g.last_size, 4 + 2 + 4 + 3);
    CHECK_EQ_INT(g.last[4], 0x68);
    /* FU-A: start, middle, end -> one NAL with reconstructed header 0x65 */
    push(d, 4, 300, 0, (const uint8_t[]){ 0x7c, 0x85, 1, 2 }, 4);
    push(d, 5, 300, 0, (const uint8_t[]){ 0x7c, 0x05, 3 }, 3);
    push(d, 6, 300, 1, (const uint8_t[]){ 0x7c, 0x45, 4 }, 3);
    CHECK_EQ_INT(g.frames, 3);
    CHECK_EQ_INT(sg_rd32(g.last), 5);
    CHECK_EQ_INT(g.last[4], 0x65);
    CHECK_EQ_INT(g.last[8], 4);
    CHECK_EQ_INT(g.damaged, 0);
    /* FU-A whose middle packet is lost: the broken NAL is dropped and the frame flagged */
    push(d, 7, 400, 0, (const uint8_t[]){ 0x41, 1 }, 2);
    push(d, 8, 400, 0, (const uint8_t[]){ 0x7c, 0x85, 1, 2 }, 4);
    push(d, 10, 400, 1, (const uint8_t[]){ 0x7c, 0x05, 3 }, 3); /* seq 9 lost, no end bit */
    CHECK_EQ_INT(g.frames, 4);
    CHECK_EQ_INT(g.damaged, 1);
    CHECK_EQ_INT(g.last_size, 4 + 2); /* only the complete NAL survived */
    CHECK_EQ_INT(sg_depack_stats(d)->lost_packets, 1);
    /* a frame over the cap (1000 bytes) is dropped whole and counted */
    {
        uint8_t big[600];
        memset(big, 7, sizeof(big));
        big[0] = 0x7c;
        big[1] = 0x85;
        push(d, 11, 500, 0, big, sizeof(big));
        big[1] = 0x45;
        push(d, 12, 500, 1, big, sizeof(big));
    }
    CHECK_EQ_INT(g.frames, 4);
    CHECK_EQ_INT(sg_depack_stats(d)->oversize_frames, 1);
    /* and the next frame is fine again */
    push(d, 13, 600, 1, (const uint8_t[]){ 0x41, 5 }, 2);
    CHECK_EQ_INT(g.frames, 5);
    /* missing marker: a new timestamp still closes the previous frame */
    push(d, 14, 700, 0, (const uint8_t[]){ 0x41, 6 }, 2);
    push(d, 15, 800, 1, (const uint8_t[]){ 0x41, 7 }, 2);
    CHECK_EQ_INT(g.frames, 7);
    CHECK_EQ_INT(g.last_ts, 800);
    sg_depack_destroy(&d);
    CHECK(d == NULL);

    /* H.265: FU type 49 reassembles an IDR_W_RADL (19) NAL with a 2-byte header */
    memset(&g, 0, sizeof(g));
    d = sg_depack_create(SG_CODEC_H265, 1000, cb, &g);
    push(d, 1, 100, 0, (const uint8_t[]){ 49 << 1, 1, 0x80 | 19, 0xaa }, 4);
    push(d, 2, 100, 1, (const uint8_t[]){ 49 << 1, 1, 0x40 | 19, 0xbb }, 4);
    CHECK_EQ_INT(g.frames, 1);
    CHECK_EQ_INT(sg_rd32(g.last), 4);
    CHECK_EQ_INT(sg_nal_type(SG_CODEC_H265, g.last + 4), 19);
    CHECK(sg_nal_is_keyframe(SG_CODEC_H265, 19));
    sg_depack_destroy(&d);

    /* RTP header validation */
    CHECK_EQ_INT(sg_rtp_parse(pkt, 11, &h), SG_E_PROTO);
    pkt[0] = 0x40; /* version 1 */
    CHECK_EQ_INT(sg_rtp_parse(pkt, 16, &h), SG_E_PROTO);
    pkt[0] = 0xa0; /* padding flag, padding count 0 */
    pkt[15] = 0;
    CHECK_EQ_INT(sg_rtp_parse(pkt, 16, &h), SG_E_PROTO);
    pkt[0] = 0x8f; /* 15 CSRCs in a 16-byte packet */
    CHECK_EQ_INT(sg_rtp_parse(pkt, 16, &h), SG_E_PROTO);
    return check_done("test_rtp");
}
