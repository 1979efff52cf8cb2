/* Whom healthd runs as is decided once per process: the first config with a "user" drops
 * root, and every later config (a reload) must name the same user and group. Limits
 * follow each config. */
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "privdrop.h"
#include "process.h"
#include "proclimits.h"

static struct {
	bool set; /* a config with a user was applied: the identity is fixed */
	uid_t uid;
	gid_t gid;
} applied;

int process_apply(const struct process_cfg *pc, char *why, size_t len)
{
	if (applied.set && (pc->user == NULL || pc->uid != applied.uid || pc->gid != applied.gid)) {
		snprintf(why, len,
		         "\"user\"/\"group\" changed (healthd runs as uid %u gid %u): restart to "
		         "change whom healthd runs as",
		         (unsigned)applied.uid, (unsigned)applied.gid);
		return -1;
	}
	/* The limits first: raising the hard open-files limit needs root. */
	if (proclimits_apply(pc, why, len) != 0)
		return -1;
	if (applied.set || pc->user == NULL)
		return 0;
	if (privdrop_apply(pc, why, len) != 0)
		return -1;
	applied.set = true;
	applied.uid = pc->uid;
	applied.gid = pc->gid;
	return 0;
}
