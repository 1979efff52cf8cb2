/* bench/floor: the CPU floor of a tcp check: a plain loop of socket, bind to the loopback
 * source, connect to 127.0.0.1:PORT, close, N times; prints one Markdown table cell row
 * tail with the CPU per connection (CLOCK_PROCESS_CPUTIME_ID).
 *
 *   floor PORT N */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = {.sin_family = AF_INET}, src = {.sin_family = AF_INET};
	long n, ok = 0;
	double c0, w0, c1, w1;

	if (argc != 3)
		return 2;
	dst.sin_port = htons((unsigned short)atoi(argv[1]));
	dst.sin_addr.s_addr = htonl(0x7f000001);
	src.sin_addr.s_addr = htonl(0x7f000001);
	n = atol(argv[2]);
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	w0 = now(CLOCK_MONOTONIC);
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return 1;
		int one = 1;
		/* as healthd's net_bind_source: the port is picked at connect, not at bind */
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == 0 &&
		    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == 0)
			ok++;
		close(fd);
	}
	c1 = now(CLOCK_PROCESS_CPUTIME_ID);
	w1 = now(CLOCK_MONOTONIC);
	printf("%ld connections in %.1f s | %.1f µs | | | | |\n", ok, w1 - w0,
	       (c1 - c0) / (double)n * 1e6);
	return ok == n ? 0 : 1;
}
