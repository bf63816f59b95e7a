/* `sargas user ...` and `sargas token ...`: accounts from the command line. This is how the
 * first administrator is made without a browser, and how machines get API tokens. Every
 * change is written to the audit trail as "cli:<login name>". */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/auth.h"
#include "base/clock.h"
#include "base/err.h"
#include "cli/cli.h"

enum { U_ROLE = 1, U_SITE, U_GRANTED, U_ALL, U_STDIN, U_JSON, U_ENABLE, U_DISABLE, U_CAMERA, U_DENY,
       U_CLEAR, U_NAME, U_SCOPE, U_EXPIRES, U_USER };

static const struct option opts[] = {
    { "role", required_argument, NULL, U_ROLE },
    { "site", required_argument, NULL, U_SITE },
    { "granted-only", no_argument, NULL, U_GRANTED },
    { "all-cameras", no_argument, NULL, U_ALL },
    { "password-stdin", no_argument, NULL, U_STDIN },
    { "json", no_argument, NULL, U_JSON },
    { "enable", no_argument, NULL, U_ENABLE },
    { "disable", no_argument, NULL, U_DISABLE },
    { "camera", required_argument, NULL, U_CAMERA },
    { "deny", no_argument, NULL, U_DENY },
    { "clear", no_argument, NULL, U_CLEAR },
    { "name", required_argument, NULL, U_NAME },
    { "scope", required_argument, NULL, U_SCOPE },
    { "expires-days", required_argument, NULL, U_EXPIRES },
    { "user", required_argument, NULL, U_USER },
    { NULL, 0, NULL, 0 },
};

struct uargs {
    const char *role, *site, *camera, *name, *expires, *user;
    const char *scopes[16];
    int n_scopes, granted_only, all_cameras, pw_stdin, json, enable, disable, deny, clear;
    const char *pos;   /* the positional argument (user name, token id) */
};

/* argv[0] is the subcommand word. Returns 0 or 2 (usage error, printed). */
static int parse(int argc, char **argv, struct uargs *a)
{
    int o;

    memset(a, 0, sizeof(*a));
    optind = 1;
    opterr = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case U_ROLE: a->role = optarg; break;
        case U_SITE: a->site = optarg; break;
        case U_GRANTED: a->granted_only = 1; break;
        case U_ALL: a->all_cameras = 1; break;
        case U_STDIN: a->pw_stdin = 1; break;
        case U_JSON: a->json = 1; break;
        case U_ENABLE: a->enable = 1; break;
        case U_DISABLE: a->disable = 1; break;
        case U_CAMERA: a->camera = optarg; break;
        case U_DENY: a->deny = 1; break;
        case U_CLEAR: a->clear = 1; break;
        case U_NAME: a->name = optarg; break;
        case U_EXPIRES: a->expires = optarg; break;
        case U_USER: a->user = optarg; break;
        case U_SCOPE:
            if (a->n_scopes == 16)
                return sg_cli_die("at most 16 --scope");
            a->scopes[a->n_scopes++] = optarg;
            break;
        default: return 2;
        }
    }
    if (optind < argc)
        a->pos = argv[optind++];
    if (optind < argc)
        return sg_cli_die("unexpected argument '%s'", argv[optind]);
    return 0;
}

/* Reads a password: one line from stdin (--password-stdin), or twice from the terminal
 * without echo. Returns 0 or prints why and returns 1. */
static int read_password(int from_stdin, char *pw, size_t n)
{
    char again[300];
    struct termios t, quiet;
    char why[128];

    if (from_stdin) {
        if (!fgets(pw, (int)n, stdin))
            return fprintf(stderr, "sargas: no password on standard input\n"), 1;
        pw[strcspn(pw, "\r\n")] = 0;
    } else {
        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t) < 0)
            return fprintf(stderr, "sargas: no terminal to ask for the password: use --password-stdin\n"), 1;
        quiet = t;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        fputs("password: ", stderr);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        if (!fgets(pw, (int)n, stdin))
            pw[0] = 0;
        fputs("\nagain: ", stderr);
        if (!fgets(again, sizeof(again), stdin))
            again[0] = 0;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
        fputc('\n', stderr);
        pw[strcspn(pw, "\r\n")] = 0;
        again[strcspn(again, "\r\n")] = 0;
        if (strcmp(pw, again))
            return fprintf(stderr, "sargas: the two passwords differ\n"), 1;
    }
    if (sg_password_ok(pw, why, sizeof(why)) < 0)
        return fprintf(stderr, "sargas: password refused: %s\n", why), 1;
    return 0;
}

