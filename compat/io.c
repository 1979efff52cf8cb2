/* The healthcheck drop-in's channel to ExaBGP: command lines on stdout, acks on stdin.
 *
 * The original writes a line, then blocks in readline() for the ack: forever when none
 * comes, which is how it hangs at ExaBGP's shutdown or with acks turned off. Here stdin
 * is always read (so ExaBGP never stalls on unread acks), each line read counts as one
 * ack as it does for the original, and an awaited ack has a deadline. A "shutdown" notice
 * means no ack will come any more; EOF likewise. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "compat.h"
#include "../healthd/exabgp.h"
#include "../lib/log.h"
#include "../healthd/outbuf.h"

#define IO_OUT_MAX  (1024 * 1024) /* ExaBGP that reads nothing does not get more */
#define IO_LINE_MAX 4096

struct compat_io {
	struct event_base *base;
	int in_flags; /* restored by compat_io_free; -1: not changed */
	bool out_tty, no_ack;
	bool in_eof, in_polled, in_blocking, shutdown, gone, waiting, acks_late, dropped;
	unsigned credit; /* lines read that no write has claimed yet */
	uint32_t ack_timeout_ms;
	struct evbuffer *in;
	struct outbuf *out;
	struct event *rev, *ack_timer, *gone_ev;
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

/* EPIPE marks stdout gone: reported from the loop, never from inside a caller's write. */
static void io_out_gone(void *arg, int err)
{
	struct compat_io *io = arg;
	log_info("stdout closed (%s): exabgp is gone", strerror(err));
	io->gone = true;
	event_active(io->gone_ev, 0, 0);
}

int compat_io_write(struct compat_io *io, const char *line)
{
	if (io->gone)
		return -1;
	if (outbuf_pending(io->out) > IO_OUT_MAX) {
		if (!io->dropped)
			log_err("exabgp reads nothing: %d bytes of commands queued; dropping more",
			        IO_OUT_MAX);
		io->dropped = true;
		return 0;
	}
	io->dropped = false;
	log_debug("exabgp: %s", line);
	outbuf_line(io->out, line);
	outbuf_flush(io->out);
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

void compat_io_set_acks(struct compat_io *io, bool no_ack, uint32_t ack_timeout_ms)
{
	io->no_ack = no_ack;
	io->ack_timeout_ms = ack_timeout_ms;
}

int compat_io_drain(struct compat_io *io, uint32_t ms)
{
	return io->gone ? -1 : outbuf_drain(io->out, ms);
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
	io->in_flags = -1;
	io->out_tty = isatty(STDOUT_FILENO);
	io->in = evbuffer_new();
	io->out = outbuf_new(base, STDOUT_FILENO, io_out_gone, NULL, io);
	io->ack_timer = evtimer_new(base, io_ack_timeout_cb, io);
	io->gone_ev = event_new(base, -1, 0, io_gone_cb, io);
	if (!io->in || !io->out || !io->ack_timer || !io->gone_ev)
		goto fail;
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
	if (io->ack_timer)
		event_free(io->ack_timer);
	if (io->gone_ev)
		event_free(io->gone_ev);
	if (io->in)
		evbuffer_free(io->in);
	outbuf_free(io->out);
	if (io->in_flags >= 0)
		fcntl(STDIN_FILENO, F_SETFL, io->in_flags);
	free(io);
}
