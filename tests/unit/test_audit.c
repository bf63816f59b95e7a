/* The audit trail: appending (also from two connections at once), site keys, checkpoints and
 * verification, and that every kind of tampering with a copy of the catalog is found at the
 * exact entry. The tampering uses raw SQL after dropping the append-only triggers, as someone
 * holding the database file could. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "base/err.h"
#include "base/log.h"
#include "catalog/catalog.h"
#include "check.h"

#define N_ENTRIES 50
#define MID 25

static char dir[] = "/tmp/sg-audit-XXXXXX";
static char base_db[256], keys[256];
static unsigned char site_pk[3][SG_PUBKEY_BYTES]; /* [1], [2]: the sites' original keys */

static const char *const users[] = {
    "admin", "", "operator'; DROP TABLE audit;--", "Žemaitė ąčęėįšųūž", "O'Brien \"the\" %_\\",
};
static const char *const actions[] = { "login", "live.start", "live.stop", "camera.update", "access.denied" };

static void fill(struct sg_audit_entry *e, int i)
{
    memset(e, 0, sizeof(*e));
    e->site_id = i % 4 == 0 ? 2 : (i % 7 == 0 ? 0 : 1); /* 0 is stored as 1 */
    e->user_id = i % 5;
    snprintf(e->user, sizeof(e->user), "%s", users[i % 5]);
    if (i % 3)
        snprintf(e->source, sizeof(e->source), "10.0.0.%d", i);
    else
        snprintf(e->source, sizeof(e->source), "cli");
    snprintf(e->action, sizeof(e->action), "%s", actions[i % 5]);
    snprintf(e->outcome, sizeof(e->outcome), "%s", i % 6 ? "ok" : "denied");
    e->camera_id = i % 3;
    if (i % 2)
        snprintf(e->object, sizeof(e->object), "camera:%d", i % 3);
    else
        e->object[0] = 0;
    if (i % 4)
        snprintf(e->detail, sizeof(e->detail), "{\"n\":%d,\"note\":\"it's \\\"quoted\\\" ; -- ü\"}", i);
}

static int copy_file(const char *from, const char *to)
{
    char buf[65536];
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ssize_t n = 0;

    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)n) != n)
            n = -1;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return in >= 0 && out >= 0 && n == 0 ? 0 : -1;
}

/* Builds the reference catalog: 2 sites with keys, 50 entries, checkpoints at 25 and 50. */
static void build_base(void)
{
    struct sg_catalog *cat;
    struct sg_site s2 = { 0 }, site;
    struct sg_audit_entry e;
    struct stat st;
    char path[512];

    CHECK_EQ_INT(sg_catalog_open(base_db, 0, &cat), 0);
    snprintf(s2.name, sizeof(s2.name), "Biržai");
    CHECK_EQ_INT(sg_catalog_site_add(cat, &s2), 0);
    CHECK_EQ_INT(s2.id, 2);
    CHECK_EQ_INT(sg_catalog_site_add(cat, &s2), SG_E_EXISTS);
    CHECK_EQ_INT(sg_sitekey_ensure(cat, keys), 2);
    CHECK_EQ_INT(sg_sitekey_ensure(cat, keys), 0);
    for (int id = 1; id <= 2; id++) {
        CHECK_EQ_INT(sg_catalog_site_get(cat, id, &site), 0);
        CHECK(site.has_key);
        memcpy(site_pk[id], site.public_key, SG_PUBKEY_BYTES);
        snprintf(path, sizeof(path), "%s/site-%d.key", keys, id);
        CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == SG_SECKEY_BYTES);
    }
    CHECK(stat(keys, &st) == 0 && (st.st_mode & 0777) == 0700);
    CHECK_EQ_INT(sg_catalog_site_set_key(cat, 1, site_pk[2]), SG_E_EXISTS);
    CHECK_EQ_INT(sg_audit_checkpoint(cat, keys), 0); /* nothing to sign yet */
    for (int i = 1; i <= N_ENTRIES; i++) {
        fill(&e, i);
        CHECK_EQ_INT(sg_audit_append(cat, &e), 0);
        CHECK_EQ_INT(e.seq, i);
        CHECK(e.site_id >= 1);
        if (i == MID)
            CHECK_EQ_INT(sg_audit_checkpoint(cat, keys), 2);
    }
    CHECK_EQ_INT(sg_audit_checkpoint(cat, keys), 2);
    CHECK_EQ_INT(sg_audit_checkpoint(cat, keys), 0); /* the head is signed already */
    sg_catalog_close(&cat);
}

