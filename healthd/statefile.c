/* The state file; see statefile.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/atomicfile.h"
#include "statefile.h"

char *statefile_default_path(const char *config_file)
{
	const char *dir = getenv("STATE_DIRECTORY");
	char abs[PATH_MAX], *path = NULL;

	if (dir == NULL || dir[0] == '\0')
		dir = STATEFILE_DIR;
	else if (strchr(dir, ':') != NULL)
		dir = strndupa(dir, (size_t)(strchr(dir, ':') - dir)); /* systemd lists several */
	if (realpath(config_file, abs) == NULL) {
		/* A missing file still has a name: the state must be found without it. */
		if (config_file[0] == '/' || getcwd(abs, sizeof(abs)) == NULL)
			snprintf(abs, sizeof(abs), "%s", config_file);
		else
			snprintf(abs + strlen(abs), sizeof(abs) - strlen(abs), "/%s", config_file);
	}
	const char *name = abs[0] == '/' ? abs + 1 : abs;
	if (asprintf(&path, "%s/%s.state", dir, name) < 0)
		return NULL;
	for (char *p = path + strlen(dir) + 1; *p != '\0'; p++)
		if (*p == '/')
			*p = '_';
	return path;
}

int statefile_write(const char *path, const struct config *cfg, const struct speaker *sp, char *why,
                    size_t whylen)
{
	json_t *o = json_object(), *services = json_array();
	char *text = NULL;
	int rc = -1;

	if (o == NULL || services == NULL) {
		snprintf(why, whylen, "out of memory");
		json_decref(services);
		goto out;
	}
	for (size_t i = 0; i < cfg->nservices; i++)
		if (speaker_announced(sp, cfg->services[i].name))
			json_array_append_new(services, config_service_to_json(&cfg->services[i]));
	/* Routes a reload retired are still announced until told otherwise. */
	for (size_t i = 0; i < sp->nroutes; i++) {
		const struct speaker_route *r = &sp->routes[i];
		if (r->retired && r->sent != NULL)
			json_array_append_new(services, config_service_to_json(r->svc));
	}
	json_object_set_new(o, "speaker", config_speaker_to_json(cfg));
	/* The node's addresses may have changed by the time this is read. */
	json_object_set_new(o, "source_check", json_false());
	json_object_set_new(o, "services", services);
	text = json_dumps(o, JSON_COMPACT);
	if (text == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	size_t len = strlen(text);
	text[len] = '\n';
	rc = atomic_replace(path, text, len + 1, 0644, ATOMIC_DURABLE, why, whylen);
out:
	free(text);
	json_decref(o);
	return rc;
}

struct config *statefile_read(const char *path, char *why, size_t whylen)
{
	struct config_error err;
	struct stat st;

	if (stat(path, &st) != 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	config_error_init(&err, path, NULL);
	struct config *cfg = config_load_file(path, &err);
	if (cfg == NULL)
		snprintf(why, whylen, "%s", err.nmsgs > 0 ? err.msgs[0] : "does not load");
	config_error_free(&err);
	return cfg;
}
