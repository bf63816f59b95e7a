/* API: login, logout, the session probe, first-admin setup, password change, the site.
 *
 * Login runs on a job thread (R_DEFER): an Argon2id verification takes tens of milliseconds
 * and 64 MiB, which must not stall the MHD thread's live viewers. Failed logins count
 * against the account name and against the client address (sg_ratelimit); at the limit the
 * server answers 429 with Retry-After without checking the password at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "http/http_int.h"

json_t *sg_json_user(const struct sg_user *u)
{
    return json_pack("{s:I,s:s,s:I,s:s,s:b,s:b,s:o,s:o}", "id", (json_int_t)u->id, "name", u->name,
                     "site", (json_int_t)u->site_id, "role", sg_role_name(u->role), "all_cameras",
                     u->all_cameras, "disabled", u->disabled, "created", sg_json_time(u->created_us),
                     "updated", sg_json_time(u->updated_us));
}

static json_t *perms_json(unsigned perms)
{
    json_t *a = json_array();

    for (unsigned b = 1; b & SG_P_ALL; b <<= 1)
        if (perms & b)
            json_array_append_new(a, json_string(sg_perm_name(b)));
    return a;
}

/* The session document: who is signed in, what they may do, the CSRF token. */
static json_t *session_json(struct sg_req *r)
{
    struct sg_site site;
    struct sg_user u;

    if (!r->who.user_id || sg_catalog_user_get(r->cat, r->who.user_id, &u) < 0)
        return json_pack("{s:n,s:b}", "user", "setup_required", sg_catalog_admin_count(r->cat) == 0);
    if (sg_catalog_site_get(r->cat, u.site_id, &site) < 0)
        snprintf(site.name, sizeof(site.name), "?");
    return json_pack("{s:o,s:{s:I,s:s},s:o,s:o,s:o,s:b}", "user", sg_json_user(&u), "site", "id",
                     (json_int_t)u.site_id, "name", site.name, "permissions", perms_json(r->who.perms),
                     "csrf", r->who.csrf[0] ? json_string(r->who.csrf) : json_null(), "expires",
                     sg_json_time(r->who.session_expires_us), "setup_required", 0);
}

int sg_api_session(struct sg_req *r) { return sg_reply_json(r, MHD_HTTP_OK, session_json(r)); }

/* Starts a console session for u: a random token in the cookie, its hash in the catalog. */
static int start_session(struct sg_req *r, const struct sg_user *u)
{
    const struct sg_config *cfg = r->srv->cfg;
    struct sg_session s = { .user_id = u->id };
    char token[SG_TOKEN_CHARS], csrf[SG_TOKEN_CHARS];
    int64_t now = sg_utc_us();
    int rc;

    sg_token_new(token);
    sg_token_new(csrf);
    sg_token_hash(token, s.token_hash);
    snprintf(s.csrf, sizeof(s.csrf), "%s", csrf);
    snprintf(s.source, sizeof(s.source), "%s", r->source);
    s.created_us = s.last_seen_us = now;
    s.expires_us = now + (int64_t)cfg->session_hours * 3600 * 1000000LL;
    if ((rc = sg_catalog_session_add(r->cat, &s)) < 0)
        return rc;
    r->who.user_id = u->id;
    r->who.site_id = u->site_id;
    r->who.session_id = s.id;
    r->who.role = u->role;
    r->who.perms = sg_role_perms(u->role);
    r->who.all_cameras = u->all_cameras;
    r->who.session_expires_us = s.expires_us;
    snprintf(r->who.name, sizeof(r->who.name), "%s", u->name);
    snprintf(r->who.csrf, sizeof(r->who.csrf), "%s", s.csrf);
    snprintf(r->cookie_value, sizeof(r->cookie_value), "%s", token);
    r->set_cookie = 1;
    return 0;
}

