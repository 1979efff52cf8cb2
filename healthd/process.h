/* The config's process settings applied to healthd (process.c): the limits, and once, the
 * drop of root. The one call for every config healthd starts or reloads with. */
#ifndef HEALTHD_PROCESS_H
#define HEALTHD_PROCESS_H

#include <stddef.h>

#include "config.h"

/* Apply pc before any probe of its config runs. The limits apply every time; root is
 * dropped the first time a config names a user. Once healthd runs as a user, a config
 * that names another user or group (or none) is refused: only a restart can change
 * whom healthd runs as. 0, or -1 with the reason in why and nothing changed when the
 * refusal is about the user; call it before the first change a reload makes. */
int process_apply(const struct process_cfg *pc, char *why, size_t len);

#endif
