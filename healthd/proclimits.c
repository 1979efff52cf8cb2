/* Resource limits the daemon enforces on itself: open files through the kernel, probe
 * runs and bytes read through probes/probe_limits.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "../lib/log.h"
#include "../probes/probe_limits.h"
#include "proclimits.h"

int proclimits_apply(const struct process_cfg *pc, char *why, size_t len)
{
	struct rlimit rl;
	rlim_t want = pc->max_open_files;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		snprintf(why, len, "cannot read the open files limit: %s", strerror(errno));
		return -1;
	}
	/* Soft and hard: an exec probe inherits the limit and must not raise it. */
	struct rlimit set = {want, want};
	if (setrlimit(RLIMIT_NOFILE, &set) != 0) {
		if (errno != EPERM || rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want) {
			snprintf(why, len, "cannot set the open files limit to %u: %s",
			         pc->max_open_files, strerror(errno));
			return -1;
		}
		/* Raising the hard limit needs CAP_SYS_RESOURCE: keep the one we were given. */
		set.rlim_cur = set.rlim_max = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &set) != 0) {
			snprintf(why, len, "cannot set the open files limit to %llu: %s",
			         (unsigned long long)rl.rlim_max, strerror(errno));
			return -1;
		}
		log_warn("limits.max_open_files %u is above the hard limit %llu of an unprivileged "
		         "healthd: using %llu",
		         pc->max_open_files, (unsigned long long)rl.rlim_max,
		         (unsigned long long)rl.rlim_max);
	}
	struct probe_limits pl = {
	        .max_running = pc->max_running,
	        .max_read_bytes = pc->max_read_bytes,
	        .root_exec = pc->allow_root_exec,
	};
	probe_limits_set(&pl);
	return 0;
}
