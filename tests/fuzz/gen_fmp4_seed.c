/* Writes a small fragmented-MP4 segment with the recorder's own writer (record/fmp4.c), as a
 * seed for fuzz_scan:
 *   fuzz_gen_fmp4_seed IN.h264|IN.h265 OUT.mp4 FRAGMENTS [TORN_BYTES]
 * The parameter sets come from the Annex B file; the samples are a few placeholder bytes
 * each (sg_scan_file reads boxes, never sample data), so the seed stays tiny. TORN_BYTES cuts
 * that many bytes off the end, as a kill -9 in the middle of a writev would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "ingest/h26x.h"
#include "record/fmp4.h"

#define READ_MAX (256 * 1024) /* the parameter sets are at the start of the stream */
#define SAMPLES 3

static int load_params(const char *file, struct sg_codec_params *p)
{
    static uint8_t buf[READ_MAX];
    FILE *f = fopen(file, "rb");
    size_t len, pos = 0, nl;
    const uint8_t *nal;

    if (!f)
        return -1;
    len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    memset(p, 0, sizeof(*p));
    p->codec = strstr(file, ".h265") ? SG_CODEC_H265 : SG_CODEC_H264;
    while ((nal = sg_annexb_next(buf, len, &pos, &nl))) {
        int kind;
        if (nl < 2)
            continue;
        kind = sg_nal_param_kind(p->codec, sg_nal_type(p->codec, nal));
        if (kind && sg_params_store(p, kind, nal, nl) < 0)
            return -1;
        if (kind == 2 && sg_sps_parse(p->codec, nal, nl, p) < 0)
            return -1;
    }
    return p->sps_len && p->pps_len ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct sg_codec_params p;
    struct sg_buf b = { 0 };
    int64_t utc = 1700000000000000LL; /* 2023-11-14T22:13:20Z */
    uint64_t dts = 0;
    int frags, torn = 0;
    FILE *f;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s IN.h264|IN.h265 OUT.mp4 FRAGMENTS [TORN_BYTES]\n", argv[0]);
        return 2;
    }
    frags = atoi(argv[3]);
    if (argc == 5)
        torn = atoi(argv[4]);
    if (load_params(argv[1], &p) < 0) {
        fprintf(stderr, "%s: no usable parameter sets\n", argv[1]);
        return 1;
    }
    if (sg_fmp4_init_segment(&b, &p) < 0)
        return 1;
    for (int i = 0; i < frags; i++) {
        struct sg_fmp4_sample s[SAMPLES];
        uint8_t payload[SAMPLES * 8];
        for (int k = 0; k < SAMPLES; k++) {
            s[k].size = 8;
            s[k].duration = 3600; /* 25 fps */
            s[k].key = k == 0;
        }
        memset(payload, 0x11 * (i + 1), sizeof(payload));
        if (sg_fmp4_fragment_header(&b, (uint32_t)i + 1, dts, utc, s, SAMPLES, sizeof(payload)) < 0 ||
            sg_buf_append(&b, payload, sizeof(payload)) < 0)
            return 1;
        dts += SAMPLES * 3600;
        utc += SAMPLES * 40000;
    }
    if (torn < 0 || (size_t)torn > b.len)
        return 2;
    f = fopen(argv[2], "wb");
    if (!f || fwrite(b.data, 1, b.len - (size_t)torn, f) != b.len - (size_t)torn || fclose(f) != 0) {
        perror(argv[2]);
        return 1;
    }
    sg_buf_free(&b);
    return 0;
}
