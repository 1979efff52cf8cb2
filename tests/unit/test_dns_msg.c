/* DNS messages without sockets: which replies are accepted (dnsmsg_check) and what is
 * read from them (NSID, CHAOS TXT, SOA, rcode, flags). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../probes/dnsmsg.h"
#include "dns_fake.h"
#include "unit.h"

/* ---------------------------------------------------------------- helpers */

static int check(const ldns_pkt *q, const uint8_t *w, size_t len, unsigned flags, char *why,
                 size_t whylen)
{
	ldns_pkt *r = NULL;
	int rc = dnsmsg_check(q, w, len, flags, &r, why, whylen);
	if (rc == 0)
		ck_assert_ptr_nonnull(r);
	else
		ck_assert_ptr_null(r);
	ldns_pkt_free(r);
	return rc;
}

/* ---------------------------------------------------------------- acceptance */

START_TEST(accepts_matching_reply)
{
	ldns_pkt *q = dns_query("www.example.test.", LDNS_RR_TYPE_A, false);
	size_t len;
	uint8_t *w = dns_reply_wire(q, true, LDNS_RCODE_NOERROR, www_a, &len);
	char why[128] = "";

	ck_assert_int_eq(ldns_pkt_rd(q), 0); /* RD off: authoritative servers only */
	ck_assert_int_eq(check(q, w, len, 0, why, sizeof(why)), 0);
	free(w);
	ldns_pkt_free(q);
}
END_TEST

START_TEST(ignores_wrong_id_qr_opcode)
{
	ldns_pkt *q = dns_query("www.example.test.", LDNS_RR_TYPE_A, false);
	size_t len;
	uint8_t *w = dns_reply_wire(q, true, LDNS_RCODE_NOERROR, www_a, &len);
	char why[128];

	w[0] ^= 0x5a;
	ck_assert_int_eq(check(q, w, len, 0, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "id "));
	w[0] ^= 0x5a;
	w[2] &= (uint8_t)~0x80; /* QR */
	ck_assert_int_eq(check(q, w, len, 0, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "QR"));
	w[2] |= 0x80;
	w[2] |= 4 << 3; /* opcode NOTIFY */
	ck_assert_int_eq(check(q, w, len, 0, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "opcode"));
	ck_assert_int_eq(check(q, w, 11, 0, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "header"));
	free(w);
	ldns_pkt_free(q);
}
END_TEST

START_TEST(ignores_wrong_question)
{
	ldns_pkt *q = dns_query("www.example.test.", LDNS_RR_TYPE_A, false);
	ldns_pkt *other = dns_query("ftp.example.test.", LDNS_RR_TYPE_A, false);
	ldns_pkt *txt = dns_query("www.example.test.", LDNS_RR_TYPE_TXT, false);
	ldns_pkt *upper = dns_query("WWW.Example.TEST.", LDNS_RR_TYPE_A, false);
	size_t len;
	uint8_t *w;
	char why[128];

	ldns_pkt_set_id(other, ldns_pkt_id(q));
	ldns_pkt_set_id(txt, ldns_pkt_id(q));
	ldns_pkt_set_id(upper, ldns_pkt_id(q));
	w = dns_reply_wire(other, true, LDNS_RCODE_NOERROR, NULL, &len);
	ck_assert_int_eq(check(q, w, len, 0, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "question ftp.example.test."));
	free(w);
	w = dns_reply_wire(txt, true, LDNS_RCODE_NOERROR, NULL, &len);
	ck_assert_int_eq(check(q, w, len, 0, why, sizeof(why)), -1);
	free(w);
	/* Case is not identity: a server may echo the name in another case. */
	w = dns_reply_wire(upper, true, LDNS_RCODE_NOERROR, NULL, &len);
	ck_assert_int_eq(check(q, w, len, 0, why, sizeof(why)), 0);
	/* Class: byte 2 of the class field is the last byte of the question. */
	w[len - 1] = LDNS_RR_CLASS_CH;
	ck_assert_int_eq(check(q, w, len, 0, why, sizeof(why)), -1);
	free(w);
	ldns_pkt_free(q);
	ldns_pkt_free(other);
	ldns_pkt_free(txt);
	ldns_pkt_free(upper);
}
END_TEST

