/* Playback against real recordings: segment files are built with the recorder's own writer
 * (record/fmp4.c) from the generated test media (scripts/gen-media.sh: 25 fps, an IDR every
 * 50 frames, one slice per picture), then indexed, listed as HLS, exported and snapshotted;
 * outputs are checked independently with libavformat / libavcodec. Without the media
 * (SG_MEDIA_DIR, else the build's media/) the test is skipped (exit 77). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "playback/playback.h"
#include "record/fmp4.h"
#include "check.h"
#include "media_fixture.h"

#define FRAME_US 40000
#define T0 1795228200000000LL           /* 2026-11-21T02:30:00Z */

static char tmpdir[] = "/tmp/sg-playback-XXXXXX";

/* ---- test media (media_fixture.c) ---- */

/* A segment file of n GOPs; fragment i starts at utc starts[i] (dts contiguous). */
static struct sg_buf make_segment(const struct media *m, const int64_t *starts, int n)
{
    struct sg_buf b = { 0 };

    CHECK_EQ_INT(media_segment(m, starts, n, &b), 0);
    return b;
}

static void write_file(const char *path, const void *data, size_t len)
{
    CHECK_EQ_INT(media_write_file(path, data, len), 0);
}

static int index_file(const char *path, struct sg_frag_index *idx)
{
    struct stat st;
    int fd = open(path, O_RDONLY), r;

    if (fd < 0)
        return -errno;
    fstat(fd, &st);
    r = sg_frag_index_update(fd, st.st_size, idx);
    close(fd);
    return r;
}

static void tmp_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

/* ---- index ---- */

static void test_index_complete(const struct media *m)
{
    int64_t starts[3] = { T0, T0 + 2000000, T0 + 4000000 };
    struct sg_buf b = make_segment(m, starts, 3);
    struct sg_frag_index idx = { 0 };
    struct sg_codec_params p;
    char path[256], codecs[32];

    tmp_path(path, sizeof(path), "complete.mp4");
    write_file(path, b.data, b.len);
    CHECK_EQ_INT(index_file(path, &idx), 0);
    CHECK_EQ_INT(idx.n, 3);
    CHECK_EQ_INT(idx.codec, SG_CODEC_H264);
    CHECK_EQ_INT(idx.width, 640);
    CHECK_EQ_INT(idx.height, 360);
    snprintf(codecs, sizeof(codecs), "avc1.%02x%02x%02x", m->p.sps[1], m->p.sps[2], m->p.sps[3]);
    CHECK_STR(idx.rfc6381, codecs);
    CHECK_EQ_INT(idx.scanned_to, (int64_t)b.len);
    CHECK(idx.init_size > 0 && idx.frags[0].offset == idx.init_size);
    for (int i = 0; i < idx.n; i++) {
        CHECK_EQ_INT(idx.frags[i].utc_us, starts[i]);
        CHECK_EQ_INT(idx.frags[i].duration, GOP * FRAME_TICKS);
        CHECK_EQ_INT(idx.frags[i].dts, (int64_t)i * GOP * FRAME_TICKS);
        CHECK_EQ_INT(idx.frags[i].samples, GOP);
        CHECK_EQ_INT(sg_frag_end_us(&idx.frags[i]), starts[i] + 2000000);
        if (i + 1 < idx.n)
            CHECK_EQ_INT(idx.frags[i].offset + idx.frags[i].size, idx.frags[i + 1].offset);
    }
    CHECK_EQ_INT(idx.frags[2].offset + idx.frags[2].size, (int64_t)b.len);
    /* find: last fragment starting at or before */
    CHECK_EQ_INT(sg_frag_index_find(&idx, T0 - 1), 0);
    CHECK_EQ_INT(sg_frag_index_find(&idx, T0), 0);
    CHECK_EQ_INT(sg_frag_index_find(&idx, T0 + 1999999), 0);
    CHECK_EQ_INT(sg_frag_index_find(&idx, T0 + 2000000), 1);
    CHECK_EQ_INT(sg_frag_index_find(&idx, T0 + 5000000), 2);
    CHECK_EQ_INT(sg_frag_index_find(&idx, T0 + 99000000), 2);
    /* parameter sets back from the avcC */
    CHECK_EQ_INT(sg_frag_index_params(&idx, &p), 0);
    CHECK(p.sps_len == m->p.sps_len && !memcmp(p.sps, m->p.sps, p.sps_len));
    CHECK(p.pps_len == m->p.pps_len && !memcmp(p.pps, m->p.pps, p.pps_len));
    CHECK_EQ_INT(p.width, 640);
    /* the samples of a fragment read back */
    {
        struct sg_frag_data d;
        int fd = open(path, O_RDONLY);
        CHECK_EQ_INT(sg_frag_read(fd, &idx.frags[1], 64 << 20, &d), 0);
        CHECK_EQ_INT(d.n, GOP);
        CHECK(d.s[0].key && !d.s[1].key);
        CHECK_EQ_INT(d.s[0].dts, GOP * FRAME_TICKS);
        CHECK(d.s[3].size == m->aus[GOP + 3].size &&
              !memcmp(d.s[3].data, m->aus[GOP + 3].data, d.s[3].size));
        sg_frag_data_free(&d);
        CHECK_EQ_INT(sg_frag_read(fd, &idx.frags[1], 1000, &d), SG_E_TOOBIG);
        close(fd);
    }
    {
        struct sg_frag_index empty = { 0 };
        CHECK_EQ_INT(sg_frag_index_find(&empty, T0), -1);
    }
    sg_frag_index_free(&idx);
    sg_buf_free(&b);
}

