/* The speaker for FRR: healthd's routes are "network PFX route-map HEALTHD-..." statements
 * under FRR's "router bgp", set through vtysh (frr_text.c writes and reads the text).
 *
 * vtysh runs as a supervised child (probes/child.h: its own process group, output
 * captured, reaped, killed at "vtysh_timeout"), one run at a time, never waited for on
 * the loop. announce and withdraw only copy the wanted state into this backend's own
 * table; the first change opens a window ("batch") and one vtysh run carries everything
 * that changed in it, followed in the same run by "show running-config bgpd" (bgpd's own:
 * vtysh's merged view would show route-maps zebra holds after bgpd lost them). What FRR then
 * prints is the truth: it is compared with the wanted state, and a difference is applied
 * again (after a backoff, so a FRR that does not take a command is not hammered). Every
 * "reassert" FRR's configuration is read again and re-asserted, so a bgpd that restarted
 * (with its own configuration file, without healthd's statements) gets exactly the
 * healthy services back, and a statement someone removed by hand returns.
 *
 * Nothing is ever refused to the route table: a FRR that is away gets the whole state
 * when it answers again. At exit the drain runs vtysh without the loop (child_wait) until
 * FRR holds none of healthd's statements and route-maps, or the deadline passes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frr.h"
#include "speaker.h"
#include "../lib/log.h"
#include "../lib/monotime.h"
#include "../probes/child.h"

#define FRR_RETRY_MIN_MS 500
#define FRR_RETRY_MAX_MS 30000
#define FRR_OUTPUT_MAX   (8 * 1024 * 1024) /* a running-config with thousands of peers */
#define FRR_LOG_LINES    5                 /* of vtysh's output, when a run failed */
#define FRR_DRAIN_RUNS   8

struct frr {
	struct speaker *sp;
	char *vty_socket, *vtysh; /* copies: the config may be replaced while we run */
	uint32_t batch_ms, reassert_ms, timeout_ms;
	struct frr_state want;  /* from the route table: what FRR should hold */
	struct frr_state found; /* healthd's part of FRR's configuration, as last read */
	bool found_valid;       /* found is FRR's state as far as healthd can know */
	bool applied;           /* found was read right after a change: it verifies it */
	bool dirty;             /* want changed since FRR was last found holding it */
	bool in_sync;           /* FRR was last found holding want */
	unsigned troubles;      /* FRR_TROUBLE_* seen since the last success of its kind */
	bool stopping;
	size_t foreign;    /* prefixes with someone else's statement, last counted */
	struct child *run; /* the vtysh run in flight */
	bool run_changes;  /* it carries changes (else it only reads) */
	struct event *batch, *retry, *reassert, *timeout;
	uint32_t retry_ms;
	unsigned long runs;
	unsigned long gen, run_gen; /* changes to want: counted, and at the run's start */
};

static void frr_step(struct frr *f);

static void frr_backoff(struct frr *f)
{
	struct timeval tv;

	if (f->stopping)
		return;
	f->retry_ms = f->retry_ms == 0 ? FRR_RETRY_MIN_MS : f->retry_ms * 2;
	if (f->retry_ms > FRR_RETRY_MAX_MS)
		f->retry_ms = FRR_RETRY_MAX_MS;
	ms_to_tv(&tv, f->retry_ms);
	evtimer_add(f->retry, &tv);
}

enum {
	FRR_TROUBLE_RUN = 1,    /* vtysh failed, timed out, or printed no configuration */
	FRR_TROUBLE_STATE = 2,  /* FRR answered, but does not hold what healthd wants */
	FRR_TROUBLE_IMPORT = 4, /* network import-check is on: statements may stay silent */
};

/* A failure: logged at error the first time, at debug while it repeats. */
static int frr_trouble(struct frr *f, unsigned kind)
{
	int prio = f->troubles & kind ? LOG_DEBUG : LOG_ERR;
	f->troubles |= kind;
	return prio;
}

