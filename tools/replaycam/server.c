/* tools/replaycam: RTSP server and frame clock (see server.h). */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "media.h" /* tools/fakecam: FC_FRAME_US, FC_GOP */
#include "rtsp.h"

#define MAX_CLIENTS 4096
#define MAX_EVENTS 256
#define MAX_BEHIND_FRAMES 25     /* 1 s: further behind, skip ahead */
#define OUT_MAX (16u << 20)      /* queued bytes per client before it is dropped */
#define SESSION_TIMEOUT_S 60

enum handle_kind { H_LISTEN, H_TIMER, H_SIGNAL, H_CLIENT };

struct handle {
    enum handle_kind kind;
};

struct client {
    struct handle h; /* first: epoll data points here */
    struct client *prev, *next;
    struct rc_server *srv;
    int fd;
    uint64_t id;
    char peer[64];
    int dead;       /* closed; freed after the current batch of events */
    int closing;    /* TEARDOWN or a fatal answer: close once out is flushed */
    int want_out;   /* EPOLLOUT is armed */
    /* input */
    char in[RC_RTSP_MAX_MSG];
    size_t in_len;
    /* queued output: RTSP answers and the rest of a partly written frame */
    uint8_t *out;
    size_t out_len, out_off, out_cap;
    /* the stream */
    const struct rc_stream *stream;
    char path[48];  /* "camK/kind" */
    char session[20];
    char control[512]; /* the URI of the SETUP, for RTP-Info */
    int setup, playing, started;
    struct rc_rtp rtp;
    uint64_t frames, drops;
};

struct rc_server {
    struct rc_server_config cfg;
    int port;
    int epfd;
    struct handle listen_h, timer_h, signal_h;
    int lfd, tfd, sfd;
    struct client *clients;   /* live */
    struct client *graveyard; /* dead, freed after each batch */
    size_t n_clients;
    int64_t last;             /* counter of the last tick handled, -1 before the first */
    uint64_t rng;
    struct rc_scratch scratch;
    struct rc_stats st;
    int stop;
};

static int64_t realtime_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* splitmix64: session ids, SSRCs, initial sequence numbers and timestamps */
static uint64_t rng_next(struct rc_server *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ------------------------------------------------------------ output */

static int watch(struct client *c, int out)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0),
                              .data.ptr = &c->h };

    if (c->want_out == out)
        return 0;
    c->want_out = out;
    return epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0 ? -errno : 0;
}

static int queue_bytes(struct client *c, const void *data, size_t n)
{
    if (c->out_off > 0 && c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 64 * 1024;
        uint8_t *p;
        if (c->out_len - c->out_off + n > OUT_MAX)
            return -ENOBUFS;
        if (c->out_off > 0) { /* compact first */
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        while (cap < c->out_len + n)
            cap *= 2;
        if (cap != c->out_cap) {
            p = realloc(c->out, cap);
            if (!p)
                return -ENOMEM;
            c->out = p;
            c->out_cap = cap;
        }
    }
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
    return watch(c, 1);
}

/* Writes what is queued. Returns 0 (done or the socket is full) or -errno. */
static int flush_out(struct client *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return watch(c, 1);
            return -errno;
        }
        c->out_off += (size_t)w;
    }
    c->out_off = c->out_len = 0;
    return watch(c, 0);
}

/* Sends an RTSP answer after anything already queued. */
static int send_text(struct client *c, const char *text, size_t n)
{
    size_t done = 0;

    while (c->out_len == 0 && done < n) {
        ssize_t w = write(c->fd, text + done, n - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -errno;
        }
        done += (size_t)w;
    }
    return done < n ? queue_bytes(c, text + done, n - done) : 0;
}

/* ------------------------------------------------------------ clients */

static void client_close(struct client *c, const char *why)
{
    struct rc_server *s = c->srv;

    if (c->dead)
        return;
    fprintf(stderr, "replaycam: client %" PRIu64 " %s %s: closed (%s) after %" PRIu64
            " frames, %" PRIu64 " dropped\n", c->id, c->peer, c->path[0] ? c->path : "-", why,
            c->frames, c->drops);
    c->dead = 1;
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_clients--;
    c->prev = NULL;
    c->next = s->graveyard;
    s->graveyard = c;
}

static void bury(struct rc_server *s)
{
    while (s->graveyard) {
        struct client *c = s->graveyard;
        s->graveyard = c->next;
        free(c->out);
        free(c);
    }
}