static int login_refused(struct sg_req *r, const char *reason, int64_t site_id)
{
    char detail[64];

    r->who.site_id = site_id;
    snprintf(detail, sizeof(detail), "{\"reason\":\"%s\"}", reason);
    sg_http_audit(r, "login", "failed", 0, "", detail);
    return sg_reply_error(r, MHD_HTTP_UNAUTHORIZED, "login_failed", "wrong user name or password");
}

/* Returns the seconds to wait before another attempt from this account or address. */
static int login_wait(struct sg_req *r, const char *ukey, const char *akey)
{
    int64_t now = sg_mono_ns();
    int a = sg_ratelimit_check(r->srv->login_fails_user, ukey, now);
    int b = sg_ratelimit_check(r->srv->login_fails_addr, akey, now);

    return a > b ? a : b;
}

static void login_failed(struct sg_req *r, const char *ukey, const char *akey)
{
    int64_t now = sg_mono_ns();

    sg_ratelimit_fail(r->srv->login_fails_user, ukey, now);
    sg_ratelimit_fail(r->srv->login_fails_addr, akey, now);
}

int sg_api_login(struct sg_req *r)
{
    static const char *const known[] = { "user", "password", NULL };
    const struct sg_config *cfg = r->srv->cfg;
    const char *name = json_string_value(json_object_get(r->json, "user"));
    const char *pw = json_string_value(json_object_get(r->json, "password"));
    char ukey[SG_NAME_MAX + 8], akey[SG_SOURCE_MAX + 8];
    struct sg_user u;
    int wait, rc;

    if (sg_http_only_keys(r, r->json, known) < 0)
        return MHD_YES;
    if (!name || !pw || !name[0] || strlen(name) >= SG_NAME_MAX || strlen(pw) > 1024)
        return sg_reply_error(r, 400, "bad_request", "give user and password as strings");
    snprintf(r->who.name, sizeof(r->who.name), "%s", name); /* who tried, for the audit trail */
    snprintf(ukey, sizeof(ukey), "u:%s", name);
    snprintf(akey, sizeof(akey), "a:%s", r->source);
    if ((wait = login_wait(r, ukey, akey)) > 0) {
        r->who.site_id = sg_catalog_user_find(r->cat, name, &u) == 0 ? u.site_id : 1;
        sg_http_audit(r, "login", "denied", 0, "", "{\"reason\":\"rate_limited\"}");
        r->retry_after = wait;
        return sg_reply_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited",
                              "too many failed logins: try again in %d s", wait);
    }
    rc = sg_catalog_user_find(r->cat, name, &u);
    if (rc == SG_E_NOTFOUND) {
        sg_password_burn(pw, cfg->password_opslimit, cfg->password_memlimit);
        login_failed(r, ukey, akey);
        return login_refused(r, "unknown_user", 1);
    }
    if (rc < 0)
        return sg_reply_errno(r, rc, "login");
    if (sg_password_verify(u.pw_hash, pw) < 0) {
        login_failed(r, ukey, akey);
        return login_refused(r, "wrong_password", u.site_id);
    }
    if (u.disabled) {
        login_failed(r, ukey, akey);
        return login_refused(r, "disabled", u.site_id);
    }
    sg_ratelimit_clear(r->srv->login_fails_user, ukey);
    if (sg_password_needs_rehash(u.pw_hash, cfg->password_opslimit, cfg->password_memlimit) &&
        sg_password_hash(pw, cfg->password_opslimit, cfg->password_memlimit, u.pw_hash) == 0) {
        if (sg_catalog_user_update(r->cat, &u) == 0)
            sg_info("auth", 0, "password hash of '%s' redone with the current parameters", u.name);
    }
    if ((rc = start_session(r, &u)) < 0)
        return sg_reply_errno(r, rc, "login");
    sg_http_audit(r, "login", "ok", 0, "", NULL);
    return sg_reply_json(r, MHD_HTTP_OK, session_json(r));
}

