/* The GoBGP part of the configuration: the speaker keys of type "gobgp" and what the
 * gobgp client's "global rib add" cannot carry. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cfgread.h"
#include "../lib/duration.h"
#include "config_priv.h"

#define GOBGP_DEFAULT_API        "127.0.0.1:50051"
#define GOBGP_DEFAULT_CLIENT     "/usr/bin/gobgp"
#define GOBGP_DEFAULT_MARK       "65535:4242"
#define GOBGP_DEFAULT_IDENTIFIER 4242
#define GOBGP_DEFAULT_BATCH      100
#define GOBGP_DEFAULT_REASSERT   10000
#define GOBGP_DEFAULT_TIMEOUT    5000
#define GOBGP_BATCH_MAX          60000
#define GOBGP_HOST_MAX           255

/* The BIRD keys of the speaker object that mean nothing to GoBGP. */
static const char *const bird_only_keys[] = {
        "socket", "mode", "format", "include", "include6", "configure_gap", "reconnect", NULL,
};

static bool gobgp_hostname(const char *s, size_t len)
{
	if (len == 0 || len > GOBGP_HOST_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return false;
	}
	return s[0] != '-';
}

/* "HOST:PORT", "[IPV6]:PORT": split into g->host and g->port. 0, or -1 (error recorded). */
static int gobgp_api(struct config_error *e, const char *s, struct gobgp_cfg *g)
{
	const char *colon = strrchr(s, ':'), *host = s;
	size_t hostlen = colon != NULL ? (size_t)(colon - s) : 0;
	unsigned long long port;
	char buf[INET6_ADDRSTRLEN];
	unsigned char addr[sizeof(struct in6_addr)];
	bool ok;

	if (colon == NULL || cfg_decimal(colon + 1, strlen(colon + 1), 65535, &port) != 0 ||
	    port == 0) {
		cfgerr_add(e, "api", "expected HOST:PORT of gobgpd's gRPC API, such as \"%s\"",
		           GOBGP_DEFAULT_API);
		return -1;
	}
	if (hostlen >= 2 && s[0] == '[' && s[hostlen - 1] == ']') {
		host = s + 1;
		hostlen -= 2;
		ok = hostlen < sizeof(buf);
		if (ok) {
			memcpy(buf, host, hostlen);
			buf[hostlen] = '\0';
			ok = inet_pton(AF_INET6, buf, addr) == 1;
		}
	} else {
		/* An IPv6 address needs its brackets: its own colons hide the port. */
		ok = memchr(s, ':', hostlen) == NULL && gobgp_hostname(s, hostlen);
	}
	if (!ok) {
		cfgerr_add(e, "api",
		           "\"%s\": expected an IPv4 address, a host name or [an IPv6 address] "
		           "before :PORT",
		           s);
		return -1;
	}
	g->host = strndup(host, hostlen);
	g->port = strdup(colon + 1);
	g->api = strdup(s);
	return 0;
}

static const char *const gobgp_keys[] = {"api",        "gobgp",           "mark",
                                         "identifier", "command_timeout", NULL};

void config_gobgp_foreign(struct config_error *e, const json_t *obj)
{
	for (const char *const *k = gobgp_keys; *k != NULL; k++)
		if (json_object_get(obj, *k) != NULL)
			cfgerr_add(e, *k, "applies to speaker type gobgp only");
}