static void on_accept(struct rc_server *s)
{
    for (;;) {
        struct sockaddr_storage a;
        socklen_t al = sizeof(a);
        int one = 1;
        int fd = accept4(s->lfd, (struct sockaddr *)&a, &al, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct epoll_event ev;
        struct client *c;
        char host[INET6_ADDRSTRLEN] = "?";
        int port = 0;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fprintf(stderr, "replaycam: accept: %s\n", strerror(errno));
            return;
        }
        if (s->n_clients >= MAX_CLIENTS || !(c = calloc(1, sizeof(*c)))) {
            fprintf(stderr, "replaycam: refusing a connection: %zu clients\n", s->n_clients);
            close(fd);
            continue;
        }
        /* whole frames go out in one writev: do not hold back their tails */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (a.ss_family == AF_INET6) {
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a;
            inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
            port = ntohs(a6->sin6_port);
        } else if (a.ss_family == AF_INET) {
            struct sockaddr_in *a4 = (struct sockaddr_in *)&a;
            inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
            port = ntohs(a4->sin_port);
        }
        c->h.kind = H_CLIENT;
        c->srv = s;
        c->fd = fd;
        c->id = ++s->st.clients;
        snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
        ev = (struct epoll_event){ .events = EPOLLIN | EPOLLRDHUP, .data.ptr = &c->h };
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            fprintf(stderr, "replaycam: epoll_ctl: %s\n", strerror(errno));
            close(fd);
            free(c);
            continue;
        }
        c->next = s->clients;
        if (s->clients)
            s->clients->prev = c;
        s->clients = c;
        s->n_clients++;
    }
}

/* ------------------------------------------------------------ RTSP */

static const char *reason(int code)
{
    switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 454: return "Session Not Found";
    case 455: return "Method Not Valid in This State";
    case 459: return "Aggregate Operation Not Allowed";
    case 461: return "Unsupported Transport";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    default: return "Error";
    }
}

/* Sends status line, CSeq, the extra headers and the body. */
static int answer(struct client *c, const struct rc_request *r, int code, const char *extra,
                  const char *body)
{
    char buf[4096];
    size_t blen = body ? strlen(body) : 0;
    int n;

    n = snprintf(buf, sizeof(buf), "RTSP/1.0 %d %s\r\nCSeq: %d\r\nServer: sargas-replaycam\r\n%s",
                 code, reason(code), r && r->cseq >= 0 ? r->cseq : 0, extra ? extra : "");
    if (n < 0 || (size_t)n >= sizeof(buf))
        return -EMSGSIZE;
    if (body)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "Content-Length: %zu\r\n\r\n%s", blen,
                      body);
    else
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n");
    if ((size_t)n >= sizeof(buf))
        return -EMSGSIZE;
    return send_text(c, buf, (size_t)n);
}

/* The stream a request's URI names, or NULL. path gets "camK/kind". */
static const struct rc_stream *find_stream(struct rc_server *s, const char *uri, char *path,
                                           size_t size)
{
    char kind[16];
    long cam;
    const struct rc_stream *st = NULL;

    if (rc_rtsp_path(uri, &cam, kind, sizeof(kind)) < 0 || cam > s->cfg.cameras)
        return NULL;
    if (s->cfg.clips) {
        if (strcmp(kind, "main") == 0 || strcmp(kind, "sub") == 0)
            st = s->cfg.clips[cam - 1];
    } else if (s->cfg.main && strcmp(kind, s->cfg.main->name) == 0)
        st = s->cfg.main;
    else if (s->cfg.sub && strcmp(kind, s->cfg.sub->name) == 0)
        st = s->cfg.sub;
    if (st)
        snprintf(path, size, "cam%ld/%s", cam, kind);
    return st;
}

