/* Shared by the libFuzzer targets: the entry point's prototype (the build uses
 * -Wmissing-prototypes) and an invariant check that aborts, so libFuzzer records the input. */
#ifndef SG_FUZZ_FUZZ_H
#define SG_FUZZ_FUZZ_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant of the API under test is a finding like a sanitizer report. */
#define FUZZ_CHECK(cond)                                                              \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

/* A scratch file for targets that parse files: created once per process as
 * $TMPDIR/sg-fuzz-<name>-XXXXXX.mp4 (its name in fuzz_file_path()) and removed at exit. */
static inline char *fuzz_file_path(void)
{
    static char path[4096];

    return path;
}

static inline void fuzz_file_cleanup(void)
{
    if (fuzz_file_path()[0])
        unlink(fuzz_file_path());
}

static inline int fuzz_file_open(const char *name)
{
    const char *dir = getenv("TMPDIR");
    int fd;

    if (!dir || !dir[0])
        dir = "/tmp";
    snprintf(fuzz_file_path(), 4096, "%s/sg-fuzz-%s-XXXXXX.mp4", dir, name);
    fd = mkstemps(fuzz_file_path(), 4);
    if (fd < 0) {
        fprintf(stderr, "fuzz_%s: cannot create %s: %s\n", name, fuzz_file_path(), strerror(errno));
        fuzz_file_path()[0] = 0;
        abort();
    }
    atexit(fuzz_file_cleanup);
    return fd;
}

/* Replaces the file's contents with data. */
static inline void fuzz_file_write(int fd, const uint8_t *data, size_t size)
{
    size_t done = 0;

    FUZZ_CHECK(ftruncate(fd, 0) == 0);
    while (done < size) {
        ssize_t w = pwrite(fd, data + done, size - done, (off_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        FUZZ_CHECK(w > 0);
        done += (size_t)w;
    }
}

#endif
