/* The exec probe: run a command (a monitoring plugin, a script) and judge it by its exit
 * status, as monitoring plugins do: 0 healthy, 1 healthy with a warning, anything else a
 * failure. Processes are child.c's; this file maps their outcome to a result. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/cfgread.h"
#include "../lib/log.h"
#include "child.h"
#include "probe.h"
#include "probe_limits.h"

#define EXEC_MAX_OUTPUT (1024 * 1024)
#define EXEC_LOG_LINES  5
#define EXEC_LINE_MAX   160

struct exec_check {
	char **argv;   /* without shell */
	char *command; /* with shell: the command line for /bin/sh -c */
	bool shell;
	size_t max_output;
	char **env; /* configured "NAME=value" entries, NULL-terminated */
	size_t nenv;

	/* the run */
	struct child *child;
	uint64_t logged; /* fingerprint of the failure last logged; 0 after a success */
};

static const char *const exec_keys[] = {
        "command", "shell", "warning_is", "warning_is_failure", "max_output", "env", NULL,
};

static char *exec_join(char *const *v, size_t max)
{
	size_t len = 1;
	char *s;

	for (char *const *a = v; *a != NULL; a++)
		len += strlen(*a) + 1;
	if ((s = calloc(1, len)) == NULL)
		return NULL;
	for (char *const *a = v; *a != NULL; a++) {
		if (a != v)
			strcat(s, " ");
		strcat(s, *a);
	}
	if (max > 3 && strlen(s) > max)
		strcpy(s + max - 3, "...");
	return s;
}

static int exec_read_command(struct exec_check *e, const json_t *obj, struct config_error *err)
{
	const json_t *cmd = json_object_get(obj, "command");
	const char *s;
	size_t n = 0;

	if (cmd == NULL) {
		cfgerr_add(err, "command",
		           "required key is missing (expected array of non-empty strings)");
		return -1;
	}
	if (json_is_string(cmd)) {
		if (!e->shell) {
			cfgerr_add(err, "command",
			           "expected array of non-empty strings (a command line given as "
			           "one string needs \"shell\": true)");
			return -1;
		}
		if (cfg_string(err, obj, "command", false, &s) < 0)
			return -1;
		e->command = strdup(s);
		return e->command == NULL ? -1 : 0;
	}
	if (cfg_strv(err, obj, "command", &e->argv, &n) < 0)
		return -1;
	if (n == 0) {
		cfgerr_add(err, "command", "expected array of non-empty strings, not an empty one");
		return -1;
	}
	if (e->shell) {
		e->command = exec_join(e->argv, 0);
		cfg_strv_free(e->argv);
		e->argv = NULL;
		return e->command == NULL ? -1 : 0;
	}
	return 0;
}

static bool exec_env_name_ok(const char *name)
{
	if (!isalpha((unsigned char)name[0]) && name[0] != '_')
		return false;
	for (const char *c = name; *c != '\0'; c++)
		if (!isalnum((unsigned char)*c) && *c != '_')
			return false;
	return true;
}

static int exec_read_env(struct exec_check *e, const json_t *obj, struct config_error *err)
{
	const json_t *env = json_object_get(obj, "env"), *v;
	const char *name;
	char saved[CFG_PATH_MAX];
	int bad = 0;

	if (env == NULL)
		return 0;
	if (!json_is_object(env)) {
		cfgerr_add(err, "env", "expected object of strings");
		return -1;
	}
	e->env = calloc(json_object_size(env) + 1, sizeof(*e->env));
	if (e->env == NULL)
		return -1;
	cfgerr_push(err, "env", saved);
	json_object_foreach((json_t *)env, name, v)
	{
		if (!exec_env_name_ok(name)) {
			cfgerr_add(err, name, "not a valid environment variable name");
			bad++;
		} else if (strncmp(name, "HEALTHD_", 8) == 0) {
			cfgerr_add(err, name, "HEALTHD_ variables are set by healthd");
			bad++;
		} else if (!json_is_string(v)) {
			cfgerr_add(err, name, "expected string");
			bad++;
		} else if (asprintf(&e->env[e->nenv], "%s=%s", name, json_string_value(v)) < 0) {
			e->env[e->nenv] = NULL;
			bad++;
		} else {
			e->nenv++;
		}
	}
	cfgerr_pop(err, saved);
	return bad > 0 ? -1 : 0;
}