static int do_describe(struct client *c, const struct rc_request *r)
{
    struct rc_server *s = c->srv;
    char path[48], sdp[2048], extra[700];
    const struct rc_stream *st = find_stream(s, r->uri, path, sizeof(path));
    size_t ulen = strlen(r->uri);
    int n;

    if (!st)
        return answer(c, r, 404, NULL, NULL);
    n = snprintf(sdp, sizeof(sdp),
                 "v=0\r\n"
                 "o=- %" PRIu64 " 1 IN IP%c %s\r\n"
                 "s=Sargas replaycam %s\r\n"
                 "c=IN IP%c %s\r\n"
                 "t=0 0\r\n"
                 "a=tool:sargas-replaycam\r\n"
                 "a=range:npt=now-\r\n"
                 "a=control:*\r\n"
                 "m=video 0 RTP/AVP %d\r\n"
                 "b=AS:%" PRIu64 "\r\n"
                 "a=rtpmap:%d H264/90000\r\n"
                 "a=fmtp:%d %s\r\n"
                 "a=framerate:%d\r\n"
                 "a=control:trackID=0\r\n",
                 rng_next(s) >> 12, strchr(s->cfg.bind, ':') ? '6' : '4', s->cfg.bind, path,
                 strchr(s->cfg.bind, ':') ? '6' : '4', strchr(s->cfg.bind, ':') ? "::" : "0.0.0.0",
                 RC_RTP_PT, st->bytes_per_loop * 8 * 1000 / (st->n_frames * st->frame_us) + 1,
                 RC_RTP_PT, RC_RTP_PT, st->fmtp, st->rate);
    if (n < 0 || (size_t)n >= sizeof(sdp))
        return answer(c, r, 500, NULL, NULL);
    while (ulen > 0 && r->uri[ulen - 1] == '/')
        ulen--;
    snprintf(extra, sizeof(extra), "Content-Base: %.*s/\r\nContent-Type: application/sdp\r\n",
             (int)ulen, r->uri);
    return answer(c, r, 200, extra, sdp);
}

static int check_session(struct client *c, const struct rc_request *r)
{
    if (!c->setup)
        return answer(c, r, 455, NULL, NULL) < 0 ? -1 : 1;
    if (r->session[0] && strcmp(r->session, c->session) != 0)
        return answer(c, r, 454, NULL, NULL) < 0 ? -1 : 1;
    return 0;
}

static int do_setup(struct client *c, const struct rc_request *r)
{
    struct rc_server *s = c->srv;
    char path[48], extra[300];
    const struct rc_stream *st = find_stream(s, r->uri, path, sizeof(path));
    int rtp_ch, rtcp_ch, ret;

    if (!st)
        return answer(c, r, 404, NULL, NULL);
    ret = rc_rtsp_transport(r->transport, &rtp_ch, &rtcp_ch);
    if (ret == -EPROTONOSUPPORT)
        return answer(c, r, 461, NULL, NULL);
    if (ret < 0)
        return answer(c, r, 400, NULL, NULL);
    if (c->setup && c->stream != st)
        return answer(c, r, 459, NULL, NULL); /* one stream per connection */
    if (c->setup && r->session[0] && strcmp(r->session, c->session) != 0)
        return answer(c, r, 454, NULL, NULL);
    if (!c->setup) {
        uint64_t x = rng_next(s);
        snprintf(c->session, sizeof(c->session), "%016" PRIX64, rng_next(s));
        c->rtp.ssrc = (uint32_t)x;
        c->rtp.seq = (uint16_t)(x >> 32);
        c->rtp.ts_base = (uint32_t)rng_next(s);
        c->stream = st;
        snprintf(c->path, sizeof(c->path), "%s", path);
        snprintf(c->control, sizeof(c->control), "%s", r->uri);
        c->setup = 1;
    }
    c->rtp.channel = (uint8_t)rtp_ch;
    snprintf(extra, sizeof(extra),
             "Transport: RTP/AVP/TCP;unicast;interleaved=%d-%d;ssrc=%08" PRIX32 ";mode=\"PLAY\"\r\n"
             "Session: %s;timeout=%d\r\n", rtp_ch, rtcp_ch, c->rtp.ssrc, c->session,
             SESSION_TIMEOUT_S);
    return answer(c, r, 200, extra, NULL);
}

static int do_play(struct client *c, const struct rc_request *r)
{
    struct rc_server *s = c->srv;
    char extra[900];
    int64_t next = s->last + 1, first_idr;
    int ret = check_session(c, r);

    if (ret)
        return ret < 0 ? ret : 0;
    /* the first frame this client gets: the next IDR (one every FC_GOP ticks, 2 s, at any
     * frame rate; the RTP clock runs with time, so its timestamp is the tick's) */
    first_idr = (next + FC_GOP - 1) / FC_GOP * FC_GOP;
    snprintf(extra, sizeof(extra),
             "Session: %s;timeout=%d\r\nRange: npt=0.000-\r\n"
             "RTP-Info: url=%s;seq=%u;rtptime=%" PRIu32 "\r\n",
             c->session, SESSION_TIMEOUT_S, c->control, c->rtp.seq,
             c->rtp.ts_base + (uint32_t)((uint64_t)first_idr * 3600u));
    if (!c->playing) {
        c->playing = 1;
        c->started = 0;
        s->st.plays++;
        fprintf(stderr, "replaycam: client %" PRIu64 " %s %s: playing from the next IDR\n",
                c->id, c->peer, c->path);
    }
    return answer(c, r, 200, extra, NULL);
}

