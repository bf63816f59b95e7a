/* API: recordings (spans and gaps), video loss, HLS playback, segment byte ranges and MP4
 * download. Everything is read from the catalog and the recorded files; nothing is copied. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "http/http_int.h"

#define HOUR_US (3600 * SG_US_PER_SEC)
#define MAX_RANGE_US (31 * 24 * HOUR_US)      /* recordings/loss listing */
#define MAX_PLAYLIST_US (6 * HOUR_US)         /* one playlist (reloaded by players as needed) */
#define MAX_DOWNLOAD_US (6 * HOUR_US)
#define JOIN_US (500 * 1000LL)          /* segments closer than this form one span */

/* from/to query parameters with a default window ending now; replies 400 on bad input. */
static int time_window(struct sg_req *r, int64_t def_len, int64_t max_len, int64_t *from, int64_t *to)
{
    int64_t now = sg_utc_us();

    if (sg_query_time(r, "to", now, to) < 0 || sg_query_time(r, "from", *to - def_len, from) < 0)
        return -1;
    if (*from >= *to) {
        sg_reply_error(r, 400, "bad_request", "'from' must be before 'to'");
        return -1;
    }
    if (*to - *from > max_len) {
        sg_reply_error(r, 400, "range_too_large", "at most %lld hours per request",
                       (long long)(max_len / HOUR_US));
        return -1;
    }
    return 0;
}

static int stream_param(struct sg_req *r, int *stream)
{
    const char *s = sg_query(r, "stream");

    *stream = SG_STREAM_MAIN;
    if (!s)
        return 0;
    *stream = sg_stream_parse(s);
    if (*stream < 0) {
        sg_reply_error(r, 400, "bad_request", "stream must be main or sub");
        return -1;
    }
    return 0;
}

static int playable(const struct sg_segment *s)
{
    return s->status == SG_SEG_RECORDING || s->status == SG_SEG_COMPLETE;
}

/* Reason of the loss interval overlapping [a, b), if any. */
static const char *loss_reason(const struct sg_loss *l, int n, int stream, int64_t a, int64_t b)
{
    for (int i = 0; i < n; i++)
        if (l[i].stream == stream && l[i].start_us < b && (!l[i].end_us || l[i].end_us > a))
            return l[i].reason;
    return NULL;
}

