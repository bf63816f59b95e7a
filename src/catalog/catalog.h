/* The catalog: cameras, their live state, recorded segments, video-loss intervals and evidence
 * locks. This module is the only place that speaks SQL (SQLite today; PostgreSQL will be a
 * second backend behind this same API). All times are UTC microseconds since the epoch.
 *
 * A struct sg_catalog is one connection and must be used by one thread at a time. Every
 * function returns 0 (or a count / id when documented) or a negative error code. */
#ifndef SG_CATALOG_CATALOG_H
#define SG_CATALOG_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#define SG_NAME_MAX 128
#define SG_URL_MAX 1024
#define SG_RELPATH_MAX 256

enum sg_stream { SG_STREAM_MAIN = 0, SG_STREAM_SUB = 1 };
enum sg_transport { SG_TRANSPORT_DEFAULT = 0, SG_TRANSPORT_TCP = 1, SG_TRANSPORT_UDP = 2 };
enum sg_seg_status {
    SG_SEG_RECORDING = 0, /* being written; end/bytes lag the file by at most a second */
    SG_SEG_COMPLETE = 1,
    SG_SEG_DELETING = 2,  /* retention decided to delete it; the file may still exist */
    SG_SEG_MISSING = 3,   /* the catalog knew it but its file was gone at start-up */
};

struct sg_camera {
    int64_t id;
    int64_t site_id;          /* the municipality that owns it (0 on add = site 1) */
    char name[SG_NAME_MAX];
    char main_url[SG_URL_MAX];
    char sub_url[SG_URL_MAX]; /* "" = none */
    int retain_hours;
    int transport;            /* enum sg_transport */
    int record_sub;           /* also record the sub stream */
    int enabled;
    int64_t created_us, updated_us;
};

struct sg_stream_state {
    int64_t camera_id;
    int stream;               /* enum sg_stream */
    char state[16];           /* connecting, online, offline, disabled */
    int64_t since_us;
    char last_error[256];
    char codec[8];
    int width, height;
    int64_t updated_us;
};

struct sg_segment {
    int64_t id;
    int64_t camera_id;
    int stream;
    int64_t start_us, end_us, bytes;
    char root[256];            /* SG_ROOT_MAX */
    char path[SG_RELPATH_MAX]; /* relative to root */
    char codec[8];             /* "h264" or "h265" */
    int width, height;
    int status;                /* enum sg_seg_status */
};

struct sg_loss {
    int64_t id, camera_id;
    int stream;
    int64_t start_us, end_us; /* end_us = 0 while the loss goes on */
    char reason[128];
};

struct sg_lock {
    int64_t id, camera_id; /* camera_id 0 = every camera */
    int64_t item_id;       /* the case item holding it; 0 for a lock set with the CLI */
    int64_t start_us, end_us, created_us;
    char reason[256];
    char created_by[SG_NAME_MAX];
};

struct sg_catalog;

/* Opens (creating if needed) the catalog at `path` and runs pending schema migrations.
 * `readonly` opens without migrating (fails if the schema is older). */
int sg_catalog_open(const char *path, int readonly, struct sg_catalog **out);
void sg_catalog_close(struct sg_catalog **cat);
int sg_catalog_schema_version(struct sg_catalog *cat);

int sg_catalog_begin(struct sg_catalog *cat);
int sg_catalog_commit(struct sg_catalog *cat);
int sg_catalog_rollback(struct sg_catalog *cat);
/* Returns 1 when another connection committed since the last call (0 otherwise, <0 error). */
int sg_catalog_changed(struct sg_catalog *cat);

/* Cameras. add fills cam->id; names are unique. */
int sg_catalog_camera_add(struct sg_catalog *cat, struct sg_camera *cam);
int sg_catalog_camera_update(struct sg_catalog *cat, const struct sg_camera *cam);
int sg_catalog_camera_remove(struct sg_catalog *cat, int64_t id);
int sg_catalog_camera_get(struct sg_catalog *cat, int64_t id, struct sg_camera *out);
/* By name within a site (site_id 0 = any site, lowest id first). */
int sg_catalog_camera_find(struct sg_catalog *cat, int64_t site_id, const char *name,
                           struct sg_camera *out);
