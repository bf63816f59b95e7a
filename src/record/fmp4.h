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

/* Appends prft + moof + mdat header for `n` samples whose bytes (mdat payload, `payload_size`
 * bytes) the caller writes right after. */
int sg_fmp4_fragment_header(struct sg_buf *out, uint32_t sequence, uint64_t base_dts,
                            int64_t first_utc_us, const struct sg_fmp4_sample *s, size_t n,
                            uint64_t payload_size);

/* NTP 64-bit timestamp of a UTC time (as prft stores it) and back. */
uint64_t sg_ntp_from_utc_us(int64_t utc_us);
int64_t sg_utc_us_from_ntp(uint64_t ntp);

#endif
