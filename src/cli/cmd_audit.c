/* `sargas site ...` and `sargas audit ...`: sites and their keys, the audit trail's listing,
 * signing and verification. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "catalog/catalog.h"
#include "cli/cli.h"

#define cfg sg_cli_cfg
#define MAX_KEYS 64
#define FP_LEN 48

static void print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2));

    if (s)
        puts(s);
    free(s);
    json_decref(v);
}

/* A JSON string that never fails on bad UTF-8 (names from failed logins are whatever a
 * client sent): such text is shown with '?' for every non-ASCII byte. */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);
    char *copy;

    if (j || !(copy = strdup(s)))
        return j;
    for (char *c = copy; *c; c++)
        if ((unsigned char)*c >= 0x80)
            *c = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = 0;
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return -EINVAL;
    for (size_t i = 0; i < 2 * n; i++) {
        int c = s[i], v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
                          c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0)
            return -EINVAL;
        if (i % 2 == 0)
            out[i / 2] = (unsigned char)(v << 4);
        else
            out[i / 2] |= (unsigned char)v;
    }
    return 0;
}

static int parse_id(const char *s, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 1)
        return -EINVAL;
    *out = v;
    return 0;
}

/* A site given by id or by name. */
static int find_site(struct sg_catalog *cat, const char *s, struct sg_site *out)
{
    int64_t id;
    int r = SG_E_NOTFOUND;

    if (parse_id(s, &id) == 0)
        r = sg_catalog_site_get(cat, id, out);
    if (r == SG_E_NOTFOUND)
        r = sg_catalog_site_find(cat, s, out);
    return r;
}

/* Only a --json flag. 0, or the exit status of a usage error. */
static int json_only(int argc, char **argv, int *json)
{
    static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
    int opt;

    *json = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 'j')
            return 2;
        *json = 1;
    }
    return 0;
}

/* ---- sites ---- */

static int site_add(int argc, char **argv)
{
    struct sg_catalog *cat = NULL;
    struct sg_site site = { 0 };
    char fp[FP_LEN] = "(none)", obj[32];
    json_t *detail;
    char *detail_s;
    int r, rc = 1;

    if (argc != 2)
        return sg_cli_die("usage: sargas site add NAME");
    if (!sg_camera_name_valid(argv[1]))
        return sg_cli_die("invalid site name '%s' (1-127 characters, no control characters)", argv[1]);
    snprintf(site.name, sizeof(site.name), "%s", argv[1]);
    if (sg_cli_open_catalog(&cat) < 0)
        return 1;
    r = sg_catalog_site_add(cat, &site);
    if (r == SG_E_EXISTS) {
        fprintf(stderr, "sargas: a site named '%s' already exists\n", site.name);
        goto out;
    }
    if (r < 0) {
        fprintf(stderr, "sargas: cannot add the site: %s\n", sg_strerror(r));
        goto out;
    }
    r = sg_sitekey_ensure(cat, cfg.key_dir);
    if (r >= 0 && (r = sg_catalog_site_get(cat, site.id, &site)) == 0 && site.has_key) {
        sg_sitekey_fingerprint(site.public_key, fp, sizeof(fp));
        rc = 0;
    } else {
        fprintf(stderr, "sargas: site %lld added, but its key could not be made in %s (%s);"
                " `sargas audit sign` tries again\n", (long long)site.id, cfg.key_dir,
                r < 0 ? sg_strerror(r) : "no key recorded");
    }
    snprintf(obj, sizeof(obj), "site:%lld", (long long)site.id);
    detail = json_object();
    json_object_set_new(detail, "name", jstr(site.name));
    if (site.has_key)
        json_object_set_new(detail, "key_fingerprint", json_string(fp));
    detail_s = json_dumps(detail, JSON_COMPACT);
    sg_cli_audit(cat, site.id, "site.add", 0, obj, detail_s);
    free(detail_s);
    json_decref(detail);
    printf("site %lld %s key %s\n", (long long)site.id, site.name, fp);
out:
    sg_catalog_close(&cat);
    return rc;
}

