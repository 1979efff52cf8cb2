/* `healthd probe TYPE [--key VALUE]...`: one probe of any registered type, built from the
 * command line through the config loader itself (so the command line and the daemon can
 * never disagree), run on a private event loop, reported for a person in the
 * monitoring-plugins format, or as JSON.
 *
 *   cli_probe.c      options -> a one-service config -> the probe; the runs
 *   cli_probe_out.c  what a run and a series of runs print; help */
#ifndef HEALTHD_CLI_PROBE_H
#define HEALTHD_CLI_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../probes/probe.h"

#define CLI_NAME "healthd probe"

/* Monitoring-plugins exit codes. */
enum cli_code {
	CLI_OK = 0,
	CLI_WARNING = 1,
	CLI_CRITICAL = 2,
	CLI_UNKNOWN = 3,
};

/* argv[0] is "probe". Returns a cli_code (CLI_UNKNOWN also for usage errors). */
int cli_probe_main(int argc, char **argv);
extern const char cli_probe_usage[];

/* cli_probe_out.c */
struct cli_stats {
	uint32_t *latency_us; /* of the runs that ended before their timeout */
	size_t n, cap;
	unsigned runs;
	unsigned count[4]; /* runs per cli_code */
	unsigned timed_out;
	int worst; /* the highest code seen; CLI_UNKNOWN when no run ended */
};

/* What a run means to a monitoring system: a WARNING the check counts as a failure
 * (warning_is_failure) is CRITICAL, an exec check's exit 3 (a wrapped plugin's UNKNOWN)
 * and an error of healthd's own UNKNOWN. */
enum cli_code cli_code_of(const struct probe *p, const struct probe_result *r);
/* One run: the plugin line (and, for a single run, the details), or one JSON object. */
void cli_out_run(FILE *f, const struct probe *p, const struct probe_result *r, unsigned seq,
                 bool json, bool series);
int cli_stats_add(struct cli_stats *st, const struct probe *p, const struct probe_result *r);
/* After a series, its plugin line: the worst status, the runs per outcome, the latency. */
void cli_out_series(FILE *f, const struct probe *p, struct cli_stats *st);
/* After a series: runs per outcome and min/median/max latency, like ping (timed-out runs
 * are counted, not measured). */
void cli_out_summary(FILE *f, const struct probe *p, struct cli_stats *st, bool json);
void cli_stats_free(struct cli_stats *st);
/* A config loader message about the check's keys, as a command line error:
 * "healthd probe tcp: --port: expected integer 1-65535". */
void cli_out_config_error(FILE *f, const char *type, const char *msg);
/* The message's path inside the check ("port: expected ..."), or NULL. */
const char *cli_err_tail(const char *msg);
/* Usage, with every registered type and its keys, or one type's keys in detail. */
void cli_out_help(FILE *f, const struct probe_ops *ops);

#endif
