/* The configuration: JSON (jansson) -> validated structs. A config with any error is
 * refused whole; config_load returns NULL and every error is in err. */
#ifndef HEALTHD_CONFIG_H
#define HEALTHD_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../probes/net.h"
#include "../probes/probe.h"
#include "../lib/cfgerr.h"
#include "damping.h"
#include "control_cfg.h"
#include "prefix.h"

/* Defaults when no level sets them. */
#define CONFIG_DEFAULT_INTERVAL_MS      2000
#define CONFIG_DEFAULT_FAST_INTERVAL_MS 500
#define CONFIG_DEFAULT_TIMEOUT_MS       1000
#define CONFIG_DEFAULT_RISE             3
#define CONFIG_DEFAULT_FALL             3

struct timing {
	uint32_t interval_ms, fast_interval_ms, timeout_ms;
	int rise, fall;
};

struct route_attrs {
	char *next_hop;             /* "self" or an address; never NULL once loaded */
	long long med;              /* -1: not sent */
	long long local_preference; /* -1: not sent */
	char **communities;         /* NULL-terminated; NULL when none */
	char **large_communities;
	char **extended_communities;
	uint32_t *as_path;
	size_t nas_path;
	char *path_information; /* NULL: not sent */
};

/* What a service in a state does with its prefixes. */
struct state_action {
	bool withdraw;
	struct route_attrs attrs; /* announce's attributes with this state's replacements */
};

/* A check as configured: data only. The engine builds its probe (check_cfg_probe) and
 * owns it; the config never holds run state, so two configs can be compared. */
struct check_cfg {
	char *path; /* "services[0].checks[1]", for logs */
	struct timing timing;
	const struct probe_ops *ops;
	/* The check's object as written (what the probe is built from), and its normalized
	 * form (as `healthd check` prints it): compact JSON text, keys in their order. Text,
	 * not jansson trees: a tree takes several times the bytes, in dozens of allocations,
	 * and a large config holds thousands of checks. */
	char *spec;
	char *normal;
	struct source_addr source;  /* resolved: check, else service, else node-wide */
	uint32_t degraded_after_ms; /* a passing run slower than this is degraded; 0: never */
	/* A run with no answer after fast_interval gets another run of the check beside it
	 * (engine.c), up to fall in flight. Network probes only (tcp, http, dns): true unless
	 * "overlap": false; always false for the others. */
	bool overlap;
};

struct service_cfg {
	char *name;
	struct prefix *prefixes;
	size_t nprefixes;
	struct route_attrs announce;
	struct state_action on_down;     /* default: withdraw */
	struct state_action on_disabled; /* default: withdraw */
	struct state_action on_degraded; /* never withdraws; default: announce's attributes */
	struct damping_cfg damping;      /* max_flaps, flap_window, hold_down; off by default */
	struct state_action on_last;     /* the fleet guard holds with these; default: announce's */
	bool guard_disable;              /* the fleet guard also holds an operator's disable */
	char *disable_file;              /* NULL: none */
	char **neighbors;                /* NULL-terminated ExaBGP neighbor selectors, or NULL */
	char *bird_protocol;             /* BIRD protocol switched in mode "protocol", or NULL */
	int require;                     /* checks that must pass; default all */
	bool require_local_address;      /* down while no prefix address is on an interface */
	struct timing timing;            /* the service level's resolved timing */
	struct source_addr source;       /* the service level's resolved source */
	struct check_cfg *checks;
	size_t nchecks;
};

enum speaker_type {
	SPEAKER_EXABGP,
	SPEAKER_BIRD,         /* BIRD's control socket (bird.c) */
	SPEAKER_BIRDC_STDOUT, /* birdc commands on stdout, for "healthd run | birdc" */
	SPEAKER_GOBGP,        /* GoBGP's global RIB through its gobgp client (gobgp.c) */
	SPEAKER_FRR,          /* FRR's bgpd through vtysh (frr_speaker.c) */
};

/* BIRD has no runtime route-add command: healthd rewrites an include file and sends
 * "configure" (static), or enables and disables one protocol per service (protocol). */
enum bird_mode {
	BIRD_MODE_STATIC,
	BIRD_MODE_PROTOCOL,
};

enum bird_format {
	BIRD_FORMAT_ROUTES, /* static routes with their attributes */
	BIRD_FORMAT_SET,    /* prefix sets healthd_v4 / healthd_v6 for an export filter */
};

struct bird_cfg {
	char *socket; /* control socket (type bird) */
	enum bird_mode mode;
	enum bird_format format;
	char *include;         /* static: IPv4 routes, or both sets */
	char *include6;        /* static, routes: IPv6 routes (a static protocol has one family) */
	uint32_t batch_ms;     /* static: changes within this window share one configure */
	uint32_t gap_ms;       /* static: no configure sooner than this after the last answer */
	uint32_t reconnect_ms; /* longest wait between reconnects (type bird) */
	uint32_t reassert_ms;  /* protocol: re-assert every protocol this often; 0: never */
};

/* GoBGP (config_gobgp.c): paths added to gobgpd's global RIB by its own client. */
struct gobgp_cfg {
	char *api;            /* gobgpd's gRPC API, "HOST:PORT" */
	char *host, *port;    /* api split for the client's -u and -p */
	char *client;         /* the gobgp client program */
	char *mark;           /* "65535:4242": the community on every path healthd adds */
	uint32_t mark_value;  /* mark as GoBGP's JSON prints it: (A << 16) | B */
	uint32_t identifier;  /* path identifier of healthd's paths: others' paths stay */
	uint32_t batch_ms;    /* changes within this window share one pass */
	uint32_t reassert_ms; /* read gobgpd's RIB back and repair it this often */
	uint32_t timeout_ms;  /* one client run longer than this is killed */
};

