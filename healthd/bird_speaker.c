/* The speaker for BIRD: speaker_ops that join a transport (the control socket, or birdc
 * commands on stdout) and a mode (static include files, or one protocol per service).
 *
 * The route table is the truth and BIRD can only be told whole states (a file, a
 * protocol's on/off), so announce and withdraw only note that something changed; the
 * mode reads the told state from the table when it acts. Nothing is ever refused: a
 * BIRD that is away gets the whole state when it is back. */
#include <stdlib.h>

#include "bird.h"
#include "../lib/log.h"

static int bird_announce(struct speaker *sp, const struct speaker_route *r)
{
	struct bird *b = sp->priv;
	b->dirty = true;
	if (r->sent != NULL) /* r->sent is still what BIRD was told: new attributes */
		b->urgent = true;
	return 0;
}

static int bird_withdraw(struct speaker *sp, const struct speaker_route *r)
{
	struct bird *b = sp->priv;
	b->dirty = true;
	b->urgent = true;
	return 0;
}

static void bird_flush(struct speaker *sp)
{
	struct bird *b = sp->priv;
	b->mode->flush(b);
}

static int bird_drain(struct speaker *sp, uint32_t timeout_ms)
{
	struct bird *b = sp->priv;
	struct timeval deadline;

	mono_deadline(&deadline, timeout_ms);
	b->stopping = true;
	b->mode->shutdown(b);
	b->io->run(b, &deadline);
	if (!b->mode->settled(b)) {
		log_warn("BIRD did not confirm the withdrawals within %ums", (unsigned)timeout_ms);
		return -1;
	}
	return b->failed ? -1 : 0;
}

static void bird_close(struct speaker *sp)
{
	struct bird *b = sp->priv;
	if (b == NULL)
		return;
	if (b->io != NULL)
		b->io->close(b);
	if (b->mode != NULL && b->mode_priv != NULL)
		b->mode->close(b);
	free(b);
	sp->priv = NULL;
}

static void bird_reconfigure(struct speaker *sp)
{
	struct bird *b = sp->priv;
	b->cfg = &sp->cfg->speaker.bird; /* equal to the old one: reload refuses a change */
	b->dirty = true;
	if (b->mode->reconfigure != NULL)
		b->mode->reconfigure(b);
}

static void bird_gauges(struct speaker *sp)
{
	struct bird *b = sp->priv;
	if (b->io != NULL && b->io->gauges != NULL)
		b->io->gauges(b);
}

static const struct speaker_ops bird_ops = {
        .name = "bird",
        .announce = bird_announce,
        .withdraw = bird_withdraw,
        .flush = bird_flush,
        .reconfigure = bird_reconfigure,
        .drain = bird_drain,
        .close = bird_close,
        .gauges = bird_gauges,
};

static int bird_open_io(struct speaker *sp, int (*io_open)(struct bird *))
{
	struct bird *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -1;
	sp->ops = &bird_ops;
	sp->priv = b;
	b->sp = sp;
	b->cfg = &sp->cfg->speaker.bird;
	b->mode = b->cfg->mode == BIRD_MODE_PROTOCOL ? &bird_proto_mode : &bird_static_mode;
	/* BIRD is always told the whole state at start: what a previous run left in an
	 * include file or a protocol's switch is not healthd's current word. */
	b->dirty = true;
	/* The mode first: the transport calls its ready() once BIRD greets. */
	if (b->mode->open(b) != 0 || io_open(b) != 0) {
		bird_close(sp);
		sp->ops = NULL;
		return -1;
	}
	return 0;
}

int bird_open(struct speaker *sp)
{
	return bird_open_io(sp, bird_sock_open);
}

int birdc_stdout_open(struct speaker *sp)
{
	return bird_open_io(sp, birdc_stdout_io_open);
}
