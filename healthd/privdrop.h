/* Dropping root to the config's "user" and "group" (privdrop.c). */
#ifndef HEALTHD_PRIVDROP_H
#define HEALTHD_PRIVDROP_H

#include <stddef.h>

#include "config.h"

/* Become pc's user: its supplementary groups, its group, its uid, then make sure root
 * cannot be regained. Nothing to do without a user, or when healthd runs as that user
 * and group already. 0, or -1 with the reason in why. Call it once, after everything that
 * needs root and before the first probe runs. */
int privdrop_apply(const struct process_cfg *pc, char *why, size_t len);

#endif
