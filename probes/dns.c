/* The dns probe: is this node answering correctly? One query (UDP, TCP when truncated,
 * or TCP) from the node's unique source address, judged by the pass rules of
 * dns_rules.c, and optionally the server's identity: the EDNS NSID of that same reply,
 * or a second, parallel CHAOS TXT query for hostname.bind or id.server. The identity
 * catches the false-healthy case of a probe to the anycast address answered by another
 * node because the address is missing here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cfgread.h"
#include "dns_rules.h"
#include "dnscfg.h"
#include "dnsmsg.h"
#include "dnsq.h"
#include "probe.h"

enum dns_idm { DNS_ID_NSID, DNS_ID_HOSTNAME_BIND, DNS_ID_ID_SERVER };
static const char *const dns_idm_names[] = {"nsid", "hostname.bind", "id.server"};

struct dns_check {
	struct sockaddr_storage dst;
	socklen_t dstlen;
	char remote[64]; /* "127.0.0.1:53" */
	ldns_rdf *name;
	bool tcp;
	struct dns_rules *rules;
	char *identity; /* expect_identity; NULL: not checked */
	enum dns_idm idm;

	/* The exchanges, kept from run to run (dnsq_restart: the query is built once); the
	 * run's socket and reply are released by dns_cancel. */
	struct dnsq *q, *idq;
	bool q_done, idq_done;
};

static const char *const dns_keys[] = {
        "server", "port",        "name",   "qtype",           "transport",       "rcode",
        "aa",     "min_answers", "expect", "expect_identity", "identity_method", NULL,
};

static int dns_read_rcode(struct config_error *e, const json_t *obj, unsigned *rcode)
{
	const json_t *v = json_object_get(obj, "rcode");

	if (v == NULL)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 4095) {
		*rcode = (unsigned)json_integer_value(v);
		return 1;
	}
	if (json_is_string(v) && dnsmsg_rcode_parse(json_string_value(v), rcode) == 0)
		return 1;
	cfgerr_add(e, "rcode", "expected an rcode name (\"NOERROR\", \"NXDOMAIN\", ...) or 0-4095");
	return -1;
}

static int dns_read_qtype(struct config_error *e, const json_t *obj, ldns_rr_type *t)
{
	const char *s;
	int rc = cfg_string(e, obj, "qtype", false, &s);

	if (rc <= 0)
		return rc;
	*t = ldns_get_rr_type_by_name(s);
	if (*t == 0) {
		cfgerr_add(e, "qtype", "unknown record type \"%s\"", s);
		return -1;
	}
	if (*t == LDNS_RR_TYPE_AXFR || *t == LDNS_RR_TYPE_IXFR || *t == LDNS_RR_TYPE_OPT ||
	    *t == LDNS_RR_TYPE_TSIG) {
		cfgerr_add(e, "qtype", "%s is not a query type for this check%s", s,
		           *t == LDNS_RR_TYPE_AXFR ? " (use a \"dns-axfr\" check)" : "");
		return -1;
	}
	return 1;
}

static int dns_read_identity(struct config_error *e, const json_t *obj, struct dns_check *d)
{
	const char *id = NULL, *m = NULL;
	int bad = 0, rc;

	if (cfg_string(e, obj, "expect_identity", false, &id) < 0)
		bad++;
	rc = cfg_string(e, obj, "identity_method", false, &m);
	if (rc < 0)
		bad++;
	if (rc > 0) {
		size_t i;
		for (i = 0; i < 3 && strcmp(m, dns_idm_names[i]) != 0; i++)
			;
		if (i == 3) {
			cfgerr_add(
			        e, "identity_method",
			        "expected \"nsid\", \"hostname.bind\" or \"id.server\", not \"%s\"",
			        m);
			bad++;
		} else
			d->idm = (enum dns_idm)i;
		if (id == NULL && i < 3) {
			cfgerr_add(e, "identity_method", "needs \"expect_identity\"");
			bad++;
		}
	}
	if (bad == 0 && id != NULL && (d->identity = strdup(id)) == NULL) {
		cfgerr_add(e, "expect_identity", "out of memory");
		bad++;
	}
	return bad > 0 ? -1 : 0;
}

static int dns_read_expect(struct config_error *e, const json_t *obj, struct dns_rules *r)
{
	char **v = NULL, why[192], key[32];
	size_t n = 0;
	int bad = 0;
	int rc = cfg_strv(e, obj, "expect", &v, &n);

	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (dns_rules_expect(r, v[i], why, sizeof(why)) != 0) {
			snprintf(key, sizeof(key), "expect[%zu]", i);
			cfgerr_add(e, key, "%s", why);
			bad++;
		}
	}
	cfg_strv_free(v);
	return bad > 0 ? -1 : 1;
}

