/* Durations: parsing "1m30s"-style strings and JSON numbers of seconds, and writing the
 * one canonical form back. Everything is whole milliseconds, at most DURATION_MAX_MS. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

static const struct {
	const char *name;
	uint32_t ms;
} units[] = {
        /* Largest first: components must come in this order, each at most once. */
        {"h", 3600000},
        {"m", 60000},
        {"s", 1000},
        {"ms", 1},
};
#define NUNITS (sizeof(units) / sizeof(units[0]))

#define DURATION_HINT "such as \"500ms\", \"2s\" or \"1m30s\""

/* Read digits into *v, saturating far above any valid value so overflow cannot wrap. */
static const char *duration_digits(const char *p, uint64_t *v, int *ndigits)
{
	*v = 0;
	*ndigits = 0;
	for (; *p >= '0' && *p <= '9'; p++, (*ndigits)++)
		if (*v < UINT64_C(1) << 40)
			*v = *v * 10 + (uint64_t)(*p - '0');
	return p;
}

/* The unit at p: the longest name that matches ("ms" before "m"). */
static int duration_unit(const char *p, size_t *len)
{
	int best = -1;
	size_t best_len = 0;
	for (size_t i = 0; i < NUNITS; i++) {
		size_t n = strlen(units[i].name);
		if (n > best_len && strncmp(p, units[i].name, n) == 0) {
			best = (int)i;
			best_len = n;
		}
	}
	/* "2min" or "2sec" must not parse as "2m" followed by garbage. */
	if (best >= 0 && p[best_len] >= 'a' && p[best_len] <= 'z')
		return -1;
	*len = best_len;
	return best;
}

int duration_parse(const char *s, uint32_t *ms, char *err, size_t errlen)
{
	const char *p = s;
	uint64_t total = 0;
	int last = -1;

	if (*p == '\0') {
		snprintf(err, errlen, "empty duration; expected a duration %s", DURATION_HINT);
		return -1;
	}
	if (*p == '-') {
		snprintf(err, errlen, "invalid duration \"%s\": must not be negative", s);
		return -1;
	}
	while (*p != '\0') {
		uint64_t whole, frac = 0, scale = 1;
		int nd, nf = 0;
		const char *start = p;

		p = duration_digits(p, &whole, &nd);
		if (*p == '.') {
			p = duration_digits(p + 1, &frac, &nf);
			if (nf == 0 || nf > 9) {
				snprintf(err, errlen,
				         "invalid duration \"%s\": bad number \"%.*s\"", s,
				         (int)(p - start), start);
				return -1;
			}
			for (int i = 0; i < nf; i++)
				scale *= 10;
		}
		if (nd == 0) {
			snprintf(err, errlen, "invalid duration \"%s\": expected a duration %s", s,
			         DURATION_HINT);
			return -1;
		}
		size_t ulen;
		int u = duration_unit(p, &ulen);
		if (*p == '\0') {
			snprintf(err, errlen,
			         "invalid duration \"%s\": missing unit (ms, s, m or h)", s);
			return -1;
		}
		if (u < 0) {
			snprintf(err, errlen,
			         "invalid duration \"%s\": unknown unit \"%s\" (use ms, s, m or h)",
			         s, p);
			return -1;
		}
		if (u <= last) {
			snprintf(err, errlen,
			         "invalid duration \"%s\": units must go from largest to smallest, "
			         "each once, as in \"1h30m\"",
			         s);
			return -1;
		}
		last = u;
		p += ulen;

		/* frac < 10^9 and unit <= 3.6e6: the product fits in 64 bits. */
		uint64_t part_frac = frac * units[u].ms;
		if (part_frac % scale != 0) {
			snprintf(err, errlen,
			         "invalid duration \"%s\": finer than a millisecond is not "
			         "supported",
			         s);
			return -1;
		}
		total += whole * units[u].ms + part_frac / scale;
		if (whole >= UINT64_C(1) << 40 || total > DURATION_MAX_MS) {
			snprintf(err, errlen,
			         "invalid duration \"%s\": longer than the maximum of 24h", s);
			return -1;
		}
	}
	*ms = (uint32_t)total;
	return 0;
}

int duration_from_json(const json_t *v, uint32_t *ms, char *err, size_t errlen)
{
	double secs;

	if (json_is_string(v))
		return duration_parse(json_string_value(v), ms, err, errlen);
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i < 0) {
			snprintf(err, errlen, "invalid duration %lld: must not be negative",
			         (long long)i);
			return -1;
		}
		if (i > DURATION_MAX_MS / 1000) {
			snprintf(err, errlen,
			         "invalid duration %lld: longer than the maximum of 24h",
			         (long long)i);
			return -1;
		}
		*ms = (uint32_t)i * 1000;
		return 0;
	}
	if (!json_is_real(v)) {
		snprintf(err, errlen,
		         "expected duration such as \"500ms\", \"2s\" or a number of seconds");
		return -1;
	}
	secs = json_real_value(v);
	if (secs < 0) {
		snprintf(err, errlen, "invalid duration %g: must not be negative", secs);
		return -1;
	}
	if (!isfinite(secs) || secs * 1000 > DURATION_MAX_MS) {
		snprintf(err, errlen, "invalid duration %g: longer than the maximum of 24h", secs);
		return -1;
	}
	/* 0.1 * 1000 is not exactly 100 in binary; accept what is a whole millisecond up to
	 * rounding noise, refuse what really is finer. */
	double r = (double)(uint64_t)(secs * 1000 + 0.5); /* no libm: the Makefile links none */
	double diff = secs * 1000 - r;
	if (diff > 1e-6 || diff < -1e-6) {
		snprintf(err, errlen,
		         "invalid duration %g: finer than a millisecond is not supported", secs);
		return -1;
	}
	*ms = (uint32_t)r;
	return 0;
}

void duration_format(uint32_t ms, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (ms == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	for (size_t i = 0; i < NUNITS && ms > 0; i++) {
		uint32_t n = ms / units[i].ms;
		if (n == 0)
			continue;
		ms -= n * units[i].ms;
		int w = snprintf(buf + off, len - off, "%u%s", (unsigned)n, units[i].name);
		if (w < 0 || (size_t)w >= len - off)
			return;
		off += (size_t)w;
	}
}
