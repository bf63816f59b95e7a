/* Verification of the whole trail: the chain entry by entry, then the signatures over it.
 *
 * Entries are read a page at a time (bounded memory); signatures, a few per checkpoint, are
 * loaded at once and sorted by the entry they sign, so that each is checked when the walk
 * reaches its entry. The first problem in entry order is reported; at one entry the chain is
 * checked before the signatures over it. */
#include "audit/audit.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_int.h"
#include "base/err.h"
#include "base/log.h"

#define PAGE 1000

struct walk {
    const struct sg_audit_key *keys;
    int n_keys;
    struct sg_site *sites;
    int n_sites;
    struct sg_audit_sig *sigs;
    int n_sigs, next_sig;      /* sigs sorted by seq; the first not yet checked */
    int64_t *pinned_first;     /* per keys[i]: the first entry of that site (0 = none) */
    int *pinned_ok;            /* per keys[i]: a signature verified with it */
    struct sg_audit_report *rep;
};

static int fail_at(struct sg_audit_report *rep, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct sg_audit_report *rep, int64_t seq, const char *fmt, ...)
{
    va_list ap;

    rep->first_bad_seq = seq;
    va_start(ap, fmt);
    vsnprintf(rep->problem, sizeof(rep->problem), fmt, ap);
    va_end(ap);
    return SG_E_CORRUPT;
}

