/* The verifier's output (for people and as JSON) and its command line, shared by the
 * standalone `sargas-verify` and `sargas verify` so that both say exactly the same.
 *
 * Everything printed from the package is untrusted: text from the manifest is shown with
 * control characters (C0, DEL, C1) and bidirectional overrides replaced by '?', so a manifest
 * cannot move the cursor or reorder what the terminal shows; names found on disk (any bytes)
 * are shown with everything outside printable ASCII as \xNN. */
#include "verify/verify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEYS 64
#define LABEL "%-13s "  /* the status column: wide enough for SIZE_MISMATCH */

static const char *const status_names[] = {
    [SG_VERIFY_OK] = "OK",
    [SG_VERIFY_MODIFIED] = "MODIFIED",
    [SG_VERIFY_SIZE_MISMATCH] = "SIZE_MISMATCH",
    [SG_VERIFY_MISSING] = "MISSING",
    [SG_VERIFY_UNEXPECTED] = "UNEXPECTED",
    [SG_VERIFY_UNREADABLE] = "UNREADABLE",
};

static const char *const sig_names[] = {
    [SG_VERIFY_SIG_VALID] = "VALID",
    [SG_VERIFY_SIG_INVALID] = "INVALID",
    [SG_VERIFY_SIG_NONE] = "NO_SIGNATURE",
    [SG_VERIFY_SIG_UNTRUSTED] = "KEY_NOT_TRUSTED",
};

/* Text from the manifest (valid UTF-8: jansson checks it), made harmless for a terminal. */
static void put_text(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        if (*p < 0x20 || *p == 0x7f) {
            fputc('?', f);
            p++;
        } else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            fputc('?', f); /* C1 controls */
            p += 2;
        } else if (p[0] == 0xe2 && ((p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) ||
                                    (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9))) {
            fputc('?', f); /* bidirectional embeddings, overrides and isolates */
            p += 3;
        } else {
            fputc(*p++, f);
        }
    }
}

/* A name found on disk, in printable ASCII (out: 4 * strlen + 1 bytes). */
static void escape_name(const char *s, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0x20 && *p < 0x7f && *p != '\\') {
            *out++ = (char)*p;
        } else {
            *out++ = '\\';
            *out++ = 'x';
            *out++ = hex[*p >> 4];
            *out++ = hex[*p & 15];
        }
    *out = 0;
}

static char *escaped(const char *s)
{
    char *out = malloc(4 * strlen(s) + 1);

    if (out)
        escape_name(s, out);
    return out;
}

static void put_name(FILE *f, const char *s)
{
    char *e = escaped(s);

    fputs(e ? e : "?", f);
    free(e);
}

