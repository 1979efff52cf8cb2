/* The drop-in for `python3 -m exabgp healthcheck`: healthd given that program's flags
 * prints the same stdout lines, byte for byte, as ExaBGP 4.2.21's healthcheck for the
 * same sequence of check results, without its known failures (unbounded ack waits,
 * deadlocks at ExaBGP's shutdown, zombies, noise on EPIPE).
 *
 *   args.c        argparse-compatible command line, --config file, validation, help
 *   opts.c        the option table, defaults, typed stores
 *   value.c       Python's int() and float(), --exabgp-version
 *   ip.c          IP addresses and networks formatted as Python's ipaddress does
 *   fsm.c         its state machine and the lines each state writes (pure)
 *   io.c          stdout writer and stdin ack reader, never blocking
 *   sys.c         logging, pid file, privileges, which loopback addresses to change
 *   jobs.c        hooks and `ip` commands, one after another, each with a deadline
 *   reload.c      what re-read options change at SIGHUP (pure)
 *   run.c         the event loop that ties them together */
#ifndef COMPAT_COMPAT_H
#define COMPAT_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COMPAT_MAX_ADDRS       65536   /* deaggregation / ip setup of more is refused */
#define COMPAT_SECONDS_MAX     1000000 /* --interval, --fast-interval, --timeout */
#define COMPAT_ACK_SECONDS_MAX 4000000 /* --ack-timeout: its milliseconds fit 32 bits */

enum compat_state {
	CS_INIT,
	CS_DISABLED,
	CS_RISING,
	CS_FALLING,
	CS_UP,
	CS_DOWN,
	CS_EXIT,
	CS_END,
};

/* Which API command form --exabgp-version selects. */
enum compat_form {
	CF_LEGACY,   /* up to 4.2.21: "announce route ..." */
	CF_NEIGHBOR, /* 4.2.22 and 5.x: "neighbor * announce route ..." */
	CF_PEER,     /* 6.x: "peer * announce route ..." */
};

/* An address or network as Python's ipaddress.ip_network holds it. */
struct compat_net {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned len;
};

struct compat_strv {
	char **v; /* NULL-terminated once anything was added */
	size_t n;
};

struct compat_opts {
	/* logging and process */
	bool silent, no_syslog, debug, no_ack, sudo;
	char *syslog_facility;
	bool syslog_facility_given; /* with a value: conflicts with --silent/--no-syslog */
	char *name, *config, *pid, *user, *group;
	/* checking */
	double interval, fast;
	long long timeout, rise, fall;
	char *disable, *command;
	/* advertising */
	char *next_hop; /* normalized address text; NULL: "self" */
	struct compat_net *ips;
	size_t nips;
	long long local_preference;
	bool deaggregate, ip_setup, ip_dynamic;
	char *label;
	long long start_ip, up_metric, down_metric, disabled_metric, increase;
	char *community, *extended_community, *large_community, *disabled_community;
	char *as_path, *up_as_path, *down_as_path, *disabled_as_path;
	bool withdraw_on_down, debounce;
	bool has_path_id;
	long long path_id;
	struct compat_strv neighbors; /* normalized address texts, or "*" */
	/* reporting */
	struct compat_strv execute, up_execute, down_execute, disabled_execute;
	/* healthd's own */
	enum compat_form form;
	double ack_timeout;
};

/* opts.c: the option table, in the original's order (abbreviations depend on it). */
enum compat_kind {
	CK_TRUE,     /* store_true */
	CK_FALSE,    /* store_false */
	CK_STORE,    /* one value */
	CK_APPEND,   /* one value, repeatable */
	CK_OPTIONAL, /* nargs='?': a value or the constant */
	CK_HELP,
};
struct compat_optdef {
	const char *names[4]; /* "--interval", "-i" */
	enum compat_kind kind;
	int dest;  /* opts.c's own index of the field */
	int group; /* 1: --silent, --syslog-facility, --no-syslog exclude each other */
	bool ours; /* not ExaBGP's: abbreviated only when no original option matches */
};
extern const struct compat_optdef compat_optdefs[];
extern const size_t compat_noptdefs;
/* "--command/--cmd/-c", as argparse names an option in its messages. */
void compat_opt_name(const struct compat_optdef *d, char *buf, size_t len);
/* Store value (NULL for flags and a valueless CK_OPTIONAL); -1 with the argparse-style
 * message ("invalid int value: 'x'") in err. */