/* The first lines of vtysh's output on one log line, printable. */
static void frr_output_summary(const char *out, char *buf, size_t len)
{
	size_t k = 0;
	int lines = 0;

	for (const char *p = out; *p != '\0' && k + 4 < len && lines < FRR_LOG_LINES; p++) {
		if (*p == '\n') {
			if (p[1] != '\0' && k > 0) {
				buf[k++] = ' ';
				buf[k++] = '|';
				buf[k++] = ' ';
			}
			lines++;
			continue;
		}
		buf[k++] = (*p >= ' ' && *p < 0x7f) ? *p : '?';
	}
	buf[k] = '\0';
	if (k == 0)
		snprintf(buf, len, "(no output)");
}

static void frr_done(struct child *c, int wstatus, void *arg)
{
	struct frr *f = arg;
	const char *what = f->run_changes ? "change" : "read";
	char why[256], out[512];

	evtimer_del(f->timeout);
	f->run = NULL;
	f->found_valid = false;
	f->applied = false;
	const char *text = child_output(c, NULL);
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
		if (WIFEXITED(wstatus))
			snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(wstatus));
		else
			snprintf(why, sizeof(why), "signal %d",
			         WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
		frr_output_summary(text, out, sizeof(out));
		log_msg(frr_trouble(f, FRR_TROUBLE_RUN), "frr", "vtysh %s failed (%s): %s", what,
		        why, out);
		frr_backoff(f);
	} else if (child_output_truncated(c)) {
		log_msg(frr_trouble(f, FRR_TROUBLE_RUN), "frr",
		        "vtysh printed more than %d bytes: cannot read FRR's configuration",
		        FRR_OUTPUT_MAX);
		frr_backoff(f);
	} else if (frr_parse(text, &f->found, why, sizeof(why)) != 0) {
		frr_output_summary(text, out, sizeof(out));
		log_msg(frr_trouble(f, FRR_TROUBLE_RUN), "frr",
		        "cannot read FRR's configuration (%s): %s", why, out);
		frr_backoff(f);
	} else {
		if (f->troubles & FRR_TROUBLE_RUN)
			log_info("FRR answers again (AS %lld)", f->found.asn);
		f->troubles &= ~(unsigned)FRR_TROUBLE_RUN;
		f->found_valid = true;
		f->applied = f->run_changes;
	}
	child_free(c);
	if (!f->stopping && f->found_valid)
		frr_step(f);
}

static void frr_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct frr *f = arg;

	log_msg(frr_trouble(f, FRR_TROUBLE_RUN), "frr", "vtysh did not finish within %ums: killed",
	        (unsigned)f->timeout_ms);
	child_free(f->run); /* kills its group; the reaper collects it */
	f->run = NULL;
	f->found_valid = false;
	f->applied = false;
	frr_backoff(f);
}

/* Start one vtysh run: the commands (NULL: none), then "show running-config bgpd". */
static int frr_spawn(struct frr *f, char *const *cmds)
{
	size_t n = 0;
	while (cmds != NULL && cmds[n] != NULL)
		n++;
	const char **argv = calloc(2 * n + 6, sizeof(*argv));
	if (argv == NULL)
		return -1;
	size_t k = 0;
	argv[k++] = f->vtysh;
	argv[k++] = "--vty_socket";
	argv[k++] = f->vty_socket;
	for (size_t i = 0; i < n; i++) {
		argv[k++] = "-c";
		argv[k++] = cmds[i];
	}
	argv[k++] = "-c";
	argv[k++] = "show running-config bgpd";
	argv[k] = NULL;

	struct child_spec spec = {.argv = argv, .max_output = FRR_OUTPUT_MAX};
	int err = 0;
	f->run_changes = n > 0;
	f->run_gen = f->gen;
	f->run = child_spawn(f->sp->base, &spec, frr_done, f, &err);
	free(argv);
	if (f->run == NULL) {
		log_msg(frr_trouble(f, FRR_TROUBLE_RUN), "frr", "cannot run %s: %s", f->vtysh,
		        strerror(err));
		frr_backoff(f);
		return -1;
	}
	f->runs++;
	f->sp->stats.commands++; /* one vtysh run: the speaker's command */
	log_debug("vtysh run %lu: %zu command%s and a read-back", f->runs, n, n == 1 ? "" : "s");
	if (!f->stopping) {
		struct timeval tv;
		ms_to_tv(&tv, f->timeout_ms);
		evtimer_add(f->timeout, &tv);
	}
	return 0;
}

