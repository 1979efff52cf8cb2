/* The dns probe in a real event loop against fake DNS servers on loopback (dns_fake.h):
 * its configuration, good replies from the source address, spoofed ones ignored,
 * truncation then TCP, refusal, NSID and CHAOS identity. The real-server cases (Knot)
 * are in tests/integration/test_dns*.sh. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "dns_fake.h"
#include "testlib.h"

/* ---------------------------------------------------------------- configuration */

static const struct tl_probe_case config_cases[] = {
        {"dns", "{\"type\":\"dns\"}",
         "test: server: required key is missing (a numeric IPv4 or IPv6 address)", TL_EXACT},
        {"dns", "{\"server\":\"ns1.example\",\"name\":\"a.\"}",
         "expected a numeric IPv4 or IPv6 address", TL_CONTAINS},
        {"dns", "{\"server\":\"127.0.0.1@53\",\"port\":53,\"name\":\"a.\"}",
         "port: the port is given twice", TL_CONTAINS},
        {"dns", "{\"server\":\"::1@5300\",\"name\":\"a..b\"}",
         "name: \"a..b\" is not a valid domain name", TL_CONTAINS},
        {"dns", "{\"server\":\"::1\",\"name\":\"a\",\"qtype\":\"AXFR\"}",
         "use a \"dns-axfr\" check", TL_CONTAINS},
        {"dns", "{\"server\":\"::1\",\"name\":\"a\",\"qtype\":\"BOGUS\"}",
         "qtype: unknown record type \"BOGUS\"", TL_CONTAINS},
        {"dns", "{\"server\":\"::1\",\"name\":\"a\",\"transport\":\"quic\"}",
         "transport: expected \"udp\" or \"tcp\"", TL_CONTAINS},
        {"dns", "{\"server\":\"::1\",\"name\":\"a\",\"rcode\":\"NOPE\"}",
         "rcode: expected an rcode name", TL_CONTAINS},
        {"dns",
         "{\"server\":\"::1\",\"name\":\"a\",\"qtype\":\"A\","
         "\"expect\":[\"192.0.2.1\",\"192.0.2.300\"]}",
         "expect[1]: \"192.0.2.300\" is not an A rdata", TL_CONTAINS},
        {"dns", "{\"server\":\"::1\",\"name\":\"a\",\"identity_method\":\"nsid\"}",
         "identity_method: needs \"expect_identity\"", TL_CONTAINS},
        {"dns",
         "{\"server\":\"::1\",\"name\":\"a\",\"expect_identity\":\"n\","
         "\"identity_method\":\"whoami\"}",
         "expected \"nsid\", \"hostname.bind\" or \"id.server\"", TL_CONTAINS},
        {"dns-serial", "{\"zone\":\"example.test\",\"server\":\"127.0.0.1\"}",
         "primaries: required key is missing", TL_CONTAINS},
        {"dns-serial",
         "{\"zone\":\"example.test\",\"server\":\"127.0.0.1\","
         "\"primaries\":[\"192.0.2.1@99999\"]}",
         "primaries[0]: expected a numeric", TL_CONTAINS},
        {"dns-serial",
         "{\"zone\":\"example.test\",\"server\":\"127.0.0.1\","
         "\"primaries\":[\"192.0.2.1\"],\"max_silence\":0}",
         "max_silence: must be greater than 0", TL_CONTAINS},
        {"dns-axfr", "{\"zone\":\"example.test\"}", "server: required key is missing", TL_CONTAINS},
        {"dns-axfr", "{\"zone\":\"example.test\"}", "or \"primaries\"", TL_CONTAINS},
        {"dns-axfr",
         "{\"zone\":\"example.test\","
         "\"primaries\":[\"192.0.2.1\",\"ns1.example\"]}",
         "primaries[1]: expected a numeric", TL_CONTAINS},
        {"dns-axfr", "{\"zone\":\"example.test\",\"primaries\":[]}",
         "primaries: expected 1 to 16 addresses", TL_CONTAINS},
        {"dns-axfr", "{\"zone\":\"example.test\",\"server\":\"::1\",\"max_bytes\":1}",
         "max_bytes: expected integer 512-", TL_CONTAINS},
        {"dns", "{\"server\":\"2001:db8::1@5353\",\"name\":\"a\"}", NULL, TL_EXACT},
};

START_TEST(config_errors)
{
	tl_check_probe_case(&config_cases[_i]);
}
END_TEST

