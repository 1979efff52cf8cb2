/* The http probe: one GET or HEAD through libcurl's multi interface on the probe's event
 * loop (curlev.c), from the node's unique source address, judged on its status and body.
 *
 * A run reads only what it needs: the body up to max_body, and no further once the
 * expected text is found or the status has already failed; the transfer is then stopped
 * on purpose, so the latency probe.c measures ends at the last byte needed. probe.c's
 * timer is the run's only deadline: at it, http_cancel detaches the transfer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http_priv.h"
#include "probe_limits.h"

#define HTTP_SNIPPET 48 /* body bytes quoted in a failure's detail */
#define HTTP_POOL    32 /* idle easy handles kept for the next http:// runs */

/* Easy handles of finished http:// runs, for the next http:// run of any check, kept as
 * they are: libcurl starts every transfer of a handle afresh (the request, the response,
 * the connection info), and http_setopts sets every option an http:// check may set, so
 * nothing of the last check's is left for the next. Reusing a handle saves
 * curl_easy_init and curl_easy_cleanup, a tenth of a run's instructions; the pool stays
 * as small as the number of runs that overlap (a handle holds about 6 KiB). Never
 * curl_easy_reset: in libcurl 7.88 that lost part of a request's state (LeakSanitizer).
 * https:// runs keep a new handle each: their TLS options and session cache stay out of
 * the pool, and a handle is 0.5% of an https run. Emptied when the last check holding a
 * multi lets go (http_release). */
static CURL *http_pool[HTTP_POOL];
static size_t http_npool;
static size_t http_holders; /* checks holding a multi (h->loop) */

/* Bind the source address of the socket's family before curl connects it, exactly as
 * the tcp probe does (net_bind_source): the same rules and the same errors. */
static int http_sockopt_cb(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	struct probe *p = arg;
	struct http_check *h = p->priv;
	int rc;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKOPT_OK;
	/* libcurl calls this right after http_opensocket_cb opened fd. */
	rc = net_bind_source(fd, h->family, &p->source);
	if (rc < 0) {
		h->bind_err = -rc;
		return CURL_SOCKOPT_ERROR;
	}
	return CURL_SOCKOPT_OK;
}

/* Open the socket as libcurl would, remembering why it could not: libcurl reports no
 * descriptor left (max_open_files) as a plain connect failure, without the errno. */
static curl_socket_t http_opensocket_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct probe *p = arg;
	struct http_check *h = p->priv;
	curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);

	(void)purpose;
	if (fd == CURL_SOCKET_BAD)
		h->socket_err = errno;
	h->family = a->family;
	return fd;
}

static int http_keep(struct http_check *h, const char *data, size_t len)
{
	if (h->bodylen + len > h->bodycap) {
		size_t cap = h->bodycap == 0 ? 4096 : h->bodycap;
		while (cap < h->bodylen + len)
			cap *= 2;
		if (cap > h->max_body)
			cap = h->max_body;
		char *b = realloc(h->body, cap + 1); /* + 1: NUL for the snippet */
		if (b == NULL)
			return -1;
		h->body = b;
		h->bodycap = cap;
	}
	memcpy(h->body + h->bodylen, data, len);
	h->bodylen += len;
	h->body[h->bodylen] = '\0';
	return 0;
}

/* Body bytes as they arrive. Returning less than given stops the transfer
 * (CURLE_WRITE_ERROR); h->enough tells that apart from a real failure. */
static size_t http_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct probe *p = arg;
	struct http_check *h = p->priv;
	size_t len = size * n, take;

	if (len == 0)
		return 0;
	if (!probe_limits_read(p, len)) {
		h->over = true; /* reported by http_done: not from inside curl */
		return 0;
	}
	if (!h->status_seen) {
		long code = 0;
		curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &code);
		h->status_seen = true;
		h->status_bad = !http_status_ok(h, code);
	}
	take = len < h->max_body - h->bodylen ? len : h->max_body - h->bodylen;
	/* Search only where a match could newly end, so a slow trickle stays linear. */
	size_t from = h->bodylen >= h->expectlen ? h->bodylen - h->expectlen + 1 : 0;
	if (http_keep(h, data, take) != 0)
		return 0;
	if (h->status_bad) {
		h->enough = true; /* the first bytes make the detail; the rest cannot help */
		return 0;
	}
	if (h->expect != NULL && !h->matched &&
	    memmem(h->body + from, h->bodylen - from, h->expect, h->expectlen) != NULL) {
		h->matched = true;
		if (h->regex_src == NULL) {
			h->enough = true;
			return 0;
		}
	}
	if (h->bodylen == h->max_body) {
		h->at_max = h->enough = true;
		return 0;
	}
	return len;
}

