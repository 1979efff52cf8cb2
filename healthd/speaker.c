/* The route table every backend works from: wanted state vs what the speaker was told. */
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "speaker.h"

/* A table for cfg's services, every route unknown (not told yet), nothing wanted. */
static struct speaker_route *speaker_table(const struct config *cfg, size_t extra, size_t *n)
{
	size_t total = 0;
	for (size_t i = 0; i < cfg->nservices; i++)
		total += cfg->services[i].nprefixes;
	struct speaker_route *routes = calloc(total + extra ? total + extra : 1, sizeof(*routes));
	if (routes == NULL)
		return NULL;
	*n = 0;
	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct service_cfg *svc = &cfg->services[i];
		for (size_t j = 0; j < svc->nprefixes; j++) {
			struct speaker_route *r = &routes[(*n)++];
			r->svc = svc;
			r->pfx = &svc->prefixes[j];
			route_attrs_init(&r->told);
		}
	}
	return routes;
}

struct speaker *speaker_new(const struct config *cfg, struct event_base *base,
                            speaker_gone_fn on_gone, void *arg)
{
	struct speaker *sp = calloc(1, sizeof(*sp));
	if (sp == NULL)
		return NULL;
	sp->cfg = cfg;
	sp->base = base;
	sp->on_gone = on_gone;
	sp->gone_arg = arg;

	sp->routes = speaker_table(cfg, 0, &sp->nroutes);
	if (sp->routes == NULL)
		goto fail;
	/* Unknown until told: the first sync withdraws what a previous instance may have
	 * left announced. */
	for (size_t i = 0; i < sp->nroutes; i++)
		sp->routes[i].known = !cfg->speaker.withdraw_on_start;

	int rc = -1;
	switch (cfg->speaker.type) {
	case SPEAKER_EXABGP:
		rc = exabgp_open(sp);
		break;
	case SPEAKER_BIRD:
		rc = bird_open(sp);
		break;
	case SPEAKER_BIRDC_STDOUT:
		rc = birdc_stdout_open(sp);
		break;
	case SPEAKER_GOBGP:
		rc = gobgp_open(sp);
		break;
	case SPEAKER_FRR:
		rc = frr_open(sp);
		break;
	}
	if (rc != 0)
		goto fail;
	return sp;
fail:
	free(sp->routes);
	free(sp);
	return NULL;
}

void speaker_want(struct speaker *sp, const struct service_cfg *svc, const struct route_attrs *want)
{
	for (size_t i = 0; i < sp->nroutes; i++)
		if (sp->routes[i].svc == svc)
			sp->routes[i].want = want;
}

void speaker_set(struct speaker *sp, const struct service_cfg *svc, const struct route_attrs *want)
{
	speaker_want(sp, svc, want);
	speaker_sync(sp);
}

bool speaker_announced(const struct speaker *sp, const char *service)
{
	for (size_t i = 0; i < sp->nroutes; i++)
		if (sp->routes[i].sent != NULL && strcmp(sp->routes[i].svc->name, service) == 0)
			return true;
	return false;
}

static struct speaker_route *speaker_find(struct speaker_route *routes, size_t n,
                                          const char *service, const struct prefix *pfx)
{
	for (size_t i = 0; i < n; i++)
		if (!routes[i].retired && prefix_equal(routes[i].pfx, pfx) &&
		    strcmp(routes[i].svc->name, service) == 0)
			return &routes[i];
	return NULL;
}

int speaker_reload(struct speaker *sp, const struct config *cfg)
{
	size_t n = 0;
	struct speaker_route *routes = speaker_table(cfg, sp->nroutes, &n);
	if (routes == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct speaker_route *r = &routes[i];
		struct speaker_route *old =
		        speaker_find(sp->routes, sp->nroutes, r->svc->name, r->pfx);
		if (old == NULL)
			continue; /* a new route: nothing told about it yet, so nothing to undo */
		r->known = old->known;
		r->resend = old->resend;
		r->told = old->told; /* moved */
		r->announces = old->announces;
		r->withdraws = old->withdraws;
		r->sent = old->sent != NULL ? &r->told : NULL;
		route_attrs_init(&old->told);
		old->sent = NULL;
		old->known = true;
	}
	/* What stays in the old table, told and not matched, must still be withdrawn. */
	sp->nretired = 0;
	for (size_t i = 0; i < sp->nroutes; i++) {
		struct speaker_route *old = &sp->routes[i];
		if (old->sent == NULL && old->known)
			continue;
		struct speaker_route *r = &routes[n++];
		*r = *old;
		r->sent = old->sent != NULL ? &r->told : NULL;
		r->want = NULL;
		r->retired = true;
		sp->nretired++;
	}
	free(sp->routes);
	sp->routes = routes;
	sp->nroutes = n;
	sp->cfg = cfg;
	if (sp->ops != NULL && sp->ops->reconfigure != NULL)
		sp->ops->reconfigure(sp);
	return 0;
}

