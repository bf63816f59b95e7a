/* RTP (RFC 3550) and H.264 / H.265 depacketisation (RFC 6184 single NAL, STAP-A, FU-A;
 * RFC 7798 single NAL, AP, FU) into access units in length-prefixed form (4-byte big-endian
 * NAL lengths, as MP4 stores them). Frame size is capped; a frame over the cap is dropped
 * whole and reported. Fuzzed. */
#ifndef SG_INGEST_RTP_H
#define SG_INGEST_RTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct sg_rtp_hdr {
    int marker, payload_type;
    uint16_t seq;
    uint32_t ts, ssrc;
    const uint8_t *payload;
    size_t payload_len;
};

/* Returns 0 or SG_E_PROTO. */
int sg_rtp_parse(const uint8_t *pkt, size_t len, struct sg_rtp_hdr *h);

struct sg_depack;

/* An access unit handed to the callback; `au` is borrowed for the duration of the call. */
struct sg_au {
    const uint8_t *data; /* length-prefixed NAL units */
    size_t size;
    uint32_t rtp_ts;
    int damaged;         /* packets were lost inside this AU */
};

typedef void (*sg_au_cb)(void *opaque, const struct sg_au *au);

/* Errors are reported through counters in sg_depack_stats. */
struct sg_depack_stats {
    uint64_t packets, lost_packets, oversize_frames, bad_packets, frames;
};

struct sg_depack *sg_depack_create(int codec, size_t max_frame_bytes, sg_au_cb cb, void *opaque);
void sg_depack_destroy(struct sg_depack **d);
/* Feeds one RTP packet of the video payload type. */
void sg_depack_push(struct sg_depack *d, const struct sg_rtp_hdr *h);
/* Forgets any partial frame (after a reconnect). */
void sg_depack_reset(struct sg_depack *d);
const struct sg_depack_stats *sg_depack_stats(const struct sg_depack *d);

#endif
