/* A JPEG of the last picture of a run of access units: libavcodec's H.264/H.265 decoder (one
 * thread, Annex B input), libswscale to full-range YUV 4:2:0 (and down to max_width), and the
 * mjpeg encoder. */
#include <errno.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/mem.h>
#include <libswscale/swscale.h>

#include "base/err.h"
#include "playback/av_int.h"
#include "playback/playback.h"

static const uint8_t start_code[4] = { 0, 0, 0, 1 };

/* Annex B parameter sets (VPS, SPS, PPS) as decoder extradata. */
static int set_extradata(AVCodecContext *dc, const struct sg_codec_params *p)
{
    const uint8_t *ps[3] = { p->vps, p->sps, p->pps };
    size_t len[3] = { p->codec == SG_CODEC_H265 ? p->vps_len : 0, p->sps_len, p->pps_len };
    size_t total = 0, off = 0;

    for (int i = 0; i < 3; i++)
        total += len[i] ? 4 + len[i] : 0;
    if (!(dc->extradata = av_mallocz(total + AV_INPUT_BUFFER_PADDING_SIZE)))
        return -ENOMEM;
    for (int i = 0; i < 3; i++) {
        if (!len[i])
            continue;
        memcpy(dc->extradata + off, start_code, 4);
        memcpy(dc->extradata + off + 4, ps[i], len[i]);
        off += 4 + len[i];
    }
    dc->extradata_size = (int)total;
    return 0;
}

/* Copies a length-prefixed AU into pkt with each length replaced by a start code (the same
 * four bytes). Returns 0 or SG_E_CORRUPT when a length runs past the AU. */
static int to_annexb(const struct sg_snapshot_au *au, AVPacket *pkt)
{
    size_t off = 0;
    int r;

    if (au->size == 0 || au->size > INT32_MAX - AV_INPUT_BUFFER_PADDING_SIZE)
        return SG_E_CORRUPT;
    if ((r = av_new_packet(pkt, (int)au->size)) < 0)
        return sg_av_err(r);
    memcpy(pkt->data, au->data, au->size);
    while (off < au->size) {
        uint32_t len;
        if (au->size - off < 4 || (len = sg_rd32(pkt->data + off)) > au->size - off - 4)
            return SG_E_CORRUPT;
        memcpy(pkt->data + off, start_code, 4);
        off += 4 + len;
    }
    return 0;
}

/* Receives every frame the decoder has ready; keeps the newest in last. */
static int drain(AVCodecContext *dc, AVFrame *tmp, AVFrame *last)
{
    int r;

    while ((r = avcodec_receive_frame(dc, tmp)) >= 0) {
        av_frame_unref(last);
        av_frame_move_ref(last, tmp);
    }
    return r == AVERROR(EAGAIN) || r == AVERROR_EOF ? 0 : sg_av_err(r);
}

/* Decodes the AUs; *last gets the last picture. */
static int decode(const struct sg_codec_params *p, const struct sg_snapshot_au *aus, int n, AVFrame *last)
{
    const AVCodec *codec = avcodec_find_decoder(p->codec == SG_CODEC_H265 ? AV_CODEC_ID_HEVC
                                                                          : AV_CODEC_ID_H264);
    AVCodecContext *dc = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *tmp = av_frame_alloc();
    int r;

    if (!pkt || !tmp) {
        r = -ENOMEM;
        goto out;
    }
    if (!codec || !(dc = avcodec_alloc_context3(codec))) {
        r = codec ? -ENOMEM : SG_E_UNSUPPORTED;
        goto out;
    }
    dc->thread_count = 1;
    if ((r = set_extradata(dc, p)) < 0 || (r = sg_av_err(avcodec_open2(dc, codec, NULL))) < 0)
        goto out;
    for (int i = 0; i < n; i++) {
        if ((r = to_annexb(&aus[i], pkt)) < 0)
            goto out;
        r = avcodec_send_packet(dc, pkt);
        av_packet_unref(pkt);
        /* a damaged AU costs that picture, not the snapshot */
        if ((r < 0 && r != AVERROR_INVALIDDATA) || (r = drain(dc, tmp, last)) < 0)
            goto out;
    }
    if ((r = avcodec_send_packet(dc, NULL)) >= 0)
        r = drain(dc, tmp, last);
    if (r >= 0 && !last->data[0])
        r = SG_E_CORRUPT; /* nothing decodable */
out:
    if (r > 0)
        r = 0;
    avcodec_free_context(&dc);
    av_frame_free(&tmp);
    av_packet_free(&pkt);
    return r < 0 ? sg_av_err(r) : 0;
}

