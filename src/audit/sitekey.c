/* Sites' signing keys and the checkpoints they sign.
 *
 * Site N's Ed25519 secret key (libsodium's 64-byte form: seed then public key) is the file
 * key_dir/site-N.key, mode 0600 in a directory of mode 0700; the catalog holds only the public
 * key. A secret key file is never overwritten: it is written under a temporary name and then
 * hard-linked to its final name, which fails when that name exists.
 *
 * A checkpoint signs, with a site's key, the message
 *   "sargas-audit-sig-v1" 0x00 || site_id (int64 BE) || seq (int64 BE) || ts_us (int64 BE)
 *   || hash (32 bytes: the chain hash of entry seq)
 * (Ed25519, detached). Together with the chain (audit.c), a valid signature over entry N
 * vouches for entries 1..N as they were when it was made. */
#include "audit/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit_int.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "base/log.h"

static const char sig_tag[] = "sargas-audit-sig-v1"; /* signed with its NUL */

static void be64(unsigned char *b, int64_t v)
{
    uint64_t u = (uint64_t)v;

    for (int i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(u & 0xff);
        u >>= 8;
    }
}

size_t audit__sig_message(const struct sg_audit_sig *sig, unsigned char out[AUDIT__SIG_MSG_BYTES])
{
    memcpy(out, sig_tag, sizeof(sig_tag));
    be64(out + sizeof(sig_tag), sig->site_id);
    be64(out + sizeof(sig_tag) + 8, sig->seq);
    be64(out + sizeof(sig_tag) + 16, sig->ts_us);
    memcpy(out + sizeof(sig_tag) + 24, sig->hash, SG_HASH_BYTES);
    return AUDIT__SIG_MSG_BYTES;
}

_Static_assert(sizeof(sig_tag) + 24 + SG_HASH_BYTES == AUDIT__SIG_MSG_BYTES, "signed message size");
_Static_assert(SG_SECKEY_BYTES == crypto_sign_SECRETKEYBYTES, "secret key size");
_Static_assert(SG_PUBKEY_BYTES == crypto_sign_PUBLICKEYBYTES, "public key size");
_Static_assert(SG_SIG_BYTES == crypto_sign_BYTES, "signature size");
_Static_assert(SG_HASH_BYTES == crypto_hash_sha256_BYTES, "hash size");

/* key_dir without its trailing slashes: the length to print of it. */
static int dir_len(const char *key_dir)
{
    size_t len = strlen(key_dir);

    while (len > 1 && key_dir[len - 1] == '/')
        len--;
    return len > INT_MAX ? INT_MAX : (int)len;
}

/* key_dir/site-N.key, or with tmp, a name for mkstemp beside it. */
static int key_path(const char *key_dir, int64_t site_id, int tmp, char *out, size_t n)
{
    int len = snprintf(out, n, tmp ? "%.*s/.site-%lld.key.XXXXXX" : "%.*s/site-%lld.key",
                       dir_len(key_dir), key_dir, (long long)site_id);

    return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

int sg_sitekey_load(const char *key_dir, int64_t site_id, unsigned char sk[SG_SECKEY_BYTES])
{
    unsigned char pk[SG_PUBKEY_BYTES], sk2[SG_SECKEY_BYTES];
    char path[PATH_MAX];
    struct stat st;
    ssize_t got;
    int fd = -1, r;

    if ((r = key_path(key_dir, site_id, 0, path, sizeof(path))) < 0)
        return r;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || st.st_size != SG_SECKEY_BYTES) {
        sg_error("audit", 0, "%s: not a %d-byte key file", path, SG_SECKEY_BYTES);
        r = SG_E_CORRUPT;
        goto fail;
    }
    if (st.st_mode & 077)
        sg_warn("audit", 0, "%s: readable by others (mode %03o); it should be 0600", path,
                (unsigned)(st.st_mode & 0777));
    do
        got = read(fd, sk, SG_SECKEY_BYTES);
    while (got < 0 && errno == EINTR);
    if (got != SG_SECKEY_BYTES) {
        r = got < 0 ? -errno : SG_E_CORRUPT;
        goto fail;
    }
    /* The public half stored in the file must be the one its seed gives. */
    crypto_sign_seed_keypair(pk, sk2, sk);
    r = sodium_memcmp(sk2, sk, SG_SECKEY_BYTES) == 0 ? 0 : SG_E_CORRUPT;
    if (r < 0)
        sg_error("audit", 0, "%s: damaged key file", path);
    sodium_memzero(sk2, sizeof(sk2));
fail:
    if (r < 0)
        sodium_memzero(sk, SG_SECKEY_BYTES);
    close(fd);
    return r;
}

