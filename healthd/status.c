/* The status JSON: what a person (through `healthd status`) or a program reads to know
 * what healthd decided and why. Built from the engine's run state on each request. */
#include <stdio.h>
#include <string.h>

#include "../lib/monotime.h"
#include "control.h"
#include "engine_priv.h"
#include "status.h"

void status_time(const struct timespec *t, char *buf, size_t len)
{
	struct tm tm;
	if (t->tv_sec == 0 || gmtime_r(&t->tv_sec, &tm) == NULL) {
		snprintf(buf, len, "%s", "");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int status_time_parse(const char *s, struct timespec *t)
{
	struct tm tm = {0};
	const char *end = s != NULL ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	if (end == NULL || *end != '\0')
		return -1;
	t->tv_sec = timegm(&tm);
	t->tv_nsec = 0;
	return 0;
}

static json_t *status_time_json(const struct timespec *t)
{
	char buf[40];
	status_time(t, buf, sizeof(buf));
	return buf[0] ? json_string(buf) : json_null();
}

const char *status_action(const struct engine_service *es)
{
	return engine_safety_action(es); /* after damping and the fleet guard */
}

static json_t *status_check(const struct engine_check *ec)
{
	const struct probe *p = ec->probe;
	const struct probe_result *r = &p->last;
	json_t *o = json_object();
	json_object_set_new(o, "check", json_integer((json_int_t)ec->index));
	json_object_set_new(o, "path", json_string(ec->cfg->path));
	json_object_set_new(o, "type", json_string(p->ops->name));
	json_object_set_new(o, "label", json_string(p->label));
	json_object_set_new(o, "state",
	                    json_string(health_state_name(ec->es->svc->checks[ec->index].state)));
	if (ec->stats.runs == 0) {
		json_object_set_new(o, "status", json_null()); /* no result yet */
		return o;
	}
	const struct probe_reason_info *ri = probe_reason_info(r->reason);
	json_object_set_new(o, "status", json_string(probe_status_name(r->status)));
	json_object_set_new(o, "reason", json_string(ri->code));
	json_object_set_new(o, "detail", json_string(r->detail[0] ? r->detail : ri->text));
	json_object_set_new(o, "latency_ms", json_real(r->latency_us / 1000.0));
	json_object_set_new(o, "at", status_time_json(&ec->stats.at));
	return o;
}

json_t *status_service(struct engine *eng, struct engine_service *es)
{
	const struct service *svc = es->svc;
	struct timeval now, d;
	json_t *o = json_object();

	mono_now(&now);
	timersub(&now, &es->stats.since, &d);
	json_object_set_new(o, "name", json_string(es->cfg->name));
	/* LAST (held by the fleet guard) and DAMPED are states to a reader, above health's. */
	json_object_set_new(o, "state", json_string(engine_safety_state(es)));
	json_object_set_new(o, "since", status_time_json(&es->stats.since_at));
	json_object_set_new(o, "since_seconds", json_integer(d.tv_sec < 0 ? 0 : d.tv_sec));
	json_object_set_new(o, "reason", json_string(es->stats.why));
	json_object_set_new(o, "action", json_string(status_action(es)));
	/* Peers' fleet guards do not count on a node whose next failing step withdraws. */
	json_object_set_new(o, "falling", json_boolean(engine_safety_falling(es)));
	if (es->cfg->damping.max_flaps > 0)
		json_object_set_new(o, "damping",
		                    json_pack("{s:b, s:f}", "held",
		                              engine_safety_hold_left_ms(es) > 0, "left_seconds",
		                              engine_safety_hold_left_ms(es) / 1000.0));
	json_t *guard = engine_safety_status(es);
	if (guard != NULL)
		json_object_set_new(o, "guard", guard);
	json_object_set_new(
	        o, "announced",
	        json_boolean(eng->sp != NULL && speaker_announced(eng->sp, es->cfg->name)));
	json_t *dis = json_object();
	json_object_set_new(dis, "file", json_boolean(svc->disabled_file));
	const struct control_disable *cd = control_disabled(eng->ctl, es->cfg->name);
	if (cd != NULL && svc->disabled_api)
		json_object_set_new(dis, "api",
		                    json_pack("{s:s, s:s, s:o}", "reason", cd->reason, "by", cd->by,
		                              "at", status_time_json(&cd->at)));
	else
		json_object_set_new(dis, "api", json_null());
	json_object_set_new(o, "disabled", dis);
	json_t *checks = json_array();
	for (size_t j = 0; j < es->nchecks; j++)
		json_array_append_new(checks, status_check(&es->checks[j]));
	json_object_set_new(o, "checks", checks);
	return o;
}

json_t *status_all(struct engine *eng)
{
	json_t *o = json_object(), *reload = json_object(), *errs = json_array();

	json_object_set_new(o, "config_file", json_string(eng->opts.config_file));
	json_object_set_new(o, "config_valid",
	                    json_boolean(eng->cfg != NULL && !eng->hold && eng->nerrors == 0));
	json_object_set_new(o, "loaded_at", status_time_json(&eng->loaded_at));
	json_object_set_new(o, "started_at", status_time_json(&eng->started_at));
	json_object_set_new(reload, "at", status_time_json(&eng->reload_at));
	json_object_set_new(reload, "result",
	                    eng->reload_at.tv_sec == 0
	                            ? json_null()
	                            : json_string(eng->reload_ok ? "ok" : "failed"));
	for (size_t i = 0; i < eng->nerrors; i++)
		json_array_append_new(errs, json_string(eng->errors[i]));
	json_object_set_new(reload, "errors", errs);
	json_object_set_new(o, "last_reload", reload);
	json_t *fleet = engine_fleet_status(eng);
	if (fleet != NULL)
		json_object_set_new(o, "fleet", fleet);
	json_t *svcs = json_array();
	for (size_t i = 0; i < eng->nservices; i++)
		json_array_append_new(svcs, status_service(eng, eng->services[i]));
	json_object_set_new(o, "services", svcs);
	return o;
}
