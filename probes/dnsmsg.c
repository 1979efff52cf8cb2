/* DNS messages through ldns: queries, the acceptance rules for replies, and the fields
 * the dns probes read. A reply is the reply to our query only if everything about it
 * says so; anything less is ignored by the caller, who keeps waiting (RFC 5452 section
 * 9.1; the same rules as OpenBSD's asr). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "dnsmsg.h"

uint16_t dnsmsg_new_id(void)
{
	/* Read 128 ids at a time: one system call per query was a good part of a check. */
	static uint8_t pool[256];
	static size_t left;
	uint16_t id;

	/* The id is half of what stops a forged reply (the source port the other half):
	 * never a predictable random(). getrandom does not fail once the kernel's pool is
	 * initialised; the fallback only keeps the query going if it ever does. */
	if (left < sizeof(id) && getrandom(pool, sizeof(pool), GRND_NONBLOCK) == sizeof(pool))
		left = sizeof(pool);
	if (left < sizeof(id))
		return (uint16_t)(random() ^ (long)&id);
	left -= sizeof(id);
	memcpy(&id, pool + left, sizeof(id));
	memset(pool + left, 0, sizeof(id)); /* an id used is not kept around */
	return id;
}

ldns_pkt *dnsmsg_query(const ldns_rdf *name, ldns_rr_type type, ldns_rr_class cls, bool nsid)
{
	static const uint8_t nsid_opt[4] = {0, DNSMSG_NSID, 0, 0};
	ldns_rdf *owner = ldns_rdf_clone(name);
	ldns_rdf *edns = NULL;
	ldns_pkt *q;

	if (owner == NULL)
		return NULL;
	q = ldns_pkt_query_new(owner, type, cls, 0);
	if (q == NULL) {
		ldns_rdf_deep_free(owner);
		return NULL;
	}
	ldns_pkt_set_id(q, dnsmsg_new_id());
	ldns_pkt_set_rd(q, false);
	if (nsid) {
		edns = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, sizeof(nsid_opt), nsid_opt);
		if (edns == NULL) {
			ldns_pkt_free(q);
			return NULL;
		}
		ldns_pkt_set_edns_udp_size(q, DNSMSG_EDNS_SIZE);
		ldns_pkt_set_edns_data(q, edns);
	}
	return q;
}

int dnsmsg_wire(const ldns_pkt *q, uint8_t **wire, size_t *len)
{
	*wire = NULL;
	if (ldns_pkt2wire(wire, q, len) != LDNS_STATUS_OK || *wire == NULL || *len > 65535) {
		free(*wire);
		*wire = NULL;
		return -1;
	}
	return 0;
}

/* A record ldns read from section s (0: question) that we can use: known types carry at
 * least their mandatory fields (ldns takes an empty A as zero fields), OPT appears once
 * and only in the additional section (RFC 6891), and there is no TSIG (we never sign, and
 * ldns would keep only the last of several). */
static int dnsmsg_record_ok(const ldns_rr *rr, int s, unsigned *opt, char *why, size_t whylen)
{
	ldns_rr_type t = ldns_rr_get_type(rr);
	const ldns_rr_descriptor *d = ldns_rr_descript((uint16_t)t);
	char type[16];

	if (s == 0)
		return 0;
	if (t == LDNS_RR_TYPE_TSIG) {
		snprintf(why, whylen, "TSIG record in a reply to an unsigned query");
		return -1;
	}
	if (t == LDNS_RR_TYPE_OPT) {
		if (s != 3 || ++*opt > 1) {
			snprintf(why, whylen, "OPT record out of place or repeated");
			return -1;
		}
		return 0;
	}
	if (d != NULL && d->_type == t && ldns_rr_rd_count(rr) < ldns_rr_descriptor_minimum(d)) {
		snprintf(why, whylen, "%s record with %zu of its %zu fields",
		         dnsmsg_type_name(t, type, sizeof(type)), ldns_rr_rd_count(rr),
		         ldns_rr_descriptor_minimum(d));
		return -1;
	}
	return 0;
}

