/* Command line: run, check, probe, version, help, and ExaBGP healthcheck's flags. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_probe.h"
#include "cli_status.h"
#include "../compat/compat.h"
#include "config.h"
#include "engine.h"
#include "exitcode.h"
#include "../lib/log.h"
#include "../lib/memtrim.h"
#include "process.h"

#ifndef HEALTHD_VERSION
#define HEALTHD_VERSION "0.1.0"
#endif

static const char usage_main[] =
        "usage: healthd COMMAND [OPTIONS]\n"
        "\n"
        "Keeps anycast routes honest: probes a local service and tells the BGP speaker\n"
        "to announce its prefixes while it is healthy and withdraw them when it is not.\n"
        "\n"
        "commands:\n"
        "  run -c FILE      run in the foreground (spawned by ExaBGP's process stanza)\n"
        "  check -c FILE    validate FILE and print the normalized configuration\n"
        "  version          print the version\n"
        "  probe TYPE ...   run one probe now and print what it saw (see: healthd probe --help)\n"
        "  status [SERVICE] what a running healthd decided and why (its control endpoint)\n"
        "  disable SERVICE  disable a service through the control endpoint (maintenance)\n"
        "  enable SERVICE   take such a disable back\n"
        "  help [COMMAND]   this text, or a command's (help healthcheck: the drop-in flags)\n"
        "\n"
        "healthd --cmd CMD --ip IP ...: the drop-in for `python3 -m exabgp healthcheck`, with\n"
        "its flags and its stdout (see: healthd help healthcheck)\n"
        "\n"
        "exit codes: 0 ok, 1 invalid configuration, 2 usage error, 3 runtime failure\n";

static const char usage_run[] =
        "usage: healthd run -c FILE [-d] [--syslog] [--state-file PATH | --no-state-file]\n"
        "                   [--exit-on-error]\n"
        "\n"
        "Runs in the foreground until SIGTERM/SIGINT, until stdin ends or until the BGP\n"
        "speaker goes away. Commands for the speaker go to stdout; logs go to stderr (or\n"
        "syslog). On SIGTERM/SIGINT every announced prefix is withdrawn before exit.\n"
        "Started as root with \"user\" in the config, it drops to that user (and group)\n"
        "before the first probe runs.\n"
        "\n"
        "SIGHUP re-reads FILE. A file with errors changes nothing: the running configuration\n"
        "stays, every error is logged, and FILE is watched and read again when it changes.\n"
        "A valid file is applied as a difference: an unchanged service keeps its state and\n"
        "route (nothing is sent to the speaker), a changed one keeps its route until its new\n"
        "checks decide, a removed one is withdrawn, a new one starts down. A change of the\n"
        "speaker's settings is refused: restart to change the speaker.\n"
        "\n"
        "A FILE with errors at start does not stop healthd: it announces nothing, withdraws\n"
        "what the state file says a previous instance announced, logs the errors every\n"
        "minute and starts as soon as FILE is valid (--exit-on-error: exit 1 instead).\n"
        "\n"
        "  -c, --config FILE     the JSON configuration\n"
        "  -d, --debug           log every probe result\n"
        "      --syslog          log to syslog instead of stderr\n"
        "      --state-file PATH where the announced routes are recorded (default:\n"
        "                        $STATE_DIRECTORY or /var/lib/healthd, named after FILE)\n"
        "      --no-state-file   keep no state file\n"
        "      --exit-on-error   exit 1 when FILE has errors at start\n"
        "  -h, --help            this text\n";

static const char usage_check[] =
        "usage: healthd check -c FILE\n"
        "\n"
        "Validates FILE. When valid, prints the normalized configuration as JSON on stdout\n"
        "and exits 0; otherwise prints every error as FILE:LINE:COL: PATH: MESSAGE on\n"
        "stderr and exits 1.\n"
        "\n"
        "  -c, --config FILE   the JSON configuration\n"
        "  -h, --help          this text\n";

static const char *command_usage(const char *cmd)
{
	if (cmd == NULL)
		return usage_main;
	if (strcmp(cmd, "run") == 0)
		return usage_run;
	if (strcmp(cmd, "check") == 0)
		return usage_check;
	if (strcmp(cmd, "version") == 0)
		return "usage: healthd version\n";
	if (strcmp(cmd, "probe") == 0)
		return cli_probe_usage;
	if (strcmp(cmd, "healthcheck") == 0)
		return compat_usage;
	if (strcmp(cmd, "status") == 0)
		return cli_status_usage;
	if (strcmp(cmd, "disable") == 0)
		return cli_disable_usage;
	if (strcmp(cmd, "enable") == 0)
		return cli_enable_usage;
	return NULL;
}

/* Load a configuration, printing every error on stderr. */
static struct config *load_config(const char *file)
{
	struct config_error err;
	config_error_init(&err, file, NULL);
	struct config *cfg = config_load_file(file, &err);
	for (size_t i = 0; i < err.nmsgs; i++)
		fprintf(stderr, "%s\n", err.msgs[i]);
	if (cfg == NULL && err.nmsgs == 0)
		fprintf(stderr, "%s: invalid configuration\n", file);
	config_error_free(&err);
	return cfg;
}

