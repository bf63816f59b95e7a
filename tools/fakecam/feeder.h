/* tools/fakecam: the feeder thread that paces every camera.
 *
 * One thread ticks every 40 ms on CLOCK_MONOTONIC, aligned to UTC frame
 * boundaries: at the tick where UTC time enters frame c (c = floor(utc_us /
 * 40000), frames since the Unix epoch at 25 fps) it pushes access unit
 * c mod FC_LOOP_FRAMES, preceded by the fakecam SEI carrying c and the send
 * time, to every registered appsrc. A newly registered stream gets its first
 * frame at the next IDR (c mod FC_GOP == 0).
 */
#ifndef FAKECAM_FEEDER_H
#define FAKECAM_FEEDER_H

#include <gst/app/gstappsrc.h>

#include "media.h"

struct fc_feeder;

int fc_feeder_create(struct fc_feeder **out);
/* Starts the thread. Returns 0 or a negative errno. */
int fc_feeder_start(struct fc_feeder *f);
/* Stops and joins the thread (when started), drops every stream, frees.
 * Accepts NULL and sets *f to NULL. */
void fc_feeder_destroy(struct fc_feeder **f);

/* Registers a stream. key identifies it for fc_feeder_remove() (borrowed,
 * only compared). src and m: the feeder takes its own references. name is
 * copied (for log lines). Returns 0 or -ENOMEM. */
int fc_feeder_add(struct fc_feeder *f, const void *key, GstAppSrc *src,
                  struct fc_media *m, const char *name);
/* Unregisters the stream with this key, if any. Thread-safe. */
void fc_feeder_remove(struct fc_feeder *f, const void *key);

#endif