static int site_list(int argc, char **argv)
{
    struct sg_catalog *cat = NULL;
    struct sg_site *sites = NULL;
    json_t *arr = NULL;
    int json, n, r;

    if ((r = json_only(argc, argv, &json)) != 0)
        return r;
    if (optind != argc)
        return sg_cli_die("usage: sargas site list [--json]");
    if (sg_cli_open_catalog(&cat) < 0)
        return 1;
    n = sg_catalog_site_list(cat, &sites);
    sg_catalog_close(&cat);
    if (n < 0)
        return 1;
    if (json)
        arr = json_array();
    else
        printf("%-4s %-24s %-40s %s\n", "ID", "NAME", "KEY FINGERPRINT", "PUBLIC KEY");
    for (int i = 0; i < n; i++) {
        char fp[FP_LEN] = "-", pk[2 * SG_PUBKEY_BYTES + 1] = "-", created[SG_UTC_STRLEN];
        if (sites[i].has_key) {
            sg_sitekey_fingerprint(sites[i].public_key, fp, sizeof(fp));
            hex(sites[i].public_key, SG_PUBKEY_BYTES, pk);
        }
        sg_utc_format(sites[i].created_us, 0, created, sizeof(created));
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "id", json_integer(sites[i].id));
            json_object_set_new(o, "name", jstr(sites[i].name));
            json_object_set_new(o, "public_key", sites[i].has_key ? json_string(pk) : json_null());
            json_object_set_new(o, "fingerprint", sites[i].has_key ? json_string(fp) : json_null());
            json_object_set_new(o, "created", json_string(created));
            json_array_append_new(arr, o);
        } else {
            printf("%-4lld %-24s %-40s %s\n", (long long)sites[i].id, sites[i].name, fp, pk);
        }
    }
    if (arr)
        print_json(arr);
    free(sites);
    return 0;
}

int sg_cli_cmd_site(int argc, char **argv)
{
    if (!strcmp(argv[0], "add"))
        return site_add(argc, argv);
    if (!strcmp(argv[0], "list"))
        return site_list(argc, argv);
    return sg_cli_die("unknown site command '%s' (add, list)", argv[0]);
}

/* ---- audit verify ---- */

/* --key SITE=HEX, SITE an id or a name (split at the last '='). */
static int parse_key(struct sg_catalog *cat, const char *arg, struct sg_audit_key *k)
{
    const char *eq = strrchr(arg, '=');
    char site_s[SG_NAME_MAX];
    struct sg_site site;
    int r;

    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(site_s))
        return sg_cli_die("--key takes SITE=PUBKEY_HEX, got '%s'", arg);
    memcpy(site_s, arg, (size_t)(eq - arg));
    site_s[eq - arg] = 0;
    if (unhex(eq + 1, k->pk, SG_PUBKEY_BYTES) < 0)
        return sg_cli_die("--key %s: the public key must be %d hex digits", site_s, 2 * SG_PUBKEY_BYTES);
    r = find_site(cat, site_s, &site);
    if (r == SG_E_NOTFOUND)
        return sg_cli_die("--key: no such site: %s", site_s);
    if (r < 0)
        return 1;
    k->site_id = site.id;
    return 0;
}

