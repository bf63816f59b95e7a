/* HTTP: the console's static files, the JSON API under /api/v1/ and the video endpoints (live
 * fMP4, HLS playback, segment byte ranges, MP4 download, JPEG snapshot), served by
 * libmicrohttpd (epoll, a few threads, sendfile, TLS via GnuTLS). This module is the only one
 * that includes the HTTP library. Every request goes through one router and one authorisation
 * hook (authz.c) before any handler runs. */
#ifndef SG_HTTP_HTTP_H
#define SG_HTTP_HTTP_H

#include <stdio.h>

#include "analysis/analysis.h"
#include "config/config.h"
#include "live/live.h"

struct sg_http_deps {
    const struct sg_config *cfg;  /* borrowed; must outlive the server */
    struct sg_live *live;         /* borrowed */
    struct sg_analysis *analysis; /* borrowed; NULL when motion analysis is off */
    const char *version;
};

struct sg_http;

/* Opens the catalog connections and starts listening on cfg->listen. */
int sg_http_start(const struct sg_http_deps *deps, struct sg_http **out);
/* Ends live streams, stops listening, joins every thread. Sets *h to NULL. */
void sg_http_stop(struct sg_http **h);
/* Once a second from the main loop: wakes idle live viewers, reaps finished jobs. */
void sg_http_tick(struct sg_http *h);

/* Writes "METHOD PATTERN ACCESS" for every route of the router, one per line (the OpenAPI
 * test and the access-control test read this). */
void sg_http_print_routes(FILE *f);

#endif
