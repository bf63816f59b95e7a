/* RTP parsing and H.264 / H.265 depacketisation. The input is a sequence of packets, each
 * preceded by a 2-byte big-endian length; bit 15 of the length means "reset both
 * depacketisers before this packet" (as after a reconnect). Every packet that sg_rtp_parse
 * accepts is pushed into an H.264 and an H.265 depacketiser with an 8 KiB frame cap (small, so
 * that inputs of a few KiB reach the oversize path too), and every access unit handed out is
 * checked to be a well-formed list of length-prefixed NAL units. */
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "fuzz.h"
#include "ingest/h26x.h"
#include "ingest/rtp.h"

#define MAX_FRAME (8 * 1024)

struct ctx {
    uint64_t frames;
    unsigned sum; /* touches every byte, so ASan checks the whole AU */
};

static void on_au(void *opaque, const struct sg_au *au)
{
    struct ctx *c = opaque;
    size_t off = 0;

    FUZZ_CHECK(au->size > 0 && au->size <= MAX_FRAME);
    FUZZ_CHECK(au->damaged == 0 || au->damaged == 1);
    while (off < au->size) {
        uint32_t n;
        FUZZ_CHECK(au->size - off >= 4);
        n = sg_rd32(au->data + off);
        off += 4;
        FUZZ_CHECK(n > 0 && n <= au->size - off);
        off += n;
    }
    for (size_t i = 0; i < au->size; i++)
        c->sum += au->data[i];
    c->frames++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ctx c264 = { 0 }, c265 = { 0 };
    struct sg_depack *d264 = sg_depack_create(SG_CODEC_H264, MAX_FRAME, on_au, &c264);
    struct sg_depack *d265 = sg_depack_create(SG_CODEC_H265, MAX_FRAME, on_au, &c265);
    size_t off = 0;

    FUZZ_CHECK(d264 && d265);
    while (size - off >= 2) {
        unsigned w = sg_rd16(data + off);
        size_t n = w & 0x7fff;
        struct sg_rtp_hdr h;
        uint8_t *pkt;

        off += 2;
        if (n > size - off)
            n = size - off;
        /* Each packet in its own exactly sized allocation: a read past its end is reported
         * instead of landing in the next packet. */
        pkt = malloc(n ? n : 1);
        FUZZ_CHECK(pkt != NULL);
        memcpy(pkt, data + off, n);
        off += n;
        if (w & 0x8000) {
            sg_depack_reset(d264);
            sg_depack_reset(d265);
        }
        if (sg_rtp_parse(pkt, n, &h) == 0) {
            FUZZ_CHECK(h.payload >= pkt + 12 && h.payload <= pkt + n);
            FUZZ_CHECK(h.payload_len <= (size_t)(pkt + n - h.payload));
            FUZZ_CHECK(h.payload_type >= 0 && h.payload_type < 128);
            FUZZ_CHECK(h.marker == 0 || h.marker == 1);
            sg_depack_push(d264, &h);
            sg_depack_push(d265, &h);
        }
        free(pkt);
    }
    FUZZ_CHECK(sg_depack_stats(d264)->frames == c264.frames);
    FUZZ_CHECK(sg_depack_stats(d265)->frames == c265.frames);
    sg_depack_destroy(&d264);
    sg_depack_destroy(&d265);
    FUZZ_CHECK(d264 == NULL && d265 == NULL);
    return 0;
}
