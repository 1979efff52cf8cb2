/* The http probe against a tiny HTTP server in the test's own event loop: real sockets
 * on loopback, real libcurl transfers driven by that loop (curlev.c). The server records
 * the request and who sent it, and answers with a canned response, or never. HTTPS and
 * nginx are in tests/integration/test_http.sh; the configuration in test_http_cfg.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../healthd/cfgerr.h"
#include "../../probes/curlev.h"
#include "../../probes/probe.h"
#include "unit.h"

#define MAX_CONNS 4

struct server;

struct conn {
	struct server *s;
	int fd;
	struct event *rev, *wev;
	size_t off;
	bool answering;
};

struct server {
	int lfd;
	struct event *lev;
	struct conn conns[MAX_CONNS];
	unsigned port;
	char *resp; /* NULL: never answer */
	size_t resplen;
	char req[4096]; /* the last request's head */
	size_t reqlen;
	char peer[64]; /* the last client's address */
	int accepted;
};

struct outcome {
	bool done;
	int calls;
	struct probe_result r;
};

static void on_done(struct probe *p, const struct probe_result *r, void *arg)
{
	struct outcome *o = arg;
	(void)p;
	o->done = true;
	o->calls++;
	o->r = *r;
}

static void conn_close(struct conn *c)
{
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->fd >= 0)
		close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct server *s = c->s;
	(void)what;
	ssize_t n = send(fd, s->resp + c->off, s->resplen - c->off, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) { /* the client went away: it stopped reading on purpose */
		conn_close(c);
		return;
	}
	c->off += (size_t)n;
	if (c->off == s->resplen) {
		shutdown(fd, SHUT_WR);
		event_del(c->wev);
	}
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct server *s = c->s;
	char buf[1024];
	(void)what;
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	if (!c->answering) {
		size_t room = sizeof(s->req) - 1 - s->reqlen;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(s->req + s->reqlen, buf, take);
		s->reqlen += take;
		s->req[s->reqlen] = '\0';
		if (strstr(s->req, "\r\n\r\n") != NULL && s->resp != NULL) {
			c->answering = true;
			event_add(c->wev, NULL);
		}
	}
}

static void srv_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	(void)what;
	int cfd = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ck_assert_int_ge(cfd, 0);
	net_addr_format_host((struct sockaddr *)&ss, s->peer, sizeof(s->peer));
	s->accepted++;
	s->reqlen = 0;
	s->req[0] = '\0';
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &s->conns[i];
		if (c->fd >= 0)
			continue;
		c->s = s;
		c->fd = cfd;
		c->rev = event_new(event_get_base(s->lev), cfd, EV_READ | EV_PERSIST, conn_read_cb,
		                   c);
		c->wev = event_new(event_get_base(s->lev), cfd, EV_WRITE | EV_PERSIST,
		                   conn_write_cb, c);
		event_add(c->rev, NULL);
		return;
	}
	close(cfd);
}

/* A server on addr with an ephemeral port; false when the family is not available. */
static bool srv_start(struct server *s, struct event_base *base, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < MAX_CONNS; i++)
		s->conns[i].fd = -1;
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

/* The canned answer: status line and body, with a Content-Length. */
static void srv_respond(struct server *s, const char *status, const char *body, size_t bodylen)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Length: %zu\r\n\r\n", status,
	                 bodylen);
	free(s->resp);
	s->resplen = (size_t)n + bodylen;
	s->resp = malloc(s->resplen);
	ck_assert_ptr_nonnull(s->resp);
	memcpy(s->resp, head, (size_t)n);
	memcpy(s->resp + n, body, bodylen);
}

static void srv_stop(struct server *s)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (s->conns[i].fd >= 0)
			conn_close(&s->conns[i]);
	event_free(s->lev);
	close(s->lfd);
	free(s->resp);
}

