/* The tcp probe: connect from the node's unique source address, optionally send a request
 * and look for a substring in the first reply. The run's one deadline is probe.c's timer;
 * this file only reacts to socket readiness. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/cfgread.h"
#include "probe.h"
#include "probe_limits.h"

#define TCP_READ_MAX   (16 * 1024)
#define TCP_ADDRSTRLEN 64

struct tcp_check {
	struct sockaddr_storage dst;
	socklen_t dstlen;
	char remote[TCP_ADDRSTRLEN]; /* "127.0.0.1:53" */
	char *send_cfg, *expect_cfg; /* as configured, escapes intact */
	char *send, *expect;         /* escapes decoded */
	size_t sendlen, expectlen;

	/* Two events' storage, kept from run to run (tcp_free), assigned to each run's fd. */
	struct event *wev, *rev;
	struct net_local local; /* "127.0.0.7", kept while the kernel picks the same */

	/* the run: everything here is released by tcp_cancel */
	int fd;
	bool connected;
	size_t sent;
	char *buf;
	size_t buflen;
	const char *local_text; /* this run's local address: into local, or "?" */
};

static const char *const tcp_keys[] = {"host", "port", "send", "expect", NULL};

static int tcp_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode \r \n \t \\ \xHH so binary and line-based requests can be written in JSON that
 * stays readable. NULL with why set on a bad escape. */
static char *tcp_unescape(const char *s, size_t *len, char *why, size_t whylen)
{
	char *out = malloc(strlen(s) + 1);
	size_t n = 0;

	if (out == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	for (const char *c = s; *c != '\0'; c++) {
		if (*c != '\\') {
			out[n++] = *c;
			continue;
		}
		c++;
		switch (*c) {
		case 'r':
			out[n++] = '\r';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case '\\':
			out[n++] = '\\';
			break;
		case 'x': {
			int hi = tcp_hexval(c[1]), lo = hi < 0 ? -1 : tcp_hexval(c[2]);
			if (lo < 0) {
				snprintf(why, whylen, "\\x at offset %zu needs two hex digits",
				         (size_t)(c - s - 1));
				free(out);
				return NULL;
			}
			out[n++] = (char)(hi << 4 | lo);
			c += 2;
			break;
		}
		default:
			snprintf(why, whylen,
			         "unknown escape at offset %zu (use \\r \\n \\t \\\\ or \\xHH)",
			         (size_t)(c - s - 1));
			free(out);
			return NULL;
		}
	}
	*len = n;
	return out;
}

/* A reply fragment fit for a log line: printable ASCII kept, the rest escaped. */
static void tcp_snippet(const char *data, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < outlen; i++) {
		unsigned char ch = (unsigned char)data[i];
		if (ch == '\r' || ch == '\n') {
			out[o++] = '\\';
			out[o++] = ch == '\r' ? 'r' : 'n';
		} else if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			out[o++] = (char)ch;
		} else {
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", ch);
		}
	}
	out[o] = '\0';
}

static int tcp_read_string(struct config_error *err, const json_t *obj, const char *key, char **cfg,
                           char **val, size_t *len)
{
	const char *s;
	char why[128];
	int rc = cfg_string(err, obj, key, false, &s);

	if (rc <= 0)
		return rc;
	*val = tcp_unescape(s, len, why, sizeof(why));
	if (*val == NULL) {
		cfgerr_add(err, key, "%s", why);
		return -1;
	}
	if ((*cfg = strdup(s)) == NULL) {
		cfgerr_add(err, key, "out of memory");
		return -1;
	}
	return 1;
}