static const char *jstr(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static long long jint(json_t *obj, const char *key)
{
    return (long long)json_integer_value(json_object_get(obj, key));
}

static void print_file(const struct sg_verify_file *v, FILE *f)
{
    fprintf(f, LABEL, status_names[v->status]);
    put_name(f, v->path);
    switch (v->status) {
    case SG_VERIFY_OK:
        fprintf(f, "  (%lld bytes, sha256 %.16s...)\n", (long long)v->size, v->sha256);
        break;
    case SG_VERIFY_MODIFIED:
        fprintf(f, "  (%lld bytes, sha256 %.16s... but the manifest says %.16s...)\n",
                (long long)v->size, v->sha256, v->expected_sha256);
        break;
    case SG_VERIFY_SIZE_MISMATCH:
        fprintf(f, "  (%lld bytes, the manifest says %lld)\n", (long long)v->size,
                (long long)v->expected_size);
        break;
    case SG_VERIFY_MISSING:
        fprintf(f, "  (the manifest lists %lld bytes)\n", (long long)v->expected_size);
        break;
    case SG_VERIFY_UNEXPECTED:
        if (v->size >= 0)
            fprintf(f, "  (%lld bytes, not listed in the manifest)\n", (long long)v->size);
        else
            fprintf(f, "  (%s, not listed in the manifest)\n", v->detail[0] ? v->detail : "entry");
        break;
    case SG_VERIFY_UNREADABLE:
        fprintf(f, "  (%s)\n", v->detail);
        break;
    }
}

static void print_signature(const struct sg_verify_report *rep, FILE *f)
{
    fprintf(f, LABEL "%s: %s", "SIGNATURE", sig_names[rep->sig], rep->sig_detail);
    if (rep->sig == SG_VERIFY_SIG_VALID)
        fprintf(f, ", fingerprint %s", rep->fingerprint);
    fputc('\n', f);
    if (rep->sig == SG_VERIFY_SIG_VALID && !rep->keys_given)
        fprintf(f, "%14sNo key was given (--key), so this only shows the package is as its signer\n"
                   "%14smade it. Compare the fingerprint above with the one the site publishes\n"
                   "%14s(its public key and fingerprint are shown in the Sargas console).\n",
                "", "", "");
}

static void print_range(FILE *f, const char *label, json_t *r)
{
    fprintf(f, "%11s%s %s to %s", "", label, jstr(r, "start"), jstr(r, "end"));
}

static void print_items(json_t *items, FILE *f)
{
    size_t i, j;
    json_t *it, *g;

    json_array_foreach(items, i, it) {
        json_t *cam = json_object_get(it, "camera"), *gaps = json_object_get(it, "gaps");

        fprintf(f, "Item %-6zu camera %lld \"", i + 1, jint(cam, "id"));
        put_text(f, jstr(cam, "name"));
        fprintf(f, "\", %s stream, %s\n", jstr(it, "stream"), jstr(it, "file"));
        print_range(f, "requested", json_object_get(it, "requested"));
        fputc('\n', f);
        print_range(f, "included ", json_object_get(it, "included"));
        fprintf(f, ", %lld frames\n", jint(json_object_get(it, "included"), "frames"));
        if (json_array_size(gaps) == 0)
            fprintf(f, "%11sgaps      none\n", "");
        json_array_foreach(gaps, j, g)
            fprintf(f, "%11s%s %s to %s\n", "", j ? "         " : "gaps     ", jstr(g, "start"),
                    jstr(g, "end"));
    }
}

static void print_summary(json_t *m, FILE *f)
{
    json_t *site = json_object_get(m, "site"), *ex = json_object_get(m, "export");
    json_t *cs = json_object_get(ex, "case");

    fprintf(f, "Site:      %lld \"", jint(site, "id"));
    put_text(f, jstr(site, "name"));
    fprintf(f, "\" (key fingerprint %s)\n", jstr(site, "fingerprint"));
    fprintf(f, "Export:    %lld, created %s by \"", jint(ex, "id"), jstr(m, "created"));
    put_text(f, jstr(ex, "user"));
    fprintf(f, "\" (user %lld) with ", jint(ex, "user_id"));
    put_text(f, jstr(m, "generator"));
    fputs("\nReason:    ", f);
    put_text(f, jstr(ex, "reason"));
    fputs("\nCase:      ", f);
    if (json_is_object(cs)) {
        fprintf(f, "%lld, reference \"", jint(cs, "id"));
        put_text(f, jstr(cs, "reference"));
        fputs("\", \"", f);
        put_text(f, jstr(cs, "title"));
        fputs("\": ", f);
        put_text(f, jstr(cs, "reason"));
        fputc('\n', f);
    } else {
        fputs("none\n", f);
    }
    fputs("Times are UTC.\n", f);
    print_items(json_object_get(m, "items"), f);
}

void sg_verify_print(const struct sg_verify_report *rep, FILE *f)
{
    fputs("Package:   ", f);
    put_name(f, rep->package);
    fputc('\n', f);
    for (size_t i = 0; i < rep->n_files; i++)
        print_file(&rep->files[i], f);
    for (size_t i = 0; i < rep->n_errors; i++) {
        fprintf(f, LABEL, "MANIFEST");
        put_text(f, rep->errors[i]);
        fputc('\n', f);
    }
    print_signature(rep, f);
    fputc('\n', f);
    if (rep->manifest)
        print_summary(rep->manifest, f);
    else
        fputs("No summary: the manifest did not pass its checks.\n", f);
    fputc('\n', f);
    if (rep->problems == 0)
        fputs("VERDICT: VERIFIED\n", f);
    else
        fprintf(f, "VERDICT: NOT VERIFIED (%d problem%s)\n", rep->problems, rep->problems == 1 ? "" : "s");
}

/* A JSON string of a name found on disk: as it is when printable ASCII, else escaped. */
static json_t *jname(const char *s)
{
    char *e = escaped(s);
    json_t *j = e ? json_string(e) : NULL;

    free(e);
    return j;
}

static json_t *file_json(const struct sg_verify_file *v)
{
    json_t *o = json_object();

    json_object_set_new(o, "path", jname(v->path));
    json_object_set_new(o, "status", json_string(status_names[v->status]));
    json_object_set_new(o, "size", v->size >= 0 ? json_integer(v->size) : json_null());
    json_object_set_new(o, "expected_size", v->expected_size >= 0 ? json_integer(v->expected_size) : json_null());
    json_object_set_new(o, "sha256", v->sha256[0] ? json_string(v->sha256) : json_null());
    json_object_set_new(o, "expected_sha256", v->expected_sha256[0] ? json_string(v->expected_sha256) : json_null());
    json_object_set_new(o, "detail", json_string(v->detail));
    return o;
}

json_t *sg_verify_report_json(const struct sg_verify_report *rep)
{
    json_t *o = json_object(), *files = json_array(), *errors = json_array(), *sig = json_object();

    if (!o || !files || !errors || !sig)
        goto fail;
    json_object_set_new(o, "package", jname(rep->package));
    json_object_set_new(o, "verdict", json_string(rep->problems ? "NOT VERIFIED" : "VERIFIED"));
    json_object_set_new(o, "problems", json_integer(rep->problems));
    json_object_set_new(sig, "status", json_string(sig_names[rep->sig]));
    json_object_set_new(sig, "key", rep->sig == SG_VERIFY_SIG_VALID ?
                        json_string(rep->keys_given ? "given" : "manifest") : json_null());
    json_object_set_new(sig, "fingerprint", rep->fingerprint[0] ? json_string(rep->fingerprint) : json_null());
    json_object_set_new(sig, "detail", json_string(rep->sig_detail));
    json_object_set_new(o, "signature", sig);
    sig = NULL;
    for (size_t i = 0; i < rep->n_files; i++)
        json_array_append_new(files, file_json(&rep->files[i]));
    json_object_set_new(o, "files", files);
    files = NULL;
    for (size_t i = 0; i < rep->n_errors; i++)
        json_array_append_new(errors, json_string(rep->errors[i]));
    json_object_set_new(o, "errors", errors);
    json_object_set(o, "manifest", rep->manifest ? rep->manifest : json_null());
    return o;
fail:
    json_decref(o);
    json_decref(files);
    json_decref(errors);
    json_decref(sig);
    return NULL;
}

/* ---- the command line ---- */

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s PACKAGE [--key KEY]... [--json]\n"
            "Checks a Sargas evidence package: the signature of manifest.json and the size and\n"
            "SHA-256 of every file, and names every problem.\n"
            "  --key KEY  the site's public key: 64 hex digits, or a file holding them (such as\n"
            "             the site.pub the Sargas console offers). Repeatable. With keys, the\n"
            "             package must be signed by one of them; without, the key in the package\n"
            "             is used and its fingerprint must be compared with the site's by hand.\n"
            "  --json     machine-readable output\n"
            "Exit status: 0 verified, 1 not verified, 2 usage or I/O error.\n",
            prog);
}

