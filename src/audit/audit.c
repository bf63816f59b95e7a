/* Stub: being written. */
#include "audit/audit.h"
#include "base/err.h"

int sg_audit_append(struct sg_catalog *cat, struct sg_audit_entry *e)
{
    (void)cat;
    (void)e;
    return SG_E_UNSUPPORTED;
}
int sg_sitekey_ensure(struct sg_catalog *cat, const char *key_dir) { (void)cat; (void)key_dir; return 0; }
int sg_audit_checkpoint(struct sg_catalog *cat, const char *key_dir) { (void)cat; (void)key_dir; return 0; }
