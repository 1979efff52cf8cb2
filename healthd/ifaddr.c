/* Snapshots of the node's interface addresses: for sources that must be local and for
 * services whose anycast address must be configured before they may be announced. */
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ifaddr.h"

struct ifaddr_set {
	size_t n;
	struct prefix addrs[]; /* host prefixes, one per configured address */
};

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
		struct prefix *p = &s->addrs[s->n];
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
		if (s->addrs[i].family == family && memcmp(s->addrs[i].addr.bytes, addr, len) == 0)
			return true;
	return false;
}

bool ifaddr_in_prefix(const struct ifaddr_set *s, const struct prefix *p)
{
	for (size_t i = 0; s != NULL && i < s->n; i++)
		if (s->addrs[i].family == p->family &&
		    prefix_contains(p, p->family, s->addrs[i].addr.bytes))
			return true;
	return false;
}
