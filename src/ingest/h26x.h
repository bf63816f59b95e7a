/* H.264 / H.265 bitstream helpers: NAL unit classification, parameter-set parsing (only what
 * recording needs: picture size, profile/level for the sample entry) and Annex B splitting.
 * Parsers of network input; fuzzed. */
#ifndef SG_INGEST_H26X_H
#define SG_INGEST_H26X_H

#include <stddef.h>
#include <stdint.h>

enum sg_codec { SG_CODEC_NONE = 0, SG_CODEC_H264 = 1, SG_CODEC_H265 = 2 };

#define SG_PS_MAX 1024 /* largest parameter set we keep */

/* Parameter sets of one stream, as raw NAL units (with NAL header, no start code). */
struct sg_codec_params {
    int codec;
    int width, height;
    uint8_t vps[SG_PS_MAX], sps[SG_PS_MAX], pps[SG_PS_MAX];
    size_t vps_len, sps_len, pps_len;
    /* H.265 profile_tier_level and format fields for hvcC */
    uint8_t hevc_ptl[12]; /* general_profile_space..general_level_idc, as in hvcC bytes 1..12 */
    int chroma_format, bit_depth_luma, bit_depth_chroma, num_temporal_layers, temporal_id_nested;
};

const char *sg_codec_name(int codec); /* "h264", "h265" */

/* NAL type of a NAL unit (first byte(s) = NAL header). */
static inline int sg_nal_type(int codec, const uint8_t *nal)
{
    return codec == SG_CODEC_H265 ? (nal[0] >> 1) & 0x3f : nal[0] & 0x1f;
}
int sg_nal_is_keyframe(int codec, int type);  /* IDR (H.264) / IRAP (H.265) */
int sg_nal_is_vcl(int codec, int type);
/* What an access unit means to a decoder that may leave pictures out (sg_au_refs). */
#define SG_AU_IDR 1    /* decoding restarts here: no later picture references one before it
                        * (H.264 IDR; H.265 IDR or BLA, not CRA, whose leading pictures may) */
#define SG_AU_NONREF 2 /* no later picture references this one (H.264: every slice has
                        * nal_ref_idc 0); never set for H.265, whose "sub-layer non-reference"
                        * pictures may still be referenced by a higher temporal layer */
/* Scans an access unit of length-prefixed NAL units (4-byte big-endian lengths) and returns
 * SG_AU_* bits. An AU that does not parse to its end gets 0 (decode it, as any picture). */
int sg_au_refs(int codec, const uint8_t *au, size_t n);
/* 1 = VPS, 2 = SPS, 3 = PPS, 0 = other. */
int sg_nal_param_kind(int codec, int type);

/* Parses an SPS NAL unit (with header) into width/height (and H.265 hvcC fields).
 * Returns 0 or SG_E_PROTO / SG_E_UNSUPPORTED. */
int sg_sps_parse(int codec, const uint8_t *nal, size_t len, struct sg_codec_params *p);

/* Stores a parameter set in p. Returns 1 when it differs from the one held, 0 when equal,
 * SG_E_TOOBIG when larger than SG_PS_MAX. */
int sg_params_store(struct sg_codec_params *p, int kind, const uint8_t *nal, size_t len);

/* RFC 6381 codecs string as MSE's isTypeSupported() parses it: "avc1.PPCCLL" from the three
 * SPS bytes after the NAL header (= avcC bytes 1..3), or "hvc1.<space><profile>.<compat
 * flags bit-reversed>.<L|H><level>[.<constraint byte>]..." from the 12 profile_tier_level
 * bytes (= hvcC bytes 1..12, sg_codec_params.hevc_ptl). Returns 0, SG_E_CORRUPT (too short),
 * SG_E_UNSUPPORTED or -ENOSPC. */
int sg_codecs_rfc6381(int codec, const uint8_t *b, size_t len, char *buf, size_t n);

/* Iterates the NAL units of an access unit in length-prefixed form (4-byte big-endian
 * lengths, as frames travel inside Sargas): returns the next NAL unit and its length,
 * advancing *off; NULL at the end (*off == n) or at a length that is 0 or runs past n, or
 * fewer than 4 bytes left (*off < n then: the AU is damaged from there on). */
const uint8_t *sg_au_next(const uint8_t *au, size_t n, size_t *off, size_t *nal_len);

/* Iterates NAL units of an Annex B buffer: returns a pointer to the next NAL unit (after its
 * start code) and its length, advancing *pos; NULL at the end. */
const uint8_t *sg_annexb_next(const uint8_t *buf, size_t len, size_t *pos, size_t *nal_len);

#endif