/* A probe's normalized form, what "healthd check" prints (keys sorted), and its label;
 * NULL: not compared. */
static const struct {
	const char *type, *json, *normalized, *label;
} normal_cases[] = {
        {"dns",
         "{\"server\":\"127.0.0.1@5300\",\"name\":\"Example.Test\",\"qtype\":\"mx\",\"rcode\":3,"
         "\"expect\":[\"10 mx.example.test.\"],\"expect_identity\":\"node1\"}",
         "{\"aa\":true,\"expect\":[\"10 mx.example.test.\"],"
         "\"expect_identity\":\"node1\",\"identity_method\":\"nsid\","
         "\"min_answers\":0,\"name\":\"Example.Test.\",\"port\":5300,"
         "\"qtype\":\"MX\",\"rcode\":\"NXDOMAIN\",\"server\":\"127.0.0.1\","
         "\"transport\":\"udp\"}",
         "dns 127.0.0.1:5300 Example.Test. MX"},
        {"dns-serial",
         "{\"zone\":\"example.test\",\"server\":\"::1\",\"primaries\":[\"192.0.2.1\","
         "\"2001:db8::1@5300\"],\"max_lag_time\":\"90s\"}",
         "{\"max_lag_time\":\"1m30s\",\"port\":53,\"primaries\":[\"192.0.2.1@53\","
         "\"2001:db8::1@5300\"],\"server\":\"::1\",\"zone\":\"example.test.\"}",
         NULL},
        /* dns-axfr: the server defaults to the first primary ... */
        {"dns-axfr",
         "{\"zone\":\"example.test\",\"primaries\":[\"192.0.2.1@5300\",\"2001:db8::1\"]}",
         "{\"max_bytes\":16777216,\"min_records\":0,\"port\":5300,"
         "\"primaries\":[\"192.0.2.1@5300\",\"2001:db8::1@53\"],"
         "\"server\":\"192.0.2.1\",\"zone\":\"example.test.\"}",
         "dns-axfr 192.0.2.1:5300 example.test."},
        /* ... and a server given is kept. */
        {"dns-axfr",
         "{\"zone\":\"example.test\",\"server\":\"192.0.2.9\",\"port\":5353,"
         "\"primaries\":[\"192.0.2.1\"]}",
         NULL, "dns-axfr 192.0.2.9:5353 example.test."},
};

START_TEST(config_normalized)
{
	struct probe *p = tl_probe(normal_cases[_i].type, 500, "%s", normal_cases[_i].json);

	if (normal_cases[_i].normalized != NULL) {
		json_t *o = p->ops->to_json(p);
		char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
		ck_assert_str_eq(s, normal_cases[_i].normalized);
		free(s);
		json_decref(o);
	}
	if (normal_cases[_i].label != NULL)
		ck_assert_str_eq(p->label, normal_cases[_i].label);
	probe_free(p);
}
END_TEST

/* ---------------------------------------------------------------- dns */

/* A dns probe asking f for www.example.test A, with the extra keys. */
static struct probe *www_probe(const struct fake *f, uint32_t timeout_ms, const char *extra)
{
	return tl_probe("dns", timeout_ms,
	                "{\"server\":\"127.0.0.1@%u\",\"name\":\"www.example.test\","
	                "\"qtype\":\"A\"%s}",
	                f->port, extra);
}

/* f started in mode, and one run of www_probe(f, timeout_ms, extra). */
static struct probe *www_run(struct fake *f, enum fake_mode mode, uint32_t timeout_ms,
                             const char *extra, struct tl_outcome *o)
{
	fake_start(f, tl_base, mode);
	struct probe *p = www_probe(f, timeout_ms, extra);
	tl_run(tl_base, p, o);
	return p;
}

START_TEST(dns_udp_from_source)
{
	struct fake f;
	struct tl_outcome o;
	struct probe *p;
	char host[64];

	fake_start(&f, tl_base, FAKE_GOOD);
	p = www_probe(&f, 1000, ",\"expect\":[\"192.0.2.1\"],\"min_answers\":1");
	p->source.has_v4 = true;
	inet_pton(AF_INET, "127.0.0.7", &p->source.v4);
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	/* The server saw the query come from the source. */
	fake_peer(&f, host, sizeof(host));
	ck_assert_str_eq(host, "127.0.0.7");
	ck_assert_str_eq(tl_fact_str(p, "source"), "127.0.0.7");
	ck_assert_str_eq(tl_fact_str(p, "transport"), "udp");
	ck_assert_str_eq(tl_fact_str(p, "rcode"), "NOERROR");
	ck_assert_str_eq(tl_fact_str(p, "flags"), "qr aa");
	ck_assert_int_eq(tl_fact_int(p, "answers"), 1);
	ck_assert_ptr_nonnull(strstr(o.r.detail, "from 127.0.0.7"));
	ck_assert_int_eq(f.udp_queries, 1);
	ck_assert_int_eq(f.tcp_queries, 0);
	probe_free(p);
	fake_stop(&f);
}
END_TEST

