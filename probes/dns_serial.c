/* The dns-serial probe: is this node's copy of a zone fresh? Each run asks the local
 * server and every primary for the zone's SOA, in parallel, from the node's unique
 * source address, within the one run's timeout. State kept across runs (serial.c) says
 * how long the local copy has been behind (max_lag_time) and when a primary last
 * answered (max_silence, by default the zone's SOA expire: the time after which a
 * secondary stops serving a zone it cannot refresh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/cfgread.h"
#include "../lib/duration.h"
#include "dnscfg.h"
#include "dnsmsg.h"
#include "dnsq.h"
#include "probe.h"
#include "serial.h"

#define SERIAL_DEFAULT_LAG_MS (10u * 60u * 1000u)
#define SERIAL_WHY_SIZE       320

struct serial_primary {
	struct dnscfg_addr addr;
	/* across runs: its last good answer, so that a run it misses does not hide it */
	bool heard;
	uint32_t serial;
	uint64_t heard_ms; /* monotonic */
	/* the run */
	struct dnsq *q;
	bool done;
};

/* The highest serial heard from the primaries within max_silence. */
struct serial_highest {
	bool have;
	uint32_t serial;
	const struct serial_primary *from;
	uint64_t age_ms; /* since from answered it: 0 when it did in this run */
};

struct dns_serial {
	ldns_rdf *zone;
	struct sockaddr_storage dst; /* the local server */
	socklen_t dstlen;
	char remote[72];
	struct serial_primary *prim;
	size_t nprim;
	uint32_t max_lag_ms;
	uint32_t max_silence_ms; /* 0: the local SOA's expire */

	/* across runs */
	struct serial_lag lag;
	uint64_t primary_seen_ms; /* monotonic; the first run's start until one answers */

	/* the run: released by dns_serial_cancel */
	struct dnsq *q;
	bool q_done;
	size_t pending;
};

static const char *const dns_serial_keys[] = {
        "zone", "server", "port", "primaries", "max_lag_time", "max_silence", NULL,
};

