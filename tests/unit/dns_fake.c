/* Fake DNS servers on loopback for the probe tests (see dns_fake.h), and the queries and
 * replies they and the message tests build with ldns. */
#include "dns_fake.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"

const char *const www_a[] = {"www.example.test. 300 IN A 192.0.2.1", NULL};

ldns_pkt *dns_query(const char *name, ldns_rr_type t, bool nsid)
{
	ldns_rdf *n = ldns_dname_new_frm_str(name);
	ldns_pkt *q = dnsmsg_query(n, t, LDNS_RR_CLASS_IN, nsid);
	ldns_rdf_deep_free(n);
	ck_assert_ptr_nonnull(q);
	return q;
}

uint8_t *dns_reply_wire(const ldns_pkt *q, bool aa, int rcode, const char *const *rrs, size_t *len)
{
	ldns_pkt *r = ldns_pkt_clone(q);
	uint8_t *wire = NULL;

	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_aa(r, aa);
	ldns_pkt_set_rcode(r, (uint8_t)rcode);
	ldns_pkt_set_edns_udp_size(r, 0);
	ldns_rdf_deep_free(ldns_pkt_edns_data(r)); /* the setter does not free */
	ldns_pkt_set_edns_data(r, NULL);
	for (size_t i = 0; rrs != NULL && rrs[i] != NULL; i++) {
		ldns_rr *rr = NULL;
		ck_assert_int_eq(ldns_rr_new_frm_str(&rr, rrs[i], 0, NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
	}
	ck_assert_int_eq(ldns_pkt2wire(&wire, r, len), LDNS_STATUS_OK);
	ldns_pkt_free(r);
	return wire;
}

static void fake_send(struct fake *f, int fd, const struct sockaddr_storage *to, socklen_t tolen,
                      uint8_t *w, size_t len)
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
static void fake_answer(struct fake *f, int fd, const uint8_t *qw, size_t qlen,
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
	f->last_id = ldns_pkt_id(q);
	switch (f->mode) {
	case FAKE_BAD_THEN_GOOD:
	case FAKE_BAD_ONLY:
		w = dns_reply_wire(q, true, 0, www_a, &len);
		w[0] ^= 0xff; /* wrong id */
		fake_send(f, fd, to, tolen, w, len);
		w = dns_reply_wire(q, true, 0, www_a, &len);
		w[12 + 1] = 'x'; /* wrong question: "xww.example.test." */
		fake_send(f, fd, to, tolen, w, len);
		w = dns_reply_wire(q, true, 0, www_a, &len);
		w[2] &= 0x7f; /* QR clear */
		fake_send(f, fd, to, tolen, w, len);
		if (f->mode == FAKE_BAD_THEN_GOOD) {
			w = dns_reply_wire(q, true, 0, www_a, &len);
			fake_send(f, fd, to, tolen, w, len);
		}
		break;
	case FAKE_GOOD:
		w = dns_reply_wire(q, true, 0, www_a, &len);
		fake_send(f, fd, to, tolen, w, len);
		break;
	case FAKE_TRUNCATED:
		if (!tcp) {
			w = dns_reply_wire(q, true, 0, NULL, &len);
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
			w = dns_reply_wire(q, true, 0, many, &len);
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
			w = dns_reply_wire(q, true, 0, chaos, &len);
			fake_send(f, fd, to, tolen, w, len);
			break;
		}
		snprintf(soa, sizeof(soa), "example.test. 300 IN SOA ns. h. %u 1 2 %u 4", f->serial,
		         3600u);
		w = dns_reply_wire(q, true, 0, soa_rr, &len);
		fake_send(f, fd, to, tolen, w, len);
		break;
	case FAKE_AXFR:
		for (int m = 0; m < FAKE_AXFR_MAX && f->axfr[m] != NULL; m++) {
			w = dns_reply_wire(q, true, f->axfr_rcode, f->axfr[m], &len);
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
		w = dns_reply_wire(q, true, 0, www_a, &len);
		w[0] ^= 0xff;
		fake_send(f, fd, to, tolen, w, len);
		ldns_rr_list_deep_free(ldns_pkt_question(q));
		ldns_pkt_set_question(q, ldns_rr_list_new());
		ldns_pkt_set_qdcount(q, 0);
		w = dns_reply_wire(q, true, 0, www_a, &len);
		fake_send(f, fd, to, tolen, w, len);
		break;
	case FAKE_SILENT:
		break;
	}
	ldns_pkt_free(q);
}

static void fake_udp_cb(evutil_socket_t fd, short what, void *arg)
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

static void fake_tcp_read_cb(evutil_socket_t fd, short what, void *arg)
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

static void fake_accept_cb(evutil_socket_t fd, short what, void *arg)
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
void fake_start(struct fake *f, struct event_base *base, enum fake_mode mode)
{
	memset(f, 0, sizeof(*f));
	f->mode = mode;
	f->cfd = -1;
	f->lfd = -1;
	for (int tries = 0; tries < 20 && f->lfd < 0; tries++) {
		f->port = 0;
		f->ufd = tl_bind("127.0.0.1", SOCK_DGRAM, &f->port);
		ck_assert_int_ge(f->ufd, 0);
		f->lfd = tl_listen("127.0.0.1", &f->port);
		if (f->lfd < 0)
			close(f->ufd);
	}
	ck_assert_int_ge(f->lfd, 0);
	f->uev = event_new(base, f->ufd, EV_READ | EV_PERSIST, fake_udp_cb, f);
	f->lev = event_new(base, f->lfd, EV_READ | EV_PERSIST, fake_accept_cb, f);
	event_add(f->uev, NULL);
	event_add(f->lev, NULL);
}

void fake_stop(struct fake *f)
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

char fake_peer(const struct fake *f, char *buf, size_t len)
{
	inet_ntop(AF_INET, &((const struct sockaddr_in *)&f->peer)->sin_addr, buf, (socklen_t)len);
	return buf[0];
}
