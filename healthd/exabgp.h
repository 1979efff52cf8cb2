/* ExaBGP text API: command formatting (pure, for tests) and the stdin/stdout backend. */
#ifndef HEALTHD_EXABGP_H
#define HEALTHD_EXABGP_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* "[neighbor A, neighbor B ]announce route P next-hop NH med ..." without a newline.
 * A withdrawal carries only next-hop and path-information. Returns the length, or -1
 * when buf is too small. */
int exabgp_format(char *buf, size_t len, char *const *neighbors, bool announce,
                  const struct prefix *pfx, const struct route_attrs *attrs);

/* What one line from ExaBGP on stdin means. */
enum exabgp_input {
	EXABGP_IN_DONE,
	EXABGP_IN_ERROR,
	EXABGP_IN_SHUTDOWN,
	EXABGP_IN_EMPTY,
	EXABGP_IN_OTHER,
};
enum exabgp_input exabgp_classify(const char *line);

#endif
