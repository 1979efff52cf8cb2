/* Child processes: spawn into their own process group with output captured through a
 * pipe, one SIGCHLD handler that reaps every child of healthd, group kills. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../lib/monotime.h"
#include "child.h"

extern char **environ;

#define CHILD_READ_CHUNK   4096
#define CHILD_READS_PER_CB 16 /* a child that writes without pause must not starve the loop */

struct child {
	struct child *next, **pprev; /* in the reaper's list until the pid is reaped */
	pid_t pid;
	bool reaped, eof, abandoned;
	int wstatus;
	int fd; /* read end of the output pipe */
	struct event *rev, *grace;
	char *out;
	size_t outlen, outcap, max_output;
	size_t nread, max_read;
	bool truncated, read_exceeded;
	child_done_fn done;
	void *arg;
};

static struct {
	struct event_base *base;
	struct event *sigchld;
	struct child *head;
} reaper;

static void child_unlink(struct child *c)
{
	if (c->pprev == NULL)
		return;
	*c->pprev = c->next;
	if (c->next != NULL)
		c->next->pprev = c->pprev;
	c->next = NULL;
	c->pprev = NULL;
}

/* Release the pipe and events; the output and the struct itself stay. */
static void child_close(struct child *c)
{
	/* Both events are non-persistent, so freeing the one whose callback runs is fine. */
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->grace != NULL)
		event_free(c->grace);
	c->rev = c->grace = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static void child_destroy(struct child *c)
{
	child_unlink(c);
	child_close(c);
	free(c->out);
	free(c);
}

static void child_finish(struct child *c)
{
	child_done_fn done = c->done;

	child_close(c);
	c->done = NULL;
	if (done != NULL)
		done(c, c->wstatus, c->arg); /* may free c: nothing after this */
}

static void child_keep(struct child *c, const char *buf, size_t n)
{
	size_t room = c->max_output - c->outlen;

	if (n > room) {
		c->truncated = true;
		n = room;
	}
	if (n == 0)
		return;
	if (c->outlen + n + 1 > c->outcap) {
		size_t cap = c->outcap == 0 ? 1024 : c->outcap;
		while (cap < c->outlen + n + 1)
			cap *= 2;
		if (cap > c->max_output + 1)
			cap = c->max_output + 1;
		char *p = realloc(c->out, cap);
		if (p == NULL) {
			c->truncated = true;
			return;
		}
		c->out = p;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, buf, n);
	c->outlen += n;
	c->out[c->outlen] = '\0';
}

/* Read what the pipe holds. 1 at EOF (or a read error, which ends the output the same
 * way), 0 when it would block. */
static int child_drain(struct child *c)
{
	char buf[CHILD_READ_CHUNK];

	for (int i = 0; i < CHILD_READS_PER_CB; i++) {
		ssize_t n = read(c->fd, buf, sizeof(buf));
		if (n > 0) {
			child_keep(c, buf, (size_t)n);
			c->nread += (size_t)n;
			if (c->max_read > 0 && c->nread > c->max_read && !c->reaped) {
				/* A command that writes without end must not keep healthd reading:
				 * stop it; its output ends here. */
				c->read_exceeded = true;
				(void)killpg(c->pid, SIGKILL);
				return 1;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return 1;
	}
	return 0;
}

static void child_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;

	(void)fd;
	(void)what;
	if (child_drain(c) == 0) {
		event_add(c->rev, NULL);
		return;
	}
	c->eof = true;
	child_close(c);
	if (c->reaped)
		child_finish(c);
}

static void child_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;

	(void)fd;
	(void)what;
	/* Something outside the group (it called setsid) still holds the pipe: take what
	 * is there and finish rather than wait for it. */
	if (c->fd >= 0)
		(void)child_drain(c);
	child_finish(c);
}

static void child_exited(struct child *c, int wstatus)
{
	struct timeval tv = {CHILD_GRACE_MS / 1000, (CHILD_GRACE_MS % 1000) * 1000};

	child_unlink(c);
	c->reaped = true;
	c->wstatus = wstatus;
	if (c->abandoned) {
		child_destroy(c);
		return;
	}
	if (c->eof || child_drain(c) == 1) {
		c->eof = true;
		child_finish(c);
		return;
	}
	/* The group was killed just before the reap, so EOF normally follows at once. */
	c->grace = evtimer_new(reaper.base, child_grace_cb, c);
	if (c->grace == NULL || evtimer_add(c->grace, &tv) != 0)
		child_finish(c);
}

static struct child *child_find(pid_t pid)
{
	for (struct child *c = reaper.head; c != NULL; c = c->next)
		if (c->pid == pid)
			return c;
	return NULL;
}

