/* The dns probe in a real event loop against fake DNS servers on loopback (dns_fake.h):
 * its configuration, good replies from the source address, spoofed ones ignored,
 * truncation then TCP, refusal, NSID and CHAOS identity. The real-server cases (Knot)
 * are in tests/integration/test_dns*.sh. */
#include "dns_fake.h"

/* ---------------------------------------------------------------- configuration */

START_TEST(config_errors)
{
	const char *m;

	m = config_error_of("dns", "{\"type\":\"dns\"}");
	ck_assert_str_eq(m, "t: server: required key is missing (a numeric IPv4 or IPv6 address)");
	m = config_error_of("dns", "{\"server\":\"ns1.example\",\"name\":\"a.\"}");
	ck_assert_ptr_nonnull(strstr(m, "expected a numeric IPv4 or IPv6 address"));
	m = config_error_of("dns", "{\"server\":\"127.0.0.1@53\",\"port\":53,\"name\":\"a.\"}");
	ck_assert_ptr_nonnull(strstr(m, "port: the port is given twice"));
	m = config_error_of("dns", "{\"server\":\"::1@5300\",\"name\":\"a..b\"}");
	ck_assert_ptr_nonnull(strstr(m, "name: \"a..b\" is not a valid domain name"));
	m = config_error_of("dns", "{\"server\":\"::1\",\"name\":\"a\",\"qtype\":\"AXFR\"}");
	ck_assert_ptr_nonnull(strstr(m, "use a \"dns-axfr\" check"));
	m = config_error_of("dns", "{\"server\":\"::1\",\"name\":\"a\",\"qtype\":\"BOGUS\"}");
	ck_assert_ptr_nonnull(strstr(m, "qtype: unknown record type \"BOGUS\""));
	m = config_error_of("dns", "{\"server\":\"::1\",\"name\":\"a\",\"transport\":\"quic\"}");
	ck_assert_ptr_nonnull(strstr(m, "transport: expected \"udp\" or \"tcp\""));
	m = config_error_of("dns", "{\"server\":\"::1\",\"name\":\"a\",\"rcode\":\"NOPE\"}");
	ck_assert_ptr_nonnull(strstr(m, "rcode: expected an rcode name"));
	m = config_error_of("dns", "{\"server\":\"::1\",\"name\":\"a\",\"qtype\":\"A\","
	                           "\"expect\":[\"192.0.2.1\",\"192.0.2.300\"]}");
	ck_assert_ptr_nonnull(strstr(m, "expect[1]: \"192.0.2.300\" is not an A rdata"));
	m = config_error_of("dns",
	                    "{\"server\":\"::1\",\"name\":\"a\",\"identity_method\":\"nsid\"}");
	ck_assert_ptr_nonnull(strstr(m, "identity_method: needs \"expect_identity\""));
	m = config_error_of("dns", "{\"server\":\"::1\",\"name\":\"a\",\"expect_identity\":\"n\","
	                           "\"identity_method\":\"whoami\"}");
	ck_assert_ptr_nonnull(strstr(m, "expected \"nsid\", \"hostname.bind\" or \"id.server\""));
	m = config_error_of("dns-serial", "{\"zone\":\"example.test\",\"server\":\"127.0.0.1\"}");
	ck_assert_ptr_nonnull(strstr(m, "primaries: required key is missing"));
	m = config_error_of("dns-serial", "{\"zone\":\"example.test\",\"server\":\"127.0.0.1\","
	                                  "\"primaries\":[\"192.0.2.1@99999\"]}");
	ck_assert_ptr_nonnull(strstr(m, "primaries[0]: expected a numeric"));
	m = config_error_of("dns-serial", "{\"zone\":\"example.test\",\"server\":\"127.0.0.1\","
	                                  "\"primaries\":[\"192.0.2.1\"],\"max_silence\":0}");
	ck_assert_ptr_nonnull(strstr(m, "max_silence: must be greater than 0"));
	m = config_error_of("dns-axfr", "{\"zone\":\"example.test\"}");
	ck_assert_ptr_nonnull(strstr(m, "server: required key is missing"));
	ck_assert_ptr_nonnull(strstr(m, "or \"primaries\""));
	m = config_error_of("dns-axfr", "{\"zone\":\"example.test\","
	                                "\"primaries\":[\"192.0.2.1\",\"ns1.example\"]}");
	ck_assert_ptr_nonnull(strstr(m, "primaries[1]: expected a numeric"));
	m = config_error_of("dns-axfr", "{\"zone\":\"example.test\",\"primaries\":[]}");
	ck_assert_ptr_nonnull(strstr(m, "primaries: expected 1 to 16 addresses"));
	m = config_error_of("dns-axfr",
	                    "{\"zone\":\"example.test\",\"server\":\"::1\",\"max_bytes\":1}");
	ck_assert_ptr_nonnull(strstr(m, "max_bytes: expected integer 512-"));
	ck_assert_ptr_null(
	        config_error_of("dns", "{\"server\":\"2001:db8::1@5353\",\"name\":\"a\"}"));
}
END_TEST

