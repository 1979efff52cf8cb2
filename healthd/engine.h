/* The event loop: builds the run state (services, their checks and probes, timers) from a
 * config, feeds results to the services and hands state changes to the speaker in the
 * same loop iteration. SIGHUP re-reads the config file and applies the difference. */
#ifndef HEALTHD_ENGINE_H
#define HEALTHD_ENGINE_H

#include "config.h"

struct engine;

struct engine_opts {
	const char *config_file; /* re-read on SIGHUP, and watched while it has errors */
	const char *state_file;  /* NULL: statefile_default_path(config_file) */
	bool no_state_file;      /* none at all */
	bool debug;              /* -d: log level debug whatever the config says */
	bool use_syslog;         /* --syslog, whatever the config says */
};

/* Takes cfg, which may be NULL when the config file has errors (then given in errors,
 * which it also takes): healthd then stays up, withdraws what the state file says was
 * announced, and waits for a valid file. NULL on failure (logged). */
struct engine *engine_new(const struct engine_opts *o, struct config *cfg, char **errors,
                          size_t nerrors);
/* Runs until SIGTERM/SIGINT, stdin's EOF or the speaker's goodbye; returns the exit code. */
int engine_run(struct engine *eng);
void engine_free(struct engine *eng);

#endif
