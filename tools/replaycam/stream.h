/* tools/replaycam: a media file, split into access units and pre-packetised
 * into RTP once, shared read-only by every client.
 *
 * Every access unit (AU) of the file becomes a list of RTP payloads (RFC 6184
 * single NAL unit packets, or FU-A fragments of at most RC_RTP_PAYLOAD bytes)
 * with the marker bit on the last one. Into every AU, before its first slice
 * (after any SPS/PPS), goes the fakecam SEI (tools/fakecam/media.h): a
 * user_data_unregistered message with UUID "SARGAS-FAKECAM-1", the frame
 * counter and the send time. It is packetised as a placeholder packet of its
 * own; rc_stream_compose() replaces it per client.
 *
 * Why the SEI is rebuilt rather than patched in place: the counter and the
 * send time are big-endian 64-bit values whose bytes may be anything, and
 * some values would form 00 00 0x (x <= 3) with their neighbours, which H.264
 * forbids inside a NAL unit: an emulation_prevention_three_byte must then be
 * inserted, which changes the NAL's length. Today's values always need one
 * (the counter's high bytes are zero, right after the UUID). So the SEI is a
 * NAL unit, hence an RTP packet, of its own, and is rebuilt with emulation
 * prevention (fc_sei_build()) for every client and frame: about 50 bytes, no
 * more work than patching. The payloads of every other packet are sent from
 * the shared copy, untouched; only the 4-byte '$' framing and the 12-byte RTP
 * header, which carry the client's sequence number, timestamp and SSRC, are
 * written per client.
 *
 * H.264 only. Names shared between files use the rc_ prefix.
 */
#ifndef REPLAYCAM_STREAM_H
#define REPLAYCAM_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define RC_RTP_PAYLOAD 1400 /* largest RTP payload */
#define RC_RTP_PT      96
#define RC_HDR_BYTES   16   /* '$' framing (4) + RTP header (12) */
#define RC_SDP_FMTP_MAX 1024

/* One RTP payload in the shared buffer. */
struct rc_packet {
    uint32_t off; /* into rc_stream.payload */
    uint16_t len;
    uint8_t marker; /* last packet of its AU */
    uint8_t sei;    /* the SEI placeholder: rebuilt per client */
};

struct rc_frame {
    uint32_t first; /* index of its first packet in rc_stream.packets */
    uint32_t count; /* packets, the SEI included */
    int idr;
};

struct rc_stream {
    char name[16];            /* "main", "sub" */
    uint8_t *payload;         /* every RTP payload, back to back */
    size_t payload_size;
    struct rc_packet *packets;
    size_t n_packets;
    struct rc_frame *frames;  /* a 30 s loop (a clip: whole 2 s GOPs) */
    size_t n_frames;
    int rate;                 /* frames per second, a divisor of 1000000 up to 25 */
    uint32_t frame_us;        /* 1000000 / rate */
    size_t max_count;         /* most packets in one frame */
    uint64_t bytes_per_loop;  /* RTP payload bytes of one loop, for the SDP's b=AS */
    char fmtp[RC_SDP_FMTP_MAX]; /* "packetization-mode=1;profile-level-id=...;sprop-..." */
};

/* Per-client RTP state that rc_stream_compose() advances. */
struct rc_rtp {
    uint8_t channel; /* interleaved RTP channel */
    uint16_t seq;    /* of the next packet */
    uint32_t ts_base;
    uint32_t ssrc;
};

/* Scratch memory for composing one frame; one per thread, reusable. */
struct rc_scratch {
    uint8_t (*hdr)[RC_HDR_BYTES];
    uint8_t sei[128];
    struct iovec *iov;
    size_t cap; /* packets hdr and iov (2 per packet) have room for */
};

/* Loads PATH (H.264 Annex B at rate frames/s, a divisor of 1000000 up to 25:
 * a 30 s loop, or with any_length any whole number of 2 s GOPs; an IDR every
 * 2 s) and packetises it. name is copied. On success *out is the caller's
 * (free with rc_stream_destroy()). Returns 0 or a negative errno; writes a
 * message to stderr on failure. */
int rc_stream_load(const char *path, const char *name, int rate, int any_length,
                   struct rc_stream **out);
/* Frees; accepts NULL and sets *s to NULL. */
void rc_stream_destroy(struct rc_stream **s);

/* Makes sc able to compose any frame of s. Returns 0 or -ENOMEM. */
int rc_scratch_reserve(struct rc_scratch *sc, const struct rc_stream *s);
void rc_scratch_free(struct rc_scratch *sc);

/* Fills sc->iov with frame `counter` (of this stream's rate) mod n_frames for
 * one client: per packet its header (from rtp, whose seq advances) and its
 * payload, the SEI rebuilt with counter and send_us. The iovecs point into s
 * and sc, valid until the next call. Returns the number of iovecs; *bytes gets
 * their total length. sc must have been reserved for s. */
size_t rc_stream_compose(const struct rc_stream *s, uint64_t counter, uint64_t send_us,
                         struct rc_rtp *rtp, struct rc_scratch *sc, size_t *bytes);

#endif
