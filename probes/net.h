/* Non-blocking sockets for probes: resolve a numeric target, bind the node's unique
 * source address of the target's family, connect, all under one deadline per run. */
#ifndef HEALTHD_NET_H
#define HEALTHD_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/time.h>

/* The unique (non-anycast) source address: one IPv4 and/or one IPv6. */
struct source_addr {
	bool has_v4, has_v6;
	struct in_addr v4;
	struct in6_addr v6;
};

/* Parse a numeric IPv4/IPv6 address and port into ss. Returns 0 or -1. */
int net_addr_parse(const char *host, unsigned port, struct sockaddr_storage *ss, socklen_t *sslen);
/* "127.0.0.1:53", "[::1]:53" */
void net_addr_format(const struct sockaddr *sa, char *buf, size_t len);
/* "127.0.0.1", "::1": the address alone (a local ephemeral port is noise in details). */
void net_addr_format_host(const struct sockaddr *sa, char *buf, size_t len);
/* src's address of family, for details: buf, or "any" when it has none (NULL src too). */
const char *net_source_format(const struct source_addr *src, int family, char *buf, size_t len);
/* Bind fd to src's address of the family of 'family' if one is set.
 * Returns 0 (bound or nothing to bind) or -errno. */
int net_bind_source(int fd, int family, const struct source_addr *src);
/* Non-blocking socket of type (SOCK_STREAM/SOCK_DGRAM) for dst, source bound, connect()
 * started. Returns fd, or -errno (the socket is closed on failure). *in_progress set when
 * the connect completes later (wait for writability, then net_connect_result). */
int net_connect(const struct sockaddr *dst, socklen_t dstlen, int type,
                const struct source_addr *src, bool *in_progress);
/* After writability: 0 if the connect succeeded, else the errno it failed with. */
int net_connect_result(int fd);
/* Right after a TCP connect in progress: true when it is already established (on loopback
 * the handshake is done before connect returns), false when it is still going or failed
 * (wait for writability then). One getpeername. */
bool net_connected_now(int fd);

/* A socket's local address as text, formatted again only when it changed (the kernel
 * picks the same source for the same destination run after run). One per user. */
struct net_local {
	struct sockaddr_storage ss; /* the address last formatted, port cleared */
	socklen_t len;              /* 0: none yet */
	char text[64];              /* its net_addr_format_host */
};
/* The local address of connected fd: src's address of family when one is bound (no need
 * to ask the kernel), else getsockname's. NULL when getsockname fails. */
const char *net_local_host(int fd, int family, const struct source_addr *src, struct net_local *l);

#endif
