/* Values as the original's argparse types read them: Python's int() and float(), and
 * healthd's --exabgp-version. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compat.h"

#define COMPAT_INT_MAX 1000000000000000LL /* far beyond any metric; keeps sums exact */

/* Python's int(): blanks around, a sign, decimal digits with single '_' between them. */
int compat_int_parse(const char *s, long long *out)
{
	long long v = 0;
	bool neg = false, digit = false;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	for (; *s != '\0' && !isspace((unsigned char)*s); s++) {
		if (*s == '_' && digit && isdigit((unsigned char)s[1]))
			continue;
		if (!isdigit((unsigned char)*s))
			return -1;
		digit = true;
		v = v * 10 + (*s - '0');
		if (v > COMPAT_INT_MAX)
			return -1;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (!digit || *s != '\0')
		return -1;
	*out = neg ? -v : v;
	return 0;
}

/* Python's float() for the decimal forms: digits ('_' between them), a point, an
 * exponent; also inf and nan, which opts_validate refuses with a reason. */
int compat_float_parse(const char *s, double *out)
{
	char buf[128];
	size_t n = 0;
	bool digits = false, point = false, exp = false;

	while (isspace((unsigned char)*s))
		s++;
	size_t len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	const char *word = s + (*s == '+' || *s == '-');
	size_t wl = len - (size_t)(word - s);
	if ((wl == 3 && strncasecmp(word, "inf", 3) == 0) ||
	    (wl == 8 && strncasecmp(word, "infinity", 8) == 0) ||
	    (wl == 3 && strncasecmp(word, "nan", 3) == 0)) {
		*out = strncasecmp(word, "nan", 3) == 0 ? NAN : (*s == '-' ? -INFINITY : INFINITY);
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool sign_ok = i == 0 || (exp && (s[i - 1] == 'e' || s[i - 1] == 'E'));
		if (c == '_' && i > 0 && isdigit((unsigned char)s[i - 1]) && i + 1 < len &&
		    isdigit((unsigned char)s[i + 1]))
			continue;
		if (isdigit((unsigned char)c)) {
			digits = true;
		} else if ((c == '+' || c == '-') && sign_ok) {
		} else if (c == '.' && !point && !exp) {
			point = true;
		} else if ((c == 'e' || c == 'E') && digits && !exp && i + 1 < len) {
			exp = true;
			digits = false; /* the exponent needs digits of its own */
		} else {
			return -1;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	if (!digits)
		return -1;
	*out = strtod(buf, NULL);
	return 0;
}

/* --exabgp-version: "4.2.21", "5.0.8", "6": up to 4.2.21 the plain form, from 4.2.22
 * "neighbor *", from 6.0 "peer *". */
int compat_version_parse(const char *s, enum compat_form *form)
{
	unsigned long v[3] = {0, 0, 0};
	int k = 0;
	char *end;

	for (const char *p = s; k < 3; k++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v[k] = strtoul(p, &end, 10);
		if (*end == '\0')
			break;
		if (*end != '.')
			return -1;
		p = end + 1;
		if (k == 2)
			return -1;
	}
	if (v[0] >= 6)
		*form = CF_PEER;
	else if (v[0] > 4 || (v[0] == 4 && (v[1] > 2 || (v[1] == 2 && v[2] >= 22))))
		*form = CF_NEIGHBOR;
	else
		*form = CF_LEGACY;
	return 0;
}