int sg_api_recordings(struct sg_req *r)
{
    struct sg_segment *segs = NULL;
    struct sg_loss *loss = NULL;
    json_t *spans = json_array(), *gaps = json_array();
    int64_t from, to, cur_a = 0, cur_b = 0, covered = 0, live_end = 0;
    int stream, n, nl;

    if (time_window(r, 24 * HOUR_US, MAX_RANGE_US, &from, &to) < 0 || stream_param(r, &stream) < 0) {
        json_decref(spans);
        json_decref(gaps);
        return MHD_YES;
    }
    n = sg_catalog_segment_list(r->cat, r->id, stream, -1, from, to, &segs);
    nl = sg_catalog_loss_list(r->cat, r->id, from, to, &loss);
    if (n < 0 || nl < 0) {
        free(segs);
        free(loss);
        json_decref(spans);
        json_decref(gaps);
        return sg_reply_errno(r, n < 0 ? n : nl, "recordings");
    }
    /* The newest GOP of a stream being recorded reaches the catalog a second or two late:
     * while the stream is online, a span reaching the last half minute runs up to now. */
    {
        struct sg_live_info li;
        if (sg_live_info(r->srv->live, r->id, stream, &li) == 0 && li.state == SG_ST_ONLINE)
            live_end = to < sg_utc_us() ? to : sg_utc_us();
    }
    covered = from;
    for (int i = 0; i <= n; i++) {
        int last = i == n;
        int64_t a = 0, b = 0;
        if (!last) {
            if (!playable(&segs[i]))
                continue;
            a = segs[i].start_us > from ? segs[i].start_us : from;
            b = segs[i].end_us < to ? segs[i].end_us : to;
            if (b <= a)
                continue;
        }
        if (last && cur_b && live_end > cur_b && cur_b >= live_end - 30 * SG_US_PER_SEC)
            cur_b = live_end;
        if (cur_b && (last || a > cur_b + JOIN_US)) {
            json_array_append_new(spans, json_pack("{s:o,s:o}", "start", sg_json_time(cur_a), "end",
                                                   sg_json_time(cur_b)));
            if (cur_a > covered + JOIN_US) {
                const char *why = loss_reason(loss, nl, stream, covered, cur_a);
                json_array_append_new(gaps, json_pack("{s:o,s:o,s:o}", "start", sg_json_time(covered),
                                                      "end", sg_json_time(cur_a), "reason",
                                                      why ? json_string(why) : json_null()));
            }
            covered = cur_b;
            cur_b = 0;
        }
        if (last)
            break;
        if (!cur_b)
            cur_a = a;
        if (b > cur_b)
            cur_b = b;
    }
    if (to > covered + JOIN_US) {
        int64_t end = to < sg_utc_us() ? to : sg_utc_us();
        if (end > covered + JOIN_US) {
            const char *why = loss_reason(loss, nl, stream, covered, end);
            json_array_append_new(gaps, json_pack("{s:o,s:o,s:o}", "start", sg_json_time(covered), "end",
                                                  sg_json_time(end), "reason",
                                                  why ? json_string(why) : json_null()));
        }
    }
    free(segs);
    free(loss);
    return sg_reply_json(r, MHD_HTTP_OK,
                         json_pack("{s:I,s:s,s:o,s:o,s:o,s:o}", "camera_id", (json_int_t)r->id, "stream",
                                   sg_stream_name(stream), "from", sg_json_time(from), "to",
                                   sg_json_time(to), "spans", spans, "gaps", gaps));
}

int sg_api_loss(struct sg_req *r)
{
    struct sg_loss *loss = NULL;
    json_t *arr;
    int64_t from, to;
    int n;

    if (time_window(r, 24 * HOUR_US, MAX_RANGE_US, &from, &to) < 0)
        return MHD_YES;
    if ((n = sg_catalog_loss_list(r->cat, r->id, from, to, &loss)) < 0)
        return sg_reply_errno(r, n, "video loss");
    arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:I,s:s,s:o,s:o,s:s}", "id", (json_int_t)loss[i].id,
                                             "stream", sg_stream_name(loss[i].stream), "start",
                                             sg_json_time(loss[i].start_us), "end",
                                             sg_json_time(loss[i].end_us), "reason", loss[i].reason));
    free(loss);
    return sg_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "loss", arr));
}

/* Loads the fragment index of every playable segment in segs (idx[i] zeroed when a file is
 * unreadable: it is skipped, and logged). */
static void load_indexes(struct sg_req *r, const struct sg_segment *segs, int n, struct sg_frag_index *idx)
{
    for (int i = 0; i < n; i++) {
        char abs[PATH_MAX];
        int rc;
        memset(&idx[i], 0, sizeof(idx[i]));
        if (!playable(&segs[i]))
            continue;
        if ((rc = sg_http_segment_path(r->srv, &segs[i], abs)) < 0) {
            sg_warn("http", r->id, "segment %" PRId64 " unreadable: %s", segs[i].id, sg_strerror(rc));
            continue;
        }
        if ((rc = sg_frag_cache_get(r->srv->frags, segs[i].id, abs, &idx[i])) < 0)
            sg_warn("http", r->id, "segment %" PRId64 " not indexable: %s", segs[i].id, sg_strerror(rc));
    }
}

/* Audits a look at recorded footage: camera, stream and the UTC range (to 0 = open end). */
static void audit_range(struct sg_req *r, const char *action, int stream, int64_t from, int64_t to)
{
    char a[40], b[40], what[96];

    sg_utc_format(from, 3, a, sizeof(a));
    if (to)
        sg_utc_format(to, 3, b, sizeof(b));
    else
        snprintf(b, sizeof(b), "open");
    snprintf(what, sizeof(what), "%s %s/%s", sg_stream_name(stream), a, b);
    sg_http_audit(r, action, "ok", r->id, what, NULL);
}

