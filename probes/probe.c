/* The probe registry, the reason table, and the one funnel every probe run ends in. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "../lib/monotime.h"
#include "probe.h"
#include "probe_limits.h"

static const struct probe_ops *const registry[] = {
        &probe_tcp_ops, &probe_exec_ops,       &probe_http_ops,
        &probe_dns_ops, &probe_dns_serial_ops, &probe_dns_axfr_ops,
};

const char *const probe_common_keys[] = {
        "type", "interval", "fast_interval",  "timeout", "rise",
        "fall", "source",   "degraded_after", "overlap", NULL,
};

static const struct probe_reason_info reasons[PR_COUNT] = {
        [PR_OK] = {PROBE_OK, "ok", "healthy"},
        [PR_WARNING] = {PROBE_WARNING, "warning", "healthy with a warning"},
        [PR_TIMEOUT] = {PROBE_FAIL, "timeout", "no answer before the deadline"},
        [PR_REFUSED] = {PROBE_FAIL, "refused", "connection refused"},
        [PR_UNREACHABLE] = {PROBE_FAIL, "unreachable", "network or host unreachable"},
        [PR_CONNECT] = {PROBE_FAIL, "connect", "connect failed"},
        [PR_RESET] = {PROBE_FAIL, "reset", "connection reset"},
        [PR_SEND] = {PROBE_FAIL, "send", "send failed"},
        [PR_RECV] = {PROBE_FAIL, "recv", "receive failed"},
        [PR_CLOSED] = {PROBE_FAIL, "closed", "closed before the expected reply"},
        [PR_EXPECT] = {PROBE_FAIL, "expect-mismatch", "reply did not contain the expected text"},
        [PR_EXIT] = {PROBE_FAIL, "exit-status", "command exited with a failure status"},
        [PR_SIGNAL] = {PROBE_FAIL, "signal", "command killed by a signal"},
        [PR_SPAWN] = {PROBE_ERROR, "spawn", "command could not be started"},
        [PR_BAD_RCODE] = {PROBE_FAIL, "bad-rcode", "unexpected DNS rcode"},
        [PR_BAD_FLAGS] = {PROBE_FAIL, "bad-flags", "unexpected DNS header flags"},
        [PR_BAD_ANSWER] = {PROBE_FAIL, "bad-answer", "answer did not match"},
        [PR_BAD_IDENTITY] = {PROBE_FAIL, "bad-identity", "answered by another node"},
        [PR_NO_ADDRESS] = {PROBE_FAIL, "no-local-address",
                           "service address not configured locally"},
        [PR_BAD_STATUS] = {PROBE_FAIL, "bad-status", "unexpected HTTP status"},
        [PR_BODY_MISMATCH] = {PROBE_FAIL, "body-mismatch", "body did not match"},
        [PR_STALE_SERIAL] = {PROBE_FAIL, "stale-serial", "zone serial behind the primaries"},
        [PR_TRANSFER] = {PROBE_FAIL, "transfer", "zone transfer failed"},
        [PR_PRIMARIES_SILENT] = {PROBE_FAIL, "primaries-silent",
                                 "no primary answered for longer than allowed"},
        [PR_TLS] = {PROBE_FAIL, "tls", "TLS handshake or verification failed"},
        [PR_LIMIT] = {PROBE_ERROR, "limit", "a resource limit of healthd was reached"},
        [PR_INTERNAL] = {PROBE_ERROR, "internal", "internal error"},
};

const struct probe_reason_info *probe_reason_info(enum probe_reason r)
{
	if ((unsigned)r >= PR_COUNT)
		r = PR_INTERNAL;
	return &reasons[r];
}

enum probe_reason probe_errno_reason(int err, enum probe_reason dflt)
{
	switch (err) {
	case ECONNREFUSED:
		return PR_REFUSED;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
		return PR_UNREACHABLE;
	case ECONNRESET:
		return PR_RESET;
	case ENOMEM:
	case ENOBUFS:
		return PR_INTERNAL;
	case EMFILE: /* max_open_files, healthd's own or the system's */
	case ENFILE:
		return PR_LIMIT;
	}
	return dflt;
}

const char *probe_status_name(enum probe_status s)
{
	switch (s) {
	case PROBE_OK:
		return "ok";
	case PROBE_WARNING:
		return "warning";
	case PROBE_FAIL:
		return "fail";
	case PROBE_ERROR:
		return "error";
	}
	return "error";
}

bool probe_result_healthy(const struct probe *p, const struct probe_result *r)
{
	if (r->status == PROBE_OK)
		return true;
	return r->status == PROBE_WARNING && !p->warning_is_failure;
}

bool probe_result_degraded(const struct probe *p, const struct probe_result *r)
{
	return r->status == PROBE_WARNING && p->warning_is_degraded && !p->warning_is_failure;
}

const struct probe_ops *probe_ops_find(const char *type)
{
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (strcmp(registry[i]->name, type) == 0)
			return registry[i];
	return NULL;
}

const char *probe_types(void)
{
	static char buf[128];
	if (buf[0] == '\0') {
		for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++) {
			if (i > 0)
				strncat(buf, ", ", sizeof(buf) - strlen(buf) - 1);
			strncat(buf, registry[i]->name, sizeof(buf) - strlen(buf) - 1);
		}
	}
	return buf;
}

