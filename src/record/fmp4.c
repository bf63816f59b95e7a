#include "record/fmp4.h"

#include <errno.h>
#include <string.h>

#include "base/err.h"

/* Opens a box: writes a size placeholder and the type; returns the offset to patch. */
static size_t box_open(struct sg_buf *b, const char *type)
{
    size_t off = b->len;

    sg_buf_put_u32(b, 0);
    sg_buf_append(b, type, 4);
    return off;
}

static size_t fullbox_open(struct sg_buf *b, const char *type, uint8_t version, uint32_t flags)
{
    size_t off = box_open(b, type);

    sg_buf_put_u8(b, version);
    sg_buf_put_u24(b, flags);
    return off;
}

static void box_close(struct sg_buf *b, size_t off)
{
    sg_buf_patch_u32(b, off, (uint32_t)(b->len - off));
}

static void matrix(struct sg_buf *b)
{
    static const uint32_t m[9] = { 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000 };

    for (int i = 0; i < 9; i++)
        sg_buf_put_u32(b, m[i]);
}

static void avcc(struct sg_buf *b, const struct sg_codec_params *p)
{
    size_t box = box_open(b, "avcC");

    sg_buf_put_u8(b, 1);                 /* configurationVersion */
    sg_buf_put_u8(b, p->sps[1]);         /* AVCProfileIndication */
    sg_buf_put_u8(b, p->sps[2]);         /* profile_compatibility */
    sg_buf_put_u8(b, p->sps[3]);         /* AVCLevelIndication */
    sg_buf_put_u8(b, 0xff);              /* lengthSizeMinusOne = 3 */
    sg_buf_put_u8(b, 0xe1);              /* one SPS */
    sg_buf_put_u16(b, (uint16_t)p->sps_len);
    sg_buf_append(b, p->sps, p->sps_len);
    sg_buf_put_u8(b, 1);                 /* one PPS */
    sg_buf_put_u16(b, (uint16_t)p->pps_len);
    sg_buf_append(b, p->pps, p->pps_len);
    if (p->sps[1] != 66 && p->sps[1] != 77 && p->sps[1] != 88) {
        /* High profiles carry chroma format and bit depths (ISO/IEC 14496-15 5.3.3.1.2) */
        sg_buf_put_u8(b, (uint8_t)(0xfc | (p->chroma_format & 3)));
        sg_buf_put_u8(b, 0xf8);          /* bit_depth_luma_minus8 = 0 */
        sg_buf_put_u8(b, 0xf8);          /* bit_depth_chroma_minus8 = 0 */
        sg_buf_put_u8(b, 0);             /* no SPS extensions */
    }
    box_close(b, box);
}

static void hvcc_array(struct sg_buf *b, int type, const uint8_t *nal, size_t len)
{
    sg_buf_put_u8(b, (uint8_t)(0x80 | type)); /* array_completeness = 1 */
    sg_buf_put_u16(b, 1);
    sg_buf_put_u16(b, (uint16_t)len);
    sg_buf_append(b, nal, len);
}

static void hvcc(struct sg_buf *b, const struct sg_codec_params *p)
{
    size_t box = box_open(b, "hvcC");

    sg_buf_put_u8(b, 1);
    sg_buf_append(b, p->hevc_ptl, 12);    /* profile space/tier/idc, compat, constraints, level */
    sg_buf_put_u16(b, 0xf000);            /* min_spatial_segmentation_idc = 0 */
    sg_buf_put_u8(b, 0xfc);               /* parallelismType = 0 */
    sg_buf_put_u8(b, (uint8_t)(0xfc | (p->chroma_format & 3)));
    sg_buf_put_u8(b, (uint8_t)(0xf8 | ((p->bit_depth_luma - 8) & 7)));
    sg_buf_put_u8(b, (uint8_t)(0xf8 | ((p->bit_depth_chroma - 8) & 7)));
    sg_buf_put_u16(b, 0);                 /* avgFrameRate unknown */
    /* constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne = 3 */
    sg_buf_put_u8(b, (uint8_t)(((p->num_temporal_layers & 7) << 3) |
                               ((p->temporal_id_nested & 1) << 2) | 3));
    sg_buf_put_u8(b, 3);                  /* numOfArrays */
    hvcc_array(b, 32, p->vps, p->vps_len);
    hvcc_array(b, 33, p->sps, p->sps_len);
    hvcc_array(b, 34, p->pps, p->pps_len);
    box_close(b, box);
}

