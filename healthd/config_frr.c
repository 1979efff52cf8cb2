/* The FRR part of the configuration: the speaker keys of type "frr", and the checks that
 * need every service at once (what FRR's route-maps cannot carry). FRR's own BGP
 * instance (its AS number) is learned from FRR at run time, not configured here. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "bird.h"
#include "../lib/cfgread.h"
#include "config_priv.h"
#include "../lib/duration.h"

#define FRR_DEFAULT_VTY_SOCKET "/var/run/frr"
#define FRR_DEFAULT_VTYSH      "/usr/bin/vtysh"
#define FRR_DEFAULT_BATCH      100
#define FRR_DEFAULT_REASSERT   5000
#define FRR_DEFAULT_TIMEOUT    10000
#define FRR_BATCH_MAX          60000
#define FRR_TIMEOUT_MAX        300000
#define FRR_VTY_FILE           "/bgpd.vty" /* what vtysh connects to in vty_socket */

static const char *const frr_keys[] = {"vty_socket", "vtysh", "vtysh_timeout", NULL};
/* BIRD's keys that mean nothing to FRR ("batch" and "reassert" mean the same). */
static const char *const bird_only_keys[] = {
        "socket", "mode", "format", "include", "include6", "configure_gap", "reconnect", NULL,
};

/* An absolute path: a file (vtysh) or a directory (vty_socket); NULL (error recorded)
 * otherwise. */
static char *frr_path(struct config_error *e, const json_t *obj, const char *key, bool dir,
                      size_t max, const char *def)
{
	const char *s;
	if (json_object_get(obj, key) == NULL)
		return strdup(def);
	if (cfg_string(e, obj, key, false, &s) <= 0)
		return NULL;
	if (s[0] != '/' || (!dir && s[strlen(s) - 1] == '/')) {
		cfgerr_add(e, key, "expected an absolute path of a %s, such as \"%s\"",
		           dir ? "directory" : "file", def);
		return NULL;
	}
	if (strlen(s) > max) {
		if (dir)
			cfgerr_add(e, key,
			           "longer than %zu bytes: %s" FRR_VTY_FILE " would not fit a "
			           "unix socket address",
			           max, s);
		else
			cfgerr_add(e, key, "longer than %zu bytes", max);
		return NULL;
	}
	return strdup(s);
}

void config_frr_speaker(struct config_error *e, const json_t *obj, struct speaker_cfg *sp)
{
	struct frr_cfg *f = &sp->frr;
	const size_t sun_max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
	uint32_t ms;

	const json_t *given = json_object_get(obj, "type");
	enum speaker_type t;
	if (given != NULL &&
	    (!json_is_string(given) || config_speaker_type(json_string_value(given), &t) != 0))
		return; /* a bad type is the one error worth reading */
	if (sp->type != SPEAKER_FRR) {
		for (const char *const *k = frr_keys; *k != NULL; k++)
			if (json_object_get(obj, *k) != NULL)
				cfgerr_add(e, *k, "applies to speaker type frr only");
		return;
	}
	for (const char *const *k = bird_only_keys; *k != NULL; k++)
		if (json_object_get(obj, *k) != NULL)
			cfgerr_add(e, *k, "applies to speaker types bird and birdc-stdout only");
	if (sp->neighbors != NULL)
		cfgerr_add(e, "neighbors",
		           "ExaBGP neighbor selectors do not apply to speaker type \"frr\"");
	if (json_object_get(obj, "ack_timeout") != NULL)
		cfgerr_add(e, "ack_timeout", "applies to speaker type exabgp only");
	if (!sp->withdraw_on_start)
		cfgerr_add(e, "withdraw_on_start",
		           "healthd removes its leftovers from FRR at every start; only true is "
		           "valid");

	f->vty_socket = frr_path(e, obj, "vty_socket", true, sun_max - strlen(FRR_VTY_FILE),
	                         FRR_DEFAULT_VTY_SOCKET);
	f->vtysh = frr_path(e, obj, "vtysh", false, PATH_MAX - 1, FRR_DEFAULT_VTYSH);
	f->batch_ms = FRR_DEFAULT_BATCH;
	f->reassert_ms = FRR_DEFAULT_REASSERT;
	f->timeout_ms = FRR_DEFAULT_TIMEOUT;
	if (cfg_duration(e, obj, "batch", &f->batch_ms) > 0 && f->batch_ms > FRR_BATCH_MAX)
		cfgerr_add(e, "batch", "at most 1m: changes would wait that long to be announced");
	if (cfg_duration(e, obj, "reassert", &f->reassert_ms) > 0 && f->reassert_ms > 0 &&
	    f->reassert_ms < 1000)
		cfgerr_add(e, "reassert", "must be 0 (never) or at least 1s");
	if (cfg_duration(e, obj, "vtysh_timeout", &ms) > 0) {
		if (ms < 100 || ms > FRR_TIMEOUT_MAX)
			cfgerr_add(e, "vtysh_timeout", "must be between 100ms and 5m");
		else
			f->timeout_ms = ms;
	}
}

/* What a route-map of healthd cannot carry; announce's values are reported once. */
static void frr_attrs(struct config_error *e, const char *path, const struct service_cfg *svc,
                      const struct route_attrs *a, const struct route_attrs *announce)
{
	char out[128], key[64];

	if (a->path_information != NULL && (announce == NULL || announce->path_information == NULL))
		config_err_at(e, path, "path_information",
		              "ADD-PATH ids are ExaBGP's; FRR's network statements have none");
	for (size_t i = 0; a->extended_communities != NULL && a->extended_communities[i]; i++) {
		const char *s = a->extended_communities[i];
		bool known = false;
		for (size_t k = 0; announce != NULL && announce->extended_communities != NULL &&
		                   announce->extended_communities[k] != NULL && !known;
		     k++)
			known = strcmp(announce->extended_communities[k], s) == 0;
		/* the same forms as BIRD's: rt and soo of an AS number or an IPv4 address */
		if (!known && bird_ext_community(s, out, sizeof(out)) != 0) {
			snprintf(key, sizeof(key), "extended_communities[%zu]", i);
			config_err_at(e, path, key,
			              "\"%s\" cannot be set by FRR: expected target:A:B or "
			              "origin:A:B (A a 2- or 4-byte AS number or an IPv4 address)",
			              s);
		}
	}
	config_next_hop_family(e, path, svc, a, announce, "FRR needs one of the route's family");
}

void config_frr_check(struct config_loader *ld)
{
	if (ld->cfg->speaker.type != SPEAKER_FRR)
		return;
	for (size_t i = 0; i < ld->cfg->nservices; i++)
		config_service_attrs(ld, i, frr_attrs);
}

void config_frr_to_json(json_t *o, const struct speaker_cfg *sp)
{
	const struct frr_cfg *f = &sp->frr;

	if (f->vty_socket != NULL)
		json_object_set_new(o, "vty_socket", json_string(f->vty_socket));
	if (f->vtysh != NULL)
		json_object_set_new(o, "vtysh", json_string(f->vtysh));
	json_object_set_new(o, "batch", config_duration_json(f->batch_ms));
	json_object_set_new(o, "reassert", config_duration_json(f->reassert_ms));
	json_object_set_new(o, "vtysh_timeout", config_duration_json(f->timeout_ms));
}

void config_frr_free(struct frr_cfg *f)
{
	free(f->vty_socket);
	free(f->vtysh);
	memset(f, 0, sizeof(*f));
}
