/* FRR's side as text: the set clauses of healthd's route-maps, healthd's part of "show
 * running-config", and the vtysh commands from one state to another. No I/O here.
 *
 * FRR prints a route-map's set clauses sorted, and the values of a community list in its
 * own order and spelling ("no-export-subconfed" is "local-AS", 65535:65281 is
 * "no-export"); healthd writes FRR's spellings and compares clauses and values sorted, so
 * that what it reads back compares equal to what it wrote. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frr.h"
#include "../lib/cfgread.h"

/* Well-known communities as FRR prints them. */
static const struct {
	unsigned value;
	const char *healthd; /* healthd's (ExaBGP's) name, or NULL */
	const char *frr;
} frr_wellknown[] = {
        {0xFFFF0000u, NULL, "graceful-shutdown"},
        {0xFFFF0001u, NULL, "accept-own"},
        {0xFFFF0002u, NULL, "route-filter-translated-v4"},
        {0xFFFF0003u, NULL, "route-filter-v4"},
        {0xFFFF0004u, NULL, "route-filter-translated-v6"},
        {0xFFFF0005u, NULL, "route-filter-v6"},
        {0xFFFF0006u, NULL, "llgr-stale"},
        {0xFFFF0007u, NULL, "no-llgr"},
        {0xFFFF0008u, NULL, "accept-own-nexthop"},
        {0xFFFF029Au, "blackhole", "blackhole"},
        {0xFFFFFF01u, "no-export", "no-export"},
        {0xFFFFFF02u, "no-advertise", "no-advertise"},
        {0xFFFFFF03u, "no-export-subconfed", "local-AS"},
        {0xFFFFFF04u, "no-peer", "no-peer"},
};

void frr_strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* A growing NULL-terminated vector of strings. */
struct strv {
	char **v;
	size_t n, cap;
	bool oom;
};

static void strv_add(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void strv_add(struct strv *s, const char *fmt, ...)
{
	if (s->oom)
		return;
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL) {
			s->oom = true;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	va_list ap;
	va_start(ap, fmt);
	int rc = vasprintf(&s->v[s->n], fmt, ap);
	va_end(ap);
	if (rc < 0) {
		s->oom = true;
		return;
	}
	s->v[++s->n] = NULL;
}

/* The vector, or NULL (freed) after an allocation failed. */
static char **strv_take(struct strv *s)
{
	if (s->oom) {
		if (s->v != NULL)
			s->v[s->n] = NULL;
		frr_strv_free(s->v);
		s->v = NULL;
	}
	char **v = s->v;
	memset(s, 0, sizeof(*s));
	return v;
}

static const char *frr_community(const char *s, char *buf, size_t len)
{
	unsigned long long v[2];
	size_t n = sizeof(frr_wellknown) / sizeof(frr_wellknown[0]);

	for (size_t i = 0; i < n; i++)
		if (frr_wellknown[i].healthd != NULL && strcmp(s, frr_wellknown[i].healthd) == 0)
			return frr_wellknown[i].frr;
	if (cfg_decimals(s, 2, 65535, v) != 0)
		return s;
	for (size_t i = 0; i < n; i++)
		if (frr_wellknown[i].value == (unsigned)(v[0] << 16 | v[1]))
			return frr_wellknown[i].frr;
	snprintf(buf, len, "%llu:%llu", v[0], v[1]);
	return buf;
}

/* "a b c" from a list, each item through fn (NULL: as it is), each value once (FRR keeps
 * a value once); "" when none matched. */
static char *frr_join(char *const *list, const char *want_prefix, size_t skip,
                      const char *(*fn)(const char *, char *, size_t))
{
	struct strv seen = {0};
	char *out = NULL, buf[64];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (f == NULL)
		return NULL;
	for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
		if (want_prefix != NULL && strncmp(list[i], want_prefix, strlen(want_prefix)) != 0)
			continue;
		const char *s = list[i] + skip;
		const char *v = fn != NULL ? fn(s, buf, sizeof(buf)) : s;
		bool dup = false;
		for (size_t k = 0; k < seen.n && !dup; k++)
			dup = strcmp(seen.v[k], v) == 0;
		if (dup)
			continue;
		fprintf(f, "%s%s", seen.n > 0 ? " " : "", v);
		strv_add(&seen, "%s", v);
	}
	bool oom = seen.oom;
	frr_strv_free(strv_take(&seen));
	if (fclose(f) != 0 || oom) {
		free(out);
		return NULL;
	}
	return out;
}

