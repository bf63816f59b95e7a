/* The evidence package checks: the manifest's shape, the signature, every listed file's size
 * and SHA-256, and anything in the package that the manifest does not list.
 *
 * Only libsodium, jansson and libc (see verify.h). Times in the manifest are therefore never
 * converted: sg_base has the RFC 3339 parser and this module must link without it. They are
 * checked for the exact shape the writer produces (sg_utc_format with milliseconds,
 * "2026-11-21T10:00:00.000Z"), a fixed width in which string order is time order, so ranges
 * can be checked with strcmp and are printed as they are written.
 *
 * Allocation failures do not abort: they set a sticky flag, the check goes on without that
 * entry, and sg_verify_package then returns -ENOMEM instead of an incomplete report. */
#include "verify/verify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_MAX_COMPONENTS 8
#define PATH_MAX_LEN 255
#define MAX_ERRORS 100          /* listed; more are counted in one closing line */
#define MAX_UNEXPECTED 1000     /* unexpected entries listed; more are counted */
#define WALK_DEPTH 16           /* directory levels examined for unexpected entries */
#define SIG_FILE_LEN 129        /* 128 hex digits and "\n" */
#define HASH_BUF (256 << 10)

_Static_assert(SG_VERIFY_PUBKEY_BYTES == crypto_sign_PUBLICKEYBYTES, "public key size");

struct ctx {
    struct sg_verify_report *rep;
    int dfd;                     /* the package directory */
    int oom;                     /* an allocation failed: the report is incomplete */
    size_t errors_total;         /* errors found, also those past MAX_ERRORS */
    size_t unexpected_total;
    size_t files_cap;            /* room in rep->files */
    unsigned char pk[SG_VERIFY_PUBKEY_BYTES]; /* site.public_key of the manifest */
    int has_pk;
    int files_parsed;            /* "files" was an array: unlisted files can be named */
    const char **listed;         /* sorted paths of the files the manifest lists (borrowed) */
    size_t n_listed;
    unsigned char *buf;          /* hashing buffer */
};

static void add_error(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_error(struct ctx *c, const char *fmt, ...)
{
    struct sg_verify_report *rep = c->rep;
    char msg[512], **grown;
    va_list ap;

    if (c->errors_total++ >= MAX_ERRORS)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    grown = realloc(rep->errors, (rep->n_errors + 1) * sizeof(*grown));
    if (!grown) {
        c->oom = 1;
        return;
    }
    rep->errors = grown;
    if (!(rep->errors[rep->n_errors] = strdup(msg))) {
        c->oom = 1;
        return;
    }
    rep->n_errors++;
}

/* Appends a file entry (expected_* unset). NULL without memory. */
static struct sg_verify_file *add_file(struct ctx *c, const char *path, enum sg_verify_status st)
{
    struct sg_verify_report *rep = c->rep;
    struct sg_verify_file *f;

    if (rep->n_files == c->files_cap) {
        size_t cap = c->files_cap ? 2 * c->files_cap : 16;
        struct sg_verify_file *grown = realloc(rep->files, cap * sizeof(*grown));
        if (!grown) {
            c->oom = 1;
            return NULL;
        }
        rep->files = grown;
        c->files_cap = cap;
    }
    f = &rep->files[rep->n_files];
    memset(f, 0, sizeof(*f));
    if (!(f->path = strdup(path))) {
        c->oom = 1;
        return NULL;
    }
    rep->n_files++;
    f->status = st;
    f->size = -1;
    f->expected_size = -1;
    return f;
}

void sg_verify_fingerprint(const unsigned char pk[SG_VERIFY_PUBKEY_BYTES], char out[SG_VERIFY_FP_LEN])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char h[crypto_hash_sha256_BYTES];
    size_t o = 0;

    crypto_hash_sha256(h, pk, SG_VERIFY_PUBKEY_BYTES);
    for (int i = 0; i < 16; i++) {
        if (i && i % 2 == 0)
            out[o++] = ' ';
        out[o++] = hex[h[i] >> 4];
        out[o++] = hex[h[i] & 15];
    }
    out[o] = 0;
}

