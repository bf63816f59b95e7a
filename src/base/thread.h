/* Owned, named, joined threads. No detached threads and no cancellation: a thread ends when
 * its owner asks it to (a flag or a closed queue) and the owner joins it. */
#ifndef SG_BASE_THREAD_H
#define SG_BASE_THREAD_H

#include <pthread.h>

struct sg_thread {
    pthread_t tid;
    int running;
    char name[16];
};

/* Starts fn(arg) in a thread named `name` (at most 15 characters are kept). Returns 0 or -errno. */
int sg_thread_start(struct sg_thread *t, const char *name, void *(*fn)(void *), void *arg);
/* Joins the thread if it was started; safe to call twice. */
void sg_thread_join(struct sg_thread *t);

#endif
