/* A JPEG of the last picture of a run of access units: libavcodec's H.264/H.265 decoder (one
 * thread, Annex B input), libswscale to full-range YUV 4:2:0 (and down to max_width), and the
 * mjpeg encoder. */
#include <errno.h>
#include <stdlib.h>
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
 * four bytes). Returns 0 or SG_E_CORRUPT when a length is 0 or runs past the AU. */
static int to_annexb(const struct sg_snapshot_au *au, AVPacket *pkt)
{
    const uint8_t *nal;
    size_t off = 0, len;
    int r;

    if (au->size == 0 || au->size > INT32_MAX - AV_INPUT_BUFFER_PADDING_SIZE)
        return SG_E_CORRUPT;
    if ((r = av_new_packet(pkt, (int)au->size)) < 0)
        return sg_av_err(r);
    memcpy(pkt->data, au->data, au->size);
    while ((nal = sg_au_next(au->data, au->size, &off, &len)))
        memcpy(pkt->data + (nal - au->data) - 4, start_code, 4);
    return off == au->size ? 0 : SG_E_CORRUPT;
}

/* Receives every frame the decoder has ready; keeps the newest in last. Returns 1 when it
 * got one, 0 when none was ready, or a negative code. */
static int drain(AVCodecContext *dc, AVFrame *tmp, AVFrame *last)
{
    int r, got = 0;

    while ((r = avcodec_receive_frame(dc, tmp)) >= 0) {
        av_frame_unref(last);
        av_frame_move_ref(last, tmp);
        got = 1;
    }
    return r == AVERROR(EAGAIN) || r == AVERROR_EOF ? got : sg_av_err(r);
}

struct sg_decoder {
    AVCodecContext *dc;
    AVPacket *pkt;
    AVFrame *tmp, *last;
};

void sg_decoder_close(struct sg_decoder **dp)
{
    struct sg_decoder *d = *dp;

    if (!d)
        return;
    avcodec_free_context(&d->dc);
    av_packet_free(&d->pkt);
    av_frame_free(&d->tmp);
    av_frame_free(&d->last);
    free(d);
    *dp = NULL;
}

int sg_decoder_open(const struct sg_codec_params *p, struct sg_decoder **out)
{
    const AVCodec *codec;
    struct sg_decoder *d;
    int r;

    *out = NULL;
    if ((p->codec != SG_CODEC_H264 && p->codec != SG_CODEC_H265) || !p->sps_len || !p->pps_len)
        return -EINVAL;
    sg_av_log_init();
    codec = avcodec_find_decoder(p->codec == SG_CODEC_H265 ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
    if (!codec)
        return SG_E_UNSUPPORTED;
    if (!(d = calloc(1, sizeof(*d))))
        return -ENOMEM;
    d->pkt = av_packet_alloc();
    d->tmp = av_frame_alloc();
    d->last = av_frame_alloc();
    d->dc = avcodec_alloc_context3(codec);
    if (!d->pkt || !d->tmp || !d->last || !d->dc) {
        r = -ENOMEM;
        goto fail;
    }
    /* One thread, and a decode by the book: skipping the deblocking filter saved 5-20 % of
     * the time but let every P frame predict from pictures the encoder never had, an error
     * that grows until the next IDR. On a still 720p scene served in 2 s GOPs that drift made
     * block edges that the motion analysis took for objects (bench/motion.sh --quality:
     * exposure#0, one event of 82 s per 100 s loop). */
    d->dc->thread_count = 1;
    if ((r = set_extradata(d->dc, p)) < 0 || (r = sg_av_err(avcodec_open2(d->dc, codec, NULL))) < 0)
        goto fail;
    *out = d;
    return 0;
fail:
    sg_decoder_close(&d);
    return r;
}

int sg_decoder_decode(struct sg_decoder *d, const uint8_t *au, size_t size, struct sg_picture *pic)
{
    struct sg_snapshot_au a = { .data = au, .size = size };
    int r;

    if (au) {
        if ((r = to_annexb(&a, d->pkt)) < 0)
            return r;
        r = avcodec_send_packet(d->dc, d->pkt);
        av_packet_unref(d->pkt);
    } else {
        r = avcodec_send_packet(d->dc, NULL); /* flush */
    }
    /* a damaged AU costs that picture */
    if (r < 0 && r != AVERROR_INVALIDDATA && r != AVERROR_EOF)
        return sg_av_err(r);
    if ((r = drain(d->dc, d->tmp, d->last)) <= 0)
        return r;
    if (pic) {
        pic->luma = d->last->data[0];
        pic->width = d->last->width;
        pic->height = d->last->height;
        pic->stride = d->last->linesize[0];
        pic->full_range = d->last->color_range == AVCOL_RANGE_JPEG || d->last->format == AV_PIX_FMT_YUVJ420P ||
                          d->last->format == AV_PIX_FMT_YUVJ422P || d->last->format == AV_PIX_FMT_YUVJ444P;
    }
    return 1;
}

/* Decodes the AUs; *last gets the last picture. */
static int decode(const struct sg_codec_params *p, const struct sg_snapshot_au *aus, int n, AVFrame *last)
{
    struct sg_decoder *d = NULL;
    int r;

    if ((r = sg_decoder_open(p, &d)) < 0)
        return r;
    for (int i = 0; i < n && r >= 0; i++)
        r = sg_decoder_decode(d, aus[i].data, aus[i].size, NULL);
    if (r >= 0)
        r = sg_decoder_decode(d, NULL, 0, NULL);
    if (r >= 0 && !d->last->data[0])
        r = SG_E_CORRUPT; /* nothing decodable */
    if (r >= 0)
        av_frame_move_ref(last, d->last);
    sg_decoder_close(&d);
    return r < 0 ? r : 0;
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

/* The JPEG of one decoded picture, scaled down to max_width when it is wider. */
static int frame_jpeg(const AVFrame *last, int quality, int max_width, struct sg_buf *out)
{
    AVFrame *pic = av_frame_alloc();
    int w, h, r;

    if (!pic)
        return -ENOMEM;
    /* 4:2:0 wants even dimensions; scaled down, the aspect ratio is kept (rounded) */
    w = max_width > 0 && last->width > max_width ? max_width : last->width;
    w = w > 2 ? w & ~1 : 2;
    h = w == last->width ? last->height
                         : (int)(((int64_t)last->height * w + last->width / 2) / last->width);
    h = h > 2 ? h & ~1 : 2;
    if ((r = convert(last, w, h, pic)) == 0)
        r = encode(pic, quality, out);
    av_frame_free(&pic);
    return r;
}

int sg_decoder_jpeg(struct sg_decoder *d, int quality, int max_width, struct sg_buf *out)
{
    if (!d->last->data[0])
        return SG_E_NOTFOUND;
    return frame_jpeg(d->last, quality, max_width, out);
}

int sg_snapshot_jpeg(const struct sg_codec_params *p, const struct sg_snapshot_au *aus, int n,
                     int quality, int max_width, struct sg_buf *out)
{
    AVFrame *last = av_frame_alloc();
    int r;

    if (!last)
        return -ENOMEM;
    if (n <= 0 || !aus)
        r = -EINVAL;
    else if ((r = decode(p, aus, n, last)) == 0)
        r = frame_jpeg(last, quality, max_width, out);
    av_frame_free(&last);
    return r;
}
