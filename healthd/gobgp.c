/* The speaker for GoBGP: paths in gobgpd's global RIB, added and deleted by its own gobgp
 * client run as a supervised child (probes/child.h: its own group, a timeout, reaped,
 * output logged on failure). docs/gobgp.md says why not gRPC from C.
 *
 * announce and withdraw only copy what the route should be (its prefix and the words of
 * its path) into this file's own table; nothing refers to the config afterwards. A pass
 * makes gobgpd match the table:
 *   read     "global rib -a FAMILY -j" for each family not known: the prefixes that have
 *            a path carrying the mark community (healthd's; nobody else's is touched);
 *   plan     delete each marked prefix not wanted; add each wanted one not marked there,
 *            or added with other words;
 *   apply    one client run per command, one at a time (the client takes one path);
 *   verify   read the families changed again and plan again: a pass ends when the plan
 *            is empty. A command that "succeeded" but did not stick, or any failure
 *            (gobgpd away, a refusal, a timeout), ends it with backoff and a fresh read.
 * The first change opens a window ("batch") so that services changing together share
 * the reads; "reassert" reads both families again now and then, which repairs a gobgpd
 * that restarted (an empty RIB) or lost a path. healthd's paths carry its "identifier"
 * as path id: "rib del PREFIX identifier N" deletes that path only, and a path of the
 * same prefix added by someone else (id 0) is neither replaced nor deleted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../lib/cfgread.h"
#include "../lib/log.h"
#include "../lib/monotime.h"
#include "../probes/child.h"
#include "gobgp.h"
#include "speaker.h"

#define GOBGP_RETRY_MIN_MS 1000
#define GOBGP_RETRY_MAX_MS 8000
#define GOBGP_ARGV_MAX     48 /* the fixed words and one path's words; see gobgp_argv */
#define GOBGP_ROUNDS_MAX   8  /* apply-verify rounds in one pass before giving up */

enum { FAM_V4, FAM_V6, FAM_N };
static const char *const fam_name[FAM_N] = {"ipv4", "ipv6"};

struct gobgp_entry {
	char *pfx;   /* canonical, as prefix_format writes it */
	int fam;     /* FAM_V4, FAM_V6 */
	char *words; /* wanted path words (gobgp_path_words); NULL: withdrawn */
	char *added; /* the words of the last add that succeeded; NULL: none since */
};

struct gobgp_cmd {
	bool add;
	size_t entry;
	char *words; /* add: a copy of the entry's words when planned */
};

enum gobgp_step { STEP_IDLE, STEP_READ, STEP_APPLY };

struct gobgp {
	struct speaker *sp;
	char *client, *host, *port, *mark_text;
	struct gobgp_entry *entries;
	size_t nentries;
	/* gobgpd's RIB as the last read of each family saw it: marked prefixes, sorted */
	char **marked[FAM_N];
	size_t nmarked[FAM_N];
	bool known[FAM_N];
	enum gobgp_step step;
	struct gobgp_cmd *cmds, *prev; /* this round's plan, and the last round's */
	size_t ncmds, nprev, next;
	int rounds;
	int read_fam;
	struct child *child;
	struct event *batch, *retry, *reassert, *timeout;
	uint32_t batch_ms, reassert_ms, timeout_ms, retry_ms;
	uint32_t mark, identifier;
	bool changed;              /* the table changed since the last plan */
	bool stopping;             /* at exit: no windows, no backoff */
	bool stop_planned;         /* at exit: the deletions are planned; reads may follow */
	bool failed;               /* at exit: a run failed */
	unsigned runs, adds, dels; /* this pass's counts, logged at its end */
	unsigned long total_runs;
};

static void gobgp_advance(struct gobgp *g);

static void cmds_free(struct gobgp_cmd *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].words);
	free(c);
}

static int marked_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool marked_has(const struct gobgp *g, int fam, const char *pfx)
{
	return g->known[fam] && g->nmarked[fam] > 0 &&
	       bsearch(&pfx, g->marked[fam], g->nmarked[fam], sizeof(char *), marked_cmp) != NULL;
}

