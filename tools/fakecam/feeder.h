/* tools/fakecam: the feeder thread that paces every camera.
 *
 * One thread ticks every 40 ms on CLOCK_MONOTONIC, aligned to UTC frame
 * boundaries: at the tick where UTC time enters frame c (c = floor(utc_us /
 * 40000), frames since the Unix epoch at 25 fps) it pushes access unit
 * c mod FC_LOOP_FRAMES, preceded by the fakecam SEI carrying c and the send
 * time, to every live stream.
 *
 * A real camera sends nothing before PLAY, so a stream is fed only while it
 * is live. Its life:
 *   preroll  after fc_feeder_add(): as soon as its pipeline runs (the appsrc
 *            is going PLAYING; fc_feeder_preroll(), else the next tick) it
 *            gets one frame, the IDR that began the current GOP, so that the RTSP
 *            server can preroll and answer DESCRIBE at once; then it idles.
 *            That frame is stale by the time a client plays; the caller
 *            drops it (fc_feeder_last_pts()).
 *   idle     nothing is pushed: frames are not queued up for later.
 *   live     from the next IDR (c mod FC_GOP == 0) on, every frame.
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

/* Registers a stream, in preroll. key identifies it for the calls below
 * (borrowed, only compared). src and m: the feeder takes its own references.
 * name is copied (for log lines). Returns 0 or -ENOMEM. */
int fc_feeder_add(struct fc_feeder *f, const void *key, GstAppSrc *src,
                  struct fc_media *m, const char *name);
/* Unregisters the stream with this key, if any. Thread-safe. */
void fc_feeder_remove(struct fc_feeder *f, const void *key);

/* Pushes the preroll frame to the stream with this key now, if it waits for
 * it and its pipeline runs; else does nothing. For the appsrc's need-data
 * signal. Thread-safe. Returns 1 when the stream is past preroll (now or
 * before), 0 when it still waits, -ENOENT when no stream has this key. */
int fc_feeder_preroll(struct fc_feeder *f, const void *key);
/* Makes the stream with this key live (it starts again at the next IDR) or
 * idle (it gets nothing). Going idle during preroll waits for the preroll
 * frame first. Thread-safe. Returns 1 on a change, 0 when the stream already
 * was in that state, -ENOENT when no stream has this key. */
int fc_feeder_set_live(struct fc_feeder *f, const void *key, int live);
/* The PTS of the last buffer pushed to the stream with this key, or
 * GST_CLOCK_TIME_NONE. PTSs strictly increase, and an idle stream gets
 * nothing: once it is idle (or prerolled), every buffer at or before this PTS
 * is stale and every later one is live. Thread-safe. Returns 0 or -ENOENT. */
int fc_feeder_last_pts(struct fc_feeder *f, const void *key, GstClockTime *pts);

#endif
