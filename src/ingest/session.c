/* One camera stream: a non-blocking RTSP client state machine driven by worker.c.
 *
 * Phases: WAIT (backoff) -> RESOLVE -> CONNECT -> HANDSHAKE (OPTIONS, DESCRIBE, SETUP, PLAY)
 * -> PLAY. Each phase has a deadline on CLOCK_MONOTONIC: the handshake has one overall
 * deadline however slowly the camera dribbles bytes, and PLAY has a no-frame watchdog. Any
 * failure closes the connection, reports OFFLINE to the sink (which records the video loss)
 * and schedules a retry with capped exponential backoff and jitter.
 *
 * Timeline: frames get a decode time on our own 90 kHz timeline. It follows the camera's RTP
 * timestamps while they advance plausibly (0 < delta <= 5 s) and falls back to the arrival
 * clock when they jump, wrap or go backwards, so a hostile or broken RTP clock can never move
 * recorded time backwards or leave a hole. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "catalog/catalog.h"
#include "ingest/session_int.h"

#define READ_BUDGET (256 * 1024)      /* bytes read per wakeup, for fairness between cameras */
#define IN_MAX (512 * 1024)           /* largest receive buffer */
#define JUNK_MAX (1024 * 1024)        /* non-RTP bytes tolerated since the last good packet */
#define MAX_DELTA_90K (5 * 90000)     /* larger RTP steps are treated as discontinuities */
#define FILE_MAX (512LL * 1024 * 1024)
#define FIRST_KEY_NS (30 * SG_NS_PER_SEC)   /* long-GOP cameras: up to 10 s GOPs and more */

static const char *const step_names[] = { "OPTIONS", "DESCRIBE", "SETUP", "PLAY" };

static void report(struct sg_ingest_stream *s, int state, int err, const char *msg)
{
    s->sink.on_state(s->sink.opaque, state, err, msg);
}

static void close_fds(struct sg_ingest_stream *s)
{
    if (s->fd >= 0) {
        worker_unwatch(s->w, s->fd);
        close(s->fd);
        s->fd = -1;
    }
    for (int i = 0; i < 2; i++)
        if (s->udp[i] >= 0) {
            worker_unwatch(s->w, s->udp[i]);
            close(s->udp[i]);
            s->udp[i] = -1;
        }
    if (s->gai_active) {
        gai_cancel(&s->gai);
        /* glibc may still be resolving: wait for it to finish before the memory is reused */
        while (gai_error(&s->gai) == EAI_INPROGRESS) {
            const struct gaicb *l[1] = { &s->gai };
            struct timespec ts = { 0, 50 * 1000 * 1000 };
            gai_suspend(l, 1, &ts);
        }
        if (s->gai.ar_result)
            freeaddrinfo(s->gai.ar_result);
        s->gai.ar_result = NULL;
        s->gai_active = 0;
    }
    if (s->addrs) {
        freeaddrinfo(s->addrs);
        s->addrs = s->addr_next = NULL;
    }
}

static void reset_stream_state(struct sg_ingest_stream *s)
{
    sg_buf_free(&s->in);
    s->in.max = IN_MAX;
    s->out_len = s->out_off = 0;
    s->cseq = 0;
    s->auth_attempts = 0;
    memset(&s->auth, 0, sizeof(s->auth));
    s->session[0] = 0;
    s->session_timeout = 60;
    s->ssrc_locked = 0;
    s->junk_bytes = 0;
    s->have_key = 0;
    s->online_reported = 0;
    s->have_ts = 0;
    if (s->depack)
        sg_depack_reset(s->depack);
}

/* Fails the current attempt: close, report, schedule a retry with backoff and jitter. */
static void fail(struct sg_ingest_stream *s, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct sg_ingest_stream *s, int err, const char *fmt, ...)
{
    char msg[300];
    int64_t now = sg_mono_ns(), delay_ms, cap = s->opts->backoff_max_ms;
    uint32_t rnd = 0;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    close_fds(s);
    /* A stream that stayed up for a while starts its backoff afresh. */
    if (s->online_since_ns && now - s->online_since_ns > 30 * SG_NS_PER_SEC)
        s->failures = 0;
    s->online_since_ns = 0;
    delay_ms = s->opts->backoff_min_ms;
    for (int i = 0; i < s->failures && delay_ms < cap; i++)
        delay_ms *= 2;
    if (delay_ms > cap)
        delay_ms = cap;
    /* "Equal jitter": between half and all of the delay, so cameras that failed together
     * (a switch rebooting) do not all come back in the same millisecond. */
    if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
        rnd = (uint32_t)now;
    delay_ms = delay_ms / 2 + (int64_t)(rnd % (uint32_t)(delay_ms / 2 + 1));
    if (s->failures < 30)
        s->failures++;
    s->retry_at_ns = now + delay_ms * SG_NS_PER_MS;
    s->phase = P_WAIT;
    reset_stream_state(s);
    sg_warn("ingest", s->desc.camera_id, "%s %s: %s; retry in %lld ms",
            sg_stream_name(s->desc.stream), s->log_url, msg, (long long)delay_ms);
    report(s, SG_ST_OFFLINE, err, msg);
}