/* Creates key_dir (mode 0700) and its parents. */
static int make_key_dir(const char *key_dir)
{
    char dir[PATH_MAX];
    size_t len = (size_t)dir_len(key_dir);
    struct stat st;
    int r;

    if (len == 0 || len >= sizeof(dir))
        return -ENAMETOOLONG;
    memcpy(dir, key_dir, len);
    dir[len] = 0;
    if (strchr(dir + 1, '/') && (r = sg_mkdir_parent(dir)) < 0)
        return r;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -errno;
    if (stat(dir, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (st.st_mode & 077)
        sg_warn("audit", 0, "key directory %s is open to others (mode %03o); it should be 0700",
                dir, (unsigned)(st.st_mode & 0777));
    return 0;
}

/* Writes sk as site_id's key file unless one exists. 0, -EEXIST or another negative code. */
static int write_key(const char *key_dir, int64_t site_id, const unsigned char sk[SG_SECKEY_BYTES])
{
    char path[PATH_MAX], tmp[PATH_MAX];
    struct iovec iov = { .iov_base = (void *)sk, .iov_len = SG_SECKEY_BYTES };
    int fd = -1, r;

    if ((r = key_path(key_dir, site_id, 0, path, sizeof(path))) < 0 ||
        (r = key_path(key_dir, site_id, 1, tmp, sizeof(tmp))) < 0)
        return r;
    fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0)
        return -errno;
    if (fchmod(fd, 0600) < 0 || (r = sg_writev_all(fd, &iov, 1)) < 0 || fsync(fd) < 0) {
        r = r < 0 ? r : -errno;
        goto fail;
    }
    if (close(fd) < 0) {
        fd = -1;
        r = -errno;
        goto fail;
    }
    fd = -1;
    /* link() rather than rename(): it refuses to replace an existing key (two processes making
     * the first key at once, or a key the catalog lost track of). */
    if (link(tmp, path) < 0) {
        r = -errno;
        goto fail;
    }
    unlink(tmp);
    return sg_fsync_parent(path);
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return r;
}

/* Gives one keyless site a key: the existing file's, else a fresh one. 1 when a key pair was
 * made, 0 when an existing file was adopted, or a negative code. */
static int ensure_one(struct sg_catalog *cat, const char *key_dir, int64_t site_id)
{
    unsigned char pk[SG_PUBKEY_BYTES], sk[SG_SECKEY_BYTES];
    int made = 0, r;

    r = sg_sitekey_load(key_dir, site_id, sk);
    if (r == -ENOENT) {
        crypto_sign_keypair(pk, sk);
        r = write_key(key_dir, site_id, sk);
        if (r == -EEXIST) /* made by someone else meanwhile: use theirs */
            r = sg_sitekey_load(key_dir, site_id, sk);
        else if (r == 0)
            made = 1;
    }
    if (r < 0) {
        sg_error("audit", 0, "site %lld: cannot make or read its key in %s: %s", (long long)site_id,
                 key_dir, sg_strerror(r));
        goto out;
    }
    if (!made)
        sg_warn("audit", 0, "site %lld: adopting the existing key file in %s", (long long)site_id,
                key_dir);
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    r = sg_catalog_site_set_key(cat, site_id, pk);
    if (r == SG_E_EXISTS) {
        /* recorded by another process meanwhile: it must be this same key */
        struct sg_site site;
        if ((r = sg_catalog_site_get(cat, site_id, &site)) == 0 &&
            (!site.has_key || sodium_memcmp(site.public_key, pk, SG_PUBKEY_BYTES) != 0)) {
            sg_error("audit", 0, "site %lld: its key file does not match its recorded public key",
                     (long long)site_id);
            r = SG_E_CORRUPT;
        }
    }
    if (r == 0)
        r = made;
out:
    sodium_memzero(sk, sizeof(sk));
    return r;
}

int sg_sitekey_ensure(struct sg_catalog *cat, const char *key_dir)
{
    struct sg_site *sites = NULL;
    int n, made = 0, dir_ok = 0, first_err = 0, r;

    n = sg_catalog_site_list(cat, &sites);
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++) {
        if (sites[i].has_key)
            continue;
        if (!dir_ok && (r = make_key_dir(key_dir)) < 0) {
            sg_error("audit", 0, "cannot create the key directory %s: %s", key_dir, sg_strerror(r));
            first_err = r;
            break;
        }
        dir_ok = 1;
        /* one site's damaged key file must not keep the others from getting theirs */
        if ((r = ensure_one(cat, key_dir, sites[i].id)) < 0 && !first_err)
            first_err = r;
        if (r > 0)
            made += r;
    }
    free(sites);
    return first_err ? first_err : made;
}

