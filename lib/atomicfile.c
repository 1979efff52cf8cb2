/* Replacing a file atomically; see atomicfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"

/* "dir/.name.XXXXXX": next to the target, as rename() is atomic only within one file
 * system; hidden, so that a wildcard include never reads a half-written
 * file; unique, so that two writers never write into one temp file. */
static char *atomic_temp_name(const char *path)
{
	char *tmp = NULL;
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	int dirlen = slash != NULL ? (int)(slash - path) + 1 : 0;
	if (asprintf(&tmp, "%.*s.%s.XXXXXX", dirlen, path, base) < 0)
		return NULL;
	return tmp;
}

static int atomic_write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int atomic_replace(const char *path, const char *data, size_t len, mode_t mode, int flags,
                   char *why, size_t whylen)
{
	char *tmp = NULL, *dir = NULL;
	int fd = -1, dfd = -1;
	bool created = false;
	const char *step = "out of memory";

	if ((tmp = atomic_temp_name(path)) == NULL)
		goto fail;
	step = "create";
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		goto fail;
	created = true;
	/* The mode asked for, whatever healthd's umask. */
	step = "chmod";
	if (fchmod(fd, mode) != 0)
		goto fail;
	step = "write";
	if (atomic_write_all(fd, data, len) != 0)
		goto fail;
	step = "fsync";
	if (fsync(fd) != 0)
		goto fail;
	step = "close";
	int rc = close(fd);
	fd = -1;
	if (rc != 0)
		goto fail;
	step = "rename";
	if (rename(tmp, path) != 0)
		goto fail;
	/* The rename itself is durable once the directory is synced. */
	if ((flags & ATOMIC_DURABLE) && (dir = strdup(path)) != NULL &&
	    (dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dir);
	free(tmp);
	return 0;
fail:
	snprintf(why, whylen, "%s %s: %s", step, tmp != NULL ? tmp : path, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	free(tmp);
	return -1;
}
