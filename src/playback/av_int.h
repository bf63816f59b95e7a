/* libav* glue shared by export.c and snapshot.c (internal to playback). */
#ifndef SG_PLAYBACK_AV_INT_H
#define SG_PLAYBACK_AV_INT_H

#include <errno.h>
#include <libavutil/error.h>

#include "base/err.h"

/* Routes libav* messages into our log (once per process; called by every entry point that
 * uses libav*): warnings and errors at our warn level, the rest at debug. */
void sg_av_log_init(void);

/* An FFmpeg error code as one of ours: errno-based codes (AVERROR(e) is -e) and our own
 * SG_E_* codes pass through, so converting twice is harmless. */
static inline int sg_av_err(int e)
{
    if (e > -20000)
        return e;
    switch (e) {
    case AVERROR_INVALIDDATA:
        return SG_E_CORRUPT;
    case AVERROR_EOF:
        return SG_E_NOTFOUND;
    case AVERROR_DECODER_NOT_FOUND:
    case AVERROR_ENCODER_NOT_FOUND:
    case AVERROR_MUXER_NOT_FOUND:
    case AVERROR_PATCHWELCOME:
    case AVERROR_OPTION_NOT_FOUND:
        return SG_E_UNSUPPORTED;
    default:
        return -EIO;
    }
}

#endif
