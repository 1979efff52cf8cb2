/* The position index for config errors: jansson keeps no line:col per value, so this
 * scans the (already jansson-validated) text once and records, for every JSON path, where
 * its key (object member) or its value (array element) starts. Columns count characters,
 * as jansson's own parse errors do. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgpos.h"
#include "cfgerr.h"

struct cfgpos_entry {
	char *path;
	int line, col;
};

struct cfgpos {
	const char *text; /* set while the index is still to be built (cfgpos_lazy) */
	struct cfgpos_entry *v;
	size_t n, cap;
};

struct cfgpos_scan {
	const char *p;
	const char *line_start;
	int line;
	struct cfgpos *pos;
	char *path; /* the path of the value being scanned */
	size_t plen, pcap;
	const char *col_p; /* where col was last counted: columns are counted once */
	int col;
	bool failed;
};

static void cfgpos_advance(struct cfgpos_scan *s)
{
	if (*s->p == '\n') {
		s->line++;
		s->line_start = s->p + 1;
	}
	s->p++;
}

static void cfgpos_skip_ws(struct cfgpos_scan *s)
{
	while (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')
		cfgpos_advance(s);
}

static int cfgpos_col(struct cfgpos_scan *s)
{
	if (s->col_p == NULL || s->col_p < s->line_start || s->col_p > s->p) {
		s->col_p = s->line_start;
		s->col = 1;
	}
	for (; s->col_p < s->p; s->col_p++)
		if (((unsigned char)*s->col_p & 0xc0) != 0x80) /* UTF-8 continuation bytes */
			s->col++;
	return s->col;
}

static void cfgpos_record(struct cfgpos_scan *s, int line, int col)
{
	struct cfgpos *pos = s->pos;
	if (s->failed)
		return;
	if (pos->n == pos->cap) {
		size_t cap = pos->cap ? pos->cap * 2 : 64;
		struct cfgpos_entry *v = realloc(pos->v, cap * sizeof(*v));
		if (v == NULL) {
			s->failed = true;
			return;
		}
		pos->v = v;
		pos->cap = cap;
	}
	char *copy = strdup(s->path);
	if (copy == NULL) {
		s->failed = true;
		return;
	}
	pos->v[pos->n++] = (struct cfgpos_entry){copy, line, col};
}

static void cfgpos_append(struct cfgpos_scan *s, const char *text, size_t len)
{
	if (s->plen + len + 1 > s->pcap) {
		size_t cap = (s->plen + len + 1) * 2;
		char *p = realloc(s->path, cap);
		if (p == NULL) {
			s->failed = true;
			return;
		}
		s->path = p;
		s->pcap = cap;
	}
	memcpy(s->path + s->plen, text, len);
	s->plen += len;
	s->path[s->plen] = '\0';
}

static void cfgpos_put_utf8(struct cfgpos_scan *s, unsigned long cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	}
	cfgpos_append(s, b, n);
}

static unsigned long cfgpos_hex4(struct cfgpos_scan *s)
{
	unsigned long v = 0;
	for (int i = 0; i < 4 && *s->p != '\0'; i++) {
		char c = *s->p;
		v = v * 16 + (unsigned long)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
		cfgpos_advance(s);
	}
	return v;
}

/* A string at s->p (on its opening quote). When decode, its text is appended to the path,
 * which is how an object key becomes a path component. */
static void cfgpos_string(struct cfgpos_scan *s, bool decode)
{
	static const char esc_from[] = "\"\\/bfnrt", esc_to[] = "\"\\/\b\f\n\r\t";
	cfgpos_advance(s);
	while (*s->p != '\0' && *s->p != '"') {
		if (*s->p != '\\') {
			if (decode)
				cfgpos_append(s, s->p, 1);
			cfgpos_advance(s);
			continue;
		}
		cfgpos_advance(s);
		if (*s->p == 'u') {
			cfgpos_advance(s);
			unsigned long cp = cfgpos_hex4(s);
			if (cp >= 0xd800 && cp < 0xdc00 && s->p[0] == '\\' && s->p[1] == 'u') {
				cfgpos_advance(s);
				cfgpos_advance(s);
				cp = 0x10000 + ((cp - 0xd800) << 10) + (cfgpos_hex4(s) - 0xdc00);
			}
			if (decode)
				cfgpos_put_utf8(s, cp);
			continue;
		}
		const char *e = *s->p != '\0' ? strchr(esc_from, *s->p) : NULL;
		if (decode && e != NULL)
			cfgpos_append(s, &esc_to[e - esc_from], 1);
		if (*s->p != '\0')
			cfgpos_advance(s);
	}
	if (*s->p == '"')
		cfgpos_advance(s);
}

static void cfgpos_value(struct cfgpos_scan *s, int depth);

