/* Bounds on expect_body_regex that hold whatever the pattern, checked before regcomp.
 *
 * glibc's regcomp copies the subtree under a counted repetition once per count
 * ("x{2,4}" becomes "xx(x(x)?)?") and under "+" twice ("x+" becomes "xx*"), so nested
 * counts multiply; its epsilon closures cost up to the cube of the node count
 * ("((x*)*){0,999}" took 2.7 s), copies of alternatives that match the empty string
 * cost it exponential time ("((()|x?){k})+" grows 4x with k) and a starred group of
 * starred anchors ("((^|$)*\b)*") never finished. So:
 *   - a count in braces is at most HTTP_REGEX_MAX_COUNT;
 *   - a counted repetition never repeats something that holds another one;
 *   - no repetition operator repeats something that can match the empty string (an
 *     anchor, an empty group or alternative, something starred or optional): with
 *     that, every path of epsilon moves in regcomp's automaton crosses each copy of
 *     the pattern at most once;
 *   - at most HTTP_REGEX_MAX_ANCHORS anchors ("(^|$)" 36 times took 0.5 s);
 *   - the pattern, its atoms and repetition operators counted once per copy regcomp
 *     makes, is at most HTTP_REGEX_MAX_SIZE;
 *   - back-references (\1 ... \9, a glibc extension to ERE) are refused: they make
 *     matching exponential.
 * The size counts every atom (a character, a bracket expression, ".", "^", "$", an
 * escape, an empty group) and every repetition operator, multiplied by the copies of
 * every repetition around it, so regcomp's tree has a bounded number of nodes (its
 * concatenation and alternation nodes are fewer than its atoms).
 *
 * The parser follows the ERE grammar as glibc reads it; where glibc would refuse the
 * pattern, or may read a character literally, it counts at least as much as glibc could
 * build, and regcomp then reports the error. */
#include "http_regex.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define HTTP_REGEX_SAT 1000000UL /* sizes saturate here: far above the bound */

struct rx {
	const char *s; /* the whole pattern, for byte offsets */
	const char *p; /* next character to read */
	char *why;
	size_t whylen;
	int anchors; /* zero-width assertions so far */
	bool bad;
};

/* A parsed piece of pattern: its size once copied out, and whether it holds a counted
 * repetition. */
struct rx_size {
	unsigned long n;
	bool counted; /* holds a counted repetition */
	bool empty;   /* can match the empty string */
};

static unsigned long rx_add(unsigned long a, unsigned long b)
{
	return a + b > HTTP_REGEX_SAT ? HTTP_REGEX_SAT : a + b;
}

static unsigned long rx_mul(unsigned long a, unsigned long b)
{
	return b != 0 && a > HTTP_REGEX_SAT / b ? HTTP_REGEX_SAT : a * b;
}

__attribute__((format(printf, 3, 4))) static void rx_fail(struct rx *r, const char *at,
                                                          const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->bad)
		return; /* the first reason is the one to fix first */
	r->bad = true;
	n = snprintf(r->why, r->whylen, "byte %td: ", at - r->s);
	if (n < 0 || (size_t)n >= r->whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(r->why + n, r->whylen - (size_t)n, fmt, ap);
	va_end(ap);
}

const char *http_regex_interval(const char *p, long *lo, long *hi)
{
	const char *q = p + 1;
	long m = 0, n;
	int digits = 0;
	bool comma = false;

	for (; isdigit((unsigned char)*q); q++, digits++)
		m = m < 100000 ? m * 10 + (*q - '0') : m;
	n = m;
	if (*q == ',') {
		comma = true;
		q++;
		if (isdigit((unsigned char)*q)) {
			for (n = 0; isdigit((unsigned char)*q); q++, digits++)
				n = n < 100000 ? n * 10 + (*q - '0') : n;
		} else {
			n = -1;
		}
	}
	/* "{}" is refused, but glibc reads "{,}" as "{0,}" */
	if (*q != '}' || (digits == 0 && !comma))
		return NULL;
	*lo = m;
	*hi = n;
	return q + 1;
}

static bool rx_interval(struct rx *r, long *lo, long *hi)
{
	const char *end = http_regex_interval(r->p, lo, hi);

	if (end == NULL)
		return false;
	r->p = end;
	return true;
}

const char *http_regex_bracket_end(const char *p)
{
	const char *q = p + 1;

	if (*q == '^')
		q++;
	if (*q == ']')
		q++;
	for (; *q != '\0' && *q != ']'; q++) {
		if (q[0] == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
			const char *c = q + 2;
			while (*c != '\0' && !(c[0] == q[1] && c[1] == ']'))
				c++;
			if (*c != '\0')
				q = c + 1;
		}
	}
	return *q != '\0' ? q + 1 : q;
}

/* A bracket expression at r->p, moved past. */
static void rx_bracket(struct rx *r)
{
	r->p = http_regex_bracket_end(r->p);
}

static struct rx_size rx_alt(struct rx *r, int depth);

/* regcomp copies the nodes after an anchor for each anchor that reaches them without a
 * character between: "(^|$)" 36 times took 0.5 s. */
