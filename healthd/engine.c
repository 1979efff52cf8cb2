/* The libevent loop: one timer per check, one poll of each disable file, signals.
 *
 * A check's next run is due one interval (the fast one while its check is rising or
 * falling) after its newest run started, so slow runs do not drift the schedule; it is
 * armed when no run of the check is in flight any more. The first runs are spread over one
 * interval so that many checks never fire together.
 *
 * Overlap (tcp, http and dns checks, unless "overlap": false; needs fall > 1 and
 * fast_interval < timeout): a run with no answer after fast_interval gets another run of
 * the same check beside it, on a spare probe built from the same config, and again every
 * fast_interval, up to fall runs in flight. A hung service then fails fall runs started
 * fast_interval apart, and the fall completes interval + (fall-1) x fast_interval +
 * timeout after the fault at worst, not after fall whole timeouts. Results count in the
 * order their runs started (engine_check_done). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../lib/monotime.h"
#include "../probes/child.h"
#include "control.h"
#include "engine_priv.h"
#include "exitcode.h"
#include "fleet.h"
#include "ifaddr.h"
#include "process.h"

static uint32_t engine_jitter(uint32_t range_ms)
{
	return range_ms > 1 ? (uint32_t)(random() % range_ms) : 0;
}

void engine_publish(struct engine_service *es)
{
	if (es->eng->sp != NULL)
		speaker_set(es->eng->sp, es->cfg, engine_route(es));
	control_changed(es->eng->ctl); /* peers' fleet guards read the new state at once */
}

/* Whether the check's runs overlap: on in its config (network probes only), and a second
 * look comes before the first run's deadline and can still count toward a fall. */
static bool engine_check_overlaps(const struct check_cfg *cfg)
{
	const struct timing *t = &cfg->timing;
	return cfg->overlap && t->fall > 1 && t->fast_interval_ms < t->timeout_ms;
}

static size_t engine_check_inflight(const struct engine_check *ec)
{
	size_t n = 0;
	for (size_t i = 0; i < ec->nruns; i++)
		if (ec->runs[i].probe != NULL && ec->runs[i].probe->running)
			n++;
	return n;
}

/* No run of the check is in flight: the next is due `every` after the newest started (so
 * slow runs do not drift the schedule); never in the past. */
static void engine_check_schedule(struct engine_check *ec)
{
	const struct timing *t = &ec->cfg->timing;
	enum health_state hs = ec->es->svc->checks[ec->index].state;
	uint32_t every = health_is_fast(hs) ? t->fast_interval_ms : t->interval_ms;
	struct timeval now, ran, tv;

	mono_now(&now);
	timersub(&now, &ec->last_start, &ran);
	uint64_t ran_ms = ran.tv_sec < 0 ? 0 : (uint64_t)ran.tv_sec * 1000 + ran.tv_usec / 1000;
	if (ran_ms > every)
		ec->stats.skipped++; /* due while runs were still in flight: it runs late, now */
	ms_to_tv(&tv, ran_ms >= every ? 0 : every - (uint32_t)ran_ms);
	evtimer_add(ec->timer, &tv);
	ms_to_tv(&tv, every); /* for the schedule's lateness metric: due from the start */
	timeradd(&ec->last_start, &tv, &ec->due);
	ec->every_ms = every;
}

/* Start a run on run's probe (not running); with overlap, look again fast_interval later. */
static void engine_check_start(struct engine_check *ec, struct engine_run *run)
{
	mono_now(&ec->last_start);
	run->seq = ++ec->started;
	probe_run(run->probe, ec->es->eng->base);
	if (!run->probe->running) {
		/* It could not start (logged): no result will come; try at the next due time. */
		if (engine_check_inflight(ec) == 0)
			engine_check_schedule(ec);
		return;
	}
	if (ec->nruns > 1) {
		struct timeval tv;
		ms_to_tv(&tv, ec->cfg->timing.fast_interval_ms);
		evtimer_add(ec->look, &tv);
	}
}

/* A pass is degraded when the check says so or when it took longer than degraded_after. */
static enum health_result engine_check_grade(const struct engine_check *ec, const struct probe *p,
                                             const struct probe_result *r)
{
	if (!probe_result_healthy(p, r))
		return HR_FAIL;
	if (probe_result_degraded(p, r))
		return HR_DEGRADED;
	uint32_t slow = ec->cfg->degraded_after_ms;
	return slow > 0 && r->latency_us / 1000 >= slow ? HR_DEGRADED : HR_OK;
}

