/* sg_sdp_parse on the input as it arrives in a DESCRIBE answer body: not NUL-terminated
 * (libFuzzer's buffer is exactly `size` bytes, so any read past the end is reported). */
#include <string.h>

#include "base/err.h"
#include "fuzz.h"
#include "ingest/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_sdp_track t;
    int r = sg_sdp_parse((const char *)data, size, &t);

    FUZZ_CHECK(r == 0 || r == SG_E_UNSUPPORTED || r == SG_E_PROTO);
    if (r == 0) {
        FUZZ_CHECK(t.codec == SG_CODEC_H264 || t.codec == SG_CODEC_H265);
        FUZZ_CHECK(t.params.codec == t.codec);
        FUZZ_CHECK(t.payload_type >= 0 && t.payload_type < 128);
        FUZZ_CHECK(t.clock_rate > 0 && t.clock_rate <= 1000000);
        FUZZ_CHECK(memchr(t.control, 0, sizeof(t.control)) != NULL);
        FUZZ_CHECK(t.params.vps_len <= SG_PS_MAX && t.params.sps_len <= SG_PS_MAX &&
                   t.params.pps_len <= SG_PS_MAX);
        if (t.params.sps_len)
            FUZZ_CHECK(t.params.width > 0 && t.params.width <= 16384 && t.params.height > 0 &&
                       t.params.height <= 16384);
    }
    return 0;
}
