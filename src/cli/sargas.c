/* sargas: the administrator's command-line tool. It works on the catalog directly (SQLite
 * allows one writer and many readers; sargasd sees changes within a second). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "audit/audit.h"
#include "auth/auth.h"
#include "catalog/catalog.h"
#include "cli/cli.h"
#include "config/config.h"
#include "ingest/url.h"

struct sg_config sg_cli_cfg;
#define cfg sg_cli_cfg

int sg_cli_die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "sargas: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

static void usage(FILE *f)
{
    fputs("usage: sargas [--config FILE | --catalog PATH] COMMAND ...\n"
          "\n"
          "cameras:\n"
          "  camera add --name NAME --main URL [--sub URL] [--retain-hours H] [--site SITE]\n"
          "             [--transport tcp|udp] [--record-sub] [--disabled]\n"
          "  camera list [--json]\n"
          "  camera set (--id ID | --name NAME) [--rename NEW] [--main URL] [--sub URL | --no-sub]\n"
          "             [--retain-hours H] [--transport default|tcp|udp] [--record-sub yes|no]\n"
          "             [--enable | --disable]\n"
          "  camera remove (--id ID | --name NAME)\n"
          "recordings:\n"
          "  segments [--camera ID] [--from T] [--to T] [--json]\n"
          "  loss [--camera ID] [--from T] [--to T] [--json]\n"
          "evidence locks (retention never deletes locked footage):\n"
          "  lock add --camera ID|all --from T --to T --reason TEXT [--by NAME]\n"
          "  lock list [--json]\n"
          "  lock remove --id ID\n"
          "sites (municipalities; each has an Ed25519 key for signatures):\n"
          "  site add NAME | site list [--json]\n"
          "users (roles: admin, operator, investigator, viewer, auditor):\n"
          "  user add NAME --role ROLE [--site SITE] [--granted-only] [--password-stdin]\n"
          "  user list [--site SITE] [--json]\n"
          "  user set NAME [--role ROLE] [--all-cameras | --granted-only] [--enable | --disable]\n"
          "  user passwd NAME [--password-stdin]\n"
          "  user remove NAME\n"
          "  user grant NAME --camera ID [--deny | --clear]\n"
          "  token add USER --name LABEL [--scope PERM]... [--expires-days N]\n"
          "  token list [--user USER] [--json] | token revoke ID\n"
          "audit trail:\n"
          "  audit verify [--key SITE=PUBKEY_HEX]...\n"
          "  audit list [--user U] [--camera ID] [--action A] [--from T] [--to T] [--limit N] [--json]\n"
          "  audit sign\n"
          "evidence packages (offline check; KEY: 64 hex digits or a file such as site.pub):\n"
          "  verify PACKAGE [--key KEY]... [--json]\n"
          "  verify-onvif FILE [--cert CERT]     (one ONVIF Export File's seal)\n"
          "Times T are RFC 3339, e.g. 2026-11-21T02:30:00Z. Camera URLs must be rtsp:// or rtsps://.\n",
          f);
}

void sg_cli_audit(struct sg_catalog *cat, int64_t site_id, const char *action, int64_t camera_id,
                  const char *object, const char *detail_json)
{
    const char *who = getenv("SUDO_USER");
    char user[SG_NAME_MAX];
    int r;

    if (!who || !*who)
        who = getenv("USER");
    snprintf(user, sizeof(user), "cli:%s", who && *who ? who : "?");
    if ((r = sg_audit_log(cat, site_id, 0, user, "cli", action, "ok", camera_id, object, detail_json)) < 0)
        fprintf(stderr, "sargas: warning: could not write the audit entry (%s)\n", sg_strerror(r));
}

int sg_cli_open_catalog(struct sg_catalog **cat)
{
    int r = sg_catalog_open(cfg.catalog, 0, cat);

    if (r < 0)
        fprintf(stderr, "sargas: cannot open catalog %s: %s\n", cfg.catalog, sg_strerror(r));
    return r;
}

static int check_url(const char *what, const char *url)
{
    struct sg_url u;
    char err[256];

    if (sg_url_parse(url, cfg.allow_test_sources, &u, err, sizeof(err)) < 0) {
        fprintf(stderr, "sargas: %s URL refused: %s\n", what, err);
        return SG_E_URL;
    }
    return 0;
}

static int parse_int_arg(const char *s, long min, long max, long *out)
{
    char *e;
    long v;

    errno = 0;
    v = strtol(s, &e, 10);
    if (errno || e == s || *e || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

static void fmt_time(int64_t us, char *buf, size_t n)
{
    if (!us)
        snprintf(buf, n, "-");
    else
        sg_utc_format(us, 3, buf, n);
}

enum { O_ID = 1000, O_NAME, O_RENAME, O_MAIN, O_SUB, O_NOSUB, O_RETAIN, O_TRANSPORT, O_RECSUB,
       O_ENABLE, O_DISABLE, O_JSON, O_CAMERA, O_FROM, O_TO, O_REASON, O_BY, O_SITE };

static const struct option cmd_opts[] = {
    { "id", required_argument, NULL, O_ID },
    { "name", required_argument, NULL, O_NAME },
    { "rename", required_argument, NULL, O_RENAME },
    { "main", required_argument, NULL, O_MAIN },
    { "sub", required_argument, NULL, O_SUB },
    { "no-sub", no_argument, NULL, O_NOSUB },
    { "retain-hours", required_argument, NULL, O_RETAIN },
    { "transport", required_argument, NULL, O_TRANSPORT },
    { "record-sub", optional_argument, NULL, O_RECSUB },
    { "enable", no_argument, NULL, O_ENABLE },
    { "disable", no_argument, NULL, O_DISABLE },
    { "disabled", no_argument, NULL, O_DISABLE },
    { "json", no_argument, NULL, O_JSON },
    { "camera", required_argument, NULL, O_CAMERA },
    { "from", required_argument, NULL, O_FROM },
    { "to", required_argument, NULL, O_TO },
    { "reason", required_argument, NULL, O_REASON },
    { "by", required_argument, NULL, O_BY },
    { "site", required_argument, NULL, O_SITE },
    { NULL, 0, NULL, 0 },
};

struct args {
    const char *id, *name, *rename, *main_url, *sub_url, *retain, *transport, *recsub;
    const char *camera, *from, *to, *reason, *by, *site;
    int no_sub, enable, disable, json, has_recsub;
};

static int parse_args(int argc, char **argv, struct args *a)
{
    int opt;

    memset(a, 0, sizeof(*a));
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", cmd_opts, NULL)) != -1) {
        switch (opt) {
        case O_ID: a->id = optarg; break;
        case O_NAME: a->name = optarg; break;
        case O_SITE: a->site = optarg; break;
        case O_RENAME: a->rename = optarg; break;
        case O_MAIN: a->main_url = optarg; break;
        case O_SUB: a->sub_url = optarg; break;
        case O_NOSUB: a->no_sub = 1; break;
        case O_RETAIN: a->retain = optarg; break;
        case O_TRANSPORT: a->transport = optarg; break;
        case O_RECSUB: a->has_recsub = 1; a->recsub = optarg ? optarg : "yes"; break;
        case O_ENABLE: a->enable = 1; break;
        case O_DISABLE: a->disable = 1; break;
        case O_JSON: a->json = 1; break;
        case O_CAMERA: a->camera = optarg; break;
        case O_FROM: a->from = optarg; break;
        case O_TO: a->to = optarg; break;
        case O_REASON: a->reason = optarg; break;
        case O_BY: a->by = optarg; break;
        default: return -EINVAL;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "sargas: unexpected argument '%s'\n", argv[optind]);
        return -EINVAL;
    }
    return 0;
}

/* Applies the options shared by add and set to cam. */
static int apply_camera_args(const struct args *a, struct sg_camera *cam)
{
    long v;

    if (a->rename) {
        if (!sg_camera_name_valid(a->rename))
            return sg_cli_die("invalid camera name '%s' (1-127 characters, no control characters)", a->rename);
        snprintf(cam->name, sizeof(cam->name), "%s", a->rename);
    }
    if (a->main_url) {
        if (check_url("main", a->main_url) < 0)
            return 2;
        snprintf(cam->main_url, sizeof(cam->main_url), "%s", a->main_url);
    }
    if (a->sub_url && a->no_sub)
        return sg_cli_die("--sub and --no-sub exclude each other");
    if (a->sub_url) {
        if (check_url("sub", a->sub_url) < 0)
            return 2;
        snprintf(cam->sub_url, sizeof(cam->sub_url), "%s", a->sub_url);
    }
    if (a->no_sub)
        cam->sub_url[0] = 0;
    if (a->retain) {
        if (parse_int_arg(a->retain, 1, 24 * 366 * 10, &v) < 0)
            return sg_cli_die("--retain-hours must be a whole number of hours from 1 to 87840, got '%s'", a->retain);
        cam->retain_hours = (int)v;
    }
    if (a->transport) {
        int t = sg_transport_parse(a->transport);
        if (t < 0)
            return sg_cli_die("--transport must be default, tcp or udp, got '%s'", a->transport);
        cam->transport = t;
    }
    if (a->has_recsub) {
        if (!strcmp(a->recsub, "yes"))
            cam->record_sub = 1;
        else if (!strcmp(a->recsub, "no"))
            cam->record_sub = 0;
        else
            return sg_cli_die("--record-sub takes yes or no, got '%s'", a->recsub);
    }
    if (a->enable && a->disable)
        return sg_cli_die("--enable and --disable exclude each other");
    if (a->enable)
        cam->enabled = 1;
    if (a->disable)
        cam->enabled = 0;
    return 0;
}

