/* Mode "protocol": one BIRD protocol per service (its "bird_protocol"), switched with
 * enable "NAME" / disable "NAME". No configure, so nothing is reloaded.
 *
 * Any later configure (by anyone) or a BIRD restart puts every protocol back to its
 * config-file state, so healthd re-asserts every protocol's wanted state: after every
 * (re)connect, when BIRD's echoed log says "Reconfigured" (healthd asks for the echo of
 * info messages), and every "reassert" interval in case an echo was lost or this BIRD
 * does not echo. A re-assertion that BIRD answers "already enabled/disabled" (0010 /
 * 0008) changed nothing; "enabled/disabled" (0011 / 0009) means someone else had
 * switched it, and is logged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bird.h"
#include "../lib/log.h"

struct proto_entry {
	struct bird *b;
	char *service;  /* the service's name: routes are matched by it across reloads */
	char *protocol; /* its bird_protocol */
	bool retired;   /* its service left at a reload: disabled, then dropped */
	bool want_up;
	bool asserted;    /* BIRD confirmed want_up since the last reason to doubt it */
	bool reasserting; /* doubt came from a re-assertion, not a change of ours */
	bool inflight;
	bool inflight_up;
	bool broken;     /* BIRD refused the command (no such protocol?); retried at the next
	                  * re-assertion, not in a loop */
	bool complained; /* the refusal was logged: repeats go to debug until BIRD accepts */
};

struct bird_proto {
	struct proto_entry **e; /* each its own allocation: a command in flight points at it */
	size_t n;
	struct event *reassert;
};

static void proto_flush(struct bird *b);

static void proto_entry_free(struct proto_entry *e)
{
	if (e == NULL)
		return;
	free(e->service);
	free(e->protocol);
	free(e);
}

static struct proto_entry *proto_entry_new(struct bird *b, const struct service_cfg *svc)
{
	struct proto_entry *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->b = b;
	e->service = strdup(svc->name);
	e->protocol = strdup(svc->bird_protocol);
	/* Unknown until BIRD confirms: the first flush tells the protocol. */
	e->want_up = false;
	if (e->service == NULL || e->protocol == NULL) {
		proto_entry_free(e);
		return NULL;
	}
	return e;
}

/* A retired entry whose disable BIRD has answered. */
static void proto_drop(struct bird *b, struct proto_entry *e)
{
	struct bird_proto *bp = b->mode_priv;
	for (size_t i = 0; i < bp->n; i++)
		if (bp->e[i] == e) {
			memmove(&bp->e[i], &bp->e[i + 1], (bp->n - i - 1) * sizeof(*bp->e));
			bp->n--;
			break;
		}
	proto_entry_free(e);
}

/* A service is announced while any of its routes was told announced. */
static void proto_wants(struct bird *b)
{
	struct bird_proto *bp = b->mode_priv;
	for (size_t i = 0; i < bp->n; i++) {
		struct proto_entry *e = bp->e[i];
		bool up = false;
		for (size_t j = 0; j < b->sp->nroutes && !e->retired; j++)
			if (b->sp->routes[j].sent != NULL &&
			    strcmp(b->sp->routes[j].svc->name, e->service) == 0)
				up = true;
		if (up != e->want_up) {
			e->want_up = up;
			e->asserted = false;
			e->reasserting = false;
			e->broken = false;
		}
	}
	b->dirty = false;
}