/* Appending fragments and a torn tail, as a file being recorded looks. */
static void test_index_incremental(const struct media *m)
{
    int64_t starts[4] = { T0, T0 + 2000000, T0 + 4000000, T0 + 6000000 };
    struct sg_buf b = make_segment(m, starts, 4);
    struct sg_frag_index idx = { 0 }, full = { 0 };
    char path[256];
    size_t cuts[4];

    tmp_path(path, sizeof(path), "growing.mp4");
    write_file(path, b.data, b.len);
    CHECK_EQ_INT(index_file(path, &full), 0);
    CHECK_EQ_INT(full.n, 4);
    for (int i = 0; i < 4; i++)
        cuts[i] = (size_t)(full.frags[i].offset + full.frags[i].size);

    write_file(path, b.data, cuts[0]);
    CHECK_EQ_INT(index_file(path, &idx), 0);
    CHECK_EQ_INT(idx.n, 1);
    /* two more fragments and part of a third: prft only, inside moof, inside mdat */
    {
        size_t torn[3] = { cuts[2] + 20, cuts[2] + 60, cuts[3] - 1 };
        for (int k = 0; k < 3; k++) {
            write_file(path, b.data, torn[k]);
            CHECK_EQ_INT(index_file(path, &idx), 0);
            CHECK_EQ_INT(idx.n, 3);
            CHECK_EQ_INT(idx.scanned_to, (int64_t)cuts[2]);
        }
    }
    write_file(path, b.data, b.len);
    CHECK_EQ_INT(index_file(path, &idx), 0);
    CHECK_EQ_INT(idx.n, 4);
    CHECK(!memcmp(idx.frags, full.frags, sizeof(*idx.frags) * 4));

    /* cache: grows with the file, starts again when the file shrinks, -ENOENT when gone */
    {
        struct sg_frag_cache *c = sg_frag_cache_create(2);
        struct sg_frag_index a = { 0 };
        write_file(path, b.data, cuts[1]);
        CHECK_EQ_INT(sg_frag_cache_get(c, 7, path, &a), 0);
        CHECK_EQ_INT(a.n, 2);
        sg_frag_index_free(&a);
        write_file(path, b.data, b.len);
        CHECK_EQ_INT(sg_frag_cache_get(c, 7, path, &a), 0);
        CHECK_EQ_INT(a.n, 4);
        CHECK_EQ_INT(a.frags[3].utc_us, starts[3]);
        sg_frag_index_free(&a);
        CHECK_EQ_INT(sg_frag_cache_get(c, 8, path, &a), 0); /* fills the second slot */
        sg_frag_index_free(&a);
        CHECK_EQ_INT(sg_frag_cache_get(c, 9, path, &a), 0); /* evicts the least recent */
        sg_frag_index_free(&a);
        write_file(path, b.data, cuts[0]);
        CHECK_EQ_INT(sg_frag_cache_get(c, 9, path, &a), 0);
        CHECK_EQ_INT(a.n, 1);
        sg_frag_index_free(&a);
        unlink(path);
        CHECK_EQ_INT(sg_frag_cache_get(c, 9, path, &a), -ENOENT);
        CHECK(a.frags == NULL && a.n == 0);
        sg_frag_cache_destroy(&c);
        CHECK(c == NULL);
        sg_frag_cache_destroy(&c);
    }
    sg_frag_index_free(&idx);
    sg_frag_index_free(&full);
    sg_buf_free(&b);
}