static int find_site(struct sg_catalog *cat, const char *s, int64_t *id)
{
    struct sg_site site;
    char *end;
    long long v;

    if (!s) {
        *id = 1;
        return 0;
    }
    v = strtoll(s, &end, 10);
    if (!*end && v > 0 && sg_catalog_site_get(cat, v, &site) == 0) {
        *id = v;
        return 0;
    }
    if (sg_catalog_site_find(cat, s, &site) == 0) {
        *id = site.id;
        return 0;
    }
    fprintf(stderr, "sargas: no such site: %s (see sargas site list)\n", s);
    return 1;
}

static int find_user(struct sg_catalog *cat, const char *name, struct sg_user *u)
{
    if (!name)
        return sg_cli_die("name the user");
    if (sg_catalog_user_find(cat, name, u) < 0) {
        fprintf(stderr, "sargas: no such user: %s\n", name);
        return 1;
    }
    return 0;
}

static int user_add(struct sg_catalog *cat, struct uargs *a)
{
    const struct sg_config *cfg = &sg_cli_cfg;
    struct sg_user u = { .all_cameras = !a->granted_only };
    char pw[300], detail[256];
    int r;

    if (!a->pos || !sg_user_name_valid(a->pos))
        return sg_cli_die("user add NAME: 1-64 letters, digits, '.', '_', '-' or '@'");
    if (!a->role || (u.role = sg_role_parse(a->role)) < 0)
        return sg_cli_die("--role must be admin, operator, investigator, viewer or auditor");
    if (find_site(cat, a->site, &u.site_id))
        return 1;
    snprintf(u.name, sizeof(u.name), "%s", a->pos);
    if (read_password(a->pw_stdin, pw, sizeof(pw)))
        return 1;
    r = sg_password_hash(pw, cfg->password_opslimit, cfg->password_memlimit, u.pw_hash);
    memset(pw, 0, sizeof(pw));
    if (r < 0 || (r = sg_catalog_user_add(cat, &u)) < 0) {
        fprintf(stderr, "sargas: %s\n", r == SG_E_EXISTS ? "that user name is taken" : sg_strerror(r));
        return 1;
    }
    snprintf(detail, sizeof(detail), "{\"user_id\":%lld,\"role\":\"%s\",\"all_cameras\":%s}", (long long)u.id,
             sg_role_name(u.role), u.all_cameras ? "true" : "false");
    sg_cli_audit(cat, u.site_id, "user.add", 0, u.name, detail);
    printf("user %lld %s %s site %lld\n", (long long)u.id, u.name, sg_role_name(u.role), (long long)u.site_id);
    return 0;
}

static int user_list(struct sg_catalog *cat, struct uargs *a)
{
    struct sg_user *u = NULL;
    int64_t site = 0;
    int n;

    if (a->site && find_site(cat, a->site, &site))
        return 1;
    if ((n = sg_catalog_user_list(cat, site, &u)) < 0)
        return fprintf(stderr, "sargas: %s\n", sg_strerror(n)), 1;
    if (a->json) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:I,s:s,s:I,s:s,s:b,s:b}", "id", (json_int_t)u[i].id, "name",
                                                 u[i].name, "site", (json_int_t)u[i].site_id, "role",
                                                 sg_role_name(u[i].role), "all_cameras", u[i].all_cameras,
                                                 "disabled", u[i].disabled));
        json_dumpf(arr, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(arr);
    } else {
        printf("%-5s %-24s %-5s %-13s %-8s %s\n", "ID", "NAME", "SITE", "ROLE", "CAMERAS", "STATE");
        for (int i = 0; i < n; i++)
            printf("%-5lld %-24s %-5lld %-13s %-8s %s\n", (long long)u[i].id, u[i].name, (long long)u[i].site_id,
                   sg_role_name(u[i].role), u[i].all_cameras ? "all" : "granted",
                   u[i].disabled ? "disabled" : "enabled");
    }
    free(u);
    return 0;
}