int sg_verify_path_ok(const char *rel)
{
    size_t len = strlen(rel), comps = 1;

    if (len == 0 || len > PATH_MAX_LEN)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = rel[i];
        int start = i == 0 || rel[i - 1] == '/';

        if (ch == '/') {
            if (start || i + 1 == len || ++comps > PATH_MAX_COMPONENTS)
                return 0;
        } else if (ch == '.') {
            if (start)
                return 0; /* ".", "..", hidden names */
        } else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                     (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
            return 0;
        }
    }
    return 1;
}

/* Why a path was refused, for the message. */
static const char *path_problem(const char *rel)
{
    if (!*rel)
        return "empty";
    if (rel[0] == '/')
        return "absolute";
    if (strchr(rel, '\\'))
        return "contains a backslash";
    if (!strcmp(rel, "..") || !strncmp(rel, "../", 3) || strstr(rel, "/../") ||
        (strlen(rel) >= 3 && !strcmp(rel + strlen(rel) - 3, "/..")))
        return "contains \"..\"";
    if (strlen(rel) > PATH_MAX_LEN)
        return "too long";
    return "not a plain relative path of [A-Za-z0-9._-] components (none starting with '.')";
}

static int is_hex_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int sg_verify_parse_key(const char *s, unsigned char pk[SG_VERIFY_PUBKEY_BYTES])
{
    const char *end;
    size_t bin_len;

    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    end = s;
    while ((*end >= '0' && *end <= '9') || (*end >= 'a' && *end <= 'f') || (*end >= 'A' && *end <= 'F'))
        end++;
    if (end - s != 2 * SG_VERIFY_PUBKEY_BYTES)
        return -EINVAL;
    for (const char *t = end; *t; t++)
        if (*t != ' ' && *t != '\t' && *t != '\n' && *t != '\r')
            return -EINVAL;
    if (sodium_hex2bin(pk, SG_VERIFY_PUBKEY_BYTES, s, (size_t)(end - s), NULL, &bin_len, NULL) != 0 ||
        bin_len != SG_VERIFY_PUBKEY_BYTES)
        return -EINVAL;
    return 0;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" with plausible fields (see the top of the file). */
static int is_time(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    int mon, day, hour, min, sec;

    if (strlen(s) != sizeof(shape) - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
            return 0;
    mon = (s[5] - '0') * 10 + s[6] - '0';
    day = (s[8] - '0') * 10 + s[9] - '0';
    hour = (s[11] - '0') * 10 + s[12] - '0';
    min = (s[14] - '0') * 10 + s[15] - '0';
    sec = (s[17] - '0') * 10 + s[18] - '0';
    return mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && hour <= 23 && min <= 59 && sec <= 59;
}

/* ---- reading files inside the package ---- */

/* Opens rel (already checked with sg_verify_path_ok) below dfd, one component at a time, never
 * following a symbolic link. Returns an fd or a negative errno (-ELOOP: a symbolic link). */
static int open_beneath(int dfd, const char *rel)
{
    char buf[PATH_MAX_LEN + 1], *comp, *slash;
    int cur = dfd, fd;

    if (strlen(rel) > PATH_MAX_LEN)
        return -ENAMETOOLONG;
    strcpy(buf, rel);
    comp = buf;
    while ((slash = strchr(comp, '/'))) {
        *slash = 0;
        fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            struct stat st;
            /* a link to a directory fails as "not a directory": say what it is */
            fd = errno == ENOTDIR && fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                 S_ISLNK(st.st_mode) ? -ELOOP : -errno;
        }
        if (cur != dfd)
            close(cur);
        if (fd < 0)
            return fd;
        cur = fd;
        comp = slash + 1;
    }
    /* O_NONBLOCK: a FIFO planted in the package must not block the open */
    fd = openat(cur, comp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        fd = -errno;
    if (cur != dfd)
        close(cur);
    return fd;
}

/* Reads a small top-level file whole (NUL-terminated). 0, -ENOENT, -ELOOP, -EFTYPE-like
 * -EINVAL (not a regular file), -EFBIG (over max), or another negative errno. */
static int read_small(int dfd, const char *name, size_t max, char **out, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd, r;

    *out = NULL;
    *len = 0;
    if ((fd = open_beneath(dfd, name)) < 0)
        return fd;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        r = -EINVAL;
        goto fail;
    }
    if ((uint64_t)st.st_size > max) {
        r = -EFBIG;
        goto fail;
    }
    if (!(buf = malloc((size_t)st.st_size + 1))) {
        r = -ENOMEM;
        goto fail;
    }
    for (;;) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            goto fail;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got > (size_t)st.st_size) { /* grew while read */
            r = -EFBIG;
            goto fail;
        }
    }
    buf[got] = 0;
    close(fd);
    *out = buf;
    *len = got;
    return 0;
