/* Stub: being written. */
#include "events/mqtt.h"

#include <stddef.h>

int sg_mqtt_start(const struct sg_config *cfg, struct sg_bus *bus, struct sg_mqtt **out)
{
    (void)cfg;
    (void)bus;
    *out = NULL;
    return 0;
}

void sg_mqtt_stop(struct sg_mqtt **m) { *m = NULL; }
