/* The http probe against a tiny HTTP server in the test's own event loop (tcp_fake.c),
 * on what it asks and judges: the status rules, the body rules, a body larger than
 * max_body, and the method, Host and connect_to. The connection itself is in
 * test_http.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_fake.h"
#include "testlib.h"

START_TEST(test_bad_status)
{
	struct tcp_fake s;
	struct tl_outcome o;

	ck_assert(tcp_fake_start(&s, tl_base, "127.0.0.1", TCP_FAKE_HTTP));
	tcp_fake_respond(&s, "500 Internal Server Error", "db down\n", 8);
	struct probe *p = tl_probe("http", 0, "{\"url\": \"http://127.0.0.1:%u/\"}", s.port);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_BAD_STATUS);
	ck_assert_int_eq(o.r.status, PROBE_FAIL);
	ck_assert_msg(strstr(o.r.detail, "HTTP 500 from 127.0.0.1:") == o.r.detail, "%s",
	              o.r.detail);
	ck_assert_msg(strstr(o.r.detail, ", expected 200-399: \"db down\\n\"") != NULL, "%s",
	              o.r.detail);
	ck_assert_int_eq(tl_fact_int(p, "status"), 500);
	probe_free(p);

	/* An explicit list: 500 is what this endpoint is expected to say. */
	p = tl_probe("http", 0,
	             "{\"url\": \"http://127.0.0.1:%u/\", \"expect_status\": [204, \"500-503\"]}",
	             s.port);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	probe_free(p);
	tcp_fake_respond(&s, "200 OK", "ok", 2);
	p = tl_probe("http", 0,
	             "{\"url\": \"http://127.0.0.1:%u/\", \"expect_status\": [204, \"500-503\"]}",
	             s.port);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_BAD_STATUS);
	ck_assert_msg(strstr(o.r.detail, "expected 204, 500-503") != NULL, "%s", o.r.detail);
	probe_free(p);
	tcp_fake_stop(&s);
}
END_TEST

START_TEST(test_body_rules)
{
	struct tcp_fake s;
	struct tl_outcome o;

	ck_assert(tcp_fake_start(&s, tl_base, "127.0.0.1", TCP_FAKE_HTTP));
	tcp_fake_respond(&s, "200 OK", "serial 2024010101\nnode n1\n", 26);
	struct probe *p = tl_probe(
	        "http", 0, "{\"url\": \"http://127.0.0.1:%u/\", \"expect_body\": \"n2\"}", s.port);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_BODY_MISMATCH);
	ck_assert_msg(strstr(o.r.detail,
	                     "no \"n2\" in 26 bytes: \"serial 2024010101\\nnode n1\\n\"") != NULL,
	              "%s", o.r.detail);
	probe_free(p);

	p = tl_probe("http", 0,
	             "{\"url\": \"http://127.0.0.1:%u/\", \"expect_body_regex\": "
	             "\"^serial [0-9]{10}\\nnode n[0-9]+\\n$\"}",
	             s.port);
	tl_run_settled(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_msg(strstr(o.r.detail, "regex matched") != NULL, "%s", o.r.detail);
	probe_free(p);

	p = tl_probe("http", 0,
	             "{\"url\": \"http://127.0.0.1:%u/\", \"expect_body_regex\": \"node (n2|n3)\"}",
	             s.port);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_BODY_MISMATCH);
	ck_assert_msg(strstr(o.r.detail, "does not match /node (n2|n3)/ in 26 bytes") != NULL, "%s",
	              o.r.detail);
	probe_free(p);
	tcp_fake_stop(&s);
}
END_TEST

