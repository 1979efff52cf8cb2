/* Config reads shared by the DNS probes. Addresses are numeric only: a probe must not
 * depend on the DNS it may be checking. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cfgread.h"
#include "dnscfg.h"
#include "net.h"

unsigned dnscfg_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

int dnscfg_addr_parse(const char *text, unsigned dflt_port, struct sockaddr_storage *ss,
                      socklen_t *sslen)
{
	char host[128];
	const char *at = strrchr(text, '@');
	unsigned long port = dflt_port;
	size_t hlen = at != NULL ? (size_t)(at - text) : strlen(text);

	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (at != NULL) {
		char *end;
		if (at[1] < '0' || at[1] > '9')
			return -1;
		errno = 0;
		port = strtoul(at + 1, &end, 10);
		if (*end != '\0' || errno != 0 || port < 1 || port > 65535)
			return -1;
	}
	return net_addr_parse(host, (unsigned)port, ss, sslen);
}

void dnscfg_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[96];

	net_addr_format_host(sa, host, sizeof(host));
	snprintf(buf, len, "%s@%u", host, dnscfg_port(sa));
}

int dnscfg_server(struct config_error *e, const json_t *obj, bool required,
                  struct sockaddr_storage *ss, socklen_t *sslen)
{
	const char *server = NULL;
	long long port = DNSCFG_PORT;
	int rc = cfg_string(e, obj, "server", false, &server);
	int prc = cfg_int(e, obj, "port", 1, 65535, &port);

	if (rc == 0) {
		if (required)
			cfgerr_add(e, "server",
			           "required key is missing (a numeric IPv4 or IPv6 address)");
		if (prc > 0)
			cfgerr_add(e, "port", "needs \"server\"");
		return required || prc != 0 ? -1 : 0;
	}
	if (rc < 0 || prc < 0)
		return -1;
	if (prc > 0 && strchr(server, '@') != NULL) {
		cfgerr_add(e, "port", "the port is given twice: in \"server\" (\"%s\") and here",
		           server);
		return -1;
	}
	if (dnscfg_addr_parse(server, (unsigned)port, ss, sslen) != 0) {
		cfgerr_add(e, "server",
		           "expected a numeric IPv4 or IPv6 address, optionally with @PORT, not "
		           "\"%s\"",
		           server);
		return -1;
	}
	return 1;
}

int dnscfg_primaries(struct config_error *e, const json_t *obj, bool required,
                     struct dnscfg_addr **out, size_t *n)
{
	char **v = NULL, key[32];
	size_t nv = 0;
	int bad = 0, rc = cfg_strv(e, obj, "primaries", &v, &nv);
	struct dnscfg_addr *a;

	if (rc == 0 && required)
		cfgerr_add(e, "primaries",
		           "required key is missing (an array of \"ADDRESS\" or \"ADDRESS@PORT\")");
	if (rc <= 0)
		return rc == 0 && required ? -1 : rc;
	if (nv == 0 || nv > DNSCFG_MAX_PRIMARIES) {
		cfgerr_add(e, "primaries", "expected 1 to %d addresses", DNSCFG_MAX_PRIMARIES);
		cfg_strv_free(v);
		return -1;
	}
	a = calloc(nv, sizeof(*a));
	if (a == NULL) {
		cfgerr_add(e, "primaries", "out of memory");
		cfg_strv_free(v);
		return -1;
	}
	for (size_t i = 0; i < nv; i++) {
		if (dnscfg_addr_parse(v[i], DNSCFG_PORT, &a[i].ss, &a[i].len) != 0) {
			snprintf(key, sizeof(key), "primaries[%zu]", i);
			cfgerr_add(
			        e, key,
			        "expected a numeric IPv4 or IPv6 address, optionally with @PORT, "
			        "not \"%s\"",
			        v[i]);
			bad++;
			continue;
		}
		dnscfg_addr_format((struct sockaddr *)&a[i].ss, a[i].text, sizeof(a[i].text));
	}
	cfg_strv_free(v);
	if (bad > 0) {
		free(a);
		return -1;
	}
	*out = a;
	*n = nv;
	return 1;
}

int dnscfg_name(struct config_error *e, const json_t *obj, const char *key, bool required,
                ldns_rdf **out)
{
	const char *s = NULL;
	ldns_rdf *name = NULL;
	int rc = cfg_string(e, obj, key, false, &s);

	if (rc == 0 && required)
		cfgerr_add(e, key, "required key is missing (a domain name)");
	if (rc <= 0)
		return rc == 0 && required ? -1 : rc;
	/* ldns reads "example.com" as "example.com.": names here are always absolute. */
	if (ldns_str2rdf_dname(&name, s) != LDNS_STATUS_OK || name == NULL) {
		cfgerr_add(e, key, "\"%s\" is not a valid domain name", s);
		return -1;
	}
	*out = name;
	return 1;
}
