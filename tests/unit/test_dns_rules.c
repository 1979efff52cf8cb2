/* The dns probe's pass rules (dns_rules.c) on replies built with ldns, and RFC 1982
 * serial arithmetic with the lag of a secondary behind its primaries (serial.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../probes/dns_rules.h"
#include "../../probes/dnsmsg.h"
#include "../../probes/serial.h"
#include "dns_fake.h"
#include "unit.h"

/* ---------------------------------------------------------------- pass rules */

static ldns_pkt *reply(ldns_rr_type t, bool aa, ldns_pkt_rcode rcode, const char *const *rrs)
{
	ldns_pkt *q = dns_query("www.example.test.", t, false), *r = NULL;
	size_t len;
	uint8_t *w = dns_reply_wire(q, aa, rcode, rrs, &len);
	char why[128];

	ck_assert_int_eq(dnsmsg_check(q, w, len, 0, &r, why, sizeof(why)), 0);
	free(w);
	ldns_pkt_free(q);
	return r;
}

START_TEST(rules_rcode_aa_count)
{
	struct dns_rules *ru = dns_rules_new();
	char d[192];
	ldns_pkt *r;

	ru->qtype = LDNS_RR_TYPE_A;
	r = reply(LDNS_RR_TYPE_A, true, LDNS_RCODE_NOERROR, www_a);
	ck_assert_int_eq(dns_rules_check(ru, r, d, sizeof(d)), PR_OK);
	ru->min_answers = 2;
	ck_assert_int_eq(dns_rules_check(ru, r, d, sizeof(d)), PR_BAD_ANSWER);
	ck_assert_str_eq(d, "1 A record in the answer, expected at least 2");
	ru->min_answers = 1;
	ldns_pkt_free(r);

	r = reply(LDNS_RR_TYPE_A, true, LDNS_RCODE_NXDOMAIN, NULL);
	ck_assert_int_eq(dns_rules_check(ru, r, d, sizeof(d)), PR_BAD_RCODE);
	ck_assert_str_eq(d, "rcode NXDOMAIN, expected NOERROR");
	ru->rcode = LDNS_RCODE_NXDOMAIN;
	ru->min_answers = 0;
	ck_assert_int_eq(dns_rules_check(ru, r, d, sizeof(d)), PR_OK);
	ldns_pkt_free(r);

	ru->rcode = LDNS_RCODE_NOERROR;
	r = reply(LDNS_RR_TYPE_A, false, LDNS_RCODE_NOERROR, www_a);
	ck_assert_int_eq(dns_rules_check(ru, r, d, sizeof(d)), PR_BAD_FLAGS);
	ck_assert_ptr_nonnull(strstr(d, "AA bit clear (flags: qr)"));
	ru->aa = false;
	ck_assert_int_eq(dns_rules_check(ru, r, d, sizeof(d)), PR_OK);
	ldns_pkt_free(r);
	dns_rules_free(ru);
}
END_TEST

START_TEST(rules_expect_records)
{
	static const char *const mx[] = {
	        "www.example.test. 300 IN CNAME host.example.test.",
	        "www.example.test. 300 IN MX 10 Mail.Example.Test.",
	        "www.example.test. 300 IN MX 20 mx2.example.test.",
	        NULL,
	};
	struct dns_rules *ru = dns_rules_new();
	char d[192], why[192];
	ldns_pkt *r;

	ru->qtype = LDNS_RR_TYPE_A;
	ck_assert_int_eq(dns_rules_expect(ru, "192.0.2.1", why, sizeof(why)), 0);
	r = reply(LDNS_RR_TYPE_A, true, LDNS_RCODE_NOERROR, www_a);
	ck_assert_int_eq(dns_rules_check(ru, r, d, sizeof(d)), PR_OK);
	ck_assert_int_eq(dns_rules_expect(ru, "192.0.2.99", why, sizeof(why)), 0);
	ck_assert_int_eq(dns_rules_check(ru, r, d, sizeof(d)), PR_BAD_ANSWER);
	ck_assert_str_eq(d, "no A 192.0.2.99 in the answer (1 A: 192.0.2.1)");
	ldns_pkt_free(r);
	ck_assert_int_eq(dns_rules_expect(ru, "192.0.2.300", why, sizeof(why)), -1);
	ck_assert_int_eq(dns_rules_expect(ru, "mail.example.test.", why, sizeof(why)), -1);
	dns_rules_free(ru);

	/* Names inside rdata compare without regard to case; only records of qtype count. */
	ru = dns_rules_new();
	ru->qtype = LDNS_RR_TYPE_MX;
	ck_assert_int_eq(dns_rules_expect(ru, "10 mail.example.test.", why, sizeof(why)), 0);
	r = reply(LDNS_RR_TYPE_MX, true, LDNS_RCODE_NOERROR, mx);
	ck_assert_uint_eq(dns_rules_answers(ru, r), 2);
	ck_assert_int_eq(dns_rules_check(ru, r, d, sizeof(d)), PR_OK);
	ck_assert_int_eq(dns_rules_expect(ru, "10 mx2.example.test.", why, sizeof(why)), 0);
	ck_assert_int_eq(dns_rules_check(ru, r, d, sizeof(d)), PR_BAD_ANSWER);
	ldns_pkt_free(r);
	dns_rules_free(ru);

	ru = dns_rules_new();
	ru->qtype = LDNS_RR_TYPE_ANY;
	ck_assert_int_eq(dns_rules_expect(ru, "192.0.2.1", why, sizeof(why)), -1);
	ck_assert_str_eq(why, "needs a specific qtype, not ANY");
	dns_rules_free(ru);
}
END_TEST

