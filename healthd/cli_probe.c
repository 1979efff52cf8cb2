/* `healthd probe TYPE --some-key VALUE ...`: the options are the check's config keys
 * (ops->keys and the common ones, '-' for '_'), put into a one-service config that the
 * config loader validates as it validates a file. Nothing here knows a probe type.
 *
 * A value on the command line has no JSON type, so each key is given the first of a few
 * readings that the loader accepts for it: the JSON the text spells (53, true, [200]),
 * the plain string, the comma-separated list, the one-element list. A repeated option is
 * a list. An option without a value is true. Everything after "--" is "command". */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "../probes/child.h"
#include "cli_probe.h"
#include "config.h"
#include "../lib/duration.h"
#include "../lib/log.h"
#include "../lib/monotime.h"

#define CLI_PREFIX    "255.255.255.255/32" /* a service needs one; no probe source is in it */
#define CLI_CANDS     6
#define CLI_COUNT_MAX 1000000

struct cli_key {
	char *key;         /* "expect_status" */
	const char **vals; /* as given; NULL for a flag without a value */
	size_t nvals;
	bool fixed; /* after "--": a list of strings, nothing else */
	json_t *cand[CLI_CANDS];
	size_t ncand, chosen;
};

struct cli_args {
	const char *type;
	const struct probe_ops *ops;
	struct cli_key *keys;
	size_t nkeys;
	bool json, verbose, help;
	long count;
	uint32_t interval_ms; /* between runs; the check's own "interval" means nothing here */
};

struct cli_run {
	struct event_base *base;
	struct probe *p;
	struct cli_stats st;
	unsigned seq, count;
	uint32_t interval_ms;
	bool json, stopped;
	FILE *runs; /* the run lines of a series, kept to follow its plugin line */
	char *runs_text;
	size_t runs_len;
	struct event *next, *sig_int, *sig_term;
};

static bool cli_in(const char *key, const char *const *list)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(key, *list) == 0)
			return true;
	return false;
}

static bool cli_type_key(const struct cli_args *a, const char *key)
{
	return cli_in(key, a->ops->keys) ||
	       (strcmp(key, "type") != 0 && cli_in(key, probe_common_keys));
}

