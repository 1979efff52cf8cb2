/* The health state machine of one service: pure, no I/O.
 *
 * Every check has its own rise/fall machine; the service is up while at least `require`
 * of its checks are up. The service starts in INIT and never announces before a check
 * has risen; a disable file (or the control interface) forces DISABLED. */
#ifndef HEALTHD_SERVICE_H
#define HEALTHD_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum health_state {
	HS_INIT,
	HS_RISING,
	HS_UP,
	HS_FALLING,
	HS_DOWN,
	HS_DISABLED,
	HS_DEGRADED, /* up, but too few of its checks pass undegraded: on_degraded applies.
	              * The last: ENGINE_NSTATES counts on it. */
};

/* One check result as the state machine sees it. */
enum health_result {
	HR_FAIL,
	HR_OK,
	HR_DEGRADED, /* passed, but slow (degraded_after) or a warning graded so */
};

struct check_health {
	enum health_state state;
	int count; /* consecutive results toward rise (RISING) or fall (FALLING) */
	int rise, fall;
	/* Degradation is counted like health: `fall` degraded passes in a row make the
	 * check degraded, `rise` clean passes make it clean again; a failure resets both. */
	bool degraded;
	int dcount; /* consecutive passes toward changing `degraded` */
};

struct service {
	const struct service_cfg *cfg;
	enum health_state state; /* derived from the checks and `disabled` */
	bool disabled;           /* derived: disabled_file || disabled_api */
	bool disabled_file;      /* the disable file is present */
	bool disabled_api;       /* the control endpoint's POST /services/NAME/disable */
	bool no_address;         /* require_local_address and a prefix is not on any interface */
	bool settled;  /* has been UP: from then on on_down/on_disabled apply when not up */
	bool degraded; /* up with too few clean checks: announce with on_degraded */
	size_t nchecks;
	struct check_health *checks;
};

void health_init(struct check_health *h, int rise, int fall);
/* Feed one result; returns true when the check's state changed. */
bool health_feed(struct check_health *h, bool ok);
/* Feed one graded result; returns true when the state or `degraded` changed. */
bool health_feed_result(struct check_health *h, enum health_result r);
bool health_is_up(enum health_state s);   /* UP, DEGRADED or FALLING */
bool health_is_fast(enum health_state s); /* RISING or FALLING: use the fast interval */

struct service *service_new(const struct service_cfg *cfg);
void service_free(struct service *svc);
/* A reload changed the service: svc (new, from service_new) takes over old's standing, so
 * that the route stays as it is until the new checks decide. A check whose same[i] is
 * true (same normalized form at the same index) keeps its counts; another starts where
 * the service stood: UP (it takes `fall` failures to go down), DOWN (`rise` successes to
 * go up), or INIT when the service never settled. same may be NULL (none the same). */
void service_adopt(struct service *svc, const struct service *old, const bool *same);
/* Feed a result of check i; returns true when the service's state changed. */
bool service_feed(struct service *svc, size_t i, bool ok);
/* Feed a graded result of check i; returns true when the service's state or the
 * attributes it announces with changed. */
bool service_feed_result(struct service *svc, size_t i, enum health_result r);
/* The disable file's word; returns true when the service's state changed. */
bool service_set_disabled(struct service *svc, bool disabled);
/* The control endpoint's word; the service is enabled only when neither holds. Returns
 * true when the service's state changed. */
bool service_set_disabled_api(struct service *svc, bool disabled);
/* Returns true when the service's state changed. A missing address forces DOWN and a
 * withdrawal, whatever on_down says: announcing it would draw traffic to nothing. */
bool service_set_address_missing(struct service *svc, bool missing);
/* What the service's prefixes should be now: NULL = not announced (withdrawn), else the
 * attributes to announce them with. Nothing is announced before the service has once
 * been UP. */
const struct route_attrs *service_route(const struct service *svc);
const char *health_state_name(enum health_state s); /* "INIT", "RISING", ... */

#endif