/* The first bytes of the body, printable, for a failure's detail. */
static void http_snippet(const struct http_check *h, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < h->bodylen && i < HTTP_SNIPPET && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)h->body[i];
		if (c == '\n' || c == '\r') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : 'r';
		} else if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
			out[o++] = (char)c;
		} else {
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		}
	}
	out[o] = '\0';
}

static json_t *http_ms(CURL *e, CURLINFO what)
{
	curl_off_t us = 0;
	if (curl_easy_getinfo(e, what, &us) != CURLE_OK || us <= 0)
		return NULL;
	return json_real((double)(us / 100) / 10.0);
}

/* What the run saw, for `healthd probe` and status output. */
static void http_facts(struct probe *p)
{
	struct http_check *h = p->priv;
	CURL *e = h->easy;
	long code = 0, version = 0, port = 0, verify = 0, conns = 0;
	char *ip = NULL, buf[HTTP_ADDRSTRLEN];

	if (curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code > 0)
		probe_fact(p, "status", json_integer(code));
	if (curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version) == CURLE_OK && version != 0)
		probe_fact(p, "http_version",
		           json_string(version == CURL_HTTP_VERSION_1_0   ? "1.0"
		                       : version == CURL_HTTP_VERSION_1_1 ? "1.1"
		                       : version == CURL_HTTP_VERSION_2_0 ? "2"
		                                                          : "3"));
	if (!h->head)
		probe_fact(p, "bytes", json_integer((json_int_t)h->bodylen));
	if (h->at_max)
		probe_fact(p, "max_body_reached", json_true());
	if (curl_easy_getinfo(e, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != NULL && *ip &&
	    curl_easy_getinfo(e, CURLINFO_PRIMARY_PORT, &port) == CURLE_OK) {
		snprintf(buf, sizeof(buf), strchr(ip, ':') ? "[%s]:%ld" : "%s:%ld", ip, port);
		probe_fact(p, "remote", json_string(buf));
	}
	if (curl_easy_getinfo(e, CURLINFO_LOCAL_IP, &ip) == CURLE_OK && ip != NULL && *ip)
		probe_fact(p, "local", json_string(ip));
	if (h->https && h->insecure) {
		probe_fact(p, "tls_verify", json_string("off"));
	} else if (h->https &&
	           curl_easy_getinfo(e, CURLINFO_SSL_VERIFYRESULT, &verify) == CURLE_OK) {
		char v[48];
		snprintf(v, sizeof(v), verify == 0 ? "ok" : "failed (X509 error %ld)", verify);
		probe_fact(p, "tls_verify", json_string(v));
	}
	if (h->resumed >= 0)
		probe_fact(p, "tls_resumed", json_boolean(h->resumed));
	if (h->reuse && curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &conns) == CURLE_OK)
		probe_fact(p, "connection_reused", json_boolean(conns == 0));
	probe_fact(p, "connect_ms", http_ms(e, CURLINFO_CONNECT_TIME_T));
	if (h->https)
		probe_fact(p, "tls_ms", http_ms(e, CURLINFO_APPCONNECT_TIME_T));
	probe_fact(p, "first_byte_ms", http_ms(e, CURLINFO_STARTTRANSFER_TIME_T));
}

/* Whether the body kept matches expect_body_regex: in one pass (http_match.c), or by
 * regexec for a pattern that matcher does not build. */
static bool http_body_matches(struct http_check *h)
{
	const char *body = h->body != NULL ? h->body : "";

	if (h->match != NULL)
		return http_match_run(h->match, body, h->bodylen);
	regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)h->bodylen};
	/* REG_STARTEND: a NUL inside the body does not end the text to match. */
	return regexec(&h->regex, body, 1, &m, REG_STARTEND) == 0;
}