static void marked_forget(struct gobgp *g, int fam)
{
	cfg_strv_free(g->marked[fam]);
	g->marked[fam] = NULL;
	g->nmarked[fam] = 0;
	g->known[fam] = false;
}

static ssize_t entry_find(const struct gobgp *g, const char *pfx)
{
	for (size_t i = 0; i < g->nentries; i++)
		if (strcmp(g->entries[i].pfx, pfx) == 0)
			return (ssize_t)i;
	return -1;
}

/* The entry for a prefix, made when new. NULL when out of memory. */
static struct gobgp_entry *entry_get(struct gobgp *g, const char *pfx, int fam)
{
	ssize_t i = entry_find(g, pfx);
	if (i >= 0)
		return &g->entries[i];
	struct gobgp_entry *e = realloc(g->entries, (g->nentries + 1) * sizeof(*e));
	if (e == NULL)
		return NULL;
	g->entries = e;
	e = &g->entries[g->nentries];
	memset(e, 0, sizeof(*e));
	e->pfx = strdup(pfx);
	e->fam = fam;
	if (e->pfx == NULL)
		return NULL;
	g->nentries++;
	return e;
}

/* ---- client runs ------------------------------------------------------------------ */

static void gobgp_run_done(struct child *c, int wstatus, void *arg);

/* Start the client with the words after "-u HOST -p PORT"; tail is split at spaces. */
static int gobgp_spawn(struct gobgp *g, const char *const *head, const char *tail)
{
	const char *argv[GOBGP_ARGV_MAX + 1];
	char *copy = NULL;
	size_t n = 0;
	int err = 0;

	argv[n++] = g->client;
	argv[n++] = "-u";
	argv[n++] = g->host;
	argv[n++] = "-p";
	argv[n++] = g->port;
	for (; *head != NULL && n < GOBGP_ARGV_MAX; head++)
		argv[n++] = *head;
	if (tail != NULL) {
		copy = strdup(tail);
		if (copy == NULL)
			return -1;
		for (char *save = NULL, *w = strtok_r(copy, " ", &save);
		     w != NULL && n < GOBGP_ARGV_MAX; w = strtok_r(NULL, " ", &save))
			argv[n++] = w;
	}
	argv[n] = NULL;
	struct child_spec spec = {.argv = argv, .max_output = GOBGP_RIB_MAX};
	g->child = child_spawn(g->sp->base, &spec, gobgp_run_done, g, &err);
	free(copy);
	if (g->child == NULL) {
		log_err("cannot run %s: %s", g->client, strerror(err));
		return -1;
	}
	g->runs++;
	g->total_runs++;
	g->sp->stats.commands++; /* one gobgp client run: the speaker's command */
	if (!g->stopping) {
		struct timeval tv;
		ms_to_tv(&tv, g->timeout_ms);
		evtimer_add(g->timeout, &tv);
	}
	return 0;
}

/* A run's output for a log line: printable, one line, bounded. */
static void gobgp_output(const struct child *c, char *buf, size_t len)
{
	size_t n, k = 0;
	const char *s = child_output(c, &n);
	for (size_t i = 0; i < n && k + 1 < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		buf[k++] = ch == '\n' || ch == '\t' ? ' ' : (ch < 0x20 || ch > 0x7e) ? '?' : ch;
	}
	while (k > 0 && buf[k - 1] == ' ')
		k--;
	buf[k] = '\0';
}

/* ---- the pass --------------------------------------------------------------------- */