/* Fills a malloc'd array (caller frees) with all cameras ordered by id; returns the count. */
int sg_catalog_camera_list(struct sg_catalog *cat, struct sg_camera **out);

int sg_catalog_state_set(struct sg_catalog *cat, const struct sg_stream_state *st);
/* Returns the count; caller frees *out. */
int sg_catalog_state_list(struct sg_catalog *cat, struct sg_stream_state **out);

/* Segments. insert fills seg->id. */
int sg_catalog_segment_insert(struct sg_catalog *cat, struct sg_segment *seg);
int sg_catalog_segment_update(struct sg_catalog *cat, int64_t id, int64_t end_us, int64_t bytes,
                              int status);
int sg_catalog_segment_delete(struct sg_catalog *cat, int64_t id);
int sg_catalog_segment_by_path(struct sg_catalog *cat, const char *root, const char *path,
                               struct sg_segment *out);
int sg_catalog_segment_get(struct sg_catalog *cat, int64_t id, struct sg_segment *out);
/* Segments with the given status (-1 = any), for one camera (0 = all), overlapping
 * [from_us, to_us) (to_us 0 = open end), ordered by start. Caller frees; returns the count. */
int sg_catalog_segment_list(struct sg_catalog *cat, int64_t camera_id, int stream, int status,
                            int64_t from_us, int64_t to_us, struct sg_segment **out);
/* All segments with id > after_id, ordered by id, at most `limit` (for walking a large
 * catalog in bounded memory). Caller frees; returns the count. */
int sg_catalog_segment_page(struct sg_catalog *cat, int64_t after_id, int limit,
                            struct sg_segment **out);
/* Latest end time of any segment of this camera and stream (0 if none). */
int sg_catalog_segment_last_end(struct sg_catalog *cat, int64_t camera_id, int stream,
                                int64_t *end_us);
/* Deletion candidates: complete (or missing) segments not covered by an active evidence lock,
 * oldest first. `root` NULL = any root; `older_than_us` 0 = any age; per_camera_age = 1 uses
 * each camera's own retain_hours relative to now_us instead. Caller frees; returns count. */
int sg_catalog_deletable(struct sg_catalog *cat, const char *root, int per_camera_age,
                         int64_t now_us, int limit, struct sg_segment **out);
/* Bytes of all segments on a root (any status but missing). */
int sg_catalog_root_bytes(struct sg_catalog *cat, const char *root, int64_t *bytes);
/* 1 when [start,end) of this camera is under an evidence lock, 0 if not. */
int sg_catalog_is_locked(struct sg_catalog *cat, int64_t camera_id, int64_t start_us,
                         int64_t end_us);

/* Video-loss intervals. open fills loss->id. */
int sg_catalog_loss_open(struct sg_catalog *cat, struct sg_loss *loss);
int sg_catalog_loss_close(struct sg_catalog *cat, int64_t id, int64_t end_us);
/* Closes every loss still open (at start-up, after a crash) at end_us. Returns the count. */
int sg_catalog_loss_close_all(struct sg_catalog *cat, int64_t end_us);
int sg_catalog_loss_list(struct sg_catalog *cat, int64_t camera_id, int64_t from_us,
                         int64_t to_us, struct sg_loss **out);

/* Evidence locks (cases arrive with the evidence issue; the table and retention rule now). */
int sg_catalog_lock_add(struct sg_catalog *cat, struct sg_lock *lock);
int sg_catalog_lock_remove(struct sg_catalog *cat, int64_t id);
int sg_catalog_lock_list(struct sg_catalog *cat, struct sg_lock **out);

/* ---- sites, users, grants, sessions, API tokens (catalog_auth.c) ---- */

#define SG_PWHASH_MAX 128   /* crypto_pwhash_STRBYTES */
#define SG_HASH_BYTES 32    /* SHA-256 */
#define SG_PUBKEY_BYTES 32  /* Ed25519 public key */
#define SG_SIG_BYTES 64     /* Ed25519 signature */
#define SG_CSRF_MAX 64
#define SG_SOURCE_MAX 64    /* a client address as text */

struct sg_site {
    int64_t id;
    char name[SG_NAME_MAX];
    unsigned char public_key[SG_PUBKEY_BYTES];
    int has_key;
    int64_t created_us;
};