/* What exit 1 (a plugin's WARNING) means: "healthy" (the default), "failure" or
 * "degraded". "warning_is_failure": true is the older spelling of "failure". */
static int exec_read_warning(struct probe *p, const json_t *obj, struct config_error *err)
{
	const char *w;
	int rc = cfg_string(err, obj, "warning_is", false, &w);

	if (cfg_bool(err, obj, "warning_is_failure", &p->warning_is_failure) < 0 || rc < 0)
		return -1;
	if (rc == 0)
		return 0;
	if (json_object_get(obj, "warning_is_failure") != NULL) {
		cfgerr_add(err, "warning_is_failure",
		           "give either \"warning_is\" or \"warning_is_failure\", not both");
		return -1;
	}
	if (strcmp(w, "failure") == 0) {
		p->warning_is_failure = true;
	} else if (strcmp(w, "degraded") == 0) {
		p->warning_is_degraded = true;
	} else if (strcmp(w, "healthy") != 0) {
		cfgerr_add(
		        err, "warning_is",
		        "unknown value \"%s\" (expected \"healthy\", \"failure\" or \"degraded\")",
		        w);
		return -1;
	}
	return 0;
}

static int exec_configure(struct probe *p, const json_t *obj, struct config_error *err)
{
	struct exec_check *e = calloc(1, sizeof(*e));
	long long max_output = CHILD_OUTPUT_DEFAULT;
	int bad = 0;

	if (e == NULL) {
		cfgerr_add(err, NULL, "out of memory");
		return -1;
	}
	p->priv = e;
	if (cfg_bool(err, obj, "shell", &e->shell) < 0)
		bad++;
	if (exec_read_warning(p, obj, err) < 0)
		bad++;
	if (cfg_int(err, obj, "max_output", 0, EXEC_MAX_OUTPUT, &max_output) < 0)
		bad++;
	e->max_output = (size_t)max_output;
	if (exec_read_command(e, obj, err) < 0)
		bad++;
	if (exec_read_env(e, obj, err) < 0)
		bad++;
	if (bad > 0)
		return -1;

	char *shown = e->shell ? exec_join((char *const[]){e->command, NULL}, 60)
	                       : exec_join(e->argv, 60);
	if (shown == NULL || asprintf(&p->label, "exec %s", shown) < 0)
		p->label = NULL;
	free(shown);
	return 0;
}

static void exec_cancel(struct probe *p)
{
	struct exec_check *e = p->priv;

	if (e == NULL)
		return;
	/* Kills the whole group if the command still runs; the SIGCHLD handler reaps it
	 * later and frees what child.c keeps of it. */
	child_free(e->child);
	e->child = NULL;
}

/* The first line of the output, made safe for a one-line detail. */
static void exec_first_line(const char *out, char *line, size_t len)
{
	size_t n = 0;

	while (*out == '\n' || *out == '\r' || *out == ' ' || *out == '\t')
		out++;
	for (; *out != '\0' && *out != '\n' && n + 1 < len; out++)
		line[n++] = isprint((unsigned char)*out) ? *out : (*out == '\t' ? ' ' : '?');
	while (n > 0 && line[n - 1] == ' ')
		n--;
	line[n] = '\0';
}

static uint64_t exec_fingerprint(const char *detail, const char *out)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *s = detail; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	for (const char *s = out; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h | 1; /* never 0, which means "nothing logged" */
}

/* A failing plugin says why on its output: log it, once per distinct failure, so a check
 * failing every two seconds does not flood the log. */
