/* Stub: being written. */
#include "audit/audit.h"
#include "base/err.h"

int sg_audit_append(struct sg_catalog *cat, struct sg_audit_entry *e)
{
    (void)cat;
    (void)e;
    return SG_E_UNSUPPORTED;
}
