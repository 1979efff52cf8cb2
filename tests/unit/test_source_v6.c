/* The IPv6 source is bound by every probe that connects: tcp, http, dns over UDP and
 * over TCP, each with source 2001:db8::7 (a documentation address no test machine has,
 * set on the probe directly as with "source_check": false) against ::1, must fail at
 * once at bind time. Something listens on ::1 (TCP and UDP, one port), so a probe that
 * forgot the source would connect and not fail that way. Skipped without ::1. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"

#define NOT_HERE "2001:db8::7"

struct listener {
	int tfd, ufd;
	unsigned port;
};

/* TCP and UDP on one ephemeral port of ::1; false when there is no IPv6 loopback. */
static bool listen_v6(struct listener *l)
{
	l->port = 0;
	l->tfd = tl_listen("::1", &l->port);
	if (l->tfd < 0)
		return false;
	l->ufd = tl_bind("::1", SOCK_DGRAM, &l->port);
	ck_assert_int_ge(l->ufd, 0);
	return true;
}

static void unlisten(struct listener *l)
{
	close(l->tfd);
	close(l->ufd);
}

/* One run of type (config json, PORT already in it) from NOT_HERE: refused at bind. */
static void refused_at_bind(const char *type, const char *json, const char *proto, unsigned port)
{
	struct tl_outcome o;
	struct probe *p = tl_probe(type, 1000, "%s", json);
	char want[160];

	p->source.has_v6 = true;
	ck_assert_int_eq(inet_pton(AF_INET6, NOT_HERE, &p->source.v6), 1);
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_CONNECT, "%s: %s %s", type,
	              probe_reason_info(o.r.reason)->code, o.r.detail);
	snprintf(want, sizeof(want),
	         "connect to [::1]:%u%s from " NOT_HERE ": Cannot assign requested address", port,
	         proto);
	ck_assert_msg(strstr(o.r.detail, want) != NULL, "%s: \"%s\" lacks \"%s\"", type, o.r.detail,
	              want);
	ck_assert_uint_lt(o.r.latency_us, 500000); /* at once, not at the deadline */
	probe_free(p);
}

START_TEST(test_every_probe_binds_v6_source)
{
	struct listener l;

	if (!listen_v6(&l)) {
		fprintf(stderr, "source_v6: no IPv6 loopback here: skipped\n");
		return;
	}
	refused_at_bind("tcp", tl_fmt("{\"host\": \"::1\", \"port\": %u}", l.port), "", l.port);
	refused_at_bind("http", tl_fmt("{\"url\": \"http://[::1]:%u/\"}", l.port), "", l.port);
	refused_at_bind("dns",
	                tl_fmt("{\"server\": \"::1@%u\", \"name\": \"example.test\"}", l.port),
	                " over udp", l.port);
	refused_at_bind("dns",
	                tl_fmt("{\"server\": \"::1@%u\", \"name\": \"example.test\", "
	                       "\"transport\": \"tcp\"}",
	                       l.port),
	                " over tcp", l.port);
	unlisten(&l);
}
END_TEST

static Suite *source_v6_suite(void)
{
	Suite *s = suite_create("source_v6");
	TCase *tc = tcase_create("source_v6");
	tcase_add_checked_fixture(tc, tl_base_setup, tl_base_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_every_probe_binds_v6_source);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(source_v6_suite)