fail:
    free(buf);
    close(fd);
    return r;
}

static const char *read_problem(int r)
{
    switch (r) {
    case -ELOOP: return "is a symbolic link (not followed)";
    case -EINVAL: return "is not a regular file";
    case -EFBIG: return "is too large";
    default: return strerror(-r);
    }
}

/* Checks one listed file against its manifest entry f (expected_* set). */
static void check_file(struct ctx *c, struct sg_verify_file *f)
{
    crypto_hash_sha256_state st;
    unsigned char h[crypto_hash_sha256_BYTES];
    struct stat sb;
    int64_t total = 0;
    int fd = open_beneath(c->dfd, f->path);

    if (fd == -ENOENT || fd == -ENOTDIR) {
        f->status = SG_VERIFY_MISSING;
        return;
    }
    f->status = SG_VERIFY_UNREADABLE;
    if (fd < 0) {
        snprintf(f->detail, sizeof(f->detail), "%s", read_problem(fd));
        return;
    }
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        snprintf(f->detail, sizeof(f->detail), "%s", read_problem(-EINVAL));
        goto out;
    }
    f->size = (int64_t)sb.st_size;
    if (f->size != f->expected_size) {
        f->status = SG_VERIFY_SIZE_MISMATCH;
        goto out;
    }
    crypto_hash_sha256_init(&st);
    for (;;) {
        ssize_t n = read(fd, c->buf, HASH_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(f->detail, sizeof(f->detail), "read error: %s", strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        crypto_hash_sha256_update(&st, c->buf, (unsigned long long)n);
        total += n;
    }
    if (total != f->size) {
        snprintf(f->detail, sizeof(f->detail), "changed size while being read");
        goto out;
    }
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(f->sha256, sizeof(f->sha256), h, sizeof(h));
    f->status = strcmp(f->sha256, f->expected_sha256) ? SG_VERIFY_MODIFIED : SG_VERIFY_OK;
out:
    close(fd);
}

/* ---- the manifest ---- */

/* obj[key], reporting a missing member or one of the wrong type (a json_type). */
static json_t *member(struct ctx *c, json_t *obj, const char *where, const char *key, int type)
{
    static const char *const names[] = { "an object", "an array", "a string", "an integer",
                                         "a number", "true", "false", "null" };
    json_t *v = json_object_get(obj, key);

    if (!v) {
        add_error(c, "%s%s%s: missing", where, *where ? "." : "", key);
        return NULL;
    }
    if (json_typeof(v) != (json_type)type) {
        add_error(c, "%s%s%s: must be %s", where, *where ? "." : "", key, names[type]);
        return NULL;
    }
    return v;
}

static const char *str_member(struct ctx *c, json_t *obj, const char *where, const char *key)
{
    json_t *v = member(c, obj, where, key, JSON_STRING);

    return v ? json_string_value(v) : NULL;
}

/* An integer member >= min; 0 (and an error) when absent or out of range. */
static int int_member(struct ctx *c, json_t *obj, const char *where, const char *key, json_int_t min,
                      json_int_t *out)
{
    json_t *v = member(c, obj, where, key, JSON_INTEGER);

    if (!v)
        return 0;
    if (json_integer_value(v) < min) {
        add_error(c, "%s.%s: must be at least %lld", where, key, (long long)min);
        return 0;
    }
    if (out)
        *out = json_integer_value(v);
    return 1;
}

static const char *time_member(struct ctx *c, json_t *obj, const char *where, const char *key)
{
    const char *s = str_member(c, obj, where, key);

    if (s && !is_time(s)) {
        add_error(c, "%s%s%s: not a UTC time like 2026-11-21T10:00:00.000Z", where,
                  *where ? "." : "", key);
        return NULL;
    }
    return s;
}

/* Every member of obj must be one of `allowed` (NULL-terminated). */
static void only_keys(struct ctx *c, json_t *obj, const char *where, const char *const *allowed)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v) {
        const char *const *a = allowed;
        while (*a && strcmp(*a, key))
            a++;
        if (!*a)
            add_error(c, "%s%s\"%.60s\": unknown field", where, *where ? ": " : "", key);
    }
}

