/* tools/fakecam: loading and splitting the test media, building the SEI. */
#include "media.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_SIZE (1024u * 1024u * 1024u)

static const uint8_t sei_uuid[16] = "SARGAS-FAKECAM-1";

/* Start of the next start code (00 00 01) at or after pos, or size. */
static size_t find_start_code(const uint8_t *d, size_t size, size_t pos)
{
    while (pos + 3 <= size) {
        if (d[pos + 2] > 1) {
            pos += 3;
        } else if (d[pos] == 0 && d[pos + 1] == 0 && d[pos + 2] == 1) {
            return pos;
        } else {
            pos++;
        }
    }
    return size;
}

struct nal_class {
    int vcl;
    int first_slice; /* VCL and the first slice of its picture */
    int idr;
    int prefix;      /* a non-VCL NAL that may begin an access unit */
};

static void classify(enum fc_codec codec, const uint8_t *nal, size_t len,
                     struct nal_class *c)
{
    memset(c, 0, sizeof(*c));
    if (codec == FC_H264) {
        int t = nal[0] & 0x1f;
        c->vcl = t >= 1 && t <= 5;
        c->idr = t == 5;
        /* first_mb_in_slice == 0 is ue(v) "1" */
        c->first_slice = c->vcl && len > 1 && (nal[1] & 0x80);
        c->prefix = t == 6 || t == 7 || t == 8 || t == 9 || (t >= 14 && t <= 18);
    } else {
        int t = (nal[0] >> 1) & 0x3f;
        c->vcl = t <= 31;
        c->idr = t == 19 || t == 20;
        /* first_slice_segment_in_pic_flag */
        c->first_slice = c->vcl && len > 2 && (nal[2] & 0x80);
        c->prefix = (t >= 32 && t <= 35) || t == 39 || (t >= 41 && t <= 44) ||
                    (t >= 48 && t <= 55);
    }
}

int fc_annexb_split(const uint8_t *data, size_t size, enum fc_codec codec,
                    struct fc_au **aus_out, size_t *n_out)
{
    struct fc_au *aus = NULL;
    size_t n = 0, cap = 0;
    size_t pending = SIZE_MAX; /* first prefix non-VCL NAL since the last VCL */
    size_t sc = find_start_code(data, size, 0);

    while (sc < size) {
        size_t hdr = sc + 3;
        size_t next = find_start_code(data, size, hdr);
        size_t begin = sc > 0 && data[sc - 1] == 0 ? sc - 1 : sc; /* 4-byte form */
        size_t end = next;
        struct nal_class c;

        /* the zero of a following 4-byte start code is not part of this NAL */
        if (next < size && next > hdr && data[next - 1] == 0)
            end = next - 1;
        if (end > hdr) {
            classify(codec, data + hdr, end - hdr, &c);
            if (c.first_slice) {
                size_t start = pending != SIZE_MAX ? pending : begin;
                if (n == cap) {
                    size_t ncap = cap ? cap * 2 : 1024;
                    struct fc_au *t = realloc(aus, ncap * sizeof(*aus));
                    if (!t)
                        goto nomem;
                    aus = t;
                    cap = ncap;
                }
                if (n > 0)
                    aus[n - 1].len = start - aus[n - 1].off;
                aus[n].off = start;
                aus[n].len = 0;
                aus[n].slice_off = begin - start;
                aus[n].idr = c.idr;
                n++;
            }
            if (c.vcl)
                pending = SIZE_MAX;
            else if (c.prefix && pending == SIZE_MAX)
                pending = begin;
        }
        sc = next;
    }
    if (n == 0) {
        free(aus);
        return -EINVAL;
    }
    aus[n - 1].len = size - aus[n - 1].off;
    *aus_out = aus;
    *n_out = n;
    return 0;

nomem:
    free(aus);
    return -ENOMEM;
}

static int read_file(const char *path, uint8_t **data, size_t *size)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t got = 0;
    int ret;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        ret = -errno;
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > MAX_FILE_SIZE) {
        ret = -EINVAL;
        goto fail;
    }
    buf = malloc((size_t)st.st_size);
    if (!buf) {
        ret = -ENOMEM;
        goto fail;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            ret = r < 0 ? -errno : -EIO;
            goto fail;
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *size = got;
    return 0;

fail:
    free(buf);
    close(fd);
    return ret;
}