/* The decoder configuration of the sample entry: built from parameter sets (p), or a
 * configuration record copied verbatim (raw, raw_len: the avcC / hvcC payload). */
struct config {
    const struct sg_codec_params *p;
    const uint8_t *raw;
    size_t raw_len;
};

static void config_box(struct sg_buf *b, int h265, const struct config *c)
{
    size_t box;

    if (!c->raw) {
        if (h265)
            hvcc(b, c->p);
        else
            avcc(b, c->p);
        return;
    }
    box = box_open(b, h265 ? "hvcC" : "avcC");
    sg_buf_append(b, c->raw, c->raw_len);
    box_close(b, box);
}

static int init_segment(struct sg_buf *b, int codec, int width, int height, const struct config *c)
{
    size_t moov, trak, mdia, minf, stbl, stsd, entry, dinf, box, mvex;
    int h265 = codec == SG_CODEC_H265;
    size_t start = b->len;

    box = box_open(b, "ftyp");
    sg_buf_append(b, "iso6", 4);
    sg_buf_put_u32(b, 0);
    sg_buf_append(b, "iso6isommp41", 12);
    sg_buf_append(b, h265 ? "hvc1" : "avc1", 4);
    box_close(b, box);

    moov = box_open(b, "moov");
    box = fullbox_open(b, "mvhd", 0, 0);
    sg_buf_put_u32(b, 0);            /* creation_time: unknown (UTC lives in prft and catalog) */
    sg_buf_put_u32(b, 0);            /* modification_time */
    sg_buf_put_u32(b, 1000);         /* timescale */
    sg_buf_put_u32(b, 0);            /* duration: fragmented */
    sg_buf_put_u32(b, 0x00010000);   /* rate 1.0 */
    sg_buf_put_u16(b, 0x0100);       /* volume 1.0 */
    sg_buf_put_zero(b, 10);
    matrix(b);
    sg_buf_put_zero(b, 24);          /* pre_defined */
    sg_buf_put_u32(b, 2);            /* next_track_ID */
    box_close(b, box);

    trak = box_open(b, "trak");
    box = fullbox_open(b, "tkhd", 0, 3); /* enabled, in movie */
    sg_buf_put_u32(b, 0);
    sg_buf_put_u32(b, 0);
    sg_buf_put_u32(b, 1);            /* track_ID */
    sg_buf_put_u32(b, 0);
    sg_buf_put_u32(b, 0);            /* duration */
    sg_buf_put_zero(b, 8);
    sg_buf_put_u16(b, 0);            /* layer */
    sg_buf_put_u16(b, 0);            /* alternate_group */
    sg_buf_put_u16(b, 0);            /* volume: video */
    sg_buf_put_u16(b, 0);
    matrix(b);
    sg_buf_put_u32(b, (uint32_t)width << 16);
    sg_buf_put_u32(b, (uint32_t)height << 16);
    box_close(b, box);

    mdia = box_open(b, "mdia");
    box = fullbox_open(b, "mdhd", 0, 0);
    sg_buf_put_u32(b, 0);
    sg_buf_put_u32(b, 0);
    sg_buf_put_u32(b, SG_FMP4_TIMESCALE);
    sg_buf_put_u32(b, 0);
    sg_buf_put_u16(b, 0x55c4);       /* language "und" */
    sg_buf_put_u16(b, 0);
    box_close(b, box);
    box = fullbox_open(b, "hdlr", 0, 0);
    sg_buf_put_u32(b, 0);
    sg_buf_append(b, "vide", 4);
    sg_buf_put_zero(b, 12);
    sg_buf_append(b, "Sargas video", 13); /* with its NUL */
    box_close(b, box);

    minf = box_open(b, "minf");
    box = fullbox_open(b, "vmhd", 0, 1);
    sg_buf_put_zero(b, 8);
    box_close(b, box);
    dinf = box_open(b, "dinf");
    box = fullbox_open(b, "dref", 0, 0);
    sg_buf_put_u32(b, 1);
    {
        size_t url = fullbox_open(b, "url ", 0, 1); /* media in the same file */
        box_close(b, url);
    }
    box_close(b, box);
    box_close(b, dinf);

    stbl = box_open(b, "stbl");
    stsd = fullbox_open(b, "stsd", 0, 0);
    sg_buf_put_u32(b, 1);
    entry = box_open(b, h265 ? "hvc1" : "avc1");
    sg_buf_put_zero(b, 6);
    sg_buf_put_u16(b, 1);            /* data_reference_index */
    sg_buf_put_zero(b, 16);          /* pre_defined, reserved */
    sg_buf_put_u16(b, (uint16_t)width);
    sg_buf_put_u16(b, (uint16_t)height);
    sg_buf_put_u32(b, 0x00480000);   /* 72 dpi */
    sg_buf_put_u32(b, 0x00480000);
    sg_buf_put_u32(b, 0);
    sg_buf_put_u16(b, 1);            /* frame_count */
    {
        uint8_t name[32] = { 6, 'S', 'a', 'r', 'g', 'a', 's' };
        sg_buf_append(b, name, 32);
    }
    sg_buf_put_u16(b, 0x0018);       /* depth */
    sg_buf_put_u16(b, 0xffff);       /* pre_defined = -1 */
    config_box(b, h265, c);
    box_close(b, entry);
    box_close(b, stsd);
    box = fullbox_open(b, "stts", 0, 0);
    sg_buf_put_u32(b, 0);
    box_close(b, box);
    box = fullbox_open(b, "stsc", 0, 0);
    sg_buf_put_u32(b, 0);
    box_close(b, box);
    box = fullbox_open(b, "stsz", 0, 0);
    sg_buf_put_u32(b, 0);
    sg_buf_put_u32(b, 0);
    box_close(b, box);
    box = fullbox_open(b, "stco", 0, 0);
    sg_buf_put_u32(b, 0);
    box_close(b, box);
    box_close(b, stbl);
    box_close(b, minf);
    box_close(b, mdia);
    box_close(b, trak);

    mvex = box_open(b, "mvex");
    box = fullbox_open(b, "trex", 0, 0);
    sg_buf_put_u32(b, 1);            /* track_ID */
    sg_buf_put_u32(b, 1);            /* default_sample_description_index */
    sg_buf_put_u32(b, 0);
    sg_buf_put_u32(b, 0);
    sg_buf_put_u32(b, 0);
    box_close(b, box);
    box_close(b, mvex);
    box_close(b, moov);
    /* Every put above fails only on OOM; check once. */
    return b->data && b->len > start ? 0 : -ENOMEM;
}

