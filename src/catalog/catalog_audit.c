/* Stub: being written. */
#include <string.h>
#include "catalog/catalog_int.h"
#include "base/err.h"
int sg_catalog_audit_list(struct sg_catalog *cat, const struct sg_audit_filter *f, struct sg_audit_entry **out)
{
    (void)cat; (void)f; *out = NULL; return 0;
}
int sg_catalog_site_get(struct sg_catalog *cat, int64_t id, struct sg_site *out)
{
    (void)cat; memset(out, 0, sizeof(*out)); out->id = id; return 0;
}
int sg_catalog_site_find(struct sg_catalog *cat, const char *name, struct sg_site *out)
{
    (void)cat; (void)name; (void)out; return SG_E_NOTFOUND;
}
