/* Stub: being written. */
#include <sodium.h>

#include "auth/auth.h"
#include "base/err.h"

int sg_auth_init(void) { return sodium_init() < 0 ? SG_E_UNSUPPORTED : 0; }
