/* One DNS exchange over non-blocking UDP or TCP sockets on the libevent loop. Every path
 * ends in dnsq_finish (or, in stream mode, in a message callback that says stop), and
 * nothing touches the dnsq after that call: its callee may have freed it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "dnsmsg.h"
#include "dnsq.h"
#include "probe_limits.h"

#define DNSQ_MSG_MAX 65535 /* a TCP length prefix's reach; bigger than any UDP payload */
/* Datagrams or TCP reads handled per readiness callback: a peer that floods us with
 * replies to ignore must not keep the loop from every other check and timer. */
#define DNSQ_BATCH 64

/* Every datagram is read here and done with (checked, parsed, remembered by copy) before
 * the callback returns: one buffer for all exchanges, rather than 64 KiB kept by each
 * check, or allocated and freed by each run. */
static uint8_t dnsq_udp_buf[DNSQ_MSG_MAX];

struct dnsq {
	struct event_base *base;
	struct sockaddr_storage dst;
	socklen_t dstlen;
	struct source_addr src;
	bool has_src;
	ldns_pkt *query;
	uint8_t *wire; /* the query framed for TCP: 2-byte length, then the message */
	size_t wirelen;
	dnsq_msg_fn on_msg;
	size_t max_bytes;
	struct probe *probe; /* whose read budget (probe_limits.h) the bytes use, or NULL */
	dnsq_done_fn on_done;
	void *arg;

	int fd;
	bool connected;
	/* rev and wev: storage kept for the dnsq's life, assigned to each socket it opens
	 * (while fd >= 0); soon: the timer that opens it from the loop. */
	struct event *rev, *wev, *soon;
	size_t sent; /* TCP: bytes of wire written */
	uint8_t lenbuf[2];
	size_t lenhave; /* TCP: bytes of the length prefix read */
	size_t msglen;  /* TCP: length of the message being read */
	size_t msghave; /* TCP: bytes of it read */
	uint8_t *buf;   /* DNSQ_MSG_MAX bytes for TCP messages, allocated at the first */
	struct net_local local;
	/* The last reply accepted (not in stream mode) and its wire: a dnsq run again
	 * (dnsq_restart) that gets the same bytes back, but for the id, reuses it rather
	 * than parse the same answer again. res.reply may point to it: memo owns it then. */
	ldns_pkt *memo;
	uint8_t *memo_wire;
	size_t memo_len;
	struct dnsq_result res;
};

static void dnsq_close(struct dnsq *q)
{
	/* Deleting the event whose callback is running is allowed: neither persists. */
	if (q->fd >= 0) {
		event_del(q->rev);
		event_del(q->wev);
		close(q->fd);
	}
	q->fd = -1;
}

/* A new socket: the events are assigned to it. */
static void dnsq_opened(struct dnsq *q, int fd, event_callback_fn rcb, event_callback_fn wcb)
{
	q->fd = fd;
	event_assign(q->rev, q->base, fd, EV_READ, rcb, q);
	event_assign(q->wev, q->base, fd, EV_WRITE, wcb, q);
}

/* Accepted replies are remembered; the one replaced is freed unless it is this run's. */
static void dnsq_memo(struct dnsq *q, ldns_pkt *r, const uint8_t *wire, size_t len)
{
	uint8_t *w;

	if (q->on_msg != NULL || r == q->memo || (w = malloc(len)) == NULL)
		return;
	memcpy(w, wire, len);
	if (q->memo != q->res.reply)
		ldns_pkt_free(q->memo);
	free(q->memo_wire);
	q->memo = r;
	q->memo_wire = w;
	q->memo_len = len;
}

/* dnsmsg_check, but an answer byte for byte the same as the last one accepted (the id
 * aside, which must be this query's) gets the same verdict and the same records: the
 * query is the same, all but its id. */
