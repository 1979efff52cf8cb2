/* expect_body_regex's one-pass matcher (probes/http_match.c) says what glibc's regexec
 * says: a table of patterns and bodies with the answer written down (NUL bytes, newlines,
 * anchors, word boundaries, alternation, brackets, an unmatched ")"), then thousands of
 * generated patterns and bodies compared with regexec. */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "../../probes/http_match.h"
#include "../../probes/http_regex.h"
#include "unit.h"

/* regexec over LEN bytes, NULs included, as healthd called it before. */
static bool glibc_matches(const char *pat, const char *body, size_t len)
{
	regex_t re;
	regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)len};

	ck_assert_msg(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) == 0, "regcomp /%s/", pat);
	bool yes = regexec(&re, body, 1, &m, REG_STARTEND) == 0;
	regfree(&re);
	return yes;
}

static bool ours_matches(const char *pat, const char *body, size_t len)
{
	char why[256] = "";
	struct http_match *m = http_match_new(pat, why, sizeof(why));
	ck_assert_msg(m != NULL, "/%s/ not built: %s", pat, why);
	bool yes = http_match_run(m, body, len);
	http_match_free(m);
	return yes;
}

struct match_case {
	const char *pat;
	const char *body;
	size_t len; /* 0: strlen(body) */
	bool yes;
};

static const struct match_case cases[] = {
        {"ok", "status: ok\n", 0, true},
        {"ok", "status: OK\n", 0, false}, /* no case flag in the config */
        {"^ok", "ok then", 0, true},
        {"^ok", "not ok", 0, false},
        {"ok$", "all ok", 0, true},
        {"ok$", "ok\n", 0, false}, /* $ is the end of the body, not of a line */
        {"^ok$", "ok", 0, true},
        {"^b", "a\nb", 0, false}, /* ^ is the start of the body: no REG_NEWLINE */
        {"a.b", "a\nb", 0, true}, /* "." matches a newline */
        {"a.b", "a\0b", 3, false},
        {"a[^x]b", "a\0b", 3, true}, /* a bracket does match NUL */
        {"b", "a\0b", 3, true},      /* a NUL does not end the body */
        {"^a\\'", "a\0", 2, false},
        {"(ok|up)$", "state up", 0, true},
        {"ok|^up", "state up", 0, false},
        {"ok|^up", "up", 0, true},
        /* glibc's DFA, as healthd used it: a newline the pattern reads starts a line
         * for "^" after it, and "$" holds before a newline the pattern reads */
        {".*^b", "a\nb", 0, true},
        {"a$.b", "a\nb", 0, true},
        {"a$.b", "axb", 0, false},
        {"a$", "a\n", 0, false},
        {".\\`b", "\nb", 0, false},
        /* and: an anchor right before a copy regcomp made of a repeated piece is
         * ignored, unless an anchor before it carries it along */
        {"(\\<y|a){2}", "ay", 0, true},
        {"(\\<y|a)(\\<y|a)", "ay", 0, false},
        {"((\\.)|a\\'\\B){2}.", "a\0 aaxxa", 9, false},
        {"a)b", "xa)b", 0, true}, /* an unmatched ")" is a character */
        {"a)b", "ab", 0, false},
        {"[]a]x", "]x", 0, true},
        {"[[:digit:]]{3}", "HTTP 2x0", 0, false},
        {"[[:digit:]]{3}", "HTTP 200", 0, true},
        {"\\bok\\b", "took", 0, false},
        {"\\bok\\b", "is ok.", 0, true},
        {"\\<ok", "took", 0, false},
        {"ok\\>", "okay", 0, false},
        {"o\\Bk", "ok", 0, true},
        {"\\w+=\\w+", "a=b", 0, true},
        {"\\s", "ab", 0, false},
        {"\\.", "a.b", 0, true},
        {"\\.", "ab", 0, false},
        {"x{2,3}y", "xy xxy", 0, true},
        {"^x{2,3}y", "xxxxy", 0, false},
        {"(ab){2,}c", "ababc", 0, true},
        {"(ab){2,}c", "abc", 0, false},
        {"a{,2}b", "b", 0, true},
        {"a{,}b", "b", 0, true}, /* "{,}" is "{0,}" */
        {"^a{,}b", "aaab", 0, true},
        {"x){,}y", "x)))y", 0, true},
        {"x){,}y", "x)z", 0, false},
        {"", "", 0, true},
        {"a|", "zzz", 0, true},
        {"()", "x", 0, true},
        {".+x", "aaaaaaaaaaaaaaaa", 0, false},
        {"\"status\": *\"ok\"", "{\"status\":   \"ok\"}", 0, true},
        {"^([0-9]+\\.){3}[0-9]+$", "10.0.0.1", 0, true},
        {"^([0-9]+\\.){3}[0-9]+$", "10.0.0.1.", 0, false},
};

START_TEST(test_table)
{
	const struct match_case *c = &cases[_i];
	size_t len = c->len > 0 ? c->len : strlen(c->body);

	ck_assert_msg(glibc_matches(c->pat, c->body, len) == c->yes, "regexec /%s/", c->pat);
	ck_assert_msg(ours_matches(c->pat, c->body, len) == c->yes, "/%s/ against %zu bytes",
	              c->pat, len);
}
END_TEST

static unsigned long gen_seed = 1;

static unsigned gen_next(unsigned n)
{
	gen_seed = gen_seed * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)(gen_seed >> 33) % n;
}

static void gen_add(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(buf);
	if (n + strlen(s) < cap)
		memcpy(buf + n, s, strlen(s) + 1);
}

