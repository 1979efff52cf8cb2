/* The dns probe's pass rules. Expected records are parsed once, at configure time, with
 * ldns's own zone-file parser, so "expect" is checked for typos before anything runs and
 * is compared as data (canonical rdata), never as text that may be spelled differently. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_rules.h"
#include "dnsmsg.h"
#include "serial.h"

struct dns_rules *dns_rules_new(void)
{
	struct dns_rules *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->qtype = LDNS_RR_TYPE_SOA;
	r->rcode = LDNS_RCODE_NOERROR;
	r->aa = true;
	return r;
}

/* A serial floor: 1-10 digits that fit in 32 bits. */
static int dns_rules_floor(const char *text, uint32_t *serial)
{
	unsigned long long n;
	char *end;
	size_t len = strlen(text);

	if (len == 0 || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)text[i]))
			return -1;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || n > UINT32_MAX)
		return -1;
	*serial = (uint32_t)n;
	return 0;
}

int dns_rules_expect(struct dns_rules *r, const char *text, char *why, size_t whylen)
{
	struct dns_expect e = {0};
	struct dns_expect *grown;
	char type[16], *line = NULL;
	ldns_status st;

	if (r->qtype == LDNS_RR_TYPE_ANY) {
		snprintf(why, whylen, "needs a specific qtype, not ANY");
		return -1;
	}
	dnsmsg_type_name(r->qtype, type, sizeof(type));
	if (r->qtype == LDNS_RR_TYPE_SOA && dns_rules_floor(text, &e.serial) == 0) {
		e.floor = true;
	} else {
		/* Owner and TTL are placeholders: only the rdata is compared. */
		if (asprintf(&line, "healthd.invalid. 0 IN %s %s", type, text) < 0) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		st = ldns_rr_new_frm_str(&e.rr, line, 0, NULL, NULL);
		free(line);
		if (st != LDNS_STATUS_OK || e.rr == NULL) {
			snprintf(why, whylen, "\"%s\" is not %s %s rdata (%s)", text,
			         r->qtype == LDNS_RR_TYPE_A ? "an" : "a", type,
			         st != LDNS_STATUS_OK ? ldns_get_errorstr_by_id(st) : "empty");
			ldns_rr_free(e.rr);
			return -1;
		}
		if (ldns_rr_get_type(e.rr) != r->qtype || ldns_rr_rd_count(e.rr) == 0) {
			snprintf(why, whylen, "\"%s\" is not %s rdata", text, type);
			ldns_rr_free(e.rr);
			return -1;
		}
		ldns_rr2canonical(e.rr);
	}
	grown = realloc(r->expect, (r->nexpect + 1) * sizeof(*r->expect));
	e.text = strdup(text);
	if (grown == NULL || e.text == NULL) {
		if (grown != NULL)
			r->expect = grown;
		free(e.text);
		ldns_rr_free(e.rr);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	r->expect = grown;
	r->expect[r->nexpect++] = e;
	return 0;
}

size_t dns_rules_answers(const struct dns_rules *r, const ldns_pkt *reply)
{
	const ldns_rr_list *an = ldns_pkt_answer(reply);
	size_t n = 0;

	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++)
		if (r->qtype == LDNS_RR_TYPE_ANY ||
		    ldns_rr_get_type(ldns_rr_list_rr(an, i)) == r->qtype)
			n++;
	return n;
}

/* Same rdata after canonicalisation (RFC 4034 6.2: lowercase names in rdata). */
static bool dns_rules_same(const ldns_rr *want, const ldns_rr *got)
{
	ldns_rr *c = ldns_rr_clone(got);
	bool same = c != NULL && ldns_rr_rd_count(c) == ldns_rr_rd_count(want);

	if (c != NULL)
		ldns_rr2canonical(c);
	for (size_t i = 0; same && i < ldns_rr_rd_count(want); i++)
		same = ldns_rdf_compare(ldns_rr_rdf(want, i), ldns_rr_rdf(c, i)) == 0;
	ldns_rr_free(c);
	return same;
}

