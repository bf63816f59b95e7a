#include "base/clock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t (*fake_mono)(void);
static int64_t (*fake_utc)(void);

void sg_clock_set_fake(int64_t (*mono_ns)(void), int64_t (*utc_us)(void))
{
    fake_mono = mono_ns;
    fake_utc = utc_us;
}

int64_t sg_mono_ns(void)
{
    struct timespec ts;

    if (fake_mono)
        return fake_mono();
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * SG_NS_PER_SEC + ts.tv_nsec;
}

int64_t sg_utc_us(void)
{
    struct timespec ts;

    if (fake_utc)
        return fake_utc();
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * SG_US_PER_SEC + ts.tv_nsec / 1000;
}

void sg_sleep_until(int64_t deadline_ns)
{
    struct timespec ts = { .tv_sec = deadline_ns / SG_NS_PER_SEC,
                           .tv_nsec = deadline_ns % SG_NS_PER_SEC };

    if (deadline_ns <= 0)
        return;
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static int split_utc(int64_t utc_us, struct tm *tm, int64_t *frac_us)
{
    int64_t sec = utc_us / SG_US_PER_SEC;
    int64_t us = utc_us % SG_US_PER_SEC;
    time_t t;

    if (us < 0) {
        us += SG_US_PER_SEC;
        sec -= 1;
    }
    t = (time_t)sec;
    if (!gmtime_r(&t, tm))
        return -EINVAL;
    *frac_us = us;
    return 0;
}

int sg_utc_format(int64_t utc_us, int digits, char *buf, size_t n)
{
    struct tm tm;
    int64_t us;
    int r;

    if (split_utc(utc_us, &tm, &us) < 0)
        return -EINVAL;
    if (digits == 6)
        r = snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)us);
    else if (digits == 3)
        r = snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long long)(us / 1000));
    else
        r = snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return (r < 0 || (size_t)r >= n) ? -ENOSPC : 0;
}

int sg_utc_format_compact(int64_t utc_us, char *buf, size_t n)
{
    struct tm tm;
    int64_t us;
    int r;

    if (split_utc(utc_us, &tm, &us) < 0)
        return -EINVAL;
    r = snprintf(buf, n, "%04d%02d%02dT%02d%02d%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)(us / 1000));
    return (r < 0 || (size_t)r >= n) ? -ENOSPC : 0;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -EINVAL;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int expect(const char **p, char c1, char c2)
{
    if (**p != c1 && **p != c2)
        return -EINVAL;
    (*p)++;
    return 0;
}

int sg_utc_parse(const char *s, int64_t *utc_us)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    const char *p = s;
    int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;
    int64_t frac_us = 0, days;

    if (digits(&p, 4, &Y) || expect(&p, '-', '-') || digits(&p, 2, &M) ||
        expect(&p, '-', '-') || digits(&p, 2, &D) || expect(&p, 'T', 't') ||
        digits(&p, 2, &h) || expect(&p, ':', ':') || digits(&p, 2, &m) ||
        expect(&p, ':', ':') || digits(&p, 2, &sec))
        return -EINVAL;
    if (M < 1 || M > 12 || D < 1 || h > 23 || m > 59 || sec > 60 || Y < 1970)
        return -EINVAL;
    {
        int leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
        int md = mdays[M - 1] + (M == 2 && leap);
        if (D > md)
            return -EINVAL;
    }
    if (sec == 60)
        sec = 59; /* leap second: clamp, UTC in POSIX has no 60th second */
    if (*p == '.') {
        int64_t scale = 100000;
        int nd = 0;
        p++;
        while (*p >= '0' && *p <= '9') {
            if (nd < 6) {
                frac_us += (*p - '0') * scale;
                scale /= 10;
            }
            p++;
            if (++nd > 9)
                return -EINVAL;
        }
        if (nd == 0)
            return -EINVAL;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
        if (digits(&p, 2, &oh) || expect(&p, ':', ':') || digits(&p, 2, &om) || oh > 23 ||
            om > 59)
            return -EINVAL;
    } else {
        return -EINVAL;
    }
    if (*p)
        return -EINVAL;
    /* Days from civil (Howard Hinnant's algorithm). */
    {
        int y = Y - (M <= 2);
        int era = y / 400;
        int yoe = y - era * 400;
        int doy = (153 * (M + (M > 2 ? -3 : 9)) + 2) / 5 + D - 1;
        int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        days = (int64_t)era * 146097 + doe - 719468;
    }
    *utc_us = ((days * 86400 + h * 3600 + m * 60 + sec) - sign * (oh * 3600 + om * 60)) *
                  SG_US_PER_SEC + frac_us;
    return 0;
}