static int find_camera(struct sg_catalog *cat, const struct args *a, struct sg_camera *cam)
{
    long id;
    int r;

    if (!!a->id == !!a->name)
        return sg_cli_die("give exactly one of --id or --name");
    if (a->id) {
        if (parse_int_arg(a->id, 1, 0x7fffffff, &id) < 0)
            return sg_cli_die("--id must be a positive number, got '%s'", a->id);
        r = sg_catalog_camera_get(cat, id, cam);
    } else {
        r = sg_catalog_camera_find(cat, 0, a->name, cam);
    }
    if (r == SG_E_NOTFOUND)
        return sg_cli_die("no such camera: %s", a->id ? a->id : a->name);
    return r < 0 ? 1 : 0;
}

static int camera_add(struct sg_catalog *cat, struct args *a)
{
    struct sg_camera cam;
    int r;

    if (!a->name || !a->main_url)
        return sg_cli_die("camera add needs --name and --main");
    if (a->id || a->no_sub || a->enable)
        return sg_cli_die("camera add takes --disabled, not --id/--no-sub/--enable");
    memset(&cam, 0, sizeof(cam));
    cam.retain_hours = cfg.default_retain_hours;
    cam.enabled = 1;
    cam.site_id = 1;
    if (a->site) {
        struct sg_site site;
        char *end;
        long long v = strtoll(a->site, &end, 10);
        if (!*end && v > 0 && sg_catalog_site_get(cat, v, &site) == 0)
            cam.site_id = v;
        else if (sg_catalog_site_find(cat, a->site, &site) == 0)
            cam.site_id = site.id;
        else
            return sg_cli_die("no such site: %s (see sargas site list)", a->site);
    }
    a->rename = a->name;
    if ((r = apply_camera_args(a, &cam)) != 0)
        return r;
    r = sg_catalog_camera_add(cat, &cam);
    if (r == SG_E_EXISTS)
        return sg_cli_die("a camera named '%s' already exists", cam.name);
    if (r < 0)
        return 1;
    sg_cli_audit(cat, cam.site_id, "camera.add", cam.id, cam.name, NULL);
    printf("camera %lld added: %s\n", (long long)cam.id, cam.name);
    return 0;
}

