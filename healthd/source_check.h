/* "source_check": can a probe leave from this address? It can when the address is
 * configured on a local interface (getifaddrs), or lies inside the prefix of an IPv4
 * address on a loopback interface: Linux routes all of such a prefix locally, so
 * 127.0.0.7 works as a source on every machine that has 127.0.0.1/8 on lo. */
#ifndef HEALTHD_SOURCE_CHECK_H
#define HEALTHD_SOURCE_CHECK_H

#include <stddef.h>

/* family AF_INET (addr: struct in_addr) or AF_INET6 (struct in6_addr).
 * 1 local, 0 not, -1 when the interfaces cannot be listed (why says so). */
int source_check_addr(int family, const void *addr, char *why, size_t whylen);

#endif
