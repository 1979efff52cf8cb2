/* The tcp probe against real sockets on loopback, in a real event loop: a listener that
 * accepts, echoes or stays silent, a port that refuses, and the source address as the
 * server sees it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../healthd/cfgerr.h"
#include "../../probes/probe.h"
#include "unit.h"

enum server_mode { SRV_ACCEPT, SRV_ECHO, SRV_ECHO_CLOSE, SRV_SILENT, SRV_CLOSE };

struct server {
	int lfd, cfd;
	enum server_mode mode;
	struct event *lev, *cev;
	struct sockaddr_storage peer;
	char got[256];
	size_t gotlen;
	unsigned port;
};

struct outcome {
	bool done;
	int calls;
	struct probe_result r;
	struct event_base *base;
};

static void on_done(struct probe *p, const struct probe_result *r, void *arg)
{
	struct outcome *o = arg;
	(void)p;
	o->done = true;
	o->calls++;
	o->r = *r;
}

static void srv_conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	char buf[256];
	(void)what;
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n <= 0)
		return;
	if ((size_t)n > sizeof(s->got) - s->gotlen)
		n = (ssize_t)(sizeof(s->got) - s->gotlen);
	memcpy(s->got + s->gotlen, buf, (size_t)n);
	s->gotlen += (size_t)n;
	ck_assert_int_eq(write(fd, buf, (size_t)n), n);
	if (s->mode == SRV_ECHO_CLOSE)
		shutdown(fd, SHUT_WR);
}

static void srv_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	socklen_t len = sizeof(s->peer);
	(void)what;
	s->cfd = accept4(fd, (struct sockaddr *)&s->peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ck_assert_int_ge(s->cfd, 0);
	if (s->mode == SRV_CLOSE) {
		close(s->cfd);
		s->cfd = -1;
	} else if (s->mode == SRV_ECHO || s->mode == SRV_ECHO_CLOSE) {
		s->cev = event_new(event_get_base(s->lev), s->cfd, EV_READ | EV_PERSIST,
		                   srv_conn_cb, s);
		event_add(s->cev, NULL);
	}
}

/* A listener on addr with an ephemeral port; false when the family is not available. */
static bool srv_start(struct server *s, struct event_base *base, const char *addr,
                      enum server_mode mode)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	memset(s, 0, sizeof(*s));
	s->cfd = -1;
	s->mode = mode;
	ck_assert_int_eq(net_addr_parse(addr, 0, &ss, &len), 0);
	s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		return false;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->lfd, (struct sockaddr *)&ss, len) != 0) {
		close(s->lfd);
		return false;
	}
	ck_assert_int_eq(listen(s->lfd, 8), 0);
	len = sizeof(ss);
	ck_assert_int_eq(getsockname(s->lfd, (struct sockaddr *)&ss, &len), 0);
	s->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                        : ((struct sockaddr_in6 *)&ss)->sin6_port);
	s->lev = event_new(base, s->lfd, EV_READ | EV_PERSIST, srv_accept_cb, s);
	event_add(s->lev, NULL);
	return true;
}

static void srv_stop(struct server *s)
{
	if (s->cev != NULL)
		event_free(s->cev);
	if (s->lev != NULL)
		event_free(s->lev);
	if (s->cfd >= 0)
		close(s->cfd);
	close(s->lfd);
}

