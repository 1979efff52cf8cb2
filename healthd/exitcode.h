/* The exit codes of `healthd run` and `healthd check` (healthd(8), the README). The probe
 * CLI has its own (the monitoring-plugins convention, cli_probe.h); the drop-in has
 * healthcheck's (compat/). */
#ifndef HEALTHD_EXITCODE_H
#define HEALTHD_EXITCODE_H

enum healthd_exit {
	EXIT_OK = 0,
	EXIT_CONFIG = 1, /* the configuration is invalid */
	EXIT_USAGE = 2,  /* bad command line */
	EXIT_RUNTIME =
	        3, /* could not start or keep running, or withdrawals did not reach the speaker */
};

#endif
