/* The in-process event bus (bus.h): a fixed list of subscribers called in turn. */
#include "events/bus.h"

#include <errno.h>
#include <stdlib.h>

#define BUS_MAX 8

struct sg_bus {
    int n;
    sg_bus_fn fn[BUS_MAX];
    void *opaque[BUS_MAX];
};

struct sg_bus *sg_bus_create(void)
{
    struct sg_bus *b = calloc(1, sizeof(*b));

    if (!b)
        abort();
    return b;
}

void sg_bus_destroy(struct sg_bus **bus)
{
    free(*bus);
    *bus = NULL;
}

int sg_bus_subscribe(struct sg_bus *bus, sg_bus_fn fn, void *opaque)
{
    if (bus->n == BUS_MAX)
        return -ENOSPC;
    bus->fn[bus->n] = fn;
    bus->opaque[bus->n] = opaque;
    bus->n++;
    return 0;
}

void sg_bus_publish(struct sg_bus *bus, const struct sg_event *ev)
{
    if (!bus)
        return;
    for (int i = 0; i < bus->n; i++)
        bus->fn[i](bus->opaque[i], ev);
}
