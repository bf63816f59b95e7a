/* `sargas verify PACKAGE [--key K]... [--json]`: checks an evidence package with the same
 * code, and the same output, as the standalone sargas-verify (src/verify/). */
#include "cli/cli.h"
#include "verify/verify.h"

int sg_cli_cmd_verify(int argc, char **argv)
{
    return sg_verify_main(argc, argv, "sargas verify");
}
