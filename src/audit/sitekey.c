/* Stub: being written. */
#include "audit/audit.h"
