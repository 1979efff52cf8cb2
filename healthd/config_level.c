/* The settings a check inherits: interval, fast_interval, timeout, rise, fall and source,
 * from defaults, then its service, then the check itself; the nearest wins, source per
 * address family. Errors about them name the level where the value was set. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cfgread.h"
#include "config_priv.h"
#include "../lib/duration.h"
#include "source_check.h"

#define LEVEL_MIN_INTERVAL_MS 10 /* below this a check is a busy loop, not a probe */
#define LEVEL_MAX_RISE_FALL   1000

static const char *const level_names[CL_NFIELDS] = {
        [CL_INTERVAL] = "interval", [CL_FAST_INTERVAL] = "fast_interval",
        [CL_TIMEOUT] = "timeout",   [CL_RISE] = "rise",
        [CL_FALL] = "fall",
};

static const char *const source_keys[] = {"ipv4", "ipv6", NULL};

void config_level_init(struct config_level *l)
{
	memset(l, 0, sizeof(*l));
	l->t.interval_ms = CONFIG_DEFAULT_INTERVAL_MS;
	l->t.fast_interval_ms = CONFIG_DEFAULT_FAST_INTERVAL_MS;
	l->t.timeout_ms = CONFIG_DEFAULT_TIMEOUT_MS;
	l->t.rise = CONFIG_DEFAULT_RISE;
	l->t.fall = CONFIG_DEFAULT_FALL;
}

static const uint32_t *level_field(const struct config_level *l, int field)
{
	switch (field) {
	case CL_INTERVAL:
		return &l->t.interval_ms;
	case CL_FAST_INTERVAL:
		return &l->t.fast_interval_ms;
	default:
		return &l->t.timeout_ms;
	}
}

static uint32_t *level_ms(struct config_level *l, int field)
{
	return (uint32_t *)level_field(l, field);
}

static void level_duration(struct config_loader *ld, const json_t *obj, int field, uint32_t min_ms,
                           const char *path, int depth, struct config_level *l)
{
	const char *key = level_names[field];
	uint32_t ms;
	if (cfg_duration(ld->e, obj, key, &ms) <= 0)
		return;
	if (ms < min_ms) {
		char buf[32];
		duration_format(min_ms, buf, sizeof(buf));
		if (min_ms == 1)
			cfgerr_add(ld->e, key, "must be greater than 0");
		else
			cfgerr_add(ld->e, key, "must be at least %s", buf);
		return;
	}
	*level_ms(l, field) = ms;
	l->from[field] = path;
	l->depth[field] = depth;
}

static void level_count(struct config_loader *ld, const json_t *obj, int field, const char *path,
                        int depth, struct config_level *l)
{
	long long n;
	if (cfg_int(ld->e, obj, level_names[field], 1, LEVEL_MAX_RISE_FALL, &n) <= 0)
		return;
	if (field == CL_RISE)
		l->t.rise = (int)n;
	else
		l->t.fall = (int)n;
	l->from[field] = path;
	l->depth[field] = depth;
}

/* One address of the source object; remembered for the check against the prefixes. */
static void level_source_addr(struct config_loader *ld, const json_t *src, const char *key,
                              int family, struct source_addr *out)
{
	const char *s;
	unsigned char buf[sizeof(struct in6_addr)];
	if (cfg_string(ld->e, src, key, false, &s) <= 0)
		return;
	const char *want = family == AF_INET ? "IPv4" : "IPv6";
	if (inet_pton(family, s, buf) != 1) {
		bool other = inet_pton(family == AF_INET ? AF_INET6 : AF_INET, s, buf) == 1;
		cfgerr_add(ld->e, key, "expected a numeric %s address%s", want,
		           other ? ", got an address of the other family" : "");
		return;
	}
	if (family == AF_INET) {
		memcpy(&out->v4, buf, sizeof(out->v4));
		out->has_v4 = true;
	} else {
		memcpy(&out->v6, buf, sizeof(out->v6));
		out->has_v6 = true;
	}

	struct config_source_use *v = realloc(ld->srcs, (ld->nsrcs + 1) * sizeof(*v));
	if (v == NULL)
		return;
	ld->srcs = v;
	struct config_source_use *u = &v[ld->nsrcs++];
	cfgerr_path(ld->e, key, u->path, sizeof(u->path));
	u->family = family;
	memcpy(&u->addr, buf, family == AF_INET ? sizeof(u->addr.v4) : sizeof(u->addr.v6));
}

