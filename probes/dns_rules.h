/* The pass rules of the dns probe, applied to an accepted reply: rcode, the AA bit, the
 * number of answers, and the records the answer must contain. Pure: no I/O. */
#ifndef HEALTHD_DNS_RULES_H
#define HEALTHD_DNS_RULES_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe.h"

struct dns_expect {
	char *text;      /* as configured: "192.0.2.1", "10 mx.example.com.", "2024010101" */
	ldns_rr *rr;     /* the record it stands for, canonical (NULL for a serial floor) */
	bool floor;      /* qtype SOA and a bare number: the serial must be this or newer */
	uint32_t serial; /* the floor */
};

struct dns_rules {
	ldns_rr_type qtype; /* default SOA */
	unsigned rcode;     /* expected, default NOERROR */
	bool aa;            /* require the AA bit, default true */
	unsigned min_answers;
	struct dns_expect *expect;
	size_t nexpect;
};

struct dns_rules *dns_rules_new(void); /* the defaults above; NULL when out of memory */
/* Add one entry of "expect" for the current qtype. 0, or -1 with why. */
int dns_rules_expect(struct dns_rules *r, const char *text, char *why, size_t whylen);
/* PR_OK, or the first rule the reply breaks (PR_BAD_RCODE, PR_BAD_FLAGS, PR_BAD_ANSWER)
 * with what was seen in detail. */
enum probe_reason dns_rules_check(const struct dns_rules *r, const ldns_pkt *reply, char *detail,
                                  size_t len);
/* Answer records of qtype (every record for ANY). */
size_t dns_rules_answers(const struct dns_rules *r, const ldns_pkt *reply);
void dns_rules_free(struct dns_rules *r);

#endif