/* A complete answer, or as much of it as was needed: judge status, then body. */
static void http_judge(struct probe *p)
{
	struct http_check *h = p->priv;
	long code = 0;
	char snip[HTTP_SNIPPET * 4 + 8], *local = NULL;
	const char *cut = h->at_max ? " (max_body)" : "";

	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &code);
	http_snippet(h, snip, sizeof(snip));
	if (!http_status_ok(h, code)) {
		probe_done(p, PR_BAD_STATUS, "HTTP %ld from %s, expected %s: \"%s\"", code,
		           h->remote, h->status_text, snip);
		return;
	}
	if (h->expect != NULL && !h->matched) {
		probe_done(p, PR_BODY_MISMATCH,
		           "HTTP %ld from %s: no \"%s\" in %zu bytes%s: \"%s\"", code, h->remote,
		           h->expect, h->bodylen, cut, snip);
		return;
	}
	if (h->regex_src != NULL) {
		if (!http_body_matches(h)) {
			probe_done(
			        p, PR_BODY_MISMATCH,
			        "HTTP %ld from %s: body does not match /%s/ in %zu bytes%s: \"%s\"",
			        code, h->remote, h->regex_src, h->bodylen, cut, snip);
			return;
		}
	}
	/* curl's string lives in the easy handle: probe_done formats before cancel frees it. */
	curl_easy_getinfo(h->easy, CURLINFO_LOCAL_IP, &local);
	probe_done(p, PR_OK, "HTTP %ld from %s from %s%s%s", code, h->remote,
	           local != NULL && *local ? local : "?",
	           h->head      ? ""
	           : h->matched ? ", body matched"
	                        : "",
	           h->regex_src != NULL ? ", regex matched" : "");
}

/* The configured source of the target's family ("[...]" is IPv6), for failure details. */
static const char *http_source(const struct probe *p, char *buf, size_t len)
{
	const struct http_check *h = p->priv;

	return net_source_format(&p->source, h->remote[0] == '[' ? AF_INET6 : AF_INET, buf, len);
}

static void http_failed(struct probe *p, CURLcode rc)
{
	struct http_check *h = p->priv;
	const char *why = h->errbuf[0] != '\0' ? h->errbuf : curl_easy_strerror(rc);
	char src[HTTP_ADDRSTRLEN];
	long oserr = 0;

	curl_easy_getinfo(h->easy, CURLINFO_OS_ERRNO, &oserr);
	switch (rc) {
	case CURLE_ABORTED_BY_CALLBACK:
		if (h->bind_err == 0)
			break;
		probe_done(p, PR_CONNECT, "connect to %s from %s: %s", h->remote,
		           http_source(p, src, sizeof(src)), strerror(h->bind_err));
		return;
	case CURLE_COULDNT_CONNECT:
		if (h->socket_err != 0) {
			probe_done(p, probe_errno_reason(h->socket_err, PR_CONNECT),
			           "connect to %s: cannot open a socket: %s", h->remote,
			           strerror(h->socket_err));
			return;
		}
		probe_done(p, probe_errno_reason((int)oserr, PR_CONNECT),
		           "connect to %s from %s: %s", h->remote, http_source(p, src, sizeof(src)),
		           oserr != 0 ? strerror((int)oserr) : why);
		return;
	case CURLE_OPERATION_TIMEDOUT:
		probe_done(p, PR_TIMEOUT, "%s: %s", h->remote, why);
		return;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_USE_SSL_FAILED:
		probe_done(p, PR_TLS, "TLS with %s: %s", h->remote, why);
		return;
	case CURLE_GOT_NOTHING:
		probe_done(p, PR_CLOSED, "%s closed the connection without a reply", h->remote);
		return;
	case CURLE_PARTIAL_FILE:
		probe_done(p, PR_CLOSED, "%s closed the connection mid-body: %s", h->remote, why);
		return;
	case CURLE_SEND_ERROR:
		probe_done(p, oserr == ECONNRESET ? PR_RESET : PR_SEND, "send to %s: %s", h->remote,
		           why);
		return;
	case CURLE_OUT_OF_MEMORY:
	case CURLE_WRITE_ERROR: /* not h->enough: our own buffer failed */
		probe_done(p, PR_INTERNAL, "%s: %s", h->remote, why);
		return;
	default:
		break;
	}
	/* Everything else happened while reading the reply: reset, malformed, HTTP/2 error. */
	probe_done(p, oserr == ECONNRESET ? PR_RESET : PR_RECV, "receive from %s: %s", h->remote,
	           why);
}

static void http_done(struct curlev_xfer *x, CURLcode rc, void *arg)
{
	struct probe *p = arg;
	struct http_check *h = p->priv;

	(void)x;
	h->finished = true;
	if (probe_wants_facts(p))
		http_facts(p);
	if (rc == CURLE_WRITE_ERROR && h->over) {
		char what[HTTP_ADDRSTRLEN + 16];
		snprintf(what, sizeof(what), "body from %s", h->remote);
		probe_limits_read_exceeded(p, what);
		return;
	}
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && h->enough))
		http_judge(p);
	else
		http_failed(p, rc);
}