START_TEST(dns_ignores_spoofed)
{
	struct fake f;
	struct tl_outcome o;
	struct probe *p;

	p = www_run(&f, FAKE_BAD_THEN_GOOD, 1000, ",\"expect\":[\"192.0.2.1\"]", &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_int_eq(tl_fact_int(p, "ignored"), 3);
	ck_assert_ptr_nonnull(strstr(tl_fact_str(p, "ignored_last"), "QR bit clear"));

	/* Only bad replies: the probe waits them out and says what it ignored. */
	f.mode = FAKE_BAD_ONLY;
	p->timeout_ms = 200;
	tl_run(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_TIMEOUT);
	ck_assert_msg(strstr(o.r.detail, "3 ignored") != NULL, "%s", o.r.detail);
	ck_assert_uint_ge(o.r.latency_us, 150000);
	probe_free(p);
	fake_stop(&f);
}
END_TEST

START_TEST(dns_truncated_then_tcp)
{
	struct fake f;
	struct tl_outcome o;
	struct probe *p;

	fake_start(&f, tl_base, FAKE_TRUNCATED);
	p = www_probe(&f, 1000, ",\"min_answers\":30,\"expect\":[\"192.0.2.30\"]");
	p->source.has_v4 = true;
	inet_pton(AF_INET, "127.0.0.7", &p->source.v4);
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_str_eq(tl_fact_str(p, "transport"), "udp, truncated, then tcp");
	ck_assert_int_eq(f.udp_queries, 1);
	ck_assert_int_eq(f.tcp_queries, 1);
	char host[64];
	fake_peer(&f, host, sizeof(host)); /* the TCP connection's peer */
	ck_assert_str_eq(host, "127.0.0.7");
	probe_free(p);
	fake_stop(&f);
}
END_TEST

START_TEST(dns_tcp_and_refused)
{
	struct fake f;
	struct tl_outcome o;
	struct probe *p;
	unsigned port;

	p = www_run(&f, FAKE_GOOD, 1000, ",\"transport\":\"tcp\"", &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_str_eq(tl_fact_str(p, "transport"), "tcp");
	ck_assert_int_eq(f.udp_queries, 0);
	ck_assert_int_eq(f.tcp_queries, 1);
	probe_free(p);
	port = f.port;
	fake_stop(&f);

	/* Nothing listens any more: refused at once, over UDP (ICMP) and TCP (RST). */
	p = tl_probe("dns", 1000, "{\"server\":\"127.0.0.1@%u\",\"name\":\"a\"}", port);
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_REFUSED, "%s", o.r.detail);
	ck_assert_ptr_nonnull(strstr(o.r.detail, "port unreachable"));
	ck_assert_uint_lt(o.r.latency_us, 500000);
	probe_free(p);
	p = tl_probe("dns", 1000,
	             "{\"server\":\"127.0.0.1@%u\",\"name\":\"a\",\"transport\":\"tcp\"}", port);
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_REFUSED, "%s", o.r.detail);
	probe_free(p);
}
END_TEST

/* Only an AXFR stream may leave the question out of its later messages: the reply to an
 * ordinary query over TCP must echo it, even when it is not the first message read. */
START_TEST(dns_tcp_reply_without_question)
{
	struct fake f;
	struct tl_outcome o;
	struct probe *p;

	p = www_run(&f, FAKE_TCP_NO_QUESTION, 300, ",\"transport\":\"tcp\"", &o);
	ck_assert_msg(o.r.reason == PR_TIMEOUT, "%s", o.r.detail);
	ck_assert_int_eq(f.tcp_queries, 1);
	ck_assert_int_eq(tl_fact_int(p, "ignored"), 2);
	ck_assert_str_eq(tl_fact_str(p, "ignored_last"), "0 questions, expected 1");
	probe_free(p);
	fake_stop(&f);
}
END_TEST

