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

	(void)why;
	(void)len;
	/* Soft and hard: an exec probe inherits the limit and must not raise it. A limit
	 * that cannot be set is a warning, not a reason to stop probing. */
	struct rlimit set = {want, want};
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		log_warn("limits.max_open_files: cannot read the open files limit: %s",
		         strerror(errno));
	} else if (setrlimit(RLIMIT_NOFILE, &set) != 0) {
		/* Without the right to change the hard limit (no CAP_SYS_RESOURCE to raise it;
		 * valgrind keeps it): the soft limit alone, within the hard one. */
		int err = errno;
		set.rlim_max = rl.rlim_max;
		set.rlim_cur =
		        rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &set) == 0)
			log_warn("limits.max_open_files %u: cannot set the hard limit (%s): soft "
			         "limit %llu, hard limit %llu",
			         pc->max_open_files, strerror(err),
			         (unsigned long long)set.rlim_cur,
			         (unsigned long long)set.rlim_max);
		else
			log_warn("limits.max_open_files %u: cannot set the open files limit (%s): "
			         "keeping soft limit %llu, hard limit %llu",
			         pc->max_open_files, strerror(err), (unsigned long long)rl.rlim_cur,
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
