/* The failed-login limiter: a fixed-size open table of keys (account names, client
 * addresses), each with the times of its last `max` failures in a ring. When the table is
 * full, the entry whose newest failure is oldest is reused: an attacker spraying addresses
 * can evict entries, but each eviction costs it the failures it had spent there, and the
 * per-account key still holds (its failures come from every address). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "base/clock.h"

#define RL_SLOTS 4096
#define RL_KEY 128
#define RL_MAX_RING 64

struct rl_entry {
    char key[RL_KEY];
    int n;                      /* failures in the ring */
    int head;
    int64_t t[RL_MAX_RING];     /* monotonic ns of failures, ring */
    int64_t newest;
};

struct sg_ratelimit {
    pthread_mutex_t mu;
    int max;
    int64_t window_ns;
    struct rl_entry *e;
};

struct sg_ratelimit *sg_ratelimit_create(int max, int window_s)
{
    struct sg_ratelimit *rl = calloc(1, sizeof(*rl));

    if (!rl)
        abort();
    rl->max = max < 1 ? 1 : max > RL_MAX_RING ? RL_MAX_RING : max;
    rl->window_ns = (int64_t)window_s * SG_NS_PER_SEC;
    rl->e = calloc(RL_SLOTS, sizeof(*rl->e));
    if (!rl->e)
        abort();
    pthread_mutex_init(&rl->mu, NULL);
    return rl;
}

void sg_ratelimit_destroy(struct sg_ratelimit **rlp)
{
    struct sg_ratelimit *rl = *rlp;

    if (!rl)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl->e);
    free(rl);
    *rlp = NULL;
}

static uint32_t hash_key(const char *k)
{
    uint32_t h = 2166136261u;

    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 16777619u;
    return h;
}

/* Drops failures older than the window. */
static void expire(struct sg_ratelimit *rl, struct rl_entry *e, int64_t now)
{
    while (e->n > 0) {
        int oldest = (e->head - e->n + RL_MAX_RING) % RL_MAX_RING;
        if (now - e->t[oldest] < rl->window_ns)
            break;
        e->n--;
    }
}

/* Finds the key's entry, or (create) a free or least recently failed one. */
static struct rl_entry *lookup(struct sg_ratelimit *rl, const char *key, int create, int64_t now)
{
    uint32_t h = hash_key(key);
    struct rl_entry *victim = NULL;

    for (int i = 0; i < 16; i++) { /* a short probe: bounded work per attempt */
        struct rl_entry *e = &rl->e[(h + (uint32_t)i) % RL_SLOTS];
        if (e->key[0] && !strncmp(e->key, key, RL_KEY - 1))
            return e;
        if (!create)
            continue;
        if (e->key[0])
            expire(rl, e, now);
        if (!e->key[0] || !e->n) {
            if (!victim || victim->key[0])
                victim = e;
        } else if (!victim || (victim->key[0] && e->newest < victim->newest)) {
            victim = e;
        }
    }
    if (!victim)
        return NULL;
    memset(victim, 0, sizeof(*victim));
    strncpy(victim->key, key, RL_KEY - 1);
    return victim;
}

int sg_ratelimit_check(struct sg_ratelimit *rl, const char *key, int64_t now)
{
    struct rl_entry *e;
    int wait = 0;

    pthread_mutex_lock(&rl->mu);
    e = lookup(rl, key, 0, now);
    if (e) {
        expire(rl, e, now);
        if (e->n >= rl->max) {
            int oldest = (e->head - e->n + RL_MAX_RING) % RL_MAX_RING;
            int64_t left = e->t[oldest] + rl->window_ns - now;
            wait = (int)(left / SG_NS_PER_SEC) + 1;
        }
    }
    pthread_mutex_unlock(&rl->mu);
    return wait;
}

void sg_ratelimit_fail(struct sg_ratelimit *rl, const char *key, int64_t now)
{
    struct rl_entry *e;

    pthread_mutex_lock(&rl->mu);
    e = lookup(rl, key, 1, now);
    if (e) {
        expire(rl, e, now);
        e->t[e->head] = now;
        e->head = (e->head + 1) % RL_MAX_RING;
        if (e->n < RL_MAX_RING)
            e->n++;
        e->newest = now;
    }
    pthread_mutex_unlock(&rl->mu);
}

void sg_ratelimit_clear(struct sg_ratelimit *rl, const char *key)
{
    struct rl_entry *e;

    pthread_mutex_lock(&rl->mu);
    e = lookup(rl, key, 0, 0);
    if (e)
        e->n = 0;
    pthread_mutex_unlock(&rl->mu);
}
