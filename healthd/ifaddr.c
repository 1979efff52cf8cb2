/* Snapshots of the node's interface addresses: for sources that must be local and for
 * services whose anycast address must be configured before they may be announced. */
#include <ifaddrs.h>
#include <net/if.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ifaddr.h"

struct ifaddr_entry {
	struct prefix host; /* the configured address, as a host prefix */
	/* What the kernel routes locally because of it: the host, or for an IPv4 address
	 * on a loopback interface its whole prefix (127.0.0.1/8 makes 127.0.0.7 local). */
	struct prefix local;
};

struct ifaddr_set {
	size_t n;
	struct ifaddr_entry addrs[];
};

/* Linux adds a local route for the whole prefix of an address on a loopback device. */
static void ifaddr_loopback_prefix(const struct ifaddrs *ifa, struct prefix *local)
{
	const struct sockaddr_in *m = (const struct sockaddr_in *)(const void *)ifa->ifa_netmask;
	uint32_t mask;

	if (!(ifa->ifa_flags & IFF_LOOPBACK) || m == NULL || m->sin_family != AF_INET)
		return;
	mask = m->sin_addr.s_addr;
	local->len = (unsigned char)__builtin_popcount(mask);
	local->addr.v4.s_addr &= mask;
}

struct ifaddr_set *ifaddr_snapshot(void)
{
	struct ifaddrs *list, *ifa;
	size_t n = 0;

	if (getifaddrs(&list) != 0)
		return NULL;
	for (ifa = list; ifa != NULL; ifa = ifa->ifa_next)
		n++;
	struct ifaddr_set *s = calloc(1, sizeof(*s) + (n ? n : 1) * sizeof(s->addrs[0]));
	if (s == NULL) {
		freeifaddrs(list);
		return NULL;
	}
	for (ifa = list; ifa != NULL; ifa = ifa->ifa_next) {
		const struct sockaddr *sa = ifa->ifa_addr;
		struct ifaddr_entry *e = &s->addrs[s->n];
		struct prefix *p = &e->host;
		if (sa == NULL)
			continue;
		if (sa->sa_family == AF_INET) {
			p->family = AF_INET;
			p->len = 32;
			p->addr.v4 = ((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		} else if (sa->sa_family == AF_INET6) {
			p->family = AF_INET6;
			p->len = 128;
			p->addr.v6 = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		} else {
			continue;
		}
		e->local = e->host;
		if (sa->sa_family == AF_INET)
			ifaddr_loopback_prefix(ifa, &e->local);
		s->n++;
	}
	freeifaddrs(list);
	return s;
}

void ifaddr_set_free(struct ifaddr_set *s)
{
	free(s);
}

bool ifaddr_has(const struct ifaddr_set *s, int family, const void *addr)
{
	size_t len = family == AF_INET ? 4 : 16;
	for (size_t i = 0; s != NULL && i < s->n; i++)
		if (s->addrs[i].host.family == family &&
		    memcmp(s->addrs[i].host.addr.bytes, addr, len) == 0)
			return true;
	return false;
}

bool ifaddr_is_local(const struct ifaddr_set *s, int family, const void *addr)
{
	for (size_t i = 0; s != NULL && i < s->n; i++)
		if (prefix_contains(&s->addrs[i].local, family, addr))
			return true;
	return false;
}

bool ifaddr_in_prefix(const struct ifaddr_set *s, const struct prefix *p)
{
	for (size_t i = 0; s != NULL && i < s->n; i++)
		if (s->addrs[i].host.family == p->family &&
		    prefix_contains(p, p->family, s->addrs[i].host.addr.bytes))
			return true;
	return false;
}