struct probe *probe_new(const struct probe_ops *ops, const json_t *obj, struct config_error *err)
{
	struct probe *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		cfgerr_add(err, NULL, "out of memory");
		return NULL;
	}
	p->ops = ops;
	p->timeout_ms = 1000;
	if (ops->configure(p, obj, err) != 0) {
		probe_free(p);
		return NULL;
	}
	if (p->label == NULL)
		p->label = strdup(ops->name);
	return p;
}

void probe_set_done(struct probe *p, probe_done_fn fn, void *arg)
{
	p->on_done = fn;
	p->on_done_arg = arg;
}

static void probe_finish(struct probe *p, enum probe_reason reason, const char *detail);

/* The run's resources are released (ops->cancel): it no longer counts as running. */
static void probe_uncount(struct probe *p)
{
	if (p->counted)
		probe_limits_leave();
	p->counted = false;
}

static void probe_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	if (p->pending) {
		probe_finish(p, p->pending_reason, p->pending_detail);
		return;
	}
	if (p->ops->expire != NULL)
		p->ops->expire(p);
	probe_done(p, PR_TIMEOUT, "no result within %ums", (unsigned)p->timeout_ms);
}

void probe_run(struct probe *p, struct event_base *base)
{
	if (p->running)
		return;
	p->base = base;
	if (p->deadline_ev == NULL)
		p->deadline_ev = evtimer_new(base, probe_deadline_cb, p);
	if (p->deadline_ev == NULL) {
		log_err("%s: cannot allocate the deadline timer", p->label);
		return;
	}
	struct timeval tv = {p->timeout_ms / 1000, (p->timeout_ms % 1000) * 1000};
	struct timeval deadline;
	mono_now(&p->started);
	timeradd(&p->started, &tv, &deadline);
	json_decref(p->facts);
	p->facts = p->no_facts ? NULL : json_object();
	p->running = true;
	p->read_bytes = 0;
	evtimer_add(p->deadline_ev, &tv);
	p->starting = true;
	p->counted = probe_limits_enter();
	if (p->counted)
		p->ops->start(p, base, &deadline);
	else
		probe_done(p, PR_LIMIT, "%u concurrent probe runs reached (max_running)",
		           probe_limits_get()->max_running);
	p->starting = false;
}

static void probe_finish(struct probe *p, enum probe_reason reason, const char *detail)
{
	struct probe_result *r = &p->last;
	struct timeval now, d;

	p->running = false;
	p->pending = false;
	evtimer_del(p->deadline_ev);
	p->ops->cancel(p);
	probe_uncount(p);
	mono_now(&now);
	timersub(&now, &p->started, &d);
	r->latency_us = d.tv_sec < 0 ? 0 : (uint32_t)(d.tv_sec * 1000000 + d.tv_usec);
	r->reason = reason;
	r->status = probe_reason_info(reason)->status;
	if (detail != r->detail) {
		size_t n = strnlen(detail, sizeof(r->detail) - 1);
		memcpy(r->detail, detail, n);
		r->detail[n] = '\0';
	}
	if (p->on_done != NULL)
		p->on_done(p, r, p->on_done_arg);
}

void probe_done(struct probe *p, enum probe_reason reason, const char *fmt, ...)
{
	if (!p->running || p->pending)
		return;
	/* The detail may point into the run's own buffers: format it before cancel frees
	 * them, straight into where it ends up (the last result, or the pending one while
	 * inside ops->start). */
	char *detail = p->starting ? p->pending_detail : p->last.detail;
	detail[0] = '\0';
	if (fmt != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(p->last.detail), fmt, ap);
		va_end(ap);
	}
	if (p->starting) {
		/* The deadline timer, made active at once, reports it from the loop: in this
		 * same iteration, after the callback that started the run has returned. */
		p->pending = true;
		p->pending_reason = reason;
		event_active(p->deadline_ev, EV_TIMEOUT, 0);
		return;
	}
	probe_finish(p, reason, detail);
}

void probe_fact(struct probe *p, const char *key, json_t *value)
{
	if (value == NULL)
		return;
	if (p->no_facts) {
		json_decref(value);
		return;
	}
	if (p->facts == NULL)
		p->facts = json_object();
	json_object_set_new(p->facts, key, value);
}

void probe_cancel(struct probe *p)
{
	if (!p->running)
		return;
	p->running = false;
	p->pending = false;
	if (p->deadline_ev != NULL)
		evtimer_del(p->deadline_ev);
	p->ops->cancel(p);
	probe_uncount(p);
}

void probe_release(struct probe *p)
{
	probe_cancel(p);
	if (p->ops != NULL && p->ops->release != NULL)
		p->ops->release(p);
	if (p->deadline_ev != NULL)
		event_free(p->deadline_ev);
	p->deadline_ev = NULL;
	p->base = NULL;
}

void probe_free(struct probe *p)
{
	if (p == NULL)
		return;
	probe_cancel(p);
	if (p->ops != NULL && p->ops->free != NULL)
		p->ops->free(p);
	if (p->deadline_ev != NULL)
		event_free(p->deadline_ev);
	json_decref(p->facts);
	free(p->label);
	free(p->service);
	free(p);
}