static int camera_set(struct sg_catalog *cat, struct args *a)
{
    struct sg_camera cam;
    int r;

    if ((r = find_camera(cat, a, &cam)) != 0)
        return r;
    if ((r = apply_camera_args(a, &cam)) != 0)
        return r;
    r = sg_catalog_camera_update(cat, &cam);
    if (r == SG_E_EXISTS)
        return sg_cli_die("a camera named '%s' already exists", cam.name);
    if (r < 0)
        return 1;
    sg_cli_audit(cat, cam.site_id, "camera.update", cam.id, cam.name, NULL);
    printf("camera %lld updated\n", (long long)cam.id);
    return 0;
}

static int camera_remove(struct sg_catalog *cat, struct args *a)
{
    struct sg_camera cam;
    int r;

    if ((r = find_camera(cat, a, &cam)) != 0)
        return r;
    if (sg_catalog_camera_remove(cat, cam.id) < 0)
        return 1;
    sg_cli_audit(cat, cam.site_id, "camera.remove", cam.id, cam.name, NULL);
    printf("camera %lld removed; its recordings stay until retention deletes them (%d h)\n",
           (long long)cam.id, cam.retain_hours);
    return 0;
}

static const struct sg_stream_state *state_of(const struct sg_stream_state *st, int n, int64_t cam,
                                              int stream)
{
    for (int i = 0; i < n; i++)
        if (st[i].camera_id == cam && st[i].stream == stream)
            return &st[i];
    return NULL;
}

