/* Reload: SIGHUP re-reads the config file; a file with errors changes nothing. A valid one
 * is applied as a difference (config_diff.h): an unchanged service keeps everything (its
 * state, timers, probes and route: the speaker is told nothing); a changed one is rebuilt
 * from its new config but takes over the old one's standing, so its route stays until its
 * new checks decide; a removed one is withdrawn; a new one starts down.
 *
 * A file with errors, at start or at a reload, is watched (its mtime, every 2 s) and read
 * again when it changes; its errors are logged again every minute. At start, with no valid
 * config at all, the state file says what a previous instance announced: that config is
 * run "on hold" (nothing probed, every route withdrawn) until the file is fixed. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/log.h"
#include "../lib/memtrim.h"
#include "../lib/monotime.h"
#include "config_diff.h"
#include "control.h"
#include "engine_priv.h"
#include "process.h"
#include "statefile.h"

#define ENGINE_WATCH_MS       2000
#define ENGINE_ERRORS_EVERY_S 60

static void reload_errors_free(struct engine *eng)
{
	for (size_t i = 0; i < eng->nerrors; i++)
		free(eng->errors[i]);
	free(eng->errors);
	eng->errors = NULL;
	eng->nerrors = 0;
}

static void reload_errors_log(struct engine *eng)
{
	log_err("%s has %zu error%s; %s", eng->opts.config_file, eng->nerrors,
	        eng->nerrors == 1 ? "" : "s",
	        eng->cfg != NULL && !eng->hold ? "running the last valid configuration"
	                                       : "announcing nothing until it is fixed");
	for (size_t i = 0; i < eng->nerrors; i++)
		log_err("%s", eng->errors[i]);
	mono_now(&eng->errors_logged);
}

static bool reload_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void reload_watch(evutil_socket_t fd, short what, void *arg)
{
	struct engine *eng = arg;
	struct stat st;
	struct timeval now, since;

	if (stat(eng->opts.config_file, &st) == 0 &&
	    (!eng->watched_ok || !reload_same_file(&st, &eng->watched))) {
		engine_reload(eng, "the file changed");
		return;
	}
	mono_now(&now);
	timersub(&now, &eng->errors_logged, &since);
	if (since.tv_sec >= ENGINE_ERRORS_EVERY_S)
		reload_errors_log(eng);
}

/* The config from the state file: what a previous instance announced, to withdraw. */
static void reload_hold(struct engine *eng)
{
	char why[512];
	if (eng->state_file == NULL)
		return;
	struct config *cfg = statefile_read(eng->state_file, why, sizeof(why));
	if (cfg == NULL) {
		log_info("no route to withdraw from a previous instance (%s)", why);
		return;
	}
	size_t n = 0;
	for (size_t i = 0; i < cfg->nservices; i++)
		n += cfg->services[i].nprefixes;
	log_warn("withdrawing %zu route%s that a previous instance announced (state file %s)", n,
	         n == 1 ? "" : "s", eng->state_file);
	eng->cfg = cfg;
	eng->hold = true;
}

void engine_wait(struct engine *eng, char **errors, size_t nerrors)
{
	reload_errors_free(eng);
	eng->errors = errors;
	eng->nerrors = nerrors;
	eng->watched_ok = stat(eng->opts.config_file, &eng->watched) == 0;
	reload_errors_log(eng);
	if (eng->cfg == NULL)
		reload_hold(eng);
	if (eng->watch == NULL) {
		struct timeval tv;
		eng->watch = event_new(eng->base, -1, EV_PERSIST, reload_watch, eng);
		ms_to_tv(&tv, ENGINE_WATCH_MS);
		if (eng->watch == NULL || event_add(eng->watch, &tv) != 0)
			log_err("cannot watch %s: send SIGHUP once it is fixed",
			        eng->opts.config_file);
	}
}

static void reload_watch_stop(struct engine *eng)
{
	if (eng->watch != NULL)
		event_free(eng->watch);
	eng->watch = NULL;
	reload_errors_free(eng);
}

void engine_release_old(struct engine *eng)
{
	if (eng->nold == 0 || (eng->sp != NULL && eng->sp->nretired > 0))
		return;
	for (size_t i = 0; i < eng->nold; i++)
		config_free(eng->old[i]);
	free(eng->old);
	eng->old = NULL;
	eng->nold = 0;
	mem_trim("a replaced configuration was freed");
}

