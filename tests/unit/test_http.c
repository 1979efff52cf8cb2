/* The http probe against a tiny HTTP server in the test's own event loop (tcp_fake.c):
 * real sockets on loopback, real libcurl transfers driven by that loop (curlev.c). Here
 * the connection: a good answer and what the request carried, refused, a server that
 * never answers, the source address as the server sees it, IPv6, and two transfers at
 * once. What is asked and judged is in test_http_body.c; HTTPS in test_http_tls.c and
 * tests/integration/test_http.sh; the configuration in test_http_cfg.c. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../probes/curlev.h"
#include "tcp_fake.h"
#include "testlib.h"

START_TEST(test_get_ok)
{
	struct tcp_fake s;
	struct tl_outcome o;
	char want[160];

	ck_assert(tcp_fake_start(&s, tl_base, "127.0.0.1", TCP_FAKE_HTTP));
	tcp_fake_respond(&s, "200 OK", "status: healthy\n", 16);
	struct probe *p = tl_probe("http", 0,
	                           "{\"url\": \"http://127.0.0.1:%u/health\", \"expect_body\": "
	                           "\"healthy\", \"headers\": {\"X-Probe\": \"yes\"}}",
	                           s.port);
	snprintf(want, sizeof(want), "http http://127.0.0.1:%u/health", s.port);
	ck_assert_str_eq(p->label, want);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	snprintf(want, sizeof(want), "HTTP 200 from 127.0.0.1:%u from 127.0.0.1, body matched",
	         s.port);
	ck_assert_str_eq(o.r.detail, want);
	ck_assert_msg(strncmp(s.got, "GET /health HTTP/1.1\r\n", 22) == 0, "%s", s.got);
	ck_assert_msg(strstr(s.got, "\r\nX-Probe: yes\r\n") != NULL, "%s", s.got);
	ck_assert_msg(strstr(s.got, "\r\nUser-Agent: healthd\r\n") != NULL, "%s", s.got);
	ck_assert_int_eq(tl_fact_int(p, "status"), 200);
	ck_assert_str_eq(tl_fact_str(p, "http_version"), "1.1");
	ck_assert_str_eq(tl_fact_str(p, "local"), "127.0.0.1");
	snprintf(want, sizeof(want), "127.0.0.1:%u", s.port);
	ck_assert_str_eq(tl_fact_str(p, "remote"), want);

	/* A second run of the same probe opens a new connection and works the same. */
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	ck_assert_int_eq(s.accepted, 2);
	probe_free(p);
	tcp_fake_stop(&s);
}
END_TEST

START_TEST(test_refused)
{
	struct tl_outcome o;

	tcp_fake_run_refused(tl_base, "http", "{\"url\": \"http://127.0.0.1:%u/\"}", &o);
	ck_assert_int_eq(o.r.reason, PR_REFUSED);
	ck_assert_msg(strstr(o.r.detail, "from any: Connection refused") != NULL, "%s", o.r.detail);
}
END_TEST

START_TEST(test_timeout)
{
	struct tcp_fake s;
	struct tl_outcome o;

	ck_assert(tcp_fake_start(&s, tl_base, "127.0.0.1", TCP_FAKE_HTTP)); /* never answers */
	struct probe *p = tl_probe("http", 0, "{\"url\": \"http://127.0.0.1:%u/\"}", s.port);
	p->timeout_ms = 200;
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_TIMEOUT);
	ck_assert_uint_ge(o.r.latency_us, 190000);
	ck_assert_uint_lt(o.r.latency_us, 1000000);
	ck_assert_str_eq(tl_fact_str(p, "stalled_in"), "response");
	ck_assert_int_eq(s.accepted, 1);
	probe_free(p);
	tcp_fake_stop(&s);
}
END_TEST

START_TEST(test_source)
{
	struct tcp_fake s;
	struct tl_outcome o;
	char want[160];

	ck_assert(tcp_fake_start(&s, tl_base, "127.0.0.1", TCP_FAKE_HTTP));
	tcp_fake_respond(&s, "200 OK", "ok", 2);
	struct probe *p = tl_probe("http", 0, "{\"url\": \"http://127.0.0.1:%u/\"}", s.port);
	p->source.has_v4 = p->source.has_v6 = true;
	inet_pton(AF_INET, "127.0.0.7", &p->source.v4);
	inet_pton(AF_INET6, "2001:db8::7", &p->source.v6); /* not the target's family */
	tl_run_settled(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_str_eq(s.peer, "127.0.0.7"); /* what the server saw */
	snprintf(want, sizeof(want), "HTTP 200 from 127.0.0.1:%u from 127.0.0.7", s.port);
	ck_assert_str_eq(o.r.detail, want);

	/* A source this host does not have fails loudly, as the tcp probe does. */
	inet_pton(AF_INET, "192.0.2.7", &p->source.v4);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_CONNECT);
	snprintf(want, sizeof(want),
	         "connect to 127.0.0.1:%u from 192.0.2.7: Cannot assign requested address", s.port);
	ck_assert_str_eq(o.r.detail, want);
	ck_assert_int_eq(s.accepted, 1);
	probe_free(p);
	tcp_fake_stop(&s);
}
END_TEST

