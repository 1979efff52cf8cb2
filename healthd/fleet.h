/* The fleet guard's eyes: every `poll`, GET /status from each peer's control endpoint
 * over its unique address, from this node's unique source address, with libcurl's multi
 * interface on the engine's loop (probes/curlev.c), so that polling never delays a
 * probe. A request is bounded in time (one poll) and size; a peer that answers garbage,
 * an error or nothing announces nothing, and so does one not heard for `stale_after`. */
#ifndef HEALTHD_FLEET_H
#define HEALTHD_FLEET_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>

#include "config.h"

struct fleet;

/* Called after each peer's answer (or failure): held services may be released. */
typedef void (*fleet_changed_fn)(void *arg);

/* Start polling the peers of cfg->fleet (which must have some); NULL when out of memory
 * or libcurl cannot start (logged). The fleet copies what it needs from cfg. */
struct fleet *fleet_new(const struct config *cfg, struct event_base *base, fleet_changed_fn changed,
                        void *arg);
void fleet_free(struct fleet *f);
/* Whether f polls what cfg's fleet says (a reload that changes nothing keeps it). */
bool fleet_same(const struct fleet *f, const struct config *cfg);
/* The peers announcing service healthily now, heard within stale_after. With since
 * (monotonic) set, only answers to requests sent after since count: what a peer said
 * before this node began falling may predate the peer's own fall (docs/safety.md). */
size_t fleet_announcing(const struct fleet *f, const char *service, const struct timeval *since);
size_t fleet_npeers(const struct fleet *f);
int fleet_min_others(const struct fleet *f);
/* [{"peer": "ADDR:PORT", "heard": bool, "age_ms": N, "error": "..."}] for status. */
json_t *fleet_peers_json(const struct fleet *f);

#endif