static int camera_list(struct sg_catalog *cat, const struct args *a)
{
    struct sg_camera *cams = NULL;
    struct sg_stream_state *st = NULL;
    int n = sg_catalog_camera_list(cat, &cams);
    int ns = sg_catalog_state_list(cat, &st);
    json_t *arr = a->json ? json_array() : NULL;
    char since[SG_UTC_STRLEN], url[1100];

    if (n < 0 || ns < 0) {
        free(cams);
        free(st);
        return 1;
    }
    if (!a->json)
        printf("%-4s %-20s %-10s %-15s %-24s %-6s %s\n", "ID", "NAME", "STATE", "VIDEO", "SINCE",
               "RETAIN", "MAIN URL / LAST ERROR");
    for (int i = 0; i < n; i++) {
        const struct sg_stream_state *m = state_of(st, ns, cams[i].id, SG_STREAM_MAIN);
        const char *state = !cams[i].enabled ? "disabled" : m ? m->state : "pending";
        char video[32] = "-";
        sg_url_redact(cams[i].main_url, url, sizeof(url));
        fmt_time(m ? m->since_us : 0, since, sizeof(since));
        if (m && m->width)
            snprintf(video, sizeof(video), "%s %dx%d", m->codec, m->width, m->height);
        if (a->json) {
            json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:i,s:s,s:b,s:b,s:s}", "id", (json_int_t)cams[i].id,
                                  "name", cams[i].name, "main_url", url, "state", state,
                                  "retain_hours", cams[i].retain_hours, "transport",
                                  sg_transport_name(cams[i].transport), "record_sub", cams[i].record_sub,
                                  "enabled", cams[i].enabled, "since", m ? since : "");
            json_object_set_new(o, "site", json_integer(cams[i].site_id));
            if (cams[i].sub_url[0]) {
                sg_url_redact(cams[i].sub_url, url, sizeof(url));
                json_object_set_new(o, "sub_url", json_string(url));
            }
            for (int s = 0; s < 2; s++) {
                const struct sg_stream_state *x = state_of(st, ns, cams[i].id, s);
                if (!x)
                    continue;
                fmt_time(x->since_us, since, sizeof(since));
                json_object_set_new(o, s ? "sub" : "main",
                                    json_pack("{s:s,s:s,s:s,s:s,s:i,s:i}", "state", x->state, "since",
                                              since, "last_error", x->last_error, "codec", x->codec,
                                              "width", x->width, "height", x->height));
            }
            json_array_append_new(arr, o);
        } else {
            printf("%-4lld %-20s %-10s %-15s %-24s %4dh  %s\n", (long long)cams[i].id, cams[i].name,
                   state, video, since, cams[i].retain_hours,
                   m && m->last_error[0] && strcmp(state, "online") ? m->last_error : url);
        }
    }
    if (arr) {
        char *s = json_dumps(arr, JSON_INDENT(2));
        puts(s);
        free(s);
        json_decref(arr);
    }
    free(cams);
    free(st);
    return 0;
}

