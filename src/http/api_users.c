/* API: users of the principal's site, their per-camera grants and sessions, and API tokens.
 * The router has already authorised the route and any {id} (authz.c): a user of another
 * site, or another user's token, never reaches these handlers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "http/http_int.h"

#define MAX_GRANTS 1024

#define bad(r, fmt, arg) sg_reply_error((r), 400, "bad_request", fmt, arg)

static json_t *grants_json(struct sg_req *r, int64_t user_id)
{
    struct sg_grant *g = NULL;
    json_t *a = json_array();
    int n = sg_catalog_grant_list(r->cat, user_id, &g);

    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:I,s:s}", "camera", (json_int_t)g[i].camera_id, "access",
                                           g[i].allow ? "allow" : "deny"));
    free(g);
    return a;
}

static int reply_user(struct sg_req *r, unsigned status, int64_t id)
{
    struct sg_user u;
    json_t *o;
    int rc;

    if ((rc = sg_catalog_user_get(r->cat, id, &u)) < 0)
        return sg_reply_errno(r, rc, "user");
    o = sg_json_user(&u);
    json_object_set_new(o, "grants", grants_json(r, u.id));
    return sg_reply_json(r, status, o);
}

int sg_api_users_list(struct sg_req *r)
{
    struct sg_user *u = NULL;
    json_t *a;
    int n = sg_catalog_user_list(r->cat, r->who.site_id, &u);

    if (n < 0)
        return sg_reply_errno(r, n, "users");
    a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, sg_json_user(&u[i]));
    free(u);
    return sg_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "users", a));
}

int sg_api_user_get(struct sg_req *r) { return reply_user(r, MHD_HTTP_OK, r->id); }

/* Applies role / all_cameras / disabled / password of a body to u. Returns 0, or replies
 * 400 and returns -1. *pw_changed tells whether the password was set. */
static int apply_user(struct sg_req *r, struct sg_user *u, int creating, int *pw_changed)
{
    static const char *const known[] = { "name", "role", "password", "all_cameras", "disabled" };
    const struct sg_config *cfg = r->srv->cfg;
    const char *key;
    json_t *v;
    char why[128];

    *pw_changed = 0;
    json_object_foreach(r->json, key, v) {
        size_t i;
        for (i = 0; i < sizeof(known) / sizeof(known[0]) && strcmp(key, known[i]); i++)
            ;
        if (i == sizeof(known) / sizeof(known[0]) || (!creating && !strcmp(key, "name")))
            return bad(r, "unknown or unchangeable field '%.64s'", key), -1;
        if (!strcmp(key, "name")) {
            if (!json_is_string(v) || !sg_user_name_valid(json_string_value(v)))
                return bad(r, "%s: 1-64 letters, digits, '.', '_', '-' or '@'", "name"), -1;
            snprintf(u->name, sizeof(u->name), "%s", json_string_value(v));
        } else if (!strcmp(key, "role")) {
            int role = json_is_string(v) ? sg_role_parse(json_string_value(v)) : -1;
            if (role < 0)
                return bad(r, "%s: admin, operator, investigator, viewer or auditor", "role"), -1;
            u->role = role;
        } else if (!strcmp(key, "password")) {
            if (!json_is_string(v))
                return bad(r, "%s must be a string", "password"), -1;
            if (sg_password_ok(json_string_value(v), why, sizeof(why)) < 0)
                return sg_reply_error(r, 400, "weak_password", "%s", why), -1;
            if (sg_password_hash(json_string_value(v), cfg->password_opslimit, cfg->password_memlimit,
                                 u->pw_hash) < 0)
                return sg_reply_error(r, 503, "unavailable", "cannot hash the password now"), -1;
            *pw_changed = 1;
        } else {
            if (!json_is_boolean(v))
                return bad(r, "%s must be true or false", key), -1;
            *(key[0] == 'a' ? &u->all_cameras : &u->disabled) = json_is_true(v);
        }
    }
    return 0;
}

int sg_api_user_create(struct sg_req *r)
{
    struct sg_user u = { .site_id = r->who.site_id, .all_cameras = 1 };
    int pw, rc;

    if (!json_object_get(r->json, "name") || !json_object_get(r->json, "role") ||
        !json_object_get(r->json, "password"))
        return sg_reply_error(r, 400, "bad_request", "name, role and password are required");
    if (apply_user(r, &u, 1, &pw) < 0)
        return MHD_YES;
    if ((rc = sg_catalog_user_add(r->cat, &u)) < 0)
        return rc == SG_E_EXISTS ? sg_reply_error(r, MHD_HTTP_CONFLICT, "conflict", "that user name is taken")
                                 : sg_reply_errno(r, rc, "user");
    sg_http_audit_json(r, "user.add", "ok", 0, u.name,
                       json_pack("{s:I,s:s,s:b,s:b}", "user_id", (json_int_t)u.id, "role", sg_role_name(u.role),
                                 "all_cameras", u.all_cameras, "disabled", u.disabled));
    return reply_user(r, MHD_HTTP_CREATED, u.id);
}