static int dns_configure(struct probe *p, const json_t *obj, struct config_error *err)
{
	struct dns_check *d = calloc(1, sizeof(*d));
	const char *transport = NULL;
	long long min_answers = 0;
	char name[LDNS_MAX_DOMAINLEN + 2], type[16];
	int bad = 0, rc;

	if (d == NULL || (d->rules = dns_rules_new()) == NULL) {
		free(d);
		cfgerr_add(err, NULL, "out of memory");
		return -1;
	}
	p->priv = d;
	if (dnscfg_server(err, obj, true, &d->dst, &d->dstlen) < 0)
		bad++;
	if (dnscfg_name(err, obj, "name", true, &d->name) < 0)
		bad++;
	if (dns_read_qtype(err, obj, &d->rules->qtype) < 0)
		bad++;
	rc = cfg_string(err, obj, "transport", false, &transport);
	if (rc < 0)
		bad++;
	if (rc > 0 && strcmp(transport, "udp") != 0 && strcmp(transport, "tcp") != 0) {
		cfgerr_add(err, "transport", "expected \"udp\" or \"tcp\", not \"%s\"", transport);
		bad++;
	}
	d->tcp = rc > 0 && strcmp(transport, "tcp") == 0;
	if (dns_read_rcode(err, obj, &d->rules->rcode) < 0)
		bad++;
	if (cfg_bool(err, obj, "aa", &d->rules->aa) < 0)
		bad++;
	if (cfg_int(err, obj, "min_answers", 0, 65535, &min_answers) < 0)
		bad++;
	d->rules->min_answers = (unsigned)min_answers;
	/* After qtype: the expected records are parsed as records of that type. */
	if (dns_read_expect(err, obj, d->rules) < 0)
		bad++;
	if (dns_read_identity(err, obj, d) < 0)
		bad++;
	if (bad > 0)
		return -1;

	net_addr_format((struct sockaddr *)&d->dst, d->remote, sizeof(d->remote));
	dnsmsg_name(d->name, name, sizeof(name));
	if (asprintf(&p->label, "dns %s %s %s", d->remote, name,
	             dnsmsg_type_name(d->rules->qtype, type, sizeof(type))) < 0)
		p->label = NULL;
	return 0;
}

static void dns_cancel(struct probe *p)
{
	struct dns_check *d = p->priv;

	if (d == NULL)
		return;
	dnsq_stop(d->q);
	dnsq_stop(d->idq);
}

/* The facts every run that reached a server records, for `healthd probe` and status. */
static void dns_facts(struct probe *p, const struct dnsq_result *res, const char *transport)
{
	if (!probe_wants_facts(p))
		return;
	probe_fact(p, "server", json_string(res->remote));
	if (res->local[0] != '\0')
		probe_fact(p, "source", json_string(res->local));
	probe_fact(p, "transport", json_string(transport));
	if (res->ignored > 0) {
		probe_fact(p, "ignored", json_integer(res->ignored));
		probe_fact(p, "ignored_last", json_string(res->ignored_why));
	}
}

/* A query that ended without an accepted reply. */
static void dns_exchange_failed(struct probe *p, struct dnsq *q, const char *what)
{
	const struct dnsq_result *res = dnsq_result(q);

	dns_facts(p, res, dnsq_transport(q));
	probe_done(p, res->reason, "%s%s", what, res->detail);
}

/* The identity the server gave: 1 and its bytes, 0 when it gave none (why says so). */
static int dns_identity(struct dns_check *d, uint8_t *id, size_t *n, char *why, size_t len)
{
	ldns_pkt *r;
	char rcode[32];

	if (d->idm == DNS_ID_NSID) {
		if (dnsmsg_nsid(dnsq_result(d->q)->reply, id, DNSMSG_ID_MAX, n) == 1)
			return 1;
		snprintf(why, len, "no NSID in the reply");
		return 0;
	}
	r = dnsq_result(d->idq)->reply;
	if (dnsmsg_rcode(r) != LDNS_RCODE_NOERROR) {
		snprintf(why, len, "CHAOS TXT %s: %s", dns_idm_names[d->idm],
		         dnsmsg_rcode_name(dnsmsg_rcode(r), rcode, sizeof(rcode)));
		return 0;
	}
	if (dnsmsg_txt(r, id, DNSMSG_ID_MAX, n) == 1)
		return 1;
	snprintf(why, len, "no TXT in the CHAOS %s answer", dns_idm_names[d->idm]);
	return 0;
}