static int user_change(struct sg_catalog *cat, struct uargs *a, const char *sub)
{
    const struct sg_config *cfg = &sg_cli_cfg;
    struct sg_user u;
    char pw[300], detail[256];
    int r;

    if ((r = find_user(cat, a->pos, &u)))
        return r;
    if (!strcmp(sub, "passwd")) {
        if (read_password(a->pw_stdin, pw, sizeof(pw)))
            return 1;
        r = sg_password_hash(pw, cfg->password_opslimit, cfg->password_memlimit, u.pw_hash);
        memset(pw, 0, sizeof(pw));
        if (r < 0 || (r = sg_catalog_user_update(cat, &u)) < 0)
            return fprintf(stderr, "sargas: %s\n", sg_strerror(r)), 1;
        sg_catalog_session_revoke_user(cat, u.id, sg_utc_us());
        sg_cli_audit(cat, u.site_id, "user.password", 0, u.name, "{\"sessions\":\"revoked\"}");
        printf("password of %s changed; their sessions ended\n", u.name);
        return 0;
    }
    if (a->enable && a->disable)
        return sg_cli_die("--enable and --disable exclude each other");
    if (a->all_cameras && a->granted_only)
        return sg_cli_die("--all-cameras and --granted-only exclude each other");
    if (a->role && (u.role = sg_role_parse(a->role)) < 0)
        return sg_cli_die("--role must be admin, operator, investigator, viewer or auditor");
    if (a->all_cameras || a->granted_only)
        u.all_cameras = a->all_cameras;
    if (a->enable || a->disable)
        u.disabled = a->disable;
    if ((r = sg_catalog_user_update(cat, &u)) < 0)
        return fprintf(stderr, "sargas: %s\n", sg_strerror(r)), 1;
    if (u.disabled)
        sg_catalog_session_revoke_user(cat, u.id, sg_utc_us());
    snprintf(detail, sizeof(detail), "{\"role\":\"%s\",\"all_cameras\":%s,\"disabled\":%s}", sg_role_name(u.role),
             u.all_cameras ? "true" : "false", u.disabled ? "true" : "false");
    sg_cli_audit(cat, u.site_id, "user.update", 0, u.name, detail);
    printf("user %s: %s, %s cameras, %s\n", u.name, sg_role_name(u.role), u.all_cameras ? "all" : "granted",
           u.disabled ? "disabled" : "enabled");
    return 0;
}

static int user_remove(struct sg_catalog *cat, struct uargs *a)
{
    struct sg_user u;
    char detail[64];
    int r;

    if ((r = find_user(cat, a->pos, &u)))
        return r;
    if ((r = sg_catalog_user_remove(cat, u.id)) < 0)
        return fprintf(stderr, "sargas: %s\n", sg_strerror(r)), 1;
    snprintf(detail, sizeof(detail), "{\"user_id\":%lld}", (long long)u.id);
    sg_cli_audit(cat, u.site_id, "user.remove", 0, u.name, detail);
    printf("user %s removed\n", u.name);
    return 0;
}

static int user_grant(struct sg_catalog *cat, struct uargs *a)
{
    struct sg_user u;
    struct sg_camera cam;
    char *end, detail[128];
    long long id;
    int r;

    if ((r = find_user(cat, a->pos, &u)))
        return r;
    if (!a->camera)
        return sg_cli_die("user grant NAME --camera ID [--deny | --clear]");
    id = strtoll(a->camera, &end, 10);
    if (*end || id <= 0 || sg_catalog_camera_get(cat, id, &cam) < 0 || cam.site_id != u.site_id)
        return fprintf(stderr, "sargas: no camera %s in the site of %s\n", a->camera, u.name), 1;
    if (a->clear)
        r = sg_catalog_grant_remove(cat, u.id, id);
    else
        r = sg_catalog_grant_set(cat, u.id, id, !a->deny);
    if (r < 0 && !(a->clear && r == SG_E_NOTFOUND))
        return fprintf(stderr, "sargas: %s\n", sg_strerror(r)), 1;
    snprintf(detail, sizeof(detail), "{\"camera\":%lld,\"access\":\"%s\"}", id,
             a->clear ? "none" : a->deny ? "deny" : "allow");
    sg_cli_audit(cat, u.site_id, "grant.set", id, u.name, detail);
    printf("%s: camera %lld %s\n", u.name, id, a->clear ? "cleared" : a->deny ? "denied" : "granted");
    return 0;
}

/* One subcommand of a group: its word and what runs it on an open catalog. */
struct subcmd {
    const char *word;
    int (*run)(struct sg_catalog *cat, struct uargs *a);
};

static int user_passwd(struct sg_catalog *cat, struct uargs *a) { return user_change(cat, a, "passwd"); }
static int user_set(struct sg_catalog *cat, struct uargs *a) { return user_change(cat, a, "set"); }

/* Parses the options, finds the subcommand, runs it on the catalog. */
static int run_subcmd(int argc, char **argv, const char *group, const struct subcmd *cmds, const char *words)
{
    struct sg_catalog *cat = NULL;
    struct uargs a;
    int r;

    if ((r = parse(argc, argv, &a)))
        return r;
    for (; cmds->word; cmds++)
        if (!strcmp(argv[0], cmds->word))
            break;
    if (!cmds->word)
        return sg_cli_die("unknown %s command '%s' (%s)", group, argv[0], words);
    if (sg_cli_open_catalog(&cat) < 0)
        return 1;
    r = cmds->run(cat, &a);
    sg_catalog_close(&cat);
    return r;
}

