/* The non-blocking pipe writer behind ExaBGP's, birdc's and the drop-in's stdout, over real
 * pipes: lines go out in order, a stalled reader never blocks, the writer catches up from
 * the loop, a closed reader is reported once, and the exit drain is bounded. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "../../lib/monotime.h"
#include "../../healthd/outbuf.h"
#include "unit.h"

struct seen {
	int gone, err, drained;
};

static void on_gone(void *arg, int err)
{
	struct seen *s = arg;
	s->gone++;
	s->err = err;
}

static void on_drained(void *arg)
{
	struct seen *s = arg;
	s->drained++;
}

/* Everything readable on fd now (fd is non-blocking), appended to buf. */
static size_t slurp(int fd, char *buf, size_t len, size_t have)
{
	ssize_t n;
	while (have + 1 < len && (n = read(fd, buf + have, len - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	return have;
}

START_TEST(test_lines_in_order)
{
	struct event_base *base = event_base_new();
	struct seen s = {0};
	int p[2];
	char buf[256];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	struct outbuf *o = outbuf_new(base, p[1], on_gone, on_drained, &s);
	ck_assert_ptr_nonnull(o);
	ck_assert(fcntl(p[1], F_GETFL) & O_NONBLOCK); /* a pipe is made non-blocking */
	ck_assert_int_eq(outbuf_line(o, "announce route 192.0.2.1/32 next-hop self"), 0);
	ck_assert_int_eq(outbuf_line(o, "configure"), 0);
	ck_assert_uint_eq(outbuf_pending(o), 52); /* queued, not written before a flush */
	ck_assert_int_eq(outbuf_flush(o), 0);
	ck_assert_uint_eq(outbuf_pending(o), 0);
	slurp(p[0], buf, sizeof(buf), 0);
	ck_assert_str_eq(buf, "announce route 192.0.2.1/32 next-hop self\nconfigure\n");
	ck_assert_int_eq(outbuf_drain(o, 100), 0);
	outbuf_free(o);
	ck_assert(!(fcntl(p[1], F_GETFL) & O_NONBLOCK)); /* restored */
	ck_assert_int_eq(s.gone, 0);
	close(p[0]);
	close(p[1]);
	event_base_free(base);
}
END_TEST

START_TEST(test_stalled_reader_then_catch_up)
{
	struct event_base *base = event_base_new();
	struct seen s = {0};
	int p[2];
	static char buf[1 << 20];
	char line[1000];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	struct outbuf *o = outbuf_new(base, p[1], on_gone, on_drained, &s);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	/* 500 KB into a 64 KB pipe nobody reads: every flush returns at once. */
	for (int i = 0; i < 500; i++) {
		ck_assert_int_eq(outbuf_line(o, line), 0);
		ck_assert_int_eq(outbuf_flush(o), 0);
	}
	ck_assert_uint_gt(outbuf_pending(o), 0);

	/* The exit drain gives up at its bound. */
	struct timeval t0;
	mono_deadline(&t0, 0);
	ck_assert_int_eq(outbuf_drain(o, 150), -1);
	struct timeval t1;
	mono_deadline(&t1, 0);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_usec - t0.tv_usec) / 1000;
	ck_assert_int_ge(ms, 140);
	ck_assert_int_lt(ms, 1000);

	/* The reader wakes up: the loop writes the rest and says so once. */
	size_t have = 0;
	for (int i = 0; i < 2000 && (outbuf_pending(o) > 0 || s.drained == 0); i++) {
		have = slurp(p[0], buf, sizeof(buf), have);
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
	have = slurp(p[0], buf, sizeof(buf), have);
	ck_assert_uint_eq(outbuf_pending(o), 0);
	ck_assert_int_eq(s.drained, 1);
	ck_assert_uint_eq(have, 500 * sizeof(line));
	ck_assert_int_eq(s.gone, 0);
	outbuf_free(o);
	close(p[0]);
	close(p[1]);
	event_base_free(base);
}
END_TEST

START_TEST(test_closed_reader_is_gone_once)
{
	struct event_base *base = event_base_new();
	struct seen s = {0};
	int p[2];

	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	struct outbuf *o = outbuf_new(base, p[1], on_gone, NULL, &s);
	close(p[0]);
	ck_assert_int_eq(outbuf_line(o, "withdraw route 192.0.2.1/32 next-hop self"), 0);
	ck_assert_int_eq(outbuf_flush(o), -1);
	ck_assert_int_eq(s.gone, 1);
	ck_assert_int_eq(s.err, EPIPE);
	ck_assert(outbuf_gone(o));
	ck_assert_uint_eq(outbuf_pending(o), 0); /* nothing is kept for a reader that left */
	ck_assert_int_eq(outbuf_line(o, "more"), -1);
	ck_assert_int_eq(outbuf_flush(o), -1);
	ck_assert_int_eq(outbuf_drain(o, 100), -1);
	ck_assert_int_eq(s.gone, 1);
	outbuf_free(o);
	close(p[1]);
	event_base_free(base);
}
END_TEST

static Suite *outbuf_suite(void)
{
	Suite *s = suite_create("outbuf");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_lines_in_order);
	tcase_add_test(tc, test_stalled_reader_then_catch_up);
	tcase_add_test(tc, test_closed_reader_is_gone_once);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(outbuf_suite)
