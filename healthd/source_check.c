/* Whether a source address is usable, for "source_check": a probe bound to an address the
 * node does not have fails on every run, so healthd refuses such a source when it loads
 * the config instead. Not ifaddr.c's exact match: a source may also be any address of a
 * loopback interface's IPv4 prefix, which the kernel treats as local. */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "source_check.h"

/* Linux adds a local route for the whole prefix of an address on a loopback device. */
static bool source_check_loopback_prefix(const struct ifaddrs *ifa, const struct in_addr *addr)
{
	const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ifa->ifa_addr;
	const struct sockaddr_in *m = (const struct sockaddr_in *)(const void *)ifa->ifa_netmask;

	if (!(ifa->ifa_flags & IFF_LOOPBACK) || m == NULL)
		return false;
	return (a->sin_addr.s_addr & m->sin_addr.s_addr) == (addr->s_addr & m->sin_addr.s_addr);
}

int source_check_addr(int family, const void *addr, char *why, size_t whylen)
{
	struct ifaddrs *all, *ifa;
	int found = 0;

	if (getifaddrs(&all) != 0) {
		snprintf(why, whylen, "cannot list local addresses: %s", strerror(errno));
		return -1;
	}
	for (ifa = all; ifa != NULL && !found; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != family)
			continue;
		if (family == AF_INET) {
			const struct sockaddr_in *a =
			        (const struct sockaddr_in *)(const void *)ifa->ifa_addr;
			found = memcmp(&a->sin_addr, addr, sizeof(a->sin_addr)) == 0 ||
			        source_check_loopback_prefix(ifa, addr);
		} else {
			const struct sockaddr_in6 *a =
			        (const struct sockaddr_in6 *)(const void *)ifa->ifa_addr;
			found = memcmp(&a->sin6_addr, addr, sizeof(a->sin6_addr)) == 0;
		}
	}
	freeifaddrs(all);
	return found;
}