static void dns_evaluate(struct probe *p)
{
	struct dns_check *d = p->priv;
	const struct dnsq_result *res = dnsq_result(d->q);
	ldns_pkt *r = res->reply;
	char detail[192], rcode[32], flags[32], type[16], shown[DNSMSG_ID_MAX * 4 + 1] = "";
	char idwhy[96] = "", ignored[48] = "";
	uint8_t id[DNSMSG_ID_MAX];
	size_t idlen = 0, n = dns_rules_answers(d->rules, r);
	uint32_t serial;
	enum probe_reason reason;
	int have_id = 0;
	bool id_ok = true;

	dns_facts(p, res, dnsq_transport(d->q));
	dnsmsg_rcode_name(dnsmsg_rcode(r), rcode, sizeof(rcode));
	dnsmsg_flags(r, flags, sizeof(flags));
	if (probe_wants_facts(p)) {
		probe_fact(p, "rcode", json_string(rcode));
		probe_fact(p, "flags", json_string(flags));
		probe_fact(p, "answers", json_integer((json_int_t)n));
		if (dnsmsg_soa(r, d->name, &serial, NULL) == 1)
			probe_fact(p, "serial", json_integer(serial));
	}
	if (d->identity != NULL) {
		have_id = dns_identity(d, id, &idlen, idwhy, sizeof(idwhy));
		probe_fact(p, "identity_method", json_string(dns_idm_names[d->idm]));
		if (have_id) {
			dnsmsg_printable(id, idlen, shown, sizeof(shown));
			probe_fact(p, "identity", json_string(shown));
			id_ok = idlen == strlen(d->identity) && memcmp(id, d->identity, idlen) == 0;
		}
	}
	/* Another node's name explains everything else that may be wrong: it comes first.
	 * A missing identity comes after the rules (a REFUSED carries no NSID either). */
	if (have_id && !id_ok) {
		probe_done(p, PR_BAD_IDENTITY, "%s \"%s\", expected \"%s\" (from %s over %s)",
		           dns_idm_names[d->idm], shown, d->identity, res->remote,
		           dnsq_transport(d->q));
		return;
	}
	reason = dns_rules_check(d->rules, r, detail, sizeof(detail));
	if (reason != PR_OK) {
		probe_done(p, reason, "%s (from %s over %s)", detail, res->remote,
		           dnsq_transport(d->q));
		return;
	}
	if (d->identity != NULL && !have_id) {
		probe_done(p, PR_BAD_IDENTITY, "%s, expected \"%s\" (from %s)", idwhy, d->identity,
		           res->remote);
		return;
	}
	if (res->ignored > 0)
		snprintf(ignored, sizeof(ignored), ", %u bad replies ignored", res->ignored);
	probe_done(p, PR_OK, "%s %s, %zu %s from %s over %s from %s%s%s%s%s", rcode, flags, n,
	           dnsmsg_type_name(d->rules->qtype, type, sizeof(type)), res->remote,
	           dnsq_transport(d->q), res->local[0] ? res->local : "?",
	           have_id ? ", identity \"" : "", have_id ? shown : "", have_id ? "\"" : "",
	           ignored);
}

static void dns_main_done(struct dnsq *q, void *arg)
{
	struct probe *p = arg;
	struct dns_check *d = p->priv;

	d->q_done = true;
	if (dnsq_result(q)->reason != PR_OK) {
		dns_exchange_failed(p, q, "");
		return;
	}
	if (d->idq == NULL || d->idq_done)
		dns_evaluate(p);
}

static void dns_id_done(struct dnsq *q, void *arg)
{
	struct probe *p = arg;
	struct dns_check *d = p->priv;
	char what[64];

	d->idq_done = true;
	if (dnsq_result(q)->reason != PR_OK) {
		snprintf(what, sizeof(what),
		         "identity query (CHAOS TXT %s): ", dns_idm_names[d->idm]);
		dns_exchange_failed(p, q, what);
		return;
	}
	if (d->q_done)
		dns_evaluate(p);
}

/* At the deadline: say what the run was still waiting for, and what it threw away while
 * waiting (spoofed or stale replies). */
