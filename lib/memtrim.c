#include "memtrim.h"

#include <time.h>

#include "log.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

void mem_init(void)
{
#ifdef __GLIBC__
	/* Setting the bound turns off glibc's dynamic raising of it. */
	mallopt(M_MMAP_THRESHOLD, MEM_MMAP_MIN);
#endif
}

void mem_trim(const char *what)
{
#ifdef __GLIBC__
	struct timespec t0, t1, c0, c1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	int given = malloc_trim(0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_debug("memory: trimmed after %s%s in %.2fms (%.2fms of CPU)", what,
	          given ? "" : " (nothing to give back)",
	          (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
	          (c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) / 1e6);
#else
	(void)what;
#endif
}