/* Retired routes leave the table once their withdrawal was told. */
static void speaker_compact(struct speaker *sp)
{
	size_t j = 0;
	for (size_t i = 0; i < sp->nroutes; i++) {
		struct speaker_route *r = &sp->routes[i];
		if (r->retired && r->sent == NULL && r->known) {
			route_attrs_free(&r->told);
			sp->nretired--;
			continue;
		}
		if (j != i) {
			sp->routes[j] = *r;
			if (r->sent != NULL)
				sp->routes[j].sent = &sp->routes[j].told;
		}
		j++;
	}
	sp->nroutes = j;
}

static bool speaker_same_path(const struct route_attrs *a, const struct route_attrs *b)
{
	if (a->path_information == NULL || b->path_information == NULL)
		return a->path_information == b->path_information;
	return strcmp(a->path_information, b->path_information) == 0;
}

/* Record what the speaker was told: the table's own copy, so that a reload may free the
 * config the wanted attributes came from. */
static int speaker_told(struct speaker_route *r)
{
	struct route_attrs copy;
	if (r->want != NULL && route_attrs_copy(&copy, r->want) != 0)
		return -1;
	route_attrs_free(&r->told);
	if (r->want != NULL) {
		r->told = copy;
		r->sent = &r->told;
	} else {
		r->sent = NULL;
	}
	r->known = true;
	r->resend = false;
	return 0;
}

void speaker_sync(struct speaker *sp)
{
	bool told = false;

	if (sp->gone)
		return;
	for (size_t i = 0; i < sp->nroutes; i++) {
		struct speaker_route *r = &sp->routes[i];
		if (r->known && route_attrs_equal(r->want, r->sent) && !r->resend)
			continue;
		int rc;
		if (r->want != NULL && r->sent != NULL && !speaker_same_path(r->want, r->sent)) {
			/* Another path id is another route (ADD-PATH): the old one would stay. */
			if (sp->ops->withdraw(sp, r) != 0)
				break;
			r->withdraws++;
			route_attrs_free(&r->told);
			r->sent = NULL;
			told = true;
		}
		if (r->want != NULL)
			rc = sp->ops->announce(sp, r);
		else
			rc = sp->ops->withdraw(sp, r);
		if (rc != 0)
			break; /* no room: the backend calls us again once drained */
		if (r->want != NULL)
			r->announces++;
		else
			r->withdraws++;
		if (speaker_told(r) != 0) {
			/* Told, but not recorded: doubt it, so that the next sync tells it again.
			 */
			r->known = false;
			log_err("out of memory recording a route's state");
		}
		told = true;
	}
	if (sp->nretired > 0)
		speaker_compact(sp);
	sp->ops->flush(sp);
	if (told && sp->on_told != NULL)
		sp->on_told(sp->gone_arg);
}

void speaker_reannounce(struct speaker *sp)
{
	for (size_t i = 0; i < sp->nroutes; i++)
		if (sp->routes[i].sent != NULL)
			sp->routes[i].resend = true;
	speaker_sync(sp);
}

int speaker_shutdown(struct speaker *sp)
{
	uint32_t timeout_ms = sp->ops->drain_ms ? sp->ops->drain_ms : SPEAKER_DRAIN_MS;

	if (sp->gone)
		return 0;
	size_t n = 0;
	for (size_t i = 0; i < sp->nroutes; i++) {
		struct speaker_route *r = &sp->routes[i];
		if (r->sent != NULL || r->want != NULL)
			n++;
		r->want = NULL;
		r->resend = false;
	}
	log_info("withdrawing %zu route%s before exit", n, n == 1 ? "" : "s");
	speaker_sync(sp);
	int rc = sp->ops->drain(sp, timeout_ms);
	/* A full backend refused some withdrawals: they were queued after a drain, retry. */
	for (int tries = 0; tries < 8 && rc == 0 && !sp->gone; tries++) {
		bool pending = false;
		for (size_t i = 0; i < sp->nroutes; i++)
			if (sp->routes[i].sent != NULL)
				pending = true;
		if (!pending)
			break;
		speaker_sync(sp);
		rc = sp->ops->drain(sp, timeout_ms);
	}
	return rc;
}

void speaker_stats_reply(struct speaker_stats *st, int code)
{
	size_t i;
	for (i = 0; i < st->nreplies; i++)
		if (st->replies[i].code == code)
			break;
	if (i == st->nreplies) {
		if (st->nreplies == SPEAKER_REPLY_CODES)
			i = SPEAKER_REPLY_CODES - 1; /* full: the last slot takes the rest */
		else
			st->replies[st->nreplies++].code = code;
	}
	st->replies[i].n++;
}

void speaker_gone(struct speaker *sp, const char *why)
{
	if (sp->gone)
		return;
	sp->gone = true;
	if (sp->on_gone != NULL)
		sp->on_gone(sp->gone_arg, why);
}

void speaker_failed(struct speaker *sp, const char *why)
{
	if (!sp->gone)
		sp->failed = true;
	speaker_gone(sp, why);
}

void speaker_free(struct speaker *sp)
{
	if (sp == NULL)
		return;
	if (sp->ops != NULL && sp->ops->close != NULL)
		sp->ops->close(sp);
	for (size_t i = 0; i < sp->nroutes; i++)
		route_attrs_free(&sp->routes[i].told);
	free(sp->routes);
	free(sp);
}
