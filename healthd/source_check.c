/* Whether a source address is usable, for "source_check": a probe bound to an address the
 * node does not have fails on every run, so healthd refuses such a source when it loads
 * the config instead. What counts as local is ifaddr.c's rule (ifaddr_is_local). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ifaddr.h"
#include "source_check.h"

int source_check_addr(int family, const void *addr, char *why, size_t whylen)
{
	struct ifaddr_set *set = ifaddr_snapshot();
	int found;

	if (set == NULL) {
		snprintf(why, whylen, "cannot list local addresses: %s", strerror(errno));
		return -1;
	}
	found = ifaddr_is_local(set, family, addr);
	ifaddr_set_free(set);
	return found;
}
