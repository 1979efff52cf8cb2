/* ExaBGP text API: command formatting (pure, for tests) and the stdin/stdout backend. */
#ifndef HEALTHD_EXABGP_H
#define HEALTHD_EXABGP_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* "[neighbor A, neighbor B ]announce route P next-hop NH med ..." without a newline, in
 * a string the caller frees; NULL when out of memory. A withdrawal carries only next-hop
 * and path-information. */
char *exabgp_format(char *const *neighbors, bool announce, const struct prefix *pfx,
                    const struct route_attrs *attrs);

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
