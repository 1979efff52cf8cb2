/* The limits every probe run obeys, whatever its type: how many runs may go at once, how
 * many bytes one run may read, and whether an exec probe may run as root. The daemon sets
 * them once from its config (healthd/proclimits.c); until then nothing is limited, which is
 * what `healthd probe` and the unit tests get. A run that hits a limit ends as a failure
 * with reason PR_LIMIT, never as a crash. */
#ifndef HEALTHD_PROBE_LIMITS_H
#define HEALTHD_PROBE_LIMITS_H

#include <stdbool.h>
#include <stddef.h>

struct probe;

struct probe_limits {
	unsigned max_running;  /* probe runs going at once; 0: no limit */
	size_t max_read_bytes; /* bytes one run may read (output, body, replies); 0: no limit */
	bool root_exec;        /* an exec probe may run while healthd is root */
};

void probe_limits_set(const struct probe_limits *l);
const struct probe_limits *probe_limits_get(void);

/* probe.c: a run starts (false when max_running runs go already) and ends. */
bool probe_limits_enter(void);
void probe_limits_leave(void);
unsigned probe_limits_running(void);

/* Count n more bytes read by p's current run: false once the run has read more than
 * max_read_bytes, and the caller then ends the run with probe_limits_read_exceeded. */
bool probe_limits_read(struct probe *p, size_t n);
/* End p's run with PR_LIMIT for reading too much; what names the source ("output of
 * the command", "reply from 127.0.0.1:53"). */
void probe_limits_read_exceeded(struct probe *p, const char *what);

#endif