#define COMPAT_STORE_REREAD 1u /* at SIGHUP: the pid file is not opened (truncated) */
int compat_opt_store(struct compat_opts *o, const struct compat_optdef *d, const char *value,
                     unsigned flags, char *err, size_t errlen);
void compat_opts_init(struct compat_opts *o);
void compat_opts_free(struct compat_opts *o);
/* args.c: the checks argparse does not make (values that would only fail later);
 * 0 or -1. */
int compat_opts_validate(const struct compat_opts *o, char *err, size_t errlen);
extern const char compat_usage[];

/* args.c: 0 parsed, 1 help shown (exit 0), -1 error in err (exit 2). argv[0] is
 * the program; options start at argv[1]. A --config file's lines are read first, as the
 * original does, then the command line again. */
int compat_args_parse(int argc, char **argv, struct compat_opts *o, char *err, size_t errlen);
/* The same again at SIGHUP, while running: 0 or -1; --help is an error (stdout is
 * ExaBGP's), and the --pid file is not opened. */
int compat_args_reread(int argc, char **argv, struct compat_opts *o, char *err, size_t errlen);

/* value.c: 0, or -1 when s is not a value of the type. */
int compat_int_parse(const char *s, long long *out);
int compat_float_parse(const char *s, double *out);
int compat_version_parse(const char *s, enum compat_form *form);

/* ip.c       */
int compat_addr_parse(const char *s, struct compat_net *out); /* len = full length */
/* strict=true refuses host bits (ip_network's default). */
int compat_net_parse(const char *s, struct compat_net *out);
void compat_addr_format(const struct compat_net *n, char *buf, size_t len);
void compat_net_format(const struct compat_net *n, char *buf, size_t len); /* "a/len" */
uint64_t compat_net_size(const struct compat_net *n); /* saturates at UINT64_MAX */
/* The i-th address of n as a host network (/32 or /128). */
void compat_net_host(const struct compat_net *n, uint64_t i, struct compat_net *out);
bool compat_net_equal(const struct compat_net *a, const struct compat_net *b);
bool compat_net_is_loopback(const struct compat_net *n);
/* Addresses on lo, as the original reads them from `ip -o address show dev lo`: not
 * loopback, host bits clear; with label only those labelled lo:LABEL*; without a label
 * none when label_only (the original's remove_ips finds nothing then). */
int compat_lo_addrs(const char *label, bool label_only, struct compat_net **out, size_t *n);

/* fsm.c: the state machine of one iteration, and the lines of a state. */
struct compat_fsm {
	enum compat_state state;
	long long checks;
};
const char *compat_state_name(enum compat_state s); /* "UP" */
/* One iteration; true when a transition was triggered (hooks run for *target). */
bool compat_fsm_step(struct compat_fsm *f, long long rise, long long fall, bool disabled,
                     bool successful, enum compat_state *target);
/* The lines exabgp(target) writes, one per IP, without newlines; NULL-terminated, NULL
 * with *n == 0 when the state writes nothing. Free with compat_lines_free. */
char **compat_lines(const struct compat_opts *o, enum compat_state target, size_t *n);
void compat_lines_free(char **lines);

/* io.c: stdout to ExaBGP and its acks on stdin. Writing never blocks the loop;
 * an ack is awaited only when one can come, and never longer than the ack timeout. */
struct compat_io;
struct event_base;
typedef void (*compat_io_fn)(void *arg);
/* on_ack: the ack awaited after compat_io_ack_now() returned false came (or will not).
 * on_gone: stdout was closed (EPIPE); called from the loop. */
struct compat_io *compat_io_new(struct event_base *base, bool no_ack, uint32_t ack_timeout_ms,
                                compat_io_fn on_ack, compat_io_fn on_gone, void *arg);
/* Queue one line (the newline is added) and start writing it; -1 once stdout is gone. */
int compat_io_write(struct compat_io *io, const char *line);
/* After a write: true to go on at once (no ack expected, or it came already), false when
 * on_ack will be called later. */
