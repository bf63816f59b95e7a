#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"

enum opt_type { T_INT, T_SIZE, T_BOOL, T_STRING, T_PATH, T_PATH_LIST, T_LOGLEVEL, T_TRANSPORT };

struct option {
    const char *name;
    enum opt_type type;
    const char *def;     /* default, as written in a config file; NULL = no default */
    int64_t min, max;    /* bounds for numbers (and string length for strings) */
    size_t off;          /* offset in struct sg_config */
    int reloadable;      /* applied on SIGHUP without a restart */
    const char *doc;
};

#define OFF(f) offsetof(struct sg_config, f)
#define KIB 1024LL
#define MIB (1024LL * 1024)
#define GIB (1024LL * 1024 * 1024)

static const struct option options[] = {
    { "listen", T_STRING, "127.0.0.1:8080", 1, 127, OFF(listen), 0,
      "HTTP address of the API and console, host:port (IPv6 as [addr]:port)" },
    { "tls_cert", T_PATH, "", 0, PATH_MAX - 1, OFF(tls_cert), 0,
      "PEM certificate (chain) for HTTPS; empty = plain HTTP (only sensible on loopback)" },
    { "tls_key", T_PATH, "", 0, PATH_MAX - 1, OFF(tls_key), 0,
      "PEM private key matching tls_cert" },
    { "web_root", T_PATH, "/usr/share/sargas/web", 1, PATH_MAX - 1, OFF(web_root), 0,
      "directory of the console's static files (built into build/web by make)" },
    { "http_threads", T_INT, "2", 1, 32, OFF(http_threads), 0,
      "threads serving HTTP (API, live video, playback); each runs an epoll loop" },
    { "http_max_connections", T_INT, "1024", 16, 65536, OFF(http_max_connections), 0,
      "most simultaneous HTTP connections (live viewers included)" },
    { "live_buffer", T_SIZE, "24M", 1 * MIB, 1 * GIB, OFF(live_buffer), 0,
      "most memory per camera stream for live viewers (the current GOP always, older frames 2 s while watched)" },
    { "storage_root", T_PATH_LIST, "/var/lib/sargas/media", 1, SG_ROOT_MAX - 1, OFF(storage_roots), 0,
      "directory for recordings (at most 255 characters); repeat the line for several disks (up to 8)" },
    { "storage_quota", T_SIZE, "0", 0, INT64_MAX, OFF(storage_quota), 0,
      "most bytes of recordings per storage root, 0 = no quota (K, M, G, T suffixes)" },
    { "storage_min_free", T_SIZE, "1G", 0, INT64_MAX, OFF(storage_min_free), 0,
      "free-space floor per storage root; retention deletes oldest footage to keep it" },
    { "catalog", T_PATH, "/var/lib/sargas/catalog.db", 1, PATH_MAX - 1, OFF(catalog), 0,
      "SQLite catalog file (created with its directory if missing)" },
    { "key_dir", T_PATH, "/var/lib/sargas/keys", 1, PATH_MAX - 1, OFF(key_dir), 0,
      "directory of the sites' Ed25519 secret keys (mode 0700; audit signatures, exports)" },
    { "export_dir", T_PATH, "/var/lib/sargas/exports", 1, PATH_MAX - 1, OFF(export_dir), 0,
      "directory of evidence packages (exports), created if missing; not a storage root" },
    { "export_keep_days", T_INT, "30", 0, 3650, OFF(export_keep_days), 0,
      "a finished export's package is deleted this many days after it was made (0: kept until deleted)" },
    { "session_hours", T_INT, "12", 1, 24 * 7, OFF(session_hours), 0,
      "a console session ends this long after login, whatever happens" },
    { "session_idle_minutes", T_INT, "60", 1, 24 * 60, OFF(session_idle_minutes), 0,
      "a console session ends after this long without a request" },
    { "password_opslimit", T_INT, "3", 1, 20, OFF(password_opslimit), 0,
      "Argon2id passes for new password hashes (older hashes are redone at the next login)" },
    { "password_memlimit", T_SIZE, "64M", 8 * KIB, 4 * GIB, OFF(password_memlimit), 0,
      "Argon2id memory for new password hashes" },
    { "login_max_failures", T_INT, "5", 1, 1000, OFF(login_max_failures), 0,
      "failed logins per account (and 4x that per client address) before logins pause" },
    { "login_lockout_s", T_INT, "300", 1, 86400, OFF(login_lockout_s), 0,
      "how long logins pause after too many failures; failures older than this are forgotten" },
    { "log_level", T_LOGLEVEL, "info", 0, 3, OFF(log_level), 1,
      "error, warn, info or debug" },
    { "segment_seconds", T_INT, "300", 2, 3600, OFF(segment_seconds), 0,
      "length of one recording file; cut at the first keyframe after it" },
    { "default_retain_hours", T_INT, "72", 1, 24 * 366 * 10, OFF(default_retain_hours), 0,
      "maximum age of footage for cameras added without --retain-hours (GDPR: keep it short)" },
    { "rtsp_transport", T_TRANSPORT, "tcp", 0, 1, OFF(rtsp_transport), 0,
      "default RTSP transport for cameras that do not set one: tcp (interleaved) or udp" },
    { "connect_timeout_ms", T_INT, "5000", 100, 120000, OFF(connect_timeout_ms), 0,
      "deadline for name resolution plus TCP connect to a camera" },
    { "handshake_timeout_ms", T_INT, "10000", 100, 120000, OFF(handshake_timeout_ms), 0,
      "deadline for the whole RTSP handshake (OPTIONS to PLAY), however slowly the camera answers" },
    { "frame_timeout_ms", T_INT, "5000", 500, 120000, OFF(frame_timeout_ms), 0,
      "a stream with no complete frame for this long is declared stalled and reconnected" },
    { "backoff_min_ms", T_INT, "500", 50, 600000, OFF(backoff_min_ms), 0,
      "first reconnect delay after a failure; doubles per failure, with jitter" },
    { "backoff_max_ms", T_INT, "30000", 100, 3600000, OFF(backoff_max_ms), 0,
      "cap of the reconnect delay" },
    { "max_frame_bytes", T_SIZE, "8M", 64 * KIB, 256 * MIB, OFF(max_frame_bytes), 0,
      "largest accepted video frame; larger ones are dropped with an error" },
    { "ingest_threads", T_INT, "0", 0, 64, OFF(ingest_threads), 0,
      "threads receiving camera streams, 0 = one per CPU core" },
    { "ingest_batch_ms", T_INT, "10", 0, 100, OFF(ingest_batch_ms), 0,
      "how long a receive thread lets packets accumulate between polls (CPU vs latency)" },
    { "write_queue", T_SIZE, "512M", 16 * MIB, 16 * GIB, OFF(write_queue), 0,
      "most video waiting for the disk; must absorb one GOP of every camera at once (~2 MB each)" },
    { "retention_interval_s", T_INT, "30", 1, 3600, OFF(retention_interval_s), 0,
      "how often retention checks ages, quotas and free space" },
    { "motion", T_BOOL, "true", 0, 1, OFF(motion), 0,
      "analyse motion (sub stream, or the main stream's keyframes when a camera has none)" },
    { "motion_fps", T_INT, "5", 1, 30, OFF(motion_fps), 0,
      "analysed frames per second of a sub stream (and decoded: those and the frames they need)" },
    { "motion_batch_ms", T_INT, "1000", 10, 5000, OFF(motion_batch_ms), 0,
      "an analysis thread takes its cameras' frames in runs this far apart (CPU vs event latency)" },
    { "motion_sensitivity", T_INT, "50", 1, 100, OFF(motion_sensitivity), 0,
      "default sensitivity of the cameras' motion detection (zones may set their own)" },
    { "motion_min_area_permille", T_INT, "2", 1, 500, OFF(motion_min_area_permille), 0,
      "default smallest moving object, in thousandths of the picture" },
    { "motion_end_quiet_s", T_INT, "3", 1, 600, OFF(motion_end_quiet_s), 0,
      "a motion event ends after this long without motion" },
    { "analysis_threads", T_INT, "0", 0, 64, OFF(analysis_threads), 0,
      "threads decoding and analysing, 0 = one per CPU core" },
    { "mqtt_host", T_STRING, "", 0, 255, OFF(mqtt_host), 0,
      "MQTT broker host for events (empty = no MQTT)" },
    { "mqtt_port", T_INT, "1883", 1, 65535, OFF(mqtt_port), 0,
      "MQTT broker port" },
    { "mqtt_topic_prefix", T_STRING, "sargas", 1, 127, OFF(mqtt_topic_prefix), 0,
      "first level of every topic: PREFIX/<site>/<camera>/motion, .../state" },
    { "mqtt_client_id", T_STRING, "sargasd", 1, 127, OFF(mqtt_client_id), 0,
      "MQTT client id (unique per broker)" },
    { "mqtt_username", T_STRING, "", 0, 127, OFF(mqtt_username), 0,
      "MQTT user name (empty = anonymous)" },
    { "mqtt_password_file", T_PATH, "", 0, PATH_MAX - 1, OFF(mqtt_password_file), 0,
      "file holding the MQTT password (kept out of this file)" },
    { "mqtt_tls", T_BOOL, "false", 0, 1, OFF(mqtt_tls), 0,
      "MQTT over TLS (usually port 8883); the broker's certificate and host name are verified" },
    { "mqtt_ca_file", T_PATH, "", 0, PATH_MAX - 1, OFF(mqtt_ca_file), 0,
      "PEM CA certificates that sign the broker's certificate (empty = the system's, /etc/ssl/certs)" },
    { "mqtt_cert_file", T_PATH, "", 0, PATH_MAX - 1, OFF(mqtt_cert_file), 0,
      "PEM client certificate, for brokers that require one (with mqtt_key_file)" },
    { "mqtt_key_file", T_PATH, "", 0, PATH_MAX - 1, OFF(mqtt_key_file), 0,
      "PEM private key of mqtt_cert_file (unencrypted; keep it 0600)" },
    { "mqtt_qos", T_INT, "1", 0, 2, OFF(mqtt_qos), 0,
      "MQTT quality of service of published messages" },
    { "mqtt_keepalive_s", T_INT, "30", 5, 3600, OFF(mqtt_keepalive_s), 0,
      "MQTT keepalive; a dead broker is noticed within about 1.5 times this" },
    { "allow_test_sources", T_BOOL, "false", 0, 1, OFF(allow_test_sources), 0,
      "test/demo mode: also accept camera URLs other than rtsp:// and rtsps://; never in production" },
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return SG_E_CONFIG;
}

