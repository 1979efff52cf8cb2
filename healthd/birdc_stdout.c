/* Speaker type "birdc-stdout": the BIRD modes' commands as birdc lines on stdout, one per
 * line, for "healthd run -c FILE | birdc -s SOCKET". Static mode still writes its include
 * files itself and prints "configure"; protocol mode prints "enable X" / "disable X".
 *
 * birdc answers on its own stdout, not to healthd: a command counts as done once it is
 * written. stdout is non-blocking like ExaBGP's: a stalled birdc fills a bounded buffer,
 * never the probes' time; when birdc exits (EPIPE) the speaker is gone. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "bird.h"
#include "log.h"

#define BIRDC_OUT_ROOM (256 * 1024)

struct birdc_out {
	int fd;
	int flags; /* restored at close */
	struct evbuffer *out;
	struct event *wev;
	bool refused; /* a command found the buffer full: re-assert once it drains */
};

/* -1 when the speaker is gone. */
static int birdc_write(struct bird *b)
{
	struct birdc_out *o = b->io_priv;

	while (evbuffer_get_length(o->out) > 0) {
		int n = evbuffer_write(o->out, o->fd);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			speaker_gone(b->sp, errno == EPIPE ? "birdc closed healthd's stdout"
			                                   : "writing stdout failed");
			return -1;
		}
	}
	if (evbuffer_get_length(o->out) > 0)
		event_add(o->wev, NULL);
	return 0;
}

static void birdc_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bird *b = arg;
	struct birdc_out *o = b->io_priv;

	if (birdc_write(b) == 0 && evbuffer_get_length(o->out) == 0 && o->refused) {
		o->refused = false;
		b->mode->ready(b);
	}
}

static int birdc_send(struct bird *b, const char *cmd, bird_done_fn done, void *arg)
{
	struct birdc_out *o = b->io_priv;

	if (b->sp->gone)
		return -1;
	if (evbuffer_get_length(o->out) >= BIRDC_OUT_ROOM) {
		o->refused = true;
		return -1;
	}
	log_debug("birdc <- %s", cmd);
	evbuffer_add_printf(o->out, "%s\n", cmd);
	birdc_write(b);
	return 1;
}

static void birdc_run(struct bird *b, const struct timeval *deadline)
{
	struct birdc_out *o = b->io_priv;

	while (!b->sp->gone && evbuffer_get_length(o->out) > 0) {
		long left = mono_ms_left(deadline);
		if (left <= 0) {
			log_warn("birdc did not read %zu bytes of commands in time",
			         evbuffer_get_length(o->out));
			b->failed = true;
			return;
		}
		struct pollfd p = {.fd = o->fd, .events = POLLOUT};
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return;
		if (birdc_write(b) != 0)
			b->failed = true;
	}
}

static void birdc_close(struct bird *b)
{
	struct birdc_out *o = b->io_priv;
	if (o == NULL)
		return;
	if (o->wev)
		event_free(o->wev);
	if (o->out)
		evbuffer_free(o->out);
	if (o->flags >= 0)
		fcntl(o->fd, F_SETFL, o->flags);
	free(o);
	b->io_priv = NULL;
}

static const struct bird_io birdc_io = {
        .name = "birdc-stdout",
        .answers = false,
        .send = birdc_send,
        .run = birdc_run,
        .close = birdc_close,
};

int birdc_stdout_io_open(struct bird *b)
{
	struct birdc_out *o = calloc(1, sizeof(*o));
	if (o == NULL)
		return -1;
	b->io = &birdc_io;
	b->io_priv = o;
	o->fd = STDOUT_FILENO;
	o->flags = fcntl(o->fd, F_GETFL);
	if (o->flags < 0) {
		log_err("stdout is not open: it must lead to birdc");
		goto fail;
	}
	fcntl(o->fd, F_SETFL, o->flags | O_NONBLOCK);
	o->out = evbuffer_new();
	o->wev = event_new(b->sp->base, o->fd, EV_WRITE, birdc_write_cb, b);
	if (o->out == NULL || o->wev == NULL)
		goto fail;
	return 0;
fail:
	birdc_close(b);
	return -1;
}
