/* HLS (RFC 8216) media playlists over recorded files: every fragment is a media segment given
 * as a byte range of its file, every file's ftyp+moov is its EXT-X-MAP. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "playback/playback.h"
#include "record/fmp4.h"

#define URI_MAX 1024

/* Expands uri_fmt (exactly one "%lld" and no other '%'; not from the client, but it is put
 * inside a quoted attribute, so '"' and line breaks are refused). */
static int make_uri(const char *fmt, int64_t id, char *out, size_t n)
{
    const char *at = strstr(fmt, "%lld");
    int w;

    if (!at || strchr(at + 4, '%') || memchr(fmt, '%', (size_t)(at - fmt)) ||
        strpbrk(fmt, "\"\r\n"))
        return -EINVAL;
    w = snprintf(out, n, "%.*s%" PRId64 "%s", (int)(at - fmt), fmt, id, at + 4);
    return w > 0 && (size_t)w < n ? 0 : -ENOSPC;
}

static int listed(const struct sg_frag *f, const struct sg_hls_opts *o)
{
    return f->utc_us < o->to_us && sg_frag_end_us(f) > o->from_us;
}

/* A fragment's duration in milliseconds, as printed in EXTINF. */
static int64_t frag_ms(const struct sg_frag *f)
{
    return (f->duration * 1000 + SG_FMP4_TIMESCALE / 2) / SG_FMP4_TIMESCALE;
}

static int header(struct sg_buf *out, const struct sg_hls_item *items, int n,
                  const struct sg_hls_opts *o)
{
    int64_t max_ms = 0;
    char line[256];
    int w;

    for (int i = 0; i < n; i++)
        for (int j = 0; items[i].idx && j < items[i].idx->n; j++)
            if (listed(&items[i].idx->frags[j], o) && frag_ms(&items[i].idx->frags[j]) > max_ms)
                max_ms = frag_ms(&items[i].idx->frags[j]);
    w = snprintf(line, sizeof(line),
                 "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%lld\n"
                 "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:%s\n#EXT-X-INDEPENDENT-SEGMENTS\n",
                 (long long)(max_ms > 0 ? (max_ms + 999) / 1000 : 1),
                 o->live_edge ? "EVENT" : "VOD");
    return sg_buf_append(out, line, (size_t)w);
}

/* The lines of one fragment, with the tags that go before it. */
static int fragment(struct sg_buf *out, const char *uri, const struct sg_frag_index *idx,
                    const struct sg_frag *f, int first_of_file, int discontinuity)
{
    char line[2 * URI_MAX + 512], pdt[SG_UTC_STRLEN]; /* room for every line below */
    int64_t ms = frag_ms(f);
    int w = 0, r;

    if (discontinuity)
        w += snprintf(line + w, sizeof(line) - (size_t)w, "#EXT-X-DISCONTINUITY\n");
    if (first_of_file)
        w += snprintf(line + w, sizeof(line) - (size_t)w, "#EXT-X-MAP:URI=\"%s\",BYTERANGE=\"%lld@0\"\n",
                      uri, (long long)idx->init_size);
    if (first_of_file || discontinuity) {
        if ((r = sg_utc_format(f->utc_us, 3, pdt, sizeof(pdt))) < 0)
            return r;
        w += snprintf(line + w, sizeof(line) - (size_t)w, "#EXT-X-PROGRAM-DATE-TIME:%s\n", pdt);
    }
    w += snprintf(line + w, sizeof(line) - (size_t)w, "#EXTINF:%lld.%03lld,\n#EXT-X-BYTERANGE:%lld@%lld\n%s\n",
                  (long long)(ms / 1000), (long long)(ms % 1000), (long long)f->size,
                  (long long)f->offset, uri);
    if (w < 0 || (size_t)w >= sizeof(line))
        return -ENOSPC;
    return sg_buf_append(out, line, (size_t)w);
}

int sg_hls_playlist(struct sg_buf *out, const struct sg_hls_item *items, int n,
                    const struct sg_hls_opts *o)
{
    char uri[URI_MAX];
    const struct sg_frag *prev = NULL;
    size_t start = out->len;
    int count = 0, r;

    if (n < 0 || (n > 0 && !items) || !o->uri_fmt)
        return -EINVAL;
    if ((r = header(out, items, n, o)) < 0)
        goto fail;
    for (int i = 0; i < n; i++) {
        const struct sg_frag_index *idx = items[i].idx;
        int first_of_file = 1;

        if (!idx)
            continue;
        if ((r = make_uri(o->uri_fmt, items[i].segment_id, uri, sizeof(uri))) < 0)
            goto fail;
        for (int j = 0; j < idx->n; j++) {
            const struct sg_frag *f = &idx->frags[j];
            /* each file has its own tfdt timeline; a hole is a discontinuity too */
            int disc = prev && (first_of_file || f->utc_us - sg_frag_end_us(prev) > o->gap_us);
            if (!listed(f, o))
                continue;
            if ((r = fragment(out, uri, idx, f, first_of_file, disc)) < 0)
                goto fail;
            first_of_file = 0;
            prev = f;
            count++;
        }
    }
    if (!o->live_edge && (r = sg_buf_append(out, "#EXT-X-ENDLIST\n", 15)) < 0)
        goto fail;
    return count;
fail:
    out->len = start;
    return r;
}
