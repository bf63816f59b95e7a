#include "ingest/h26x.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"

const char *sg_codec_name(int codec)
{
    return codec == SG_CODEC_H264 ? "h264" : codec == SG_CODEC_H265 ? "h265" : "none";
}

int sg_nal_is_keyframe(int codec, int type)
{
    if (codec == SG_CODEC_H264)
        return type == 5;
    return type >= 16 && type <= 21;
}

int sg_nal_is_vcl(int codec, int type)
{
    if (codec == SG_CODEC_H264)
        return type >= 1 && type <= 5;
    return type >= 0 && type <= 31;
}

const uint8_t *sg_au_next(const uint8_t *au, size_t n, size_t *off, size_t *nal_len)
{
    size_t len;

    if (*off >= n || n - *off < 4)
        return NULL;
    len = sg_rd32(au + *off);
    if (len == 0 || len > n - *off - 4)
        return NULL;
    *off += 4 + len;
    *nal_len = len;
    return au + *off - len;
}

int sg_au_refs(int codec, const uint8_t *au, size_t n)
{
    int idr = 0, vcl = 0, ref = 0;
    const uint8_t *nal;
    size_t off = 0, len;

    if (codec != SG_CODEC_H264 && codec != SG_CODEC_H265)
        return 0;
    while ((nal = sg_au_next(au, n, &off, &len))) {
        int type;

        if (len < (codec == SG_CODEC_H265 ? 2u : 1u))
            return 0;
        type = sg_nal_type(codec, nal);
        if (sg_nal_is_vcl(codec, type)) {
            vcl = 1;
            if (codec == SG_CODEC_H264) {
                idr |= type == 5;
                ref |= (nal[0] >> 5) & 3; /* nal_ref_idc */
            } else {
                idr |= type >= 16 && type <= 20;
                ref = 1;
            }
        }
    }
    if (off != n)
        return 0; /* damaged */
    /* an IDR with nal_ref_idc 0 is not H.264: it counts as a reference */
    return idr ? SG_AU_IDR : vcl && !ref ? SG_AU_NONREF : 0;
}

int sg_nal_param_kind(int codec, int type)
{
    if (codec == SG_CODEC_H264)
        return type == 7 ? 2 : type == 8 ? 3 : 0;
    return type == 32 ? 1 : type == 33 ? 2 : type == 34 ? 3 : 0;
}

int sg_params_store(struct sg_codec_params *p, int kind, const uint8_t *nal, size_t len)
{
    uint8_t *dst;
    size_t *dlen;

    switch (kind) {
    case 1: dst = p->vps; dlen = &p->vps_len; break;
    case 2: dst = p->sps; dlen = &p->sps_len; break;
    case 3: dst = p->pps; dlen = &p->pps_len; break;
    default: return 0;
    }
    if (len > SG_PS_MAX)
        return SG_E_TOOBIG;
    if (*dlen == len && !memcmp(dst, nal, len))
        return 0;
    memcpy(dst, nal, len);
    *dlen = len;
    return 1;
}

/* ---- bit reader over an RBSP (emulation prevention removed up front) ---- */

struct bits {
    uint8_t buf[SG_PS_MAX];
    size_t len;  /* bytes */
    size_t pos;  /* bits */
    int err;
};