static void gobgp_fail(struct gobgp *g)
{
	struct timeval tv;

	cmds_free(g->cmds, g->ncmds);
	cmds_free(g->prev, g->nprev);
	g->cmds = g->prev = NULL;
	g->ncmds = g->nprev = g->next = 0;
	g->step = STEP_IDLE;
	/* gobgpd may have restarted, or taken part of the plan: read everything again. */
	for (int f = 0; f < FAM_N; f++)
		marked_forget(g, f);
	if (g->stopping) {
		g->failed = true;
		return;
	}
	g->retry_ms = g->retry_ms == 0 ? GOBGP_RETRY_MIN_MS : g->retry_ms * 2;
	if (g->retry_ms > GOBGP_RETRY_MAX_MS)
		g->retry_ms = GOBGP_RETRY_MAX_MS;
	ms_to_tv(&tv, g->retry_ms);
	evtimer_add(g->retry, &tv);
	log_warn("gobgpd: retrying in %ums", (unsigned)g->retry_ms);
}

static bool cmd_same(const struct gobgp_cmd *a, const struct gobgp_cmd *b)
{
	if (a->add != b->add || a->entry != b->entry)
		return false;
	return !a->add || strcmp(a->words, b->words) == 0;
}

static int plan_push(struct gobgp *g, size_t *cap, bool add, size_t entry)
{
	if (g->ncmds == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct gobgp_cmd *c = realloc(g->cmds, ncap * sizeof(*c));
		if (c == NULL)
			return -1;
		g->cmds = c;
		*cap = ncap;
	}
	struct gobgp_cmd *c = &g->cmds[g->ncmds];
	c->add = add;
	c->entry = entry;
	c->words = NULL;
	if (add && (c->words = strdup(g->entries[entry].words)) == NULL)
		return -1;
	g->ncmds++;
	return 0;
}

/* Marked prefixes in gobgpd that are in no entry: a previous run's (another config). */
static int plan_strays(struct gobgp *g, size_t *cap)
{
	for (int f = 0; f < FAM_N; f++) {
		for (size_t i = 0; i < g->nmarked[f]; i++) {
			if (entry_find(g, g->marked[f][i]) >= 0)
				continue;
			struct gobgp_entry *e = entry_get(g, g->marked[f][i], f);
			if (e == NULL || plan_push(g, cap, false, (size_t)(e - g->entries)) != 0)
				return -1;
		}
	}
	return 0;
}

/* Every family is known: the commands that make gobgpd match the table. 0, or -1. */
static int gobgp_plan(struct gobgp *g)
{
	size_t cap = 0;

	cmds_free(g->prev, g->nprev);
	g->prev = g->cmds;
	g->nprev = g->ncmds;
	g->cmds = NULL;
	g->ncmds = g->next = 0;
	g->changed = false;
	g->stop_planned = g->stopping;
	if (plan_strays(g, &cap) != 0)
		return -1;
	for (size_t i = 0; i < g->nentries; i++) {
		struct gobgp_entry *e = &g->entries[i];
		bool there =
		        marked_has(g, e->fam, e->pfx) || (!g->known[e->fam] && e->added != NULL);
		if (e->words == NULL && there) {
			if (plan_push(g, &cap, false, i) != 0)
				return -1;
		} else if (e->words != NULL &&
		           (!there || e->added == NULL || strcmp(e->added, e->words) != 0)) {
			if (plan_push(g, &cap, true, i) != 0)
				return -1;
		}
	}
	return 0;
}

static size_t gobgp_count(const struct gobgp *g)
{
	return g->nmarked[FAM_V4] + g->nmarked[FAM_V6];
}

static void gobgp_pass_end(struct gobgp *g)
{
	g->step = STEP_IDLE;
	g->retry_ms = 0;
	if (g->runs > 0)
		log_info("gobgpd holds %zu path%s of healthd's (%u client run%s: %u added, %u "
		         "deleted; %lu runs in all)",
		         gobgp_count(g), gobgp_count(g) == 1 ? "" : "s", g->runs,
		         g->runs == 1 ? "" : "s", g->adds, g->dels, g->total_runs);
	g->runs = g->adds = g->dels = 0;
	cmds_free(g->prev, g->nprev);
	cmds_free(g->cmds, g->ncmds);
	g->cmds = g->prev = NULL;
	g->ncmds = g->nprev = g->next = 0;
	g->rounds = 0;
	if (g->changed && !g->stopping)
		speaker_sync(g->sp); /* changes that came after the last plan: a new window */
}

