/* The config's "limits" and "allow_root_exec", applied to the process (proclimits.c). */
#ifndef HEALTHD_PROCLIMITS_H
#define HEALTHD_PROCLIMITS_H

#include <stddef.h>

#include "config.h"

/* Set RLIMIT_NOFILE to max_open_files, soft and hard (where the hard limit cannot be
 * changed, the soft one alone, with a warning) and hand the probe limits to the probes
 * (probes/probe_limits.h). Call it while still root, before privdrop_apply. 0, or -1
 * with the reason in why. */
int proclimits_apply(const struct process_cfg *pc, char *why, size_t len);

#endif
