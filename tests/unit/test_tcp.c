/* The tcp probe against real sockets on loopback, in a real event loop: a listener that
 * accepts, echoes or stays silent, a port that refuses, and the source address as the
 * server sees it (tcp_fake.c). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_fake.h"
#include "testlib.h"

/* A server in mode on 127.0.0.1, and a tcp probe to it with the extra keys. */
static struct probe *start(struct tcp_fake *s, enum tcp_fake_mode mode, const char *extra)
{
	ck_assert(tcp_fake_start(s, tl_base, "127.0.0.1", mode));
	return tl_probe("tcp", 0, "{\"host\": \"127.0.0.1\", \"port\": %u%s}", s->port, extra);
}

static void finish(struct probe *p, struct tcp_fake *s)
{
	probe_free(p);
	tcp_fake_stop(s);
}

START_TEST(test_connect_ok)
{
	struct tcp_fake s;
	struct tl_outcome o;
	char want[128];

	struct probe *p = start(&s, TCP_FAKE_ACCEPT, "");
	snprintf(want, sizeof(want), "tcp 127.0.0.1:%u", s.port);
	ck_assert_str_eq(p->label, want);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	ck_assert_int_eq(o.r.status, PROBE_OK);
	snprintf(want, sizeof(want), "connected to 127.0.0.1:%u from 127.0.0.1", s.port);
	ck_assert_str_eq(o.r.detail, want);
	/* A second run on the same probe works the same. */
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	finish(p, &s);
}
END_TEST

START_TEST(test_refused)
{
	struct tl_outcome o;

	tcp_fake_run_refused(tl_base, "tcp", "{\"host\": \"127.0.0.1\", \"port\": %u}", &o);
	ck_assert_int_eq(o.r.reason, PR_REFUSED);
	ck_assert_int_eq(o.r.status, PROBE_FAIL);
	ck_assert_msg(strstr(o.r.detail, "Connection refused") != NULL, "%s", o.r.detail);
}
END_TEST

START_TEST(test_send_expect)
{
	struct tcp_fake s;
	struct tl_outcome o;

	struct probe *p = start(&s, TCP_FAKE_ECHO,
	                        ", \"send\": \"PING a\\\\tb\\\\x41\\\\\\\\\\\\r\\\\n\", "
	                        "\"expect\": \"PING\"");
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	ck_assert_msg(strstr(o.r.detail, "reply matched") != NULL, "%s", o.r.detail);
	ck_assert_uint_eq(s.gotlen, 12);
	ck_assert(memcmp(s.got, "PING a\tbA\\\r\n", 12) == 0);
	finish(p, &s);
}
END_TEST

START_TEST(test_expect_mismatch)
{
	struct tcp_fake s;
	struct tl_outcome o;

	struct probe *p = start(&s, TCP_FAKE_ECHO_CLOSE,
	                        ", \"send\": \"HELLO\\\\r\\\\n\", \"expect\": \"WORLD\"");
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_EXPECT);
	ck_assert_msg(strstr(o.r.detail, "lacks \"WORLD\": \"HELLO\\r\\n\"") != NULL, "%s",
	              o.r.detail);
	finish(p, &s);
}
END_TEST

START_TEST(test_closed)
{
	struct tcp_fake s;
	struct tl_outcome o;

	struct probe *p = start(&s, TCP_FAKE_CLOSE, ", \"expect\": \"SSH-\"");
	tl_run_settled(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_CLOSED || o.r.reason == PR_RESET, "%d %s", o.r.reason,
	              o.r.detail);
	finish(p, &s);
}
END_TEST

START_TEST(test_timeout)
{
	struct tcp_fake s;
	struct tl_outcome o;

	struct probe *p = start(&s, TCP_FAKE_ACCEPT, ", \"expect\": \"220 \"");
	p->timeout_ms = 200;
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_TIMEOUT);
	ck_assert_uint_ge(o.r.latency_us, 190000);
	ck_assert_uint_lt(o.r.latency_us, 1000000);
	finish(p, &s);
}
END_TEST

START_TEST(test_source_bound)
{
	struct tcp_fake s;
	struct tl_outcome o;
	char want[128];

	struct probe *p = start(&s, TCP_FAKE_ACCEPT, "");
	p->source.has_v4 = true;
	inet_pton(AF_INET, "127.0.0.7", &p->source.v4);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	snprintf(want, sizeof(want), "connected to 127.0.0.1:%u from 127.0.0.7", s.port);
	ck_assert_str_eq(o.r.detail, want);
	/* What the server saw, not what the probe believes. */
	ck_assert_int_eq(s.accepted, 1);
	ck_assert_str_eq(s.peer, "127.0.0.7");
	finish(p, &s);
}
END_TEST

START_TEST(test_source_missing)
{
	struct tcp_fake s;
	struct tl_outcome o;

	struct probe *p = start(&s, TCP_FAKE_ACCEPT, "");
	p->source.has_v4 = true;
	inet_pton(AF_INET, "192.0.2.7", &p->source.v4); /* not on this host */
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_CONNECT);
	ck_assert_msg(strstr(o.r.detail, "from 192.0.2.7: Cannot assign requested address") != NULL,
	              "%s", o.r.detail);
	finish(p, &s);
}
END_TEST