int sg_parse_size(const char *s, int64_t *out)
{
    char *end;
    long long v;
    int64_t mul = 1;

    if (!*s || !isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno)
        return -EINVAL;
    switch (*end) {
    case 0: break;
    case 'k': case 'K': mul = KIB; end++; break;
    case 'm': case 'M': mul = MIB; end++; break;
    case 'g': case 'G': mul = GIB; end++; break;
    case 't': case 'T': mul = GIB * 1024; end++; break;
    default: return -EINVAL;
    }
    if ((*end == 'B' || *end == 'b') && mul > 1)
        end++;
    if (*end || v < 0 || v > INT64_MAX / mul)
        return -EINVAL;
    *out = v * mul;
    return 0;
}

static int set_option(struct sg_config *cfg, const struct option *o, const char *v, char *err,
                      size_t errlen, int *roots_from_file)
{
    char *p = (char *)cfg + o->off;
    char bounds[96];

    switch (o->type) {
    case T_INT: {
        char *end;
        long long x;
        errno = 0;
        x = strtoll(v, &end, 10);
        if (errno || end == v || *end || x < o->min || x > o->max) {
            snprintf(bounds, sizeof(bounds), "an integer from %lld to %lld", (long long)o->min,
                     (long long)o->max);
            return errf(err, errlen, "'%s' must be %s", o->name, bounds);
        }
        *(int *)p = (int)x;
        return 0;
    }
    case T_SIZE: {
        int64_t x;
        if (sg_parse_size(v, &x) < 0 || x < o->min || x > o->max)
            return errf(err, errlen, "'%s' must be a size such as 512M or 2G (got '%s')", o->name, v);
        *(int64_t *)p = x;
        return 0;
    }
    case T_BOOL:
        if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
            *(int *)p = 1;
        else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
            *(int *)p = 0;
        else
            return errf(err, errlen, "'%s' must be true or false (got '%s')", o->name, v);
        return 0;
    case T_LOGLEVEL: {
        int l = sg_log_level_parse(v);
        if (l < 0)
            return errf(err, errlen, "'%s' must be error, warn, info or debug (got '%s')", o->name, v);
        *(int *)p = l;
        return 0;
    }
    case T_TRANSPORT:
        if (!strcmp(v, "tcp"))
            *(int *)p = 0;
        else if (!strcmp(v, "udp"))
            *(int *)p = 1;
        else
            return errf(err, errlen, "'%s' must be tcp or udp (got '%s')", o->name, v);
        return 0;
    case T_PATH:
    case T_PATH_LIST:
        if (v[0] != '/' && !(o->min == 0 && !v[0]))
            return errf(err, errlen, "'%s' must be an absolute path (got '%s')", o->name, v);
        /* fallthrough */
    case T_STRING:
        if ((int64_t)strlen(v) < o->min || (int64_t)strlen(v) > o->max)
            return errf(err, errlen, "'%s': value too long or empty", o->name);
        for (const char *c = v; *c; c++)
            if ((unsigned char)*c < 0x20)
                return errf(err, errlen, "'%s': control character in value", o->name);
        if (o->type == T_PATH_LIST) {
            if (roots_from_file && !*roots_from_file) {
                cfg->n_storage_roots = 0; /* the first line in a file replaces the default */
                *roots_from_file = 1;
            }
            if (cfg->n_storage_roots >= SG_MAX_ROOTS)
                return errf(err, errlen, "'%s': at most 8 storage roots", o->name);
            for (int i = 0; i < cfg->n_storage_roots; i++)
                if (!strcmp(cfg->storage_roots[i], v))
                    return errf(err, errlen, "'%s': '%s' given twice", o->name, v);
            strcpy(cfg->storage_roots[cfg->n_storage_roots++], v);
        } else {
            strcpy(p, v);
        }
        return 0;
    }
    return SG_E_CONFIG;
}