static int dnsq_check(struct dnsq *q, const uint8_t *wire, size_t len, unsigned flags, ldns_pkt **r,
                      char *why, size_t whylen)
{
	if (q->memo != NULL && q->on_msg == NULL && len == q->memo_len && len >= 2 &&
	    LDNS_ID_WIRE(wire) == ldns_pkt_id(q->query) &&
	    memcmp(wire + 2, q->memo_wire + 2, len - 2) == 0) {
		ldns_pkt_set_id(q->memo, ldns_pkt_id(q->query));
		*r = q->memo;
		return 0;
	}
	return dnsmsg_check(q->query, wire, len, flags, r, why, whylen);
}

/* Free a reply this dnsq got, unless it is the remembered one. */
static void dnsq_drop(struct dnsq *q, ldns_pkt *r)
{
	if (r != q->memo)
		ldns_pkt_free(r);
}

/* The end of the exchange: the last statement of whichever callback calls it. */
static void dnsq_finish(struct dnsq *q, enum probe_reason r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void dnsq_finish(struct dnsq *q, enum probe_reason r, const char *fmt, ...)
{
	va_list ap;

	dnsq_close(q);
	q->res.reason = r;
	q->res.detail[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(q->res.detail, sizeof(q->res.detail), fmt, ap);
		va_end(ap);
	}
	q->on_done(q, q->arg);
}

static const char *dnsq_proto(const struct dnsq *q)
{
	return q->res.tcp ? "tcp" : "udp";
}

/* Count n bytes against the owning run's max_read_bytes; true (the exchange ended) once
 * past it. */
static bool dnsq_over_budget(struct dnsq *q, size_t n)
{
	if (q->probe == NULL || probe_limits_read(q->probe, n))
		return false;
	dnsq_finish(q, PR_LIMIT, "read more than max_read_bytes (%zu bytes) from %s over %s",
	            probe_limits_get()->max_read_bytes, q->res.remote, dnsq_proto(q));
	return true;
}

/* The source as the kernel chose it: proof of the unique address in the facts. */
static void dnsq_local(struct dnsq *q)
{
	const char *s =
	        net_local_host(q->fd, q->dst.ss_family, q->has_src ? &q->src : NULL, &q->local);

	if (s != NULL) {
		size_t n = strnlen(s, sizeof(q->res.local) - 1);
		memcpy(q->res.local, s, n);
		q->res.local[n] = '\0';
	}
}

/* A failure to open or use a socket, in words that name both ends. */
static void dnsq_fail_errno(struct dnsq *q, int err, enum probe_reason dflt, const char *what)
{
	char buf[64];
	const char *src = q->res.local[0] != '\0'
	                          ? q->res.local
	                          : net_source_format(&q->src, q->dst.ss_family, buf, sizeof(buf));

	if (err == ECONNREFUSED && !q->res.tcp)
		dnsq_finish(q, PR_REFUSED, "%s over udp from %s: port unreachable", q->res.remote,
		            src);
	else
		dnsq_finish(q, probe_errno_reason(err, dflt), "%s %s over %s from %s: %s", what,
		            q->res.remote, dnsq_proto(q), src, strerror(err));
}

static void dnsq_ignore(struct dnsq *q, const char *why)
{
	q->res.ignored++;
	snprintf(q->res.ignored_why, sizeof(q->res.ignored_why), "%s", why);
}

static void dnsq_tcp_open(struct dnsq *q);

static void dnsq_udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dnsq *q = arg;
	char why[128];
	ldns_pkt *r;

	for (int batch = 0;; batch++) {
		if (batch == DNSQ_BATCH) {
			event_add(q->rev, NULL);
			return;
		}
		ssize_t n = recv(fd, dnsq_udp_buf, sizeof(dnsq_udp_buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(q->rev, NULL);
			return;
		}
		if (n < 0) {
			dnsq_fail_errno(q, errno, PR_RECV, "receive from");
			return;
		}
		if (dnsq_over_budget(q, (size_t)n))
			return;
		if (dnsq_check(q, dnsq_udp_buf, (size_t)n, 0, &r, why, sizeof(why)) != 0) {
			dnsq_ignore(q, why);
			continue;
		}
		if (ldns_pkt_tc(r)) {
			/* The whole answer is only over TCP (RFC 7766); same query, same id. */
			dnsq_drop(q, r);
			dnsq_close(q);
			q->res.truncated = true;
			dnsq_tcp_open(q);
			return;
		}
		q->res.reply = r;
		q->res.reply_len = (size_t)n;
		q->res.bytes += (size_t)n;
		dnsq_memo(q, r, dnsq_udp_buf, (size_t)n);
		dnsq_finish(q, PR_OK, NULL);
		return;
	}
}

static void dnsq_udp_open(struct dnsq *q)
{
	bool in_progress;
	int fd = net_connect((struct sockaddr *)&q->dst, q->dstlen, SOCK_DGRAM,
	                     q->has_src ? &q->src : NULL, &in_progress);
	ssize_t n;

	q->res.tcp = false;
	if (fd < 0) {
		dnsq_fail_errno(q, -fd, PR_CONNECT, "connect to");
		return;
	}
	dnsq_opened(q, fd, dnsq_udp_read_cb, dnsq_udp_read_cb); /* wev: never added */
	dnsq_local(q);
	/* A connected UDP socket: the kernel drops datagrams from any other address. */
	do
		n = send(fd, q->wire + 2, q->wirelen - 2, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		dnsq_fail_errno(q, errno, PR_SEND, "send to");
		return;
	}
	event_add(q->rev, NULL);
}

/* A whole TCP message is in q->buf. Returns 1 when the exchange has ended. */
static int dnsq_tcp_message(struct dnsq *q)
{
	/* Only an AXFR stream's later messages may leave the question out (RFC 5936 2.2.1);
	 * the one reply to an ordinary query must echo it, whatever was read before it. */
	unsigned flags = q->on_msg != NULL && q->res.messages > 1 ? DNSMSG_ALLOW_NO_QUESTION : 0;
	char why[128];
	ldns_pkt *r;

	if (dnsq_check(q, q->buf, q->msglen, flags, &r, why, sizeof(why)) != 0) {
		if (q->on_msg != NULL) {
			dnsq_finish(q, PR_TRANSFER, "message %u from %s: %s", q->res.messages,
			            q->res.remote, why);
			return 1;
		}
		dnsq_ignore(q, why);
		return 0;
	}
	if (q->on_msg != NULL)
		return q->on_msg(q, r, q->msglen, q->arg) == DNSQ_STOP;
	q->res.reply = r;
	q->res.reply_len = q->msglen;
	dnsq_memo(q, r, q->buf, q->msglen);
	dnsq_finish(q, PR_OK, NULL);
	return 1;
}

static void dnsq_tcp_closed(struct dnsq *q)
{
	if (q->on_msg != NULL)
		dnsq_finish(q, PR_CLOSED, "%s closed the connection after %u message%s, %zu bytes",
		            q->res.remote, q->res.messages, q->res.messages == 1 ? "" : "s",
		            q->res.bytes);
	else if (q->res.ignored > 0)
		dnsq_finish(q, PR_CLOSED, "%s closed the connection; %u replies ignored (last: %s)",
		            q->res.remote, q->res.ignored, q->res.ignored_why);
	else
		dnsq_finish(q, PR_CLOSED, "%s closed the connection without a reply",
		            q->res.remote);
}

static void dnsq_tcp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dnsq *q = arg;

	for (int batch = 0;; batch++) {
		uint8_t *at;
		size_t want;
		bool in_len = q->lenhave < 2;

		if (batch == DNSQ_BATCH * 4) {
			event_add(q->rev, NULL);
			return;
		}

		if (in_len) {
			at = q->lenbuf + q->lenhave;
			want = 2 - q->lenhave;
		} else {
			at = q->buf + q->msghave;
			want = q->msglen - q->msghave;
		}
		ssize_t n = recv(fd, at, want, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(q->rev, NULL);
			return;
		}
		if (n < 0) {
			dnsq_fail_errno(q, errno, PR_RECV, "receive from");
			return;
		}
		if (n == 0) {
			dnsq_tcp_closed(q);
			return;
		}
		if (dnsq_over_budget(q, (size_t)n))
			return;
		q->res.bytes += (size_t)n;
		if (q->on_msg != NULL && q->max_bytes > 0 && q->res.bytes > q->max_bytes) {
			dnsq_finish(q, PR_TRANSFER, "more than max_bytes %zu from %s (%u messages)",
			            q->max_bytes, q->res.remote, q->res.messages);
			return;
		}
		if (in_len) {
			q->lenhave += (size_t)n;
			if (q->lenhave < 2)
				continue;
			q->msglen = ldns_read_uint16(q->lenbuf);
			q->msghave = 0;
			if (q->msglen > 0)
				continue;
		} else {
			q->msghave += (size_t)n;
			if (q->msghave < q->msglen)
				continue;
		}
		/* A whole message (an empty one fails the header check). */
		q->res.messages++;
		q->lenhave = 0;
		if (dnsq_tcp_message(q))
			return;
	}
}

