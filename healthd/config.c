/* Loading the configuration: the JSON text, its position index, the top-level sections,
 * and the checks that need every service at once. Any error refuses the whole config. */
#include <errno.h>
#include <stdarg.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "../lib/cfgpos.h"
#include "../lib/cfgread.h"
#include "config_priv.h"
#include "../lib/log.h"

#define CONFIG_MAX_SIZE            (16 * 1024 * 1024) /* far above any sane config */
#define CONFIG_DEFAULT_ACK_TIMEOUT 5000

static const char *const top_keys[] = {
        "source",
        "source_check",
        "speaker",
        "log",
        "control",
        "defaults",
        "services",
        "fleet",
        /* config_process.c's */
        "user",
        "group",
        "allow_root_exec",
        "limits",
        NULL,
};
static const char *const speaker_keys[] = {
        "type",
        "neighbors",
        "reannounce",
        "ack_timeout",
        "withdraw_on_start",
        /* BIRD's (config_bird.c) */
        "socket",
        "mode",
        "format",
        "include",
        "include6",
        "batch",
        "configure_gap",
        "reconnect",
        "reassert",
        /* GoBGP's (config_gobgp.c; "batch" and "reassert" too) */
        "api",
        "gobgp",
        "mark",
        "identifier",
        "command_timeout",
        /* FRR's (config_frr.c) */
        "vty_socket",
        "vtysh",
        "vtysh_timeout",
        NULL,
};
static const char *const log_keys[] = {"syslog", "facility", "level", NULL};
static const char *const defaults_keys[] = {
        "interval", "fast_interval", "timeout", "rise", "fall", "source", NULL,
};