static void exec_log_output(struct probe *p, const struct child *c, const char *detail)
{
	struct exec_check *e = p->priv;
	size_t len;
	const char *out = child_output(c, &len);
	uint64_t fp = exec_fingerprint(detail, out);
	int lines = 0, more = 0;

	if (fp == e->logged)
		return;
	e->logged = fp;
	for (const char *s = out; *s != '\0';) {
		const char *nl = strchr(s, '\n');
		size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);
		char line[EXEC_LINE_MAX];
		char *copy = strndup(s, n);
		s += n + (nl != NULL);
		if (copy == NULL)
			break;
		exec_first_line(copy, line, sizeof(line));
		free(copy);
		if (line[0] == '\0')
			continue;
		if (lines < EXEC_LOG_LINES)
			log_warn("%s: %s: %s", p->label, detail, line);
		else
			more++;
		lines++;
	}
	if (lines == 0)
		log_warn("%s: %s, no output", p->label, detail);
	if (more > 0)
		log_warn("%s: %d more lines", p->label, more);
	if (child_output_truncated(c))
		log_warn("%s: output truncated at %zu bytes", p->label, e->max_output);
}

static void exec_done_cb(struct child *c, int wstatus, void *arg)
{
	struct probe *p = arg;
	struct exec_check *e = p->priv;
	enum probe_reason reason;
	char line[EXEC_LINE_MAX], what[64], detail[EXEC_LINE_MAX + 72];

	if (child_read_exceeded(c)) {
		exec_log_output(p, c, "killed: too much output");
		probe_limits_read_exceeded(p, "the command's output");
		return;
	}
	if (WIFEXITED(wstatus)) {
		int code = WEXITSTATUS(wstatus);
		reason = code == 0 ? PR_OK : code == 1 ? PR_WARNING : PR_EXIT;
		snprintf(what, sizeof(what), "exit %d", code);
		probe_fact(p, "exit_code", json_integer(code)); /* 3: a plugin's UNKNOWN */
	} else {
		int sig = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
		reason = PR_SIGNAL;
		snprintf(what, sizeof(what), "killed by signal %d (%s)", sig, strsignal(sig));
	}
	exec_first_line(child_output(c, NULL), line, sizeof(line));
	snprintf(detail, sizeof(detail), "%s%s%s", what, line[0] != '\0' ? ": " : "", line);
	if (reason == PR_OK)
		e->logged = 0;
	else
		exec_log_output(p, c, what);
	probe_done(p, reason, "%s", detail);
}

static void exec_expire(struct probe *p)
{
	struct exec_check *e = p->priv;
	char detail[64];

	if (e == NULL || e->child == NULL)
		return;
	snprintf(detail, sizeof(detail), "timed out after %ums", (unsigned)p->timeout_ms);
	exec_log_output(p, e->child, detail);
}

/* The command could not be started: log it once per distinct failure, report it. */
static void exec_spawn_failed(struct probe *p, int err)
{
	struct exec_check *e = p->priv;
	const char *prog = e->shell ? "/bin/sh" : e->argv[0];
	char detail[256];
	uint64_t fp;

	snprintf(detail, sizeof(detail), "cannot run %s: %s", prog, strerror(err));
	fp = exec_fingerprint(detail, "");
	if (fp != e->logged)
		log_warn("%s: %s", p->label, detail);
	e->logged = fp;
	/* Out of descriptors (max_open_files): a limit of healthd's, not the command's. */
	probe_done(p, err == EMFILE || err == ENFILE ? PR_LIMIT : PR_SPAWN, "%s", detail);
}

static char *exec_addr(const char *name, int af, const void *addr)
{
	char a[INET6_ADDRSTRLEN] = "";
	char *s;

	if (addr != NULL)
		inet_ntop(af, addr, a, sizeof(a));
	return asprintf(&s, "%s=%s", name, a) < 0 ? NULL : s;
}

