/* Live video (fMP4 over one endless HTTP response, for Media Source Extensions) and JPEG
 * snapshots, both served from the live hub's memory: no disk, no transcoding. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "http/http_int.h"

#define LIVE_BLOCK (64 * 1024)
#define SNAPSHOT_MAX_FRAMES 60   /* decode at most this many frames after the keyframe */

struct live_resp {
    struct sg_http *srv;
    struct MHD_Connection *conn;
    struct sg_live_viewer *v;
    int64_t camera_id;
    int stream;
};

static void live_wake(void *opaque)
{
    struct live_resp *lr = opaque;

    MHD_resume_connection(lr->conn);
}

/* Called with the stream's lock held: a wake cannot come between parking and suspending. */
static void live_park(void *opaque)
{
    struct live_resp *lr = opaque;

    MHD_suspend_connection(lr->conn);
}

static ssize_t live_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct live_resp *lr = cls;
    ssize_t n;

    (void)pos;
    if (atomic_load(&lr->srv->stopping))
        return MHD_CONTENT_READER_END_OF_STREAM;
    n = sg_live_read(lr->v, (uint8_t *)buf, max, live_park, lr);
    if (n < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return n;
}

static void live_free(void *cls)
{
    struct live_resp *lr = cls;

    sg_live_leave(&lr->v);
    atomic_fetch_sub(&lr->srv->live_viewers, 1);
    sg_debug("http", lr->camera_id, "live %s viewer left", sg_stream_name(lr->stream));
    free(lr);
}

int sg_media_live(struct sg_req *r)
{
    struct live_resp *lr = calloc(1, sizeof(*lr));
    struct MHD_Response *resp;
    char codecs[32];
    int rc;

    if (!lr)
        return MHD_NO;
    lr->srv = r->srv;
    lr->conn = r->conn;
    lr->camera_id = r->id;
    lr->stream = r->stream;
    rc = sg_live_join(r->srv->live, r->id, r->stream, live_wake, lr, &lr->v, codecs, sizeof(codecs));
    if (rc < 0) {
        free(lr);
        if (rc == SG_E_NOTFOUND)
            return sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found",
                                  "the camera has no %s stream (or it is disabled)", sg_stream_name(r->stream));
        return sg_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                              "no live video now: the camera is offline or connecting");
    }
    atomic_fetch_add(&r->srv->live_viewers, 1);
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, LIVE_BLOCK, live_read, lr, live_free);
    if (!resp) {
        live_free(lr);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "video/mp4");
    MHD_add_response_header(resp, "X-Codecs", codecs);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Access-Control-Expose-Headers", "X-Codecs");
    sg_debug("http", r->id, "live %s viewer joined (%s)", sg_stream_name(r->stream), codecs);
    return sg_reply(r, MHD_HTTP_OK, resp);
}

/* Runs on a job thread (R_DEFER): decoding a GOP takes milliseconds to tens of them. */
int sg_media_snapshot(struct sg_req *r)
{
    struct sg_codec_params params;
    struct sg_live_au *frames = NULL;
    struct sg_snapshot_au *aus;
    struct sg_buf jpeg = { 0 };
    struct sg_camera cam;
    int64_t width, quality;
    int stream = -1, n, rc;
    const char *s = sg_query(r, "stream");

    if (sg_query_int(r, "width", 0, 0, 7680, &width) < 0 || sg_query_int(r, "quality", 80, 1, 100, &quality) < 0)
        return MHD_YES;
    if (s && (stream = sg_stream_parse(s)) < 0)
        return sg_reply_error(r, 400, "bad_request", "stream must be main or sub");
    if (stream < 0) { /* default: the sub stream when there is one (cheaper to decode) */
        stream = SG_STREAM_MAIN;
        if (sg_catalog_camera_get(r->cat, r->id, &cam) == 0 && cam.sub_url[0])
            stream = SG_STREAM_SUB;
    }
    n = sg_live_gop(r->srv->live, r->id, stream, SNAPSHOT_MAX_FRAMES, &params, &frames);
    if (n <= 0)
        return sg_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                              "no live picture now: the camera is offline or connecting");
    aus = calloc((size_t)n, sizeof(*aus));
    if (!aus)
        abort();
    for (int i = 0; i < n; i++)
        aus[i] = (struct sg_snapshot_au){ .data = frames[i].data, .size = frames[i].size };
    rc = sg_snapshot_jpeg(&params, aus, n, (int)quality, (int)width, &jpeg);
    free(aus);
    sg_live_gop_free(&frames, n);
    if (rc < 0) {
        sg_buf_free(&jpeg);
        return sg_reply_errno(r, rc, "snapshot");
    }
    return sg_reply_buf(r, MHD_HTTP_OK, "image/jpeg", &jpeg);
}