/* The options of run; check takes -c and -h only (exit_on_error NULL). */
static int parse_args(int argc, char **argv, const char *usage, struct engine_opts *o,
                      bool *exit_on_error)
{
	static const struct option opts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"debug", no_argument, NULL, 'd'},
	        {"syslog", no_argument, NULL, 's'},
	        {"state-file", required_argument, NULL, 'S'},
	        {"no-state-file", no_argument, NULL, 'N'},
	        {"exit-on-error", no_argument, NULL, 'E'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:dh", opts, NULL)) != -1) {
		if (exit_on_error == NULL && c != 'c' && c != 'h')
			goto bad;
		switch (c) {
		case 'c':
			o->config_file = optarg;
			break;
		case 'd':
			o->debug = true;
			break;
		case 's':
			o->use_syslog = true;
			break;
		case 'S':
			o->state_file = optarg;
			break;
		case 'N':
			o->no_state_file = true;
			break;
		case 'E':
			*exit_on_error = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1; /* help shown */
		default:
			goto bad;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "healthd: unexpected argument '%s'\n", argv[optind]);
		goto bad;
	}
	if (o->config_file == NULL) {
		fprintf(stderr, "healthd: -c FILE is required\n");
		goto bad;
	}
	return 0;
bad:
	fputs(usage, stderr);
	return EXIT_USAGE;
}

static int cmd_check(int argc, char **argv)
{
	struct engine_opts o = {0};
	int rc = parse_args(argc, argv, usage_check, &o, NULL);
	if (rc != 0)
		return rc < 0 ? EXIT_OK : rc;
	const char *file = o.config_file;

	struct config *cfg = load_config(file);
	if (cfg == NULL)
		return EXIT_CONFIG;
	/* A full disk or a closed pipe is an error, not a truncated config that passed. */
	bool ok = config_write(cfg, stdout) == 0 && putchar('\n') != EOF && fflush(stdout) == 0;
	if (!ok)
		fprintf(stderr, "healthd: cannot write the normalized configuration: %s\n",
		        strerror(errno));
	config_free(cfg);
	return ok ? EXIT_OK : EXIT_RUNTIME;
}

static bool stdout_closed;

static int cmd_run(int argc, char **argv)
{
	struct engine_opts o = {0};
	bool exit_on_error = false;
	int rc = parse_args(argc, argv, usage_run, &o, &exit_on_error);
	if (rc != 0)
		return rc < 0 ? EXIT_OK : rc;

	log_init("healthd", o.use_syslog, LOG_DAEMON, o.debug ? LOG_DEBUG : LOG_INFO);
	if (stdout_closed) {
		log_err("stdout is closed: it must lead to the BGP speaker");
		return EXIT_RUNTIME;
	}
	mem_init();
	struct config_error err;
	config_error_init(&err, o.config_file, NULL);
	struct config *cfg = config_load_file(o.config_file, &err);
	if (cfg == NULL && exit_on_error) {
		for (size_t i = 0; i < err.nmsgs; i++)
			fprintf(stderr, "%s\n", err.msgs[i]);
		fprintf(stderr, "healthd: %s is invalid; nothing announced\n", o.config_file);
		config_error_free(&err);
		return EXIT_CONFIG;
	}
	if (cfg != NULL)
		log_init("healthd", o.use_syslog || cfg->log.syslog, cfg->log.facility,
		         o.debug ? LOG_DEBUG : cfg->log.level);
	if (cfg == NULL && err.nmsgs == 0)
		cfgerr_add(&err, NULL, "invalid configuration");
	/* Without a valid config healthd stays up (a helper that exits is respawned, and
	 * ExaBGP gives up on the whole node after a few deaths): the engine says why. */
	struct engine *eng =
	        engine_new(&o, cfg, cfg == NULL ? err.msgs : NULL, cfg == NULL ? err.nmsgs : 0);
	if (cfg == NULL)
		err.msgs = NULL, err.nmsgs = 0;
	config_error_free(&err);
	if (eng == NULL)
		return EXIT_RUNTIME;
	mem_trim("the config load");
	rc = engine_run(eng);
	/* The way out is decided and the withdrawals are sent: a second SIGTERM (ExaBGP sends
	 * one shortly after its shutdown line) must not turn rc into a death by signal while
	 * the engine is freed. Blocked, it stays pending and dies with the process. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	engine_free(eng);
	log_info("exit %d", rc);
	return rc;
}

/* A closed standard fd would be taken by the next socket or pipe: a probe's bytes could
 * then reach the speaker. Hold each closed one with /dev/null; true if stdout was closed. */
static bool hold_std_fds(void)
{
	bool closed_out = false;
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (fd == STDOUT_FILENO)
			closed_out = true;
		int null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (null >= 0 && null != fd) {
			dup2(null, fd);
			close(null);
		}
	}
	return closed_out;
}

int main(int argc, char **argv)
{
	stdout_closed = hold_std_fds();
	if (argc < 2) {
		fputs(usage_main, stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		fputs(usage_main, stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "help") == 0) {
		const char *u = command_usage(argc > 2 ? argv[2] : NULL);
		fputs(u ? u : usage_main, u ? stdout : stderr);
		return u ? EXIT_OK : EXIT_USAGE;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		if (argc > 2 && strcmp(argv[2], "--help") == 0) {
			fputs(command_usage("version"), stdout);
			return EXIT_OK;
		}
		printf("healthd %s\n", HEALTHD_VERSION);
		return EXIT_OK;
	}
	if (strcmp(cmd, "probe") == 0)
		return cli_probe_main(argc - 1, argv + 1);
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "disable") == 0 || strcmp(cmd, "enable") == 0)
		return cli_status_main(argc - 1, argv + 1);
	/* Flags instead of a command: ExaBGP healthcheck's command line (compat*.c). */
	if (cmd[0] == '-')
		return compat_main(argc, argv);
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);

	fprintf(stderr, "healthd: unknown command '%s'\n", cmd);
	fputs(usage_main, stderr);
	return EXIT_USAGE;
}
