/* RTSP/1.0 message parsing (responses from cameras, and requests cameras send us) and
 * authentication (Basic, Digest MD5 per RFC 2617). Pure functions over byte buffers: this is
 * network input, so every length is capped and the parser has a fuzz target. */
#ifndef SG_INGEST_RTSP_H
#define SG_INGEST_RTSP_H

#include <stddef.h>

#define SG_RTSP_MAX_HEADER 16384 /* a header block larger than this is a protocol error */
#define SG_RTSP_MAX_BODY 262144  /* SDP bodies larger than this are refused */

struct sg_rtsp_msg {
    int is_request;
    int status;               /* responses */
    char method[32];          /* requests */
    int cseq;                 /* -1 when absent */
    size_t content_length;
    size_t header_len;        /* bytes up to and including the blank line */
    const char *body;         /* points into the parsed buffer, NUL-terminated copy not made */
    char session[128];        /* Session id without ;timeout */
    int session_timeout;      /* seconds, 0 when absent */
    char content_base[1024];
    char transport[256];
    char www_auth_digest[512];/* parameters of the first Digest challenge */
    int www_auth_basic;       /* a Basic challenge was offered */
};

/* Parses one message at the start of buf. Returns the total length (header + body) when a
 * whole message is there, 0 when more bytes are needed, or SG_E_PROTO / SG_E_TOOBIG. */
long sg_rtsp_parse(const char *buf, size_t len, struct sg_rtsp_msg *m);

struct sg_rtsp_auth {
    int kind;                 /* 0 none, 1 basic, 2 digest */
    char realm[128];
    char nonce[256];
    char opaque[256];
    int qop_auth;
    unsigned nc;
};

/* Picks the challenge from a 401 response (Digest preferred). Returns 0 or SG_E_AUTH. */
int sg_rtsp_auth_from_challenge(const struct sg_rtsp_msg *m, struct sg_rtsp_auth *a);
/* Writes an "Authorization: ...\r\n" line (or nothing when kind is 0). Returns 0 or SG_E_TOOBIG. */
int sg_rtsp_auth_header(struct sg_rtsp_auth *a, const char *user, const char *pass,
                        const char *method, const char *uri, char *out, size_t n);

#endif
