/* Internals shared by the catalog's files (catalog.c: recorder tables; catalog_auth.c: sites,
 * users, grants, sessions, API tokens; catalog_audit.c: the audit trail; catalog_events.c:
 * motion events, the activity index, zones; catalog_cases.c: cases, locks of case items,
 * export jobs). Nothing outside
 * src/catalog/ includes this header. */
#ifndef SG_CATALOG_CATALOG_INT_H
#define SG_CATALOG_CATALOG_INT_H

#include <sqlite3.h>
#include <stddef.h>

#include "catalog/catalog.h"

/* Slots of the per-connection statement cache used by the files other than catalog.c. Each
 * file owns a range so that they never collide. */
enum {
    CATALOG__AUTH_FIRST = 0,   /* catalog_auth.c: 0..63 */
    CATALOG__AUDIT_FIRST = 64, /* catalog_audit.c: 64..95 */
    CATALOG__EVENTS_FIRST = 96, /* catalog_events.c: 96..127 */
    CATALOG__CASES_FIRST = 128, /* catalog_cases.c: 128..159 */
    CATALOG__N_EXTRA = 160,
};

struct sg_catalog {
    sqlite3 *db;
    sqlite3_stmt *stmt[64];                   /* catalog.c's statements (enum stmt_id) */
    sqlite3_stmt *extra[CATALOG__N_EXTRA];    /* the other files' statements, by slot */
    int64_t data_version;
};

/* Returns the prepared statement of `slot` (preparing `sql` the first time), reset and with
 * its bindings cleared; NULL on error (logged). */
sqlite3_stmt *catalog__stmt(struct sg_catalog *cat, int slot, const char *sql);
/* Steps a statement that returns no rows and resets it: 0 or a negative code. */
int catalog__run(struct sg_catalog *cat, sqlite3_stmt *s, const char *what);
/* Logs the connection's last error and maps it to one of our codes (a constraint hit is
 * SG_E_EXISTS). */
int catalog__error(struct sg_catalog *cat, const char *what);
/* Copies a text column into dst (n bytes, truncating, always terminated; NULL -> ""). */
void catalog__copy_text(char *dst, size_t n, sqlite3_stmt *s, int col);
/* Copies a blob column of exactly n bytes into dst; returns 0, or -1 when it has another size. */
int catalog__copy_blob(void *dst, size_t n, sqlite3_stmt *s, int col);
/* Collects every row of s into a malloc'd array of `size`-byte elements filled by `read`;
 * returns the count (caller frees *out) or a negative code. */
int catalog__collect(struct sg_catalog *cat, sqlite3_stmt *s, size_t size,
                     void (*read)(sqlite3_stmt *, void *), void **out);
/* Steps a statement expected to return one row; fills it with `read`. 0, SG_E_NOTFOUND or
 * a negative code. The statement is reset. */
int catalog__one(struct sg_catalog *cat, sqlite3_stmt *s, void (*read)(sqlite3_stmt *, void *),
                 void *out, const char *what);

#endif
