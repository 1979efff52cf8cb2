/* The healthcheck drop-in's command line: argparse's rules (abbreviations, "--opt=v",
 * "-i5", "-ad", negative numbers, the exclusive group, extras at the end), the original's
 * defaults and value types, the --config file, and what healthd refuses up front. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../compat/compat.h"
#include "testlib.h"

static struct compat_opts o;
static char err[1024];

/* parse("--rise", "2", NULL): 0, 1 (help) or -1 (err set). */
static int parse(const char *first, ...)
{
	char *argv[64];
	va_list ap;

	va_start(ap, first);
	int argc = tl_argv(argv, 64, "healthd", first, ap);
	va_end(ap);
	compat_opts_free(&o);
	err[0] = '\0';
	return compat_args_parse(argc, argv, &o, err, sizeof(err));
}

static void teardown(void)
{
	compat_opts_free(&o);
}

START_TEST(defaults_are_the_originals)
{
	ck_assert_int_eq(parse(NULL), 0);
	ck_assert(o.interval == 5 && o.fast == 1);
	ck_assert_int_eq(o.timeout, 5);
	ck_assert_int_eq(o.rise, 3);
	ck_assert_int_eq(o.fall, 3);
	ck_assert_int_eq(o.up_metric, 100);
	ck_assert_int_eq(o.down_metric, 1000);
	ck_assert_int_eq(o.disabled_metric, 500);
	ck_assert_int_eq(o.increase, 1);
	ck_assert_int_eq(o.local_preference, -1);
	ck_assert(o.ip_setup && !o.ip_dynamic && !o.withdraw_on_down && !o.has_path_id);
	ck_assert_int_eq(o.form, CF_LEGACY);
	ck_assert_str_eq(o.syslog_facility == NULL ? "daemon" : o.syslog_facility, "daemon");
}
END_TEST

START_TEST(long_options_abbreviate_to_a_unique_prefix)
{
	ck_assert_int_eq(parse("--inter", "2.5", "--cm", "true", "--ri=2", NULL), 0);
	ck_assert(o.interval == 2.5);
	ck_assert_str_eq(o.command, "true");
	ck_assert_int_eq(o.rise, 2);
	ck_assert_int_eq(parse("--c", "x", NULL), -1);
	ck_assert_str_eq(err, "ambiguous option: --c could match --config, --command, --cmd, "
	                      "--community");
	/* healthd's own options never make an original abbreviation ambiguous */
	ck_assert_int_eq(parse("--deb", NULL), 0);
	ck_assert(o.debug && !o.debounce);
	ck_assert_int_eq(parse("--debo", "--exa", "5.0.8", NULL), 0);
	ck_assert(o.debounce && !o.debug);
	ck_assert_int_eq(o.form, CF_NEIGHBOR);
}
END_TEST

START_TEST(short_options_attach_and_chain)
{
	ck_assert_int_eq(parse("-i5", "-ad", "-t", "2", "-c", "exit 1", NULL), 0);
	ck_assert(o.interval == 5 && o.no_ack && o.debug);
	ck_assert_int_eq(o.timeout, 2);
	ck_assert_str_eq(o.command, "exit 1");
	ck_assert_int_eq(parse("-di0.5", NULL), 0);
	ck_assert(o.debug && o.interval == 0.5);
	ck_assert_int_eq(parse("-sF", "local3", NULL), 0);
	ck_assert_str_eq(o.syslog_facility, "local3");
	ck_assert_int_eq(parse("-dx", NULL), -1);
	ck_assert_str_eq(err, "argument --debug/-d: ignored explicit argument 'x'");
}
END_TEST

START_TEST(negative_numbers_are_values_other_dashes_are_not)
{
	ck_assert_int_eq(parse("--local-preference", "-5", "--start-ip", "-1", NULL), 0);
	ck_assert_int_eq(o.local_preference, -5);
	ck_assert_int_eq(o.start_ip, -1);
	ck_assert_int_eq(parse("--community", "-x", NULL), -1);
	ck_assert_str_eq(err, "argument --community: expected one argument");
	ck_assert_int_eq(parse("--community=-x", NULL), 0);
	ck_assert_str_eq(o.community, "-x");
	ck_assert_int_eq(parse("--rise", NULL), -1);
	ck_assert_str_eq(err, "argument --rise: expected one argument");
}
END_TEST

