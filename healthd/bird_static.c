/* Mode "static": healthd owns include files in BIRD's configuration (bird_file.c) and
 * makes BIRD read them with "configure".
 *
 * Every configure makes BIRD re-read its whole configuration, so changes are batched,
 * except that a withdrawal never waits for a window: an anycast node that cannot serve
 * must leave at once, while a route that comes back loses nothing by arriving 100ms
 * later.
 *  - A new announcement opens a window ("batch", 100ms by default) and everything that
 *    changes in it goes into one file write and one configure.
 *  - A change to a route BIRD announces (withdrawn, or other attributes: on_down,
 *    on_disabled) is written at once and configured as soon as nothing holds the
 *    configure back (below), taking along whatever else changed.
 *  - What holds a configure back bounds them, however the services flap: one at a time
 *    (the next waits for the answer), none sooner than "configure_gap" (1s) after the
 *    previous one's answer, and none sooner than "batch" after the previous one was
 *    sent (the bound when configure_gap is 0). Changes meanwhile go into the next one.
 *    Checks run spread over their interval, so services that fail together change state
 *    over seconds, not in one window: the gap keeps that to a few configures; the first
 *    withdrawal after a quiet second goes out at once.
 * The files always follow the wanted state, also while a configure is in flight (rename
 * is atomic: BIRD reads the old or the new file); only the next configure waits for the
 * answer. 0003 (done), 0004 (in progress: BIRD 3 applies it asynchronously) and 0005
 * (queued) are success; anything else, such as 8002 (an error in BIRD's configuration),
 * is logged with BIRD's own message and retried with backoff. A file whose text is
 * unchanged is neither written nor configured. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/atomicfile.h"
#include "bird.h"
#include "../lib/log.h"

#define STATIC_RETRY_MIN_MS 1000
#define STATIC_RETRY_MAX_MS 30000

struct bird_static {
	struct event *batch, *retry, *gap;
	uint32_t retry_ms;
	struct timeval next;   /* no configure before (monotime.h): the last answer + the gap */
	struct timeval spaced; /* nor before this: the last configure sent + the batch window */
	/* Versions of the files: written is bumped by every change, sent is what the
	 * configure in flight reads, taken what BIRD last confirmed. */
	unsigned written, sent, taken;
	bool again;    /* configure even if the files did not change (BIRD may run others) */
	bool inflight; /* a configure awaits its answer; the next one waits for it */
	char *text[2]; /* what each file holds, as healthd last wrote it */
	size_t len[2];
};

static void static_apply(struct bird *b);

static const char *static_path(const struct bird *b, int i)
{
	return i == 0 ? b->cfg->include : b->cfg->include6;
}

static size_t static_count(const struct bird *b)
{
	size_t n = 0;
	for (size_t i = 0; i < b->sp->nroutes; i++)
		n += b->sp->routes[i].sent != NULL;
	return n;
}

/* The files may differ from what BIRD runs. */
static bool static_due(const struct bird_static *st)
{
	return st->again || st->written != st->taken;
}

/* Write the files that changed. 0, or -1 (logged) with the old files in place. */
static int static_write(struct bird *b)
{
	struct bird_static *st = b->mode_priv;
	int nfiles = b->cfg->format == BIRD_FORMAT_SET ? 1 : 2;

	for (int i = 0; i < nfiles; i++) {
		char *text = NULL, why[512];
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		if (f == NULL)
			return -1;
		int rc = bird_file_render(f, b->cfg->format, i == 0 ? AF_INET : AF_INET6,
		                          b->sp->routes, b->sp->nroutes);
		if (fclose(f) != 0 || rc != 0) {
			free(text);
			log_err("out of memory writing %s", static_path(b, i));
			return -1;
		}
		if (st->text[i] != NULL && st->len[i] == len &&
		    memcmp(st->text[i], text, len) == 0) {
			free(text);
			continue;
		}
		/* Not ATOMIC_DURABLE: the directory's fsync would delay every configure, and
		 * after a crash healthd writes the file again at its start. */
		if (atomic_replace(static_path(b, i), text, len, 0644, 0, why, sizeof(why)) != 0) {
			free(text);
			log_err("cannot replace BIRD include file %s: %s", static_path(b, i), why);
			return -1;
		}
		free(st->text[i]);
		st->text[i] = text;
		st->len[i] = len;
		st->written++;
	}
	b->dirty = false;
	b->urgent = false;
	return 0;
}

static void static_backoff(struct bird *b)
{
	struct bird_static *st = b->mode_priv;
	struct timeval tv;

	st->retry_ms = st->retry_ms == 0 ? STATIC_RETRY_MIN_MS : st->retry_ms * 2;
	if (st->retry_ms > STATIC_RETRY_MAX_MS)
		st->retry_ms = STATIC_RETRY_MAX_MS;
	ms_to_tv(&tv, st->retry_ms);
	evtimer_add(st->retry, &tv);
}

static void static_flush(struct bird *b)
{
	struct bird_static *st = b->mode_priv;
	struct timeval tv;

	if (b->stopping || !b->dirty) {
		static_apply(b); /* at exit at once; else a configure may be due */
		return;
	}
	if (b->urgent) { /* a withdrawal: no window (the apply still keeps the bounds) */
		evtimer_del(st->batch);
		static_apply(b);
		return;
	}
	if (!evtimer_pending(st->batch, NULL)) {
		ms_to_tv(&tv, b->cfg->batch_ms);
		evtimer_add(st->batch, &tv);
	}
}

