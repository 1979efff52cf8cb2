/* Route attributes of a service: "announce", and the replacements "on_down" and
 * "on_disabled" make to it. Values are checked the way ExaBGP will parse them, and kept in
 * one normalized spelling so that an unchanged config prints unchanged. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cfgread.h"
#include "config_priv.h"

static const char *const attr_keys[] = {
        "next_hop",
        "med",
        "local_preference",
        "communities",
        "large_communities",
        "extended_communities",
        "as_path",
        "path_information",
        NULL,
};

/* Well-known communities by the names ExaBGP accepts. */
static const char *const community_names[] = {
        "no-export", "no-advertise", "no-export-subconfed", "no-peer", "blackhole", NULL,
};

void route_attrs_init(struct route_attrs *a)
{
	memset(a, 0, sizeof(*a));
	a->med = -1;
	a->local_preference = -1;
}

void route_attrs_free(struct route_attrs *a)
{
	free(a->next_hop);
	cfg_strv_free(a->communities);
	cfg_strv_free(a->large_communities);
	cfg_strv_free(a->extended_communities);
	free(a->as_path);
	free(a->path_information);
	route_attrs_init(a);
}

static char **attrs_strv_dup(char **v)
{
	size_t n = 0;
	if (v == NULL)
		return NULL;
	while (v[n] != NULL)
		n++;
	char **copy = calloc(n + 1, sizeof(*copy));
	for (size_t i = 0; copy != NULL && i < n; i++) {
		if ((copy[i] = strdup(v[i])) == NULL) {
			cfg_strv_free(copy);
			return NULL;
		}
	}
	return copy;
}

static char *attrs_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

int route_attrs_copy(struct route_attrs *dst, const struct route_attrs *src)
{
	route_attrs_init(dst);
	dst->med = src->med;
	dst->local_preference = src->local_preference;
	dst->next_hop = attrs_strdup(src->next_hop);
	dst->path_information = attrs_strdup(src->path_information);
	dst->communities = attrs_strv_dup(src->communities);
	dst->large_communities = attrs_strv_dup(src->large_communities);
	dst->extended_communities = attrs_strv_dup(src->extended_communities);
	if (src->nas_path > 0) {
		dst->as_path = malloc(src->nas_path * sizeof(*dst->as_path));
		if (dst->as_path == NULL)
			goto fail;
		memcpy(dst->as_path, src->as_path, src->nas_path * sizeof(*dst->as_path));
		dst->nas_path = src->nas_path;
	}
	if ((src->next_hop && !dst->next_hop) ||
	    (src->path_information && !dst->path_information) ||
	    (src->communities && !dst->communities) ||
	    (src->large_communities && !dst->large_communities) ||
	    (src->extended_communities && !dst->extended_communities))
		goto fail;
	return 0;
fail:
	route_attrs_free(dst);
	return -1;
}

