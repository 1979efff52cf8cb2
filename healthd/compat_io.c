/* The healthcheck drop-in's channel to ExaBGP: command lines on stdout, acks on stdin.
 *
 * The original writes a line, then blocks in readline() for the ack: forever when none
 * comes, which is how it hangs at ExaBGP's shutdown or with acks turned off. Here stdin
 * is always read (so ExaBGP never stalls on unread acks), each line read counts as one
 * ack as it does for the original, and an awaited ack has a deadline. A "shutdown" notice
 * means no ack will come any more; EOF likewise. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "compat.h"
#include "exabgp.h"
#include "log.h"
#include "monotime.h"

#define IO_OUT_MAX  (1024 * 1024) /* ExaBGP that reads nothing does not get more */
#define IO_LINE_MAX 4096

struct compat_io {
	struct event_base *base;
	int in_flags, out_flags; /* restored by compat_io_free; -1: not changed */
	bool out_tty, no_ack;
	bool in_eof, in_polled, in_blocking, shutdown, gone, waiting, acks_late, dropped;
	unsigned credit; /* lines read that no write has claimed yet */
	uint32_t ack_timeout_ms;
	struct evbuffer *in, *out;
	struct event *rev, *wev, *ack_timer, *gone_ev;
	compat_io_fn on_ack, on_gone;
	void *arg;
};

static void io_release(struct compat_io *io)
{
	if (!io->waiting)
		return;
	io->waiting = false;
	evtimer_del(io->ack_timer);
	io->on_ack(io->arg);
}

static void io_line(struct compat_io *io, const char *line)
{
	switch (exabgp_classify(line)) {
	case EXABGP_IN_SHUTDOWN:
		log_info("exabgp is shutting down: no more acks");
		io->shutdown = true;
		io_release(io);
		return;
	case EXABGP_IN_ERROR:
		log_warn("exabgp answered \"error\" to a command (a command form this ExaBGP "
		         "does not know? see --exabgp-version)");
		break;
	case EXABGP_IN_DONE:
	case EXABGP_IN_EMPTY:
	case EXABGP_IN_OTHER:
		break;
	}
	if (io->acks_late) {
		log_info("exabgp acks again");
		io->acks_late = false;
	}
	if (io->waiting)
		io_release(io);
	else
		io->credit++;
}

