/* The engine's run state, shared by its files (engine*.c); nothing outside them uses this.
 *
 *   engine.c         the loop, signals, one service's checks and timers, publishing
 *   engine_reload.c  SIGHUP and a config file that failed: re-read, compare, apply
 *   engine_state.c   the state file written on every change of what the speaker was told
 *   engine_stats.c   what the metrics and /status read: results, transitions, since when
 *   engine_safety.c  between health and speaker: flap damping and the fleet guard
 *
 * The control endpoint (control*.c, metrics*.c, status.c) reads this too, and changes the
 * run state only through engine_service_disable_api().
 *
 * The engine owns everything here; the config it runs (eng->cfg) is an immutable value
 * it owns too, and every engine_service points into it. */
#ifndef HEALTHD_ENGINE_PRIV_H
#define HEALTHD_ENGINE_PRIV_H

#include <event2/event.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "engine.h"
#include "service.h"
#include "speaker.h"

struct control;

/* Latency buckets (seconds, upper bounds): loopback answers in 100us, slow checks in s. */
#define ENGINE_LATENCY_BUCKETS 16
extern const double engine_latency_bounds[ENGINE_LATENCY_BUCKETS];
#define ENGINE_NSTATES (HS_DEGRADED + 1) /* HS_DEGRADED is the last health state */

/* One check's counters since it was built (a reload that changes the check starts them
 * again: Prometheus takes a counter reset). */
struct engine_check_stats {
	uint64_t runs;     /* results */
	uint64_t timeouts; /* results with reason timeout */
	uint64_t skipped;  /* runs due while the previous was still going */
	uint64_t dropped;  /* results of overlapping runs older than one already fed */
	uint64_t failures[PR_COUNT];
	uint64_t buckets[ENGINE_LATENCY_BUCKETS]; /* by the first bound >= latency; +Inf: runs */
	double latency_sum;                       /* seconds */
	struct timespec at;                       /* CLOCK_REALTIME of the last result */
	bool has_failure;
	enum probe_reason last_failure;
};

/* One service's standing for the status and metrics; kept when a reload rebuilds it. */
struct engine_service_stats {
	struct timeval since;     /* CLOCK_MONOTONIC: the current state began */
	struct timespec since_at; /* CLOCK_REALTIME of the same moment */
	char why[256];            /* the reason of the last change */
	uint64_t transitions[ENGINE_NSTATES][ENGINE_NSTATES]; /* [from][to] */
};

/* One probe object of a check and the number of the run it has (or last had) going. */
struct engine_run {
	struct probe *probe; /* built from the check's cfg; NULL until first needed */
	uint64_t seq;        /* runs are numbered as they start, from 1 */
};

/* A check runs on one probe, or on up to `fall` at once when its runs overlap (engine.c). */
/* At most this many runs of one check in flight at once (overlap). */
#define ENGINE_MAX_OVERLAP 8

struct engine_check {
	struct engine_service *es;
	size_t index;
	const struct check_cfg *cfg;
	/* runs[0].probe: the probe whose result was fed last (status and metrics read its
	 * result); the others are spares for overlapping runs. All owned (engine.c's
	 * engine_check_free). */
	struct engine_run *runs;
	size_t nruns;              /* 1, or fall when the check overlaps */
	struct probe *probe;       /* runs[0].probe */
	struct event *timer;       /* the regular schedule */
	struct event *look;        /* overlap: fast_interval after the newest run started */
	uint64_t started;          /* runs started */
	uint64_t fed;              /* the newest run whose result was fed */
	uint64_t regular;          /* the newest run the regular schedule started */
	uint64_t passed;           /* the newest run fed that passed */
	struct timeval last_start; /* CLOCK_MONOTONIC: the newest run started */
	struct timeval due; /* CLOCK_MONOTONIC: when the timer's run is due (engine_stats_fire) */
	uint32_t every_ms;  /* the interval that run was scheduled with */
	struct engine_check_stats stats;
};

/* How late the runs of every check started against their timers, process-wide (one
 * histogram, not one per check: 3,000 checks would add 50,000 series). */
struct engine_schedule_stats {
	uint64_t buckets[ENGINE_LATENCY_BUCKETS]; /* by engine_latency_bounds; +Inf: runs */
	uint64_t runs;                            /* timer runs started */
	uint64_t missed;                          /* whole intervals a run started late */
	double sum;                               /* seconds */
};

struct engine_service {
	struct engine *eng;
	const struct service_cfg *cfg;
	struct service *svc;
	struct engine_check *checks;
	size_t nchecks;
	struct event *poll_timer;
	bool poll_failed;             /* the disable file could not be looked at: said once */
	struct engine_safety *safety; /* damping and the fleet guard (engine_safety.c) */
	struct engine_service_stats stats;
};

