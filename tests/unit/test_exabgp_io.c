/* The ExaBGP backend's I/O, through real pipes on fds 0, 1 and 2 (each Check test runs in
 * its own process): what ExaBGP reads, acks and errors, a stalled reader, shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/log.h"
#include "../../healthd/speaker.h"
#include "testlib.h"

static const char config_text[] =
        "{\"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"],"
        " \"announce\": {\"med\": 100}, \"checks\": [{\"type\": \"exec\", \"command\": "
        "[\"true\"]}]}], \"allow_root_exec\": true}";

struct lab {
	int to_stdin, from_stdout, from_stderr; /* the test's ends */
	struct config *cfg;
	struct event_base *base;
	struct speaker *sp;
	char gone[128];
};

/* The test's own fds 0-2, put back by lab_free: with CK_FORK=no every test runs in this
 * process, and Check reports on the real stdout. */
static int saved_std[3] = {-1, -1, -1};

static void lab_gone(void *arg, const char *why)
{
	struct lab *l = arg;
	snprintf(l->gone, sizeof(l->gone), "%s", why);
}

static void lab_init_with(struct lab *l, const char *text)
{
	int in[2], out[2], err[2];
	memset(l, 0, sizeof(*l));
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 3; i++)
		if (saved_std[i] < 0)
			saved_std[i] = fcntl(i, F_DUPFD_CLOEXEC, 10);
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(pipe2(err, O_NONBLOCK), 0);
	ck_assert_int_ge(dup2(in[0], 0), 0);
	ck_assert_int_ge(dup2(out[1], 1), 0);
	ck_assert_int_ge(dup2(err[1], 2), 0);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	l->to_stdin = in[1];
	l->from_stdout = out[0];
	l->from_stderr = err[0];
	log_init("test", false, LOG_DAEMON, LOG_INFO);

	l->cfg = tl_config_ok(text);
	l->base = event_base_new();
	l->sp = speaker_new(l->cfg, l->base, lab_gone, l);
	ck_assert_ptr_nonnull(l->sp);
}

static void lab_init(struct lab *l)
{
	lab_init_with(l, config_text);
}

static void lab_free(struct lab *l)
{
	speaker_free(l->sp);
	event_base_free(l->base);
	config_free(l->cfg);
	for (int i = 0; i < 3; i++)
		dup2(saved_std[i], i);
	close(l->to_stdin);
	close(l->from_stdout);
	close(l->from_stderr);
}

/* Run the loop until nothing is pending or 'ms' have passed. */
static void lab_spin(struct lab *l, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		event_base_loop(l->base, EVLOOP_NONBLOCK);
		usleep(10000);
	}
}

/* Everything readable on fd within ms, appended to buf. */
static void drain(int fd, char *buf, size_t len, int ms)
{
	size_t off = strlen(buf);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	while (off + 1 < len && poll(&pfd, 1, ms) == 1) {
		ssize_t n = read(fd, buf + off, len - off - 1);
		if (n <= 0)
			break;
		off += (size_t)n;
		buf[off] = '\0';
	}
}

static const struct route_attrs *announce_of(struct lab *l)
{
	return &l->cfg->services[0].announce;
}

START_TEST(test_lines_and_error_ack)
{
	struct lab l;
	char out[4096] = "", err[4096] = "";
	lab_init(&l);
	speaker_set(l.sp, &l.cfg->services[0], announce_of(&l));
	drain(l.from_stdout, out, sizeof(out), 200);
	ck_assert_str_eq(out, "announce route 192.0.2.53/32 next-hop self med 100\n");

	/* ExaBGP refuses it: the log names the command the error answers. */
	ck_assert_int_eq(write(l.to_stdin, "error\n", 6), 6);
	lab_spin(&l, 100);
	drain(l.from_stderr, err, sizeof(err), 50);
	ck_assert_msg(strstr(err, "exabgp rejected: announce route 192.0.2.53/32 next-hop self "
	                          "med 100") != NULL,
	              "stderr: %s", err);

	/* The same state again sends nothing; withdrawal sends one line. */
	speaker_set(l.sp, &l.cfg->services[0], announce_of(&l));
	speaker_set(l.sp, &l.cfg->services[0], NULL);
	out[0] = '\0';
	drain(l.from_stdout, out, sizeof(out), 200);
	ck_assert_str_eq(out, "withdraw route 192.0.2.53/32 next-hop self\n");
	ck_assert_str_eq(l.gone, "");
	lab_free(&l);
}
END_TEST

START_TEST(test_shutdown_notice)
{
	struct lab l;
	lab_init(&l);
	ck_assert_int_eq(write(l.to_stdin, "done\nshutdown 123 1\n\n", 21), 21);
	lab_spin(&l, 100);
	ck_assert_str_eq(l.gone, "exabgp is shutting down");
	lab_free(&l);
}
END_TEST