static void dns_expire(struct probe *p)
{
	struct dns_check *d = p->priv;
	struct dnsq *q = !d->q_done ? d->q : d->idq;
	const struct dnsq_result *res;

	if (q == NULL)
		return;
	res = dnsq_result(q);
	dns_facts(p, res, dnsq_transport(q));
	if (res->ignored > 0)
		probe_done(p, PR_TIMEOUT,
		           "no %sreply from %s over %s within %ums; %u ignored (last: %s)",
		           q == d->idq ? "identity " : "", res->remote, dnsq_transport(q),
		           (unsigned)p->timeout_ms, res->ignored, res->ignored_why);
	else
		probe_done(p, PR_TIMEOUT, "no %sreply from %s over %s within %ums",
		           q == d->idq ? "identity " : "", res->remote, dnsq_transport(q),
		           (unsigned)p->timeout_ms);
}

/* Start *qp's exchange: the first run builds the query, later ones send it again under a
 * new id. -1 when out of memory. */
static int dns_query(struct probe *p, struct event_base *base, struct dnsq **qp,
                     const ldns_rdf *name, ldns_rr_type t, ldns_rr_class c, bool nsid,
                     dnsq_done_fn done)
{
	struct dns_check *d = p->priv;
	struct dnsq_params prm = {
	        .dst = (struct sockaddr *)&d->dst,
	        .dstlen = d->dstlen,
	        .src = &p->source,
	        .tcp = d->tcp,
	        .on_done = done,
	        .arg = p,
	        .probe = p,
	};
	ldns_pkt *q;

	if (*qp != NULL)
		return dnsq_restart(*qp, base, &prm);
	q = dnsmsg_query(name, t, c, nsid);
	*qp = q != NULL ? dnsq_start(base, q, &prm) : NULL;
	return *qp != NULL ? 0 : -1;
}

static void dns_start(struct probe *p, struct event_base *base, const struct timeval *deadline)
{
	struct dns_check *d = p->priv;
	ldns_rdf *idname = NULL;
	int rc;

	d->q_done = d->idq_done = false;
	rc = dns_query(p, base, &d->q, d->name, d->rules->qtype, LDNS_RR_CLASS_IN,
	               d->identity != NULL && d->idm == DNS_ID_NSID, dns_main_done);
	if (rc == 0 && d->identity != NULL && d->idm != DNS_ID_NSID) {
		if (d->idq == NULL)
			idname = ldns_dname_new_frm_str(dns_idm_names[d->idm]);
		rc = d->idq != NULL || idname != NULL
		             ? dns_query(p, base, &d->idq, idname, LDNS_RR_TYPE_TXT,
		                         LDNS_RR_CLASS_CH, false, dns_id_done)
		             : -1;
		ldns_rdf_deep_free(idname);
	}
	if (rc != 0)
		probe_done(p, PR_INTERNAL, "out of memory");
}

static void dns_free(struct probe *p)
{
	struct dns_check *d = p->priv;

	if (d == NULL)
		return;
	dnsq_free(d->q);
	dnsq_free(d->idq);
	ldns_rdf_deep_free(d->name);
	dns_rules_free(d->rules);
	free(d->identity);
	free(d);
	p->priv = NULL;
}

static json_t *dns_to_json(const struct probe *p)
{
	const struct dns_check *d = p->priv;
	char host[96], name[LDNS_MAX_DOMAINLEN + 2], type[16], rcode[32];
	json_t *o, *ex;

	net_addr_format_host((const struct sockaddr *)&d->dst, host, sizeof(host));
	dnsmsg_name(d->name, name, sizeof(name));
	o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:b, s:I}", "server", host, "port",
	              (json_int_t)dnscfg_port((const struct sockaddr *)&d->dst), "name", name,
	              "qtype", dnsmsg_type_name(d->rules->qtype, type, sizeof(type)), "transport",
	              d->tcp ? "tcp" : "udp", "rcode",
	              dnsmsg_rcode_name(d->rules->rcode, rcode, sizeof(rcode)), "aa", d->rules->aa,
	              "min_answers", (json_int_t)d->rules->min_answers);
	if (o == NULL)
		return NULL;
	if (d->rules->nexpect > 0 && (ex = json_array()) != NULL) {
		for (size_t i = 0; i < d->rules->nexpect; i++)
			json_array_append_new(ex, json_string(d->rules->expect[i].text));
		json_object_set_new(o, "expect", ex);
	}
	if (d->identity != NULL) {
		json_object_set_new(o, "expect_identity", json_string(d->identity));
		json_object_set_new(o, "identity_method", json_string(dns_idm_names[d->idm]));
	}
	return o;
}

const struct probe_ops probe_dns_ops = {
        .name = "dns",
        .keys = dns_keys,
        .configure = dns_configure,
        .start = dns_start,
        .cancel = dns_cancel,
        .free = dns_free,
        .to_json = dns_to_json,
        .expire = dns_expire,
};