/* Sizes that lie: every result is a clean refusal or a shorter index, never a crash (ASan). */
static void test_index_hostile(const struct media *m)
{
    int64_t starts[2] = { T0, T0 + 2000000 };
    struct sg_buf b = make_segment(m, starts, 2);
    struct sg_frag_index idx = { 0 };
    uint8_t *copy = malloc(b.len);
    char path[256];
    int64_t moof;
    size_t init;

    tmp_path(path, sizeof(path), "hostile.mp4");
    write_file(path, b.data, b.len);
    CHECK_EQ_INT(index_file(path, &idx), 0);
    init = (size_t)idx.init_size;
    moof = idx.frags[0].offset + 32; /* after our 32-byte prft */
    sg_frag_index_free(&idx);

    /* not ours / cut inside moov */
    write_file(path, b.data, 100);
    CHECK_EQ_INT(index_file(path, &idx), SG_E_CORRUPT);
    sg_frag_index_free(&idx);
    write_file(path, "\0\0\0\x08mdat", 8);
    CHECK_EQ_INT(index_file(path, &idx), SG_E_CORRUPT);
    sg_frag_index_free(&idx);

    /* patch one 32-bit field of the first fragment at a time */
    {
        struct { int64_t at; uint32_t v; } patch[] = {
            { moof, 0xffffffff },            /* moof size past the end */
            { moof, 9 },                     /* moof size too small for its children */
            { moof + 8 + 16 + 0, 0xfffffff0 },   /* traf size */
            { moof + 8 + 16 + 8 + 16 + 20 + 8 + 4, 0x7fffffff }, /* trun sample count */
            { moof + 8 + 16 + 8 + 16 + 20 + 8 + 8, 0x7ffffff0 }, /* trun data offset */
            { moof + 8 + 16 + 8 + 16 + 20 + 8 + 16, 0xffffff00 }, /* a sample size */
            { moof + 8 + 16 + 8 + 16 + 20 + 8 + 12, 0xffffffff }, /* a sample duration */
            { moof - 32, 1 },                /* prft: 64-bit size */
        };
        for (size_t k = 0; k < sizeof(patch) / sizeof(patch[0]); k++) {
            memcpy(copy, b.data, b.len);
            sg_wr32(copy + patch[k].at, patch[k].v);
            write_file(path, copy, b.len);
            CHECK_EQ_INT(index_file(path, &idx), 0);
            CHECK_EQ_INT(idx.n, 0); /* the file is valid only up to the damaged fragment */
            CHECK_EQ_INT(idx.scanned_to, (int64_t)init);
            sg_frag_index_free(&idx);
        }
    }
    /* flipped bytes anywhere in the boxes */
    srand(1);
    for (int k = 0; k < 3000; k++) {
        size_t at = (size_t)rand() % (size_t)(moof + 200);
        memcpy(copy, b.data, b.len);
        copy[at] ^= (uint8_t)(1 + rand() % 255);
        write_file(path, copy, b.len);
        {
            int r = index_file(path, &idx);
            CHECK(r == 0 || r == SG_E_CORRUPT || r == SG_E_UNSUPPORTED);
            CHECK(idx.n <= 2 && idx.scanned_to <= (int64_t)b.len);
        }
        sg_frag_index_free(&idx);
    }
    unlink(path);
    free(copy);
    sg_buf_free(&b);
}

/* ---- HLS ---- */

