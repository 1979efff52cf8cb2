/* libcurl multi on libevent. Each event_base with transfers in flight has one CURLM; curl
 * tells us which sockets to watch (socket callback) and when to call it back (timer
 * callback), and every libevent wakeup goes to curl_multi_socket_action.
 *
 * A multi lives as long as it has transfers or holders (curlev_hold): nothing tells this
 * file when a base is freed, so no curl or libevent state may outlive the last transfer
 * on it unless a holder, which knows, promises to drop it before. Finished
 * transfers are reported after curl_multi_socket_action has returned, never from inside a
 * curl callback, so a done callback may remove handles and even end the multi (deferred
 * until the dispatch that reported it unwinds). */
#include <stdbool.h>
#include <stdlib.h>

#include "../lib/log.h"
#include "curlev.h"

struct curlev;

/* One socket curl asked us to watch. */
struct curlev_sock {
	struct curlev_sock *prev, *next;
	struct curlev *cv;
	curl_socket_t fd;
	struct event *ev;
};

struct curlev {
	struct curlev *next;
	unsigned holds; /* curlev_hold references */
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct curlev_sock *socks;
	struct curlev_sock *idle; /* removed sockets' entries, their events kept (not added) */
	size_t nidle;
	size_t nxfers;  /* easy handles attached */
	unsigned depth; /* > 0 while inside a dispatch: freeing waits for it to unwind */
	bool dying;     /* inside curl_multi_cleanup: callbacks only release */
};

struct curlev_xfer {
	struct curlev *cv;
	CURL *easy;
	curlev_done_fn done;
	void *arg;
};

static struct curlev *curlev_all;

int curlev_global_init(void)
{
	static bool done;
	CURLcode rc;

	if (done)
		return 0;
	rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		log_err("libcurl: %s", curl_easy_strerror(rc));
		return -1;
	}
	done = true;
	return 0;
}

size_t curlev_multis(void)
{
	size_t n = 0;
	for (const struct curlev *cv = curlev_all; cv != NULL; cv = cv->next)
		n++;
	return n;
}

size_t curlev_transfers(void)
{
	size_t n = 0;
	for (const struct curlev *cv = curlev_all; cv != NULL; cv = cv->next)
		n += cv->nxfers;
	return n;
}

#define CURLEV_IDLE 16 /* entries kept for the next sockets: as many as run at once */

/* Every transfer watches a new socket, first for writing (connect), then for reading:
 * an entry and its event are kept for the next socket rather than allocated again. */
static void curlev_sock_free(struct curlev_sock *cs)
{
	struct curlev *cv = cs->cv;

	/* Our socket events persist; libevent allows deleting one from its own callback,
	 * after which it is neither pending nor active and may be assigned again. */
	if (cs->ev != NULL)
		event_del(cs->ev);
	if (cs->prev != NULL)
		cs->prev->next = cs->next;
	else
		cv->socks = cs->next;
	if (cs->next != NULL)
		cs->next->prev = cs->prev;
	if (cs->ev != NULL && cv->nidle < CURLEV_IDLE && !cv->dying) {
		cs->prev = NULL;
		cs->next = cv->idle;
		cv->idle = cs;
		cv->nidle++;
		return;
	}
	if (cs->ev != NULL)
		event_free(cs->ev);
	free(cs);
}

static void curlev_free(struct curlev *cv)
{
	struct curlev **pp;

	for (pp = &curlev_all; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == cv) {
			*pp = cv->next;
			break;
		}
	}
	cv->dying = true;
	if (cv->multi != NULL)
		curl_multi_cleanup(cv->multi);
	while (cv->socks != NULL)
		curlev_sock_free(cv->socks);
	while (cv->idle != NULL) {
		struct curlev_sock *cs = cv->idle;
		cv->idle = cs->next;
		event_free(cs->ev);
		free(cs);
	}
	if (cv->timer != NULL)
		event_free(cv->timer);
	free(cv);
}

static void curlev_maybe_free(struct curlev *cv)
{
	if (cv->depth == 0 && cv->nxfers == 0 && cv->holds == 0)
		curlev_free(cv);
}

/* Report every finished transfer. The message is read before the callback runs: removing
 * the handle (which the callback may do) invalidates it. */
static void curlev_drain(struct curlev *cv)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(cv->multi, &left)) != NULL) {
		struct curlev_xfer *x = NULL;
		CURLcode result = m->data.result;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (x != NULL)
			x->done(x, result, x->arg);
	}
}

static void curlev_action(struct curlev *cv, curl_socket_t fd, int flags)
{
	int running;
	CURLMcode rc;

	cv->depth++;
	rc = curl_multi_socket_action(cv->multi, fd, flags, &running);
	if (rc != CURLM_OK)
		log_err("libcurl: %s", curl_multi_strerror(rc));
	curlev_drain(cv);
	cv->depth--;
	curlev_maybe_free(cv);
}

