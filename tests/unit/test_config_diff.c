/* What a reload counts as changed: services matched by name, compared in the normalized
 * form `healthd check` prints; and how a changed service takes over the old standing. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../healthd/config_diff.h"
#include "../../healthd/service.h"
#include "testlib.h"

#define TCP(port) "{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": " #port "}"

/* A config of one service "a" (prefix 192.0.2.1/32) written as svc_body, and one service
 * "b" that never changes. */
static struct config *two(const char *top, const char *svc_body)
{
	char text[2048];
	snprintf(
	        text, sizeof(text),
	        "{%s \"services\": [{\"name\": \"a\", \"prefixes\": [\"192.0.2.1/32\"], %s},"
	        " {\"name\": \"b\", \"prefixes\": [\"192.0.2.2/32\"], \"checks\": [" TCP(80) "]}]}",
	        top, svc_body);
	return tl_config_ok(text);
}

struct diff_case {
	const char *name;
	const char *top_old, *old, *top_new, *cur;
	enum config_change want; /* of service "a" */
	bool speaker_changed;
	bool b_changed; /* "b", written the same in both, changed through what it inherits */
};

static const struct diff_case diff_cases[] = {
        {"same text", "", "\"checks\": [" TCP(53) "]", "", "\"checks\": [" TCP(53) "]",
         CHANGE_UNCHANGED, false, false},
        {"a default written out is the same", "", "\"checks\": [" TCP(53) "]", "",
         "\"rise\": 3, \"on_down\": \"withdraw\", \"checks\": [" TCP(53) "]", CHANGE_UNCHANGED,
         false, false},
        {"a duration written another way is the same", "",
         "\"interval\": \"2s\", \"checks\": [" TCP(53) "]", "",
         "\"interval\": 2, \"checks\": [" TCP(53) "]", CHANGE_UNCHANGED, false, false},
        {"another port", "", "\"checks\": [" TCP(53) "]", "", "\"checks\": [" TCP(54) "]",
         CHANGE_CHANGED, false, false},
        {"another MED", "", "\"announce\": {\"med\": 1}, \"checks\": [" TCP(53) "]", "",
         "\"announce\": {\"med\": 2}, \"checks\": [" TCP(53) "]", CHANGE_CHANGED, false, false},
        {"another timing from the defaults", "", "\"checks\": [" TCP(53) "]",
         "\"defaults\": {\"fall\": 5},", "\"checks\": [" TCP(53) "]", CHANGE_CHANGED, false, true},
        {"a second check", "", "\"checks\": [" TCP(53) "]", "",
         "\"checks\": [" TCP(53) ", " TCP(54) "]", CHANGE_CHANGED, false, false},
        {"another disable file", "", "\"checks\": [" TCP(53) "]", "",
         "\"disable_file\": \"/x\", \"checks\": [" TCP(53) "]", CHANGE_CHANGED, false, false},
        {"the speaker's settings", "", "\"checks\": [" TCP(53) "]",
         "\"speaker\": {\"type\": \"exabgp\", \"reannounce\": \"1m\"},",
         "\"checks\": [" TCP(53) "]", CHANGE_UNCHANGED, true, false},
        {"the log level is neither", "", "\"checks\": [" TCP(53) "]",
         "\"log\": {\"level\": \"debug\"},", "\"checks\": [" TCP(53) "]", CHANGE_UNCHANGED, false,
         false},
};

START_TEST(test_diff_table)
{
	const struct diff_case *c = &diff_cases[_i];
	struct config *old = two(c->top_old, c->old), *cur = two(c->top_new, c->cur);
	struct config_diff d;

	ck_assert_int_eq(config_diff(old, cur, &d), 0);
	ck_assert_msg(d.change[0] == c->want, "%s: change %d, want %d", c->name, d.change[0],
	              c->want);
	ck_assert_msg(d.change[1] == (c->b_changed ? CHANGE_CHANGED : CHANGE_UNCHANGED),
	              "%s: b's change %d", c->name, d.change[1]);
	ck_assert_msg(d.speaker_changed == c->speaker_changed, "%s: speaker_changed", c->name);
	ck_assert_uint_eq(d.old_index[0], 0);
	ck_assert_uint_eq(d.removed_count, 0);
	ck_assert_uint_eq(d.added, 0);
	config_diff_free(&d);
	config_free(old);
	config_free(cur);
}
END_TEST

