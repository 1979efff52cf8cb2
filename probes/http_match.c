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
 * state: time is linear in the body, memory fixed when the config is loaded. During a
 * match, each set of states reached and where each byte took it are kept (a DFA built
 * lazily, of bounded size, freed at the end), so most bytes cost one table lookup; a
 * body that keeps reaching new sets makes the match go on without it.
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
/* A run's DFA cache holds at most this many bytes of transitions and of state lists;
 * when full it is emptied and built again from where the run is, unless it was read
 * fewer than HM_DFA_REUSE bytes per state made: then, or as soon as that is so with
 * HM_DFA_CHECK states made, the run goes on as the NFA. */
#define HM_DFA_TRANS_BYTES (256 * 1024)
#define HM_DFA_POOL_INTS   (64 * 1024)
#define HM_DFA_REUSE       8
#define HM_DFA_CHECK       256 /* states made before the reuse is first judged */
#define HM_UNKNOWN         (-1)
#define HM_MATCHED         (-2)
#define HM_BAIL            (-3)

/* What an assertion or the newline rule can see of the byte after a position. */
enum { HM_LA_END, HM_LA_NL, HM_LA_WORD, HM_LA_OTHER, HM_LA_N };

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
	/* bytes that no set, no assertion and no newline rule tells apart share a class */
	uint8_t cls[256];
	int ncls;
	int dfa_max;   /* most DFA states a run caches (http_match_cache_limit) */
	int dfa_reuse; /* bytes read per state made, at least, to empty a full cache */
};

/* A DFA built lazily during one run: each of its states is the set of NFA states that
 * read a byte, reached at one position (the thread starting there included); its
 * transition on a byte class and a lookahead category, once simulated, is kept. */
struct hm_dfa {
	int nd, cap;    /* states, and room for them */
	int *off, *len; /* each state's NFA states, sorted, in pool */
	int *pool;
	size_t npool, cappool;
	int *trans;   /* cap * stride: the next state, HM_UNKNOWN or HM_MATCHED */
	int stride;   /* ncls * HM_LA_N */
	int *hash;    /* ids + 1 (0: free) */
	size_t hcap;  /* the hash's slots: a power of 2, at least 2 * cap */
	size_t bytes; /* read since the cache was last emptied */
	int built;    /* states made since then */
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

static bool hm_word(int c)
{
	return c >= 0 && (isalnum(c) || c == '_');
}

/* Splits the 256 bytes into classes that every set, the word test and the newline rule
 * see alike: first by word byte and newline, then by each set in turn. */
static void hm_classes(struct http_match *m)
{
	for (int b = 0; b < 256; b++)
		m->cls[b] = b == '\n' ? 2 : hm_word(b) ? 1 : 0;
	m->ncls = 3;
	for (int k = 0; k < m->nsets; k++) {
		int map[2][256];
		int n = 0;
		memset(map, -1, sizeof(map));
		for (int b = 0; b < 256; b++) {
			int in = (int)(m->sets[k][b >> 6] >> (b & 63) & 1);
			if (map[in][m->cls[b]] < 0)
				map[in][m->cls[b]] = n++;
			m->cls[b] = (uint8_t)map[in][m->cls[b]];
		}
		m->ncls = n;
	}
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
		hm_classes(m);
		http_match_cache_limit(m, 0, -1);
	}
	if (ps.bad) {
		http_match_free(m);
		return NULL;
	}
	return m;
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

static int hm_la(int c)
{
	return c < 0 ? HM_LA_END : c == '\n' ? HM_LA_NL : hm_word(c) ? HM_LA_WORD : HM_LA_OTHER;
}

static bool hm_reads(const struct http_match *m, int s, int c)
{
	return (m->sets[m->st[s].set][c >> 6] >> (c & 63) & 1) != 0;
}

/* One step: the N states of LIST read byte C, with byte AFTER next (-1: the end); the
 * states reached, and those of the thread that starts after C, go to nxt (*NNXT of them).
 * True when a match ends there. */
static bool hm_step(struct http_match *m, const int *list, int n, int c, int after, int *nnxt)
{
	*nnxt = 0;
	hm_next_stamp(m);
	for (int k = 0; k < n; k++)
		if (hm_reads(m, list[k], c) &&
		    hm_add(m, m->nxt, nnxt, m->st[list[k]].out, c, after, c == '\n'))
			return true;
	/* the thread that starts after C, in the same list */
	return hm_add(m, m->nxt, nnxt, m->start, c, after, false);
}

/* Every thread at once, from position I on, where cur holds the NCUR states reached there
 * (the thread that starts at I included). */
static bool hm_nfa(struct http_match *m, const unsigned char *t, size_t len, size_t i, int ncur)
{
	for (; i < len; i++) {
		int nnxt;
		if (hm_step(m, m->cur, ncur, t[i], i + 1 < len ? t[i + 1] : -1, &nnxt))
			return true;
		int *swap = m->cur;
		m->cur = m->nxt;
		m->nxt = swap;
		ncur = nnxt;
	}
	return false;
}

static void hm_dfa_free(struct hm_dfa *d)
{
	free(d->off);
	free(d->len);
	free(d->pool);
	free(d->trans);
	free(d->hash);
}

static void hm_dfa_empty(struct hm_dfa *d)
{
	d->nd = 0;
	d->npool = 0;
	d->bytes = 0;
	d->built = 0;
	if (d->hash != NULL)
		memset(d->hash, 0, d->hcap * sizeof(*d->hash));
}

static uint32_t hm_hash(const int *list, int n)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < n; i++)
		h = (h ^ (uint32_t)list[i]) * 16777619u;
	return h;
}