void config_gobgp_speaker(struct config_error *e, const json_t *obj, struct speaker_cfg *sp)
{
	struct gobgp_cfg *g = &sp->gobgp;
	const char *s;
	unsigned long long v[2];
	long long id;

	for (const char *const *k = bird_only_keys; *k != NULL; k++)
		if (json_object_get(obj, *k) != NULL)
			cfgerr_add(e, *k, "applies to speaker types bird and birdc-stdout only");
	if (sp->neighbors != NULL)
		cfgerr_add(e, "neighbors",
		           "ExaBGP neighbor selectors do not apply to speaker type \"gobgp\"");
	if (json_object_get(obj, "ack_timeout") != NULL)
		cfgerr_add(e, "ack_timeout", "applies to speaker type exabgp only");
	if (!sp->withdraw_on_start)
		cfgerr_add(e, "withdraw_on_start",
		           "healthd always deletes the marked paths it does not want at start; "
		           "only true is valid");

	g->batch_ms = GOBGP_DEFAULT_BATCH;
	g->reassert_ms = GOBGP_DEFAULT_REASSERT;
	g->timeout_ms = GOBGP_DEFAULT_TIMEOUT;
	g->identifier = GOBGP_DEFAULT_IDENTIFIER;

	int rc = cfg_string(e, obj, "api", false, &s);
	if (rc >= 0)
		(void)gobgp_api(e, rc > 0 ? s : GOBGP_DEFAULT_API, g);

	rc = cfg_string(e, obj, "gobgp", false, &s);
	if (rc > 0 && (s[0] != '/' || s[strlen(s) - 1] == '/' || strlen(s) >= PATH_MAX))
		cfgerr_add(e, "gobgp",
		           "expected the absolute path of the gobgp client, such as "
		           "\"" GOBGP_DEFAULT_CLIENT "\"");
	else if (rc >= 0)
		g->client = strdup(rc > 0 ? s : GOBGP_DEFAULT_CLIENT);

	rc = cfg_string(e, obj, "mark", false, &s);
	if (rc > 0 && cfg_decimals(s, 2, 65535, v) != 0)
		cfgerr_add(e, "mark",
		           "expected a community A:B (each 0-65535), such as \"" GOBGP_DEFAULT_MARK
		           "\"");
	else if (rc >= 0) {
		g->mark = strdup(rc > 0 ? s : GOBGP_DEFAULT_MARK);
		if (rc == 0)
			(void)cfg_decimals(GOBGP_DEFAULT_MARK, 2, 65535, v);
		g->mark_value = (uint32_t)(v[0] << 16 | v[1]);
	}

	/* 0 is what every other "gobgp global rib add" uses: a path of id 0 would replace
	 * theirs for the same prefix, and theirs ours. */
	if (cfg_int(e, obj, "identifier", 1, UINT32_MAX, &id) > 0)
		g->identifier = (uint32_t)id;

	if (cfg_duration(e, obj, "batch", &g->batch_ms) > 0 && g->batch_ms > GOBGP_BATCH_MAX)
		cfgerr_add(e, "batch", "at most 1m: changes would wait that long to be announced");
	if (cfg_duration(e, obj, "reassert", &g->reassert_ms) > 0 && g->reassert_ms > 0 &&
	    g->reassert_ms < 1000)
		cfgerr_add(e, "reassert", "must be 0 (never) or at least 1s");
	if (cfg_duration(e, obj, "command_timeout", &g->timeout_ms) > 0 &&
	    (g->timeout_ms < 100 || g->timeout_ms > GOBGP_BATCH_MAX))
		cfgerr_add(e, "command_timeout", "must be between 100ms and 1m");
}

/* What "gobgp global rib add" cannot say; announce's values are reported once. */
static void gobgp_check_attrs(struct config_error *e, const char *path,
                              const struct service_cfg *svc, const struct route_attrs *a,
                              const struct route_attrs *announce)
{
	if (a->path_information != NULL && (announce == NULL || announce->path_information == NULL))
		config_err_at(e, path, "path_information",
		              "ADD-PATH ids are ExaBGP's; healthd's GoBGP paths all carry the "
		              "speaker's \"identifier\"");
	if (a->extended_communities != NULL &&
	    (announce == NULL || announce->extended_communities == NULL))
		config_err_at(e, path, "extended_communities",
		              "the gobgp client cannot add extended communities to a unicast "
		              "path; set them in gobgpd's export policy");
	config_next_hop_family(e, path, svc, a, announce, "GoBGP needs one of the path's family");
}

void config_gobgp_check(struct config_loader *ld)
{
	for (size_t i = 0; i < ld->cfg->nservices; i++)
		config_service_attrs(ld, i, gobgp_check_attrs);
}

void config_gobgp_to_json(json_t *o, const struct speaker_cfg *sp)
{
	const struct gobgp_cfg *g = &sp->gobgp;

	if (g->api != NULL)
		json_object_set_new(o, "api", json_string(g->api));
	if (g->client != NULL)
		json_object_set_new(o, "gobgp", json_string(g->client));
	if (g->mark != NULL)
		json_object_set_new(o, "mark", json_string(g->mark));
	json_object_set_new(o, "identifier", json_integer(g->identifier));
	json_object_set_new(o, "batch", config_duration_json(g->batch_ms));
	json_object_set_new(o, "reassert", config_duration_json(g->reassert_ms));
	json_object_set_new(o, "command_timeout", config_duration_json(g->timeout_ms));
}

void config_gobgp_free(struct gobgp_cfg *g)
{
	free(g->api);
	free(g->host);
	free(g->port);
	free(g->client);
	free(g->mark);
	memset(g, 0, sizeof(*g));
}
