/* Replacing a file so that a reader sees the old or the new text, never a mix, and a crash
 * leaves one of them: BIRD's include files, healthd's state file. */
#ifndef LIB_ATOMICFILE_H
#define LIB_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

/* With ATOMIC_DURABLE the directory is synced after the rename, so that the rename itself
 * survives a crash of the machine. Without it a crash may bring back the old file (never
 * a mix): enough for a file the writer rewrites at its next start anyway. */
#define ATOMIC_DURABLE 0x1

/* Replace path with data: a hidden temp file of a unique name beside it, the given mode
 * whatever the umask, fsync, rename, and (flags ATOMIC_DURABLE) fsync of the directory.
 * 0, or -1 with why set; the old file is then untouched. */
int atomic_replace(const char *path, const char *data, size_t len, mode_t mode, int flags,
                   char *why, size_t whylen);

#endif
