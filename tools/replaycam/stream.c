/* tools/replaycam: loading and pre-packetising a stream (see stream.h). */
#include "stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h" /* tools/fakecam: loading, AU splitting, the SEI */

#define NAL_SEI 6
#define NAL_SPS 7
#define NAL_PPS 8
#define NAL_FU_A 28
#define PARAM_MAX 256 /* largest SPS/PPS put into the SDP */

struct builder {
    struct rc_stream *s;
    size_t payload_cap;
    size_t packets_cap;
    uint32_t frame_first;
};

/* Appends one packet of len bytes made of head (hlen bytes, may be 0) and body. */
static int add_packet(struct builder *b, const uint8_t *head, size_t hlen, const uint8_t *body,
                      size_t blen, int sei)
{
    struct rc_stream *s = b->s;
    size_t len = hlen + blen;

    if (len == 0 || len > RC_RTP_PAYLOAD)
        return -EINVAL;
    if (s->payload_size + len > UINT32_MAX)
        return -EFBIG;
    if (s->payload_size + len > b->payload_cap) {
        size_t cap = b->payload_cap ? b->payload_cap * 2 : 1 << 20;
        uint8_t *p;
        while (cap < s->payload_size + len)
            cap *= 2;
        p = realloc(s->payload, cap);
        if (!p)
            return -ENOMEM;
        s->payload = p;
        b->payload_cap = cap;
    }
    if (s->n_packets == b->packets_cap) {
        size_t cap = b->packets_cap ? b->packets_cap * 2 : 4096;
        struct rc_packet *p = realloc(s->packets, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        s->packets = p;
        b->packets_cap = cap;
    }
    if (hlen)
        memcpy(s->payload + s->payload_size, head, hlen);
    memcpy(s->payload + s->payload_size + hlen, body, blen);
    s->packets[s->n_packets] = (struct rc_packet){
        .off = (uint32_t)s->payload_size, .len = (uint16_t)len, .marker = 0, .sei = (uint8_t)sei,
    };
    s->n_packets++;
    s->payload_size += len;
    s->bytes_per_loop += len;
    return 0;
}

/* One NAL unit (without start code) as a single NAL unit packet or FU-A
 * fragments (RFC 6184 5.6, 5.8). */
static int add_nal(struct builder *b, const uint8_t *nal, size_t len, int sei)
{
    uint8_t fu[2];
    size_t pos = 1;
    int ret;

    if (len <= RC_RTP_PAYLOAD)
        return add_packet(b, NULL, 0, nal, len, sei);
    fu[0] = (uint8_t)((nal[0] & 0xe0) | NAL_FU_A);
    while (pos < len) {
        size_t chunk = len - pos;
        if (chunk > RC_RTP_PAYLOAD - 2)
            chunk = RC_RTP_PAYLOAD - 2;
        fu[1] = (uint8_t)((nal[0] & 0x1f) | (pos == 1 ? 0x80 : 0) |
                          (pos + chunk == len ? 0x40 : 0));
        if ((ret = add_packet(b, fu, 2, nal + pos, chunk, 0)) < 0)
            return ret;
        pos += chunk;
    }
    return 0;
}

/* Start of the next 00 00 01 at or after pos, or size. */
static size_t next_start_code(const uint8_t *d, size_t size, size_t pos)
{
    while (pos + 3 <= size) {
        if (d[pos + 2] > 1)
            pos += 3;
        else if (d[pos] == 0 && d[pos + 1] == 0 && d[pos + 2] == 1)
            return pos;
        else
            pos++;
    }
    return size;
}

/* Calls fn for every NAL unit of d[0..size) (start codes and trailing zero
 * bytes removed). Stops at the first error. */
static int for_each_nal(const uint8_t *d, size_t size,
                        int (*fn)(void *ctx, const uint8_t *nal, size_t len), void *ctx)
{
    size_t sc = next_start_code(d, size, 0);

    while (sc < size) {
        size_t begin = sc + 3;
        size_t next = next_start_code(d, size, begin);
        size_t end = next;
        int ret;

        while (end > begin && d[end - 1] == 0)
            end--;
        if (end > begin && (ret = fn(ctx, d + begin, end - begin)) < 0)
            return ret;
        sc = next;
    }
    return 0;
}

struct frame_ctx {
    struct builder *b;
    int sei_done;
};

static int frame_nal(void *ctx, const uint8_t *nal, size_t len)
{
    struct frame_ctx *f = ctx;
    int type = nal[0] & 0x1f;
    int ret;

    if (type >= 1 && type <= 5 && !f->sei_done) {
        uint8_t sei[FC_SEI_MAX];
        size_t n = fc_sei_build(FC_H264, 0, 0, sei); /* the placeholder */
        if ((ret = add_nal(f->b, sei + 4, n - 4, 1)) < 0)
            return ret;
        f->sei_done = 1;
    }
    return add_nal(f->b, nal, len, 0);
}

static void base64(const uint8_t *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *out++ = tab[v >> 18];
        *out++ = tab[(v >> 12) & 63];
        *out++ = tab[(v >> 6) & 63];
        *out++ = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        *out++ = tab[v >> 18];
        *out++ = tab[(v >> 12) & 63];
        *out++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *out++ = '=';
    }
    *out = 0;
}

