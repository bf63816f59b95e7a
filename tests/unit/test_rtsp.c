/* URL policy, RTSP message parsing, digest auth, SDP and SPS parsing. */
#include <stdlib.h>

#include "base/err.h"
#include "ingest/h26x.h"
#include "ingest/rtsp.h"
#include "ingest/sdp.h"
#include "ingest/url.h"
#include "check.h"

static void test_url(void)
{
    struct sg_url u;
    char err[256], out[512];
    static const char *const refused[] = {
        "http://cam/x", "file:///etc/passwd", "exec:rm -rf /", "concat:a|b", "rtmp://x/y",
        "pipe:0", "/dev/video0", "rtsp://host/pa th", "rtsp://host/\x01", "rtsp://:554/x",
        "rtsp://host:0/x", "rtsp://host:99999/x", "rtsp://ho$t/x", "rtsp://[::1/x", "rtsp://[::1%0a]/x",
        "rtsp://[zz::1]/x",
        "rtsp://u%0d%0aX:y@host/x", "rtsp://u%22:p@host/", "", "RTSP", "udp://239.0.0.1:1234",
    };

    CHECK_EQ_INT(sg_url_parse("rtsp://admin:s%40cret@192.168.1.10:8554/Streaming/101", 0, &u, err, sizeof(err)), 0);
    CHECK_STR(u.user, "admin");
    CHECK_STR(u.pass, "s@cret");
    CHECK_STR(u.host, "192.168.1.10");
    CHECK_EQ_INT(u.port, 8554);
    CHECK_STR(u.path, "/Streaming/101");
    sg_url_format(&u, out, sizeof(out));
    CHECK_STR(out, "rtsp://192.168.1.10:8554/Streaming/101"); /* no credentials on the wire line */
    sg_url_redact("rtsp://admin:s%40cret@192.168.1.10:8554/x", out, sizeof(out));
    CHECK_STR(out, "rtsp://***@192.168.1.10:8554/x");
    CHECK_EQ_INT(sg_url_parse("rtsps://cam.example/live", 0, &u, err, sizeof(err)), 0);
    CHECK_EQ_INT(u.port, 322);
    CHECK_EQ_INT(sg_url_parse("rtsp://[fe80::1]:554/x?channel=1", 0, &u, err, sizeof(err)), 0);
    CHECK_STR(u.host, "fe80::1");
    CHECK_STR(u.path, "/x?channel=1");
    CHECK_EQ_INT(sg_url_parse("rtsp://host", 0, &u, err, sizeof(err)), 0);
    CHECK_STR(u.path, "/");
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        int r = sg_url_parse(refused[i], 0, &u, err, sizeof(err));
        CHECK_EQ_INT(r, SG_E_URL);
        CHECK(err[0] != 0);
    }
    sg_url_parse("http://cam/x", 0, &u, err, sizeof(err));
    CHECK(strstr(err, "scheme 'http' refused") != NULL);
    /* test mode: only file:///absolute .h264/.h265 */
    CHECK_EQ_INT(sg_url_parse("file:///media/sub.h264", 1, &u, err, sizeof(err)), 0);
    CHECK_EQ_INT(u.kind, SG_URL_FILE);
    CHECK_EQ_INT(sg_url_parse("file:///etc/passwd", 1, &u, err, sizeof(err)), SG_E_URL);
    CHECK_EQ_INT(sg_url_parse("file:///a/../b.h264", 1, &u, err, sizeof(err)), SG_E_URL);
    CHECK_EQ_INT(sg_url_parse("exec:/bin/sh", 1, &u, err, sizeof(err)), SG_E_URL);
}

