/* SDP (RFC 4566) as cameras send it in DESCRIBE answers: we pick the first H.264 or H.265
 * video track and its parameter sets. At most SG_SDP_MAX_MEDIA media sections are examined;
 * a hostile SDP with thousands of tracks costs nothing more. Fuzzed. */
#ifndef SG_INGEST_SDP_H
#define SG_INGEST_SDP_H

#include <stddef.h>

#include "ingest/h26x.h"

#define SG_SDP_MAX_MEDIA 32

struct sg_sdp_track {
    int codec;                  /* enum sg_codec */
    int payload_type;
    int clock_rate;
    char control[1024];         /* a=control of the track, "" when absent */
    struct sg_codec_params params; /* from sprop-parameter-sets / sprop-vps/sps/pps */
    int media_sections;         /* how many m= lines were seen (capped count) */
};

/* Returns 0, SG_E_UNSUPPORTED when no H.264/H.265 video track is offered, SG_E_PROTO on
 * malformed input. */
int sg_sdp_parse(const char *sdp, size_t len, struct sg_sdp_track *t);

#endif
