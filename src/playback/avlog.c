/* libav* log messages into our log instead of stderr. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/log.h>

#include "base/log.h"
#include "playback/av_int.h"

static void av_to_sg(void *avcl, int level, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

static void av_to_sg(void *avcl, int level, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)avcl;
    if (level > AV_LOG_VERBOSE)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = 0;
    if (!n)
        return;
    if (level <= AV_LOG_WARNING)
        sg_warn("libav", 0, "%s", msg);
    else
        sg_debug("libav", 0, "%s", msg);
}

static void install(void) { av_log_set_callback(av_to_sg); }

void sg_av_log_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, install);
}