START_TEST(test_diff_added_removed_by_name)
{
	struct config *old = tl_config_ok(
	        "{\"services\": [{\"name\": \"a\", \"prefixes\": [\"192.0.2.1/32\"], \"checks\": "
	        "[" TCP(53) "]}, {\"name\": \"gone\", \"prefixes\": [\"192.0.2.3/32\"], "
	                    "\"checks\": [" TCP(53) "]}]}");
	/* Reordered, one removed, one added: matched by name, not by position. */
	struct config *cur = tl_config_ok(
	        "{\"services\": [{\"name\": \"new\", \"prefixes\": [\"192.0.2.4/32\"], \"checks\": "
	        "[" TCP(53) "]}, {\"name\": \"a\", \"prefixes\": [\"192.0.2.1/32\"], \"checks\": "
	                    "[" TCP(53) "]}]}");
	struct config_diff d;

	ck_assert_int_eq(config_diff(old, cur, &d), 0);
	ck_assert_int_eq(d.change[0], CHANGE_ADDED);
	ck_assert_uint_eq(d.old_index[0], SIZE_MAX);
	ck_assert_int_eq(d.change[1], CHANGE_UNCHANGED);
	ck_assert_uint_eq(d.old_index[1], 0);
	ck_assert(!d.removed[0]);
	ck_assert(d.removed[1]);
	ck_assert_uint_eq(d.unchanged, 1);
	ck_assert_uint_eq(d.changed, 0);
	ck_assert_uint_eq(d.added, 1);
	ck_assert_uint_eq(d.removed_count, 1);
	ck_assert(config_check_same(&old->services[0].checks[0], &cur->services[1].checks[0]));
	config_diff_free(&d);
	config_free(old);
	config_free(cur);
}
END_TEST

/* A changed service keeps the route it had until its own checks decide. */
START_TEST(test_adopt_keeps_the_route)
{
	struct config *old = two("", "\"rise\": 2, \"fall\": 2, \"checks\": [" TCP(53) "]");
	struct config *cur = two("", "\"rise\": 2, \"fall\": 2, \"announce\": {\"med\": 5}, "
	                             "\"checks\": [" TCP(53) ", " TCP(54) "]");
	struct service *was = service_new(&old->services[0]);
	service_feed(was, 0, true);
	service_feed(was, 0, true);
	ck_assert_int_eq(was->state, HS_UP);

	struct service *svc = service_new(&cur->services[0]);
	bool same[2] = {true, false};
	service_adopt(svc, was, same);
	ck_assert_int_eq(svc->state, HS_UP); /* the new check starts up, not INIT */
	ck_assert_ptr_eq(service_route(svc), &cur->services[0].announce);
	/* The new check's own failures take it down, after `fall` of them. */
	service_feed(svc, 1, false);
	ck_assert_int_eq(svc->state, HS_FALLING);
	service_feed(svc, 1, false);
	ck_assert_int_eq(svc->state, HS_DOWN);
	service_free(svc);

	/* A service that was down stays down until the new checks rise. */
	service_feed(was, 0, false);
	service_feed(was, 0, false);
	ck_assert_int_eq(was->state, HS_DOWN);
	svc = service_new(&cur->services[0]);
	service_adopt(svc, was, NULL);
	ck_assert_int_eq(svc->state, HS_DOWN);
	ck_assert(svc->settled);
	service_free(svc);

	/* One that never settled starts as new. */
	service_free(was);
	was = service_new(&old->services[0]);
	svc = service_new(&cur->services[0]);
	service_adopt(svc, was, NULL);
	ck_assert_int_eq(svc->state, HS_INIT);
	ck_assert_ptr_null(service_route(svc));
	service_free(svc);
	service_free(was);
	config_free(old);
	config_free(cur);
}
END_TEST

static Suite *diff_suite(void)
{
	Suite *s = suite_create("config_diff");
	TCase *tc = tcase_create("diff");
	tcase_add_loop_test(tc, test_diff_table, 0, TL_LEN(diff_cases));
	tcase_add_test(tc, test_diff_added_removed_by_name);
	tcase_add_test(tc, test_adopt_keeps_the_route);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(diff_suite)
