/* The routing safety keys: a service's flap damping (max_flaps, flap_window, hold_down),
 * its fleet guard settings (on_last, guard_disable), and the top-level "fleet". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cfgread.h"
#include "../lib/duration.h"
#include "config_priv.h"

#define SAFETY_DEFAULT_FLAP_WINDOW_MS 60000
#define SAFETY_DEFAULT_HOLD_DOWN_MS   300000
#define FLEET_DEFAULT_POLL_MS         500
#define FLEET_DEFAULT_STALE_MS        3000
#define FLEET_MIN_POLL_MS             100
#define FLEET_MAX_PEERS               64

static const char *const fleet_keys[] = {
        "peers", "min_others", "poll", "stale_after", "token_file", NULL,
};

static json_t *safety_duration(uint32_t ms)
{
	char buf[32];
	duration_format(ms, buf, sizeof(buf));
	return json_string(buf);
}

static void safety_damping(struct config_loader *ld, const json_t *obj, struct service_cfg *svc)
{
	struct damping_cfg *d = &svc->damping;
	long long max = 0;

	d->window_ms = SAFETY_DEFAULT_FLAP_WINDOW_MS;
	d->hold_ms = SAFETY_DEFAULT_HOLD_DOWN_MS;
	/* 2 at least: a route that came up must always be free to go down again. */
	int rc = cfg_int(ld->e, obj, "max_flaps", 2, DAMPING_MAX_FLAPS, &max);
	int w = cfg_duration(ld->e, obj, "flap_window", &d->window_ms);
	int h = cfg_duration(ld->e, obj, "hold_down", &d->hold_ms);
	d->max_flaps = (int)max;
	if (rc == 0 && (w > 0 || h > 0))
		cfgerr_add(ld->e, w > 0 ? "flap_window" : "hold_down",
		           "needs \"max_flaps\": damping is off without it");
	if (rc > 0 && w >= 0 && d->window_ms < 1000)
		cfgerr_add(ld->e, "flap_window", "must be 1s or more");
	if (rc > 0 && h >= 0 && d->hold_ms < 1000)
		cfgerr_add(ld->e, "hold_down", "must be 1s or more");
}

void config_safety_service(struct config_loader *ld, const json_t *obj, struct service_cfg *svc)
{
	safety_damping(ld, obj, svc);
	cfg_bool(ld->e, obj, "guard_disable", &svc->guard_disable);
	if (json_object_get(obj, "on_last") != NULL) {
		route_attrs_action(ld->e, obj, "on_last", &svc->announce, &svc->on_last);
		return;
	}
	svc->on_last.withdraw = false;
	if (route_attrs_copy(&svc->on_last.attrs, &svc->announce) != 0)
		cfgerr_add(ld->e, NULL, "out of memory");
}

void config_safety_service_to_json(json_t *o, const struct service_cfg *svc)
{
	if (svc->damping.max_flaps > 0) {
		json_object_set_new(o, "max_flaps", json_integer(svc->damping.max_flaps));
		json_object_set_new(o, "flap_window", safety_duration(svc->damping.window_ms));
		json_object_set_new(o, "hold_down", safety_duration(svc->damping.hold_ms));
	}
	json_object_set_new(o, "on_last", route_attrs_action_to_json(&svc->on_last));
	json_object_set_new(o, "guard_disable", json_boolean(svc->guard_disable));
}

void config_safety_service_free(struct service_cfg *svc)
{
	route_attrs_free(&svc->on_last.attrs);
}

/* "ADDR:PORT" with a numeric IPv4 address, or "[ADDR]:PORT" with an IPv6 one. */
static int fleet_peer_parse(const char *s, struct fleet_peer_cfg *p)
{
	char host[64];
	const char *colon, *h = s;
	size_t hlen;
	unsigned long long port;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		h = s + 1;
		hlen = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || strchr(s, ':') != colon)
			return -1;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host) ||
	    cfg_decimal(colon + 1, strlen(colon + 1), 65535, &port) != 0 || port == 0)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (net_addr_parse(host, (unsigned)port, &p->addr, &p->addrlen) != 0)
		return -1;
	p->name = strdup(s);
	return p->name != NULL ? 0 : -1;
}

