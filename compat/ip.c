/* Addresses and networks exactly as ExaBGP 4.2's healthcheck sees them: parsed by the
 * rules of its vendored ipaddress module (1.0.23) and printed as its str() does, since
 * the printed form is what reaches ExaBGP. Plus the addresses found on lo. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compat.h"

static bool ip_all(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return false;
	return true;
}

/* One octet: 1-3 decimal digits, at most 255, and no leading zero above 7 (the module
 * refuses what could be read as octal). */
static int ip_octet(const char *s, size_t n, uint8_t *out)
{
	if (n == 0 || n > 3 || !ip_all(s, n, "0123456789"))
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	if ((v > 7 && s[0] == '0') || v > 255)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

static int ip_parse_v4(const char *s, size_t n, uint8_t out[4])
{
	size_t start = 0, k = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (k == 4 || ip_octet(s + start, i - start, &out[k]) != 0)
			return -1;
		k++;
		start = i + 1;
	}
	return k == 4 ? 0 : -1;
}

/* The module's IPv6 parser: colon-separated parts, at most one "::", an optional
 * trailing IPv4 address, hextets of 1-4 hex digits. */
static int ip_parse_v6(const char *s, size_t n, uint8_t out[16])
{
	enum { PARTS_MAX = 11 };
	uint16_t hex[PARTS_MAX];
	bool empty[PARTS_MAX];
	size_t np = 0, start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != ':')
			continue;
		const char *p = s + start;
		size_t len = i - start;
		start = i + 1;
		if (np + 2 > PARTS_MAX)
			return -1; /* more than the 9 parts allowed below */
		if (i == n && memchr(p, '.', len) != NULL) {
			uint8_t v4[4];
			if (np < 2 || ip_parse_v4(p, len, v4) != 0)
				return -1;
			hex[np] = (uint16_t)(v4[0] << 8 | v4[1]);
			hex[np + 1] = (uint16_t)(v4[2] << 8 | v4[3]);
			empty[np] = empty[np + 1] = false;
			np += 2;
			continue;
		}
		if (len > 4 || !ip_all(p, len, "0123456789abcdefABCDEF"))
			return -1;
		unsigned v = 0;
		for (size_t j = 0; j < len; j++)
			v = v * 16 +
			    (unsigned)(p[j] <= '9' ? p[j] - '0' : (p[j] | 0x20) - 'a' + 10);
		hex[np] = (uint16_t)v;
		empty[np++] = len == 0;
	}
	if (np < 3 || np > 9)
		return -1;
	long skip = -1;
	for (size_t i = 1; i + 1 < np; i++) {
		if (!empty[i])
			continue;
		if (skip >= 0)
			return -1; /* at most one "::" */
		skip = (long)i;
	}
	size_t hi, lo, skipped;
	if (skip >= 0) {
		hi = (size_t)skip;
		lo = np - (size_t)skip - 1;
		if (empty[0] && --hi != 0)
			return -1; /* a leading ':' only as part of "::" */
		if (empty[np - 1] && --lo != 0)
			return -1;
		if (hi + lo >= 8)
			return -1;
		skipped = 8 - hi - lo;
	} else {
		if (np != 8 || empty[0] || empty[np - 1])
			return -1;
		hi = np;
		lo = 0;
		skipped = 0;
	}
	uint16_t w[8] = {0};
	for (size_t i = 0; i < hi; i++)
		w[i] = hex[i];
	for (size_t i = 0; i < lo; i++)
		w[hi + skipped + i] = hex[np - lo + i];
	for (size_t i = 0; i < 8; i++) {
		out[2 * i] = (uint8_t)(w[i] >> 8);
		out[2 * i + 1] = (uint8_t)w[i];
	}
	return 0;
}

int compat_addr_parse(const char *s, struct compat_net *out)
{
	size_t n = strlen(s);

	memset(out, 0, sizeof(*out));
	if (n > 0 && ip_parse_v4(s, n, out->addr) == 0) {
		out->family = AF_INET;
		out->len = 32;
		return 0;
	}
	if (n > 0 && ip_parse_v6(s, n, out->addr) == 0) {
		out->family = AF_INET6;
		out->len = 128;
		return 0;
	}
	return -1;
}

/* Prefix length of a contiguous mask, or -1. */
static int ip_mask_len(const uint8_t *m, unsigned bytes)
{
	unsigned len = 0;
	bool zero = false;
	for (unsigned i = 0; i < bytes * 8; i++) {
		bool bit = m[i / 8] >> (7 - i % 8) & 1;
		if (bit && zero)
			return -1;
		if (bit)
			len++;
		else
			zero = true;
	}
	return (int)len;
}

static int ip_prefix(const char *p, const struct compat_net *a, unsigned *len)
{
	unsigned max = a->family == AF_INET ? 32 : 128;
	size_t n = strlen(p);

	if (n > 0 && ip_all(p, n, "0123456789")) {
		unsigned long v = 0;
		for (size_t i = 0; i < n && v <= max; i++)
			v = v * 10 + (unsigned long)(p[i] - '0');
		if (v > max)
			return -1;
		*len = (unsigned)v;
		return 0;
	}
	if (a->family != AF_INET)
		return -1;
	/* IPv4 also takes a netmask (255.255.255.0) or a hostmask (0.0.0.255). */
	uint8_t m[4];
	if (ip_parse_v4(p, n, m) != 0)
		return -1;
	int l = ip_mask_len(m, 4);
	if (l < 0) {
		for (int i = 0; i < 4; i++)
			m[i] = (uint8_t)~m[i];
		l = ip_mask_len(m, 4);
	}
	if (l < 0)
		return -1;
	*len = (unsigned)l;
	return 0;
}

