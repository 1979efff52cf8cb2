/* The include files healthd owns in BIRD's configuration: their text, and their atomic
 * replacement, so that BIRD (at a configure or a restart) never reads half a file.
 *
 * Format "routes": static routes, one family per file (a BIRD static protocol has one
 * channel), each a blackhole carrying the service's attributes:
 *   route 192.0.2.53/32 blackhole { bgp_med = 100; bgp_community.add((65000,53)); };
 * Format "set": two prefix sets for an export filter ("if net ~ healthd_v4 then accept"):
 *   define healthd_v4 = [ 192.0.2.53/32 ];
 *   define healthd_v6 = [ ];                                                        */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bird.h"
#include "../lib/cfgread.h"

static const struct {
	const char *name;
	const char *bird;
} bird_wellknown[] = {
        {"no-export", "(65535,65281)"},
        {"no-advertise", "(65535,65282)"},
        {"no-export-subconfed", "(65535,65283)"},
        {"no-peer", "(65535,65284)"},
        {"blackhole", "(65535,666)"},
};

static int bird_fits(int n, size_t len)
{
	return n > 0 && (size_t)n < len ? 0 : -1;
}

int bird_community(const char *s, char *out, size_t len)
{
	unsigned long long v[2];
	for (size_t i = 0; i < sizeof(bird_wellknown) / sizeof(bird_wellknown[0]); i++)
		if (strcmp(s, bird_wellknown[i].name) == 0)
			return bird_fits(snprintf(out, len, "%s", bird_wellknown[i].bird), len);
	if (cfg_decimals(s, 2, 65535, v) != 0)
		return -1;
	return bird_fits(snprintf(out, len, "(%llu,%llu)", v[0], v[1]), len);
}

int bird_large_community(const char *s, char *out, size_t len)
{
	unsigned long long v[3];
	if (cfg_decimals(s, 3, 4294967295ULL, v) != 0)
		return -1;
	return bird_fits(snprintf(out, len, "(%llu,%llu,%llu)", v[0], v[1], v[2]), len);
}

int bird_ext_community(const char *s, char *out, size_t len)
{
	const char *kind;
	if (strncmp(s, "target:", 7) == 0)
		kind = "rt";
	else if (strncmp(s, "origin:", 7) == 0)
		kind = "ro";
	else
		return -1;
	const char *a = s + 7, *colon = strrchr(a, ':');
	if (colon == NULL)
		return -1;
	char global[INET_ADDRSTRLEN];
	size_t alen = (size_t)(colon - a);
	unsigned long long asn = 0, local;
	struct in_addr ip;
	bool is_ip = false;

	if (alen == 0 || alen >= sizeof(global))
		return -1;
	memcpy(global, a, alen);
	global[alen] = '\0';
	if (inet_pton(AF_INET, global, &ip) == 1)
		is_ip = true;
	else if (cfg_decimal(global, alen, 4294967295ULL, &asn) != 0)
		return -1;
	/* 6 bytes of value: a 2-byte AS leaves 4 for the local part, the others leave 2. */
	unsigned long long max = !is_ip && asn <= 65535 ? 4294967295ULL : 65535;
	if (cfg_decimal(colon + 1, strlen(colon + 1), max, &local) != 0)
		return -1;
	return bird_fits(snprintf(out, len, "(%s,%s,%llu)", kind, global, local), len);
}

static void bird_render_attrs(FILE *f, const struct route_attrs *a)
{
	char buf[128];

	if (a->next_hop != NULL && strcmp(a->next_hop, "self") != 0)
		fprintf(f, " bgp_next_hop = %s;", a->next_hop);
	if (a->med >= 0)
		fprintf(f, " bgp_med = %lld;", a->med);
	if (a->local_preference >= 0)
		fprintf(f, " bgp_local_pref = %lld;", a->local_preference);
	/* prepend() adds at the front: the last AS first leaves the path as written */
	for (size_t i = a->nas_path; i > 0; i--)
		fprintf(f, " bgp_path.prepend(%u);", a->as_path[i - 1]);
	for (size_t i = 0; a->communities != NULL && a->communities[i] != NULL; i++)
		if (bird_community(a->communities[i], buf, sizeof(buf)) == 0)
			fprintf(f, " bgp_community.add(%s);", buf);
	for (size_t i = 0; a->large_communities != NULL && a->large_communities[i] != NULL; i++)
		if (bird_large_community(a->large_communities[i], buf, sizeof(buf)) == 0)
			fprintf(f, " bgp_large_community.add(%s);", buf);
	for (size_t i = 0; a->extended_communities != NULL && a->extended_communities[i]; i++)
		if (bird_ext_community(a->extended_communities[i], buf, sizeof(buf)) == 0)
			fprintf(f, " bgp_ext_community.add(%s);", buf);
}

bool bird_attrs_plain(const struct route_attrs *a)
{
	return (a->next_hop == NULL || strcmp(a->next_hop, "self") == 0) && a->med < 0 &&
	       a->local_preference < 0 && a->nas_path == 0 && a->communities == NULL &&
	       a->large_communities == NULL && a->extended_communities == NULL &&
	       a->path_information == NULL;
}

static void bird_render_set(FILE *f, int family, const struct speaker_route *routes, size_t n)
{
	char p[PREFIX_STRLEN];
	bool first = true;

	fprintf(f, "define healthd_v%c = [", family == AF_INET ? '4' : '6');
	for (size_t i = 0; i < n; i++) {
		if (routes[i].sent == NULL || routes[i].pfx->family != family)
			continue;
		prefix_format(routes[i].pfx, p, sizeof(p));
		fprintf(f, "%s %s", first ? "" : ",", p);
		first = false;
	}
	fprintf(f, " ];\n");
}

int bird_file_render(FILE *f, enum bird_format format, int family,
                     const struct speaker_route *routes, size_t n)
{
	char p[PREFIX_STRLEN];

	if (format == BIRD_FORMAT_SET) {
		fprintf(f, "# Prefixes of the healthy services, for BIRD's export filter.\n"
		           "# Written by healthd, which replaces this file on every change.\n");
		bird_render_set(f, AF_INET, routes, n);
		bird_render_set(f, AF_INET6, routes, n);
		return ferror(f) ? -1 : 0;
	}
	fprintf(f,
	        "# IPv%c routes of the healthy services, inside a BIRD static protocol.\n"
	        "# Written by healthd, which replaces this file on every change.\n",
	        family == AF_INET ? '4' : '6');
	for (size_t i = 0; i < n; i++) {
		const struct speaker_route *r = &routes[i];
		if (r->sent == NULL || r->pfx->family != family)
			continue;
		prefix_format(r->pfx, p, sizeof(p));
		fprintf(f, "route %s blackhole", p);
		if (!bird_attrs_plain(r->sent)) {
			fprintf(f, " {");
			bird_render_attrs(f, r->sent);
			fprintf(f, " }");
		}
		fprintf(f, ";\n");
	}
	return ferror(f) ? -1 : 0;
}
