/* The BIRD part of the configuration: the speaker keys of types "bird" and "birdc-stdout",
 * each service's "bird_protocol", and the checks that need every service at once (what a
 * mode can express: BIRD's own config sets the attributes in modes that cannot). */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "bird.h"
#include "../lib/cfgread.h"
#include "config_priv.h"
#include "../lib/duration.h"

#define BIRD_DEFAULT_SOCKET    "/run/bird/bird.ctl"
#define BIRD_DEFAULT_INCLUDE   "/var/lib/healthd/bird-routes.conf"
#define BIRD_DEFAULT_BATCH     100
#define BIRD_DEFAULT_GAP       1000
#define BIRD_DEFAULT_RECONNECT 5000
#define BIRD_DEFAULT_REASSERT  10000
#define BIRD_BATCH_MAX         60000
#define BIRD_PROTOCOL_MAX      64

static const char *const bird_keys[] = {
        "socket", "mode",          "format",    "include",  "include6",
        "batch",  "configure_gap", "reconnect", "reassert", NULL,
};
static const char *const static_keys[] = {"format", "include",       "include6",
                                          "batch",  "configure_gap", NULL};

static const char *const type_names[] = {
        [SPEAKER_EXABGP] = "exabgp",
        [SPEAKER_BIRD] = "bird",
        [SPEAKER_BIRDC_STDOUT] = "birdc-stdout",
        [SPEAKER_GOBGP] = "gobgp",
        [SPEAKER_FRR] = "frr",
};

int config_speaker_type(const char *name, enum speaker_type *out)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (strcmp(name, type_names[i]) == 0) {
			*out = (enum speaker_type)i;
			return 0;
		}
	}
	return -1;
}

const char *config_speaker_type_name(enum speaker_type t)
{
	return (size_t)t < sizeof(type_names) / sizeof(type_names[0]) ? type_names[t] : "exabgp";
}

/* An absolute path that names a file; NULL (error recorded) otherwise. */
static char *bird_path(struct config_error *e, const json_t *obj, const char *key, size_t max)
{
	const char *s;
	if (cfg_string(e, obj, key, false, &s) <= 0)
		return NULL;
	if (s[0] != '/' || s[strlen(s) - 1] == '/') {
		cfgerr_add(e, key, "expected an absolute path of a file, such as \"%s\"",
		           strcmp(key, "socket") == 0 ? BIRD_DEFAULT_SOCKET : BIRD_DEFAULT_INCLUDE);
		return NULL;
	}
	if (strlen(s) > max) {
		cfgerr_add(e, key, "longer than %zu bytes%s", max,
		           strcmp(key, "socket") == 0 ? ", the limit of a unix socket address"
		                                      : "");
		return NULL;
	}
	return strdup(s);
}

/* "/var/lib/healthd/bird-routes.conf" -> "/var/lib/healthd/bird-routes6.conf". */
static char *bird_include6_default(const char *include)
{
	size_t n = strlen(include);
	char *out = malloc(n + 2);
	if (out == NULL)
		return NULL;
	size_t stem = n >= 5 && strcmp(include + n - 5, ".conf") == 0 ? n - 5 : n;
	memcpy(out, include, stem);
	out[stem] = '6';
	memcpy(out + stem + 1, include + stem, n - stem + 1);
	return out;
}

static void bird_enum(struct config_error *e, const json_t *obj, const char *key, const char *a,
                      const char *b, int *out)
{
	const char *s;
	if (cfg_string(e, obj, key, false, &s) <= 0)
		return;
	if (strcmp(s, a) == 0)
		*out = 0;
	else if (strcmp(s, b) == 0)
		*out = 1;
	else
		cfgerr_add(e, key, "unknown %s \"%s\" (valid: %s, %s)", key, s, a, b);
}

