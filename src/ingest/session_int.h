/* Internals shared by session.c (one stream's state machine) and worker.c (the event loop). */
#ifndef SG_INGEST_SESSION_INT_H
#define SG_INGEST_SESSION_INT_H

#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "base/thread.h"
#include "ingest/ingest.h"
#include "ingest/rtp.h"
#include "ingest/rtsp.h"
#include "ingest/sdp.h"
#include "ingest/url.h"

enum phase { P_WAIT, P_RESOLVE, P_CONNECT, P_HANDSHAKE, P_PLAY, P_FILE, P_STOPPED };
enum step { STEP_OPTIONS, STEP_DESCRIBE, STEP_SETUP, STEP_PLAY };
enum handle_kind { H_TCP, H_RTP, H_RTCP };

struct ep_handle {
    struct sg_ingest_stream *s;
    int kind;
};

struct worker;

struct sg_ingest_stream {
    struct sg_ingest_stream_desc desc;
    struct sg_stream_sink sink;
    struct sg_url url;
    char req_url[1100];       /* the URL without credentials */
    char log_url[1100];       /* redacted, for messages */
    struct worker *w;
    const struct sg_ingest_opts *opts;

    int phase;
    int fd, udp[2];
    struct ep_handle h_tcp, h_rtp, h_rtcp;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    int64_t deadline_ns;      /* end of the current phase (resolve, connect, handshake) */
    int64_t retry_at_ns;
    int64_t last_frame_ns;
    int64_t next_keepalive_ns;
    int64_t online_since_ns;
    int failures;
    int removed;              /* set by the worker when a remove request was processed */

    struct gaicb gai;
    struct gaicb *gai_list[1];
    struct addrinfo hints;
    char port_str[8];
    int gai_active;
    struct addrinfo *addrs;    /* resolved addresses (owned) and the next one to try */
    struct addrinfo *addr_next;

    struct sg_buf in;
    char out[4096];
    size_t out_len, out_off;

    int cseq, step, pending_cseq, auth_attempts;
    struct sg_rtsp_auth auth;
    char session[128];
    int session_timeout;
    char control[1100];
    int rtp_channel, rtcp_channel;
    int ssrc_locked;
    uint32_t ssrc;
    uint64_t junk_bytes;
    struct sg_sdp_track track;
    struct sg_depack *depack;
    uint64_t oversize_seen;

    struct sg_codec_params params;
    int params_changed, have_key, online_reported;
    int have_ts;
    uint32_t last_rtp_ts;
    int64_t last_dts, last_arrival_ns, nominal_delta;
    int64_t session_no;

    /* test-mode file source */
    uint8_t *file_data;       /* length-prefixed AUs, back to back */
    size_t *file_au_off, *file_au_len;
    size_t file_n_au, file_pos;
    int64_t file_next_ns;

    struct sg_ingest_stream *next_pending;
};

/* recvmmsg batches for RTP over UDP: one buffer set per worker thread, made at the first UDP
 * stream (thread-local storage would put it in every thread of the process) */
enum { UDP_BATCH = 32, UDP_PKT = 2048 };

struct worker {
    struct sg_ingest *ing;
    int idx;
    int epfd, evfd;
    struct sg_thread th;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct sg_ingest_stream *adds, *removes;
    struct sg_ingest_stream **sessions;
    size_t n_sessions, cap_sessions;
    volatile int stop;
    uint8_t (*udp_bufs)[UDP_PKT];  /* UDP_BATCH buffers, NULL until a stream uses UDP */
};

struct sg_ingest {
    struct sg_ingest_opts opts;
    struct worker *workers;
    int n_workers;
    unsigned next_worker;
    pthread_mutex_t lock;
};

/* session.c */
void session_start(struct sg_ingest_stream *s, int64_t now);   /* WAIT -> connect */
void session_stop(struct sg_ingest_stream *s);                  /* closes everything */
void session_on_event(struct ep_handle *h, uint32_t events);
void session_tick(struct sg_ingest_stream *s, int64_t now);     /* deadlines, keepalives */
int64_t session_next_deadline(const struct sg_ingest_stream *s);

/* worker.c */
int worker_watch(struct worker *w, int fd, struct ep_handle *h, uint32_t events, int add);
void worker_unwatch(struct worker *w, int fd);

#endif
