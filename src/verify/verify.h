/* Offline verification of an evidence package (format: docs/EVIDENCE.md; writer:
 * src/evidence/package.h).
 *
 * This module depends on libsodium, jansson and libc only (not on sg_base or anything above
 * it), so that it links into the small standalone `sargas-verify` a recipient can build alone.
 * Nothing here trusts the package: every path in the manifest is checked before use and every
 * file is opened relative to the package directory, one component at a time, without
 * following symbolic links, so a hostile manifest cannot make it read outside the package.
 *
 * A check always runs to the end and names every problem: the files are hashed even when the
 * signature is bad, and a bad manifest entry does not stop the others from being checked. */
#ifndef SG_VERIFY_VERIFY_H
#define SG_VERIFY_VERIFY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SG_VERIFY_FORMAT "sargas-evidence/1"
#define SG_VERIFY_PUBKEY_BYTES 32
#define SG_VERIFY_FP_LEN 48       /* room for a fingerprint, as sg_sitekey_fingerprint's */
#define SG_VERIFY_MANIFEST_MAX (16 << 20)  /* larger manifests are refused */

enum sg_verify_status {
    SG_VERIFY_OK,             /* listed, present, same size and SHA-256 */
    SG_VERIFY_MODIFIED,       /* same size, different SHA-256 */
    SG_VERIFY_SIZE_MISMATCH,  /* different size (not hashed) */
    SG_VERIFY_MISSING,        /* listed but absent */
    SG_VERIFY_UNEXPECTED,     /* present but not listed */
    SG_VERIFY_UNREADABLE,     /* listed but not a readable regular file (detail says why) */
};

enum sg_verify_sig {
    SG_VERIFY_SIG_VALID,      /* verified: with a key given by the caller, or (none given)
                                 with the key embedded in the manifest */
    SG_VERIFY_SIG_INVALID,    /* does not verify with any key at hand, or is malformed */
    SG_VERIFY_SIG_NONE,       /* manifest.sig missing */
    SG_VERIFY_SIG_UNTRUSTED,  /* valid with the manifest's key, which is none of those given */
};

struct sg_verify_file {
    char *path;               /* owned by the report; as in the manifest, or as found on disk */
    enum sg_verify_status status;
    int64_t size;             /* bytes found, -1 when not known */
    int64_t expected_size;    /* from the manifest, -1 for UNEXPECTED */
    char sha256[65];          /* of the bytes found, "" when not hashed */
    char expected_sha256[65]; /* from the manifest, "" for UNEXPECTED */
    char detail[160];         /* why UNREADABLE, what an UNEXPECTED entry is; may be "" */
};

struct sg_verify_report {
    char *package;            /* the directory as given */
    struct sg_verify_file *files;  /* manifest order, then the unexpected ones sorted by path */
    size_t n_files;
    enum sg_verify_sig sig;
    int keys_given;           /* the caller gave trusted keys (the trust rule applies) */
    char fingerprint[SG_VERIFY_FP_LEN];  /* of the key that verified (VALID) or that signed
                                            (UNTRUSTED); "" otherwise */
    char sig_detail[256];     /* one sentence about the signature */
    char **errors;            /* problems with the manifest itself, one sentence each */
    size_t n_errors;
    json_t *manifest;         /* owned: the manifest when it passed every check (so the
                                 summary can rely on its shape), else NULL */
    int problems;             /* files not OK + a signature not VALID + errors; 0 = verified */
};

/* Verifies the package in directory `dir`. keys: n_keys trusted public keys (borrowed; may
 * be NULL when n_keys is 0). Returns 0 with *out set (the verdict is (*out)->problems == 0),
 * or a negative errno when the check could not run (dir cannot be opened: *out is NULL). */
int sg_verify_package(const char *dir, const unsigned char (*keys)[SG_VERIFY_PUBKEY_BYTES],
                      size_t n_keys, struct sg_verify_report **out);
/* Frees a report; accepts NULL and leaves NULL behind. */
void sg_verify_report_destroy(struct sg_verify_report **rep);

/* The report for people (one line per file, the signature, the summary of the export, the
 * verdict) and for programs (caller decrefs; NULL only without memory). */
void sg_verify_print(const struct sg_verify_report *rep, FILE *f);
json_t *sg_verify_report_json(const struct sg_verify_report *rep);

/* The fingerprint of a public key, the same as sg_sitekey_fingerprint prints (first 16 bytes
 * of its SHA-256 in hex, groups of 4). out: SG_VERIFY_FP_LEN bytes. */
void sg_verify_fingerprint(const unsigned char pk[SG_VERIFY_PUBKEY_BYTES], char out[SG_VERIFY_FP_LEN]);
/* 1 when rel is a path the format allows: components of [A-Za-z0-9._-] separated by single
 * '/', none starting with '.', at most 8 of them, 1 to 255 bytes in all. The writer uses the
 * same rule, so that it never makes a package the verifier would refuse. */
int sg_verify_path_ok(const char *rel);
/* Parses 64 hex digits (surrounding white space allowed) into a key. 0 or -EINVAL. */
int sg_verify_parse_key(const char *s, unsigned char pk[SG_VERIFY_PUBKEY_BYTES]);

/* The whole command line of `sargas-verify` and `sargas verify`:
 *   PACKAGE [--key K]... [--json]
 * K: 64 hex digits, or a file holding them. prog names the command in messages. Returns the
 * exit status: 0 verified, 1 not verified, 2 usage or I/O error. */
int sg_verify_main(int argc, char **argv, const char *prog);

#endif