static int tcp_configure(struct probe *p, const json_t *obj, struct config_error *err)
{
	struct tcp_check *t = calloc(1, sizeof(*t));
	const char *host = NULL;
	long long port = 0;
	int bad = 0, rc;

	if (t == NULL) {
		cfgerr_add(err, NULL, "out of memory");
		return -1;
	}
	t->fd = -1;
	p->priv = t;

	rc = cfg_string(err, obj, "host", false, &host);
	if (rc == 0) {
		cfgerr_add(err, "host",
		           "required key is missing (expected a numeric IPv4 or IPv6 address)");
		bad++;
	} else if (rc < 0) {
		bad++;
	} else if (net_addr_parse(host, 0, &t->dst, &t->dstlen) != 0) {
		/* Numeric only: a probe must not depend on the DNS it may be checking. */
		cfgerr_add(err, "host", "expected a numeric IPv4 or IPv6 address, not \"%s\"",
		           host);
		bad++;
	}

	rc = cfg_int(err, obj, "port", 1, 65535, &port);
	if (rc == 0)
		cfgerr_add(err, "port", "required key is missing (expected integer 1-65535)");
	if (rc <= 0)
		bad++;

	if (tcp_read_string(err, obj, "send", &t->send_cfg, &t->send, &t->sendlen) < 0)
		bad++;
	if (tcp_read_string(err, obj, "expect", &t->expect_cfg, &t->expect, &t->expectlen) < 0)
		bad++;
	if (bad > 0)
		return -1;

	if (t->dst.ss_family == AF_INET)
		((struct sockaddr_in *)&t->dst)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&t->dst)->sin6_port = htons((uint16_t)port);
	net_addr_format((struct sockaddr *)&t->dst, t->remote, sizeof(t->remote));
	if (asprintf(&p->label, "tcp %s", t->remote) < 0)
		p->label = NULL;
	return 0;
}

static void tcp_cancel(struct probe *p)
{
	struct tcp_check *t = p->priv;

	if (t == NULL)
		return;
	/* Both events are assigned to the fd while it is open; deleting the one whose
	 * callback is running (the usual case: it called probe_done) is allowed. */
	if (t->fd >= 0) {
		event_del(t->wev);
		event_del(t->rev);
		close(t->fd);
	}
	t->fd = -1;
	free(t->buf);
	t->buf = NULL;
	t->buflen = 0;
}

static void tcp_connect_failed(struct probe *p, int err)
{
	struct tcp_check *t = p->priv;
	char src[TCP_ADDRSTRLEN];

	probe_done(p, probe_errno_reason(err, PR_CONNECT), "connect to %s from %s: %s", t->remote,
	           net_source_format(&p->source, t->dst.ss_family, src, sizeof(src)),
	           strerror(err));
}

static void tcp_ok(struct probe *p, const char *what)
{
	struct tcp_check *t = p->priv;
	probe_done(p, PR_OK, "connected to %s from %s%s", t->remote, t->local_text, what);
}

static void tcp_send(struct probe *p)
{
	struct tcp_check *t = p->priv;

	while (t->sent < t->sendlen) {
		ssize_t n = send(t->fd, t->send + t->sent, t->sendlen - t->sent, MSG_NOSIGNAL);
		if (n >= 0) {
			t->sent += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			event_add(t->wev, NULL);
			return;
		}
		probe_done(p, errno == ECONNRESET ? PR_RESET : PR_SEND, "send to %s: %s", t->remote,
		           strerror(errno));
		return;
	}
	if (t->expectlen > 0)
		event_add(t->rev, NULL);
	else
		tcp_ok(p, "");
}

/* The connect succeeded: send, wait for the reply, or done. */
static void tcp_connected(struct probe *p)
{
	struct tcp_check *t = p->priv;

	t->connected = true;
	t->local_text = net_local_host(t->fd, t->dst.ss_family, &p->source, &t->local);
	if (t->local_text == NULL)
		t->local_text = "?";
	if (t->sendlen > 0)
		tcp_send(p);
	else if (t->expectlen > 0)
		event_add(t->rev, NULL);
	else
		tcp_ok(p, "");
}

static void tcp_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	struct tcp_check *t = p->priv;
	int err;

	(void)what;
	if (t->connected) {
		tcp_send(p);
		return;
	}
	err = net_connect_result(fd);
	if (err != 0) {
		tcp_connect_failed(p, err);
		return;
	}
	tcp_connected(p);
}