/* ---------------------------------------------------------------- sending */

static int flush_out(struct sg_ingest_stream *s)
{
    while (s->out_off < s->out_len) {
        ssize_t w = send(s->fd, s->out + s->out_off, s->out_len - s->out_off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                worker_watch(s->w, s->fd, &s->h_tcp, EPOLLIN | EPOLLOUT, 0);
                return 0;
            }
            return -errno;
        }
        s->out_off += (size_t)w;
    }
    s->out_len = s->out_off = 0;
    worker_watch(s->w, s->fd, &s->h_tcp, EPOLLIN, 0);
    return 0;
}

static int send_request(struct sg_ingest_stream *s, const char *method, const char *uri,
                        const char *extra)
{
    char auth[1200] = "", sess[160] = "";
    int n, r;

    if (s->auth.kind &&
        sg_rtsp_auth_header(&s->auth, s->url.user, s->url.pass, method, uri, auth, sizeof(auth)) < 0)
        return SG_E_TOOBIG;
    if (s->session[0])
        snprintf(sess, sizeof(sess), "Session: %s\r\n", s->session);
    if (s->out_len) /* a previous request is still queued (keepalive on a stuck socket) */
        return -EAGAIN;
    n = snprintf(s->out, sizeof(s->out),
                 "%s %s RTSP/1.0\r\nCSeq: %d\r\nUser-Agent: Sargas/0.1\r\n%s%s%s\r\n", method, uri,
                 ++s->cseq, auth, sess, extra ? extra : "");
    if (n < 0 || (size_t)n >= sizeof(s->out))
        return SG_E_TOOBIG;
    s->out_len = (size_t)n;
    s->out_off = 0;
    s->pending_cseq = s->cseq;
    r = flush_out(s);
    return r;
}

static void send_step(struct sg_ingest_stream *s)
{
    char extra[256];
    int r = 0;

    switch (s->step) {
    case STEP_OPTIONS:
        r = send_request(s, "OPTIONS", s->req_url, NULL);
        break;
    case STEP_DESCRIBE:
        r = send_request(s, "DESCRIBE", s->req_url, "Accept: application/sdp\r\n");
        break;
    case STEP_SETUP:
        if (s->udp[0] >= 0) {
            struct sockaddr_storage a;
            socklen_t al = sizeof(a);
            int port = 0;
            getsockname(s->udp[0], (struct sockaddr *)&a, &al);
            port = a.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&a)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&a)->sin_port);
            snprintf(extra, sizeof(extra), "Transport: RTP/AVP;unicast;client_port=%d-%d\r\n", port,
                     port + 1);
        } else {
            snprintf(extra, sizeof(extra), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
        }
        r = send_request(s, "SETUP", s->control, extra);
        break;
    case STEP_PLAY:
        r = send_request(s, "PLAY", s->req_url, "Range: npt=0.000-\r\n");
        break;
    }
    if (r < 0)
        fail(s, r, "sending %s failed: %s", step_names[s->step], sg_strerror(r));
}

/* ---------------------------------------------------------------- frames */

static int64_t next_dts(struct sg_ingest_stream *s, uint32_t rtp_ts, int64_t now_ns)
{
    int64_t delta;

    if (!s->have_ts) {
        s->have_ts = 1;
        s->last_rtp_ts = rtp_ts;
        s->last_arrival_ns = now_ns;
        if (!s->nominal_delta)
            s->nominal_delta = 3600;
        /* the timeline continues across reconnections so it never repeats within a run */
        s->last_dts += 90000;
        return s->last_dts;
    }
    delta = (int32_t)(rtp_ts - s->last_rtp_ts);
    if (delta <= 0 || delta > MAX_DELTA_90K) {
        /* Discontinuity: trust the arrival clock instead, at least one tick forward. */
        delta = (now_ns - s->last_arrival_ns) * 90000 / SG_NS_PER_SEC;
        if (delta <= 0)
            delta = 1;
        sg_debug("ingest", s->desc.camera_id, "RTP timestamp discontinuity, using arrival time");
    } else {
        s->nominal_delta = delta;
    }
    s->last_rtp_ts = rtp_ts;
    s->last_arrival_ns = now_ns;
    s->last_dts += delta;
    return s->last_dts;
}

/* Scans the NAL units of an access unit: parameter sets update s->params; returns 1 when the
 * AU holds a keyframe. */