int sg_fmp4_init_segment(struct sg_buf *b, const struct sg_codec_params *p)
{
    struct config c = { .p = p };
    int h265 = p->codec == SG_CODEC_H265;

    if (!p->sps_len || !p->pps_len || (h265 && !p->vps_len) || p->width <= 0 || p->height <= 0)
        return SG_E_PROTO;
    if ((!h265 && p->sps_len < 4))
        return SG_E_PROTO;
    return init_segment(b, p->codec, p->width, p->height, &c);
}

int sg_fmp4_init_segment_config(struct sg_buf *b, int codec, int width, int height,
                                const uint8_t *config, size_t config_len)
{
    struct config c = { .raw = config, .raw_len = config_len };

    if ((codec != SG_CODEC_H264 && codec != SG_CODEC_H265) || width <= 0 || width > 0xffff ||
        height <= 0 || height > 0xffff || !config || config_len < 7 || config_len > 0xffff ||
        config[0] != 1)
        return SG_E_PROTO;
    return init_segment(b, codec, width, height, &c);
}

size_t sg_fmp4_box_open(struct sg_buf *b, const char *type)
{
    return box_open(b, type);
}

size_t sg_fmp4_fullbox_open(struct sg_buf *b, const char *type, uint8_t version, uint32_t flags)
{
    return fullbox_open(b, type, version, flags);
}