/* Results count in the order their runs started: a run older than one whose result was
 * already fed is dropped, so that a late timeout cannot undo a newer pass (nor a late
 * pass a newer failure). The run fed becomes runs[0], the one status and metrics show. */
static void engine_check_done(struct probe *p, const struct probe_result *r, void *arg)
{
	struct engine_check *ec = arg;
	struct engine_service *es = ec->es;
	struct service *svc = es->svc;
	enum health_state old = svc->state;
	enum health_result hr = engine_check_grade(ec, p, r);
	const struct probe_reason_info *ri = probe_reason_info(r->reason);
	size_t k = 0;

	while (k + 1 < ec->nruns && ec->runs[k].probe != p)
		k++;
	unsigned long long seq = ec->runs[k].seq;
	if (seq < ec->fed) {
		ec->stats.dropped++;
		log_debug("%s: %s: run %llu dropped, run %llu was counted already: %s (%s) %s, "
		          "%.1fms",
		          es->cfg->name, p->label, seq, (unsigned long long)ec->fed,
		          probe_status_name(r->status), ri->code, r->detail,
		          r->latency_us / 1000.0);
		goto next;
	}
	ec->fed = seq;
	if (hr != HR_FAIL)
		ec->passed = seq;
	if (k != 0) {
		struct engine_run fed = ec->runs[k];
		ec->runs[k] = ec->runs[0];
		ec->runs[0] = fed;
		ec->probe = fed.probe;
	}
	/* The line tests and operators parse: the latency ends it. */
	log_debug("%s: %s: %s (%s) %s, %.1fms", es->cfg->name, p->label,
	          probe_status_name(r->status), ri->code, r->detail, r->latency_us / 1000.0);
	engine_stats_result(ec, r);
	if (service_feed_result(svc, ec->index, hr)) {
		log_info("service %s: %s -> %s (%s: %s, %s, %.1fms)", es->cfg->name,
		         health_state_name(old), health_state_name(svc->state), p->label, ri->code,
		         r->detail[0] ? r->detail : ri->text, r->latency_us / 1000.0);
		engine_stats_state(es, old, "%s: %s, %s", p->label, ri->code,
		                   r->detail[0] ? r->detail : ri->text);
		engine_publish(es);
	}
next:
	/* The regular schedule goes on once no run is in flight: overlapping runs never pile
	 * up behind a hung service. */
	if (!es->eng->stopping && engine_check_inflight(ec) == 0) {
		evtimer_del(ec->look);
		engine_check_schedule(ec);
	}
}

static void engine_check_fire(evutil_socket_t fd, short what, void *arg)
{
	struct engine_check *ec = arg;
	engine_stats_fire(ec);
	if (engine_check_inflight(ec) > 0) {
		ec->stats.skipped++; /* the last run in flight to end schedules the next */
		return;
	}
	ec->regular = ec->started + 1;
	engine_check_start(ec, &ec->runs[0]);
}

/* A probe of the check, built from its config (the first with the check, the spares for
 * overlapping runs on first need); NULL, logged, when it cannot be built. */
static struct probe *engine_check_probe(struct engine_check *ec)
{
	struct config_error err;

	config_error_init(&err, ec->es->eng->opts.config_file, NULL);
	struct probe *p = check_cfg_probe(ec->cfg, ec->es->cfg->name, &err);
	for (size_t k = 0; k < err.nmsgs; k++)
		log_err("%s: %s", ec->cfg->path, err.msgs[k]);
	config_error_free(&err);
	if (p == NULL)
		return NULL;
	p->no_facts = true; /* read only by `healthd probe` */
	probe_set_done(p, engine_check_done, ec);
	return p;
}

/* A spare probe for an overlapping run, built on first need. */
static struct probe *engine_check_spare(struct engine_check *ec, struct engine_run *run)
{
	if (run->probe == NULL && (run->probe = engine_check_probe(ec)) == NULL)
		log_err("%s: cannot build a probe for an overlapping run", ec->cfg->path);
	return run->probe;
}

/* fast_interval after the newest run started: still no answer, so look again beside it,
 * on a probe of the check not running, up to fall runs in flight. Once a run since the
 * last regular one has passed, the service answers: no more looks until the next regular
 * run (a service slower than fast_interval but healthy is not probed every
 * fast_interval). */
