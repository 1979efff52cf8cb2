/* IPv4/IPv6 prefixes: parsing (host bits refused), containment, formatting. */
#ifndef HEALTHD_PREFIX_H
#define HEALTHD_PREFIX_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define PREFIX_STRLEN (INET6_ADDRSTRLEN + 5)

struct prefix {
	int family; /* AF_INET or AF_INET6 */
	unsigned char len;
	union {
		struct in_addr v4;
		struct in6_addr v6;
		unsigned char bytes[16];
	} addr;
};

/* "192.0.2.0/24", "2001:db8::53/128"; a bare address is a host prefix.
 * Returns 0, or -1 with a reason in err ("host bits set: did you mean 192.0.2.0/24?"). */
int prefix_parse(const char *s, struct prefix *out, char *err, size_t errlen);
/* addr is a struct in_addr or struct in6_addr of the given family. */
bool prefix_contains(const struct prefix *p, int family, const void *addr);
bool prefix_equal(const struct prefix *a, const struct prefix *b);
void prefix_format(const struct prefix *p, char *buf, size_t len);

#endif