/* Roles as stored (users.role); names and permissions live in src/auth. */
enum sg_role { SG_ROLE_ADMIN = 1, SG_ROLE_OPERATOR, SG_ROLE_INVESTIGATOR, SG_ROLE_VIEWER, SG_ROLE_AUDITOR };

struct sg_user {
    int64_t id, site_id;
    char name[SG_NAME_MAX];
    int role;                  /* enum sg_role */
    int all_cameras;           /* 1: every camera of the site unless denied; 0: only granted ones */
    int disabled;
    char pw_hash[SG_PWHASH_MAX];
    int64_t created_us, updated_us;
};

struct sg_grant {
    int64_t user_id, camera_id;
    int allow;                 /* 1 grant, 0 deny */
};

struct sg_session {
    int64_t id, user_id;
    unsigned char token_hash[SG_HASH_BYTES];
    char csrf[SG_CSRF_MAX];
    char source[SG_SOURCE_MAX];
    int64_t created_us, expires_us, last_seen_us, revoked_us;
};

struct sg_token {
    int64_t id, user_id;
    char name[SG_NAME_MAX];
    unsigned char token_hash[SG_HASH_BYTES];
    unsigned perms;            /* permission bits (src/auth), within the user's role */
    int64_t created_us, expires_us /* 0 = never */, last_used_us, revoked_us;
};

int sg_catalog_site_add(struct sg_catalog *cat, struct sg_site *site);  /* fills id */
int sg_catalog_site_get(struct sg_catalog *cat, int64_t id, struct sg_site *out);
int sg_catalog_site_find(struct sg_catalog *cat, const char *name, struct sg_site *out);
int sg_catalog_site_list(struct sg_catalog *cat, struct sg_site **out);  /* caller frees */
/* Records the site's public key; refuses (SG_E_EXISTS) when it already has one. */
int sg_catalog_site_set_key(struct sg_catalog *cat, int64_t id,
                            const unsigned char pk[SG_PUBKEY_BYTES]);

int sg_catalog_user_add(struct sg_catalog *cat, struct sg_user *u);      /* fills id; names unique */
/* Changes role, all_cameras, disabled and pw_hash (name and site stay). */
int sg_catalog_user_update(struct sg_catalog *cat, const struct sg_user *u);
/* Deletes the user with their grants, sessions and tokens (audit entries keep the name). */
int sg_catalog_user_remove(struct sg_catalog *cat, int64_t id);
int sg_catalog_user_get(struct sg_catalog *cat, int64_t id, struct sg_user *out);
int sg_catalog_user_find(struct sg_catalog *cat, const char *name, struct sg_user *out);
/* Users of one site (0 = all), by id; caller frees. */
int sg_catalog_user_list(struct sg_catalog *cat, int64_t site_id, struct sg_user **out);
/* Number of enabled admins (all sites). */
int sg_catalog_admin_count(struct sg_catalog *cat);

/* Grants: set replaces the user's row for that camera; returns 0. get returns 1 with *allow,
 * or 0 when the user has no row for the camera. */
int sg_catalog_grant_set(struct sg_catalog *cat, int64_t user_id, int64_t camera_id, int allow);
int sg_catalog_grant_remove(struct sg_catalog *cat, int64_t user_id, int64_t camera_id);
int sg_catalog_grant_get(struct sg_catalog *cat, int64_t user_id, int64_t camera_id, int *allow);
int sg_catalog_grant_list(struct sg_catalog *cat, int64_t user_id, struct sg_grant **out);
/* Removes every grant of the user. */
int sg_catalog_grant_clear(struct sg_catalog *cat, int64_t user_id);

int sg_catalog_session_add(struct sg_catalog *cat, struct sg_session *s);  /* fills id */
/* The session with this token hash, whatever its state (the caller checks expiry/revocation). */
int sg_catalog_session_find(struct sg_catalog *cat, const unsigned char hash[SG_HASH_BYTES],
                            struct sg_session *out);
int sg_catalog_session_get(struct sg_catalog *cat, int64_t id, struct sg_session *out);
int sg_catalog_session_touch(struct sg_catalog *cat, int64_t id, int64_t now_us);
int sg_catalog_session_revoke(struct sg_catalog *cat, int64_t id, int64_t now_us);
/* Revokes every live session of the user; returns how many. */
int sg_catalog_session_revoke_user(struct sg_catalog *cat, int64_t user_id, int64_t now_us);
/* Deletes sessions that ended (expired or revoked) before `before_us`; returns how many. */
int sg_catalog_session_purge(struct sg_catalog *cat, int64_t before_us);