static struct probe *mk_probe(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct probe *mk_probe(const char *fmt, ...)
{
	char text[512];
	struct config_error err;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_t *obj = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(obj);
	config_error_init(&err, "test", NULL);
	struct probe *p = probe_new(&probe_tcp_ops, obj, &err);
	ck_assert_msg(p != NULL, "%s: %s", text, err.nmsgs > 0 ? err.msgs[0] : "no message");
	json_decref(obj);
	config_error_free(&err);
	return p;
}

/* The first config error for text, or NULL when it configures. */
static char *config_fails(const char *text)
{
	static char msg[512];
	struct config_error err;
	json_t *obj = json_loads(text, 0, NULL);

	ck_assert_ptr_nonnull(obj);
	config_error_init(&err, "test", NULL);
	struct probe *p = probe_new(&probe_tcp_ops, obj, &err);
	json_decref(obj);
	if (p != NULL) {
		probe_free(p);
		config_error_free(&err);
		return NULL;
	}
	ck_assert_uint_ge(err.nmsgs, 1);
	snprintf(msg, sizeof(msg), "%s", err.msgs[0]);
	config_error_free(&err);
	return msg;
}

/* Run p once; the loop is bounded by the probe's deadline plus a margin. */
static void run(struct event_base *base, struct probe *p, struct outcome *o)
{
	struct timeval start, now, d;

	memset(o, 0, sizeof(*o));
	probe_set_done(p, on_done, o);
	gettimeofday(&start, NULL);
	probe_run(p, base);
	ck_assert_msg(!o->done, "reported from inside probe_run");
	while (!o->done) {
		gettimeofday(&now, NULL);
		timersub(&now, &start, &d);
		ck_assert_msg(d.tv_sec * 1000 + d.tv_usec / 1000 < p->timeout_ms + 2000,
		              "run did not end");
		event_base_loop(base, EVLOOP_ONCE);
	}
	/* A few more turns: a second report would show up here. */
	struct timeval tick = {0, 20000};
	event_base_loopexit(base, &tick);
	event_base_dispatch(base);
	ck_assert_int_eq(o->calls, 1);
	ck_assert(!p->running);
}

START_TEST(test_connect_ok)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o;
	char want[128];

	ck_assert(srv_start(&s, base, "127.0.0.1", SRV_ACCEPT));
	struct probe *p = mk_probe("{\"host\": \"127.0.0.1\", \"port\": %u}", s.port);
	snprintf(want, sizeof(want), "tcp 127.0.0.1:%u", s.port);
	ck_assert_str_eq(p->label, want);
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	ck_assert_int_eq(o.r.status, PROBE_OK);
	snprintf(want, sizeof(want), "connected to 127.0.0.1:%u from 127.0.0.1", s.port);
	ck_assert_str_eq(o.r.detail, want);
	/* A second run on the same probe works the same. */
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	probe_free(p);
	srv_stop(&s);
	event_base_free(base);
}
END_TEST