void config_bird_speaker(struct config_error *e, const json_t *obj, struct speaker_cfg *sp)
{
	struct bird_cfg *b = &sp->bird;
	const char *type = config_speaker_type_name(sp->type);
	const size_t sun_max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

	const json_t *given = json_object_get(obj, "type");
	enum speaker_type t;
	if (given != NULL &&
	    (!json_is_string(given) || config_speaker_type(json_string_value(given), &t) != 0))
		return; /* a bad type is the one error worth reading */
	if (sp->type == SPEAKER_GOBGP) {
		config_gobgp_speaker(e, obj, sp); /* config_gobgp.c: its keys, its refusals */
		return;
	}
	config_gobgp_foreign(e, obj);
	if (sp->type == SPEAKER_FRR)
		return; /* config_frr.c reads its keys and refuses BIRD's */
	if (sp->type == SPEAKER_EXABGP) {
		for (const char *const *k = bird_keys; *k != NULL; k++)
			if (json_object_get(obj, *k) != NULL)
				cfgerr_add(e, *k,
				           "applies to speaker types bird and birdc-stdout only");
		return;
	}
	if (sp->neighbors != NULL)
		cfgerr_add(e, "neighbors",
		           "ExaBGP neighbor selectors do not apply to speaker type \"%s\"", type);
	if (json_object_get(obj, "ack_timeout") != NULL)
		cfgerr_add(e, "ack_timeout", "applies to speaker type exabgp only");
	if (!sp->withdraw_on_start)
		cfgerr_add(e, "withdraw_on_start",
		           "BIRD is always told the whole state at start; only true is valid");

	int mode = BIRD_MODE_STATIC, format = BIRD_FORMAT_ROUTES;
	bird_enum(e, obj, "mode", "static", "protocol", &mode);
	bird_enum(e, obj, "format", "routes", "set", &format);
	b->mode = (enum bird_mode)mode;
	b->format = (enum bird_format)format;
	b->batch_ms = BIRD_DEFAULT_BATCH;
	b->gap_ms = BIRD_DEFAULT_GAP;
	b->reconnect_ms = BIRD_DEFAULT_RECONNECT;
	b->reassert_ms = BIRD_DEFAULT_REASSERT;

	if (sp->type == SPEAKER_BIRD) {
		if (json_object_get(obj, "socket") != NULL)
			b->socket = bird_path(e, obj, "socket", sun_max);
		else
			b->socket = strdup(BIRD_DEFAULT_SOCKET);
		uint32_t ms;
		if (cfg_duration(e, obj, "reconnect", &ms) > 0) {
			if (ms < 10)
				cfgerr_add(e, "reconnect", "must be at least 10ms");
			else
				b->reconnect_ms = ms;
		}
	} else {
		if (json_object_get(obj, "socket") != NULL)
			cfgerr_add(e, "socket",
			           "type birdc-stdout writes commands to stdout; give the socket "
			           "to birdc instead (healthd run -c FILE | birdc -s SOCKET)");
		if (json_object_get(obj, "reconnect") != NULL)
			cfgerr_add(e, "reconnect", "applies to speaker type bird only");
	}

	if (b->mode == BIRD_MODE_PROTOCOL) {
		for (const char *const *k = static_keys; *k != NULL; k++)
			if (json_object_get(obj, *k) != NULL)
				cfgerr_add(e, *k, "applies to mode \"static\" only");
		if (cfg_duration(e, obj, "reassert", &b->reassert_ms) > 0 && b->reassert_ms > 0 &&
		    b->reassert_ms < 1000)
			cfgerr_add(e, "reassert", "must be 0 (never) or at least 1s");
		return;
	}
	if (json_object_get(obj, "reassert") != NULL)
		cfgerr_add(e, "reassert", "applies to mode \"protocol\" only");
	if (cfg_duration(e, obj, "batch", &b->batch_ms) > 0 && b->batch_ms > BIRD_BATCH_MAX)
		cfgerr_add(e, "batch", "at most 1m: changes would wait that long to be announced");
	if (cfg_duration(e, obj, "configure_gap", &b->gap_ms) > 0 && b->gap_ms > BIRD_BATCH_MAX)
		cfgerr_add(e, "configure_gap",
		           "at most 1m: changes would wait that long to be announced");
	if (json_object_get(obj, "include") != NULL)
		b->include = bird_path(e, obj, "include", PATH_MAX - 1);
	else
		b->include = strdup(BIRD_DEFAULT_INCLUDE);
	if (b->format == BIRD_FORMAT_SET) {
		if (json_object_get(obj, "include6") != NULL)
			cfgerr_add(e, "include6",
			           "format \"set\" writes both families' sets into \"include\"");
		return;
	}
	if (json_object_get(obj, "include6") != NULL)
		b->include6 = bird_path(e, obj, "include6", PATH_MAX - 1);
	else if (b->include != NULL)
		b->include6 = bird_include6_default(b->include);
	if (b->include != NULL && b->include6 != NULL && strcmp(b->include, b->include6) == 0)
		cfgerr_add(e, "include6",
		           "must differ from \"include\": a BIRD static protocol holds one family");
}