static const struct option *find_option(const char *key)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (!strcmp(options[i].name, key))
            return &options[i];
    return NULL;
}

void sg_config_defaults(struct sg_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < N_OPTIONS; i++) {
        int dummy = 0;
        if (options[i].def && set_option(cfg, &options[i], options[i].def, NULL, 0, &dummy) < 0)
            abort(); /* a bad default is a programming error */
    }
}

int sg_config_set(struct sg_config *cfg, const char *key, const char *value, char *err,
                  size_t errlen)
{
    const struct option *o = find_option(key);

    if (!o)
        return errf(err, errlen, "unknown option '%s'", key);
    return set_option(cfg, o, value, err, errlen, NULL);
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = 0;
    return s;
}

int sg_config_load(const char *path, struct sg_config *cfg, char *err, size_t errlen)
{
    char line[PATH_MAX + 256];
    char msg[512];
    unsigned char seen[N_OPTIONS] = { 0 };
    int lineno = 0, roots_from_file = 0, r = 0;
    FILE *f = fopen(path, "r");

    if (!f) {
        r = -errno;
        snprintf(err, errlen, "%s: cannot open: %s", path, sg_strerror(r));
        return r;
    }
    while (fgets(line, sizeof(line), f)) {
        char *eq, *key, *val;
        const struct option *o;

        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            r = SG_E_CONFIG;
            goto out;
        }
        key = trim(line);
        if (!*key || *key == '#')
            continue;
        eq = strchr(key, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
            r = SG_E_CONFIG;
            goto out;
        }
        *eq = 0;
        val = trim(eq + 1);
        key = trim(key);
        o = find_option(key);
        if (!o) {
            snprintf(err, errlen, "%s:%d: unknown option '%.64s'", path, lineno, key);
            r = SG_E_CONFIG;
            goto out;
        }
        if (o->type != T_PATH_LIST && seen[o - options]) {
            snprintf(err, errlen, "%s:%d: option '%s' given twice", path, lineno, key);
            r = SG_E_CONFIG;
            goto out;
        }
        seen[o - options] = 1;
        if (set_option(cfg, o, val, msg, sizeof(msg), &roots_from_file) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
            r = SG_E_CONFIG;
            goto out;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        r = -EIO;
        goto out;
    }
    r = sg_config_validate(cfg, msg, sizeof(msg));
    if (r < 0)
        snprintf(err, errlen, "%s: %s", path, msg);
out:
    fclose(f);
    return r;
}

