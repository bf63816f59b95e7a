#include "base/thread.h"

#include <signal.h>
#include <string.h>

int sg_thread_start(struct sg_thread *t, const char *name, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    int r;

    memset(t, 0, sizeof(*t));
    strncpy(t->name, name, sizeof(t->name) - 1);
    /* Workers never take signals: the main thread handles them (it only sets flags). */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    r = pthread_create(&t->tid, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r)
        return -r;
    pthread_setname_np(t->tid, t->name);
    t->running = 1;
    return 0;
}

void sg_thread_join(struct sg_thread *t)
{
    if (!t->running)
        return;
    pthread_join(t->tid, NULL);
    t->running = 0;
}