START_TEST(question_count)
{
	ldns_pkt *q = dns_query("example.test.", LDNS_RR_TYPE_AXFR, false);
	ldns_pkt *r = ldns_pkt_clone(q);
	uint8_t *w = NULL;
	size_t len;
	char why[128];

	ldns_pkt_set_qr(r, true);
	ldns_rr_list_deep_free(ldns_pkt_question(r));
	ldns_pkt_set_question(r, ldns_rr_list_new());
	ldns_pkt_set_qdcount(r, 0);
	ck_assert_int_eq(ldns_pkt2wire(&w, r, &len), LDNS_STATUS_OK);
	ck_assert_int_eq(check(q, w, len, 0, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "0 questions"));
	/* Later AXFR messages may leave the question out (RFC 5936 2.2.1). */
	ck_assert_int_eq(check(q, w, len, DNSMSG_ALLOW_NO_QUESTION, why, sizeof(why)), 0);
	free(w);
	ldns_pkt_free(r);
	ldns_pkt_free(q);
}
END_TEST

START_TEST(ignores_malformed_records)
{
	ldns_pkt *q = dns_query("www.example.test.", LDNS_RR_TYPE_A, false);
	size_t len;
	uint8_t *w = dns_reply_wire(q, true, LDNS_RCODE_NOERROR, www_a, &len);
	uint8_t *big = malloc(len + 3);
	char why[128];

	/* Trailing bytes after the last record. */
	memcpy(big, w, len);
	memset(big + len, 0, 3);
	ck_assert_int_eq(check(q, big, len + 3, 0, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "after the last record"));
	/* Cut inside the answer's rdata. */
	ck_assert_int_eq(check(q, w, len - 2, 0, why, sizeof(why)), -1);
	/* An answer count the message does not hold. */
	w[7] = 2;
	ck_assert_int_eq(check(q, w, len, 0, why, sizeof(why)), -1);
	w[7] = 1;
	/* An A record whose RDLENGTH (the 2 bytes before its 4 address bytes) says 5. */
	memcpy(big, w, len);
	big[len - 5] = 5;
	big[len] = 0;
	ck_assert_int_eq(check(q, big, len + 1, 0, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "answer record 1"));
	/* ... or 0: an A record without its address. */
	memcpy(big, w, len);
	big[len - 5] = 0;
	ck_assert_int_eq(check(q, big, len - 4, 0, why, sizeof(why)), -1);
	ck_assert_int_eq(check(q, w, len, 0, why, sizeof(why)), 0);
	free(big);
	free(w);
	ldns_pkt_free(q);
}
END_TEST

START_TEST(opt_and_tsig)
{
	ldns_pkt *q = dns_query("www.example.test.", LDNS_RR_TYPE_A, true);
	ldns_pkt *r = ldns_pkt_clone(q);
	uint8_t *w = NULL, *w2;
	size_t len;
	char why[128];
	uint8_t id[DNSMSG_ID_MAX];
	size_t n = 0;

	ldns_pkt_set_qr(r, true);
	ck_assert_int_eq(ldns_pkt2wire(&w, r, &len), LDNS_STATUS_OK);
	ck_assert_int_eq(check(q, w, len, 0, why, sizeof(why)), 0);
	/* The same OPT record twice. */
	size_t optlen = 11 + 4; /* root, type, class, ttl, rdlength, the empty NSID option */
	w2 = malloc(len + optlen);
	memcpy(w2, w, len);
	memcpy(w2 + len, w + len - optlen, optlen);
	w2[11] = 2;
	ck_assert_int_eq(check(q, w2, len + optlen, 0, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "OPT"));
	free(w2);
	free(w);
	/* A TSIG record in a reply to an unsigned query: root owner, type 250, class ANY,
	 * TTL 0, 17 bytes of rdata (algorithm ".", time, fudge, empty MAC, id, error,
	 * no other data). */
	static const uint8_t tsig[] = {
	        0, 0, 250, 0, 255, 0, 0, 0, 0,  0, 17, /* owner, type, class, TTL, RDLENGTH */
	        0, 0, 0,   0, 0,   0, 1, 0, 44,        /* algorithm, time signed, fudge */
	        0, 0, 0,   0, 0,   0, 0, 0,            /* MAC size, id, error, other size */
	};
	ck_assert_int_eq(ldns_pkt2wire(&w, r, &len), LDNS_STATUS_OK);
	w2 = malloc(len + sizeof(tsig));
	memcpy(w2, w, len);
	memcpy(w2 + len, tsig, sizeof(tsig));
	w2[11] = 2;
	ck_assert_int_eq(check(q, w2, len + sizeof(tsig), 0, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "TSIG"));
	free(w2);
	free(w);
	ck_assert_int_eq(dnsmsg_nsid(r, id, sizeof(id), &n), 1);
	ck_assert_uint_eq(n, 0);
	ldns_pkt_free(r);
	ldns_pkt_free(q);
}
END_TEST

/* ---------------------------------------------------------------- reading replies */