/* State ID, whose states hash to H, into the first free slot from H on. */
static void hm_dfa_index(struct hm_dfa *d, uint32_t h, int id)
{
	size_t mask = d->hcap - 1, k = h & mask;

	while (d->hash[k] != 0)
		k = (k + 1) & mask;
	d->hash[k] = id + 1;
}

/* Room for twice the states (at most MAX), the hash made again for it. */
static bool hm_dfa_grow(struct hm_dfa *d, int max)
{
	int cap = d->cap > 0 ? d->cap * 2 : 16;
	if (cap > max)
		cap = max;
	int *off = realloc(d->off, (size_t)cap * sizeof(*off));
	if (off != NULL)
		d->off = off;
	int *len = realloc(d->len, (size_t)cap * sizeof(*len));
	if (len != NULL)
		d->len = len;
	int *trans = realloc(d->trans, (size_t)cap * (size_t)d->stride * sizeof(*trans));
	if (trans != NULL)
		d->trans = trans;
	size_t hcap = 1;
	while (hcap < 2 * (size_t)cap)
		hcap *= 2;
	int *hash = calloc(hcap, sizeof(*hash));
	if (off == NULL || len == NULL || trans == NULL || hash == NULL) {
		free(hash);
		return false;
	}
	free(d->hash);
	d->hash = hash;
	d->hcap = hcap;
	d->cap = cap;
	for (int id = 0; id < d->nd; id++)
		hm_dfa_index(d, hm_hash(d->pool + d->off[id], d->len[id]), id);
	return true;
}

/* The DFA state of the N sorted states in LIST: found, or made. HM_UNKNOWN when the cache
 * is full, HM_BAIL when out of memory. */
static int hm_dfa_state(struct hm_dfa *d, const int *list, int n, int max)
{
	uint32_t h = hm_hash(list, n);

	if (d->cap > 0) {
		size_t mask = d->hcap - 1;
		for (size_t k = h & mask; d->hash[k] != 0; k = (k + 1) & mask) {
			int id = d->hash[k] - 1;
			if (d->len[id] == n && (n == 0 || memcmp(d->pool + d->off[id], list,
			                                         (size_t)n * sizeof(int)) == 0))
				return id;
		}
	}
	if (d->nd == max || d->npool + (size_t)n > HM_DFA_POOL_INTS)
		return HM_UNKNOWN;
	if (d->nd == d->cap && !hm_dfa_grow(d, max))
		return HM_BAIL;
	if (d->pool == NULL || d->npool + (size_t)n > d->cappool) {
		size_t cap = d->cappool > 0 ? d->cappool : 256;
		while (cap < d->npool + (size_t)n)
			cap *= 2;
		int *pool = realloc(d->pool, cap * sizeof(*pool));
		if (pool == NULL)
			return HM_BAIL;
		d->pool = pool;
		d->cappool = cap;
	}
	int id = d->nd++;
	d->off[id] = (int)d->npool;
	d->len[id] = n;
	if (n > 0)
		memcpy(d->pool + d->npool, list, (size_t)n * sizeof(int));
	d->npool += (size_t)n;
	for (int x = 0; x < d->stride; x++)
		d->trans[(size_t)id * (size_t)d->stride + (size_t)x] = HM_UNKNOWN;
	hm_dfa_index(d, h, id);
	d->built++;
	return id;
}