static int scan_au(struct sg_ingest_stream *s, const uint8_t *p, size_t n)
{
    int key = 0, codec = s->params.codec;
    const uint8_t *nal;
    size_t off = 0, len;

    while ((nal = sg_au_next(p, n, &off, &len))) {
        int type, kind;

        type = sg_nal_type(codec, nal);
        kind = sg_nal_param_kind(codec, type);
        if (kind) {
            struct sg_codec_params tmp = s->params;
            int changed = sg_params_store(&tmp, kind, nal, len);
            if (changed > 0 && kind == 2 && sg_sps_parse(codec, nal, len, &tmp) < 0) {
                sg_warn("ingest", s->desc.camera_id, "unparsable SPS ignored");
            } else if (changed > 0) {
                s->params = tmp;
                s->params_changed = 1;
            }
        } else if (sg_nal_is_keyframe(codec, type)) {
            key = 1;
        }
    }
    return key;
}

static void deliver(struct sg_ingest_stream *s, const uint8_t *data, size_t size, uint32_t rtp_ts,
                    int damaged, int64_t now_ns)
{
    struct sg_frame f;
    int key = scan_au(s, data, size);
    int ready = s->params.sps_len && s->params.pps_len &&
                (s->params.codec != SG_CODEC_H265 || s->params.vps_len) && s->params.width > 0;

    s->last_frame_ns = now_ns; /* the watchdog counts every complete frame received */
    if (!s->have_key) {
        if (!key || !ready)
            return; /* nothing decodable before the first keyframe */
        s->have_key = 1;
        s->params_changed = 1;
        s->session_no++;
    }
    memset(&f, 0, sizeof(f));
    f.data = data;
    f.size = size;
    f.dts = next_dts(s, rtp_ts, now_ns);
    f.arrival_mono_ns = now_ns;
    f.arrival_utc_us = sg_utc_us();
    f.key = key;
    f.damaged = damaged;
    f.params = &s->params;
    f.params_changed = s->params_changed;
    f.session_no = s->session_no;
    s->params_changed = 0;
    if (!s->online_reported) {
        char msg[96];
        s->online_reported = 1;
        s->online_since_ns = now_ns;
        snprintf(msg, sizeof(msg), "%s %dx%d", sg_codec_name(s->params.codec), s->params.width,
                 s->params.height);
        sg_info("ingest", s->desc.camera_id, "%s online: %s", sg_stream_name(s->desc.stream), msg);
        report(s, SG_ST_ONLINE, 0, msg);
    }
    s->sink.on_frame(s->sink.opaque, &f);
}

static void on_au(void *opaque, const struct sg_au *au)
{
    struct sg_ingest_stream *s = opaque;

    deliver(s, au->data, au->size, au->rtp_ts, au->damaged, sg_mono_ns());
}

static void handle_rtp(struct sg_ingest_stream *s, const uint8_t *p, size_t n)
{
    struct sg_rtp_hdr h;
    const struct sg_depack_stats *st;

    if (sg_rtp_parse(p, n, &h) < 0 || h.payload_type != s->track.payload_type)
        return;
    if (!s->ssrc_locked) {
        s->ssrc = h.ssrc;
        s->ssrc_locked = 1;
    } else if (h.ssrc != s->ssrc) {
        return; /* not our stream (or forged) */
    }
    s->junk_bytes = 0;
    sg_depack_push(s->depack, &h);
    st = sg_depack_stats(s->depack);
    if (st->oversize_frames != s->oversize_seen) {
        char msg[160];
        s->oversize_seen = st->oversize_frames;
        s->have_key = 0; /* later frames reference the dropped one: wait for a keyframe */
        snprintf(msg, sizeof(msg), "frame larger than max_frame_bytes (%zu) dropped; waiting for "
                 "the next keyframe", s->opts->max_frame_bytes);
        sg_error("ingest", s->desc.camera_id, "%s: %s", sg_stream_name(s->desc.stream), msg);
        report(s, SG_ST_ONLINE, SG_E_TOOBIG, msg);
    }
}

/* ---------------------------------------------------------------- handshake */

static int resolve_control(struct sg_ingest_stream *s, const char *base)
{
    const char *c = s->track.control;
    int r;

    if (!c[0] || !strcmp(c, "*"))
        r = snprintf(s->control, sizeof(s->control), "%s", base);
    else if (!strncasecmp(c, "rtsp://", 7) || !strncasecmp(c, "rtsps://", 8))
        r = snprintf(s->control, sizeof(s->control), "%s", c);
    else
        r = snprintf(s->control, sizeof(s->control), "%s%s%s", base,
                     base[strlen(base) - 1] == '/' ? "" : "/", c);
    if (r < 0 || (size_t)r >= sizeof(s->control))
        return SG_E_TOOBIG;
    return 0;
}

