/* Clocks. Durations and deadlines use the monotonic clock; UTC is only for timestamps that are
 * stored or shown. Both can be replaced by a fake for unit tests. */
#ifndef SG_BASE_CLOCK_H
#define SG_BASE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define SG_NS_PER_MS  1000000LL
#define SG_NS_PER_SEC 1000000000LL
#define SG_US_PER_SEC 1000000LL
#define SG_UTC_STRLEN 40

int64_t sg_mono_ns(void); /* CLOCK_MONOTONIC, nanoseconds */
int64_t sg_utc_us(void);  /* CLOCK_REALTIME, microseconds since 1970-01-01T00:00:00Z */

/* Replaces the clocks (NULL restores the real one). For tests only. */
void sg_clock_set_fake(int64_t (*mono_ns)(void), int64_t (*utc_us)(void));

/* RFC 3339 in UTC with `digits` (0, 3 or 6) fractional digits: 2026-11-21T02:30:00.123Z.
 * Returns 0, or -ENOSPC when buf is too small. */
int sg_utc_format(int64_t utc_us, int digits, char *buf, size_t n);
/* Compact form for file names: 20261121T023000.123Z. */
int sg_utc_format_compact(int64_t utc_us, char *buf, size_t n);
/* Parses RFC 3339 (Z or +hh:mm offset, optional fraction up to 9 digits). Returns 0 or -EINVAL. */
int sg_utc_parse(const char *s, int64_t *utc_us);

/* Sleeps until the monotonic time `deadline_ns` (returns early on a signal). */
void sg_sleep_until(int64_t deadline_ns);

#endif