/* A 4 MiB body: the probe reads max_body bytes, stops, and judges what it read. */
START_TEST(test_max_body)
{
	struct tcp_fake s;
	struct tl_outcome o;
	size_t big = 4 << 20;
	char *body = malloc(big);

	ck_assert(tcp_fake_start(&s, tl_base, "127.0.0.1", TCP_FAKE_HTTP));
	memset(body, 'a', big);
	memcpy(body, "BEGIN", 5);
	memcpy(body + big - 3, "END", 3);
	tcp_fake_respond(&s, "200 OK", body, big);
	free(body);

	struct probe *p = tl_probe("http", 0,
	                           "{\"url\": \"http://127.0.0.1:%u/\", \"max_body\": 1000, "
	                           "\"expect_body_regex\": \"^BEGINa+$\"}",
	                           s.port);
	tl_run_settled(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_int_eq(tl_fact_int(p, "bytes"), 1000);
	ck_assert(json_is_true(json_object_get(p->facts, "max_body_reached")));
	probe_free(p);

	/* The end of the body lies past max_body: not found, and the detail says why. */
	p = tl_probe("http", 0, "{\"url\": \"http://127.0.0.1:%u/\", \"expect_body\": \"END\"}",
	             s.port);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_BODY_MISMATCH);
	ck_assert_msg(strstr(o.r.detail, "no \"END\" in 65536 bytes (max_body)") != NULL, "%s",
	              o.r.detail);
	ck_assert_int_eq(tl_fact_int(p, "bytes"), 65536);
	probe_free(p);

	/* Found early: the rest is never waited for. */
	p = tl_probe("http", 0,
	             "{\"url\": \"http://127.0.0.1:%u/\", \"expect_body\": \"BEGIN\", "
	             "\"max_body\": 16777216}",
	             s.port);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	ck_assert_int_lt(tl_fact_int(p, "bytes"), (json_int_t)big);
	probe_free(p);
	tcp_fake_stop(&s);
}
END_TEST

START_TEST(test_head_host_connect_to)
{
	struct tcp_fake s;
	struct tl_outcome o;
	char want[160];

	ck_assert(tcp_fake_start(&s, tl_base, "127.0.0.1", TCP_FAKE_HTTP));
	s.resp = strdup("HTTP/1.1 204 No Content\r\n\r\n");
	s.resplen = strlen(s.resp);
	struct probe *p = tl_probe("http", 0,
	                           "{\"url\": \"http://127.0.0.1:%u/h\", \"method\": \"HEAD\", "
	                           "\"host\": \"dns.example\"}",
	                           s.port);
	tl_run_settled(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_msg(strncmp(s.got, "HEAD /h HTTP/1.1\r\n", 18) == 0, "%s", s.got);
	ck_assert_msg(strstr(s.got, "\r\nHost: dns.example\r\n") != NULL, "%s", s.got);
	probe_free(p);

	/* The URL names the service; connect_to is this node's own address. */
	p = tl_probe("http", 0,
	             "{\"url\": \"http://www.example:%u/x\", \"connect_to\": \"127.0.0.1\"}",
	             s.port);
	snprintf(want, sizeof(want), "http http://www.example:%u/x via 127.0.0.1", s.port);
	ck_assert_str_eq(p->label, want);
	tl_run_settled(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	snprintf(want, sizeof(want), "\r\nHost: www.example:%u\r\n", s.port);
	ck_assert_msg(strstr(s.got, want) != NULL, "%s", s.got);
	probe_free(p);

	/* connect_to with a port: any port in the URL goes there. */
	p = tl_probe("http", 0,
	             "{\"url\": \"http://www.example/x\", \"connect_to\": \"127.0.0.1:%u\"}",
	             s.port);
	tl_run_settled(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_msg(strstr(s.got, "\r\nHost: www.example\r\n") != NULL, "%s", s.got);
	probe_free(p);
	tcp_fake_stop(&s);
}
END_TEST

static Suite *http_body_suite(void)
{
	Suite *s = suite_create("http_body");
	TCase *tc = tcase_create("body");
	tcase_add_checked_fixture(tc, tl_base_setup, tl_base_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_bad_status);
	tcase_add_test(tc, test_body_rules);
	tcase_add_test(tc, test_max_body);
	tcase_add_test(tc, test_head_host_connect_to);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(http_body_suite)
