/* The healthcheck drop-in's main loop. One iteration is the original's one(): look at
 * the disable file, run the check, step the state machine, run the hooks of a transition,
 * write the state's lines (each awaiting its ack), then sleep the interval (the fast one
 * while rising or falling). Every step is an event on one libevent loop, so a signal is
 * handled at once whatever is running: SIGTERM/SIGINT abandon it and withdraw every IP.
 *
 * Unlike the original: the check and the hooks run through child.c (own process group,
 * killed whole at their timeout, reaped, no zombies), acks have a deadline, and a closed
 * stdout ends the program quietly. SIGHUP, which kills the original, re-reads the
 * command line and its --config file; the new options are applied between two
 * iterations (see reload.c for what may change). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../probes/child.h"
#include "../probes/probe.h"
#include "compat.h"
#include "../lib/log.h"

#define RUN_HOOK_TIMEOUT_MS 60000 /* for hooks when --timeout 0 gives none */
#define RUN_IP_TIMEOUT_MS   10000
#define RUN_DRAIN_MS        2000
#define RUN_EXIT_SIGNALLED  143 /* SIGTERM before the loop: as if it had killed us */

enum run_step { RS_SETUP, RS_CHECK, RS_HOOKS, RS_IPS, RS_LINES, RS_SLEEP, RS_DONE };
enum run_then { RT_START, RT_LINES, RT_SLEEP, RT_FINISH };

struct run {
	struct compat_opts *o;
	int argc;
	char **argv;
	/* The IPs before compat_sys_arrange; found_on_lo: none was given, these were on lo
	 * at start (a reload without --ip keeps them rather than look at lo again, where
	 * --dynamic-ip-setup may have removed them). */
	struct compat_net *found;
	size_t nfound;
	bool found_on_lo;
	struct compat_opts *pending; /* re-read at SIGHUP, applied at the next sleep */
	enum compat_state announced; /* whose lines were written last; CS_INIT: none yet */
	bool reload_lines;           /* the lines being written are a reload's */
	struct event_base *base;
	struct compat_io *io;
	struct probe *probe; /* NULL without a --command: always successful */
	bool check_pending;
	struct compat_fsm fsm;
	pid_t ppid;
	enum compat_state before; /* the state an iteration started in (--debounce) */
	enum run_step step;
	bool exiting;
	int exit_code;
	/* hooks of one transition (the state's own, then --execute's), ip commands */
	struct compat_jobs *jobs;
	const struct compat_strv *hooks_own;
	char hook_env[32];
	const char *hook_envp[2];
	struct compat_net *ipq;
	size_t nipq;
	bool ipq_add;
	enum run_then then;
	struct compat_ipcmd ipcmd; /* the command running now */
	/* the lines of one state */
	char **lines;
	size_t nlines, line_i;
	struct event *timer, *sig_term, *sig_int, *sig_hup;
};

static void run_iteration(struct run *r);
static void run_announce(struct run *r);
static void run_lines_start(struct run *r);
static void run_sleep(struct run *r);
static void run_start(struct run *r);
static bool run_reload_apply(struct run *r);

static void run_finish(struct run *r, int code)
{
	r->step = RS_DONE;
	r->exit_code = code;
	event_base_loopbreak(r->base);
}

static void run_tv(struct timeval *tv, double seconds)
{
	/* seconds >= 0 and finite (validated); no libm for floor() */
	tv->tv_sec = (time_t)seconds;
	tv->tv_usec = (suseconds_t)((seconds - (double)tv->tv_sec) * 1e6 + 0.5);
	if (tv->tv_usec >= 1000000) {
		tv->tv_sec++;
		tv->tv_usec -= 1000000;
	}
}

/* ---- hooks and ip commands, through jobs.c       */

static const char *run_hook(const struct run *r, size_t i)
{
	size_t own = r->hooks_own != NULL ? r->hooks_own->n : 0;
	return i < own ? r->hooks_own->v[i] : r->o->execute.v[i - own];
}

