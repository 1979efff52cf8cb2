/* What `healthd probe` prints. The first line follows the monitoring-plugins format
 * ("TCP OK - connected to 127.0.0.1:53 from 127.0.0.1 | time=0.000123s;;;0") so the
 * command works as an Icinga/Nagios plugin as is; then, for a person, the reason code,
 * the latency, the source address and every fact the probe recorded. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli_probe.h"
#include "config.h"

static const char *const cli_code_names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
static const char *const cli_names_lower[] = {"ok", "warning", "critical", "unknown"};

enum cli_code cli_code_of(const struct probe *p, const struct probe_result *r)
{
	switch (r->status) {
	case PROBE_OK:
		return CLI_OK;
	case PROBE_WARNING:
		return p->warning_is_failure ? CLI_CRITICAL : CLI_WARNING;
	case PROBE_FAIL:
		/* A wrapped monitoring plugin's own UNKNOWN; the daemon counts it as a failure. */
		if (r->reason == PR_EXIT &&
		    json_integer_value(json_object_get(p->facts, "exit_code")) == CLI_UNKNOWN)
			return CLI_UNKNOWN;
		return CLI_CRITICAL;
	case PROBE_ERROR:
		break;
	}
	return CLI_UNKNOWN;
}

/* The plugin's text: the detail, on one line, without the '|' that starts perfdata. */
static void out_text(const struct probe_result *r, char *buf, size_t len)
{
	const struct probe_reason_info *ri = probe_reason_info(r->reason);
	const char *d = r->detail[0] != '\0' ? r->detail : ri->text;

	if (r->status == PROBE_OK)
		snprintf(buf, len, "%s", d);
	else
		snprintf(buf, len, "%s: %s", ri->code, d);
	for (char *c = buf; *c != '\0'; c++)
		if (*c == '|' || *c == '\n' || *c == '\r')
			*c = *c == '|' ? '/' : ' ';
}

static void out_type(const struct probe *p, char *buf, size_t len)
{
	size_t i;
	for (i = 0; p->ops->name[i] != '\0' && i + 1 < len; i++)
		buf[i] = (char)toupper((unsigned char)p->ops->name[i]);
	buf[i] = '\0';
}

static json_t *out_source_json(const struct probe *p)
{
	json_t *o = json_object();
	char a[INET6_ADDRSTRLEN];
	if (o != NULL && p->source.has_v4 && inet_ntop(AF_INET, &p->source.v4, a, sizeof(a)))
		json_object_set_new(o, "ipv4", json_string(a));
	if (o != NULL && p->source.has_v6 && inet_ntop(AF_INET6, &p->source.v6, a, sizeof(a)))
		json_object_set_new(o, "ipv6", json_string(a));
	return o;
}

static void out_value(FILE *f, const json_t *v)
{
	if (json_is_string(v)) {
		fputs(json_string_value(v), f);
		return;
	}
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(9));
	fputs(s != NULL ? s : "?", f);
	free(s);
}

static void out_details(FILE *f, const struct probe *p, const struct probe_result *r)
{
	const struct probe_reason_info *ri = probe_reason_info(r->reason);
	const char *key, *used = NULL;
	json_t *v;
	int w = 8;
	char cfg[128] = "";

	json_object_foreach(p->facts, key, v) if ((int)strlen(key) > w) w = (int)strlen(key);
	fprintf(f, "%-*s %s\n", w + 1, "check:", p->label);
	fprintf(f, "%-*s %s (%s: %s)\n", w + 1, "result:", probe_status_name(r->status), ri->code,
	        ri->text);
	fprintf(f, "%-*s %.3f ms\n", w + 1, "latency:", r->latency_us / 1000.0);
	/* The address the probe left from, when it recorded one; else what was configured. */
	json_t *src = out_source_json(p);
	json_t *v4 = json_object_get(src, "ipv4"), *v6 = json_object_get(src, "ipv6");
	snprintf(cfg, sizeof(cfg), "%s%s%s", v4 ? json_string_value(v4) : "", v4 && v6 ? ", " : "",
	         v6 ? json_string_value(v6) : "");
	json_decref(src);
	if (json_is_string(json_object_get(p->facts, "source")))
		used = "source";
	else if (json_is_string(json_object_get(p->facts, "local")))
		used = "local";
	if (used != NULL)
		fprintf(f, "%-*s %s (configured: %s)\n", w + 1,
		        "source:", json_string_value(json_object_get(p->facts, used)),
		        cfg[0] ? cfg : "none, the kernel picks");
	else
		fprintf(f, "%-*s %s\n", w + 1, "source:", cfg[0] ? cfg : "any (none configured)");
	json_object_foreach(p->facts, key, v)
	{
		if (used != NULL && strcmp(key, used) == 0)
			continue;
		char k[80];
		snprintf(k, sizeof(k), "%s:", key);
		fprintf(f, "%-*s ", w + 1, k);
		out_value(f, v);
		fputc('\n', f);
	}
}