void config_level_source(struct config_loader *ld, const json_t *obj, struct source_addr *src)
{
	const json_t *v = json_object_get(obj, "source");
	char saved[CFG_PATH_MAX];
	if (v == NULL)
		return;
	if (!json_is_object(v)) {
		cfgerr_add(ld->e, "source", "expected object with \"ipv4\" and/or \"ipv6\"");
		return;
	}
	cfgerr_push(ld->e, "source", saved);
	cfg_check_keys(ld->e, v, source_keys, NULL);
	level_source_addr(ld, v, "ipv4", AF_INET, src);
	level_source_addr(ld, v, "ipv6", AF_INET6, src);
	cfgerr_pop(ld->e, saved);
}

void config_level_read(struct config_loader *ld, const json_t *obj, const char *path, int depth,
                       struct config_level *l)
{
	level_duration(ld, obj, CL_INTERVAL, LEVEL_MIN_INTERVAL_MS, path, depth, l);
	level_duration(ld, obj, CL_FAST_INTERVAL, LEVEL_MIN_INTERVAL_MS, path, depth, l);
	level_duration(ld, obj, CL_TIMEOUT, 1, path, depth, l);
	level_count(ld, obj, CL_RISE, path, depth, l);
	level_count(ld, obj, CL_FALL, path, depth, l);
	config_level_source(ld, obj, &l->src);
}

/* The duration `small` must be shorter than `big` (or no longer, when equal_ok). The
 * error goes to the value set nearest the check: it is the one that broke the pair. */
static void level_order(struct config_loader *ld, const struct config_level *l, int small, int big,
                        bool equal_ok)
{
	uint32_t a = *level_field(l, small), b = *level_field(l, big);
	char as[32], bs[32];

	if (a < b || (equal_ok && a == b))
		return;
	duration_format(a, as, sizeof(as));
	duration_format(b, bs, sizeof(bs));
	if (l->from[small] != NULL && l->depth[small] >= l->depth[big])
		config_err_at(ld->e, l->from[small], level_names[small], "%s %s must be %s %s %s",
		              level_names[small], as, equal_ok ? "no longer than" : "shorter than",
		              level_names[big], bs);
	else if (l->from[big] != NULL)
		config_err_at(ld->e, l->from[big], level_names[big], "%s %s must be %s %s %s",
		              level_names[big], bs,
		              equal_ok ? "at least as long as" : "longer than", level_names[small],
		              as);
}

void config_level_validate(struct config_loader *ld, const struct config_level *l)
{
	/* The engine starts the next run when the previous one ends, so a timeout longer
	 * than the fast interval only makes fast runs back to back; a timeout as long as
	 * the interval would leave no gap at all between runs of a failing check. */
	level_order(ld, l, CL_TIMEOUT, CL_INTERVAL, false);
	/* The fast interval is for changing state faster, never slower. */
	level_order(ld, l, CL_FAST_INTERVAL, CL_INTERVAL, true);
}

/* A source the node does not have would fail every probe bound to it: refuse it now. */
static void level_source_local(struct config_loader *ld, const struct config_source_use *u)
{
	char addr[INET6_ADDRSTRLEN], why[128];
	int rc = source_check_addr(u->family, &u->addr, why, sizeof(why));

	if (rc == 1)
		return;
	inet_ntop(u->family, &u->addr, addr, sizeof(addr));
	if (rc < 0)
		config_err_at(
		        ld->e, u->path, NULL,
		        "cannot tell whether %s is configured locally: %s" CONFIG_SOURCE_CHECK_HINT,
		        addr, why);
	else
		config_err_at(
		        ld->e, u->path, NULL,
		        "%s is not configured on any local interface" CONFIG_SOURCE_CHECK_HINT,
		        addr);
}

void config_level_check_sources(struct config_loader *ld)
{
	const struct config *cfg = ld->cfg;
	for (size_t k = 0; k < ld->nsrcs; k++) {
		const struct config_source_use *u = &ld->srcs[k];
		for (size_t i = 0; i < cfg->nservices; i++) {
			const struct service_cfg *svc = &cfg->services[i];
			size_t j;
			for (j = 0; j < svc->nprefixes; j++)
				if (prefix_contains(&svc->prefixes[j], u->family, &u->addr))
					break;
			if (j == svc->nprefixes)
				continue;
			char addr[INET6_ADDRSTRLEN], pfx[PREFIX_STRLEN];
			inet_ntop(u->family, &u->addr, addr, sizeof(addr));
			prefix_format(&svc->prefixes[j], pfx, sizeof(pfx));
			config_err_at(
			        ld->e, u->path, NULL,
			        "%s lies inside announced prefix %s (services[%zu].prefixes[%zu]); "
			        "probes must leave from the node's unique address",
			        addr, pfx, i, j);
			break;
		}
		if (cfg->source_check)
			level_source_local(ld, u);
	}
}