/* Stored fields read back exactly; hashing is the documented encoding; listing filters. */
static void test_read_back(void)
{
    struct sg_catalog *cat;
    struct sg_audit_entry *page = NULL, *l = NULL, want;
    struct sg_audit_filter f = { 0 };
    unsigned char h[SG_HASH_BYTES], buf[2048];
    size_t o = 0;
    int n;

    CHECK_EQ_INT(sg_catalog_open(base_db, 1, &cat), 0);
    n = sg_catalog_audit_page(cat, 0, 1000, &page);
    CHECK_EQ_INT(n, N_ENTRIES);
    for (int i = 0; i < n; i++) {
        fill(&want, i + 1);
        CHECK_EQ_INT(page[i].seq, i + 1);
        CHECK_EQ_INT(page[i].site_id, want.site_id ? want.site_id : 1);
        CHECK_STR(page[i].user, want.user);
        CHECK_STR(page[i].detail, want.detail);
        CHECK_STR(page[i].object, want.object);
        sg_audit_entry_hash(&page[i], h);
        CHECK(memcmp(h, page[i].hash, SG_HASH_BYTES) == 0);
        CHECK(memcmp(page[i].prev_hash, i ? page[i - 1].hash : (unsigned char[SG_HASH_BYTES]){ 0 },
                     SG_HASH_BYTES) == 0);
    }
    /* entry 3 by hand, as an outside verifier would from the comment in audit.c */
    if (n >= 3) {
        const struct sg_audit_entry *e = &page[2];
        const int64_t nums[] = { e->seq, e->ts_us, e->site_id, e->user_id };
        const char *strs[] = { e->user, e->source, e->action, e->outcome, NULL, e->object, e->detail };
        memcpy(buf, "sargas-audit-v1", 16);
        o = 16;
        for (int i = 0; i < 4; i++)
            for (int b = 7; b >= 0; b--)
                buf[o++] = (unsigned char)((uint64_t)nums[i] >> (8 * b));
        for (int i = 0; i < 7; i++) {
            uint32_t len;
            if (!strs[i]) {
                for (int b = 7; b >= 0; b--)
                    buf[o++] = (unsigned char)((uint64_t)e->camera_id >> (8 * b));
                continue;
            }
            len = (uint32_t)strlen(strs[i]);
            for (int b = 3; b >= 0; b--)
                buf[o++] = (unsigned char)(len >> (8 * b));
            memcpy(buf + o, strs[i], len);
            o += len;
        }
        memcpy(buf + o, e->prev_hash, SG_HASH_BYTES);
        o += SG_HASH_BYTES;
        crypto_hash_sha256(h, buf, o);
        CHECK(memcmp(h, e->hash, SG_HASH_BYTES) == 0);
    }
    free(page);

    f.user = users[2];
    f.limit = 1000;
    n = sg_catalog_audit_list(cat, &f, &l);
    CHECK_EQ_INT(n, N_ENTRIES / 5);
    if (n > 1)
        CHECK(l[0].seq > l[1].seq); /* newest first */
    free(l);
    memset(&f, 0, sizeof(f));
    f.action = "live.";
    f.limit = 3;
    n = sg_catalog_audit_list(cat, &f, &l);
    CHECK_EQ_INT(n, 3);
    if (n == 3)
        CHECK(!strncmp(l[0].action, "live.", 5) && l[0].seq == 47 && l[2].seq == 42);
    free(l);
    f.action = "live";   /* exact, not a prefix */
    CHECK_EQ_INT(sg_catalog_audit_list(cat, &f, &l), 0);
    free(l);
    f.action = "login";
    f.camera_id = 2;
    f.before_seq = 30;
    f.limit = 100;
    n = sg_catalog_audit_list(cat, &f, &l);
    CHECK_EQ_INT(n, 2); /* 5 and 20 */
    free(l);
    sg_catalog_close(&cat);
}

static int verify_file(const char *db, const struct sg_audit_key *k, int nk,
                       struct sg_audit_report *rep)
{
    struct sg_catalog *cat;
    int r;

    memset(rep, 0, sizeof(*rep));
    if ((r = sg_catalog_open(db, 1, &cat)) < 0)
        return r;
    r = sg_audit_verify(cat, k, nk, rep);
    sg_catalog_close(&cat);
    return r;
}

