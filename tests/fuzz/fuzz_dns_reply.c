/* libFuzzer target over the DNS reply validation path: the bytes a server (or anyone who
 * can reach our source port) sends, through dnsmsg_check (id, QR, opcode, question,
 * every record, trailing bytes) and, for what is accepted, everything the probes read
 * from a reply: the pass rules, rcode, flags, NSID, CHAOS TXT, SOA serial.
 *
 * The first input byte picks one of the queries below (bit 7: the reply may omit the
 * question, as later AXFR messages do); the rest is the reply. Every query has the id
 * 0x4242, as have the seed replies.
 *
 * fuzz-sources: probes/dnsmsg.c probes/dns_rules.c probes/serial.c
 * Seeds: tests/fuzz/corpus/dns_reply (replies of Knot 3.2, capture_corpus.py). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../probes/dns_rules.h"
#include "../../probes/dnsmsg.h"

#define FUZZ_ID 0x4242

struct fuzz_case {
	const char *name;
	ldns_rr_type type;
	ldns_rr_class cls;
	bool nsid;
	const char *expect; /* one "expect" entry, or NULL */
	unsigned min_answers;
};

static const struct fuzz_case cases[] = {
        {"example.test.", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, false, "1", 1},
        {"www.example.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, true, "192.0.2.1", 1},
        {"big.example.test.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, false, NULL, 40},
        {"hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, false, NULL, 0},
        {"example.test.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, false, NULL, 0},
        {"www.example.test.", LDNS_RR_TYPE_MX, LDNS_RR_CLASS_IN, false, "10 mx.example.test.", 0},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static ldns_pkt *queries[NCASES];
static struct dns_rules *rules[NCASES];
static ldns_rdf *zone;

static void fuzz_init(void)
{
	char why[192];

	zone = ldns_dname_new_frm_str("example.test.");
	for (size_t i = 0; i < NCASES; i++) {
		ldns_rdf *name = ldns_dname_new_frm_str(cases[i].name);
		queries[i] = dnsmsg_query(name, cases[i].type, cases[i].cls, cases[i].nsid);
		ldns_rdf_deep_free(name);
		rules[i] = dns_rules_new();
		if (queries[i] == NULL || rules[i] == NULL || zone == NULL)
			abort();
		ldns_pkt_set_id(queries[i], FUZZ_ID);
		rules[i]->qtype = cases[i].type;
		rules[i]->min_answers = cases[i].min_answers;
		if (cases[i].expect != NULL &&
		    dns_rules_expect(rules[i], cases[i].expect, why, sizeof(why)) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[192], text[512];
	uint8_t id[DNSMSG_ID_MAX];
	uint32_t serial, expire;
	size_t n, sel;
	ldns_pkt *r = NULL;

	if (queries[0] == NULL)
		fuzz_init();
	if (size < 1)
		return 0;
	sel = (data[0] & 0x7f) % NCASES;
	if (dnsmsg_check(queries[sel], data + 1, size - 1,
	                 (data[0] & 0x80) ? DNSMSG_ALLOW_NO_QUESTION : 0, &r, why,
	                 sizeof(why)) != 0) {
		if (r != NULL)
			abort(); /* a refused reply must not be handed out */
		return 0;
	}
	(void)dns_rules_check(rules[sel], r, text, sizeof(text));
	(void)dns_rules_answers(rules[sel], r);
	(void)dnsmsg_rcode_name(dnsmsg_rcode(r), text, sizeof(text));
	dnsmsg_flags(r, text, sizeof(text));
	if (dnsmsg_nsid(r, id, sizeof(id), &n) == 1)
		dnsmsg_printable(id, n, text, sizeof(text));
	if (dnsmsg_txt(r, id, sizeof(id), &n) == 1)
		dnsmsg_printable(id, n, text, sizeof(text));
	(void)dnsmsg_soa(r, zone, &serial, &expire);
	ldns_pkt_free(r);
	return 0;
}