int sg_api_logout(struct sg_req *r)
{
    if (!r->who.session_id)
        return sg_reply_error(r, 400, "bad_request",
                              "logout ends a console session; revoke API tokens with DELETE /api/v1/tokens/{id}");
    sg_catalog_session_revoke(r->cat, r->who.session_id, sg_utc_us());
    sg_http_audit(r, "logout", "ok", 0, "", NULL);
    r->set_cookie = -1;
    return sg_reply_json(r, MHD_HTTP_OK, json_pack("{s:n,s:b}", "user", "setup_required", 0));
}

/* ---- first administrator ---- */

void sg_http_setup_init(struct sg_http *h)
{
    struct sg_catalog *cat = sg_http_catalog(h);
    char token[SG_TOKEN_CHARS];

    if (sg_catalog_admin_count(cat) == 0) {
        sg_token_new(token);
        sg_token_hash(token, h->setup_hash);
        h->setup_active = 1;
        sg_warn("auth", 0, "no administrator exists yet. Open the console and create one with the "
                "one-time setup token %s (valid until restart), or run: sargas user add NAME --role admin",
                token);
    }
    sg_http_catalog_put(h, cat);
}

int sg_api_setup(struct sg_req *r)
{
    static const char *const known[] = { "token", "user", "password", NULL };
    const struct sg_config *cfg = r->srv->cfg;
    const char *token = json_string_value(json_object_get(r->json, "token"));
    const char *name = json_string_value(json_object_get(r->json, "user"));
    const char *pw = json_string_value(json_object_get(r->json, "password"));
    unsigned char hash[SG_HASH_BYTES];
    char akey[SG_SOURCE_MAX + 8], why[128];
    struct sg_user u = { .site_id = 1, .role = SG_ROLE_ADMIN, .all_cameras = 1 };
    int wait, ok, rc;

    if (sg_http_only_keys(r, r->json, known) < 0)
        return MHD_YES;
    if (!token || !name || !pw)
        return sg_reply_error(r, 400, "bad_request", "give token, user and password as strings");
    snprintf(akey, sizeof(akey), "a:%s", r->source);
    if ((wait = sg_ratelimit_check(r->srv->login_fails_addr, akey, sg_mono_ns())) > 0) {
        r->retry_after = wait;
        return sg_reply_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited", "try again in %d s", wait);
    }
    sg_token_hash(token, hash);
    pthread_mutex_lock(&r->srv->setup_mu);
    ok = r->srv->setup_active && sg_hash_equal(hash, r->srv->setup_hash);
    pthread_mutex_unlock(&r->srv->setup_mu);
    if (!ok || sg_catalog_admin_count(r->cat) != 0) {
        sg_ratelimit_fail(r->srv->login_fails_addr, akey, sg_mono_ns());
        sg_http_audit(r, "setup", "failed", 0, "", "{\"reason\":\"bad_token\"}");
        return sg_reply_error(r, MHD_HTTP_FORBIDDEN, "forbidden",
                              "wrong or used setup token (or an administrator exists already)");
    }
    if (!sg_user_name_valid(name))
        return sg_reply_error(r, 400, "bad_request", "user: 1-64 letters, digits, '.', '_', '-' or '@'");
    if (sg_password_ok(pw, why, sizeof(why)) < 0)
        return sg_reply_error(r, 400, "weak_password", "%s", why);
    snprintf(u.name, sizeof(u.name), "%s", name);
    if ((rc = sg_password_hash(pw, cfg->password_opslimit, cfg->password_memlimit, u.pw_hash)) < 0)
        return sg_reply_errno(r, rc, "setup");
    pthread_mutex_lock(&r->srv->setup_mu);
    ok = r->srv->setup_active;
    r->srv->setup_active = 0; /* one use */
    pthread_mutex_unlock(&r->srv->setup_mu);
    if (!ok)
        return sg_reply_error(r, MHD_HTTP_FORBIDDEN, "forbidden", "the setup token was used meanwhile");
    if ((rc = sg_catalog_user_add(r->cat, &u)) < 0)
        return sg_reply_errno(r, rc, "user");
    if ((rc = start_session(r, &u)) < 0)
        return sg_reply_errno(r, rc, "setup");
    sg_http_audit_json(r, "user.add", "ok", 0, u.name,
                       json_pack("{s:s,s:s}", "role", "admin", "via", "setup token"));
    sg_info("auth", 0, "first administrator '%s' created with the setup token", u.name);
    return sg_reply_json(r, MHD_HTTP_CREATED, session_json(r));
}

