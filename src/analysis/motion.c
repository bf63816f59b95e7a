/* Stub: being written. */
#include "analysis/motion.h"
