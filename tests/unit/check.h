/* Minimal test harness: CHECK records a failure and carries on; main returns non-zero if any
 * check failed. Each test binary is its own process (CTest runs them separately). */
#ifndef SG_TEST_CHECK_H
#define SG_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        check_count++;                                                                \
        if (!(cond)) {                                                                \
            check_failures++;                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                             \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                            \
    do {                                                                              \
        long long _a = (long long)(a), _b = (long long)(b);                           \
        check_count++;                                                                \
        if (_a != _b) {                                                               \
            check_failures++;                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", __FILE__, \
                    __LINE__, #a, #b, _a, _b);                                        \
        }                                                                             \
    } while (0)

#define CHECK_STR(a, b)                                                               \
    do {                                                                              \
        const char *_a = (a), *_b = (b);                                              \
        check_count++;                                                                \
        if (strcmp(_a, _b)) {                                                         \
            check_failures++;                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: \"%s\" == \"%s\"\n", __FILE__, __LINE__, _a, _b); \
        }                                                                             \
    } while (0)

static inline int check_done(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? 1 : 0;
}

#endif
