/* Routing safety between the health state and the speaker: flap damping, then the fleet
 * guard. engine_route() is the one place that says what a service's prefixes should be:
 *
 *   service_route()  the health state's action (announce, on_degraded, on_down, ...)
 *   damping          a change that would exceed max_flaps holds the on_down action
 *   fleet guard      a withdrawal while too few peers announce keeps on_last instead
 *
 * The decisions are pure (damping.c, guard.c); this file keeps the run state, the
 * hold_down timer, the logs, and the fleet poller (fleet.c) on the engine's loop. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/duration.h"
#include "../lib/log.h"
#include "../lib/monotime.h"
#include "engine_priv.h"
#include "fleet.h"
#include "guard.h"

struct engine_safety {
	struct damping damp;
	struct event *hold_timer; /* the end of hold_down */
	/* What damping last let through (the health action, before the guard) and what was
	 * published (after it): copies, since a reload replaces the config they came from. */
	bool action_set, sent_set;
	struct route_attrs action;
	bool last;    /* held by the fleet guard */
	bool waiting; /* held only until fresh answers come: not a loud hold */
	/* Monotonic: since when the service is not healthily announced (falling, down,
	 * disabled, damped); zero while it is. Peers count only with answers newer. */
	struct timeval unsafe_since;
	size_t last_announcing;
	struct timeval last_since; /* wall clock, for status */
};

