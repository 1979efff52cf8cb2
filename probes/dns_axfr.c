/* The dns-axfr probe: do zone transfers work from the node's unique address? A full
 * AXFR over TCP (RFC 5936) from the source, every message checked like any reply (id,
 * QR, opcode, question, every record parses), the stream opened and closed by the same
 * SOA, at least min_records records, at most max_bytes, all within the run's deadline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cfgread.h"
#include "dnscfg.h"
#include "dnsmsg.h"
#include "dnsq.h"
#include "probe.h"

#define AXFR_DEFAULT_MAX_BYTES (16ll * 1024 * 1024)

struct dns_axfr {
	ldns_rdf *zone;
	struct sockaddr_storage dst; /* server, else the first primary */
	socklen_t dstlen;
	struct dnscfg_addr *prim; /* as configured (dns-serial's syntax); NULL when none */
	size_t nprim;
	char remote[72];
	long long min_records;
	long long max_bytes;

	/* the run: released by dns_axfr_cancel */
	struct dnsq *q;
	ldns_rr *soa; /* the opening SOA */
	size_t records;
};

static const char *const dns_axfr_keys[] = {
        "zone", "server", "port", "primaries", "min_records", "max_bytes", NULL,
};

static int dns_axfr_configure(struct probe *p, const json_t *obj, struct config_error *err)
{
	struct dns_axfr *a = calloc(1, sizeof(*a));
	char zone[LDNS_MAX_DOMAINLEN + 2];
	int bad = 0, srv, prc;

	if (a == NULL) {
		cfgerr_add(err, NULL, "out of memory");
		return -1;
	}
	p->priv = a;
	a->max_bytes = AXFR_DEFAULT_MAX_BYTES;
	if (dnscfg_name(err, obj, "zone", true, &a->zone) < 0)
		bad++;
	/* The server to transfer from; by default the first of the zone's primaries. */
	srv = dnscfg_server(err, obj, false, &a->dst, &a->dstlen);
	prc = dnscfg_primaries(err, obj, false, &a->prim, &a->nprim);
	if (srv < 0 || prc < 0) {
		bad++;
	} else if (srv == 0 && prc == 0) {
		cfgerr_add(err, "server",
		           "required key is missing (a numeric IPv4 or IPv6 address), or "
		           "\"primaries\" (the server is then the first of them)");
		bad++;
	} else if (srv == 0) {
		memcpy(&a->dst, &a->prim[0].ss, a->prim[0].len);
		a->dstlen = a->prim[0].len;
	}
	if (cfg_int(err, obj, "min_records", 0, 1ll << 31, &a->min_records) < 0)
		bad++;
	if (cfg_int(err, obj, "max_bytes", 512, 1ll << 31, &a->max_bytes) < 0)
		bad++;
	if (bad > 0)
		return -1;
	net_addr_format((struct sockaddr *)&a->dst, a->remote, sizeof(a->remote));
	dnsmsg_name(a->zone, zone, sizeof(zone));
	if (asprintf(&p->label, "dns-axfr %s %s", a->remote, zone) < 0)
		p->label = NULL;
	return 0;
}

static void dns_axfr_cancel(struct probe *p)
{
	struct dns_axfr *a = p->priv;

	if (a == NULL)
		return;
	dnsq_free(a->q);
	a->q = NULL;
	ldns_rr_free(a->soa);
	a->soa = NULL;
}

/* What the stream has delivered so far: the facts, also when it fails half-way. */
static void dns_axfr_facts(struct probe *p)
{
	struct dns_axfr *a = p->priv;
	const struct dnsq_result *res = dnsq_result(a->q);

	probe_fact(p, "server", json_string(res->remote));
	if (res->local[0] != '\0')
		probe_fact(p, "source", json_string(res->local));
	probe_fact(p, "records", json_integer((json_int_t)a->records));
	probe_fact(p, "messages", json_integer(res->messages));
	probe_fact(p, "bytes", json_integer((json_int_t)res->bytes));
	if (a->soa != NULL && ldns_rr_rd_count(a->soa) == 7)
		probe_fact(p, "serial",
		           json_integer(ldns_rdf2native_int32(ldns_rr_rdf(a->soa, 2))));
}