/* Run the next step of the pass: a read, a command, or the end. */
static void gobgp_advance(struct gobgp *g)
{
	static const char *const read_words[FAM_N][6] = {
	        {"global", "rib", "-a", "ipv4", "-j", NULL},
	        {"global", "rib", "-a", "ipv6", "-j", NULL},
	};

	if (g->step == STEP_APPLY && (g->next == g->ncmds || (g->stopping && g->changed)))
		g->step = STEP_READ; /* applied (or made stale by the exit): verify */
	if (g->step == STEP_APPLY)
		goto run;
	for (int f = 0; f < FAM_N; f++) {
		/* At exit the deletions come first, from what was added and what was read:
		 * the time is short, and the verifying read follows them. */
		if (g->known[f] || (g->stopping && !g->stop_planned))
			continue;
		g->read_fam = f;
		if (gobgp_spawn(g, read_words[f], NULL) != 0)
			gobgp_fail(g);
		return;
	}
	if (gobgp_plan(g) != 0) {
		log_err("out of memory planning gobgpd's changes");
		gobgp_fail(g);
		return;
	}
	if (g->ncmds == 0) {
		gobgp_pass_end(g);
		return;
	}
	for (size_t i = 0; i < g->ncmds; i++)
		for (size_t j = 0; j < g->nprev; j++)
			if (cmd_same(&g->cmds[i], &g->prev[j])) {
				log_err("gobgpd did not keep what its client %s for %s",
				        g->cmds[i].add ? "added" : "deleted",
				        g->entries[g->cmds[i].entry].pfx);
				gobgp_fail(g);
				return;
			}
	if (++g->rounds > GOBGP_ROUNDS_MAX) {
		log_err("gobgpd's RIB keeps changing under healthd");
		gobgp_fail(g);
		return;
	}
	g->step = STEP_APPLY;
run:;
	const struct gobgp_cmd *c = &g->cmds[g->next];
	const struct gobgp_entry *e = &g->entries[c->entry];
	const char *head[] = {"global", "rib", c->add ? "add" : "del", "-a", fam_name[e->fam],
	                      e->pfx,   NULL};
	char id[32];
	snprintf(id, sizeof(id), "identifier %u", (unsigned)g->identifier);
	log_debug("gobgp: %s %s %s", c->add ? "add" : "del", e->pfx, c->add ? c->words : id);
	if (gobgp_spawn(g, head, c->add ? c->words : id) != 0)
		gobgp_fail(g);
}

static void gobgp_read_done(struct gobgp *g, struct child *c)
{
	char why[256];
	char **v;
	size_t n, len;
	const char *out = child_output(c, &len);
	int f = g->read_fam;

	if (child_output_truncated(c)) {
		log_err("gobgpd's %s RIB is larger than %d MiB: healthd cannot read it back",
		        fam_name[f], GOBGP_RIB_MAX >> 20);
		gobgp_fail(g);
		return;
	}
	if (gobgp_rib_marked(out, len, f == FAM_V4 ? AF_INET : AF_INET6, g->mark, &v, &n, why,
	                     sizeof(why)) != 0) {
		log_err("cannot read gobgpd's %s RIB: %s", fam_name[f], why);
		gobgp_fail(g);
		return;
	}
	marked_forget(g, f);
	g->marked[f] = v;
	g->nmarked[f] = n;
	g->known[f] = true;
	gobgp_advance(g);
}

static void gobgp_cmd_done(struct gobgp *g)
{
	const struct gobgp_cmd *c = &g->cmds[g->next++];
	struct gobgp_entry *e = &g->entries[c->entry];

	free(e->added);
	e->added = NULL;
	if (c->add) {
		e->added = strdup(c->words); /* NULL (no memory) only costs a re-add */
		g->adds++;
	} else {
		g->dels++;
	}
	marked_forget(g, e->fam); /* read back before the pass ends */
	gobgp_advance(g);
}