int sg_media_playlist(struct sg_req *r)
{
    struct sg_segment *segs = NULL;
    struct sg_frag_index *idx;
    struct sg_hls_item *items;
    struct sg_buf out = { 0 };
    char uri[128];
    int64_t from, to, now = sg_utc_us();
    int n, m = 0, rc;
    struct sg_hls_opts o = { .uri_fmt = uri, .gap_us = JOIN_US };

    if (time_window(r, HOUR_US, MAX_PLAYLIST_US, &from, &to) < 0)
        return MHD_YES;
    if ((n = sg_catalog_segment_list(r->cat, r->id, r->stream, -1, from, to, &segs)) < 0)
        return sg_reply_errno(r, n, "recordings");
    idx = calloc((size_t)n + 1, sizeof(*idx));
    items = calloc((size_t)n + 1, sizeof(*items));
    if (!idx || !items)
        abort();
    load_indexes(r, segs, n, idx);
    for (int i = 0; i < n; i++)
        if (idx[i].n)
            items[m++] = (struct sg_hls_item){ .segment_id = segs[i].id, .start_us = segs[i].start_us,
                                               .end_us = segs[i].end_us, .idx = &idx[i] };
    snprintf(uri, sizeof(uri), "/api/v1/cameras/%" PRId64 "/segments/%%lld.mp4", r->id);
    o.from_us = from;
    o.to_us = to;
    /* Open-ended (no 'to', or 'to' not yet reached): the playlist may still grow, so EVENT
     * without ENDLIST and players reload it. An explicit past 'to' is a finished VOD list. */
    o.live_edge = !sg_query(r, "to") || to >= now;
    rc = sg_hls_playlist(&out, items, m, &o);
    for (int i = 0; i < n; i++)
        sg_frag_index_free(&idx[i]);
    free(idx);
    free(items);
    free(segs);
    if (rc < 0) {
        sg_buf_free(&out);
        return sg_reply_errno(r, rc, "playlist");
    }
    audit_range(r, "playback", r->stream, from, o.live_edge ? 0 : to);
    return sg_reply_buf(r, MHD_HTTP_OK, "application/vnd.apple.mpegurl", &out);
}

int sg_media_segment(struct sg_req *r)
{
    struct sg_segment seg;
    struct stat st;
    struct MHD_Response *resp;
    char abs[PATH_MAX], cr[96];
    int64_t off = 0, len;
    int fd, rc, ranged;

    rc = sg_catalog_segment_get(r->cat, r->segment, &seg);
    /* Another camera's segment answers exactly like a missing one. */
    if (rc == SG_E_NOTFOUND || (rc == 0 && (seg.camera_id != r->id || !playable(&seg))))
        return sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such segment");
    if (rc < 0)
        return sg_reply_errno(r, rc, "segment");
    if (sg_http_segment_path(r->srv, &seg, abs) < 0 || (fd = open(abs, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "segment file not available");
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "segment file not available");
    }
    len = st.st_size;
    ranged = sg_http_parse_range(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Range"), st.st_size,
                         &off, &len);
    if (ranged < 0) {
        close(fd);
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        snprintf(cr, sizeof(cr), "bytes */%lld", (long long)st.st_size);
        MHD_add_response_header(resp, "Content-Range", cr);
        return sg_reply(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp);
    }
    resp = MHD_create_response_from_fd_at_offset64((uint64_t)len, fd, (uint64_t)off);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "video/mp4");
    MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    /* A complete segment never changes; one being recorded only grows. */
    MHD_add_response_header(resp, "Cache-Control",
                            seg.status == SG_SEG_COMPLETE ? "private, max-age=86400, immutable" : "no-store");
    if (ranged) {
        snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long)off, (long long)(off + len - 1),
                 (long long)st.st_size);
        MHD_add_response_header(resp, "Content-Range", cr);
    }
    return sg_reply(r, ranged ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK, resp);
}

