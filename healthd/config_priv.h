/* Shared between the config loader's files (config*.c); nothing outside them uses this. */
#ifndef HEALTHD_CONFIG_PRIV_H
#define HEALTHD_CONFIG_PRIV_H

#include <jansson.h>
#include <netinet/in.h>

#include "../lib/cfgerr.h"
#include "config.h"
#include "config_index.h"

/* A source address as written at one level, kept until every prefix is known so that a
 * source inside any announced prefix can be refused. */
struct config_source_use {
	char path[CFG_PATH_MAX]; /* "services[0].checks[1].source.ipv4" */
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
};

struct config_loader {
	struct config *cfg;
	struct config_error *e;
	struct config_source_use *srcs;
	size_t nsrcs;
	struct config_index *seen; /* names and prefixes so far: duplicates in O(1) */
};

/* The inherited settings: defaults, then a service, then a check; the nearest wins. */
enum {
	CL_INTERVAL,
	CL_FAST_INTERVAL,
	CL_TIMEOUT,
	CL_RISE,
	CL_FALL,
	CL_NFIELDS,
};

struct config_level {
	struct timing t;
	/* The path of the object that set each field, NULL when built in, and how deep it
	 * is (0 built in, 1 defaults, 2 service, 3 check): errors go to the nearest. */
	const char *from[CL_NFIELDS];
	int depth[CL_NFIELDS];
	struct source_addr src;
};

/* config_level.c */
void config_level_init(struct config_level *l);
/* Read the timing keys and source of obj, at e->base == path (which must outlive l),
 * over the inherited values in l. */
void config_level_read(struct config_loader *ld, const json_t *obj, const char *path, int depth,
                       struct config_level *l);
/* Only the "source" member of obj, at e->base. */
void config_level_source(struct config_loader *ld, const json_t *obj, struct source_addr *src);
/* The checks between fields, on a check's resolved values. */
void config_level_validate(struct config_loader *ld, const struct config_level *l);
/* Refuse every source inside an announced prefix; call once all services are read. */
void config_level_check_sources(struct config_loader *ld);

/* config_service.c */
void config_service_parse(struct config_loader *ld, const json_t *obj, size_t index,
                          const struct config_level *defaults, struct service_cfg *svc);
void config_service_free(struct service_cfg *svc);

/* config_attrs.c */
/* Replace the attributes obj gives (obj at e->base); keys it does not give stay. */
int route_attrs_parse(struct config_error *e, const json_t *obj, struct route_attrs *a);
/* on_down / on_disabled: "withdraw", or an object replacing some of announce's attributes. */
int route_attrs_action(struct config_error *e, const json_t *svc, const char *key,
                       const struct route_attrs *announce, struct state_action *out);
json_t *route_attrs_to_json(const struct route_attrs *a);
json_t *route_attrs_action_to_json(const struct state_action *act);

/* config_safety.c */
/* A service's max_flaps, flap_window, hold_down, on_last, guard_disable (obj at e->base,
 * announce already read). */
void config_safety_service(struct config_loader *ld, const json_t *obj, struct service_cfg *svc);
void config_safety_service_to_json(json_t *o, const struct service_cfg *svc);
void config_safety_service_free(struct service_cfg *svc);
/* The top-level "fleet" (absent: no fleet guard). */
void config_fleet(struct config_loader *ld, const json_t *top);
json_t *config_fleet_to_json(const struct fleet_cfg *f);
void config_fleet_free(struct fleet_cfg *f);

/* config_print.c */
/* A check's normalized form, from the probe built to validate it (p->source set). */
json_t *config_check_to_json(const struct check_cfg *chk, const struct probe *p);

/* config.c */
/* What a speaker checks of one set of attributes: a at path (e.g.
 * "services[0].on_down"), announce NULL for announce itself, else the attributes a
 * replaces some of. */
typedef void (*config_attrs_fn)(struct config_error *e, const char *path,
                                const struct service_cfg *svc, const struct route_attrs *a,
                                const struct route_attrs *announce);
/* fn on every set of attributes service index i announces with (announce, and each
 * state action that does not withdraw); and config_service_no_neighbors. */
void config_service_attrs(struct config_loader *ld, size_t i, config_attrs_fn fn);
/* A next hop a (announce NULL, or the attributes a replaces some of) gives that is not of
 * the family of every prefix of svc: an error ending in need ("BIRD needs one of the
 * route's family"). "self", and announce's own next hop repeated, are not looked at. */
void config_next_hop_family(struct config_error *e, const char *path, const struct service_cfg *svc,
                            const struct route_attrs *a, const struct route_attrs *announce,
                            const char *need);
/* Refuse service i's ExaBGP neighbor selectors: only ExaBGP has them. */
void config_service_no_neighbors(struct config_loader *ld, size_t i);
/* A duration in its normalized form ("1s500ms"). */
json_t *config_duration_json(uint32_t ms);
/* An error at path + key, wherever e->base is now. */
void config_err_at(struct config_error *e, const char *path, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* Neighbor selectors for the ExaBGP API: non-empty, no commas (they separate selectors). */
int config_neighbors(struct config_error *e, const json_t *obj, const char *key, char ***out);
const char *config_log_facility_name(int facility); /* "daemon", "local0", ... */
const char *config_log_level_name(int level);       /* "error", "warning", ... */

/* config_process.c: "user", "group", "allow_root_exec", "limits" of the top object. */
void config_process_read(struct config_loader *ld, const json_t *top);
/* Refuse exec checks that would run as root; call once all services are read. */
void config_process_check(struct config_loader *ld);
void config_process_to_json(json_t *o, const struct process_cfg *pc);
void config_process_free(struct process_cfg *pc);

/* config_control.c */
/* The "control" section (top at e->base). */
void config_control(struct config_loader *ld, const json_t *top);

/* config_bird.c */
int config_speaker_type(const char *name, enum speaker_type *out); /* 0, or -1 if unknown */
const char *config_speaker_type_name(enum speaker_type t);
/* BIRD's keys of the speaker object (obj at e->base); refused for type exabgp. */
void config_bird_speaker(struct config_error *e, const json_t *obj, struct speaker_cfg *sp);
/* A service's "bird_protocol" (obj at e->base); needs the speaker read first. */
void config_bird_service(struct config_loader *ld, const json_t *obj, size_t index,
                         struct service_cfg *svc);
/* What the BIRD mode cannot express; call once all services are read. */
void config_bird_check(struct config_loader *ld);
void config_bird_to_json(json_t *o, const struct speaker_cfg *sp);
void config_bird_free(struct bird_cfg *b);

/* config_gobgp.c */
/* GoBGP's keys of the speaker object (obj at e->base), for type gobgp only. */
void config_gobgp_speaker(struct config_error *e, const json_t *obj, struct speaker_cfg *sp);
/* GoBGP's keys given to another speaker type: each refused. */
void config_gobgp_foreign(struct config_error *e, const json_t *obj);
/* What GoBGP's client cannot add; call once all services are read. */
void config_gobgp_check(struct config_loader *ld);
void config_gobgp_to_json(json_t *o, const struct speaker_cfg *sp);
void config_gobgp_free(struct gobgp_cfg *g);
/* config_frr.c */
/* FRR's keys of the speaker object (obj at e->base); refused for the other types. */
void config_frr_speaker(struct config_error *e, const json_t *obj, struct speaker_cfg *sp);
/* What FRR's route-maps cannot carry; call once all services are read. */
void config_frr_check(struct config_loader *ld);
void config_frr_to_json(json_t *o, const struct speaker_cfg *sp);
void config_frr_free(struct frr_cfg *f);

#endif