static void run_hook_fill(void *arg, size_t i, struct child_spec *spec)
{
	struct run *r = arg;
	log_debug("Transition to %s, execute `%s`", r->hook_env + 6, run_hook(r, i));
	spec->shell = run_hook(r, i);
	spec->env = r->hook_envp;
	spec->max_output = 0; /* the original sends it to /dev/null */
}

static bool run_hook_done(void *arg, size_t i, int wstatus)
{
	struct run *r = arg;
	if (wstatus == COMPAT_JOB_TIMEOUT)
		log_warn("hook `%s` timed out; killed", run_hook(r, i));
	return true; /* the original ignores how a hook ends */
}

static void run_hooks_end(void *arg)
{
	run_announce(arg);
}

static void run_hooks_start(struct run *r, enum compat_state t)
{
	const struct compat_opts *o = r->o;
	long long s = o->timeout;
	uint32_t ms = s <= 0                  ? RUN_HOOK_TIMEOUT_MS
	              : s > UINT32_MAX / 1000 ? UINT32_MAX
	                                      : (uint32_t)s * 1000;

	r->step = RS_HOOKS;
	r->hooks_own = t == CS_UP         ? &o->up_execute
	               : t == CS_DOWN     ? &o->down_execute
	               : t == CS_DISABLED ? &o->disabled_execute
	                                  : NULL;
	snprintf(r->hook_env, sizeof(r->hook_env), "STATE=%s", compat_state_name(t));
	r->hook_envp[0] = r->hook_env;
	r->hook_envp[1] = NULL;
	compat_jobs_start(r->jobs, (r->hooks_own != NULL ? r->hooks_own->n : 0) + o->execute.n, ms,
	                  run_hook_fill, run_hook_done, run_hooks_end, r);
}

static void run_ip_fill(void *arg, size_t i, struct child_spec *spec)
{
	struct run *r = arg;
	compat_sys_ipcmd(r->o, r->ipq_add, &r->ipq[i], &r->ipcmd);
	log_debug("%s loopback IP address %s", r->ipq_add ? "Setup" : "Remove", r->ipcmd.addr);
	spec->argv = r->ipcmd.argv;
	spec->max_output = 512;
}

static bool run_ip_done(void *arg, size_t i, int wstatus)
{
	struct run *r = arg;
	char addr[64];
	bool exited = wstatus >= 0 && WIFEXITED(wstatus);

	/* `ip address add` exits 2 when the address is there already: fine. */
	if (exited && (WEXITSTATUS(wstatus) == 0 || (r->ipq_add && WEXITSTATUS(wstatus) == 2)))
		return true;
	compat_net_format(&r->ipq[i], addr, sizeof(addr));
	if (!r->ipq_add) {
		log_warn(
		        "Unable to remove loopback IP address %s - is healthcheck running as root?",
		        addr);
		return true;
	}
	log_err("cannot add %s to lo: ip %s", addr,
	        wstatus == COMPAT_JOB_TIMEOUT ? "timed out" : "failed");
	if (r->then != RT_START)
		return true;
	run_finish(r, 1); /* as the original, which dies of it at start */
	return false;
}

static void run_ips_end(void *arg)
{
	struct run *r = arg;

	free(r->ipq);
	r->ipq = NULL;
	r->nipq = 0;
	switch (r->then) {
	case RT_START:
		run_start(r);
		break;
	case RT_LINES:
		run_lines_start(r);
		break;
	case RT_SLEEP:
		run_sleep(r);
		break;
	case RT_FINISH:
		run_finish(r, 0);
		break;
	}
}

static void run_ips_start(struct run *r, bool add, enum run_then then)
{
	r->step = RS_IPS;
	r->ipq_add = add;
	r->then = then;
	free(r->ipq);
	if (compat_sys_ip_todo(r->o, add, &r->ipq, &r->nipq) != 0) {
		log_err("cannot list the addresses of lo");
		r->nipq = 0;
	}
	compat_jobs_start(r->jobs, r->nipq, RUN_IP_TIMEOUT_MS, run_ip_fill, run_ip_done,
	                  run_ips_end, r);
}

