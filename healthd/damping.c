/* Flap damping; see damping.h. */
#include <stdlib.h>
#include <string.h>

#include "damping.h"

void damping_init(struct damping *d)
{
	memset(d, 0, sizeof(*d));
}

void damping_free(struct damping *d)
{
	free(d->times);
	damping_init(d);
}

/* Forget the changes older than the window. */
static void damping_prune(struct damping *d, const struct damping_cfg *c, uint64_t now)
{
	size_t k = 0;
	while (k < d->n && d->times[k] + c->window_ms <= now)
		k++;
	if (k > 0) {
		memmove(d->times, d->times + k, (d->n - k) * sizeof(d->times[0]));
		d->n -= k;
	}
}

size_t damping_count(struct damping *d, const struct damping_cfg *c, uint64_t now)
{
	damping_prune(d, c, now);
	return d->n;
}

bool damping_change(struct damping *d, const struct damping_cfg *c, uint64_t now, bool toward_down)
{
	if (c->max_flaps <= 0)
		return true;
	damping_prune(d, c, now);
	/* Going up needs room for the fall after it: a route that came up must always be
	 * free to go down again without exceeding max_flaps. */
	size_t need = toward_down ? 1 : 2;
	if (!toward_down && d->n + need > (size_t)c->max_flaps) {
		d->held = true;
		d->until = now + c->hold_ms;
		return false;
	}
	if (d->times == NULL && (d->times = malloc(DAMPING_MAX_FLAPS * sizeof(*d->times))) == NULL)
		return true;           /* out of memory: the change goes out, as without damping */
	if (d->n == DAMPING_MAX_FLAPS) /* cannot happen with max_flaps bounded; stay safe */
		memmove(d->times, d->times + 1, (d->n - 1) * sizeof(d->times[0])), d->n--;
	d->times[d->n++] = now;
	return true;
}

bool damping_held(struct damping *d, uint64_t now, bool *ended)
{
	if (ended != NULL)
		*ended = false;
	if (!d->held)
		return false;
	if (now < d->until)
		return true;
	d->held = false;
	d->n = 0;
	if (ended != NULL)
		*ended = true;
	return false;
}

uint64_t damping_left(const struct damping *d, uint64_t now)
{
	return d->held && now < d->until ? d->until - now : 0;
}
