/* What the metrics and /status read about the run: each check's results (counts by reason,
 * latency histogram), each service's transitions and since when it is in its state. Fed by
 * engine.c as results and changes happen; never read by the engine's own decisions. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../lib/log.h"
#include "../lib/monotime.h"
#include "engine_priv.h"

const double engine_latency_bounds[ENGINE_LATENCY_BUCKETS] = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
        0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10,
};

void engine_stats_result(struct engine_check *ec, const struct probe_result *r)
{
	struct engine_check_stats *st = &ec->stats;
	double s = r->latency_us / 1e6;

	st->runs++;
	if (r->reason == PR_TIMEOUT)
		st->timeouts++;
	if (!probe_result_healthy(ec->probe, r) && (unsigned)r->reason < PR_COUNT) {
		st->failures[r->reason]++;
		st->has_failure = true;
		st->last_failure = r->reason;
	}
	for (size_t i = 0; i < ENGINE_LATENCY_BUCKETS; i++)
		if (s <= engine_latency_bounds[i]) {
			st->buckets[i]++;
			break;
		}
	st->latency_sum += s;
	clock_gettime(CLOCK_REALTIME, &st->at);
}

/* Early runs count as on time: libevent may fire a timer up to its clock's resolution
 * before the deadline this computes. Lateness of one interval or more means the run's
 * slot passed without a run: those whole intervals count as missed. */
void engine_stats_fire(struct engine_check *ec)
{
	struct engine_schedule_stats *st = &ec->es->eng->schedule;
	struct timeval now, d;
	double s = 0;

	mono_now(&now);
	if (timercmp(&now, &ec->due, >)) {
		timersub(&now, &ec->due, &d);
		s = (double)d.tv_sec + d.tv_usec / 1e6;
	}
	st->runs++;
	st->sum += s;
	for (size_t i = 0; i < ENGINE_LATENCY_BUCKETS; i++)
		if (s <= engine_latency_bounds[i]) {
			st->buckets[i]++;
			break;
		}
	if (ec->every_ms > 0)
		st->missed += (uint64_t)(s * 1000) / ec->every_ms;
}

void engine_stats_init(struct engine_service *es)
{
	mono_now(&es->stats.since);
	clock_gettime(CLOCK_REALTIME, &es->stats.since_at);
	snprintf(es->stats.why, sizeof(es->stats.why), "started");
}

void engine_stats_state(struct engine_service *es, enum health_state old, const char *fmt, ...)
{
	struct engine_service_stats *st = &es->stats;
	enum health_state cur = es->svc->state;
	va_list ap;

	if ((unsigned)old < ENGINE_NSTATES && (unsigned)cur < ENGINE_NSTATES)
		st->transitions[old][cur]++;
	mono_now(&st->since);
	clock_gettime(CLOCK_REALTIME, &st->since_at);
	va_start(ap, fmt);
	vsnprintf(st->why, sizeof(st->why), fmt, ap);
	va_end(ap);
}

struct engine_service *engine_service_find(struct engine *eng, const char *name)
{
	for (size_t i = 0; i < eng->nservices; i++)
		if (strcmp(eng->services[i]->cfg->name, name) == 0)
			return eng->services[i];
	return NULL;
}

bool engine_service_disable_api(struct engine_service *es, bool disabled, const char *why)
{
	enum health_state old = es->svc->state;
	if (!service_set_disabled_api(es->svc, disabled))
		return false;
	log_info("service %s: %s -> %s (%s)", es->cfg->name, health_state_name(old),
	         health_state_name(es->svc->state), why);
	engine_stats_state(es, old, "%s", why);
	engine_publish(es);
	return true;
}