START_TEST(reads_nsid_txt_soa)
{
	ldns_pkt *r = ldns_pkt_new();
	static const uint8_t opt[] = {0, 3, 0, 5, 'n', 'o', 'd', 'e', '1'};
	uint8_t id[DNSMSG_ID_MAX];
	uint32_t serial = 0, expire = 0;
	size_t n = 0;
	ldns_rr *rr = NULL;
	ldns_rdf *zone = ldns_dname_new_frm_str("example.test.");
	char buf[64];

	ck_assert_int_eq(dnsmsg_nsid(r, id, sizeof(id), &n), 0);
	ldns_pkt_set_edns_udp_size(r, 1232);
	ldns_pkt_set_edns_data(r, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, sizeof(opt), opt));
	ck_assert_int_eq(dnsmsg_nsid(r, id, sizeof(id), &n), 1);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(memcmp(id, "node1", 5), 0);

	ck_assert_int_eq(dnsmsg_txt(r, id, sizeof(id), &n), 0);
	ldns_rr_new_frm_str(&rr, "hostname.bind. 0 CH TXT \"node2\" \"more\"", 0, NULL, NULL);
	ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
	ck_assert_int_eq(dnsmsg_txt(r, id, sizeof(id), &n), 1);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(memcmp(id, "node2", 5), 0);

	ck_assert_int_eq(dnsmsg_soa(r, zone, &serial, &expire), 0);
	ldns_rr_new_frm_str(&rr, "other.test. 0 IN SOA ns. h. 9 1 2 3 4", 0, NULL, NULL);
	ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
	ck_assert_int_eq(dnsmsg_soa(r, zone, &serial, &expire), 0);
	ldns_rr_new_frm_str(&rr, "Example.TEST. 0 IN SOA ns. h. 2024010101 3600 600 86400 300", 0,
	                    NULL, NULL);
	ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
	ck_assert_int_eq(dnsmsg_soa(r, zone, &serial, &expire), 1);
	ck_assert_uint_eq(serial, 2024010101u);
	ck_assert_uint_eq(expire, 86400);

	dnsmsg_printable((const uint8_t *)"a\"b\x01", 4, buf, sizeof(buf));
	ck_assert_str_eq(buf, "a\\x22b\\x01");
	ldns_rdf_deep_free(zone);
	ldns_pkt_free(r);
}
END_TEST

START_TEST(rcode_names_and_flags)
{
	unsigned rc = 99;
	char buf[32];
	ldns_pkt *r = ldns_pkt_new();

	ck_assert_int_eq(dnsmsg_rcode_parse("NXDOMAIN", &rc), 0);
	ck_assert_uint_eq(rc, 3);
	ck_assert_int_eq(dnsmsg_rcode_parse("refused", &rc), 0);
	ck_assert_uint_eq(rc, 5);
	ck_assert_int_eq(dnsmsg_rcode_parse("16", &rc), 0);
	ck_assert_uint_eq(rc, 16);
	ck_assert_int_eq(dnsmsg_rcode_parse("4096", &rc), -1);
	ck_assert_int_eq(dnsmsg_rcode_parse("NOSUCH", &rc), -1);
	ck_assert_int_eq(dnsmsg_rcode_parse("5x", &rc), -1);
	ck_assert_str_eq(dnsmsg_rcode_name(2, buf, sizeof(buf)), "SERVFAIL");
	ck_assert_str_eq(dnsmsg_rcode_name(16, buf, sizeof(buf)), "RCODE16");
	/* The extended rcode: BADVERS is 16 = EDNS 1, header 0. */
	ldns_pkt_set_edns_extended_rcode(r, 1);
	ck_assert_uint_eq(dnsmsg_rcode(r), 16);
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_aa(r, true);
	ldns_pkt_set_tc(r, true);
	dnsmsg_flags(r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "qr aa tc");
	ck_assert_str_eq(dnsmsg_type_name(LDNS_RR_TYPE_SOA, buf, sizeof(buf)), "SOA");
	ck_assert_str_eq(dnsmsg_type_name(65280, buf, sizeof(buf)), "TYPE65280");
	ldns_pkt_free(r);
}
END_TEST

static Suite *dns_msg_suite(void)
{
	Suite *s = suite_create("dns_msg");
	TCase *tc = tcase_create("accept");
	tcase_add_test(tc, accepts_matching_reply);
	tcase_add_test(tc, ignores_wrong_id_qr_opcode);
	tcase_add_test(tc, ignores_wrong_question);
	tcase_add_test(tc, question_count);
	tcase_add_test(tc, ignores_malformed_records);
	tcase_add_test(tc, opt_and_tsig);
	suite_add_tcase(s, tc);
	tc = tcase_create("read");
	tcase_add_test(tc, reads_nsid_txt_soa);
	tcase_add_test(tc, rcode_names_and_flags);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(dns_msg_suite)