static int hm_cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* The state after state ID reads byte C with byte AFTER next (-1: the end), simulated
 * once: the threads of ID that read C, and the one that starts after it. HM_MATCHED, a
 * state, or HM_BAIL: the cache was full and little reused, or out of memory (cur then
 * holds ID's NFA states, returned in *NCUR, for hm_nfa to go on from). *EMPTIED: the
 * cache was emptied, ID with it. */
static int hm_dfa_step(struct http_match *m, struct hm_dfa *d, int id, int c, int after, int *ncur,
                       bool *emptied)
{
	int n;

	if (hm_step(m, d->pool + d->off[id], d->len[id], c, after, &n))
		return HM_MATCHED;
	qsort(m->nxt, (size_t)n, sizeof(*m->nxt), hm_cmp_int);
	int built = d->built, next = hm_dfa_state(d, m->nxt, n, m->dfa_max);
	/* A state made, and many made for the bytes read: a body that takes the pattern to
	 * ever new sets of states ("a[^x]{16}x" has 2^16) gains nothing from the cache. */
	bool thrash = d->built > built && d->built >= HM_DFA_CHECK &&
	              d->bytes < (size_t)d->built * (size_t)m->dfa_reuse;
	if (next >= 0 && !thrash)
		return next;
	/* Full, out of memory or thrashing: ID's states to cur (which the DFA leaves alone),
	 * before emptying the cache may write over them (the pool may have moved: again from
	 * its offset). */
	*ncur = d->len[id];
	memcpy(m->cur, d->pool + d->off[id], (size_t)d->len[id] * sizeof(*m->cur));
	if (next == HM_UNKNOWN && d->bytes >= (size_t)d->built * (size_t)m->dfa_reuse) {
		/* full, and worth its keep: built again from here */
		hm_dfa_empty(d);
		*emptied = true;
		next = hm_dfa_state(d, m->nxt, n, m->dfa_max);
		if (next >= 0)
			return next;
	}
	return HM_BAIL;
}

/* From position 0, where cur holds the NCUR states reached: each step looked up in the
 * run's DFA, or simulated once and kept there. */
static bool hm_dfa_run(struct http_match *m, const unsigned char *t, size_t len, int ncur)
{
	struct hm_dfa d = {.stride = m->ncls * HM_LA_N};
	bool yes = false;

	qsort(m->cur, (size_t)ncur, sizeof(*m->cur), hm_cmp_int);
	int id = hm_dfa_state(&d, m->cur, ncur, m->dfa_max);
	if (id < 0) {
		hm_dfa_free(&d);
		return hm_nfa(m, t, len, 0, ncur);
	}
	for (size_t i = 0; i < len; i++) {
		int c = t[i], after = i + 1 < len ? t[i + 1] : -1;
		size_t x = (size_t)id * (size_t)d.stride +
		           (size_t)(m->cls[c] * HM_LA_N + hm_la(after));
		int next = d.trans[x];
		if (next == HM_UNKNOWN) {
			bool emptied = false;
			next = hm_dfa_step(m, &d, id, c, after, &ncur, &emptied);
			if (next == HM_BAIL) {
				yes = hm_nfa(m, t, len, i, ncur);
				break;
			}
			if (!emptied)
				d.trans[x] = next;
		}
		if (next == HM_MATCHED) {
			yes = true;
			break;
		}
		id = next;
		d.bytes++;
	}
	hm_dfa_free(&d);
	return yes;
}

bool http_match_run(struct http_match *m, const char *text, size_t len)
{
	const unsigned char *t = (const unsigned char *)text;
	int ncur = 0;

	hm_next_stamp(m);
	/* Position 0: the thread that starts there. Each later position adds its own, which
	 * makes the search unanchored in the same pass. */
	if (hm_add(m, m->cur, &ncur, m->start, -1, len > 0 ? t[0] : -1, false))
		return true;
	return len > 0 && hm_dfa_run(m, t, len, ncur);
}

void http_match_cache_limit(struct http_match *m, int states, int reuse)
{
	m->dfa_max =
	        states > 0 ? states : HM_DFA_TRANS_BYTES / (m->ncls * HM_LA_N * (int)sizeof(int));
	m->dfa_reuse = reuse >= 0 ? reuse : HM_DFA_REUSE;
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