START_TEST(test_ipv6)
{
	struct tcp_fake s;
	struct tl_outcome o;
	char want[128];

	if (!tcp_fake_start(&s, tl_base, "::1", TCP_FAKE_ECHO))
		return; /* no IPv6 loopback here */
	struct probe *p = tl_probe("tcp", 0,
	                           "{\"host\": \"::1\", \"port\": %u, \"send\": \"x\", "
	                           "\"expect\": \"x\"}",
	                           s.port);
	p->source.has_v4 = true; /* only the target's family is bound */
	inet_pton(AF_INET, "192.0.2.7", &p->source.v4);
	snprintf(want, sizeof(want), "tcp [::1]:%u", s.port);
	ck_assert_str_eq(p->label, want);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	snprintf(want, sizeof(want), "connected to [::1]:%u from ::1, reply matched", s.port);
	ck_assert_str_eq(o.r.detail, want);
	finish(p, &s);
}
END_TEST

START_TEST(test_cancel_midway)
{
	struct tcp_fake s;
	struct tl_outcome o = {0};

	struct probe *p = start(&s, TCP_FAKE_ACCEPT, ", \"expect\": \"x\"");
	probe_set_done(p, tl_on_done, &o);
	probe_run(p, tl_base);
	tl_spin(tl_base, 50);
	ck_assert(p->running);
	probe_cancel(p);
	ck_assert(!p->running);
	probe_cancel(p);
	tl_spin(tl_base, 50);
	ck_assert(!o.done);
	finish(p, &s);
}
END_TEST

#define HOST_PORT(port) "{\"host\": \"127.0.0.1\", \"port\": " port

static const struct tl_probe_case config_cases[] = {
        {"tcp", HOST_PORT("0") "}", "test: port: expected integer 1-65535", TL_EXACT},
        {"tcp", HOST_PORT("65536") "}", "test: port: expected integer 1-65535", TL_EXACT},
        {"tcp", HOST_PORT("\"53\"") "}", "test: port: expected integer 1-65535", TL_EXACT},
        {"tcp", "{\"host\": \"127.0.0.1\"}",
         "test: port: required key is missing (expected integer 1-65535)", TL_EXACT},
        {"tcp", "{\"port\": 53}",
         "test: host: required key is missing (expected a numeric IPv4 or IPv6 address)", TL_EXACT},
        {"tcp", "{\"host\": \"localhost\", \"port\": 53}",
         "test: host: expected a numeric IPv4 or IPv6 address, not \"localhost\"", TL_EXACT},
        {"tcp", HOST_PORT("53") ", \"send\": \"a\\\\q\"}", "test: send: unknown escape at offset 1",
         TL_PREFIX},
        {"tcp", HOST_PORT("53") ", \"expect\": \"\\\\x4\"}",
         "test: expect: \\x at offset 0 needs two hex digits", TL_EXACT},
        {"tcp", HOST_PORT("53") ", \"send\": \"a\\\\\"}", "", TL_PREFIX},
        {"tcp", "{\"host\": \"::1\", \"port\": 53}", NULL, TL_EXACT},
        {"tcp", "{\"host\": \"fe80::1%1\", \"port\": 53}", NULL, TL_EXACT},
};

START_TEST(test_config)
{
	tl_check_probe_case(&config_cases[_i]);
}
END_TEST

START_TEST(test_keys)
{
	static const char *const keys[] = {"host", "port", "send", "expect", NULL};
	tl_assert_keys(&probe_tcp_ops, keys);
}
END_TEST

START_TEST(test_to_json)
{
	struct probe *p = tl_probe(
	        "tcp", 0, "{\"host\": \"::0001\", \"port\": 53, \"send\": \"a\\\\r\\\\n\"}");
	json_t *j = p->ops->to_json(p);
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(s, "{\"host\":\"::1\",\"port\":53,\"send\":\"a\\\\r\\\\n\"}");
	free(s);
	/* What to_json prints configures the same probe again. */
	struct probe *q = tl_probe_json(&probe_tcp_ops, j);
	ck_assert_str_eq(q->label, "tcp [::1]:53");
	probe_free(q);
	json_decref(j);
	probe_free(p);
}
END_TEST

static Suite *tcp_suite(void)
{
	Suite *s = suite_create("tcp");
	TCase *tc = tcase_create("tcp");
	tcase_add_checked_fixture(tc, tl_base_setup, tl_base_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_connect_ok);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_send_expect);
	tcase_add_test(tc, test_expect_mismatch);
	tcase_add_test(tc, test_closed);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_source_bound);
	tcase_add_test(tc, test_source_missing);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_cancel_midway);
	tcase_add_loop_test(tc, test_config, 0, TL_LEN(config_cases));
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_to_json);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(tcp_suite)
