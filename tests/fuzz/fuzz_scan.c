/* sg_scan_file, the fragmented-MP4 reader of crash recovery: the input is written to a
 * temporary file (created once per process under $TMPDIR, rewritten for every input, removed
 * at exit) and scanned. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "fuzz.h"
#include "record/record.h"

static int fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_scan sc;
    int r;

    if (fd < 0)
        fd = fuzz_file_open("scan");
    fuzz_file_write(fd, data, size);
    r = sg_scan_file(fuzz_file_path(), &sc);
    FUZZ_CHECK(r == 0 || r == SG_E_CORRUPT || r == -ENOMEM);
    FUZZ_CHECK(sc.file_bytes == (int64_t)size);
    if (r == 0) {
        FUZZ_CHECK(sc.valid_bytes > 0 && sc.valid_bytes <= sc.file_bytes);
        FUZZ_CHECK(sc.fragments >= 0);
        FUZZ_CHECK(sc.codec >= SG_CODEC_NONE && sc.codec <= SG_CODEC_H265);
    }
    return 0;
}
