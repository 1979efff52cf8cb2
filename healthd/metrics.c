/* The Prometheus exposition, built in one pass over the run state into an evbuffer: no
 * per-scrape allocation per series, so that a scrape of 1,000 services costs a few
 * milliseconds of the loop (bench/metrics.sh measures it). Counters come from
 * engine_stats.c and the speaker's speaker_stats; nothing here keeps state. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "../lib/monotime.h"
#include "control.h"
#include "engine_priv.h"
#include "metrics.h"
#include "status.h"

#ifndef HEALTHD_VERSION
#define HEALTHD_VERSION "0.1.0"
#endif

static const char *const action_names[] = {"announce",    "on_degraded", "on_down",
                                           "on_disabled", "on_last",     "withdraw"};
/* Beyond the health states: held by flap damping, held by the fleet guard. */
static const char *const safety_states[] = {"DAMPED", "LAST"};
static const char *const status_names[] = {"status=\"ok\"", "status=\"warning\"", "status=\"fail\"",
                                           "status=\"error\""};
/* engine_latency_bounds as labels. */
static const char *const le[ENGINE_LATENCY_BUCKETS] = {
        "le=\"0.0001\"", "le=\"0.00025\"", "le=\"0.0005\"", "le=\"0.001\"",
        "le=\"0.0025\"", "le=\"0.005\"",   "le=\"0.01\"",   "le=\"0.025\"",
        "le=\"0.05\"",   "le=\"0.1\"",     "le=\"0.25\"",   "le=\"0.5\"",
        "le=\"1\"",      "le=\"2.5\"",     "le=\"5\"",      "le=\"10\"",
};

/* A label value: backslash, double quote and newline escaped (names come from a config). */
static const char *esc(const char *s, char *buf, size_t len)
{
	size_t k = 0;
	for (; *s != '\0' && k + 2 < len; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			buf[k++] = '\\';
			buf[k++] = *s == '\n' ? 'n' : *s;
		} else {
			buf[k++] = *s;
		}
	}
	buf[k] = '\0';
	return buf;
}

/* One sample: NAME{LABELS,EXTRA} VALUE, without printf (a scrape of 1,000 services writes
 * 40,000 of them while the loop waits). extra may be NULL. */
static void put(struct evbuffer *b, const char *name, const char *labels, const char *extra,
                uint64_t v)
{
	char line[1024], num[24];
	size_t k = 0, n = 0;
	const char *parts[] = {
	        name, "{", labels, extra != NULL ? "," : "", extra != NULL ? extra : "", "} "};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		size_t l = strlen(parts[i]);
		if (k + l >= sizeof(line) - 32)
			return;
		memcpy(line + k, parts[i], l);
		k += l;
	}
	do
		num[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (n > 0)
		line[k++] = num[--n];
	line[k++] = '\n';
	evbuffer_add(b, line, k);
}

static void head(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static double ts_seconds(const struct timespec *t)
{
	return (double)t->tv_sec + t->tv_nsec / 1e9;
}

static long metrics_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	long n = 0;
	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the directory's own descriptor */
}

static long metrics_rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * sysconf(_SC_PAGESIZE);
}