static struct probe *mk_probe(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct probe *mk_probe(const char *fmt, ...)
{
	char text[1024];
	struct config_error err;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_t *obj = json_loads(text, 0, NULL);
	ck_assert_msg(obj != NULL, "bad JSON: %s", text);
	config_error_init(&err, "test", NULL);
	struct probe *p = probe_new(&probe_http_ops, obj, &err);
	ck_assert_msg(p != NULL, "%s: %s", text, err.nmsgs > 0 ? err.msgs[0] : "no message");
	json_decref(obj);
	config_error_free(&err);
	return p;
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
	ck_assert_uint_eq(curlev_multis(), 0); /* nothing of curl outlives the run */
}

static json_int_t fact_int(const struct probe *p, const char *key)
{
	json_t *v = json_object_get(p->facts, key);
	ck_assert_msg(json_is_integer(v), "fact %s missing", key);
	return json_integer_value(v);
}

static const char *fact_str(const struct probe *p, const char *key)
{
	json_t *v = json_object_get(p->facts, key);
	ck_assert_msg(json_is_string(v), "fact %s missing", key);
	return json_string_value(v);
}

START_TEST(test_get_ok)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o;
	char want[160];

	ck_assert(srv_start(&s, base, "127.0.0.1"));
	srv_respond(&s, "200 OK", "status: healthy\n", 16);
	struct probe *p = mk_probe("{\"url\": \"http://127.0.0.1:%u/health\", \"expect_body\": "
	                           "\"healthy\", \"headers\": {\"X-Probe\": \"yes\"}}",
	                           s.port);
	snprintf(want, sizeof(want), "http http://127.0.0.1:%u/health", s.port);
	ck_assert_str_eq(p->label, want);
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	snprintf(want, sizeof(want), "HTTP 200 from 127.0.0.1:%u from 127.0.0.1, body matched",
	         s.port);
	ck_assert_str_eq(o.r.detail, want);
	ck_assert_msg(strncmp(s.req, "GET /health HTTP/1.1\r\n", 22) == 0, "%s", s.req);
	ck_assert_msg(strstr(s.req, "\r\nX-Probe: yes\r\n") != NULL, "%s", s.req);
	ck_assert_msg(strstr(s.req, "\r\nUser-Agent: healthd\r\n") != NULL, "%s", s.req);
	ck_assert_int_eq(fact_int(p, "status"), 200);
	ck_assert_str_eq(fact_str(p, "http_version"), "1.1");
	ck_assert_str_eq(fact_str(p, "local"), "127.0.0.1");
	snprintf(want, sizeof(want), "127.0.0.1:%u", s.port);
	ck_assert_str_eq(fact_str(p, "remote"), want);

	/* A second run of the same probe opens a new connection and works the same. */
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	ck_assert_int_eq(s.accepted, 2);
	probe_free(p);
	srv_stop(&s);
	event_base_free(base);
}
END_TEST

START_TEST(test_bad_status)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o;

	ck_assert(srv_start(&s, base, "127.0.0.1"));
	srv_respond(&s, "500 Internal Server Error", "db down\n", 8);
	struct probe *p = mk_probe("{\"url\": \"http://127.0.0.1:%u/\"}", s.port);
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_BAD_STATUS);
	ck_assert_int_eq(o.r.status, PROBE_FAIL);
	ck_assert_msg(strstr(o.r.detail, "HTTP 500 from 127.0.0.1:") == o.r.detail, "%s",
	              o.r.detail);
	ck_assert_msg(strstr(o.r.detail, ", expected 200-399: \"db down\\n\"") != NULL, "%s",
	              o.r.detail);
	ck_assert_int_eq(fact_int(p, "status"), 500);
	probe_free(p);

	/* An explicit list: 500 is what this endpoint is expected to say. */
	p = mk_probe("{\"url\": \"http://127.0.0.1:%u/\", \"expect_status\": [204, \"500-503\"]}",
	             s.port);
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	probe_free(p);
	srv_respond(&s, "200 OK", "ok", 2);
	p = mk_probe("{\"url\": \"http://127.0.0.1:%u/\", \"expect_status\": [204, \"500-503\"]}",
	             s.port);
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_BAD_STATUS);
	ck_assert_msg(strstr(o.r.detail, "expected 204, 500-503") != NULL, "%s", o.r.detail);
	probe_free(p);
	srv_stop(&s);
	event_base_free(base);
}
END_TEST

START_TEST(test_body_rules)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o;

	ck_assert(srv_start(&s, base, "127.0.0.1"));
	srv_respond(&s, "200 OK", "serial 2024010101\nnode n1\n", 26);
	struct probe *p =
	        mk_probe("{\"url\": \"http://127.0.0.1:%u/\", \"expect_body\": \"n2\"}", s.port);
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_BODY_MISMATCH);
	ck_assert_msg(strstr(o.r.detail,
	                     "no \"n2\" in 26 bytes: \"serial 2024010101\\nnode n1\\n\"") != NULL,
	              "%s", o.r.detail);
	probe_free(p);

	p = mk_probe("{\"url\": \"http://127.0.0.1:%u/\", \"expect_body_regex\": "
	             "\"^serial [0-9]{10}\\nnode n[0-9]+\\n$\"}",
	             s.port);
	run(base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_msg(strstr(o.r.detail, "regex matched") != NULL, "%s", o.r.detail);
	probe_free(p);

	p = mk_probe("{\"url\": \"http://127.0.0.1:%u/\", \"expect_body_regex\": \"node (n2|n3)\"}",
	             s.port);
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_BODY_MISMATCH);
	ck_assert_msg(strstr(o.r.detail, "does not match /node (n2|n3)/ in 26 bytes") != NULL, "%s",
	              o.r.detail);
	probe_free(p);
	srv_stop(&s);
	event_base_free(base);
}
END_TEST