static int open_udp(struct sg_ingest_stream *s)
{
    int fam = s->peer.ss_family;

    for (int attempt = 0; attempt < 16; attempt++) {
        struct sockaddr_storage a;
        socklen_t al = sizeof(a);
        int port, ok = 1;
        uint16_t want = 0;

        memset(&a, 0, sizeof(a));
        a.ss_family = (sa_family_t)fam;
        for (int i = 0; i < 2; i++) {
            s->udp[i] = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (s->udp[i] < 0)
                return -errno;
            if (fam == AF_INET6)
                ((struct sockaddr_in6 *)&a)->sin6_port = htons(want);
            else
                ((struct sockaddr_in *)&a)->sin_port = htons(want);
            if (bind(s->udp[i], (struct sockaddr *)&a, fam == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                       : sizeof(struct sockaddr_in)) < 0) {
                ok = 0;
                break;
            }
            if (i == 0) {
                int rcv = 2 * 1024 * 1024;
                setsockopt(s->udp[0], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
                getsockname(s->udp[0], (struct sockaddr *)&a, &al);
                port = fam == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&a)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&a)->sin_port);
                if (port & 1 || port == 65535) {
                    ok = 0;
                    break;
                }
                want = (uint16_t)(port + 1);
            }
        }
        if (ok)
            return 0;
        for (int i = 0; i < 2; i++)
            if (s->udp[i] >= 0) {
                close(s->udp[i]);
                s->udp[i] = -1;
            }
    }
    return -EADDRINUSE;
}

static int parse_transport(struct sg_ingest_stream *s, const char *t)
{
    const char *p;

    if (s->udp[0] >= 0) {
        int a, b;
        struct sockaddr_storage dst = s->peer;
        if (!(p = strstr(t, "server_port=")) || sscanf(p + 12, "%d-%d", &a, &b) < 1 || a < 1 || a > 65535)
            return SG_E_PROTO;
        (void)b;
        /* Punch the firewall/NAT towards the camera's RTP port with one empty datagram. */
        if (dst.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)&dst)->sin6_port = htons((uint16_t)a);
        else
            ((struct sockaddr_in *)&dst)->sin_port = htons((uint16_t)a);
        sendto(s->udp[0], "", 0, 0, (struct sockaddr *)&dst, s->peer_len);
        return 0;
    }
    s->rtp_channel = 0;
    s->rtcp_channel = 1;
    if ((p = strstr(t, "interleaved="))) {
        int a = -1, b = -1;
        if (sscanf(p + 12, "%d-%d", &a, &b) < 1 || a < 0 || a > 255)
            return SG_E_PROTO;
        s->rtp_channel = a;
        s->rtcp_channel = b >= 0 && b <= 255 ? b : a + 1;
    } else if (strstr(t, "RTP/AVP/TCP") == NULL) {
        return SG_E_UNSUPPORTED;
    }
    return 0;
}

static void handle_response(struct sg_ingest_stream *s, const struct sg_rtsp_msg *m)
{
    int r;

    if (m->cseq != s->pending_cseq) {
        sg_debug("ingest", s->desc.camera_id, "ignoring response with CSeq %d", m->cseq);
        return;
    }
    if (m->status == 401) {
        if (!s->url.user[0]) {
            fail(s, SG_E_AUTH, "%s needs credentials: add user:password to the URL", step_names[s->step]);
            return;
        }
        if (++s->auth_attempts > 2 || sg_rtsp_auth_from_challenge(m, &s->auth) < 0) {
            fail(s, SG_E_AUTH, "authentication refused at %s (check user and password)",
                 step_names[s->step]);
            return;
        }
        send_step(s);
        return;
    }
    if (m->status < 200 || m->status > 299) {
        if (s->step == STEP_OPTIONS) { /* some cameras do not implement OPTIONS */
            s->step = STEP_DESCRIBE;
            send_step(s);
            return;
        }
        fail(s, SG_E_STATUS, "%s answered %d", step_names[s->step], m->status);
        return;
    }
    switch (s->step) {
    case STEP_OPTIONS:
        s->step = STEP_DESCRIBE;
        break;
    case STEP_DESCRIBE: {
        const char *base = m->content_base[0] ? m->content_base : s->req_url;
        if (m->content_length == 0) {
            fail(s, SG_E_PROTO, "DESCRIBE answer without SDP");
            return;
        }
        r = sg_sdp_parse(m->body, m->content_length, &s->track);
        if (r == SG_E_UNSUPPORTED) {
            fail(s, r, "camera offers no H.264 or H.265 video track");
            return;
        }
        if (r < 0 || (r = resolve_control(s, base)) < 0) {
            fail(s, r, "bad SDP from camera: %s", sg_strerror(r));
            return;
        }
        if (s->track.media_sections > SG_SDP_MAX_MEDIA)
            sg_warn("ingest", s->desc.camera_id, "SDP lists %d media sections; only the first %d examined",
                    s->track.media_sections, SG_SDP_MAX_MEDIA);
        if (s->params.codec != s->track.codec) {
            memset(&s->params, 0, sizeof(s->params));
            s->params.codec = s->track.codec;
        }
        /* Parameter sets from the SDP; in-band ones override them. */
        if (s->track.params.sps_len) {
            struct sg_codec_params *tp = &s->track.params;
            if (sg_params_store(&s->params, 1, tp->vps, tp->vps_len) > 0 ||
                sg_params_store(&s->params, 2, tp->sps, tp->sps_len) > 0 ||
                sg_params_store(&s->params, 3, tp->pps, tp->pps_len) > 0) {
                s->params = *tp;
                s->params_changed = 1;
            }
        }
        sg_depack_destroy(&s->depack);
        s->depack = sg_depack_create(s->track.codec, s->opts->max_frame_bytes, on_au, s);
        if (!s->depack) {
            fail(s, -ENOMEM, "out of memory");
            return;
        }
        s->oversize_seen = 0;
        if (s->desc.transport == SG_TRANSPORT_UDP && (r = open_udp(s)) < 0) {
            fail(s, r, "cannot open UDP ports: %s", sg_strerror(r));
            return;
        }
        s->step = STEP_SETUP;
        break;
    }
    case STEP_SETUP:
        if (!m->session[0]) {
            fail(s, SG_E_PROTO, "SETUP answer without Session");
            return;
        }
        snprintf(s->session, sizeof(s->session), "%s", m->session);
        if (m->session_timeout >= 5)
            s->session_timeout = m->session_timeout;
        if ((r = parse_transport(s, m->transport)) < 0) {
            fail(s, r, "unusable Transport in SETUP answer: '%.80s'", m->transport);
            return;
        }
        s->step = STEP_PLAY;
        break;
    case STEP_PLAY: {
        int64_t now = sg_mono_ns();
        s->phase = P_PLAY;
        s->last_frame_ns = now; /* the watchdog starts now */
        s->deadline_ns = now;   /* in PLAY: when it began, for the first-keyframe deadline */
        s->next_keepalive_ns = now + (int64_t)s->session_timeout * SG_NS_PER_SEC / 2;
        for (int i = 0; i < 2; i++)
            if (s->udp[i] >= 0 && worker_watch(s->w, s->udp[i], i ? &s->h_rtcp : &s->h_rtp, EPOLLIN, 1) < 0)
                fail(s, -EIO, "epoll failed");
        return;
    }
    }
    send_step(s);
}

