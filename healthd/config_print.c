/* The normalized config that "healthd check" prints: every default filled in, every check
 * with the timing and source it will really use, durations and addresses in one canonical
 * spelling. Reading it back gives the same config and prints the same text. */
#include <arpa/inet.h>
#include <stdio.h>

#include "config_priv.h"
#include "../lib/duration.h"

json_t *config_duration_json(uint32_t ms)
{
	char buf[32];
	duration_format(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *cj_strv(char **v)
{
	json_t *a = json_array();
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *cj_source(const struct source_addr *src)
{
	char buf[INET6_ADDRSTRLEN];
	json_t *o = json_object();
	if (src->has_v4 && inet_ntop(AF_INET, &src->v4, buf, sizeof(buf)) != NULL)
		json_object_set_new(o, "ipv4", json_string(buf));
	if (src->has_v6 && inet_ntop(AF_INET6, &src->v6, buf, sizeof(buf)) != NULL)
		json_object_set_new(o, "ipv6", json_string(buf));
	return o;
}

static void cj_timing(json_t *o, const struct timing *t)
{
	json_object_set_new(o, "interval", config_duration_json(t->interval_ms));
	json_object_set_new(o, "fast_interval", config_duration_json(t->fast_interval_ms));
	json_object_set_new(o, "timeout", config_duration_json(t->timeout_ms));
	json_object_set_new(o, "rise", json_integer(t->rise));
	json_object_set_new(o, "fall", json_integer(t->fall));
}

json_t *config_check_to_json(const struct check_cfg *chk, const struct probe *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string(p->ops->name));
	if (p->ops->to_json != NULL) {
		json_t *own = p->ops->to_json(p);
		if (own != NULL) {
			const char *key;
			json_t *v;
			json_object_foreach(own, key, v)
			{
				json_object_set(o, key, v);
			}
			json_decref(own);
		}
	}
	cj_timing(o, &chk->timing);
	if (chk->degraded_after_ms > 0)
		json_object_set_new(o, "degraded_after",
		                    config_duration_json(chk->degraded_after_ms));
	/* Written only when turned off: on is the default of the types that can overlap. */
	if (!chk->overlap &&
	    (p->ops == &probe_tcp_ops || p->ops == &probe_http_ops || p->ops == &probe_dns_ops))
		json_object_set_new(o, "overlap", json_false());
	/* Written only when set: no source means the kernel picks one. */
	if (p->source.has_v4 || p->source.has_v6)
		json_object_set_new(o, "source", cj_source(&p->source));
	return o;
}

json_t *config_service_head_json(const struct service_cfg *svc)
{
	json_t *o = json_object();
	char buf[PREFIX_STRLEN];

	json_object_set_new(o, "name", json_string(svc->name));
	json_t *prefixes = json_array();
	for (size_t i = 0; i < svc->nprefixes; i++) {
		prefix_format(&svc->prefixes[i], buf, sizeof(buf));
		json_array_append_new(prefixes, json_string(buf));
	}
	json_object_set_new(o, "prefixes", prefixes);
	json_object_set_new(o, "announce", route_attrs_to_json(&svc->announce));
	json_object_set_new(o, "on_down", route_attrs_action_to_json(&svc->on_down));
	json_object_set_new(o, "on_disabled", route_attrs_action_to_json(&svc->on_disabled));
	json_object_set_new(o, "on_degraded", route_attrs_action_to_json(&svc->on_degraded));
	config_safety_service_to_json(o, svc);
	if (svc->disable_file != NULL)
		json_object_set_new(o, "disable_file", json_string(svc->disable_file));
	json_object_set_new(o, "neighbors", cj_strv(svc->neighbors));
	if (svc->bird_protocol != NULL)
		json_object_set_new(o, "bird_protocol", json_string(svc->bird_protocol));
	json_object_set_new(o, "require", json_integer(svc->require));
	json_object_set_new(o, "require_local_address", json_boolean(svc->require_local_address));
	return o;
}

json_t *config_service_to_json(const struct service_cfg *svc)
{
	json_t *o = config_service_head_json(svc);
	json_t *checks = json_array();
	for (size_t i = 0; i < svc->nchecks; i++)
		json_array_append_new(checks, check_cfg_normal(&svc->checks[i]));
	json_object_set_new(o, "checks", checks);
	return o;
}

json_t *config_speaker_to_json(const struct config *cfg)
{
	json_t *sp = json_object();
	bool exabgp = cfg->speaker.type == SPEAKER_EXABGP;
	json_object_set_new(sp, "type", json_string(config_speaker_type_name(cfg->speaker.type)));
	if (exabgp)
		json_object_set_new(sp, "neighbors", cj_strv(cfg->speaker.neighbors));
	else if (cfg->speaker.type == SPEAKER_FRR)
		config_frr_to_json(sp, &cfg->speaker);
	else
		config_bird_to_json(sp, &cfg->speaker);
	json_object_set_new(sp, "reannounce", config_duration_json(cfg->speaker.reannounce_ms));
	if (exabgp)
		json_object_set_new(sp, "ack_timeout",
		                    config_duration_json(cfg->speaker.ack_timeout_ms));
	json_object_set_new(sp, "withdraw_on_start", json_boolean(cfg->speaker.withdraw_on_start));
	return sp;
}

json_t *config_head_json(const struct config *cfg)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;

	json_object_set_new(o, "source", cj_source(&cfg->source));
	json_object_set_new(o, "source_check", json_boolean(cfg->source_check));
	config_process_to_json(o, &cfg->process);

	json_object_set_new(o, "speaker", config_speaker_to_json(cfg));

	json_t *log = json_object();
	json_object_set_new(log, "syslog", json_boolean(cfg->log.syslog));
	json_object_set_new(log, "facility",
	                    json_string(config_log_facility_name(cfg->log.facility)));
	json_object_set_new(log, "level", json_string(config_log_level_name(cfg->log.level)));
	json_object_set_new(o, "log", log);
	if (cfg->fleet.peers != NULL)
		json_object_set_new(o, "fleet", config_fleet_to_json(&cfg->fleet));

	json_t *control = control_cfg_to_json(&cfg->control);
	if (control != NULL)
		json_object_set_new(o, "control", control);

	json_t *defaults = json_object();
	cj_timing(defaults, &cfg->defaults);
	json_object_set_new(o, "defaults", defaults);
	return o;
}

json_t *config_to_json(const struct config *cfg)
{
	json_t *o = config_head_json(cfg);
	if (o == NULL)
		return NULL;
	json_t *services = json_array();
	for (size_t i = 0; i < cfg->nservices; i++)
		json_array_append_new(services, config_service_to_json(&cfg->services[i]));
	json_object_set_new(o, "services", services);
	return o;
}
