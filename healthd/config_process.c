/* The process keys of the top object: "user" and "group" to drop root to, whether exec
 * checks may run as root, and the "limits" healthd enforces on itself. Names are resolved
 * here, when the config is loaded, so that a user that does not exist is a config error
 * with its position, not a failure at start. privdrop.c and proclimits.c apply them. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cfgread.h"
#include "config_priv.h"

#define LIMIT_MAX_RUNNING    65536
#define LIMIT_MIN_READ_BYTES 1024
#define LIMIT_MAX_READ_BYTES (1ll << 31)
#define LIMIT_MIN_OPEN_FILES 64
#define LIMIT_MAX_OPEN_FILES (1 << 20) /* Linux's default fs.nr_open */

static const char *const limits_keys[] = {
        "max_running",
        "max_read_bytes",
        "max_open_files",
        NULL,
};

static void process_user(struct config_loader *ld, const json_t *top, struct process_cfg *pc)
{
	const char *name;
	struct passwd *pw;

	if (cfg_string(ld->e, top, "user", false, &name) <= 0)
		return;
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH)
			cfgerr_add(ld->e, "user", "cannot look up user \"%s\": %s", name,
			           strerror(errno));
		else
			cfgerr_add(ld->e, "user", "no such user \"%s\"", name);
		return;
	}
	pc->user = strdup(name);
	pc->uid = pw->pw_uid;
	pc->gid = pw->pw_gid;
	/* The primary group by name, for the normalized config; a gid without a name
	 * (possible in /etc/passwd) is printed as its number. */
	struct group *gr = getgrgid(pw->pw_gid);
	if (gr != NULL)
		pc->group = strdup(gr->gr_name);
	else if (asprintf(&pc->group, "%u", (unsigned)pw->pw_gid) < 0)
		pc->group = NULL;
	if (pc->user == NULL || pc->group == NULL)
		cfgerr_add(ld->e, "user", "out of memory");
}

static void process_group(struct config_loader *ld, const json_t *top, struct process_cfg *pc)
{
	const char *name;
	struct group *gr;

	if (cfg_string(ld->e, top, "group", false, &name) <= 0)
		return;
	if (json_object_get(top, "user") == NULL) {
		cfgerr_add(ld->e, "group",
		           "needs \"user\": healthd changes group only with its user");
		return;
	}
	errno = 0;
	if ((gr = getgrnam(name)) == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH)
			cfgerr_add(ld->e, "group", "cannot look up group \"%s\": %s", name,
			           strerror(errno));
		else
			cfgerr_add(ld->e, "group", "no such group \"%s\"", name);
		return;
	}
	if (pc->user == NULL)
		return; /* the user's own error is reported */
	free(pc->group);
	pc->group = strdup(name);
	pc->gid = gr->gr_gid;
	if (pc->group == NULL)
		cfgerr_add(ld->e, "group", "out of memory");
}

static void process_limits(struct config_loader *ld, const json_t *top, struct process_cfg *pc)
{
	const json_t *obj = json_object_get(top, "limits");
	char saved[CFG_PATH_MAX];
	long long n;

	pc->max_running = CONFIG_DEFAULT_MAX_RUNNING;
	pc->max_read_bytes = CONFIG_DEFAULT_MAX_READ_BYTES;
	pc->max_open_files = CONFIG_DEFAULT_MAX_OPEN_FILES;
	if (obj == NULL)
		return;
	if (!json_is_object(obj)) {
		cfgerr_add(ld->e, "limits", "expected object");
		return;
	}
	cfgerr_push(ld->e, "limits", saved);
	cfg_check_keys(ld->e, obj, limits_keys, NULL);
	if (cfg_int(ld->e, obj, "max_running", 1, LIMIT_MAX_RUNNING, &n) > 0)
		pc->max_running = (unsigned)n;
	if (cfg_int(ld->e, obj, "max_read_bytes", LIMIT_MIN_READ_BYTES, LIMIT_MAX_READ_BYTES, &n) >
	    0)
		pc->max_read_bytes = (size_t)n;
	if (cfg_int(ld->e, obj, "max_open_files", LIMIT_MIN_OPEN_FILES, LIMIT_MAX_OPEN_FILES, &n) >
	    0)
		pc->max_open_files = (unsigned)n;
	cfgerr_pop(ld->e, saved);
}

void config_process_read(struct config_loader *ld, const json_t *top)
{
	struct process_cfg *pc = &ld->cfg->process;

	process_user(ld, top, pc);
	process_group(ld, top, pc);
	cfg_bool(ld->e, top, "allow_root_exec", &pc->allow_root_exec);
	process_limits(ld, top, pc);
}

void config_process_check(struct config_loader *ld)
{
	const struct process_cfg *pc = &ld->cfg->process;

	if (pc->allow_root_exec || (pc->user != NULL && pc->uid != 0))
		return;
	/* Whoever runs `healthd check`, the file alone must say who exec checks run as: the
	 * same file is valid or not on every machine and for every caller. */
	for (size_t i = 0; i < ld->cfg->nservices; i++) {
		const struct service_cfg *svc = &ld->cfg->services[i];
		for (size_t k = 0; k < svc->nchecks; k++) {
			const struct check_cfg *chk = &svc->checks[k];
			if (chk->ops == NULL || chk->path == NULL ||
			    strcmp(chk->ops->name, "exec") != 0)
				continue;
			config_err_at(
			        ld->e, chk->path, "type",
			        "an exec check would run as root%s: set \"user\" to the account "
			        "it should run as, or \"allow_root_exec\": true",
			        pc->user != NULL ? " (\"user\" is root)" : " (no \"user\")");
		}
	}
}

void config_process_to_json(json_t *o, const struct process_cfg *pc)
{
	json_t *limits = json_object();

	/* No user: healthd stays who started it; absent, as the file had it. */
	if (pc->user != NULL) {
		json_object_set_new(o, "user", json_string(pc->user));
		json_object_set_new(o, "group", json_string(pc->group));
	}
	json_object_set_new(o, "allow_root_exec", json_boolean(pc->allow_root_exec));
	json_object_set_new(limits, "max_running", json_integer(pc->max_running));
	json_object_set_new(limits, "max_read_bytes", json_integer((json_int_t)pc->max_read_bytes));
	json_object_set_new(limits, "max_open_files", json_integer(pc->max_open_files));
	json_object_set_new(o, "limits", limits);
}

void config_process_free(struct process_cfg *pc)
{
	free(pc->user);
	free(pc->group);
	pc->user = pc->group = NULL;
}