static void engine_check_look(evutil_socket_t fd, short what, void *arg)
{
	struct engine_check *ec = arg;
	struct engine_run *newest = NULL, *spare = NULL;

	for (size_t i = 0; i < ec->nruns; i++) {
		struct engine_run *run = &ec->runs[i];
		if (run->probe != NULL && run->seq == ec->started)
			newest = run;
		else if (spare == NULL && (run->probe == NULL || !run->probe->running))
			spare = run;
	}
	if (newest == NULL || !newest->probe->running || spare == NULL || ec->passed >= ec->regular)
		return; /* answered, or fall runs in flight: the last to end schedules the next */
	if (engine_check_spare(ec, spare) == NULL)
		return;
	log_debug("%s: %s: run %llu has no answer after %ums: run %llu starts beside it",
	          ec->es->cfg->name, newest->probe->label, (unsigned long long)newest->seq,
	          ec->cfg->timing.fast_interval_ms, (unsigned long long)ec->started + 1);
	engine_check_start(ec, spare);
}

static int engine_check_init(struct engine_check *ec)
{
	struct engine *eng = ec->es->eng;

	/* fall may be up to 1000: a hung service never gets more than a few of our
	 * connections at once. */
	uint32_t fall = ec->cfg->timing.fall;
	ec->nruns = engine_check_overlaps(ec->cfg)
	                    ? (fall < ENGINE_MAX_OVERLAP ? fall : ENGINE_MAX_OVERLAP)
	                    : 1;
	ec->runs = calloc(ec->nruns, sizeof(*ec->runs));
	ec->timer = evtimer_new(eng->base, engine_check_fire, ec);
	ec->look = evtimer_new(eng->base, engine_check_look, ec);
	if (ec->runs == NULL || ec->timer == NULL || ec->look == NULL)
		return -1;
	ec->probe = engine_check_probe(ec);
	ec->runs[0].probe = ec->probe;
	return ec->probe != NULL ? 0 : -1;
}

/* Stop the check's runs without reporting them, and its timers. */
static void engine_check_cancel(struct engine_check *ec)
{
	if (ec->timer != NULL)
		evtimer_del(ec->timer);
	if (ec->look != NULL)
		evtimer_del(ec->look);
	for (size_t i = 0; i < ec->nruns; i++)
		if (ec->runs[i].probe != NULL)
			probe_cancel(ec->runs[i].probe);
}

static void engine_check_free(struct engine_check *ec)
{
	for (size_t i = 0; ec->runs != NULL && i < ec->nruns; i++) {
		if (ec->runs[i].probe != NULL) {
			probe_release(ec->runs[i].probe);
			probe_free(ec->runs[i].probe);
		}
	}
	free(ec->runs);
	if (ec->timer)
		event_free(ec->timer);
	if (ec->look)
		event_free(ec->look);
}

/* The first prefix with no address on any interface, or NULL when all have one. */
static const struct prefix *engine_missing_prefix(const struct service_cfg *cfg)
{
	struct ifaddr_set *set = ifaddr_snapshot();
	const struct prefix *missing = NULL;

	if (set == NULL) {
		log_warn("service %s: cannot list interface addresses: %s", cfg->name,
		         strerror(errno));
		return NULL; /* keep the last verdict rather than guess */
	}
	for (size_t i = 0; i < cfg->nprefixes && missing == NULL; i++)
		if (!ifaddr_in_prefix(set, &cfg->prefixes[i]))
			missing = &cfg->prefixes[i];
	ifaddr_set_free(set);
	return missing;
}

/* The disable file: present, absent, or -1 when it cannot be told (a directory that became
 * unreadable): then the service keeps its state, and the failure is said once. */
static int engine_disable_file(struct engine_service *es)
{
	struct stat st;
	if (stat(es->cfg->disable_file, &st) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR) {
		if (es->poll_failed)
			log_info("service %s: disable file %s can be looked at again",
			         es->cfg->name, es->cfg->disable_file);
		es->poll_failed = false;
		return 0;
	}
	if (!es->poll_failed)
		log_err("service %s: cannot look at disable file %s: %s; keeping the service's "
		        "state until it can",
		        es->cfg->name, es->cfg->disable_file, strerror(errno));
	es->poll_failed = true;
	return -1;
}