static void out_json(FILE *f, const struct probe *p, const struct probe_result *r, unsigned seq)
{
	const struct probe_reason_info *ri = probe_reason_info(r->reason);
	enum cli_code code = cli_code_of(p, r);
	json_t *o = json_object();

	json_object_set_new(o, "seq", json_integer(seq));
	json_object_set_new(o, "type", json_string(p->ops->name));
	json_object_set_new(o, "check", json_string(p->label));
	json_object_set_new(o, "status", json_string(cli_code_names[code]));
	json_object_set_new(o, "code", json_integer(code));
	json_object_set_new(o, "result", json_string(probe_status_name(r->status)));
	json_object_set_new(o, "healthy", json_boolean(probe_result_healthy(p, r)));
	json_object_set_new(o, "reason", json_string(ri->code));
	json_object_set_new(o, "reason_text", json_string(ri->text));
	json_object_set_new(o, "detail", json_string(r->detail));
	json_object_set_new(o, "latency_ms", json_real(r->latency_us / 1000.0));
	json_object_set_new(o, "source", out_source_json(p));
	json_object_set(o, "facts", p->facts != NULL ? p->facts : json_object());
	char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
	if (s != NULL)
		fprintf(f, "%s\n", s);
	free(s);
	json_decref(o);
}

void cli_out_run(FILE *f, const struct probe *p, const struct probe_result *r, unsigned seq,
                 bool json, bool series)
{
	char type[32], text[512];
	enum cli_code code = cli_code_of(p, r);

	if (json) {
		out_json(f, p, r, seq);
		return;
	}
	out_type(p, type, sizeof(type));
	out_text(r, text, sizeof(text));
	if (series) {
		fprintf(f, "%u: %s %s - %s (%.3f ms)\n", seq, type, cli_code_names[code], text,
		        r->latency_us / 1000.0);
		return;
	}
	fprintf(f, "%s %s - %s | time=%.6fs;;;0\n", type, cli_code_names[code], text,
	        r->latency_us / 1e6);
	out_details(f, p, r);
}

int cli_stats_add(struct cli_stats *st, const struct probe *p, const struct probe_result *r)
{
	enum cli_code code = cli_code_of(p, r);

	st->runs++;
	st->count[code]++;
	if ((int)code > st->worst)
		st->worst = (int)code;
	if (r->reason == PR_TIMEOUT) { /* lost, as ping says: no latency to speak of */
		st->timed_out++;
		return 0;
	}
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		uint32_t *v = realloc(st->latency_us, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		st->latency_us = v;
		st->cap = cap;
	}
	st->latency_us[st->n++] = r->latency_us;
	return 0;
}

static int out_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* min/median/max in ms; false when no run ended in time. */
static bool out_latency(struct cli_stats *st, double *min, double *med, double *max)
{
	const uint32_t *v = st->latency_us;
	if (st->n == 0)
		return false;
	qsort(st->latency_us, st->n, sizeof(*v), out_cmp);
	*min = v[0] / 1000.0;
	*max = v[st->n - 1] / 1000.0;
	*med = st->n % 2 ? v[st->n / 2] / 1000.0
	                 : (v[st->n / 2 - 1] + (double)v[st->n / 2]) / 2000.0;
	return true;
}

void cli_out_series(FILE *f, const struct probe *p, struct cli_stats *st)
{
	char type[32];
	double min, med, max;
	const char *sep = ": ";

	out_type(p, type, sizeof(type));
	fprintf(f, "%s %s - %u runs", type, cli_code_names[st->worst < 0 ? CLI_UNKNOWN : st->worst],
	        st->runs);
	for (int c = CLI_OK; c <= CLI_UNKNOWN; c++) {
		if (st->count[c] == 0)
			continue;
		fprintf(f, "%s%u %s", sep, st->count[c], cli_names_lower[c]);
		sep = ", ";
	}
	if (st->timed_out > 0)
		fprintf(f, " (%u timed out)", st->timed_out);
	if (out_latency(st, &min, &med, &max))
		fprintf(f, "; latency min/median/max %.3f/%.3f/%.3f ms | time=%.6fs;;;0", min, med,
		        max, med / 1000.0);
	fputc('\n', f);
}

void cli_out_summary(FILE *f, const struct probe *p, struct cli_stats *st, bool json)
{
	double min, med, max;
	bool measured = out_latency(st, &min, &med, &max);

	if (st->runs == 0)
		return;
	if (json) {
		json_t *o = json_pack(
		        "{s:{s:s, s:I, s:I, s:I, s:I, s:I, s:I}}", "summary", "check", p->label,
		        "runs", (json_int_t)st->runs, "ok", (json_int_t)st->count[CLI_OK],
		        "warning", (json_int_t)st->count[CLI_WARNING], "critical",
		        (json_int_t)st->count[CLI_CRITICAL], "unknown",
		        (json_int_t)st->count[CLI_UNKNOWN], "timed_out", (json_int_t)st->timed_out);
		json_object_set_new(json_object_get(o, "summary"), "latency_ms",
		                    measured ? json_pack("{s:f, s:f, s:f}", "min", min, "median",
		                                         med, "max", max)
		                             : json_null());
		char *s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
		if (s != NULL)
			fprintf(f, "%s\n", s);
		free(s);
		json_decref(o);
		return;
	}
	fprintf(f, "--- %s: %u runs, %u ok, %u warning, %u critical, %u unknown", p->label,
	        st->runs, st->count[CLI_OK], st->count[CLI_WARNING], st->count[CLI_CRITICAL],
	        st->count[CLI_UNKNOWN]);
	if (st->timed_out > 0)
		fprintf(f, ", %u timed out (not in the latency)", st->timed_out);
	fputc('\n', f);
	if (measured)
		fprintf(f, "latency min/median/max = %.3f/%.3f/%.3f ms\n", min, med, max);
	else
		fprintf(f, "latency: no run ended in time\n");
}