/* {"start": T, "end": T} with start <= end. */
static void check_range(struct ctx *c, json_t *obj, const char *where, const char *const *allowed)
{
    const char *s = time_member(c, obj, where, "start"), *e = time_member(c, obj, where, "end");

    only_keys(c, obj, where, allowed);
    if (s && e && strcmp(s, e) > 0)
        add_error(c, "%s: ends before it starts", where);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int is_listed(const struct ctx *c, const char *path)
{
    return c->n_listed && bsearch(&path, c->listed, c->n_listed, sizeof(*c->listed), cmp_str) != NULL;
}

/* "files": fills the report's entries (as yet unchecked) and c->listed. */
static void check_files_list(struct ctx *c, json_t *files)
{
    static const char *const keys[] = { "path", "size", "sha256", NULL };
    size_t i;
    json_t *e;

    json_array_foreach(files, i, e) {
        char where[32];
        const char *path, *sha;
        json_int_t size = 0;
        int size_ok;
        struct sg_verify_file *f;

        snprintf(where, sizeof(where), "files[%zu]", i);
        if (!json_is_object(e)) {
            add_error(c, "%s: must be an object", where);
            continue;
        }
        only_keys(c, e, where, keys);
        path = str_member(c, e, where, "path");
        size_ok = int_member(c, e, where, "size", 0, &size);
        if ((sha = str_member(c, e, where, "sha256")) &&
            (strlen(sha) != 64 || !is_hex_lower(sha, 64))) {
            add_error(c, "%s.sha256: not 64 lower-case hex digits", where);
            sha = NULL;
        }
        if (!path)
            continue;
        if (!sg_verify_path_ok(path) || !strcmp(path, "manifest.json") || !strcmp(path, "manifest.sig")) {
            add_error(c, "%s.path \"%.80s\": refused, %s", where, path,
                      sg_verify_path_ok(path) ? "the manifest and its signature are not listed"
                                              : path_problem(path));
            continue;
        }
        if (!size_ok || !sha)
            continue; /* a listed file without a usable size or hash cannot be checked */
        if (!(f = add_file(c, path, SG_VERIFY_MISSING)))
            continue;
        f->expected_size = size;
        memcpy(f->expected_sha256, sha, 65);
    }
}

static void check_item(struct ctx *c, json_t *it, const char *where)
{
    static const char *const keys[] = { "camera", "stream", "requested", "included", "gaps", "file", NULL };
    static const char *const cam_keys[] = { "id", "name", NULL };
    static const char *const range_keys[] = { "start", "end", NULL };
    static const char *const incl_keys[] = { "start", "end", "frames", NULL };
    char sub[64];
    const char *s;
    json_t *v, *g;
    size_t i;

    only_keys(c, it, where, keys);
    if ((v = member(c, it, where, "camera", JSON_OBJECT))) {
        snprintf(sub, sizeof(sub), "%s.camera", where);
        only_keys(c, v, sub, cam_keys);
        int_member(c, v, sub, "id", 1, NULL);
        str_member(c, v, sub, "name");
    }
    if ((s = str_member(c, it, where, "stream")) && strcmp(s, "main") && strcmp(s, "sub"))
        add_error(c, "%s.stream: must be \"main\" or \"sub\"", where);
    if ((v = member(c, it, where, "requested", JSON_OBJECT))) {
        snprintf(sub, sizeof(sub), "%s.requested", where);
        check_range(c, v, sub, range_keys);
    }
    if ((v = member(c, it, where, "included", JSON_OBJECT))) {
        snprintf(sub, sizeof(sub), "%s.included", where);
        check_range(c, v, sub, incl_keys);
        int_member(c, v, sub, "frames", 0, NULL);
    }
    if ((v = member(c, it, where, "gaps", JSON_ARRAY)))
        json_array_foreach(v, i, g) {
            snprintf(sub, sizeof(sub), "%s.gaps[%zu]", where, i);
            if (json_is_object(g))
                check_range(c, g, sub, range_keys);
            else
                add_error(c, "%s: must be an object", sub);
        }
    if ((s = str_member(c, it, where, "file")) && !is_listed(c, s))
        add_error(c, "%s.file \"%.80s\": not among the listed files", where, s);
}

static void check_site(struct ctx *c, json_t *site)
{
    static const char *const keys[] = { "id", "name", "public_key", "fingerprint", NULL };
    const char *pk = str_member(c, site, "site", "public_key");
    const char *fp = str_member(c, site, "site", "fingerprint");
    char want[SG_VERIFY_FP_LEN];

    only_keys(c, site, "site", keys);
    int_member(c, site, "site", "id", 1, NULL);
    str_member(c, site, "site", "name");
    if (pk && (strlen(pk) != 64 || !is_hex_lower(pk, 64) || sg_verify_parse_key(pk, c->pk) < 0)) {
        add_error(c, "site.public_key: not 64 lower-case hex digits");
        pk = NULL;
    }
    if (!pk)
        return;
    c->has_pk = 1;
    sg_verify_fingerprint(c->pk, want);
    if (fp && strcmp(fp, want))
        add_error(c, "site.fingerprint \"%.60s\" is not that of site.public_key (%s)", fp, want);
}

static void check_export(struct ctx *c, json_t *ex)
{
    static const char *const keys[] = { "id", "user", "user_id", "reason", "case", NULL };
    static const char *const case_keys[] = { "id", "reference", "title", "reason", NULL };
    json_t *cs;

    only_keys(c, ex, "export", keys);
    int_member(c, ex, "export", "id", 1, NULL);
    str_member(c, ex, "export", "user");
    int_member(c, ex, "export", "user_id", 0, NULL);
    str_member(c, ex, "export", "reason");
    if ((cs = json_object_get(ex, "case")) && json_is_object(cs)) {
        only_keys(c, cs, "export.case", case_keys);
        int_member(c, cs, "export.case", "id", 1, NULL);
        str_member(c, cs, "export.case", "reference");
        str_member(c, cs, "export.case", "title");
        str_member(c, cs, "export.case", "reason");
    } else if (!cs || !json_is_null(cs)) {
        add_error(c, "export.case: must be an object or null");
    }
}

/* Checks the manifest's bytes; keeps it in the report when it passed every check. */
static void check_manifest(struct ctx *c, const char *bytes, size_t len)
{
    static const char *const keys[] = { "format", "created", "generator", "site", "export",
                                        "items", "files", NULL };
    size_t before = c->errors_total, i;
    json_error_t jerr;
    const char *fmt;
    json_t *m, *v, *it;

    m = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!m) {
        add_error(c, "manifest.json is not valid JSON (line %d, column %d: %s)", jerr.line,
                  jerr.column, jerr.text);
        return;
    }
    if (!json_is_object(m)) {
        add_error(c, "manifest.json is not a JSON object");
        goto out;
    }
    if (!(fmt = str_member(c, m, "", "format")))
        goto out;
    if (strcmp(fmt, SG_VERIFY_FORMAT)) {
        add_error(c, "format \"%.60s\" is not \"%s\": this verifier does not know it", fmt,
                  SG_VERIFY_FORMAT);
        goto out;
    }
    only_keys(c, m, "", keys);
    time_member(c, m, "", "created");
    str_member(c, m, "", "generator");
    if ((v = member(c, m, "", "site", JSON_OBJECT)))
        check_site(c, v);
    if ((v = member(c, m, "", "files", JSON_ARRAY))) {
        c->files_parsed = 1;
        check_files_list(c, v);
        if (c->rep->n_files && !(c->listed = malloc(c->rep->n_files * sizeof(*c->listed))))
            c->oom = 1;
        for (i = 0; c->listed && i < c->rep->n_files; i++)
            c->listed[i] = c->rep->files[i].path;
        c->n_listed = c->listed ? c->rep->n_files : 0;
        if (c->n_listed)
            qsort(c->listed, c->n_listed, sizeof(*c->listed), cmp_str);
        /* found sorted rather than pairwise: a 16 MiB manifest can list 300,000 files */
        for (i = 1; i < c->n_listed; i++)
            if (!strcmp(c->listed[i - 1], c->listed[i]) && (i < 2 || strcmp(c->listed[i - 2], c->listed[i])))
                add_error(c, "files: \"%s\" listed more than once", c->listed[i]);
    }
    if ((v = member(c, m, "", "export", JSON_OBJECT)))
        check_export(c, v);
    if ((v = member(c, m, "", "items", JSON_ARRAY))) {
        if (json_array_size(v) == 0)
            add_error(c, "items: empty");
        json_array_foreach(v, i, it) {
            char where[32];
            snprintf(where, sizeof(where), "items[%zu]", i);
            if (json_is_object(it))
                check_item(c, it, where);
            else
                add_error(c, "%s: must be an object", where);
        }
    }
    if (c->errors_total == before) {
        c->rep->manifest = m;
        return;
    }
out:
    json_decref(m);
}

