/* Stub: being written. */
#include "auth/auth.h"