static void test_hls(const struct media *m)
{
    /* file A: three GOPs with a 5 s hole before the third; file B 10 s after A */
    int64_t sa[3] = { T0, T0 + 2000000, T0 + 9000000 };
    int64_t sb[2] = { T0 + 21000000, T0 + 23000000 };
    struct sg_buf a = make_segment(m, sa, 3), bb = make_segment(m, sb, 2), out = { 0 };
    struct sg_frag_index ia = { 0 }, ib = { 0 };
    struct sg_hls_item items[2];
    struct sg_hls_opts o = { .uri_fmt = "/api/v1/cameras/7/segments/%lld.mp4",
                             .from_us = T0 + 3000000, .to_us = T0 + 30000000,
                             .gap_us = 500000 };
    char path[256], want[4096];
    const struct sg_frag *f;

    tmp_path(path, sizeof(path), "hls-a.mp4");
    write_file(path, a.data, a.len);
    CHECK_EQ_INT(index_file(path, &ia), 0);
    tmp_path(path, sizeof(path), "hls-b.mp4");
    write_file(path, bb.data, bb.len);
    CHECK_EQ_INT(index_file(path, &ib), 0);
    items[0] = (struct sg_hls_item){ 11, sa[0], sa[2] + 2000000, &ia };
    items[1] = (struct sg_hls_item){ 12, sb[0], sb[1] + 2000000, &ib };

    CHECK_EQ_INT(sg_hls_playlist(&out, items, 2, &o), 4);
    f = ia.frags;
    snprintf(want, sizeof(want),
             "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
             "#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n"
             "#EXT-X-MAP:URI=\"/api/v1/cameras/7/segments/11.mp4\",BYTERANGE=\"%lld@0\"\n"
             "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T02:30:02.000Z\n"
             "#EXTINF:2.000,\n#EXT-X-BYTERANGE:%lld@%lld\n/api/v1/cameras/7/segments/11.mp4\n"
             "#EXT-X-DISCONTINUITY\n"
             "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T02:30:09.000Z\n"
             "#EXTINF:2.000,\n#EXT-X-BYTERANGE:%lld@%lld\n/api/v1/cameras/7/segments/11.mp4\n"
             "#EXT-X-DISCONTINUITY\n"
             "#EXT-X-MAP:URI=\"/api/v1/cameras/7/segments/12.mp4\",BYTERANGE=\"%lld@0\"\n"
             "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T02:30:21.000Z\n"
             "#EXTINF:2.000,\n#EXT-X-BYTERANGE:%lld@%lld\n/api/v1/cameras/7/segments/12.mp4\n"
             "#EXTINF:2.000,\n#EXT-X-BYTERANGE:%lld@%lld\n/api/v1/cameras/7/segments/12.mp4\n"
             "#EXT-X-ENDLIST\n",
             (long long)ia.init_size, (long long)f[1].size, (long long)f[1].offset,
             (long long)f[2].size, (long long)f[2].offset, (long long)ib.init_size,
             (long long)ib.frags[0].size, (long long)ib.frags[0].offset,
             (long long)ib.frags[1].size, (long long)ib.frags[1].offset);
    sg_buf_append(&out, "", 1);
    CHECK_STR((char *)out.data, want);

    /* live edge: EVENT, no ENDLIST; to_us cuts file B */
    sg_buf_free(&out);
    o.live_edge = 1;
    o.to_us = T0 + 22000000;
    CHECK_EQ_INT(sg_hls_playlist(&out, items, 2, &o), 3);
    sg_buf_append(&out, "", 1);
    CHECK(strstr((char *)out.data, "#EXT-X-PLAYLIST-TYPE:EVENT\n"));
    CHECK(!strstr((char *)out.data, "ENDLIST"));
    /* an empty range is a valid, empty VOD playlist */
    sg_buf_free(&out);
    o.live_edge = 0;
    o.from_us = T0 + 100000000;
    o.to_us = T0 + 200000000;
    CHECK_EQ_INT(sg_hls_playlist(&out, items, 2, &o), 0);
    sg_buf_append(&out, "", 1);
    CHECK(strstr((char *)out.data, "#EXT-X-TARGETDURATION:1\n"));
    CHECK(strstr((char *)out.data, "#EXT-X-ENDLIST\n"));
    CHECK(!strstr((char *)out.data, "#EXTINF"));
    /* a format that is not exactly one %lld is refused and nothing is appended */
    sg_buf_free(&out);
    o.uri_fmt = "/seg/%s/%lld";
    CHECK_EQ_INT(sg_hls_playlist(&out, items, 2, &o), -EINVAL);
    CHECK_EQ_INT(out.len, 0);
    o.uri_fmt = "/seg/\"%lld";
    CHECK_EQ_INT(sg_hls_playlist(&out, items, 2, &o), -EINVAL);
    sg_buf_free(&out);
    sg_frag_index_free(&ia);
    sg_frag_index_free(&ib);
    sg_buf_free(&a);
    sg_buf_free(&bb);
}