static const struct {
	const char *name;
	int facility;
} facilities[] = {
        {"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"local0", LOG_LOCAL0},
        {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
        {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
        {"local7", LOG_LOCAL7},
};

/* A message that is not about a JSON path ("(parse)", unreadable file): formatted here
 * because cfgerr_add always names a path. */
static void config_raw_error(struct config_error *e, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void config_raw_error(struct config_error *e, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	char *esc = cfgerr_escape(msg); /* jansson quotes the bad token, newline and all */
	free(msg);
	if ((msg = esc) == NULL)
		return;
	char **v = realloc(e->msgs, (e->nmsgs + 1) * sizeof(*v));
	if (v == NULL) {
		free(msg);
		return;
	}
	e->msgs = v;
	e->msgs[e->nmsgs++] = msg;
}

void config_err_at(struct config_error *e, const char *path, const char *key, const char *fmt, ...)
{
	char saved[CFG_PATH_MAX], msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(saved, e->base, CFG_PATH_MAX);
	snprintf(e->base, CFG_PATH_MAX, "%s", path);
	cfgerr_add(e, key, "%s", msg);
	memcpy(e->base, saved, CFG_PATH_MAX);
}

/* An ExaBGP neighbor selector, as it follows "neighbor ": an address (or "*"), then
 * pairs of a selector keyword and its value. Anything else would be spliced into every
 * command line healthd writes. */
static bool neighbor_selector_ok(const char *s)
{
	static const char *const keywords[] = {"local-ip", "router-id",      "local-as",
	                                       "peer-as",  "family-allowed", NULL};
	unsigned char buf[sizeof(struct in6_addr)];
	char *copy = strdup(s), *save = NULL, *tok;
	bool ok = copy != NULL && strstr(s, "  ") == NULL && s[0] != ' ';
	int i = 0;

	for (tok = ok ? strtok_r(copy, " ", &save) : NULL; ok && tok != NULL;
	     tok = strtok_r(NULL, " ", &save), i++) {
		if (i == 0) {
			ok = strcmp(tok, "*") == 0 || inet_pton(AF_INET, tok, buf) == 1 ||
			     inet_pton(AF_INET6, tok, buf) == 1;
			continue;
		}
		size_t k = 0;
		while (keywords[k] != NULL && strcmp(keywords[k], tok) != 0)
			k++;
		char *value = strtok_r(NULL, " ", &save);
		ok = keywords[k] != NULL && value != NULL;
		for (const char *p = value; ok && *p != '\0'; p++)
			ok = isalnum((unsigned char)*p) || strchr(".:-/", *p) != NULL;
	}
	free(copy);
	return ok && i > 0;
}

int config_neighbors(struct config_error *e, const json_t *obj, const char *key, char ***out)
{
	char **v = NULL;
	size_t n = 0;
	int rc = cfg_strv(e, obj, key, &v, &n);
	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (neighbor_selector_ok(v[i]))
			continue;
		char k[64];
		snprintf(k, sizeof(k), "%s[%zu]", key, i);
		cfgerr_add(e, k,
		           "invalid neighbor selector \"%s\": expected an address such as "
		           "\"192.0.2.254\", optionally followed by pairs such as \"local-ip "
		           "192.0.2.1\" or \"peer-as 65000\"",
		           v[i]);
		rc = -1;
	}
	if (rc < 0 || n == 0) {
		cfg_strv_free(v);
		v = NULL; /* an empty list is no restriction: every neighbor */
	}
	*out = v;
	return rc;
}

static void config_speaker(struct config_loader *ld, const json_t *top)
{
	struct speaker_cfg *sp = &ld->cfg->speaker;
	const json_t *obj = json_object_get(top, "speaker");
	char saved[CFG_PATH_MAX];
	const char *type;

	sp->type = SPEAKER_EXABGP;
	sp->reannounce_ms = 0;
	sp->ack_timeout_ms = CONFIG_DEFAULT_ACK_TIMEOUT;
	/* A previous instance may have left routes announced: start down, as everywhere. */
	sp->withdraw_on_start = true;
	if (obj == NULL)
		return;
	if (!json_is_object(obj)) {
		cfgerr_add(ld->e, "speaker", "expected object");
		return;
	}
	cfgerr_push(ld->e, "speaker", saved);
	cfg_check_keys(ld->e, obj, speaker_keys, NULL);
	if (cfg_string(ld->e, obj, "type", false, &type) > 0 &&
	    config_speaker_type(type, &sp->type) != 0)
		cfgerr_add(ld->e, "type",
		           "unknown speaker type \"%s\" (valid types: exabgp, bird, birdc-stdout, "
		           "gobgp, frr)",
		           type);
	config_neighbors(ld->e, obj, "neighbors", &sp->neighbors);
	if (cfg_duration(ld->e, obj, "reannounce", &sp->reannounce_ms) > 0 &&
	    sp->reannounce_ms > 0 && sp->reannounce_ms < 1000)
		cfgerr_add(ld->e, "reannounce", "must be 0 (never) or at least 1s");
	uint32_t ack;
	if (cfg_duration(ld->e, obj, "ack_timeout", &ack) > 0) {
		if (ack == 0)
			cfgerr_add(ld->e, "ack_timeout", "must be greater than 0");
		else
			sp->ack_timeout_ms = ack;
	}
	cfg_bool(ld->e, obj, "withdraw_on_start", &sp->withdraw_on_start);
	config_bird_speaker(ld->e, obj, sp);
	config_frr_speaker(ld->e, obj, sp);
	cfgerr_pop(ld->e, saved);
}

static void config_log(struct config_loader *ld, const json_t *top)
{
	struct log_cfg *log = &ld->cfg->log;
	const json_t *obj = json_object_get(top, "log");
	char saved[CFG_PATH_MAX];
	const char *s;

	log->syslog = false;
	log->facility = LOG_DAEMON;
	log->level = LOG_INFO;
	if (obj == NULL)
		return;
	if (!json_is_object(obj)) {
		cfgerr_add(ld->e, "log", "expected object");
		return;
	}
	cfgerr_push(ld->e, "log", saved);
	cfg_check_keys(ld->e, obj, log_keys, NULL);
	cfg_bool(ld->e, obj, "syslog", &log->syslog);
	if (cfg_string(ld->e, obj, "facility", false, &s) > 0) {
		size_t i;
		for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
			if (strcmp(s, facilities[i].name) == 0)
				break;
		if (i < sizeof(facilities) / sizeof(facilities[0]))
			log->facility = facilities[i].facility;
		else
			cfgerr_add(
			        ld->e, "facility",
			        "unknown facility \"%s\" (valid: daemon, user, local0 to local7)",
			        s);
	}
	if (cfg_string(ld->e, obj, "level", false, &s) > 0) {
		int level = log_level_parse(s);
		if (level < 0)
			cfgerr_add(ld->e, "level",
			           "unknown level \"%s\" (valid: error, warning, info, debug)", s);
		else
			log->level = level;
	}
	cfgerr_pop(ld->e, saved);
}

const char *config_log_facility_name(int facility)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (facilities[i].facility == facility)
			return facilities[i].name;
	return "daemon";
}

const char *config_log_level_name(int level)
{
	switch (level) {
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_DEBUG:
		return "debug";
	default:
		return "info";
	}
}

static void config_defaults(struct config_loader *ld, const json_t *top, struct config_level *lv)
{
	const json_t *obj = json_object_get(top, "defaults");
	char saved[CFG_PATH_MAX];

	config_level_init(lv);
	lv->src = ld->cfg->source;
	if (obj != NULL && !json_is_object(obj)) {
		cfgerr_add(ld->e, "defaults", "expected object");
	} else if (obj != NULL) {
		cfgerr_push(ld->e, "defaults", saved);
		cfg_check_keys(ld->e, obj, defaults_keys, NULL);
		config_level_read(ld, obj, "defaults", 1, lv);
		cfgerr_pop(ld->e, saved);
	}
	ld->cfg->defaults = lv->t;
	/* Defaults' source is as node-wide as the top-level one: it is what probes use. */
	ld->cfg->source = lv->src;
}

static void config_services(struct config_loader *ld, const json_t *top,
                            const struct config_level *defaults)
{
	const json_t *v = json_object_get(top, "services");
	char saved[CFG_PATH_MAX];

	if (v == NULL) {
		cfgerr_add(ld->e, "services", "required key is missing: at least one service");
		return;
	}
	if (!json_is_array(v) || json_array_size(v) == 0) {
		cfgerr_add(ld->e, "services", "expected non-empty array of services");
		return;
	}
	ld->cfg->services = calloc(json_array_size(v), sizeof(*ld->cfg->services));
	if (ld->cfg->services == NULL) {
		cfgerr_add(ld->e, "services", "out of memory");
		return;
	}
	cfgerr_push(ld->e, "services", saved);
	for (size_t i = 0; i < json_array_size(v); i++) {
		char in_services[CFG_PATH_MAX];
		cfgerr_push_index(ld->e, i, in_services);
		ld->cfg->nservices++;
		config_service_parse(ld, json_array_get(v, i), i, defaults, &ld->cfg->services[i]);
		cfgerr_pop(ld->e, in_services);
	}
	cfgerr_pop(ld->e, saved);
}

static void config_top(struct config_loader *ld, const json_t *top)
{
	struct config_level defaults;

	if (!json_is_object(top)) {
		cfgerr_add(ld->e, NULL, "expected object");
		return;
	}
	cfg_check_keys(ld->e, top, top_keys, NULL);
	config_level_source(ld, top, &ld->cfg->source);
	ld->cfg->source_check = true; /* checked in config_level_check_sources */
	cfg_bool(ld->e, top, "source_check", &ld->cfg->source_check);
	config_process_read(ld, top);
	config_speaker(ld, top);
	config_log(ld, top);
	config_control(ld, top);
	config_defaults(ld, top, &defaults);
	config_services(ld, top, &defaults);
	config_fleet(ld, top);
	config_level_check_sources(ld);
	config_bird_check(ld);
	config_frr_check(ld);
	config_process_check(ld);
}

/* text is NUL-terminated at len (the position index reads it as a C string). */
static struct config *config_load_buffer(const char *text, size_t len, const char *name,
                                         struct config_error *err)
{
	const char *old_file = err->file;
	const struct cfgpos *old_pos = err->pos;
	size_t old_nmsgs = err->nmsgs;
	json_error_t jerr;

	err->file = name;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (jerr.line > 0)
			config_raw_error(err, "%s:%d:%d: (parse): %s", name, jerr.line,
			                 jerr.column > 0 ? jerr.column : 1, jerr.text);
		else
			config_raw_error(err, "%s: (parse): %s", name, jerr.text);
		err->file = old_file;
		return NULL;
	}

	struct cfgpos *pos = cfgpos_lazy(text);
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct config_loader ld = {.cfg = cfg, .e = err, .seen = config_index_new()};
	err->pos = pos;
	err->base[0] = '\0';
	if (cfg == NULL || ld.seen == NULL || (cfg->file = strdup(name)) == NULL)
		config_raw_error(err, "%s: out of memory", name);
	else
		config_top(&ld, root);

	free(ld.srcs);
	config_index_free(ld.seen);
	json_decref(root);
	/* The messages are formatted already; the index dies here. */
	err->pos = old_pos;
	err->file = old_file;
	cfgpos_free(pos);
	if (err->nmsgs > old_nmsgs) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct config *config_load_string(const char *text, const char *name, struct config_error *err)
{
	return config_load_buffer(text, strlen(text), name != NULL ? name : "<string>", err);
}

struct config *config_load_file(const char *file, struct config_error *err)
{
	FILE *f = fopen(file, "rb");
	char *text = NULL;
	size_t len = 0;

	if (f == NULL) {
		config_raw_error(err, "%s: cannot open: %s", file, strerror(errno));
		return NULL;
	}
	for (;;) {
		char *p = realloc(text, len + 65536 + 1);
		if (p == NULL) {
			config_raw_error(err, "%s: out of memory", file);
			goto fail;
		}
		text = p;
		size_t n = fread(text + len, 1, 65536, f);
		len += n;
		if (n < 65536)
			break;
		if (len > CONFIG_MAX_SIZE) {
			config_raw_error(err, "%s: larger than %d bytes", file, CONFIG_MAX_SIZE);
			goto fail;
		}
	}
	if (ferror(f)) {
		config_raw_error(err, "%s: cannot read: %s", file, strerror(errno));
		goto fail;
	}
	fclose(f);
	text[len] = '\0';
	struct config *cfg = config_load_buffer(text, len, file, err);
	free(text);
	return cfg;
fail:
	fclose(f);
	free(text);
	return NULL;
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->file);
	config_process_free(&cfg->process);
	cfg_strv_free(cfg->speaker.neighbors);
	config_bird_free(&cfg->speaker.bird);
	config_gobgp_free(&cfg->speaker.gobgp);
	config_frr_free(&cfg->speaker.frr);
	config_fleet_free(&cfg->fleet);
	control_cfg_free(&cfg->control);
	for (size_t i = 0; i < cfg->nservices; i++)
		config_service_free(&cfg->services[i]);
	free(cfg->services);
	free(cfg);
}

void config_service_no_neighbors(struct config_loader *ld, size_t i)
{
	char path[64];
	snprintf(path, sizeof(path), "services[%zu]", i);
	/* With the speaker's selectors (refused there) every service holds a copy. */
	if (ld->cfg->services[i].neighbors != NULL && ld->cfg->speaker.neighbors == NULL)
		config_err_at(ld->e, path, "neighbors",
		              "ExaBGP neighbor selectors do not apply to speaker type \"%s\"",
		              config_speaker_type_name(ld->cfg->speaker.type));
}

void config_service_attrs(struct config_loader *ld, size_t i, config_attrs_fn fn)
{
	const struct service_cfg *svc = &ld->cfg->services[i];
	const struct {
		const char *key;
		const struct state_action *act;
	} actions[] = {
	        {"on_down", &svc->on_down},
	        {"on_disabled", &svc->on_disabled},
	        {"on_degraded", &svc->on_degraded},
	        {"on_last", &svc->on_last},
	};
	char path[64], sub[96];

	snprintf(path, sizeof(path), "services[%zu]", i);
	config_service_no_neighbors(ld, i);
	snprintf(sub, sizeof(sub), "%s.announce", path);
	fn(ld->e, sub, svc, &svc->announce, NULL);
	for (size_t k = 0; k < sizeof(actions) / sizeof(actions[0]); k++) {
		if (actions[k].act->withdraw)
			continue;
		snprintf(sub, sizeof(sub), "%s.%s", path, actions[k].key);
		fn(ld->e, sub, svc, &actions[k].act->attrs, &svc->announce);
	}
}

void config_next_hop_family(struct config_error *e, const char *path, const struct service_cfg *svc,
                            const struct route_attrs *a, const struct route_attrs *announce,
                            const char *need)
{
	unsigned char addr[sizeof(struct in6_addr)];

	if (a->next_hop == NULL || strcmp(a->next_hop, "self") == 0 ||
	    (announce != NULL && strcmp(a->next_hop, announce->next_hop) == 0))
		return;
	int family = inet_pton(AF_INET, a->next_hop, addr) == 1 ? AF_INET : AF_INET6;
	for (size_t i = 0; i < svc->nprefixes; i++) {
		if (svc->prefixes[i].family != 0 && svc->prefixes[i].family != family) {
			config_err_at(e, path, "next_hop",
			              "next hop %s is not of the family of prefixes[%zu]; %s (or "
			              "\"self\")",
			              a->next_hop, i, need);
			return;
		}
	}
}