static void test_rtsp_parse(void)
{
    struct sg_rtsp_msg m;
    const char *ok = "RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: 12345678;timeout=60\r\n"
                     "Content-Base: rtsp://h/x/\r\nContent-Length: 5\r\n\r\nv=0\r\nNEXT";
    long n;

    n = sg_rtsp_parse(ok, strlen(ok), &m);
    CHECK_EQ_INT(n, (long)strlen(ok) - 4);
    CHECK_EQ_INT(m.status, 200);
    CHECK_EQ_INT(m.cseq, 3);
    CHECK_STR(m.session, "12345678");
    CHECK_EQ_INT(m.session_timeout, 60);
    CHECK_STR(m.content_base, "rtsp://h/x/");
    CHECK_EQ_INT(m.content_length, 5);
    /* incomplete header, incomplete body */
    CHECK_EQ_INT(sg_rtsp_parse(ok, 20, &m), 0);
    CHECK_EQ_INT(sg_rtsp_parse(ok, strlen(ok) - 6, &m), 0);
    /* server request */
    n = sg_rtsp_parse("GET_PARAMETER rtsp://x RTSP/1.0\r\nCSeq: 9\r\n\r\n", 46, &m);
    CHECK(n > 0);
    CHECK(m.is_request);
    CHECK_STR(m.method, "GET_PARAMETER");
    /* hostile */
    CHECK_EQ_INT(sg_rtsp_parse("RTSP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n", 46, &m), SG_E_TOOBIG);
    CHECK_EQ_INT(sg_rtsp_parse("RTSP/1.0 2x0 OK\r\n\r\n", 19, &m), SG_E_PROTO);
    CHECK_EQ_INT(sg_rtsp_parse("RTSP/1.0 200 OK\r\nNoColon\r\n\r\n", 28, &m), SG_E_PROTO);
    CHECK_EQ_INT(sg_rtsp_parse("RTSP/1.0 200 OK\r\nCSeq: -1\r\n\r\n", 29, &m), SG_E_PROTO);
    {
        size_t big = SG_RTSP_MAX_HEADER + 100;
        char *junk = malloc(big);
        memset(junk, 'A', big);
        memcpy(junk, "RTSP/1.0 200 OK\r\n", 17);
        CHECK_EQ_INT(sg_rtsp_parse(junk, big, &m), SG_E_TOOBIG);
        free(junk);
    }
}