/* Read FRR when its state is unknown, else apply what differs; nothing while a run is in
 * flight (its end steps again) or a backoff holds. */
static void frr_step(struct frr *f)
{
	char **cmds = NULL;
	size_t foreign = 0;

	if (f->run != NULL || (!f->stopping && evtimer_pending(f->retry, NULL)))
		return;
	if (!f->found_valid) {
		frr_spawn(f, NULL);
		return;
	}
	int rc = frr_diff(&f->want, &f->found, &cmds, &foreign);
	if (rc == -2) {
		log_msg(frr_trouble(f, FRR_TROUBLE_STATE), "frr",
		        "FRR has no \"router bgp ASN\" in its default VRF: healthd cannot "
		        "announce");
		f->found_valid = false;
		frr_backoff(f);
		return;
	}
	if (rc != 0) {
		log_err("out of memory comparing FRR's state");
		frr_backoff(f);
		return;
	}
	if (foreign != f->foreign) {
		if (foreign > 0)
			log_warn("%zu prefix%s of healthd's already %s a network statement in FRR "
			         "that is not healthd's (no HEALTHD- route-map): left alone",
			         foreign, foreign == 1 ? "" : "es", foreign == 1 ? "has" : "have");
		f->foreign = foreign;
	}
	if (f->found.import_check && f->want.nnets > 0)
		log_msg(frr_trouble(f, FRR_TROUBLE_IMPORT), "frr",
		        "FRR's router bgp %lld checks network imports: it announces a network "
		        "statement only when a route in its RIB backs it; add \"no bgp network "
		        "import-check\" (docs/frr.md)",
		        f->found.asn);
	else if (!f->found.import_check)
		f->troubles &= ~(unsigned)FRR_TROUBLE_IMPORT;
	if (cmds == NULL) {
		f->troubles &= ~(unsigned)FRR_TROUBLE_STATE;
		if (f->dirty || !f->in_sync)
			log_info("FRR holds healthd's routes: %zu prefix%s announced (AS %lld)",
			         f->want.nnets, f->want.nnets == 1 ? "" : "es", f->found.asn);
		f->dirty = false;
		f->in_sync = true;
		f->retry_ms = 0;
		return;
	}
	f->in_sync = false;
	if (f->applied && f->run_gen == f->gen) {
		/* The read-back right after a change still differs: FRR did not take it as
		 * healthd wrote it. Try again later rather than at once. */
		log_msg(frr_trouble(f, FRR_TROUBLE_STATE), "frr",
		        "FRR does not hold what healthd told it (%s ...); applying again",
		        cmds[1] != NULL ? cmds[1] : "?");
		f->applied = false;
		frr_strv_free(cmds);
		frr_backoff(f);
		return;
	}
	frr_spawn(f, cmds);
	frr_strv_free(cmds);
}

static void frr_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	frr_step(arg);
}

static void frr_reassert_cb(evutil_socket_t fd, short what, void *arg)
{
	struct frr *f = arg;
	struct timeval tv;

	/* Look again: a bgpd that restarted, or someone at vtysh, may have changed it. A
	 * backoff yields to this: the interval is how soon a fixed FRR is noticed. */
	evtimer_del(f->retry);
	if (f->run == NULL)
		f->found_valid = false;
	frr_step(f);
	ms_to_tv(&tv, f->reassert_ms);
	evtimer_add(f->reassert, &tv);
}

static int frr_changed(struct speaker *sp, const struct speaker_route *r)
{
	struct frr *f = sp->priv;
	char **sets = NULL;

	if (r->want != NULL && (sets = frr_sets(r->want, r->pfx->family)) == NULL) {
		log_err("out of memory for service %s's route-map", r->svc->name);
		return 0; /* the periodic re-assert tries again */
	}
	if (frr_want(&f->want, r->pfx, r->svc->name, sets) != 0)
		log_err("out of memory for service %s's route", r->svc->name);
	frr_strv_free(sets);
	f->dirty = true;
	f->gen++;
	return 0;
}

static void frr_flush(struct speaker *sp)
{
	struct frr *f = sp->priv;
	struct timeval tv;

	if (f->stopping || !f->dirty || evtimer_pending(f->batch, NULL))
		return;
	ms_to_tv(&tv, f->batch_ms);
	evtimer_add(f->batch, &tv);
}

