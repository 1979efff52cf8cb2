/* Commands run one after another, each through child.c (own process group, reaped) and
 * each with a deadline at which its whole group is killed: the healthcheck drop-in's
 * hooks and `ip address` commands. The original runs them with subprocess.call(), which
 * waits for ever. */
#include <stdlib.h>
#include <string.h>

#include "../probes/child.h"
#include "compat.h"
#include "../lib/log.h"

struct compat_jobs {
	struct event_base *base;
	struct child *child;
	struct event *timer;
	size_t n, i;
	uint32_t timeout_ms;
	compat_job_fill fill;
	compat_job_done done;
	compat_jobs_end end;
	void *arg;
};

static void jobs_next(struct compat_jobs *j);

/* One job ended (wstatus, or COMPAT_JOB_TIMEOUT / COMPAT_JOB_SPAWN): tell the owner, go on. */
static void jobs_finished(struct compat_jobs *j, int wstatus)
{
	size_t i = j->i++;
	if (!j->done(j->arg, i, wstatus)) {
		j->n = 0; /* the owner stopped the series (and may have freed its state) */
		return;
	}
	jobs_next(j);
}

static void jobs_child_done(struct child *c, int wstatus, void *arg)
{
	struct compat_jobs *j = arg;
	j->child = NULL;
	child_free(c);
	evtimer_del(j->timer);
	jobs_finished(j, wstatus);
}

static void jobs_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct compat_jobs *j = arg;
	child_free(j->child); /* kills its whole group; the reaper collects it */
	j->child = NULL;
	jobs_finished(j, COMPAT_JOB_TIMEOUT);
}

static void jobs_next(struct compat_jobs *j)
{
	while (j->i < j->n) {
		struct child_spec spec;
		struct timeval tv = {j->timeout_ms / 1000, (j->timeout_ms % 1000) * 1000};
		int err = 0;

		memset(&spec, 0, sizeof(spec));
		j->fill(j->arg, j->i, &spec);
		j->child = child_spawn(j->base, &spec, jobs_child_done, j, &err);
		if (j->child != NULL) {
			evtimer_add(j->timer, &tv);
			return;
		}
		log_warn("cannot run %s: %s", spec.shell ? spec.shell : spec.argv[0],
		         strerror(err));
		size_t i = j->i++;
		if (!j->done(j->arg, i, COMPAT_JOB_SPAWN))
			return;
	}
	j->n = 0;
	j->end(j->arg);
}

struct compat_jobs *compat_jobs_new(struct event_base *base)
{
	struct compat_jobs *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->base = base;
	j->timer = evtimer_new(base, jobs_timeout, j);
	if (j->timer == NULL) {
		free(j);
		return NULL;
	}
	return j;
}

void compat_jobs_start(struct compat_jobs *j, size_t n, uint32_t timeout_ms, compat_job_fill fill,
                       compat_job_done done, compat_jobs_end end, void *arg)
{
	compat_jobs_stop(j);
	j->n = n;
	j->i = 0;
	j->timeout_ms = timeout_ms;
	j->fill = fill;
	j->done = done;
	j->end = end;
	j->arg = arg;
	jobs_next(j);
}

void compat_jobs_stop(struct compat_jobs *j)
{
	if (j == NULL)
		return;
	child_free(j->child);
	j->child = NULL;
	evtimer_del(j->timer);
	j->n = j->i = 0;
}

void compat_jobs_free(struct compat_jobs *j)
{
	if (j == NULL)
		return;
	compat_jobs_stop(j);
	event_free(j->timer);
	free(j);
}
