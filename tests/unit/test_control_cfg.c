/* The control section's pieces that need no loop: listen addresses, the token file's
 * permission check, and the status times that the control state file keeps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../healthd/control_cfg.h"
#include "../../healthd/status.h"
#include "unit.h"

START_TEST(test_addr_forms)
{
	struct control_addr a;
	ck_assert_int_eq(control_addr_parse("127.0.0.1:9187", &a), 0);
	ck_assert(!a.is_unix);
	ck_assert_str_eq(a.host, "127.0.0.1");
	ck_assert_uint_eq(a.port, 9187);
	ck_assert_int_eq(control_addr_parse("[2001:db8::7]:80", &a), 0);
	ck_assert_str_eq(a.host, "2001:db8::7");
	ck_assert_uint_eq(a.port, 80);
	ck_assert_int_eq(control_addr_parse("unix:/run/healthd/healthd.sock", &a), 0);
	ck_assert(a.is_unix);
	ck_assert_str_eq(a.path, "/run/healthd/healthd.sock");
}
END_TEST

START_TEST(test_addr_refused)
{
	static const char *const bad[] = {
	        "127.0.0.1",       "127.0.0.1:",   "127.0.0.1:0",
	        "127.0.0.1:65536", "localhost:80", "2001:db8::7:80",
	        "[127.0.0.1]:80",  "[::1]",        "unix:relative",
	        "unix:",           ":80",          "127.0.0.1:+80",
	};
	struct control_addr a;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(control_addr_parse(bad[i], &a) != 0, "%s was taken", bad[i]);
}
END_TEST

START_TEST(test_token_file_mode)
{
	char path[] = "/tmp/healthd-token.XXXXXX", why[256];
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	chmod(path, 0600);
	ck_assert_int_eq(control_token_file_ok(path, why, sizeof(why)), 0);
	chmod(path, 0640);
	ck_assert_int_eq(control_token_file_ok(path, why, sizeof(why)), 0);
	chmod(path, 0644);
	ck_assert_int_eq(control_token_file_ok(path, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "readable by every user"));
	unlink(path);
	ck_assert_int_eq(control_token_file_ok(path, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "cannot look at"));
}
END_TEST

START_TEST(test_status_time_round_trip)
{
	struct timespec t = {1796556109, 500000000}, back = {0, 0};
	char buf[40];
	status_time(&t, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2026-12-06T11:21:49Z");
	ck_assert_int_eq(status_time_parse(buf, &back), 0);
	ck_assert_int_eq(back.tv_sec, t.tv_sec);
	ck_assert_int_eq(status_time_parse("2026-12-06 11:21:49", &back), -1);
	ck_assert_int_eq(status_time_parse(NULL, &back), -1);
	struct timespec zero = {0, 0};
	status_time(&zero, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
}
END_TEST

static Suite *control_cfg_suite(void)
{
	Suite *s = suite_create("control_cfg");
	TCase *tc = tcase_create("pieces");
	tcase_add_test(tc, test_addr_forms);
	tcase_add_test(tc, test_addr_refused);
	tcase_add_test(tc, test_token_file_mode);
	tcase_add_test(tc, test_status_time_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(control_cfg_suite)