static int handle_request(struct client *c, const struct rc_request *r)
{
    char extra[128];

    if (strcmp(r->method, "OPTIONS") == 0)
        return answer(c, r, 200,
                      "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER\r\n", NULL);
    if (strcmp(r->method, "DESCRIBE") == 0)
        return do_describe(c, r);
    if (strcmp(r->method, "SETUP") == 0)
        return do_setup(c, r);
    if (strcmp(r->method, "PLAY") == 0)
        return do_play(c, r);
    if (strcmp(r->method, "GET_PARAMETER") == 0) {
        if (c->setup)
            snprintf(extra, sizeof(extra), "Session: %s;timeout=%d\r\n", c->session,
                     SESSION_TIMEOUT_S);
        return answer(c, r, 200, c->setup ? extra : NULL, NULL);
    }
    if (strcmp(r->method, "TEARDOWN") == 0) {
        c->playing = 0;
        c->closing = 1;
        return answer(c, r, 200, NULL, NULL);
    }
    return answer(c, r, 501, NULL, NULL);
}

/* Handles every complete message in the input buffer. Returns 0 or -errno. */
static int process_input(struct client *c)
{
    size_t off = 0;
    int ret = 0;

    while (off < c->in_len && !c->closing) {
        const char *p = c->in + off;
        size_t left = c->in_len - off;
        struct rc_request r;
        long n;

        if (p[0] == '$') { /* interleaved data from the client (RTCP): skipped */
            size_t len;
            if (left < 4)
                break;
            len = (size_t)((uint8_t)p[2] << 8 | (uint8_t)p[3]);
            if (left < 4 + len)
                break;
            off += 4 + len;
            continue;
        }
        n = rc_rtsp_parse(p, left, &r);
        if (n == 0)
            break;
        if (n < 0) {
            answer(c, NULL, 400, NULL, NULL);
            c->closing = 1;
            ret = 0;
            break;
        }
        off += (size_t)n;
        if ((ret = handle_request(c, &r)) < 0)
            break;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    if (c->in_len == sizeof(c->in) && !c->closing) {
        answer(c, NULL, 400, NULL, NULL); /* an interleaved frame cannot be this large */
        c->closing = 1;
    }
    return ret;
}

static void on_client(struct client *c, uint32_t events)
{
    int ret = 0;

    if (events & EPOLLOUT) {
        if ((ret = flush_out(c)) < 0) {
            client_close(c, strerror(-ret));
            return;
        }
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        for (int reads = 0; reads < 16; reads++) { /* then the others' turn */
            ssize_t r;
            if (c->closing)
                c->in_len = 0; /* waiting to flush the last answer: input is discarded */
            r = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            if (r <= 0) {
                client_close(c, r == 0 ? "end of stream" : strerror(errno));
                return;
            }
            c->in_len += (size_t)r;
            if (c->closing)
                continue;
            if ((ret = process_input(c)) < 0) {
                client_close(c, strerror(-ret));
                return;
            }
            if (c->in_len == sizeof(c->in))
                break;
        }
    }
    if (c->closing && c->out_off == c->out_len)
        client_close(c, "teardown");
}

/* ------------------------------------------------------------ frames */

/* The frame of st that begins at tick `tick` (in *frame), if one does: a stream
 * at a lower rate than the ticks' 25/s sends on the first tick of each frame. */
static int frame_at(const struct rc_stream *st, uint64_t tick, uint64_t *frame)
{
    uint64_t f = tick * FC_FRAME_US / st->frame_us;

    if (tick > 0 && (tick - 1) * FC_FRAME_US / st->frame_us == f)
        return 0;
    *frame = f;
    return 1;
}

/* Sends frame `counter` (of its stream's rate) to one playing client. */
static void send_frame(struct rc_server *s, struct client *c, uint64_t counter)
{
    const struct rc_stream *st = c->stream;
    struct rc_rtp saved = c->rtp;
    struct iovec *iov = s->scratch.iov;
    size_t n, bytes, i = 0, done = 0;
    int first = !c->started;

    if (first && !st->frames[counter % st->n_frames].idr)
        return; /* a new client starts at an IDR */
    if (c->out_off < c->out_len) {
        /* the socket has not taken the previous frame or answer yet */
        c->drops++;
        s->st.drops++;
        return;
    }
    c->started = 1;
    n = rc_stream_compose(st, counter, (uint64_t)realtime_us(), &c->rtp, &s->scratch, &bytes);
    while (i < n) {
        int cnt = n - i > IOV_MAX ? IOV_MAX : (int)(n - i);
        size_t want = 0, got;
        ssize_t w;

        for (int k = 0; k < cnt; k++)
            want += iov[i + (size_t)k].iov_len;
        w = writev(c->fd, iov + i, cnt);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                client_close(c, strerror(errno));
                return;
            }
            w = 0;
        }
        got = (size_t)w;
        done += got;
        while (w > 0) { /* skip what went out */
            if ((size_t)w >= iov[i].iov_len) {
                w -= (ssize_t)iov[i].iov_len;
                i++;
            } else {
                iov[i].iov_base = (uint8_t *)iov[i].iov_base + w;
                iov[i].iov_len -= (size_t)w;
                w = 0;
            }
        }
        if (got < want)
            break; /* the socket is full */
    }
    if (done == 0 && n > 0) { /* nothing went: skip the frame as if never encoded */
        c->rtp = saved;
        c->started = !first; /* a client that missed its first IDR waits for the next */
        c->drops++;
        s->st.drops++;
        return;
    }
    for (; i < n; i++) { /* keep the rest of a partly written frame */
        int ret = queue_bytes(c, iov[i].iov_base, iov[i].iov_len);
        if (ret < 0) {
            client_close(c, strerror(-ret));
            return;
        }
    }
    c->frames++;
    s->st.frames++;
    s->st.bytes += bytes;
}