/* A random pattern over a small alphabet, up to DEPTH groups deep. */
static void gen_pattern(char *buf, size_t cap, int depth)
{
	static const char *const atoms[] = {
	        "a",           "b",   ".",      "\n",   "[^a]", "\\w",      "\\W",  "_",   " ",
	        "\\b",         "\\B", "\\<",    "\\>",  "^",    "$",        "\\`",  "\\'", ")",
	        "[[:space:]]", "\\.", "\\`\\'", "[]a]", "x{2}", "(a|\\<)b", "\\w+", "$\n", "\n^"};
	static const char *const ops[] = {"*", "+", "?", "{2}", "{0,2}", "{1,}", "{,3}", "{,}"};
	int pieces = 1 + (int)gen_next(4);

	for (int i = 0; i < pieces; i++) {
		unsigned k = gen_next(depth > 0 ? 31 : 27);
		if (k >= 27) {
			gen_add(buf, cap, "(");
			gen_pattern(buf, cap, depth - 1);
			if (gen_next(2) == 0) {
				gen_add(buf, cap, "|");
				gen_pattern(buf, cap, depth - 1);
			}
			gen_add(buf, cap, ")");
		} else if (strcmp(atoms[k], ")") != 0 || depth == 2) {
			gen_add(buf, cap, atoms[k]);
		}
		if (gen_next(3) == 0)
			gen_add(buf, cap, ops[gen_next(8)]);
	}
	if (depth == 2 && gen_next(4) == 0) {
		gen_add(buf, cap, "|");
		gen_pattern(buf, cap, 1);
	}
}

/* Generated patterns, each against generated bodies: the matcher and regexec agree. */
START_TEST(test_generated)
{
	static const char alphabet[] = {'a', 'b', '_', ' ', '\n', '\0', '.', 'x'};
	int compared = 0, patterns = 0;

	for (int n = 0; n < 3000; n++) {
		char pat[128] = "", why[256];
		regex_t re;
		gen_pattern(pat, sizeof(pat), 2);
		if (gen_next(3) == 0) { /* the whole repeated: anchors in copies */
			char t[sizeof(pat) + 32];
			snprintf(t, sizeof(t), "(%s){%u,%u}", pat, gen_next(2), 2 + gen_next(2));
			if (strlen(t) < sizeof(pat))
				memcpy(pat, t, strlen(t) + 1);
		}
		if (http_regex_check(pat, why, sizeof(why)) != 0)
			continue; /* refused when the config is loaded */
		if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) != 0)
			continue;
		struct http_match *m = http_match_new(pat, why, sizeof(why));
		ck_assert_msg(m != NULL, "/%s/ not built: %s", pat, why);
		patterns++;
		for (int b = 0; b < 40; b++) {
			char body[24];
			size_t len = gen_next(sizeof(body));
			for (size_t i = 0; i < len; i++)
				body[i] = alphabet[gen_next(sizeof(alphabet))];
			regmatch_t rm = {.rm_so = 0, .rm_eo = (regoff_t)len};
			bool want = regexec(&re, body, 1, &rm, REG_STARTEND) == 0;
			/* the DFA cache as built, then one of 1-4 states, emptied whenever full
			 * (reuse 0) or given up for the NFA at once (reuse above any body) */
			http_match_cache_limit(m, 0, -1);
			bool got = http_match_run(m, body, len);
			http_match_cache_limit(m, 1 + (int)gen_next(4),
			                       gen_next(2) == 0 ? 0 : 1000);
			bool got_small = http_match_run(m, body, len);
			if (want != got || want != got_small) {
				char shown[80] = "";
				for (size_t i = 0; i < len; i++) {
					char one[8];
					snprintf(one, sizeof(one),
					         isprint((unsigned char)body[i]) ? "%c" : "\\x%02x",
					         (unsigned char)body[i]);
					gen_add(shown, sizeof(shown), one);
				}
				ck_abort_msg(
				        "/%s/ against \"%s\": regexec %d, http_match %d, with a "
				        "cache of 1-4 states %d",
				        pat, shown, want, got, got_small);
			}
			compared++;
		}
		http_match_free(m);
		regfree(&re);
	}
	/* the generator is not starved by the load-time bounds */
	ck_assert_int_gt(patterns, 1000);
	printf("http_match: %d patterns, %d bodies compared with regexec\n", patterns, compared);
}
END_TEST

/* A pattern that scans far and fails, against 1 MiB: regexec takes minutes (quadratic),
 * one pass does not. Not timed: the test's own timeout (Check's, seconds) would catch a
 * quadratic matcher. */
START_TEST(test_long_body)
{
	size_t len = 1 << 20;
	char *body = malloc(len);
	char why[256];

	ck_assert_ptr_nonnull(body);
	memset(body, 'a', len);
	struct http_match *m = http_match_new(".+x", why, sizeof(why));
	ck_assert_ptr_nonnull(m);
	ck_assert(!http_match_run(m, body, len));
	body[len - 1] = 'x';
	ck_assert(http_match_run(m, body, len));
	http_match_free(m);
	m = http_match_new("a[^x]{16}x", why, sizeof(why));
	ck_assert_ptr_nonnull(m);
	for (size_t i = 0; i < len; i++)
		body[i] = "ab"[(i * 2654435761u >> 7) & 1];
	ck_assert(!http_match_run(m, body, len));
	http_match_free(m);
	free(body);
}
END_TEST

static Suite *http_match_suite(void)
{
	Suite *s = suite_create("http_match");
	TCase *tc = tcase_create("http_match");
	tcase_add_loop_test(tc, test_table, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_generated);
	tcase_add_test(tc, test_long_body);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(http_match_suite)