START_TEST(test_stdin_eof)
{
	struct lab l;
	lab_init(&l);
	close(l.to_stdin);
	lab_spin(&l, 100);
	ck_assert_str_eq(l.gone, "exabgp closed healthd's stdin");
	lab_free(&l);
}
END_TEST

START_TEST(test_epipe_is_gone_not_death)
{
	struct lab l;
	lab_init(&l);
	close(l.from_stdout);
	speaker_set(l.sp, &l.cfg->services[0], announce_of(&l));
	ck_assert_str_eq(l.gone, "exabgp closed healthd's stdout");
	lab_free(&l);
}
END_TEST

START_TEST(test_overlong_line_is_discarded_whole)
{
	struct lab l;
	char line[6000], err[4096] = "";
	lab_init(&l);
	speaker_set(l.sp, &l.cfg->services[0], announce_of(&l));
	memset(line, 'x', sizeof(line));
	memcpy(line + sizeof(line) - 6, "error\n", 6);
	ck_assert_int_eq(write(l.to_stdin, line, sizeof(line)), (ssize_t)sizeof(line));
	lab_spin(&l, 100);
	drain(l.from_stderr, err, sizeof(err), 50);
	ck_assert_msg(strstr(err, "longer than 4096 bytes") != NULL, "stderr: %s", err);
	ck_assert_msg(strstr(err, "rejected") == NULL, "the tail was taken as an ack: %s", err);
	lab_free(&l);
}
END_TEST

START_TEST(test_stalled_reader_never_blocks)
{
	struct lab l;
	lab_init(&l);
	/* Nobody reads stdout: 20000 flips must return at once (Check's timeout would
	 * catch a block), queue at most the buffer, and leave the table as the truth. */
	for (int i = 0; i < 20000; i++)
		speaker_set(l.sp, &l.cfg->services[0], i % 2 ? NULL : announce_of(&l));
	speaker_set(l.sp, &l.cfg->services[0], announce_of(&l));
	ck_assert_str_eq(l.gone, "");

	/* The reader wakes up: after the backlog, the last line is the final state. */
	static char out[1 << 20];
	char *last = NULL;
	for (int round = 0; round < 50; round++) {
		lab_spin(&l, 20);
		drain(l.from_stdout, out, sizeof(out), 20);
	}
	size_t n = strlen(out);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_lt(n, sizeof(out) - 1);
	out[n - 1] = '\0';
	last = strrchr(out, '\n');
	ck_assert_str_eq(last ? last + 1 : out,
	                 "announce route 192.0.2.53/32 next-hop self med 100");
	lab_free(&l);
}
END_TEST

START_TEST(test_shutdown_withdraws_and_drains)
{
	struct lab l;
	char out[4096] = "";
	lab_init(&l);
	speaker_set(l.sp, &l.cfg->services[0], announce_of(&l));
	ck_assert_int_eq(speaker_shutdown(l.sp), 0);
	drain(l.from_stdout, out, sizeof(out), 200);
	ck_assert_str_eq(out, "announce route 192.0.2.53/32 next-hop self med 100\n"
	                      "withdraw route 192.0.2.53/32 next-hop self\n");
	lab_free(&l);
}
END_TEST

START_TEST(test_new_path_id_withdraws_the_old_path)
{
	struct lab l;
	char out[4096] = "";
	lab_init_with(&l, "{\"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"],"
	                  " \"announce\": {\"med\": 100, \"path_information\": \"0.0.0.1\"},"
	                  " \"on_down\": {\"med\": 1000, \"path_information\": \"0.0.0.2\"},"
	                  " \"checks\": [{\"type\": \"exec\", \"command\": [\"true\"]}]}],"
	                  " \"allow_root_exec\": true}");
	const struct service_cfg *svc = &l.cfg->services[0];
	speaker_set(l.sp, svc, &svc->announce);
	speaker_set(l.sp, svc, &svc->on_down.attrs);
	drain(l.from_stdout, out, sizeof(out), 200);
	ck_assert_str_eq(
	        out, "announce route 192.0.2.53/32 next-hop self med 100 path-information 0.0.0.1\n"
	             "withdraw route 192.0.2.53/32 next-hop self path-information 0.0.0.1\n"
	             "announce route 192.0.2.53/32 next-hop self med 1000 path-information "
	             "0.0.0.2\n");
	lab_free(&l);
}
END_TEST

static Suite *exabgp_io_suite(void)
{
	Suite *s = suite_create("exabgp_io");
	TCase *tc = tcase_create("pipes");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_lines_and_error_ack);
	tcase_add_test(tc, test_shutdown_notice);
	tcase_add_test(tc, test_stdin_eof);
	tcase_add_test(tc, test_epipe_is_gone_not_death);
	tcase_add_test(tc, test_overlong_line_is_discarded_whole);
	tcase_add_test(tc, test_stalled_reader_never_blocks);
	tcase_add_test(tc, test_shutdown_withdraws_and_drains);
	tcase_add_test(tc, test_new_path_id_withdraws_the_old_path);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(exabgp_io_suite)