static void tcp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	struct tcp_check *t = p->priv;
	char snip[64];

	(void)what;
	if (t->buf == NULL && (t->buf = malloc(TCP_READ_MAX)) == NULL) {
		probe_done(p, PR_INTERNAL, "out of memory");
		return;
	}
	for (;;) {
		ssize_t n = recv(fd, t->buf + t->buflen, TCP_READ_MAX - t->buflen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(t->rev, NULL);
			return;
		}
		if (n < 0) {
			probe_done(p, errno == ECONNRESET ? PR_RESET : PR_RECV,
			           "receive from %s: %s", t->remote, strerror(errno));
			return;
		}
		if (n == 0) {
			if (t->buflen == 0) {
				probe_done(p, PR_CLOSED, "%s closed the connection without a reply",
				           t->remote);
				return;
			}
			tcp_snippet(t->buf, t->buflen, snip, sizeof(snip));
			probe_done(p, PR_EXPECT, "reply from %s lacks \"%s\": \"%s\"", t->remote,
			           t->expect_cfg, snip);
			return;
		}
		if (!probe_limits_read(p, (size_t)n)) {
			char from[96];
			snprintf(from, sizeof(from), "reply from %s", t->remote);
			probe_limits_read_exceeded(p, from);
			return;
		}
		/* Search only where a match could newly end, so a slow trickle stays linear. */
		size_t from = t->buflen >= t->expectlen ? t->buflen - t->expectlen + 1 : 0;
		t->buflen += (size_t)n;
		if (memmem(t->buf + from, t->buflen - from, t->expect, t->expectlen) != NULL) {
			tcp_ok(p, ", reply matched");
			return;
		}
		if (t->buflen == TCP_READ_MAX) {
			probe_done(p, PR_EXPECT, "no \"%s\" in the first %d bytes from %s",
			           t->expect_cfg, TCP_READ_MAX, t->remote);
			return;
		}
	}
}

static void tcp_start(struct probe *p, struct event_base *base, const struct timeval *deadline)
{
	struct tcp_check *t = p->priv;
	bool in_progress;
	int fd;

	(void)deadline; /* probe.c's timer is the run's only deadline */
	t->connected = false;
	t->sent = 0;
	t->buflen = 0;
	t->local_text = "";
	if (t->wev == NULL)
		t->wev = malloc(event_get_struct_event_size());
	if (t->rev == NULL)
		t->rev = malloc(event_get_struct_event_size());
	if (t->wev == NULL || t->rev == NULL) {
		probe_done(p, PR_INTERNAL, "out of memory");
		return;
	}
	fd = net_connect((struct sockaddr *)&t->dst, t->dstlen, SOCK_STREAM, &p->source,
	                 &in_progress);
	if (fd < 0) {
		tcp_connect_failed(p, -fd);
		return;
	}
	t->fd = fd;
	event_assign(t->wev, base, fd, EV_WRITE, tcp_write_cb, p);
	event_assign(t->rev, base, fd, EV_READ, tcp_read_cb, p);
	/* The service is usually on this node, where the handshake is over before connect
	 * returns: the run goes on at once, without a round through the loop. Otherwise
	 * (still going, or failed) writability reports the outcome and SO_ERROR says it. */
	if (!in_progress || net_connected_now(fd))
		tcp_connected(p);
	else
		event_add(t->wev, NULL);
}

static void tcp_free(struct probe *p)
{
	struct tcp_check *t = p->priv;

	if (t == NULL)
		return;
	tcp_cancel(p);
	free(t->wev);
	free(t->rev);
	free(t->send_cfg);
	free(t->expect_cfg);
	free(t->send);
	free(t->expect);
	free(t);
	p->priv = NULL;
}

static json_t *tcp_to_json(const struct probe *p)
{
	const struct tcp_check *t = p->priv;
	char host[TCP_ADDRSTRLEN];
	unsigned port;
	json_t *o;

	net_addr_format_host((const struct sockaddr *)&t->dst, host, sizeof(host));
	if (t->dst.ss_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)&t->dst)->sin_port);
	else
		port = ntohs(((const struct sockaddr_in6 *)&t->dst)->sin6_port);
	o = json_pack("{s:s, s:I}", "host", host, "port", (json_int_t)port);
	if (o == NULL)
		return NULL;
	if (t->send_cfg != NULL)
		json_object_set_new(o, "send", json_string(t->send_cfg));
	if (t->expect_cfg != NULL)
		json_object_set_new(o, "expect", json_string(t->expect_cfg));
	return o;
}

const struct probe_ops probe_tcp_ops = {
        .name = "tcp",
        .keys = tcp_keys,
        .configure = tcp_configure,
        .start = tcp_start,
        .cancel = tcp_cancel,
        .free = tcp_free,
        .to_json = tcp_to_json,
};
