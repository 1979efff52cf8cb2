/* The libevent loop: one timer per check, one poll of each disable file, signals.
 *
 * A check's next run is due one interval (the fast one while its check is rising or
 * falling) after its previous run started, so slow runs do not drift the schedule; the
 * first runs are spread over one interval so that many checks never fire together. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../probes/child.h"
#include "engine.h"
#include "exitcode.h"
#include "ifaddr.h"
#include "../lib/log.h"
#include "../lib/monotime.h"
#include "service.h"
#include "speaker.h"

#define ENGINE_DRAIN_MS 2000 /* how long withdrawals may take to reach the speaker at exit */

struct engine_check {
	struct engine_service *es;
	size_t index;
	struct check_cfg *cfg;
	struct event *timer;
};

struct engine_service {
	struct engine *eng;
	struct service *svc;
	struct engine_check *checks;
	struct event *poll_timer;
};

struct engine {
	struct config *cfg;
	struct event_base *base;
	struct speaker *sp;
	struct engine_service *services;
	size_t nservices;
	struct event *sig_term, *sig_int, *sig_hup, *reannounce;
	int exit_code;
	bool stopping;
};

static uint32_t engine_jitter(uint32_t range_ms)
{
	return range_ms > 1 ? (uint32_t)(random() % range_ms) : 0;
}

static void engine_publish(struct engine_service *es)
{
	speaker_set(es->eng->sp, es->svc->cfg, service_route(es->svc));
}

static void engine_check_schedule(struct engine_check *ec, const struct probe *p)
{
	const struct timing *t = &ec->cfg->timing;
	enum health_state hs = ec->es->svc->checks[ec->index].state;
	uint32_t every = health_is_fast(hs) ? t->fast_interval_ms : t->interval_ms;
	struct timeval now, ran, tv;

	/* Due `every` after the run started; never in the past. */
	mono_now(&now);
	timersub(&now, &p->started, &ran);
	uint64_t ran_ms = ran.tv_sec < 0 ? 0 : (uint64_t)ran.tv_sec * 1000 + ran.tv_usec / 1000;
	ms_to_tv(&tv, ran_ms >= every ? 0 : every - (uint32_t)ran_ms);
	evtimer_add(ec->timer, &tv);
}

static void engine_check_done(struct probe *p, const struct probe_result *r, void *arg)
{
	struct engine_check *ec = arg;
	struct engine_service *es = ec->es;
	struct service *svc = es->svc;
	enum health_state old = svc->state;
	bool ok = probe_result_healthy(p, r);
	const struct probe_reason_info *ri = probe_reason_info(r->reason);

	log_debug("%s: %s: %s (%s) %s, %.1fms", svc->cfg->name, p->label,
	          probe_status_name(r->status), ri->code, r->detail, r->latency_us / 1000.0);
	if (service_feed(svc, ec->index, ok)) {
		log_info("service %s: %s -> %s (%s: %s, %s, %.1fms)", svc->cfg->name,
		         health_state_name(old), health_state_name(svc->state), p->label, ri->code,
		         r->detail[0] ? r->detail : ri->text, r->latency_us / 1000.0);
		engine_publish(es);
	}
	if (!es->eng->stopping)
		engine_check_schedule(ec, p);
}

static void engine_check_fire(evutil_socket_t fd, short what, void *arg)
{
	struct engine_check *ec = arg;
	probe_run(ec->cfg->probe, ec->es->eng->base);
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

/* Once per interval: the disable file, and the local addresses when they are required. */
static void engine_service_poll(evutil_socket_t fd, short what, void *arg)
{
	struct engine_service *es = arg;
	const struct service_cfg *cfg = es->svc->cfg;
	enum health_state old = es->svc->state;
	struct stat st;

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
			engine_publish(es);
		}
		if (missing != NULL && !was)
			log_warn("service %s: no local interface has an address in %s; down "
			         "until one does (require_local_address)",
			         cfg->name, p);
		old = es->svc->state;
	}
	if (cfg->disable_file != NULL) {
		bool disabled = stat(cfg->disable_file, &st) == 0;
		if (service_set_disabled(es->svc, disabled)) {
			log_info("service %s: %s -> %s (disable file %s %s)", cfg->name,
			         health_state_name(old), health_state_name(es->svc->state),
			         cfg->disable_file, disabled ? "present" : "removed");
			engine_publish(es);
		}
	}
}

static void engine_stop(struct engine *eng, const char *why)
{
	if (eng->stopping)
		return;
	eng->stopping = true;
	log_info("stopping: %s", why);
	for (size_t i = 0; i < eng->nservices; i++) {
		struct engine_service *es = &eng->services[i];
		for (size_t j = 0; j < es->svc->nchecks; j++) {
			evtimer_del(es->checks[j].timer);
			probe_cancel(es->checks[j].cfg->probe);
		}
		if (es->poll_timer)
			evtimer_del(es->poll_timer);
	}
	if (eng->reannounce)
		evtimer_del(eng->reannounce);
	event_base_loopbreak(eng->base);
}

static void engine_signal(evutil_socket_t sig, short what, void *arg)
{
	struct engine *eng = arg;
	engine_stop(eng, sig == SIGTERM ? "SIGTERM" : "SIGINT");
	if (speaker_shutdown(eng->sp, ENGINE_DRAIN_MS) != 0) {
		/* Routes may stay announced without us: say so in the exit status too. */
		log_err("not every withdrawal reached the speaker");
		eng->exit_code = EXIT_RUNTIME;
	}
}

static void engine_speaker_gone(void *arg, const char *why)
{
	struct engine *eng = arg;
	if (eng->sp != NULL && eng->sp->failed)
		eng->exit_code = EXIT_RUNTIME; /* not a clean goodbye: an I/O error */
	engine_stop(eng, why);
}