int sg_config_validate(const struct sg_config *cfg, char *err, size_t errlen)
{
    if (cfg->n_storage_roots < 1)
        return errf(err, errlen, "at least one storage_root is required");
    if (cfg->backoff_min_ms > cfg->backoff_max_ms)
        return errf(err, errlen, "backoff_min_ms must not exceed backoff_max_ms");
    if (!cfg->tls_cert[0] != !cfg->tls_key[0])
        return errf(err, errlen, "tls_cert and tls_key must be given together");
    if (!cfg->mqtt_cert_file[0] != !cfg->mqtt_key_file[0])
        return errf(err, errlen, "mqtt_cert_file and mqtt_key_file must be given together");
    if (!cfg->mqtt_tls && (cfg->mqtt_ca_file[0] || cfg->mqtt_cert_file[0]))
        return errf(err, errlen, "mqtt_ca_file, mqtt_cert_file and mqtt_key_file need mqtt_tls = true");
    for (int i = 0; i < cfg->n_storage_roots; i++)
        for (int j = 0; j < cfg->n_storage_roots; j++) {
            size_t li = strlen(cfg->storage_roots[i]);
            if (i != j && !strncmp(cfg->storage_roots[i], cfg->storage_roots[j], li) &&
                cfg->storage_roots[j][li] == '/')
                return errf(err, errlen, "storage_root '%s' contains another root '%s'",
                            cfg->storage_roots[i], cfg->storage_roots[j]);
        }
    return 0;
}

