/* Zone serials: RFC 1982 arithmetic, and how long a secondary has been behind its
 * primaries. Pure functions of their arguments (time is passed in), for the dns-serial
 * probe and its unit tests. */
#ifndef HEALTHD_SERIAL_H
#define HEALTHD_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum serial_order {
	SERIAL_EQUAL,
	SERIAL_LESS,      /* a is older than b */
	SERIAL_GREATER,   /* a is newer than b */
	SERIAL_UNDEFINED, /* exactly 2^31 apart: RFC 1982 leaves it undefined */
};

/* The order of serial a relative to serial b (RFC 1982 section 3.2). */
enum serial_order serial_cmp(uint32_t a, uint32_t b);
/* a is b or newer. The undefined case is not: a copy that cannot be shown to be as new
 * as the primary's is treated as behind. */
bool serial_reached(uint32_t a, uint32_t b);

/* Serials seen on the primaries that the local copy had not reached, with when each was
 * first seen: the local copy's lag is the age of the oldest one it still lacks. A few
 * entries suffice; when full, the newest entry takes the newer serial and keeps its
 * (older) time, which can only overstate the lag of a copy that is far behind anyway. */
#define SERIAL_HISTORY 16

struct serial_lag {
	struct {
		uint32_t serial;
		uint64_t first_ms;
	} seen[SERIAL_HISTORY];
	size_t n;
};

/* Record one observation at now_ms: the local serial and, when any primary answered
 * (have_primary), the highest primary serial. Returns how long the local copy has been
 * behind, in ms (0: it is not). Serials a primary no longer has (it went back) are
 * forgotten, so a rolled-back primary does not leave an alarm behind. */
uint64_t serial_lag_update(struct serial_lag *l, uint64_t now_ms, uint32_t local, bool have_primary,
                           uint32_t primary);

#endif
