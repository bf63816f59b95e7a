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
int sg_catalog_camera_find(struct sg_catalog *cat, const char *name, struct sg_camera *out);
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

const char *sg_stream_name(int stream);   /* "main" / "sub" */
int sg_stream_parse(const char *s);        /* -> enum or SG_E_NOTFOUND */
const char *sg_seg_status_name(int status);
int sg_transport_parse(const char *s);     /* "default"|"tcp"|"udp" -> enum, or -EINVAL */
const char *sg_transport_name(int t);
/* 1 when n is an acceptable camera name: 1-127 bytes, no control characters. */
int sg_camera_name_valid(const char *n);

#endif