/* The rdata of the first few answers of qtype, for a message: "192.0.2.1, 192.0.2.2". */
static void dns_rules_seen(const struct dns_rules *r, const ldns_pkt *reply, char *buf, size_t len)
{
	const ldns_rr_list *an = ldns_pkt_answer(reply);
	size_t o = 0, shown = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ldns_rr_list_rr_count(an) && shown < 3; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) != r->qtype)
			continue;
		for (size_t f = 0; f < ldns_rr_rd_count(rr) && o + 1 < len; f++) {
			char *s = ldns_rdf2str(ldns_rr_rdf(rr, f));
			int n = snprintf(buf + o, len - o, "%s%s",
			                 o == 0   ? ""
			                 : f == 0 ? ", "
			                          : " ",
			                 s != NULL ? s : "?");
			free(s);
			if (n < 0 || (size_t)n >= len - o) {
				o = len - 1;
				break;
			}
			o += (size_t)n;
		}
		shown++;
	}
}

static enum probe_reason dns_rules_expected(const struct dns_rules *r, const ldns_pkt *reply,
                                            char *detail, size_t len)
{
	const ldns_rr_list *an = ldns_pkt_answer(reply);
	const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(reply), 0);
	char type[16], seen[128];

	dnsmsg_type_name(r->qtype, type, sizeof(type));
	for (size_t e = 0; e < r->nexpect; e++) {
		const struct dns_expect *x = &r->expect[e];
		bool found = false;
		if (x->floor) {
			uint32_t serial;
			if (dnsmsg_soa(reply, q != NULL ? ldns_rr_owner(q) : NULL, &serial, NULL) !=
			    1) {
				snprintf(detail, len, "no SOA in the answer to check the floor %u",
				         x->serial);
				return PR_BAD_ANSWER;
			}
			if (serial_cmp(serial, x->serial) == SERIAL_UNDEFINED) {
				snprintf(detail, len,
				         "SOA serial %u is 2^31 from the floor %u: RFC 1982 cannot "
				         "order them, so the floor is not met",
				         serial, x->serial);
				return PR_BAD_ANSWER;
			}
			if (!serial_reached(serial, x->serial)) {
				snprintf(detail, len, "SOA serial %u is older than the floor %u",
				         serial, x->serial);
				return PR_BAD_ANSWER;
			}
			continue;
		}
		for (size_t i = 0; !found && i < ldns_rr_list_rr_count(an); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);
			found = ldns_rr_get_type(rr) == r->qtype && dns_rules_same(x->rr, rr);
		}
		if (!found) {
			dns_rules_seen(r, reply, seen, sizeof(seen));
			snprintf(detail, len, "no %s %s in the answer (%zu %s: %s)", type, x->text,
			         dns_rules_answers(r, reply), type, seen[0] ? seen : "none");
			return PR_BAD_ANSWER;
		}
	}
	return PR_OK;
}

enum probe_reason dns_rules_check(const struct dns_rules *r, const ldns_pkt *reply, char *detail,
                                  size_t len)
{
	char got[32], want[32], flags[32], type[16];
	unsigned rcode = dnsmsg_rcode(reply);
	size_t n;

	detail[0] = '\0';
	if (rcode != r->rcode) {
		snprintf(detail, len, "rcode %s, expected %s",
		         dnsmsg_rcode_name(rcode, got, sizeof(got)),
		         dnsmsg_rcode_name(r->rcode, want, sizeof(want)));
		return PR_BAD_RCODE;
	}
	if (r->aa && !ldns_pkt_aa(reply)) {
		dnsmsg_flags(reply, flags, sizeof(flags));
		snprintf(detail, len, "AA bit clear (flags: %s): not an authoritative answer",
		         flags);
		return PR_BAD_FLAGS;
	}
	n = dns_rules_answers(r, reply);
	if (n < r->min_answers) {
		snprintf(detail, len, "%zu %s record%s in the answer, expected at least %u", n,
		         dnsmsg_type_name(r->qtype, type, sizeof(type)), n == 1 ? "" : "s",
		         r->min_answers);
		return PR_BAD_ANSWER;
	}
	return dns_rules_expected(r, reply, detail, len);
}

void dns_rules_free(struct dns_rules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nexpect; i++) {
		free(r->expect[i].text);
		ldns_rr_free(r->expect[i].rr);
	}
	free(r->expect);
	free(r);
}
