/* The fleet guard's rule and the peers' status it reads: pure, no I/O, no clock.
 *
 * When a service's route would become a withdrawal, the node first counts the other
 * nodes that announce that service healthily (UP or DEGRADED, announced, not falling).
 * With fewer than min_others it keeps announcing with on_last's attributes: the last
 * copy of an anycast prefix is never withdrawn by a health check. */
#ifndef HEALTHD_GUARD_H
#define HEALTHD_GUARD_H

#include <stdbool.h>
#include <stddef.h>

/* Why the route would be withdrawn. */
enum guard_why {
	GUARD_DOWN,              /* the checks failed */
	GUARD_DISABLED_FILE,     /* the disable file exists */
	GUARD_DISABLED_OPERATOR, /* an operator's explicit disable (API, CLI) */
	GUARD_DAMPED,            /* flap damping holds it in its on_down action */
	GUARD_NO_ADDRESS,        /* the service's address is not configured locally */
};

struct guard_case {
	bool announced; /* the prefixes are announced now (normally or held) */
	enum guard_why why;
	bool opt_out;       /* on_last is "withdraw" */
	bool guard_disable; /* the guard also holds an operator's disable */
	size_t announcing;  /* other nodes announcing the service healthily */
	int min_others;
};

/* Whether to keep announcing (with on_last) instead of withdrawing. */
bool guard_holds(const struct guard_case *c);

/* One peer's services as its GET /status said. */
struct guard_view_svc {
	char *name;
	bool healthy; /* UP or DEGRADED, announced, not falling */
};

struct guard_view {
	struct guard_view_svc *svcs;
	size_t n;
};

/* Parse a peer's status body: {"services": [{"name", "state", "announced", "falling"}]}.
 * 0, or -1 with a reason in err (garbage counts as announcing nothing). */
int guard_view_parse(const char *body, size_t len, struct guard_view *out, char *err,
                     size_t errlen);
bool guard_view_announces(const struct guard_view *v, const char *service);
void guard_view_free(struct guard_view *v);

#endif