/* ---- one iteration */

static void run_checked(struct run *r, bool disabled, bool ok)
{
	enum compat_state t;

	r->before = r->fsm.state;
	if (compat_fsm_step(&r->fsm, r->o->rise, r->o->fall, disabled, ok, &t)) {
		log_debug("Transition to %s", compat_state_name(t));
		run_hooks_start(r, t);
		return;
	}
	run_announce(r);
}

static void run_probe_done(struct probe *p, const struct probe_result *res, void *arg)
{
	struct run *r = arg;
	bool ok = probe_result_healthy(p, res);

	r->check_pending = false;
	if (res->reason == PR_TIMEOUT)
		log_warn("Timeout (%lld) while running check command %s", r->o->timeout,
		         r->o->command);
	else if (!ok)
		log_warn("Check command was unsuccessful: %s", res->detail);
	else
		log_debug("Command was executed successfully %s", res->detail);
	run_checked(r, false, ok);
}

static void run_iteration(struct run *r)
{
	struct stat st;

	r->step = RS_CHECK;
	if (getppid() != r->ppid) {
		/* The original loops while its parent is alive; gone, it ends without
		 * withdrawing (nobody is left to tell). */
		log_info("parent process gone; exiting");
		run_finish(r, 0);
		return;
	}
	bool disabled = r->o->disable != NULL && stat(r->o->disable, &st) == 0;
	if (disabled || r->probe == NULL) {
		run_checked(r, disabled, true);
		return;
	}
	r->check_pending = true;
	probe_run(r->probe, r->base);
	if (r->check_pending && !r->probe->running) {
		r->check_pending = false;
		log_err("cannot run the check command");
		run_checked(r, false, false);
	}
}

static void run_announce(struct run *r)
{
	enum compat_state s = r->fsm.state;

	if ((r->o->debounce && s == r->before) ||
	    (s != CS_UP && s != CS_DOWN && s != CS_DISABLED)) {
		run_sleep(r);
		return;
	}
	if (s == CS_UP && r->o->ip_dynamic) {
		log_info("service up, restoring loopback ips");
		run_ips_start(r, true, RT_LINES);
		return;
	}
	run_lines_start(r);
}

static void run_lines_done(struct run *r)
{
	enum compat_state s = r->fsm.state;

	compat_lines_free(r->lines);
	r->lines = NULL;
	if (r->reload_lines && !r->exiting) {
		r->reload_lines = false;
		run_sleep(r);
		return;
	}
	if (r->exiting) {
		if (r->o->ip_dynamic || r->o->ip_setup) {
			log_info("exiting, deleting loopback ips");
			run_ips_start(r, false, RT_FINISH);
		} else {
			run_finish(r, 0);
		}
		return;
	}
	if ((s == CS_DOWN || s == CS_DISABLED) && r->o->ip_dynamic) {
		log_info("service down, deleting loopback ips");
		run_ips_start(r, false, RT_SLEEP);
		return;
	}
	run_sleep(r);
}

static void run_lines_next(struct run *r)
{
	while (r->line_i < r->nlines) {
		if (compat_io_write(r->io, r->lines[r->line_i++]) != 0)
			return; /* stdout gone: run_gone ends the program */
		if (!compat_io_ack_now(r->io))
			return; /* run_acked goes on */
	}
	run_lines_done(r);
}

/* Writes lines (owned from now on), one after another, each awaiting its ack. */
static void run_lines_send(struct run *r, char **lines, size_t n, bool reload)
{
	r->step = RS_LINES;
	compat_lines_free(r->lines);
	r->lines = lines;
	r->nlines = lines != NULL ? n : 0;
	r->line_i = 0;
	r->reload_lines = reload;
	run_lines_next(r);
}

