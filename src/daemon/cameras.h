/* The camera manager: keeps the running streams (recorder + live hub) in step with the cameras table. It polls
 * the catalog's change counter (PRAGMA data_version, so `sargas camera add` in another process
 * is seen within a second) and starts, stops or restarts streams whose settings changed. */
#ifndef SG_DAEMON_CAMERAS_H
#define SG_DAEMON_CAMERAS_H

#include "analysis/analysis.h"
#include "catalog/catalog.h"
#include "config/config.h"
#include "events/bus.h"
#include "ingest/ingest.h"
#include "live/live.h"
#include "record/record.h"

struct sg_cameras;

struct sg_cameras *sg_cameras_create(const struct sg_config *cfg, struct sg_catalog *cat,
                                     struct sg_ingest *ing, struct sg_store *st, struct sg_live *live);
/* Camera state changes go to this bus from now on (set before the first sync). */
void sg_cameras_set_bus(struct sg_cameras *cm, struct sg_bus *bus);
/* Streams are analysed for motion by a from now on (set before the first sync; NULL = off). */
void sg_cameras_set_analysis(struct sg_cameras *cm, struct sg_analysis *a);
/* Applies catalog changes (all of them on the first call). Returns 0 or <0. */
int sg_cameras_sync(struct sg_cameras *cm, int force);
/* Stops every stream and frees the manager. */
void sg_cameras_destroy(struct sg_cameras **cm);

#endif