static void rx_anchor(struct rx *r, const char *at)
{
	if (++r->anchors > HTTP_REGEX_MAX_ANCHORS)
		rx_fail(r, at, "more than %d anchors (^ $ \\b \\B \\< \\> \\` \\')",
		        HTTP_REGEX_MAX_ANCHORS);
}

static const char rx_empty[] =
        "something that can match the empty string (\"a*\", \"(a|)\", \"^\"): glibc "
        "takes exponential time, or loops, on its copies; repeat what matches a character "
        "(\"(a)?\" rather than \"(a|)?\", \"a*\" rather than \"(a*)*\")";

/* One atom at r->p, moved past. */
static struct rx_size rx_atom(struct rx *r, int depth)
{
	struct rx_size a = {1, false, false};
	const char *at = r->p;

	switch (*r->p) {
	case '(':
		r->p++;
		a = rx_alt(r, depth + 1);
		if (*r->p == ')')
			r->p++;
		if (a.n == 0)
			a.n = 1; /* "()" is still a node */
		return a;
	case '^':
	case '$':
		a.empty = true; /* an anchor matches no character */
		rx_anchor(r, at);
		r->p++;
		return a;
	case '[':
		rx_bracket(r);
		return a;
	case '\\':
		if (r->p[1] >= '1' && r->p[1] <= '9')
			rx_fail(r, at,
			        "back-reference \\%c: not part of POSIX extended regular "
			        "expressions",
			        r->p[1]);
		/* \b \B \< \> \` \' are glibc's word and buffer anchors */
		a.empty = r->p[1] != '\0' && strchr("bB<>`'", r->p[1]) != NULL;
		if (a.empty)
			rx_anchor(r, at);
		r->p += r->p[1] != '\0' ? 2 : 1;
		return a;
	default:
		/* A character, ".", "^", "$", or an operator with nothing to repeat (regcomp
		 * refuses it or reads it literally): one node either way. */
		r->p++;
		return a;
	}
}

/* An atom and the repetition operators after it ("a*", "(ab){2,3}", "a+?"). */
static struct rx_size rx_piece(struct rx *r, int depth)
{
	struct rx_size a = rx_atom(r, depth);

	for (;;) {
		const char *at = r->p;
		long lo, hi;
		unsigned long copies;

		if (*r->p == '*' || *r->p == '?' || *r->p == '+') {
			r->p++;
			if (a.empty)
				rx_fail(r, at, "%c repeats %s", *at, rx_empty);
			/* "x+" is copied out as "xx*" */
			a.n = rx_add(rx_mul(a.n, *at == '+' ? 2 : 1), 1);
			a.empty = a.empty || *at != '+';
			continue;
		}
		if (*r->p != '{' || !rx_interval(r, &lo, &hi))
			return a;
		if (a.empty) {
			rx_fail(r, at, "%.*s repeats %s", (int)(r->p - at), at, rx_empty);
		} else if (lo > HTTP_REGEX_MAX_COUNT || hi > HTTP_REGEX_MAX_COUNT) {
			rx_fail(r, at, "count %ld in %.*s is more than %d", lo > hi ? lo : hi,
			        (int)(r->p - at), at, HTTP_REGEX_MAX_COUNT);
		} else if (a.counted) {
			rx_fail(r, at,
			        "%.*s repeats something that already holds a counted repetition "
			        "{...}: they cannot be nested",
			        (int)(r->p - at), at);
		}
		/* regcomp makes max(lo, hi) copies, and one more for the "*" of "{m,}" */
		copies = (unsigned long)(hi < 0 ? lo + 1 : hi > lo ? hi : lo);
		a.n = rx_add(rx_mul(a.n, copies > 0 ? copies : 1), 1);
		a.counted = true;
		a.empty = a.empty || lo == 0;
	}
}

/* Alternatives ("a|bc|d") up to a ")" closing a group, or the end. */
static struct rx_size rx_alt(struct rx *r, int depth)
{
	struct rx_size all = {0, false, false};
	struct rx_size branch = {0, false, true}; /* the alternative being read */

	for (;;) {
		if (*r->p == '\0' || r->bad || (*r->p == ')' && depth > 0) || *r->p == '|') {
			all.n = rx_add(all.n, branch.n);
			all.counted = all.counted || branch.counted;
			all.empty = all.empty || branch.empty;
			if (*r->p != '|')
				break;
			r->p++;
			branch = (struct rx_size){0, false, true};
			continue;
		}
		struct rx_size piece = rx_piece(r, depth);
		branch.n = rx_add(branch.n, piece.n);
		branch.counted = branch.counted || piece.counted;
		branch.empty = branch.empty && piece.empty;
	}
	return all;
}

int http_regex_check(const char *s, char *why, size_t whylen)
{
	struct rx r = {.s = s, .p = s, .why = why, .whylen = whylen, .anchors = 0, .bad = false};
	struct rx_size all = rx_alt(&r, 0);

	if (r.bad)
		return -1;
	if (all.n > HTTP_REGEX_MAX_SIZE) {
		snprintf(why, whylen,
		         "more than %d atoms and operators once its repetitions are copied out "
		         "(each {m,n} copies what it repeats n times, each + twice)",
		         HTTP_REGEX_MAX_SIZE);
		return -1;
	}
	return 0;
}
