/* The healthcheck drop-in's channel to ExaBGP with real pipes on stdin and stdout: an
 * ack awaited arrives, arrives early, never arrives (deadline), or will not come any more
 * (shutdown notice, EOF); a closed reader is reported from the loop, not as a crash. */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "../../compat/compat.h"
#include "../../lib/log.h"
#include "unit.h"

static struct event_base *base;
static struct compat_io *io;
static int to_in = -1, from_out = -1; /* our ends: ExaBGP's side of the two pipes */
static int saved_in = -1, saved_out = -1;
static int acked, gone;

static void on_ack(void *arg)
{
	acked++;
	event_base_loopbreak(base);
}

static void on_gone(void *arg)
{
	gone++;
	event_base_loopbreak(base);
}

static void setup(void)
{
	int in[2], out[2];

	log_init("test_compat_io", false, LOG_DAEMON, LOG_ERR);
	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	fflush(stdout);
	saved_in = dup(0);
	saved_out = dup(1);
	dup2(in[0], 0);
	dup2(out[1], 1);
	close(in[0]);
	close(out[1]);
	to_in = in[1];
	from_out = out[0];
	acked = gone = 0;
	base = event_base_new();
	io = compat_io_new(base, false, 100, on_ack, on_gone, NULL);
	ck_assert_ptr_nonnull(io);
}

static void teardown(void)
{
	compat_io_free(io);
	event_base_free(base);
	dup2(saved_in, 0);
	dup2(saved_out, 1);
	close(saved_in);
	close(saved_out);
	if (to_in >= 0)
		close(to_in);
	if (from_out >= 0)
		close(from_out);
	to_in = from_out = -1;
}

static void loop_ms(int ms)
{
	struct timeval tv = {0, ms * 1000};
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void say(const char *s)
{
	ck_assert_int_eq(write(to_in, s, strlen(s)), (ssize_t)strlen(s));
}

START_TEST(lines_go_out_and_an_ack_releases_the_wait)
{
	char buf[128] = "";

	ck_assert_int_eq(compat_io_write(io, "announce route 192.0.2.1/32 next-hop self med 100"),
	                 0);
	ck_assert(!compat_io_ack_now(io));
	ck_assert_int_gt(read(from_out, buf, sizeof(buf) - 1), 0);
	ck_assert_str_eq(buf, "announce route 192.0.2.1/32 next-hop self med 100\n");
	say("done\n");
	loop_ms(1000);
	ck_assert_int_eq(acked, 1);
}
END_TEST

START_TEST(an_early_ack_is_counted)
{
	say("done\nerror\n");
	loop_ms(20); /* read both before anything waits */
	ck_assert_int_eq(compat_io_write(io, "a"), 0);
	ck_assert(compat_io_ack_now(io));
	ck_assert_int_eq(compat_io_write(io, "b"), 0);
	ck_assert(compat_io_ack_now(io));
	ck_assert_int_eq(compat_io_write(io, "c"), 0);
	ck_assert(!compat_io_ack_now(io));
	ck_assert_int_eq(acked, 0);
}
END_TEST

START_TEST(a_missing_ack_has_a_deadline_then_no_more_waits)
{
	compat_io_write(io, "a");
	ck_assert(!compat_io_ack_now(io));
	loop_ms(1000);
	ck_assert_int_eq(acked, 1); /* released by the 100ms deadline */
	compat_io_write(io, "b");
	ck_assert(compat_io_ack_now(io)); /* acks are late: not waited for */
	say("done\n");
	loop_ms(20);
	compat_io_write(io, "c");
	ck_assert(compat_io_ack_now(io)); /* the late ack, counted */
	compat_io_write(io, "d");
	ck_assert(!compat_io_ack_now(io)); /* acks work again: waited for */
}
END_TEST

START_TEST(shutdown_and_eof_end_the_waiting)
{
	compat_io_write(io, "a");
	ck_assert(!compat_io_ack_now(io));
	say("shutdown 123 1\n");
	loop_ms(1000);
	ck_assert_int_eq(acked, 1);
	compat_io_write(io, "withdraw");
	ck_assert(compat_io_ack_now(io));
	teardown();
	setup();
	compat_io_write(io, "a");
	ck_assert(!compat_io_ack_now(io));
	close(to_in);
	to_in = -1;
	loop_ms(1000);
	ck_assert_int_eq(acked, 1);
	ck_assert(compat_io_ack_now(io));
}
END_TEST

START_TEST(cancel_makes_acks_late)
{
	compat_io_write(io, "a");
	ck_assert(!compat_io_ack_now(io));
	compat_io_ack_cancel(io); /* SIGTERM while waiting */
	compat_io_write(io, "withdraw");
	ck_assert(compat_io_ack_now(io));
	ck_assert_int_eq(acked, 0);
}
END_TEST

START_TEST(a_closed_reader_is_reported_from_the_loop)
{
	close(from_out);
	from_out = -1;
	ck_assert_int_eq(compat_io_write(io, "a"), -1);
	ck_assert(compat_io_gone(io));
	ck_assert_int_eq(gone, 0); /* not from inside the write */
	loop_ms(1000);
	ck_assert_int_eq(gone, 1);
	ck_assert_int_eq(compat_io_write(io, "b"), -1);
}
END_TEST

static Suite *compat_io_suite(void)
{
	Suite *s = suite_create("compat_io");
	TCase *tc = tcase_create("io");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, lines_go_out_and_an_ack_releases_the_wait);
	tcase_add_test(tc, an_early_ack_is_counted);
	tcase_add_test(tc, a_missing_ack_has_a_deadline_then_no_more_waits);
	tcase_add_test(tc, shutdown_and_eof_end_the_waiting);
	tcase_add_test(tc, cancel_makes_acks_late);
	tcase_add_test(tc, a_closed_reader_is_reported_from_the_loop);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(compat_io_suite)