static void proto_done(struct bird *b, const struct bird_reply *r, void *arg)
{
	struct proto_entry *e = arg;
	const char *name = e->protocol;
	const char *verb = e->inflight_up ? "enable" : "disable";

	e->inflight = false;
	if (r->code < 0)
		return; /* connection lost: ready() re-asserts */
	/* 0008 already disabled, 0009 disabled, 0010 already enabled, 0011 enabled */
	int already = e->inflight_up ? 10 : 8, changed = e->inflight_up ? 11 : 9;
	if (r->error != 0 || (r->first != already && r->first != changed)) {
		log_msg(e->complained ? LOG_DEBUG : LOG_ERR, __func__,
		        "BIRD refused %s \"%s\" (service %s): %04d %s; is %s a protocol in "
		        "BIRD's configuration?",
		        verb, name, e->service, r->error ? r->error : r->first, r->msg, name);
		e->broken = true;
		e->complained = true;
		if (b->stopping)
			b->failed = true;
		proto_flush(b);
		return;
	}
	e->complained = false;
	if (e->inflight_up == e->want_up)
		e->asserted = true;
	if (r->first == changed && e->reasserting)
		log_warn("BIRD protocol %s was %s behind healthd's back (a configure, or birdc?); "
		         "%sd it again (service %s)",
		         name, e->inflight_up ? "disabled" : "enabled", verb, e->service);
	else if (r->first == changed)
		log_info("BIRD protocol %s %sd (service %s)", name, verb, e->service);
	e->reasserting = false;
	proto_flush(b);
}

static void proto_flush(struct bird *b)
{
	struct bird_proto *bp = b->mode_priv;
	char cmd[128];

	if (b->dirty || b->stopping)
		proto_wants(b);
	for (size_t i = 0; i < bp->n; i++) {
		struct proto_entry *e = bp->e[i];
		if (e->asserted || e->inflight || e->broken)
			continue;
		/* Quoted, a pattern to BIRD: an unknown name is "8003 No protocols match" rather
		 * than a syntax error. Names are identifiers: no wildcard in them. */
		snprintf(cmd, sizeof(cmd), "%s \"%s\"", e->want_up ? "enable" : "disable",
		         e->protocol);
		int rc = b->io->send(b, cmd, proto_done, e);
		if (rc < 0)
			return; /* BIRD is away: ready() re-asserts */
		if (rc == 1) {
			e->asserted = true; /* stdout: no answer comes */
			continue;
		}
		e->inflight = true;
		e->inflight_up = e->want_up;
	}
	/* A retired protocol leaves once BIRD has it disabled (or refused it). */
	for (size_t i = 0; i < bp->n;) {
		struct proto_entry *e = bp->e[i];
		if (e->retired && !e->inflight && !e->want_up && (e->asserted || e->broken))
			proto_drop(b, e);
		else
			i++;
	}
}

/* Doubt every protocol's state and tell BIRD again. */
static void proto_reassert(struct bird *b, bool reasserting)
{
	struct bird_proto *bp = b->mode_priv;
	for (size_t i = 0; i < bp->n; i++) {
		bp->e[i]->asserted = false;
		bp->e[i]->broken = false;
		bp->e[i]->reasserting = reasserting;
	}
	proto_flush(b);
}

static void proto_echo_done(struct bird *b, const struct bird_reply *r, void *arg)
{
	if (r->code >= 0 && (r->error != 0 || r->code != 0))
		log_info("BIRD does not echo its log (%04d %s): re-assertion relies on "
		         "\"reassert\" alone",
		         r->error ? r->error : r->code, r->msg);
}

static void proto_ready(struct bird *b)
{
	/* Log lines come as "+..." lines: "Reconfigured" tells that protocols were reset. */
	if (b->io->answers)
		b->io->send(b, "echo { info }", proto_echo_done, NULL);
	proto_reassert(b, false);
}

static void proto_async(struct bird *b, const char *text, size_t len)
{
	static const char reconfigured[] = "Reconfigured";
	bool lost = len > 0 && text[0] == '<'; /* "<N messages lost>": one may have said it */
	if (lost || (len >= sizeof(reconfigured) - 1 &&
	             memcmp(text, reconfigured, sizeof(reconfigured) - 1) == 0)) {
		log_debug("BIRD reconfigured: re-asserting every protocol");
		proto_reassert(b, true);
	}
}

static void proto_tick(evutil_socket_t fd, short what, void *arg)
{
	proto_reassert(arg, true);
}