/* ---- export ---- */

/* Reads an MP4 back with libavformat and decodes every frame with libavcodec. */
static void check_mp4(const char *path, int frames, double seconds, int width)
{
    AVFormatContext *ic = NULL;
    AVCodecContext *dc = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    int64_t first = AV_NOPTS_VALUE, last = 0;
    int n = 0, decoded = 0, key0 = 0;
    AVStream *st;

    CHECK_EQ_INT(avformat_open_input(&ic, path, NULL, NULL), 0);
    if (!ic)
        goto out;
    CHECK_EQ_INT(avformat_find_stream_info(ic, NULL) >= 0, 1);
    CHECK_EQ_INT(ic->nb_streams, 1);
    st = ic->streams[0];
    CHECK_EQ_INT(st->codecpar->width, width);
    dc = avcodec_alloc_context3(avcodec_find_decoder(st->codecpar->codec_id));
    avcodec_parameters_to_context(dc, st->codecpar);
    dc->thread_count = 1;
    CHECK_EQ_INT(avcodec_open2(dc, dc->codec, NULL), 0);
    while (av_read_frame(ic, pkt) >= 0) {
        if (n++ == 0) {
            key0 = !!(pkt->flags & AV_PKT_FLAG_KEY);
            first = pkt->pts;
        }
        last = pkt->pts + pkt->duration;
        CHECK_EQ_INT(avcodec_send_packet(dc, pkt), 0);
        av_packet_unref(pkt);
        while (avcodec_receive_frame(dc, fr) >= 0)
            decoded++;
    }
    avcodec_send_packet(dc, NULL);
    while (avcodec_receive_frame(dc, fr) >= 0)
        decoded++;
    CHECK_EQ_INT(n, frames);
    CHECK_EQ_INT(decoded, frames);
    CHECK(key0);
    CHECK_EQ_INT(first, 0);
    {
        double d = (double)(last - first) * av_q2d(st->time_base);
        CHECK(d > seconds - 0.01 && d < seconds + 0.01);
        if (!(d > seconds - 0.01 && d < seconds + 0.01))
            fprintf(stderr, "duration %.3f, want %.3f\n", d, seconds);
    }
out:
    avcodec_free_context(&dc);
    avformat_close_input(&ic);
    av_packet_free(&pkt);
    av_frame_free(&fr);
}

