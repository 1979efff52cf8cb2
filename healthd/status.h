/* The JSON of GET /status and /status/NAME, and of `healthd status --json`. */
#ifndef HEALTHD_STATUS_H
#define HEALTHD_STATUS_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

struct engine;
struct engine_service;

/* Every service, with the config file, when it was loaded and the last reload. */
json_t *status_all(struct engine *eng);
/* One service: the one place its status object is built (state, since, action, disable
 * sources, checks); later fields go here. */
json_t *status_service(struct engine *eng, struct engine_service *es);
/* What a service's route does now: "announce", "on_down", "on_disabled" or "withdraw". */
const char *status_action(const struct engine_service *es);
/* RFC 3339 UTC, "2026-12-06T11:12:42Z"; "" for a zero time. */
void status_time(const struct timespec *t, char *buf, size_t len);
/* The reverse; 0, or -1 (t untouched). */
int status_time_parse(const char *s, struct timespec *t);

#endif
