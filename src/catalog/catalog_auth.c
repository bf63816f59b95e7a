/* Stub: being written. */
#include "catalog/catalog_int.h"
