/* Test media for the playback and export tests (media_fixture.h). */
#include "media_fixture.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record/fmp4.h"

#ifndef SG_TEST_MEDIA_DIR
#define SG_TEST_MEDIA_DIR "build/media"
#endif

void media_free(struct media *m)
{
    for (int i = 0; i < m->n; i++)
        free(m->aus[i].data);
    free(m->aus);
    memset(m, 0, sizeof(*m));
}

int media_load(const char *name, size_t max_bytes, struct media *m)
{
    const char *dir = getenv("SG_MEDIA_DIR");
    char path[4096];
    uint8_t *buf = malloc(max_bytes);
    struct sg_buf cur = { 0 };
    size_t len, pos = 0, nl;
    const uint8_t *nal;
    int key = 0;
    FILE *f;

    memset(m, 0, sizeof(*m));
    snprintf(path, sizeof(path), "%s/%s", dir && dir[0] ? dir : SG_TEST_MEDIA_DIR, name);
    if (!buf || !(f = fopen(path, "rb"))) {
        free(buf);
        return -1;
    }
    len = fread(buf, 1, max_bytes, f);
    fclose(f);
    m->p.codec = strstr(name, ".h265") ? SG_CODEC_H265 : SG_CODEC_H264;
    if (!(m->aus = calloc(len / 64 + 1, sizeof(*m->aus)))) {
        free(buf);
        return -1;
    }
    while ((nal = sg_annexb_next(buf, len, &pos, &nl))) {
        int type = sg_nal_type(m->p.codec, nal), kind = sg_nal_param_kind(m->p.codec, type);
        if (kind) { /* repeated before every IDR, identical */
            sg_params_store(&m->p, kind, nal, nl);
            if (kind == 2)
                sg_sps_parse(m->p.codec, nal, nl, &m->p);
        }
        sg_buf_put_u32(&cur, (uint32_t)nl);
        sg_buf_append(&cur, nal, nl);
        key |= sg_nal_is_keyframe(m->p.codec, type);
        if (sg_nal_is_vcl(m->p.codec, type)) {
            m->aus[m->n++] = (struct au){ cur.data, cur.len, key };
            memset(&cur, 0, sizeof(cur));
            key = 0;
        }
    }
    sg_buf_free(&cur);
    free(buf);
    if (m->n > 0)
        free(m->aus[--m->n].data); /* may be cut by max_bytes */
    return m->n > 0 && m->aus[0].key ? 0 : -1;
}

int media_first_au(const struct media *m, int i)
{
    return (i * GOP) % (m->n - m->n % GOP);
}

int media_add_frag(struct sg_buf *b, const struct media *m, int first, uint32_t seq, uint64_t dts,
                   int64_t utc)
{
    struct sg_fmp4_sample s[GOP];
    uint64_t payload = 0;
    int r;

    for (int i = 0; i < GOP; i++) {
        s[i] = (struct sg_fmp4_sample){ (uint32_t)m->aus[first + i].size, FRAME_TICKS, m->aus[first + i].key };
        payload += s[i].size;
    }
    if ((r = sg_fmp4_fragment_header(b, seq, dts, utc, s, GOP, payload)) < 0)
        return r;
    for (int i = 0; i < GOP; i++)
        sg_buf_append(b, m->aus[first + i].data, m->aus[first + i].size);
    return 0;
}

int media_segment(const struct media *m, const int64_t *starts, int n, struct sg_buf *out)
{
    int r;

    memset(out, 0, sizeof(*out));
    if ((r = sg_fmp4_init_segment(out, &m->p)) < 0)
        return r;
    for (int i = 0; i < n; i++)
        if ((r = media_add_frag(out, m, media_first_au(m, i), (uint32_t)i + 1, (uint64_t)i * GOP * FRAME_TICKS,
                                starts[i])) < 0)
            return r;
    return 0;
}

int media_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ssize_t w;

    if (fd < 0)
        return -1;
    w = write(fd, data, len);
    close(fd);
    return w == (ssize_t)len ? 0 : -1;
}