static uint64_t dns_serial_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The configured primaries, each with room for what runs remember of it. */
static int dns_serial_primaries(struct config_error *e, const json_t *obj, struct dns_serial *s)
{
	struct dnscfg_addr *a = NULL;
	size_t n = 0;

	if (dnscfg_primaries(e, obj, true, &a, &n) < 0)
		return -1;
	s->prim = calloc(n, sizeof(*s->prim));
	if (s->prim == NULL) {
		cfgerr_add(e, "primaries", "out of memory");
		free(a);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		s->prim[i].addr = a[i];
	s->nprim = n;
	free(a);
	return 0;
}

static int dns_serial_configure(struct probe *p, const json_t *obj, struct config_error *err)
{
	struct dns_serial *s = calloc(1, sizeof(*s));
	char zone[LDNS_MAX_DOMAINLEN + 2];
	int bad = 0;

	if (s == NULL) {
		cfgerr_add(err, NULL, "out of memory");
		return -1;
	}
	p->priv = s;
	s->max_lag_ms = SERIAL_DEFAULT_LAG_MS;
	if (dnscfg_name(err, obj, "zone", true, &s->zone) < 0)
		bad++;
	if (dnscfg_server(err, obj, true, &s->dst, &s->dstlen) < 0)
		bad++;
	if (dns_serial_primaries(err, obj, s) < 0)
		bad++;
	if (cfg_duration(err, obj, "max_lag_time", &s->max_lag_ms) < 0)
		bad++;
	if (cfg_duration(err, obj, "max_silence", &s->max_silence_ms) < 0)
		bad++;
	else if (json_object_get(obj, "max_silence") != NULL && s->max_silence_ms == 0) {
		cfgerr_add(err, "max_silence", "must be greater than 0");
		bad++;
	}
	if (bad > 0)
		return -1;
	net_addr_format((struct sockaddr *)&s->dst, s->remote, sizeof(s->remote));
	dnsmsg_name(s->zone, zone, sizeof(zone));
	if (asprintf(&p->label, "dns-serial %s %s", s->remote, zone) < 0)
		p->label = NULL;
	return 0;
}

static void dns_serial_cancel(struct probe *p)
{
	struct dns_serial *s = p->priv;

	if (s == NULL)
		return;
	dnsq_free(s->q);
	s->q = NULL;
	for (size_t i = 0; i < s->nprim; i++) {
		dnsq_free(s->prim[i].q);
		s->prim[i].q = NULL;
	}
}

/* The SOA serial of a finished query: 1, or 0 with why. Only an authoritative
 * NOERROR answer holding the zone's SOA counts. */
static int dns_serial_of(const struct dns_serial *s, struct dnsq *q, bool done, uint32_t *serial,
                         uint32_t *expire, enum probe_reason *reason, char *why, size_t len)
{
	const struct dnsq_result *res = dnsq_result(q);
	char rcode[32];

	if (!done) {
		*reason = PR_TIMEOUT;
		snprintf(why, len, "no answer in time%s%s",
		         res->ignored > 0 ? "; last ignored: " : "",
		         res->ignored > 0 ? res->ignored_why : "");
		return 0;
	}
	if (res->reason != PR_OK) {
		*reason = res->reason;
		snprintf(why, len, "%s", res->detail);
		return 0;
	}
	if (dnsmsg_rcode(res->reply) != LDNS_RCODE_NOERROR) {
		*reason = PR_BAD_RCODE;
		snprintf(why, len, "rcode %s",
		         dnsmsg_rcode_name(dnsmsg_rcode(res->reply), rcode, sizeof(rcode)));
		return 0;
	}
	if (!ldns_pkt_aa(res->reply)) {
		*reason = PR_BAD_FLAGS;
		snprintf(why, len, "not authoritative (AA bit clear)");
		return 0;
	}
	if (dnsmsg_soa(res->reply, s->zone, serial, expire) != 1) {
		*reason = PR_BAD_ANSWER;
		snprintf(why, len, "no SOA for the zone in the answer");
		return 0;
	}
	return 1;
}

/* Every primary's answer of this run: remembered, and into the facts (with the last
 * serial of one that did not answer now). Returns how many answered. */
static size_t dns_serial_ask_primaries(struct probe *p, uint64_t now)
{
	struct dns_serial *s = p->priv;
	json_t *arr = json_array();
	size_t answered = 0;

	for (size_t i = 0; i < s->nprim; i++) {
		struct serial_primary *pr = &s->prim[i];
		char why[SERIAL_WHY_SIZE];
		enum probe_reason r;
		uint32_t serial;
		json_t *o = json_pack("{s:s}", "server", pr->addr.text);
		if (dns_serial_of(s, pr->q, pr->done, &serial, NULL, &r, why, sizeof(why)) == 1) {
			pr->heard = true;
			pr->serial = serial;
			pr->heard_ms = now;
			answered++;
			json_object_set_new(o, "serial", json_integer(serial));
		} else {
			json_object_set_new(o, "error", json_string(why));
			if (pr->heard) {
				json_object_set_new(o, "last_serial", json_integer(pr->serial));
				json_object_set_new(o, "last_heard_ms",
				                    json_integer((json_int_t)(now - pr->heard_ms)));
			}
		}
		json_array_append_new(arr, o);
	}
	probe_fact(p, "primaries", arr);
	return answered;
}

/* The highest serial (RFC 1982) over every primary heard within window: a primary that
 * misses a run still counts with what it said last. */
static struct serial_highest dns_serial_highest(const struct dns_serial *s, uint64_t now,
                                                uint64_t window)
{
	struct serial_highest h = {.have = false};

	for (size_t i = 0; i < s->nprim; i++) {
		const struct serial_primary *pr = &s->prim[i];
		if (!pr->heard || now - pr->heard_ms > window)
			continue;
		if (!h.have || serial_cmp(pr->serial, h.serial) == SERIAL_GREATER) {
			h.have = true;
			h.serial = pr->serial;
			h.from = pr;
			h.age_ms = now - pr->heard_ms;
		}
	}
	return h;
}

/* "192.0.2.1@53" when it answered in this run, else "192.0.2.1@53, last heard 1.2s ago" */
static const char *dns_serial_from(const struct serial_highest *h, char *buf, size_t len)
{
	if (h->age_ms == 0)
		return h->from->addr.text;
	snprintf(buf, len, "%s, last heard %.1fs ago", h->from->addr.text, h->age_ms / 1000.0);
	return buf;
}

static void dns_serial_evaluate(struct probe *p)
{
	struct dns_serial *s = p->priv;
	const struct dnsq_result *res = dnsq_result(s->q);
	uint64_t now = dns_serial_now_ms(), lag, silence, max_silence;
	uint32_t local, expire;
	char why[SERIAL_WHY_SIZE], from[160];
	struct serial_highest h;
	enum probe_reason r;
	size_t answered;
	bool behind;

	probe_fact(p, "server", json_string(res->remote));
	if (res->local[0] != '\0')
		probe_fact(p, "source", json_string(res->local));
	answered = dns_serial_ask_primaries(p, now);
	if (answered > 0)
		s->primary_seen_ms = now;
	if (dns_serial_of(s, s->q, s->q_done, &local, &expire, &r, why, sizeof(why)) != 1) {
		probe_done(p, r, "local server %s: %s", s->remote, why);
		return;
	}
	max_silence = s->max_silence_ms > 0 ? s->max_silence_ms : (uint64_t)expire * 1000;
	h = dns_serial_highest(s, now, max_silence);
	lag = serial_lag_update(&s->lag, now, local, h.have, h.serial);
	behind = h.have ? !serial_reached(local, h.serial) : s->lag.n > 0;
	silence = now - s->primary_seen_ms;
	probe_fact(p, "local_serial", json_integer(local));
	if (h.have)
		probe_fact(p, "primary_serial", json_integer(h.serial));
	probe_fact(p, "primaries_answered", json_integer((json_int_t)answered));
	probe_fact(p, "behind", json_boolean(behind));
	probe_fact(p, "lag_ms", json_integer((json_int_t)lag));
	probe_fact(p, "silence_ms", json_integer((json_int_t)silence));
	probe_fact(p, "max_silence_ms", json_integer((json_int_t)max_silence));

	if (behind && lag > s->max_lag_ms) {
		if (h.have)
			probe_done(p, PR_STALE_SERIAL,
			           "local serial %u behind primary serial %u (%s) for %.1fs, more "
			           "than max_lag_time %.1fs",
			           local, h.serial, dns_serial_from(&h, from, sizeof(from)),
			           lag / 1000.0, s->max_lag_ms / 1000.0);
		else
			probe_done(p, PR_STALE_SERIAL,
			           "local serial %u behind the primaries (none heard within "
			           "max_silence) for %.1fs, more than max_lag_time %.1fs",
			           local, lag / 1000.0, s->max_lag_ms / 1000.0);
		return;
	}
	if (silence > max_silence) {
		probe_done(
		        p, PR_PRIMARIES_SILENT,
		        "none of %zu primaries answered for %.1fs, more than max_silence %.1fs%s; "
		        "local serial %u",
		        s->nprim, silence / 1000.0, max_silence / 1000.0,
		        s->max_silence_ms > 0 ? "" : " (the SOA expire)", local);
		return;
	}
	if (behind && h.have)
		probe_done(p, PR_OK,
		           "local serial %u behind %u (%s) for %.1fs (max_lag_time %.1fs); %zu of "
		           "%zu primaries answered",
		           local, h.serial, dns_serial_from(&h, from, sizeof(from)), lag / 1000.0,
		           s->max_lag_ms / 1000.0, answered, s->nprim);
	else if (behind)
		probe_done(p, PR_OK,
		           "local serial %u behind the primaries (none heard within max_silence) "
		           "for %.1fs (max_lag_time %.1fs); %zu of %zu primaries answered",
		           local, lag / 1000.0, s->max_lag_ms / 1000.0, answered, s->nprim);
	else
		probe_done(p, PR_OK,
		           "local serial %u at %s from %s; %zu of %zu primaries answered%s", local,
		           s->remote, res->local[0] ? res->local : "?", answered, s->nprim,
		           h.have ? ", none newer" : "");
}

static void dns_serial_check_all(struct probe *p)
{
	struct dns_serial *s = p->priv;

	if (s->q_done && s->pending == 0)
		dns_serial_evaluate(p);
}

static void dns_serial_local_done(struct dnsq *q, void *arg)
{
	struct probe *p = arg;

	((struct dns_serial *)p->priv)->q_done = true;
	dns_serial_check_all(p);
}

static void dns_serial_primary_done(struct dnsq *q, void *arg)
{
	struct probe *p = arg;
	struct dns_serial *s = p->priv;

	for (size_t i = 0; i < s->nprim; i++) {
		if (s->prim[i].q == q && !s->prim[i].done) {
			s->prim[i].done = true;
			s->pending--;
		}
	}
	dns_serial_check_all(p);
}

/* At the deadline: judge with the answers that came. */
static void dns_serial_expire(struct probe *p)
{
	struct dns_serial *s = p->priv;

	if (s->q != NULL)
		dns_serial_evaluate(p);
}

static struct dnsq *dns_serial_query(struct probe *p, struct event_base *base,
                                     const struct sockaddr_storage *dst, socklen_t dstlen,
                                     dnsq_done_fn done)
{
	struct dns_serial *s = p->priv;
	struct dnsq_params prm = {
	        .dst = (const struct sockaddr *)dst,
	        .dstlen = dstlen,
	        .src = &p->source,
	        .on_done = done,
	        .arg = p,
	        .probe = p,
	};
	ldns_pkt *q = dnsmsg_query(s->zone, LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, false);

	return q != NULL ? dnsq_start(base, q, &prm) : NULL;
}

static void dns_serial_start(struct probe *p, struct event_base *base,
                             const struct timeval *deadline)
{
	struct dns_serial *s = p->priv;
	bool oom;

	if (s->primary_seen_ms == 0)
		s->primary_seen_ms = dns_serial_now_ms();
	s->q_done = false;
	s->pending = 0;
	s->q = dns_serial_query(p, base, &s->dst, s->dstlen, dns_serial_local_done);
	oom = s->q == NULL;
	for (size_t i = 0; i < s->nprim && !oom; i++) {
		struct serial_primary *pr = &s->prim[i];
		pr->done = false;
		pr->q = dns_serial_query(p, base, &pr->addr.ss, pr->addr.len,
		                         dns_serial_primary_done);
		oom = pr->q == NULL;
		s->pending++;
	}
	if (oom)
		probe_done(p, PR_INTERNAL, "out of memory");
}

static void dns_serial_free(struct probe *p)
{
	struct dns_serial *s = p->priv;

	if (s == NULL)
		return;
	dns_serial_cancel(p);
	ldns_rdf_deep_free(s->zone);
	free(s->prim);
	free(s);
	p->priv = NULL;
}

static json_t *dns_serial_to_json(const struct probe *p)
{
	const struct dns_serial *s = p->priv;
	char host[96], zone[LDNS_MAX_DOMAINLEN + 2], lag[32], silence[32];
	json_t *o, *arr = json_array();

	net_addr_format_host((const struct sockaddr *)&s->dst, host, sizeof(host));
	dnsmsg_name(s->zone, zone, sizeof(zone));
	for (size_t i = 0; arr != NULL && i < s->nprim; i++)
		json_array_append_new(arr, json_string(s->prim[i].addr.text));
	duration_format(s->max_lag_ms, lag, sizeof(lag));
	o = json_pack("{s:s, s:s, s:I, s:o, s:s}", "zone", zone, "server", host, "port",
	              (json_int_t)dnscfg_port((const struct sockaddr *)&s->dst), "primaries", arr,
	              "max_lag_time", lag);
	if (o != NULL && s->max_silence_ms > 0) {
		duration_format(s->max_silence_ms, silence, sizeof(silence));
		json_object_set_new(o, "max_silence", json_string(silence));
	}
	return o;
}

const struct probe_ops probe_dns_serial_ops = {
        .name = "dns-serial",
        .keys = dns_serial_keys,
        .configure = dns_serial_configure,
        .start = dns_serial_start,
        .cancel = dns_serial_cancel,
        .free = dns_serial_free,
        .to_json = dns_serial_to_json,
        .expire = dns_serial_expire,
};