/* A fresh copy of the reference catalog with the triggers dropped, then `sql` run on it. */
static sqlite3 *tampered_copy(const char *copy, const char *sql)
{
    char *err = NULL;
    char wal[300];
    sqlite3 *db = NULL;

    snprintf(wal, sizeof(wal), "%s-wal", copy);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", copy);
    unlink(wal);
    CHECK_EQ_INT(copy_file(base_db, copy), 0);
    CHECK_EQ_INT(sqlite3_open(copy, &db), SQLITE_OK);
    /* the triggers really refuse */
    CHECK(sqlite3_exec(db, "UPDATE audit SET detail = '' WHERE seq = 1", NULL, NULL, NULL) != SQLITE_OK);
    CHECK(sqlite3_exec(db, "DELETE FROM audit_signatures", NULL, NULL, NULL) != SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"
                              "DROP TRIGGER audit_sig_no_update; DROP TRIGGER audit_sig_no_delete;",
                              NULL, NULL, NULL), SQLITE_OK);
    if (sql && sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "tamper SQL failed: %s\n", err);
        CHECK(0);
    }
    sqlite3_free(err);
    return db;
}

static void expect_broken(const char *what, const char *sql, int64_t bad, const char *words)
{
    char copy[300];
    struct sg_audit_report rep;
    int r;

    snprintf(copy, sizeof(copy), "%s/t.db", dir);
    sqlite3_close(tampered_copy(copy, sql));
    r = verify_file(copy, NULL, 0, &rep);
    printf("  %-34s -> %d at %lld: %s\n", what, r, (long long)rep.first_bad_seq, rep.problem);
    CHECK_EQ_INT(r, SG_E_CORRUPT);
    CHECK_EQ_INT(rep.first_bad_seq, bad);
    CHECK(strstr(rep.problem, words) != NULL);
}

/* Rewrites entry `seq` of the open raw copy and recomputes the hashes of entries seq..upto,
 * as someone who knows the encoding but not the keys would. */
static void rewrite_chain(const char *copy, sqlite3 *db, int64_t seq, int64_t upto)
{
    struct sg_catalog *cat;
    struct sg_audit_entry *e = NULL;
    sqlite3_stmt *s = NULL;
    int n;

    CHECK_EQ_INT(sg_catalog_open(copy, 1, &cat), 0);
    n = sg_catalog_audit_page(cat, 0, 1000, &e);
    sg_catalog_close(&cat);
    CHECK_EQ_INT(n, N_ENTRIES);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "UPDATE audit SET detail = ?, prev_hash = ?, hash = ?"
                                    " WHERE seq = ?", -1, &s, NULL), SQLITE_OK);
    snprintf(e[seq - 1].detail, sizeof(e[seq - 1].detail), "{\"n\":0}");
    for (int64_t i = seq - 1; i < n && i < upto; i++) {
        if (i > 0)
            memcpy(e[i].prev_hash, e[i - 1].hash, SG_HASH_BYTES);
        sg_audit_entry_hash(&e[i], e[i].hash);
        sqlite3_reset(s);
        sqlite3_bind_text(s, 1, e[i].detail, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(s, 2, e[i].prev_hash, SG_HASH_BYTES, SQLITE_TRANSIENT);
        sqlite3_bind_blob(s, 3, e[i].hash, SG_HASH_BYTES, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 4, e[i].seq);
        CHECK_EQ_INT(sqlite3_step(s), SQLITE_DONE);
    }
    sqlite3_finalize(s);
    free(e);
}

