/* sg_scan_file, the fragmented-MP4 reader of crash recovery: the input is written to a
 * temporary file (created once per process under $TMPDIR, rewritten for every input, removed
 * at exit) and scanned. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "fuzz.h"
#include "record/record.h"

static char path[PATH_MAX];
static int fd = -1;

static void cleanup(void)
{
    if (path[0])
        unlink(path);
}

static void open_file(void)
{
    const char *dir = getenv("TMPDIR");

    if (!dir || !dir[0])
        dir = "/tmp";
    snprintf(path, sizeof(path), "%s/sg-fuzz-scan-XXXXXX.mp4", dir);
    fd = mkstemps(path, 4);
    if (fd < 0) {
        fprintf(stderr, "fuzz_scan: cannot create %s: %s\n", path, strerror(errno));
        path[0] = 0;
        abort();
    }
    atexit(cleanup);
}

static void write_file(const uint8_t *data, size_t size)
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_scan sc;
    int r;

    if (fd < 0)
        open_file();
    write_file(data, size);
    r = sg_scan_file(path, &sc);
    FUZZ_CHECK(r == 0 || r == SG_E_CORRUPT || r == -ENOMEM);
    FUZZ_CHECK(sc.file_bytes == (int64_t)size);
    if (r == 0) {
        FUZZ_CHECK(sc.valid_bytes > 0 && sc.valid_bytes <= sc.file_bytes);
        FUZZ_CHECK(sc.fragments >= 0);
        FUZZ_CHECK(sc.codec >= SG_CODEC_NONE && sc.codec <= SG_CODEC_H265);
    }
    return 0;
}
