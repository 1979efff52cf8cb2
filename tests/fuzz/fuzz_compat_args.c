/* libFuzzer target: the drop-in's command line (`healthd --cmd ... --ip ...`, argparse
 * rules: abbreviations, "--opt=value", "-xVALUE", appends, nargs='?', mutually exclusive
 * options) and its --config file go through compat_args_parse: parsed, or refused with
 * one bounded message; never a crash, leak or hang.
 *
 * Input: NUL-separated words. The first is the content of a --config file: when it is
 * not empty, "--config FILE" (a memfd) comes first on the command line. The other words
 * are the arguments after argv[0].
 *
 * fuzz-sources: compat/args.c compat/opts.c compat/value.c compat/ip.c lib/log.c
 * Seeds: tests/fuzz/corpus/compat_args. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../compat/compat.h"

#define FUZZ_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	char *copy = malloc(size + 1), *argv[FUZZ_ARGS + 4], path[64], err[512];
	struct compat_opts o;
	int argc = 0, fd = -1;

	if (!init) { /* --help prints the usage on stdout */
		if (freopen("/dev/null", "w", stdout) == NULL)
			abort();
		init = true;
	}
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	size_t first = strlen(copy);
	argv[argc++] = "healthd";
	if (first > 0) {
		fd = memfd_create("fuzz-config", 0);
		if (fd < 0 || write(fd, copy, first) != (ssize_t)first)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		argv[argc++] = "--config";
		argv[argc++] = path;
	}
	for (size_t i = first + 1; i <= size && argc < FUZZ_ARGS; i += strlen(copy + i) + 1)
		argv[argc++] = copy + i;
	argv[argc] = NULL;

	memset(err, 'x', sizeof(err));
	err[0] = '\0';
	int rc = compat_args_parse(argc, argv, &o, err, sizeof(err));
	if (rc < -1 || rc > 1)
		abort();
	if (rc == -1 && (err[0] == '\0' || strnlen(err, sizeof(err)) == sizeof(err)))
		abort(); /* refused without a message, or an unterminated one */
	compat_opts_free(&o);
	if (fd >= 0)
		close(fd);
	free(copy);
	return 0;
}