static bool dns_axfr_same_soa(const ldns_rr *a, const ldns_rr *b)
{
	if (ldns_dname_compare(ldns_rr_owner(a), ldns_rr_owner(b)) != 0 ||
	    ldns_rr_rd_count(a) != ldns_rr_rd_count(b))
		return false;
	for (size_t i = 0; i < ldns_rr_rd_count(a); i++)
		if (ldns_rdf_compare(ldns_rr_rdf(a, i), ldns_rr_rdf(b, i)) != 0)
			return false;
	return true;
}

/* The closing SOA arrived: judge the whole transfer. */
static void dns_axfr_end(struct probe *p)
{
	struct dns_axfr *a = p->priv;
	const struct dnsq_result *res = dnsq_result(a->q);
	char zone[LDNS_MAX_DOMAINLEN + 2];

	dns_axfr_facts(p);
	dnsmsg_name(a->zone, zone, sizeof(zone));
	if ((long long)a->records < a->min_records) {
		probe_done(p, PR_TRANSFER,
		           "AXFR of %s from %s: %zu records, expected at least %lld", zone,
		           res->remote, a->records, a->min_records);
		return;
	}
	probe_done(p, PR_OK,
	           "AXFR of %s from %s from %s: serial %u, %zu records in %u message%s, %zu bytes",
	           zone, res->remote, res->local[0] ? res->local : "?",
	           ldns_rdf2native_int32(ldns_rr_rdf(a->soa, 2)), a->records, res->messages,
	           res->messages == 1 ? "" : "s", res->bytes);
}

static void dns_axfr_fail(struct probe *p, const char *what)
{
	struct dns_axfr *a = p->priv;
	char zone[LDNS_MAX_DOMAINLEN + 2];

	dns_axfr_facts(p);
	dnsmsg_name(a->zone, zone, sizeof(zone));
	probe_done(p, PR_TRANSFER, "AXFR of %s from %s, message %u: %s", zone,
	           dnsq_result(a->q)->remote, dnsq_result(a->q)->messages, what);
}

static int dns_axfr_msg(struct dnsq *q, ldns_pkt *msg, size_t wirelen, void *arg)
{
	struct probe *p = arg;
	struct dns_axfr *a = p->priv;
	const ldns_rr_list *an = ldns_pkt_answer(msg);
	size_t n = ldns_rr_list_rr_count(an);
	char rcode[32], what[64];

	if (dnsmsg_rcode(msg) != LDNS_RCODE_NOERROR) {
		snprintf(what, sizeof(what), "refused with rcode %s",
		         dnsmsg_rcode_name(dnsmsg_rcode(msg), rcode, sizeof(rcode)));
		ldns_pkt_free(msg);
		dns_axfr_fail(p, what);
		return DNSQ_STOP;
	}
	if (a->soa == NULL && n == 0) {
		ldns_pkt_free(msg);
		dns_axfr_fail(p, "no records in the first message");
		return DNSQ_STOP;
	}
	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		bool is_soa = ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(rr) == 7;
		a->records++;
		if (a->soa == NULL) {
			if (!is_soa || ldns_dname_compare(ldns_rr_owner(rr), a->zone) != 0) {
				ldns_pkt_free(msg);
				dns_axfr_fail(p, "the stream does not start with the zone's SOA");
				return DNSQ_STOP;
			}
			a->soa = ldns_rr_clone(rr);
			if (a->soa == NULL) {
				ldns_pkt_free(msg);
				dns_axfr_fail(p, "out of memory");
				return DNSQ_STOP;
			}
			continue;
		}
		if (!is_soa)
			continue;
		/* The second SOA closes the stream: last of its message, same as the first. */
		bool same = dns_axfr_same_soa(a->soa, rr), last = i + 1 == n;
		ldns_pkt_free(msg);
		if (!same)
			dns_axfr_fail(p, "the closing SOA differs from the opening one");
		else if (!last)
			dns_axfr_fail(p, "records after the closing SOA");
		else
			dns_axfr_end(p);
		return DNSQ_STOP;
	}
	ldns_pkt_free(msg);
	return DNSQ_MORE;
}