static void answer_request(struct sg_ingest_stream *s, const struct sg_rtsp_msg *m)
{
    int ok = !strcmp(m->method, "OPTIONS") || !strcmp(m->method, "GET_PARAMETER") ||
             !strcmp(m->method, "SET_PARAMETER");
    int n;

    if (s->out_len)
        return;
    n = snprintf(s->out, sizeof(s->out), "RTSP/1.0 %s\r\nCSeq: %d\r\n\r\n",
                 ok ? "200 OK" : "501 Not Implemented", m->cseq < 0 ? 0 : m->cseq);
    s->out_len = (size_t)n;
    s->out_off = 0;
    flush_out(s);
}

/* Processes the receive buffer. Returns 0, or <0 after the session failed. */
static int process_input(struct sg_ingest_stream *s)
{
    size_t off = 0;
    uint8_t *d = s->in.data;
    size_t len = s->in.len;
    int rc = 0;

    while (off < len) {
        const uint8_t *p = d + off;
        size_t left = len - off;

        if (s->phase == P_HANDSHAKE) {
            /* Only RTSP messages are expected: wait for a whole one (bounded by the header cap
             * and the handshake deadline, however slowly it trickles in). */
            struct sg_rtsp_msg m;
            long r = sg_rtsp_parse((const char *)p, left, &m);
            if (r == 0)
                break;
            if (r < 0) {
                if (r == SG_E_TOOBIG)
                    fail(s, (int)r, "RTSP answer to %s exceeds %d bytes of headers or %d bytes of body",
                         step_names[s->step], SG_RTSP_MAX_HEADER, SG_RTSP_MAX_BODY);
                else if (left >= 5 && memcmp(p, "RTSP/", 5))
                    fail(s, (int)r, "garbage instead of an RTSP answer to %s", step_names[s->step]);
                else
                    fail(s, (int)r, "malformed RTSP answer to %s", step_names[s->step]);
                return -1;
            }
            off += (size_t)r;
            if (m.is_request) {
                answer_request(s, &m);
                continue;
            }
            handle_response(s, &m);
            if (s->phase != P_HANDSHAKE && s->phase != P_PLAY) {
                rc = -1; /* failed: the buffer is gone */
                break;
            }
            continue;
        }
        if (p[0] == '$') {
            size_t fl;
            if (left < 4)
                break;
            fl = sg_rd16(p + 2);
            if (left < 4 + fl)
                break;
            if (p[1] == s->rtp_channel && fl > 0)
                handle_rtp(s, p + 4, fl);
            off += 4 + fl;
        } else if (p[0] >= 'A' && p[0] <= 'Z' && (left < 2 || (p[1] >= 'A' && p[1] <= 'Z'))) {
            struct sg_rtsp_msg m;
            long r = sg_rtsp_parse((const char *)p, left, &m);
            if (r == 0)
                break;
            if (r < 0) {
                off++; /* not a message after all: resynchronise on the next '$' */
                s->junk_bytes++;
                continue;
            }
            off += (size_t)r;
            if (m.is_request) {
                answer_request(s, &m);
            } else if (m.status == 454) {
                fail(s, SG_E_STATUS, "camera forgot the session (454)");
                return -1;
            }
        } else {
            /* Skip to the next '$'. */
            const uint8_t *dollar = memchr(p + 1, '$', left - 1);
            size_t skip = dollar ? (size_t)(dollar - p) : left;
            off += skip;
            s->junk_bytes += skip;
        }
        if (s->junk_bytes > JUNK_MAX) {
            fail(s, SG_E_PROTO, "stream carries garbage instead of RTP (%llu bytes)",
                 (unsigned long long)s->junk_bytes);
            return -1;
        }
    }
    if (rc == 0)
        sg_buf_consume(&s->in, off);
    return rc;
}

