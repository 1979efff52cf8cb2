/* The event loop: schedules every check on its own timer, feeds results to the services,
 * and hands state changes to the speaker in the same loop iteration. */
#ifndef HEALTHD_ENGINE_H
#define HEALTHD_ENGINE_H

#include "config.h"

struct engine;

/* Takes no ownership of cfg, which must outlive the engine. NULL on failure (logged). */
struct engine *engine_new(struct config *cfg);
/* Runs until SIGTERM/SIGINT or the speaker goes away; returns the process exit code. */
int engine_run(struct engine *eng);
void engine_free(struct engine *eng);

#endif