struct engine {
	struct engine_opts opts;
	struct config *cfg; /* the running config; NULL while none was ever valid */
	bool hold;          /* cfg came from the state file: nothing probed, all withdrawn */
	/* Configs a reload replaced while routes of theirs were still to be withdrawn. */
	struct config **old;
	size_t nold;
	struct event_base *base;
	struct speaker *sp; /* NULL while no speaker is known */
	struct engine_service **services;
	size_t nservices;
	struct event *sig_term, *sig_int, *sig_hup, *reannounce;
	int exit_code;
	bool stopping;
	bool started; /* engine_run has set the services going */

	/* The config file while its last read failed: watched and re-read. */
	struct event *watch; /* every ENGINE_WATCH_MS */
	struct stat watched; /* what the file was at the last read */
	bool watched_ok;     /* watched is valid */
	char **errors;       /* the last read's errors, logged again every minute */
	size_t nerrors;
	struct timeval errors_logged;
	struct event *stdin_ev; /* no speaker: stdin's EOF still ends healthd */

	struct fleet *fleet; /* the fleet guard's poller; NULL: no fleet */

	/* engine_state.c */
	char *state_file; /* NULL: none */
	struct event *state_ev;
	bool state_failed;

	/* engine_stats.c: the process and its config, for the metrics and /status */
	struct timespec started_at; /* CLOCK_REALTIME */
	struct timespec loaded_at;  /* the running config was loaded; 0 while none */
	struct timespec reload_at;  /* the last reload; 0 while none was tried */
	bool reload_ok;             /* its result */
	struct engine_schedule_stats schedule;

	struct control *ctl; /* the control endpoint (control.c); NULL while off */
};

/* engine.c */
struct engine_service *engine_service_new(struct engine *eng, const struct service_cfg *cfg);
void engine_service_start(struct engine_service *es);
void engine_service_free(struct engine_service *es);
void engine_publish(struct engine_service *es);
/* Open the speaker for eng->cfg; 0 or -1 (logged). */
int engine_speaker_open(struct engine *eng);
void engine_speaker_close(struct engine *eng);

/* engine_reload.c */
/* Re-read the config file and apply it; why: "SIGHUP", "the file changed". */
void engine_reload(struct engine *eng, const char *why);
/* Keep the file's errors (steals them) and watch it until a read succeeds. */
void engine_wait(struct engine *eng, char **errors, size_t nerrors);
/* Free the replaced configs once no route of theirs is left to withdraw. */
void engine_release_old(struct engine *eng);
void engine_reload_free(struct engine *eng);

/* engine_safety.c */
int engine_safety_new(struct engine_service *es);
void engine_safety_free(struct engine_service *es);
/* A reload rebuilt old as es: keep its damping history and guard hold. */
void engine_safety_adopt(struct engine_service *es, const struct engine_service *old);
/* What the service's prefixes should be now: service_route(), then damping, then the
 * fleet guard. NULL: withdrawn. */
const struct route_attrs *engine_route(struct engine_service *es);
/* For status and metrics: "LAST", "DAMPED", else the health state's name. */
const char *engine_safety_state(const struct engine_service *es);
bool engine_safety_last(const struct engine_service *es);
/* The next failing step may withdraw the route: peers must not count on this node. */
bool engine_safety_falling(const struct engine_service *es);
uint64_t engine_safety_hold_left_ms(const struct engine_service *es);
/* What the route does now: "announce", "on_degraded", "on_down", "on_disabled",
 * "on_last" or "withdraw". */
const char *engine_safety_action(const struct engine_service *es);
/* The fleet guard's part of a service's status ({"last", "since", "announcing"}), or
 * NULL without a fleet; and the fleet's own ({"peers": [...], "min_others"}). */
json_t *engine_safety_status(const struct engine_service *es);
json_t *engine_fleet_status(const struct engine *eng);
/* Start, replace or stop the fleet poller to match eng->cfg. */
void engine_fleet_update(struct engine *eng);
/* Stopping: no more polls, no hold_down timer. */
void engine_safety_stop(struct engine *eng);
/* engine_stats.c */
void engine_stats_result(struct engine_check *ec, const struct probe_result *r);
/* The check's timer fired: how late against ec->due, into eng->schedule. */
void engine_stats_fire(struct engine_check *ec);
/* The service's state changed from old (why: printf-like, for /status). */
void engine_stats_state(struct engine_service *es, enum health_state old, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* A fresh service: in its state since now. */
void engine_stats_init(struct engine_service *es);
/* Disable or enable a service through the control endpoint (changes, logs and publishes);
 * true when its state changed. */
bool engine_service_disable_api(struct engine_service *es, bool disabled, const char *why);
/* The service of that name, or NULL. */
struct engine_service *engine_service_find(struct engine *eng, const char *name);

/* engine_state.c */
int engine_state_init(struct engine *eng);
/* The speaker told something: write the state file at the end of this loop iteration. */
void engine_state_changed(void *arg);
/* healthd is about to become process->user: the state file and healthd's own default
 * directory become that user's, so that it can still replace the file. */
void engine_state_owner(struct engine *eng, const struct process_cfg *process);
/* Write it now (at exit). */
void engine_state_flush(struct engine *eng);
void engine_state_free(struct engine *eng);

#endif