static bool bird_identifier(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
		      (*p >= '0' && *p <= '9')))
			return false;
	return strlen(s) <= BIRD_PROTOCOL_MAX;
}

void config_bird_service(struct config_loader *ld, const json_t *obj, size_t index,
                         struct service_cfg *svc)
{
	const struct speaker_cfg *sp = &ld->cfg->speaker;
	bool want = sp->type != SPEAKER_EXABGP && sp->bird.mode == BIRD_MODE_PROTOCOL;
	const char *name;
	int rc = cfg_string(ld->e, obj, "bird_protocol", false, &name);

	if (rc == 0 && want)
		cfgerr_add(ld->e, "bird_protocol",
		           "required key is missing: the BIRD protocol that announces this "
		           "service (speaker mode \"protocol\")");
	if (rc <= 0)
		return;
	if (!want) {
		cfgerr_add(ld->e, "bird_protocol",
		           "applies to speaker types bird and birdc-stdout in mode \"protocol\" "
		           "only");
		return;
	}
	/* "disable all" is BIRD's for every protocol: never a name */
	if (strcasecmp(name, "all") == 0) {
		cfgerr_add(ld->e, "bird_protocol",
		           "\"%s\" means every protocol to BIRD: name one protocol", name);
		return;
	}
	if (!bird_identifier(name)) {
		cfgerr_add(ld->e, "bird_protocol",
		           "invalid BIRD protocol name \"%s\": expected letters, digits and _, "
		           "not starting with a digit, at most %d characters",
		           name, BIRD_PROTOCOL_MAX);
		return;
	}
	size_t fi, fk;
	if (config_index_add(ld->seen, CI_BIRD_PROTOCOL, name, strlen(name), index, 0, &fi, &fk) >
	    0) {
		cfgerr_add(ld->e, "bird_protocol",
		           "BIRD protocol \"%s\" already belongs to services[%zu]: one "
		           "protocol per service",
		           name, fi);
		return;
	}
	svc->bird_protocol = strdup(name);
}

static bool bird_strv_has(char **v, const char *s)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* What static routes cannot carry; announce's values are reported once, at announce. */
static void bird_attrs_routes(struct config_error *e, const char *path,
                              const struct service_cfg *svc, const struct route_attrs *a,
                              const struct route_attrs *announce)
{
	char out[128], key[64];

	if (a->path_information != NULL && (announce == NULL || announce->path_information == NULL))
		config_err_at(e, path, "path_information",
		              "ADD-PATH ids are ExaBGP's; BIRD static routes have none");
	for (size_t i = 0; a->extended_communities != NULL && a->extended_communities[i]; i++) {
		const char *s = a->extended_communities[i];
		if (announce != NULL && bird_strv_has(announce->extended_communities, s))
			continue;
		if (bird_ext_community(s, out, sizeof(out)) != 0) {
			snprintf(key, sizeof(key), "extended_communities[%zu]", i);
			config_err_at(e, path, key,
			              "\"%s\" cannot be written for BIRD: expected target:A:B or "
			              "origin:A:B (A a 2- or 4-byte AS number or an IPv4 address)",
			              s);
		}
	}
	config_next_hop_family(e, path, svc, a, announce, "BIRD needs one of the route's family");
}