START_TEST(test_refused)
{
	struct event_base *base = event_base_new();
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t len = sizeof(sin);
	struct outcome o;
	/* Bound but not listening: the port is ours, so nothing else can answer on it. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, len), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);

	struct probe *p = mk_probe("{\"host\": \"127.0.0.1\", \"port\": %u}", ntohs(sin.sin_port));
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_REFUSED);
	ck_assert_int_eq(o.r.status, PROBE_FAIL);
	ck_assert_msg(strstr(o.r.detail, "Connection refused") != NULL, "%s", o.r.detail);
	probe_free(p);
	close(fd);
	event_base_free(base);
}
END_TEST

START_TEST(test_send_expect)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o;

	ck_assert(srv_start(&s, base, "127.0.0.1", SRV_ECHO));
	struct probe *p = mk_probe("{\"host\": \"127.0.0.1\", \"port\": %u, "
	                           "\"send\": \"PING a\\\\tb\\\\x41\\\\\\\\\\\\r\\\\n\", "
	                           "\"expect\": \"PING\"}",
	                           s.port);
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	ck_assert_msg(strstr(o.r.detail, "reply matched") != NULL, "%s", o.r.detail);
	ck_assert_uint_eq(s.gotlen, 12);
	ck_assert(memcmp(s.got, "PING a\tbA\\\r\n", 12) == 0);
	probe_free(p);
	srv_stop(&s);
	event_base_free(base);
}
END_TEST

START_TEST(test_expect_mismatch)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o;

	ck_assert(srv_start(&s, base, "127.0.0.1", SRV_ECHO_CLOSE));
	struct probe *p = mk_probe("{\"host\": \"127.0.0.1\", \"port\": %u, "
	                           "\"send\": \"HELLO\\\\r\\\\n\", \"expect\": \"WORLD\"}",
	                           s.port);
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_EXPECT);
	ck_assert_msg(strstr(o.r.detail, "lacks \"WORLD\": \"HELLO\\r\\n\"") != NULL, "%s",
	              o.r.detail);
	probe_free(p);
	srv_stop(&s);
	event_base_free(base);
}
END_TEST

START_TEST(test_closed)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o;

	ck_assert(srv_start(&s, base, "127.0.0.1", SRV_CLOSE));
	struct probe *p =
	        mk_probe("{\"host\": \"127.0.0.1\", \"port\": %u, \"expect\": \"SSH-\"}", s.port);
	run(base, p, &o);
	ck_assert_msg(o.r.reason == PR_CLOSED || o.r.reason == PR_RESET, "%d %s", o.r.reason,
	              o.r.detail);
	probe_free(p);
	srv_stop(&s);
	event_base_free(base);
}
END_TEST

START_TEST(test_timeout)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o;

	ck_assert(srv_start(&s, base, "127.0.0.1", SRV_SILENT));
	struct probe *p =
	        mk_probe("{\"host\": \"127.0.0.1\", \"port\": %u, \"expect\": \"220 \"}", s.port);
	p->timeout_ms = 200;
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_TIMEOUT);
	ck_assert_uint_ge(o.r.latency_us, 190000);
	ck_assert_uint_lt(o.r.latency_us, 1000000);
	probe_free(p);
	srv_stop(&s);
	event_base_free(base);
}
END_TEST

START_TEST(test_source_bound)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o;
	char want[128], peer[64];

	ck_assert(srv_start(&s, base, "127.0.0.1", SRV_ACCEPT));
	struct probe *p = mk_probe("{\"host\": \"127.0.0.1\", \"port\": %u}", s.port);
	p->source.has_v4 = true;
	inet_pton(AF_INET, "127.0.0.7", &p->source.v4);
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	snprintf(want, sizeof(want), "connected to 127.0.0.1:%u from 127.0.0.7", s.port);
	ck_assert_str_eq(o.r.detail, want);
	/* What the server saw, not what the probe believes. */
	ck_assert_int_ge(s.cfd, 0);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	ck_assert_int_eq(getpeername(s.cfd, (struct sockaddr *)&ss, &len), 0);
	net_addr_format_host((struct sockaddr *)&ss, peer, sizeof(peer));
	ck_assert_str_eq(peer, "127.0.0.7");
	probe_free(p);
	srv_stop(&s);
	event_base_free(base);
}
END_TEST

START_TEST(test_source_missing)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o;

	ck_assert(srv_start(&s, base, "127.0.0.1", SRV_ACCEPT));
	struct probe *p = mk_probe("{\"host\": \"127.0.0.1\", \"port\": %u}", s.port);
	p->source.has_v4 = true;
	inet_pton(AF_INET, "192.0.2.7", &p->source.v4); /* not on this host */
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_CONNECT);
	ck_assert_msg(strstr(o.r.detail, "from 192.0.2.7: Cannot assign requested address") != NULL,
	              "%s", o.r.detail);
	probe_free(p);
	srv_stop(&s);
	event_base_free(base);
}
END_TEST

START_TEST(test_ipv6)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o;
	char want[128];

	if (!srv_start(&s, base, "::1", SRV_ECHO)) {
		event_base_free(base);
		return; /* no IPv6 loopback here */
	}
	struct probe *p = mk_probe("{\"host\": \"::1\", \"port\": %u, \"send\": \"x\", "
	                           "\"expect\": \"x\"}",
	                           s.port);
	p->source.has_v4 = true; /* only the target's family is bound */
	inet_pton(AF_INET, "192.0.2.7", &p->source.v4);
	snprintf(want, sizeof(want), "tcp [::1]:%u", s.port);
	ck_assert_str_eq(p->label, want);
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	snprintf(want, sizeof(want), "connected to [::1]:%u from ::1, reply matched", s.port);
	ck_assert_str_eq(o.r.detail, want);
	probe_free(p);
	srv_stop(&s);
	event_base_free(base);
}
END_TEST

