/* Load-time bounds on an http check's expect_body_regex, so that glibc's regcomp and
 * regexec stay small and fast whatever the pattern (see http_regex.c). */
#ifndef HEALTHD_PROBES_HTTP_REGEX_H
#define HEALTHD_PROBES_HTTP_REGEX_H

#include <stddef.h>

#define HTTP_REGEX_MAX_COUNT   16  /* largest m or n in {m}, {m,} and {m,n} */
#define HTTP_REGEX_MAX_SIZE    256 /* atoms and operators once repetitions are copied out */
#define HTTP_REGEX_MAX_ANCHORS 8   /* ^ $ \b \B \< \> \` \' in the pattern */

/* 0 when the POSIX extended regular expression S is within the bounds; otherwise -1 and
 * WHY (of WHYLEN bytes) says what is refused and at which byte of S. A pattern regcomp
 * would refuse as malformed may pass: regcomp says what is wrong with it. */
int http_regex_check(const char *s, char *why, size_t whylen);

/* Reads "{m}", "{m,}", "{,n}", "{m,n}" or "{,}" (which is "{0,}") at P (which points at the "{"):
 * the byte after it, with *LO and *HI set (-1: no upper bound); NULL when P holds no interval
 * (glibc refuses it or reads "{" literally). Counts are read up to a few digits more than any
 * bound. The one reading of an interval, for the bounds here and for http_match.c. */
const char *http_regex_interval(const char *p, long *lo, long *hi);

/* The end of the bracket expression at P ("[...]", P at the "["): the byte past its "]",
 * or the string's end for an unclosed one (regcomp refuses it). "[:class:]", "[.x.]" and
 * "[=x=]" inside are skipped whole. */
const char *http_regex_bracket_end(const char *p);

#endif
