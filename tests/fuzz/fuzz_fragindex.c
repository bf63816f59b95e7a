/* sg_frag_index_update and sg_frag_read, the playback reader of segment files (which may be
 * torn or hostile): the input is written to a temporary file (created once per process under
 * $TMPDIR, rewritten for every input, removed at exit), indexed in two steps (a prefix, then
 * the whole file, as a file being recorded grows), and every indexed fragment is read back. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "fuzz.h"
#include "playback/playback.h"

static int fd = -1;

static void check_index(const struct sg_frag_index *idx, int64_t size)
{
    FUZZ_CHECK(idx->scanned_to >= idx->init_size && idx->scanned_to <= size);
    for (int i = 0; i < idx->n; i++) {
        const struct sg_frag *f = &idx->frags[i];
        struct sg_frag_data d;
        int r;
        FUZZ_CHECK(f->offset >= idx->init_size && f->size > 0 && f->offset + f->size <= size);
        FUZZ_CHECK(i == 0 || f->offset >= idx->frags[i - 1].offset + idx->frags[i - 1].size);
        FUZZ_CHECK(f->samples > 0 && f->duration >= 0 && f->dts >= 0);
        r = sg_frag_read(fd, f, 1 << 20, &d);
        FUZZ_CHECK(r == 0); /* the index only lists fragments that read back */
        FUZZ_CHECK(d.n == f->samples);
        for (int k = 0; k < d.n; k++)
            FUZZ_CHECK(d.s[k].data >= d.buf && d.s[k].data + d.s[k].size <= d.buf + d.len);
        sg_frag_data_free(&d);
    }
    if (idx->n > 0) {
        int k = sg_frag_index_find(idx, idx->frags[idx->n - 1].utc_us);
        FUZZ_CHECK(k >= 0 && k < idx->n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_frag_index idx = { 0 };
    struct sg_codec_params p;
    int64_t half = (int64_t)size / 2;
    int r;

    if (fd < 0)
        fd = fuzz_file_open("fragindex");
    fuzz_file_write(fd, data, size);
    /* a prefix first (the file as it was a moment ago), then the rest incrementally */
    r = sg_frag_index_update(fd, half, &idx);
    FUZZ_CHECK(r == 0 || r == SG_E_CORRUPT || r == SG_E_UNSUPPORTED || r == -ENOMEM);
    if (r == 0) {
        check_index(&idx, half);
        r = sg_frag_index_update(fd, (int64_t)size, &idx);
        FUZZ_CHECK(r == 0 || r == -ENOMEM);
    } else {
        sg_frag_index_free(&idx);
        r = sg_frag_index_update(fd, (int64_t)size, &idx);
        FUZZ_CHECK(r == 0 || r == SG_E_CORRUPT || r == SG_E_UNSUPPORTED || r == -ENOMEM);
    }
    if (r == 0) {
        check_index(&idx, (int64_t)size);
        FUZZ_CHECK(idx.codec == SG_CODEC_H264 || idx.codec == SG_CODEC_H265);
        FUZZ_CHECK(memchr(idx.rfc6381, 0, sizeof(idx.rfc6381)) != NULL);
        r = sg_frag_index_params(&idx, &p); /* any code, no crash */
        (void)r;
    }
    sg_frag_index_free(&idx);
    return 0;
}
