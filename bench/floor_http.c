/* bench/floor_http: the CPU floor of an http check: a plain loop of socket, connect to
 * ADDR:PORT, one GET written in one send, the answer read until its Content-Length is in,
 * close, N times; prints one Markdown table row tail with the CPU per request
 * (CLOCK_PROCESS_CPUTIME_ID).
 *
 *   floor_http ADDR PORT N          blocking calls, no event loop: what any client pays
 *                                   for a new loopback connection and one exchange
 *   floor_http ADDR PORT N epoll    non-blocking, one request at a time through epoll, as
 *                                   an event-driven client must: the connect's outcome and
 *                                   the answer are waited for with epoll_wait
 *   floor_http ADDR PORT N paced    epoll, and an idle epoll_wait of 1 ms before each
 *                                   request, as 1,000 checks a second spread by their
 *                                   timers run: each starts from a wakeup, its caches cold */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 when buf holds a whole answer: the header block and Content-Length bytes after it */
static int answer_done(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	const char *cl;
	size_t head;

	if (end == NULL)
		return 0;
	head = (size_t)(end - buf) + 4;
	cl = memmem(buf, head, "Content-Length:", 15);
	if (cl == NULL)
		return 1;
	return len >= head + strtoul(cl + 15, NULL, 10);
}

/* wait until fd is ready for events (one registration, changed as the exchange goes) */
static int wait_ready(int ep, int fd, uint32_t events, int *registered)
{
	struct epoll_event ev = {.events = events, .data.fd = fd}, out;

	if (epoll_ctl(ep, *registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0)
		return 0;
	*registered = 1;
	return epoll_wait(ep, &out, 1, 5000) == 1;
}

/* One request on a new connection: blocking calls when ep < 0, else non-blocking ones
 * that wait through ep for the connect's outcome and for the answer. */
static int one_request(int ep, const struct sockaddr_in *dst, const char *req, size_t reqlen)
{
	char buf[4096];
	size_t len = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (ep >= 0 ? SOCK_NONBLOCK : 0), 0);
	int ok = 0, reg = 0, err = 0;
	socklen_t errlen = sizeof(err);

	if (fd < 0)
		return 0;
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) != 0 &&
	    (ep < 0 || errno != EINPROGRESS || !wait_ready(ep, fd, EPOLLOUT, &reg) ||
	     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) != 0 || err != 0))
		goto out;
	if (send(fd, req, reqlen, MSG_NOSIGNAL) != (ssize_t)reqlen)
		goto out;
	while (len < sizeof(buf) - 1) {
		ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (r < 0 && errno == EAGAIN && ep >= 0) {
			if (!wait_ready(ep, fd, EPOLLIN, &reg))
				break;
			continue;
		}
		if (r <= 0)
			break;
		len += (size_t)r;
		if (answer_done(buf, len)) {
			ok = strncmp(buf, "HTTP/1.1 200", 12) == 0;
			break;
		}
	}
out:
	if (reg)
		(void)epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	return ok;
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = {.sin_family = AF_INET};
	char req[256];
	long n, ok = 0;
	int reqlen;
	double c0, w0, c1, w1;

	int ep = -1, paced = 0;

	if (argc == 5 && (strcmp(argv[4], "epoll") == 0 || strcmp(argv[4], "paced") == 0)) {
		paced = strcmp(argv[4], "paced") == 0;
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0)
			return 1;
		argc--;
	}
	if (argc != 4 || inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1)
		return 2;
	dst.sin_port = htons((unsigned short)atoi(argv[2]));
	n = atol(argv[3]);
	/* the request line and headers an http check sends by default */
	reqlen = snprintf(req, sizeof(req),
	                  "GET / HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: healthd\r\n"
	                  "Accept: */*\r\n\r\n",
	                  argv[1], argv[2]);
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	w0 = now(CLOCK_MONOTONIC);
	for (long i = 0; i < n; i++) {
		struct epoll_event idle;
		if (paced)
			(void)epoll_wait(ep, &idle, 1, 1);
		ok += one_request(ep, &dst, req, (size_t)reqlen);
	}
	c1 = now(CLOCK_PROCESS_CPUTIME_ID);
	w1 = now(CLOCK_MONOTONIC);
	printf("%ld requests in %.1f s | %.1f µs | | | | |\n", ok, w1 - w0,
	       (c1 - c0) / (double)n * 1e6);
	return ok == n ? 0 : 1;
}