/* Where a run stopped by the deadline was: the detail probe.c writes cannot say. */
static void http_stalled_fact(struct probe *p)
{
	struct http_check *h = p->priv;
	curl_off_t conn = 0, tls = 0, first = 0;
	const char *where;

	curl_easy_getinfo(h->easy, CURLINFO_CONNECT_TIME_T, &conn);
	curl_easy_getinfo(h->easy, CURLINFO_APPCONNECT_TIME_T, &tls);
	curl_easy_getinfo(h->easy, CURLINFO_STARTTRANSFER_TIME_T, &first);
	if (conn == 0)
		where = "connect";
	else if (h->https && tls == 0)
		where = "tls";
	else if (first == 0)
		where = "response";
	else
		where = "body";
	probe_fact(p, "stalled_in", json_string(where));
	probe_fact(p, "bytes", json_integer((json_int_t)h->bodylen));
}

#define HTTP_SET(e, opt, val)                                                                      \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = curl_easy_setopt(e, opt, val);                                        \
	} while (0)

/* What every handle has, whichever check runs it. */
static CURL *http_easy_new(void)
{
	CURL *e = curl_easy_init();
	CURLcode rc = CURLE_OK;

	if (e == NULL)
		return NULL;
	HTTP_SET(e, CURLOPT_PROTOCOLS_STR, "http,https");
	HTTP_SET(e, CURLOPT_NOSIGNAL, 1L);
	/* The environment's http_proxy must not route a probe of this node elsewhere. */
	HTTP_SET(e, CURLOPT_PROXY, "");
	HTTP_SET(e, CURLOPT_USERAGENT, "healthd");
	HTTP_SET(e, CURLOPT_WRITEFUNCTION, http_write_cb);
	HTTP_SET(e, CURLOPT_SOCKOPTFUNCTION, http_sockopt_cb);
	HTTP_SET(e, CURLOPT_OPENSOCKETFUNCTION, http_opensocket_cb);
	if (rc != CURLE_OK) {
		curl_easy_cleanup(e);
		return NULL;
	}
	return e;
}

static CURL *http_easy_get(const struct http_check *h)
{
	if (!h->https && http_npool > 0)
		return http_pool[--http_npool];
	return http_easy_new();
}

static void http_easy_put(const struct http_check *h, CURL *e)
{
	if (e == NULL)
		return;
	if (h->https || http_npool == HTTP_POOL || http_holders == 0) {
		curl_easy_cleanup(e);
		return;
	}
	/* The check's share and parsed URL may be freed before the handle runs again. */
	curl_easy_setopt(e, CURLOPT_SHARE, (CURLSH *)NULL);
	curl_easy_setopt(e, CURLOPT_CURLU, (CURLU *)NULL);
	http_pool[http_npool++] = e;
}

static void http_cancel(struct probe *p)
{
	struct http_check *h = p->priv;

	if (h == NULL)
		return;
	if (h->xfer != NULL && !h->finished && probe_wants_facts(p))
		http_stalled_fact(p);
	/* Detaching from the multi closes the connection; safe here, as cancel never runs
	 * inside a curl callback (curlev reports only after curl has returned). */
	curlev_remove(h->xfer);
	h->xfer = NULL;
	http_easy_put(h, h->easy);
	h->easy = NULL;
	free(h->body);
	h->body = NULL;
	h->bodylen = h->bodycap = 0;
}

/* Connected (TLS included), about to send the request: the TLS connection is still
 * there to ask whether it resumed a session. */
static int http_prereq_cb(void *arg, char *conn_ip, char *local_ip, int conn_port, int local_port)
{
	struct probe *p = arg;
	struct http_check *h = p->priv;

	(void)conn_ip;
	(void)local_ip;
	(void)conn_port;
	(void)local_port;
	h->resumed = tls_session_reused(h->easy);
	return CURL_PREREQFUNC_OK;
}

/* Before each https run: the trust store read again if its file changed, and then the
 * sessions begun under the old one forgotten (a resumed session is not verified again),
 * and the connection kept by reuse_connection closed. */
static int http_tls_refresh(struct probe *p)
{
	struct http_check *h = p->priv;
	char why[256];
	unsigned long gen;

	if (h->ca == NULL)
		return 0;
	gen = tls_ca_refresh(h->ca, why, sizeof(why));
	if (gen == 0) {
		probe_done(p, PR_TLS, "TLS with %s: %s", h->remote, why);
		return -1;
	}
	if (h->share != NULL && h->ca_gen != 0 && gen != h->ca_gen && http_share_new(h) != 0) {
		probe_done(p, PR_INTERNAL, "cannot start the transfer (out of memory)");
		return -1;
	}
	h->ca_gen = gen;
	return 0;
}

/* The check's options, on a new handle or one an earlier http:// run left: every option
 * an http:// run sets is set here every time, to its value or to libcurl's default. */
