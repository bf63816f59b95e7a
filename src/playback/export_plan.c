/* Planning an export: which fragments of which recorded files a time range covers. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "playback/export_int.h"

static int plan_source(const struct sg_export_src *s, int64_t from_us, int64_t to_us,
                       struct sg_export_plan *p)
{
    struct stat st;
    int r;

    p->first = 0;
    p->last = -1;
    if ((p->fd = open(s->path, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    if (fstat(p->fd, &st) < 0)
        return -errno;
    if ((r = sg_frag_index_update(p->fd, st.st_size, &p->idx)) < 0)
        return r;
    /* from the fragment holding from_us (it starts with a keyframe) to the last starting
     * before to_us */
    for (int i = 0; i < p->idx.n; i++) {
        const struct sg_frag *f = &p->idx.frags[i];
        if (sg_frag_end_us(f) <= from_us)
            p->first = i + 1;
        else if (f->utc_us < to_us)
            p->last = i;
    }
    return 0;
}

void sg_export_plan_free(struct sg_export_plan **pp, int n)
{
    struct sg_export_plan *p = pp ? *pp : NULL;

    for (int i = 0; p && i < n; i++) {
        if (p[i].fd >= 0)
            close(p[i].fd);
        sg_frag_index_free(&p[i].idx);
    }
    free(p);
    if (pp)
        *pp = NULL;
}

int sg_export_plan(const struct sg_export_src *src, int n, int64_t from_us, int64_t to_us,
                   struct sg_export_plan **out, int *ref)
{
    struct sg_export_plan *p = calloc(n > 0 ? (size_t)n : 1, sizeof(*p));
    int r = 0;

    *out = NULL;
    *ref = -1;
    if (!p)
        return -ENOMEM;
    for (int i = 0; i < n; i++)
        p[i].fd = -1;
    for (int i = 0; i < n; i++) {
        if ((r = plan_source(&src[i], from_us, to_us, &p[i])) < 0)
            goto fail;
        if (p[i].first > p[i].last)
            continue;
        if (*ref < 0) {
            *ref = i;
            continue;
        }
        if (p[i].idx.codec != p[*ref].idx.codec || p[i].idx.config_len != p[*ref].idx.config_len ||
            memcmp(p[i].idx.config, p[*ref].idx.config, p[i].idx.config_len)) {
            r = SG_E_UNSUPPORTED;
            goto fail;
        }
    }
    *out = p;
    return 0;
fail:
    sg_export_plan_free(&p, n);
    *ref = -1;
    return r;
}
