/* Camera URLs. Only rtsp:// and rtsps:// are accepted; in test mode (allow_test_sources)
 * file:///absolute/path.h264|.h265 is accepted too. Everything else (http:, exec:, concat:,
 * pipes, relative paths) is refused with a clear message. Credentials may be in the URL and
 * are never logged: use sg_url_redact for anything that is printed. */
#ifndef SG_INGEST_URL_H
#define SG_INGEST_URL_H

#include <stddef.h>

enum sg_url_kind { SG_URL_RTSP = 0, SG_URL_RTSPS = 1, SG_URL_FILE = 2 };

struct sg_url {
    int kind;
    char user[128];  /* percent-decoded */
    char pass[128];
    char host[256];  /* without brackets for IPv6 */
    int port;
    char path[1024]; /* path and query, starts with '/' */
};

/* Returns 0, or SG_E_URL with a message in err. */
int sg_url_parse(const char *url, int allow_test, struct sg_url *u, char *err, size_t errlen);
/* Copies url with the userinfo replaced by "***@". */
void sg_url_redact(const char *url, char *out, size_t n);
/* The URL without userinfo: what goes on the RTSP request line. */
int sg_url_format(const struct sg_url *u, char *out, size_t n);

#endif