START_TEST(dns_identity)
{
	struct fake f;
	struct tl_outcome o;
	struct probe *p;

	p = www_run(&f, FAKE_NSID, 1000, ",\"expect_identity\":\"node1\"", &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_str_eq(tl_fact_str(p, "identity"), "node1");
	probe_free(p);
	p = www_probe(&f, 1000, ",\"expect_identity\":\"node2\"");
	tl_run(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_BAD_IDENTITY);
	ck_assert_msg(strstr(o.r.detail, "nsid \"node1\", expected \"node2\"") != NULL, "%s",
	              o.r.detail);
	/* A server that sends no NSID. */
	f.mode = FAKE_GOOD;
	tl_run(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_BAD_IDENTITY);
	ck_assert_ptr_nonnull(strstr(o.r.detail, "no NSID in the reply"));
	probe_free(p);

	/* CHAOS TXT hostname.bind, asked in parallel with the SOA query. */
	f.mode = FAKE_SOA;
	f.serial = 7;
	p = tl_probe("dns", 1000,
	             "{\"server\":\"127.0.0.1@%u\",\"name\":\"example.test\","
	             "\"expect_identity\":\"node1\",\"identity_method\":\"hostname.bind\","
	             "\"expect\":[\"7\"]}",
	             f.port);
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_int_eq(tl_fact_int(p, "serial"), 7);
	ck_assert_int_eq(f.udp_queries, 5);
	probe_free(p);
	fake_stop(&f);
}
END_TEST

/* A probe runs again and again with one exchange (dnsq_restart): every run asks under a
 * new id, a reply the same as the last one but for the id is still checked against this
 * run's id, and a changed answer is read anew. */
START_TEST(dns_runs_again)
{
	struct fake f;
	struct tl_outcome o;
	struct probe *p;
	char first[sizeof(o.r.detail)];
	unsigned ids[3];

	fake_start(&f, tl_base, FAKE_SOA);
	f.serial = 7;
	p = tl_probe("dns", 1000, "{\"server\":\"127.0.0.1@%u\",\"name\":\"example.test\"}",
	             f.port);
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_int_eq(tl_fact_int(p, "serial"), 7);
	snprintf(first, sizeof(first), "%s", o.r.detail);
	ids[0] = f.last_id;
	/* The same answer: the same verdict and facts. */
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_str_eq(o.r.detail, first);
	ck_assert_int_eq(tl_fact_int(p, "serial"), 7);
	ck_assert_str_eq(tl_fact_str(p, "flags"), "qr aa");
	ids[1] = f.last_id;
	/* A new serial is seen. */
	f.serial = 8;
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_int_eq(tl_fact_int(p, "serial"), 8);
	ids[2] = f.last_id;
	ck_assert_int_eq(f.udp_queries, 3);
	/* 1 in 65536 that two ids are equal by chance; three in a row cannot be. */
	ck_assert(ids[0] != ids[1] || ids[1] != ids[2]);
	/* An owner that reads no facts gets the same result without them. */
	p->no_facts = true;
	f.serial = 7;
	tl_run(tl_base, p, &o);
	ck_assert_str_eq(o.r.detail, first);
	ck_assert_ptr_null(p->facts);
	probe_free(p);

	/* Replies spoiled from the last good one (a wrong id among them) are still
	 * ignored on the second run. */
	f.mode = FAKE_BAD_THEN_GOOD;
	p = www_probe(&f, 1000, "");
	for (int i = 0; i < 2; i++) {
		tl_run(tl_base, p, &o);
		ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
		ck_assert_int_eq(tl_fact_int(p, "ignored"), 3);
	}
	probe_free(p);
	fake_stop(&f);
}
END_TEST

static Suite *dns_probe_suite(void)
{
	Suite *s = suite_create("dns_probe");
	TCase *tc = tcase_create("config");
	tcase_add_loop_test(tc, config_errors, 0, TL_LEN(config_cases));
	tcase_add_loop_test(tc, config_normalized, 0, TL_LEN(normal_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("dns");
	tcase_add_checked_fixture(tc, tl_base_setup, tl_base_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, dns_udp_from_source);
	tcase_add_test(tc, dns_ignores_spoofed);
	tcase_add_test(tc, dns_truncated_then_tcp);
	tcase_add_test(tc, dns_tcp_and_refused);
	tcase_add_test(tc, dns_tcp_reply_without_question);
	tcase_add_test(tc, dns_identity);
	tcase_add_test(tc, dns_runs_again);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(dns_probe_suite)