/* Keep a replaced config while routes of its services are still to be withdrawn. */
static void reload_retire(struct engine *eng, struct config *cfg)
{
	struct config **old = realloc(eng->old, (eng->nold + 1) * sizeof(*old));
	if (old == NULL) {
		/* The speaker may point into it: better never freed than freed too soon. */
		log_err("out of memory keeping the replaced configuration (it is not freed)");
		return;
	}
	eng->old = old;
	eng->old[eng->nold++] = cfg;
}

static void reload_log_settings(struct engine *eng, const struct config *cfg)
{
	log_init("healthd", eng->opts.use_syslog || cfg->log.syslog, cfg->log.facility,
	         eng->opts.debug ? LOG_DEBUG : cfg->log.level);
}

/* Publish every service's route and send the difference once. */
static void reload_publish(struct engine *eng)
{
	for (size_t i = 0; i < eng->nservices; i++)
		speaker_want(eng->sp, eng->services[i]->cfg, engine_route(eng->services[i]));
	speaker_sync(eng->sp);
}

/* The live reload: cur replaces eng->cfg service by service. Consumes cur. */
static void reload_apply(struct engine *eng, struct config *cur)
{
	struct config_diff d;
	struct engine_service **svcs = NULL;
	size_t built = 0;

	if (config_diff(eng->cfg, cur, &d) != 0)
		goto oom;
	if (d.speaker_changed) {
		char *e = NULL;
		if (asprintf(&e,
		             "%s: speaker: the speaker's settings changed: restart to change the "
		             "speaker",
		             eng->opts.config_file) < 0)
			e = NULL;
		log_err("reload refused: restart to change the speaker; keeping the running "
		        "configuration");
		config_diff_free(&d);
		config_free(cur);
		char **errs = e != NULL ? malloc(sizeof(*errs)) : NULL;
		if (errs != NULL)
			errs[0] = e;
		else
			free(e);
		engine_wait(eng, errs, errs != NULL ? 1 : 0);
		return;
	}

	/* Everything that can fail comes before the first change to the running state. */
	char why[512];
	if (process_apply(&cur->process, why, sizeof(why)) != 0) {
		log_err("reload refused: %s; keeping the running configuration", why);
		config_diff_free(&d);
		config_free(cur);
		return;
	}
	svcs = calloc(cur->nservices + 1, sizeof(*svcs));
	if (svcs == NULL)
		goto oom;
	for (size_t i = 0; i < cur->nservices; i++) {
		if (d.change[i] == CHANGE_UNCHANGED)
			continue;
		if ((svcs[i] = engine_service_new(eng, &cur->services[i])) == NULL)
			goto refuse;
		built++;
	}
	if (speaker_reload(eng->sp, cur) != 0)
		goto oom;

	/* From here on the reload happens. */
	for (size_t i = 0; i < cur->nservices; i++) {
		struct engine_service *old =
		        d.old_index[i] != SIZE_MAX ? eng->services[d.old_index[i]] : NULL;
		if (d.change[i] == CHANGE_UNCHANGED) {
			/* The same service: only its config moves to the new value. */
			svcs[i] = old;
			old->cfg = &cur->services[i];
			old->svc->cfg = old->cfg;
			for (size_t j = 0; j < old->nchecks; j++)
				old->checks[j].cfg = &old->cfg->checks[j];
			eng->services[d.old_index[i]] = NULL;
		} else if (d.change[i] == CHANGE_CHANGED) {
			bool same[svcs[i]->nchecks + 1];
			for (size_t j = 0; j < svcs[i]->nchecks; j++)
				same[j] = j < old->nchecks &&
				          config_check_same(svcs[i]->checks[j].cfg,
				                            old->checks[j].cfg);
			service_adopt(svcs[i]->svc, old->svc, same);
			engine_safety_adopt(svcs[i], old);
			svcs[i]->stats = old->stats; /* the same standing, since the same time */
		}
	}
	for (size_t i = 0; i < eng->nservices; i++)
		engine_service_free(eng->services[i]); /* changed and removed ones */
	free(eng->services);
	eng->services = svcs;
	eng->nservices = cur->nservices;
	reload_retire(eng, eng->cfg);
	eng->cfg = cur;
	reload_log_settings(eng, cur);
	engine_fleet_update(eng);
	reload_publish(eng);
	for (size_t i = 0; i < cur->nservices; i++)
		if (d.change[i] != CHANGE_UNCHANGED)
			engine_service_start(eng->services[i]);
	log_info("reload: %zu unchanged, %zu changed, %zu added, %zu removed", d.unchanged,
	         d.changed, d.added, d.removed_count);
	config_diff_free(&d);
	engine_release_old(eng);
	engine_state_changed(eng);
	return;
oom:
	log_err("reload refused: out of memory; keeping the running configuration");
refuse:
	for (size_t i = 0; svcs != NULL && i < cur->nservices; i++)
		if (d.change != NULL && d.change[i] != CHANGE_UNCHANGED)
			engine_service_free(svcs[i]);
	if (built > 0 || svcs == NULL)
		log_err("reload refused: the new services could not be set up; keeping the "
		        "running configuration");
	free(svcs);
	config_diff_free(&d);
	config_free(cur);
}

