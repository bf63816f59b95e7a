/* sargasd: the Sargas recording daemon. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "catalog/catalog.h"
#include "config/config.h"
#include "daemon/cameras.h"
#include "http/http.h"
#include "live/live.h"
#include "ingest/ingest.h"
#include "record/record.h"
#include "evidence/exporter.h"
#include "retention/retention.h"
#include "analysis/analysis.h"
#include "audit/audit.h"
#include "events/bus.h"
#include "events/mqtt.h"
#include "auth/auth.h"

#define SARGAS_VERSION "0.1.0"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_requested = 1;
    else
        stop_requested = 1;
}

static void usage(FILE *f)
{
    fputs("usage: sargasd [--config FILE] [--set KEY=VALUE]... [--check-config]\n"
          "       sargasd --print-example-config | --print-routes | --version\n"
          "Records every camera in the catalog. Stop with SIGTERM or SIGINT.\n", f);
}

static void store_freed(void *opaque) { sg_store_poke(opaque); }

#define AUDIT_SIGN_INTERVAL_NS (60 * SG_NS_PER_SEC)

/* An audit entry by the server itself (start, stop). */
static void daemon_audit(struct sg_catalog *cat, const char *action, const char *object)
{
    int r = sg_audit_log(cat, 1, 0, "sargasd", "local", action, "ok", 0, object, NULL);

    if (r < 0)
        sg_error("audit", 0, "cannot write audit entry %s: %s", action, sg_strerror(r));
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "set", required_argument, NULL, 's' },
        { "check-config", no_argument, NULL, 'k' },
        { "print-example-config", no_argument, NULL, 'p' },
        { "version", no_argument, NULL, 'V' },
        { "print-routes", no_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct sg_config cfg;
    const char *config_path = NULL;
    char *sets[32];
    int n_sets = 0, check_only = 0, opt, r, rc = 1;
    char err[1024];
    struct sg_catalog *cat = NULL;
    struct sg_store *store = NULL;
    struct sg_retention *ret = NULL;
    struct sg_exporter *exporter = NULL;
    struct sg_bus *bus = NULL;
    struct sg_mqtt *mqtt = NULL;
    struct sg_analysis *analysis = NULL;
    struct sg_ingest *ing = NULL;
    struct sg_cameras *cams = NULL;
    struct sg_live *live = NULL;
    struct sg_http *http = NULL;
    int64_t next_tick, next_sign = 0;
    struct sigaction sa;

    while ((opt = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 's':
            if (n_sets == 32) {
                fputs("sargasd: too many --set options\n", stderr);
                return 2;
            }
            sets[n_sets++] = optarg;
            break;
        case 'k': check_only = 1; break;
        case 'p': sg_config_write_example(stdout); return 0;
        case 'R': sg_http_print_routes(stdout); return 0;
        case 'V': printf("sargasd %s\n", SARGAS_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    sg_config_defaults(&cfg);
    if (config_path && sg_config_load(config_path, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "sargasd: %s\n", err);
        return 2;
    }
    for (int i = 0; i < n_sets; i++) {
        char *eq = strchr(sets[i], '=');
        if (!eq) {
            fprintf(stderr, "sargasd: --set expects KEY=VALUE, got '%s'\n", sets[i]);
            return 2;
        }
        *eq = 0;
        if (sg_config_set(&cfg, sets[i], eq + 1, err, sizeof(err)) < 0) {
            fprintf(stderr, "sargasd: --set: %s\n", err);
            return 2;
        }
    }
    if (sg_config_validate(&cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "sargasd: %s\n", err);
        return 2;
    }
    if (check_only && (r = sg_mqtt_check(&cfg, err, sizeof(err))) < 0) {
        fprintf(stderr, "sargasd: %s\n", err);
        return 2;
    }
    if (check_only) {
        printf("configuration OK\n");
        return 0;
    }
    sg_log_set_level(cfg.log_level);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    sg_info("sargasd", 0, "Sargas %s starting: catalog %s, %d storage root(s)", SARGAS_VERSION,
            cfg.catalog, cfg.n_storage_roots);
    if (cfg.allow_test_sources)
        sg_warn("sargasd", 0, "allow_test_sources is on: file sources accepted (test/demo mode)");
    if ((r = sg_catalog_open(cfg.catalog, 0, &cat)) < 0) {
        sg_error("sargasd", 0, "cannot open catalog %s: %s", cfg.catalog, sg_strerror(r));
        goto out;
    }
    if ((r = sg_auth_init()) < 0) {
        sg_error("sargasd", 0, "libsodium cannot be initialised");
        goto out;
    }
    if ((r = sg_sitekey_ensure(cat, cfg.key_dir)) < 0)
        sg_error("sargasd", 0, "cannot make the sites' signing keys in %s: %s (the audit trail is "
                 "chained but not signed)", cfg.key_dir, sg_strerror(r));
    daemon_audit(cat, "server.start", SARGAS_VERSION);
    if ((r = sg_reconcile(cat, cfg.storage_roots, cfg.n_storage_roots)) < 0) {
        sg_error("sargasd", 0, "reconciliation failed: %s", sg_strerror(r));
        goto out;
    }
    {
        struct sg_store_opts so = {
            .catalog_path = cfg.catalog, .roots = cfg.storage_roots, .n_roots = cfg.n_storage_roots,
            .min_free = cfg.storage_min_free, .segment_seconds = cfg.segment_seconds,
            .queue_bytes = (size_t)cfg.write_queue,
        };
        if ((r = sg_store_create(&so, &store)) < 0) {
            sg_error("sargasd", 0, "cannot start the store: %s", sg_strerror(r));
            goto out;
        }
    }
    {
        struct sg_retention_opts ro = {
            .catalog_path = cfg.catalog, .roots = cfg.storage_roots, .n_roots = cfg.n_storage_roots,
            .quota = cfg.storage_quota, .min_free = cfg.storage_min_free,
            .interval_s = cfg.retention_interval_s, .freed = store_freed, .opaque = store,
        };
        if ((r = sg_retention_start(&ro, &ret)) < 0) {
            sg_error("sargasd", 0, "cannot start retention: %s", sg_strerror(r));
            goto out;
        }
    }
    {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        struct sg_ingest_opts io = {
            .threads = cfg.ingest_threads ? cfg.ingest_threads : (int)(cores > 0 ? cores : 1),
            .connect_timeout_ms = cfg.connect_timeout_ms,
            .handshake_timeout_ms = cfg.handshake_timeout_ms,
            .frame_timeout_ms = cfg.frame_timeout_ms,
            .backoff_min_ms = cfg.backoff_min_ms, .backoff_max_ms = cfg.backoff_max_ms,
            .max_frame_bytes = (size_t)cfg.max_frame_bytes, .batch_ms = cfg.ingest_batch_ms,
            .allow_test_sources = cfg.allow_test_sources,
        };
        if ((r = sg_ingest_create(&io, &ing)) < 0) {
            sg_error("sargasd", 0, "cannot start ingest: %s", sg_strerror(r));
            goto out;
        }
    }
    {
        struct sg_live_opts lo = { .max_bytes = (size_t)cfg.live_buffer };
        if ((r = sg_live_create(&lo, &live)) < 0)
            goto out;
    }
    bus = sg_bus_create();
    if ((r = sg_mqtt_start(&cfg, bus, SARGAS_VERSION, &mqtt)) < 0) {
        sg_error("sargasd", 0, "cannot start MQTT: %s", sg_strerror(r));
        goto out;
    }
    if (cfg.motion) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        struct sg_analysis_opts ao = {
            .threads = cfg.analysis_threads ? cfg.analysis_threads : (int)(cores > 0 ? cores : 1),
            .fps = cfg.motion_fps, .batch_ms = cfg.motion_batch_ms, .catalog_path = cfg.catalog, .bus = bus,
            .motion = { .sensitivity = cfg.motion_sensitivity,
                        .min_area = (float)cfg.motion_min_area_permille / 1000.0f,
                        .end_quiet_us = (int64_t)cfg.motion_end_quiet_s * SG_US_PER_SEC },
        };
        sg_motion_config_defaults(&ao.motion);
        r = sg_catalog_event_close_all(cat);
        if (r > 0)
            sg_info("sargasd", 0, "%d motion event(s) left open by the last run closed", r);
        if ((r = sg_analysis_create(&ao, &analysis)) < 0) {
            sg_error("sargasd", 0, "cannot start motion analysis: %s", sg_strerror(r));
            goto out;
        }
    }
    {
        struct sg_exporter_opts eo = {
            .catalog_path = cfg.catalog, .export_dir = cfg.export_dir, .key_dir = cfg.key_dir,
            .generator = "sargas " SARGAS_VERSION, .keep_days = cfg.export_keep_days, .roots = (const char(*)[SG_ROOT_MAX])cfg.storage_roots,
            .n_roots = cfg.n_storage_roots,
        };
        if ((r = sg_exporter_start(&eo, &exporter)) < 0) {
            sg_error("sargasd", 0, "cannot start the export runner: %s", sg_strerror(r));
            goto out;
        }
    }
    cams = sg_cameras_create(&cfg, cat, ing, store, live);
    sg_cameras_set_bus(cams, bus);
    sg_cameras_set_analysis(cams, analysis);
    sg_cameras_sync(cams, 1);
    {
        struct sg_http_deps hd = { .cfg = &cfg, .live = live, .analysis = analysis, .version = SARGAS_VERSION };
        if ((r = sg_http_start(&hd, &http)) < 0) {
            sg_error("sargasd", 0, "cannot start the HTTP server: %s", sg_strerror(r));
            goto out;
        }
    }
    sg_info("sargasd", 0, "ready");
    next_tick = sg_mono_ns();
    next_sign = next_tick + AUDIT_SIGN_INTERVAL_NS;
    while (!stop_requested) {
        sg_sleep_until(sg_mono_ns() + 250 * SG_NS_PER_MS);
        if (sg_mono_ns() >= next_tick) {
            sg_http_tick(http);
            next_tick = sg_mono_ns() + SG_NS_PER_SEC;
        }
        if (sg_mono_ns() >= next_sign) {
            /* Sign the audit chain head (no-op when nothing new), and forget sessions that
             * ended a week ago (their logins and views stay in the audit trail). */
            sg_audit_checkpoint(cat, cfg.key_dir);
            sg_catalog_session_purge(cat, sg_utc_us() - 7 * 86400 * 1000000LL);
            next_sign = sg_mono_ns() + AUDIT_SIGN_INTERVAL_NS;
        }
        if (reload_requested) {
            struct sg_config fresh;
            reload_requested = 0;
            sg_config_defaults(&fresh);
            if (config_path && sg_config_load(config_path, &fresh, err, sizeof(err)) < 0) {
                sg_error("sargasd", 0, "reload refused: %s", err);
            } else {
                sg_log_set_level(fresh.log_level);
                daemon_audit(cat, "settings.reload", config_path ? config_path : "(defaults)");
                sg_info("sargasd", 0, "reloaded: log_level=%s (other options apply at restart)",
                        sg_log_level_name(fresh.log_level));
            }
        }
        sg_cameras_sync(cams, 0);
    }
    sg_info("sargasd", 0, "stopping");
    rc = 0;
out:
    sg_http_stop(&http);
    sg_exporter_stop(&exporter);
    if (cat && rc == 0) {
        daemon_audit(cat, "server.stop", NULL);
        sg_audit_checkpoint(cat, cfg.key_dir);
    }
    sg_cameras_destroy(&cams);
    sg_analysis_destroy(&analysis); /* ends open events: after the cameras, before MQTT */
    sg_mqtt_stop(&mqtt);
    sg_bus_destroy(&bus);
    sg_live_destroy(&live);
    sg_ingest_destroy(&ing);
    sg_retention_stop(&ret);
    sg_store_destroy(&store);
    sg_catalog_close(&cat);
    if (rc == 0)
        sg_info("sargasd", 0, "stopped cleanly");
    return rc;
}