static void on_tcp_readable(struct sg_ingest_stream *s)
{
    size_t budget = READ_BUDGET;

    while (budget > 0 && s->fd >= 0) {
        size_t want;
        ssize_t n;

        if (sg_buf_reserve(&s->in, 65536) < 0) {
            fail(s, SG_E_TOOBIG, "receive buffer overflow (unframed data)");
            return;
        }
        want = s->in.cap - s->in.len;
        if (want > budget)
            want = budget;
        n = recv(s->fd, s->in.data + s->in.len, want, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            fail(s, -errno, "connection error: %s", strerror(errno));
            return;
        }
        if (n == 0) {
            fail(s, -ECONNRESET, "camera closed the connection");
            return;
        }
        s->in.len += (size_t)n;
        budget -= (size_t)n;
        if (process_input(s) < 0)
            return;
        if ((size_t)n < want)
            return; /* drained */
    }
}

static void on_udp_readable(struct sg_ingest_stream *s, int rtcp)
{
    enum { BATCH = UDP_BATCH, PKT = UDP_PKT };
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_storage from[BATCH];
    uint8_t (*bufs)[PKT] = s->w->udp_bufs;
    int fd = s->udp[rtcp], n;

    if (!bufs && !(bufs = s->w->udp_bufs = malloc(sizeof(*bufs) * BATCH))) {
        fail(s, -ENOMEM, "no memory for UDP receive buffers");
        return;
    }

    for (int round = 0; round < 8 && fd >= 0; round++) {
        memset(msgs, 0, sizeof(msgs));
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = PKT;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
        }
        n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        if (rtcp)
            continue; /* sender reports are not used yet */
        for (int i = 0; i < n && s->phase == P_PLAY; i++) {
            /* Only datagrams from the camera's address count. */
            const struct sockaddr *f = (const struct sockaddr *)&from[i];
            int same = 0;
            if (f->sa_family == AF_INET && s->peer.ss_family == AF_INET)
                same = ((const struct sockaddr_in *)f)->sin_addr.s_addr ==
                       ((const struct sockaddr_in *)&s->peer)->sin_addr.s_addr;
            else if (f->sa_family == AF_INET6 && s->peer.ss_family == AF_INET6)
                same = !memcmp(&((const struct sockaddr_in6 *)f)->sin6_addr,
                               &((const struct sockaddr_in6 *)&s->peer)->sin6_addr, 16);
            if (same)
                handle_rtp(s, bufs[i], msgs[i].msg_len);
        }
        if (n < BATCH)
            return;
    }
}

/* ---------------------------------------------------------------- connecting */

static int try_next_address(struct sg_ingest_stream *s);

static void begin_connect(struct sg_ingest_stream *s, const struct sockaddr *addr, socklen_t len)
{
    int one = 1, r;

    memcpy(&s->peer, addr, len);
    s->peer_len = len;
    s->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        fail(s, -errno, "socket: %s", strerror(errno));
        return;
    }
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    r = connect(s->fd, addr, len);
    if (r < 0 && errno != EINPROGRESS) {
        int e = errno;
        if (!try_next_address(s))
            fail(s, -e, "connect: %s", strerror(e));
        return;
    }
    s->phase = P_CONNECT;
    s->deadline_ns = sg_mono_ns() + (int64_t)s->opts->connect_timeout_ms * SG_NS_PER_MS;
    if (worker_watch(s->w, s->fd, &s->h_tcp, EPOLLOUT, 1) < 0)
        fail(s, -EIO, "epoll failed");
}

/* A name can resolve to several addresses (IPv6 and IPv4): on a failed connect, try the next
 * one before giving up. Returns 1 when another attempt was started. */
static int try_next_address(struct sg_ingest_stream *s)
{
    struct addrinfo *a = s->addr_next;

    if (!a)
        return 0;
    s->addr_next = a->ai_next;
    if (s->fd >= 0) {
        worker_unwatch(s->w, s->fd);
        close(s->fd);
        s->fd = -1;
    }
    begin_connect(s, a->ai_addr, a->ai_addrlen);
    return 1;
}

