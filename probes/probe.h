/* The probe interface every probe type implements, and the one funnel every run ends in.
 *
 * A run starts with probe_run() and ends in exactly one probe_done(): probe.c owns the
 * deadline (a run still going at its deadline ends as a timeout) and calls ops->cancel to
 * release the run's transient resources before reporting. A probe never sees rise/fall. */
#ifndef HEALTHD_PROBE_H
#define HEALTHD_PROBE_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include "../lib/cfgerr.h"
#include "net.h"

enum probe_status {
	PROBE_OK,      /* healthy */
	PROBE_WARNING, /* healthy, with a warning (exec exit 1) */
	PROBE_FAIL,    /* unhealthy */
	PROBE_ERROR,   /* healthd could not run the probe: counts as unhealthy */
};

/* Reason codes; their status, short code and text live in one table (probe.c). */
enum probe_reason {
	PR_OK,
	PR_WARNING,
	PR_TIMEOUT,
	PR_REFUSED,
	PR_UNREACHABLE,
	PR_CONNECT,
	PR_RESET,
	PR_SEND,
	PR_RECV,
	PR_CLOSED,
	PR_EXPECT,
	PR_EXIT,
	PR_SIGNAL,
	PR_SPAWN,
	PR_BAD_RCODE,
	PR_BAD_FLAGS,
	PR_BAD_ANSWER,
	PR_BAD_IDENTITY,
	PR_NO_ADDRESS,
	PR_BAD_STATUS,
	PR_BODY_MISMATCH,
	PR_STALE_SERIAL,
	PR_TRANSFER,
	PR_PRIMARIES_SILENT,
	PR_TLS,
	PR_LIMIT, /* a limit of healthd's (probe_limits.h), not of the service */
	PR_INTERNAL,
	PR_COUNT
};

struct probe_reason_info {
	enum probe_status status;
	const char *code; /* short, stable: "timeout", "refused", "bad-rcode" */
	const char *text; /* human: "connection refused" */
};

struct probe_result {
	enum probe_status status;
	enum probe_reason reason;
	uint32_t latency_us; /* from probe_run to probe_done */
	char detail[256];    /* what the probe saw: "connected to 127.0.0.1:53" */
};

struct probe;
typedef void (*probe_done_fn)(struct probe *, const struct probe_result *, void *arg);

struct probe_ops {
	const char *name;        /* "tcp", "exec", "dns", "http" */
	const char *const *keys; /* config keys of this type, besides the common ones */
	int (*configure)(struct probe *, const json_t *, struct config_error *);
	void (*start)(struct probe *, struct event_base *, const struct timeval *deadline);
	void (*cancel)(struct probe *);           /* release the run's resources; idempotent */
	void (*free)(struct probe *);             /* free priv */
	json_t *(*to_json)(const struct probe *); /* normalized type-specific keys */
	/* Optional: the run reached its deadline, before cancel; a last chance to log what
	 * it saw (the output of a command that hung), or to end the run itself with a more
	 * precise probe_done (what it was still waiting for): probe.c's own timeout report
	 * is then ignored. */
	void (*expire)(struct probe *);
	/* Optional: free what the probe keeps on its event_base between runs (probe_release). */
	void (*release)(struct probe *);
};

struct probe {
	const struct probe_ops *ops;
	void *priv;                /* the type's own state */
	char *label;               /* for logs: "tcp 127.0.0.1:53"; set by configure */
	char *service;             /* owning service, for HEALTHD_SERVICE */
	struct source_addr source; /* resolved: check, else service, else node-wide */
	uint32_t timeout_ms;
	bool warning_is_failure;  /* exec exit 1 fails the run ("warning_is": "failure") */
	bool warning_is_degraded; /* exec exit 1 passes, degraded ("warning_is": "degraded") */

	/* run state, owned by probe.c */
	struct event_base *base;
	struct event *deadline_ev;
	struct timeval started; /* CLOCK_MONOTONIC (lib/monotime.h) */
	bool running;
	bool counted;      /* this run counts against max_running (probe_limits.c) */
	size_t read_bytes; /* what this run has read, against max_read_bytes */
	bool starting;     /* inside ops->start: a result waits for the loop (pending) */
	bool pending;
	enum probe_reason pending_reason;
	char pending_detail[256];
	probe_done_fn on_done;
	void *on_done_arg;
	struct probe_result last;
	/* What the last run saw, for `healthd probe` and status output: {"rcode": "NOERROR",
	 * "nsid": "node1", ...}. Emptied by probe_run, kept after probe_done. */
	json_t *facts;
	/* Set by an owner that never reads facts (the daemon's engine): facts stays NULL,
	 * probe_fact drops what it is given, and probe_wants_facts() tells a type it need
	 * not build them at all. */
	bool no_facts;
};

/* Common check keys handled by config.c, not by the type. */
extern const char *const probe_common_keys[];

const struct probe_ops *probe_ops_find(const char *type);
const char *probe_types(void); /* "tcp, exec" for error messages */

/* Allocate a probe of ops and call its configure. NULL on error (recorded in err). */
struct probe *probe_new(const struct probe_ops *ops, const json_t *obj, struct config_error *err);
void probe_set_done(struct probe *p, probe_done_fn fn, void *arg);
/* Start a run with deadline now + timeout_ms. A run already going is left alone. */
void probe_run(struct probe *p, struct event_base *base);
/* End the current run (ignored when none is running). The funnel for every outcome.
 * Called from inside ops->start (a failure found at once), the result is reported from
 * the loop: no caller sees its done callback before probe_run has returned. */
void probe_done(struct probe *p, enum probe_reason reason, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Record a fact of the current run under key (steals value; NULL values are ignored). */
void probe_fact(struct probe *p, const char *key, json_t *value);
/* False when the probe's owner reads no facts: a type may skip building them. */
static inline bool probe_wants_facts(const struct probe *p)
{
	return !p->no_facts;
}
/* Stop a run without reporting it. */
void probe_cancel(struct probe *p);
/* Stop a run and free what ties the probe to its event_base (before the base is freed). */
void probe_release(struct probe *p);
void probe_free(struct probe *p);

const struct probe_reason_info *probe_reason_info(enum probe_reason r);
const char *probe_status_name(enum probe_status s); /* "ok", "warning", "fail", "error" */
/* The reason a socket call failed with errno err: refused, unreachable, reset, internal
 * (out of memory or buffers), else dflt (PR_CONNECT, PR_SEND, PR_RECV). */
enum probe_reason probe_errno_reason(int err, enum probe_reason dflt);
bool probe_result_healthy(const struct probe *p, const struct probe_result *r);
/* A healthy result that says the service is degraded: a warning the check grades so
 * ("warning_is": "degraded"). Slowness (degraded_after) is the engine's to judge. */
bool probe_result_degraded(const struct probe *p, const struct probe_result *r);

/* The registry: one line per type in probe.c. */
extern const struct probe_ops probe_tcp_ops;
extern const struct probe_ops probe_exec_ops;
extern const struct probe_ops probe_http_ops;
extern const struct probe_ops probe_dns_ops;
extern const struct probe_ops probe_dns_serial_ops;
extern const struct probe_ops probe_dns_axfr_ops;

#endif