static uint64_t safety_now_ms(void)
{
	struct timeval tv;
	mono_now(&tv);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static bool safety_same(bool set, const struct route_attrs *a, const struct route_attrs *b)
{
	if (!set || b == NULL)
		return !set && b == NULL;
	return route_attrs_equal(a, b);
}

static void safety_hold_over(evutil_socket_t fd, short what, void *arg)
{
	engine_publish(arg);
}

int engine_safety_new(struct engine_service *es)
{
	es->safety = calloc(1, sizeof(*es->safety));
	if (es->safety == NULL)
		return -1;
	damping_init(&es->safety->damp);
	route_attrs_init(&es->safety->action);
	es->safety->hold_timer = evtimer_new(es->eng->base, safety_hold_over, es);
	return es->safety->hold_timer != NULL ? 0 : -1;
}

void engine_safety_free(struct engine_service *es)
{
	struct engine_safety *s = es->safety;
	if (s == NULL)
		return;
	if (s->hold_timer != NULL)
		event_free(s->hold_timer);
	route_attrs_free(&s->action);
	damping_free(&s->damp);
	free(s);
	es->safety = NULL;
}

void engine_safety_adopt(struct engine_service *es, const struct engine_service *old)
{
	struct engine_safety *s = es->safety, *o = old->safety;
	uint64_t now = safety_now_ms();

	damping_free(&s->damp);
	s->damp = o->damp; /* moved: the history goes with it */
	damping_init(&o->damp);
	s->last = o->last;
	s->last_announcing = o->last_announcing;
	s->last_since = o->last_since;
	s->waiting = o->waiting;
	s->unsafe_since = o->unsafe_since;
	s->sent_set = o->sent_set;
	s->action_set = o->action_set && route_attrs_copy(&s->action, &o->action) == 0;
	if (damping_held(&s->damp, now, NULL)) {
		struct timeval tv;
		ms_to_tv(&tv, (uint32_t)damping_left(&s->damp, now));
		evtimer_add(s->hold_timer, &tv);
	}
}

/* The down action: what damping holds a service in. */
static const struct route_attrs *safety_down_action(const struct engine_service *es)
{
	const struct service *svc = es->svc;
	if (!svc->settled || svc->no_address || es->cfg->on_down.withdraw)
		return NULL;
	return &es->cfg->on_down.attrs;
}

static const struct route_attrs *
safety_damp(struct engine_service *es, const struct route_attrs *want, uint64_t now, bool *damped)
{
	struct engine_safety *s = es->safety;
	const struct damping_cfg *dc = &es->cfg->damping;
	bool ended;
	char window[32], hold[32];

	*damped = false;
	if (damping_held(&s->damp, now, &ended)) {
		*damped = true;
		want = safety_down_action(es);
		/* libevent measures from its cached loop time, which may be a little early:
		 * a timer that fired before the hold's end is armed again for the rest. */
		if (!evtimer_pending(s->hold_timer, NULL)) {
			struct timeval tv;
			ms_to_tv(&tv, (uint32_t)damping_left(&s->damp, now) + 1);
			evtimer_add(s->hold_timer, &tv);
		}
	} else {
		if (ended)
			log_info("service %s: flap damping: hold_down over; following its checks "
			         "again",
			         es->cfg->name);
		if (dc->max_flaps > 0 && !safety_same(s->action_set, &s->action, want) &&
		    !damping_change(&s->damp, dc, now, !health_is_up(es->svc->state))) {
			struct timeval tv;
			duration_format(dc->window_ms, window, sizeof(window));
			duration_format(dc->hold_ms, hold, sizeof(hold));
			log_warn("service %s: flap damping: %zu route changes within %s (max_flaps "
			         "%d); held in its on_down action for %s",
			         es->cfg->name, damping_count(&s->damp, dc, now), window,
			         dc->max_flaps, hold);
			ms_to_tv(&tv, dc->hold_ms);
			evtimer_add(s->hold_timer, &tv);
			*damped = true;
			want = safety_down_action(es);
		}
	}
	if (!safety_same(s->action_set, &s->action, want)) {
		route_attrs_free(&s->action);
		s->action_set = want != NULL && route_attrs_copy(&s->action, want) == 0;
	}
	return want;
}

static enum guard_why safety_why(const struct engine_service *es, bool damped)
{
	if (es->svc->no_address)
		return GUARD_NO_ADDRESS;
	if (damped)
		return GUARD_DAMPED;
	if (es->svc->disabled_api) /* the operator's explicit word wins over the file */
		return GUARD_DISABLED_OPERATOR;
	if (es->svc->state == HS_DISABLED)
		return GUARD_DISABLED_FILE;
	return GUARD_DOWN;
}

/* Track since when the service is not healthily announced. */
static void safety_track(struct engine_service *es, bool damped)
{
	struct engine_safety *s = es->safety;
	enum health_state st = es->svc->state;
	if ((st == HS_UP || st == HS_DEGRADED) && !damped)
		timerclear(&s->unsafe_since);
	else if (!timerisset(&s->unsafe_since))
		mono_now(&s->unsafe_since);
}

static const struct route_attrs *safety_guard(struct engine_service *es,
                                              const struct route_attrs *want, bool damped)
{
	struct engine_safety *s = es->safety;
	struct fleet *fl = es->eng->fleet;
	const char *name = es->cfg->name;

	safety_track(es, damped);
	if (want != NULL || fl == NULL) {
		if (s->last)
			log_info("fleet guard: %s no longer held: %s", name,
			         want != NULL ? "its own route again" : "the fleet guard is off");
		s->last = s->waiting = false;
		return want;
	}
	/* Only answers to requests sent after this service began to fall count: a peer
	 * failing at the same time is then seen falling (docs/safety.md). */
	struct guard_case g = {
	        .announced = s->sent_set,
	        .why = safety_why(es, damped),
	        .opt_out = es->cfg->on_last.withdraw,
	        .guard_disable = es->cfg->guard_disable,
	        .announcing = fleet_announcing(fl, name, &s->unsafe_since),
	        .min_others = fleet_min_others(fl),
	};
	if (!guard_holds(&g)) {
		if (s->last && !s->waiting)
			log_warn("fleet guard: releasing %s: %zu of %zu peers announce it; "
			         "withdrawing",
			         name, g.announcing, fleet_npeers(fl));
		else if (s->last)
			log_info("fleet guard: %s: %zu of %zu peers announce it; withdrawing", name,
			         g.announcing, fleet_npeers(fl));
		s->last = s->waiting = false;
		return NULL;
	}
	/* Enough peers by older answers: wait for fresh ones before withdrawing. */
	size_t any = fleet_announcing(fl, name, NULL);
	bool waiting = any >= (size_t)g.min_others;
	if (waiting && (!s->last || !s->waiting))
		log_info("fleet guard: %s waits for the peers' answers since it began to fall "
		         "before withdrawing (%zu announce it by older answers)",
		         name, any);
	else if (!waiting && (!s->last || s->waiting || s->last_announcing != g.announcing))
		log_err("fleet guard: holding %s, %zu of %zu peers announce it; announcing with "
		        "on_last instead of withdrawing the last copy",
		        name, g.announcing, fleet_npeers(fl));
	if (!s->last)
		gettimeofday(&s->last_since, NULL);
	s->last = true;
	s->waiting = waiting;
	s->last_announcing = g.announcing;
	return &es->cfg->on_last.attrs;
}

const struct route_attrs *engine_route(struct engine_service *es)
{
	bool damped;
	const struct route_attrs *want = service_route(es->svc);

	if (es->safety == NULL)
		return want;
	want = safety_damp(es, want, safety_now_ms(), &damped);
	want = safety_guard(es, want, damped);
	es->safety->sent_set = want != NULL;
	return want;
}

bool engine_safety_last(const struct engine_service *es)
{
	return es->safety != NULL && es->safety->last;
}

bool engine_safety_falling(const struct engine_service *es)
{
	/* The next failing step may withdraw: published before it happens (docs/safety.md). */
	return es->svc->state == HS_FALLING && !engine_safety_last(es);
}

uint64_t engine_safety_hold_left_ms(const struct engine_service *es)
{
	return es->safety != NULL ? damping_left(&es->safety->damp, safety_now_ms()) : 0;
}

const char *engine_safety_state(const struct engine_service *es)
{
	if (engine_safety_last(es))
		return "LAST";
	if (engine_safety_hold_left_ms(es) > 0)
		return "DAMPED";
	return health_state_name(es->svc->state);
}

/* A peer answered or a poll went by: services held as last may be released. */
static void safety_fleet_changed(void *arg)
{
	struct engine *eng = arg;
	for (size_t i = 0; i < eng->nservices; i++)
		if (engine_safety_last(eng->services[i]))
			engine_publish(eng->services[i]);
}

void engine_fleet_update(struct engine *eng)
{
	if (eng->fleet != NULL && eng->cfg != NULL && fleet_same(eng->fleet, eng->cfg))
		return;
	fleet_free(eng->fleet);
	eng->fleet = NULL;
	if (eng->cfg != NULL && !eng->hold && eng->cfg->fleet.peers != NULL)
		eng->fleet = fleet_new(eng->cfg, eng->base, safety_fleet_changed, eng);
}

void engine_safety_stop(struct engine *eng)
{
	fleet_free(eng->fleet);
	eng->fleet = NULL;
	for (size_t i = 0; i < eng->nservices; i++)
		if (eng->services[i]->safety != NULL)
			evtimer_del(eng->services[i]->safety->hold_timer);
}

const char *engine_safety_action(const struct engine_service *es)
{
	const struct service_cfg *cfg = es->cfg;
	const struct route_attrs *r;

	if (engine_safety_last(es))
		return "on_last";
	r = engine_safety_hold_left_ms(es) > 0 ? safety_down_action(es) : service_route(es->svc);
	if (r == NULL)
		return "withdraw";
	if (r == &cfg->on_down.attrs)
		return "on_down";
	if (r == &cfg->on_disabled.attrs)
		return "on_disabled";
	if (r == &cfg->on_degraded.attrs && !route_attrs_equal(r, &cfg->announce))
		return "on_degraded";
	return "announce";
}

static json_t *safety_time_json(const struct timeval *tv)
{
	char buf[40];
	struct tm tm;
	if (tv->tv_sec == 0 || gmtime_r(&tv->tv_sec, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

json_t *engine_safety_status(const struct engine_service *es)
{
	const struct engine_safety *s = es->safety;
	if (es->eng->fleet == NULL || s == NULL)
		return NULL;
	json_t *o = json_object();
	json_object_set_new(o, "last", json_boolean(s->last));
	json_object_set_new(o, "since", s->last ? safety_time_json(&s->last_since) : json_null());
	json_object_set_new(
	        o, "announcing",
	        json_integer((json_int_t)fleet_announcing(es->eng->fleet, es->cfg->name, NULL)));
	return o;
}

json_t *engine_fleet_status(const struct engine *eng)
{
	if (eng->fleet == NULL)
		return NULL;
	json_t *o = json_object();
	json_object_set_new(o, "peers", fleet_peers_json(eng->fleet));
	json_object_set_new(o, "min_others", json_integer(fleet_min_others(eng->fleet)));
	return o;
}