/* ---- the signature ---- */

static void sig_result(struct ctx *c, enum sg_verify_sig s, const unsigned char *pk, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void sig_result(struct ctx *c, enum sg_verify_sig s, const unsigned char *pk, const char *fmt, ...)
{
    va_list ap;

    c->rep->sig = s;
    if (pk)
        sg_verify_fingerprint(pk, c->rep->fingerprint);
    va_start(ap, fmt);
    vsnprintf(c->rep->sig_detail, sizeof(c->rep->sig_detail), fmt, ap);
    va_end(ap);
}

static void check_signature(struct ctx *c, const char *manifest, size_t mlen,
                            const unsigned char (*keys)[SG_VERIFY_PUBKEY_BYTES], size_t n_keys)
{
    unsigned char sig[crypto_sign_BYTES];
    size_t sig_len = 0, bin_len;
    char *text = NULL, fp[SG_VERIFY_FP_LEN];
    int r = read_small(c->dfd, "manifest.sig", 4096, &text, &sig_len);

    if (r == -ENOENT) {
        sig_result(c, SG_VERIFY_SIG_NONE, NULL, "manifest.sig is missing");
        return;
    }
    if (r < 0) {
        sig_result(c, SG_VERIFY_SIG_INVALID, NULL, "manifest.sig %s", read_problem(r));
        return;
    }
    if (sig_len != SIG_FILE_LEN || text[SIG_FILE_LEN - 1] != '\n' ||
        !is_hex_lower(text, SIG_FILE_LEN - 1) ||
        sodium_hex2bin(sig, sizeof(sig), text, SIG_FILE_LEN - 1, NULL, &bin_len, NULL) != 0 ||
        bin_len != sizeof(sig)) {
        sig_result(c, SG_VERIFY_SIG_INVALID, NULL,
                   "manifest.sig is not 128 lower-case hex digits and a newline");
        goto out;
    }
    if (!manifest) {
        sig_result(c, SG_VERIFY_SIG_INVALID, NULL, "there is no manifest.json to check it against");
        goto out;
    }
    for (size_t k = 0; k < n_keys; k++)
        if (crypto_sign_verify_detached(sig, (const unsigned char *)manifest, mlen, keys[k]) == 0) {
            sig_result(c, SG_VERIFY_SIG_VALID, keys[k], "made with a key you gave");
            if (c->has_pk && sodium_memcmp(c->pk, keys[k], SG_VERIFY_PUBKEY_BYTES) != 0)
                add_error(c, "site.public_key is not the key that signed the manifest");
            goto out;
        }
    if (c->has_pk && crypto_sign_verify_detached(sig, (const unsigned char *)manifest, mlen, c->pk) == 0) {
        if (n_keys) {
            sg_verify_fingerprint(c->pk, fp);
            sig_result(c, SG_VERIFY_SIG_UNTRUSTED, c->pk,
                       "signed by a key you did not give: fingerprint %s", fp);
        } else {
            sig_result(c, SG_VERIFY_SIG_VALID, c->pk, "made with the key in the manifest");
        }
        goto out;
    }
    if (n_keys)
        sig_result(c, SG_VERIFY_SIG_INVALID, NULL, "does not verify with %s you gave%s",
                   n_keys == 1 ? "the key" : "any of the keys",
                   c->has_pk ? " nor with the key in the manifest" : "");
    else if (c->has_pk)
        sig_result(c, SG_VERIFY_SIG_INVALID, NULL,
                   "does not match manifest.json: the manifest or the signature was altered");
    else
        sig_result(c, SG_VERIFY_SIG_INVALID, NULL,
                   "cannot be checked: no key given and none usable in the manifest");
out:
    free(text);
}

/* ---- what the manifest does not list ---- */

static void add_unexpected(struct ctx *c, const char *rel, const struct stat *st, const char *detail)
{
    struct sg_verify_file *f;

    if (c->unexpected_total++ >= MAX_UNEXPECTED)
        return;
    if (!(f = add_file(c, rel, SG_VERIFY_UNEXPECTED)))
        return;
    if (st && S_ISREG(st->st_mode))
        f->size = (int64_t)st->st_size;
    snprintf(f->detail, sizeof(f->detail), "%s", detail);
}

/* Lists every entry below the directory fd (consumed) that the manifest does not list. */
static void walk(struct ctx *c, int fd, char *rel, size_t rel_len, int depth)
{
    DIR *d = fdopendir(fd);
    struct dirent *de;

    if (!d) {
        close(fd);
        add_error(c, "cannot list the directory \"%s\": %s", rel_len ? rel : ".", strerror(errno));
        return;
    }
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        struct stat st;
        int sub;

        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (depth == 0 && (!strcmp(de->d_name, "manifest.json") || !strcmp(de->d_name, "manifest.sig")))
            continue;
        if (rel_len + n + 2 > (size_t)(WALK_DEPTH + 1) * 256)
            continue; /* cannot happen: NAME_MAX 255 and WALK_DEPTH levels */
        memcpy(rel + rel_len, de->d_name, n + 1);
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            add_unexpected(c, rel, NULL, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            if (depth + 1 >= WALK_DEPTH) {
                add_unexpected(c, rel, &st, "directory nested too deep, not examined");
            } else if ((sub = openat(dirfd(d), de->d_name,
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
                add_unexpected(c, rel, &st, "directory that cannot be opened");
            } else {
                rel[rel_len + n] = '/';
                rel[rel_len + n + 1] = 0;
                walk(c, sub, rel, rel_len + n + 1, depth + 1);
            }
        } else if (!is_listed(c, rel)) {
            add_unexpected(c, rel, &st, S_ISREG(st.st_mode) ? "" : S_ISLNK(st.st_mode) ?
                           "symbolic link" : "not a regular file");
        }
        rel[rel_len] = 0;
    }
    closedir(d);
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct sg_verify_file *)a)->path, ((const struct sg_verify_file *)b)->path);
}

