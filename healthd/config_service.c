/* One service of the config and its checks: names, prefixes, route attributes, and the
 * probes built through the registry, each with its resolved timing and source. */
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include "../lib/cfgread.h"
#include "config_priv.h"

static const char *const service_keys[] = {
        "name",          "prefixes",      "announce",      "on_down",
        "on_disabled",   "disable_file",  "neighbors",     "require",
        "interval",      "fast_interval", "timeout",       "rise",
        "fall",          "source",        "checks",        "require_local_address",
        "bird_protocol", "on_degraded",   "max_flaps",     "flap_window",
        "hold_down",     "on_last",       "guard_disable", NULL,
};

static void service_name(struct config_loader *ld, const json_t *obj, size_t index,
                         struct service_cfg *svc)
{
	const char *name;
	int rc = cfg_string(ld->e, obj, "name", false, &name);
	if (rc == 0)
		cfgerr_add(ld->e, "name", "required key is missing");
	if (rc <= 0)
		return;
	/* The name goes into logs, HEALTHD_SERVICE and file names: keep it a plain word. */
	bool plain = strlen(name) <= 64;
	for (const char *p = name; plain && *p != '\0'; p++)
		plain = isalnum((unsigned char)*p) || strchr("_.-", *p) != NULL;
	if (!plain) {
		cfgerr_add(ld->e, "name",
		           "invalid service name \"%s\": use up to 64 letters, digits, '_', '.' "
		           "and '-'",
		           name);
		return;
	}
	size_t fi, fk;
	if (config_index_add(ld->seen, CI_NAME, name, strlen(name), index, 0, &fi, &fk) > 0)
		cfgerr_add(ld->e, "name", "duplicate service name \"%s\" (first at services[%zu])",
		           name, fi);
	svc->name = strdup(name);
}

/* Whether p is already announced by an earlier service or earlier in this one; if not,
 * it is remembered as announced here. */
static bool service_prefix_seen(const struct config_loader *ld, size_t index, size_t j,
                                const struct prefix *p, char *where, size_t len)
{
	unsigned char key[2 + sizeof(p->addr.bytes)];
	size_t n = p->family == AF_INET ? 4 : 16, fi, fk;

	/* What prefix_equal compares. */
	key[0] = p->family == AF_INET ? 4 : 6;
	key[1] = p->len;
	memcpy(key + 2, p->addr.bytes, n);
	if (config_index_add(ld->seen, CI_PREFIX, key, 2 + n, index, j, &fi, &fk) <= 0)
		return false;
	snprintf(where, len, "services[%zu].prefixes[%zu]", fi, fk);
	return true;
}

static void service_prefixes(struct config_loader *ld, const json_t *obj, size_t index,
                             struct service_cfg *svc)
{
	const json_t *v = json_object_get(obj, "prefixes");
	if (v == NULL) {
		cfgerr_add(ld->e, "prefixes", "required key is missing");
		return;
	}
	if (!json_is_array(v) || json_array_size(v) == 0) {
		cfgerr_add(ld->e, "prefixes", "expected non-empty array of prefixes");
		return;
	}
	/* Every slot is kept (a bad one with family 0) so indexes in messages match the file. */
	svc->prefixes = calloc(json_array_size(v), sizeof(*svc->prefixes));
	if (svc->prefixes == NULL)
		return;
	for (size_t j = 0; j < json_array_size(v); j++) {
		const json_t *s = json_array_get(v, j);
		struct prefix *p = &svc->prefixes[svc->nprefixes++];
		char key[64], err[128], where[64], text[PREFIX_STRLEN];
		snprintf(key, sizeof(key), "prefixes[%zu]", j);
		if (!json_is_string(s)) {
			cfgerr_add(ld->e, key, "expected string");
			continue;
		}
		if (prefix_parse(json_string_value(s), p, err, sizeof(err)) != 0) {
			cfgerr_add(ld->e, key, "invalid prefix \"%s\": %s", json_string_value(s),
			           err);
			p->family = 0;
			continue;
		}
		if (service_prefix_seen(ld, index, j, p, where, sizeof(where))) {
			prefix_format(p, text, sizeof(text));
			cfgerr_add(ld->e, key, "duplicate prefix %s (already at %s)", text, where);
		}
	}
}

/* A degraded service still serves: it announces, with on_degraded's replacements. */
static void service_on_degraded(struct config_loader *ld, const json_t *obj,
                                struct service_cfg *svc)
{
	const json_t *v = json_object_get(obj, "on_degraded");