START_TEST(test_ipv6)
{
	struct tcp_fake s;
	struct tl_outcome o;

	if (!tcp_fake_start(&s, tl_base, "::1", TCP_FAKE_HTTP)) {
		return; /* no IPv6 loopback here */
	}
	tcp_fake_respond(&s, "200 OK", "ok", 2);
	struct probe *p = tl_probe("http", 0, "{\"url\": \"http://[::1]:%u/\"}", s.port);
	tl_run_settled(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_str_eq(s.peer, "::1");
	probe_free(p);
	p = tl_probe("http", 0, "{\"url\": \"http://v6.example/\", \"connect_to\": \"[::1]:%u\"}",
	             s.port);
	tl_run_settled(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	probe_free(p);
	tcp_fake_stop(&s);
}
END_TEST

/* Two probes at once share one multi handle. It outlives their transfers (a check runs
 * again soon) and goes away when the last probe holding it lets go of the base. */
START_TEST(test_shared_multi)
{
	struct tcp_fake s1, s2;
	struct tl_outcome o1 = {0}, o2 = {0};

	ck_assert(tcp_fake_start(&s1, tl_base, "127.0.0.1", TCP_FAKE_HTTP));
	ck_assert(tcp_fake_start(&s2, tl_base, "127.0.0.1", TCP_FAKE_HTTP)); /* never answers */
	tcp_fake_respond(&s1, "200 OK", "ok", 2);
	struct probe *p1 = tl_probe("http", 0, "{\"url\": \"http://127.0.0.1:%u/\"}", s1.port);
	struct probe *p2 = tl_probe("http", 0, "{\"url\": \"http://127.0.0.1:%u/\"}", s2.port);
	p2->timeout_ms = 300;
	probe_set_done(p1, tl_on_done, &o1);
	probe_set_done(p2, tl_on_done, &o2);
	ck_assert_uint_eq(curlev_multis(), 0);
	probe_run(p1, tl_base);
	probe_run(p2, tl_base);
	ck_assert_uint_eq(curlev_multis(), 1);
	ck_assert_uint_eq(curlev_transfers(), 2);
	for (int i = 0; i < 1000 && !(o1.done && o2.done); i++)
		event_base_loop(tl_base, EVLOOP_ONCE);
	ck_assert_int_eq(o1.r.reason, PR_OK);
	ck_assert_int_eq(o2.r.reason, PR_TIMEOUT);
	ck_assert_uint_eq(curlev_transfers(), 0);
	ck_assert_uint_eq(curlev_multis(), 1);

	/* Cancelled midway: no report, nothing left behind, and the probe runs again. */
	probe_run(p2, tl_base);
	tl_spin(tl_base, 50);
	ck_assert(p2->running);
	ck_assert_uint_eq(curlev_transfers(), 1);
	probe_cancel(p2);
	probe_cancel(p2);
	ck_assert_uint_eq(curlev_transfers(), 0);
	tl_spin(tl_base, 50);
	ck_assert_int_eq(o2.calls, 1);

	/* A second run of the same probe on the same multi, then the multi goes with the
	 * probes: released (before its base is freed), or freed. */
	o1 = (struct tl_outcome){0};
	probe_run(p1, tl_base);
	for (int i = 0; i < 1000 && !o1.done; i++)
		event_base_loop(tl_base, EVLOOP_ONCE);
	ck_assert_int_eq(o1.r.reason, PR_OK);
	ck_assert_uint_eq(curlev_multis(), 1);
	probe_release(p1);
	ck_assert_uint_eq(curlev_multis(), 1); /* p2 still holds it */
	probe_free(p2);
	ck_assert_uint_eq(curlev_multis(), 0);
	probe_free(p1);
	ck_assert_uint_eq(curlev_multis(), 0);
	tcp_fake_stop(&s1);
	tcp_fake_stop(&s2);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http");
	tcase_add_checked_fixture(tc, tl_base_setup, tl_base_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_get_ok);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_source);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_shared_multi);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(http_suite)
