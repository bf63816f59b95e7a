#include "ingest/sdp.h"

#include <libavutil/base64.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"

/* strtol(p, e, 10) that reads nothing at or past `end`: the SDP is not NUL-terminated (it is
 * the body of an RTSP answer inside the receive buffer). Leading white space, an optional sign
 * and digits; saturates like strtol; *e is p when there are no digits. */
static long num(const char *p, const char *end, const char **e)
{
    const char *q = p;
    long v = 0;
    int neg = 0;

    while (q < end && (*q == ' ' || (*q >= '\t' && *q <= '\r')))
        q++;
    if (q < end && (*q == '+' || *q == '-'))
        neg = *q++ == '-';
    if (q == end || *q < '0' || *q > '9') {
        if (e)
            *e = p;
        return 0;
    }
    while (q < end && *q >= '0' && *q <= '9') {
        int d = *q++ - '0';
        v = v > (LONG_MAX - d) / 10 ? LONG_MAX : v * 10 + d;
    }
    if (e)
        *e = q;
    return neg ? -v : v;
}

static void add_param_sets(struct sg_sdp_track *t, const char *list, size_t len)
{
    const char *p = list, *end = list + len;

    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        char b64[SG_PS_MAX * 2];
        uint8_t nal[SG_PS_MAX];
        size_t bl = (size_t)(e - p);
        int n;

        if (bl > 0 && bl < sizeof(b64)) {
            memcpy(b64, p, bl);
            b64[bl] = 0;
            n = av_base64_decode(nal, b64, sizeof(nal));
            if (n > 0) {
                int kind = sg_nal_param_kind(t->codec, sg_nal_type(t->codec, nal));
                if (kind && (t->codec == SG_CODEC_H264 || n >= 2)) {
                    sg_params_store(&t->params, kind, nal, (size_t)n);
                    if (kind == 2 && sg_sps_parse(t->codec, nal, (size_t)n, &t->params) < 0)
                        t->params.sps_len = 0; /* unusable: wait for an in-band one */
                }
            }
        }
        p = e + 1;
    }
}

/* Finds key=value in an fmtp parameter list ("a; b=c; ..."). */
static const char *fmtp_value(const char *s, size_t len, const char *key, size_t *vl)
{
    size_t kl = strlen(key);
    const char *p = s, *end = s + len;

    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *e = semi ? semi : end;
        while (p < e && *p == ' ')
            p++;
        if ((size_t)(e - p) > kl && !strncasecmp(p, key, kl) && p[kl] == '=') {
            *vl = (size_t)(e - p - (ptrdiff_t)kl - 1);
            return p + kl + 1;
        }
        p = e + 1;
    }
    return NULL;
}

struct section {
    int video, pt[8], n_pt;
    int codec, payload_type, clock_rate;
    const char *control, *fmtp[8];
    size_t control_len, fmtp_len[8];
    int n_fmtp;
};

/* A media section is judged when it ends, so the order of its attributes does not matter
 * (some cameras put a=control before a=rtpmap, or a=fmtp first). Returns 1 when it was chosen. */
static int finish_section(const struct section *sec, struct sg_sdp_track *t)
{
    if (!sec->video || !sec->codec)
        return 0;
    t->codec = sec->codec;
    t->params.codec = sec->codec;
    t->payload_type = sec->payload_type;
    t->clock_rate = sec->clock_rate;
    if (sec->control && sec->control_len < sizeof(t->control)) {
        memcpy(t->control, sec->control, sec->control_len);
        t->control[sec->control_len] = 0;
    }
    for (int i = 0; i < sec->n_fmtp; i++) {
        const char *e, *v, *line = sec->fmtp[i], *le = line + sec->fmtp_len[i];
        long pt = num(line, le, &e);
        size_t vl, fl;
        if (pt != sec->payload_type || e >= le)
            continue;
        fl = (size_t)(le - e);
        if (t->codec == SG_CODEC_H264) {
            if ((v = fmtp_value(e, fl, "sprop-parameter-sets", &vl)))
                add_param_sets(t, v, vl);
        } else {
            static const char *const keys[] = { "sprop-vps", "sprop-sps", "sprop-pps" };
            for (int k = 0; k < 3; k++)
                if ((v = fmtp_value(e, fl, keys[k], &vl)))
                    add_param_sets(t, v, vl);
        }
    }
    return 1;
}

int sg_sdp_parse(const char *sdp, size_t len, struct sg_sdp_track *t)
{
    const char *p = sdp, *end = sdp + len;
    struct section sec;
    int chosen = 0, examined = 0;

    memset(t, 0, sizeof(*t));
    memset(&sec, 0, sizeof(sec));
    t->payload_type = -1;
    while (p < end && !chosen) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t ll;

        if (le > p && le[-1] == '\r')
            le--;
        ll = (size_t)(le - p);
        if (ll >= 2 && p[1] == '=' && p[0] == 'm') {
            t->media_sections++;
            if ((chosen = finish_section(&sec, t)))
                break;
            memset(&sec, 0, sizeof(sec));
            if (examined < SG_SDP_MAX_MEDIA && ll > 8 && !strncmp(p, "m=video ", 8)) {
                /* m=video <port> <proto> <fmt> ... */
                const char *q = p + 8;
                int field = 0;
                examined++;
                sec.video = 1;
                while (q < le && sec.n_pt < 8) {
                    while (q < le && *q == ' ')
                        q++;
                    if (q >= le)
                        break;
                    if (field >= 2) {
                        const char *e;
                        long pt = num(q, le, &e);
                        if (e > q && pt >= 0 && pt < 128)
                            sec.pt[sec.n_pt++] = (int)pt;
                    }
                    field++;
                    while (q < le && *q != ' ')
                        q++;
                }
            }
        } else if (sec.video && ll > 9 && !strncmp(p, "a=rtpmap:", 9) && !sec.codec) {
            const char *e;
            long pt = num(p + 9, le, &e);
            int listed = 0;
            for (int i = 0; i < sec.n_pt; i++)
                listed |= sec.pt[i] == pt;
            if (e < le && *e == ' ' && listed) {
                size_t rest = (size_t)(le - e - 1);
                if (rest >= 5 && !strncasecmp(e + 1, "H264/", 5))
                    sec.codec = SG_CODEC_H264;
                else if (rest >= 5 && !strncasecmp(e + 1, "H265/", 5))
                    sec.codec = SG_CODEC_H265;
                if (sec.codec) {
                    sec.payload_type = (int)pt;
                    sec.clock_rate = (int)num(e + 6, le, NULL);
                    if (sec.clock_rate <= 0 || sec.clock_rate > 1000000)
                        sec.clock_rate = 90000;
                }
            }
        } else if (sec.video && ll > 7 && !strncmp(p, "a=fmtp:", 7) && sec.n_fmtp < 8) {
            sec.fmtp[sec.n_fmtp] = p + 7;
            sec.fmtp_len[sec.n_fmtp++] = ll - 7;
        } else if (sec.video && ll > 10 && !strncmp(p, "a=control:", 10) && !sec.control) {
            sec.control = p + 10;
            sec.control_len = ll - 10;
        }
        p = nl ? nl + 1 : end;
    }
    if (!chosen)
        finish_section(&sec, t);
    /* count the remaining media sections (for the log), cheaply */
    for (; p < end; p++)
        if (*p == '\n' && end - p > 2 && p[1] == 'm' && p[2] == '=')
            t->media_sections++;
    if (!t->codec)
        return SG_E_UNSUPPORTED;
    for (const char *c = t->control; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return SG_E_PROTO;
    return 0;
}