static bool attrs_str_equal(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static bool attrs_strv_equal(char *const *a, char *const *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	size_t i = 0;
	for (; a[i] != NULL && b[i] != NULL; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return a[i] == b[i];
}

bool route_attrs_equal(const struct route_attrs *a, const struct route_attrs *b)
{
	if (a == b)
		return true;
	if (a == NULL || b == NULL)
		return false;
	return a->med == b->med && a->local_preference == b->local_preference &&
	       a->nas_path == b->nas_path &&
	       (a->nas_path == 0 ||
	        memcmp(a->as_path, b->as_path, a->nas_path * sizeof(*a->as_path)) == 0) &&
	       attrs_str_equal(a->next_hop, b->next_hop) &&
	       attrs_str_equal(a->path_information, b->path_information) &&
	       attrs_strv_equal(a->communities, b->communities) &&
	       attrs_strv_equal(a->large_communities, b->large_communities) &&
	       attrs_strv_equal(a->extended_communities, b->extended_communities);
}

/* "A:B" or "A:B:C", each part <= max; written back without leading zeros. */
static int attrs_numbers(const char *s, int parts, unsigned long long max, char *norm, size_t len)
{
	unsigned long long v[3];
	size_t off = 0;
	if (cfg_decimals(s, parts, max, v) != 0)
		return -1;
	for (int i = 0; i < parts; i++)
		off += (size_t)snprintf(norm + off, len - off, "%s%llu", i ? ":" : "", v[i]);
	return 0;
}

static int attrs_community(const char *s, char *norm, size_t len)
{
	for (const char *const *n = community_names; *n != NULL; n++) {
		if (strcmp(s, *n) == 0) {
			snprintf(norm, len, "%s", s);
			return 0;
		}
	}
	return attrs_numbers(s, 2, 65535, norm, len);
}

static int attrs_large_community(const char *s, char *norm, size_t len)
{
	return attrs_numbers(s, 3, 4294967295ULL, norm, len);
}

/* Loosely: ExaBGP knows many kinds; what must not pass is what would break the
 * command line healthd writes ("[ ... ]" lists, whitespace-separated words). */
static int attrs_extended_community(const char *s, char *norm, size_t len)
{
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("[]{}()\"';,", *p) != NULL)
			return -1;
	snprintf(norm, len, "%s", s);
	return 0;
}

/* A list of community strings, each checked and normalized by valid(). */
static int attrs_communities(struct config_error *e, const json_t *obj, const char *key,
                             int (*valid)(const char *, char *, size_t), const char *what,
                             const char *hint, char ***out)
{
	char **v = NULL;
	size_t n = 0;
	int rc = cfg_strv(e, obj, key, &v, &n);
	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		char norm[128];
		if (strlen(v[i]) >= sizeof(norm) || valid(v[i], norm, sizeof(norm)) != 0) {
			char k[64];
			snprintf(k, sizeof(k), "%s[%zu]", key, i);
			cfgerr_add(e, k, "invalid %s \"%s\": expected %s", what, v[i], hint);
			rc = -1;
			continue;
		}
		char *copy = strdup(norm);
		if (copy == NULL) {
			rc = -1;
			continue;
		}
		free(v[i]);
		v[i] = copy;
	}
	if (rc < 0 || n == 0) {
		cfg_strv_free(v);
		v = NULL; /* none is written NULL, as config.h promises */
	}
	if (rc > 0) {
		cfg_strv_free(*out);
		*out = v;
	}
	return rc;
}

static int attrs_as_path(struct config_error *e, const json_t *obj, struct route_attrs *a)
{
	const json_t *v = json_object_get(obj, "as_path");
	if (v == NULL)
		return 0;
	if (!json_is_array(v)) {
		cfgerr_add(e, "as_path", "expected array of AS numbers");
		return -1;
	}
	size_t n = json_array_size(v);
	uint32_t *path = n > 0 ? calloc(n, sizeof(*path)) : NULL;
	if (n > 0 && path == NULL)
		return -1;
	int rc = 1;
	for (size_t i = 0; i < n; i++) {
		const json_t *asn = json_array_get(v, i);
		if (!json_is_integer(asn) || json_integer_value(asn) < 0 ||
		    json_integer_value(asn) > 4294967295LL) {
			char k[64];
			snprintf(k, sizeof(k), "as_path[%zu]", i);
			cfgerr_add(e, k, "expected integer 0-4294967295");
			rc = -1;
			continue;
		}
		path[i] = (uint32_t)json_integer_value(asn);
	}
	if (rc < 0) {
		free(path);
		return -1;
	}
	free(a->as_path);
	a->as_path = path;
	a->nas_path = n;
	return 1;
}

static int attrs_next_hop(struct config_error *e, const json_t *obj, struct route_attrs *a)
{
	const json_t *v = json_object_get(obj, "next_hop");
	unsigned char buf[sizeof(struct in6_addr)];
	char norm[INET6_ADDRSTRLEN];
	if (v == NULL)
		return 0;
	const char *s = json_string_value(v);
	if (s != NULL && strcmp(s, "self") == 0) {
		snprintf(norm, sizeof(norm), "self");
	} else if (s != NULL && inet_pton(AF_INET, s, buf) == 1) {
		inet_ntop(AF_INET, buf, norm, sizeof(norm));
	} else if (s != NULL && inet_pton(AF_INET6, s, buf) == 1) {
		inet_ntop(AF_INET6, buf, norm, sizeof(norm));
	} else {
		cfgerr_add(e, "next_hop", "expected \"self\" or an IPv4 or IPv6 address");
		return -1;
	}
	char *copy = strdup(norm);
	if (copy == NULL)
		return -1;
	free(a->next_hop);
	a->next_hop = copy;
	return 1;
}

