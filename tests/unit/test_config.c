#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/err.h"
#include "config/config.h"
#include "check.h"

static int load_text(const char *text, struct sg_config *cfg, char *err, size_t n)
{
    char path[] = "/tmp/sg-config-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    int r;

    fputs(text, f);
    fclose(f);
    sg_config_defaults(cfg);
    r = sg_config_load(path, cfg, err, n);
    /* error messages name the file: replace it for stable comparisons */
    unlink(path);
    return r;
}

int main(void)
{
    struct sg_config cfg;
    char err[512];
    int64_t sz;

    sg_config_defaults(&cfg);
    CHECK_EQ_INT(cfg.segment_seconds, 300);
    CHECK_EQ_INT(cfg.default_retain_hours, 72);
    CHECK_EQ_INT(cfg.n_storage_roots, 1);

    CHECK_EQ_INT(load_text("# comment\n\nstorage_root = /a\nstorage_root = /b\nsegment_seconds = 60\n"
                           "storage_quota = 2G\nlog_level = debug\n", &cfg, err, sizeof(err)), 0);
    CHECK_EQ_INT(cfg.n_storage_roots, 2);
    CHECK_STR(cfg.storage_roots[1], "/b");
    CHECK_EQ_INT(cfg.segment_seconds, 60);
    CHECK_EQ_INT(cfg.storage_quota, 2LL << 30);

    CHECK_EQ_INT(load_text("storage_root = /a\nbogus_key = 1\n", &cfg, err, sizeof(err)), SG_E_CONFIG);
    CHECK(strstr(err, ":2: unknown option 'bogus_key'") != NULL);
    CHECK_EQ_INT(load_text("segment_seconds = 0\n", &cfg, err, sizeof(err)), SG_E_CONFIG);
    CHECK(strstr(err, ":1: 'segment_seconds' must be an integer from 2 to 3600") != NULL);
    CHECK_EQ_INT(load_text("segment_seconds = 12abc\n", &cfg, err, sizeof(err)), SG_E_CONFIG);
    CHECK_EQ_INT(load_text("\n\nno equals sign\n", &cfg, err, sizeof(err)), SG_E_CONFIG);
    CHECK(strstr(err, ":3: expected 'key = value'") != NULL);
    CHECK_EQ_INT(load_text("storage_root = relative/path\n", &cfg, err, sizeof(err)), SG_E_CONFIG);
    CHECK(strstr(err, "absolute path") != NULL);
    CHECK_EQ_INT(load_text("log_level = loud\n", &cfg, err, sizeof(err)), SG_E_CONFIG);
    CHECK_EQ_INT(load_text("rtsp_transport = http\n", &cfg, err, sizeof(err)), SG_E_CONFIG);
    CHECK_EQ_INT(load_text("allow_test_sources = maybe\n", &cfg, err, sizeof(err)), SG_E_CONFIG);
    CHECK_EQ_INT(load_text("storage_min_free = 12Q\n", &cfg, err, sizeof(err)), SG_E_CONFIG);
    CHECK_EQ_INT(load_text("segment_seconds = 10\nsegment_seconds = 20\n", &cfg, err, sizeof(err)), SG_E_CONFIG);
    CHECK(strstr(err, ":2: option 'segment_seconds' given twice") != NULL);
    CHECK_EQ_INT(load_text("backoff_min_ms = 5000\nbackoff_max_ms = 1000\n", &cfg, err, sizeof(err)), SG_E_CONFIG);
    CHECK_EQ_INT(load_text("storage_root = /a\nstorage_root = /a/b\n", &cfg, err, sizeof(err)), SG_E_CONFIG);
    CHECK_EQ_INT(load_text("listen = 127.0.0.1:8080\x01\n", &cfg, err, sizeof(err)), SG_E_CONFIG);

    {
        char longroot[400] = "storage_root = /";
        memset(longroot + 16, 'a', 300);
        longroot[316] = '\n';
        longroot[317] = 0;
        CHECK_EQ_INT(load_text(longroot, &cfg, err, sizeof(err)), SG_E_CONFIG); /* > 255 chars */
    }
    CHECK_EQ_INT(sg_parse_size("64K", &sz), 0);
    CHECK_EQ_INT(sz, 65536);
    CHECK_EQ_INT(sg_parse_size("1TB", &sz), 0);
    CHECK_EQ_INT(sz, 1LL << 40);
    CHECK(sg_parse_size("-1", &sz) < 0);
    CHECK(sg_parse_size("99999999999T", &sz) < 0);
    return check_done("test_config");
}