int compat_net_parse(const char *s, struct compat_net *out)
{
	char buf[128];
	const char *slash = strchr(s, '/');
	unsigned len;

	if (strlen(s) >= sizeof(buf) || (slash != NULL && strchr(slash + 1, '/') != NULL))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	if (slash != NULL)
		buf[slash - s] = '\0';
	if (compat_addr_parse(buf, out) != 0)
		return -1;
	if (slash != NULL && ip_prefix(slash + 1, out, &len) != 0)
		return -1;
	if (slash != NULL)
		out->len = len;
	/* strict: no bit set after the prefix */
	for (unsigned i = out->len; i < (out->family == AF_INET ? 32u : 128u); i++)
		if (out->addr[i / 8] >> (7 - i % 8) & 1)
			return -1;
	return 0;
}

void compat_addr_format(const struct compat_net *n, char *buf, size_t len)
{
	if (n->family == AF_INET) {
		snprintf(buf, len, "%u.%u.%u.%u", n->addr[0], n->addr[1], n->addr[2], n->addr[3]);
		return;
	}
	/* The longest run of zero hextets (the first of equal ones) becomes "::" when it is
	 * longer than one; never an embedded IPv4 form. */
	unsigned w[8];
	int best = -1, best_len = 0, run = -1, run_len = 0;
	for (int i = 0; i < 8; i++) {
		w[i] = (unsigned)n->addr[2 * i] << 8 | n->addr[2 * i + 1];
		if (w[i] != 0) {
			run = -1;
			run_len = 0;
			continue;
		}
		if (run < 0)
			run = i;
		if (++run_len > best_len) {
			best = run;
			best_len = run_len;
		}
	}
	if (best_len < 2)
		best = -1;
	size_t off = 0;
	buf[0] = '\0';
	for (int i = 0; i < 8 && off < len; i++) {
		if (i == best) {
			off += (size_t)snprintf(buf + off, len - off, "%s", i == 0 ? "::" : ":");
			i += best_len - 1;
			continue;
		}
		off += (size_t)snprintf(buf + off, len - off, "%x%s", w[i], i < 7 ? ":" : "");
	}
}

void compat_net_format(const struct compat_net *n, char *buf, size_t len)
{
	char a[64];
	compat_addr_format(n, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, n->len);
}

uint64_t compat_net_size(const struct compat_net *n)
{
	unsigned host = (n->family == AF_INET ? 32 : 128) - n->len;
	return host >= 64 ? UINT64_MAX : (uint64_t)1 << host;
}

void compat_net_host(const struct compat_net *n, uint64_t i, struct compat_net *out)
{
	unsigned bytes = n->family == AF_INET ? 4 : 16;
	*out = *n;
	out->len = bytes * 8;
	/* add i to the address, big-endian, carrying */
	for (unsigned k = bytes; k-- > 0 && i != 0;) {
		unsigned sum = out->addr[k] + (unsigned)(i & 0xff);
		out->addr[k] = (uint8_t)sum;
		i = (i >> 8) + (sum >> 8);
	}
}

bool compat_net_equal(const struct compat_net *a, const struct compat_net *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

bool compat_net_is_loopback(const struct compat_net *n)
{
	if (n->family == AF_INET)
		return n->addr[0] == 127 && n->len >= 8; /* first and last address in 127/8 */
	static const uint8_t one[16] = {[15] = 1};
	return n->len == 128 && memcmp(n->addr, one, 16) == 0;
}

static int lo_net(const struct ifaddrs *ifa, struct compat_net *out)
{
	int fam = ifa->ifa_addr->sa_family;
	const void *a, *m;
	unsigned bytes = fam == AF_INET ? 4 : 16;

	if (fam == AF_INET) {
		a = &((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr;
		m = &((const struct sockaddr_in *)ifa->ifa_netmask)->sin_addr;
	} else {
		a = &((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;
		m = &((const struct sockaddr_in6 *)ifa->ifa_netmask)->sin6_addr;
	}
	int len = ip_mask_len(m, bytes);
	if (len < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->family = fam;
	out->len = (unsigned)len;
	memcpy(out->addr, a, bytes);
	/* the original builds ip_network("addr/len"), which refuses host bits */
	for (unsigned i = out->len; i < bytes * 8; i++)
		if (out->addr[i / 8] >> (7 - i % 8) & 1)
			return -1;
	return 0;
}

int compat_lo_addrs(const char *label, bool label_only, struct compat_net **out, size_t *n)
{
	struct ifaddrs *all, *ifa;
	struct compat_net net, *v = NULL;

	*out = NULL;
	*n = 0;
	if (getifaddrs(&all) != 0)
		return -1;
	for (ifa = all; ifa != NULL; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || ifa->ifa_netmask == NULL ||
		    (ifa->ifa_addr->sa_family != AF_INET && ifa->ifa_addr->sa_family != AF_INET6))
			continue;
		/* IPv4 addresses carry their label as the name: "lo" or "lo:LABEL". */
		const char *name = ifa->ifa_name;
		if (strcmp(name, "lo") != 0 && strncmp(name, "lo:", 3) != 0)
			continue;
		if (lo_net(ifa, &net) != 0 || compat_net_is_loopback(&net))
			continue;
		if (label != NULL && label[0] != '\0') {
			if (strncmp(name, "lo:", 3) != 0 ||
			    strncmp(name + 3, label, strlen(label)) != 0)
				continue;
		} else if (label_only) {
			continue;
		}
		struct compat_net *nv = realloc(v, (*n + 1) * sizeof(*v));
		if (nv == NULL) {
			free(v);
			freeifaddrs(all);
			return -1;
		}
		v = nv;
		v[(*n)++] = net;
	}
	freeifaddrs(all);
	*out = v;
	return 0;
}
