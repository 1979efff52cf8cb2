/* Dropping root: initgroups, setresgid, setresuid, and a check that it stuck. Every exec
 * probe and all it starts inherit the result. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../lib/log.h"
#include "privdrop.h"

/* Whether any of the three ids can still become root: after a real drop setuid(0) and
 * setgid(0) must fail, and no id of ours may be 0. */
static int privdrop_verify(const struct process_cfg *pc, char *why, size_t len)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (getresuid(&r, &e, &s) != 0 || getresgid(&rg, &eg, &sg) != 0) {
		snprintf(why, len, "cannot read the process ids: %s", strerror(errno));
		return -1;
	}
	if (r != pc->uid || e != pc->uid || s != pc->uid || rg != pc->gid || eg != pc->gid ||
	    sg != pc->gid) {
		snprintf(why, len, "dropping to %s:%s left uids %u/%u/%u and gids %u/%u/%u",
		         pc->user, pc->group, (unsigned)r, (unsigned)e, (unsigned)s, (unsigned)rg,
		         (unsigned)eg, (unsigned)sg);
		return -1;
	}
	if (pc->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(why, len, "root could be regained after dropping to %s", pc->user);
		return -1;
	}
	if (pc->gid != 0 && pc->uid != 0 && setgid(0) == 0) {
		snprintf(why, len, "group 0 could be regained after dropping to %s", pc->user);
		return -1;
	}
	return 0;
}

int privdrop_apply(const struct process_cfg *pc, char *why, size_t len)
{
	if (pc->user == NULL)
		return 0;
	if (geteuid() != 0) {
		/* Started as that account already (systemd's User=, setpriv): nothing to
		 * drop, and the group is what the process manager chose (Group=bird for
		 * BIRD's socket). Anyone else cannot become it. */
		if (geteuid() == pc->uid && getuid() == pc->uid) {
			if (getegid() != pc->gid)
				log_warn("running as %s with gid %u, not group %s (gid %u): only "
				         "root "
				         "can change it",
				         pc->user, (unsigned)getegid(), pc->group,
				         (unsigned)pc->gid);
			return 0;
		}
		snprintf(why, len,
		         "\"user\": \"%s\" (uid %u): healthd runs as uid %u, not as root, and "
		         "cannot become it; start it as root or as %s",
		         pc->user, (unsigned)pc->uid, (unsigned)geteuid(), pc->user);
		return -1;
	}
	/* Supplementary groups first: setgroups needs root, which setresuid ends. */
	if (initgroups(pc->user, pc->gid) != 0) {
		snprintf(why, len, "cannot set the groups of %s: %s", pc->user, strerror(errno));
		return -1;
	}
	if (setresgid(pc->gid, pc->gid, pc->gid) != 0) {
		snprintf(why, len, "cannot change group to %s: %s", pc->group, strerror(errno));
		return -1;
	}
	if (setresuid(pc->uid, pc->uid, pc->uid) != 0) {
		snprintf(why, len, "cannot change user to %s: %s", pc->user, strerror(errno));
		return -1;
	}
	if (privdrop_verify(pc, why, len) != 0)
		return -1;
	log_info("running as %s:%s (uid %u, gid %u)", pc->user, pc->group, (unsigned)pc->uid,
	         (unsigned)pc->gid);
	return 0;
}