static const char *type_name(enum opt_type t)
{
    switch (t) {
    case T_INT: return "integer";
    case T_SIZE: return "size";
    case T_BOOL: return "boolean";
    case T_STRING: return "string";
    case T_PATH: return "absolute path";
    case T_PATH_LIST: return "absolute path, repeatable";
    case T_LOGLEVEL: return "error|warn|info|debug";
    case T_TRANSPORT: return "tcp|udp";
    }
    return "?";
}

void sg_config_write_example(FILE *f)
{
    fputs("# Sargas daemon configuration (sargasd --config FILE).\n"
          "# Generated by `sargasd --print-example-config` from the option table in\n"
          "# src/config/config.c; a test checks that this file matches it.\n"
          "# Syntax: key = value, one per line; '#' starts a comment line.\n"
          "# Unknown keys and bad values stop sargasd with FILE:LINE and a message.\n"
          "# Cameras are not configured here: see `sargas camera add --help`.\n", f);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct option *o = &options[i];
        fprintf(f, "\n# %s\n# type: %s", o->doc, type_name(o->type));
        if (o->type == T_INT)
            fprintf(f, ", %lld..%lld", (long long)o->min, (long long)o->max);
        fprintf(f, "%s\n", o->reloadable ? "; reloaded on SIGHUP" : "; applies at restart");
        fprintf(f, "#%s = %s\n", o->name, o->def ? o->def : "");
    }
}