static void send_all(struct rc_server *s, uint64_t tick)
{
    struct client *c = s->clients;
    uint64_t frame;

    while (c) {
        struct client *next = c->next; /* send_frame() may close c */
        if (c->playing && !c->closing && frame_at(c->stream, tick, &frame))
            send_frame(s, c, frame);
        c = next;
    }
}

static int arm_timer(struct rc_server *s)
{
    int64_t t = (s->last + 1) * FC_FRAME_US;
    struct itimerspec its = { .it_value = { .tv_sec = t / 1000000,
                                            .tv_nsec = (long)(t % 1000000) * 1000 } };

    if (timerfd_settime(s->tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0)
        return -errno;
    return 0;
}

static int on_timer(struct rc_server *s)
{
    uint64_t expirations;
    int64_t now_c;

    if (read(s->tfd, &expirations, sizeof(expirations)) < 0 && errno == ECANCELED) {
        fprintf(stderr, "replaycam: the system clock was set\n");
        /* handled below like any large jump */
    }
    now_c = realtime_us() / FC_FRAME_US;
    if (now_c - s->last > MAX_BEHIND_FRAMES || s->last - now_c > MAX_BEHIND_FRAMES) {
        fprintf(stderr, "replaycam: %s by %" PRId64 " frames, skipping to frame %" PRId64 "\n",
                now_c > s->last ? "behind" : "ahead (clock stepped back)",
                now_c > s->last ? now_c - s->last : s->last - now_c, now_c);
        s->last = now_c - 1;
    }
    if (now_c - s->last > 1)
        s->st.late++;
    /* a late wakeup sends the missed frames in order: counters stay consecutive */
    for (int64_t c = s->last + 1; c <= now_c; c++)
        send_all(s, (uint64_t)c);
    if (now_c > s->last)
        s->last = now_c;
    return arm_timer(s);
}

/* ------------------------------------------------------------ life */

static int listen_on(struct rc_server *s)
{
    struct sockaddr_storage a;
    socklen_t al;
    int one = 1, fd;

    memset(&a, 0, sizeof(a));
    if (inet_pton(AF_INET, s->cfg.bind, &((struct sockaddr_in *)&a)->sin_addr) == 1) {
        a.ss_family = AF_INET;
        ((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)s->cfg.port);
        al = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, s->cfg.bind, &((struct sockaddr_in6 *)&a)->sin6_addr) == 1) {
        a.ss_family = AF_INET6;
        ((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)s->cfg.port);
        al = sizeof(struct sockaddr_in6);
    } else {
        fprintf(stderr, "replaycam: --bind needs an IPv4 or IPv6 address, not '%s'\n",
                s->cfg.bind);
        return -EINVAL;
    }
    fd = socket(a.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a, al) < 0 || listen(fd, 1024) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
        int ret = -errno;
        fprintf(stderr, "replaycam: cannot listen on %s:%d: %s\n", s->cfg.bind, s->cfg.port,
                strerror(errno));
        close(fd);
        return ret;
    }
    s->port = ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
                                            : ((struct sockaddr_in *)&a)->sin_port);
    s->lfd = fd;
    return 0;
}

