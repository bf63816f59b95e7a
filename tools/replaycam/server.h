/* tools/replaycam: the RTSP server and the frame clock, in one epoll thread.
 *
 * Paths: rtsp://ADDR:P/camK/main and /camK/sub, K = 1..cameras (with clips,
 * both paths of camera K serve its own clip). RTSP/1.0
 * over TCP, RTP interleaved on the same connection only (a UDP SETUP is
 * answered 461). Methods: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER,
 * TEARDOWN; others get 501. One stream per connection.
 *
 * The clock: a timerfd on CLOCK_REALTIME fires when UTC time enters frame
 * c = floor(utc_us / 40000); every playing client then gets access unit
 * c mod 750 (a clip: c mod its length) with the SEI counter c (the fakecam's
 * scheme); a stream at a lower rate R sends its frame f = floor(utc_us * R /
 * 1000000) on the first tick in it, with the counter f; each frame goes as one
 * writev of
 * all its '$'-framed RTP packets. A client starts at the first IDR after its
 * PLAY. Late wakeups send the missed frames in order (counters stay
 * consecutive) unless more than a second was missed, which skips ahead.
 *
 * Back-pressure: sockets are non-blocking. When a client's socket takes none
 * of a frame, the frame is skipped for that client and counted as a drop;
 * when it takes part of one, the rest is kept and sent on EPOLLOUT, and every
 * frame due before it has gone is skipped and counted. A skipped frame is as
 * if the camera never encoded it: RTP sequence numbers stay consecutive, the
 * timestamps (and SEI counters) jump; a client whose first IDR is skipped
 * waits for the next one.
 */
#ifndef REPLAYCAM_SERVER_H
#define REPLAYCAM_SERVER_H

#include <stdint.h>

#include "stream.h"

struct rc_server;

struct rc_server_config {
    const char *bind; /* IPv4 or IPv6 literal */
    int port;         /* 0: any free port (see rc_server_port()) */
    long cameras;
    struct rc_stream *main; /* borrowed, must outlive the server; NULL: not served */
    struct rc_stream *sub;  /* likewise */
    struct rc_stream **clips; /* NULL, or one per camera (borrowed, like main): camera K
                               * serves clips[K - 1] at both paths; main and sub unused */
};

struct rc_stats {
    uint64_t clients; /* connections accepted */
    uint64_t plays;   /* PLAY requests answered 200 */
    uint64_t frames;  /* frames sent (wholly or partly) */
    uint64_t bytes;   /* bytes of frames written or queued */
    uint64_t drops;   /* frames skipped because a socket was full */
    uint64_t late;    /* frame ticks that were handled more than a frame late */
};

/* Binds and listens. Returns 0 or a negative errno (with a message on stderr). */
int rc_server_create(const struct rc_server_config *cfg, struct rc_server **out);
/* The port it listens on. */
int rc_server_port(const struct rc_server *s);
/* Serves until SIGINT or SIGTERM, which the caller must have blocked in every
 * thread (they are read from a signalfd). Returns 0 or a negative errno. */
int rc_server_run(struct rc_server *s);
void rc_server_stats(const struct rc_server *s, struct rc_stats *st);
/* Closes every connection and frees. Accepts NULL, sets *s to NULL. */
void rc_server_destroy(struct rc_server **s);

#endif