/* A key file: the first line that is not empty and not a '#' comment holds the key. */
static int read_key_file(const char *path, unsigned char pk[SG_VERIFY_PUBKEY_BYTES])
{
    char line[512];
    FILE *f = fopen(path, "re");
    int r = -EINVAL;

    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f)) {
        const char *s = line + strspn(line, " \t\r\n");
        if (*s == 0 || *s == '#')
            continue;
        r = sg_verify_parse_key(s, pk);
        break;
    }
    fclose(f);
    return r;
}

int sg_verify_main(int argc, char **argv, const char *prog)
{
    static unsigned char keys[MAX_KEYS][SG_VERIFY_PUBKEY_BYTES];
    struct sg_verify_report *rep = NULL;
    const char *package = NULL;
    size_t n_keys = 0;
    int json = 0, options = 1, r = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *k = NULL;

        if (options && !strcmp(a, "--")) {
            options = 0;
        } else if (options && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
            usage(stdout, prog);
            return 0;
        } else if (options && !strcmp(a, "--json")) {
            json = 1;
        } else if (options && !strncmp(a, "--key=", 6)) {
            k = a + 6;
        } else if (options && !strcmp(a, "--key")) {
            if (++i == argc) {
                fprintf(stderr, "%s: --key needs a value\n", prog);
                return 2;
            }
            k = argv[i];
        } else if (options && a[0] == '-' && a[1]) {
            fprintf(stderr, "%s: unknown option %s\n", prog, a);
            usage(stderr, prog);
            return 2;
        } else if (package) {
            fprintf(stderr, "%s: one package at a time\n", prog);
            return 2;
        } else {
            package = a;
        }
        if (!k)
            continue;
        if (n_keys == MAX_KEYS) {
            fprintf(stderr, "%s: at most %d keys\n", prog, MAX_KEYS);
            return 2;
        }
        if (sg_verify_parse_key(k, keys[n_keys]) < 0 && (r = read_key_file(k, keys[n_keys])) < 0) {
            fprintf(stderr, "%s: --key %s: neither 64 hex digits nor a file holding them%s%s%s\n",
                    prog, k, r == -EINVAL ? "" : " (", r == -EINVAL ? "" : strerror(-r),
                    r == -EINVAL ? "" : ")");
            return 2;
        }
        n_keys++;
    }
    if (!package) {
        usage(stderr, prog);
        return 2;
    }
    if ((r = sg_verify_package(package, keys, n_keys, &rep)) < 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, package, strerror(-r));
        return 2;
    }
    if (json) {
        json_t *j = sg_verify_report_json(rep);
        char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(j);
        if (!s) {
            fprintf(stderr, "%s: out of memory\n", prog);
            sg_verify_report_destroy(&rep);
            return 2;
        }
        puts(s);
        free(s);
    } else {
        sg_verify_print(rep, stdout);
    }
    r = rep->problems ? 1 : 0;
    sg_verify_report_destroy(&rep);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: cannot write the report: %s\n", prog, strerror(errno));
        return 2;
    }
    return r;
}