START_TEST(test_cancel_midway)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o = {0};

	ck_assert(srv_start(&s, base, "127.0.0.1", SRV_SILENT));
	struct probe *p =
	        mk_probe("{\"host\": \"127.0.0.1\", \"port\": %u, \"expect\": \"x\"}", s.port);
	probe_set_done(p, on_done, &o);
	probe_run(p, base);
	struct timeval tick = {0, 50000};
	event_base_loopexit(base, &tick);
	event_base_dispatch(base);
	ck_assert(p->running);
	probe_cancel(p);
	ck_assert(!p->running);
	probe_cancel(p);
	event_base_loopexit(base, &tick);
	event_base_dispatch(base);
	ck_assert(!o.done);
	probe_free(p);
	srv_stop(&s);
	event_base_free(base);
}
END_TEST

START_TEST(test_config)
{
	const char *m;

	m = config_fails("{\"host\": \"127.0.0.1\", \"port\": 0}");
	ck_assert_str_eq(m, "test: port: expected integer 1-65535");
	m = config_fails("{\"host\": \"127.0.0.1\", \"port\": 65536}");
	ck_assert_str_eq(m, "test: port: expected integer 1-65535");
	m = config_fails("{\"host\": \"127.0.0.1\", \"port\": \"53\"}");
	ck_assert_str_eq(m, "test: port: expected integer 1-65535");
	m = config_fails("{\"host\": \"127.0.0.1\"}");
	ck_assert_str_eq(m, "test: port: required key is missing (expected integer 1-65535)");
	m = config_fails("{\"port\": 53}");
	ck_assert_pstr_eq(
	        m, "test: host: required key is missing (expected a numeric IPv4 or IPv6 address)");
	m = config_fails("{\"host\": \"localhost\", \"port\": 53}");
	ck_assert_pstr_eq(m, "test: host: expected a numeric IPv4 or IPv6 address, not "
	                     "\"localhost\"");
	m = config_fails("{\"host\": \"127.0.0.1\", \"port\": 53, \"send\": \"a\\\\q\"}");
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(strstr(m, "test: send: unknown escape at offset 1") == m, "%s", m);
	m = config_fails("{\"host\": \"127.0.0.1\", \"port\": 53, \"expect\": \"\\\\x4\"}");
	ck_assert_pstr_eq(m, "test: expect: \\x at offset 0 needs two hex digits");
	m = config_fails("{\"host\": \"127.0.0.1\", \"port\": 53, \"send\": \"a\\\\\"}");
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_null(config_fails("{\"host\": \"::1\", \"port\": 53}"));
	ck_assert_ptr_null(config_fails("{\"host\": \"fe80::1%1\", \"port\": 53}"));

	/* Every key of the type is listed for config.c's unknown-key check. */
	const char *keys[] = {"host", "port", "send", "expect"};
	for (size_t i = 0; i < 4; i++) {
		bool found = false;
		for (const char *const *k = probe_tcp_ops.keys; *k != NULL; k++)
			found |= strcmp(*k, keys[i]) == 0;
		ck_assert_msg(found, "%s", keys[i]);
	}
}
END_TEST

START_TEST(test_to_json)
{
	struct probe *p =
	        mk_probe("{\"host\": \"::0001\", \"port\": 53, \"send\": \"a\\\\r\\\\n\"}");
	json_t *j = p->ops->to_json(p);
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(s, "{\"host\":\"::1\",\"port\":53,\"send\":\"a\\\\r\\\\n\"}");
	free(s);
	/* What to_json prints configures the same probe again. */
	struct config_error err;
	config_error_init(&err, "test", NULL);
	struct probe *q = probe_new(&probe_tcp_ops, j, &err);
	ck_assert_ptr_nonnull(q);
	ck_assert_str_eq(q->label, "tcp [::1]:53");
	probe_free(q);
	config_error_free(&err);
	json_decref(j);
	probe_free(p);
}
END_TEST

static Suite *tcp_suite(void)
{
	Suite *s = suite_create("tcp");
	TCase *tc = tcase_create("tcp");
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
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_to_json);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(tcp_suite)
