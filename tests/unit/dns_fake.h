/* Shared by test_dns_probe.c and test_dns_zone.c: fake DNS servers on loopback (UDP and
 * TCP on one port) that answer as each test scripts them, and helpers that build and
 * run one probe in a real event loop. Static functions: each test file gets its own
 * copy (unused ones are marked so). */
#ifndef HEALTHD_TEST_DNS_FAKE_H
#define HEALTHD_TEST_DNS_FAKE_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../healthd/cfgerr.h"
#include "../../probes/dnsmsg.h"
#include "../../probes/probe.h"
#include "unit.h"

#define FAKE_UNUSED __attribute__((unused))

enum fake_mode {
	FAKE_GOOD,          /* www A 192.0.2.1, AA */
	FAKE_BAD_THEN_GOOD, /* wrong id, wrong question, QR clear, then the good one */
	FAKE_BAD_ONLY,      /* only the three bad ones */
	FAKE_TRUNCATED,     /* UDP: TC and no answer; TCP: 30 A records */
	FAKE_NSID,          /* the good reply with NSID "node1" */
	FAKE_SOA,           /* SOA with fake.serial; CHAOS TXT "node1" */
	FAKE_SILENT,
	FAKE_AXFR, /* TCP: the messages in fake.axfr */
	/* TCP: a reply with a wrong id, then the right one without its question */
	FAKE_TCP_NO_QUESTION,
};

#define FAKE_AXFR_MAX 4

struct fake {
	int ufd, lfd, cfd;
	unsigned port;
	enum fake_mode mode;
	uint32_t serial;
	struct event *uev, *lev, *cev;
	struct sockaddr_storage peer;
	int udp_queries, tcp_queries;
	uint8_t in[1024];
	size_t inlen;
	/* AXFR: each message a list of records, and what to spoil */
	const char *const *axfr[FAKE_AXFR_MAX];
	int axfr_bad_id; /* message index (1-based) sent with a wrong id; 0: none */
	int axfr_rcode;  /* rcode of every message */
	bool drop_even;  /* UDP: ignore the 2nd, 4th, ... query (a lossy path) */
	bool axfr_close; /* TCP: close (FIN) after the AXFR messages */
};

struct outcome {
	bool done;
	int calls;
	struct probe_result r;
};

FAKE_UNUSED static void on_done(struct probe *p, const struct probe_result *r, void *arg)
{
	struct outcome *o = arg;
	o->done = true;
	o->calls++;
	o->r = *r;
}

static const char *const www_a[] = {"www.example.test. 300 IN A 192.0.2.1", NULL};