static void test_tampering(void)
{
    struct sg_audit_report rep;
    struct sg_audit_key pin[2] = { { .site_id = 1 }, { .site_id = 2 } };
    char copy[300], akeys[300];
    struct sg_catalog *cat;
    sqlite3 *db;
    int r;

    memcpy(pin[0].pk, site_pk[1], SG_PUBKEY_BYTES);
    memcpy(pin[1].pk, site_pk[2], SG_PUBKEY_BYTES);
    r = verify_file(base_db, pin, 2, &rep);
    CHECK_EQ_INT(r, 0);
    CHECK_EQ_INT(rep.entries, N_ENTRIES);
    CHECK_EQ_INT(rep.signatures, 4);
    CHECK_EQ_INT(rep.last_signed_seq, N_ENTRIES);
    CHECK_EQ_INT(rep.first_bad_seq, 0);
    CHECK_STR(rep.problem, "");

    expect_broken("edited detail", "UPDATE audit SET detail = '{}' WHERE seq = 10", 10,
                  "do not match its hash");
    expect_broken("edited time", "UPDATE audit SET ts_us = ts_us + 1 WHERE seq = 33", 33,
                  "do not match its hash");
    expect_broken("deleted middle entry", "DELETE FROM audit WHERE seq = 20", 20,
                  "entry 20 is missing");
    expect_broken("deleted two entries", "DELETE FROM audit WHERE seq IN (20, 21)", 20,
                  "entries 20 to 21 are missing");
    expect_broken("swapped two entries",
                  "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (12, 13);"
                  "UPDATE audit SET (ts_us, site_id, user_id, user_name, source, action, outcome,"
                  " camera_id, object, detail, prev_hash, hash) = (SELECT ts_us, site_id, user_id,"
                  " user_name, source, action, outcome, camera_id, object, detail, prev_hash, hash"
                  " FROM t WHERE t.seq = 25 - audit.seq) WHERE seq IN (12, 13)", 12,
                  "do not match its hash");
    expect_broken("prev_hash edited", "UPDATE audit SET prev_hash = zeroblob(32) WHERE seq = 40",
                  40, "do not match its hash");
    expect_broken("truncated after a checkpoint", "DELETE FROM audit WHERE seq >= 48", 48,
                  "entry 50 was signed but is missing");
    expect_broken("text with a NUL appended",
                  "UPDATE audit SET detail = detail || char(0) || 'x' WHERE seq = 7", 7,
                  "do not match its hash");
    expect_broken("text longer than its field",
                  "UPDATE audit SET object = object || printf('%300s', 'x') WHERE seq = 9", 9,
                  "do not match its hash");
    expect_broken("number stored as a real", "UPDATE audit SET camera_id = 2.5 WHERE seq = 14", 14,
                  "do not match its hash");
    expect_broken("forged signature",
                  "UPDATE audit_signatures SET signature = zeroblob(64) WHERE id = 3", 50,
                  "signature #3 for site 1 over entry 50 is invalid");

    /* rewrite the signed entry 25 and recompute the chain after it: only the signature shows */
    snprintf(copy, sizeof(copy), "%s/t.db", dir);
    db = tampered_copy(copy, NULL);
    rewrite_chain(copy, db, MID, N_ENTRIES);
    sqlite3_close(db);
    r = verify_file(copy, NULL, 0, &rep);
    printf("  %-34s -> %d at %lld: %s\n", "rewritten chain (signed entry)", r,
           (long long)rep.first_bad_seq, rep.problem);
    CHECK_EQ_INT(r, SG_E_CORRUPT);
    CHECK_EQ_INT(rep.first_bad_seq, MID);
    CHECK(strstr(rep.problem, "entry 25 was rewritten after it was signed") != NULL);
    /* one entry rewritten with a hash of its own: the next one no longer follows it */
    db = tampered_copy(copy, NULL);
    rewrite_chain(copy, db, 39, 39);
    sqlite3_close(db);
    r = verify_file(copy, NULL, 0, &rep);
    printf("  %-34s -> %d at %lld: %s\n", "rewritten entry, own hash", r,
           (long long)rep.first_bad_seq, rep.problem);
    CHECK_EQ_INT(r, SG_E_CORRUPT);
    CHECK_EQ_INT(rep.first_bad_seq, 40);
    CHECK(strstr(rep.problem, "entry 40: does not follow entry 39") != NULL);
    /* an unsigned entry: the signature after it narrows the change down to a range */
    db = tampered_copy(copy, NULL);
    rewrite_chain(copy, db, 30, N_ENTRIES);
    sqlite3_close(db);
    r = verify_file(copy, NULL, 0, &rep);
    printf("  %-34s -> %d at %lld: %s\n", "rewritten chain (unsigned entry)", r,
           (long long)rep.first_bad_seq, rep.problem);
    CHECK_EQ_INT(r, SG_E_CORRUPT);
    CHECK_EQ_INT(rep.first_bad_seq, N_ENTRIES);
    CHECK(strstr(rep.problem, "the change is in entries 26 to 50") != NULL);

    /* The full forgery: rewrite entry 50, delete the signatures, replace both sites' public
     * keys with the forger's and sign again. The catalog alone then looks intact; the keys
     * pinned from before show it is not. */
    db = tampered_copy(copy, "DELETE FROM audit_signatures; UPDATE sites SET public_key = NULL");
    rewrite_chain(copy, db, N_ENTRIES, N_ENTRIES);
    sqlite3_close(db);
    snprintf(akeys, sizeof(akeys), "%s/forger-keys", dir);
    CHECK_EQ_INT(sg_catalog_open(copy, 0, &cat), 0);
    CHECK_EQ_INT(sg_sitekey_ensure(cat, akeys), 2);
    CHECK_EQ_INT(sg_audit_checkpoint(cat, akeys), 2);
    sg_catalog_close(&cat);
    CHECK_EQ_INT(verify_file(copy, NULL, 0, &rep), 0);
    r = verify_file(copy, pin, 2, &rep);
    printf("  %-34s -> %d at %lld: %s\n", "replaced site keys, pinned", r,
           (long long)rep.first_bad_seq, rep.problem);
    CHECK_EQ_INT(r, SG_E_CORRUPT);
    CHECK_EQ_INT(rep.first_bad_seq, N_ENTRIES);
    CHECK(strstr(rep.problem, "over entry 50 is invalid") != NULL);

    /* signatures deleted: pinned keys notice that nothing is signed by them */
    expect_broken("signatures deleted, not pinned", "DELETE FROM audit_signatures;"
                  "UPDATE audit SET detail = '' WHERE seq = 5", 5, "do not match");
    db = tampered_copy(copy, "DELETE FROM audit_signatures");
    sqlite3_close(db);
    CHECK_EQ_INT(verify_file(copy, NULL, 0, &rep), 0);
    CHECK_EQ_INT(rep.last_signed_seq, 0);
    r = verify_file(copy, pin + 1, 1, &rep);
    printf("  %-34s -> %d at %lld: %s\n", "signatures deleted, site 2 pinned", r,
           (long long)rep.first_bad_seq, rep.problem);
    CHECK_EQ_INT(r, SG_E_CORRUPT);
    CHECK_EQ_INT(rep.first_bad_seq, 4); /* site 2's first entry */
}