static void curlev_sock_event(evutil_socket_t fd, short what, void *arg)
{
	struct curlev_sock *cs = arg;
	int flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	/* cs may be freed inside: curl removes sockets it closes. */
	curlev_action(cs->cv, fd, flags);
}

static void curlev_timer_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	curlev_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

static int curlev_sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct curlev *cv = userp;
	struct curlev_sock *cs = sockp;
	short kind = EV_PERSIST;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (cs != NULL) {
			curlev_sock_free(cs);
			if (!cv->dying)
				curl_multi_assign(cv->multi, fd, NULL);
		}
		return 0;
	}
	if (cv->dying)
		return 0;
	if (cs == NULL) {
		if (cv->idle != NULL) {
			cs = cv->idle;
			cv->idle = cs->next;
			cv->nidle--;
		} else if ((cs = calloc(1, sizeof(*cs))) == NULL) {
			return -1;
		}
		cs->cv = cv;
		cs->fd = fd;
		cs->prev = NULL;
		cs->next = cv->socks;
		if (cv->socks != NULL)
			cv->socks->prev = cs;
		cv->socks = cs;
		curl_multi_assign(cv->multi, fd, cs);
	} else if (cs->ev != NULL) {
		/* A new interest: the event deleted (allowed from inside its own callback,
		 * which this may be) is neither pending nor active, so it may be assigned. */
		event_del(cs->ev);
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (cs->ev == NULL)
		cs->ev = event_new(cv->base, fd, kind, curlev_sock_event, cs);
	else if (event_assign(cs->ev, cv->base, fd, kind, curlev_sock_event, cs) != 0)
		return -1;
	if (cs->ev == NULL || event_add(cs->ev, NULL) != 0)
		return -1;
	return 0;
}

/* curl asks to be called back after ms (-1: never). Calling curl from here is not
 * allowed, so a zero timeout also goes through the loop. */
static int curlev_timer_cb(CURLM *multi, long ms, void *userp)
{
	struct curlev *cv = userp;
	struct timeval tv;

	(void)multi;
	if (ms < 0 || cv->dying) {
		evtimer_del(cv->timer);
		return 0;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return evtimer_add(cv->timer, &tv) == 0 ? 0 : -1;
}

static struct curlev *curlev_get(struct event_base *base)
{
	struct curlev *cv;

	for (cv = curlev_all; cv != NULL; cv = cv->next)
		if (cv->base == base)
			return cv;
	if (curlev_global_init() != 0)
		return NULL;
	cv = calloc(1, sizeof(*cv));
	if (cv == NULL)
		return NULL;
	cv->base = base;
	cv->next = curlev_all;
	curlev_all = cv;
	cv->timer = evtimer_new(base, curlev_timer_event, cv);
	cv->multi = curl_multi_init();
	if (cv->timer == NULL || cv->multi == NULL)
		goto fail;
	if (curl_multi_setopt(cv->multi, CURLMOPT_SOCKETFUNCTION, curlev_sock_cb) != CURLM_OK ||
	    curl_multi_setopt(cv->multi, CURLMOPT_SOCKETDATA, cv) != CURLM_OK ||
	    curl_multi_setopt(cv->multi, CURLMOPT_TIMERFUNCTION, curlev_timer_cb) != CURLM_OK ||
	    curl_multi_setopt(cv->multi, CURLMOPT_TIMERDATA, cv) != CURLM_OK)
		goto fail;
	return cv;
fail:
	log_err("libcurl: cannot set up a multi handle");
	curlev_free(cv);
	return NULL;
}

struct curlev *curlev_hold(struct event_base *base)
{
	struct curlev *cv = curlev_get(base);

	if (cv != NULL)
		cv->holds++;
	return cv;
}

void curlev_drop(struct curlev *cv)
{
	if (cv == NULL)
		return;
	cv->holds--;
	curlev_maybe_free(cv);
}

struct curlev_xfer *curlev_add(struct event_base *base, CURL *easy, curlev_done_fn done, void *arg)
{
	struct curlev *cv = curlev_get(base);
	struct curlev_xfer *x;
	CURLMcode rc;

	if (cv == NULL)
		return NULL;
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		goto fail;
	x->cv = cv;
	x->easy = easy;
	x->done = done;
	x->arg = arg;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
	/* Adding only arms the timer (at 0 ms): the transfer starts from the loop. */
	rc = curl_multi_add_handle(cv->multi, easy);
	if (rc != CURLM_OK) {
		log_err("libcurl: %s", curl_multi_strerror(rc));
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		goto fail;
	}
	cv->nxfers++;
	return x;
fail:
	free(x);
	curlev_maybe_free(cv);
	return NULL;
}

void curlev_remove(struct curlev_xfer *x)
{
	struct curlev *cv;

	if (x == NULL)
		return;
	cv = x->cv;
	curl_multi_remove_handle(cv->multi, x->easy);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, NULL);
	cv->nxfers--;
	free(x);
	curlev_maybe_free(cv);
}
