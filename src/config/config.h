/* sargasd's bootstrap configuration. Every option is one row of a table (config.c) giving its
 * name, type, default, bounds and a line of documentation; the parser, the validator and the
 * example file (`sargasd --print-example-config`) all come from that table. Cameras are not
 * configured here: they live in the catalog (`sargas camera add`). */
#ifndef SG_CONFIG_CONFIG_H
#define SG_CONFIG_CONFIG_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "base/fsutil.h"

#define SG_MAX_ROOTS 8

struct sg_config {
    char listen[128];                /* HTTP listen address of the API and console */
    char tls_cert[PATH_MAX];         /* "" = plain HTTP */
    char tls_key[PATH_MAX];
    char web_root[PATH_MAX];
    int http_threads;
    int http_max_connections;
    int64_t live_buffer;
    char storage_roots[SG_MAX_ROOTS][SG_ROOT_MAX];
    int n_storage_roots;
    int64_t storage_quota;           /* bytes per root, 0 = no quota */
    int64_t storage_min_free;        /* free-space floor per root, bytes */
    char catalog[PATH_MAX];          /* SQLite catalog file */
    char key_dir[PATH_MAX];          /* sites' secret keys */
    char export_dir[PATH_MAX];       /* evidence packages */
    int export_keep_days;            /* packages deleted this long after they were made; 0: kept */
    int session_hours;
    int session_idle_minutes;
    int password_opslimit;
    int64_t password_memlimit;
    int login_max_failures;
    int login_lockout_s;
    int log_level;
    int segment_seconds;
    int default_retain_hours;
    int rtsp_transport;              /* 0 = tcp, 1 = udp */
    int connect_timeout_ms;
    int handshake_timeout_ms;
    int frame_timeout_ms;
    int backoff_min_ms;
    int backoff_max_ms;
    int64_t max_frame_bytes;
    int ingest_threads;
    int ingest_batch_ms;
    int retention_interval_s;
    int64_t write_queue;
    int allow_test_sources;
    int motion;
    int motion_fps;
    int motion_batch_ms;
    int motion_sensitivity;
    int motion_min_area_permille;
    int motion_end_quiet_s;
    int analysis_threads;
    char mqtt_host[256];
    int mqtt_port;
    char mqtt_topic_prefix[128];
    char mqtt_client_id[128];
    char mqtt_username[128];
    char mqtt_password_file[PATH_MAX];
    int mqtt_tls;
    char mqtt_ca_file[PATH_MAX];
    char mqtt_cert_file[PATH_MAX];
    char mqtt_key_file[PATH_MAX];
    int mqtt_qos;
    int mqtt_keepalive_s;
};

/* Fills cfg with the defaults of the option table. */
void sg_config_defaults(struct sg_config *cfg);
/* Loads `path` over the defaults. On error returns SG_E_CONFIG (or -errno when the file cannot
 * be read) and writes "FILE:LINE: message" into err. */
int sg_config_load(const char *path, struct sg_config *cfg, char *err, size_t errlen);
/* Applies one "key = value" assignment (also used for --set on the command line). */
int sg_config_set(struct sg_config *cfg, const char *key, const char *value, char *err,
                  size_t errlen);
/* Checks cross-option rules (roots present, backoff min <= max, ...). */
int sg_config_validate(const struct sg_config *cfg, char *err, size_t errlen);
/* Writes the documented example configuration (every option, its default and bounds). */
void sg_config_write_example(FILE *f);
/* Parses sizes such as 512, 64K, 100M, 2G, 1T (binary multiples). Returns 0 or -EINVAL. */
int sg_parse_size(const char *s, int64_t *out);

#endif