/* Walk every record with ldns and require that each one's rdata ends exactly where its
 * RDLENGTH says and the last one at the end of the message: ldns_wire2pkt alone accepts
 * trailing bytes and rdata shorter or longer than its RDLENGTH. */
static int dnsmsg_walk(const uint8_t *wire, size_t len, char *why, size_t whylen)
{
	static const ldns_pkt_section sections[4] = {LDNS_SECTION_QUESTION, LDNS_SECTION_ANSWER,
	                                             LDNS_SECTION_AUTHORITY,
	                                             LDNS_SECTION_ADDITIONAL};
	static const char *const names[4] = {"question", "answer", "authority", "additional"};
	size_t pos = LDNS_HEADER_SIZE;
	unsigned opt = 0;

	for (int s = 0; s < 4; s++) {
		unsigned count = ldns_read_uint16(wire + 4 + 2 * s);
		for (unsigned i = 0; i < count; i++) {
			size_t start = pos, rdata;
			ldns_rdf *owner = NULL;
			ldns_rr *rr = NULL;

			if (ldns_wire2dname(&owner, wire, len, &pos) != LDNS_STATUS_OK) {
				snprintf(why, whylen, "%s record %u: bad owner name", names[s],
				         i + 1);
				return -1;
			}
			ldns_rdf_deep_free(owner);
			rdata = pos + (s == 0 ? 4 : 10);
			if (rdata > len) {
				snprintf(why, whylen, "%s record %u: truncated", names[s], i + 1);
				return -1;
			}
			if (s > 0)
				rdata += ldns_read_uint16(wire + rdata - 2);
			pos = start;
			if (ldns_wire2rr(&rr, wire, len, &pos, sections[s]) != LDNS_STATUS_OK ||
			    pos != rdata) {
				ldns_rr_free(rr);
				snprintf(why, whylen, "%s record %u: rdata does not parse",
				         names[s], i + 1);
				return -1;
			}
			if (dnsmsg_record_ok(rr, s, &opt, why, whylen) != 0) {
				ldns_rr_free(rr);
				return -1;
			}
			ldns_rr_free(rr);
		}
	}
	if (pos != len) {
		snprintf(why, whylen, "%zu bytes after the last record", len - pos);
		return -1;
	}
	return 0;
}

static int dnsmsg_question(const ldns_pkt *q, const ldns_pkt *r, unsigned flags, char *why,
                           size_t whylen)
{
	const ldns_rr *qq = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	const ldns_rr *rq;
	size_t n = ldns_rr_list_rr_count(ldns_pkt_question(r));
	char name[LDNS_MAX_DOMAINLEN + 2], type[16];

	if (n == 0 && (flags & DNSMSG_ALLOW_NO_QUESTION))
		return 0;
	if (n != 1) {
		snprintf(why, whylen, "%zu questions, expected 1", n);
		return -1;
	}
	rq = ldns_rr_list_rr(ldns_pkt_question(r), 0);
	/* ldns_dname_compare ignores case: a server may echo 0x20-mixed case. */
	if (ldns_dname_compare(ldns_rr_owner(rq), ldns_rr_owner(qq)) != 0 ||
	    ldns_rr_get_type(rq) != ldns_rr_get_type(qq) ||
	    ldns_rr_get_class(rq) != ldns_rr_get_class(qq)) {
		dnsmsg_name(ldns_rr_owner(rq), name, sizeof(name));
		snprintf(why, whylen, "question %s %s class %u is not the one asked", name,
		         dnsmsg_type_name(ldns_rr_get_type(rq), type, sizeof(type)),
		         (unsigned)ldns_rr_get_class(rq));
		return -1;
	}
	return 0;
}

