/* tools/replaycam: RTSP/1.0 request parsing (pure functions, no I/O). */
#ifndef REPLAYCAM_RTSP_H
#define REPLAYCAM_RTSP_H

#include <stddef.h>

#define RC_RTSP_MAX_MSG 16384 /* request line, headers and body together */

struct rc_request {
    char method[24];
    char uri[512];
    int cseq;            /* -1 when absent */
    char session[64];    /* the id, without ";timeout=..." */
    char transport[256];
    size_t content_length;
};

/* Parses the request at the start of buf[0..len). Returns the bytes it takes
 * (headers and body) once it is complete, 0 when more bytes are needed, or
 * -EMSGSIZE (longer than RC_RTSP_MAX_MSG) or -EINVAL (malformed). Headers
 * other than those in struct rc_request are ignored; values too long for
 * their field are cut. */
long rc_rtsp_parse(const char *buf, size_t len, struct rc_request *r);

/* From "rtsp://host[:port]/camK/KIND[/trackID=0][/][?query]" (or the bare
 * path) the camera number K (>= 1) and KIND. Returns 0, or -ENOENT when the
 * URI names no such path. */
int rc_rtsp_path(const char *uri, long *cam, char *kind, size_t kind_size);

/* From a Transport header, the interleaved channels of its first
 * RTP/AVP/TCP specification (0-1 when it names none). Returns 0, or
 * -EPROTONOSUPPORT when it offers only UDP (answer 461). */
int rc_rtsp_transport(const char *t, int *rtp_ch, int *rtcp_ch);

#endif