static void gobgp_run_done(struct child *c, int wstatus, void *arg)
{
	struct gobgp *g = arg;
	char out[512];

	evtimer_del(g->timeout);
	g->child = NULL;
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
		gobgp_output(c, out, sizeof(out));
		if (WIFEXITED(wstatus))
			log_err("gobgp client exited with %d: %s", WEXITSTATUS(wstatus),
			        out[0] ? out : "(no output)");
		else
			log_err("gobgp client killed by signal %d", WTERMSIG(wstatus));
		child_free(c);
		gobgp_fail(g);
		return;
	}
	if (g->step == STEP_READ)
		gobgp_read_done(g, c);
	else
		gobgp_cmd_done(g);
	child_free(c);
}

static void gobgp_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gobgp *g = arg;
	log_err("gobgp client did not finish within %ums: killed", (unsigned)g->timeout_ms);
	child_free(g->child);
	g->child = NULL;
	gobgp_fail(g);
}

/* Start a pass unless one runs or a window or a backoff holds it back. */
static void gobgp_start(struct gobgp *g)
{
	if (g->step != STEP_IDLE || g->child != NULL)
		return;
	if (!g->stopping && (evtimer_pending(g->retry, NULL) || evtimer_pending(g->batch, NULL)))
		return;
	g->step = STEP_READ; /* plan once the families are known */
	gobgp_advance(g);
}

static void gobgp_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	gobgp_start(arg);
}

static void gobgp_reassert_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gobgp *g = arg;
	if (g->step != STEP_IDLE || evtimer_pending(g->retry, NULL))
		return; /* a pass reads anyway; a backoff retries with a read */
	for (int f = 0; f < FAM_N; f++)
		marked_forget(g, f);
	gobgp_start(g);
}

/* ---- speaker_ops ------------------------------------------------------------------ */

static int gobgp_set(struct speaker *sp, const struct speaker_route *r, bool announce)
{
	struct gobgp *g = sp->priv;
	char pfx[PREFIX_STRLEN];
	char *words = NULL;

	prefix_format(r->pfx, pfx, sizeof(pfx));
	if (announce && (words = gobgp_path_words(r->want, g->identifier, g->mark_text)) == NULL)
		return -1;
	struct gobgp_entry *e = entry_get(g, pfx, r->pfx->family == AF_INET ? FAM_V4 : FAM_V6);
	if (e == NULL) {
		free(words);
		return -1;
	}
	if ((e->words == NULL) != (words == NULL) ||
	    (words != NULL && strcmp(e->words, words) != 0))
		g->changed = true;
	free(e->words);
	e->words = words;
	return 0;
}

static int gobgp_announce(struct speaker *sp, const struct speaker_route *r)
{
	return gobgp_set(sp, r, true);
}

static int gobgp_withdraw(struct speaker *sp, const struct speaker_route *r)
{
	return gobgp_set(sp, r, false);
}

static void gobgp_flush(struct speaker *sp)
{
	struct gobgp *g = sp->priv;
	struct timeval tv;

	if (!g->changed || g->step != STEP_IDLE || g->child != NULL)
		return; /* a pass in progress plans again before it ends */
	if (g->stopping) {
		gobgp_start(g);
		return;
	}
	if (!evtimer_pending(g->batch, NULL)) {
		ms_to_tv(&tv, g->batch_ms);
		evtimer_add(g->batch, &tv);
	}
}

static bool gobgp_settled(const struct gobgp *g)
{
	return g->step == STEP_IDLE && g->child == NULL && !g->changed;
}

/* At exit, without the loop: delete every marked path (the table withdraws all), with
 * the client runs waited for synchronously, until the deadline. */