/* FRR: "network" statements with HEALTHD-... route-maps, set through vtysh runs. */
struct frr_cfg {
	char *vty_socket;     /* the directory of FRR's vty sockets (vtysh --vty_socket) */
	char *vtysh;          /* the vtysh binary */
	uint32_t batch_ms;    /* changes within this window share one vtysh run */
	uint32_t reassert_ms; /* read FRR's state back and re-assert it this often; 0: never */
	uint32_t timeout_ms;  /* a vtysh run that takes longer is killed */
};

struct speaker_cfg {
	enum speaker_type type;
	struct bird_cfg bird;    /* types bird and birdc-stdout */
	struct gobgp_cfg gobgp;  /* type gobgp */
	struct frr_cfg frr;      /* type frr */
	char **neighbors;        /* default selectors for services that name none */
	uint32_t reannounce_ms;  /* 0: never re-announce */
	uint32_t ack_timeout_ms; /* how long an unanswered command is remembered */
	bool withdraw_on_start;  /* withdraw every prefix at start (routes a previous run left) */
};

struct log_cfg {
	bool syslog;
	int facility; /* LOG_DAEMON by default */
	int level;    /* LOG_INFO by default */
};

/* The fleet guard: the other nodes whose status is read, and the rule's numbers. */
struct fleet_peer_cfg {
	char *name; /* as written: "198.51.100.8:9187", "[2001:db8::8]:9187" */
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

struct fleet_cfg {
	struct fleet_peer_cfg *peers; /* NULL: no fleet guard */
	size_t npeers;
	int min_others;          /* other nodes that must announce before this one withdraws */
	uint32_t poll_ms;        /* how often each peer's status is read */
	uint32_t stale_after_ms; /* a peer not heard for this long announces nothing */
	char *token_file;        /* NULL: no token */
};

/* Who healthd runs as, and the limits it enforces on itself (config_process.c). */
#define CONFIG_DEFAULT_MAX_RUNNING    256
#define CONFIG_DEFAULT_MAX_READ_BYTES (32 * 1024 * 1024)
#define CONFIG_DEFAULT_MAX_OPEN_FILES 1024

struct process_cfg {
	char *user;  /* drop root to this user before the first probe; NULL: stay */
	char *group; /* its group: the user's primary group unless set; NULL with user */
	uid_t uid;   /* resolved when the config is loaded: a missing user is an error */
	gid_t gid;
	bool allow_root_exec;    /* exec checks may run while healthd is root */
	unsigned max_running;    /* probe runs at once */
	size_t max_read_bytes;   /* bytes one probe run may read */
	unsigned max_open_files; /* RLIMIT_NOFILE, soft and hard */
};

struct config {
	char *file;
	struct process_cfg process;
	struct source_addr source;
	bool source_check; /* refuse a source not configured locally (DNS issue) */
	struct speaker_cfg speaker;
	struct log_cfg log;
	struct fleet_cfg fleet;
	struct control_cfg control; /* the control endpoint (control.c); off by default */
	struct timing defaults;
	struct service_cfg *services;
	size_t nservices;
};

/* The end of the message that refuses a source no local interface has: advice for a config
 * file, which `healthd probe` replaces with its own. */
#define CONFIG_SOURCE_CHECK_HINT " (set \"source_check\": false to skip)"

struct config *config_load_file(const char *file, struct config_error *err);
struct config *config_load_string(const char *text, const char *name, struct config_error *err);
/* The normalized config: every default filled in, durations in canonical form. */
json_t *config_to_json(const struct config *cfg);
/* The same without "services", the last member of config_to_json's object. */
json_t *config_head_json(const struct config *cfg);
/* config_to_json's text (indent 2, members in order) written to out one service at a
 * time, so a large config's normalized form is never held whole. 0, or -1 when memory
 * or the write failed. */
int config_write(const struct config *cfg, FILE *out);
/* The normalized "fleet" object; NULL when there is no fleet guard. */
json_t *config_fleet_json(const struct config *cfg);
/* The normalized "speaker" object. */
json_t *config_speaker_to_json(const struct config *cfg);
/* One service's normalized form; two services with equal forms behave the same. */
json_t *config_service_to_json(const struct service_cfg *svc);
/* The same without its checks (a reload compares those one by one: config_check_same). */
json_t *config_service_head_json(const struct service_cfg *svc);
/* How a check's spec and normal texts are written. */
#define CHECK_TEXT_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)
/* A check's normalized form as a new JSON value (the caller's); NULL when out of memory. */
json_t *check_cfg_normal(const struct check_cfg *chk);
/* A new probe for chk, of service svc_name. NULL on error (recorded in err): the files a
 * probe reads at configure time may have changed since the config was loaded. */
struct probe *check_cfg_probe(const struct check_cfg *chk, const char *svc_name,
                              struct config_error *err);
void config_free(struct config *cfg);
void route_attrs_init(struct route_attrs *a);
void route_attrs_free(struct route_attrs *a);
int route_attrs_copy(struct route_attrs *dst, const struct route_attrs *src);
bool route_attrs_equal(const struct route_attrs *a, const struct route_attrs *b);

#endif
