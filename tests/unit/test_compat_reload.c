/* The healthcheck drop-in's reload (SIGHUP): which option changes are refused as a whole,
 * which are applied, when the check is rebuilt, and the exact lines a reload writes:
 * nothing when the announced state's lines are the same, the changed ones once, and
 * withdrawals (as the old options announced) of the routes that went away. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../compat/compat.h"
#include "testlib.h"

static struct compat_opts cur, next;
static char why[512];

/* Parses the flags after the common ones, and arranges the IPs as run.c does. */
static void opts(struct compat_opts *o, const char *first, ...)
{
	char *argv[64], err[1024];
	va_list ap;

	va_start(ap, first);
	int argc = tl_argv(argv, 64, "healthd", first, ap);
	va_end(ap);
	compat_opts_free(o);
	ck_assert_msg(compat_args_parse(argc, argv, o, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(compat_sys_arrange(o), 0);
}

/* The lines a reload from cur to next writes when announced's lines were written last,
 * joined with '|'; "" when none. */
static const char *lines(enum compat_state announced, size_t *nwithdrawn)
{
	static char buf[2048];
	char **v;
	size_t n, nw, off = 0;

	ck_assert_int_eq(compat_reload_lines(&cur, &next, announced, &v, &n, &nw), 0);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "|" : "", v[i]);
	ck_assert(n == 0 ? v == NULL : v[n] == NULL);
	compat_lines_free(v);
	if (nwithdrawn != NULL)
		*nwithdrawn = nw;
	return buf;
}

static void teardown(void)
{
	compat_opts_free(&cur);
	compat_opts_free(&next);
}

START_TEST(the_same_options_change_nothing_and_write_nothing)
{
	char names[256];
	opts(&cur, "--ip", "192.0.2.1", "--ip", "192.0.2.2", "--community", "65000:1", NULL);
	opts(&next, "--ip", "192.0.2.1", "--ip", "192.0.2.2", "--community", "65000:1", NULL);
	ck_assert_int_eq(compat_reload_refused(&cur, &next, why, sizeof(why)), 0);
	ck_assert_int_eq(compat_reload_changed(&cur, &next, names, sizeof(names)), 0);
	ck_assert_str_eq(names, "");
	ck_assert(!compat_reload_check_changed(&cur, &next));
	for (enum compat_state s = CS_INIT; s <= CS_DOWN; s++)
		ck_assert_str_eq(lines(s, NULL), "");
}
END_TEST

START_TEST(a_changed_metric_rewrites_the_announced_states_lines_once)
{
	char names[256];
	size_t nw;
	opts(&cur, "--ip", "192.0.2.1", "--ip", "192.0.2.2", NULL);
	opts(&next, "--ip", "192.0.2.1", "--ip", "192.0.2.2", "--up-metric", "200", NULL);
	ck_assert_int_eq(compat_reload_refused(&cur, &next, why, sizeof(why)), 0);
	ck_assert_int_eq(compat_reload_changed(&cur, &next, names, sizeof(names)), 1);
	ck_assert_str_eq(names, "--up-metric");
	ck_assert_str_eq(lines(CS_UP, &nw), "announce route 192.0.2.1/32 next-hop self med 200|"
	                                    "announce route 192.0.2.2/32 next-hop self med 201");
	ck_assert_int_eq(nw, 0);
	/* down or disabled: their lines do not use --up-metric; nothing announced yet, or
	 * rising (INIT) from nothing: the next announcement uses the new options */
	ck_assert_str_eq(lines(CS_DOWN, NULL), "");
	ck_assert_str_eq(lines(CS_DISABLED, NULL), "");
	ck_assert_str_eq(lines(CS_INIT, NULL), "");
}
END_TEST

START_TEST(only_the_lines_that_differ_are_written)
{
	/* --increase 0: both IPs had med 100; only the second one changes */
	opts(&cur, "--ip", "192.0.2.1", "--ip", "192.0.2.2", "--increase", "0", NULL);
	opts(&next, "--ip", "192.0.2.1", "--ip", "192.0.2.2", "--increase", "5", NULL);
	ck_assert_str_eq(lines(CS_UP, NULL), "announce route 192.0.2.2/32 next-hop self med 105");
	/* --disabled-community shows only when down or disabled */
	opts(&cur, "--ip", "192.0.2.1", NULL);
	opts(&next, "--ip", "192.0.2.1", "--disabled-community", "65000:666", NULL);
	ck_assert_str_eq(lines(CS_UP, NULL), "");
	ck_assert_str_eq(lines(CS_DOWN, NULL), "announce route 192.0.2.1/32 next-hop self med 1000 "
	                                       "community [ 65000:666 ]");
}
END_TEST

START_TEST(removed_routes_are_withdrawn_as_they_were_announced)
{
	size_t nw;
	/* without addresses set up on lo, the IPs may change */
	opts(&cur, "--no-ip-setup", "--ip", "192.0.2.1", "--ip", "192.0.2.2", "--next-hop",
	     "192.0.2.254", NULL);
	opts(&next, "--no-ip-setup", "--ip", "192.0.2.2", "--ip", "192.0.2.3", NULL);
	ck_assert_int_eq(compat_reload_refused(&cur, &next, why, sizeof(why)), 0);
	/* the withdrawal names the next-hop it was announced with; then every new line */
	ck_assert_str_eq(lines(CS_UP, &nw), "withdraw route 192.0.2.1/32 next-hop 192.0.2.254|"
	                                    "announce route 192.0.2.2/32 next-hop self med 100|"
	                                    "announce route 192.0.2.3/32 next-hop self med 101");
	ck_assert_int_eq(nw, 1);
	/* the last one removed: the others keep their lines */
	opts(&cur, "--no-ip-setup", "--ip", "192.0.2.1", "--ip", "192.0.2.2", NULL);
	opts(&next, "--no-ip-setup", "--ip", "192.0.2.1", NULL);
	ck_assert_str_eq(lines(CS_DOWN, &nw), "withdraw route 192.0.2.2/32 next-hop self");
	ck_assert_int_eq(nw, 1);
	/* an added one is announced in the announced state, the rest stays */
	opts(&next, "--no-ip-setup", "--ip", "192.0.2.1", "--ip", "192.0.2.2", "--ip",
	     "2001:db8::1", NULL);
	ck_assert_str_eq(lines(CS_UP, &nw), "announce route 2001:db8::1/128 next-hop self med 102");
	ck_assert_int_eq(nw, 0);
}
END_TEST

START_TEST(deaggregating_withdraws_the_network_and_announces_its_hosts)
{
	/* the same addresses on lo: allowed even with them set up there */
	opts(&cur, "--ip", "192.0.2.0/31", NULL);
	opts(&next, "--ip", "192.0.2.0/31", "--deaggregate-networks", NULL);
	ck_assert_int_eq(compat_reload_refused(&cur, &next, why, sizeof(why)), 0);
	ck_assert_str_eq(lines(CS_UP, NULL), "withdraw route 192.0.2.0/31 next-hop self|"
	                                     "announce route 192.0.2.0/32 next-hop self med 100|"
	                                     "announce route 192.0.2.1/32 next-hop self med 101");
	/* --start-ip rotates the list: the metrics move */
	opts(&cur, "--ip", "192.0.2.1", "--ip", "192.0.2.2", NULL);
	opts(&next, "--ip", "192.0.2.1", "--ip", "192.0.2.2", "--start-ip", "1", NULL);
	ck_assert_int_eq(compat_reload_refused(&cur, &next, why, sizeof(why)), 0);
	ck_assert_str_eq(lines(CS_UP, NULL), "announce route 192.0.2.2/32 next-hop self med 100|"
	                                     "announce route 192.0.2.1/32 next-hop self med 101");
}
END_TEST

START_TEST(what_cannot_change_while_running_is_refused_as_a_whole)
{
	opts(&cur, "--ip", "192.0.2.1", NULL);
	opts(&next, "--ip", "192.0.2.1", "--user", "nobody", "--rise", "5", NULL);
	ck_assert_int_eq(compat_reload_refused(&cur, &next, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "--user");
	opts(&next, "--ip", "192.0.2.1", "--group", "nogroup", "--name", "x", "--label", "hc",
	     "--dynamic-ip-setup", "--neighbor", "192.0.2.9", "--path-id", "7", "--exabgp-version",
	     "5", "--debug", NULL);
	ck_assert_int_eq(compat_reload_refused(&cur, &next, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "--debug, --name, --group, --dynamic-ip-setup, --label, --path-id, "
	                      "--neighbor, --exabgp-version");
	/* addresses set up on lo (the default) cannot follow a new --ip */
	opts(&next, "--ip", "192.0.2.1", "--ip", "192.0.2.2", NULL);
	ck_assert_int_eq(compat_reload_refused(&cur, &next, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "--ip (with the addresses set up on lo)");
	/* nor is a reload a way to make it exit */
	opts(&next, "--ip", "192.0.2.1", "--interval", "0", NULL);
	ck_assert_int_eq(compat_reload_refused(&cur, &next, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "--interval to 0");
}
END_TEST

START_TEST(the_check_is_rebuilt_when_its_command_or_timeout_changes)
{
	char names[256];
	opts(&cur, "--ip", "192.0.2.1", "--cmd", "true", NULL);
	opts(&next, "--ip", "192.0.2.1", "--cmd", "true", "--rise", "1", "--interval", "2", NULL);
	ck_assert(!compat_reload_check_changed(&cur, &next));
	ck_assert_int_eq(compat_reload_changed(&cur, &next, names, sizeof(names)), 2);
	ck_assert_str_eq(names, "--interval, --rise");
	opts(&next, "--ip", "192.0.2.1", "--cmd", "false", NULL);
	ck_assert(compat_reload_check_changed(&cur, &next));
	opts(&next, "--ip", "192.0.2.1", "--cmd", "true", "--timeout", "9", NULL);
	ck_assert(compat_reload_check_changed(&cur, &next));
	opts(&next, "--ip", "192.0.2.1", NULL);
	ck_assert(compat_reload_check_changed(&cur, &next));
}
END_TEST

START_TEST(rereading_keeps_the_pid_file_and_never_prints_help)
{
	char pid[] = "/tmp/test_compat_reload.XXXXXX", cfg[] = "/tmp/test_compat_reload.XXXXXX";
	char err[1024], buf[16] = "";
	int fd = mkstemp(pid), fc = mkstemp(cfg);
	ck_assert(fd >= 0 && fc >= 0);
	ck_assert_int_eq(write(fd, "4242\n", 5), 5);
	ck_assert_int_eq(write(fc, "rise = 2\n", 9), 9);
	char *argv[] = {"healthd", "--pid", pid, "--config", cfg, NULL};
	ck_assert_int_eq(compat_args_reread(5, argv, &next, err, sizeof(err)), 0);
	ck_assert_int_eq(next.rise, 2);
	ck_assert_str_eq(next.pid, pid);
	ck_assert_int_eq(pread(fd, buf, sizeof(buf) - 1, 0), 5); /* not truncated */
	ck_assert_str_eq(buf, "4242\n");
	/* "help" in the file: an error, nothing on stdout (ExaBGP's) */
	ck_assert_int_eq(write(fc, "help\n", 5), 5);
	compat_opts_free(&next);
	ck_assert_int_eq(compat_args_reread(5, argv, &next, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "argument -h/--help: not while running (stdout is ExaBGP's)");
	/* a bad value: argparse's message */
	ck_assert_int_eq(ftruncate(fc, 0), 0);
	ck_assert_int_eq(pwrite(fc, "rise = x\n", 9, 0), 9);
	compat_opts_free(&next);
	ck_assert_int_eq(compat_args_reread(5, argv, &next, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "argument --rise: invalid int value: 'x'");
	close(fd);
	close(fc);
	unlink(pid);
	unlink(cfg);
}
END_TEST

static Suite *compat_reload_suite(void)
{
	Suite *s = suite_create("compat_reload");
	TCase *tc = tcase_create("reload");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, the_same_options_change_nothing_and_write_nothing);
	tcase_add_test(tc, a_changed_metric_rewrites_the_announced_states_lines_once);
	tcase_add_test(tc, only_the_lines_that_differ_are_written);
	tcase_add_test(tc, removed_routes_are_withdrawn_as_they_were_announced);
	tcase_add_test(tc, deaggregating_withdraws_the_network_and_announces_its_hosts);
	tcase_add_test(tc, what_cannot_change_while_running_is_refused_as_a_whole);
	tcase_add_test(tc, the_check_is_rebuilt_when_its_command_or_timeout_changes);
	tcase_add_test(tc, rereading_keeps_the_pid_file_and_never_prints_help);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(compat_reload_suite)
