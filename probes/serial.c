/* RFC 1982 serial number arithmetic and the lag of a local zone copy behind its
 * primaries, kept across runs of the dns-serial probe. */
#include <string.h>

#include "serial.h"

enum serial_order serial_cmp(uint32_t a, uint32_t b)
{
	/* Unsigned subtraction is the RFC's arithmetic modulo 2^32. */
	uint32_t d = b - a;

	if (d == 0)
		return SERIAL_EQUAL;
	if (d == UINT32_C(0x80000000))
		return SERIAL_UNDEFINED;
	return d < UINT32_C(0x80000000) ? SERIAL_LESS : SERIAL_GREATER;
}

bool serial_reached(uint32_t a, uint32_t b)
{
	enum serial_order o = serial_cmp(a, b);
	return o == SERIAL_EQUAL || o == SERIAL_GREATER;
}

static void serial_lag_drop(struct serial_lag *l, size_t i)
{
	memmove(&l->seen[i], &l->seen[i + 1], (l->n - i - 1) * sizeof(l->seen[0]));
	l->n--;
}

uint64_t serial_lag_update(struct serial_lag *l, uint64_t now_ms, uint32_t local, bool have_primary,
                           uint32_t primary)
{
	size_t i;

	if (have_primary) {
		/* A serial newer than what the primaries now have was withdrawn by them. */
		for (i = l->n; i-- > 0;)
			if (!serial_reached(primary, l->seen[i].serial))
				serial_lag_drop(l, i);
		if (!serial_reached(local, primary) &&
		    (l->n == 0 || l->seen[l->n - 1].serial != primary)) {
			if (l->n == SERIAL_HISTORY) {
				l->seen[l->n - 1].serial = primary;
			} else {
				l->seen[l->n].serial = primary;
				l->seen[l->n].first_ms = now_ms;
				l->n++;
			}
		}
	}
	/* What the local copy has now reached no longer counts against it. */
	for (i = l->n; i-- > 0;)
		if (serial_reached(local, l->seen[i].serial))
			serial_lag_drop(l, i);
	if (l->n == 0)
		return 0;
	return now_ms > l->seen[0].first_ms ? now_ms - l->seen[0].first_ms : 0;
}