static struct cli_key *cli_key_get(struct cli_args *a, const char *key)
{
	for (size_t i = 0; i < a->nkeys; i++)
		if (strcmp(a->keys[i].key, key) == 0)
			return &a->keys[i];
	struct cli_key *v = realloc(a->keys, (a->nkeys + 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	a->keys = v;
	memset(&v[a->nkeys], 0, sizeof(*v));
	if ((v[a->nkeys].key = strdup(key)) == NULL)
		return NULL;
	return &v[a->nkeys++];
}

static int cli_key_add(struct cli_args *a, const char *key, const char *val)
{
	struct cli_key *k = cli_key_get(a, key);
	const char **v = k != NULL ? realloc(k->vals, (k->nvals + 1) * sizeof(*v)) : NULL;
	if (v == NULL)
		return -1;
	k->vals = v;
	k->vals[k->nvals++] = val;
	return 0;
}

static bool cli_is_flag(const char *s)
{
	static const char *const shorts[] = {"-j", "-v", "-h", "-c", "-i", NULL};
	return strncmp(s, "--", 2) == 0 || cli_in(s, shorts);
}

static int cli_usage_error(const struct cli_args *a, const char *fmt, const char *what)
{
	fprintf(stderr, "%s%s%s: ", CLI_NAME, a->type ? " " : "", a->type ? a->type : "");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\n(healthd probe %s --help lists its options)\n", a->type ? a->type : "");
	return -1;
}

/* A number, true/false/null as JSON; anything else as the string itself. */
static json_t *cli_typed(const char *v)
{
	json_t *j = v != NULL ? json_loads(v, JSON_DECODE_ANY, NULL) : json_true();
	if (j != NULL && (json_is_number(j) || json_is_boolean(j) || json_is_null(j)))
		return j;
	json_decref(j);
	return json_string(v);
}

static int cli_parse(struct cli_args *a, int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		const char *s = argv[i];
		char name[128];
		if (strcmp(s, "--") == 0) {
			if (i + 1 == argc)
				return cli_usage_error(a, "%s", "nothing after \"--\"");
			for (i++; i < argc; i++)
				if (cli_key_add(a, "command", argv[i]) != 0)
					return -1;
			a->keys[a->nkeys - 1].fixed = true;
			break;
		}
		if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
			a->help = true;
			continue;
		}
		if (strcmp(s, "-j") == 0 ||
		    (strcmp(s, "--json") == 0 && !cli_type_key(a, "json"))) {
			a->json = true;
			continue;
		}
		if (strcmp(s, "-v") == 0 ||
		    (strcmp(s, "--verbose") == 0 && !cli_type_key(a, "verbose"))) {
			a->verbose = true;
			continue;
		}
		if (strncmp(s, "--", 2) != 0 && strcmp(s, "-c") != 0 && strcmp(s, "-i") != 0)
			return cli_usage_error(
			        a, "unexpected argument \"%s\" (options are --KEY VALUE)", s);
		/* --key, --key=value, --key value; -c N and -i D for --count and --interval */
		const char *eq = strchr(s, '='), *val = NULL;
		size_t len = eq != NULL ? (size_t)(eq - s) : strlen(s);
		if (s[1] != '-')
			snprintf(name, sizeof(name), "%s", s[1] == 'c' ? "count" : "interval");
		else if (len - 2 < sizeof(name))
			snprintf(name, sizeof(name), "%.*s", (int)(len - 2), s + 2);
		else
			return cli_usage_error(a, "option too long: %s", s);
		for (char *c = name; *c != '\0'; c++)
			if (*c == '-')
				*c = '_';
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc && !cli_is_flag(argv[i + 1]))
			val = argv[++i];
		if (strcmp(name, "count") == 0 && (s[1] != '-' || !cli_type_key(a, "count"))) {
			char *end;
			a->count = val != NULL ? strtol(val, &end, 10) : 0;
			if (val == NULL || *end != '\0' || a->count < 1 || a->count > CLI_COUNT_MAX)
				return cli_usage_error(
				        a, "--count needs a number of runs, 1 or more%s", "");
			continue;
		}
		if (strcmp(name, "interval") == 0 && (s[1] != '-' || !cli_in(name, a->ops->keys))) {
			char why[160];
			json_t *j = cli_typed(val);
			int rc = val != NULL
			                 ? duration_from_json(j, &a->interval_ms, why, sizeof(why))
			                 : -1;
			json_decref(j);
			if (rc != 0 || a->interval_ms == 0)
				return cli_usage_error(
				        a, "--interval needs a duration such as 1s or 200ms%s", "");
			continue;
		}
		if (strcmp(name, "type") == 0)
			return cli_usage_error(a, "%s",
			                       "the type is the first argument, not --type");
		if (!cli_type_key(a, name))
			return cli_usage_error(a, "unknown option %s for this probe type", s);
		if (cli_key_add(a, name, val) != 0)
			return -1;
	}
	return 0;
}

static json_t *cli_list(const char *const *vals, size_t n, bool typed)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, typed ? cli_typed(vals[i]) : json_string(vals[i]));
	return arr;
}

/* "--source 127.0.0.7 --source ::1", or "127.0.0.7,::1": source.ipv4 / source.ipv6 by
 * the address's family; the config loader validates the addresses. NULL (said) when one
 * family is given twice: the probe can leave from one address only. */
static json_t *cli_source(const struct cli_args *a, const struct cli_key *k)
{
	json_t *o = json_object();
	for (size_t i = 0; o != NULL && i < k->nvals; i++) {
		const char *v = k->vals[i] != NULL ? k->vals[i] : "";
		if (v[0] == '{') {
			json_decref(o);
			if ((o = json_loads(v, 0, NULL)) == NULL)
				fprintf(stderr, "%s %s: --source: invalid JSON: %s\n", CLI_NAME,
				        a->type, v);
			return o;
		}
		char *copy = strdup(v), *save = NULL;
		for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; o != NULL && t != NULL;
		     t = strtok_r(NULL, ",", &save)) {
			const char *fam = strchr(t, ':') ? "ipv6" : "ipv4";
			const json_t *had = json_object_get(o, fam);
			if (had != NULL) {
				fprintf(stderr,
				        "%s %s: --source: two IPv%c addresses (%s, %s); give "
				        "at most one of each family\n",
				        CLI_NAME, a->type, fam[3], json_string_value(had), t);
				json_decref(o);
				o = NULL;
				break;
			}
			json_object_set_new(o, fam, json_string(t));
		}
		free(copy);
	}
	return o;
}