static void bird_check_service(struct config_loader *ld, size_t i, const struct service_cfg *svc)
{
	const struct bird_cfg *b = &ld->cfg->speaker.bird;
	char path[64];
	const char *why = NULL;

	snprintf(path, sizeof(path), "services[%zu]", i);
	if (b->mode == BIRD_MODE_PROTOCOL)
		why = "mode \"protocol\" switches whole BIRD protocols";
	else if (b->format == BIRD_FORMAT_SET)
		why = "format \"set\" lists prefixes only";
	if (why != NULL) {
		if (!bird_attrs_plain(&svc->announce))
			config_err_at(ld->e, path, "announce",
			              "%s: route attributes belong in BIRD's config (or use mode "
			              "\"static\" with format \"routes\")",
			              why);
		if (!svc->on_down.withdraw)
			config_err_at(ld->e, path, "on_down", "%s: it can only \"withdraw\"", why);
		if (!svc->on_disabled.withdraw)
			config_err_at(ld->e, path, "on_disabled", "%s: it can only \"withdraw\"",
			              why);
		/* These never withdraw; by default they are announce's (refused above). */
		if (!bird_attrs_plain(&svc->on_degraded.attrs) &&
		    !route_attrs_equal(&svc->on_degraded.attrs, &svc->announce))
			config_err_at(ld->e, path, "on_degraded", "%s: it takes no attributes",
			              why);
		if (!svc->on_last.withdraw && !bird_attrs_plain(&svc->on_last.attrs) &&
		    !route_attrs_equal(&svc->on_last.attrs, &svc->announce))
			config_err_at(ld->e, path, "on_last", "%s: it takes no attributes", why);
		config_service_no_neighbors(ld, i);
		return;
	}
	config_service_attrs(ld, i, bird_attrs_routes);
}

void config_bird_check(struct config_loader *ld)
{
	if (ld->cfg->speaker.type == SPEAKER_GOBGP)
		config_gobgp_check(ld);
	if (ld->cfg->speaker.type == SPEAKER_EXABGP || ld->cfg->speaker.type == SPEAKER_GOBGP ||
	    ld->cfg->speaker.type == SPEAKER_FRR)
		return;
	for (size_t i = 0; i < ld->cfg->nservices; i++)
		bird_check_service(ld, i, &ld->cfg->services[i]);
}

void config_bird_to_json(json_t *o, const struct speaker_cfg *sp)
{
	const struct bird_cfg *b = &sp->bird;

	if (sp->type == SPEAKER_GOBGP) {
		config_gobgp_to_json(o, sp);
		return;
	}
	if (sp->type == SPEAKER_BIRD && b->socket != NULL)
		json_object_set_new(o, "socket", json_string(b->socket));
	json_object_set_new(o, "mode",
	                    json_string(b->mode == BIRD_MODE_PROTOCOL ? "protocol" : "static"));
	if (b->mode == BIRD_MODE_STATIC) {
		json_object_set_new(o, "format",
		                    json_string(b->format == BIRD_FORMAT_SET ? "set" : "routes"));
		if (b->include != NULL)
			json_object_set_new(o, "include", json_string(b->include));
		if (b->include6 != NULL)
			json_object_set_new(o, "include6", json_string(b->include6));
		json_object_set_new(o, "batch", config_duration_json(b->batch_ms));
		json_object_set_new(o, "configure_gap", config_duration_json(b->gap_ms));
	} else {
		json_object_set_new(o, "reassert", config_duration_json(b->reassert_ms));
	}
	if (sp->type == SPEAKER_BIRD)
		json_object_set_new(o, "reconnect", config_duration_json(b->reconnect_ms));
}

void config_bird_free(struct bird_cfg *b)
{
	free(b->socket);
	free(b->include);
	free(b->include6);
	memset(b, 0, sizeof(*b));
}
