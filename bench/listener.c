/* bench/listener: accepts TCP connections on 127.0.0.1 and closes them, counting them.
 *
 *   listener DIR MAX_SECONDS
 *
 * Listens on 127.0.0.1, on a port the kernel picks, and writes that port to DIR/port.
 * Every connection is accepted and closed at once; DIR/count (rewritten atomically every
 * 50 ms while it changes) holds how many so far. It exits on SIGTERM or SIGINT, or by
 * itself after MAX_SECONDS. Loopback only. Built by bench/run.sh. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int write_file(const char *dir, const char *name, unsigned long long v)
{
	char path[4096], tmp[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%llu\n", v);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: listener DIR MAX_SECONDS\n");
		return 2;
	}
	const char *dir = argv[1];
	double limit = atof(argv[2]);
	if (limit <= 0)
		limit = 600;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof sin;
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(fd, 4096) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		perror("bind/listen");
		return 1;
	}
	unsigned long long count = 0, written = 0;
	if (write_file(dir, "count", 0) != 0 || write_file(dir, "port", ntohs(sin.sin_port)) != 0) {
		perror("write");
		return 1;
	}

	double end = now() + limit;
	while (!stop && now() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int n = poll(&p, 1, 50);
		if (n < 0 && errno != EINTR) {
			perror("poll");
			return 1;
		}
		for (;;) { /* bounded by the accept queue */
			int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				break;
			close(c);
			count++;
		}
		if (count != written && write_file(dir, "count", count) == 0)
			written = count;
	}
	write_file(dir, "count", count);
	close(fd);
	return 0;
}
