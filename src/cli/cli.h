/* Shared by the files of the `sargas` command-line tool. */
#ifndef SG_CLI_CLI_H
#define SG_CLI_CLI_H

#include <stdint.h>

#include "catalog/catalog.h"
#include "config/config.h"

extern struct sg_config sg_cli_cfg;   /* loaded from --config (and --catalog) */

/* Prints "sargas: message" to stderr and returns 2 (usage errors). */
int sg_cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Opens the configured catalog (migrating it); prints why on failure. */
int sg_cli_open_catalog(struct sg_catalog **cat);
/* Writes an audit entry for a change made from the command line: user "cli:<login>",
 * source "cli", outcome "ok". Prints a warning when it cannot. */
void sg_cli_audit(struct sg_catalog *cat, int64_t site_id, const char *action, int64_t camera_id,
                  const char *object, const char *detail_json);

/* Subcommands. argv[0] is the word after the group ("verify" in `sargas audit verify`), and
 * the options follow it. Each returns the process exit status (0 ok, 1 failure, 2 usage). */
int sg_cli_cmd_user(int argc, char **argv);
int sg_cli_cmd_token(int argc, char **argv);
int sg_cli_cmd_site(int argc, char **argv);
int sg_cli_cmd_audit(int argc, char **argv);
int sg_cli_cmd_verify(int argc, char **argv);
int sg_cli_cmd_verify_onvif(int argc, char **argv);

#endif
