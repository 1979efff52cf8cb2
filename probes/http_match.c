/* expect_body_regex matched in one pass over the body.
 *
 * glibc's regexec tries the pattern from every start position in turn; a pattern that
 * can scan far and then fails (".+x" against a body without "x") makes each try run to
 * the end: 1.5 s of CPU at 32 KiB, 6 s at 64 KiB, all of it on healthd's one event loop.
 * Compiling "^(any byte)*(PATTERN)" instead makes glibc's own DFA decide in one pass, but
 * its states are sets of positions in the pattern: "a[^x]{16}x" then has 2^16 of them,
 * built one per byte of a hostile body (4.3 s and 126 MB at 64 KiB, kept until regfree).
 *
 * So healthd runs the pattern itself: parsed here into a tree, compiled into a Thompson
 * NFA (repetitions copied out as regcomp does, which http_regex.c bounds), and simulated
 * over the body with every thread at once. Each byte costs at most one visit of each NFA
 * state: time is linear in the body, memory fixed when the config is loaded.
 *
 * What a single character matches (a literal, ".", a bracket expression, an escape such
 * as "\w" or "\.") is not interpreted here: regcomp compiles that atom alone and regexec
 * says which of the 256 bytes it matches, so classes, ranges, NUL and "." stay glibc's.
 * What is interpreted here is the structure (groups, "|", repetitions) and the
 * zero-width assertions: "^" and "\`" (start of the body), "$" and "\'" (its end:
 * healthd never sets REG_NEWLINE, REG_NOTBOL or REG_NOTEOL), "\b", "\B", "\<", "\>"
 * (a word byte is alphanumeric or "_" in the C locale healthd runs in). */
#include "http_match.h"
#include "http_regex.h"

#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HM_MAX_STATES 8192 /* far above what http_regex.c's bounds let regcomp build */

enum hm_kind { HM_EMPTY, HM_SET, HM_ASSERT, HM_CAT, HM_ALT, HM_REP };

enum hm_assert {
	HM_BEGIN,      /* \` */
	HM_END,        /* \' */
	HM_LINE_BEGIN, /* ^ */
	HM_LINE_END,   /* $ */
	HM_WORD_EDGE,
	HM_NOT_WORD_EDGE,
	HM_WORD_START,
	HM_WORD_END
};

/* A node of the parsed pattern. Children are a list: kid, then each one's next. */
struct hm_node {
	enum hm_kind kind;
	int set;           /* HM_SET: index into sets */
	enum hm_assert as; /* HM_ASSERT */
	int kid, next;     /* -1: none */
	int min, max;      /* HM_REP: max -1 is unbounded */
};

enum hm_op { HM_CHAR, HM_SPLIT, HM_CHECK, HM_MATCH };

struct hm_state {
	enum hm_op op;
	int set;           /* HM_CHAR */
	enum hm_assert as; /* HM_CHECK */
	int out, alt;      /* HM_SPLIT follows both */
	bool dup;          /* built in a copy of a repetition, as regcomp's duplicate_tree */
	bool kept;         /* HM_CHECK: regcomp enforces it on its own (see hm_build) */
};

struct http_match {
	struct hm_state *st;
	int nst, start;
	uint64_t (*sets)[4]; /* 256-bit byte sets */
	int nsets;
	/* the simulation's scratch: two lists of states, a stamp per state, a stack */
	int *cur, *nxt, *stack;
	unsigned *mark;
	unsigned stamp;
};

struct hm_parse {
	const char *s, *p;
	struct hm_node *nodes;
	int nnodes, capnodes;
	struct http_match *m;
	char *why;
	size_t whylen;
	bool bad;
};

__attribute__((format(printf, 2, 3))) static void hm_fail(struct hm_parse *ps, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ps->bad)
		return;
	ps->bad = true;
	n = snprintf(ps->why, ps->whylen, "byte %td: ", ps->p - ps->s);
	if (n < 0 || (size_t)n >= ps->whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(ps->why + n, ps->whylen - (size_t)n, fmt, ap);
	va_end(ap);
}

static int hm_node_new(struct hm_parse *ps, enum hm_kind kind)
{
	if (ps->nnodes == ps->capnodes) {
		int cap = ps->capnodes > 0 ? ps->capnodes * 2 : 32;
		struct hm_node *n = realloc(ps->nodes, (size_t)cap * sizeof(*n));
		if (n == NULL) {
			hm_fail(ps, "out of memory");
			return -1;
		}
		ps->nodes = n;
		ps->capnodes = cap;
	}
	ps->nodes[ps->nnodes] = (struct hm_node){kind, -1, HM_BEGIN, -1, -1, 0, 0};
	return ps->nnodes++;
}

