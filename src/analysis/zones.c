/* Zones and masks: JSON <-> struct sg_zone (zones.h). */
#include "analysis/zones.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(char *err, size_t n, const char *msg, size_t i)
{
    snprintf(err, n, "zones[%zu]: %s", i, msg);
    return -EINVAL;
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);

    if (!n || n >= sizeof(((struct sg_zone *)0)->name))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* One zone object into z. */
static int parse_zone(json_t *o, size_t i, struct sg_zone *z, char *err, size_t n)
{
    const char *key, *name = json_string_value(json_object_get(o, "name"));
    const char *kind = json_string_value(json_object_get(o, "kind"));
    json_t *pts = json_object_get(o, "points"), *v, *sens, *area;
    size_t k;

    json_object_foreach(o, key, v)
        if (strcmp(key, "name") && strcmp(key, "kind") && strcmp(key, "points") && strcmp(key, "sensitivity") &&
            strcmp(key, "min_area"))
            return bad(err, n, "unknown field (name, kind, points, sensitivity, min_area)", i);
    memset(z, 0, sizeof(*z));
    if (!name || !name_ok(name))
        return bad(err, n, "name: 1-63 characters, no control characters", i);
    snprintf(z->name, sizeof(z->name), "%s", name);
    if (!kind || (strcmp(kind, "detect") && strcmp(kind, "mask")))
        return bad(err, n, "kind: detect or mask", i);
    z->kind = !strcmp(kind, "mask") ? SG_ZONE_MASK : SG_ZONE_DETECT;
    if (!json_is_array(pts) || json_array_size(pts) < 3 || json_array_size(pts) > SG_MOTION_MAX_POINTS)
        return bad(err, n, "points: 3 to 32 [x, y] pairs", i);
    json_array_foreach(pts, k, v) {
        json_t *x = json_array_get(v, 0), *y = json_array_get(v, 1);
        if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_number(x) || !json_is_number(y) ||
            json_number_value(x) < 0 || json_number_value(x) > 1 || json_number_value(y) < 0 ||
            json_number_value(y) > 1)
            return bad(err, n, "points: each [x, y] with 0 <= x, y <= 1", i);
        z->x[k] = (float)json_number_value(x);
        z->y[k] = (float)json_number_value(y);
    }
    z->n = (int)json_array_size(pts);
    if ((sens = json_object_get(o, "sensitivity")) &&
        (!json_is_integer(sens) || json_integer_value(sens) < 1 || json_integer_value(sens) > 100))
        return bad(err, n, "sensitivity: an integer from 1 to 100", i);
    z->sensitivity = sens ? (int)json_integer_value(sens) : 0;
    if ((area = json_object_get(o, "min_area")) &&
        (!json_is_number(area) || json_number_value(area) <= 0 || json_number_value(area) > 0.5))
        return bad(err, n, "min_area: a fraction of the picture above 0, at most 0.5", i);
    z->min_area = area ? (float)json_number_value(area) : 0;
    return 0;
}

int sg_zones_parse(const char *json, struct sg_zone *out, char *err, size_t errlen)
{
    json_error_t je;
    json_t *a = json_loads(json, JSON_REJECT_DUPLICATES, &je), *o;
    size_t i;
    int r = 0;

    if (!a || !json_is_array(a)) {
        snprintf(err, errlen, "zones must be a JSON array of zone objects");
        json_decref(a);
        return -EINVAL;
    }
    if (json_array_size(a) > SG_MOTION_MAX_ZONES) {
        snprintf(err, errlen, "at most %d zones and masks", SG_MOTION_MAX_ZONES);
        json_decref(a);
        return -EINVAL;
    }
    json_array_foreach(a, i, o) {
        if (!json_is_object(o) && (r = bad(err, errlen, "not an object", i)) < 0)
            break;
        if ((r = parse_zone(o, i, &out[i], err, errlen)) < 0)
            break;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(out[k].name, out[i].name)) {
                r = bad(err, errlen, "a second zone with this name", i);
                break;
            }
        if (r < 0)
            break;
    }
    r = r < 0 ? r : (int)json_array_size(a);
    json_decref(a);
    return r;
}

void sg_zones_names_merge(const struct sg_zone *z, int n, uint32_t bits, char *names, size_t len)
{
    json_t *a = json_loads(names, 0, NULL), *v;
    size_t k;
    char *s;

    if (!json_is_array(a)) {
        json_decref(a);
        a = json_array();
    }
    for (int i = 0; i < n; i++) {
        int have = 0;
        if (!(bits & (1u << i)))
            continue;
        json_array_foreach(a, k, v)
            have |= json_is_string(v) && !strcmp(json_string_value(v), z[i].name);
        if (!have)
            json_array_append_new(a, json_string(z[i].name));
    }
    s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (s && strlen(s) < len)
        snprintf(names, len, "%s", s);
    free(s);
}