	if (json_is_string(v)) {
		cfgerr_add(ld->e, "on_degraded",
		           "expected an object of route attributes: a degraded service still "
		           "serves, so it is never withdrawn (use on_down)");
		return;
	}
	if (v == NULL) {
		svc->on_degraded.withdraw = false;
		if (route_attrs_copy(&svc->on_degraded.attrs, &svc->announce) != 0)
			cfgerr_add(ld->e, NULL, "out of memory");
		return;
	}
	route_attrs_action(ld->e, obj, "on_degraded", &svc->announce, &svc->on_degraded);
}

static void service_route_attrs(struct config_loader *ld, const json_t *obj,
                                struct service_cfg *svc)
{
	const json_t *v = json_object_get(obj, "announce");
	char saved[CFG_PATH_MAX];

	route_attrs_init(&svc->announce);
	if (v != NULL && !json_is_object(v)) {
		cfgerr_add(ld->e, "announce", "expected object of route attributes");
	} else if (v != NULL) {
		cfgerr_push(ld->e, "announce", saved);
		route_attrs_parse(ld->e, v, &svc->announce);
		cfgerr_pop(ld->e, saved);
	}
	if (svc->announce.next_hop == NULL)
		svc->announce.next_hop = strdup("self");
	route_attrs_action(ld->e, obj, "on_down", &svc->announce, &svc->on_down);
	route_attrs_action(ld->e, obj, "on_disabled", &svc->announce, &svc->on_disabled);
	service_on_degraded(ld, obj, svc);
	config_safety_service(ld, obj, svc);
}

/* Overlapping runs suit probes that only open a connection or send a query: an exec
 * script need not be re-entrant, and dns-serial/dns-axfr compare and transfer zones. */
static void check_overlap(struct config_loader *ld, const json_t *obj, const struct probe_ops *ops,
                          struct check_cfg *chk)
{
	bool suits = ops == &probe_tcp_ops || ops == &probe_http_ops || ops == &probe_dns_ops;
	bool on = suits;

	if (cfg_bool(ld->e, obj, "overlap", &on) > 0 && on && !suits)
		cfgerr_add(ld->e, "overlap",
		           "only tcp, http and dns checks can overlap their runs, not %s",
		           ops->name);
	chk->overlap = on && suits;
}

static void service_check(struct config_loader *ld, const json_t *obj, struct service_cfg *svc,
                          const struct config_level *inherited, struct check_cfg *chk)
{
	char path[CFG_PATH_MAX];
	const char *type;
	struct config_level lv = *inherited;

	cfgerr_path(ld->e, NULL, path, sizeof(path));
	chk->path = strdup(path);
	if (!json_is_object(obj)) {
		cfgerr_add(ld->e, NULL, "expected object");
		return;
	}

	const struct probe_ops *ops = NULL;
	int rc = cfg_string(ld->e, obj, "type", false, &type);
	if (rc == 0)
		cfgerr_add(ld->e, "type", "required key is missing (one of %s)", probe_types());
	if (rc > 0 && (ops = probe_ops_find(type)) == NULL)
		cfgerr_add(ld->e, "type", "unknown check type \"%s\" (valid types: %s)", type,
		           probe_types());
	/* Unknown keys are checked before the probe reads its own: a typo must be reported
	 * as such, not as the required key it was meant to be. */
	if (ops != NULL)
		cfg_check_keys(ld->e, obj, probe_common_keys, ops->keys);

	config_level_read(ld, obj, path, 3, &lv);
	config_level_validate(ld, &lv);
	chk->timing = lv.t;
	if (cfg_duration(ld->e, obj, "degraded_after", &chk->degraded_after_ms) > 0 &&
	    (chk->degraded_after_ms == 0 || chk->degraded_after_ms >= lv.t.timeout_ms))
		cfgerr_add(ld->e, "degraded_after",
		           "must be above 0 and below the check's timeout (%ums): a run that "
		           "slow fails",
		           lv.t.timeout_ms);
	if (ops == NULL)
		return;
	check_overlap(ld, obj, ops, chk);
	chk->ops = ops;
	chk->source = lv.src;
	/* Built once here to validate the type's own keys and to record the normalized
	 * form; the engine builds the probe it runs from spec. */
	struct probe *p = probe_new(ops, obj, ld->e);
	if (p == NULL)
		return;
	p->source = lv.src;
	json_t *normal = config_check_to_json(chk, p);
	probe_free(p);
	chk->spec = json_dumps(obj, CHECK_TEXT_FLAGS);
	chk->normal = normal != NULL ? json_dumps(normal, CHECK_TEXT_FLAGS) : NULL;
	json_decref(normal);
	if (chk->spec == NULL || chk->normal == NULL)
		cfgerr_add(ld->e, NULL, "out of memory");
}

json_t *check_cfg_normal(const struct check_cfg *chk)
{
	return chk->normal != NULL ? json_loads(chk->normal, 0, NULL) : NULL;
}