/* The bytes the single-character atom SRC (LEN bytes) matches, as glibc reads it. */
static int hm_set_new(struct hm_parse *ps, const char *src, size_t len)
{
	char pat[300];
	regex_t re;
	uint64_t set[4] = {0, 0, 0, 0};

	if (len >= sizeof(pat)) {
		hm_fail(ps, "atom too long");
		return -1;
	}
	memcpy(pat, src, len);
	pat[len] = '\0';
	if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) != 0) {
		hm_fail(ps, "\"%s\" alone is not a regular expression", pat);
		return -1;
	}
	for (int b = 0; b < 256; b++) {
		char c[2] = {(char)b, '\0'}; /* terminated too: sanitizers read up to a NUL */
		regmatch_t rm = {.rm_so = 0, .rm_eo = 1};
		if (regexec(&re, c, 1, &rm, REG_STARTEND) == 0)
			set[b >> 6] |= UINT64_C(1) << (b & 63);
	}
	regfree(&re);
	void *grown = realloc(ps->m->sets, (size_t)(ps->m->nsets + 1) * sizeof(*ps->m->sets));
	if (grown == NULL) {
		hm_fail(ps, "out of memory");
		return -1;
	}
	ps->m->sets = grown;
	memcpy(ps->m->sets[ps->m->nsets], set, sizeof(set));
	return ps->m->nsets++;
}

static int hm_alt(struct hm_parse *ps, int depth);

/* The set of the one byte C. */
static int hm_set_byte(struct hm_parse *ps, unsigned char c)
{
	void *grown = realloc(ps->m->sets, (size_t)(ps->m->nsets + 1) * sizeof(*ps->m->sets));
	if (grown == NULL) {
		hm_fail(ps, "out of memory");
		return -1;
	}
	ps->m->sets = grown;
	memset(ps->m->sets[ps->m->nsets], 0, sizeof(*ps->m->sets));
	ps->m->sets[ps->m->nsets][c >> 6] |= UINT64_C(1) << (c & 63);
	return ps->m->nsets++;
}

static int hm_assert_new(struct hm_parse *ps, enum hm_assert as)
{
	int n = hm_node_new(ps, HM_ASSERT);
	if (n >= 0)
		ps->nodes[n].as = as;
	return n;
}

static int hm_atom(struct hm_parse *ps, int depth)
{
	const char *at = ps->p;
	int n;

	switch (*ps->p) {
	case '(':
		ps->p++;
		n = hm_alt(ps, depth + 1);
		if (*ps->p != ')') {
			hm_fail(ps, "unclosed group");
			return -1;
		}
		ps->p++;
		return n;
	case '^':
		ps->p++;
		return hm_assert_new(ps, HM_LINE_BEGIN);
	case '$':
		ps->p++;
		return hm_assert_new(ps, HM_LINE_END);
	case '[':
		ps->p = http_regex_bracket_end(ps->p);
		break;
	case '\\': {
		static const char chars[] = "`'bB<>";
		static const enum hm_assert as[] = {HM_BEGIN,         HM_END,        HM_WORD_EDGE,
		                                    HM_NOT_WORD_EDGE, HM_WORD_START, HM_WORD_END};
		const char *c = ps->p[1] != '\0' ? strchr(chars, ps->p[1]) : NULL;
		if (ps->p[1] == '\0' || (ps->p[1] >= '1' && ps->p[1] <= '9')) {
			hm_fail(ps, "trailing backslash or back-reference");
			return -1;
		}
		ps->p += 2;
		if (c != NULL)
			return hm_assert_new(ps, as[c - chars]);
		break;
	}
	case '*':
	case '+':
	case '?':
	case '{':
		hm_fail(ps, "nothing to repeat"); /* regcomp refuses these */
		return -1;
	default:
		ps->p++;
		if (strchr(".)]}", *at) == NULL) { /* the byte itself, without asking glibc */
			if ((n = hm_node_new(ps, HM_SET)) < 0 ||
			    hm_set_byte(ps, (unsigned char)*at) < 0)
				return -1;
			ps->nodes[n].set = ps->m->nsets - 1;
			return n;
		}
		break;
	}
	int set = hm_set_new(ps, at, (size_t)(ps->p - at));
	if (set < 0 || (n = hm_node_new(ps, HM_SET)) < 0)
		return -1;
	ps->nodes[n].set = set;
	return n;
}