static void dnsq_tcp_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dnsq *q = arg;

	if (!q->connected) {
		int err = net_connect_result(fd);
		if (err != 0) {
			dnsq_fail_errno(q, err, PR_CONNECT, "connect to");
			return;
		}
		q->connected = true;
		dnsq_local(q);
	}
	while (q->sent < q->wirelen) {
		ssize_t n = send(fd, q->wire + q->sent, q->wirelen - q->sent, MSG_NOSIGNAL);
		if (n >= 0) {
			q->sent += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			event_add(q->wev, NULL);
			return;
		}
		dnsq_fail_errno(q, errno, PR_SEND, "send to");
		return;
	}
	event_add(q->rev, NULL);
}

static void dnsq_tcp_open(struct dnsq *q)
{
	bool in_progress;
	int fd = net_connect((struct sockaddr *)&q->dst, q->dstlen, SOCK_STREAM,
	                     q->has_src ? &q->src : NULL, &in_progress);

	q->res.tcp = true;
	q->res.local[0] = '\0';
	q->connected = false;
	q->sent = q->lenhave = q->msglen = q->msghave = 0;
	if (fd < 0) {
		dnsq_fail_errno(q, -fd, PR_CONNECT, "connect to");
		return;
	}
	dnsq_opened(q, fd, dnsq_tcp_read_cb, dnsq_tcp_write_cb);
	if (q->buf == NULL && (q->buf = malloc(DNSQ_MSG_MAX)) == NULL) {
		dnsq_finish(q, PR_INTERNAL, "out of memory");
		return;
	}
	/* Even a connect that completed at once reports through writability. */
	event_add(q->wev, NULL);
}

