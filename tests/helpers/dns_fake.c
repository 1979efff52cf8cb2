/* A fake UDP DNS responder for the integration tests: to every query it first sends
 * replies a resolver must ignore (wrong id, wrong question, QR clear, a record count the
 * message does not hold), then, in mode "good", the right reply (A 192.0.2.1, AA).
 * Written by hand on purpose: it must be able to send what ldns would refuse to build.
 * Mode "flaky-soa" is a primary on a lossy path instead: it answers the 1st, 3rd, 5th...
 * query with the SOA of the name asked (serial SERIAL, AA) and ignores the others.
 *
 *   dns_fake ADDR PORT good|bad|flaky-soa [SECONDS] [SERIAL]
 *
 * Prints "ready" once bound; logs the source of each query on stderr ("query from
 * 127.0.0.7"); exits after SECONDS (default 300) so that a lost one cannot linger. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR 12

/* End of the question (after QTYPE and QCLASS), or 0 when the query is not one. */
static size_t question_end(const unsigned char *q, size_t len)
{
	size_t pos = HDR;

	if (len < HDR || (q[4] << 8 | q[5]) != 1)
		return 0;
	while (pos < len && q[pos] != 0) {
		if (q[pos] > 63)
			return 0;
		pos += (size_t)q[pos] + 1;
	}
	pos += 1 + 4;
	return pos <= len ? pos : 0;
}

static void send_reply(int fd, const struct sockaddr_storage *to, socklen_t tolen,
                       const unsigned char *q, size_t qend, int kind)
{
	static const unsigned char answer[] = {0xc0, 0x0c, 0, 1, 0,   1, 0, 0,
	                                       1,    44,   0, 4, 192, 0, 2, 1};
	unsigned char r[512];
	size_t len = qend + sizeof(answer);

	if (len > sizeof(r))
		return;
	memcpy(r, q, qend);
	memcpy(r + qend, answer, sizeof(answer));
	r[2] = (unsigned char)(0x80 | (q[2] & 0x78) | 0x04); /* QR, the query's opcode, AA */
	r[3] = 0;
	r[6] = 0, r[7] = 1; /* one answer */
	r[8] = r[9] = r[10] = r[11] = 0;
	switch (kind) {
	case 0: /* wrong id */
		r[0] ^= 0xff;
		break;
	case 1: /* a question that was not asked: its first letter changed */
		r[HDR + 1] = r[HDR + 1] == 'x' ? 'y' : 'x';
		break;
	case 2: /* a query, not a reply */
		r[2] &= 0x7f;
		break;
	case 3: /* two answers announced, one present */
		r[7] = 2;
		break;
	default: /* the right reply */
		break;
	}
	(void)sendto(fd, r, len, 0, (const struct sockaddr *)to, tolen);
	/* Spaced a little, so that each arrives as its own datagram event. */
	usleep(5000);
}

/* The SOA of the name asked: "NAME 300 IN SOA . . SERIAL 3600 600 86400 300", AA. */
static void send_soa(int fd, const struct sockaddr_storage *to, socklen_t tolen,
                     const unsigned char *q, size_t qend, unsigned long serial)
{
	const unsigned char soa[] = {
	        0xc0,
	        0x0c,
	        0,
	        6,
	        0,
	        1,
	        0,
	        0,
	        1,
	        44,
	        0,
	        22,
	        0,
	        0, /* owner, SOA, IN, TTL, . . */
	        (unsigned char)(serial >> 24),
	        (unsigned char)(serial >> 16),
	        (unsigned char)(serial >> 8),
	        (unsigned char)serial,
	        0,
	        0,
	        0x0e,
	        0x10, /* 3600 */
	        0,
	        0,
	        0x02,
	        0x58,
	        0,
	        0x01,
	        0x51,
	        0x80,
	        0,
	        0,
	        0x01,
	        0x2c, /* 600 86400 300 */
	};
	unsigned char r[512];

	if (qend + sizeof(soa) > sizeof(r))
		return;
	memcpy(r, q, qend);
	memcpy(r + qend, soa, sizeof(soa));
	r[2] = (unsigned char)(0x80 | (q[2] & 0x78) | 0x04); /* QR, the query's opcode, AA */
	r[3] = 0;
	r[6] = 0, r[7] = 1;
	r[8] = r[9] = r[10] = r[11] = 0;
	(void)sendto(fd, r, qend + sizeof(soa), 0, (const struct sockaddr *)to, tolen);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss = {0};
	socklen_t sslen;
	int fd, good, flaky;
	long seconds = argc > 4 ? strtol(argv[4], NULL, 10) : 300;
	unsigned long serial = argc > 5 ? strtoul(argv[5], NULL, 10) : 1, queries = 0;
	time_t end;

	if (argc < 4 || (strcmp(argv[3], "good") != 0 && strcmp(argv[3], "bad") != 0 &&
	                 strcmp(argv[3], "flaky-soa") != 0)) {
		fprintf(stderr,
		        "usage: dns_fake ADDR PORT good|bad|flaky-soa [SECONDS] [SERIAL]\n");
		return 2;
	}
	good = strcmp(argv[3], "good") == 0;
	flaky = strcmp(argv[3], "flaky-soa") == 0;
	if (inet_pton(AF_INET, argv[1], &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((unsigned short)atoi(argv[2]));
		sslen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, argv[1], &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((unsigned short)atoi(argv[2]));
		sslen = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, "dns_fake: bad address %s\n", argv[1]);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sslen) != 0) {
		perror("dns_fake: bind");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	end = time(NULL) + (seconds > 0 ? seconds : 300);
	while (time(NULL) < end) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		unsigned char q[512];
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		char host[INET6_ADDRSTRLEN] = "?";
		ssize_t n;
		size_t qend;

		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fromlen);
		if (n <= 0 || (qend = question_end(q, (size_t)n)) == 0)
			continue;
		if (from.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, host,
			          sizeof(host));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, host,
			          sizeof(host));
		fprintf(stderr, "query from %s\n", host);
		if (flaky) {
			if (++queries % 2 == 1)
				send_soa(fd, &from, fromlen, q, qend, serial);
			continue;
		}
		for (int kind = 0; kind < 4; kind++)
			send_reply(fd, &from, fromlen, q, qend, kind);
		if (good)
			send_reply(fd, &from, fromlen, q, qend, 4);
	}
	return 0;
}