/* 1 when taking away u's admin rights would leave no enabled administrator. */
static int last_admin(struct sg_req *r, const struct sg_user *u)
{
    return u->role == SG_ROLE_ADMIN && !u->disabled && sg_catalog_admin_count(r->cat) <= 1;
}

int sg_api_user_update(struct sg_req *r)
{
    struct sg_user u, before;
    json_t *d;
    int pw, rc;

    if ((rc = sg_catalog_user_get(r->cat, r->id, &u)) < 0)
        return sg_reply_errno(r, rc, "user");
    before = u;
    if (apply_user(r, &u, 0, &pw) < 0)
        return MHD_YES;
    if (last_admin(r, &before) && (u.role != SG_ROLE_ADMIN || u.disabled))
        return sg_reply_error(r, MHD_HTTP_CONFLICT, "conflict", "this is the last enabled administrator");
    if ((rc = sg_catalog_user_update(r->cat, &u)) < 0)
        return sg_reply_errno(r, rc, "user");
    /* A new password or a disabled account ends the user's sessions at once. */
    if ((pw || u.disabled) && u.id != r->who.user_id)
        sg_catalog_session_revoke_user(r->cat, u.id, sg_utc_us());
    d = json_deep_copy(r->json);
    if (pw)
        json_object_set_new(d, "password", json_string("(changed)"));
    sg_http_audit_json(r, "user.update", "ok", 0, u.name, d);
    return reply_user(r, MHD_HTTP_OK, u.id);
}

int sg_api_user_delete(struct sg_req *r)
{
    struct sg_buf empty = { 0 };
    struct sg_user u;
    int rc;

    if ((rc = sg_catalog_user_get(r->cat, r->id, &u)) < 0)
        return sg_reply_errno(r, rc, "user");
    if (u.id == r->who.user_id)
        return sg_reply_error(r, MHD_HTTP_CONFLICT, "conflict", "you cannot remove yourself");
    if (last_admin(r, &u))
        return sg_reply_error(r, MHD_HTTP_CONFLICT, "conflict", "this is the last enabled administrator");
    if ((rc = sg_catalog_user_remove(r->cat, u.id)) < 0)
        return sg_reply_errno(r, rc, "user");
    sg_http_audit_json(r, "user.remove", "ok", 0, u.name, json_pack("{s:I}", "user_id", (json_int_t)u.id));
    return sg_reply_buf(r, MHD_HTTP_NO_CONTENT, "application/json", &empty);
}

/* PUT: replaces every grant of the user with the list given. */
int sg_api_user_grants(struct sg_req *r)
{
    json_t *list = json_object_get(r->json, "grants"), *g;
    int64_t cams[MAX_GRANTS];
    int allow[MAX_GRANTS], n = 0, rc;
    size_t i;

    if (json_object_size(r->json) != 1 || !json_is_array(list) || json_array_size(list) > MAX_GRANTS)
        return sg_reply_error(r, 400, "bad_request", "the body is {\"grants\": [{\"camera\": ID, \"access\": "
                              "\"allow\"|\"deny\"}, ...]} with at most %d entries", MAX_GRANTS);
    json_array_foreach(list, i, g) {
        json_t *c = json_object_get(g, "camera");
        const char *a = json_string_value(json_object_get(g, "access"));
        struct sg_camera cam;
        if (!json_is_object(g) || json_object_size(g) != 2 || !json_is_integer(c) || !a ||
            (strcmp(a, "allow") && strcmp(a, "deny")))
            return sg_reply_error(r, 400, "bad_request", "grants[%zu]: {\"camera\": ID, \"access\": \"allow\"|\"deny\"}", i);
        /* A camera of another site is refused exactly like a missing one. */
        if (sg_catalog_camera_get(r->cat, json_integer_value(c), &cam) < 0 || cam.site_id != r->who.site_id)
            return sg_reply_error(r, 400, "bad_request", "grants[%zu]: no such camera", i);
        cams[n] = cam.id;
        allow[n++] = !strcmp(a, "allow");
    }
    if ((rc = sg_catalog_begin(r->cat)) < 0)
        return sg_reply_errno(r, rc, "grants");
    rc = sg_catalog_grant_clear(r->cat, r->id);
    for (int k = 0; k < n && rc >= 0; k++)
        rc = sg_catalog_grant_set(r->cat, r->id, cams[k], allow[k]);
    if (rc < 0) {
        sg_catalog_rollback(r->cat);
        return sg_reply_errno(r, rc, "grants");
    }
    if ((rc = sg_catalog_commit(r->cat)) < 0)
        return sg_reply_errno(r, rc, "grants");
    {
        struct sg_user u;
        char who[SG_NAME_MAX + 16];
        if (sg_catalog_user_get(r->cat, r->id, &u) == 0)
            snprintf(who, sizeof(who), "%s", u.name);
        else
            snprintf(who, sizeof(who), "user:%lld", (long long)r->id);
        sg_http_audit_json(r, "grant.set", "ok", 0, who, json_pack("{s:O}", "grants", list));
    }
    return reply_user(r, MHD_HTTP_OK, r->id);
}