static int gobgp_drain(struct speaker *sp, uint32_t timeout_ms)
{
	struct gobgp *g = sp->priv;
	struct timeval deadline;

	mono_deadline(&deadline, timeout_ms);
	g->stopping = true;
	evtimer_del(g->batch);
	evtimer_del(g->retry);
	evtimer_del(g->reassert);
	evtimer_del(g->timeout);
	if (g->step == STEP_IDLE && g->child == NULL)
		gobgp_start(g);
	while (!g->failed && !gobgp_settled(g)) {
		if (g->child == NULL) {
			gobgp_start(g);
			if (g->child == NULL)
				break;
		}
		if (child_wait(g->child, &deadline) != 0) {
			log_warn("gobgpd did not confirm the deletions within %ums",
			         (unsigned)timeout_ms);
			return -1;
		}
	}
	if (g->failed || gobgp_count(g) > 0 || !g->known[FAM_V4] || !g->known[FAM_V6])
		return -1;
	return 0;
}

static void gobgp_close(struct speaker *sp)
{
	struct gobgp *g = sp->priv;
	if (g == NULL)
		return;
	child_free(g->child);
	struct event *evs[] = {g->batch, g->retry, g->reassert, g->timeout};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	for (size_t i = 0; i < g->nentries; i++) {
		free(g->entries[i].pfx);
		free(g->entries[i].words);
		free(g->entries[i].added);
	}
	free(g->entries);
	for (int f = 0; f < FAM_N; f++)
		marked_forget(g, f);
	cmds_free(g->cmds, g->ncmds);
	cmds_free(g->prev, g->nprev);
	free(g->client);
	free(g->host);
	free(g->port);
	free(g->mark_text);
	free(g);
	sp->priv = NULL;
}

static void gobgp_gauges(struct speaker *sp)
{
	struct gobgp *g = sp->priv;
	sp->stats.unacked = g->child != NULL ? 1 : 0;
	sp->stats.connected = !sp->gone;
}

static const struct speaker_ops gobgp_ops = {
        .name = "gobgp",
        .announce = gobgp_announce,
        .withdraw = gobgp_withdraw,
        .flush = gobgp_flush,
        .drain = gobgp_drain,
        .drain_ms = 10000, /* one client run per path, ~50 ms each */
        .close = gobgp_close,
        .gauges = gobgp_gauges,
};

int gobgp_open(struct speaker *sp)
{
	const struct gobgp_cfg *cfg = &sp->cfg->speaker.gobgp;
	struct gobgp *g = calloc(1, sizeof(*g));
	struct timeval tv;

	if (g == NULL)
		return -1;
	sp->ops = &gobgp_ops;
	sp->priv = g;
	g->sp = sp;
	g->client = strdup(cfg->client);
	g->host = strdup(cfg->host);
	g->port = strdup(cfg->port);
	g->mark_text = strdup(cfg->mark);
	g->mark = cfg->mark_value;
	g->identifier = cfg->identifier;
	g->batch_ms = cfg->batch_ms;
	g->reassert_ms = cfg->reassert_ms;
	g->timeout_ms = cfg->timeout_ms;
	g->batch = evtimer_new(sp->base, gobgp_timer_cb, g);
	g->retry = evtimer_new(sp->base, gobgp_timer_cb, g);
	g->timeout = evtimer_new(sp->base, gobgp_timeout_cb, g);
	g->reassert = event_new(sp->base, -1, EV_PERSIST, gobgp_reassert_cb, g);
	if (!g->client || !g->host || !g->port || !g->mark_text || !g->batch || !g->retry ||
	    !g->timeout || !g->reassert) {
		gobgp_close(sp);
		sp->ops = NULL;
		return -1;
	}
	if (g->reassert_ms > 0) {
		ms_to_tv(&tv, g->reassert_ms);
		evtimer_add(g->reassert, &tv);
	}
	/* The first pass reads gobgpd whatever the table says: paths a previous run left
	 * are deleted unless wanted. */
	g->changed = true;
	log_info("gobgp: gobgpd's API at %s, paths marked with community %s, path id %u", cfg->api,
	         g->mark_text, (unsigned)g->identifier);
	return 0;
}