/* frames access units (0: any positive multiple of gop), an IDR exactly every gop */
static int check_media(const struct fc_media *m, size_t frames, size_t gop)
{
    if (frames == 0 && (m->n_aus == 0 || m->n_aus % gop != 0)) {
        fprintf(stderr, "fakecam: %s: %zu access units, expected a multiple of %zu\n",
                m->path, m->n_aus, gop);
        return -EINVAL;
    }
    if (frames != 0 && m->n_aus != frames) {
        fprintf(stderr, "fakecam: %s: %zu access units, expected %zu\n",
                m->path, m->n_aus, frames);
        return -EINVAL;
    }
    for (size_t i = 0; i < m->n_aus; i++) {
        if ((i % gop == 0) != !!m->aus[i].idr) {
            fprintf(stderr, "fakecam: %s: access unit %zu is %san IDR; expected an IDR "
                    "exactly every %zu frames\n", m->path, i, m->aus[i].idr ? "" : "not ",
                    gop);
            return -EINVAL;
        }
    }
    return 0;
}

int fc_media_load_shaped(const char *path, enum fc_codec codec, size_t frames, size_t gop,
                         struct fc_media **out)
{
    struct fc_media *m = calloc(1, sizeof(*m));
    int ret;

    if (!m)
        return -ENOMEM;
    m->codec = codec;
    atomic_init(&m->refs, 1);
    m->path = strdup(path);
    if (!m->path) {
        ret = -ENOMEM;
        goto fail;
    }
    ret = read_file(path, &m->data, &m->size);
    if (ret < 0) {
        fprintf(stderr, "fakecam: cannot read media file %s: %s\n", path, strerror(-ret));
        goto fail;
    }
    ret = fc_annexb_split(m->data, m->size, codec, &m->aus, &m->n_aus);
    if (ret < 0) {
        fprintf(stderr, "fakecam: %s: not an %s Annex B stream\n", path,
                codec == FC_H264 ? "H.264" : "H.265");
        goto fail;
    }
    ret = gop ? check_media(m, frames, gop) : -EINVAL;
    if (ret < 0)
        goto fail;
    *out = m;
    return 0;

fail:
    free(m->aus);
    free(m->data);
    free(m->path);
    free(m);
    return ret;
}

int fc_media_load(const char *path, enum fc_codec codec, struct fc_media **out)
{
    return fc_media_load_shaped(path, codec, FC_LOOP_FRAMES, FC_GOP, out);
}

struct fc_media *fc_media_ref(struct fc_media *m)
{
    atomic_fetch_add(&m->refs, 1);
    return m;
}

void fc_media_unref(struct fc_media **pm)
{
    struct fc_media *m = *pm;

    if (!m)
        return;
    *pm = NULL;
    if (atomic_fetch_sub(&m->refs, 1) != 1)
        return;
    free(m->aus);
    free(m->data);
    free(m->path);
    free(m);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

size_t fc_sei_build(enum fc_codec codec, uint64_t counter, uint64_t send_us, uint8_t *out)
{
    uint8_t rbsp[2 + 32 + 1];
    size_t n = 0;
    int zeros = 0;

    rbsp[0] = 5;  /* payloadType: user_data_unregistered */
    rbsp[1] = 32; /* payloadSize */
    memcpy(rbsp + 2, sei_uuid, 16);
    put_be64(rbsp + 18, counter);
    put_be64(rbsp + 26, send_us);
    rbsp[34] = 0x80; /* rbsp_stop_one_bit and alignment */

    out[n++] = 0;
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = 1;
    if (codec == FC_H264) {
        out[n++] = 0x06; /* nal_unit_type 6 */
    } else {
        out[n++] = 0x4e; /* nal_unit_type 39 (prefix SEI), layer 0 */
        out[n++] = 0x01; /* temporal id 0 + 1 */
    }
    for (size_t i = 0; i < sizeof(rbsp); i++) {
        if (zeros >= 2 && rbsp[i] <= 3) {
            out[n++] = 3; /* emulation_prevention_three_byte */
            zeros = 0;
        }
        out[n++] = rbsp[i];
        zeros = rbsp[i] == 0 ? zeros + 1 : 0;
    }
    return n;
}

/* ---- command-line helpers shared by sargas-fakecam and sargas-replaycam ---- */

int fc_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int fc_default_media_dir(char *buf, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash;

    if (n <= 0)
        return -errno;
    exe[n] = 0;
    slash = strrchr(exe, '/');
    if (!slash)
        return -EINVAL;
    *slash = 0;
    if ((size_t)snprintf(buf, size, "%s/media", exe) >= size)
        return -ENAMETOOLONG;
    return 0;
}

int fc_media_dir_resolve(const char *prog, const char **dir, char *buf, size_t size)
{
    const char *env = getenv("SG_MEDIA_DIR");

    if (*dir)
        return 0;
    if (env && *env) {
        *dir = env;
        return 0;
    }
    if (fc_default_media_dir(buf, size) == 0) {
        *dir = buf;
        return 0;
    }
    fprintf(stderr, "%s: cannot find the executable's directory; use --media\n", prog);
    return -EINVAL;
}
