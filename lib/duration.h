/* Durations: "250ms", "2s", "1m", "1h", "1m30s", or a JSON number of seconds. */
#ifndef LIB_DURATION_H
#define LIB_DURATION_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define DURATION_MAX_MS (24u * 3600u * 1000u) /* one day */

int duration_parse(const char *s, uint32_t *ms, char *err, size_t errlen);
int duration_from_json(const json_t *v, uint32_t *ms, char *err, size_t errlen);
/* Shortest exact form: "500ms", "2s", "1m30s", "1500ms" is written "1s500ms". */
void duration_format(uint32_t ms, char *buf, size_t len);

#endif