/* A HUP from a terminal that went away, or an operator expecting a reload, must not kill
 * healthd: a killed helper leaves its routes announced in ExaBGP. */
static void engine_sighup(evutil_socket_t sig, short what, void *arg)
{
	log_warn("SIGHUP ignored: healthd does not reload; restart it to apply a new "
	         "configuration (SIGTERM withdraws first)");
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
	speaker_reannounce(eng->sp);
}

static int engine_service_init(struct engine *eng, struct engine_service *es,
                               struct service_cfg *cfg)
{
	es->eng = eng;
	es->svc = service_new(cfg);
	es->checks = calloc(cfg->nchecks ? cfg->nchecks : 1, sizeof(*es->checks));
	if (es->svc == NULL || es->checks == NULL)
		return -1;
	for (size_t j = 0; j < cfg->nchecks; j++) {
		struct engine_check *ec = &es->checks[j];
		ec->es = es;
		ec->index = j;
		ec->cfg = &cfg->checks[j];
		ec->timer = evtimer_new(eng->base, engine_check_fire, ec);
		if (ec->timer == NULL)
			return -1;
		probe_set_done(ec->cfg->probe, engine_check_done, ec);
	}
	if (cfg->disable_file != NULL || cfg->require_local_address) {
		es->poll_timer = event_new(eng->base, -1, EV_PERSIST, engine_service_poll, es);
		if (es->poll_timer == NULL)
			return -1;
	}
	return 0;
}

struct engine *engine_new(struct config *cfg)
{
	struct engine *eng = calloc(1, sizeof(*eng));
	if (eng == NULL)
		return NULL;
	eng->cfg = cfg;
	event_set_log_callback(engine_libevent_log);
	eng->base = event_base_new();
	if (eng->base == NULL)
		goto fail;
	if (child_init(eng->base) != 0)
		goto fail;
	eng->sp = speaker_new(cfg, eng->base, engine_speaker_gone, eng);
	if (eng->sp == NULL) {
		log_err("cannot open the speaker");
		goto fail;
	}
	eng->services = calloc(cfg->nservices, sizeof(*eng->services));
	if (eng->services == NULL)
		goto fail;
	eng->nservices = cfg->nservices;
	for (size_t i = 0; i < cfg->nservices; i++)
		if (engine_service_init(eng, &eng->services[i], &cfg->services[i]) != 0)
			goto fail;

	eng->sig_term = evsignal_new(eng->base, SIGTERM, engine_signal, eng);
	eng->sig_int = evsignal_new(eng->base, SIGINT, engine_signal, eng);
	eng->sig_hup = evsignal_new(eng->base, SIGHUP, engine_sighup, eng);
	if (!eng->sig_term || !eng->sig_int || !eng->sig_hup)
		goto fail;
	if (cfg->speaker.reannounce_ms > 0) {
		eng->reannounce = event_new(eng->base, -1, EV_PERSIST, engine_reannounce, eng);
		if (eng->reannounce == NULL)
			goto fail;
	}
	return eng;
fail:
	log_err("cannot set up the event loop");
	engine_free(eng);
	return NULL;
}

int engine_run(struct engine *eng)
{
	struct timeval tv;

	signal(SIGPIPE, SIG_IGN); /* a closed stdout is an EPIPE to handle, not a death */
	evsignal_add(eng->sig_term, NULL);
	evsignal_add(eng->sig_int, NULL);
	evsignal_add(eng->sig_hup, NULL);
	signal(SIGUSR1, SIG_IGN); /* their default would kill without withdrawing */
	signal(SIGUSR2, SIG_IGN);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());

	for (size_t i = 0; i < eng->nservices; i++) {
		struct engine_service *es = &eng->services[i];
		if (es->poll_timer != NULL) {
			engine_service_poll(-1, 0, es); /* before the first probe */
			ms_to_tv(&tv, es->svc->cfg->timing.interval_ms);
			evtimer_add(es->poll_timer, &tv);
		}
		for (size_t j = 0; j < es->svc->nchecks; j++) {
			ms_to_tv(&tv, engine_jitter(es->checks[j].cfg->timing.interval_ms));
			evtimer_add(es->checks[j].timer, &tv);
		}
	}
	speaker_sync(eng->sp); /* withdraw_on_start: clear what a previous run left */
	if (eng->reannounce != NULL) {
		ms_to_tv(&tv, eng->cfg->speaker.reannounce_ms);
		evtimer_add(eng->reannounce, &tv);
	}
	log_info("started: %zu service%s", eng->nservices, eng->nservices == 1 ? "" : "s");

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
	for (size_t i = 0; i < eng->nservices; i++) {
		struct engine_service *es = &eng->services[i];
		if (es->checks != NULL && es->svc != NULL)
			for (size_t j = 0; j < es->svc->nchecks; j++) {
				if (es->checks[j].cfg != NULL)
					probe_release(es->checks[j].cfg->probe);
				if (es->checks[j].timer)
					event_free(es->checks[j].timer);
			}
		if (es->poll_timer)
			event_free(es->poll_timer);
		free(es->checks);
		service_free(es->svc);
	}
	free(eng->services);
	speaker_free(eng->sp);
	if (eng->sig_term)
		event_free(eng->sig_term);
	if (eng->sig_int)
		event_free(eng->sig_int);
	if (eng->sig_hup)
		event_free(eng->sig_hup);
	if (eng->reannounce)
		event_free(eng->reannounce);
	child_shutdown();
	if (eng->base)
		event_base_free(eng->base);
	free(eng);
}
