/* API: the audit trail of the principal's site, as JSON pages and as CSV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "http/http_int.h"

#define PAGE_MAX 1000
#define CSV_MAX 50000

/* Reads the filter parameters. Returns 0, or replies 400 and returns -1. */
static int read_filter(struct sg_req *r, struct sg_audit_filter *f, int max, int def)
{
    const char *user = sg_query(r, "user"), *action = sg_query(r, "action");
    int64_t cam, before, limit;

    memset(f, 0, sizeof(*f));
    f->site_id = r->who.site_id;
    if (sg_query_time(r, "from", 0, &f->from_us) < 0 || sg_query_time(r, "to", 0, &f->to_us) < 0 ||
        sg_query_int(r, "camera", 0, 1, INT64_MAX, &cam) < 0 ||
        sg_query_int(r, "before", 0, 1, INT64_MAX, &before) < 0 ||
        sg_query_int(r, "limit", def, 1, max, &limit) < 0)
        return -1;
    if (user && (!user[0] || strlen(user) >= SG_NAME_MAX)) {
        sg_reply_error(r, 400, "bad_request", "user: a user name of 1-127 characters");
        return -1;
    }
    if (action) {
        size_t n = strlen(action);
        if (!n || n >= SG_ACTION_MAX || strspn(action, "abcdefghijklmnopqrstuvwxyz._") != n) {
            sg_reply_error(r, 400, "bad_request", "action: such as login, live.start or live. (a prefix)");
            return -1;
        }
    }
    f->user = user && user[0] ? user : NULL;
    f->action = action;
    f->camera_id = cam;
    f->before_seq = before;
    f->limit = (int)limit;
    return 0;
}

static json_t *entry_json(const struct sg_audit_entry *e)
{
    char hex[2 * SG_HASH_BYTES + 1];
    json_t *detail = NULL;

    sg_hex(e->hash, SG_HASH_BYTES, hex);
    if (e->detail[0])
        detail = json_loads(e->detail, 0, NULL);
    return json_pack("{s:I,s:o,s:s,s:o,s:s,s:s,s:s,s:o,s:s,s:o,s:s}", "seq", (json_int_t)e->seq, "time",
                     sg_json_time(e->ts_us), "user", e->user, "user_id",
                     e->user_id ? json_integer(e->user_id) : json_null(), "source", e->source, "action",
                     e->action, "outcome", e->outcome, "camera",
                     e->camera_id ? json_integer(e->camera_id) : json_null(), "object", e->object, "detail",
                     detail ? detail : json_null(), "hash", hex);
}

int sg_api_audit(struct sg_req *r)
{
    struct sg_audit_filter f;
    struct sg_audit_entry *e = NULL;
    json_t *a;
    int n;

    if (read_filter(r, &f, PAGE_MAX, 100) < 0)
        return MHD_YES;
    if ((n = sg_catalog_audit_list(r->cat, &f, &e)) < 0)
        return sg_reply_errno(r, n, "audit");
    a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, entry_json(&e[i]));
    /* A full page may have more behind it: the client asks again with before = the last seq. */
    json_t *next = n == f.limit && n ? json_integer(e[n - 1].seq) : json_null();
    free(e);
    return sg_reply_json(r, MHD_HTTP_OK, json_pack("{s:o,s:o}", "entries", a, "next_before", next));
}

/* One CSV field (RFC 4180): quoted when needed; a leading =, +, - or @ gets a ' so that a
 * spreadsheet does not run it as a formula. */
static void csv_field(struct sg_buf *b, const char *s, int last)
{
    int quote = strpbrk(s, ",\"\r\n") != NULL || (s[0] && strchr("=+-@", s[0]));

    if (quote)
        sg_buf_append(b, "\"", 1);
    if (s[0] && strchr("=+-@", s[0]))
        sg_buf_append(b, "'", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            sg_buf_append(b, "\"", 1);
        sg_buf_append(b, p, 1);
    }
    if (quote)
        sg_buf_append(b, "\"", 1);
    sg_buf_append(b, last ? "\r\n" : ",", last ? 2 : 1);
}

int sg_api_audit_csv(struct sg_req *r)
{
    static const char header[] = "seq,time_utc,user,source,action,outcome,camera,object,detail,hash\r\n";
    struct sg_audit_filter f;
    struct sg_audit_entry *e = NULL;
    struct sg_buf b = { 0 };
    struct MHD_Response *resp;
    char num[32], t[40], hex[2 * SG_HASH_BYTES + 1];
    int n;

    if (read_filter(r, &f, CSV_MAX, CSV_MAX) < 0)
        return MHD_YES;
    if ((n = sg_catalog_audit_list(r->cat, &f, &e)) < 0)
        return sg_reply_errno(r, n, "audit");
    sg_buf_append(&b, header, sizeof(header) - 1);
    for (int i = 0; i < n; i++) {
        snprintf(num, sizeof(num), "%lld", (long long)e[i].seq);
        csv_field(&b, num, 0);
        sg_utc_format(e[i].ts_us, 6, t, sizeof(t));
        csv_field(&b, t, 0);
        csv_field(&b, e[i].user, 0);
        csv_field(&b, e[i].source, 0);
        csv_field(&b, e[i].action, 0);
        csv_field(&b, e[i].outcome, 0);
        snprintf(num, sizeof(num), "%lld", (long long)e[i].camera_id);
        csv_field(&b, e[i].camera_id ? num : "", 0);
        csv_field(&b, e[i].object, 0);
        csv_field(&b, e[i].detail, 0);
        sg_hex(e[i].hash, SG_HASH_BYTES, hex);
        csv_field(&b, hex, 1);
    }
    free(e);
    sg_http_audit_json(r, "audit.export", "ok", 0, "csv", json_pack("{s:i}", "entries", n));
    resp = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        sg_buf_free(&b);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/csv; charset=utf-8");
    MHD_add_response_header(resp, "Content-Disposition", "attachment; filename=\"sargas-audit.csv\"");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    return sg_reply(r, MHD_HTTP_OK, resp);
}