static void bits_init(struct bits *b, const uint8_t *nal, size_t len)
{
    size_t zeros = 0;

    b->len = b->pos = 0;
    b->err = 0;
    for (size_t i = 0; i < len && b->len < sizeof(b->buf); i++) {
        if (zeros >= 2 && nal[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = nal[i] == 0 ? zeros + 1 : 0;
        b->buf[b->len++] = nal[i];
    }
}

static unsigned u1(struct bits *b)
{
    unsigned v;

    if (b->pos >= b->len * 8) {
        b->err = 1;
        return 0;
    }
    v = (b->buf[b->pos >> 3] >> (7 - (b->pos & 7))) & 1;
    b->pos++;
    return v;
}

static uint32_t un(struct bits *b, int n)
{
    uint32_t v = 0;

    for (int i = 0; i < n; i++)
        v = v << 1 | u1(b);
    return v;
}

static uint32_t ue(struct bits *b)
{
    int zeros = 0;

    while (!u1(b)) {
        if (b->err || ++zeros > 31) {
            b->err = 1;
            return 0;
        }
    }
    return zeros ? ((1u << zeros) - 1 + un(b, zeros)) : 0;
}

static int32_t se(struct bits *b)
{
    uint32_t k = ue(b);
    return (k & 1) ? (int32_t)((k + 1) / 2) : -(int32_t)(k / 2);
}

static void skip_scaling_list(struct bits *b, int size)
{
    int last = 8, next = 8;

    for (int j = 0; j < size && !b->err; j++) {
        if (next != 0) /* 64-bit: a hostile delta_scale is anywhere in +-2^31 */
            next = (int)(((int64_t)last + se(b) + 256) % 256);
        last = next == 0 ? last : next;
    }
}

static int sps_h264(struct bits *b, struct sg_codec_params *p)
{
    unsigned profile, chroma = 1, frame_mbs_only, sep_colour = 0;
    uint32_t w_mbs, h_map, crop_l = 0, crop_r = 0, crop_t = 0, crop_b = 0;
    int64_t w, h;
    int cux, cuy;

    un(b, 8); /* NAL header */
    profile = un(b, 8);
    un(b, 16); /* constraint flags, level */
    if (ue(b) > 31)
        return SG_E_PROTO;
    if (profile == 100 || profile == 110 || profile == 122 || profile == 244 || profile == 44 ||
        profile == 83 || profile == 86 || profile == 118 || profile == 128 || profile == 138 ||
        profile == 139 || profile == 134 || profile == 135) {
        chroma = ue(b);
        if (chroma > 3)
            return SG_E_PROTO;
        if (chroma == 3)
            sep_colour = u1(b);
        ue(b); /* bit_depth_luma_minus8 */
        ue(b); /* bit_depth_chroma_minus8 */
        u1(b); /* qpprime_y_zero_transform_bypass_flag */
        if (u1(b)) /* seq_scaling_matrix_present_flag */
            for (int i = 0; i < (chroma != 3 ? 8 : 12) && !b->err; i++)
                if (u1(b))
                    skip_scaling_list(b, i < 6 ? 16 : 64);
    }
    if (ue(b) > 12) /* log2_max_frame_num_minus4 */
        return SG_E_PROTO;
    switch (ue(b)) { /* pic_order_cnt_type */
    case 0:
        if (ue(b) > 12)
            return SG_E_PROTO;
        break;
    case 1: {
        uint32_t n;
        u1(b);
        se(b);
        se(b);
        n = ue(b);
        if (n > 255)
            return SG_E_PROTO;
        for (uint32_t i = 0; i < n && !b->err; i++)
            se(b);
        break;
    }
    case 2:
        break;
    default:
        return SG_E_PROTO;
    }
    ue(b); /* max_num_ref_frames */
    u1(b); /* gaps_in_frame_num_value_allowed_flag */
    w_mbs = ue(b) + 1;
    h_map = ue(b) + 1;
    frame_mbs_only = u1(b);
    if (!frame_mbs_only)
        u1(b);
    u1(b); /* direct_8x8_inference_flag */
    if (u1(b)) {
        crop_l = ue(b);
        crop_r = ue(b);
        crop_t = ue(b);
        crop_b = ue(b);
    }
    if (b->err)
        return SG_E_PROTO;
    if (sep_colour)
        chroma = 0;
    cux = (chroma == 1 || chroma == 2) ? 2 : 1;
    cuy = (chroma == 1 ? 2 : 1) * (2 - (int)frame_mbs_only);
    if (chroma == 0)
        cuy = 2 - (int)frame_mbs_only;
    w = (int64_t)w_mbs * 16 - (int64_t)cux * ((int64_t)crop_l + crop_r);
    h = (int64_t)h_map * 16 * (2 - frame_mbs_only) - (int64_t)cuy * ((int64_t)crop_t + crop_b);
    if (w <= 0 || h <= 0 || w > 16384 || h > 16384)
        return SG_E_PROTO;
    p->width = (int)w;
    p->height = (int)h;
    p->chroma_format = (int)chroma;
    return 0;
}

static int sps_h265(struct bits *b, struct sg_codec_params *p)
{
    unsigned max_sub_layers, sub_profile_present[8], sub_level_present[8];
    uint32_t chroma, w, h, cl = 0, cr = 0, ct = 0, cb = 0, depth_luma, depth_chroma;
    int sw, sh;

    un(b, 16); /* NAL header */
    un(b, 4);  /* sps_video_parameter_set_id */
    max_sub_layers = un(b, 3) + 1;
    if (max_sub_layers > 7)
        return SG_E_PROTO;
    p->num_temporal_layers = (int)max_sub_layers;
    p->temporal_id_nested = (int)u1(b);
    /* profile_tier_level(1, max_sub_layers - 1): general part is 12 bytes, byte aligned here */
    if (b->pos != 24 || b->len < 3 + 12)
        return SG_E_PROTO;
    memcpy(p->hevc_ptl, b->buf + 3, 12);
    b->pos += 96;
    for (unsigned i = 0; i + 1 < max_sub_layers; i++) {
        sub_profile_present[i] = u1(b);
        sub_level_present[i] = u1(b);
    }
    if (max_sub_layers > 1)
        for (unsigned i = max_sub_layers - 1; i < 8; i++)
            un(b, 2);
    for (unsigned i = 0; i + 1 < max_sub_layers; i++) {
        if (sub_profile_present[i])
            b->pos += 88;
        if (sub_level_present[i])
            b->pos += 8;
    }
    if (ue(b) > 15) /* sps_seq_parameter_set_id */
        return SG_E_PROTO;
    chroma = ue(b);
    if (chroma > 3)
        return SG_E_PROTO;
    if (chroma == 3 && u1(b))
        chroma = 0; /* separate_colour_plane */
    w = ue(b);
    h = ue(b);
    if (u1(b)) { /* conformance_window_flag */
        cl = ue(b);
        cr = ue(b);
        ct = ue(b);
        cb = ue(b);
    }
    depth_luma = ue(b); /* bit_depth_luma_minus8: checked before the int conversion */
    depth_chroma = ue(b);
    if (b->err || depth_luma > 8 || depth_chroma > 8)
        return SG_E_PROTO;
    p->bit_depth_luma = (int)depth_luma + 8;
    p->bit_depth_chroma = (int)depth_chroma + 8;
    sw = (chroma == 1 || chroma == 2) ? 2 : 1;
    sh = chroma == 1 ? 2 : 1;
    {
        int64_t W = (int64_t)w - (int64_t)sw * ((int64_t)cl + cr);
        int64_t H = (int64_t)h - (int64_t)sh * ((int64_t)ct + cb);
        if (W <= 0 || H <= 0 || W > 16384 || H > 16384)
            return SG_E_PROTO;
        p->width = (int)W;
        p->height = (int)H;
    }
    p->chroma_format = (int)chroma;
    return 0;
}

int sg_sps_parse(int codec, const uint8_t *nal, size_t len, struct sg_codec_params *p)
{
    struct bits b;

    if (len < 4 || len > SG_PS_MAX)
        return SG_E_PROTO;
    bits_init(&b, nal, len);
    if (codec == SG_CODEC_H264)
        return sps_h264(&b, p);
    if (codec == SG_CODEC_H265)
        return sps_h265(&b, p);
    return SG_E_UNSUPPORTED;
}

const uint8_t *sg_annexb_next(const uint8_t *buf, size_t len, size_t *pos, size_t *nal_len)
{
    size_t i = *pos, start, j;

    /* find a start code 00 00 01 at or after pos */
    while (i + 3 <= len && !(buf[i] == 0 && buf[i + 1] == 0 && buf[i + 2] == 1))
        i++;
    if (i + 3 > len)
        return NULL;
    start = i + 3;
    for (j = start; j + 3 <= len; j++)
        if (buf[j] == 0 && buf[j + 1] == 0 && (buf[j + 2] == 1 || (buf[j + 2] == 0 && j + 3 < len && buf[j + 3] == 1)))
            break;
    if (j + 3 > len)
        j = len;
    *pos = j;
    /* trailing zero bytes belong to the next start code (00 00 00 01) */
    while (j > start && buf[j - 1] == 0 && j < len)
        j--;
    *nal_len = j - start;
    return buf + start;
}

int sg_codecs_rfc6381(int codec, const uint8_t *b, size_t len, char *buf, size_t n)
{
    static const char *const space[] = { "", "A", "B", "C" };
    uint32_t compat, rev = 0;
    int last = 10, w;

    if (codec == SG_CODEC_H264) {
        if (len < 3)
            return SG_E_CORRUPT;
        w = snprintf(buf, n, "avc1.%02x%02x%02x", b[0], b[1], b[2]);
        return w > 0 && (size_t)w < n ? 0 : -ENOSPC;
    }
    if (codec != SG_CODEC_H265)
        return SG_E_UNSUPPORTED;
    if (len < 12)
        return SG_E_CORRUPT;
    compat = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
    for (int i = 0; i < 32; i++)
        rev |= ((compat >> i) & 1u) << (31 - i);
    w = snprintf(buf, n, "hvc1.%s%d.%X.%c%d", space[b[0] >> 6], b[0] & 0x1f, rev,
                 (b[0] & 0x20) ? 'H' : 'L', b[11]);
    while (last >= 5 && !b[last])
        last--; /* trailing zero constraint bytes are left out */
    for (int i = 5; i <= last && w > 0 && (size_t)w < n; i++)
        w += snprintf(buf + w, n - (size_t)w, ".%02X", b[i]);
    return w > 0 && (size_t)w < n ? 0 : -ENOSPC;
}