static void metrics_process(struct engine *eng, struct evbuffer *b)
{
	head(b, "healthd_build_info", "gauge", "The version healthd was built as.");
	evbuffer_add_printf(b, "healthd_build_info{version=\"%s\"} 1\n", HEALTHD_VERSION);
	head(b, "process_start_time_seconds", "gauge", "When healthd started (Unix time).");
	evbuffer_add_printf(b, "process_start_time_seconds %.3f\n", ts_seconds(&eng->started_at));
	long fds = metrics_open_fds(), rss = metrics_rss_bytes();
	if (fds >= 0) {
		head(b, "process_open_fds", "gauge", "Open file descriptors.");
		evbuffer_add_printf(b, "process_open_fds %ld\n", fds);
	}
	if (rss >= 0) {
		head(b, "process_resident_memory_bytes", "gauge", "Resident memory.");
		evbuffer_add_printf(b, "process_resident_memory_bytes %ld\n", rss);
	}
	head(b, "healthd_config_loaded", "gauge",
	     "1 while a valid configuration runs (0: none, or the state file's on hold).");
	evbuffer_add_printf(b, "healthd_config_loaded %d\n", eng->cfg != NULL && !eng->hold);
	head(b, "healthd_config_valid", "gauge",
	     "1 when the configuration file, as last read, was valid.");
	evbuffer_add_printf(b, "healthd_config_valid %d\n",
	                    eng->cfg != NULL && !eng->hold && eng->nerrors == 0);
	head(b, "healthd_config_loaded_timestamp_seconds", "gauge",
	     "When the running configuration was loaded (Unix time; 0: none).");
	evbuffer_add_printf(b, "healthd_config_loaded_timestamp_seconds %.3f\n",
	                    ts_seconds(&eng->loaded_at));
	head(b, "healthd_config_last_reload_timestamp_seconds", "gauge",
	     "When the last reload was tried (Unix time; 0: never).");
	evbuffer_add_printf(b, "healthd_config_last_reload_timestamp_seconds %.3f\n",
	                    ts_seconds(&eng->reload_at));
	head(b, "healthd_config_last_reload_success", "gauge",
	     "1 when the last reload (or the start, before any) applied a valid configuration.");
	evbuffer_add_printf(b, "healthd_config_last_reload_success %d\n",
	                    eng->reload_at.tv_sec != 0 ? eng->reload_ok
	                                               : eng->cfg != NULL && !eng->hold);
	uint64_t open, refused;
	control_counts(eng->ctl, &open, &refused);
	head(b, "healthd_control_connections", "gauge", "Open control connections.");
	evbuffer_add_printf(b, "healthd_control_connections %llu\n", (unsigned long long)open);
	head(b, "healthd_control_connections_refused_total", "counter",
	     "Control connections closed at once: too many were open.");
	evbuffer_add_printf(b, "healthd_control_connections_refused_total %llu\n",
	                    (unsigned long long)refused);
}

static void metrics_speaker(struct engine *eng, struct evbuffer *b)
{
	struct speaker *sp = eng->sp;
	if (sp == NULL)
		return;
	if (sp->ops != NULL && sp->ops->gauges != NULL)
		sp->ops->gauges(sp);
	const struct speaker_stats *st = &sp->stats;
	char type[32];
	snprintf(type, sizeof(type), "%s", sp->ops != NULL ? sp->ops->name : "none");
	head(b, "healthd_speaker_connected", "gauge", "1 while the BGP speaker is reachable.");
	evbuffer_add_printf(b, "healthd_speaker_connected{speaker=\"%s\"} %d\n", type,
	                    st->connected);
	head(b, "healthd_speaker_commands_total", "counter", "Commands written to the speaker.");
	evbuffer_add_printf(b, "healthd_speaker_commands_total{speaker=\"%s\"} %llu\n", type,
	                    (unsigned long long)st->commands);
	head(b, "healthd_speaker_acks_total", "counter",
	     "Acknowledgements of commands by result (ExaBGP's done and error).");
	evbuffer_add_printf(b, "healthd_speaker_acks_total{speaker=\"%s\",result=\"done\"} %llu\n",
	                    type, (unsigned long long)st->acks_done);
	evbuffer_add_printf(b, "healthd_speaker_acks_total{speaker=\"%s\",result=\"error\"} %llu\n",
	                    type, (unsigned long long)st->acks_error);
	head(b, "healthd_speaker_unacknowledged_commands", "gauge",
	     "Commands sent and not answered yet.");
	evbuffer_add_printf(b, "healthd_speaker_unacknowledged_commands{speaker=\"%s\"} %llu\n",
	                    type, (unsigned long long)st->unacked);
	head(b, "healthd_speaker_backlog_bytes", "gauge",
	     "Bytes written for the speaker that it has not taken yet.");
	evbuffer_add_printf(b, "healthd_speaker_backlog_bytes{speaker=\"%s\"} %llu\n", type,
	                    (unsigned long long)st->backlog_bytes);
	if (eng->cfg == NULL || (eng->cfg->speaker.type != SPEAKER_BIRD &&
	                         eng->cfg->speaker.type != SPEAKER_BIRDC_STDOUT))
		return;
	head(b, "healthd_bird_configures_total", "counter", "\"configure\" commands sent to BIRD.");
	evbuffer_add_printf(b, "healthd_bird_configures_total %llu\n",
	                    (unsigned long long)st->configures);
	head(b, "healthd_bird_reconnects_total", "counter",
	     "Connections to BIRD's control socket after the first.");
	evbuffer_add_printf(b, "healthd_bird_reconnects_total %llu\n",
	                    (unsigned long long)st->reconnects);
	head(b, "healthd_bird_replies_total", "counter",
	     "BIRD's replies by their code (\"lost\": the connection went first).");
	for (size_t i = 0; i < st->nreplies; i++) {
		char code[16];
		if (st->replies[i].code < 0)
			snprintf(code, sizeof(code), "lost");
		else
			snprintf(code, sizeof(code), "%04d", st->replies[i].code);
		evbuffer_add_printf(b, "healthd_bird_replies_total{code=\"%s\"} %llu\n", code,
		                    (unsigned long long)st->replies[i].n);
	}
}