static void fleet_peers(struct config_loader *ld, const json_t *obj, struct fleet_cfg *f)
{
	const json_t *v = json_object_get(obj, "peers");

	if (v == NULL) {
		cfgerr_add(ld->e, "peers", "required key is missing");
		return;
	}
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > FLEET_MAX_PEERS) {
		cfgerr_add(ld->e, "peers", "expected array of 1-%d \"ADDRESS:PORT\" strings",
		           FLEET_MAX_PEERS);
		return;
	}
	f->peers = calloc(json_array_size(v), sizeof(*f->peers));
	if (f->peers == NULL)
		return;
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *s = json_array_get(v, i);
		char key[32];
		snprintf(key, sizeof(key), "peers[%zu]", i);
		if (!json_is_string(s) ||
		    fleet_peer_parse(json_string_value(s), &f->peers[f->npeers]) != 0) {
			cfgerr_add(ld->e, key,
			           "expected \"ADDRESS:PORT\" with a numeric address "
			           "(\"[ADDRESS]:PORT\" "
			           "for IPv6): a peer's unique address, never an anycast one");
			continue;
		}
		for (size_t k = 0; k < f->npeers; k++)
			if (strcmp(f->peers[k].name, f->peers[f->npeers].name) == 0)
				cfgerr_add(ld->e, key, "duplicate peer \"%s\"", f->peers[k].name);
		f->npeers++;
	}
}

void config_fleet(struct config_loader *ld, const json_t *top)
{
	const json_t *obj = json_object_get(top, "fleet");
	struct fleet_cfg *f = &ld->cfg->fleet;
	char saved[CFG_PATH_MAX];
	const char *token;
	long long min_others = 1;

	if (obj == NULL)
		return;
	if (!json_is_object(obj)) {
		cfgerr_add(ld->e, "fleet", "expected object");
		return;
	}
	cfgerr_push(ld->e, "fleet", saved);
	cfg_check_keys(ld->e, obj, fleet_keys, NULL);
	fleet_peers(ld, obj, f);
	f->poll_ms = FLEET_DEFAULT_POLL_MS;
	f->stale_after_ms = FLEET_DEFAULT_STALE_MS;
	if (cfg_int(ld->e, obj, "min_others", 1, FLEET_MAX_PEERS, &min_others) > 0 &&
	    f->npeers > 0 && (size_t)min_others > f->npeers)
		cfgerr_add(ld->e, "min_others",
		           "%lld is more than the %zu peers: every withdrawal would be held",
		           min_others, f->npeers);
	f->min_others = (int)min_others;
	if (cfg_duration(ld->e, obj, "poll", &f->poll_ms) > 0 && f->poll_ms < FLEET_MIN_POLL_MS)
		cfgerr_add(ld->e, "poll", "must be %ums or more", FLEET_MIN_POLL_MS);
	if (cfg_duration(ld->e, obj, "stale_after", &f->stale_after_ms) >= 0 &&
	    f->stale_after_ms <= f->poll_ms)
		cfgerr_add(ld->e, "stale_after", "must be longer than poll (%ums)", f->poll_ms);
	/* The guard is mutual: peers read this node's status where it serves it. */
	bool tcp = false;
	for (size_t i = 0; i < ld->cfg->control.nlisten; i++) {
		struct control_addr a;
		if (control_addr_parse(ld->cfg->control.listen[i], &a) == 0 && !a.is_unix)
			tcp = true;
	}
	if (!tcp)
		cfgerr_add(ld->e, NULL,
		           "needs a \"control\" section listening on this node's unique address "
		           "(\"ADDRESS:PORT\"): the peers read this node's status there");
	if (cfg_string(ld->e, obj, "token_file", false, &token) > 0) {
		if (token[0] != '/')
			cfgerr_add(ld->e, "token_file", "expected an absolute path");
		else
			f->token_file = strdup(token);
	}
	cfgerr_pop(ld->e, saved);
}

json_t *config_fleet_to_json(const struct fleet_cfg *f)
{
	json_t *o = json_object();
	json_t *peers = json_array();
	for (size_t i = 0; i < f->npeers; i++)
		json_array_append_new(peers, json_string(f->peers[i].name));
	json_object_set_new(o, "peers", peers);
	json_object_set_new(o, "min_others", json_integer(f->min_others));
	json_object_set_new(o, "poll", safety_duration(f->poll_ms));
	json_object_set_new(o, "stale_after", safety_duration(f->stale_after_ms));
	if (f->token_file != NULL)
		json_object_set_new(o, "token_file", json_string(f->token_file));
	return o;
}

json_t *config_fleet_json(const struct config *cfg)
{
	return cfg->fleet.peers != NULL ? config_fleet_to_json(&cfg->fleet) : NULL;
}

void config_fleet_free(struct fleet_cfg *f)
{
	for (size_t i = 0; i < f->npeers; i++)
		free(f->peers[i].name);
	free(f->peers);
	free(f->token_file);
	memset(f, 0, sizeof(*f));
}