/* Scales src to w x h full-range YUV 4:2:0 in dst. */
static int convert(const AVFrame *src, int w, int h, AVFrame *dst)
{
    struct SwsContext *sws;
    int full = src->color_range == AVCOL_RANGE_JPEG || src->format == AV_PIX_FMT_YUVJ420P;
    int r;

    dst->format = AV_PIX_FMT_YUV420P;
    dst->width = w;
    dst->height = h;
    dst->color_range = AVCOL_RANGE_JPEG;
    if ((r = av_frame_get_buffer(dst, 0)) < 0)
        return sg_av_err(r);
    sws = sws_getContext(src->width, src->height, src->format, w, h, AV_PIX_FMT_YUV420P,
                         SWS_BICUBIC, NULL, NULL, NULL);
    if (!sws)
        return SG_E_UNSUPPORTED;
    /* limited-range video to the full range JPEG expects */
    sws_setColorspaceDetails(sws, sws_getCoefficients(SWS_CS_ITU601), full,
                             sws_getCoefficients(SWS_CS_ITU601), 1, 0, 1 << 16, 1 << 16);
    r = sws_scale(sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height,
                  dst->data, dst->linesize);
    sws_freeContext(sws);
    return r == h ? 0 : SG_E_CORRUPT;
}

/* Encodes pic as one baseline JPEG appended to out. quality 1..100 maps onto qscale 31..1. */
static int encode(const AVFrame *pic, int quality, struct sg_buf *out)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *ec = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_clone(pic);
    int q = quality < 1 ? 1 : quality > 100 ? 100 : quality;
    int qscale = 1 + (100 - q) * 30 / 99, r;

    if (!pkt || !f) {
        r = -ENOMEM;
        goto out;
    }
    if (!codec || !(ec = avcodec_alloc_context3(codec))) {
        r = codec ? -ENOMEM : SG_E_UNSUPPORTED;
        goto out;
    }
    ec->width = pic->width;
    ec->height = pic->height;
    ec->pix_fmt = AV_PIX_FMT_YUV420P;
    ec->color_range = AVCOL_RANGE_JPEG; /* yuv420p is accepted by mjpeg only as full range */
    ec->time_base = (AVRational){ 1, 25 };
    ec->flags |= AV_CODEC_FLAG_QSCALE;
    ec->global_quality = qscale * FF_QP2LAMBDA;
    ec->thread_count = 1;
    f->quality = ec->global_quality;
    f->pts = 0;
    if ((r = avcodec_open2(ec, codec, NULL)) < 0 || (r = avcodec_send_frame(ec, f)) < 0 ||
        (r = avcodec_send_frame(ec, NULL)) < 0 || (r = avcodec_receive_packet(ec, pkt)) < 0)
        goto out;
    r = sg_buf_append(out, pkt->data, (size_t)pkt->size);
out:
    avcodec_free_context(&ec);
    av_frame_free(&f);
    av_packet_free(&pkt);
    return r < 0 ? sg_av_err(r) : 0;
}

int sg_snapshot_jpeg(const struct sg_codec_params *p, const struct sg_snapshot_au *aus, int n,
                     int quality, int max_width, struct sg_buf *out)
{
    AVFrame *last, *pic;
    int w, h, r;

    sg_av_log_init();
    last = av_frame_alloc();
    pic = av_frame_alloc();
    if (!last || !pic) {
        r = -ENOMEM;
        goto out;
    }
    if (n <= 0 || !aus || (p->codec != SG_CODEC_H264 && p->codec != SG_CODEC_H265) ||
        !p->sps_len || !p->pps_len) {
        r = -EINVAL;
        goto out;
    }
    if ((r = decode(p, aus, n, last)) < 0)
        goto out;
    /* 4:2:0 wants even dimensions; scaled down, the aspect ratio is kept (rounded) */
    w = max_width > 0 && last->width > max_width ? max_width : last->width;
    w = w > 2 ? w & ~1 : 2;
    h = w == last->width ? last->height
                         : (int)(((int64_t)last->height * w + last->width / 2) / last->width);
    h = h > 2 ? h & ~1 : 2;
    if ((r = convert(last, w, h, pic)) < 0)
        goto out;
    r = encode(pic, quality, out);
out:
    av_frame_free(&last);
    av_frame_free(&pic);
    return r;
}
