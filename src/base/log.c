#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"

volatile int sg_log_level_current = SG_LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void sg_log_set_level(int level)
{
    if (level >= SG_LOG_ERROR && level <= SG_LOG_DEBUG)
        sg_log_level_current = level;
}

int sg_log_level_parse(const char *s)
{
    for (int i = 0; i <= SG_LOG_DEBUG; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return SG_E_CONFIG;
}

const char *sg_log_level_name(int level)
{
    if (level < SG_LOG_ERROR || level > SG_LOG_DEBUG)
        return "?";
    return level_names[level];
}

void sg_log_write(int level, const char *subsys, int64_t cam, const char *fmt, ...)
{
    static const char *const tags[] = { "ERROR", "WARN ", "INFO ", "DEBUG" };
    char line[2048];
    char ts[SG_UTC_STRLEN];
    size_t n;
    va_list ap;
    int r;

    sg_utc_format(sg_utc_us(), 3, ts, sizeof(ts));
    if (cam > 0)
        r = snprintf(line, sizeof(line), "%s %s %s cam=%lld: ", ts, tags[level & 3], subsys,
                     (long long)cam);
    else
        r = snprintf(line, sizeof(line), "%s %s %s: ", ts, tags[level & 3], subsys);
    n = r < 0 ? 0 : (size_t)r;
    if (n >= sizeof(line))
        n = sizeof(line) - 1;
    va_start(ap, fmt);
    r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (r > 0)
        n += (size_t)r;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2; /* truncated: still one line */
    /* Control characters from peers (camera names, server messages) must not forge lines. */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)line[i] < 0x20)
            line[i] = ' ';
    line[n++] = '\n';
    for (size_t off = 0; off < n;) {
        ssize_t w = write(STDERR_FILENO, line + off, n - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}