/* An id: "0.0.0.1", or an integer written the same way. */
static int attrs_path_information(struct config_error *e, const json_t *obj, struct route_attrs *a)
{
	const json_t *v = json_object_get(obj, "path_information");
	struct in_addr id;
	char norm[INET_ADDRSTRLEN];
	if (v == NULL)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) <= 4294967295LL) {
		id.s_addr = htonl((uint32_t)json_integer_value(v));
	} else if (!json_is_string(v) || inet_pton(AF_INET, json_string_value(v), &id) != 1) {
		cfgerr_add(e, "path_information",
		           "expected an id such as \"0.0.0.1\" or an integer 0-4294967295");
		return -1;
	}
	inet_ntop(AF_INET, &id, norm, sizeof(norm));
	char *copy = strdup(norm);
	if (copy == NULL)
		return -1;
	free(a->path_information);
	a->path_information = copy;
	return 1;
}

int route_attrs_parse(struct config_error *e, const json_t *obj, struct route_attrs *a)
{
	long long n;
	int bad = 0;

	bad |= cfg_check_keys(e, obj, attr_keys, NULL) > 0;
	bad |= attrs_next_hop(e, obj, a) < 0;
	switch (cfg_int(e, obj, "med", 0, 4294967295LL, &n)) {
	case 1:
		a->med = n;
		break;
	case -1:
		bad = 1;
	}
	switch (cfg_int(e, obj, "local_preference", 0, 4294967295LL, &n)) {
	case 1:
		a->local_preference = n;
		break;
	case -1:
		bad = 1;
	}
	bad |= attrs_communities(e, obj, "communities", attrs_community, "community",
	                         "ASN:VALUE (each 0-65535) or one of no-export, no-advertise, "
	                         "no-export-subconfed, no-peer, blackhole",
	                         &a->communities) < 0;
	bad |= attrs_communities(e, obj, "large_communities", attrs_large_community,
	                         "large community", "GLOBAL:LOCAL1:LOCAL2 (each 0-4294967295)",
	                         &a->large_communities) < 0;
	bad |= attrs_communities(e, obj, "extended_communities", attrs_extended_community,
	                         "extended community",
	                         "such as \"target:65000:53\", without spaces or brackets",
	                         &a->extended_communities) < 0;
	bad |= attrs_as_path(e, obj, a) < 0;
	bad |= attrs_path_information(e, obj, a) < 0;
	return bad ? -1 : 0;
}

int route_attrs_action(struct config_error *e, const json_t *svc, const char *key,
                       const struct route_attrs *announce, struct state_action *out)
{
	const json_t *v = json_object_get(svc, key);
	char saved[CFG_PATH_MAX];

	route_attrs_init(&out->attrs);
	out->withdraw = true;
	if (v == NULL || (json_is_string(v) && strcmp(json_string_value(v), "withdraw") == 0))
		return 0;
	if (!json_is_object(v)) {
		cfgerr_add(e, key, "expected \"withdraw\" or an object of route attributes");
		return -1;
	}
	out->withdraw = false;
	if (route_attrs_copy(&out->attrs, announce) != 0) {
		cfgerr_add(e, key, "out of memory");
		return -1;
	}
	cfgerr_push(e, key, saved);
	int rc = route_attrs_parse(e, v, &out->attrs);
	cfgerr_pop(e, saved);
	return rc;
}

static json_t *attrs_strv_json(char **v)
{
	json_t *a = json_array();
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *route_attrs_to_json(const struct route_attrs *a)
{
	json_t *o = json_object();
	json_object_set_new(o, "next_hop", json_string(a->next_hop ? a->next_hop : "self"));
	if (a->med >= 0)
		json_object_set_new(o, "med", json_integer(a->med));
	if (a->local_preference >= 0)
		json_object_set_new(o, "local_preference", json_integer(a->local_preference));
	/* Lists are written even when empty: an on_down that clears announce's communities
	 * must still clear them when its normalized form is read back. */
	json_object_set_new(o, "communities", attrs_strv_json(a->communities));
	json_object_set_new(o, "large_communities", attrs_strv_json(a->large_communities));
	json_object_set_new(o, "extended_communities", attrs_strv_json(a->extended_communities));
	json_t *path = json_array();
	for (size_t i = 0; i < a->nas_path; i++)
		json_array_append_new(path, json_integer(a->as_path[i]));
	json_object_set_new(o, "as_path", path);
	if (a->path_information != NULL)
		json_object_set_new(o, "path_information", json_string(a->path_information));
	return o;
}

json_t *route_attrs_action_to_json(const struct state_action *act)
{
	if (act->withdraw)
		return json_string("withdraw");
	return route_attrs_to_json(&act->attrs);
}
