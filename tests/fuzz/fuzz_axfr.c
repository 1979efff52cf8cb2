/* libFuzzer target: an AXFR stream, as a primary sends it over TCP, read by a real
 * dns-axfr probe: dnsq.c's TCP framing (two-byte lengths, messages in any pieces, an
 * empty message, max_bytes) and dnsmsg.c's checks of every message, then dns_axfr.c's
 * rules (opening SOA of the zone, rcode, records counted, closing SOA equal to the
 * opening one and last). The probe connects to a listener of this process on
 * 127.0.51.1; the input is sent on the accepted connection, which is then closed.
 *
 * Input: the stream as sent, lengths included. The id of each message (the two bytes
 * after its length) is replaced by the query's, which is random, so that the input
 * reaches past the id check.
 *
 * fuzz-sources: lib/*.c probes/*.c
 * Seeds: tests/fuzz/corpus/axfr (transfers of example.test: one message, several, and
 * broken ones). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "../../lib/cfgerr.h"
#include "../../lib/log.h"
#include "../../probes/probe.h"

#define FUZZ_ADDR 0x7f003301 /* 127.0.51.1 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct event_base *base;
static struct probe *probe;
static int lfd = -1;

static void on_done(struct probe *p, const struct probe_result *r, void *arg)
{
	(void)p;
	*(struct probe_result *)arg = *r;
}

static void fuzz_init(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(FUZZ_ADDR)};
	socklen_t len = sizeof(sin);
	struct config_error err;
	char text[160];

	log_init("fuzz", false, 0, LOG_CRIT);
	base = event_base_new();
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (base == NULL || lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(lfd, 16) != 0 || getsockname(lfd, (struct sockaddr *)&sin, &len) != 0) {
		perror("fuzz_axfr: listener on 127.0.51.1");
		abort();
	}
	snprintf(text, sizeof(text),
	         "{\"zone\": \"example.test\", \"server\": \"127.0.51.1@%u\", \"max_bytes\": 8192}",
	         ntohs(sin.sin_port));
	json_t *obj = json_loads(text, 0, NULL);
	config_error_init(&err, "fuzz", NULL);
	probe = probe_new(&probe_dns_axfr_ops, obj, &err);
	if (probe == NULL) {
		fprintf(stderr, "fuzz_axfr: %s\n", err.nmsgs ? err.msgs[0] : "?");
		abort();
	}
	config_error_free(&err);
	json_decref(obj);
	probe->timeout_ms = 2000;
}

/* Read exactly n bytes from the accepted connection (blocking, bounded by SO_RCVTIMEO). */
static int read_all(int fd, uint8_t *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = recv(fd, buf + got, n - got, 0);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_result res = {.reason = PR_COUNT};
	struct timeval tmo = {.tv_sec = 2};
	uint8_t q[2 + 512], *s;
	int cfd = -1;

	if (base == NULL)
		fuzz_init();
	probe_set_done(probe, on_done, &res);
	probe_run(probe, base);
	/* The probe connects (in the loop); accept it. */
	for (int i = 0; i < 1000 && cfd < 0 && res.reason == PR_COUNT; i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd < 0)
			usleep(100);
	}
	if (cfd < 0)
		abort(); /* the probe never connected */
	fcntl(cfd, F_SETFL, 0);
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
	/* The query goes out from the loop too. */
	int qlen = -1;
	for (int i = 0; i < 1000 && res.reason == PR_COUNT; i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		uint8_t l[2];
		if (recv(cfd, l, 2, MSG_PEEK | MSG_DONTWAIT) == 2) {
			qlen = l[0] << 8 | l[1];
			break;
		}
		usleep(100);
	}
	if (qlen < 12 || qlen > 512 || read_all(cfd, q, 2 + (size_t)qlen) != 0)
		abort(); /* the probe sent no AXFR query */

	s = malloc(size > 0 ? size : 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	for (size_t off = 0; off + 4 <= size;) {
		size_t mlen = (size_t)s[off] << 8 | s[off + 1];
		s[off + 2] = q[2];
		s[off + 3] = q[3];
		off += 2 + mlen;
	}
	if (size > 0 && send(cfd, s, size, MSG_NOSIGNAL) != (ssize_t)size && errno != EPIPE &&
	    errno != ECONNRESET)
		abort();
	free(s);
	close(cfd);
	for (int i = 0; i < 100000 && res.reason == PR_COUNT; i++)
		event_base_loop(base, EVLOOP_ONCE);
	if (res.reason == PR_COUNT)
		abort();                    /* no result although the stream ended */
	if (getenv("FUZZ_VERBOSE") != NULL) /* what a seed does: FUZZ_VERBOSE=1 axfr -runs=0 DIR */
		fprintf(stderr, "%s: %s\n", probe_reason_info(res.reason)->code, res.detail);
	if (res.reason != PR_OK && res.reason != PR_TRANSFER && res.reason != PR_RESET &&
	    res.reason != PR_RECV) {
		fprintf(stderr, "unexpected: %s %s\n", probe_reason_info(res.reason)->code,
		        res.detail);
		abort();
	}
	return 0;
}