int sg_cli_cmd_user(int argc, char **argv)
{
    static const struct subcmd cmds[] = {
        { "add", user_add }, { "list", user_list }, { "set", user_set }, { "passwd", user_passwd },
        { "remove", user_remove }, { "grant", user_grant }, { NULL, NULL },
    };
    return run_subcmd(argc, argv, "user", cmds, "add, list, set, passwd, remove, grant");
}

/* ---- tokens ---- */

static int token_add(struct sg_catalog *cat, struct uargs *a)
{
    struct sg_user u;
    struct sg_token t = { 0 };
    char secret[SG_TOKEN_CHARS], detail[256], *end;
    unsigned role_perms;
    int r;

    if ((r = find_user(cat, a->pos, &u)))
        return r;
    if (!a->name || !sg_camera_name_valid(a->name))
        return sg_cli_die("token add USER --name LABEL (1-127 characters)");
    role_perms = sg_role_perms(u.role);
    for (int i = 0; i < a->n_scopes; i++) {
        unsigned bit;
        if (sg_perm_parse(a->scopes[i], &bit) < 0 || !(role_perms & bit))
            return sg_cli_die("--scope %s is not a permission of the role %s", a->scopes[i], sg_role_name(u.role));
        t.perms |= bit;
    }
    if (!a->n_scopes)
        t.perms = role_perms;
    t.user_id = u.id;
    t.created_us = sg_utc_us();
    if (a->expires) {
        long d = strtol(a->expires, &end, 10);
        if (*end || d < 0 || d > 3650)
            return sg_cli_die("--expires-days: 0 (never) to 3650");
        if (d)
            t.expires_us = t.created_us + (int64_t)d * 86400 * 1000000LL;
    }
    snprintf(t.name, sizeof(t.name), "%s", a->name);
    sg_token_new(secret);
    sg_token_hash(secret, t.token_hash);
    if ((r = sg_catalog_token_add(cat, &t)) < 0)
        return fprintf(stderr, "sargas: %s\n", sg_strerror(r)), 1;
    snprintf(detail, sizeof(detail), "{\"token_id\":%lld,\"user\":\"%s\"}", (long long)t.id, u.name);
    sg_cli_audit(cat, u.site_id, "token.add", 0, t.name, detail);
    /* The secret is printed once and stored only as its hash. */
    printf("%s\n", secret);
    fprintf(stderr, "token %lld for %s (send it as 'Authorization: Bearer TOKEN'; it is not shown again)\n",
            (long long)t.id, u.name);
    return 0;
}

static int token_list(struct sg_catalog *cat, struct uargs *a)
{
    struct sg_token *t = NULL;
    struct sg_user u = { 0 };
    int n, r;

    if (a->user && (r = find_user(cat, a->user, &u)))
        return r;
    if ((n = sg_catalog_token_list(cat, u.id, &t)) < 0)
        return fprintf(stderr, "sargas: %s\n", sg_strerror(n)), 1;
    if (a->json) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:I,s:I,s:s,s:I,s:b}", "id", (json_int_t)t[i].id, "user",
                                                 (json_int_t)t[i].user_id, "name", t[i].name, "perms",
                                                 (json_int_t)t[i].perms, "revoked", t[i].revoked_us != 0));
        json_dumpf(arr, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(arr);
    } else {
        printf("%-5s %-5s %-24s %s\n", "ID", "USER", "NAME", "STATE");
        for (int i = 0; i < n; i++)
            printf("%-5lld %-5lld %-24s %s\n", (long long)t[i].id, (long long)t[i].user_id, t[i].name,
                   t[i].revoked_us ? "revoked" : "active");
    }
    free(t);
    return 0;
}

static int token_revoke(struct sg_catalog *cat, struct uargs *a)
{
    struct sg_token t;
    struct sg_user u;
    char *end;
    long long id = a->pos ? strtoll(a->pos, &end, 10) : 0;
    int r;

    if (!a->pos || *end || id <= 0 || sg_catalog_token_get(cat, id, &t) < 0)
        return fprintf(stderr, "sargas: no such token: %s\n", a->pos ? a->pos : "(none given)"), 1;
    if ((r = sg_catalog_token_revoke(cat, id, sg_utc_us())) < 0 && r != SG_E_NOTFOUND)
        return fprintf(stderr, "sargas: %s\n", sg_strerror(r)), 1;
    sg_cli_audit(cat, sg_catalog_user_get(cat, t.user_id, &u) == 0 ? u.site_id : 1, "token.revoke", 0, t.name,
                 NULL);
    printf("token %lld revoked\n", id);
    return 0;
}

int sg_cli_cmd_token(int argc, char **argv)
{
    static const struct subcmd cmds[] = {
        { "add", token_add }, { "list", token_list }, { "revoke", token_revoke }, { NULL, NULL },
    };
    return run_subcmd(argc, argv, "token", cmds, "add, list, revoke");
}