/* Once per interval: the disable file, and the local addresses when they are required. */
static void engine_service_poll(evutil_socket_t fd, short what, void *arg)
{
	struct engine_service *es = arg;
	const struct service_cfg *cfg = es->cfg;
	enum health_state old = es->svc->state;

	if (cfg->require_local_address) {
		const struct prefix *missing = engine_missing_prefix(cfg);
		bool was = es->svc->no_address;
		char p[PREFIX_STRLEN];
		if (missing != NULL)
			prefix_format(missing, p, sizeof(p));
		if (service_set_address_missing(es->svc, missing != NULL)) {
			log_info("service %s: %s -> %s (%s)", cfg->name, health_state_name(old),
			         health_state_name(es->svc->state),
			         missing ? "an address of the service is not configured locally"
			                 : "the service's addresses are configured again");
			engine_stats_state(
			        es, old, "%s",
			        missing ? "an address of the service is not configured "
			                  "locally"
			                : "the service's addresses are configured again");
			engine_publish(es);
		}
		if (missing != NULL && !was)
			log_warn("service %s: no local interface has an address in %s; down "
			         "until one does (require_local_address)",
			         cfg->name, p);
		old = es->svc->state;
	}
	if (cfg->disable_file != NULL) {
		int disabled = engine_disable_file(es);
		if (disabled >= 0 && service_set_disabled(es->svc, disabled == 1)) {
			log_info("service %s: %s -> %s (disable file %s %s)", cfg->name,
			         health_state_name(old), health_state_name(es->svc->state),
			         cfg->disable_file, disabled ? "present" : "removed");
			engine_stats_state(es, old, "disable file %s %s", cfg->disable_file,
			                   disabled ? "present" : "removed");
			engine_publish(es);
		}
	}
}

struct engine_service *engine_service_new(struct engine *eng, const struct service_cfg *cfg)
{
	struct engine_service *es = calloc(1, sizeof(*es));
	if (es == NULL)
		return NULL;
	es->eng = eng;
	es->cfg = cfg;
	es->svc = service_new(cfg);
	engine_stats_init(es);
	es->checks = calloc(cfg->nchecks ? cfg->nchecks : 1, sizeof(*es->checks));
	if (es->svc == NULL || es->checks == NULL || engine_safety_new(es) != 0)
		goto fail;
	for (size_t j = 0; j < cfg->nchecks; j++) {
		struct engine_check *ec = &es->checks[j];
		ec->es = es;
		ec->index = j;
		ec->cfg = &cfg->checks[j];
		es->nchecks++;
		if (engine_check_init(ec) != 0)
			goto fail;
	}
	if (cfg->disable_file != NULL || cfg->require_local_address) {
		es->poll_timer = event_new(eng->base, -1, EV_PERSIST, engine_service_poll, es);
		if (es->poll_timer == NULL)
			goto fail;
	}
	return es;
fail:
	log_err("service %s: cannot set up its checks", cfg->name);
	engine_service_free(es);
	return NULL;
}

/* Arm the service's timers: the poll at once (before the first probe), the checks spread
 * over one interval. */
void engine_service_start(struct engine_service *es)
{
	struct timeval tv;

	if (es->poll_timer != NULL) {
		engine_service_poll(-1, 0, es);
		ms_to_tv(&tv, es->cfg->timing.interval_ms);
		evtimer_add(es->poll_timer, &tv);
	}
	for (size_t j = 0; j < es->nchecks; j++) {
		struct engine_check *ec = &es->checks[j];
		struct timeval now;
		ms_to_tv(&tv, engine_jitter(ec->cfg->timing.interval_ms));
		evtimer_add(ec->timer, &tv);
		mono_now(&now);
		timeradd(&now, &tv, &ec->due);
		ec->every_ms = ec->cfg->timing.interval_ms;
	}
}

void engine_service_free(struct engine_service *es)
{
	if (es == NULL)
		return;
	for (size_t j = 0; j < es->nchecks; j++)
		engine_check_free(&es->checks[j]);
	if (es->poll_timer)
		event_free(es->poll_timer);
	free(es->checks);
	engine_safety_free(es);
	service_free(es->svc);
	free(es);
}

static void engine_stop(struct engine *eng, const char *why)
{
	if (eng->stopping)
		return;
	eng->stopping = true;
	log_info("stopping: %s", why);
	for (size_t i = 0; i < eng->nservices; i++) {
		struct engine_service *es = eng->services[i];
		for (size_t j = 0; j < es->nchecks; j++)
			engine_check_cancel(&es->checks[j]);
		if (es->poll_timer)
			evtimer_del(es->poll_timer);
	}
	if (eng->reannounce)
		evtimer_del(eng->reannounce);
	if (eng->watch)
		evtimer_del(eng->watch);
	engine_safety_stop(eng);
	event_base_loopbreak(eng->base);
}