bool compat_io_ack_now(struct compat_io *io);
/* Stop awaiting an ack (on_ack will not be called for it); until the next line from
 * ExaBGP, no ack is awaited either. */
void compat_io_ack_cancel(struct compat_io *io);
bool compat_io_gone(const struct compat_io *io);
/* A reload's --no-ack and --ack-timeout, for the acks awaited from now on. */
void compat_io_set_acks(struct compat_io *io, bool no_ack, uint32_t ack_timeout_ms);
/* At exit: wait up to ms for the queued output to be written; 0 when it was. */
int compat_io_drain(struct compat_io *io, uint32_t ms);
void compat_io_free(struct compat_io *io);

/* sys.c       */
/* Where logs go, as the original decides: the console when stderr is a terminal and not
 * --silent, else syslog unless --no-syslog, else warnings and errors on stderr (Python's
 * last resort). --debug logs everything to stderr. */
void compat_sys_log(const struct compat_opts *o);
int compat_sys_pidfile(const char *path);
int compat_sys_drop(const char *user, const char *group); /* 0, or -1 (logged) */
/* No --ip: the addresses on lo (filtered by --label); -1 when there are none. */
int compat_sys_discover(struct compat_opts *o);
/* --deaggregate-networks, then --start-ip's rotation. */
int compat_sys_arrange(struct compat_opts *o);
/* The host addresses to add to lo (those missing), or to delete from it (those there
 * with the label), sorted, each once. */
int compat_sys_ip_todo(const struct compat_opts *o, bool add, struct compat_net **out, size_t *n);
struct compat_ipcmd {
	char addr[64], label[80];
	const char *argv[12]; /* [sudo] ip address add|delete A/L dev lo [label lo:LABEL] */
};
void compat_sys_ipcmd(const struct compat_opts *o, bool add, const struct compat_net *n,
                      struct compat_ipcmd *c);

/* jobs.c: commands run one after another, each killed (with its group) at the
 * deadline. fill describes job i (its pointers stay valid until the job ends); done gets
 * its wait status, or COMPAT_JOB_TIMEOUT / COMPAT_JOB_SPAWN, and returns false to stop
 * the series (end is then not called); end is called once all ran. */
#define COMPAT_JOB_TIMEOUT (-1)
#define COMPAT_JOB_SPAWN   (-2)
struct child_spec;
struct compat_jobs;
typedef void (*compat_job_fill)(void *arg, size_t i, struct child_spec *spec);
typedef bool (*compat_job_done)(void *arg, size_t i, int wstatus);
typedef void (*compat_jobs_end)(void *arg);
struct compat_jobs *compat_jobs_new(struct event_base *base);
void compat_jobs_start(struct compat_jobs *j, size_t n, uint32_t timeout_ms, compat_job_fill fill,
                       compat_job_done done, compat_jobs_end end, void *arg);
void compat_jobs_stop(struct compat_jobs *j); /* kill the running one; no more callbacks */
void compat_jobs_free(struct compat_jobs *j);

/* reload.c: what re-read options (next) change in the running ones (cur), both with
 * their IPs arranged (compat_sys_arrange). */
/* -1 when next changes what cannot change while running (privileges, pid file,
 * logging, the addresses set up on lo, neighbors, path id, command form); why lists
 * those options ("--user, --pid"). */
int compat_reload_refused(const struct compat_opts *cur, const struct compat_opts *next, char *why,
                          size_t len);
/* How many options differ; names lists them. */
size_t compat_reload_changed(const struct compat_opts *cur, const struct compat_opts *next,
                             char *names, size_t len);
/* The check must be rebuilt (--command, --timeout). */
bool compat_reload_check_changed(const struct compat_opts *cur, const struct compat_opts *next);
/* The lines to write now, announced being the state whose lines were written last:
 * withdrawals of the routes next no longer has (*nwithdrawn, first), then those of
 * next's lines for that state that cur did not write. *lines NULL-terminated (free with
 * compat_lines_free), NULL when there are none. 0, or -1 out of memory. */
int compat_reload_lines(const struct compat_opts *cur, const struct compat_opts *next,
                        enum compat_state announced, char ***lines, size_t *n, size_t *nwithdrawn);

/* run.c: the whole program; returns the exit code. */
int compat_main(int argc, char **argv);

#endif
