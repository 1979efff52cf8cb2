/* IPv4/IPv6 prefixes: parsing with host bits refused, containment, formatting. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "prefix.h"

static int prefix_addr_parse(const char *s, struct prefix *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &out->addr.v4) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &out->addr.v6) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -1;
}

static unsigned prefix_maxlen(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* Clear every bit after the first len bits. */
static void prefix_mask(unsigned char *bytes, unsigned len, unsigned maxlen)
{
	for (unsigned i = 0; i < maxlen / 8; i++) {
		if (len >= (i + 1) * 8)
			continue;
		if (len <= i * 8)
			bytes[i] = 0;
		else
			bytes[i] &= (unsigned char)(0xff << (8 - (len - i * 8)));
	}
}

int prefix_parse(const char *s, struct prefix *out, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);

	if (alen == 0 || alen >= sizeof(addr)) {
		snprintf(err, errlen, "expected an address or prefix such as 192.0.2.0/24");
		return -1;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (prefix_addr_parse(addr, out) != 0) {
		snprintf(err, errlen, "%s is not an IPv4 or IPv6 address", addr);
		return -1;
	}

	unsigned maxlen = prefix_maxlen(out->family);
	unsigned len = maxlen;
	if (slash != NULL) {
		const char *p = slash + 1;
		/* Digits only: strtoul would let "+24", " 24" and "0x18" through. */
		if (*p == '\0' || strspn(p, "0123456789") != strlen(p) || strlen(p) > 3 ||
		    (len = (unsigned)atoi(p)) > maxlen) {
			snprintf(err, errlen, "prefix length must be 0-%u for %s", maxlen,
			         out->family == AF_INET ? "IPv4" : "IPv6");
			return -1;
		}
	}
	out->len = (unsigned char)len;

	struct prefix masked = *out;
	prefix_mask(masked.addr.bytes, len, maxlen);
	if (memcmp(masked.addr.bytes, out->addr.bytes, maxlen / 8) != 0) {
		char fix[PREFIX_STRLEN];
		prefix_format(&masked, fix, sizeof(fix));
		snprintf(err, errlen, "host bits set: did you mean %s?", fix);
		return -1;
	}
	return 0;
}

bool prefix_contains(const struct prefix *p, int family, const void *addr)
{
	if (family != p->family)
		return false;
	unsigned maxlen = prefix_maxlen(family);
	unsigned char bytes[16];
	memcpy(bytes, addr, maxlen / 8);
	prefix_mask(bytes, p->len, maxlen);
	return memcmp(bytes, p->addr.bytes, maxlen / 8) == 0;
}

bool prefix_equal(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr.bytes, b->addr.bytes, prefix_maxlen(a->family) / 8) == 0;
}

void prefix_format(const struct prefix *p, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	if (inet_ntop(p->family, p->addr.bytes, addr, sizeof(addr)) == NULL) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%s/%u", addr, (unsigned)p->len);
}
