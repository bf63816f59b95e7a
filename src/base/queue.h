/* Bounded multi-producer / single-consumer queue of pointers, limited both in items and in
 * bytes (the producer states each item's weight). Producers never block: a full queue answers
 * -EAGAIN and the producer decides what to drop. The consumer waits with a monotonic deadline. */
#ifndef SG_BASE_QUEUE_H
#define SG_BASE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct sg_queue;

struct sg_queue *sg_queue_create(size_t max_items, size_t max_bytes); /* aborts on OOM */
void sg_queue_destroy(struct sg_queue **q); /* items still queued are NOT freed; drain first */

/* Item ownership passes to the queue on success. -EAGAIN when full, -EPIPE when closed.
 * `force` ignores the limits (for small control messages that must not be lost). */
int sg_queue_push(struct sg_queue *q, void *item, size_t bytes, int force);
/* Pops the oldest item into *item. Returns 0, -ETIMEDOUT at the deadline (CLOCK_MONOTONIC ns;
 * 0 = don't wait), or -EPIPE when the queue is closed and empty. */
int sg_queue_pop(struct sg_queue *q, void **item, int64_t deadline_ns);
void sg_queue_close(struct sg_queue *q);
size_t sg_queue_bytes(struct sg_queue *q);

#endif