/* A reply to query q (already parsed) with the given answers, as wire bytes. */
FAKE_UNUSED static uint8_t *fake_reply(const ldns_pkt *q, const char *const *rrs, bool aa,
                                       int rcode, size_t *len)
{
	ldns_pkt *r = ldns_pkt_clone(q);
	uint8_t *w = NULL;

	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_aa(r, aa);
	ldns_pkt_set_rcode(r, (uint8_t)rcode);
	ldns_rdf_deep_free(ldns_pkt_edns_data(r)); /* the setter does not free */
	ldns_pkt_set_edns_data(r, NULL);
	ldns_pkt_set_edns_udp_size(r, 0);
	for (size_t i = 0; rrs != NULL && rrs[i] != NULL; i++) {
		ldns_rr *rr = NULL;
		ck_assert_int_eq(ldns_rr_new_frm_str(&rr, rrs[i], 0, NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
	}
	ck_assert_int_eq(ldns_pkt2wire(&w, r, len), LDNS_STATUS_OK);
	ldns_pkt_free(r);
	return w;
}

FAKE_UNUSED static void fake_send(struct fake *f, int fd, const struct sockaddr_storage *to,
                                  socklen_t tolen, uint8_t *w, size_t len)
{
	if (fd == f->ufd) {
		ck_assert_int_eq(sendto(fd, w, len, 0, (const struct sockaddr *)to, tolen),
		                 (ssize_t)len);
	} else {
		uint8_t l[2] = {(uint8_t)(len >> 8), (uint8_t)len};
		ck_assert_int_eq(write(fd, l, 2), 2);
		ck_assert_int_eq(write(fd, w, len), (ssize_t)len);
	}
	free(w);
}

/* Answer one query as the mode says, on fd (UDP: to `to`; TCP: framed). */
FAKE_UNUSED static void fake_answer(struct fake *f, int fd, const uint8_t *qw, size_t qlen,
                                    const struct sockaddr_storage *to, socklen_t tolen)
{
	ldns_pkt *q = NULL;
	uint8_t *w;
	size_t len;
	char soa[128];
	const char *const soa_rr[] = {soa, NULL};
	const char *const chaos[] = {"hostname.bind. 0 CH TXT \"node1\"", NULL};
	bool tcp = fd != f->ufd;

	ck_assert_int_eq(ldns_wire2pkt(&q, qw, qlen), LDNS_STATUS_OK);
	ck_assert_int_eq(ldns_pkt_rd(q), 0);
	switch (f->mode) {
	case FAKE_BAD_THEN_GOOD:
	case FAKE_BAD_ONLY:
		w = fake_reply(q, www_a, true, 0, &len);
		w[0] ^= 0xff; /* wrong id */
		fake_send(f, fd, to, tolen, w, len);
		w = fake_reply(q, www_a, true, 0, &len);
		w[12 + 1] = 'x'; /* wrong question: "xww.example.test." */
		fake_send(f, fd, to, tolen, w, len);
		w = fake_reply(q, www_a, true, 0, &len);
		w[2] &= 0x7f; /* QR clear */
		fake_send(f, fd, to, tolen, w, len);
		if (f->mode == FAKE_BAD_THEN_GOOD) {
			w = fake_reply(q, www_a, true, 0, &len);
			fake_send(f, fd, to, tolen, w, len);
		}
		break;
	case FAKE_GOOD:
		w = fake_reply(q, www_a, true, 0, &len);
		fake_send(f, fd, to, tolen, w, len);
		break;
	case FAKE_TRUNCATED:
		if (!tcp) {
			w = fake_reply(q, NULL, true, 0, &len);
			w[2] |= 0x02; /* TC */
			fake_send(f, fd, to, tolen, w, len);
		} else {
			const char *many[31];
			char rr[30][64];
			for (int i = 0; i < 30; i++) {
				snprintf(rr[i], sizeof(rr[i]),
				         "www.example.test. 300 IN A 192.0.2.%d", i + 1);
				many[i] = rr[i];
			}
			many[30] = NULL;
			w = fake_reply(q, many, true, 0, &len);
			fake_send(f, fd, to, tolen, w, len);
		}
		break;
	case FAKE_NSID: {
		static const uint8_t opt[] = {0, 3, 0, 5, 'n', 'o', 'd', 'e', '1'};
		ldns_pkt *r = ldns_pkt_clone(q);
		ldns_rr *a = NULL;
		ldns_pkt_set_qr(r, true);
		ldns_pkt_set_aa(r, true);
		ldns_rr_new_frm_str(&a, www_a[0], 0, NULL, NULL);
		ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, a);
		ldns_rdf_deep_free(ldns_pkt_edns_data(r));
		ldns_pkt_set_edns_data(
		        r, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, sizeof(opt), opt));
		w = NULL;
		ck_assert_int_eq(ldns_pkt2wire(&w, r, &len), LDNS_STATUS_OK);
		ldns_pkt_free(r);
		fake_send(f, fd, to, tolen, w, len);
		break;
	}
	case FAKE_SOA:
		if (ldns_rr_get_class(ldns_rr_list_rr(ldns_pkt_question(q), 0)) ==
		    LDNS_RR_CLASS_CH) {
			w = fake_reply(q, chaos, true, 0, &len);
			fake_send(f, fd, to, tolen, w, len);
			break;
		}
		snprintf(soa, sizeof(soa), "example.test. 300 IN SOA ns. h. %u 1 2 %u 4", f->serial,
		         3600u);
		w = fake_reply(q, soa_rr, true, 0, &len);
		fake_send(f, fd, to, tolen, w, len);
		break;
	case FAKE_AXFR:
		for (int m = 0; m < FAKE_AXFR_MAX && f->axfr[m] != NULL; m++) {
			w = fake_reply(q, f->axfr[m], true, f->axfr_rcode, &len);
			if (m + 1 == f->axfr_bad_id)
				w[1] ^= 0x01;
			fake_send(f, fd, to, tolen, w, len);
		}
		if (f->axfr_close)
			shutdown(fd, SHUT_WR);
		break;
	case FAKE_TCP_NO_QUESTION:
		if (!tcp)
			break;
		w = fake_reply(q, www_a, true, 0, &len);
		w[0] ^= 0xff;
		fake_send(f, fd, to, tolen, w, len);
		ldns_rr_list_deep_free(ldns_pkt_question(q));
		ldns_pkt_set_question(q, ldns_rr_list_new());
		ldns_pkt_set_qdcount(q, 0);
		w = fake_reply(q, www_a, true, 0, &len);
		fake_send(f, fd, to, tolen, w, len);
		break;
	case FAKE_SILENT:
		break;
	}
	ldns_pkt_free(q);
}

FAKE_UNUSED static void fake_udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fake *f = arg;
	uint8_t buf[1024];
	socklen_t len = sizeof(f->peer);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&f->peer, &len);

	if (n <= 0)
		return;
	f->udp_queries++;
	if (f->drop_even && f->udp_queries % 2 == 0)
		return;
	fake_answer(f, fd, buf, (size_t)n, &f->peer, len);
}