static int audit_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        { "key", required_argument, NULL, 'k' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    const char *key_args[MAX_KEYS];
    struct sg_audit_key keys[MAX_KEYS];
    struct sg_audit_report rep;
    struct sg_catalog *cat = NULL;
    int n_keys = 0, json = 0, opt, r, rc = 1;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'j') {
            json = 1;
        } else if (opt == 'k') {
            if (n_keys == MAX_KEYS)
                return sg_cli_die("at most %d --key options", MAX_KEYS);
            key_args[n_keys++] = optarg;
        } else {
            return 2;
        }
    }
    if (optind != argc)
        return sg_cli_die("usage: sargas audit verify [--key SITE=PUBKEY_HEX]... [--json]");
    /* read-only: verifying never writes to what it checks */
    if ((r = sg_catalog_open(cfg.catalog, 1, &cat)) < 0) {
        fprintf(stderr, "sargas: cannot open catalog %s: %s\n", cfg.catalog, sg_strerror(r));
        return 1;
    }
    for (int i = 0; i < n_keys; i++)
        if ((r = parse_key(cat, key_args[i], &keys[i])) != 0) {
            rc = r;
            goto out;
        }
    r = sg_audit_verify(cat, keys, n_keys, &rep);
    if (r < 0 && r != SG_E_CORRUPT) {
        fprintf(stderr, "sargas: cannot verify the audit trail: %s\n", sg_strerror(r));
        goto out;
    }
    if (json) {
        json_t *o = json_pack("{s:b,s:I,s:I,s:I}", "intact", r == 0, "entries", (json_int_t)rep.entries,
                              "signatures", (json_int_t)rep.signatures,
                              "last_signed_seq", (json_int_t)rep.last_signed_seq);
        if (r < 0) {
            json_object_set_new(o, "first_bad_seq", json_integer(rep.first_bad_seq));
            json_object_set_new(o, "problem", json_string(rep.problem));
        }
        print_json(o);
    } else if (r < 0) {
        printf("audit: BROKEN at entry %lld: %s\n", (long long)rep.first_bad_seq, rep.problem);
    } else {
        int64_t unsigned_n = rep.entries - rep.last_signed_seq;
        printf("audit: intact: %lld entr%s, %lld signature%s, signed up to entry %lld\n",
               (long long)rep.entries, rep.entries == 1 ? "y" : "ies", (long long)rep.signatures,
               rep.signatures == 1 ? "" : "s", (long long)rep.last_signed_seq);
        if (unsigned_n > 0)
            printf("audit: %lld newest %s chained but not yet signed\n", (long long)unsigned_n,
                   unsigned_n == 1 ? "entry is" : "entries are");
    }
    rc = r == 0 ? 0 : 1;
out:
    sg_catalog_close(&cat);
    return rc;
}

/* ---- audit list ---- */

static json_t *entry_json(const struct sg_audit_entry *e, const char *time, const char *hash)
{
    json_t *o = json_object(), *detail = NULL;

    json_object_set_new(o, "seq", json_integer(e->seq));
    json_object_set_new(o, "time", json_string(time));
    json_object_set_new(o, "site", json_integer(e->site_id));
    json_object_set_new(o, "user", jstr(e->user));
    json_object_set_new(o, "source", jstr(e->source));
    json_object_set_new(o, "action", jstr(e->action));
    json_object_set_new(o, "outcome", jstr(e->outcome));
    json_object_set_new(o, "camera", e->camera_id ? json_integer(e->camera_id) : json_null());
    json_object_set_new(o, "object", jstr(e->object));
    if (e->detail[0]) {
        detail = json_loads(e->detail, JSON_DECODE_ANY, NULL);
        if (!detail)
            detail = jstr(e->detail); /* not JSON after all: shown as text */
    }
    json_object_set_new(o, "detail", detail ? detail : json_null());
    json_object_set_new(o, "hash", json_string(hash));
    return o;
}

static int parse_time_opt(const char *name, const char *s, int64_t *out)
{
    if (sg_utc_parse(s, out) < 0)
        return sg_cli_die("--%s must be an RFC 3339 time such as 2026-11-21T02:30:00Z, got '%s'", name, s);
    return 0;
}