struct probe *check_cfg_probe(const struct check_cfg *chk, const char *svc_name,
                              struct config_error *err)
{
	json_t *spec = chk->spec != NULL ? json_loads(chk->spec, 0, NULL) : NULL;
	if (spec == NULL) {
		cfgerr_add(err, NULL, "out of memory");
		return NULL;
	}
	struct probe *p = probe_new(chk->ops, spec, err);
	json_decref(spec);
	if (p == NULL)
		return NULL;
	p->timeout_ms = chk->timing.timeout_ms;
	p->source = chk->source;
	p->service = strdup(svc_name);
	if (p->service == NULL) {
		probe_free(p);
		cfgerr_add(err, NULL, "out of memory");
		return NULL;
	}
	return p;
}

static void service_checks(struct config_loader *ld, const json_t *obj, struct service_cfg *svc,
                           const struct config_level *lv)
{
	const json_t *v = json_object_get(obj, "checks");
	char saved[CFG_PATH_MAX];

	if (v == NULL) {
		cfgerr_add(ld->e, "checks", "required key is missing");
		return;
	}
	if (!json_is_array(v) || json_array_size(v) == 0) {
		cfgerr_add(ld->e, "checks", "expected non-empty array of checks");
		return;
	}
	svc->checks = calloc(json_array_size(v), sizeof(*svc->checks));
	if (svc->checks == NULL)
		return;
	cfgerr_push(ld->e, "checks", saved);
	for (size_t j = 0; j < json_array_size(v); j++) {
		char in_checks[CFG_PATH_MAX];
		cfgerr_push_index(ld->e, j, in_checks);
		service_check(ld, json_array_get(v, j), svc, lv, &svc->checks[svc->nchecks++]);
		cfgerr_pop(ld->e, in_checks);
	}
	cfgerr_pop(ld->e, saved);
}

void config_service_parse(struct config_loader *ld, const json_t *obj, size_t index,
                          const struct config_level *defaults, struct service_cfg *svc)
{
	char path[CFG_PATH_MAX];
	const char *file;

	svc->require = 0;
	route_attrs_init(&svc->announce);
	svc->on_down.withdraw = svc->on_disabled.withdraw = true;
	if (!json_is_object(obj)) {
		cfgerr_add(ld->e, NULL, "expected object");
		return;
	}
	cfg_check_keys(ld->e, obj, service_keys, NULL);
	service_name(ld, obj, index, svc);
	service_prefixes(ld, obj, index, svc);
	service_route_attrs(ld, obj, svc);

	if (cfg_string(ld->e, obj, "disable_file", false, &file) > 0) {
		if (file[0] != '/')
			cfgerr_add(ld->e, "disable_file",
			           "expected an absolute path: healthd runs in the speaker's "
			           "working directory");
		else
			svc->disable_file = strdup(file);
	}
	cfg_bool(ld->e, obj, "require_local_address", &svc->require_local_address);
	config_bird_service(ld, obj, index, svc);
	if (config_neighbors(ld->e, obj, "neighbors", &svc->neighbors) == 0 &&
	    ld->cfg->speaker.neighbors != NULL) {
		size_t n = 0;
		while (ld->cfg->speaker.neighbors[n] != NULL)
			n++;
		svc->neighbors = calloc(n + 1, sizeof(*svc->neighbors));
		for (size_t i = 0; svc->neighbors != NULL && i < n; i++)
			svc->neighbors[i] = strdup(ld->cfg->speaker.neighbors[i]);
	}

	struct config_level lv = *defaults;
	cfgerr_path(ld->e, NULL, path, sizeof(path));
	config_level_read(ld, obj, path, 2, &lv);
	svc->timing = lv.t;
	svc->source = lv.src;
	service_checks(ld, obj, svc, &lv);

	/* Bounded by the checks as written, so a bad check does not also fail "require". */
	const json_t *checks = json_object_get(obj, "checks");
	long long max = json_is_array(checks) && json_array_size(checks) > 0
	                        ? (long long)json_array_size(checks)
	                        : 1;
	long long require = max;
	cfg_int(ld->e, obj, "require", 1, max, &require);
	svc->require = (int)require;
}

void config_service_free(struct service_cfg *svc)
{
	free(svc->name);
	free(svc->prefixes);
	route_attrs_free(&svc->announce);
	route_attrs_free(&svc->on_down.attrs);
	route_attrs_free(&svc->on_disabled.attrs);
	route_attrs_free(&svc->on_degraded.attrs);
	config_safety_service_free(svc);
	free(svc->disable_file);
	cfg_strv_free(svc->neighbors);
	free(svc->bird_protocol);
	for (size_t i = 0; i < svc->nchecks; i++) {
		free(svc->checks[i].path);
		free(svc->checks[i].spec);
		free(svc->checks[i].normal);
	}
	free(svc->checks);
	memset(svc, 0, sizeof(*svc));
}