static void cli_candidates(const struct cli_args *a, struct cli_key *k)
{
	json_t **c = k->cand;
	size_t n = 0;
	const char *v = k->vals[0];

	if (k->fixed) {
		c[n++] = cli_list(k->vals, k->nvals, false);
	} else if (strcmp(k->key, "source") == 0) {
		if ((c[n] = cli_source(a, k)) != NULL)
			n++;
	} else if (k->nvals > 1) {
		c[n++] = cli_list(k->vals, k->nvals, true);
		c[n++] = cli_list(k->vals, k->nvals, false);
	} else if (v == NULL) {
		c[n++] = json_true();
	} else {
		json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
		if (j != NULL)
			c[n++] = j;
		c[n++] = json_string(v);
		if (strchr(v, ',') != NULL) {
			char *copy = strdup(v), *save = NULL;
			const char *parts[64];
			size_t np = 0;
			for (char *t = copy ? strtok_r(copy, ",", &save) : NULL;
			     t != NULL && np < 64; t = strtok_r(NULL, ",", &save))
				parts[np++] = t;
			c[n++] = cli_list(parts, np, true);
			c[n++] = cli_list(parts, np, false);
			free(copy);
		}
		c[n++] = cli_list(&v, 1, true);
		c[n++] = cli_list(&v, 1, false);
	}
	k->ncand = n;
}

static struct config *cli_build(const struct cli_args *a, struct config_error *err)
{
	json_t *check = json_pack("{s:s}", "type", a->type);
	for (size_t i = 0; check != NULL && i < a->nkeys; i++)
		json_object_set(check, a->keys[i].key, a->keys[i].cand[a->keys[i].chosen]);
	/* One run has no interval; a day's leaves any --timeout valid. The operator runs
	 * this command as whom they choose: an exec probe runs as them, root included. */
	json_t *root = json_pack("{s:b, s:[{s:s, s:[s], s:s, s:[o]}]}", "allow_root_exec", 1,
	                         "services", "name", "probe", "prefixes", CLI_PREFIX, "interval",
	                         "24h", "checks", check);
	char *text = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;
	struct config *cfg = text != NULL ? config_load_string(text, CLI_NAME, err) : NULL;
	free(text);
	json_decref(root);
	return cfg;
}

static bool cli_err_about(const struct config_error *err, const char *key)
{
	size_t len = strlen(key);
	for (size_t i = 0; i < err->nmsgs; i++) {
		const char *t = cli_err_tail(err->msgs[i]);
		if (t != NULL && t[0] == '.' && strncmp(t + 1, key, len) == 0 &&
		    strchr(".[:", t[1 + len]) != NULL)
			return true;
	}
	return false;
}

static struct config *cli_config(struct cli_args *a)
{
	struct config_error err;
	struct config *cfg;

	for (size_t i = 0; i < a->nkeys; i++) {
		cli_candidates(a, &a->keys[i]);
		if (a->keys[i].ncand == 0)
			return NULL; /* said */
	}
	for (size_t i = 0; i < a->nkeys; i++) {
		struct cli_key *k = &a->keys[i];
		for (k->chosen = 0; k->ncand > 1 && k->chosen < k->ncand; k->chosen++) {
			config_error_init(&err, CLI_NAME, NULL);
			cfg = cli_build(a, &err);
			bool bad = cfg == NULL && cli_err_about(&err, k->key);
			config_free(cfg);
			config_error_free(&err);
			if (!bad)
				break;
		}
		if (k->chosen >= k->ncand)
			k->chosen = 0; /* no reading fits: report the first one's error */
	}
	config_error_init(&err, CLI_NAME, NULL);
	cfg = cli_build(a, &err);
	for (size_t i = 0; i < err.nmsgs; i++)
		cli_out_config_error(stderr, a->type, err.msgs[i]);
	if (cfg == NULL && err.nmsgs == 0)
		fprintf(stderr, "%s %s: invalid options\n", CLI_NAME, a->type);
	config_error_free(&err);
	return cfg;
}

static void cli_next_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cli_run *r = arg;
	probe_run(r->p, r->base);
}

static void cli_done_cb(struct probe *p, const struct probe_result *res, void *arg)
{
	struct cli_run *r = arg;
	struct timeval now, ran, tv = {0, 0};

	r->seq++;
	cli_out_run(r->runs != NULL ? r->runs : stdout, p, res, r->seq, r->json, r->count > 1);
	cli_stats_add(&r->st, p, res);
	bool out_err = fflush(stdout) != 0; /* a closed pipe: no one reads on */
	if (out_err || r->seq >= r->count) {
		r->stopped = out_err;
		event_base_loopbreak(r->base);
		return;
	}
	/* Like ping: the next run starts one interval after this one started. */
	mono_now(&now);
	timersub(&now, &p->started, &ran);
	int64_t left =
	        (int64_t)r->interval_ms * 1000 - ((int64_t)ran.tv_sec * 1000000 + ran.tv_usec);
	if (left > 0) {
		tv.tv_sec = (time_t)(left / 1000000);
		tv.tv_usec = (suseconds_t)(left % 1000000);
	}
	evtimer_add(r->next, &tv);
}

