/* Typed reads of JSON members for the config and the probes' configure functions: each
 * read names what it expected, so every wrong type gets the same wording everywhere. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgread.h"
#include "duration.h"

int cfg_int(struct config_error *e, const json_t *obj, const char *key, long long min,
            long long max, long long *out)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		if (max == LLONG_MAX)
			cfgerr_add(e, key, "expected integer >= %lld", min);
		else
			cfgerr_add(e, key, "expected integer %lld-%lld", min, max);
		return -1;
	}
	*out = json_integer_value(v);
	return 1;
}

int cfg_bool(struct config_error *e, const json_t *obj, const char *key, bool *out)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		cfgerr_add(e, key, "expected boolean");
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

int cfg_string(struct config_error *e, const json_t *obj, const char *key, bool allow_empty,
               const char **out)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || (!allow_empty && json_string_length(v) == 0)) {
		cfgerr_add(e, key, allow_empty ? "expected string" : "expected non-empty string");
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

int cfg_duration(struct config_error *e, const json_t *obj, const char *key, uint32_t *ms)
{
	const json_t *v = json_object_get(obj, key);
	char err[256];
	if (v == NULL)
		return 0;
	if (duration_from_json(v, ms, err, sizeof(err)) != 0) {
		cfgerr_add(e, key, "%s", err);
		return -1;
	}
	return 1;
}

int cfg_strv(struct config_error *e, const json_t *obj, const char *key, char ***out, size_t *n)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_array(v)) {
		cfgerr_add(e, key, "expected array of strings");
		return -1;
	}

	size_t len = json_array_size(v);
	char **strv = calloc(len + 1, sizeof(*strv));
	if (strv == NULL) {
		cfgerr_add(e, key, "out of memory");
		return -1;
	}
	int rc = 1;
	for (size_t i = 0; i < len; i++) {
		const json_t *s = json_array_get(v, i);
		if (!json_is_string(s) || json_string_length(s) == 0) {
			char idx[CFG_PATH_MAX];
			snprintf(idx, sizeof(idx), "%s[%zu]", key, i);
			cfgerr_add(e, idx, "expected non-empty string");
			rc = -1;
			continue;
		}
		if (rc > 0 && (strv[i] = strdup(json_string_value(s))) == NULL) {
			cfgerr_add(e, key, "out of memory");
			rc = -1;
		}
	}
	if (rc < 0) {
		cfg_strv_free(strv);
		return -1;
	}
	*out = strv;
	*n = len;
	return 1;
}

void cfg_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

/* Edit distance with adjacent transpositions counted as one edit ("intreval"). */
static size_t cfg_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	size_t d[65][65];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

static bool cfg_in_list(const char *key, const char *const *list)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(key, *list) == 0)
			return true;
	return false;
}

/* The closest known key within two edits, if any, for "did you mean". */
static const char *cfg_closest(const char *key, const char *const *a, const char *const *b)
{
	const char *best = NULL;
	size_t best_d = 3;
	const char *const *lists[] = {a, b};
	for (size_t l = 0; l < 2; l++) {
		for (const char *const *k = lists[l]; k != NULL && *k != NULL; k++) {
			size_t d = cfg_distance(key, *k);
			/* A one-letter key is within two edits of every short name. */
			if (d < best_d && d < strlen(*k)) {
				best = *k;
				best_d = d;
			}
		}
	}
	return best;
}

int cfg_check_keys(struct config_error *e, const json_t *obj, const char *const *a,
                   const char *const *b)
{
	const char *key;
	json_t *v;
	int unknown = 0;

	json_object_foreach((json_t *)obj, key, v)
	{
		if (cfg_in_list(key, a) || cfg_in_list(key, b))
			continue;
		const char *hint = cfg_closest(key, a, b);
		if (hint != NULL)
			cfgerr_add(e, key, "unknown key \"%s\" (did you mean \"%s\"?)", key, hint);
		else
			cfgerr_add(e, key, "unknown key \"%s\"", key);
		unknown++;
	}
	return unknown;
}

int cfg_decimal(const char *s, size_t len, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	if (len == 0 || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int cfg_decimals(const char *s, int parts, unsigned long long max, unsigned long long *v)
{
	for (int i = 0; i < parts; i++) {
		const char *end = strchr(s, ':');
		size_t n = end != NULL ? (size_t)(end - s) : strlen(s);
		if ((end != NULL) != (i < parts - 1) || cfg_decimal(s, n, max, &v[i]) != 0)
			return -1;
		s += n + 1;
	}
	return 0;
}