int sg_api_user_sessions_revoke(struct sg_req *r)
{
    struct sg_user u;
    int n, rc;

    if ((rc = sg_catalog_user_get(r->cat, r->id, &u)) < 0)
        return sg_reply_errno(r, rc, "user");
    if ((n = sg_catalog_session_revoke_user(r->cat, r->id, sg_utc_us())) < 0)
        return sg_reply_errno(r, n, "sessions");
    sg_http_audit_json(r, "session.revoke", "ok", 0, u.name, json_pack("{s:i}", "sessions", n));
    return sg_reply_json(r, MHD_HTTP_OK, json_pack("{s:i}", "revoked", n));
}

/* ---- API tokens ---- */

static json_t *token_json(const struct sg_token *t)
{
    json_t *scopes = json_array();

    for (unsigned b = 1; b & SG_P_ALL; b <<= 1)
        if (t->perms & b)
            json_array_append_new(scopes, json_string(sg_perm_name(b)));
    return json_pack("{s:I,s:s,s:I,s:o,s:o,s:o,s:o,s:o}", "id", (json_int_t)t->id, "name", t->name, "user",
                     (json_int_t)t->user_id, "scopes", scopes, "created", sg_json_time(t->created_us),
                     "expires", sg_json_time(t->expires_us), "last_used", sg_json_time(t->last_used_us),
                     "revoked", sg_json_time(t->revoked_us));
}

int sg_api_tokens_list(struct sg_req *r)
{
    struct sg_token *t = NULL;
    json_t *a;
    int n = sg_catalog_token_list(r->cat, r->who.user_id, &t);

    if (n < 0)
        return sg_reply_errno(r, n, "tokens");
    a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, token_json(&t[i]));
    free(t);
    return sg_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "tokens", a));
}

int sg_api_token_create(struct sg_req *r)
{
    static const char *const known[] = { "name", "scopes", "expires_days", NULL };
    const char *name = json_string_value(json_object_get(r->json, "name"));
    json_t *scopes = json_object_get(r->json, "scopes"), *v, *o;
    json_t *days = json_object_get(r->json, "expires_days");
    unsigned role_perms = sg_role_perms(r->who.role), perms = 0;
    struct sg_token t = { .user_id = r->who.user_id };
    char secret[SG_TOKEN_CHARS];
    size_t i;
    int rc;

    if (r->who.token_id)
        return sg_reply_error(r, MHD_HTTP_FORBIDDEN, "forbidden", "an API token cannot make tokens");
    if (sg_http_only_keys(r, r->json, known) < 0)
        return MHD_YES;
    if (!name || !sg_camera_name_valid(name))
        return bad(r, "%s: 1-127 characters, no control characters", "name");
    if (days && (!json_is_integer(days) || json_integer_value(days) < 0 || json_integer_value(days) > 3650))
        return bad(r, "%s: whole days from 0 (never) to 3650", "expires_days");
    if (scopes && (!json_is_array(scopes) || !json_array_size(scopes)))
        return bad(r, "%s: a non-empty list of permissions", "scopes");
    json_array_foreach(scopes, i, v) {
        unsigned bit;
        if (!json_is_string(v) || sg_perm_parse(json_string_value(v), &bit) < 0 || !(role_perms & bit))
            return sg_reply_error(r, 400, "bad_request", "scopes[%zu]: not a permission of your role", i);
        perms |= bit;
    }
    t.perms = scopes ? perms : role_perms;
    snprintf(t.name, sizeof(t.name), "%s", name);
    t.created_us = sg_utc_us();
    if (days && json_integer_value(days) > 0)
        t.expires_us = t.created_us + json_integer_value(days) * 86400LL * 1000000LL;
    sg_token_new(secret);
    sg_token_hash(secret, t.token_hash);
    if ((rc = sg_catalog_token_add(r->cat, &t)) < 0)
        return sg_reply_errno(r, rc, "token");
    o = token_json(&t);
    sg_http_audit_json(r, "token.add", "ok", 0, t.name,
                       json_pack("{s:I,s:O}", "token_id", (json_int_t)t.id, "scopes", json_object_get(o, "scopes")));
    json_object_set_new(o, "token", json_string(secret)); /* shown this once, stored only hashed */
    return sg_reply_json(r, MHD_HTTP_CREATED, o);
}

int sg_api_token_delete(struct sg_req *r)
{
    struct sg_buf empty = { 0 };
    struct sg_token t;
    int rc;

    if ((rc = sg_catalog_token_get(r->cat, r->id, &t)) < 0)
        return sg_reply_errno(r, rc, "token");
    if ((rc = sg_catalog_token_revoke(r->cat, r->id, sg_utc_us())) < 0 && rc != SG_E_NOTFOUND)
        return sg_reply_errno(r, rc, "token");
    sg_http_audit_json(r, "token.revoke", "ok", 0, t.name, json_pack("{s:I}", "token_id", (json_int_t)t.id));
    return sg_reply_buf(r, MHD_HTTP_NO_CONTENT, "application/json", &empty);
}