static void run_lines_start(struct run *r)
{
	enum compat_state t = r->exiting ? CS_EXIT : r->fsm.state;
	size_t n = 0;

	log_info("send announces for %s state to ExaBGP", compat_state_name(t));
	char **lines = compat_lines(r->o, t, &n);
	if (lines == NULL && r->o->nips > 0)
		log_err("out of memory: no lines for %s", compat_state_name(t));
	if (!r->exiting)
		r->announced = t;
	run_lines_send(r, lines, n, false);
}

static void run_acked(void *arg)
{
	struct run *r = arg;
	if (r->step == RS_LINES)
		run_lines_next(r);
}

static void run_timer(evutil_socket_t fd, short what, void *arg)
{
	run_iteration(arg);
}

static void run_sleep(struct run *r)
{
	enum compat_state s = r->fsm.state;
	struct timeval tv;

	if (r->pending != NULL && run_reload_apply(r))
		return; /* its lines are being written; then back here */
	r->step = RS_SLEEP;
	if (s == CS_RISING || s == CS_FALLING) {
		run_tv(&tv, r->o->fast);
	} else if (r->o->interval == 0) {
		log_info("interval set to zero, exiting after the announcement");
		run_finish(r, 0); /* END: routes and addresses stay */
		return;
	} else {
		run_tv(&tv, r->o->interval);
	}
	evtimer_add(r->timer, &tv);
}

/* ---- start, signals, exit */

/* The check of o: an exec probe (same spawning, timeout and reaping as healthd's), or
 * NULL without a --command. 0, or -1 (logged). */
static int run_probe_new(struct run *r, const struct compat_opts *o, struct probe **out)
{
	struct config_error err;

	*out = NULL;
	if (o->command == NULL || o->command[0] == '\0')
		return 0;
	json_t *obj = json_pack("{s:s, s:b, s:b}", "command", o->command, "shell", 1,
	                        "warning_is_failure", 1);
	config_error_init(&err, "--command", NULL);
	struct probe *p = obj ? probe_new(probe_ops_find("exec"), obj, &err) : NULL;
	json_decref(obj);
	for (size_t i = 0; i < err.nmsgs; i++)
		log_err("%s", err.msgs[i]);
	config_error_free(&err);
	if (p == NULL)
		return -1;
	long long ms = o->timeout * 1000;
	p->timeout_ms = o->timeout == 0 || ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	p->service = strdup(o->name != NULL ? o->name : "healthcheck");
	probe_set_done(p, run_probe_done, r);
	*out = p;
	return 0;
}

static void run_probe_free(struct probe *p)
{
	if (p != NULL) {
		probe_release(p);
		probe_free(p);
	}
}

static void run_start(struct run *r)
{
	if (compat_sys_drop(r->o->user, r->o->group) != 0 || compat_sys_arrange(r->o) != 0 ||
	    run_probe_new(r, r->o, &r->probe) != 0) {
		run_finish(r, 1);
		return;
	}
	run_iteration(r);
}

/* ---- reload (SIGHUP) */

static uint32_t run_ack_ms(const struct compat_opts *o)
{
	return (uint32_t)(o->ack_timeout * 1000 + 0.5); /* validated: fits */
}

static void run_opts_free(struct compat_opts *o)
{
	if (o != NULL) {
		compat_opts_free(o);
		free(o);
	}
}

/* The command line and its --config file again, with their IPs arranged; NULL (every
 * error logged) when they cannot be used. */
static struct compat_opts *run_reload_read(struct run *r)
{
	struct compat_opts *n = calloc(1, sizeof(*n));
	char err[1024];