/* A 4 MiB body: the probe reads max_body bytes, stops, and judges what it read. */
START_TEST(test_max_body)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o;
	size_t big = 4 << 20;
	char *body = malloc(big);

	ck_assert(srv_start(&s, base, "127.0.0.1"));
	memset(body, 'a', big);
	memcpy(body, "BEGIN", 5);
	memcpy(body + big - 3, "END", 3);
	srv_respond(&s, "200 OK", body, big);
	free(body);

	struct probe *p = mk_probe("{\"url\": \"http://127.0.0.1:%u/\", \"max_body\": 1000, "
	                           "\"expect_body_regex\": \"^BEGINa+$\"}",
	                           s.port);
	run(base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_int_eq(fact_int(p, "bytes"), 1000);
	ck_assert(json_is_true(json_object_get(p->facts, "max_body_reached")));
	probe_free(p);

	/* The end of the body lies past max_body: not found, and the detail says why. */
	p = mk_probe("{\"url\": \"http://127.0.0.1:%u/\", \"expect_body\": \"END\"}", s.port);
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_BODY_MISMATCH);
	ck_assert_msg(strstr(o.r.detail, "no \"END\" in 65536 bytes (max_body)") != NULL, "%s",
	              o.r.detail);
	ck_assert_int_eq(fact_int(p, "bytes"), 65536);
	probe_free(p);

	/* Found early: the rest is never waited for. */
	p = mk_probe("{\"url\": \"http://127.0.0.1:%u/\", \"expect_body\": \"BEGIN\", "
	             "\"max_body\": 16777216}",
	             s.port);
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	ck_assert_int_lt(fact_int(p, "bytes"), (json_int_t)big);
	probe_free(p);
	srv_stop(&s);
	event_base_free(base);
}
END_TEST

START_TEST(test_head_host_connect_to)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o;
	char want[160];

	ck_assert(srv_start(&s, base, "127.0.0.1"));
	s.resp = strdup("HTTP/1.1 204 No Content\r\n\r\n");
	s.resplen = strlen(s.resp);
	struct probe *p = mk_probe("{\"url\": \"http://127.0.0.1:%u/h\", \"method\": \"HEAD\", "
	                           "\"host\": \"dns.example\"}",
	                           s.port);
	run(base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_msg(strncmp(s.req, "HEAD /h HTTP/1.1\r\n", 18) == 0, "%s", s.req);
	ck_assert_msg(strstr(s.req, "\r\nHost: dns.example\r\n") != NULL, "%s", s.req);
	probe_free(p);

	/* The URL names the service; connect_to is this node's own address. */
	p = mk_probe("{\"url\": \"http://www.example:%u/x\", \"connect_to\": \"127.0.0.1\"}",
	             s.port);
	snprintf(want, sizeof(want), "http http://www.example:%u/x via 127.0.0.1", s.port);
	ck_assert_str_eq(p->label, want);
	run(base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	snprintf(want, sizeof(want), "\r\nHost: www.example:%u\r\n", s.port);
	ck_assert_msg(strstr(s.req, want) != NULL, "%s", s.req);
	probe_free(p);

	/* connect_to with a port: any port in the URL goes there. */
	p = mk_probe("{\"url\": \"http://www.example/x\", \"connect_to\": \"127.0.0.1:%u\"}",
	             s.port);
	run(base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_msg(strstr(s.req, "\r\nHost: www.example\r\n") != NULL, "%s", s.req);
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

	struct probe *p = mk_probe("{\"url\": \"http://127.0.0.1:%u/\"}", ntohs(sin.sin_port));
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_REFUSED);
	ck_assert_msg(strstr(o.r.detail, "from any: Connection refused") != NULL, "%s", o.r.detail);
	probe_free(p);
	close(fd);
	event_base_free(base);
}
END_TEST

START_TEST(test_timeout)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o;

	ck_assert(srv_start(&s, base, "127.0.0.1")); /* never answers */
	struct probe *p = mk_probe("{\"url\": \"http://127.0.0.1:%u/\"}", s.port);
	p->timeout_ms = 200;
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_TIMEOUT);
	ck_assert_uint_ge(o.r.latency_us, 190000);
	ck_assert_uint_lt(o.r.latency_us, 1000000);
	ck_assert_str_eq(fact_str(p, "stalled_in"), "response");
	ck_assert_int_eq(s.accepted, 1);
	probe_free(p);
	srv_stop(&s);
	event_base_free(base);
}
END_TEST