/* Per service: what the route table told, from one pass over it. */
struct metrics_route {
	bool announced;
	uint64_t announces, withdraws;
};

static struct metrics_route *metrics_routes(struct engine *eng)
{
	size_t n = eng->cfg != NULL ? eng->cfg->nservices : 0;
	struct metrics_route *mr = calloc(n + 1, sizeof(*mr));
	if (mr == NULL || eng->sp == NULL)
		return mr;
	for (size_t i = 0; i < eng->sp->nroutes; i++) {
		const struct speaker_route *r = &eng->sp->routes[i];
		if (r->retired || r->svc < eng->cfg->services || r->svc >= eng->cfg->services + n)
			continue;
		struct metrics_route *m = &mr[r->svc - eng->cfg->services];
		m->announced = m->announced || r->sent != NULL;
		m->announces += r->announces;
		m->withdraws += r->withdraws;
	}
	return mr;
}

/* The families of one metric are written together: one loop per family. */
static void metrics_services(struct engine *eng, struct evbuffer *b, const struct metrics_route *mr)
{
	char n[256];
	struct timeval now;
	mono_now(&now);

#define EACH_SERVICE                                                                               \
	for (size_t i = 0; i < eng->nservices; i++)                                                \
		for (struct engine_service *es = eng->services[i]; es != NULL; es = NULL)
#define SNAME esc(es->cfg->name, n, sizeof(n))
#define ROUTE (&mr[es->cfg - eng->cfg->services])

	head(b, "healthd_service_state", "gauge", "1 for the state the service is in.");
	EACH_SERVICE
	{
		char sl[300], st[32];
		snprintf(sl, sizeof(sl), "service=\"%s\"", SNAME);
		const char *now_in = engine_safety_state(es);
		for (int s = 0; s < ENGINE_NSTATES; s++) {
			snprintf(st, sizeof(st), "state=\"%s\"", health_state_name(s));
			put(b, "healthd_service_state", sl, st,
			    strcmp(now_in, health_state_name(s)) == 0);
		}
		for (size_t k = 0; k < sizeof(safety_states) / sizeof(safety_states[0]); k++) {
			snprintf(st, sizeof(st), "state=\"%s\"", safety_states[k]);
			put(b, "healthd_service_state", sl, st,
			    strcmp(now_in, safety_states[k]) == 0);
		}
	}
	head(b, "healthd_service_state_seconds", "gauge", "Seconds in the current state.");
	EACH_SERVICE
	{
		struct timeval d;
		timersub(&now, &es->stats.since, &d);
		evbuffer_add_printf(b, "healthd_service_state_seconds{service=\"%s\"} %.3f\n",
		                    SNAME, d.tv_sec < 0 ? 0.0 : d.tv_sec + d.tv_usec / 1e6);
	}
	head(b, "healthd_service_transitions_total", "counter", "State changes by from and to.");
	EACH_SERVICE
	{
		SNAME;
		for (int f = 0; f < ENGINE_NSTATES; f++)
			for (int t = 0; t < ENGINE_NSTATES; t++)
				if (es->stats.transitions[f][t] > 0)
					evbuffer_add_printf(
					        b,
					        "healthd_service_transitions_total{service=\"%s\","
					        "from=\"%s\",to=\"%s\"} %llu\n",
					        n, health_state_name(f), health_state_name(t),
					        (unsigned long long)es->stats.transitions[f][t]);
	}
	head(b, "healthd_service_announced", "gauge",
	     "1 while the speaker was told the service's routes announced.");
	EACH_SERVICE
	{
		evbuffer_add_printf(b, "healthd_service_announced{service=\"%s\"} %d\n", SNAME,
		                    ROUTE->announced);
	}
	head(b, "healthd_service_action", "gauge",
	     "1 for what the service's routes do now (announce, on_down, on_disabled, "
	     "withdraw).");
	EACH_SERVICE
	{
		const char *a = status_action(es);
		char sl[300], al[32];
		snprintf(sl, sizeof(sl), "service=\"%s\"", SNAME);
		for (size_t k = 0; k < sizeof(action_names) / sizeof(action_names[0]); k++) {
			snprintf(al, sizeof(al), "action=\"%s\"", action_names[k]);
			put(b, "healthd_service_action", sl, al, strcmp(a, action_names[k]) == 0);
		}
	}
	head(b, "healthd_service_disabled", "gauge",
	     "1 while a source disables the service (file: the disable file, api: the control "
	     "endpoint).");
	EACH_SERVICE
	{
		SNAME;
		evbuffer_add_printf(b,
		                    "healthd_service_disabled{service=\"%s\",source=\"file\"} %d\n",
		                    n, es->svc->disabled_file);
		evbuffer_add_printf(b,
		                    "healthd_service_disabled{service=\"%s\",source=\"api\"} %d\n",
		                    n, es->svc->disabled_api);
	}
	head(b, "healthd_service_announces_total", "counter",
	     "Announcements of the service's routes sent to the speaker.");
	EACH_SERVICE
	{
		evbuffer_add_printf(b, "healthd_service_announces_total{service=\"%s\"} %llu\n",
		                    SNAME, (unsigned long long)ROUTE->announces);
	}
	head(b, "healthd_service_withdraws_total", "counter",
	     "Withdrawals of the service's routes sent to the speaker.");
	EACH_SERVICE
	{
		evbuffer_add_printf(b, "healthd_service_withdraws_total{service=\"%s\"} %llu\n",
		                    SNAME, (unsigned long long)ROUTE->withdraws);
	}
#undef ROUTE
}

