/* The health state machine of one service; see service.h. No I/O, no clock: the engine
 * feeds results and reads states, so every transition is testable with plain calls. */
#include <stdlib.h>

#include "service.h"

static const char *const state_names[] = {
        [HS_INIT] = "INIT",         [HS_RISING] = "RISING", [HS_UP] = "UP",
        [HS_FALLING] = "FALLING",   [HS_DOWN] = "DOWN",     [HS_DISABLED] = "DISABLED",
        [HS_DEGRADED] = "DEGRADED",
};

const char *health_state_name(enum health_state s)
{
	if ((unsigned)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "?";
	return state_names[s];
}

void health_init(struct check_health *h, int rise, int fall)
{
	h->state = HS_INIT;
	h->count = 0;
	h->rise = rise < 1 ? 1 : rise;
	h->fall = fall < 1 ? 1 : fall;
	h->degraded = false;
	h->dcount = 0;
}

bool health_is_up(enum health_state s)
{
	return s == HS_UP || s == HS_FALLING || s == HS_DEGRADED;
}

bool health_is_fast(enum health_state s)
{
	return s == HS_RISING || s == HS_FALLING;
}

/* One success toward `rise`: RISING until it is reached. */
static void health_rise(struct check_health *h, int count)
{
	h->count = count;
	h->state = count >= h->rise ? HS_UP : HS_RISING;
}

/* One failure toward `fall`: FALLING until it is reached. */
static void health_fall(struct check_health *h, int count)
{
	h->count = count;
	h->state = count >= h->fall ? HS_DOWN : HS_FALLING;
}

bool health_feed(struct check_health *h, bool ok)
{
	enum health_state old = h->state;

	switch (h->state) {
	case HS_INIT:
	case HS_DOWN:
	case HS_DISABLED:
		/* Starting down: a failure needs no counting, a success starts rising. */
		if (ok)
			health_rise(h, 1);
		else
			h->state = HS_DOWN, h->count = 0;
		break;
	case HS_RISING:
		if (ok)
			health_rise(h, h->count + 1);
		else
			h->state = HS_DOWN, h->count = 0;
		break;
	case HS_UP:
	case HS_DEGRADED: /* a service's state; a check's is UP with `degraded` */
		if (ok)
			h->state = HS_UP, h->count = 0;
		else
			health_fall(h, 1);
		break;
	case HS_FALLING:
		if (ok)
			h->state = HS_UP, h->count = 0;
		else
			health_fall(h, h->count + 1);
		break;
	}
	return h->state != old;
}

bool health_feed_result(struct check_health *h, enum health_result r)
{
	bool was = h->degraded;
	bool changed = health_feed(h, r != HR_FAIL);

	if (r == HR_FAIL) {
		h->dcount = 0;
		if (h->state == HS_DOWN)
			h->degraded = false; /* rising again starts clean */
	} else if ((r == HR_DEGRADED) != h->degraded) {
		/* A pass that says the other thing than `degraded`: count toward a change. */
		h->dcount++;
		if (h->dcount >= (h->degraded ? h->rise : h->fall))
			h->degraded = !h->degraded, h->dcount = 0;
	} else {
		h->dcount = 0;
	}
	return changed || h->degraded != was;
}

static enum health_state service_derive(struct service *svc)
{
	svc->degraded = false;
	if (svc->disabled)
		return HS_DISABLED;
	if (svc->no_address)
		return HS_DOWN;

	size_t up = 0, falling = 0, rising = 0, init = 0, degraded = 0;
	for (size_t i = 0; i < svc->nchecks; i++) {
		switch (svc->checks[i].state) {
		case HS_UP:
		case HS_DEGRADED:
			up++;
			degraded += svc->checks[i].degraded;
			break;
		case HS_FALLING:
			up++, falling++;
			degraded += svc->checks[i].degraded;
			break;
		case HS_RISING:
			rising++;
			break;
		case HS_INIT:
			init++;
			break;
		default:
			break;
		}
	}
	size_t require = (size_t)svc->cfg->require;
	if (require == 0 || require > svc->nchecks)
		require = svc->nchecks;

	if (up >= require) {
		/* Too few clean checks: announce degraded, in FALLING too, so that the route's
		 * attributes do not bounce back to announce's on the way down. */
		svc->degraded = up - degraded < require;
		if (up - falling < require)
			return HS_FALLING;
		return svc->degraded ? HS_DEGRADED : HS_UP;
	}
	if (init == svc->nchecks && !svc->settled)
		return HS_INIT;
	if (up + rising + init >= require && (rising > 0 || init > 0))
		return HS_RISING;
	return HS_DOWN;
}

/* Recompute the derived state; true when it changed. */
static bool service_update(struct service *svc)
{
	enum health_state old = svc->state;
	bool was_degraded = svc->degraded;
	svc->disabled = svc->disabled_file || svc->disabled_api;
	svc->state = service_derive(svc);
	if (svc->state == HS_UP || svc->state == HS_DEGRADED)
		svc->settled = true;
	return svc->state != old || svc->degraded != was_degraded;
}

struct service *service_new(const struct service_cfg *cfg)
{
	struct service *svc = calloc(1, sizeof(*svc));
	if (svc == NULL)
		return NULL;
	svc->cfg = cfg;
	svc->nchecks = cfg->nchecks;
	svc->checks = calloc(cfg->nchecks ? cfg->nchecks : 1, sizeof(*svc->checks));
	if (svc->checks == NULL) {
		free(svc);
		return NULL;
	}
	for (size_t i = 0; i < cfg->nchecks; i++)
		health_init(&svc->checks[i], cfg->checks[i].timing.rise,
		            cfg->checks[i].timing.fall);
	svc->state = HS_INIT;
	return svc;
}

void service_adopt(struct service *svc, const struct service *old, const bool *same)
{
	bool was_up = health_is_up(old->state);
	bool was_down = old->settled && !was_up;

	svc->settled = old->settled;
	svc->disabled_file = old->disabled_file;
	svc->disabled_api = old->disabled_api;
	svc->no_address = old->no_address;
	for (size_t i = 0; i < svc->nchecks; i++) {
		struct check_health *h = &svc->checks[i];
		if (same != NULL && same[i] && i < old->nchecks) {
			h->state = old->checks[i].state;
			h->count = old->checks[i].count;
			h->degraded = old->checks[i].degraded;
			h->dcount = old->checks[i].dcount;
		} else if (was_up) {
			h->state = HS_UP; /* `fall` failures of its own take it down */
		} else if (was_down) {
			h->state = HS_DOWN; /* `rise` successes of its own bring it up */
		}
	}
	service_update(svc);
}

void service_free(struct service *svc)
{
	if (svc == NULL)
		return;
	free(svc->checks);
	free(svc);
}

bool service_feed(struct service *svc, size_t i, bool ok)
{
	return service_feed_result(svc, i, ok ? HR_OK : HR_FAIL);
}

bool service_feed_result(struct service *svc, size_t i, enum health_result r)
{
	if (i >= svc->nchecks)
		return false;
	health_feed_result(&svc->checks[i], r);
	return service_update(svc);
}

bool service_set_disabled(struct service *svc, bool disabled)
{
	svc->disabled_file = disabled;
	return service_update(svc);
}

bool service_set_disabled_api(struct service *svc, bool disabled)
{
	svc->disabled_api = disabled;
	return service_update(svc);
}

bool service_set_address_missing(struct service *svc, bool missing)
{
	svc->no_address = missing;
	return service_update(svc);
}

const struct route_attrs *service_route(const struct service *svc)
{
	const struct service_cfg *cfg = svc->cfg;

	if (health_is_up(svc->state))
		return svc->degraded && !cfg->on_degraded.withdraw ? &cfg->on_degraded.attrs
		                                                   : &cfg->announce;
	/* Start down: until the service has once been up, nothing is announced, not even
	 * the backup route of on_down or on_disabled. */
	if (!svc->settled || svc->no_address)
		return NULL;
	if (svc->state == HS_DISABLED)
		return cfg->on_disabled.withdraw ? NULL : &cfg->on_disabled.attrs;
	return cfg->on_down.withdraw ? NULL : &cfg->on_down.attrs;
}