/* "{m}", "{m,}", "{,n}", "{m,n}" at ps->p, read as http_regex.c reads it. */
static bool hm_interval(struct hm_parse *ps, int *lo, int *hi)
{
	long m, n;
	const char *end = http_regex_interval(ps->p, &m, &n);

	if (end == NULL || m > 255 || n > 255 || (n >= 0 && n < m))
		return false;
	*lo = (int)m;
	*hi = (int)n;
	ps->p = end;
	return true;
}

static int hm_piece(struct hm_parse *ps, int depth)
{
	int a = hm_atom(ps, depth);

	while (a >= 0 && !ps->bad) {
		int lo, hi;
		char c = *ps->p;
		if (c == '*' || c == '+' || c == '?') {
			ps->p++;
			lo = c == '+' ? 1 : 0;
			hi = c == '?' ? 1 : -1;
		} else if (c == '{') {
			if (!hm_interval(ps, &lo, &hi)) {
				hm_fail(ps, "not an interval");
				return -1;
			}
		} else {
			break;
		}
		int r = hm_node_new(ps, HM_REP);
		if (r < 0)
			return -1;
		ps->nodes[r].kid = a;
		ps->nodes[r].min = lo;
		ps->nodes[r].max = hi;
		a = r;
	}
	return ps->bad ? -1 : a;
}

/* Alternatives up to a ")" closing a group (depth > 0) or the end: an unmatched ")" at
 * the top is an ordinary character, as in glibc. */
static int hm_alt(struct hm_parse *ps, int depth)
{
	int alt = hm_node_new(ps, HM_ALT), lastb = -1;

	while (alt >= 0 && !ps->bad) {
		int cat = hm_node_new(ps, HM_CAT), lastp = -1;
		if (cat < 0)
			return -1;
		while (*ps->p != '\0' && *ps->p != '|' && !(*ps->p == ')' && depth > 0)) {
			int p = hm_piece(ps, depth);
			if (p < 0)
				return -1;
			if (lastp < 0)
				ps->nodes[cat].kid = p;
			else
				ps->nodes[lastp].next = p;
			lastp = p;
		}
		if (lastb < 0)
			ps->nodes[alt].kid = cat;
		else
			ps->nodes[lastb].next = cat;
		lastb = cat;
		if (*ps->p != '|')
			break;
		ps->p++;
	}
	return ps->bad ? -1 : alt;
}

static int hm_state_new(struct http_match *m, enum hm_op op, int out, int alt, bool dup)
{
	if (m->nst == HM_MAX_STATES)
		return -1;
	if ((m->nst & (m->nst - 1)) == 0) { /* 0, 1, 2, 4, ...: grow to the next power */
		void *grown =
		        realloc(m->st, (size_t)(m->nst > 0 ? m->nst * 2 : 1) * sizeof(*m->st));
		if (grown == NULL)
			return -1;
		m->st = grown;
	}
	m->st[m->nst] = (struct hm_state){op, -1, HM_BEGIN, out, alt, dup, false};
	return m->nst++;
}

static int hm_build(struct http_match *m, const struct hm_node *nodes, int n, int next, bool dup);

/* The pieces from N on, in order, followed by NEXT: built from the last one back. */
static int hm_build_list(struct http_match *m, const struct hm_node *nodes, int n, int next,
                         bool dup)
{
	if (n < 0)
		return next;
	return hm_build(m, nodes, n, hm_build_list(m, nodes, nodes[n].next, next, dup), dup);
}

/* The alternatives from N on, each followed by NEXT, as a chain of splits. */
static int hm_build_alts(struct http_match *m, const struct hm_node *nodes, int n, int next,
                         bool dup)
{
	if (nodes[n].next < 0)
		return hm_build(m, nodes, n, next, dup);
	int first = hm_build(m, nodes, n, next, dup);
	int rest = hm_build_alts(m, nodes, nodes[n].next, next, dup);
	return first < 0 || rest < 0 ? -1 : hm_state_new(m, HM_SPLIT, first, rest, dup);
}

/* K optional copies of node N as regcomp shapes them, (((x)? x)? x)?, followed by NEXT:
 * the first one is a copy (DUP1), the others always. */
static int hm_build_opt(struct http_match *m, const struct hm_node *nodes, int n, int k, int next,
                        bool dup, bool dup1)
{
	if (k == 0)
		return next;
	int last = hm_build(m, nodes, n, next, k > 1 || dup1);
	int inner = last < 0 ? -1 : hm_build_opt(m, nodes, n, k - 1, last, dup, dup1);
	return inner < 0 ? -1 : hm_state_new(m, HM_SPLIT, inner, next, dup);
}