START_TEST(the_logging_options_exclude_each_other)
{
	ck_assert_int_eq(parse("--silent", "--no-syslog", NULL), -1);
	ck_assert_str_eq(err, "argument --no-syslog: not allowed with argument --silent/-s");
	ck_assert_int_eq(parse("--syslog-facility", "local0", "-s", NULL), -1);
	ck_assert_str_eq(err, "argument --silent/-s: not allowed with argument "
	                      "--syslog-facility/-sF");
	/* without a value it is its default, which conflicts with nothing (as argparse) */
	ck_assert_int_eq(parse("--syslog-facility", "--silent", NULL), 0);
	ck_assert(o.silent);
	ck_assert_int_eq(parse("--syslog-facility", "nosuch", NULL), -1);
}
END_TEST

START_TEST(addresses_are_read_and_printed_as_pythons_ipaddress)
{
	char buf[80];
	ck_assert_int_eq(parse("--ip", "2001:DB8:0:0:1::1", "--ip", "192.0.2.0/255.255.255.252",
	                       "--ip", "198.51.100.7", "--next-hop", "2001:0db8::0001",
	                       "--neighbor", "::FFFF:1.2.3.4", "--no-ip-setup", NULL),
	                 0);
	ck_assert_int_eq((int)o.nips, 3);
	compat_net_format(&o.ips[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "2001:db8::1:0:0:1/128");
	compat_net_format(&o.ips[1], buf, sizeof(buf));
	ck_assert_str_eq(buf, "192.0.2.0/30");
	compat_net_format(&o.ips[2], buf, sizeof(buf));
	ck_assert_str_eq(buf, "198.51.100.7/32");
	ck_assert_str_eq(o.next_hop, "2001:db8::1");
	ck_assert_str_eq(o.neighbors.v[0], "::ffff:102:304");
	ck_assert_int_eq(parse("--ip", "10.0.0.1/24", NULL), -1);
	ck_assert_str_eq(err, "argument --ip: invalid fixed value: '10.0.0.1/24'");
	ck_assert_int_eq(parse("--ip", "010.0.0.1", NULL), -1);
	ck_assert_int_eq(parse("--next-hop", "self", NULL), -1);
	ck_assert_str_eq(err, "argument --next-hop/-N: invalid fixed value: 'self'");
}
END_TEST

START_TEST(numbers_are_pythons_int_and_float)
{
	ck_assert_int_eq(
	        parse("--rise", " 1_0 ", "--interval", "1e-1", "--fast-interval", ".5", NULL), 0);
	ck_assert_int_eq(o.rise, 10);
	ck_assert(o.interval == 0.1 && o.fast == 0.5);
	ck_assert_int_eq(parse("--rise", "1.5", NULL), -1);
	ck_assert_str_eq(err, "argument --rise: invalid int value: '1.5'");
	ck_assert_int_eq(parse("--timeout", "0x10", NULL), -1);
	ck_assert_int_eq(parse("--interval", "abc", NULL), -1);
	ck_assert_str_eq(err, "argument --interval/-i: invalid float value: 'abc'");
	/* accepted by the original's parser, fatal after its first iteration: refused */
	ck_assert_int_eq(parse("--interval", "-1", NULL), -1);
	ck_assert_int_eq(parse("--interval", "inf", NULL), -1);
	ck_assert_int_eq(parse("--timeout", "-1", NULL), -1);
}
END_TEST

/* A huge interval would overflow the timer's seconds and spin; no check waits 11 days. */
START_TEST(times_beyond_any_use_are_refused)
{
	ck_assert_int_eq(parse("--interval", "1e20", NULL), -1);
	ck_assert_str_eq(err, "argument --interval/-i: expected seconds from 0 to 1000000");
	ck_assert_int_eq(parse("--fast-interval", "1000000.5", NULL), -1);
	ck_assert_str_eq(err, "argument --fast-interval/-f: expected seconds from 0 to 1000000");
	ck_assert_int_eq(parse("--timeout", "1000001", NULL), -1);
	ck_assert_str_eq(err, "argument --timeout/-t: expected seconds from 0 (none) to 1000000");
	ck_assert_int_eq(parse("--ack-timeout", "1e20", NULL), -1);
	ck_assert_str_eq(err, "argument --ack-timeout: expected seconds above 0, at most 4000000");
	ck_assert_int_eq(parse("--interval", "1000000", "--fast-interval", "1e6", "--timeout",
	                       "1000000", "--ack-timeout", "4e6", NULL),
	                 0);
	ck_assert(o.interval == 1e6 && o.fast == 1e6 && o.timeout == 1000000 &&
	          o.ack_timeout == 4e6);
}
END_TEST

START_TEST(repeatable_options_and_extras)
{
	ck_assert_int_eq(parse("--execute", "a", "--execute", "b", "--neighbor", "127.0.0.3",
	                       "--neighbor", "127.0.0.4", NULL),
	                 0);
	ck_assert_int_eq((int)o.execute.n, 2);
	ck_assert_str_eq(o.execute.v[1], "b");
	ck_assert_int_eq((int)o.neighbors.n, 2);
	ck_assert_int_eq(parse("--bogus", "--rise", "2", "stray", NULL), -1);
	ck_assert_str_eq(err, "unrecognized arguments: --bogus stray");
	ck_assert_int_eq(parse("--rise", "2", "--", "x", NULL), -1);
	ck_assert_str_eq(err, "unrecognized arguments: -- x");
	ck_assert_int_eq(parse("--neighbor", "*", NULL), -1); /* 4.2.21 cannot */
	ck_assert_int_eq(parse("--neighbor", "*", "--exabgp-version", "4.2.22", NULL), 0);
	ck_assert_int_eq(parse("--exabgp-version", "six", NULL), -1);
}
END_TEST

START_TEST(help_is_shown_where_it_comes)
{
	FILE *saved = stdout;
	stdout = fopen("/dev/null", "w");
	int rc = parse("--rise", "2", "--help", NULL);
	int bad = parse("--rise", "x", "--help", NULL);
	fclose(stdout);
	stdout = saved;
	ck_assert_int_eq(rc, 1);
	ck_assert_int_eq(bad, -1);
}
END_TEST

START_TEST(a_config_file_comes_before_the_command_line)
{
	char path[] = "/tmp/test_compat_args.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	const char *text = "# a comment\n\n  debug\nname = web\ncommand = curl -sf http://x/?a=b\n"
	                   "rise=5\nip = 192.0.2.9\n";
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	int rc = parse("-F", path, "--rise", "2", "--ip", "192.0.2.10", NULL);
	unlink(path);
	ck_assert_int_eq(rc, 0);
	ck_assert(o.debug);
	ck_assert_str_eq(o.name, "web");
	ck_assert_str_eq(o.command, "curl -sf http://x/?a=b");
	ck_assert_int_eq(o.rise, 2);      /* the command line wins */
	ck_assert_int_eq((int)o.nips, 2); /* appends add up */
	ck_assert_int_eq(parse("--config", "/nonexistent/x", NULL), -1);
	/* An endless file of blank lines ends with an error, not a hang. */
	ck_assert_int_eq(parse("--config", "/dev/zero", NULL), -1);
	ck_assert_str_eq(err, "argument --config/-F: '/dev/zero' has more than 4096 lines");
}
END_TEST

START_TEST(control_characters_and_huge_networks_are_refused)
{
	ck_assert_int_eq(parse("--community", "65000:1\nannounce route 0.0.0.0/0", NULL), -1);
	ck_assert_int_eq(parse("--ip", "10.0.0.0/8", NULL), -1); /* 16M addresses on lo */
	ck_assert_int_eq(parse("--ip", "10.0.0.0/8", "--no-ip-setup", NULL), 0);
	ck_assert_int_eq(
	        parse("--ip", "10.0.0.0/8", "--no-ip-setup", "--deaggregate-networks", NULL), -1);
	ck_assert_int_eq(parse("--ip", "10.0.0.0/24", "--deaggregate-networks", NULL), 0);
}
END_TEST

static Suite *compat_args_suite(void)
{
	Suite *s = suite_create("compat_args");
	TCase *tc = tcase_create("args");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, defaults_are_the_originals);
	tcase_add_test(tc, long_options_abbreviate_to_a_unique_prefix);
	tcase_add_test(tc, short_options_attach_and_chain);
	tcase_add_test(tc, negative_numbers_are_values_other_dashes_are_not);
	tcase_add_test(tc, the_logging_options_exclude_each_other);
	tcase_add_test(tc, addresses_are_read_and_printed_as_pythons_ipaddress);
	tcase_add_test(tc, numbers_are_pythons_int_and_float);
	tcase_add_test(tc, times_beyond_any_use_are_refused);
	tcase_add_test(tc, repeatable_options_and_extras);
	tcase_add_test(tc, help_is_shown_where_it_comes);
	tcase_add_test(tc, a_config_file_comes_before_the_command_line);
	tcase_add_test(tc, control_characters_and_huge_networks_are_refused);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(compat_args_suite)
