/* Flap damping of one service's route: pure, no I/O, no clock (times are given).
 *
 * A change of the route's action (announce, on_degraded, on_down, on_disabled, withdraw)
 * is a flap. At most max_flaps of them reach the peers within flap_window: a change
 * away from the down action is refused when it and the fall that may follow would
 * exceed that, and the service is then held in its down action for hold_down. A change
 * toward the down action is never refused, so damping never holds a route announced.
 * When hold_down ends the history is forgotten and the service rises normally. */
#ifndef HEALTHD_DAMPING_H
#define HEALTHD_DAMPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DAMPING_MAX_FLAPS 100

struct damping_cfg {
	int max_flaps; /* 0: off; else 2..DAMPING_MAX_FLAPS */
	uint32_t window_ms, hold_ms;
};

struct damping {
	/* The changes within the window, oldest first: room for DAMPING_MAX_FLAPS, allocated
	 * at the first change recorded, so that a service without damping (most) has none. */
	uint64_t *times;
	size_t n;
	bool held;
	uint64_t until; /* while held: the end of the hold */
};

void damping_init(struct damping *d);
void damping_free(struct damping *d);
/* Whether the change at now (ms) may go out; toward_down: it goes to the down action.
 * A change allowed is recorded. A change refused starts a hold until now + hold_ms. */
bool damping_change(struct damping *d, const struct damping_cfg *c, uint64_t now, bool toward_down);
/* Whether the service is held at now; a hold whose time is over ends here (and the
 * history with it): true is returned in *ended then. */
bool damping_held(struct damping *d, uint64_t now, bool *ended);
/* Milliseconds of hold left at now (0 when not held). */
uint64_t damping_left(const struct damping *d, uint64_t now);
/* Changes within the window ending at now. */
size_t damping_count(struct damping *d, const struct damping_cfg *c, uint64_t now);

#endif