static void dnsq_soon_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dnsq *q = arg;

	if (q->res.tcp)
		dnsq_tcp_open(q);
	else
		dnsq_udp_open(q);
}

/* The parameters of an exchange, and a fresh result: the start of every run. */
static void dnsq_setup(struct dnsq *q, struct event_base *base, const struct dnsq_params *p)
{
	bool same_dst = p->dstlen == q->dstlen && memcmp(&q->dst, p->dst, p->dstlen) == 0;

	q->base = base;
	if (!same_dst) {
		memcpy(&q->dst, p->dst, p->dstlen);
		q->dstlen = p->dstlen;
	}
	q->has_src = p->src != NULL;
	if (p->src != NULL)
		q->src = *p->src;
	q->on_msg = p->on_msg;
	q->max_bytes = p->max_bytes;
	q->on_done = p->on_done;
	q->arg = p->arg;
	q->probe = p->probe;
	q->fd = -1;
	q->res.reason = PR_INTERNAL;
	q->res.detail[0] = '\0';
	q->res.reply = NULL;
	q->res.reply_len = 0;
	q->res.tcp = p->tcp || p->on_msg != NULL;
	q->res.truncated = false;
	q->res.local[0] = '\0';
	q->res.ignored = 0;
	q->res.ignored_why[0] = '\0';
	q->res.bytes = 0;
	q->res.messages = 0;
	if (!same_dst || q->res.remote[0] == '\0')
		net_addr_format((struct sockaddr *)&q->dst, q->res.remote, sizeof(q->res.remote));
}

