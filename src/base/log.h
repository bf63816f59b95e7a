/* Logging: one macro, level checked before any formatting, one write(2) per line so lines
 * from different threads never interleave. Lines go to stderr as
 *   2026-11-21T02:30:00.123Z WARN  ingest cam=3: message */
#ifndef SG_BASE_LOG_H
#define SG_BASE_LOG_H

#include <stdint.h>

enum sg_log_level { SG_LOG_ERROR = 0, SG_LOG_WARN = 1, SG_LOG_INFO = 2, SG_LOG_DEBUG = 3 };

extern volatile int sg_log_level_current;

void sg_log_set_level(int level);
/* Parses "error", "warn", "info", "debug"; returns the level or SG_E_CONFIG. */
int sg_log_level_parse(const char *s);
const char *sg_log_level_name(int level);

/* cam <= 0 means "not about one camera". */
void sg_log_write(int level, const char *subsys, int64_t cam, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define SG_LOG(lvl, sub, cam, ...)                                   \
    do {                                                             \
        if ((lvl) <= sg_log_level_current)                           \
            sg_log_write((lvl), (sub), (cam), __VA_ARGS__);          \
    } while (0)

#define sg_error(sub, cam, ...) SG_LOG(SG_LOG_ERROR, sub, cam, __VA_ARGS__)
#define sg_warn(sub, cam, ...)  SG_LOG(SG_LOG_WARN, sub, cam, __VA_ARGS__)
#define sg_info(sub, cam, ...)  SG_LOG(SG_LOG_INFO, sub, cam, __VA_ARGS__)
#define sg_debug(sub, cam, ...) SG_LOG(SG_LOG_DEBUG, sub, cam, __VA_ARGS__)

#endif
