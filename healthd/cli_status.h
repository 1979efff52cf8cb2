/* `healthd status`, `healthd disable`, `healthd enable`: the control endpoint's client
 * (libcurl, over the unix socket or a URL). Exit codes: exitcode.h. */
#ifndef HEALTHD_CLI_STATUS_H
#define HEALTHD_CLI_STATUS_H

#define CLI_STATUS_SOCKET "/run/healthd/healthd.sock"

/* argv[0] is the command ("status", "disable" or "enable"). */
int cli_status_main(int argc, char **argv);
extern const char cli_status_usage[];
extern const char cli_disable_usage[];
extern const char cli_enable_usage[];

#endif
