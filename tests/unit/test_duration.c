/* Durations: the accepted spellings, the refused ones with their reasons, the canonical form. */
#include <limits.h>
#include <string.h>

#include "../../lib/duration.h"
#include "unit.h"

static uint32_t parse_ok(const char *s)
{
	char err[256] = "";
	uint32_t ms = 12345;
	ck_assert_msg(duration_parse(s, &ms, err, sizeof(err)) == 0, "%s: %s", s, err);
	return ms;
}

static const char *parse_err(const char *s)
{
	static char err[256];
	uint32_t ms = 12345;
	err[0] = '\0';
	ck_assert_msg(duration_parse(s, &ms, err, sizeof(err)) == -1, "%s parsed", s);
	ck_assert_uint_eq(ms, 12345);
	return err;
}

static const char *fmt(uint32_t ms)
{
	static char buf[32];
	duration_format(ms, buf, sizeof(buf));
	return buf;
}

START_TEST(test_units)
{
	ck_assert_uint_eq(parse_ok("250ms"), 250);
	ck_assert_uint_eq(parse_ok("2s"), 2000);
	ck_assert_uint_eq(parse_ok("1m"), 60000);
	ck_assert_uint_eq(parse_ok("1h"), 3600000);
	ck_assert_uint_eq(parse_ok("1m30s"), 90000);
	ck_assert_uint_eq(parse_ok("1h2m3s4ms"), 3723004);
	ck_assert_uint_eq(parse_ok("0s"), 0);
	ck_assert_uint_eq(parse_ok("0ms"), 0);
	ck_assert_uint_eq(parse_ok("24h"), DURATION_MAX_MS);
	ck_assert_uint_eq(parse_ok("90s"), 90000);
}
END_TEST

START_TEST(test_decimals)
{
	ck_assert_uint_eq(parse_ok("1.5s"), 1500);
	ck_assert_uint_eq(parse_ok("0.25s"), 250);
	ck_assert_uint_eq(parse_ok("1.5m"), 90000);
	ck_assert_uint_eq(parse_ok("0.001s"), 1);
	ck_assert_uint_eq(parse_ok("1.000000000s"), 1000);
	ck_assert_str_eq(parse_err("1.5ms"),
	                 "invalid duration \"1.5ms\": finer than a millisecond is not supported");
	ck_assert_str_eq(parse_err("0.0001s"),
	                 "invalid duration \"0.0001s\": finer than a millisecond is not supported");
	ck_assert_str_eq(parse_err("1.s"), "invalid duration \"1.s\": bad number \"1.\"");
}
END_TEST

START_TEST(test_refused)
{
	ck_assert_str_eq(parse_err(""), "empty duration; expected a duration such as \"500ms\", "
	                                "\"2s\" or \"1m30s\"");
	ck_assert_str_eq(parse_err("-1s"), "invalid duration \"-1s\": must not be negative");
	ck_assert_str_eq(parse_err("2"), "invalid duration \"2\": missing unit (ms, s, m or h)");
	ck_assert_str_eq(parse_err("2x"),
	                 "invalid duration \"2x\": unknown unit \"x\" (use ms, s, m or h)");
	ck_assert_str_eq(parse_err("2min"),
	                 "invalid duration \"2min\": unknown unit \"min\" (use ms, s, m or h)");
	ck_assert_str_eq(parse_err("2 s"),
	                 "invalid duration \"2 s\": unknown unit \" s\" (use ms, s, m or h)");
	ck_assert_str_eq(parse_err("s"), "invalid duration \"s\": expected a duration such as "
	                                 "\"500ms\", \"2s\" or \"1m30s\"");
	ck_assert_str_eq(parse_err("30s1m"), "invalid duration \"30s1m\": units must go from "
	                                     "largest to smallest, each once, as in \"1h30m\"");
	ck_assert_str_eq(parse_err("1s1s"), "invalid duration \"1s1s\": units must go from "
	                                    "largest to smallest, each once, as in \"1h30m\"");
	ck_assert_str_eq(parse_err("24h1ms"),
	                 "invalid duration \"24h1ms\": longer than the maximum of 24h");
	ck_assert_str_eq(parse_err("99999999999999999999999s"),
	                 "invalid duration \"99999999999999999999999s\": longer than the maximum "
	                 "of 24h");
	ck_assert_str_eq(parse_err("4294967296ms"),
	                 "invalid duration \"4294967296ms\": longer than the maximum of 24h");
}
END_TEST

