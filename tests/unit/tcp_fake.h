/* A fake TCP server on loopback in the test's own event loop, for the tcp and http probe
 * tests (tcp_fake.c, linked into every test with testlib.c): it accepts, echoes, closes,
 * or reads an HTTP request head and answers with a canned response, and records what the
 * last client sent and from where. */
#ifndef HEALTHD_TEST_TCP_FAKE_H
#define HEALTHD_TEST_TCP_FAKE_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

enum tcp_fake_mode {
	TCP_FAKE_ACCEPT,     /* accept and hold the connection; read nothing, say nothing */
	TCP_FAKE_ECHO,       /* send back what arrives */
	TCP_FAKE_ECHO_CLOSE, /* the same, then shut down the sending side */
	TCP_FAKE_CLOSE,      /* close each connection at once */
	TCP_FAKE_HTTP,       /* read a request head, then answer with resp (never when NULL) */
};

#define TCP_FAKE_CONNS 4

struct tcp_fake;

struct tcp_fake_conn {
	struct tcp_fake *s;
	int fd;
	struct event *rev, *wev;
	size_t off;
	bool answering;
};

struct tcp_fake {
	int lfd;
	unsigned port;
	enum tcp_fake_mode mode;
	struct event *lev;
	struct tcp_fake_conn conns[TCP_FAKE_CONNS];
	char *resp; /* TCP_FAKE_HTTP's answer, malloc'ed */
	size_t resplen;
	char got[4096]; /* what the last client sent (HTTP: its request head), NUL-terminated */
	size_t gotlen;
	char peer[64]; /* the last client's address */
	int accepted;
};

/* A server on addr ("127.0.0.1", "::1") with an ephemeral port; false when the family is
 * not available here. */
bool tcp_fake_start(struct tcp_fake *s, struct event_base *base, const char *addr,
                    enum tcp_fake_mode mode);
/* The HTTP answer: status line and body, with a Content-Length. */
void tcp_fake_respond(struct tcp_fake *s, const char *status, const char *body, size_t bodylen);
void tcp_fake_stop(struct tcp_fake *s);

struct tl_outcome;
/* One run (tl_run_settled) of a probe of type, its JSON fmt taking the port, against a
 * port of 127.0.0.1 that refuses: bound but never listening, so nothing else can answer
 * on it. */
void tcp_fake_run_refused(struct event_base *base, const char *type, const char *fmt,
                          struct tl_outcome *o) __attribute__((format(printf, 3, 0)));

#endif
