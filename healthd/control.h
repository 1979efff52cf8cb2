/* The control endpoint: a small HTTP/1.1 server on the engine's own loop, on the TCP and
 * unix sockets of the config's "control" section (docs/control.md).
 *
 *   GET  /metrics                 Prometheus text format 0.0.4 (metrics.c)
 *   GET  /status, /status/NAME    JSON (status.c)
 *   POST /services/NAME/disable   {"reason": "..."} optional; /enable
 *
 * Writes change routing: they are taken over a unix socket (whose mode and group the
 * config sets) or with "Authorization: Bearer TOKEN" matching control.token_file.
 *
 * Every connection is bounded (count, header and body size, one deadline for the whole
 * request), one request per connection, and nothing in here ever blocks: a slow or
 * hostile client costs a socket and a few kilobytes, never a probe's time. */
#ifndef HEALTHD_CONTROL_H
#define HEALTHD_CONTROL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct engine;
struct control;

#define CONTROL_MAX_CONNS  512   /* open connections; more are closed at once */
#define CONTROL_MAX_HEADER 8192  /* request line and headers */
#define CONTROL_MAX_BODY   4096  /* a write's JSON body */
#define CONTROL_REQUEST_MS 10000 /* from accept to the last byte of the reply */
#define CONTROL_REASON_MAX 200   /* characters of a disable's reason */
#define CONTROL_CACHE_MS   250   /* /metrics and /status are rendered at most this often */

/* A disable through the API: why, who asked (unix "uid N", or "token") and when. */
struct control_disable {
	char *service;
	char *reason;
	char *by;
	struct timespec at; /* CLOCK_REALTIME */
};

/* Start what eng->cfg->control asks for (eng->ctl stays NULL when it is off), read the
 * API disables of its state file and apply them. A listener that cannot be set up is
 * logged and left out: routing goes on without it. 0, or -1 when out of memory. */
int control_start(struct engine *eng);
/* A reload replaced eng->cfg: re-bind when the control section changed, drop the API
 * disables of services that left, apply the rest to the (maybe rebuilt) services. */
void control_reload(struct engine *eng);
void control_free(struct control *ctl);
/* A service's state or route changed: the next /status and /metrics are rendered anew,
 * so a peer's fleet guard never reads a state older than its request (docs/safety.md). */
void control_changed(struct control *ctl);

/* The API disable of a service, or NULL. */
const struct control_disable *control_disabled(const struct control *ctl, const char *service);
/* For the metrics: open connections and those closed at once for the cap. */
void control_counts(const struct control *ctl, uint64_t *open, uint64_t *refused);

#endif
