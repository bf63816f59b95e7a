/* Shared by the libFuzzer targets: the entry point's prototype (the build uses
 * -Wmissing-prototypes) and an invariant check that aborts, so libFuzzer records the input. */
#ifndef SG_FUZZ_FUZZ_H
#define SG_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant of the API under test is a finding like a sanitizer report. */
#define FUZZ_CHECK(cond)                                                              \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

#endif