static int add_fd(struct rc_server *s, int fd, struct handle *h, enum handle_kind kind)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = h };

    h->kind = kind;
    return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int rc_server_create(const struct rc_server_config *cfg, struct rc_server **out)
{
    struct rc_server *s = calloc(1, sizeof(*s));
    sigset_t sigs;
    int ret;

    if (!s)
        return -ENOMEM;
    s->cfg = *cfg;
    s->epfd = s->lfd = s->tfd = s->sfd = -1;
    s->last = -1;
    if (getrandom(&s->rng, sizeof(s->rng), 0) != sizeof(s->rng))
        s->rng = (uint64_t)realtime_us() ^ (uint64_t)getpid() << 32;
    if ((cfg->main && (ret = rc_scratch_reserve(&s->scratch, cfg->main)) < 0) ||
        (cfg->sub && (ret = rc_scratch_reserve(&s->scratch, cfg->sub)) < 0))
        goto fail;
    for (long k = 0; cfg->clips && k < cfg->cameras; k++)
        if ((ret = rc_scratch_reserve(&s->scratch, cfg->clips[k])) < 0)
            goto fail;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    s->sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->epfd < 0 || s->tfd < 0 || s->sfd < 0) {
        ret = -errno;
        fprintf(stderr, "replaycam: %s\n", strerror(errno));
        goto fail;
    }
    if ((ret = listen_on(s)) < 0)
        goto fail;
    if ((ret = add_fd(s, s->lfd, &s->listen_h, H_LISTEN)) < 0 ||
        (ret = add_fd(s, s->tfd, &s->timer_h, H_TIMER)) < 0 ||
        (ret = add_fd(s, s->sfd, &s->signal_h, H_SIGNAL)) < 0)
        goto fail;
    *out = s;
    return 0;

fail:
    rc_server_destroy(&s);
    return ret;
}

int rc_server_port(const struct rc_server *s)
{
    return s->port;
}

int rc_server_run(struct rc_server *s)
{
    struct epoll_event ev[MAX_EVENTS];
    int ret;

    s->last = realtime_us() / FC_FRAME_US; /* the first tick is the next frame */
    if ((ret = arm_timer(s)) < 0)
        return ret;
    while (!s->stop) {
        int n = epoll_wait(s->epfd, ev, MAX_EVENTS, -1);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        for (int i = 0; i < n; i++) {
            struct handle *h = ev[i].data.ptr;

            switch (h->kind) {
            case H_LISTEN:
                on_accept(s);
                break;
            case H_TIMER:
                if ((ret = on_timer(s)) < 0)
                    return ret;
                break;
            case H_SIGNAL: {
                struct signalfd_siginfo si;
                if (read(s->sfd, &si, sizeof(si)) == sizeof(si))
                    fprintf(stderr, "replaycam: signal %u, stopping\n", si.ssi_signo);
                s->stop = 1;
                break;
            }
            case H_CLIENT: {
                struct client *c = (struct client *)h;
                if (!c->dead)
                    on_client(c, ev[i].events);
                break;
            }
            }
        }
        bury(s);
    }
    return 0;
}

void rc_server_stats(const struct rc_server *s, struct rc_stats *st)
{
    *st = s->st;
}

void rc_server_destroy(struct rc_server **ps)
{
    struct rc_server *s = *ps;

    if (!s)
        return;
    *ps = NULL;
    while (s->clients)
        client_close(s->clients, "server stopping");
    bury(s);
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->tfd >= 0)
        close(s->tfd);
    if (s->sfd >= 0)
        close(s->sfd);
    if (s->epfd >= 0)
        close(s->epfd);
    rc_scratch_free(&s->scratch);
    free(s);
}