static int time_range(const struct args *a, int64_t *from, int64_t *to)
{
    *from = 0;
    *to = 0;
    if (a->from && sg_utc_parse(a->from, from) < 0)
        return sg_cli_die("--from must be an RFC 3339 time such as 2026-11-21T02:30:00Z, got '%s'", a->from);
    if (a->to && sg_utc_parse(a->to, to) < 0)
        return sg_cli_die("--to must be an RFC 3339 time such as 2026-11-21T02:30:00Z, got '%s'", a->to);
    if (*to && *from >= *to)
        return sg_cli_die("--from must be before --to");
    return 0;
}

static int camera_id_arg(const struct args *a, int64_t *id, int allow_all)
{
    long v;

    *id = 0;
    if (!a->camera)
        return 0;
    if (allow_all && !strcmp(a->camera, "all"))
        return 0;
    if (parse_int_arg(a->camera, 1, 0x7fffffff, &v) < 0)
        return sg_cli_die("--camera must be a camera id%s", allow_all ? " or 'all'" : "");
    *id = v;
    return 0;
}

static int segments_cmd(struct sg_catalog *cat, const struct args *a)
{
    struct sg_segment *g = NULL;
    int64_t from, to, cam;
    int r, n;
    json_t *arr = a->json ? json_array() : NULL;

    if ((r = time_range(a, &from, &to)) || (r = camera_id_arg(a, &cam, 0)))
        return r;
    n = sg_catalog_segment_list(cat, cam, -1, -1, from, to, &g);
    if (n < 0)
        return 1;
    for (int i = 0; i < n; i++) {
        char s[SG_UTC_STRLEN], e[SG_UTC_STRLEN];
        sg_utc_format(g[i].start_us, 3, s, sizeof(s));
        sg_utc_format(g[i].end_us, 3, e, sizeof(e));
        if (arr)
            json_array_append_new(arr, json_pack("{s:I,s:I,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:i,s:i,s:s}",
                "id", (json_int_t)g[i].id, "camera_id", (json_int_t)g[i].camera_id,
                "stream", sg_stream_name(g[i].stream), "start", s, "end", e,
                "bytes", (json_int_t)g[i].bytes, "root", g[i].root, "path", g[i].path,
                "codec", g[i].codec, "width", g[i].width, "height", g[i].height,
                "status", sg_seg_status_name(g[i].status)));
        else
            printf("%lld cam=%lld %s %s .. %s %lld bytes %s %dx%d %s %s/%s\n", (long long)g[i].id,
                   (long long)g[i].camera_id, sg_stream_name(g[i].stream), s, e, (long long)g[i].bytes,
                   g[i].codec, g[i].width, g[i].height, sg_seg_status_name(g[i].status), g[i].root,
                   g[i].path);
    }
    if (arr) {
        char *s = json_dumps(arr, JSON_INDENT(1));
        puts(s);
        free(s);
        json_decref(arr);
    }
    free(g);
    return 0;
}