struct params_ctx {
    uint8_t sps[PARAM_MAX], pps[PARAM_MAX];
    size_t sps_len, pps_len;
};

static int params_nal(void *ctx, const uint8_t *nal, size_t len)
{
    struct params_ctx *p = ctx;
    int type = nal[0] & 0x1f;

    if (type == NAL_SPS && !p->sps_len && len >= 4 && len <= PARAM_MAX) {
        memcpy(p->sps, nal, len);
        p->sps_len = len;
    } else if (type == NAL_PPS && !p->pps_len && len <= PARAM_MAX) {
        memcpy(p->pps, nal, len);
        p->pps_len = len;
    }
    return 0;
}

/* The SDP fmtp parameters from the first AU's SPS and PPS. */
static int make_fmtp(struct rc_stream *s, const struct fc_media *m)
{
    struct params_ctx p = { .sps_len = 0 };
    char sps64[PARAM_MAX * 4 / 3 + 8], pps64[PARAM_MAX * 4 / 3 + 8];
    int n;

    for_each_nal(m->data + m->aus[0].off, m->aus[0].len, params_nal, &p);
    if (!p.sps_len || !p.pps_len) {
        fprintf(stderr, "replaycam: %s: no SPS and PPS before the first picture\n", m->path);
        return -EINVAL;
    }
    base64(p.sps, p.sps_len, sps64);
    base64(p.pps, p.pps_len, pps64);
    n = snprintf(s->fmtp, sizeof(s->fmtp),
                 "packetization-mode=1;profile-level-id=%02X%02X%02X;sprop-parameter-sets=%s,%s",
                 p.sps[1], p.sps[2], p.sps[3], sps64, pps64);
    return n > 0 && (size_t)n < sizeof(s->fmtp) ? 0 : -ENAMETOOLONG;
}

static int packetise(struct rc_stream *s, const struct fc_media *m)
{
    struct builder b = { .s = s };
    int ret;

    s->frames = calloc(m->n_aus, sizeof(*s->frames));
    if (!s->frames)
        return -ENOMEM;
    s->n_frames = m->n_aus;
    for (size_t i = 0; i < m->n_aus; i++) {
        struct frame_ctx f = { .b = &b, .sei_done = 0 };
        struct rc_frame *fr = &s->frames[i];

        fr->first = (uint32_t)s->n_packets;
        fr->idr = m->aus[i].idr;
        ret = for_each_nal(m->data + m->aus[i].off, m->aus[i].len, frame_nal, &f);
        if (ret == 0 && !f.sei_done)
            ret = -EINVAL; /* fc_annexb_split() made an AU without a slice */
        if (ret < 0) {
            fprintf(stderr, "replaycam: %s: access unit %zu: cannot packetise: %s\n", m->path, i,
                    strerror(-ret));
            return ret;
        }
        fr->count = (uint32_t)(s->n_packets - fr->first);
        s->packets[s->n_packets - 1].marker = 1;
        if (fr->count > s->max_count)
            s->max_count = fr->count;
    }
    return 0;
}