START_TEST(rules_soa_serial_floor)
{
	static const char *const soa[] = {
	        "www.example.test. 300 IN SOA ns. h. 2024010101 3600 600 86400 300", NULL};
	static const char *const soa_wrapped[] = {"www.example.test. 300 IN SOA ns. h. 5 1 2 3 4",
	                                          NULL};
	struct dns_rules *ru = dns_rules_new(); /* qtype SOA by default */
	char d[192], why[192];
	ldns_pkt *r = reply(LDNS_RR_TYPE_SOA, true, LDNS_RCODE_NOERROR, soa);

	ck_assert_int_eq(dns_rules_expect(ru, "2024010101", why, sizeof(why)), 0);
	ck_assert(ru->expect[0].floor);
	ck_assert_int_eq(dns_rules_check(ru, r, d, sizeof(d)), PR_OK);
	ck_assert_int_eq(dns_rules_expect(ru, "2024010102", why, sizeof(why)), 0);
	ck_assert_int_eq(dns_rules_check(ru, r, d, sizeof(d)), PR_BAD_ANSWER);
	ck_assert_str_eq(d, "SOA serial 2024010101 is older than the floor 2024010102");
	ldns_pkt_free(r);
	dns_rules_free(ru);

	/* Serial 5 after a wrap is newer than 4294967290; exactly 2^31 away is undefined. */
	ru = dns_rules_new();
	r = reply(LDNS_RR_TYPE_SOA, true, LDNS_RCODE_NOERROR, soa_wrapped);
	ck_assert_int_eq(dns_rules_expect(ru, "4294967290", why, sizeof(why)), 0);
	ck_assert_int_eq(dns_rules_check(ru, r, d, sizeof(d)), PR_OK);
	ck_assert_int_eq(dns_rules_expect(ru, "2147483653", why, sizeof(why)), 0);
	ck_assert_int_eq(dns_rules_check(ru, r, d, sizeof(d)), PR_BAD_ANSWER);
	ck_assert_ptr_nonnull(strstr(d, "RFC 1982 cannot order them"));
	ck_assert_int_eq(dns_rules_expect(ru, "4294967296", why, sizeof(why)), -1);
	/* A full SOA rdata is an exact record, not a floor. */
	ck_assert_int_eq(dns_rules_expect(ru, "ns. h. 5 1 2 3 4", why, sizeof(why)), 0);
	ck_assert(!ru->expect[ru->nexpect - 1].floor);
	ldns_pkt_free(r);
	dns_rules_free(ru);
}
END_TEST

/* ---------------------------------------------------------------- RFC 1982 */