static int loss_cmd(struct sg_catalog *cat, const struct args *a)
{
    struct sg_loss *l = NULL;
    int64_t from, to, cam;
    int r, n;
    json_t *arr = a->json ? json_array() : NULL;

    if ((r = time_range(a, &from, &to)) || (r = camera_id_arg(a, &cam, 0)))
        return r;
    n = sg_catalog_loss_list(cat, cam, from, to, &l);
    if (n < 0)
        return 1;
    for (int i = 0; i < n; i++) {
        char s[SG_UTC_STRLEN], e[SG_UTC_STRLEN];
        sg_utc_format(l[i].start_us, 3, s, sizeof(s));
        fmt_time(l[i].end_us, e, sizeof(e));
        if (arr)
            json_array_append_new(arr, json_pack("{s:I,s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)l[i].id,
                "camera_id", (json_int_t)l[i].camera_id, "stream", sg_stream_name(l[i].stream),
                "start", s, "end", l[i].end_us ? e : "", "reason", l[i].reason));
        else
            printf("%lld cam=%lld %s %s .. %s %s\n", (long long)l[i].id, (long long)l[i].camera_id,
                   sg_stream_name(l[i].stream), s, l[i].end_us ? e : "(ongoing)", l[i].reason);
    }
    if (arr) {
        char *s = json_dumps(arr, JSON_INDENT(1));
        puts(s);
        free(s);
        json_decref(arr);
    }
    free(l);
    return 0;
}

static int lock_cmd(struct sg_catalog *cat, const char *sub, const struct args *a)
{
    if (!strcmp(sub, "add")) {
        struct sg_lock l;
        int r;
        memset(&l, 0, sizeof(l));
        if (!a->camera || !a->from || !a->to || !a->reason || !a->reason[0])
            return sg_cli_die("lock add needs --camera, --from, --to and a non-empty --reason");
        if ((r = camera_id_arg(a, &l.camera_id, 1)) || (r = time_range(a, &l.start_us, &l.end_us)))
            return r;
        snprintf(l.reason, sizeof(l.reason), "%s", a->reason);
        snprintf(l.created_by, sizeof(l.created_by), "%s", a->by ? a->by : "cli");
        if (sg_catalog_lock_add(cat, &l) < 0)
            return 1;
        {
            char what[64];
            snprintf(what, sizeof(what), "lock:%lld", (long long)l.id);
            sg_cli_audit(cat, 1, "lock.add", l.camera_id, what, NULL);
        }
        printf("lock %lld added\n", (long long)l.id);
        return 0;
    }
    if (!strcmp(sub, "remove")) {
        long id;
        if (!a->id || parse_int_arg(a->id, 1, 0x7fffffff, &id) < 0)
            return sg_cli_die("lock remove needs --id ID");
        if (sg_catalog_lock_remove(cat, id) < 0)
            return sg_cli_die("no such lock: %s (a case's lock is released through its case, "
                              "with a reason)", a->id);
        {
            char what[64];
            snprintf(what, sizeof(what), "lock:%ld", id);
            sg_cli_audit(cat, 1, "lock.remove", 0, what, NULL);
        }
        printf("lock %ld removed\n", id);
        return 0;
    }
    if (!strcmp(sub, "list")) {
        struct sg_lock *l = NULL;
        int n = sg_catalog_lock_list(cat, &l);
        if (n < 0)
            return 1;
        for (int i = 0; i < n; i++) {
            char s[SG_UTC_STRLEN], e[SG_UTC_STRLEN];
            sg_utc_format(l[i].start_us, 3, s, sizeof(s));
            sg_utc_format(l[i].end_us, 3, e, sizeof(e));
            if (a->json)
                printf("{\"id\":%lld,\"camera_id\":%lld,\"start\":\"%s\",\"end\":\"%s\","
                       "\"case_item\":%lld}\n",
                       (long long)l[i].id, (long long)l[i].camera_id, s, e, (long long)l[i].item_id);
            else
                printf("%lld camera=%s%.0lld %s .. %s by %s: %s\n", (long long)l[i].id,
                       l[i].camera_id ? "" : "all", (long long)l[i].camera_id, s, e, l[i].created_by,
                       l[i].reason);
        }
        free(l);
        return 0;
    }
    return sg_cli_die("unknown lock command '%s'", sub);
}