	if (n == NULL) {
		log_err("reload refused: out of memory; nothing changed");
		return NULL;
	}
	if (compat_args_reread(r->argc, r->argv, n, err, sizeof(err)) != 0) {
		log_err("reload refused: %s: %s; nothing changed", r->o->config, err);
		run_opts_free(n);
		return NULL;
	}
	if (n->nips == 0 && r->found_on_lo && r->nfound > 0) {
		if ((n->ips = malloc(r->nfound * sizeof(*n->ips))) == NULL) {
			log_err("reload refused: out of memory; nothing changed");
			run_opts_free(n);
			return NULL;
		}
		memcpy(n->ips, r->found, r->nfound * sizeof(*n->ips));
		n->nips = r->nfound;
	}
	if (compat_sys_discover(n) != 0 || compat_sys_arrange(n) != 0) {
		log_err("reload refused: %s gives no IP to announce; nothing changed",
		        r->o->config);
		run_opts_free(n);
		return NULL;
	}
	return n;
}

/* Between two iterations: the pending options replace the running ones, or are refused
 * as a whole. True when lines are being written (run_sleep comes after them). */
static bool run_reload_apply(struct run *r)
{
	struct compat_opts *next = r->pending;
	struct probe *probe = r->probe;
	char why[512], names[1024];
	char **lines = NULL;
	size_t n = 0, nw = 0, nchanged;

	r->pending = NULL;
	if (compat_reload_refused(r->o, next, why, sizeof(why)) != 0) {
		log_err("reload refused: restart to change %s; nothing changed", why);
		goto drop;
	}
	nchanged = compat_reload_changed(r->o, next, names, sizeof(names));
	if (nchanged == 0) {
		log_info("reload: %s unchanged; nothing written", r->o->config);
		goto drop;
	}
	bool new_check = compat_reload_check_changed(r->o, next);
	if (new_check && run_probe_new(r, next, &probe) != 0) {
		log_err("reload refused: the new --command cannot run; nothing changed");
		goto drop;
	}
	if (compat_reload_lines(r->o, next, r->announced, &lines, &n, &nw) != 0) {
		log_err("reload refused: out of memory; nothing changed");
		if (new_check)
			run_probe_free(probe);
		goto drop;
	}
	if (new_check) {
		run_probe_free(r->probe); /* not running: only the loop's sleep gets here */
		r->probe = probe;
	}
	compat_opts_free(r->o);
	*r->o = *next; /* moved */
	free(next);
	compat_io_set_acks(r->io, r->o->no_ack, run_ack_ms(r->o));
	log_info("reload: %zu option%s changed (%s); %zu line%s to write, %zu of them "
	         "withdrawals",
	         nchanged, nchanged == 1 ? "" : "s", names, n, n == 1 ? "" : "s", nw);
	if (n == 0)
		return false;
	evtimer_del(r->timer); /* re-armed, a whole interval, once the lines are written */
	run_lines_send(r, lines, n, true);
	return true;
drop:
	run_opts_free(next);
	return false;
}

static void run_hup(evutil_socket_t sig, short what, void *arg)
{
	struct run *r = arg;

	if (r->exiting || r->step == RS_DONE) {
		log_info("SIGHUP received while exiting: ignored");
		return;
	}
	if (r->o->config == NULL) {
		log_warn("SIGHUP received: there is no --config file to re-read; nothing changed");
		return;
	}
	log_info("SIGHUP received: re-reading %s", r->o->config);
	struct compat_opts *next = run_reload_read(r);
	if (next == NULL)
		return;
	run_opts_free(r->pending); /* a newer one replaces what was waiting */
	r->pending = next;
	if (r->step == RS_SLEEP)
		run_reload_apply(r);
	else
		log_info("reload: applied when the running iteration ends");
}

