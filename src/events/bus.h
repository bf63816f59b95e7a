/* The in-process event bus: camera state changes and motion events, from whichever thread
 * notices them, to every subscriber (the MQTT publisher today). Subscribers are called on the
 * publisher's thread and must not block: they copy what they need into their own bounded
 * queue. Subscribe before the first publish; the list is fixed afterwards. */
#ifndef SG_EVENTS_BUS_H
#define SG_EVENTS_BUS_H

#include <stdint.h>

#include "catalog/catalog.h"

enum sg_event_type {
    SG_EV_CAMERA_STATE = 1,    /* a stream went online, offline, connecting, or away ("") */
    SG_EV_MOTION_START,        /* a motion event began */
    SG_EV_MOTION_END,          /* ... and ended */
};

struct sg_event {
    int type;                  /* enum sg_event_type */
    int64_t utc_us;            /* when it happened */
    int64_t camera_id;
    char camera[SG_NAME_MAX];  /* camera name */
    int64_t site_id;
    char site[SG_NAME_MAX];    /* site name ("" when unknown) */
    /* SG_EV_CAMERA_STATE */
    int stream;                /* enum sg_stream */
    char state[16];            /* "online", "offline", "connecting"; "": the stream stopped for
                                * good (camera removed or disabled, sub stream removed) */
    char error[256];           /* why it is not online ("" when online) */
    /* SG_EV_MOTION_* */
    int64_t event_id;          /* the catalog's id of the motion event */
    int64_t start_us, end_us;  /* end_us 0 while it goes on */
    float peak_score;          /* 0..1 */
    char zones[256];           /* names of the zones touched, comma-separated */
};

typedef void (*sg_bus_fn)(void *opaque, const struct sg_event *ev);

struct sg_bus;

struct sg_bus *sg_bus_create(void);
void sg_bus_destroy(struct sg_bus **bus);
/* Adds a subscriber (at most 8). Returns 0 or -ENOSPC. Not after the first publish. */
int sg_bus_subscribe(struct sg_bus *bus, sg_bus_fn fn, void *opaque);
/* Hands ev to every subscriber, on this thread. NULL bus: nothing. */
void sg_bus_publish(struct sg_bus *bus, const struct sg_event *ev);

#endif