static int http_setopts(struct probe *p)
{
	struct http_check *h = p->priv;
	CURL *e = h->easy;
	CURLcode rc = CURLE_OK;

	/* The URL as libcurl's own parse would leave it, and its parts parsed once. */
	HTTP_SET(e, CURLOPT_URL, h->url_norm);
	HTTP_SET(e, CURLOPT_CURLU, h->uh);
	/* Every run opens its own connection: connecting is part of what is checked. With
	 * reuse_connection the connection the last run left open (in h->share, this check's
	 * alone) carries the next request; libcurl connects again when the server closed
	 * it. */
	HTTP_SET(e, CURLOPT_FRESH_CONNECT, h->reuse ? 0L : 1L);
	HTTP_SET(e, CURLOPT_FORBID_REUSE, h->reuse ? 0L : 1L);
	HTTP_SET(e, CURLOPT_SHARE, h->share);
	HTTP_SET(e, CURLOPT_NOBODY, h->head ? 1L : 0L);
	HTTP_SET(e, CURLOPT_ERRORBUFFER, h->errbuf);
	HTTP_SET(e, CURLOPT_WRITEDATA, p);
	HTTP_SET(e, CURLOPT_SOCKOPTDATA, p);
	HTTP_SET(e, CURLOPT_OPENSOCKETDATA, p);
	HTTP_SET(e, CURLOPT_HTTPHEADER, h->req_headers);
	HTTP_SET(e, CURLOPT_CONNECT_TO, h->connect_list);
	/* https:// handles are never pooled (http_easy_put): these stay on theirs. */
	if (h->https) {
		HTTP_SET(e, CURLOPT_SSL_VERIFYPEER, h->insecure ? 0L : 1L);
		HTTP_SET(e, CURLOPT_SSL_VERIFYHOST, h->insecure ? 0L : 2L);
		if (!h->tls_resume)
			HTTP_SET(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
		HTTP_SET(e, CURLOPT_PREREQFUNCTION, http_prereq_cb);
		HTTP_SET(e, CURLOPT_PREREQDATA, p);
		/* The shared store, read once; else ca_file replaces the system's trust store:
		 * libcurl's default CA directory (Debian's /etc/ssl/certs) would otherwise
		 * still vouch for the server. */
		if (h->ca != NULL) {
			if (rc == CURLE_OK && tls_ca_apply(h->ca, e) != 0)
				rc = CURLE_FAILED_INIT;
		} else if (h->ca_file != NULL) {
			HTTP_SET(e, CURLOPT_CAINFO, h->ca_file);
			HTTP_SET(e, CURLOPT_CAPATH, (char *)NULL);
		}
	}
	return rc == CURLE_OK ? 0 : -1;
}
#undef HTTP_SET

/* Let the multi of the base go (probe_release: the base is about to be freed). */
static void http_release(struct probe *p)
{
	struct http_check *h = p->priv;

	if (h == NULL || h->loop == NULL)
		return;
	curlev_drop(h->loop);
	h->loop = NULL;
	h->loop_base = NULL;
	if (--http_holders == 0)
		while (http_npool > 0)
			curl_easy_cleanup(http_pool[--http_npool]);
}

static void http_start(struct probe *p, struct event_base *base, const struct timeval *deadline)
{
	struct http_check *h = p->priv;

	(void)deadline; /* probe.c's timer is the run's only deadline */
	h->status_seen = h->status_bad = h->matched = h->enough = h->at_max = h->over = false;
	h->finished = false;
	h->bind_err = 0;
	h->socket_err = 0;
	h->resumed = -1;
	h->errbuf[0] = '\0';
	if (http_tls_refresh(p) != 0)
		return;
	if (h->loop_base != base) {
		http_release(p);
		if ((h->loop = curlev_hold(base)) == NULL) {
			probe_done(p, PR_INTERNAL, "cannot start the transfer (out of memory)");
			return;
		}
		h->loop_base = base;
		http_holders++;
	}
	h->easy = http_easy_get(h);
	if (h->easy != NULL && http_setopts(p) == 0 &&
	    (h->xfer = curlev_add(base, h->easy, http_done, p)) != NULL)
		return;
	probe_done(p, PR_INTERNAL, "cannot start the transfer (out of memory)");
}

static void http_free(struct probe *p)
{
	struct http_check *h = p->priv;

	if (h == NULL)
		return;
	http_cancel(p);
	http_release(p);
	http_config_free(h);
	free(h);
	p->priv = NULL;
}

const struct probe_ops probe_http_ops = {
        .name = "http",
        .keys = http_keys,
        .configure = http_configure,
        .start = http_start,
        .cancel = http_cancel,
        .free = http_free,
        .to_json = http_to_json,
        .release = http_release,
};