static void proto_shutdown(struct bird *b)
{
	struct bird_proto *bp = b->mode_priv;
	if (bp->reassert)
		evtimer_del(bp->reassert);
	proto_flush(b);
}

static bool proto_settled(struct bird *b)
{
	struct bird_proto *bp = b->mode_priv;
	if (b->failed)
		return true;
	for (size_t i = 0; i < bp->n; i++)
		if (bp->e[i]->inflight || (!bp->e[i]->asserted && !bp->e[i]->broken))
			return false;
	return true;
}

static void proto_close(struct bird *b)
{
	struct bird_proto *bp = b->mode_priv;
	if (bp->reassert)
		event_free(bp->reassert);
	for (size_t i = 0; i < bp->n; i++)
		proto_entry_free(bp->e[i]);
	free(bp->e);
	free(bp);
	b->mode_priv = NULL;
}

static struct proto_entry *proto_find(struct bird_proto *bp, const struct service_cfg *svc)
{
	for (size_t i = 0; i < bp->n; i++)
		if (!bp->e[i]->retired && strcmp(bp->e[i]->service, svc->name) == 0 &&
		    strcmp(bp->e[i]->protocol, svc->bird_protocol) == 0)
			return bp->e[i];
	return NULL;
}

/* The entries follow b->sp->cfg's services: one that stays keeps its state (an unchanged
 * service sends BIRD nothing); one that left is retired, disabled, then dropped. */
static int proto_entries(struct bird *b)
{
	const struct config *cfg = b->sp->cfg;
	struct bird_proto *bp = b->mode_priv;
	struct proto_entry **e = calloc(cfg->nservices + bp->n + 1, sizeof(*e));
	size_t n = 0;
	if (e == NULL)
		return -1;
	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct service_cfg *svc = &cfg->services[i];
		if (svc->bird_protocol == NULL)
			continue; /* config refuses this; be safe anyway */
		struct proto_entry *old = proto_find(bp, svc);
		if (old != NULL) {
			old->b = NULL; /* taken: marks it as not retired below */
			e[n++] = old;
		} else if ((e[n] = proto_entry_new(b, svc)) != NULL) {
			n++;
		} else {
			for (size_t j = 0; j < n; j++)
				if (e[j]->b != NULL)
					proto_entry_free(e[j]);
			free(e);
			return -1;
		}
	}
	for (size_t i = 0; i < bp->n; i++) {
		struct proto_entry *old = bp->e[i];
		if (old->b == NULL) {
			old->b = b;
			continue;
		}
		old->retired = true;
		old->asserted = false;
		e[n++] = old;
	}
	for (size_t i = 0; i < n; i++)
		e[i]->b = b;
	free(bp->e);
	bp->e = e;
	bp->n = n;
	b->dirty = true;
	return 0;
}

static void proto_reconfigure(struct bird *b)
{
	if (proto_entries(b) != 0)
		log_err("out of memory following the reloaded services");
	proto_flush(b);
}

static int proto_open(struct bird *b)
{
	struct bird_proto *bp = calloc(1, sizeof(*bp));
	if (bp == NULL)
		return -1;
	b->mode_priv = bp;
	if (proto_entries(b) != 0)
		return -1;
	if (b->cfg->reassert_ms > 0) {
		struct timeval tv;
		ms_to_tv(&tv, b->cfg->reassert_ms);
		bp->reassert = event_new(b->sp->base, -1, EV_PERSIST, proto_tick, b);
		if (bp->reassert == NULL || event_add(bp->reassert, &tv) != 0)
			return -1;
	}
	return 0;
}

const struct bird_mode_ops bird_proto_mode = {
        .name = "protocol",
        .open = proto_open,
        .reconfigure = proto_reconfigure,
        .flush = proto_flush,
        .ready = proto_ready,
        .async = proto_async,
        .shutdown = proto_shutdown,
        .settled = proto_settled,
        .close = proto_close,
};