static void test_digest(void)
{
    struct sg_rtsp_msg m;
    struct sg_rtsp_auth a;
    char line[1024];
    const char *resp = "RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n"
                       "WWW-Authenticate: Basic realm=\"cam\"\r\n"
                       "WWW-Authenticate: Digest realm=\"testrealm@host.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"\r\n\r\n";

    CHECK(sg_rtsp_parse(resp, strlen(resp), &m) > 0);
    CHECK_EQ_INT(sg_rtsp_auth_from_challenge(&m, &a), 0);
    CHECK_EQ_INT(a.kind, 2);
    CHECK_EQ_INT(sg_rtsp_auth_header(&a, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", line,
                                     sizeof(line)), 0);
    /* no-qop digest; expected value computed independently with Python hashlib */
    CHECK(strstr(line, "response=\"670fd8c2df070c60b045671b8b24ff02\"") != NULL);
    CHECK(strstr(line, "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"") != NULL);
    memset(&a, 0, sizeof(a));
    a.kind = 1;
    sg_rtsp_auth_header(&a, "Aladdin", "open sesame", "DESCRIBE", "rtsp://x", line, sizeof(line));
    CHECK_STR(line, "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n");
}

static void test_sdp(void)
{
    struct sg_sdp_track t;
    const char *sdp =
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\n"
        "m=audio 0 RTP/AVP 0\r\na=control:trackID=9\r\n"
        "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
        "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z2QAHqy0BQF/y4CIAAADAAgAAAMBkHixdQ==,aO88sA==;profile-level-id=64001E\r\n"
        "a=control:trackID=1\r\n"
        "m=video 0 RTP/AVP 97\r\na=rtpmap:97 H265/90000\r\na=control:trackID=2\r\n";

    CHECK_EQ_INT(sg_sdp_parse(sdp, strlen(sdp), &t), 0);
    CHECK_EQ_INT(t.codec, SG_CODEC_H264);
    CHECK_EQ_INT(t.payload_type, 96);
    CHECK_STR(t.control, "trackID=1");
    CHECK_EQ_INT(t.media_sections, 3);
    CHECK(t.params.sps_len > 0);
    CHECK(t.params.pps_len > 0);
    CHECK_EQ_INT(t.params.width, 640);  /* what ffprobe reports for the same stream */
    CHECK_EQ_INT(t.params.height, 360);
    /* attribute order inside a section does not matter (Hikvision: a=control first), and a
     * non-H.264 video section (MJPEG) before it is skipped */
    {
        const char *hik =
            "v=0\r\ns=x\r\nm=video 0 RTP/AVP 26\r\na=control:trackID=5\r\na=rtpmap:26 JPEG/90000\r\n"
            "m=video 0 RTP/AVP 96\r\na=control:rtsp://10.0.0.5/Streaming/101/trackID=1\r\n"
            "a=fmtp:96 profile-level-id=64001E;packetization-mode=1;sprop-parameter-sets=Z2QAHqy0BQF/y4CIAAADAAgAAAMBkHixdQ==,aO88sA==\r\n"
            "a=rtpmap:96 H264/90000\r\n"
            "m=audio 0 RTP/AVP 8\r\na=control:trackID=2\r\n";
        CHECK_EQ_INT(sg_sdp_parse(hik, strlen(hik), &t), 0);
        CHECK_EQ_INT(t.codec, SG_CODEC_H264);
        CHECK_EQ_INT(t.payload_type, 96);
        CHECK_STR(t.control, "rtsp://10.0.0.5/Streaming/101/trackID=1");
        CHECK_EQ_INT(t.params.width, 640);
        CHECK_EQ_INT(t.media_sections, 3);
    }
    CHECK_EQ_INT(sg_sdp_parse("v=0\r\nm=audio 0 RTP/AVP 0\r\n", 26, &t), SG_E_UNSUPPORTED);
    CHECK_EQ_INT(sg_sdp_parse("", 0, &t), SG_E_UNSUPPORTED);
}

static void test_sps(void)
{
    /* 1920x1080 High profile SPS (x264), cropping 1088 -> 1080 */
    static const uint8_t sps1080[] = { 0x67, 0x64, 0x00, 0x28, 0xac, 0xb4, 0x03, 0xc0, 0x11, 0x3f,
                                       0x2e, 0x02, 0x20, 0x00, 0x00, 0x03, 0x00, 0x20, 0x00, 0x00,
                                       0x06, 0x41, 0xe3, 0x06, 0x54 };
    /* H.265 Main, 1920x1080 (x265), conformance window crops 1088 -> 1080 */
    static const uint8_t hevc1080[] = { 0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90,
                                        0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x78, 0xa0, 0x03,
                                        0xc0, 0x80, 0x11, 0x07, 0xcb, 0x96, 0xe9, 0x29, 0x30, 0xbc,
                                        0x05, 0xa0, 0x20, 0x00, 0x00, 0x03, 0x00, 0x20, 0x00, 0x00,
                                        0x03, 0x03, 0x21 };
    struct sg_codec_params p = { .codec = SG_CODEC_H264 };

    CHECK_EQ_INT(sg_sps_parse(SG_CODEC_H264, sps1080, sizeof(sps1080), &p), 0);
    CHECK_EQ_INT(p.width, 1920);
    CHECK_EQ_INT(p.height, 1080);
    CHECK(sg_sps_parse(SG_CODEC_H264, sps1080, 5, &p) < 0); /* truncated */
    p.codec = SG_CODEC_H265;
    CHECK_EQ_INT(sg_sps_parse(SG_CODEC_H265, hevc1080, sizeof(hevc1080), &p), 0);
    CHECK_EQ_INT(p.width, 1920);
    CHECK_EQ_INT(p.height, 1080);
    CHECK_EQ_INT(p.hevc_ptl[0], 0x01); /* Main profile */
    CHECK_EQ_INT(p.bit_depth_luma, 8);
    CHECK(sg_sps_parse(SG_CODEC_H265, hevc1080, 12, &p) < 0);
    CHECK(sg_sps_parse(SG_CODEC_H265, sps1080, 3, &p) < 0);
    CHECK_EQ_INT(sg_params_store(&p, 2, sps1080, sizeof(sps1080)), 1);
    CHECK_EQ_INT(sg_params_store(&p, 2, sps1080, sizeof(sps1080)), 0); /* same again */
    {
        static const uint8_t ab[] = { 0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5 };
        size_t pos = 0, len;
        const uint8_t *nal;
        int n = 0;
        while ((nal = sg_annexb_next(ab, sizeof(ab), &pos, &len))) {
            n++;
            if (n == 1) CHECK(nal[0] == 0x67 && len == 3);
            if (n == 2) CHECK(nal[0] == 0x68 && len == 2);
            if (n == 3) CHECK(nal[0] == 0x65 && len == 3);
        }
        CHECK_EQ_INT(n, 3);
    }
}

int main(void)
{
    test_url();
    test_rtsp_parse();
    test_digest();
    test_sdp();
    test_sps();
    return check_done("test_rtsp");
}