static void metrics_checks(struct engine *eng, struct evbuffer *b)
{
	char n[256], lab[400];

#define EACH_CHECK                                                                                 \
	for (size_t i = 0; i < eng->nservices; i++)                                                \
		for (size_t j = 0; j < eng->services[i]->nchecks; j++)                             \
			for (struct engine_check *ec = &eng->services[i]->checks[j]; ec != NULL;   \
			     ec = NULL)
/* The labels every check series starts with. */
#define LABELS                                                                                     \
	(snprintf(lab, sizeof(lab), "service=\"%s\",check=\"%zu\",type=\"%s\"",                    \
	          esc(ec->es->cfg->name, n, sizeof(n)), ec->index, ec->probe->ops->name),          \
	 lab)

	head(b, "healthd_check_result", "gauge",
	     "1 for the status of the check's last result (ok, warning, fail, error).");
	EACH_CHECK
	{
		LABELS;
		for (int s = 0; s < 4; s++)
			put(b, "healthd_check_result", lab, status_names[s],
			    ec->stats.runs > 0 && (int)ec->probe->last.status == s);
	}
	head(b, "healthd_check_last_failure", "gauge",
	     "1 for the reason code of the check's last failure.");
	EACH_CHECK
	{
		if (ec->stats.has_failure)
			evbuffer_add_printf(b, "healthd_check_last_failure{%s,reason=\"%s\"} 1\n",
			                    LABELS,
			                    probe_reason_info(ec->stats.last_failure)->code);
	}
	head(b, "healthd_check_latency_seconds", "histogram", "How long the check's runs took.");
	EACH_CHECK
	{
		uint64_t cum = 0;
		LABELS;
		for (int k = 0; k < ENGINE_LATENCY_BUCKETS; k++) {
			cum += ec->stats.buckets[k];
			put(b, "healthd_check_latency_seconds_bucket", lab, le[k], cum);
		}
		put(b, "healthd_check_latency_seconds_bucket", lab, "le=\"+Inf\"", ec->stats.runs);
		evbuffer_add_printf(b, "healthd_check_latency_seconds_sum{%s} %.6f\n", lab,
		                    ec->stats.latency_sum);
		put(b, "healthd_check_latency_seconds_count", lab, NULL, ec->stats.runs);
	}
	head(b, "healthd_check_failures_total", "counter", "Failed runs by reason code.");
	EACH_CHECK
	{
		LABELS;
		for (int r = 0; r < PR_COUNT; r++)
			if (ec->stats.failures[r] > 0)
				evbuffer_add_printf(
				        b, "healthd_check_failures_total{%s,reason=\"%s\"} %llu\n",
				        lab, probe_reason_info(r)->code,
				        (unsigned long long)ec->stats.failures[r]);
	}
	head(b, "healthd_check_runs_total", "counter", "Runs that ended with a result.");
	EACH_CHECK
	{
		put(b, "healthd_check_runs_total", LABELS, NULL, ec->stats.runs);
	}
	head(b, "healthd_check_timeouts_total", "counter", "Runs that reached their timeout.");
	EACH_CHECK
	{
		put(b, "healthd_check_timeouts_total", LABELS, NULL, ec->stats.timeouts);
	}
	head(b, "healthd_check_skipped_total", "counter",
	     "Runs skipped because the previous one was still going.");
	EACH_CHECK
	{
		put(b, "healthd_check_skipped_total", LABELS, NULL, ec->stats.skipped);
	}
	head(b, "healthd_check_dropped_total", "counter",
	     "Results of overlapping runs not counted: a run started later had been counted.");
	EACH_CHECK
	{
		put(b, "healthd_check_dropped_total", LABELS, NULL, ec->stats.dropped);
	}
#undef LABELS
#undef EACH_CHECK
}