static void on_connected(struct sg_ingest_stream *s)
{
    int err = 0;
    socklen_t el = sizeof(err);

    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
        err = errno;
    if (err) {
        if (!try_next_address(s))
            fail(s, -err, "connect: %s", strerror(err));
        return;
    }
    s->phase = P_HANDSHAKE;
    s->deadline_ns = sg_mono_ns() + (int64_t)s->opts->handshake_timeout_ms * SG_NS_PER_MS;
    s->step = STEP_OPTIONS;
    send_step(s);
}

static int load_file_source(struct sg_ingest_stream *s)
{
    const char *path = s->url.path;
    int codec = strstr(path, ".h265") ? SG_CODEC_H265 : SG_CODEC_H264;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint8_t *raw = NULL;
    size_t pos = 0, nal_len, out = 0, cap_au = 0;
    const uint8_t *nal;
    int r = 0, in_vcl = 0;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > FILE_MAX) {
        close(fd);
        return SG_E_TOOBIG;
    }
    raw = malloc((size_t)st.st_size);
    s->file_data = malloc((size_t)st.st_size * 2 + 64);
    if (!raw || !s->file_data) {
        r = -ENOMEM;
        goto out;
    }
    if (read(fd, raw, (size_t)st.st_size) != st.st_size) {
        r = -EIO;
        goto out;
    }
    s->params.codec = codec;
    /* Every VCL NAL that follows non-VCL NALs or starts the file begins a new AU (one slice per
     * frame, as our test media are made). */
    while ((nal = sg_annexb_next(raw, (size_t)st.st_size, &pos, &nal_len))) {
        int type, vcl;
        if (nal_len == 0)
            continue;
        type = sg_nal_type(codec, nal);
        vcl = sg_nal_is_vcl(codec, type);
        if (s->file_n_au == 0 || (in_vcl && !vcl) || (in_vcl && vcl)) {
            if (s->file_n_au == cap_au) {
                cap_au = cap_au ? cap_au * 2 : 1024;
                s->file_au_off = realloc(s->file_au_off, cap_au * sizeof(size_t));
                s->file_au_len = realloc(s->file_au_len, cap_au * sizeof(size_t));
                if (!s->file_au_off || !s->file_au_len) {
                    r = -ENOMEM;
                    goto out;
                }
            }
            s->file_au_off[s->file_n_au] = out;
            s->file_au_len[s->file_n_au] = 0;
            s->file_n_au++;
        }
        in_vcl = vcl;
        sg_wr32(s->file_data + out, (uint32_t)nal_len);
        memcpy(s->file_data + out + 4, nal, nal_len);
        out += 4 + nal_len;
        s->file_au_len[s->file_n_au - 1] += 4 + nal_len;
    }
    if (s->file_n_au == 0)
        r = SG_E_PROTO;
out:
    free(raw);
    close(fd);
    return r;
}

static void file_tick(struct sg_ingest_stream *s, int64_t now)
{
    int n = 0;

    while (now >= s->file_next_ns && n++ < 50) {
        size_t i = s->file_pos % s->file_n_au;
        deliver(s, s->file_data + s->file_au_off[i], s->file_au_len[i], (uint32_t)(s->file_pos * 3600),
                0, s->file_next_ns);
        s->file_pos++;
        s->file_next_ns += 40 * SG_NS_PER_MS; /* 25 fps */
    }
}

static void begin_attempt(struct sg_ingest_stream *s, int64_t now)
{
    struct addrinfo *res = NULL;
    int r;

    report(s, SG_ST_CONNECTING, 0, NULL);
    if (s->url.kind == SG_URL_FILE) {
        if (!s->file_data && (r = load_file_source(s)) < 0) {
            fail(s, r, "cannot read test source: %s", sg_strerror(r));
            return;
        }
        s->phase = P_FILE;
        s->file_next_ns = now;
        s->last_frame_ns = now;
        return;
    }
    if (s->url.kind == SG_URL_RTSPS) {
        fail(s, SG_E_UNSUPPORTED, "rtsps:// (RTSP over TLS) is accepted in the catalog but not yet "
             "implemented by the receiver");
        return;
    }
    memset(&s->hints, 0, sizeof(s->hints));
    s->hints.ai_socktype = SOCK_STREAM;
    s->hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(s->port_str, sizeof(s->port_str), "%d", s->url.port);
    if (getaddrinfo(s->url.host, s->port_str, &s->hints, &res) == 0) {
        s->addrs = res;
        s->addr_next = res->ai_next;
        begin_connect(s, res->ai_addr, res->ai_addrlen);
        return;
    }
    /* A host name: resolve asynchronously, polled by the tick under a deadline. */
    s->hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    memset(&s->gai, 0, sizeof(s->gai));
    s->gai.ar_name = s->url.host;
    s->gai.ar_service = s->port_str;
    s->gai.ar_request = &s->hints;
    s->gai_list[0] = &s->gai;
    if ((r = getaddrinfo_a(GAI_NOWAIT, s->gai_list, 1, NULL)) != 0) {
        fail(s, -EIO, "cannot start name resolution: %s", gai_strerror(r));
        return;
    }
    s->gai_active = 1;
    s->phase = P_RESOLVE;
    s->deadline_ns = now + (int64_t)s->opts->connect_timeout_ms * SG_NS_PER_MS;
}