struct dnsq *dnsq_start(struct event_base *base, ldns_pkt *query, const struct dnsq_params *p)
{
	struct dnsq *q = calloc(1, sizeof(*q));
	uint8_t *wire = NULL;
	size_t len;

	if (q == NULL || p->dstlen > sizeof(q->dst) || dnsmsg_wire(query, &wire, &len) != 0)
		goto fail;
	q->wire = malloc(len + 2);
	q->rev = malloc(event_get_struct_event_size());
	q->wev = malloc(event_get_struct_event_size());
	if (q->wire == NULL || q->rev == NULL || q->wev == NULL)
		goto fail;
	ldns_write_uint16(q->wire, (uint16_t)len);
	memcpy(q->wire + 2, wire, len);
	free(wire);
	wire = NULL;
	q->wirelen = len + 2;
	q->query = query;
	q->dstlen = 0; /* nothing formatted yet */
	dnsq_setup(q, base, p);
	/* Open from the loop (in this same iteration): the caller's callbacks never run
	 * inside dnsq_start. */
	q->soon = evtimer_new(base, dnsq_soon_cb, q);
	if (q->soon == NULL)
		goto fail;
	event_active(q->soon, EV_TIMEOUT, 0);
	return q;
fail:
	free(wire);
	if (q != NULL) {
		free(q->wire);
		free(q->rev);
		free(q->wev);
		free(q);
	}
	ldns_pkt_free(query);
	return NULL;
}

int dnsq_restart(struct dnsq *q, struct event_base *base, const struct dnsq_params *p)
{
	uint16_t id = dnsmsg_new_id();

	if (p->dstlen > sizeof(q->dst))
		return -1;
	dnsq_stop(q);
	if (base != q->base) {
		event_free(q->soon);
		q->soon = evtimer_new(base, dnsq_soon_cb, q);
		if (q->soon == NULL)
			return -1;
	}
	/* The same query under a new id, in the packet (replies are checked against it)
	 * and on the wire. */
	ldns_pkt_set_id(q->query, id);
	ldns_write_uint16(q->wire + 2, id);
	dnsq_setup(q, base, p);
	event_active(q->soon, EV_TIMEOUT, 0);
	return 0;
}

void dnsq_stop(struct dnsq *q)
{
	if (q == NULL)
		return;
	dnsq_close(q);
	if (q->soon != NULL)
		evtimer_del(q->soon);
	if (q->res.reply != NULL)
		dnsq_drop(q, q->res.reply);
	q->res.reply = NULL;
}

const struct dnsq_result *dnsq_result(const struct dnsq *q)
{
	return &q->res;
}

const char *dnsq_transport(const struct dnsq *q)
{
	if (q->res.truncated)
		return "udp, truncated, then tcp";
	return dnsq_proto(q);
}

void dnsq_free(struct dnsq *q)
{
	if (q == NULL)
		return;
	dnsq_stop(q);
	if (q->soon != NULL)
		event_free(q->soon);
	ldns_pkt_free(q->memo);
	free(q->memo_wire);
	ldns_pkt_free(q->query);
	free(q->wire);
	free(q->buf);
	free(q->rev);
	free(q->wev);
	free(q);
}
