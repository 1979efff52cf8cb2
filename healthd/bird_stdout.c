/* Speaker type "birdc-stdout": the BIRD modes' commands as birdc lines on stdout, one per
 * line, for "healthd run -c FILE | birdc -s SOCKET". Static mode still writes its include
 * files itself and prints "configure"; protocol mode prints "enable X" / "disable X".
 *
 * birdc answers on its own stdout, not to healthd: a command counts as done once it is
 * written. stdout is non-blocking like ExaBGP's: a stalled birdc fills a bounded buffer,
 * never the probes' time; when birdc exits (EPIPE) the speaker is gone. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bird.h"
#include "../lib/log.h"
#include "outbuf.h"

#define BIRDC_OUT_ROOM (256 * 1024)

struct birdc_out {
	struct outbuf *out;
	bool refused; /* a command found the buffer full: re-assert once it drains */
};

static void birdc_gone(void *arg, int err)
{
	struct bird *b = arg;
	speaker_gone(b->sp,
	             err == EPIPE ? "birdc closed healthd's stdout" : "writing stdout failed");
}

static void birdc_drained(void *arg)
{
	struct bird *b = arg;
	struct birdc_out *o = b->io_priv;

	if (o->refused) {
		o->refused = false;
		b->mode->ready(b);
	}
}

static int birdc_send(struct bird *b, const char *cmd, bird_done_fn done, void *arg)
{
	struct birdc_out *o = b->io_priv;

	if (b->sp->gone)
		return -1;
	if (outbuf_pending(o->out) >= BIRDC_OUT_ROOM) {
		o->refused = true;
		return -1;
	}
	if (outbuf_line(o->out, cmd) != 0)
		return -1;
	log_debug("birdc <- %s", cmd);
	b->sp->stats.commands++;
	if (strcmp(cmd, "configure") == 0)
		b->sp->stats.configures++;
	outbuf_flush(o->out);
	return 1;
}

static void birdc_run(struct bird *b, const struct timeval *deadline)
{
	struct birdc_out *o = b->io_priv;

	if (b->sp->gone || outbuf_drain(o->out, (uint32_t)mono_ms_left(deadline)) == 0)
		return;
	if (!outbuf_gone(o->out))
		log_warn("birdc did not read %zu bytes of commands in time",
		         outbuf_pending(o->out));
	b->failed = true;
}

static void birdc_close(struct bird *b)
{
	struct birdc_out *o = b->io_priv;
	if (o == NULL)
		return;
	outbuf_free(o->out);
	free(o);
	b->io_priv = NULL;
}

static void birdc_gauges(struct bird *b)
{
	struct birdc_out *o = b->io_priv;
	b->sp->stats.backlog_bytes = outbuf_pending(o->out);
	b->sp->stats.connected = !b->sp->gone;
}

static const struct bird_io birdc_io = {
        .name = "birdc-stdout",
        .answers = false,
        .send = birdc_send,
        .run = birdc_run,
        .close = birdc_close,
        .gauges = birdc_gauges,
};

int birdc_stdout_io_open(struct bird *b)
{
	struct birdc_out *o = calloc(1, sizeof(*o));
	if (o == NULL)
		return -1;
	b->io = &birdc_io;
	b->io_priv = o;
	if (fcntl(STDOUT_FILENO, F_GETFL) < 0) {
		log_err("stdout is not open: it must lead to birdc");
		goto fail;
	}
	o->out = outbuf_new(b->sp->base, STDOUT_FILENO, birdc_gone, birdc_drained, b);
	if (o->out == NULL)
		goto fail;
	return 0;
fail:
	birdc_close(b);
	return -1;
}
