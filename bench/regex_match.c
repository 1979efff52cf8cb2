/* CPU time of one expect_body_regex match over a body that does not match: glibc's
 * regexec (how healthd matched before), regexec on the pattern wrapped as
 * "^(a|[^a])*(PATTERN)" (one pass of glibc's DFA), and probes/http_match.c (how healthd
 * matches now: an NFA simulated once per new set of states, cached as a DFA for the run).
 * Bodies of 32 KiB, 64 KiB (max_body's default) and 16 MiB (its largest);
 * regexec is left out where it would run for minutes (its time grows with the square).
 *
 *   cc -O2 -D_GNU_SOURCE -o /tmp/regex_match bench/regex_match.c probes/http_match.c probes/http_regex.c
 *   /tmp/regex_match
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../probes/http_match.h"

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void row(const char *what, const char *pat, const char *body, size_t len, int way)
{
	char wrapped[512], why[256];
	regex_t re;
	struct http_match *m = NULL;
	bool yes;

	if (way == 2) {
		m = http_match_new(pat, why, sizeof(why));
		if (m == NULL) {
			printf("%s: %s\n", pat, why);
			exit(1);
		}
	} else {
		snprintf(wrapped, sizeof(wrapped), way == 1 ? "^(a|[^a])*(%s)" : "%s", pat);
		if (regcomp(&re, wrapped, REG_EXTENDED | REG_NOSUB) != 0)
			exit(1);
	}
	double t0 = cpu_s();
	if (way == 2) {
		yes = http_match_run(m, body, len);
	} else {
		regmatch_t rm = {.rm_so = 0, .rm_eo = (regoff_t)len};
		yes = regexec(&re, body, 1, &rm, REG_STARTEND) == 0;
	}
	double t = cpu_s() - t0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("| `%s` | %zu KiB | %s | %s | %.4f s | %ld MiB |\n", pat, len / 1024, what,
	       yes ? "match" : "no match", t, ru.ru_maxrss / 1024);
	if (way == 2)
		http_match_free(m);
	else
		regfree(&re);
}

int main(void)
{
	static const size_t sizes[] = {32 << 10, 64 << 10, 16 << 20};
	char *body = malloc(16 << 20);

	if (body == NULL)
		return 1;
	printf("| pattern | body | matcher | result | CPU | peak RSS so far "
	       "|\n|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < 3; i++) {
		memset(body, 'a', sizes[i]); /* ".+x" scans to the end from every byte */
		if (sizes[i] <= (64 << 10))
			row("regexec", ".+x", body, sizes[i], 0);
		row("regexec, wrapped", ".+x", body, sizes[i], 1);
		row("http_match", ".+x", body, sizes[i], 2);
	}
	for (size_t i = 0; i < 3; i++) {
		/* "a" and "b" at random: 2^16 sets of pending "a"s for the wrapped DFA */
		unsigned s = 12345;
		for (size_t k = 0; k < sizes[i]; k++) {
			s = s * 1103515245u + 12345u;
			body[k] = "ab"[(s >> 16) & 1];
		}
		row("regexec", "a[^x]{16}x", body, sizes[i], 0);
		if (sizes[i] <= (64 << 10))
			row("regexec, wrapped", "a[^x]{16}x", body, sizes[i], 1);
		row("http_match", "a[^x]{16}x", body, sizes[i], 2);
	}
	for (size_t i = 0; i < 3; i++) {
		/* words and numbers: many threads at once in the NFA, few sets of them */
		unsigned s = 12345;
		for (size_t k = 0; k < sizes[i]; k++) {
			s = s * 1103515245u + 12345u;
			body[k] = "abcdefghij0123456789 ;"[(s >> 16) % 22];
		}
		if (sizes[i] <= (64 << 10))
			row("regexec", "([a-z]+[0-9]*){1,9}x", body, sizes[i], 0);
		row("http_match", "([a-z]+[0-9]*){1,9}x", body, sizes[i], 2);
	}
	free(body);
	return 0;
}
