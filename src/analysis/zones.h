/* Zones and masks of a camera as JSON (the API's and the catalog's form) and as the analysis
 * core's struct sg_zone:
 *   [{"name": "door", "kind": "detect" | "mask", "points": [[x, y], ...],
 *     "sensitivity": 1..100 (optional), "min_area": 0..0.5 (optional)}, ...]
 * with x, y in 0..1 (left to right, top to bottom), 3 to 32 points, at most 16 zones, names
 * 1-63 characters without control characters, unique. */
#ifndef SG_ANALYSIS_ZONES_H
#define SG_ANALYSIS_ZONES_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/motion.h"

/* Parses and validates; fills out[0..n) and returns n (0..SG_MOTION_MAX_ZONES), or -EINVAL
 * with the reason in err. */
int sg_zones_parse(const char *json, struct sg_zone *out, char *err, size_t errlen);
/* The names of the zones whose bits are set, as a JSON array text ("[]" when none). */
void sg_zones_names(const struct sg_zone *z, int n, uint32_t bits, char *out, size_t len);

#endif
