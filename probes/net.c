/* Non-blocking sockets for probes: numeric addresses only (the daemon never resolves
 * names: a probe must not depend on the DNS it may be checking), the node's unique source
 * address bound before connect. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net.h"

/* An IPv6 scope ("fe80::1%eth0" or "%2") names the interface of a link-local address. */
static int net_parse_scope(const char *scope, uint32_t *id)
{
	char *end;
	unsigned long n;

	if (*scope == '\0')
		return -1;
	errno = 0;
	n = strtoul(scope, &end, 10);
	if (*end == '\0' && errno == 0 && n <= UINT32_MAX) {
		*id = (uint32_t)n;
		return 0;
	}
	*id = if_nametoindex(scope);
	return *id == 0 ? -1 : 0;
}

int net_addr_parse(const char *host, unsigned port, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	char *pct;

	if (host == NULL || port > 65535 || strlen(host) >= sizeof(buf))
		return -1;
	memset(ss, 0, sizeof(*ss));

	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*sin);
		return 0;
	}

	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	strcpy(buf, host);
	pct = strchr(buf, '%');
	if (pct != NULL) {
		*pct = '\0';
		if (net_parse_scope(pct + 1, &sin6->sin6_scope_id) != 0)
			return -1;
	}
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1) {
		memset(ss, 0, sizeof(*ss));
		return -1;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	*sslen = sizeof(*sin6);
	return 0;
}

void net_addr_format_host(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (len == 0)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s", a);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		char ifname[IF_NAMESIZE];
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		if (sin6->sin6_scope_id == 0)
			snprintf(buf, len, "%s", a);
		else if (if_indextoname(sin6->sin6_scope_id, ifname) != NULL)
			snprintf(buf, len, "%s%%%s", a, ifname);
		else
			snprintf(buf, len, "%s%%%u", a, (unsigned)sin6->sin6_scope_id);
	} else {
		snprintf(buf, len, "(family %d)", sa->sa_family);
	}
}

void net_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];

	net_addr_format_host(sa, a, sizeof(a));
	if (sa->sa_family == AF_INET)
		snprintf(buf, len, "%s:%u", a,
		         (unsigned)ntohs(((const struct sockaddr_in *)sa)->sin_port));
	else if (sa->sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a,
		         (unsigned)ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	else
		snprintf(buf, len, "%s", a);
}

/* src's address of family as a socket address (port 0): true, or false when it has none. */
static bool net_source_sockaddr(const struct source_addr *src, int family,
                                struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (src != NULL && family == AF_INET && src->has_v4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_addr = src->v4;
		*len = sizeof(*sin);
		return true;
	}
	if (src != NULL && family == AF_INET6 && src->has_v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = src->v6;
		*len = sizeof(*sin6);
		return true;
	}
	return false;
}

const char *net_source_format(const struct source_addr *src, int family, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sslen;

	if (!net_source_sockaddr(src, family, &ss, &sslen))
		return "any";
	net_addr_format_host((struct sockaddr *)&ss, buf, len);
	return buf;
}

int net_bind_source(int fd, int family, const struct source_addr *src)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	if (!net_source_sockaddr(src, family, &ss, &len))
		return 0;
	/* Let connect() pick the port per destination: thousands of probes bound to one
	 * source address would otherwise exhaust the ephemeral ports at bind time. Best
	 * effort (Linux 4.2+); for UDP it is ignored. No IP_FREEBIND: a source address
	 * missing from the node must fail loudly (EADDRNOTAVAIL), not probe from nowhere. */
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0)
		return -errno;
	return 0;
}

int net_connect(const struct sockaddr *dst, socklen_t dstlen, int type,
                const struct source_addr *src, bool *in_progress)
{
	int fd, rc, err;

	*in_progress = false;
	fd = socket(dst->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = net_bind_source(fd, dst->sa_family, src);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	if (connect(fd, dst, dstlen) != 0) {
		if (errno == EINPROGRESS) {
			*in_progress = true;
			return fd;
		}
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

int net_connect_result(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return errno;
	return err;
}

bool net_connected_now(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	/* ENOTCONN while the handshake goes on, and once it failed (state CLOSE). */
	return getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
}

const char *net_local_host(int fd, int family, const struct source_addr *src, struct net_local *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	/* A bound source is what getsockname would say (bind did not fail). */
	if (!net_source_sockaddr(src, family, &ss, &len)) {
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
			return NULL;
		if (len > sizeof(ss))
			len = sizeof(ss);
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = 0;
		else if (ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	}
	/* A scope is shown by its interface's name, which may change: never kept. */
	bool scoped = ss.ss_family == AF_INET6 && ((struct sockaddr_in6 *)&ss)->sin6_scope_id != 0;
	if (scoped || len != l->len || memcmp(&ss, &l->ss, len) != 0) {
		net_addr_format_host((struct sockaddr *)&ss, l->text, sizeof(l->text));
		memcpy(&l->ss, &ss, len);
		l->len = len;
	}
	return l->text;
}
