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
/* Adds the names of the zones whose bits are set (bit i: z[i]) to the JSON array of names in
 * names (len bytes; text that is not such an array counts as "[]"), each name once, in the
 * order first seen. When the result would not fit, names is left as it was. */
void sg_zones_names_merge(const struct sg_zone *z, int n, uint32_t bits, char *names, size_t len);

#endif
