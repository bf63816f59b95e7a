/* Stub: being written. */
#include "cli/cli.h"

int sg_cli_cmd_user(int argc, char **argv) { (void)argc; (void)argv; return sg_cli_die("not yet"); }
int sg_cli_cmd_token(int argc, char **argv) { (void)argc; (void)argv; return sg_cli_die("not yet"); }