void sg_fmp4_box_close(struct sg_buf *b, size_t off)
{
    box_close(b, off);
}

uint64_t sg_ntp_from_utc_us(int64_t utc_us)
{
    uint64_t sec = (uint64_t)(utc_us / 1000000) + 2208988800ULL;
    uint64_t frac = (((uint64_t)(utc_us % 1000000) << 32) + 500000) / 1000000;

    return sec << 32 | frac;
}

int64_t sg_utc_us_from_ntp(uint64_t ntp)
{
    int64_t sec = (int64_t)(ntp >> 32) - 2208988800LL;
    int64_t us = (int64_t)(((ntp & 0xffffffffULL) * 1000000 + (1ULL << 31)) >> 32);

    return sec * 1000000 + us;
}

int sg_fmp4_fragment_header(struct sg_buf *b, uint32_t sequence, uint64_t base_dts,
                            int64_t first_utc_us, const struct sg_fmp4_sample *s, size_t n,
                            uint64_t payload_size)
{
    size_t moof, traf, box, trun_data_offset;
    size_t start = b->len;

    if (n == 0 || payload_size > 0xffffffffULL - 8)
        return SG_E_TOOBIG;
    /* Producer reference time: maps this fragment's first sample to UTC, so a file found on
     * disk without its catalog row still knows when it was recorded. */
    box = fullbox_open(b, "prft", 1, 0);
    sg_buf_put_u32(b, 1);
    sg_buf_put_u64(b, sg_ntp_from_utc_us(first_utc_us));
    sg_buf_put_u64(b, base_dts);
    box_close(b, box);

    moof = box_open(b, "moof");
    box = fullbox_open(b, "mfhd", 0, 0);
    sg_buf_put_u32(b, sequence);
    box_close(b, box);
    traf = box_open(b, "traf");
    box = fullbox_open(b, "tfhd", 0, 0x020000); /* default-base-is-moof */
    sg_buf_put_u32(b, 1);
    box_close(b, box);
    box = fullbox_open(b, "tfdt", 1, 0);
    sg_buf_put_u64(b, base_dts);
    box_close(b, box);
    /* data-offset, sample-duration, sample-size, sample-flags present */
    box = fullbox_open(b, "trun", 0, 0x000001 | 0x000100 | 0x000200 | 0x000400);
    sg_buf_put_u32(b, (uint32_t)n);
    trun_data_offset = b->len;
    sg_buf_put_u32(b, 0);
    for (size_t i = 0; i < n; i++) {
        sg_buf_put_u32(b, s[i].duration);
        sg_buf_put_u32(b, s[i].size);
        /* key: depends on nothing; other: depends on others, non-sync */
        sg_buf_put_u32(b, s[i].key ? 0x02000000 : 0x01010000);
    }
    box_close(b, box);
    box_close(b, traf);
    box_close(b, moof);
    if (!b->data)
        return -ENOMEM;
    /* data_offset is relative to the start of moof: skip moof and the mdat header */
    sg_buf_patch_u32(b, trun_data_offset, (uint32_t)(b->len - moof + 8));
    sg_buf_put_u32(b, (uint32_t)(payload_size + 8));
    sg_buf_append(b, "mdat", 4);
    return b->len > start ? 0 : -ENOMEM;
}