/* ---- own password ---- */

int sg_api_password(struct sg_req *r)
{
    static const char *const known[] = { "current", "new", NULL };
    const struct sg_config *cfg = r->srv->cfg;
    const char *cur = json_string_value(json_object_get(r->json, "current"));
    const char *nw = json_string_value(json_object_get(r->json, "new"));
    char ukey[SG_NAME_MAX + 8], akey[SG_SOURCE_MAX + 8], why[128];
    struct sg_user u;
    int wait, rc;

    if (sg_http_only_keys(r, r->json, known) < 0)
        return MHD_YES;
    if (!r->who.session_id)
        return sg_reply_error(r, MHD_HTTP_FORBIDDEN, "forbidden", "change passwords in a console session");
    if (!cur || !nw || strlen(cur) > 1024)
        return sg_reply_error(r, 400, "bad_request", "give current and new as strings");
    snprintf(ukey, sizeof(ukey), "u:%s", r->who.name);
    snprintf(akey, sizeof(akey), "a:%s", r->source);
    if ((wait = login_wait(r, ukey, akey)) > 0) {
        r->retry_after = wait;
        return sg_reply_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited", "try again in %d s", wait);
    }
    if ((rc = sg_catalog_user_get(r->cat, r->who.user_id, &u)) < 0)
        return sg_reply_errno(r, rc, "user");
    if (sg_password_verify(u.pw_hash, cur) < 0) {
        login_failed(r, ukey, akey);
        sg_http_audit(r, "user.password", "failed", 0, u.name, "{\"reason\":\"wrong_password\"}");
        return sg_reply_error(r, MHD_HTTP_FORBIDDEN, "wrong_password", "the current password is wrong");
    }
    if (sg_password_ok(nw, why, sizeof(why)) < 0)
        return sg_reply_error(r, 400, "weak_password", "%s", why);
    if ((rc = sg_password_hash(nw, cfg->password_opslimit, cfg->password_memlimit, u.pw_hash)) < 0 ||
        (rc = sg_catalog_user_update(r->cat, &u)) < 0)
        return sg_reply_errno(r, rc, "password");
    /* Every other session of this user ends: whoever knew the old password is out. */
    sg_catalog_session_revoke_user(r->cat, u.id, sg_utc_us());
    {
        struct sg_user keep = u;
        if ((rc = start_session(r, &keep)) < 0)
            return sg_reply_errno(r, rc, "password");
    }
    sg_http_audit(r, "user.password", "ok", 0, u.name, NULL);
    return sg_reply_json(r, MHD_HTTP_OK, session_json(r));
}

/* ---- the site ---- */

int sg_api_site(struct sg_req *r)
{
    struct sg_site s;
    char hex[2 * SG_PUBKEY_BYTES + 1], fp[64];
    int rc;

    if ((rc = sg_catalog_site_get(r->cat, r->who.site_id, &s)) < 0)
        return sg_reply_errno(r, rc, "site");
    if (!s.has_key)
        return sg_reply_json(r, MHD_HTTP_OK, json_pack("{s:I,s:s,s:n,s:n}", "id", (json_int_t)s.id,
                                                       "name", s.name, "public_key", "fingerprint"));
    sg_hex(s.public_key, SG_PUBKEY_BYTES, hex);
    sg_sitekey_fingerprint(s.public_key, fp, sizeof(fp));
    return sg_reply_json(r, MHD_HTTP_OK, json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)s.id, "name",
                                                   s.name, "public_key", hex, "fingerprint", fp));
}
