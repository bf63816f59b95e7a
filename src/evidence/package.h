/* Evidence packages: the signed, self-describing directory an export hands to police or a
 * court (format and the recipient's steps: docs/EVIDENCE.md; checked by src/verify/).
 *
 *   <dir>/manifest.json   what the package holds: site, export, items, every file's size and
 *                         SHA-256; written once
 *   <dir>/manifest.sig    Ed25519 signature of manifest.json's exact bytes (128 hex + "\n")
 *   <dir>/README.txt      for the recipient (listed and hashed in the manifest)
 *   <dir>/media/<name>    one file per item, written by the caller before the package is
 *
 * The caller (the export job) cuts the media files into <dir>/media/ and then calls
 * sg_evidence_write, which hashes them, writes README.txt, signs the manifest and makes it
 * all durable. manifest.json appears last, so its presence means the package is complete. */
#ifndef SG_EVIDENCE_PACKAGE_H
#define SG_EVIDENCE_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#define SG_EVIDENCE_SECKEY_BYTES 64  /* libsodium's Ed25519 secret key, as sg_sitekey_load gives */

/* Times are UTC microseconds since 1970 (written as RFC 3339 with milliseconds). */
struct sg_evidence_range {
    int64_t start_us, end_us;
};

struct sg_evidence_case {
    int64_t id;
    const char *reference, *title, *reason;
};

struct sg_evidence_item {
    int64_t camera_id;
    const char *camera_name;
    const char *stream;                      /* "main" or "sub" */
    struct sg_evidence_range requested;      /* what the user asked for */
    struct sg_evidence_range included;       /* what the file holds (from sg_export_info) */
    int64_t frames;
    const struct sg_evidence_range *gaps;    /* n_gaps holes inside the range (may be NULL) */
    size_t n_gaps;
    const char *file;  /* its name in <dir>/media/: [A-Za-z0-9._-], not starting with '.';
                          each item has its own file */
};

/* Everything borrowed; strings must be UTF-8 (they are JSON strings in the manifest). */
struct sg_evidence_info {
    const char *generator;        /* "sargas 0.1.0" */
    int64_t created_us;           /* 0: now */
    int64_t site_id;
    const char *site_name;
    int64_t export_id;
    const char *user;
    int64_t user_id;
    const char *reason;
    const struct sg_evidence_case *export_case;  /* NULL: not part of a case */
    const struct sg_evidence_item *items;
    size_t n_items;               /* at least 1 */
};

/* Completes the package in `dir` (which holds media/ with every item's file and nothing else
 * but what an earlier, interrupted call left): hashes every
 * file, writes README.txt, manifest.sig and then manifest.json (each to a temporary name,
 * fsynced, renamed), fsyncs the directories. sk: the site's secret key (borrowed). On failure
 * err (may be NULL) says why in one sentence; a package without manifest.json is incomplete
 * and the call may be repeated. Returns 0, -EINVAL (bad info: the message names the field),
 * -EEXIST (manifest.json exists: a package is written once), -ENOENT (a media file is
 * missing), -ENOTEMPTY (dir or media/ holds a file that is not the package's), or another
 * negative errno. */
int sg_evidence_write(const char *dir, const struct sg_evidence_info *info,
                      const unsigned char sk[SG_EVIDENCE_SECKEY_BYTES], char *err, size_t err_len);

#endif
