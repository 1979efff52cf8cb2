/* bench/config_load: what `healthd check` spends on a config of N services, by phase:
 * the load (parse, validate, duplicate detection, probes configured), the normalized
 * text written (config_write, to /dev/null), and freeing the config. CPU time
 * (CLOCK_PROCESS_CPUTIME_ID) and peak RSS.
 *
 *   config_load FILE
 *
 * Built and run by bench/config.sh against the objects of a healthd build. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "../healthd/config.h"

static double cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct config_error err;
	struct rusage ru;
	double t0, t1, t2, t3;

	if (argc != 2) {
		fprintf(stderr, "usage: config_load FILE\n");
		return 2;
	}
	config_error_init(&err, argv[1], NULL);
	t0 = cpu();
	struct config *cfg = config_load_file(argv[1], &err);
	t1 = cpu();
	if (cfg == NULL) {
		fprintf(stderr, "%s: %zu errors, first: %s\n", argv[1], err.nmsgs,
		        err.nmsgs ? err.msgs[0] : "?");
		config_error_free(&err);
		return 1;
	}
	FILE *null = fopen("/dev/null", "w");
	if (null == NULL || config_write(cfg, null) != 0) {
		fprintf(stderr, "config_write failed\n");
		return 1;
	}
	fclose(null);
	t2 = cpu();
	config_free(cfg);
	config_error_free(&err);
	t3 = cpu();
	getrusage(RUSAGE_SELF, &ru);
	printf("load %.3f s, normalized text written %.3f s, free %.3f s; total %.3f s CPU, "
	       "peak RSS %.0f MiB\n",
	       t1 - t0, t2 - t1, t3 - t2, t3 - t0, (double)ru.ru_maxrss / 1024);
	return 0;
}
