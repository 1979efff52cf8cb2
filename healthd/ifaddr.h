/* Which addresses are configured on this node's interfaces (getifaddrs). */
#ifndef HEALTHD_IFADDR_H
#define HEALTHD_IFADDR_H

#include <stdbool.h>

#include "prefix.h"

struct ifaddr_set; /* one snapshot of the node's addresses */

struct ifaddr_set *ifaddr_snapshot(void); /* NULL if getifaddrs failed (errno set) */
void ifaddr_set_free(struct ifaddr_set *s);
/* addr is a struct in_addr or in6_addr of family. */
bool ifaddr_has(const struct ifaddr_set *s, int family, const void *addr);
/* Can a socket bind addr? It is configured, or inside the IPv4 prefix of an address on a
 * loopback interface, which Linux routes locally as a whole. */
bool ifaddr_is_local(const struct ifaddr_set *s, int family, const void *addr);
/* True when some configured address lies inside p (for a host prefix: is that address). */
bool ifaddr_in_prefix(const struct ifaddr_set *s, const struct prefix *p);

#endif