static void exec_start(struct probe *p, struct event_base *base, const struct timeval *deadline)
{
	struct exec_check *e = p->priv;
	const struct source_addr *src = &p->source;
	const void *v4 = src->has_v4 ? (const void *)&src->v4 : NULL;
	const void *v6 = src->has_v6 ? (const void *)&src->v6 : NULL;
	char *own[4] = {NULL, NULL, NULL, NULL};
	const char **env = calloc(e->nenv + 5, sizeof(*env));
	int err = ENOMEM;

	(void)deadline; /* probe.c's timer ends the run; cancel kills the group */
	if (!probe_limits_get()->root_exec && geteuid() == 0) {
		free(env);
		probe_done(p, PR_SPAWN,
		           "refused to run as root (set \"user\", or \"allow_root_exec\": true)");
		return;
	}
	if (asprintf(&own[0], "HEALTHD_SERVICE=%s", p->service != NULL ? p->service : "") < 0)
		own[0] = NULL;
	own[1] = v4 != NULL ? exec_addr("HEALTHD_SOURCE", AF_INET, v4)
	                    : exec_addr("HEALTHD_SOURCE", AF_INET6, v6);
	own[2] = exec_addr("HEALTHD_SOURCE4", AF_INET, v4);
	own[3] = exec_addr("HEALTHD_SOURCE6", AF_INET6, v6);
	if (env != NULL && own[0] != NULL && own[1] != NULL && own[2] != NULL && own[3] != NULL) {
		for (size_t i = 0; i < e->nenv; i++)
			env[i] = e->env[i];
		for (size_t i = 0; i < 4; i++)
			env[e->nenv + i] = own[i];
		struct child_spec spec = {
		        .argv = (const char *const *)e->argv,
		        .shell = e->shell ? e->command : NULL,
		        .env = env,
		        .max_output = e->max_output,
		        .max_read = probe_limits_get()->max_read_bytes,
		};
		e->child = child_spawn(base, &spec, exec_done_cb, p, &err);
	}
	for (size_t i = 0; i < 4; i++)
		free(own[i]);
	free(env);
	if (e->child != NULL)
		return;

	exec_spawn_failed(p, err);
}

static void exec_free(struct probe *p)
{
	struct exec_check *e = p->priv;

	if (e == NULL)
		return;
	exec_cancel(p);
	cfg_strv_free(e->argv);
	free(e->command);
	for (size_t i = 0; i < e->nenv; i++)
		free(e->env[i]);
	free(e->env);
	free(e);
	p->priv = NULL;
}

static json_t *exec_to_json(const struct probe *p)
{
	const struct exec_check *e = p->priv;
	json_t *o = json_object(), *env = json_object(), *cmd;

	if (o == NULL || env == NULL) {
		json_decref(o);
		json_decref(env);
		return NULL;
	}
	if (e->shell) {
		cmd = json_string(e->command);
	} else {
		cmd = json_array();
		for (char **a = e->argv; cmd != NULL && *a != NULL; a++)
			json_array_append_new(cmd, json_string(*a));
	}
	for (size_t i = 0; i < e->nenv; i++) {
		const char *eq = strchr(e->env[i], '=');
		char *name = strndup(e->env[i], (size_t)(eq - e->env[i]));
		if (name != NULL)
			json_object_set_new(env, name, json_string(eq + 1));
		free(name);
	}
	json_object_set_new(o, "command", cmd);
	json_object_set_new(o, "shell", json_boolean(e->shell));
	json_object_set_new(o, "warning_is",
	                    json_string(p->warning_is_failure    ? "failure"
	                                : p->warning_is_degraded ? "degraded"
	                                                         : "healthy"));
	json_object_set_new(o, "max_output", json_integer((json_int_t)e->max_output));
	json_object_set_new(o, "env", env);
	return o;
}

const struct probe_ops probe_exec_ops = {
        .name = "exec",
        .keys = exec_keys,
        .configure = exec_configure,
        .start = exec_start,
        .cancel = exec_cancel,
        .free = exec_free,
        .to_json = exec_to_json,
        .expire = exec_expire,
};
