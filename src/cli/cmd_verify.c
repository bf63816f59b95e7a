/* `sargas verify PACKAGE [--key K]... [--json]`: checks an evidence package with the same
 * code, and the same output, as the standalone sargas-verify (src/verify/). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"
#include "base/err.h"
#include "cli/cli.h"
#include "playback/playback.h"
#include "verify/verify.h"

int sg_cli_cmd_verify(int argc, char **argv)
{
    return sg_verify_main(argc, argv, "sargas verify");
}

/* `sargas verify-onvif FILE [--cert CERT]`: checks one ONVIF Export File's seal (RSASSA-PSS over
 * the whole file, src/playback/onvif_verify.c) and prints what it carries. With --cert (PEM or
 * DER, e.g. key_dir/site-N-onvif.crt) the file must be sealed with that certificate. Exit 0
 * verified, 1 not, 2 usage or I/O error. */
int sg_cli_cmd_verify_onvif(int argc, char **argv)
{
    static const struct option opts[] = { { "cert", required_argument, NULL, 'c' }, { NULL, 0, NULL, 0 } };
    struct sg_onvif_report rep;
    const char *cert = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    char a[40], b[40];
    int o, r;

    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o != 'c') {
            fprintf(stderr, "usage: sargas verify-onvif FILE [--cert CERT]\n");
            return 2;
        }
        cert = optarg;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: sargas verify-onvif FILE [--cert CERT]\n");
        return 2;
    }
    if (cert && (r = sg_onvif_cert_read(cert, &der, &der_len)) < 0) {
        fprintf(stderr, "sargas verify-onvif: %s: %s\n", cert, sg_strerror(r));
        return 2;
    }
    r = sg_onvif_verify(argv[optind], der, der_len, &rep);
    free(der);
    if (r < 0 && r != SG_E_CORRUPT && r != SG_E_AUTH && r != SG_E_UNSUPPORTED) {
        fprintf(stderr, "sargas verify-onvif: %s: %s\n", argv[optind], sg_strerror(r));
        return 2;
    }
    sg_utc_format(rep.first_utc_us, 3, a, sizeof(a));
    sg_utc_format(rep.last_utc_us, 3, b, sizeof(b));
    printf("file:        %s\n", argv[optind]);
    printf("signatures:  %d, %d valid\n", rep.signatures, rep.valid);
    printf("certificate: %s (SHA-256 %s)%s\n", rep.subject, rep.cert_sha256,
           cert ? (rep.trusted ? ", the one given" : ", NOT the one given") : "");
    printf("exported by: %s, operator %s\n", rep.unit_name, rep.operator_name);
    printf("source:      %s\n", rep.source_name);
    if (rep.user_info[0])
        printf("note:        %s\n", rep.user_info);
    printf("media:       %lld frames in %lld fragments, %s .. %s\n", (long long)rep.frames,
           (long long)rep.fragments, a, b);
    if (r < 0) {
        printf("problem:     %s\nVERDICT: NOT VERIFIED\n", rep.problem[0] ? rep.problem : sg_strerror(r));
        return 1;
    }
    printf("VERDICT: VERIFIED\n");
    return 0;
}
