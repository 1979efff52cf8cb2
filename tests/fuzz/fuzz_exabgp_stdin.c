/* libFuzzer target: whatever ExaBGP (or anything holding healthd's stdin) writes, in
 * any pieces, interleaved with commands sent and acks timing out, goes through the
 * ExaBGP backend's own stdin code: exabgp_read_cb (line framing, over-long lines
 * discarded and their tails skipped), exabgp_line (done / error / shutdown, late acks)
 * and the ack ring (exabgp_ack_push, exabgp_ack_expire). The backend's file is included
 * so its static functions run exactly as in healthd; the speaker is a stub.
 *
 * Input: a sequence of operations, each a byte op and a byte arg:
 *   op % 4 == 0: a command is sent (an ack is now awaited);
 *   op % 4 == 1: the awaited acks age by arg * 40 ms, then the expiry timer runs;
 *   otherwise:   the next arg + 1 input bytes arrive on stdin and are read.
 * At the end stdin is closed: the backend must see ExaBGP gone.
 *
 * fuzz-sources: lib/log.c healthd/outbuf.c healthd/prefix.c
 * Seeds: tests/fuzz/corpus/exabgp_stdin. */
#include <fcntl.h>
#include <syslog.h>

#include "../../healthd/exabgp.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The speaker, as far as the backend's stdin side reaches. */
void speaker_gone(struct speaker *sp, const char *why)
{
	(void)why;
	sp->gone = true;
}

void speaker_failed(struct speaker *sp, const char *why)
{
	speaker_gone(sp, why);
	sp->failed = true;
}

void speaker_sync(struct speaker *sp)
{
	(void)sp;
}

static void fuzz_check(const struct exabgp *x)
{
	if (x->ack_count > EXABGP_ACKS_MAX || x->ack_head >= EXABGP_ACKS_MAX)
		abort();
	/* A partial line longer than the limit is never kept. */
	if (evbuffer_get_length(x->in) > EXABGP_LINE_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	static struct event_base *base;
	struct config cfg = {0};
	struct speaker sp = {0};
	struct exabgp x = {0};
	int fds[2];

	if (!init) {
		log_init("fuzz", false, 0, LOG_CRIT); /* the backend's errors would flood */
		base = event_base_new();
		init = true;
	}
	cfg.speaker.ack_timeout_ms = 1000;
	sp.cfg = &cfg;
	sp.priv = &x;
	x.in = evbuffer_new();
	if (x.in == NULL || pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		abort();
	x.in_fd = fds[0];
	/* never added: the callback is called directly, and removes it at EOF */
	x.read_ev = event_new(base, fds[0], EV_READ | EV_PERSIST, exabgp_read_cb, &sp);
	if (x.read_ev == NULL)
		abort();

	for (size_t i = 0; i + 1 < size && !sp.gone; i += 2) {
		unsigned op = data[i] % 4, arg = data[i + 1];
		if (op == 0) {
			char *cmd = strdup("announce route 192.0.2.1/32 next-hop self");
			if (cmd == NULL)
				abort();
			exabgp_ack_push(&x, cmd);
		} else if (op == 1) {
			for (size_t k = 0; k < x.ack_count; k++) {
				struct timeval *t =
				        &x.acks[(x.ack_head + k) % EXABGP_ACKS_MAX].sent;
				struct timeval age = {.tv_sec = arg * 40 / 1000,
				                      .tv_usec = (suseconds_t)(arg * 40 % 1000) *
				                                 1000};
				timersub(t, &age, t);
			}
			exabgp_ack_expire(-1, 0, &sp);
		} else {
			size_t n = arg + 1;
			if (n > size - i - 2)
				n = size - i - 2;
			if (n > 0 && write(fds[1], data + i + 2, n) != (ssize_t)n)
				abort();
			exabgp_read_cb(fds[0], EV_READ, &sp);
			i += n;
		}
		fuzz_check(&x);
	}
	close(fds[1]);
	if (!sp.gone) {
		exabgp_read_cb(fds[0], EV_READ, &sp);
		fuzz_check(&x);
		if (!sp.gone || sp.failed)
			abort(); /* EOF on stdin is ExaBGP going away */
	}
	event_free(x.read_ev);
	close(fds[0]);
	while (x.ack_count > 0)
		free(exabgp_ack_pop(&x));
	evbuffer_free(x.in);
	return 0;
}