/* How late the checks' runs started against their timers (engine_stats_fire). */
static void metrics_schedule(struct engine *eng, struct evbuffer *b)
{
	const struct engine_schedule_stats *st = &eng->schedule;
	uint64_t cum = 0;

	head(b, "healthd_schedule_lateness_seconds", "histogram",
	     "How late each check run started against its timer, every check together.");
	for (int k = 0; k < ENGINE_LATENCY_BUCKETS; k++) {
		cum += st->buckets[k];
		evbuffer_add_printf(b, "healthd_schedule_lateness_seconds_bucket{%s} %llu\n", le[k],
		                    (unsigned long long)cum);
	}
	evbuffer_add_printf(b, "healthd_schedule_lateness_seconds_bucket{le=\"+Inf\"} %llu\n",
	                    (unsigned long long)st->runs);
	evbuffer_add_printf(b, "healthd_schedule_lateness_seconds_sum %.6f\n", st->sum);
	evbuffer_add_printf(b, "healthd_schedule_lateness_seconds_count %llu\n",
	                    (unsigned long long)st->runs);
	head(b, "healthd_schedule_missed_total", "counter",
	     "Whole intervals by which check runs started late: slots that passed without a run.");
	evbuffer_add_printf(b, "healthd_schedule_missed_total %llu\n",
	                    (unsigned long long)st->missed);
}

int metrics_render(struct engine *eng, struct evbuffer *out)
{
	struct metrics_route *mr = metrics_routes(eng);
	size_t nchecks = 0;
	if (mr == NULL)
		return -1;
	for (size_t i = 0; i < eng->nservices; i++)
		nchecks += eng->services[i]->nchecks;
	/* About 3 KB per check: one allocation instead of hundreds. */
	evbuffer_expand(out, 4096 + eng->nservices * 1500 + nchecks * 2500);
	metrics_process(eng, out);
	metrics_speaker(eng, out);
	metrics_services(eng, out, mr);
	metrics_safety(eng, out);
	metrics_checks(eng, out);
	metrics_schedule(eng, out);
	free(mr);
	return 0;
}