int sg_catalog_token_add(struct sg_catalog *cat, struct sg_token *t);      /* fills id */
int sg_catalog_token_find(struct sg_catalog *cat, const unsigned char hash[SG_HASH_BYTES],
                          struct sg_token *out);
int sg_catalog_token_get(struct sg_catalog *cat, int64_t id, struct sg_token *out);
/* Tokens of one user (0 = all), by id; caller frees. */
int sg_catalog_token_list(struct sg_catalog *cat, int64_t user_id, struct sg_token **out);
int sg_catalog_token_revoke(struct sg_catalog *cat, int64_t id, int64_t now_us);
int sg_catalog_token_touch(struct sg_catalog *cat, int64_t id, int64_t now_us);

/* ---- the audit trail (catalog_audit.c; hashing and signing are src/audit's) ---- */

#define SG_ACTION_MAX 48
#define SG_OUTCOME_MAX 16
#define SG_OBJECT_MAX 256
#define SG_DETAIL_MAX 1024

struct sg_audit_entry {
    int64_t seq;               /* 1, 2, 3, ... without gaps */
    int64_t ts_us;
    int64_t site_id;           /* the site the action concerns (1 when none can be told) */
    int64_t user_id;           /* 0 = nobody signed in (or the command line) */
    char user[SG_NAME_MAX];    /* the name as given, also for failed logins */
    char source[SG_SOURCE_MAX];/* client address, or "cli" */
    char action[SG_ACTION_MAX];/* "login", "live.start", "camera.update", "access.denied", ... */
    char outcome[SG_OUTCOME_MAX]; /* "ok", "denied", "failed" */
    int64_t camera_id;         /* 0 = none */
    char object[SG_OBJECT_MAX];/* what was touched: a route, "user:7", a time range, ... */
    char detail[SG_DETAIL_MAX];/* JSON object text, "" = none */
    unsigned char prev_hash[SG_HASH_BYTES], hash[SG_HASH_BYTES];
};

struct sg_audit_sig {
    int64_t id, seq, site_id, ts_us;
    unsigned char hash[SG_HASH_BYTES];   /* the chain hash of entry `seq` */
    unsigned char sig[SG_SIG_BYTES];     /* Ed25519 over the signed message (src/audit) */
};

struct sg_audit_filter {
    int64_t site_id;           /* 0 = every site */
    const char *user;          /* exact user name, NULL = any */
    int64_t camera_id;         /* 0 = any */
    const char *action;        /* exact action or prefix ending in '.', e.g. "live." ; NULL = any */
    int64_t from_us, to_us;    /* 0 = open */
    int64_t before_seq;        /* paging: only seq < before_seq (0 = from the newest) */
    int limit;                 /* at most this many, newest first */
};

/* The newest entry's seq and hash (0 and all zero bytes when the trail is empty). */
int sg_catalog_audit_head(struct sg_catalog *cat, int64_t *seq, unsigned char hash[SG_HASH_BYTES]);
/* Inserts a complete entry (seq, hashes filled by the caller inside a write transaction). */
int sg_catalog_audit_insert(struct sg_catalog *cat, const struct sg_audit_entry *e);
/* Entries with seq > after_seq in seq order, at most limit (for verification). Caller frees.
 * A row that an entry cannot hold exactly as stored (a text too long for its field or with a
 * NUL inside, a number that is not an integer, a hash of another size) comes back with an
 * all-zero hash, so that verification flags it rather than checking a truncated copy. */
int sg_catalog_audit_page(struct sg_catalog *cat, int64_t after_seq, int limit,
                          struct sg_audit_entry **out);
/* Entries matching the filter, newest first. Caller frees; returns the count. */
int sg_catalog_audit_list(struct sg_catalog *cat, const struct sg_audit_filter *f,
                          struct sg_audit_entry **out);
int sg_catalog_audit_sig_add(struct sg_catalog *cat, struct sg_audit_sig *sig);  /* fills id */
/* All signatures in id order. Caller frees; returns the count. */
int sg_catalog_audit_sig_list(struct sg_catalog *cat, struct sg_audit_sig **out);
/* The highest seq signed for this site (0 if none). */
int sg_catalog_audit_sig_last(struct sg_catalog *cat, int64_t site_id, int64_t *seq);