int main(int argc, char **argv)
{
    const char *config_path = NULL, *catalog = NULL;
    struct sg_catalog *cat = NULL;
    struct args a;
    char err[1024];
    int i = 1, r;

    sg_log_set_level(SG_LOG_WARN);
    sg_config_defaults(&cfg);
    while (i < argc && argv[i][0] == '-') {
        if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            config_path = argv[i + 1];
            i += 2;
        } else if (!strcmp(argv[i], "--catalog") && i + 1 < argc) {
            catalog = argv[i + 1];
            i += 2;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (config_path && sg_config_load(config_path, &cfg, err, sizeof(err)) < 0)
        return sg_cli_die("%s", err);
    if (catalog)
        snprintf(cfg.catalog, sizeof(cfg.catalog), "%s", catalog);
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    if (sg_auth_init() < 0) /* audit entries hash with libsodium */
        return sg_cli_die("libsodium could not be initialised");
    if (!strcmp(argv[i], "camera") && i + 1 < argc) {
        const char *sub = argv[i + 1];
        if (parse_args(argc - i - 1, argv + i + 1, &a) < 0)
            return 2;
        if (strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "set") && strcmp(sub, "remove"))
            return sg_cli_die("unknown camera command '%s' (add, list, set, remove)", sub);
        if (sg_cli_open_catalog(&cat) < 0)
            return 1;
        if (!strcmp(sub, "add"))
            r = camera_add(cat, &a);
        else if (!strcmp(sub, "list"))
            r = camera_list(cat, &a);
        else if (!strcmp(sub, "set"))
            r = camera_set(cat, &a);
        else
            r = camera_remove(cat, &a);
    } else if (!strcmp(argv[i], "segments") || !strcmp(argv[i], "loss")) {
        if (parse_args(argc - i, argv + i, &a) < 0)
            return 2;
        if (sg_cli_open_catalog(&cat) < 0)
            return 1;
        r = !strcmp(argv[i], "segments") ? segments_cmd(cat, &a) : loss_cmd(cat, &a);
    } else if (!strcmp(argv[i], "user") || !strcmp(argv[i], "token") || !strcmp(argv[i], "site") ||
               !strcmp(argv[i], "audit")) {
        if (i + 1 >= argc) {
            usage(stderr);
            return 2;
        }
        if (!strcmp(argv[i], "user"))
            return sg_cli_cmd_user(argc - i - 1, argv + i + 1);
        if (!strcmp(argv[i], "token"))
            return sg_cli_cmd_token(argc - i - 1, argv + i + 1);
        if (!strcmp(argv[i], "site"))
            return sg_cli_cmd_site(argc - i - 1, argv + i + 1);
        return sg_cli_cmd_audit(argc - i - 1, argv + i + 1);
    } else if (!strcmp(argv[i], "verify")) {
        return sg_cli_cmd_verify(argc - i, argv + i);
    } else if (!strcmp(argv[i], "verify-onvif")) {
        return sg_cli_cmd_verify_onvif(argc - i, argv + i);
    } else if (!strcmp(argv[i], "lock") && i + 1 < argc) {
        if (parse_args(argc - i - 1, argv + i + 1, &a) < 0)
            return 2;
        if (sg_cli_open_catalog(&cat) < 0)
            return 1;
        r = lock_cmd(cat, argv[i + 1], &a);
    } else {
        usage(stderr);
        return 2;
    }
    sg_catalog_close(&cat);
    return r;
}
