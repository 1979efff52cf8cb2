/* The fleet guard's polling of the peers' status; see fleet.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../lib/log.h"
#include "../lib/monotime.h"
#include "../probes/curlev.h"
#include "fleet.h"
#include "guard.h"

#define FLEET_MAX_BODY  (256 * 1024) /* a status of thousands of services fits */
#define FLEET_MAX_TOKEN 4096

struct fleet_peer {
	struct fleet *f;
	char *name; /* "ADDR:PORT" */
	char *url;
	CURL *easy;
	struct curlev_xfer *xfer; /* NULL: no request in flight */
	char *body;
	size_t len;
	bool too_big;
	struct guard_view view; /* the last good answer */
	bool heard_ever;
	struct timeval heard; /* when view was read (monotonic) */
	struct timeval asked; /* when the request that view answers was sent */
	struct timeval sent;  /* when the request in flight was sent */
	char error[160];      /* why the last request failed; "" when it did not */
};

struct fleet {
	struct event_base *base;
	struct event *tick;
	json_t *normal; /* the "fleet" object this was built from */
	uint32_t poll_ms, stale_ms;
	int min_others;
	struct source_addr src;
	struct curl_slist *headers;
	struct fleet_peer *peers;
	size_t npeers;
	fleet_changed_fn changed;
	void *arg;
};

static uint64_t fleet_age_ms(const struct fleet_peer *p)
{
	struct timeval now, d;
	mono_now(&now);
	timersub(&now, &p->heard, &d);
	return d.tv_sec < 0 ? 0 : (uint64_t)d.tv_sec * 1000 + (uint64_t)d.tv_usec / 1000;
}

static bool fleet_fresh(const struct fleet_peer *p)
{
	return p->heard_ever && p->error[0] == '\0' && fleet_age_ms(p) < p->f->stale_ms;
}

size_t fleet_announcing(const struct fleet *f, const char *service, const struct timeval *since)
{
	size_t n = 0;
	for (size_t i = 0; i < f->npeers; i++) {
		const struct fleet_peer *p = &f->peers[i];
		if (since != NULL && timercmp(&p->asked, since, <))
			continue;
		if (fleet_fresh(p) && guard_view_announces(&p->view, service))
			n++;
	}
	return n;
}

size_t fleet_npeers(const struct fleet *f)
{
	return f->npeers;
}

int fleet_min_others(const struct fleet *f)
{
	return f->min_others;
}

json_t *fleet_peers_json(const struct fleet *f)
{
	json_t *a = json_array();
	for (size_t i = 0; a != NULL && i < f->npeers; i++) {
		const struct fleet_peer *p = &f->peers[i];
		json_t *o = json_object();
		json_object_set_new(o, "peer", json_string(p->name));
		json_object_set_new(o, "heard", json_boolean(fleet_fresh(p)));
		json_object_set_new(o, "age_ms",
		                    p->heard_ever ? json_integer((json_int_t)fleet_age_ms(p))
		                                  : json_null());
		if (p->error[0] != '\0')
			json_object_set_new(o, "error", json_string(p->error));
		json_array_append_new(a, o);
	}
	return a;
}

/* Bind this node's unique source address before curl connects, as every probe does. */
static int fleet_sockopt(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	struct fleet_peer *p = arg;
	int family;
	socklen_t len = sizeof(family);

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKOPT_OK;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) != 0 ||
	    net_bind_source(fd, family, &p->f->src) < 0)
		return CURL_SOCKOPT_ERROR;
	return CURL_SOCKOPT_OK;
}

static size_t fleet_write(char *data, size_t size, size_t n, void *arg)
{
	struct fleet_peer *p = arg;
	size_t len = size * n;

	if (p->len + len > FLEET_MAX_BODY) {
		p->too_big = true;
		return 0; /* stops the transfer */
	}
	char *b = realloc(p->body, p->len + len + 1);
	if (b == NULL)
		return 0;
	p->body = b;
	memcpy(p->body + p->len, data, len);
	p->len += len;
	p->body[p->len] = '\0';
	return len;
}

/* Say a peer's failure when it starts or changes, and its return once. */
static void fleet_peer_result(struct fleet_peer *p, const char *error)
{
	if (error == NULL) {
		if (p->error[0] != '\0' || !p->heard_ever)
			log_info("fleet: peer %s answers", p->name);
		p->error[0] = '\0';
		p->heard_ever = true;
		mono_now(&p->heard);
		return;
	}
	if (strcmp(p->error, error) != 0)
		log_warn("fleet: peer %s: %s; counted as announcing nothing", p->name, error);
	snprintf(p->error, sizeof(p->error), "%s", error);
	guard_view_free(&p->view);
}

static void fleet_done(struct curlev_xfer *x, CURLcode rc, void *arg)
{
	struct fleet_peer *p = arg;
	char why[160], perr[128];
	long code = 0;

	curlev_remove(x);
	p->xfer = NULL;
	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
	if (p->too_big) {
		snprintf(why, sizeof(why), "status larger than %d bytes", FLEET_MAX_BODY);
		fleet_peer_result(p, why);
	} else if (rc != CURLE_OK) {
		snprintf(why, sizeof(why), "%s", curl_easy_strerror(rc));
		fleet_peer_result(p, why);
	} else if (code != 200) {
		snprintf(why, sizeof(why), "HTTP status %ld", code);
		fleet_peer_result(p, why);
	} else {
		struct guard_view v;
		if (guard_view_parse(p->body ? p->body : "", p->len, &v, perr, sizeof(perr)) != 0) {
			snprintf(why, sizeof(why), "bad status: %s", perr);
			fleet_peer_result(p, why);
		} else {
			guard_view_free(&p->view);
			p->view = v;
			p->asked = p->sent;
			fleet_peer_result(p, NULL);
		}
	}
	if (p->f->changed != NULL)
		p->f->changed(p->f->arg);
}

