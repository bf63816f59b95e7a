/* The export runner: one background thread that takes queued exports from the catalog, oldest
 * first, and turns each into an evidence package (docs/EVIDENCE.md): per range one MP4 cut
 * from the recordings without transcoding (or an ONVIF export file), a manifest with hashes
 * signed with the site's key, a README for the recipient, all zipped into one file in the
 * export directory. It runs at the lowest CPU and I/O priority so that recording never waits
 * for it. Exports left running by a stopped server are started again. */
#ifndef SG_EVIDENCE_EXPORTER_H
#define SG_EVIDENCE_EXPORTER_H

#include <stdint.h>

#include "base/fsutil.h"

struct sg_exporter_opts {
    const char *catalog_path;
    const char *export_dir;
    const char *key_dir;
    const char *generator;            /* "sargas 0.x" */
    int keep_days;                    /* finished packages older than this are deleted; 0: kept */
    const char (*roots)[SG_ROOT_MAX]; /* storage roots: segment files resolve under them */
    int n_roots;
};

struct sg_exporter;

int sg_exporter_start(const struct sg_exporter_opts *o, struct sg_exporter **out);
/* Stops after the range being cut (an export in progress is requeued at the next start). */
void sg_exporter_stop(struct sg_exporter **e);
/* Runs one export synchronously (the thread's work; tests and the CLI). 0 or a negative code;
 * the export's state in the catalog says what happened. */
int sg_exporter_run_one(const struct sg_exporter_opts *o, int64_t export_id);

#endif