/* ---- the whole check ---- */

static void finish(struct ctx *c)
{
    struct sg_verify_report *rep = c->rep;
    size_t listed_end = c->n_listed;

    if (c->errors_total > MAX_ERRORS) {
        size_t more = c->errors_total - MAX_ERRORS;
        c->errors_total = 0; /* let this line through */
        add_error(c, "... and %zu more problems with the manifest", more);
        c->errors_total = MAX_ERRORS + more;
    }
    if (c->unexpected_total > MAX_UNEXPECTED) {
        /* one line for them all, but each counts as a problem (below) */
        add_error(c, "%zu more files not listed in the manifest were found",
                  c->unexpected_total - MAX_UNEXPECTED);
        c->errors_total--;
    }
    if (rep->n_files > listed_end)
        qsort(rep->files + listed_end, rep->n_files - listed_end, sizeof(*rep->files), cmp_file);
    rep->problems = rep->sig == SG_VERIFY_SIG_VALID ? 0 : 1;
    for (size_t i = 0; i < rep->n_files; i++)
        rep->problems += rep->files[i].status != SG_VERIFY_OK;
    /* both totals are bounded by the manifest's size cap and the directory listing */
    rep->problems += (int)c->errors_total;
    if (c->unexpected_total > MAX_UNEXPECTED)
        rep->problems += (int)(c->unexpected_total - MAX_UNEXPECTED);
}