/* Read what stdin has now; lines are handled as they complete. */
static void io_read(struct compat_io *io)
{
	for (int rounds = 0; rounds < 16 && !io->in_eof; rounds++) {
		int n = evbuffer_read(io->in, STDIN_FILENO, 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* The original's readline() returns "" from then on: nothing to wait for.
			 */
			io->in_eof = true;
			if (io->rev != NULL)
				event_del(io->rev);
			io_release(io);
			break;
		}
		char *line;
		size_t len;
		while ((line = evbuffer_readln(io->in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
			io_line(io, line);
			free(line);
		}
		if (evbuffer_get_length(io->in) > IO_LINE_MAX)
			evbuffer_drain(io->in, evbuffer_get_length(io->in));
		if (io->in_blocking)
			break; /* a terminal: a second read would wait for the next line */
	}
}

static void io_read_cb(evutil_socket_t fd, short what, void *arg)
{
	io_read(arg);
}

static void io_ack_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct compat_io *io = arg;

	log_warn("no ack from exabgp within %ums; not waiting for acks until one comes "
	         "(with exabgp.api.ack = false, use --no-ack)",
	         (unsigned)io->ack_timeout_ms);
	io->acks_late = true;
	io_release(io);
}

static void io_gone_cb(evutil_socket_t fd, short what, void *arg)
{
	struct compat_io *io = arg;
	io->on_gone(io->arg);
}

/* Write what is queued without blocking; EPIPE marks stdout gone (reported from the
 * loop, never from inside a caller's write). */
static void io_flush(struct compat_io *io)
{
	while (!io->gone && evbuffer_get_length(io->out) > 0) {
		int n = evbuffer_write(io->out, STDOUT_FILENO);
		if (n >= 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			event_add(io->wev, NULL);
			return;
		}
		log_info("stdout closed (%s): exabgp is gone", strerror(errno));
		io->gone = true;
		evbuffer_drain(io->out, evbuffer_get_length(io->out));
		event_active(io->gone_ev, 0, 0);
	}
}

static void io_write_cb(evutil_socket_t fd, short what, void *arg)
{
	io_flush(arg);
}

int compat_io_write(struct compat_io *io, const char *line)
{
	if (io->gone)
		return -1;
	if (evbuffer_get_length(io->out) > IO_OUT_MAX) {
		if (!io->dropped)
			log_err("exabgp reads nothing: %d bytes of commands queued; dropping more",
			        IO_OUT_MAX);
		io->dropped = true;
		return 0;
	}
	io->dropped = false;
	log_debug("exabgp: %s", line);
	evbuffer_add(io->out, line, strlen(line));
	evbuffer_add(io->out, "\n", 1);
	io_flush(io);
	return io->gone ? -1 : 0;
}

bool compat_io_ack_now(struct compat_io *io)
{
	/* As the original: no ack with --no-ack, or when a person reads stdout. */
	if (io->no_ack || io->out_tty || io->gone)
		return true;
	if (!io->in_polled)
		io_read(io); /* a file or /dev/null: reading never blocks */
	if (io->credit > 0) {
		io->credit--;
		return true;
	}
	if (io->in_eof || io->shutdown || io->acks_late)
		return true;
	struct timeval tv = {io->ack_timeout_ms / 1000, (io->ack_timeout_ms % 1000) * 1000};
	io->waiting = true;
	evtimer_add(io->ack_timer, &tv);
	return false;
}

void compat_io_ack_cancel(struct compat_io *io)
{
	/* An ack still missing now is as late as one that timed out: the withdrawals of an
	 * exit are not held up waiting for more. */
	if (io->waiting)
		io->acks_late = true;
	io->waiting = false;
	evtimer_del(io->ack_timer);
}

bool compat_io_gone(const struct compat_io *io)
{
	return io->gone;
}

int compat_io_drain(struct compat_io *io, uint32_t ms)
{
	struct timeval deadline;

	mono_deadline(&deadline, ms);
	while (!io->gone && evbuffer_get_length(io->out) > 0) {
		long left = mono_ms_left(&deadline);
		if (left <= 0)
			return -1;
		struct pollfd pfd = {.fd = STDOUT_FILENO, .events = POLLOUT};
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -1;
		io_flush(io);
	}
	return io->gone ? -1 : 0;
}

struct compat_io *compat_io_new(struct event_base *base, bool no_ack, uint32_t ack_timeout_ms,
                                compat_io_fn on_ack, compat_io_fn on_gone, void *arg)
{
	struct compat_io *io = calloc(1, sizeof(*io));
	struct stat st;

	if (io == NULL)
		return NULL;
	io->base = base;
	io->no_ack = no_ack;
	io->ack_timeout_ms = ack_timeout_ms;
	io->on_ack = on_ack;
	io->on_gone = on_gone;
	io->arg = arg;
	io->in_flags = io->out_flags = -1;
	io->out_tty = isatty(STDOUT_FILENO);
	io->in = evbuffer_new();
	io->out = evbuffer_new();
	io->wev = event_new(base, STDOUT_FILENO, EV_WRITE, io_write_cb, io);
	io->ack_timer = evtimer_new(base, io_ack_timeout_cb, io);
	io->gone_ev = event_new(base, -1, 0, io_gone_cb, io);
	if (!io->in || !io->out || !io->wev || !io->ack_timer || !io->gone_ev)
		goto fail;
	/* Only a pipe or socket is made non-blocking: the flag is shared with whoever else
	 * holds the descriptor, and a terminal or file never stalls anyway. */
	if (fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		io->out_flags = fcntl(STDOUT_FILENO, F_GETFL);
		if (io->out_flags >= 0)
			fcntl(STDOUT_FILENO, F_SETFL, io->out_flags | O_NONBLOCK);
	}
	int fl = fcntl(STDIN_FILENO, F_GETFL);
	if (fl < 0) {
		io->in_eof = true; /* no stdin at all */
		return io;
	}
	bool pipe = fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	if (pipe) {
		io->in_flags = fl;
		fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK);
	}
	/* A regular file or /dev/null cannot be polled (epoll refuses them); they are read
	 * when an ack is wanted, which never blocks. */
	if (!pipe && !isatty(STDIN_FILENO))
		return io;
	io->rev = event_new(base, STDIN_FILENO, EV_READ | EV_PERSIST, io_read_cb, io);
	if (io->rev != NULL && event_add(io->rev, NULL) == 0) {
		io->in_polled = true;
		io->in_blocking = !pipe;
	} else if (io->rev != NULL) {
		event_free(io->rev);
		io->rev = NULL;
	}
	return io;
fail:
	compat_io_free(io);
	return NULL;
}

void compat_io_free(struct compat_io *io)
{
	if (io == NULL)
		return;
	if (io->rev)
		event_free(io->rev);
	if (io->wev)
		event_free(io->wev);
	if (io->ack_timer)
		event_free(io->ack_timer);
	if (io->gone_ev)
		event_free(io->gone_ev);
	if (io->in)
		evbuffer_free(io->in);
	if (io->out)
		evbuffer_free(io->out);
	if (io->in_flags >= 0)
		fcntl(STDIN_FILENO, F_SETFL, io->in_flags);
	if (io->out_flags >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, io->out_flags);
	free(io);
}