void cli_stats_free(struct cli_stats *st)
{
	free(st->latency_us);
	st->latency_us = NULL;
	st->n = st->cap = 0;
}

/* The message's path inside the check: "port: expected ...", or NULL. */
const char *cli_err_tail(const char *msg)
{
	const char *at = strstr(msg, "services[0].checks[0]");
	return at != NULL ? at + strlen("services[0].checks[0]") : NULL;
}

/* "healthd probe tcp: --port: expected integer 1-65535" */
void cli_out_config_error(FILE *f, const char *type, const char *msg)
{
	const char *t = cli_err_tail(msg);
	fprintf(f, "%s %s: ", CLI_NAME, type);
	if (t == NULL) {
		fprintf(f, "%s\n", msg);
		return;
	}
	if (t[0] == '.') {
		size_t n = strcspn(t + 1, ".[:");
		fputs("--", f);
		for (size_t i = 0; i < n; i++)
			fputc(t[1 + i] == '_' ? '-' : t[1 + i], f);
		t += 1 + n;
	} else if (t[0] == ':') {
		t += t[1] == ' ' ? 2 : 1; /* about the check itself: the message alone */
	}
	/* The loader's advice is for a config file; the command line has its own. */
	size_t tl = strlen(t), hl = strlen(CONFIG_SOURCE_CHECK_HINT);
	if (tl >= hl && strcmp(t + tl - hl, CONFIG_SOURCE_CHECK_HINT) == 0)
		fprintf(f, "%.*s (give --source an address of this node, or none)\n",
		        (int)(tl - hl), t);
	else
		fprintf(f, "%s\n", t);
}

static void out_keys(FILE *f, const char *const *keys)
{
	int col = 4;
	fputs("    ", f);
	for (; keys != NULL && *keys != NULL; keys++) {
		/* the type is the first argument; --interval is the time between runs */
		if (strcmp(*keys, "type") == 0 || strcmp(*keys, "interval") == 0)
			continue;
		int n = (int)strlen(*keys) + 3;
		if (col + n > 88) {
			fputs("\n    ", f);
			col = 4;
		}
		fputs(" --", f);
		for (const char *c = *keys; *c != '\0'; c++)
			fputc(*c == '_' ? '-' : *c, f);
		col += n;
	}
	fputc('\n', f);
}

const char cli_probe_usage[] =
        "usage: healthd probe TYPE [--KEY VALUE]... [--json] [-c|--count N] [-i|--interval D]\n"
        "                          [-v] [-- COMMAND ARGS...]\n"
        "\n"
        "Runs one check of TYPE now and prints what the daemon would decide, why, and how long\n"
        "it took. The options are the check's configuration keys with '-' for '_'\n"
        "(--expect-status for expect_status), validated exactly as in a config file. A value\n"
        "is read as JSON when it is JSON of the right type (53, true, [200]), else as text; a\n"
        "list is a repeated option or a comma-separated value; an option without a value is\n"
        "true; --source ADDR sets source.ipv4 or source.ipv6 by family; everything after\n"
        "\"--\" is the command (exec).\n"
        "\n"
        "  --json        one JSON object per run (and a summary after several)\n"
        "  -c, --count N run N times: a plugin line for all, one line per run, then\n"
        "                min/median/max latency of the runs that did not time out\n"
        "  -i, --interval D  time between runs (default 1s)\n"
        "  -v            log what the probe does (stderr)\n"
        "\n"
        "exit codes (monitoring plugins): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also bad\n"
        "options, and an exec check's exit 3); after several runs the worst.\n";

void cli_out_help(FILE *f, const struct probe_ops *ops)
{
	fputs(cli_probe_usage, f);
	if (ops != NULL) {
		fprintf(f, "\noptions of %s:\n", ops->name);
		out_keys(f, ops->keys);
	} else {
		fputs("\ntypes and their options:\n", f);
		char *types = strdup(probe_types()), *save = NULL;
		for (char *t = types ? strtok_r(types, ", ", &save) : NULL; t != NULL;
		     t = strtok_r(NULL, ", ", &save)) {
			const struct probe_ops *o = probe_ops_find(t);
			fprintf(f, "  %s\n", t);
			if (o != NULL)
				out_keys(f, o->keys);
		}
		free(types);
	}
	fputs("\noptions of every type:\n", f);
	out_keys(f, probe_common_keys);
}