static void run_signal(evutil_socket_t sig, short what, void *arg)
{
	struct run *r = arg;

	log_info("%s received", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	if (r->step == RS_SETUP || (r->step == RS_IPS && r->then == RT_START)) {
		compat_jobs_stop(r->jobs);
		run_finish(r, RUN_EXIT_SIGNALLED);
		return;
	}
	if (r->exiting) {
		run_finish(r, 0); /* asked twice: stop waiting */
		return;
	}
	/* Whatever runs is abandoned; every IP is withdrawn, as the original's handler does. */
	r->exiting = true;
	if (r->probe != NULL)
		probe_cancel(r->probe);
	r->check_pending = false;
	compat_jobs_stop(r->jobs);
	evtimer_del(r->timer);
	compat_io_ack_cancel(r->io);
	run_lines_start(r);
}

static void run_gone(void *arg)
{
	struct run *r = arg;
	run_finish(r, 0); /* ExaBGP is gone: nothing to withdraw through, nothing to say */
}

static void run_free(struct run *r)
{
	run_probe_free(r->probe);
	run_opts_free(r->pending);
	free(r->found);
	compat_jobs_free(r->jobs);
	compat_lines_free(r->lines);
	free(r->ipq);
	struct event *evs[] = {r->timer, r->sig_term, r->sig_int, r->sig_hup};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	compat_io_free(r->io);
	child_shutdown();
	if (r->base != NULL)
		event_base_free(r->base);
}

int compat_main(int argc, char **argv)
{
	struct compat_opts o;
	struct run r = {
	        .o = &o, .argc = argc, .argv = argv, .step = RS_SETUP, .announced = CS_INIT};
	char err[1024];

	/* Until the loop's handler is in place a SIGHUP must not kill it either (libevent's
	 * handler replaces this, so no child inherits it ignored). */
	signal(SIGHUP, SIG_IGN);
	int rc = compat_args_parse(argc, argv, &o, err, sizeof(err));

	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr,
			        "usage: healthd [--cmd CMD] [--ip IP]... [OPTIONS] "
			        "(see: healthd help healthcheck)\nhealthd: error: %s\n",
			        err);
		compat_opts_free(&o);
		return rc < 0 ? 2 : 0;
	}
	compat_sys_log(&o);
	signal(SIGPIPE, SIG_IGN); /* a closed stdout is an EPIPE, handled quietly */
	r.found_on_lo = o.nips == 0;
	if ((o.pid != NULL && compat_sys_pidfile(o.pid) != 0) || compat_sys_discover(&o) != 0) {
		compat_opts_free(&o);
		return 1;
	}
	r.nfound = o.nips;
	if ((r.found = malloc(o.nips * sizeof(*r.found))) == NULL)
		goto fail;
	memcpy(r.found, o.ips, o.nips * sizeof(*r.found));
	r.ppid = getppid();
	r.base = event_base_new();
	if (r.base == NULL || child_init(r.base) != 0)
		goto fail;
	r.io = compat_io_new(r.base, o.no_ack, run_ack_ms(&o), run_acked, run_gone, &r);
	r.jobs = compat_jobs_new(r.base);
	r.timer = evtimer_new(r.base, run_timer, &r);
	r.sig_term = evsignal_new(r.base, SIGTERM, run_signal, &r);
	r.sig_int = evsignal_new(r.base, SIGINT, run_signal, &r);
	r.sig_hup = evsignal_new(r.base, SIGHUP, run_hup, &r);
	if (!r.io || !r.jobs || !r.timer || !r.sig_term || !r.sig_int || !r.sig_hup ||
	    evsignal_add(r.sig_term, NULL) != 0 || evsignal_add(r.sig_int, NULL) != 0 ||
	    evsignal_add(r.sig_hup, NULL) != 0)
		goto fail;

	if (o.ip_setup)
		run_ips_start(&r, true, RT_START);
	else
		run_start(&r);
	if (r.step != RS_DONE && event_base_dispatch(r.base) < 0)
		r.exit_code = 1;
	if (!compat_io_gone(r.io) && compat_io_drain(r.io, RUN_DRAIN_MS) != 0 &&
	    !compat_io_gone(r.io))
		log_warn("exabgp did not read every command before the exit");
	rc = r.exit_code;
	run_free(&r);
	compat_opts_free(&o);
	return rc;
fail:
	log_err("cannot set up the event loop");
	run_free(&r);
	compat_opts_free(&o);
	return 1;
}