/* The NFA of node N followed by state NEXT; its first state, or -1 (too big, no memory).
 * DUP: N is inside a copy regcomp made of a repeated piece (every copy but the first).
 * regcomp carries an anchor's condition onto the states after it, up to the next one
 * that reads a byte, unless the state right after the anchor is such a copy
 * (calc_eclosure_iter): such an anchor is not "kept", and glibc ignores it unless an
 * anchor kept before it, with no byte read between, carries it along ("(\\<y|a){2}"
 * matches "ay"). hm_add does the same. */
static int hm_build(struct http_match *m, const struct hm_node *nodes, int n, int next, bool dup)
{
	const struct hm_node *nd = &nodes[n];
	int s, k;

	if (next < 0)
		return -1;
	switch (nd->kind) {
	case HM_EMPTY:
		return next;
	case HM_SET:
		if ((s = hm_state_new(m, HM_CHAR, next, -1, dup)) >= 0)
			m->st[s].set = nd->set;
		return s;
	case HM_ASSERT:
		if ((s = hm_state_new(m, HM_CHECK, next, -1, dup)) >= 0) {
			m->st[s].as = nd->as;
			m->st[s].kept = !m->st[next].dup;
		}
		return s;
	case HM_CAT:
		return hm_build_list(m, nodes, nd->kid, next, dup);
	case HM_ALT:
		return nd->kid < 0 ? next : hm_build_alts(m, nodes, nd->kid, next, dup);
	case HM_REP:
		/* x{m,n} is m copies, then n - m optional ones; x{m,} m copies and a loop over
		 * one more; only the first copy is regcomp's original */
		s = next;
		if (nd->max < 0) {
			int loop = hm_state_new(m, HM_SPLIT, -1, next, dup);
			if (loop < 0)
				return -1;
			int body = hm_build(m, nodes, nd->kid, loop, dup || nd->min > 0);
			if (body < 0)
				return -1;
			m->st[loop].out = body;
			s = loop;
		} else {
			s = hm_build_opt(m, nodes, nd->kid, nd->max - nd->min, next, dup,
			                 dup || nd->min > 0);
		}
		for (k = nd->min; k > 0 && s >= 0; k--)
			s = hm_build(m, nodes, nd->kid, s, dup || k > 1);
		return s;
	}
	return -1;
}

struct http_match *http_match_new(const char *pattern, char *why, size_t whylen)
{
	struct http_match *m = calloc(1, sizeof(*m));
	struct hm_parse ps = {.s = pattern, .p = pattern, .m = m, .why = why, .whylen = whylen};

