/* The MQTT publisher (libmosquitto): subscribes to the event bus and publishes camera state
 * changes and motion events as JSON to a documented topic scheme, reconnecting to the broker
 * on its own. Disabled when mqtt_host is empty. */
#ifndef SG_EVENTS_MQTT_H
#define SG_EVENTS_MQTT_H

#include <stddef.h>

#include "config/config.h"
#include "events/bus.h"

struct sg_mqtt;

/* Starts the publisher (its own thread) when cfg->mqtt_host is set; *out stays NULL when it
 * is not. version (borrowed, copied) goes into the server status message. Returns 0 or a
 * negative code (bad configuration). The broker being unreachable is not an error: it is
 * retried with backoff and logged. */
int sg_mqtt_start(const struct sg_config *cfg, struct sg_bus *bus, const char *version,
                  struct sg_mqtt **out);
/* Checks the mqtt_* settings as sg_mqtt_start will (nothing when mqtt_host is empty), the
 * password file included, without connecting: for sargasd --check-config. Returns 0, or
 * SG_E_CONFIG / a negative errno with err set. */
int sg_mqtt_check(const struct sg_config *cfg, char *err, size_t n);
/* Sends what is queued (for at most a second), disconnects, joins the thread. Whoever
 * publishes on the bus must have stopped. NULL: nothing; *m is left NULL. */
void sg_mqtt_stop(struct sg_mqtt **m);

#endif