static int audit_list(int argc, char **argv)
{
    static const struct option opts[] = {
        { "user", required_argument, NULL, 'u' },
        { "camera", required_argument, NULL, 'c' },
        { "action", required_argument, NULL, 'a' },
        { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 't' },
        { "limit", required_argument, NULL, 'l' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    struct sg_audit_filter f = { .limit = 100 };
    struct sg_audit_entry *e = NULL;
    struct sg_catalog *cat = NULL;
    json_t *arr = NULL;
    int64_t v;
    int json = 0, opt, n, r;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'u': f.user = optarg; break;
        case 'a': f.action = optarg; break;
        case 'j': json = 1; break;
        case 'c':
            if (parse_id(optarg, &f.camera_id) < 0)
                return sg_cli_die("--camera must be a camera id, got '%s'", optarg);
            break;
        case 'f':
            if ((r = parse_time_opt("from", optarg, &f.from_us)) != 0)
                return r;
            break;
        case 't':
            if ((r = parse_time_opt("to", optarg, &f.to_us)) != 0)
                return r;
            break;
        case 'l':
            if (parse_id(optarg, &v) < 0 || v > 10000)
                return sg_cli_die("--limit must be a number from 1 to 10000, got '%s'", optarg);
            f.limit = (int)v;
            break;
        default:
            return 2;
        }
    }
    if (optind != argc)
        return sg_cli_die("unexpected argument '%s'", argv[optind]);
    if (f.to_us && f.from_us >= f.to_us)
        return sg_cli_die("--from must be before --to");
    if (sg_cli_open_catalog(&cat) < 0)
        return 1;
    n = sg_catalog_audit_list(cat, &f, &e);
    sg_catalog_close(&cat);
    if (n < 0)
        return 1;
    if (json)
        arr = json_array();
    else
        printf("%-6s %-24s %-4s %-16s %-15s %-16s %-7s %-6s %s\n", "SEQ", "TIME", "SITE", "USER",
               "SOURCE", "ACTION", "OUTCOME", "CAMERA", "OBJECT / DETAIL");
    for (int i = 0; i < n; i++) {
        char time[SG_UTC_STRLEN], h[2 * SG_HASH_BYTES + 1], cam[24] = "-";
        sg_utc_format(e[i].ts_us, 3, time, sizeof(time));
        if (json) {
            hex(e[i].hash, SG_HASH_BYTES, h);
            json_array_append_new(arr, entry_json(&e[i], time, h));
            continue;
        }
        if (e[i].camera_id)
            snprintf(cam, sizeof(cam), "%lld", (long long)e[i].camera_id);
        printf("%-6lld %-24s %-4lld %-16s %-15s %-16s %-7s %-6s %s%s%s\n", (long long)e[i].seq, time,
               (long long)e[i].site_id, e[i].user[0] ? e[i].user : "-", e[i].source, e[i].action,
               e[i].outcome, cam, e[i].object, e[i].object[0] && e[i].detail[0] ? " " : "",
               e[i].detail);
    }
    if (arr)
        print_json(arr);
    free(e);
    return 0;
}

/* ---- audit sign ---- */

static int audit_sign(int argc, char **argv)
{
    struct sg_catalog *cat = NULL;
    int64_t seq;
    unsigned char hash[SG_HASH_BYTES];
    int made, n, rc = 1;

    (void)argv;
    if (argc != 1)
        return sg_cli_die("usage: sargas audit sign");
    if (sg_cli_open_catalog(&cat) < 0)
        return 1;
    made = sg_sitekey_ensure(cat, cfg.key_dir);
    if (made < 0) {
        fprintf(stderr, "sargas: cannot make the sites' keys in %s: %s\n", cfg.key_dir, sg_strerror(made));
        goto out;
    }
    if (made > 0)
        printf("audit: made %d new site key%s in %s\n", made, made == 1 ? "" : "s", cfg.key_dir);
    n = sg_audit_checkpoint(cat, cfg.key_dir);
    if (n < 0) {
        fprintf(stderr, "sargas: cannot sign the audit trail: %s\n", sg_strerror(n));
        goto out;
    }
    if (sg_catalog_audit_head(cat, &seq, hash) < 0)
        seq = 0;
    printf("audit: %d signature%s written (the trail has %lld entries)\n", n, n == 1 ? "" : "s",
           (long long)seq);
    rc = 0;
out:
    sg_catalog_close(&cat);
    return rc;
}

int sg_cli_cmd_audit(int argc, char **argv)
{
    if (!strcmp(argv[0], "verify"))
        return audit_verify(argc, argv);
    if (!strcmp(argv[0], "list"))
        return audit_list(argc, argv);
    if (!strcmp(argv[0], "sign"))
        return audit_sign(argc, argv);
    return sg_cli_die("unknown audit command '%s' (verify, list, sign)", argv[0]);
}