char **frr_sets(const struct route_attrs *a, int family)
{
	struct strv s = {0};
	char *j;

	if (a->med >= 0)
		strv_add(&s, "set metric %lld", a->med);
	if (a->local_preference >= 0)
		strv_add(&s, "set local-preference %lld", a->local_preference);
	if (a->communities != NULL) {
		j = frr_join(a->communities, NULL, 0, frr_community);
		if (j == NULL || *j != '\0')
			strv_add(&s, "set community %s", j != NULL ? j : "");
		s.oom |= j == NULL;
		free(j);
	}
	if (a->large_communities != NULL) {
		j = frr_join(a->large_communities, NULL, 0, NULL);
		if (j == NULL || *j != '\0')
			strv_add(&s, "set large-community %s", j != NULL ? j : "");
		s.oom |= j == NULL;
		free(j);
	}
	/* target:A:B is a route target, origin:A:B a site of origin */
	static const char *const ext[][2] = {{"target:", "rt"}, {"origin:", "soo"}};
	for (size_t k = 0; k < 2 && a->extended_communities != NULL; k++) {
		j = frr_join(a->extended_communities, ext[k][0], strlen(ext[k][0]), NULL);
		if (j != NULL && *j != '\0')
			strv_add(&s, "set extcommunity %s %s", ext[k][1], j);
		s.oom |= j == NULL;
		free(j);
	}
	if (a->nas_path > 0) {
		char *p = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&p, &len);
		if (f != NULL) {
			for (size_t i = 0; i < a->nas_path; i++)
				fprintf(f, "%s%u", i ? " " : "", a->as_path[i]);
			if (fclose(f) == 0)
				strv_add(&s, "set as-path prepend %s", p);
			else
				s.oom = true;
		} else {
			s.oom = true;
		}
		free(p);
	}
	if (a->next_hop != NULL && strcmp(a->next_hop, "self") != 0)
		strv_add(&s,
		         family == AF_INET ? "set ip next-hop %s" : "set ipv6 next-hop global %s",
		         a->next_hop);
	if (s.v == NULL && !s.oom) { /* no clause at all: an empty vector */
		s.v = calloc(1, sizeof(*s.v));
		s.oom = s.v == NULL;
	}
	return strv_take(&s);
}

/* FNV-1a: stable across runs and builds, which the map names must be. */
static uint32_t frr_hash(char *const *sets)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; sets[i] != NULL; i++) {
		for (const unsigned char *p = (const unsigned char *)sets[i]; *p; p++) {
			h ^= *p;
			h *= 16777619u;
		}
		h ^= '\n';
		h *= 16777619u;
	}
	return h;
}

void frr_map_name(const char *service, char *const *sets, char *out, size_t len)
{
	snprintf(out, len, FRR_MAP_PREFIX "%s-%08x", service, (unsigned)frr_hash(sets));
}