START_TEST(config_normalized)
{
	struct probe *p =
	        mkprobe("dns",
	                "{\"server\":\"127.0.0.1@5300\",\"name\":\"Example.Test\","
	                "\"qtype\":\"mx\",\"rcode\":3,\"expect\":[\"10 mx.example.test.\"],"
	                "\"expect_identity\":\"node1\"}",
	                500);
	json_t *o = p->ops->to_json(p);
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);

	ck_assert_str_eq(s, "{\"aa\":true,\"expect\":[\"10 mx.example.test.\"],"
	                    "\"expect_identity\":\"node1\",\"identity_method\":\"nsid\","
	                    "\"min_answers\":0,\"name\":\"Example.Test.\",\"port\":5300,"
	                    "\"qtype\":\"MX\",\"rcode\":\"NXDOMAIN\",\"server\":\"127.0.0.1\","
	                    "\"transport\":\"udp\"}");
	ck_assert_str_eq(p->label, "dns 127.0.0.1:5300 Example.Test. MX");
	free(s);
	json_decref(o);
	probe_free(p);

	p = mkprobe("dns-serial",
	            "{\"zone\":\"example.test\",\"server\":\"::1\",\"primaries\":[\"192.0.2.1\","
	            "\"2001:db8::1@5300\"],\"max_lag_time\":\"90s\"}",
	            500);
	o = p->ops->to_json(p);
	s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(s,
	                 "{\"max_lag_time\":\"1m30s\",\"port\":53,\"primaries\":[\"192.0.2.1@53\","
	                 "\"2001:db8::1@5300\"],\"server\":\"::1\",\"zone\":\"example.test.\"}");
	free(s);
	json_decref(o);
	probe_free(p);

	/* dns-axfr: the server defaults to the first primary ... */
	p = mkprobe(
	        "dns-axfr",
	        "{\"zone\":\"example.test\",\"primaries\":[\"192.0.2.1@5300\",\"2001:db8::1\"]}",
	        500);
	o = p->ops->to_json(p);
	s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(s, "{\"max_bytes\":16777216,\"min_records\":0,\"port\":5300,"
	                    "\"primaries\":[\"192.0.2.1@5300\",\"2001:db8::1@53\"],"
	                    "\"server\":\"192.0.2.1\",\"zone\":\"example.test.\"}");
	ck_assert_str_eq(p->label, "dns-axfr 192.0.2.1:5300 example.test.");
	free(s);
	json_decref(o);
	probe_free(p);
	/* ... and a server given is kept. */
	p = mkprobe("dns-axfr",
	            "{\"zone\":\"example.test\",\"server\":\"192.0.2.9\",\"port\":5353,"
	            "\"primaries\":[\"192.0.2.1\"]}",
	            500);
	ck_assert_str_eq(p->label, "dns-axfr 192.0.2.9:5353 example.test.");
	probe_free(p);
}
END_TEST

/* ---------------------------------------------------------------- dns */

