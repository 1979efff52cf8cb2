/* The state file, kept by the engine: written at the end of every loop iteration in which
 * the speaker was told something, so that a burst of changes costs one write. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/log.h"
#include "engine_priv.h"
#include "statefile.h"

static void state_write(struct engine *eng)
{
	char why[512];

	if (eng->state_file == NULL || eng->cfg == NULL || eng->sp == NULL)
		return;
	if (statefile_write(eng->state_file, eng->cfg, eng->sp, why, sizeof(why)) != 0) {
		if (!eng->state_failed)
			log_warn("cannot write the state file: %s (a restart with a broken config "
			         "cannot tell what to withdraw)",
			         why);
		eng->state_failed = true;
		return;
	}
	if (eng->state_failed)
		log_info("state file %s written again", eng->state_file);
	eng->state_failed = false;
}

static void state_cb(evutil_socket_t fd, short what, void *arg)
{
	state_write(arg);
}

int engine_state_init(struct engine *eng)
{
	if (eng->opts.no_state_file)
		return 0;
	if (eng->opts.state_file != NULL) {
		eng->state_file = strdup(eng->opts.state_file);
	} else {
		eng->state_file = statefile_default_path(eng->opts.config_file);
		/* The default directory is healthd's own: made when missing. */
		if (eng->state_file != NULL && getenv("STATE_DIRECTORY") == NULL &&
		    mkdir(STATEFILE_DIR, 0755) != 0 && errno != EEXIST)
			log_debug("mkdir %s: %s", STATEFILE_DIR, strerror(errno));
	}
	if (eng->state_file == NULL)
		return -1;
	eng->state_ev = evtimer_new(eng->base, state_cb, eng);
	return eng->state_ev != NULL ? 0 : -1;
}

void engine_state_owner(struct engine *eng, const struct process_cfg *process)
{
	if (eng->state_file == NULL || process->user == NULL || geteuid() != 0 || process->uid == 0)
		return;
	char *copy = strdup(eng->state_file);
	const char *dir = copy != NULL ? dirname(copy) : NULL;
	/* Only healthd's own directory: $STATE_DIRECTORY is systemd's to own, and a path
	 * named by --state-file is the operator's. */
	if (dir != NULL && strcmp(dir, STATEFILE_DIR) == 0 &&
	    chown(dir, process->uid, process->gid) != 0)
		log_warn("chown %s: %s", dir, strerror(errno));
	if (chown(eng->state_file, process->uid, process->gid) != 0 && errno != ENOENT)
		log_warn("chown %s: %s", eng->state_file, strerror(errno));
	free(copy);
}

void engine_state_changed(void *arg)
{
	struct engine *eng = arg;
	struct timeval now = {0, 0};

	engine_release_old(eng);
	if (eng->state_ev != NULL && !evtimer_pending(eng->state_ev, NULL))
		evtimer_add(eng->state_ev, &now);
}

void engine_state_flush(struct engine *eng)
{
	if (eng->state_ev != NULL)
		evtimer_del(eng->state_ev);
	state_write(eng);
}

void engine_state_free(struct engine *eng)
{
	if (eng->state_ev != NULL)
		event_free(eng->state_ev);
	free(eng->state_file);
}
