/* H.264 / H.265 bitstream helpers: sg_sps_parse for both codecs on the whole input, then
 * sg_annexb_next over it, classifying every NAL unit for both codecs and parsing the SPS
 * units it finds (as the file source and the in-band parameter-set path do); and sg_au_refs
 * on the whole input as a length-prefixed access unit. */
#include <string.h>

#include "base/err.h"
#include "fuzz.h"
#include "ingest/h26x.h"

static void sps(int codec, const uint8_t *nal, size_t len)
{
    struct sg_codec_params p;
    int r;

    memset(&p, 0, sizeof(p));
    p.codec = codec;
    r = sg_sps_parse(codec, nal, len, &p);
    FUZZ_CHECK(r == 0 || r == SG_E_PROTO);
    if (r < 0)
        return;
    FUZZ_CHECK(p.width > 0 && p.width <= 16384 && p.height > 0 && p.height <= 16384);
    FUZZ_CHECK(p.chroma_format >= 0 && p.chroma_format <= 3);
    if (codec == SG_CODEC_H265) {
        FUZZ_CHECK(p.num_temporal_layers >= 1 && p.num_temporal_layers <= 7);
        FUZZ_CHECK(p.bit_depth_luma >= 8 && p.bit_depth_luma <= 16);
        FUZZ_CHECK(p.bit_depth_chroma >= 8 && p.bit_depth_chroma <= 16);
    }
}

static void classify(int codec, struct sg_codec_params *ps, const uint8_t *nal, size_t len)
{
    int type, kind;

    if (len < (codec == SG_CODEC_H265 ? 2u : 1u))
        return;
    type = sg_nal_type(codec, nal);
    (void)sg_nal_is_keyframe(codec, type);
    (void)sg_nal_is_vcl(codec, type);
    kind = sg_nal_param_kind(codec, type);
    FUZZ_CHECK(kind >= 0 && kind <= 3);
    if (kind) {
        int r = sg_params_store(ps, kind, nal, len);
        FUZZ_CHECK(r == 0 || r == 1 || (r == SG_E_TOOBIG && len > SG_PS_MAX));
        if (kind == 2)
            sps(codec, nal, len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sg_codec_params ps264, ps265; /* large: keep them off the stack */
    const uint8_t *nal;
    size_t pos = 0, nal_len;

    sps(SG_CODEC_H264, data, size);
    sps(SG_CODEC_H265, data, size);
    for (int codec = SG_CODEC_H264; codec <= SG_CODEC_H265; codec++) {
        int k = sg_au_refs(codec, data, size); /* the input as a length-prefixed AU */
        FUZZ_CHECK(k >= 0 && k <= (SG_AU_IDR | SG_AU_NONREF));
        FUZZ_CHECK(codec == SG_CODEC_H264 || !(k & SG_AU_NONREF));
        FUZZ_CHECK(k != (SG_AU_IDR | SG_AU_NONREF));
    }

    memset(&ps264, 0, sizeof(ps264));
    memset(&ps265, 0, sizeof(ps265));
    ps264.codec = SG_CODEC_H264;
    ps265.codec = SG_CODEC_H265;
    for (;;) {
        size_t prev = pos;
        nal = sg_annexb_next(data, size, &pos, &nal_len);
        if (!nal)
            break;
        FUZZ_CHECK(pos > prev); /* always makes progress */
        FUZZ_CHECK(pos <= size);
        FUZZ_CHECK(nal >= data + 3 && nal_len <= size && nal + nal_len <= data + size);
        FUZZ_CHECK(nal[-1] == 1 && nal[-2] == 0 && nal[-3] == 0);
        classify(SG_CODEC_H264, &ps264, nal, nal_len);
        classify(SG_CODEC_H265, &ps265, nal, nal_len);
    }
    return 0;
}
