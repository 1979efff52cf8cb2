/* Time for bounds and deadlines: CLOCK_MONOTONIC, which no step of the wall clock (NTP, an
 * operator's date -s) moves, so a bounded wait is never stretched or cut short. The
 * struct timeval holds seconds since an unspecified start: compare it only with another
 * from here, never with gettimeofday's. */
#ifndef LIB_MONOTIME_H
#define LIB_MONOTIME_H

#include <stdint.h>
#include <sys/time.h>
#include <time.h>

static inline void ms_to_tv(struct timeval *tv, uint32_t ms)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
}

static inline void mono_now(struct timeval *tv)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = (suseconds_t)(ts.tv_nsec / 1000);
}

/* *t := now + ms */
static inline void mono_deadline(struct timeval *t, uint32_t ms)
{
	struct timeval now, d;
	mono_now(&now);
	ms_to_tv(&d, ms);
	timeradd(&now, &d, t);
}

/* Milliseconds from now until t; 0 once it passed. */
static inline long mono_ms_left(const struct timeval *t)
{
	struct timeval now, d;
	mono_now(&now);
	timersub(t, &now, &d);
	return d.tv_sec < 0 ? 0 : (long)d.tv_sec * 1000 + d.tv_usec / 1000;
}

#endif
