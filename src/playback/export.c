/* A range of recordings as one progressive MP4 (moov first), remuxed with libavformat.
 *
 * The files are read with our own fragment reader (index.c), not with libavformat's mov
 * demuxer: the reader already knows where every fragment is, so the start is one pread away
 * instead of a demuxer seek through a file without an index; it carries each fragment's
 * wall-clock time (prft), which the demuxer does not expose, so that real time survives between
 * files; it stops cleanly at a torn tail of a file still being recorded; and it is the parser
 * that is fuzzed. libavformat only writes the output (mp4 muxer, +faststart). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavutil/mem.h>

#include "base/err.h"
#include "playback/av_int.h"
#include "playback/export_int.h"
#include "playback/playback.h"
#include "record/fmp4.h"

/* Timeline of the output: 90 kHz from the first exported fragment's wall-clock time. */
struct mux {
    AVFormatContext *oc;
    AVPacket *pkt;
    int64_t base_utc, last_ts, prev_end_utc;
    int done;                  /* reached to_us */
    struct sg_export_info *info;
};

static int open_output(const char *path, const struct sg_frag_index *idx, AVFormatContext **out)
{
    AVFormatContext *oc = NULL;
    AVDictionary *opts = NULL;
    AVStream *st;
    int r;

    if ((r = avformat_alloc_output_context2(&oc, NULL, "mp4", path)) < 0)
        return sg_av_err(r);
    if (!(st = avformat_new_stream(oc, NULL))) {
        r = -ENOMEM;
        goto fail;
    }
    st->time_base = (AVRational){ 1, SG_FMP4_TIMESCALE };
    st->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
    st->codecpar->codec_id = idx->codec == SG_CODEC_H265 ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264;
    /* hvc1 (parameter sets only in hvcC), as browsers and Apple players want */
    if (idx->codec == SG_CODEC_H265)
        st->codecpar->codec_tag = MKTAG('h', 'v', 'c', '1');
    st->codecpar->width = idx->width;
    st->codecpar->height = idx->height;
    if (!(st->codecpar->extradata = av_mallocz(idx->config_len + AV_INPUT_BUFFER_PADDING_SIZE))) {
        r = -ENOMEM;
        goto fail;
    }
    memcpy(st->codecpar->extradata, idx->config, idx->config_len);
    st->codecpar->extradata_size = (int)idx->config_len;
    if ((r = avio_open(&oc->pb, path, AVIO_FLAG_WRITE)) < 0) {
        r = sg_av_err(r);
        goto fail;
    }
    av_dict_set(&opts, "movflags", "+faststart", 0);
    r = avformat_write_header(oc, &opts);
    av_dict_free(&opts);
    if (r < 0) {
        r = sg_av_err(r);
        goto fail;
    }
    *out = oc;
    return 0;
fail:
    if (oc->pb)
        avio_closep(&oc->pb);
    avformat_free_context(oc);
    return r;
}

static int write_sample(struct mux *m, const struct sg_frag *f, const struct sg_frag_sample *s)
{
    int64_t rel = s->dts - f->dts;
    int64_t utc = f->utc_us + sg_ticks_to_us(rel);
    /* real time between fragments (and files), the file's own ticks inside a fragment */
    int64_t ts = (f->utc_us - m->base_utc) * 9 / 100 + rel;
    int r;

    if (m->info->frames > 0 && ts <= m->last_ts)
        ts = m->last_ts + 1; /* a clock step between files must not reorder the output */
    if ((r = av_new_packet(m->pkt, (int)s->size)) < 0)
        return sg_av_err(r);
    memcpy(m->pkt->data, s->data, s->size);
    m->pkt->pts = m->pkt->dts = ts;
    m->pkt->duration = s->duration;
    m->pkt->flags = s->key ? AV_PKT_FLAG_KEY : 0;
    m->pkt->stream_index = 0;
    av_packet_rescale_ts(m->pkt, (AVRational){ 1, SG_FMP4_TIMESCALE }, m->oc->streams[0]->time_base);
    if ((r = av_interleaved_write_frame(m->oc, m->pkt)) < 0)
        return sg_av_err(r);
    if (m->info->frames == 0)
        m->info->first_utc_us = utc;
    m->info->last_utc_us = utc + sg_ticks_to_us(s->duration);
    m->info->frames++;
    m->last_ts = ts;
    return 0;
}

/* Writes the samples of fragment i of p that start before to_us. */
static int write_frag(struct mux *m, struct sg_export_plan *p, int i, int64_t to_us)
{
    const struct sg_frag *f = &p->idx.frags[i];
    struct sg_frag_data d;
    int r;

    if ((r = sg_frag_read(p->fd, f, SG_EXPORT_FRAG_MAX, &d)) < 0)
        return r;
    if (m->info->frames == 0)
        m->base_utc = f->utc_us;
    else if (f->utc_us - m->prev_end_utc > SG_EXPORT_GAP_US)
        m->info->gaps++;
    for (int k = 0; k < d.n && r >= 0; k++) {
        if (f->utc_us + sg_ticks_to_us(d.s[k].dts - f->dts) >= to_us) {
            m->done = 1;
            break;
        }
        r = write_sample(m, f, &d.s[k]);
    }
    m->prev_end_utc = sg_frag_end_us(f);
    sg_frag_data_free(&d);
    return r;
}

int sg_export_mp4(const struct sg_export_src *src, int n, int64_t from_us, int64_t to_us,
                  const char *out_path, struct sg_export_info *info)
{
    struct sg_export_plan *p = NULL;
    struct mux m = { .info = info };
    struct stat st;
    int ref, r, opened = 0;

    sg_av_log_init();
    memset(info, 0, sizeof(*info));
    if ((r = sg_export_plan(src, n, from_us, to_us, &p, &ref)) < 0)
        goto fail;
    if (ref < 0) {
        r = SG_E_NOTFOUND;
        goto fail;
    }
    if (!(m.pkt = av_packet_alloc())) {
        r = -ENOMEM;
        goto fail;
    }
    opened = 1; /* from here on out_path may exist */
    if ((r = open_output(out_path, &p[ref].idx, &m.oc)) < 0)
        goto fail;
    for (int i = ref; i < n && !m.done && r >= 0; i++)
        for (int j = p[i].first; j <= p[i].last && !m.done && r >= 0; j++)
            r = write_frag(&m, &p[i], j, to_us);
    if (r < 0)
        goto fail;
    if ((r = av_write_trailer(m.oc)) < 0 || (r = avio_closep(&m.oc->pb)) < 0) {
        r = sg_av_err(r);
        goto fail;
    }
    if (stat(out_path, &st) == 0)
        info->bytes = st.st_size;
    avformat_free_context(m.oc);
    av_packet_free(&m.pkt);
    sg_export_plan_free(&p, n);
    return 0;
fail:
    if (m.oc) {
        if (m.oc->pb)
            avio_closep(&m.oc->pb);
        avformat_free_context(m.oc);
    }
    if (opened)
        unlink(out_path);
    av_packet_free(&m.pkt);
    sg_export_plan_free(&p, n);
    memset(info, 0, sizeof(*info));
    return r;
}