START_TEST(dns_udp_from_source)
{
	struct event_base *base = event_base_new();
	struct fake f;
	struct outcome o;
	struct probe *p;
	char host[64];

	fake_start(&f, base, FAKE_GOOD);
	p = mkprobe("dns",
	            jsonf("{\"server\":\"127.0.0.1@%u\",\"name\":\"www.example.test\","
	                  "\"qtype\":\"A\",\"expect\":[\"192.0.2.1\"],\"min_answers\":1}",
	                  f.port),
	            1000);
	p->source.has_v4 = true;
	inet_pton(AF_INET, "127.0.0.7", &p->source.v4);
	run(p, base, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	/* The server saw the query come from the source. */
	peer_host(&f, host, sizeof(host));
	ck_assert_str_eq(host, "127.0.0.7");
	ck_assert_str_eq(fact_str(p, "source"), "127.0.0.7");
	ck_assert_str_eq(fact_str(p, "transport"), "udp");
	ck_assert_str_eq(fact_str(p, "rcode"), "NOERROR");
	ck_assert_str_eq(fact_str(p, "flags"), "qr aa");
	ck_assert_int_eq(fact_int(p, "answers"), 1);
	ck_assert_ptr_nonnull(strstr(o.r.detail, "from 127.0.0.7"));
	ck_assert_int_eq(f.udp_queries, 1);
	ck_assert_int_eq(f.tcp_queries, 0);
	probe_free(p);
	fake_stop(&f);
	event_base_free(base);
}
END_TEST

START_TEST(dns_ignores_spoofed)
{
	struct event_base *base = event_base_new();
	struct fake f;
	struct outcome o;
	struct probe *p;

	fake_start(&f, base, FAKE_BAD_THEN_GOOD);
	p = mkprobe("dns",
	            jsonf("{\"server\":\"127.0.0.1@%u\",\"name\":\"www.example.test\","
	                  "\"qtype\":\"A\",\"expect\":[\"192.0.2.1\"]}",
	                  f.port),
	            1000);
	run(p, base, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_int_eq(fact_int(p, "ignored"), 3);
	ck_assert_ptr_nonnull(strstr(fact_str(p, "ignored_last"), "QR bit clear"));

	/* Only bad replies: the probe waits them out and says what it ignored. */
	f.mode = FAKE_BAD_ONLY;
	p->timeout_ms = 200;
	run(p, base, &o);
	ck_assert_int_eq(o.r.reason, PR_TIMEOUT);
	ck_assert_msg(strstr(o.r.detail, "3 ignored") != NULL, "%s", o.r.detail);
	ck_assert_uint_ge(o.r.latency_us, 150000);
	probe_free(p);
	fake_stop(&f);
	event_base_free(base);
}
END_TEST

START_TEST(dns_truncated_then_tcp)
{
	struct event_base *base = event_base_new();
	struct fake f;
	struct outcome o;
	struct probe *p;

	fake_start(&f, base, FAKE_TRUNCATED);
	p = mkprobe("dns",
	            jsonf("{\"server\":\"127.0.0.1@%u\",\"name\":\"www.example.test\","
	                  "\"qtype\":\"A\",\"min_answers\":30,\"expect\":[\"192.0.2.30\"]}",
	                  f.port),
	            1000);
	p->source.has_v4 = true;
	inet_pton(AF_INET, "127.0.0.7", &p->source.v4);
	run(p, base, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_str_eq(fact_str(p, "transport"), "udp, truncated, then tcp");
	ck_assert_int_eq(f.udp_queries, 1);
	ck_assert_int_eq(f.tcp_queries, 1);
	char host[64];
	peer_host(&f, host, sizeof(host)); /* the TCP connection's peer */
	ck_assert_str_eq(host, "127.0.0.7");
	probe_free(p);
	fake_stop(&f);
	event_base_free(base);
}
END_TEST

START_TEST(dns_tcp_and_refused)
{
	struct event_base *base = event_base_new();
	struct fake f;
	struct outcome o;
	struct probe *p;
	unsigned port;

	fake_start(&f, base, FAKE_GOOD);
	p = mkprobe("dns",
	            jsonf("{\"server\":\"127.0.0.1@%u\",\"name\":\"www.example.test\","
	                  "\"qtype\":\"A\",\"transport\":\"tcp\"}",
	                  f.port),
	            1000);
	run(p, base, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_str_eq(fact_str(p, "transport"), "tcp");
	ck_assert_int_eq(f.udp_queries, 0);
	ck_assert_int_eq(f.tcp_queries, 1);
	probe_free(p);
	port = f.port;
	fake_stop(&f);

	/* Nothing listens any more: refused at once, over UDP (ICMP) and TCP (RST). */
	p = mkprobe("dns", jsonf("{\"server\":\"127.0.0.1@%u\",\"name\":\"a\"}", port), 1000);
	run(p, base, &o);
	ck_assert_msg(o.r.reason == PR_REFUSED, "%s", o.r.detail);
	ck_assert_ptr_nonnull(strstr(o.r.detail, "port unreachable"));
	ck_assert_uint_lt(o.r.latency_us, 500000);
	probe_free(p);
	p = mkprobe(
	        "dns",
	        jsonf("{\"server\":\"127.0.0.1@%u\",\"name\":\"a\",\"transport\":\"tcp\"}", port),
	        1000);
	run(p, base, &o);
	ck_assert_msg(o.r.reason == PR_REFUSED, "%s", o.r.detail);
	probe_free(p);
	event_base_free(base);
}
END_TEST

/* Only an AXFR stream may leave the question out of its later messages: the reply to an
 * ordinary query over TCP must echo it, even when it is not the first message read. */
START_TEST(dns_tcp_reply_without_question)
{
	struct event_base *base = event_base_new();
	struct fake f;
	struct outcome o;
	struct probe *p;

	fake_start(&f, base, FAKE_TCP_NO_QUESTION);
	p = mkprobe("dns",
	            jsonf("{\"server\":\"127.0.0.1@%u\",\"name\":\"www.example.test\","
	                  "\"qtype\":\"A\",\"transport\":\"tcp\"}",
	                  f.port),
	            300);
	run(p, base, &o);
	ck_assert_msg(o.r.reason == PR_TIMEOUT, "%s", o.r.detail);
	ck_assert_int_eq(f.tcp_queries, 1);
	ck_assert_int_eq(fact_int(p, "ignored"), 2);
	ck_assert_str_eq(fact_str(p, "ignored_last"), "0 questions, expected 1");
	probe_free(p);
	fake_stop(&f);
	event_base_free(base);
}
END_TEST

START_TEST(dns_identity)
{
	struct event_base *base = event_base_new();
	struct fake f;
	struct outcome o;
	struct probe *p;

	fake_start(&f, base, FAKE_NSID);
	p = mkprobe("dns",
	            jsonf("{\"server\":\"127.0.0.1@%u\",\"name\":\"www.example.test\","
	                  "\"qtype\":\"A\",\"expect_identity\":\"node1\"}",
	                  f.port),
	            1000);
	run(p, base, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_str_eq(fact_str(p, "identity"), "node1");
	probe_free(p);
	p = mkprobe("dns",
	            jsonf("{\"server\":\"127.0.0.1@%u\",\"name\":\"www.example.test\","
	                  "\"qtype\":\"A\",\"expect_identity\":\"node2\"}",
	                  f.port),
	            1000);
	run(p, base, &o);
	ck_assert_int_eq(o.r.reason, PR_BAD_IDENTITY);
	ck_assert_msg(strstr(o.r.detail, "nsid \"node1\", expected \"node2\"") != NULL, "%s",
	              o.r.detail);
	/* A server that sends no NSID. */
	f.mode = FAKE_GOOD;
	run(p, base, &o);
	ck_assert_int_eq(o.r.reason, PR_BAD_IDENTITY);
	ck_assert_ptr_nonnull(strstr(o.r.detail, "no NSID in the reply"));
	probe_free(p);

	/* CHAOS TXT hostname.bind, asked in parallel with the SOA query. */
	f.mode = FAKE_SOA;
	f.serial = 7;
	p = mkprobe("dns",
	            jsonf("{\"server\":\"127.0.0.1@%u\",\"name\":\"example.test\","
	                  "\"expect_identity\":\"node1\",\"identity_method\":\"hostname.bind\","
	                  "\"expect\":[\"7\"]}",
	                  f.port),
	            1000);
	run(p, base, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_int_eq(fact_int(p, "serial"), 7);
	ck_assert_int_eq(f.udp_queries, 5);
	probe_free(p);
	fake_stop(&f);
	event_base_free(base);
}
END_TEST

static Suite *dns_probe_suite(void)
{
	Suite *s = suite_create("dns_probe");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, config_errors);
	tcase_add_test(tc, config_normalized);
	suite_add_tcase(s, tc);
	tc = tcase_create("dns");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, dns_udp_from_source);
	tcase_add_test(tc, dns_ignores_spoofed);
	tcase_add_test(tc, dns_truncated_then_tcp);
	tcase_add_test(tc, dns_tcp_and_refused);
	tcase_add_test(tc, dns_tcp_reply_without_question);
	tcase_add_test(tc, dns_identity);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(dns_probe_suite)