int dnsmsg_check(const ldns_pkt *q, const uint8_t *wire, size_t len, unsigned flags, ldns_pkt **out,
                 char *why, size_t whylen)
{
	ldns_pkt *r = NULL;
	ldns_status st;

	*out = NULL;
	if (len < LDNS_HEADER_SIZE) {
		snprintf(why, whylen, "%zu bytes, shorter than a DNS header", len);
		return -1;
	}
	if (LDNS_ID_WIRE(wire) != ldns_pkt_id(q)) {
		snprintf(why, whylen, "id %u, expected %u", (unsigned)LDNS_ID_WIRE(wire),
		         (unsigned)ldns_pkt_id(q));
		return -1;
	}
	if (!LDNS_QR_WIRE(wire)) {
		snprintf(why, whylen, "QR bit clear: a query, not a reply");
		return -1;
	}
	if ((unsigned)LDNS_OPCODE_WIRE(wire) != (unsigned)ldns_pkt_get_opcode(q)) {
		snprintf(why, whylen, "opcode %u, expected %u", (unsigned)LDNS_OPCODE_WIRE(wire),
		         (unsigned)ldns_pkt_get_opcode(q));
		return -1;
	}
	if (dnsmsg_walk(wire, len, why, whylen) != 0)
		return -1;
	st = ldns_wire2pkt(&r, wire, len);
	if (st != LDNS_STATUS_OK) {
		snprintf(why, whylen, "does not parse: %s", ldns_get_errorstr_by_id(st));
		return -1;
	}
	if (ldns_pkt_edns_data(r) != NULL && ldns_pkt_edns_get_option_list(r) == NULL) {
		snprintf(why, whylen, "malformed EDNS options");
		goto fail;
	}
	if (dnsmsg_question(q, r, flags, why, whylen) != 0)
		goto fail;
	*out = r;
	return 0;
fail:
	ldns_pkt_free(r);
	return -1;
}

/* snprintf(buf, len, "%s", s) without a format to parse: these run for every check. */
static size_t dnsmsg_copy(char *buf, size_t len, const char *s)
{
	size_t n;

	if (len == 0)
		return 0;
	n = strnlen(s, len - 1);
	memcpy(buf, s, n);
	buf[n] = '\0';
	return n;
}

unsigned dnsmsg_rcode(const ldns_pkt *r)
{
	return (unsigned)ldns_pkt_edns_extended_rcode(r) << 4 | (unsigned)ldns_pkt_get_rcode(r);
}

const char *dnsmsg_rcode_name(unsigned rcode, char *buf, size_t len)
{
	const ldns_lookup_table *t = ldns_lookup_by_id(ldns_rcodes, (int)rcode);

	if (t != NULL && t->name != NULL)
		dnsmsg_copy(buf, len, t->name);
	else
		snprintf(buf, len, "RCODE%u", rcode);
	return buf;
}

int dnsmsg_rcode_parse(const char *s, unsigned *rcode)
{
	const ldns_lookup_table *t;
	char upper[32];
	size_t i;
	char *end;
	unsigned long n;

	if (isdigit((unsigned char)s[0])) {
		n = strtoul(s, &end, 10);
		if (*end != '\0' || n > 4095)
			return -1;
		*rcode = (unsigned)n;
		return 0;
	}
	for (i = 0; s[i] != '\0' && i + 1 < sizeof(upper); i++)
		upper[i] = (char)toupper((unsigned char)s[i]);
	if (s[i] != '\0')
		return -1;
	upper[i] = '\0';
	t = ldns_lookup_by_name(ldns_rcodes, upper);
	if (t == NULL)
		return -1;
	*rcode = (unsigned)t->id;
	return 0;
}

