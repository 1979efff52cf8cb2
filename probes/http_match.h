/* Whether an http body matches expect_body_regex, in time linear in the body: one pass
 * over the body with every partial match kept at once (a Thompson NFA), rather than
 * glibc's regexec, which tries the pattern again from every byte of the body and so
 * takes time quadratic in it when the pattern can scan far and fails (see
 * http_match.c). */
#ifndef HEALTHD_PROBES_HTTP_MATCH_H
#define HEALTHD_PROBES_HTTP_MATCH_H

#include <stdbool.h>
#include <stddef.h>

struct http_match;

/* The matcher for PATTERN, a POSIX extended regular expression that regcomp (REG_EXTENDED)
 * accepted and http_regex_check passed. NULL when it holds something this matcher does
 * not build (WHY, of WHYLEN bytes, says what) or out of memory: the caller then keeps
 * regexec. */
struct http_match *http_match_new(const char *pattern, char *why, size_t whylen);

/* Whether the LEN bytes at TEXT (NUL bytes included) hold a match, as regexec with
 * REG_STARTEND over the same bytes says, in time at most proportional to LEN times the
 * pattern's size. */
bool http_match_run(struct http_match *m, const char *text, size_t len);

/* At most STATES states in a run's DFA cache (0: what fits in HM_DFA_TRANS_BYTES, the
 * default), and REUSE bytes read per state made (-1: HM_DFA_REUSE, the default) to empty
 * a full cache rather than go on without it: for tests, so that both ways are compared
 * with regexec as well. */
void http_match_cache_limit(struct http_match *m, int states, int reuse);

void http_match_free(struct http_match *m);

#endif