/* ---- concurrent appends from two connections ---- */

#define PER_THREAD 150

struct appender {
    const char *db;
    int id, failures;
};

static void *append_thread(void *arg)
{
    struct appender *a = arg;
    struct sg_catalog *cat;
    struct sg_audit_entry e;

    if (sg_catalog_open(a->db, 0, &cat) < 0) {
        a->failures = PER_THREAD;
        return NULL;
    }
    for (int i = 0; i < PER_THREAD; i++) {
        fill(&e, i);
        snprintf(e.object, sizeof(e.object), "thread %d #%d", a->id, i);
        if (sg_audit_append(cat, &e) < 0)
            a->failures++;
    }
    sg_catalog_close(&cat);
    return NULL;
}

static void test_concurrent(void)
{
    char db[300];
    struct sg_catalog *cat;
    struct appender a[2];
    pthread_t t[2];
    struct sg_audit_report rep;

    snprintf(db, sizeof(db), "%s/conc.db", dir);
    CHECK_EQ_INT(sg_catalog_open(db, 0, &cat), 0); /* migrate once before the threads */
    sg_catalog_close(&cat);
    for (int i = 0; i < 2; i++) {
        a[i] = (struct appender){ .db = db, .id = i };
        CHECK_EQ_INT(pthread_create(&t[i], NULL, append_thread, &a[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_INT(a[0].failures + a[1].failures, 0);
    CHECK_EQ_INT(verify_file(db, NULL, 0, &rep), 0);
    CHECK_EQ_INT(rep.entries, 2 * PER_THREAD);
}

/* ---- site keys ---- */

static void test_keys(void)
{
    unsigned char pk[SG_PUBKEY_BYTES], sk[SG_SECKEY_BYTES], back[SG_SECKEY_BYTES];
    char db[300], kdir[300], path[400], fp[48];
    struct sg_catalog *cat;
    struct sg_site s = { 0 };
    struct sg_audit_entry e;
    struct stat st;
    int fd;

    snprintf(db, sizeof(db), "%s/keys.db", dir);
    snprintf(kdir, sizeof(kdir), "%s/sub/keys/", dir); /* parents made, trailing slash ok */
    CHECK_EQ_INT(sg_catalog_open(db, 0, &cat), 0);
    snprintf(s.name, sizeof(s.name), "Kaunas");
    CHECK_EQ_INT(sg_catalog_site_add(cat, &s), 0);
    snprintf(s.name, sizeof(s.name), "bad\nname");
    CHECK_EQ_INT(sg_catalog_site_add(cat, &s), -EINVAL);
    CHECK_EQ_INT(sg_catalog_site_find(cat, "Kaunas", &s), 0);
    CHECK_EQ_INT(s.id, 2);
    CHECK(!s.has_key);

    /* a key file for site 2 exists already (the catalog lost track of it): adopted as is */
    crypto_sign_keypair(pk, sk);
    snprintf(path, sizeof(path), "%s/sub", dir);
    CHECK_EQ_INT(mkdir(path, 0700), 0);
    CHECK_EQ_INT(mkdir(kdir, 0700), 0);
    snprintf(path, sizeof(path), "%ssite-2.key", kdir);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0 && write(fd, sk, sizeof(sk)) == (ssize_t)sizeof(sk));
    close(fd);
    CHECK_EQ_INT(sg_sitekey_ensure(cat, kdir), 1); /* only site 1's is new */
    CHECK_EQ_INT(sg_catalog_site_get(cat, 2, &s), 0);
    CHECK(s.has_key && memcmp(s.public_key, pk, SG_PUBKEY_BYTES) == 0);
    CHECK_EQ_INT(sg_sitekey_load(kdir, 2, back), 0);
    CHECK(memcmp(back, sk, SG_SECKEY_BYTES) == 0);
    CHECK_EQ_INT(sg_sitekey_load(kdir, 9, back), -ENOENT);
    snprintf(path, sizeof(path), "%ssite-1.key", kdir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);

    /* fingerprint: 8 groups of 4 hex digits */
    sg_sitekey_fingerprint(pk, fp, sizeof(fp));
    CHECK_EQ_INT(strlen(fp), 39);
    CHECK(fp[4] == ' ' && fp[34] == ' ' && fp[38] != ' ');

    /* a site whose secret key is gone is skipped; the others still sign */
    fill(&e, 1);
    CHECK_EQ_INT(sg_audit_append(cat, &e), 0);
    CHECK_EQ_INT(unlink(path), 0);
    CHECK_EQ_INT(sg_audit_checkpoint(cat, kdir), 1);
    /* ensure does not make a new key for a site that has one recorded (its file is missing) */
    CHECK_EQ_INT(sg_sitekey_ensure(cat, kdir), 0);
    CHECK(stat(path, &st) < 0);

    /* a damaged key file is reported and left alone; the other sites still get keys */
    memset(&s, 0, sizeof(s));
    snprintf(s.name, sizeof(s.name), "Vilnius");
    CHECK_EQ_INT(sg_catalog_site_add(cat, &s), 0);
    snprintf(s.name, sizeof(s.name), "Alytus");
    CHECK_EQ_INT(sg_catalog_site_add(cat, &s), 0);
    snprintf(path, sizeof(path), "%ssite-3.key", kdir);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0 && write(fd, "short", 5) == 5);
    close(fd);
    CHECK_EQ_INT(sg_sitekey_ensure(cat, kdir), SG_E_CORRUPT);
    CHECK(stat(path, &st) == 0 && st.st_size == 5);
    CHECK_EQ_INT(sg_catalog_site_get(cat, 3, &s), 0);
    CHECK(!s.has_key);
    CHECK_EQ_INT(sg_catalog_site_get(cat, 4, &s), 0);
    CHECK(s.has_key);

    /* a key file that is not the site's recorded key does not sign (site 1's is gone too) */
    snprintf(path, sizeof(path), "%ssite-4.key", kdir);
    CHECK_EQ_INT(unlink(path), 0);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0 && write(fd, sk, sizeof(sk)) == (ssize_t)sizeof(sk)); /* site 2's */
    close(fd);
    fill(&e, 2);
    CHECK_EQ_INT(sg_audit_append(cat, &e), 0);
    CHECK_EQ_INT(sg_audit_checkpoint(cat, kdir), 1);
    sg_catalog_close(&cat);
}

int main(void)
{
    sg_log_set_level(SG_LOG_ERROR);
    if (sg_auth_init() < 0)
        return 1;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(base_db, sizeof(base_db), "%s/base.db", dir);
    snprintf(keys, sizeof(keys), "%s/keys", dir);
    build_base();
    test_read_back();
    test_tampering();
    test_concurrent();
    test_keys();
    if (!check_failures) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return check_done("test_audit");
}