void session_start(struct sg_ingest_stream *s, int64_t now)
{
    s->fd = s->udp[0] = s->udp[1] = -1;
    s->h_tcp = (struct ep_handle){ s, H_TCP };
    s->h_rtp = (struct ep_handle){ s, H_RTP };
    s->h_rtcp = (struct ep_handle){ s, H_RTCP };
    reset_stream_state(s);
    s->phase = P_WAIT;
    s->retry_at_ns = now;
}

void session_stop(struct sg_ingest_stream *s)
{
    if (s->phase == P_PLAY && s->fd >= 0 && s->session[0] && !s->out_len)
        send_request(s, "TEARDOWN", s->req_url, NULL); /* best effort, never waited for */
    close_fds(s);
    s->phase = P_STOPPED;
    sg_depack_destroy(&s->depack);
    sg_buf_free(&s->in);
    free(s->file_data);
    free(s->file_au_off);
    free(s->file_au_len);
    s->file_data = NULL;
    s->file_au_off = s->file_au_len = NULL;
}

void session_on_event(struct ep_handle *h, uint32_t events)
{
    struct sg_ingest_stream *s = h->s;

    if (h->kind != H_TCP) {
        if (s->phase == P_PLAY)
            on_udp_readable(s, h->kind == H_RTCP);
        return;
    }
    if (s->fd < 0)
        return;
    if (s->phase == P_CONNECT) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            on_connected(s);
        return;
    }
    if ((events & EPOLLOUT) && s->out_len) {
        int r = flush_out(s);
        if (r < 0) {
            fail(s, r, "send failed: %s", sg_strerror(r));
            return;
        }
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_tcp_readable(s);
}

void session_tick(struct sg_ingest_stream *s, int64_t now)
{
    switch (s->phase) {
    case P_WAIT:
        if (now >= s->retry_at_ns)
            begin_attempt(s, now);
        break;
    case P_RESOLVE: {
        int r = gai_error(&s->gai);
        if (r == EAI_INPROGRESS) {
            if (now >= s->deadline_ns)
                fail(s, -ETIMEDOUT, "name resolution of '%s' timed out", s->url.host);
            break;
        }
        s->gai_active = 0;
        if (r != 0 || !s->gai.ar_result) {
            fail(s, -EHOSTUNREACH, "cannot resolve '%s': %s", s->url.host, gai_strerror(r));
            break;
        }
        {
            struct addrinfo *res = s->gai.ar_result;
            s->gai.ar_result = NULL;
            s->addrs = res;
            s->addr_next = res->ai_next;
            begin_connect(s, res->ai_addr, res->ai_addrlen);
        }
        break;
    }
    case P_CONNECT:
        if (now >= s->deadline_ns && !try_next_address(s))
            fail(s, -ETIMEDOUT, "connect timed out after %d ms", s->opts->connect_timeout_ms);
        break;
    case P_HANDSHAKE:
        if (now >= s->deadline_ns)
            fail(s, -ETIMEDOUT, "RTSP handshake not finished within %d ms (stuck at %s)",
                 s->opts->handshake_timeout_ms, step_names[s->step]);
        break;
    case P_PLAY:
        if (now - s->last_frame_ns > (int64_t)s->opts->frame_timeout_ms * SG_NS_PER_MS) {
            fail(s, -ETIMEDOUT, "no frame for %d ms (stream stalled)", s->opts->frame_timeout_ms);
            break;
        }
        if (!s->have_key && now - s->deadline_ns > FIRST_KEY_NS) {
            fail(s, -ETIMEDOUT, "frames arrive but no keyframe (IDR) within %lld s",
                 (long long)(FIRST_KEY_NS / SG_NS_PER_SEC));
            break;
        }
        if (now >= s->next_keepalive_ns) {
            s->next_keepalive_ns = now + (int64_t)s->session_timeout * SG_NS_PER_SEC / 2;
            if (!s->out_len)
                send_request(s, "OPTIONS", s->req_url, NULL);
        }
        break;
    case P_FILE:
        file_tick(s, now);
        break;
    default:
        break;
    }
}

int64_t session_next_deadline(const struct sg_ingest_stream *s)
{
    switch (s->phase) {
    case P_WAIT: return s->retry_at_ns;
    case P_RESOLVE: case P_CONNECT: case P_HANDSHAKE: return s->deadline_ns;
    case P_FILE: return s->file_next_ns;
    case P_PLAY: {
        int64_t wd = s->last_frame_ns + (int64_t)s->opts->frame_timeout_ms * SG_NS_PER_MS + 1;
        return wd < s->next_keepalive_ns ? wd : s->next_keepalive_ns;
    }
    default: return INT64_MAX;
    }
}