START_TEST(test_json)
{
	char err[256];
	uint32_t ms = 0;
	json_t *v;

	v = json_integer(2);
	ck_assert_int_eq(duration_from_json(v, &ms, err, sizeof(err)), 0);
	ck_assert_uint_eq(ms, 2000);
	json_decref(v);

	v = json_real(0.1);
	ck_assert_int_eq(duration_from_json(v, &ms, err, sizeof(err)), 0);
	ck_assert_uint_eq(ms, 100);
	json_decref(v);

	v = json_real(1.5);
	ck_assert_int_eq(duration_from_json(v, &ms, err, sizeof(err)), 0);
	ck_assert_uint_eq(ms, 1500);
	json_decref(v);

	v = json_integer(0);
	ck_assert_int_eq(duration_from_json(v, &ms, err, sizeof(err)), 0);
	ck_assert_uint_eq(ms, 0);
	json_decref(v);

	v = json_string("1m30s");
	ck_assert_int_eq(duration_from_json(v, &ms, err, sizeof(err)), 0);
	ck_assert_uint_eq(ms, 90000);
	json_decref(v);

	v = json_integer(-1);
	ck_assert_int_eq(duration_from_json(v, &ms, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "invalid duration -1: must not be negative");
	json_decref(v);

	v = json_real(-0.5);
	ck_assert_int_eq(duration_from_json(v, &ms, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "invalid duration -0.5: must not be negative");
	json_decref(v);

	v = json_integer(86401);
	ck_assert_int_eq(duration_from_json(v, &ms, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "invalid duration 86401: longer than the maximum of 24h");
	json_decref(v);

	v = json_integer(LLONG_MAX);
	ck_assert_int_eq(duration_from_json(v, &ms, err, sizeof(err)), -1);
	json_decref(v);

	v = json_real(1e300);
	ck_assert_int_eq(duration_from_json(v, &ms, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "invalid duration 1e+300: longer than the maximum of 24h");
	json_decref(v);

	v = json_real(0.0005);
	ck_assert_int_eq(duration_from_json(v, &ms, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "invalid duration 0.0005: finer than a millisecond is not supported");
	json_decref(v);

	v = json_true();
	ck_assert_int_eq(duration_from_json(v, &ms, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected duration such as \"500ms\", \"2s\" or a number of seconds");
	json_decref(v);
}
END_TEST

START_TEST(test_format)
{
	ck_assert_str_eq(fmt(0), "0s");
	ck_assert_str_eq(fmt(1), "1ms");
	ck_assert_str_eq(fmt(500), "500ms");
	ck_assert_str_eq(fmt(1000), "1s");
	ck_assert_str_eq(fmt(1500), "1s500ms");
	ck_assert_str_eq(fmt(60000), "1m");
	ck_assert_str_eq(fmt(90000), "1m30s");
	ck_assert_str_eq(fmt(3600000), "1h");
	ck_assert_str_eq(fmt(3723004), "1h2m3s4ms");
	ck_assert_str_eq(fmt(DURATION_MAX_MS), "24h");

	/* Every canonical form reads back as the same value. */
	for (uint32_t ms = 0; ms < 200000; ms += 7)
		ck_assert_uint_eq(parse_ok(fmt(ms)), ms);

	char small[4];
	duration_format(1500, small, sizeof(small));
	ck_assert_uint_lt(strlen(small), sizeof(small));
}
END_TEST

static Suite *duration_suite(void)
{
	Suite *s = suite_create("duration");
	TCase *tc = tcase_create("duration");
	tcase_add_test(tc, test_units);
	tcase_add_test(tc, test_decimals);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_format);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(duration_suite)