static void test_export(const struct media *m, const struct media *other)
{
    /* A: 3 GOPs from T0; B: 2 GOPs 1 s after A ends */
    int64_t sa[3] = { T0, T0 + 2000000, T0 + 4000000 }, sb[2] = { T0 + 7000000, T0 + 9000000 };
    struct sg_buf a = make_segment(m, sa, 3), bb = make_segment(m, sb, 2), c = { 0 };
    struct sg_export_src src[3];
    struct sg_export_info info;
    char pa[256], pb[256], pc[256], out[256];
    uint8_t head[64];
    struct stat st;
    int fd;

    tmp_path(pa, sizeof(pa), "exp-a.mp4");
    tmp_path(pb, sizeof(pb), "exp-b.mp4");
    tmp_path(pc, sizeof(pc), "exp-c.mp4");
    tmp_path(out, sizeof(out), "export.mp4");
    write_file(pa, a.data, a.len);
    write_file(pb, bb.data, bb.len);
    src[0] = (struct sg_export_src){ pa, sa[0], sa[2] + 2000000 };
    src[1] = (struct sg_export_src){ pb, sb[0], sb[1] + 2000000 };

    /* from inside A's second GOP (starts at its keyframe, T0 + 2 s) to 1.5 s into B */
    CHECK_EQ_INT(sg_export_mp4(src, 2, T0 + 3100000, T0 + 8500000, out, &info), 0);
    CHECK_EQ_INT(info.first_utc_us, T0 + 2000000);
    CHECK_EQ_INT(info.last_utc_us, T0 + 8520000); /* 38 frames of B: the last starts at 8.48 s */
    CHECK_EQ_INT(info.frames, 2 * GOP + 38);
    CHECK_EQ_INT(info.gaps, 1);
    CHECK_EQ_INT(stat(out, &st), 0);
    CHECK_EQ_INT(info.bytes, st.st_size);
    /* faststart: moov before mdat */
    fd = open(out, O_RDONLY);
    CHECK(read(fd, head, sizeof(head)) == (ssize_t)sizeof(head));
    close(fd);
    CHECK(!memcmp(head + 4, "ftyp", 4));
    CHECK(!memcmp(head + sg_rd32(head) + 4, "moov", 4));
    /* real time kept: 6.52 s from the first frame to the end of the last, the 1 s hole included */
    check_mp4(out, 2 * GOP + 38, 6.52, 640);
    unlink(out);

    /* nothing in range */
    CHECK_EQ_INT(sg_export_mp4(src, 2, T0 + 6100000, T0 + 6900000, out, &info), SG_E_NOTFOUND);
    CHECK(stat(out, &st) < 0);
    /* a source with other parameter sets inside the range is refused, nothing left behind */
    {
        int64_t sc[1] = { T0 + 11000000 };
        c = make_segment(other, sc, 1);
        write_file(pc, c.data, c.len);
        src[2] = (struct sg_export_src){ pc, sc[0], sc[0] + 2000000 };
        CHECK_EQ_INT(sg_export_mp4(src, 3, T0, T0 + 20000000, out, &info), SG_E_UNSUPPORTED);
        CHECK(stat(out, &st) < 0);
        /* outside the range it does not matter */
        CHECK_EQ_INT(sg_export_mp4(src, 3, T0, T0 + 11000000, out, &info), 0);
        CHECK_EQ_INT(info.frames, 5 * GOP);
        unlink(out);
    }
    /* a missing file */
    src[0].path = "/nonexistent/sargas.mp4";
    CHECK_EQ_INT(sg_export_mp4(src, 2, T0, T0 + 10000000, out, &info), -ENOENT);
    sg_buf_free(&a);
    sg_buf_free(&bb);
    sg_buf_free(&c);
    unlink(pa);
    unlink(pb);
    unlink(pc);
}

/* ---- snapshot ---- */

static void check_jpeg(const struct sg_buf *j, int width, int height)
{
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *dc = avcodec_alloc_context3(codec);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();

    CHECK(j->len > 4 && j->data[0] == 0xff && j->data[1] == 0xd8);
    CHECK(j->len > 4 && j->data[j->len - 2] == 0xff && j->data[j->len - 1] == 0xd9);
    CHECK_EQ_INT(avcodec_open2(dc, codec, NULL), 0);
    av_new_packet(pkt, (int)j->len);
    memcpy(pkt->data, j->data, j->len);
    CHECK_EQ_INT(avcodec_send_packet(dc, pkt), 0);
    CHECK_EQ_INT(avcodec_receive_frame(dc, fr), 0);
    CHECK_EQ_INT(fr->width, width);
    CHECK_EQ_INT(fr->height, height);
    av_frame_free(&fr);
    av_packet_free(&pkt);
    avcodec_free_context(&dc);
}