static int frr_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One clause with the values of a list sorted: FRR orders communities its own way. */
static char *frr_clause_normalize(const char *line)
{
	static const char *const lists[] = {"set community ", "set large-community ",
	                                    "set extcommunity rt ", "set extcommunity soo ", NULL};
	const char *head = NULL;
	for (const char *const *l = lists; *l != NULL && head == NULL; l++)
		if (strncmp(line, *l, strlen(*l)) == 0)
			head = *l;
	if (head == NULL)
		return strdup(line);

	char *copy = strdup(line + strlen(head)), *save = NULL;
	char **words = calloc(strlen(line) / 2 + 2, sizeof(*words));
	char *out = NULL;
	size_t n = 0, len = 0;
	if (copy == NULL || words == NULL)
		goto done;
	for (char *w = strtok_r(copy, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	qsort(words, n, sizeof(*words), frr_cmp_str);
	FILE *f = open_memstream(&out, &len);
	if (f == NULL)
		goto done;
	fputs(head, f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? " " : "", words[i]);
	if (fclose(f) != 0) {
		free(out);
		out = NULL;
	}
done:
	free(copy);
	free(words);
	return out;
}

/* Append one entry ("permit 10") and its clauses, normalized and sorted, to *text. */
static int frr_entry_append(char **text, const char *head, char *const *lines, size_t n)
{
	char **norm = calloc(n + 1, sizeof(*norm));
	char *out = NULL;
	size_t len = 0;
	int rc = -1;

	if (norm == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((norm[i] = frr_clause_normalize(lines[i])) == NULL)
			goto done;
	qsort(norm, n, sizeof(*norm), frr_cmp_str);
	FILE *f = open_memstream(&out, &len);
	if (f == NULL)
		goto done;
	fprintf(f, "%s%s\n", *text != NULL ? *text : "", head);
	for (size_t i = 0; i < n; i++)
		fprintf(f, " %s\n", norm[i]);
	if (fclose(f) != 0) {
		free(out);
		goto done;
	}
	free(*text);
	*text = out;
	rc = 0;
done:
	for (size_t i = 0; i < n; i++)
		free(norm[i]);
	free(norm);
	return rc;
}

char *frr_map_normalize(char *const *sets)
{
	char *text = NULL;
	size_t n = 0;
	while (sets[n] != NULL)
		n++;
	if (frr_entry_append(&text, "permit 10", sets, n) != 0)
		return NULL;
	return text;
}

/* ---- states ---------------------------------------------------------------------- */

void frr_state_init(struct frr_state *s)
{
	memset(s, 0, sizeof(*s));
	s->asn = -1;
}

static void frr_map_free(struct frr_map *m)
{
	free(m->text);
	frr_strv_free(m->sets);
	m->text = NULL;
	m->sets = NULL;
}

void frr_state_clear(struct frr_state *s)
{
	for (size_t i = 0; i < s->nmaps; i++)
		frr_map_free(&s->maps[i]);
	free(s->maps);
	free(s->nets);
	frr_state_init(s);
}

static struct frr_net *frr_net_find(const struct frr_state *s, int family, const char *prefix)
{
	for (size_t i = 0; i < s->nnets; i++)
		if (s->nets[i].family == family && strcmp(s->nets[i].prefix, prefix) == 0)
			return &s->nets[i];
	return NULL;
}

static struct frr_map *frr_map_find(const struct frr_state *s, const char *name)
{
	for (size_t i = 0; i < s->nmaps; i++)
		if (strcmp(s->maps[i].name, name) == 0)
			return &s->maps[i];
	return NULL;
}

static struct frr_net *frr_net_add(struct frr_state *s)
{
	if (s->nnets == s->capnets) {
		size_t cap = s->capnets ? s->capnets * 2 : 16;
		struct frr_net *v = realloc(s->nets, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		s->nets = v;
		s->capnets = cap;
	}
	struct frr_net *n = &s->nets[s->nnets++];
	memset(n, 0, sizeof(*n));
	return n;
}

static struct frr_map *frr_map_add(struct frr_state *s, const char *name)
{
	if (s->nmaps == s->capmaps) {
		size_t cap = s->capmaps ? s->capmaps * 2 : 8;
		struct frr_map *v = realloc(s->maps, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		s->maps = v;
		s->capmaps = cap;
	}
	struct frr_map *m = &s->maps[s->nmaps++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	return m;
}

int frr_want(struct frr_state *want, const struct prefix *pfx, const char *service,
             char *const *sets)
{
	char prefix[PREFIX_STRLEN], name[FRR_MAP_MAX];
	struct frr_net *net;

	prefix_format(pfx, prefix, sizeof(prefix));
	net = frr_net_find(want, pfx->family, prefix);
	if (sets == NULL) {
		if (net != NULL)
			*net = want->nets[--want->nnets];
	} else {
		frr_map_name(service, sets, name, sizeof(name));
		if (frr_map_find(want, name) == NULL) {
			struct strv copy = {0};
			for (size_t k = 0; sets[k] != NULL; k++)
				strv_add(&copy, "%s", sets[k]);
			if (copy.v == NULL && !copy.oom)
				copy.oom = (copy.v = calloc(1, sizeof(*copy.v))) == NULL;
			char **v = strv_take(&copy);
			char *text = v != NULL ? frr_map_normalize(v) : NULL;
			struct frr_map *m = text != NULL ? frr_map_add(want, name) : NULL;
			if (m == NULL) {
				frr_strv_free(v);
				free(text);
				return -1;
			}
			m->sets = v;
			m->text = text;
		}
		if (net == NULL && (net = frr_net_add(want)) == NULL)
			return -1;
		net->family = pfx->family;
		snprintf(net->prefix, sizeof(net->prefix), "%s", prefix);
		snprintf(net->map, sizeof(net->map), "%s", name);
	}
	/* Maps no statement names are not wanted any more. */
	for (size_t i = 0; i < want->nmaps;) {
		bool used = false;
		for (size_t k = 0; k < want->nnets && !used; k++)
			used = strcmp(want->nets[k].map, want->maps[i].name) == 0;
		if (used) {
			i++;
			continue;
		}
		frr_map_free(&want->maps[i]);
		want->maps[i] = want->maps[--want->nmaps];
	}
	return 0;
}

/* ---- parsing "show running-config" --------------------------------------------------- */

enum frr_block {
	FRR_TOP,   /* between blocks, or in one healthd does not read */
	FRR_BGP,   /* router bgp ASN of the default VRF */
	FRR_AF4,   /* its address-family ipv4 unicast */
	FRR_AF6,   /* its address-family ipv6 unicast */
	FRR_AFX,   /* another address family of it */
	FRR_MAP,   /* an entry of a HEALTHD-... route-map */
	FRR_OTHER, /* another block at the top level (route-maps of others, interfaces, ...) */
};

struct frr_parser {
	struct frr_state *s;
	enum frr_block block;
	struct frr_map *map;
	char head[64]; /* the entry's "permit 10" */
	char **lines;  /* the entry's lines */
	size_t nlines, caplines;
	bool oom;
};

static void parser_entry_end(struct frr_parser *p)
{
	if (p->map != NULL && frr_entry_append(&p->map->text, p->head, p->lines, p->nlines) != 0)
		p->oom = true;
	for (size_t i = 0; i < p->nlines; i++)
		free(p->lines[i]);
	p->nlines = 0;
	p->map = NULL;
}

static void parser_line_add(struct frr_parser *p, const char *line)
{
	if (p->nlines == p->caplines) {
		size_t cap = p->caplines ? p->caplines * 2 : 8;
		char **v = realloc(p->lines, cap * sizeof(*v));
		if (v == NULL) {
			p->oom = true;
			return;
		}
		p->lines = v;
		p->caplines = cap;
	}
	if ((p->lines[p->nlines] = strdup(line)) == NULL)
		p->oom = true;
	else
		p->nlines++;
}

/* Split into at most max words; returns how many (max + 1: more than max). */
static size_t frr_words(char *line, char **w, size_t max)
{
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(line, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return max + 1;
		w[n++] = t;
	}
	return n;
}

static void parser_top(struct frr_parser *p, char *line)
{
	char *w[6];
	size_t n = frr_words(line, w, 5);
	unsigned long long asn;

	p->block = FRR_OTHER;
	if (n == 3 && strcmp(w[0], "router") == 0 && strcmp(w[1], "bgp") == 0 &&
	    cfg_decimal(w[2], strlen(w[2]), 4294967295ULL, &asn) == 0) {
		/* "router bgp ASN vrf NAME" and views have more words: not the default */
		p->s->asn = (long long)asn;
		p->s->import_check = true; /* unless the block says otherwise */
		p->block = FRR_BGP;
	} else if (n == 4 && strcmp(w[0], "route-map") == 0 &&
	           strncmp(w[1], FRR_MAP_PREFIX, strlen(FRR_MAP_PREFIX)) == 0) {
		p->map = frr_map_find(p->s, w[1]);
		if (p->map == NULL)
			p->map = frr_map_add(p->s, w[1]);
		if (p->map == NULL) {
			p->oom = true;
			return;
		}
		snprintf(p->head, sizeof(p->head), "%s %s", w[2], w[3]);
		p->block = FRR_MAP;
	}
}

static void parser_network(struct frr_parser *p, int family, char *line)
{
	char *w[5], err[128], text[PREFIX_STRLEN];
	size_t n = frr_words(line, w, 4);
	struct prefix pfx;

	if (n < 2 || prefix_parse(w[1], &pfx, err, sizeof(err)) != 0 || pfx.family != family)
		return; /* not a prefix of this family: nothing healthd would write */
	prefix_format(&pfx, text, sizeof(text));
	struct frr_net *net = frr_net_add(p->s);
	if (net == NULL) {
		p->oom = true;
		return;
	}
	net->family = family;
	snprintf(net->prefix, sizeof(net->prefix), "%s", text);
	/* Only exactly "network PFX route-map HEALTHD-..." is healthd's. */
	if (n == 4 && strcmp(w[2], "route-map") == 0 &&
	    strncmp(w[3], FRR_MAP_PREFIX, strlen(FRR_MAP_PREFIX)) == 0)
		snprintf(net->map, sizeof(net->map), "%s", w[3]);
}

static void parser_line(struct frr_parser *p, char *line)
{
	const char *t = line + strspn(line, " ");
	bool top = t == line;

	if (top && (strcmp(line, "!") == 0 || *line == '\0'))
		return;
	if (top && strcmp(line, "exit") == 0) {
		parser_entry_end(p);
		p->block = FRR_TOP;
		return;
	}
	if (top) {
		parser_entry_end(p);
		parser_top(p, line);
		return;
	}
	if (*t == '!')
		return;
	switch (p->block) {
	case FRR_BGP:
		if (strcmp(t, "no bgp network import-check") == 0)
			p->s->import_check = false;
		else if (strcmp(t, "address-family ipv4 unicast") == 0 ||
		         strcmp(t, "address-family ipv4") == 0)
			p->block = FRR_AF4;
		else if (strcmp(t, "address-family ipv6 unicast") == 0 ||
		         strcmp(t, "address-family ipv6") == 0)
			p->block = FRR_AF6;
		else if (strncmp(t, "address-family ", 15) == 0)
			p->block = FRR_AFX;
		break;
	case FRR_AF4:
	case FRR_AF6:
	case FRR_AFX:
		if (strcmp(t, "exit-address-family") == 0) {
			p->block = FRR_BGP;
			break;
		}
		if (p->block != FRR_AFX && strncmp(t, "network ", 8) == 0) {
			char copy[512];
			snprintf(copy, sizeof(copy), "%s", t);
			parser_network(p, p->block == FRR_AF4 ? AF_INET : AF_INET6, copy);
		}
		break;
	case FRR_MAP:
		parser_line_add(p, t);
		break;
	default:
		break;
	}
}

int frr_parse(const char *text, struct frr_state *out, char *why, size_t whylen)
{
	struct frr_parser p = {.s = out, .block = FRR_TOP};
	const char *start = strstr(text, "\nCurrent configuration:");
	bool ended = false;

	frr_state_clear(out);
	start = start != NULL ? strchr(start + 1, '\n') : text;
	for (const char *s = start; s != NULL && *s != '\0' && !ended && !p.oom;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl != NULL ? (size_t)(nl - s) : strlen(s);
		char *line = strndup(s, len);
		if (line == NULL) {
			p.oom = true;
			break;
		}
		if (len > 0 && line[len - 1] == '\r')
			line[len - 1] = '\0';
		if (strcmp(line, "end") == 0)
			ended = true;
		else
			parser_line(&p, line);
		free(line);
		s = nl != NULL ? nl + 1 : NULL;
	}
	parser_entry_end(&p);
	free(p.lines);
	if (p.oom) {
		snprintf(why, whylen, "out of memory");
		frr_state_clear(out);
		return -1;
	}
	if (!ended) {
		snprintf(why, whylen, "no \"end\" line: not a whole configuration");
		frr_state_clear(out);
		return -1;
	}
	return 0;
}

/* ---- the commands between two states ----------------------------------------------- */

static bool frr_map_used(const struct frr_state *s, const char *name)
{
	for (size_t i = 0; i < s->nnets; i++)
		if (strcmp(s->nets[i].map, name) == 0)
			return true;
	return false;
}

/* The statements of one family: announce what is wanted, remove healthd's others. */
static void frr_diff_family(struct strv *c, const struct frr_state *want,
                            const struct frr_state *found, int family, size_t *foreign)
{
	size_t before = c->n;
	bool opened = false;

	for (size_t pass = 0; pass < 2; pass++) {
		const struct frr_state *a = pass == 0 ? want : found;
		for (size_t i = 0; i < a->nnets; i++) {
			const struct frr_net *n = &a->nets[i];
			if (n->family != family)
				continue;
			if (pass == 0) {
				const struct frr_net *f = frr_net_find(found, family, n->prefix);
				if (f != NULL && f->map[0] == '\0') {
					(*foreign)++; /* someone else's statement: theirs */
					continue;
				}
				if (f != NULL && strcmp(f->map, n->map) == 0)
					continue;
			} else if (n->map[0] == '\0' || frr_net_find(want, family, n->prefix)) {
				continue;
			}
			if (!opened) {
				strv_add(c, "address-family %s unicast",
				         family == AF_INET ? "ipv4" : "ipv6");
				opened = true;
			}
			if (pass == 0)
				strv_add(c, "network %s route-map %s", n->prefix, n->map);
			else
				strv_add(c, "no network %s", n->prefix);
		}
	}
	if (c->n > before)
		strv_add(c, "exit-address-family");
}

int frr_diff(const struct frr_state *want, const struct frr_state *found, char ***out,
             size_t *foreign)
{
	struct strv c = {0}, nets = {0};

	*out = NULL;
	*foreign = 0;
	frr_diff_family(&nets, want, found, AF_INET, foreign);
	frr_diff_family(&nets, want, found, AF_INET6, foreign);
	if (nets.n > 0 && found->asn < 0) {
		frr_strv_free(strv_take(&nets));
		return -2;
	}
	strv_add(&c, "configure terminal");
	/* Maps first: a statement must never name a map that is not there yet. */
	for (size_t i = 0; i < want->nmaps; i++) {
		const struct frr_map *m = &want->maps[i];
		const struct frr_map *f = frr_map_find(found, m->name);
		if (f != NULL && f->text != NULL && strcmp(f->text, m->text) == 0)
			continue;
		if (f != NULL) /* changed by hand: made again as healthd wants it */
			strv_add(&c, "no route-map %s", m->name);
		strv_add(&c, "route-map %s permit 10", m->name);
		for (size_t k = 0; m->sets[k] != NULL; k++)
			strv_add(&c, "%s", m->sets[k]);
		strv_add(&c, "exit");
	}
	if (nets.n > 0) {
		strv_add(&c, "router bgp %lld", found->asn);
		for (size_t i = 0; i < nets.n; i++)
			strv_add(&c, "%s", nets.v[i]);
		strv_add(&c, "exit");
	}
	c.oom |= nets.oom;
	frr_strv_free(strv_take(&nets));
	/* Then the maps no statement names any more. */
	for (size_t i = 0; i < found->nmaps; i++)
		if (!frr_map_used(want, found->maps[i].name))
			strv_add(&c, "no route-map %s", found->maps[i].name);
	if (c.n <= 1) {
		bool oom = c.oom;
		frr_strv_free(strv_take(&c));
		return oom ? -1 : 0;
	}
	strv_add(&c, "end");
	bool oom = c.oom;
	*out = strv_take(&c);
	return oom ? -1 : 0;
}