int sg_verify_package(const char *dir, const unsigned char (*keys)[SG_VERIFY_PUBKEY_BYTES],
                      size_t n_keys, struct sg_verify_report **out)
{
    struct ctx c = { .dfd = -1 };
    char *manifest = NULL, rel[(WALK_DEPTH + 1) * 256];
    size_t mlen = 0;
    int r, fd;

    *out = NULL;
    if (sodium_init() < 0)
        return -EIO;
    if (!(c.rep = calloc(1, sizeof(*c.rep))) || !(c.rep->package = strdup(dir)) ||
        !(c.buf = malloc(HASH_BUF))) {
        r = -ENOMEM;
        goto fail;
    }
    c.rep->keys_given = n_keys > 0;
    if ((c.dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        r = -errno;
        goto fail;
    }
    r = read_small(c.dfd, "manifest.json", SG_VERIFY_MANIFEST_MAX, &manifest, &mlen);
    if (r == -ENOENT)
        add_error(&c, "manifest.json is missing");
    else if (r == -ENOMEM)
        c.oom = 1;
    else if (r < 0)
        add_error(&c, "manifest.json %s", read_problem(r));
    else
        check_manifest(&c, manifest, mlen);
    check_signature(&c, manifest, mlen, keys, n_keys);
    for (size_t i = 0; i < c.n_listed; i++)
        check_file(&c, &c.rep->files[i]);
    /* Without a usable file list every file would be "unexpected": say nothing about them. */
    if (c.files_parsed) {
        rel[0] = 0;
        if ((fd = openat(c.dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
            add_error(&c, "cannot list the package directory: %s", strerror(errno));
        else
            walk(&c, fd, rel, 0, 0);
    }
    finish(&c);
    if (c.oom) {
        r = -ENOMEM;
        goto fail;
    }
    close(c.dfd);
    free(c.listed);
    free(c.buf);
    free(manifest);
    *out = c.rep;
    return 0;
fail:
    if (c.dfd >= 0)
        close(c.dfd);
    free(c.listed);
    free(c.buf);
    free(manifest);
    sg_verify_report_destroy(&c.rep);
    return r;
}

void sg_verify_report_destroy(struct sg_verify_report **rep)
{
    struct sg_verify_report *r = *rep;

    if (!r)
        return;
    for (size_t i = 0; i < r->n_files; i++)
        free(r->files[i].path);
    for (size_t i = 0; i < r->n_errors; i++)
        free(r->errors[i]);
    free(r->files);
    free(r->errors);
    free(r->package);
    json_decref(r->manifest);
    free(r);
    *rep = NULL;
}