static void static_done(struct bird *b, const struct bird_reply *r, void *arg)
{
	struct bird_static *st = b->mode_priv;

	st->inflight = false;
	if (r->code < 0)
		return; /* connection lost: ready() configures again */
	mono_deadline(&st->next, b->cfg->gap_ms);
	if (r->error == 0 && (r->code == 3 || r->code == 4 || r->code == 5)) {
		size_t n = static_count(b);
		st->taken = st->sent;
		if (static_due(st))
			log_debug("BIRD took a configure (%04d); the files changed meanwhile",
			          r->code);
		else
			log_info("BIRD took the new routes (%04d): %zu prefix%s announced", r->code,
			         n, n == 1 ? "" : "es");
		st->retry_ms = 0;
		evtimer_del(st->retry);
	} else {
		int code = r->error ? r->error : r->code;
		st->again = true;
		if (b->stopping) {
			log_err("BIRD refused \"configure\": %04d %s", code, r->msg);
			b->failed = true;
			return;
		}
		static_backoff(b);
		log_err("BIRD refused \"configure\": %04d %s; retrying in %ums", code, r->msg,
		        (unsigned)st->retry_ms);
		return;
	}
	static_flush(b);
}

/* Write what changed (also while a configure is in flight), then configure when the files
 * may differ from what BIRD runs and nothing holds the configure back. */
static void static_apply(struct bird *b)
{
	struct bird_static *st = b->mode_priv;

	if (b->dirty && static_write(b) != 0) {
		if (b->stopping)
			b->failed = true;
		else
			static_backoff(b);
		return;
	}
	if (!static_due(st) || st->inflight)
		return;
	if (!b->stopping) { /* at exit nothing waits: act now */
		long wait = mono_ms_left(&st->next), spaced = mono_ms_left(&st->spaced);
		if (spaced > wait)
			wait = spaced;
		if (evtimer_pending(st->retry, NULL) || evtimer_pending(st->gap, NULL))
			return;
		if (wait > 0) {
			struct timeval tv;
			ms_to_tv(&tv, (uint32_t)wait);
			evtimer_add(st->gap, &tv);
			return;
		}
	}
	switch (b->io->send(b, "configure", static_done, NULL)) {
	case 0:
		st->inflight = true;
		st->sent = st->written;
		st->again = false;
		mono_deadline(&st->spaced, b->cfg->batch_ms);
		break;
	case 1: /* stdout: birdc answers its own terminal, not us */
		st->taken = st->written;
		st->again = false;
		mono_deadline(&st->next, b->cfg->gap_ms);
		mono_deadline(&st->spaced, b->cfg->batch_ms);
		break;
	default: /* BIRD is away: ready() configures once it is back */
		break;
	}
}

static void static_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	static_apply(arg);
}

static void static_ready(struct bird *b)
{
	struct bird_static *st = b->mode_priv;
	/* A BIRD that was away may have restarted with other files, or been fixed. */
	evtimer_del(st->retry);
	st->retry_ms = 0;
	st->again = true;
	b->dirty = true; /* the files are rewritten from the table if they differ from it */
	static_apply(b);
}

static void static_async(struct bird *b, const char *text, size_t len)
{
	/* Another configure re-reads the same files: nothing to re-assert. */
}

/* At exit the files are emptied at once, even while a configure is in flight: a BIRD that
 * reads them later (its answer, a restart) announces nothing. */
static void static_shutdown(struct bird *b)
{
	struct bird_static *st = b->mode_priv;
	evtimer_del(st->batch);
	evtimer_del(st->retry);
	evtimer_del(st->gap);
	static_apply(b);
}

static bool static_settled(struct bird *b)
{
	struct bird_static *st = b->mode_priv;
	return b->failed || (!b->dirty && !static_due(st) && !st->inflight);
}

static void static_close(struct bird *b)
{
	struct bird_static *st = b->mode_priv;
	if (st->batch)
		event_free(st->batch);
	if (st->retry)
		event_free(st->retry);
	if (st->gap)
		event_free(st->gap);
	free(st->text[0]);
	free(st->text[1]);
	free(st);
	b->mode_priv = NULL;
}

/* The directory of each file must take new files: found now, not at the first change. */
static int static_check_dir(const char *path)
{
	char *copy = strdup(path);
	if (copy == NULL)
		return -1;
	const char *dir = dirname(copy);
	int rc = access(dir, W_OK | X_OK);
	if (rc != 0)
		log_err("cannot write BIRD include file %s: directory %s: %s", path, dir,
		        strerror(errno));
	free(copy);
	return rc;
}

static int static_open(struct bird *b)
{
	struct bird_static *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -1;
	b->mode_priv = st;
	st->batch = evtimer_new(b->sp->base, static_timer_cb, b);
	st->retry = evtimer_new(b->sp->base, static_timer_cb, b);
	st->gap = evtimer_new(b->sp->base, static_timer_cb, b);
	if (st->batch == NULL || st->retry == NULL || st->gap == NULL)
		return -1;
	if (static_check_dir(b->cfg->include) != 0)
		return -1;
	if (b->cfg->format == BIRD_FORMAT_ROUTES && static_check_dir(b->cfg->include6) != 0)
		return -1;
	return 0;
}

const struct bird_mode_ops bird_static_mode = {
        .name = "static",
        .open = static_open,
        .flush = static_flush,
        .ready = static_ready,
        .async = static_async,
        .shutdown = static_shutdown,
        .settled = static_settled,
        .close = static_close,
};