static int frr_drain(struct speaker *sp, uint32_t timeout_ms)
{
	struct frr *f = sp->priv;
	struct timeval deadline, run_deadline, limit;

	mono_deadline(&deadline, timeout_ms);
	f->stopping = true;
	evtimer_del(f->batch);
	evtimer_del(f->retry);
	evtimer_del(f->reassert);
	evtimer_del(f->timeout);
	for (int i = 0; i < FRR_DRAIN_RUNS && mono_ms_left(&deadline) > 0; i++) {
		if (f->run == NULL) {
			f->applied = false; /* at exit a difference is applied again at once */
			frr_step(f);
			if (f->run == NULL) {
				if (f->found_valid && f->in_sync)
					return 0;
				break; /* vtysh cannot be started */
			}
		}
		mono_deadline(&limit, f->timeout_ms);
		run_deadline = timercmp(&limit, &deadline, <) ? limit : deadline;
		if (child_wait(f->run, &run_deadline) != 0) {
			log_warn("vtysh did not finish in time at exit: killed");
			child_free(f->run);
			f->run = NULL;
			break;
		}
	}
	log_warn("FRR was not confirmed free of healthd's routes within %ums",
	         (unsigned)timeout_ms);
	return -1;
}

static void frr_close(struct speaker *sp)
{
	struct frr *f = sp->priv;
	if (f == NULL)
		return;
	child_free(f->run);
	if (f->batch)
		event_free(f->batch);
	if (f->retry)
		event_free(f->retry);
	if (f->reassert)
		event_free(f->reassert);
	if (f->timeout)
		event_free(f->timeout);
	frr_state_clear(&f->want);
	frr_state_clear(&f->found);
	free(f->vty_socket);
	free(f->vtysh);
	free(f);
	sp->priv = NULL;
}

static void frr_gauges(struct speaker *sp)
{
	struct frr *f = sp->priv;
	sp->stats.unacked = f->run != NULL ? 1 : 0;
	sp->stats.connected = !sp->gone;
}

static const struct speaker_ops frr_ops = {
        .name = "frr",
        .announce = frr_changed,
        .withdraw = frr_changed,
        .flush = frr_flush,
        .drain = frr_drain,
        .close = frr_close,
        .gauges = frr_gauges,
};

int frr_open(struct speaker *sp)
{
	const struct frr_cfg *cfg = &sp->cfg->speaker.frr;
	struct frr *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	sp->ops = &frr_ops;
	sp->priv = f;
	f->sp = sp;
	frr_state_init(&f->want);
	frr_state_init(&f->found);
	f->vty_socket = strdup(cfg->vty_socket);
	f->vtysh = strdup(cfg->vtysh);
	f->batch_ms = cfg->batch_ms;
	f->reassert_ms = cfg->reassert_ms;
	f->timeout_ms = cfg->timeout_ms;
	f->batch = evtimer_new(sp->base, frr_timer_cb, f);
	f->retry = evtimer_new(sp->base, frr_timer_cb, f);
	f->reassert = evtimer_new(sp->base, frr_reassert_cb, f);
	f->timeout = evtimer_new(sp->base, frr_timeout_cb, f);
	if (f->vty_socket == NULL || f->vtysh == NULL || f->batch == NULL || f->retry == NULL ||
	    f->reassert == NULL || f->timeout == NULL)
		goto fail;
	if (access(f->vtysh, X_OK) != 0) {
		log_err("cannot run vtysh %s: %s", f->vtysh, strerror(errno));
		goto fail;
	}
	/* At once, before any check has finished: FRR is read, and what a previous run of
	 * healthd left there is removed (every route starts withdrawn). */
	f->dirty = true;
	struct timeval now = {0, 0};
	evtimer_add(f->batch, &now);
	if (f->reassert_ms > 0) {
		struct timeval tv;
		ms_to_tv(&tv, f->reassert_ms);
		evtimer_add(f->reassert, &tv);
	}
	log_info("speaker: FRR through %s --vty_socket %s", f->vtysh, f->vty_socket);
	return 0;
fail:
	frr_close(sp);
	sp->ops = NULL;
	return -1;
}
