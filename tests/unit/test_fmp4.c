/* The fMP4 writer against our own reader (scan.c): what we write, we can recover from a
 * torn tail. ffprobe checks the same files independently in the integration tests. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "record/fmp4.h"
#include "record/record.h"
#include "check.h"

int main(void)
{
    static const uint8_t sps[] = { 0x67, 0x64, 0x00, 0x1e, 0xac, 0xb4, 0x05, 0x01, 0x7f, 0xcb, 0x80,
                                   0x88, 0x00, 0x00, 0x03, 0x00, 0x08, 0x00, 0x00, 0x03, 0x01, 0x90,
                                   0x78, 0xb1, 0x75 };
    static const uint8_t pps[] = { 0x68, 0xef, 0x3c, 0xb0 };
    struct sg_codec_params p = { .codec = SG_CODEC_H264 };
    struct sg_buf b = { 0 };
    struct sg_fmp4_sample s[3] = { { 100, 3600, 1 }, { 50, 3600, 0 }, { 50, 3600, 0 } };
    uint8_t payload[200] = { 0 };
    char path[] = "/tmp/sg-fmp4-XXXXXX";
    struct sg_scan sc;
    int64_t t0 = 1795228200000000LL;
    int fd;
    size_t after_first;

    CHECK_EQ_INT(sg_sps_parse(SG_CODEC_H264, sps, sizeof(sps), &p), 0);
    memcpy(p.sps, sps, sizeof(sps));
    p.sps_len = sizeof(sps);
    memcpy(p.pps, pps, sizeof(pps));
    p.pps_len = sizeof(pps);
    CHECK_EQ_INT(sg_fmp4_init_segment(&b, &p), 0);
    CHECK(!memcmp(b.data + 4, "ftyp", 4));
    CHECK_EQ_INT(sg_fmp4_fragment_header(&b, 1, 0, t0, s, 3, 200), 0);
    sg_buf_append(&b, payload, 200);
    after_first = b.len;
    CHECK_EQ_INT(sg_fmp4_fragment_header(&b, 2, 10800, t0 + 120000, s, 3, 200), 0);
    sg_buf_append(&b, payload, 200);
    fd = mkstemp(path);
    CHECK(write(fd, b.data, b.len) == (ssize_t)b.len);
    close(fd);

    CHECK_EQ_INT(sg_scan_file(path, &sc), 0);
    CHECK_EQ_INT(sc.fragments, 2);
    CHECK_EQ_INT(sc.valid_bytes, (int64_t)b.len);
    CHECK_EQ_INT(sc.first_utc_us, t0);
    CHECK_EQ_INT(sc.duration_us, 240000);
    CHECK_EQ_INT(sc.codec, SG_CODEC_H264);
    CHECK_EQ_INT(sc.width, 640);
    CHECK_EQ_INT(sc.height, 360);

    /* torn tail: every cut inside the second fragment leaves exactly the first one */
    for (size_t cut = after_first + 1; cut < b.len; cut += 37) {
        CHECK_EQ_INT(truncate(path, (off_t)cut), 0);
        CHECK_EQ_INT(sg_scan_file(path, &sc), 0);
        CHECK_EQ_INT(sc.fragments, 1);
        CHECK_EQ_INT(sc.valid_bytes, (int64_t)after_first);
        CHECK_EQ_INT(sc.duration_us, 120000);
    }
    /* a file cut inside its moov is not a recording */
    CHECK_EQ_INT(truncate(path, 100), 0);
    CHECK(sg_scan_file(path, &sc) < 0);
    unlink(path);
    CHECK_EQ_INT(sg_utc_us_from_ntp(sg_ntp_from_utc_us(t0)), t0);
    sg_buf_free(&b);
    return check_done("test_fmp4");
}