START_TEST(serial_arithmetic)
{
	ck_assert_int_eq(serial_cmp(1, 1), SERIAL_EQUAL);
	ck_assert_int_eq(serial_cmp(1, 2), SERIAL_LESS);
	ck_assert_int_eq(serial_cmp(2, 1), SERIAL_GREATER);
	/* Wrap-around: 0 follows 4294967295. */
	ck_assert_int_eq(serial_cmp(UINT32_MAX, 0), SERIAL_LESS);
	ck_assert_int_eq(serial_cmp(0, UINT32_MAX), SERIAL_GREATER);
	ck_assert_int_eq(serial_cmp(4294967000u, 100), SERIAL_LESS);
	/* The largest step forward is 2^31 - 1. */
	ck_assert_int_eq(serial_cmp(0, 0x7fffffffu), SERIAL_LESS);
	ck_assert_int_eq(serial_cmp(0x7fffffffu, 0), SERIAL_GREATER);
	ck_assert_int_eq(serial_cmp(0, 0x80000001u), SERIAL_GREATER);
	/* Exactly 2^31 apart: undefined either way, and never "reached". */
	ck_assert_int_eq(serial_cmp(0, 0x80000000u), SERIAL_UNDEFINED);
	ck_assert_int_eq(serial_cmp(0x80000000u, 0), SERIAL_UNDEFINED);
	ck_assert_int_eq(serial_cmp(7, 0x80000007u), SERIAL_UNDEFINED);
	ck_assert(!serial_reached(0, 0x80000000u));
	ck_assert(!serial_reached(0x80000000u, 0));
	ck_assert(serial_reached(5, 5));
	ck_assert(serial_reached(0, UINT32_MAX));
	ck_assert(!serial_reached(UINT32_MAX, 0));
}
END_TEST

START_TEST(serial_lag_tracking)
{
	struct serial_lag l = {0};

	/* In step: no lag. */
	ck_assert_uint_eq(serial_lag_update(&l, 1000, 5, true, 5), 0);
	/* The primary moves to 6 at t=2000: the lag counts from then, ... */
	ck_assert_uint_eq(serial_lag_update(&l, 2000, 5, true, 6), 0);
	ck_assert_uint_eq(serial_lag_update(&l, 2500, 5, true, 6), 500);
	/* ... also while no primary answers, ... */
	ck_assert_uint_eq(serial_lag_update(&l, 3000, 5, false, 0), 1000);
	/* ... and from the OLDEST serial the copy lacks, not the newest. */
	ck_assert_uint_eq(serial_lag_update(&l, 4000, 5, true, 7), 2000);
	/* The copy reaches 6: now only 7 (first seen at 4000) is missing. */
	ck_assert_uint_eq(serial_lag_update(&l, 5000, 6, true, 7), 1000);
	ck_assert_uint_eq(serial_lag_update(&l, 6000, 7, true, 7), 0);
	ck_assert_uint_eq(l.n, 0);

	/* A primary that goes back (restored from backup) leaves no alarm behind. */
	ck_assert_uint_eq(serial_lag_update(&l, 7000, 7, true, 9), 0);
	ck_assert_uint_eq(serial_lag_update(&l, 8000, 7, true, 7), 0);
	ck_assert_uint_eq(l.n, 0);

	/* Across the wrap: local 4294967295 behind primary 3. */
	ck_assert_uint_eq(serial_lag_update(&l, 9000, UINT32_MAX, true, 3), 0);
	ck_assert_uint_eq(serial_lag_update(&l, 9500, UINT32_MAX, true, 3), 500);
	ck_assert_uint_eq(serial_lag_update(&l, 9600, 3, true, 3), 0);

	/* Undefined (2^31 apart) counts as behind. */
	ck_assert_uint_eq(serial_lag_update(&l, 10000, 0, true, 0x80000000u), 0);
	ck_assert_uint_eq(serial_lag_update(&l, 10700, 0, true, 0x80000000u), 700);
}
END_TEST

START_TEST(serial_lag_history_full)
{
	struct serial_lag l = {0};

	for (uint32_t i = 1; i <= SERIAL_HISTORY + 4; i++)
		serial_lag_update(&l, 1000 * i, 0, true, i);
	ck_assert_uint_eq(l.n, SERIAL_HISTORY);
	/* The oldest serial the copy lacks is still the first one seen. */
	ck_assert_uint_eq(serial_lag_update(&l, 30000, 0, true, SERIAL_HISTORY + 4), 29000);
	ck_assert_uint_eq(
	        serial_lag_update(&l, 31000, SERIAL_HISTORY + 4, true, SERIAL_HISTORY + 4), 0);
}
END_TEST

static Suite *dns_rules_suite(void)
{
	Suite *s = suite_create("dns_rules");
	TCase *tc = tcase_create("rules");
	tcase_add_test(tc, rules_rcode_aa_count);
	tcase_add_test(tc, rules_expect_records);
	tcase_add_test(tc, rules_soa_serial_floor);
	suite_add_tcase(s, tc);
	tc = tcase_create("serial");
	tcase_add_test(tc, serial_arithmetic);
	tcase_add_test(tc, serial_lag_tracking);
	tcase_add_test(tc, serial_lag_history_full);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(dns_rules_suite)
