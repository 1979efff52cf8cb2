/* The fake TCP server of the tcp and http probe tests; see tcp_fake.h. */
#include "tcp_fake.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"

static void conn_close(struct tcp_fake_conn *c)
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
	struct tcp_fake_conn *c = arg;
	struct tcp_fake *s = c->s;
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
	struct tcp_fake_conn *c = arg;
	struct tcp_fake *s = c->s;
	char buf[1024];
	(void)what;
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	if (c->answering)
		return;
	size_t room = sizeof(s->got) - 1 - s->gotlen;
	size_t take = (size_t)n < room ? (size_t)n : room;
	memcpy(s->got + s->gotlen, buf, take);
	s->gotlen += take;
	s->got[s->gotlen] = '\0';
	if (s->mode == TCP_FAKE_HTTP) {
		if (strstr(s->got, "\r\n\r\n") != NULL && s->resp != NULL) {
			c->answering = true;
			event_add(c->wev, NULL);
		}
		return;
	}
	ck_assert_int_eq(write(fd, buf, (size_t)n), n);
	if (s->mode == TCP_FAKE_ECHO_CLOSE)
		shutdown(fd, SHUT_WR);
}

static void accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_fake *s = arg;
	struct event_base *base = event_get_base(s->lev);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	(void)what;
	int cfd = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ck_assert_int_ge(cfd, 0);
	net_addr_format_host((struct sockaddr *)&ss, s->peer, sizeof(s->peer));
	s->accepted++;
	s->gotlen = 0;
	s->got[0] = '\0';
	if (s->mode == TCP_FAKE_CLOSE) {
		close(cfd);
		return;
	}
	for (int i = 0; i < TCP_FAKE_CONNS; i++) {
		struct tcp_fake_conn *c = &s->conns[i];
		if (c->fd >= 0)
			continue;
		c->s = s;
		c->fd = cfd;
		if (s->mode == TCP_FAKE_ACCEPT)
			return;
		c->rev = event_new(base, cfd, EV_READ | EV_PERSIST, conn_read_cb, c);
		c->wev = event_new(base, cfd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
		event_add(c->rev, NULL);
		return;
	}
	close(cfd);
}

bool tcp_fake_start(struct tcp_fake *s, struct event_base *base, const char *addr,
                    enum tcp_fake_mode mode)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	for (int i = 0; i < TCP_FAKE_CONNS; i++)
		s->conns[i].fd = -1;
	s->lfd = tl_listen(addr, &s->port);
	if (s->lfd < 0)
		return false;
	s->lev = event_new(base, s->lfd, EV_READ | EV_PERSIST, accept_cb, s);
	event_add(s->lev, NULL);
	return true;
}

void tcp_fake_respond(struct tcp_fake *s, const char *status, const char *body, size_t bodylen)
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

void tcp_fake_stop(struct tcp_fake *s)
{
	for (int i = 0; i < TCP_FAKE_CONNS; i++)
		if (s->conns[i].fd >= 0)
			conn_close(&s->conns[i]);
	event_free(s->lev);
	close(s->lfd);
	free(s->resp);
}

void tcp_fake_run_refused(struct event_base *base, const char *type, const char *fmt,
                          struct tl_outcome *o)
{
	unsigned port = 0;
	int fd = tl_bind("127.0.0.1", SOCK_STREAM, &port);
	ck_assert_int_ge(fd, 0);
	struct probe *p = tl_probe(type, 0, fmt, port);
	tl_run_settled(base, p, o);
	probe_free(p);
	close(fd);
}