/* The first valid config after none (or the state file's, on hold). Consumes cur. */
static void reload_start(struct engine *eng, struct config *cur)
{
	bool keep = false;
	char why[512];

	engine_state_owner(eng, &cur->process);
	if (process_apply(&cur->process, why, sizeof(why)) != 0) {
		log_err("%s: %s; still waiting for a configuration healthd can run",
		        eng->opts.config_file, why);
		config_free(cur);
		return;
	}
	if (eng->sp != NULL) {
		json_t *a = config_speaker_to_json(eng->cfg), *b = config_speaker_to_json(cur);
		keep = a != NULL && b != NULL && json_equal(a, b);
		json_decref(a);
		json_decref(b);
	}
	if (keep && speaker_reload(eng->sp, cur) != 0)
		keep = false;
	if (!keep)
		engine_speaker_close(eng); /* the held routes were withdrawn through it */
	if (eng->cfg != NULL) {
		if (keep)
			reload_retire(eng, eng->cfg);
		else
			config_free(eng->cfg);
	}
	eng->cfg = cur;
	eng->hold = false;
	reload_log_settings(eng, cur);
	if (!keep && engine_speaker_open(eng) != 0) {
		log_err("%s: cannot start its speaker; restart healthd", eng->opts.config_file);
		return;
	}
	eng->services = calloc(cur->nservices ? cur->nservices : 1, sizeof(*eng->services));
	for (size_t i = 0; eng->services != NULL && i < cur->nservices; i++) {
		if ((eng->services[i] = engine_service_new(eng, &cur->services[i])) == NULL)
			break;
		eng->nservices++;
	}
	if (eng->nservices != cur->nservices)
		log_err("%s: not every service could be set up", eng->opts.config_file);
	if (eng->started)
		engine_fleet_update(eng);
	if (eng->started)
		for (size_t i = 0; i < eng->nservices; i++)
			engine_service_start(eng->services[i]);
	speaker_sync(eng->sp);
	engine_release_old(eng);
	log_info("configuration loaded: %zu service%s", eng->nservices,
	         eng->nservices == 1 ? "" : "s");
}

static void reload_read(struct engine *eng, const char *why)
{
	struct config_error err;

	if (eng->stopping)
		return;
	log_info("reload (%s): reading %s", why, eng->opts.config_file);
	config_error_init(&err, eng->opts.config_file, NULL);
	struct config *cur = config_load_file(eng->opts.config_file, &err);
	if (cur == NULL) {
		char **errs = err.msgs;
		size_t n = err.nmsgs;
		if (n == 0) {
			errs = calloc(1, sizeof(*errs));
			if (errs != NULL && (errs[0] = strdup("invalid configuration")) != NULL)
				n = 1;
		}
		err.msgs = NULL;
		err.nmsgs = 0;
		config_error_free(&err);
		log_err("reload (%s) refused: %s has errors; nothing changed", why,
		        eng->opts.config_file);
		engine_wait(eng, errs, n);
		return;
	}
	config_error_free(&err);
	reload_watch_stop(eng);
	if (eng->cfg == NULL || eng->hold || eng->sp == NULL)
		reload_start(eng, cur);
	else
		reload_apply(eng, cur);
}

void engine_reload(struct engine *eng, const char *why)
{
	const struct config *before = eng->cfg;

	if (eng->stopping)
		return;
	reload_read(eng, why);
	mem_trim("a reload"); /* the parse and the replaced services' memory */
	/* Applied: a new config value runs (an unchanged file is a new value too). */
	clock_gettime(CLOCK_REALTIME, &eng->reload_at);
	eng->reload_ok = eng->cfg != before && eng->nerrors == 0;
	if (eng->cfg != before) {
		eng->loaded_at = eng->reload_at;
		control_reload(eng);
	}
}

void engine_reload_free(struct engine *eng)
{
	reload_watch_stop(eng);
	for (size_t i = 0; i < eng->nold; i++)
		config_free(eng->old[i]);
	free(eng->old);
	eng->old = NULL;
	eng->nold = 0;
}