int rc_stream_load(const char *path, const char *name, int rate, int any_length,
                   struct rc_stream **out)
{
    struct fc_media *m = NULL;
    struct rc_stream *s = calloc(1, sizeof(*s));
    int ret;

    if (!s)
        return -ENOMEM;
    snprintf(s->name, sizeof(s->name), "%s", name);
    if (rate < 1 || rate > 25 || 1000000 % rate != 0) {
        fprintf(stderr, "replaycam: %d frames/s: not a divisor of 1000000 up to 25\n", rate);
        ret = -EINVAL;
        goto fail;
    }
    s->rate = rate;
    s->frame_us = (uint32_t)(1000000 / rate);
    /* 30 s loops, 2 s GOPs, as scripts/gen-media.sh writes them at 25 frames/s */
    ret = fc_media_load_shaped(path, FC_H264, any_length ? 0 : (size_t)(30 * rate),
                               (size_t)(2 * rate), &m);
    if (ret < 0)
        goto fail;
    if ((ret = make_fmtp(s, m)) < 0 || (ret = packetise(s, m)) < 0)
        goto fail;
    fprintf(stderr, "replaycam: %s: %zu frames at %d/s, %zu RTP packets (%zu bytes), at most %zu "
            "per frame\n", path, s->n_frames, rate, s->n_packets, s->payload_size, s->max_count);
    fc_media_unref(&m); /* the packets hold copies */
    *out = s;
    return 0;

fail:
    fc_media_unref(&m);
    rc_stream_destroy(&s);
    return ret;
}

void rc_stream_destroy(struct rc_stream **ps)
{
    struct rc_stream *s = *ps;

    if (!s)
        return;
    *ps = NULL;
    free(s->payload);
    free(s->packets);
    free(s->frames);
    free(s);
}

int rc_scratch_reserve(struct rc_scratch *sc, const struct rc_stream *s)
{
    void *h, *v;

    if (sc->cap >= s->max_count)
        return 0;
    h = realloc(sc->hdr, s->max_count * sizeof(*sc->hdr));
    if (!h)
        return -ENOMEM;
    sc->hdr = h;
    v = realloc(sc->iov, 2 * s->max_count * sizeof(*sc->iov));
    if (!v)
        return -ENOMEM;
    sc->iov = v;
    sc->cap = s->max_count;
    return 0;
}

void rc_scratch_free(struct rc_scratch *sc)
{
    free(sc->hdr);
    free(sc->iov);
    memset(sc, 0, sizeof(*sc));
}

static void put_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

size_t rc_stream_compose(const struct rc_stream *s, uint64_t counter, uint64_t send_us,
                         struct rc_rtp *rtp, struct rc_scratch *sc, size_t *bytes)
{
    const struct rc_frame *fr = &s->frames[counter % s->n_frames];
    /* 90 kHz (3600 a frame at 25 fps); wraps modulo 2^32 like any RTP timestamp */
    uint32_t ts = rtp->ts_base + (uint32_t)(counter * (s->frame_us / 100u * 9u));
    size_t n = 0, total = 0;

    for (uint32_t i = 0; i < fr->count; i++) {
        const struct rc_packet *p = &s->packets[fr->first + i];
        uint8_t *h = sc->hdr[i];
        const uint8_t *body = s->payload + p->off;
        size_t len = p->len;

        if (p->sei) {
            len = fc_sei_build(FC_H264, counter, send_us, sc->sei) - 4;
            body = sc->sei + 4; /* without the start code */
        }
        h[0] = '$';
        h[1] = rtp->channel;
        put_be16(h + 2, (uint32_t)(len + 12));
        h[4] = 0x80; /* V=2 */
        h[5] = (uint8_t)((p->marker ? 0x80 : 0) | RC_RTP_PT);
        put_be16(h + 6, rtp->seq++);
        put_be32(h + 8, ts);
        put_be32(h + 12, rtp->ssrc);
        sc->iov[n++] = (struct iovec){ .iov_base = h, .iov_len = RC_HDR_BYTES };
        sc->iov[n++] = (struct iovec){ .iov_base = (void *)body, .iov_len = len };
        total += RC_HDR_BYTES + len;
    }
    *bytes = total;
    return n;
}