static int by_seq(const void *a, const void *b)
{
    const struct sg_audit_sig *x = a, *y = b;

    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The key that checks site_id's signatures: a pinned one, else the catalog's. NULL if none. */
static const unsigned char *key_for(const struct walk *w, int64_t site_id, int *pinned)
{
    for (int i = 0; i < w->n_keys; i++) {
        if (w->keys[i].site_id == site_id) {
            *pinned = i;
            return w->keys[i].pk;
        }
    }
    *pinned = -1;
    for (int i = 0; i < w->n_sites; i++)
        if (w->sites[i].id == site_id)
            return w->sites[i].has_key ? w->sites[i].public_key : NULL;
    return NULL;
}

/* 0 when sig is a good signature by its site's key, else SG_E_CORRUPT with the report filled
 * (bad_seq: the entry the problem is reported at). */
static int check_sig_crypto(struct walk *w, const struct sg_audit_sig *sig, int64_t bad_seq)
{
    unsigned char msg[AUDIT__SIG_MSG_BYTES];
    const unsigned char *pk;
    int pinned;

    pk = key_for(w, sig->site_id, &pinned);
    if (!pk)
        return fail_at(w->rep, bad_seq, "signature #%lld for site %lld over entry %lld cannot be"
                       " checked: the site has no public key", (long long)sig->id,
                       (long long)sig->site_id, (long long)sig->seq);
    audit__sig_message(sig, msg);
    if (crypto_sign_verify_detached(sig->sig, msg, sizeof(msg), pk) != 0)
        return fail_at(w->rep, bad_seq, "signature #%lld for site %lld over entry %lld is invalid",
                       (long long)sig->id, (long long)sig->site_id, (long long)sig->seq);
    if (pinned >= 0)
        w->pinned_ok[pinned] = 1;
    return 0;
}

/* Checks the signatures over entry e (which passed the chain checks). */
static int check_sigs_at(struct walk *w, const struct sg_audit_entry *e)
{
    struct sg_audit_report *rep = w->rep;
    int r;

    for (; w->next_sig < w->n_sigs && w->sigs[w->next_sig].seq <= e->seq; w->next_sig++) {
        const struct sg_audit_sig *sig = &w->sigs[w->next_sig];

        if (sig->seq != e->seq) /* seq < 1: names an entry that cannot exist */
            return fail_at(rep, e->seq, "signature #%lld for site %lld names entry %lld, which"
                           " cannot exist", (long long)sig->id, (long long)sig->site_id,
                           (long long)sig->seq);
        if ((r = check_sig_crypto(w, sig, e->seq)) < 0)
            return r;
        if (sodium_memcmp(sig->hash, e->hash, SG_HASH_BYTES) != 0) {
            /* The chain was recomputed: everything up to the last good signature is as it
             * was signed, so the change lies after it. */
            if (rep->last_signed_seq + 1 < e->seq)
                return fail_at(rep, e->seq, "entry %lld was rewritten after it was signed"
                               " (signature #%lld for site %lld; the change is in entries %lld"
                               " to %lld)", (long long)e->seq, (long long)sig->id,
                               (long long)sig->site_id, (long long)rep->last_signed_seq + 1,
                               (long long)e->seq);
            return fail_at(rep, e->seq, "entry %lld was rewritten after it was signed"
                           " (signature #%lld for site %lld)", (long long)e->seq,
                           (long long)sig->id, (long long)sig->site_id);
        }
        rep->signatures++;
        rep->last_signed_seq = e->seq;
    }
    return 0;
}

/* The chain checks of one entry, given the seq expected and the previous entry's hash. */
static int check_entry(struct walk *w, const struct sg_audit_entry *e, int64_t expected,
                       const unsigned char prev[SG_HASH_BYTES])
{
    unsigned char h[SG_HASH_BYTES];

    if (e->seq < expected) /* only possible for seq < 1 */
        return fail_at(w->rep, expected, "an entry numbered %lld precedes entry 1 (inserted?)",
                       (long long)e->seq);
    if (e->seq == expected + 1)
        return fail_at(w->rep, expected, "entry %lld is missing (deleted?)", (long long)expected);
    if (e->seq > expected)
        return fail_at(w->rep, expected, "entries %lld to %lld are missing (deleted?)",
                       (long long)expected, (long long)e->seq - 1);
    sg_audit_entry_hash(e, h);
    if (sodium_memcmp(h, e->hash, SG_HASH_BYTES) != 0)
        return fail_at(w->rep, e->seq, "entry %lld: its contents do not match its hash (edited,"
                       " or moved from elsewhere)", (long long)e->seq);
    if (sodium_memcmp(prev, e->prev_hash, SG_HASH_BYTES) != 0)
        return fail_at(w->rep, e->seq, "entry %lld: does not follow entry %lld (an entry was"
                       " removed, reordered or rewritten)", (long long)e->seq,
                       (long long)e->seq - 1);
    for (int i = 0; i < w->n_keys; i++)
        if (w->keys[i].site_id == e->site_id && !w->pinned_first[i])
            w->pinned_first[i] = e->seq;
    return 0;
}

/* Walks every entry. Returns 0, SG_E_CORRUPT or a read error. */
static int walk_chain(struct sg_catalog *cat, struct walk *w)
{
    unsigned char prev[SG_HASH_BYTES] = { 0 };
    struct sg_audit_entry *page = NULL;
    int64_t expected = 1;
    int n, r = 0;

    do {
        n = sg_catalog_audit_page(cat, expected - 1, PAGE, &page);
        if (n < 0)
            return n;
        for (int i = 0; i < n && r == 0; i++) {
            if ((r = check_entry(w, &page[i], expected, prev)) < 0 ||
                (r = check_sigs_at(w, &page[i])) < 0)
                break;
            memcpy(prev, page[i].hash, SG_HASH_BYTES);
            expected++;
            w->rep->entries++;
        }
        free(page);
        page = NULL;
    } while (r == 0 && n == PAGE);
    return r;
}

/* After the walk: signatures over entries past the end, and pinned keys that signed nothing. */
static int check_rest(struct walk *w)
{
    struct sg_audit_report *rep = w->rep;
    int64_t last = rep->entries;
    int r;

    if (w->next_sig < w->n_sigs) {
        const struct sg_audit_sig *sig = &w->sigs[w->next_sig];

        if ((r = check_sig_crypto(w, sig, last + 1)) < 0)
            return r;
        if (sig->seq == last + 1)
            return fail_at(rep, last + 1, "entry %lld was signed but is missing (the trail was"
                           " truncated)", (long long)sig->seq);
        return fail_at(rep, last + 1, "entry %lld was signed but is missing (the trail was"
                       " truncated: entries %lld to %lld are gone)", (long long)sig->seq,
                       (long long)last + 1, (long long)sig->seq);
    }
    for (int i = 0; i < w->n_keys; i++)
        if (w->pinned_first[i] && !w->pinned_ok[i])
            return fail_at(rep, w->pinned_first[i], "site %lld has entries (the first is entry"
                           " %lld) but no signature made with the key given for it (signatures"
                           " removed, or never signed?)", (long long)w->keys[i].site_id,
                           (long long)w->pinned_first[i]);
    return 0;
}

int sg_audit_verify(struct sg_catalog *cat, const struct sg_audit_key *keys, int n_keys,
                    struct sg_audit_report *rep)
{
    struct walk w = { .keys = keys, .n_keys = n_keys > 0 ? n_keys : 0, .rep = rep };
    int r;

    memset(rep, 0, sizeof(*rep));
    if ((r = w.n_sigs = sg_catalog_audit_sig_list(cat, &w.sigs)) < 0)
        goto fail;
    if ((r = w.n_sites = sg_catalog_site_list(cat, &w.sites)) < 0)
        goto fail;
    w.pinned_first = calloc((size_t)w.n_keys + 1, sizeof(*w.pinned_first));
    w.pinned_ok = calloc((size_t)w.n_keys + 1, sizeof(*w.pinned_ok));
    if (!w.pinned_first || !w.pinned_ok) {
        r = -ENOMEM;
        goto fail;
    }
    if (w.n_sigs > 1)
        qsort(w.sigs, (size_t)w.n_sigs, sizeof(*w.sigs), by_seq);
    if ((r = walk_chain(cat, &w)) == 0)
        r = check_rest(&w);
fail:
    if (r < 0 && r != SG_E_CORRUPT)
        sg_error("audit", 0, "cannot verify the audit trail: %s", sg_strerror(r));
    free(w.sigs);
    free(w.sites);
    free(w.pinned_first);
    free(w.pinned_ok);
    return r < 0 ? r : 0;
}