START_TEST(test_source)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct outcome o;
	char want[160];

	ck_assert(srv_start(&s, base, "127.0.0.1"));
	srv_respond(&s, "200 OK", "ok", 2);
	struct probe *p = mk_probe("{\"url\": \"http://127.0.0.1:%u/\"}", s.port);
	p->source.has_v4 = p->source.has_v6 = true;
	inet_pton(AF_INET, "127.0.0.7", &p->source.v4);
	inet_pton(AF_INET6, "2001:db8::7", &p->source.v6); /* not the target's family */
	run(base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_str_eq(s.peer, "127.0.0.7"); /* what the server saw */
	snprintf(want, sizeof(want), "HTTP 200 from 127.0.0.1:%u from 127.0.0.7", s.port);
	ck_assert_str_eq(o.r.detail, want);

	/* A source this host does not have fails loudly, as the tcp probe does. */
	inet_pton(AF_INET, "192.0.2.7", &p->source.v4);
	run(base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_CONNECT);
	snprintf(want, sizeof(want),
	         "connect to 127.0.0.1:%u from 192.0.2.7: Cannot assign requested address", s.port);
	ck_assert_str_eq(o.r.detail, want);
	ck_assert_int_eq(s.accepted, 1);
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

	if (!srv_start(&s, base, "::1")) {
		event_base_free(base);
		return; /* no IPv6 loopback here */
	}
	srv_respond(&s, "200 OK", "ok", 2);
	struct probe *p = mk_probe("{\"url\": \"http://[::1]:%u/\"}", s.port);
	run(base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_str_eq(s.peer, "::1");
	probe_free(p);
	p = mk_probe("{\"url\": \"http://v6.example/\", \"connect_to\": \"[::1]:%u\"}", s.port);
	run(base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	probe_free(p);
	srv_stop(&s);
	event_base_free(base);
}
END_TEST

/* Two probes at once share one multi handle; it goes away with the last transfer. */
START_TEST(test_shared_multi)
{
	struct event_base *base = event_base_new();
	struct server s1, s2;
	struct outcome o1 = {0}, o2 = {0};

	ck_assert(srv_start(&s1, base, "127.0.0.1"));
	ck_assert(srv_start(&s2, base, "127.0.0.1")); /* never answers */
	srv_respond(&s1, "200 OK", "ok", 2);
	struct probe *p1 = mk_probe("{\"url\": \"http://127.0.0.1:%u/\"}", s1.port);
	struct probe *p2 = mk_probe("{\"url\": \"http://127.0.0.1:%u/\"}", s2.port);
	p2->timeout_ms = 300;
	probe_set_done(p1, on_done, &o1);
	probe_set_done(p2, on_done, &o2);
	probe_run(p1, base);
	probe_run(p2, base);
	ck_assert_uint_eq(curlev_multis(), 1);
	for (int i = 0; i < 1000 && !(o1.done && o2.done); i++)
		event_base_loop(base, EVLOOP_ONCE);
	ck_assert_int_eq(o1.r.reason, PR_OK);
	ck_assert_int_eq(o2.r.reason, PR_TIMEOUT);
	ck_assert_uint_eq(curlev_multis(), 0);

	/* Cancelled midway: no report, nothing left behind, and the probe runs again. */
	probe_run(p2, base);
	struct timeval tick = {0, 50000};
	event_base_loopexit(base, &tick);
	event_base_dispatch(base);
	ck_assert(p2->running);
	probe_cancel(p2);
	probe_cancel(p2);
	ck_assert_uint_eq(curlev_multis(), 0);
	event_base_loopexit(base, &tick);
	event_base_dispatch(base);
	ck_assert_int_eq(o2.calls, 1);
	probe_free(p1);
	probe_free(p2);
	srv_stop(&s1);
	srv_stop(&s2);
	event_base_free(base);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_get_ok);
	tcase_add_test(tc, test_bad_status);
	tcase_add_test(tc, test_body_rules);
	tcase_add_test(tc, test_max_body);
	tcase_add_test(tc, test_head_host_connect_to);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_source);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_shared_multi);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(http_suite)