/* ---- motion analysis (catalog_events.c) ---- */

#define SG_ZONES_JSON_MAX 16384

struct sg_motion_event {
    int64_t id, camera_id;
    int stream;
    int64_t start_us, end_us;  /* end_us 0 while it goes on */
    int64_t peak_us;
    double peak_score;         /* 0..1 */
    char zones[256];           /* JSON array of the zone names touched */
    int has_thumb;
};

struct sg_event_filter {
    const int64_t *cameras;    /* only these cameras (the caller's visible ones) */
    int n_cameras;
    const char *zone;          /* only events that touched this zone (NULL = any) */
    int64_t from_us, to_us;    /* overlapping [from, to); 0 = open */
    double min_score;
    int64_t before_id;         /* paging: only id < before_id (0 = newest first) */
    int limit;
};

int sg_catalog_event_add(struct sg_catalog *cat, struct sg_motion_event *ev);  /* fills id */
/* Updates end, peak, zones and (thumb non-NULL) the thumbnail. */
int sg_catalog_event_update(struct sg_catalog *cat, const struct sg_motion_event *ev,
                            const void *thumb, size_t thumb_len);
int sg_catalog_event_get(struct sg_catalog *cat, int64_t id, struct sg_motion_event *out);
/* The thumbnail JPEG (malloc'd, caller frees); SG_E_NOTFOUND when there is none. */
int sg_catalog_event_thumb(struct sg_catalog *cat, int64_t id, void **jpeg, size_t *len);
/* Events matching the filter, newest first. Caller frees; returns the count. */
int sg_catalog_event_list(struct sg_catalog *cat, const struct sg_event_filter *f,
                          struct sg_motion_event **out);
/* Ends every event still open (at start-up, after a crash) at its peak time. Returns count. */
int sg_catalog_event_close_all(struct sg_catalog *cat);

/* Deletes the motion events and activity rows older than their camera's retention, unless an
 * evidence lock covers them. Returns how many rows went. */
int sg_catalog_motion_expire(struct sg_catalog *cat, int64_t now_us);

/* The activity index: per camera and UTC minute, the level and zone bits of each second.
 * put merges (highest level, union of bits) into what is stored. */
int sg_catalog_activity_put(struct sg_catalog *cat, int64_t camera_id, int64_t minute_us,
                            const uint8_t levels[60], const uint32_t zones[60]);
/* Calls fn for each stored minute of the camera within [from_us, to_us), in time order. */
int sg_catalog_activity_get(struct sg_catalog *cat, int64_t camera_id, int64_t from_us,
                            int64_t to_us,
                            void (*fn)(void *opaque, int64_t minute_us, const uint8_t levels[60],
                                       const uint32_t zones[60]),
                            void *opaque);

/* Zones and masks of a camera as the JSON array text the API uses ("[]" when none). */
int sg_catalog_zones_get(struct sg_catalog *cat, int64_t camera_id, char *json, size_t n);
int sg_catalog_zones_set(struct sg_catalog *cat, int64_t camera_id, const char *json);

/* ---- evidence (catalog_cases.c): cases, their items and locks, export jobs ---- */

#define SG_CASE_REF_MAX   65   /* 1..64 bytes */
#define SG_CASE_TITLE_MAX 201  /* 1..200 bytes */
#define SG_REASON_MAX     1024 /* 1..1023 bytes */

enum sg_case_state { SG_CASE_OPEN = 0, SG_CASE_CLOSED = 1 };

struct sg_case {
    int64_t id, site_id, owner_id, created_us, closed_us;
    int state;                      /* enum sg_case_state */
    int n_items, n_locked;          /* filled by get and list */
    char reference[SG_CASE_REF_MAX], title[SG_CASE_TITLE_MAX], reason[SG_REASON_MAX];
    char close_reason[SG_REASON_MAX];
    char owner[SG_NAME_MAX];        /* the owner's user name (filled by get and list) */
};

struct sg_case_item {
    int64_t id, case_id, camera_id, start_us, end_us, event_id;
    int64_t added_by, added_us, released_by, released_us; /* released_us 0 while locked */
    char note[256], release_reason[SG_REASON_MAX];
};