static void child_reap(void)
{
	for (;;) {
		siginfo_t si;
		int st;

		si.si_pid = 0;
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
			if (errno == EINTR)
				continue;
			return; /* ECHILD: no children at all */
		}
		if (si.si_pid == 0)
			return;
		struct child *c = child_find(si.si_pid);
		/* While the leader is a zombie its pid, and so its group id, cannot be reused:
		 * kill what is left of its group now, before the reap frees the number. Stray
		 * background processes of a check must not outlive it. */
		if (c != NULL)
			(void)killpg(c->pid, SIGKILL);
		pid_t r = waitpid(si.si_pid, &st, WNOHANG);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		/* Pids without a watcher are orphaned grandchildren (we are their subreaper)
		 * or children abandoned at shutdown: reaping them is all they need. */
		if (c != NULL)
			child_exited(c, st);
	}
}

static void child_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	child_reap();
}

int child_init(struct event_base *base)
{
	if (reaper.base == base)
		return 0;
	if (reaper.base != NULL) {
		errno = EBUSY;
		return -1;
	}
	/* Grandchildren whose parent exits are re-parented to us, not to init, so the
	 * reaper collects them and no check can leave zombies or unwatched processes. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
		log_warn("cannot become a child subreaper: %s", strerror(errno));
	reaper.sigchld = evsignal_new(base, SIGCHLD, child_sigchld_cb, NULL);
	if (reaper.sigchld == NULL || evsignal_add(reaper.sigchld, NULL) != 0) {
		log_err("cannot install the SIGCHLD handler");
		if (reaper.sigchld != NULL)
			event_free(reaper.sigchld);
		reaper.sigchld = NULL;
		errno = ENOMEM;
		return -1;
	}
	reaper.base = base;
	child_reap(); /* children that exited before the handler existed */
	return 0;
}

void child_shutdown(void)
{
	struct timespec ms = {0, 1000000};

	for (struct child *c = reaper.head; c != NULL; c = c->next)
		(void)killpg(c->pid, SIGKILL);
	/* SIGKILLed processes exit promptly; a bound keeps a process stuck in the kernel
	 * from holding up the exit. */
	for (int i = 0; i < 1000 && reaper.head != NULL; i++) {
		for (struct child *c = reaper.head, *next; c != NULL; c = next) {
			int st;
			next = c->next;
			if (waitpid(c->pid, &st, WNOHANG) == 0)
				continue;
			child_unlink(c);
			c->reaped = true;
			if (c->abandoned)
				child_destroy(c);
		}
		if (reaper.head != NULL)
			nanosleep(&ms, NULL);
	}
	while (reaper.head != NULL) {
		struct child *c = reaper.head;
		child_unlink(c);
		c->reaped = true;
		if (c->abandoned)
			child_destroy(c);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (reaper.sigchld != NULL)
		event_free(reaper.sigchld);
	reaper.sigchld = NULL;
	reaper.base = NULL;
}

/* healthd's environment with the extra entries replacing those of the same name. */
static char **child_environ(const char *const *extra)
{
	size_t n = 0, nextra = 0, k = 0;

	for (char **e = environ; e != NULL && *e != NULL; e++)
		n++;
	for (const char *const *x = extra; x != NULL && *x != NULL; x++)
		nextra++;
	char **env = calloc(n + nextra + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (char **e = environ; e != NULL && *e != NULL; e++) {
		size_t len = strcspn(*e, "=");
		bool replaced = false;
		for (size_t i = 0; i < nextra && !replaced; i++)
			replaced = strncmp(extra[i], *e, len) == 0 && extra[i][len] == '=';
		if (!replaced)
			env[k++] = *e;
	}
	for (size_t i = 0; i < nextra; i++)
		env[k++] = (char *)extra[i];
	return env;
}

/* Keep the pipe off fds 0-2: dup2 onto the same number would not clear close-on-exec. */
static int child_fd_high(int fd)
{
	if (fd > 2)
		return fd;
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

static int child_exec(pid_t *pid, const struct child_spec *spec, int wfd, char **envp)
{
	const char *sh[] = {"/bin/sh", "-c", spec->shell, NULL};
	char *const *argv = (char *const *)(spec->shell != NULL ? sh : spec->argv);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int rc;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	/* stdout is the BGP speaker's channel: the child gets the pipe for 1 and 2, and
	 * every other descriptor of healthd is closed. */
	rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, wfd, 1);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, wfd, 2);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	/* Own group (so one killpg reaches all it starts), no blocked signals, and no
	 * signal left ignored by healthd (SIGPIPE) leaking into the command. */
	if (rc == 0)
		rc = posix_spawnattr_setpgroup(&at, 0);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&at, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&at, &all);
	if (rc == 0)
		rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
		                                           POSIX_SPAWN_SETSIGDEF);
	if (rc == 0) {
		if (spec->shell == NULL && strchr(argv[0], '/') == NULL)
			rc = posix_spawnp(pid, argv[0], &fa, &at, argv, envp);
		else
			rc = posix_spawn(pid, argv[0], &fa, &at, argv, envp);
	}
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