	if (m == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	int root = hm_alt(&ps, 0);
	if (root >= 0 && !ps.bad && *ps.p != '\0')
		hm_fail(&ps, "unexpected \"%c\"", *ps.p);
	if (root >= 0 && !ps.bad) {
		int match = hm_state_new(m, HM_MATCH, -1, -1, false);
		m->start = match < 0 ? -1 : hm_build(m, ps.nodes, root, match, false);
		if (m->start < 0)
			hm_fail(&ps, "more than %d states, or out of memory", HM_MAX_STATES);
	}
	free(ps.nodes);
	if (!ps.bad) {
		size_t n = (size_t)m->nst;
		m->cur = malloc(n * sizeof(*m->cur));
		m->nxt = malloc(n * sizeof(*m->nxt));
		m->stack = malloc(4 * n * sizeof(*m->stack));
		m->mark = calloc(4 * n, sizeof(*m->mark));
		if (m->cur == NULL || m->nxt == NULL || m->stack == NULL || m->mark == NULL)
			hm_fail(&ps, "out of memory");
	}
	if (ps.bad) {
		http_match_free(m);
		return NULL;
	}
	return m;
}

static bool hm_word(int c)
{
	return c >= 0 && (isalnum(c) || c == '_');
}

/* Whether assertion AS holds between the bytes PREV and NEXT (-1: the body's edge);
 * NL_IN: the thread got here by reading PREV, a newline. "$" before a newline is
 * hm_add's. */
static bool hm_holds(enum hm_assert as, int prev, int next, bool nl_in)
{
	switch (as) {
	case HM_BEGIN:
		return prev < 0;
	case HM_END:
	case HM_LINE_END:
		return next < 0;
	case HM_LINE_BEGIN:
		return prev < 0 || nl_in;
	case HM_WORD_EDGE:
		return hm_word(prev) != hm_word(next);
	case HM_NOT_WORD_EDGE:
		return hm_word(prev) == hm_word(next);
	case HM_WORD_START:
		return !hm_word(prev) && hm_word(next);
	case HM_WORD_END:
		return hm_word(prev) && !hm_word(next);
	}
	return false;
}

/* Pushes state S, reached with FLAG (1: through a "$" before a newline) and ARMED (an
 * anchor kept was passed: every anchor from there on holds or the thread ends), unless
 * it was already reached as well or better (flag and armed 0 are better: they let more
 * through). A state that reads a byte does not care how it was reached. */
static void hm_push(struct http_match *m, int *top, int s, int flag, int armed)
{
	if (m->st[s].op == HM_CHAR)
		flag = armed = 0;
	if (m->st[s].op == HM_MATCH)
		armed = 0;
	for (int a = 0; a <= armed; a++)
		for (int f = 0; f <= flag; f++)
			if (m->mark[4 * s + 2 * a + f] == m->stamp)
				return;
	m->mark[4 * s + 2 * armed + flag] = m->stamp;
	m->stack[(*top)++] = 4 * s + 2 * armed + flag;
}

/* Adds state S and all it reaches without reading a byte (splits, assertions that hold
 * between PREV and NEXT) to LIST: only the states that read a byte are kept. True when
 * the match state is reached.
 *
 * Two quirks of glibc's DFA (regexec with REG_NOSUB), kept so that a pattern matches
 * what it matched before: a newline read by the pattern itself counts as a line start
 * for "^" after it (NL_IN), and "$" holds before a newline that the pattern goes on to
 * read, as if REG_NEWLINE were set in both cases. A "$" passed before a newline (flag 1)
 * must lead to a state that reads it: reaching the match state that way is no match. */
static bool hm_add(struct http_match *m, int *list, int *n, int s, int prev, int next, bool nl_in)
{
	int top = 0;

	hm_push(m, &top, s, 0, 0);
	while (top > 0) {
		int e = m->stack[--top], flag = e & 1, armed = e >> 1 & 1;
		const struct hm_state *st = &m->st[e >> 2];
		switch (st->op) {
		case HM_MATCH:
			if (flag == 0)
				return true;
			break;
		case HM_CHAR:
			list[(*n)++] = e >> 2;
			break;
		case HM_SPLIT:
			hm_push(m, &top, st->alt, flag, armed);
			hm_push(m, &top, st->out, flag, armed);
			break;
		case HM_CHECK:
			if (!st->kept && !armed)
				hm_push(m, &top, st->out, flag, 0); /* ignored, as by glibc */
			else if (hm_holds(st->as, prev, next, nl_in))
				hm_push(m, &top, st->out, flag, 1);
			else if (st->as == HM_LINE_END && next == '\n')
				hm_push(m, &top, st->out, 1, 1);
			break;
		}
	}
	return false;
}

static void hm_next_stamp(struct http_match *m)
{
	if (++m->stamp == 0) { /* wrapped: no state may look already visited */
		memset(m->mark, 0, 4 * (size_t)m->nst * sizeof(*m->mark));
		m->stamp = 1;
	}
}

bool http_match_run(struct http_match *m, const char *text, size_t len)
{
	const unsigned char *t = (const unsigned char *)text;
	int ncur = 0;

	hm_next_stamp(m);
	/* Position i: the threads that arrived (in cur) plus a new one starting here, which
	 * makes the search unanchored in the same pass. */
	for (size_t i = 0;; i++) {
		int prev = i > 0 ? t[i - 1] : -1, next = i < len ? t[i] : -1;
		if (hm_add(m, m->cur, &ncur, m->start, prev, next, false))
			return true;
		if (i == len)
			return false;
		int nnxt = 0;
		int after = i + 1 < len ? t[i + 1] : -1;
		hm_next_stamp(m);
		for (int k = 0; k < ncur; k++) {
			const struct hm_state *st = &m->st[m->cur[k]];
			if ((m->sets[st->set][next >> 6] >> (next & 63) & 1) == 0)
				continue;
			if (hm_add(m, m->nxt, &nnxt, st->out, next, after, next == '\n'))
				return true;
		}
		int *swap = m->cur;
		m->cur = m->nxt;
		m->nxt = swap;
		ncur = nnxt;
	}
}

void http_match_free(struct http_match *m)
{
	if (m == NULL)
		return;
	free(m->st);
	free(m->sets);
	free(m->cur);
	free(m->nxt);
	free(m->stack);
	free(m->mark);
	free(m);
}