/* Runs on a job thread (R_DEFER). The MP4 is remuxed into an unlinked temporary file under
 * the first storage root (exports can be large: not memory, not a tmpfs) and sent from it. */
int sg_media_download(struct sg_req *r)
{
    struct sg_segment *segs = NULL;
    struct sg_export_src *src;
    struct sg_export_info info;
    struct MHD_Response *resp;
    char (*paths)[PATH_MAX];
    char tmpdir[PATH_MAX], tmp[PATH_MAX], disp[160], a[40], b[40];
    int64_t from, to;
    int stream, n, m = 0, rc, fd = -1;

    if (time_window(r, 5 * 60 * SG_US_PER_SEC, MAX_DOWNLOAD_US, &from, &to) < 0 ||
        stream_param(r, &stream) < 0)
        return MHD_YES;
    if (!sg_query(r, "from") || !sg_query(r, "to"))
        return sg_reply_error(r, 400, "bad_request", "from and to are required");
    if ((n = sg_catalog_segment_list(r->cat, r->id, stream, -1, from, to, &segs)) < 0)
        return sg_reply_errno(r, n, "recordings");
    src = calloc((size_t)n + 1, sizeof(*src));
    paths = calloc((size_t)n + 1, sizeof(*paths));
    if (!src || !paths)
        abort();
    for (int i = 0; i < n; i++) {
        if (!playable(&segs[i]) || sg_http_segment_path(r->srv, &segs[i], paths[m]) < 0)
            continue;
        src[m] = (struct sg_export_src){ .path = paths[m], .start_us = segs[i].start_us,
                                         .end_us = segs[i].end_us };
        m++;
    }
    free(segs);
    rc = SG_E_NOTFOUND;
    if (m && sg_path_join(r->srv->cfg->storage_roots[0], ".export", tmpdir, sizeof(tmpdir)) == 0 &&
        (mkdir(tmpdir, 0700) == 0 || errno == EEXIST) &&
        snprintf(tmp, sizeof(tmp), "%s/dl-%" PRId64 "-%lld.mp4", tmpdir, r->id,
                 (long long)sg_mono_ns()) < (int)sizeof(tmp))
        rc = sg_export_mp4(src, m, from, to, tmp, &info);
    free(src);
    free(paths);
    if (rc == SG_E_NOTFOUND)
        return sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "nothing recorded in that range");
    if (rc < 0)
        return sg_reply_errno(r, rc, "download");
    fd = open(tmp, O_RDONLY | O_CLOEXEC);
    unlink(tmp); /* the open descriptor keeps the data until the response is done */
    if (fd < 0)
        return sg_reply_errno(r, -errno, "download");
    resp = MHD_create_response_from_fd_at_offset64((uint64_t)info.bytes, fd, 0);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    sg_utc_format_compact(info.first_utc_us, a, sizeof(a));
    sg_utc_format_compact(info.last_utc_us, b, sizeof(b));
    snprintf(disp, sizeof(disp), "attachment; filename=\"camera%" PRId64 "-%s-%s-%s.mp4\"", r->id,
             sg_stream_name(stream), a, b);
    MHD_add_response_header(resp, "Content-Type", "video/mp4");
    MHD_add_response_header(resp, "Content-Disposition", disp);
    sg_utc_format(info.first_utc_us, 3, a, sizeof(a));
    sg_utc_format(info.last_utc_us, 3, b, sizeof(b));
    MHD_add_response_header(resp, "X-Sargas-First-Frame", a);
    MHD_add_response_header(resp, "X-Sargas-Last-Frame", b);
    snprintf(a, sizeof(a), "%d", info.gaps);
    MHD_add_response_header(resp, "X-Sargas-Gaps", a);
    audit_range(r, "download", stream, info.first_utc_us, info.last_utc_us);
    return sg_reply(r, MHD_HTTP_OK, resp);
}