struct child *child_spawn(struct event_base *base, const struct child_spec *spec,
                          child_done_fn done, void *arg, int *err)
{
	struct child *c = NULL;
	char **envp = NULL;
	int pfd[2] = {-1, -1};
	int rc;

	if (spec->shell == NULL && (spec->argv == NULL || spec->argv[0] == NULL)) {
		*err = EINVAL;
		return NULL;
	}
	if (child_init(base) != 0) {
		*err = errno;
		return NULL;
	}
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		*err = errno;
		return NULL;
	}
	pfd[0] = child_fd_high(pfd[0]);
	pfd[1] = child_fd_high(pfd[1]);
	c = calloc(1, sizeof(*c));
	envp = child_environ(spec->env);
	if (pfd[0] < 0 || pfd[1] < 0 || c == NULL || envp == NULL) {
		rc = pfd[0] < 0 || pfd[1] < 0 ? EMFILE : ENOMEM;
		goto fail;
	}
	/* Only our end is non-blocking: the child's stdout must block like any other. */
	if (fcntl(pfd[0], F_SETFL, O_NONBLOCK) != 0) {
		rc = errno;
		goto fail;
	}
	c->fd = pfd[0];
	c->max_output = spec->max_output;
	c->max_read = spec->max_read;
	c->done = done;
	c->arg = arg;
	c->rev = event_new(base, c->fd, EV_READ, child_read_cb, c);
	if (c->rev == NULL) {
		rc = ENOMEM;
		goto fail;
	}
	rc = child_exec(&c->pid, spec, pfd[1], envp);
	if (rc != 0)
		goto fail;
	/* Also in the parent: whichever of the two runs first, the group exists before
	 * anyone signals it. EACCES once the child has exec'd is expected. */
	(void)setpgid(c->pid, c->pid);
	close(pfd[1]);
	free(envp);
	event_add(c->rev, NULL);
	c->next = reaper.head;
	if (reaper.head != NULL)
		reaper.head->pprev = &c->next;
	reaper.head = c;
	c->pprev = &reaper.head;
	return c;

fail:
	if (c != NULL && c->rev != NULL)
		event_free(c->rev);
	free(c);
	free(envp);
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	*err = rc;
	return NULL;
}

int child_wait(struct child *c, const struct timeval *deadline)
{
	struct timeval grace;
	bool graced = false;

	for (;;) {
		long left = mono_ms_left(deadline);
		if (!c->reaped) {
			siginfo_t si;
			int st;
			si.si_pid = 0;
			/* As the reaper does: what is left of the group goes while the leader
			 * is a zombie, before its pid (the group id) can be reused. */
			if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
			    si.si_pid == c->pid) {
				(void)killpg(c->pid, SIGKILL);
				if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
					child_unlink(c);
					c->reaped = true;
					c->wstatus = st;
				}
			}
		}
		if (c->reaped && (c->eof || c->fd < 0)) {
			c->eof = true;
			child_finish(c);
			return 0;
		}
		if (c->reaped && !graced) {
			mono_deadline(&grace, CHILD_GRACE_MS);
			graced = true;
		}
		if (graced && mono_ms_left(&grace) <= 0) {
			(void)child_drain(c);
			child_finish(c);
			return 0;
		}
		if (left <= 0)
			return -1;
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		int wait = left < 10 ? (int)left : 10; /* the reap is polled, not signalled */
		if (c->fd >= 0 && poll(&pfd, 1, wait) > 0 && child_drain(c) == 1) {
			c->eof = true;
			child_close(c);
		} else if (c->fd < 0) {
			struct timespec ts = {0, (long)wait * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
}

const char *child_output(const struct child *c, size_t *len)
{
	if (len != NULL)
		*len = c->outlen;
	return c->out != NULL ? c->out : "";
}

bool child_output_truncated(const struct child *c)
{
	return c->truncated;
}

bool child_read_exceeded(const struct child *c)
{
	return c->read_exceeded;
}

pid_t child_pid(const struct child *c)
{
	return c->pid;
}

void child_free(struct child *c)
{
	if (c == NULL)
		return;
	if (c->reaped) {
		child_destroy(c);
		return;
	}
	/* The pid is not reaped, so it and its group id are still ours to signal. */
	(void)killpg(c->pid, SIGKILL);
	child_close(c);
	free(c->out);
	c->out = NULL;
	c->outlen = c->outcap = 0;
	c->done = NULL;
	c->abandoned = true;
}