static void fleet_poll(struct fleet_peer *p)
{
	if (p->xfer != NULL)
		return; /* still going: it ends by its own timeout, within one poll */
	p->len = 0;
	p->too_big = false;
	mono_now(&p->sent);
	p->xfer = curlev_add(p->f->base, p->easy, fleet_done, p);
	if (p->xfer == NULL)
		fleet_peer_result(p, "cannot start a request (out of memory)");
}

static void fleet_tick(evutil_socket_t fd, short what, void *arg)
{
	struct fleet *f = arg;
	for (size_t i = 0; i < f->npeers; i++)
		fleet_poll(&f->peers[i]);
	/* Staleness is a matter of time: let held services look again. */
	if (f->changed != NULL)
		f->changed(f->arg);
}

/* "Authorization: Bearer TOKEN" from the token file's first line. */
static int fleet_token(struct fleet *f, const char *file)
{
	char buf[FLEET_MAX_TOKEN + 2], *hdr = NULL;
	FILE *fp = fopen(file, "r");

	if (fp == NULL) {
		log_err("fleet: cannot read token_file %s: %s", file, strerror(errno));
		return -1;
	}
	if (fgets(buf, sizeof(buf), fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	size_t n = strlen(buf);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	if (n == 0 || n > FLEET_MAX_TOKEN) {
		log_err("fleet: token_file %s: expected one line of 1-%d characters", file,
		        FLEET_MAX_TOKEN);
		return -1;
	}
	if (asprintf(&hdr, "Authorization: Bearer %s", buf) < 0)
		return -1;
	f->headers = curl_slist_append(NULL, hdr);
	free(hdr);
	return f->headers != NULL ? 0 : -1;
}

static int fleet_peer_init(struct fleet *f, struct fleet_peer *p, const struct fleet_peer_cfg *pc)
{
	p->f = f;
	p->name = strdup(pc->name);
	if (p->name == NULL || asprintf(&p->url, "http://%s/status", pc->name) < 0)
		return -1;
	p->easy = curl_easy_init();
	if (p->easy == NULL)
		return -1;
	long ms = (long)f->poll_ms;
	curl_easy_setopt(p->easy, CURLOPT_URL, p->url);
	curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(p->easy, CURLOPT_CONNECTTIMEOUT_MS, ms);
	curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, fleet_write);
	curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(p->easy, CURLOPT_SOCKOPTFUNCTION, fleet_sockopt);
	curl_easy_setopt(p->easy, CURLOPT_SOCKOPTDATA, p);
	curl_easy_setopt(p->easy, CURLOPT_NOPROXY, "*"); /* never through a proxy */
	curl_easy_setopt(p->easy, CURLOPT_USERAGENT, "healthd-fleet");
	if (f->headers != NULL)
		curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, f->headers);
	return 0;
}

struct fleet *fleet_new(const struct config *cfg, struct event_base *base, fleet_changed_fn changed,
                        void *arg)
{
	const struct fleet_cfg *fc = &cfg->fleet;
	struct fleet *f = calloc(1, sizeof(*f));
	struct timeval tv;

	if (f == NULL || curlev_global_init() != 0)
		goto fail;
	f->base = base;
	f->poll_ms = fc->poll_ms;
	f->stale_ms = fc->stale_after_ms;
	f->min_others = fc->min_others;
	f->src = cfg->source;
	f->changed = changed;
	f->arg = arg;
	f->normal = config_fleet_json(cfg);
	if (fc->token_file != NULL)
		fleet_token(f, fc->token_file); /* without it peers refuse: all count as silent */
	f->peers = calloc(fc->npeers, sizeof(*f->peers));
	if (f->peers == NULL)
		goto fail;
	for (size_t i = 0; i < fc->npeers; i++) {
		f->npeers++;
		if (fleet_peer_init(f, &f->peers[i], &fc->peers[i]) != 0)
			goto fail;
	}
	f->tick = event_new(base, -1, EV_PERSIST, fleet_tick, f);
	if (f->tick == NULL)
		goto fail;
	ms_to_tv(&tv, f->poll_ms);
	evtimer_add(f->tick, &tv);
	for (size_t i = 0; i < f->npeers; i++)
		fleet_poll(&f->peers[i]);
	log_info("fleet: reading the status of %zu peer%s every %ums (min_others %d)", f->npeers,
	         f->npeers == 1 ? "" : "s", f->poll_ms, f->min_others);
	return f;
fail:
	log_err("fleet: cannot start polling the peers");
	fleet_free(f);
	return NULL;
}

bool fleet_same(const struct fleet *f, const struct config *cfg)
{
	json_t *n = config_fleet_json(cfg);
	bool same = n != NULL && json_equal(n, f->normal);
	json_decref(n);
	return same;
}

void fleet_free(struct fleet *f)
{
	if (f == NULL)
		return;
	if (f->tick != NULL)
		event_free(f->tick);
	for (size_t i = 0; i < f->npeers; i++) {
		struct fleet_peer *p = &f->peers[i];
		if (p->xfer != NULL)
			curlev_remove(p->xfer);
		if (p->easy != NULL)
			curl_easy_cleanup(p->easy);
		guard_view_free(&p->view);
		free(p->body);
		free(p->url);
		free(p->name);
	}
	free(f->peers);
	curl_slist_free_all(f->headers);
	json_decref(f->normal);
	free(f);
}