static void dns_axfr_done(struct dnsq *q, void *arg)
{
	struct probe *p = arg;
	const struct dnsq_result *res = dnsq_result(q);
	char zone[LDNS_MAX_DOMAINLEN + 2];

	dns_axfr_facts(p);
	dnsmsg_name(((struct dns_axfr *)p->priv)->zone, zone, sizeof(zone));
	/* Only failures end here: a complete stream ends in dns_axfr_msg. */
	probe_done(p, res->reason == PR_CLOSED ? PR_TRANSFER : res->reason, "AXFR of %s: %s", zone,
	           res->detail);
}

/* At the deadline: how far the transfer got. */
static void dns_axfr_expire(struct probe *p)
{
	struct dns_axfr *a = p->priv;
	const struct dnsq_result *res;

	if (a->q == NULL)
		return;
	res = dnsq_result(a->q);
	dns_axfr_facts(p);
	probe_done(p, PR_TIMEOUT, "AXFR from %s not complete within %ums: %zu records, %zu bytes",
	           res->remote, (unsigned)p->timeout_ms, a->records, res->bytes);
}

static void dns_axfr_start(struct probe *p, struct event_base *base, const struct timeval *deadline)
{
	struct dns_axfr *a = p->priv;
	struct dnsq_params prm = {
	        .dst = (struct sockaddr *)&a->dst,
	        .dstlen = a->dstlen,
	        .src = &p->source,
	        .tcp = true,
	        .on_msg = dns_axfr_msg,
	        .max_bytes = (size_t)a->max_bytes,
	        .on_done = dns_axfr_done,
	        .arg = p,
	        .probe = p,
	};
	ldns_pkt *q;

	a->records = 0;
	q = dnsmsg_query(a->zone, LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, false);
	a->q = q != NULL ? dnsq_start(base, q, &prm) : NULL;
	if (a->q == NULL)
		probe_done(p, PR_INTERNAL, "out of memory");
}

static void dns_axfr_free(struct probe *p)
{
	struct dns_axfr *a = p->priv;

	if (a == NULL)
		return;
	dns_axfr_cancel(p);
	ldns_rdf_deep_free(a->zone);
	free(a->prim);
	free(a);
	p->priv = NULL;
}

static json_t *dns_axfr_to_json(const struct probe *p)
{
	const struct dns_axfr *a = p->priv;
	char host[96], zone[LDNS_MAX_DOMAINLEN + 2];
	json_t *o, *arr;

	net_addr_format_host((const struct sockaddr *)&a->dst, host, sizeof(host));
	dnsmsg_name(a->zone, zone, sizeof(zone));
	o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "zone", zone, "server", host, "port",
	              (json_int_t)dnscfg_port((const struct sockaddr *)&a->dst), "min_records",
	              (json_int_t)a->min_records, "max_bytes", (json_int_t)a->max_bytes);
	if (o != NULL && a->nprim > 0 && (arr = json_array()) != NULL) {
		for (size_t i = 0; i < a->nprim; i++)
			json_array_append_new(arr, json_string(a->prim[i].text));
		json_object_set_new(o, "primaries", arr);
	}
	return o;
}

const struct probe_ops probe_dns_axfr_ops = {
        .name = "dns-axfr",
        .keys = dns_axfr_keys,
        .configure = dns_axfr_configure,
        .start = dns_axfr_start,
        .cancel = dns_axfr_cancel,
        .free = dns_axfr_free,
        .to_json = dns_axfr_to_json,
        .expire = dns_axfr_expire,
};
