/* The process-wide probe limits and the counters they are checked against. */
#include <stdio.h>

#include "probe_limits.h"
#include "probe.h"

static struct probe_limits limits = {.max_running = 0, .max_read_bytes = 0, .root_exec = true};
static unsigned running;

void probe_limits_set(const struct probe_limits *l)
{
	limits = *l;
}

const struct probe_limits *probe_limits_get(void)
{
	return &limits;
}

bool probe_limits_enter(void)
{
	if (limits.max_running > 0 && running >= limits.max_running)
		return false;
	running++;
	return true;
}

void probe_limits_leave(void)
{
	if (running > 0)
		running--;
}

unsigned probe_limits_running(void)
{
	return running;
}

bool probe_limits_read(struct probe *p, size_t n)
{
	p->read_bytes += n;
	return limits.max_read_bytes == 0 || p->read_bytes <= limits.max_read_bytes;
}

void probe_limits_read_exceeded(struct probe *p, const char *what)
{
	probe_done(p, PR_LIMIT, "read more than max_read_bytes (%zu bytes): %s",
	           limits.max_read_bytes, what);
}