static void engine_signal(evutil_socket_t sig, short what, void *arg)
{
	struct engine *eng = arg;
	engine_stop(eng, sig == SIGTERM ? "SIGTERM" : "SIGINT");
	if (eng->sp != NULL && speaker_shutdown(eng->sp) != 0) {
		/* Routes may stay announced without us: say so in the exit status too. */
		log_err("not every withdrawal reached the speaker");
		eng->exit_code = EXIT_RUNTIME;
	}
	engine_state_flush(eng);
}

static void engine_speaker_gone(void *arg, const char *why)
{
	struct engine *eng = arg;
	if (eng->sp != NULL && eng->sp->failed)
		eng->exit_code = EXIT_RUNTIME; /* not a clean goodbye: an I/O error */
	engine_stop(eng, why);
}

static void engine_sighup(evutil_socket_t sig, short what, void *arg)
{
	engine_reload(arg, "SIGHUP");
}

/* libevent's own warnings go where ours go, never to stdout. */
static void engine_libevent_log(int severity, const char *msg)
{
	int prio = severity >= EVENT_LOG_ERR    ? LOG_ERR
	           : severity >= EVENT_LOG_WARN ? LOG_WARNING
	                                        : LOG_DEBUG;
	log_msg(prio, "libevent", "%s", msg);
}

static void engine_reannounce(evutil_socket_t fd, short what, void *arg)
{
	struct engine *eng = arg;
	if (eng->sp != NULL)
		speaker_reannounce(eng->sp);
}

/* No speaker is known (no valid config, no state file): stdin is still the speaker's when
 * it is a pipe or a socket (ExaBGP's), so its acks are read and its EOF ends healthd. */
static void engine_stdin(evutil_socket_t fd, short what, void *arg)
{
	struct engine *eng = arg;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		engine_stop(eng, "end of input");
}

static int engine_stdin_watch(struct engine *eng, bool on)
{
	struct stat st;

	if (!on) {
		if (eng->stdin_ev != NULL)
			event_free(eng->stdin_ev);
		eng->stdin_ev = NULL;
		return 0;
	}
	if (eng->stdin_ev != NULL || fstat(STDIN_FILENO, &st) != 0 ||
	    !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return 0;
	int fl = fcntl(STDIN_FILENO, F_GETFL);
	if (fl >= 0)
		fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK);
	eng->stdin_ev = event_new(eng->base, STDIN_FILENO, EV_READ | EV_PERSIST, engine_stdin, eng);
	return eng->stdin_ev != NULL ? event_add(eng->stdin_ev, NULL) : -1;
}

int engine_speaker_open(struct engine *eng)
{
	engine_stdin_watch(eng, false);
	eng->sp = speaker_new(eng->cfg, eng->base, engine_speaker_gone, eng);
	if (eng->sp == NULL) {
		log_err("cannot open the speaker");
		return -1;
	}
	eng->sp->on_told = engine_state_changed;
	if (eng->hold) {
		/* Whatever the config said: what a previous instance announced goes. */
		for (size_t i = 0; i < eng->sp->nroutes; i++)
			eng->sp->routes[i].known = false;
	}
	if (eng->reannounce != NULL)
		event_free(eng->reannounce);
	eng->reannounce = NULL;
	if (eng->cfg->speaker.reannounce_ms > 0 && !eng->hold) {
		struct timeval tv;
		eng->reannounce = event_new(eng->base, -1, EV_PERSIST, engine_reannounce, eng);
		if (eng->reannounce == NULL)
			return -1;
		ms_to_tv(&tv, eng->cfg->speaker.reannounce_ms);
		evtimer_add(eng->reannounce, &tv);
	}
	return 0;
}

/* Withdraw through the speaker (bounded) and close it: another takes its place. */
void engine_speaker_close(struct engine *eng)
{
	if (eng->sp == NULL)
		return;
	if (speaker_shutdown(eng->sp) != 0)
		log_err("not every withdrawal reached the speaker");
	speaker_free(eng->sp);
	eng->sp = NULL;
}

static int engine_services_build(struct engine *eng)
{
	const struct config *cfg = eng->cfg;
	eng->services = calloc(cfg->nservices ? cfg->nservices : 1, sizeof(*eng->services));
	if (eng->services == NULL)
		return -1;
	for (size_t i = 0; i < cfg->nservices; i++) {
		if ((eng->services[i] = engine_service_new(eng, &cfg->services[i])) == NULL)
			return -1;
		eng->nservices++;
	}
	return 0;
}