FAKE_UNUSED static void fake_tcp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fake *f = arg;
	ssize_t n = read(fd, f->in + f->inlen, sizeof(f->in) - f->inlen);

	if (n <= 0) {
		event_del(f->cev);
		return;
	}
	f->inlen += (size_t)n;
	if (f->inlen < 2 || f->inlen < 2u + (f->in[0] << 8 | f->in[1]))
		return;
	f->tcp_queries++;
	fake_answer(f, fd, f->in + 2, (size_t)(f->in[0] << 8 | f->in[1]), NULL, 0);
	f->inlen = 0;
}

FAKE_UNUSED static void fake_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fake *f = arg;
	socklen_t len = sizeof(f->peer);
	int c = accept4(fd, (struct sockaddr *)&f->peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (c < 0)
		return;
	if (f->cev != NULL) {
		event_free(f->cev);
		close(f->cfd);
	}
	f->cfd = c;
	f->inlen = 0;
	f->cev = event_new(event_get_base(f->lev), c, EV_READ | EV_PERSIST, fake_tcp_read_cb, f);
	event_add(f->cev, NULL);
}

/* UDP and TCP on the same ephemeral port of 127.0.0.1 (bounded retries on collision). */
FAKE_UNUSED static void fake_start(struct fake *f, struct event_base *base, enum fake_mode mode)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int one = 1;

	memset(f, 0, sizeof(*f));
	f->mode = mode;
	f->cfd = -1;
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	for (int tries = 0; tries < 20; tries++) {
		f->ufd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		sin.sin_port = 0;
		ck_assert_int_eq(bind(f->ufd, (struct sockaddr *)&sin, sizeof(sin)), 0);
		ck_assert_int_eq(getsockname(f->ufd, (struct sockaddr *)&sin, &len), 0);
		f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(f->lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			break;
		close(f->ufd);
		close(f->lfd);
		f->lfd = -1;
	}
	ck_assert_int_ge(f->lfd, 0);
	ck_assert_int_eq(listen(f->lfd, 8), 0);
	f->port = ntohs(sin.sin_port);
	f->uev = event_new(base, f->ufd, EV_READ | EV_PERSIST, fake_udp_cb, f);
	f->lev = event_new(base, f->lfd, EV_READ | EV_PERSIST, fake_accept_cb, f);
	event_add(f->uev, NULL);
	event_add(f->lev, NULL);
}

FAKE_UNUSED static void fake_stop(struct fake *f)
{
	if (f->cev != NULL) {
		event_free(f->cev);
		close(f->cfd);
	}
	event_free(f->uev);
	event_free(f->lev);
	close(f->ufd);
	close(f->lfd);
}

FAKE_UNUSED static char peer_host(const struct fake *f, char *buf, size_t len)
{
	inet_ntop(AF_INET, &((const struct sockaddr_in *)&f->peer)->sin_addr, buf, (socklen_t)len);
	return buf[0];
}

/* A probe of type from JSON text; the config must be valid. */
FAKE_UNUSED static struct probe *mkprobe(const char *type, const char *json, uint32_t timeout_ms)
{
	struct config_error e;
	json_error_t je;
	json_t *obj = json_loads(json, 0, &je);
	struct probe *p;

	ck_assert_msg(obj != NULL, "bad test JSON: %s", je.text);
	config_error_init(&e, "t", NULL);
	p = probe_new(probe_ops_find(type), obj, &e);
	ck_assert_msg(p != NULL, "config refused: %s", e.nmsgs > 0 ? e.msgs[0] : "?");
	config_error_free(&e);
	json_decref(obj);
	p->timeout_ms = timeout_ms;
	return p;
}

/* The first config error of type + JSON, or NULL when it is accepted. */
FAKE_UNUSED static char *config_error_of(const char *type, const char *json)
{
	static char msg[512];
	struct config_error e;
	json_t *obj = json_loads(json, 0, NULL);
	struct probe *p;

	ck_assert_ptr_nonnull(obj);
	config_error_init(&e, "t", NULL);
	p = probe_new(probe_ops_find(type), obj, &e);
	snprintf(msg, sizeof(msg), "%s", e.nmsgs > 0 ? e.msgs[0] : "");
	if (p != NULL)
		ck_assert_uint_eq(e.nmsgs, 0);
	probe_free(p);
	config_error_free(&e);
	json_decref(obj);
	return p != NULL ? NULL : msg;
}

FAKE_UNUSED static void run(struct probe *p, struct event_base *base, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	probe_set_done(p, on_done, o);
	probe_run(p, base);
	for (int i = 0; i < 10000 && !o->done; i++)
		event_base_loop(base, EVLOOP_ONCE);
	ck_assert(o->done);
	ck_assert_int_eq(o->calls, 1);
}

FAKE_UNUSED static const char *fact_str(const struct probe *p, const char *key)
{
	const char *s = json_string_value(json_object_get(p->facts, key));
	return s != NULL ? s : "";
}

FAKE_UNUSED static long long fact_int(const struct probe *p, const char *key)
{
	return json_integer_value(json_object_get(p->facts, key));
}

/* printf into a static buffer: the tests' JSON configs. */
FAKE_UNUSED static const char *jsonf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *jsonf(const char *fmt, ...)
{
	static char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

#endif
