/* Fragmented MP4 (ISO/IEC 14496-12, CMAF-style) writer for one video track, without
 * transcoding. Produces bytes only; the caller decides where they go.
 *   init segment: ftyp + moov (avc1/avcC or hvc1/hvcC, empty sample tables, mvex/trex)
 *   fragment:     prft (wall-clock of the first sample) + moof (mfhd, traf: tfhd, tfdt, trun)
 *                 + mdat header; the sample bytes follow as a second buffer (writev).
 * The track timescale is 90 kHz. */
#ifndef SG_RECORD_FMP4_H
#define SG_RECORD_FMP4_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "ingest/h26x.h"

#define SG_FMP4_TIMESCALE 90000

struct sg_fmp4_sample {
    uint32_t size;
    uint32_t duration; /* 90 kHz ticks */
    int key;
};

/* Appends the init segment for these parameter sets. Returns 0 or a negative code. */
int sg_fmp4_init_segment(struct sg_buf *out, const struct sg_codec_params *p);

/* Appends an init segment whose sample entry carries `config` (the payload of an avcC or hvcC
 * box: a decoder configuration record, config_len bytes) verbatim, for codec (enum sg_codec)
 * and a picture of width x height. Used to re-wrap recorded samples without touching their
 * parameter sets. Returns 0, SG_E_PROTO for an impossible argument, or -ENOMEM. */
int sg_fmp4_init_segment_config(struct sg_buf *out, int codec, int width, int height,
                                const uint8_t *config, size_t config_len);

/* Appends prft + moof + mdat header for `n` samples whose bytes (mdat payload, `payload_size`
 * bytes) the caller writes right after. */
int sg_fmp4_fragment_header(struct sg_buf *out, uint32_t sequence, uint64_t base_dts,
                            int64_t first_utc_us, const struct sg_fmp4_sample *s, size_t n,
                            uint64_t payload_size);

/* Box building blocks for other ISO BMFF writers: open a box (size placeholder + type; a full
 * box adds version and flags) and get the offset to close it at, which patches its size. */
size_t sg_fmp4_box_open(struct sg_buf *out, const char *type);
size_t sg_fmp4_fullbox_open(struct sg_buf *out, const char *type, uint8_t version, uint32_t flags);
void sg_fmp4_box_close(struct sg_buf *out, size_t off);

/* NTP 64-bit timestamp of a UTC time (as prft stores it) and back. */
uint64_t sg_ntp_from_utc_us(int64_t utc_us);
int64_t sg_utc_us_from_ntp(uint64_t ntp);

#endif
