/* The route table every backend works from: wanted state vs what the speaker was told. */
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "speaker.h"

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

	size_t n = 0;
	for (size_t i = 0; i < cfg->nservices; i++)
		n += cfg->services[i].nprefixes;
	sp->routes = calloc(n ? n : 1, sizeof(*sp->routes));
	if (sp->routes == NULL)
		goto fail;
	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct service_cfg *svc = &cfg->services[i];
		for (size_t j = 0; j < svc->nprefixes; j++) {
			struct speaker_route *r = &sp->routes[sp->nroutes++];
			r->svc = svc;
			r->pfx = &svc->prefixes[j];
			/* Unknown until told: the first sync withdraws what a previous
			 * instance may have left announced. */
			r->known = !cfg->speaker.withdraw_on_start;
		}
	}

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

void speaker_set(struct speaker *sp, const struct service_cfg *svc, const struct route_attrs *want)
{
	for (size_t i = 0; i < sp->nroutes; i++)
		if (sp->routes[i].svc == svc)
			sp->routes[i].want = want;
	speaker_sync(sp);
}

static bool speaker_same_path(const struct route_attrs *a, const struct route_attrs *b)
{
	if (a->path_information == NULL || b->path_information == NULL)
		return a->path_information == b->path_information;
	return strcmp(a->path_information, b->path_information) == 0;
}

void speaker_sync(struct speaker *sp)
{
	if (sp->gone)
		return;
	for (size_t i = 0; i < sp->nroutes; i++) {
		struct speaker_route *r = &sp->routes[i];
		if (r->known && r->want == r->sent && !r->resend)
			continue;
		int rc;
		if (r->want != NULL && r->sent != NULL && !speaker_same_path(r->want, r->sent)) {
			/* Another path id is another route (ADD-PATH): the old one would stay. */
			if (sp->ops->withdraw(sp, r) != 0)
				break;
			r->sent = NULL;
		}
		if (r->want != NULL)
			rc = sp->ops->announce(sp, r);
		else
			rc = sp->ops->withdraw(sp, r);
		if (rc != 0)
			break; /* no room: the backend calls us again once drained */
		r->sent = r->want;
		r->known = true;
		r->resend = false;
	}
	sp->ops->flush(sp);
}

void speaker_reannounce(struct speaker *sp)
{
	for (size_t i = 0; i < sp->nroutes; i++)
		if (sp->routes[i].sent != NULL)
			sp->routes[i].resend = true;
	speaker_sync(sp);
}

int speaker_shutdown(struct speaker *sp, uint32_t timeout_ms)
{
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
	free(sp->routes);
	free(sp);
}
