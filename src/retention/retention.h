/* Retention: deletes the oldest footage that no evidence lock covers, for three reasons, in
 * this order: a camera's maximum age (GDPR), a storage root's quota, a storage root's free-space
 * floor. Deletion is crash-safe: the row is marked 'deleting' and committed before the file is
 * unlinked, and the row is removed after; start-up reconciliation finishes an interrupted one.
 * When space is short and nothing may be deleted, it says so loudly; the store then stops
 * writing rather than fill the disk. */
#ifndef SG_RETENTION_RETENTION_H
#define SG_RETENTION_RETENTION_H

#include <stdint.h>

#include "base/fsutil.h"

struct sg_retention_opts {
    const char *catalog_path;
    char (*roots)[SG_ROOT_MAX];
    int n_roots;
    int64_t quota;              /* per root, 0 = none */
    int64_t min_free;           /* per root */
    int interval_s;             /* full age pass; space is checked every second */
    void (*freed)(void *opaque);/* called after space was freed (the store re-reads free space) */
    void *opaque;
};

struct sg_retention;

int sg_retention_start(const struct sg_retention_opts *opts, struct sg_retention **out);
void sg_retention_stop(struct sg_retention **ret);
/* One synchronous pass (also used by the CLI and tests). Returns segments deleted or <0. */
int sg_retention_run_once(const struct sg_retention_opts *opts, int age_pass);

#endif