void sg_sitekey_fingerprint(const unsigned char pk[SG_PUBKEY_BYTES], char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char h[crypto_hash_sha256_BYTES];
    char fp[48];
    size_t o = 0;

    crypto_hash_sha256(h, pk, SG_PUBKEY_BYTES);
    for (int i = 0; i < 16; i++) {
        if (i && i % 2 == 0)
            fp[o++] = ' ';
        fp[o++] = hex[h[i] >> 4];
        fp[o++] = hex[h[i] & 15];
    }
    fp[o] = 0;
    if (n)
        snprintf(out, n, "%s", fp);
}

/* Signs the head (seq, hash) for one site. 1 when a signature was written, 0 when the site
 * was skipped, or a negative code. */
static int sign_one(struct sg_catalog *cat, const char *key_dir, const struct sg_site *site,
                    int64_t seq, const unsigned char hash[SG_HASH_BYTES])
{
    unsigned char sk[SG_SECKEY_BYTES], pk[SG_PUBKEY_BYTES], msg[AUDIT__SIG_MSG_BYTES];
    struct sg_audit_sig sig = { .seq = seq, .site_id = site->id };
    int r;

    r = sg_sitekey_load(key_dir, site->id, sk);
    if (r < 0) {
        sg_warn("audit", 0, "site %lld: no usable secret key in %s (%s): not signed",
                (long long)site->id, key_dir, sg_strerror(r));
        return 0;
    }
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    if (sodium_memcmp(pk, site->public_key, SG_PUBKEY_BYTES) != 0) {
        sg_warn("audit", 0, "site %lld: %s/site-%lld.key is not the key recorded for the site:"
                " not signed", (long long)site->id, key_dir, (long long)site->id);
        r = 0;
        goto out;
    }
    sig.ts_us = sg_utc_us();
    memcpy(sig.hash, hash, SG_HASH_BYTES);
    audit__sig_message(&sig, msg);
    crypto_sign_detached(sig.sig, NULL, msg, sizeof(msg), sk);
    r = sg_catalog_audit_sig_add(cat, &sig);
    if (r == 0)
        r = 1;
out:
    sodium_memzero(sk, sizeof(sk));
    return r;
}

int sg_audit_checkpoint(struct sg_catalog *cat, const char *key_dir)
{
    unsigned char hash[SG_HASH_BYTES];
    struct sg_site *sites = NULL;
    int64_t seq, last;
    int n, count = 0, r;

    /* One write transaction: two checkpoints at once do not sign the same head twice. */
    if ((r = sg_catalog_begin(cat)) < 0)
        return r;
    if ((r = sg_catalog_audit_head(cat, &seq, hash)) < 0)
        goto fail;
    if (seq == 0)
        goto done;
    if ((n = sg_catalog_site_list(cat, &sites)) < 0) {
        r = n;
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        if (!sites[i].has_key)
            continue;
        if ((r = sg_catalog_audit_sig_last(cat, sites[i].id, &last)) < 0)
            goto fail;
        if (last >= seq)
            continue;
        if ((r = sign_one(cat, key_dir, &sites[i], seq, hash)) < 0)
            goto fail;
        count += r;
    }
done:
    if ((r = sg_catalog_commit(cat)) < 0)
        goto fail;
    free(sites);
    return count;
fail:
    sg_catalog_rollback(cat);
    free(sites);
    return r;
}