static void cfgpos_object(struct cfgpos_scan *s, int depth)
{
	size_t keep = s->plen;
	cfgpos_advance(s);
	for (;;) {
		cfgpos_skip_ws(s);
		if (*s->p != '"')
			break;
		int line = s->line, col = cfgpos_col(s);
		if (s->plen > 0)
			cfgpos_append(s, ".", 1);
		cfgpos_string(s, true);
		cfgpos_record(s, line, col);
		cfgpos_skip_ws(s);
		if (*s->p == ':')
			cfgpos_advance(s);
		cfgpos_value(s, depth + 1);
		s->plen = keep;
		s->path[keep] = '\0';
		cfgpos_skip_ws(s);
		if (*s->p != ',')
			break;
		cfgpos_advance(s);
	}
	if (*s->p == '}')
		cfgpos_advance(s);
}

static void cfgpos_array(struct cfgpos_scan *s, int depth)
{
	size_t keep = s->plen;
	cfgpos_advance(s);
	for (size_t i = 0;; i++) {
		cfgpos_skip_ws(s);
		if (*s->p == ']' || *s->p == '\0')
			break;
		char idx[32];
		int n = snprintf(idx, sizeof(idx), "[%zu]", i);
		cfgpos_append(s, idx, (size_t)n);
		cfgpos_record(s, s->line, cfgpos_col(s));
		cfgpos_value(s, depth + 1);
		s->plen = keep;
		s->path[keep] = '\0';
		cfgpos_skip_ws(s);
		if (*s->p != ',')
			break;
		cfgpos_advance(s);
	}
	if (*s->p == ']')
		cfgpos_advance(s);
}

static void cfgpos_value(struct cfgpos_scan *s, int depth)
{
	cfgpos_skip_ws(s);
	if (s->failed || depth > 4096) { /* jansson refuses far shallower nesting */
		s->failed = true;
		return;
	}
	switch (*s->p) {
	case '{':
		cfgpos_object(s, depth);
		break;
	case '[':
		cfgpos_array(s, depth);
		break;
	case '"':
		cfgpos_string(s, false);
		break;
	default: /* number, true, false, null */
		while (*s->p != '\0' && strchr(",]} \t\r\n", *s->p) == NULL)
			cfgpos_advance(s);
		break;
	}
}

static int cfgpos_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cfgpos_entry *)a)->path,
	              ((const struct cfgpos_entry *)b)->path);
}

/* Scans text into pos; -1 (pos left empty) when the scan fails or memory runs out. */
static int cfgpos_index(struct cfgpos *pos, const char *text)
{
	struct cfgpos_scan s = {.p = text, .line_start = text, .line = 1, .pos = pos};
	cfgpos_append(&s, "", 0);
	if (!s.failed) {
		cfgpos_record(&s, 1, 1);
		cfgpos_value(&s, 0);
	}
	free(s.path);
	if (s.failed) {
		for (size_t i = 0; i < pos->n; i++)
			free(pos->v[i].path);
		free(pos->v);
		pos->v = NULL;
		pos->n = pos->cap = 0;
		return -1;
	}
	qsort(pos->v, pos->n, sizeof(*pos->v), cfgpos_cmp);
	return 0;
}

struct cfgpos *cfgpos_build(const char *text)
{
	struct cfgpos *pos = calloc(1, sizeof(*pos));
	if (pos == NULL)
		return NULL;
	if (cfgpos_index(pos, text) != 0) {
		free(pos);
		return NULL;
	}
	return pos;
}

struct cfgpos *cfgpos_lazy(const char *text)
{
	struct cfgpos *pos = calloc(1, sizeof(*pos));
	if (pos != NULL)
		pos->text = text;
	return pos;
}

int cfgpos_lookup(const struct cfgpos *pos, const char *path, int *line, int *col)
{
	if (pos == NULL)
		return -1;
	if (pos->text != NULL) {
		/* The first lookup builds the index: a valid config never pays for it. The
		 * object is the caller's (never defined const), so filling it in is sound. */
		struct cfgpos *lazy = (struct cfgpos *)pos;
		const char *text = lazy->text;
		lazy->text = NULL;
		if (cfgpos_index(lazy, text) != 0)
			return -1;
	}
	struct cfgpos_entry key = {.path = (char *)path};
	const struct cfgpos_entry *hit = bsearch(&key, pos->v, pos->n, sizeof(*pos->v), cfgpos_cmp);
	if (hit == NULL)
		return -1;
	*line = hit->line;
	*col = hit->col;
	return 0;
}

void cfgpos_free(struct cfgpos *pos)
{
	if (pos == NULL)
		return;
	for (size_t i = 0; i < pos->n; i++)
		free(pos->v[i].path);
	free(pos->v);
	free(pos);
}