static void test_snapshot(const struct media *m, const struct media *h265)
{
    struct sg_snapshot_au aus[GOP];
    struct sg_buf j = { 0 };
    size_t big;

    for (int i = 0; i < GOP; i++)
        aus[i] = (struct sg_snapshot_au){ m->aus[i].data, m->aus[i].size };
    CHECK_EQ_INT(sg_snapshot_jpeg(&m->p, aus, GOP, 80, 0, &j), 0);
    check_jpeg(&j, 640, 360);
    big = j.len;
    sg_buf_free(&j);
    CHECK_EQ_INT(sg_snapshot_jpeg(&m->p, aus, GOP, 80, 320, &j), 0);
    check_jpeg(&j, 320, 180);
    sg_buf_free(&j);
    CHECK_EQ_INT(sg_snapshot_jpeg(&m->p, aus, GOP, 5, 0, &j), 0);
    check_jpeg(&j, 640, 360);
    CHECK(j.len < big); /* lower quality, fewer bytes */
    sg_buf_free(&j);
    /* a length prefix running past its AU */
    {
        uint8_t bad[8] = { 0, 0, 1, 0, 0x65, 0x88, 0x80, 0x40 };
        struct sg_snapshot_au b = { bad, sizeof(bad) };
        CHECK_EQ_INT(sg_snapshot_jpeg(&m->p, &b, 1, 80, 0, &j), SG_E_CORRUPT);
        CHECK_EQ_INT(j.len, 0);
    }

    for (int i = 0; i < 12; i++)
        aus[i] = (struct sg_snapshot_au){ h265->aus[i].data, h265->aus[i].size };
    CHECK_EQ_INT(sg_snapshot_jpeg(&h265->p, aus, 12, 75, 0, &j), 0);
    check_jpeg(&j, h265->p.width, h265->p.height);
    sg_buf_free(&j);
    CHECK_EQ_INT(sg_snapshot_jpeg(&h265->p, aus, 12, 75, 200, &j), 0);
    check_jpeg(&j, 200, (h265->p.height * 200 + h265->p.width / 2) / h265->p.width & ~1);
    sg_buf_free(&j);
}

/* A snapshot of a recorded fragment: parameter sets from the file's hvcC, samples from mdat. */
static void test_snapshot_recorded(const struct media *h265)
{
    int64_t s[1] = { T0 };
    struct sg_buf b = make_segment(h265, s, 1), j = { 0 };
    struct sg_frag_index idx = { 0 };
    struct sg_codec_params p;
    struct sg_frag_data d;
    struct sg_snapshot_au aus[GOP];
    char path[256];
    int fd;

    tmp_path(path, sizeof(path), "snap.mp4");
    write_file(path, b.data, b.len);
    CHECK_EQ_INT(index_file(path, &idx), 0);
    CHECK_EQ_INT(idx.codec, SG_CODEC_H265);
    CHECK(!strncmp(idx.rfc6381, "hvc1.", 5));
    fprintf(stderr, "h265 codecs string: %s\n", idx.rfc6381);
    CHECK_EQ_INT(sg_frag_index_params(&idx, &p), 0);
    CHECK(p.vps_len == h265->p.vps_len && !memcmp(p.vps, h265->p.vps, p.vps_len));
    CHECK(!memcmp(p.hevc_ptl, h265->p.hevc_ptl, sizeof(p.hevc_ptl)));
    fd = open(path, O_RDONLY);
    CHECK_EQ_INT(sg_frag_read(fd, &idx.frags[0], 64 << 20, &d), 0);
    close(fd);
    for (int i = 0; i < 5 && i < d.n; i++)
        aus[i] = (struct sg_snapshot_au){ d.s[i].data, d.s[i].size };
    CHECK_EQ_INT(sg_snapshot_jpeg(&p, aus, 5, 90, 0, &j), 0);
    check_jpeg(&j, p.width, p.height);
    sg_buf_free(&j);
    sg_frag_data_free(&d);
    sg_frag_index_free(&idx);
    sg_buf_free(&b);
    unlink(path);
}

int main(void)
{
    struct media sub, main264, sub265;
    char cmd[64];

    if (media_load("sub.h264", 8 << 20, &sub) < 0) {
        printf("test_playback: SKIP: no test media (scripts/gen-media.sh; SG_MEDIA_DIR)\n");
        return 77;
    }
    CHECK_EQ_INT(media_load("main.h264", 3 << 20, &main264), 0);
    CHECK_EQ_INT(media_load("sub.h265", 1 << 20, &sub265), 0);
    CHECK(sub.n >= 5 * GOP && main264.n >= GOP && sub265.n >= GOP);
    CHECK(mkdtemp(tmpdir) != NULL);
    if (check_failures)
        return check_done("test_playback");

    test_index_complete(&sub);
    test_index_incremental(&sub);
    test_index_hostile(&sub);
    test_hls(&sub);
    test_export(&sub, &main264);
    test_snapshot(&sub, &sub265);
    test_snapshot_recorded(&sub265);

    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    CHECK_EQ_INT(system(cmd), 0);
    media_free(&sub);
    media_free(&main264);
    media_free(&sub265);
    return check_done("test_playback");
}
