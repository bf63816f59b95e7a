/* Internals shared by the audit module's files. Nothing outside src/audit/ includes this. */
#ifndef SG_AUDIT_AUDIT_INT_H
#define SG_AUDIT_AUDIT_INT_H

#include <stddef.h>

#include "audit/audit.h"

/* "sargas-audit-sig-v1\0" (20) + site_id, seq, ts_us (3 x 8) + hash (32) */
#define AUDIT__SIG_MSG_BYTES (20 + 24 + SG_HASH_BYTES)

/* The message a checkpoint signature covers (the layout is in sitekey.c). Returns its size. */
size_t audit__sig_message(const struct sg_audit_sig *sig, unsigned char out[AUDIT__SIG_MSG_BYTES]);

#endif