struct engine *engine_new(const struct engine_opts *o, struct config *cfg, char **errors,
                          size_t nerrors)
{
	struct engine *eng = calloc(1, sizeof(*eng));
	if (eng == NULL) {
		config_free(cfg);
		return NULL;
	}
	eng->opts = *o;
	eng->cfg = cfg;
	clock_gettime(CLOCK_REALTIME, &eng->started_at);
	if (cfg != NULL)
		eng->loaded_at = eng->started_at;
	event_set_log_callback(engine_libevent_log);
	eng->base = event_base_new();
	if (eng->base == NULL)
		goto fail;
	if (child_init(eng->base) != 0)
		goto fail;
	if (engine_state_init(eng) != 0)
		goto fail;
	eng->sig_term = evsignal_new(eng->base, SIGTERM, engine_signal, eng);
	eng->sig_int = evsignal_new(eng->base, SIGINT, engine_signal, eng);
	eng->sig_hup = evsignal_new(eng->base, SIGHUP, engine_sighup, eng);
	if (!eng->sig_term || !eng->sig_int || !eng->sig_hup)
		goto fail;

	if (cfg == NULL) {
		engine_wait(eng, errors, nerrors);
		errors = NULL;
		if (eng->cfg != NULL && engine_speaker_open(eng) != 0) {
			/* The state file's speaker is gone too: wait without one. */
			config_free(eng->cfg);
			eng->cfg = NULL;
			eng->hold = false;
		}
		if (eng->sp == NULL && engine_stdin_watch(eng, true) != 0)
			goto fail;
		return eng;
	}
	if (engine_speaker_open(eng) != 0 || engine_services_build(eng) != 0)
		goto fail;
	if (control_start(eng) != 0)
		goto fail;
	return eng;
fail:
	for (size_t i = 0; errors != NULL && i < nerrors; i++)
		free(errors[i]);
	free(errors);
	log_err("cannot set up the event loop");
	engine_free(eng);
	return NULL;
}

int engine_run(struct engine *eng)
{
	signal(SIGPIPE, SIG_IGN); /* a closed stdout is an EPIPE to handle, not a death */
	evsignal_add(eng->sig_term, NULL);
	evsignal_add(eng->sig_int, NULL);
	evsignal_add(eng->sig_hup, NULL);
	signal(SIGUSR1, SIG_IGN); /* their default would kill without withdrawing */
	signal(SIGUSR2, SIG_IGN);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());

	/* What needs root is done (files opened, BIRD's socket connected) and no probe has run
	 * yet: become the configured user now. A config that comes later is applied by the
	 * reload (reload_start). */
	if (eng->cfg != NULL && !eng->hold) {
		char why[512];
		engine_state_owner(eng, &eng->cfg->process);
		if (process_apply(&eng->cfg->process, why, sizeof(why)) != 0) {
			log_err("%s", why);
			return EXIT_RUNTIME;
		}
	}
	eng->started = true;
	engine_fleet_update(eng);
	for (size_t i = 0; i < eng->nservices; i++)
		engine_service_start(eng->services[i]);
	if (eng->sp != NULL)
		speaker_sync(eng->sp); /* withdraw_on_start: clear what a previous run left */
	if (eng->cfg != NULL && !eng->hold)
		log_info("started: %zu service%s", eng->nservices, eng->nservices == 1 ? "" : "s");
	else
		log_warn("started without a valid configuration: announcing nothing; waiting for "
		         "%s to be fixed",
		         eng->opts.config_file);

	if (!eng->stopping && event_base_dispatch(eng->base) < 0) {
		log_err("event loop failed");
		return EXIT_RUNTIME;
	}
	return eng->exit_code;
}

void engine_free(struct engine *eng)
{
	if (eng == NULL)
		return;
	control_free(eng->ctl);
	eng->ctl = NULL;
	for (size_t i = 0; i < eng->nservices; i++)
		engine_service_free(eng->services[i]);
	free(eng->services);
	fleet_free(eng->fleet);
	speaker_free(eng->sp);
	engine_stdin_watch(eng, false);
	struct event *evs[] = {eng->sig_term, eng->sig_int, eng->sig_hup, eng->reannounce};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	engine_reload_free(eng);
	engine_state_free(eng);
	config_free(eng->cfg);
	child_shutdown();
	if (eng->base)
		event_base_free(eng->base);
	free(eng);
}
