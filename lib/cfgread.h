/* Typed reads of JSON members, each reporting its own error through config_error.
 * Every reader returns 1 when the key was present and valid (*out set),
 * 0 when absent (*out untouched, so callers preset defaults), -1 on error (recorded). */
#ifndef LIB_CFGREAD_H
#define LIB_CFGREAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cfgerr.h"

int cfg_int(struct config_error *e, const json_t *obj, const char *key, long long min,
            long long max, long long *out);
int cfg_bool(struct config_error *e, const json_t *obj, const char *key, bool *out);
/* *out borrows the JSON string; empty strings are refused unless allow_empty. */
int cfg_string(struct config_error *e, const json_t *obj, const char *key, bool allow_empty,
               const char **out);
int cfg_duration(struct config_error *e, const json_t *obj, const char *key, uint32_t *ms);
/* A JSON array of non-empty strings; *out is a NULL-terminated malloc'd array of strdup'd
 * strings (free with cfg_strv_free), *n its length. */
int cfg_strv(struct config_error *e, const json_t *obj, const char *key, char ***out, size_t *n);
void cfg_strv_free(char **v);

/* Every key of obj must be in one of the NULL-terminated lists (b may be NULL);
 * each other key is reported as "unknown key". Returns the number of unknown keys. */
int cfg_check_keys(struct config_error *e, const json_t *obj, const char *const *a,
                   const char *const *b);

/* Decimal digits only (strtoul would take signs, spaces and hex), at most 10 of them,
 * value at most max. 0 or -1. */
int cfg_decimal(const char *s, size_t len, unsigned long long max, unsigned long long *out);
/* "A:B" (parts 2) or "A:B:C" (parts 3), each a cfg_decimal at most max, into v. */
int cfg_decimals(const char *s, int parts, unsigned long long max, unsigned long long *v);

#endif
