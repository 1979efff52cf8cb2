/* Child processes of healthd (exec checks, hooks): spawned in their own process group with
 * stdin from /dev/null and stdout+stderr captured through one pipe, reaped by one SIGCHLD
 * handler on the event base, killed as a whole group.
 *
 * healthd's stdout belongs to the BGP speaker, so a child never inherits it. The reaper
 * collects every child of the process (waitpid(-1)), and healthd is made a child subreaper
 * so orphaned grandchildren are collected too: every child process of healthd must be
 * started through this file, and nothing else may wait for children. */
#ifndef HEALTHD_CHILD_H
#define HEALTHD_CHILD_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CHILD_OUTPUT_DEFAULT 4096 /* bytes of output kept by default */
#define CHILD_GRACE_MS       100  /* after the leader exits, how long to wait for EOF */

struct child;

/* Called once, when the leader has been reaped and its output is read (EOF on the pipe,
 * or CHILD_GRACE_MS after the leader's exit if something still holds the pipe open).
 * wstatus is as from waitpid. The callback may child_free(c); child.c does not touch c
 * after calling it. */
typedef void (*child_done_fn)(struct child *c, int wstatus, void *arg);

struct child_spec {
	const char *const *argv; /* argv[0] is searched in PATH when it has no '/' */
	const char *shell;       /* if set: run /bin/sh -c shell, and argv is ignored */
	const char *const *env;  /* extra "NAME=value" entries over healthd's; may be NULL */
	size_t max_output;       /* bytes kept; the rest is read and discarded */
	size_t max_read;         /* bytes read in all; past it the group is killed. 0: none */
};

/* Install the SIGCHLD handler on base and make healthd a child subreaper. Idempotent for
 * one base; -1 (errno EBUSY) if another base has it. child_spawn calls it on demand. */
int child_init(struct event_base *base);
/* Remove the handler; kill and reap what is left. Safe when child_init never ran. Call it
 * after every child has been child_free'd and before the base is freed. */
void child_shutdown(void);

/* Start a child. NULL with *err set to an errno (ENOENT: no such command) on failure. */
struct child *child_spawn(struct event_base *base, const struct child_spec *spec,
                          child_done_fn done, void *arg, int *err);
/* At exit only, when the loop cannot run (a signal handler's shutdown): read c's output
 * and reap it synchronously until it ends or the deadline (monotime.h) passes. 0: it
 * ended and its done callback ran (it may have freed c); -1: the deadline came first,
 * c is untouched (child_free kills it). */
int child_wait(struct child *c, const struct timeval *deadline);
/* The captured output, NUL-terminated; never NULL. */
const char *child_output(const struct child *c, size_t *len);
/* True when the child wrote more than max_output bytes. */
bool child_output_truncated(const struct child *c);
/* True when the child wrote more than max_read bytes and was killed for it. */
bool child_read_exceeded(const struct child *c);
/* The leader's pid, which is also its process group id. */
pid_t child_pid(const struct child *c);
/* Release c. A child still running is killed with its whole group (SIGKILL); its reap
 * happens later in the SIGCHLD handler, which then frees what is left. */
void child_free(struct child *c);

#endif
