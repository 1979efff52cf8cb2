/* What a reload changes: two configs compared service by service (matched by name) in
 * their normalized forms, the ones `healthd check` prints. Pure; no run state. */
#ifndef HEALTHD_CONFIG_DIFF_H
#define HEALTHD_CONFIG_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum config_change {
	CHANGE_ADDED,     /* no service of its name before */
	CHANGE_UNCHANGED, /* the same normalized form: keeps everything */
	CHANGE_CHANGED,   /* same name, another form */
};

struct config_diff {
	bool speaker_changed;       /* the "speaker" objects differ: refused by a live reload */
	enum config_change *change; /* per service of the new config */
	size_t *old_index;          /* per new service: its old namesake, when not ADDED */
	bool *removed;              /* per service of the old config */
	size_t unchanged, changed, added, removed_count;
};

/* 0, or -1 when out of memory. */
int config_diff(const struct config *old, const struct config *cur, struct config_diff *d);
void config_diff_free(struct config_diff *d);
/* Two checks behave the same (their normalized forms are equal). */
bool config_check_same(const struct check_cfg *a, const struct check_cfg *b);

#endif