/* Adds a case (fills id, created_us). SG_E_EXISTS when the site has one with this reference. */
int sg_catalog_case_add(struct sg_catalog *cat, struct sg_case *c);
int sg_catalog_case_get(struct sg_catalog *cat, int64_t id, struct sg_case *out);
/* The cases of a site (state -1: all), newest first. Caller frees. Returns the count. */
int sg_catalog_case_list(struct sg_catalog *cat, int64_t site_id, int state, struct sg_case **out);
/* Adds an item to an open case and locks its range, in one transaction (fills id, added_us).
 * SG_E_UNSUPPORTED when the case is closed, SG_E_NOTFOUND when there is no such case. */
int sg_catalog_case_item_add(struct sg_catalog *cat, struct sg_case_item *it, const char *by_name);
int sg_catalog_case_item_get(struct sg_catalog *cat, int64_t id, struct sg_case_item *out);
/* The items of a case, in the order they were added. Caller frees. Returns the count. */
int sg_catalog_case_items(struct sg_catalog *cat, int64_t case_id, struct sg_case_item **out);
/* Releases an item's lock (the item stays, marked released). SG_E_UNSUPPORTED when it was
 * already released. */
int sg_catalog_case_item_release(struct sg_catalog *cat, int64_t item_id, int64_t by_user,
                                 const char *reason);
/* Closes a case and releases every lock it still holds. Returns the number released, or
 * SG_E_UNSUPPORTED when the case was already closed. */
int sg_catalog_case_close(struct sg_catalog *cat, int64_t case_id, int64_t by_user, const char *reason);

enum sg_export_state { SG_EXPORT_QUEUED = 0, SG_EXPORT_RUNNING, SG_EXPORT_DONE, SG_EXPORT_FAILED };

struct sg_export_range {
    int64_t camera_id, start_us, end_us;
};

struct sg_export_job {
    int64_t id, site_id, case_id, user_id, created_us, finished_us, bytes;
    int state;                       /* enum sg_export_state */
    double progress;                 /* 0..1 */
    char user_name[SG_NAME_MAX], format[16], file[128], sha256[65];
    char reason[SG_REASON_MAX], error[256];
};

/* Adds a queued export with its ranges (fills id, created_us), in one transaction. */
int sg_catalog_export_add(struct sg_catalog *cat, struct sg_export_job *job,
                          const struct sg_export_range *ranges, int n);
int sg_catalog_export_get(struct sg_catalog *cat, int64_t id, struct sg_export_job *out);
/* The exports of a site (newest first, at most limit). Caller frees. Returns the count. */
int sg_catalog_export_list(struct sg_catalog *cat, int64_t site_id, int limit,
                           struct sg_export_job **out);
int sg_catalog_export_ranges(struct sg_catalog *cat, int64_t id, struct sg_export_range **out);
/* The oldest queued export's id (0 when none). */
int sg_catalog_export_next(struct sg_catalog *cat, int64_t *id);
/* State changes of the export runner. */
int sg_catalog_export_set_state(struct sg_catalog *cat, int64_t id, int state, double progress,
                                const char *error);
int sg_catalog_export_finish(struct sg_catalog *cat, int64_t id, const char *file, int64_t bytes,
                             const char *sha256);
/* Puts exports left running by a stopped server back in the queue. Returns the count. */
int sg_catalog_export_requeue(struct sg_catalog *cat);
int sg_catalog_export_delete(struct sg_catalog *cat, int64_t id);
/* Finished (done or failed) exports that finished before before_us, oldest first, at most 100.
 * Caller frees. Returns the count. */
int sg_catalog_export_expired(struct sg_catalog *cat, int64_t before_us, struct sg_export_job **out);

const char *sg_stream_name(int stream);   /* "main" / "sub" */
int sg_stream_parse(const char *s);        /* -> enum or SG_E_NOTFOUND */
const char *sg_seg_status_name(int status);
int sg_transport_parse(const char *s);     /* "default"|"tcp"|"udp" -> enum, or -EINVAL */
const char *sg_transport_name(int t);
/* 1 when n is an acceptable camera name: 1-127 bytes, no control characters. */
int sg_camera_name_valid(const char *n);

#endif
