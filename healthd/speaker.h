/* The speaker: the route state (prefix -> announced with attributes, or withdrawn) is the
 * truth; a backend (ExaBGP text API now, BIRD later) makes the BGP speaker match it.
 * A backend never blocks the loop: when it has no room it refuses a command and calls
 * speaker_sync() again once it has drained. */
#ifndef HEALTHD_SPEAKER_H
#define HEALTHD_SPEAKER_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct speaker;

struct speaker_route {
	const struct service_cfg *svc;
	const struct prefix *pfx;
	const struct route_attrs *want; /* NULL: withdrawn */
	const struct route_attrs
	        *sent;           /* what the speaker was last told (&told); NULL: withdrawn */
	struct route_attrs told; /* the table's own copy: it outlives a reloaded config */
	bool known;              /* false until the speaker has been told anything */
	bool resend;             /* re-announce even though unchanged */
	bool retired; /* its service left the config at a reload: withdrawn, then dropped */
	uint64_t announces, withdraws; /* told so far (the metrics); kept across reloads */
};

/* What the backend did, for the metrics (metrics.c). Counters are counted by the backends
 * as they go; the gauges are filled on demand by ops->gauges. */
#define SPEAKER_REPLY_CODES 16
struct speaker_stats {
	uint64_t commands;   /* commands written to the speaker */
	uint64_t acks_done;  /* ExaBGP: "done" */
	uint64_t acks_error; /* ExaBGP: "error" */
	uint64_t configures; /* BIRD: "configure" commands */
	uint64_t reconnects; /* BIRD: greetings after the first */
	uint64_t connects;   /* BIRD: greetings */
	/* BIRD: replies by their final code; code -1: lost with the connection; the table's
	 * last slot takes every code that finds no room (code 0 is never a reply's). */
	struct {
		int code;
		uint64_t n;
	} replies[SPEAKER_REPLY_CODES];
	size_t nreplies;
	/* gauges */
	uint64_t unacked;       /* commands sent and not answered yet */
	uint64_t backlog_bytes; /* written by healthd, not yet taken by the speaker */
	bool connected;
};
/* Count one reply of code. */
void speaker_stats_reply(struct speaker_stats *st, int code);

struct speaker_ops {
	const char *name;
	/* Queue one command; 0, or -1 when there is no room now (retried after a drain). */
	int (*announce)(struct speaker *, const struct speaker_route *);
	int (*withdraw)(struct speaker *, const struct speaker_route *);
	void (*flush)(struct speaker *); /* start sending what is queued; never blocks */
	/* At exit only: wait up to timeout_ms for the queue to reach the speaker. 0 if it did. */
	int (*drain)(struct speaker *, uint32_t timeout_ms);
	/* How long the exit's withdrawals may take; 0: SPEAKER_DRAIN_MS. A speaker driven
	 * through a client per path (gobgp) needs longer than a pipe to ExaBGP. */
	uint32_t drain_ms;
	void (*close)(struct speaker *);
	/* Optional: sp->cfg and the route table were replaced by a reload. */
	void (*reconfigure)(struct speaker *);
	/* Optional: fill the gauges of sp->stats (unacked, backlog_bytes, connected). */
	void (*gauges)(struct speaker *);
};

/* Called once when the speaker goes away (EOF, EPIPE, shutdown notice). */
typedef void (*speaker_gone_fn)(void *arg, const char *why);
/* Called after a sync that changed what the speaker was told. */
typedef void (*speaker_told_fn)(void *arg);

struct speaker {
	const struct speaker_ops *ops;
	void *priv;
	struct event_base *base;
	const struct config *cfg;
	struct speaker_route *routes;
	size_t nroutes;
	bool gone;
	bool failed; /* gone through an I/O error, not a goodbye */
	speaker_gone_fn on_gone;
	void *gone_arg;
	speaker_told_fn on_told;
	size_t nretired; /* retired routes not yet withdrawn */
	struct speaker_stats stats;
};

struct speaker *speaker_new(const struct config *cfg, struct event_base *base,
                            speaker_gone_fn on_gone, void *arg);
/* Set what a service's prefixes should be (NULL: withdrawn) and send the difference. */
void speaker_set(struct speaker *sp, const struct service_cfg *svc, const struct route_attrs *want);
/* The same without sending: several services change, then one speaker_sync. */
void speaker_want(struct speaker *sp, const struct service_cfg *svc,
                  const struct route_attrs *want);
/* A reload: the table follows cfg's services. A route of a service that stays (same name
 * and prefix) keeps what the speaker was told, and wants nothing until speaker_want; one
 * whose service or prefix left is retired: withdrawn at the next sync, then dropped, its
 * svc still pointing into the old config until then (sp->nretired counts them).
 * -1 on allocation failure (the table is then unchanged). */
int speaker_reload(struct speaker *sp, const struct config *cfg);
/* True when the service's routes were told announced (any of its prefixes). */
bool speaker_announced(const struct speaker *sp, const char *service);
/* Send every route whose wanted state differs from what the speaker was told. */
void speaker_sync(struct speaker *sp);
/* Announce every announced route again (periodic re-announcement, when configured). */
void speaker_reannounce(struct speaker *sp);
#define SPEAKER_DRAIN_MS 2000 /* ExaBGP sends SIGTERM 0.1 s after its shutdown notice */

/* Withdraw everything announced, then wait (bounded by the backend's drain_ms) for it to
 * reach the speaker. */
int speaker_shutdown(struct speaker *sp);
/* For backends: the speaker went away (EOF, EPIPE, a shutdown notice); stops all further
 * writes. speaker_failed: the same, after an I/O error that is not a goodbye. */
void speaker_gone(struct speaker *sp, const char *why);
void speaker_failed(struct speaker *sp, const char *why);
void speaker_free(struct speaker *sp);

/* Backends. */
int exabgp_open(struct speaker *sp);
int bird_open(struct speaker *sp);         /* bird_speaker.c: BIRD's control socket */
int birdc_stdout_open(struct speaker *sp); /* bird_speaker.c: birdc commands on stdout */
int gobgp_open(struct speaker *sp);        /* gobgp.c: gobgpd through its gobgp client */
int frr_open(struct speaker *sp);          /* frr_speaker.c: FRR's bgpd through vtysh */

#endif