void dnsmsg_flags(const ldns_pkt *r, char *buf, size_t len)
{
	const struct {
		bool on;
		const char *name;
	} f[] = {
	        {ldns_pkt_qr(r), "qr"}, {ldns_pkt_aa(r), "aa"}, {ldns_pkt_tc(r), "tc"},
	        {ldns_pkt_rd(r), "rd"}, {ldns_pkt_ra(r), "ra"}, {ldns_pkt_ad(r), "ad"},
	        {ldns_pkt_cd(r), "cd"},
	};
	size_t o = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!f[i].on)
			continue;
		/* What snprintf of "%s%s" did, without a format to parse: the piece, or
		 * what fits of it and the end. */
		char piece[4] = {' ', f[i].name[0], f[i].name[1], '\0'};
		const char *add = o > 0 ? piece : piece + 1;
		size_t n = o > 0 ? 3 : 2;
		if (n >= len - o) {
			dnsmsg_copy(buf + o, len - o, add);
			return;
		}
		memcpy(buf + o, add, n);
		o += n;
		buf[o] = '\0';
	}
}

const char *dnsmsg_type_name(ldns_rr_type t, char *buf, size_t len)
{
	const ldns_rr_descriptor *d = ldns_rr_descript((uint16_t)t);

	if (d != NULL && d->_name != NULL && d->_type == t)
		dnsmsg_copy(buf, len, d->_name);
	else
		snprintf(buf, len, "TYPE%u", (unsigned)t);
	return buf;
}

void dnsmsg_name(const ldns_rdf *name, char *buf, size_t len)
{
	char *s = name != NULL ? ldns_rdf2str(name) : NULL;

	snprintf(buf, len, "%s", s != NULL ? s : "?");
	free(s);
}

int dnsmsg_nsid(ldns_pkt *r, uint8_t *buf, size_t len, size_t *n)
{
	ldns_edns_option_list *l = ldns_pkt_edns_get_option_list(r);
	size_t count = l != NULL ? ldns_edns_option_list_get_count(l) : 0;

	for (size_t i = 0; i < count; i++) {
		ldns_edns_option *o = ldns_edns_option_list_get_option(l, i);
		if (o == NULL || ldns_edns_get_code(o) != DNSMSG_NSID)
			continue;
		*n = ldns_edns_get_size(o) < len ? ldns_edns_get_size(o) : len;
		if (*n > 0)
			memcpy(buf, ldns_edns_get_data(o), *n);
		return 1;
	}
	return 0;
}

int dnsmsg_txt(const ldns_pkt *r, uint8_t *buf, size_t len, size_t *n)
{
	const ldns_rr_list *an = ldns_pkt_answer(r);

	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		const ldns_rdf *s;
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT || ldns_rr_rd_count(rr) == 0)
			continue;
		s = ldns_rr_rdf(rr, 0);
		/* A character-string: one length byte, then the bytes. */
		if (ldns_rdf_get_type(s) != LDNS_RDF_TYPE_STR || ldns_rdf_size(s) < 1)
			continue;
		*n = ldns_rdf_data(s)[0];
		if (*n > ldns_rdf_size(s) - 1)
			*n = ldns_rdf_size(s) - 1;
		if (*n > len)
			*n = len;
		if (*n > 0)
			memcpy(buf, ldns_rdf_data(s) + 1, *n);
		return 1;
	}
	return 0;
}

int dnsmsg_soa(const ldns_pkt *r, const ldns_rdf *zone, uint32_t *serial, uint32_t *expire)
{
	const ldns_rr_list *an = ldns_pkt_answer(r);

	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) != 7)
			continue;
		if (zone != NULL && ldns_dname_compare(ldns_rr_owner(rr), zone) != 0)
			continue;
		if (ldns_rdf_size(ldns_rr_rdf(rr, 2)) != 4 ||
		    ldns_rdf_size(ldns_rr_rdf(rr, 5)) != 4)
			continue;
		*serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
		if (expire != NULL)
			*expire = ldns_rdf2native_int32(ldns_rr_rdf(rr, 5));
		return 1;
	}
	return 0;
}

void dnsmsg_printable(const uint8_t *d, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	if (len == 0)
		return;
	for (size_t i = 0; i < n && o + 5 < len; i++) {
		if (d[i] >= 0x20 && d[i] < 0x7f && d[i] != '\\' && d[i] != '"')
			buf[o++] = (char)d[i];
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", d[i]);
	}
	buf[o] = '\0';
}