static void cli_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct cli_run *r = arg;
	probe_cancel(r->p); /* a run cut short is not counted */
	r->stopped = true;
	event_base_loopbreak(r->base);
}

static int cli_run(const struct cli_args *a, struct config *cfg)
{
	const struct service_cfg *svc = &cfg->services[0];
	struct config_error err;
	config_error_init(&err, CLI_NAME, NULL);
	struct cli_run r = {.p = check_cfg_probe(&svc->checks[0], svc->name, &err),
	                    .count = (unsigned)a->count,
	                    .json = a->json};
	int code = CLI_UNKNOWN;

	for (size_t i = 0; i < err.nmsgs; i++)
		fprintf(stderr, "%s\n", err.msgs[i]);
	config_error_free(&err);
	if (r.p == NULL)
		return CLI_UNKNOWN;

	r.st.worst = -1;
	r.interval_ms = a->interval_ms;
	signal(SIGPIPE, SIG_IGN);
	/* A monitoring system reads the first line: a series' own plugin line comes first and
	 * its runs after it. A person at a terminal sees the runs as they end. */
	if (r.count > 1 && !r.json && !isatty(STDOUT_FILENO))
		r.runs = open_memstream(&r.runs_text, &r.runs_len);
	r.base = event_base_new();
	if (r.base == NULL || child_init(r.base) != 0)
		goto out;
	r.next = evtimer_new(r.base, cli_next_cb, &r);
	r.sig_int = evsignal_new(r.base, SIGINT, cli_signal_cb, &r);
	r.sig_term = evsignal_new(r.base, SIGTERM, cli_signal_cb, &r);
	if (!r.next || !r.sig_int || !r.sig_term || evsignal_add(r.sig_int, NULL) != 0 ||
	    evsignal_add(r.sig_term, NULL) != 0)
		goto out;
	probe_set_done(r.p, cli_done_cb, &r);
	probe_run(r.p, r.base);
	if (r.p->running || r.seq > 0)
		event_base_dispatch(r.base);
	if (r.count > 1 && r.seq > 0 && !r.json) {
		cli_out_series(stdout, r.p, &r.st);
		if (r.runs != NULL && fflush(r.runs) == 0)
			fwrite(r.runs_text, 1, r.runs_len, stdout);
	}
	if (r.count > 1 && r.seq > 0)
		cli_out_summary(stdout, r.p, &r.st, r.json);
	fflush(stdout);
	code = r.seq > 0 ? r.st.worst : CLI_UNKNOWN;
out:
	if (r.seq == 0 && !r.stopped)
		fprintf(stderr, "%s %s: the probe could not run\n", CLI_NAME, a->type);
	probe_release(r.p);
	probe_free(r.p);
	struct event *evs[] = {r.next, r.sig_int, r.sig_term};
	for (size_t i = 0; i < 3; i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	child_shutdown();
	if (r.base != NULL)
		event_base_free(r.base);
	cli_stats_free(&r.st);
	if (r.runs != NULL)
		fclose(r.runs);
	free(r.runs_text);
	return code;
}

int cli_probe_main(int argc, char **argv)
{
	struct cli_args a = {.count = 1, .interval_ms = 1000};
	struct config *cfg = NULL;
	int code = CLI_UNKNOWN;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		cli_out_help(argc < 2 ? stderr : stdout, NULL);
		return argc < 2 ? CLI_UNKNOWN : CLI_OK;
	}
	a.type = argv[1];
	if ((a.ops = probe_ops_find(a.type)) == NULL) {
		fprintf(stderr, "%s: unknown probe type \"%s\" (valid types: %s)\n", CLI_NAME,
		        a.type, probe_types());
		return CLI_UNKNOWN;
	}
	if (cli_parse(&a, argc, argv) != 0)
		goto out;
	if (a.help) {
		cli_out_help(stdout, a.ops);
		code = CLI_OK;
		goto out;
	}
	log_init("healthd", false, LOG_DAEMON, a.verbose ? LOG_DEBUG : LOG_ERR);
	if ((cfg = cli_config(&a)) != NULL)
		code = cli_run(&a, cfg);
out:
	config_free(cfg);
	for (size_t i = 0; i < a.nkeys; i++) {
		for (size_t c = 0; c < a.keys[i].ncand; c++)
			json_decref(a.keys[i].cand[c]);
		free(a.keys[i].key);
		free(a.keys[i].vals);
	}
	free(a.keys);
	return code;
}
