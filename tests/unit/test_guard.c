/* The fleet guard's rule, and a peer's status as the guard reads it. */
#include <string.h>

#include "../../healthd/guard.h"
#include "unit.h"

struct rule_case {
	const char *name;
	struct guard_case c;
	bool holds;
};

static const struct rule_case rule_cases[] = {
        {"down, no peer announces: holds", {true, GUARD_DOWN, false, false, 0, 1}, true},
        {"down, one peer announces, min_others 1: withdraws",
         {true, GUARD_DOWN, false, false, 1, 1},
         false},
        {"down, one of the two required: holds", {true, GUARD_DOWN, false, false, 1, 2}, true},
        {"disable file: held like down", {true, GUARD_DISABLED_FILE, false, false, 0, 1}, true},
        {"damped: held like down", {true, GUARD_DAMPED, false, false, 0, 1}, true},
        {"operator's disable is obeyed by default",
         {true, GUARD_DISABLED_OPERATOR, false, false, 0, 1},
         false},
        {"operator's disable held with guard_disable",
         {true, GUARD_DISABLED_OPERATOR, false, true, 0, 1},
         true},
        {"no local address: never held", {true, GUARD_NO_ADDRESS, false, true, 0, 1}, false},
        {"on_last withdraw opts out", {true, GUARD_DOWN, true, false, 0, 1}, false},
        {"not announced now: never brought back", {false, GUARD_DOWN, false, false, 0, 1}, false},
};

START_TEST(test_rule)
{
	const struct rule_case *r = &rule_cases[_i];
	ck_assert_msg(guard_holds(&r->c) == r->holds, "%s", r->name);
}
END_TEST

static struct guard_view parse_ok(const char *body)
{
	struct guard_view v;
	char err[128];
	ck_assert_msg(guard_view_parse(body, strlen(body), &v, err, sizeof(err)) == 0, "%s", err);
	return v;
}

START_TEST(test_view_healthy_states)
{
	struct guard_view v = parse_ok(
	        "{\"services\": ["
	        "{\"name\": \"up\", \"state\": \"UP\", \"announced\": true, \"falling\": false},"
	        "{\"name\": \"degraded\", \"state\": \"DEGRADED\", \"announced\": true},"
	        "{\"name\": \"falling\", \"state\": \"FALLING\", \"announced\": true, "
	        "\"falling\": true},"
	        "{\"name\": \"upfalling\", \"state\": \"UP\", \"falling\": true},"
	        "{\"name\": \"last\", \"state\": \"LAST\", \"announced\": true},"
	        "{\"name\": \"down\", \"state\": \"DOWN\", \"announced\": false},"
	        "{\"name\": \"damped\", \"state\": \"UP\", \"announced\": false}"
	        "], \"node\": \"x\"}");
	ck_assert(guard_view_announces(&v, "up"));
	ck_assert(guard_view_announces(&v, "degraded"));
	ck_assert(!guard_view_announces(&v, "falling"));
	ck_assert(!guard_view_announces(&v, "upfalling"));
	ck_assert(!guard_view_announces(&v, "last")); /* holding is not announcing healthily */
	ck_assert(!guard_view_announces(&v, "down"));
	ck_assert(!guard_view_announces(&v, "damped"));
	ck_assert(!guard_view_announces(&v, "unknown"));
	guard_view_free(&v);
}
END_TEST

struct bad_case {
	const char *body;
	const char *err; /* start of the reason */
};

static const struct bad_case bad_cases[] = {
        {"\x00\xffnot json{{{", "not JSON"},
        {"", "not JSON"},
        {"[]", "no \"services\" array"},
        {"{\"services\": {}}", "no \"services\" array"},
        {"{\"services\": [{\"name\": \"dns\"}]}", "services[0]: no \"name\" and \"state\""},
        {"{\"services\": [{\"name\": 1, \"state\": \"UP\"}]}", "services[0]: no \"name\""},
        {"{\"services\": [{\"name\": \"dns\", \"state\": \"UP\", \"falling\": \"no\"}]}",
         "services[0]: \"announced\" and \"falling\" must be booleans"},
        {"{\"services\": [], \"services\": []}", "not JSON"},
};

START_TEST(test_view_garbage)
{
	const struct bad_case *b = &bad_cases[_i];
	struct guard_view v;
	char err[128] = "";
	ck_assert_int_eq(guard_view_parse(b->body, strlen(b->body), &v, err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, b->err, strlen(b->err)) == 0, "%s: got \"%s\"", b->err, err);
	ck_assert_ptr_null(v.svcs);
	ck_assert_uint_eq(v.n, 0);
	ck_assert(!guard_view_announces(&v, "dns"));
}
END_TEST

/* Three nodes fail together: every node sees the others falling (published before they
 * withdraw), so each counts 0 announcing, and all hold: no copy is lost. */
START_TEST(test_simultaneous_failure_keeps_a_copy)
{
	struct guard_view peer = parse_ok("{\"services\": [{\"name\": \"dns\", \"state\": "
	                                  "\"FALLING\", \"announced\": true, \"falling\": true}]}");
	size_t announcing = guard_view_announces(&peer, "dns") + guard_view_announces(&peer, "dns");
	struct guard_case c = {true, GUARD_DOWN, false, false, announcing, 1};
	ck_assert(guard_holds(&c));
	guard_view_free(&peer);
}
END_TEST

static Suite *guard_suite(void)
{
	Suite *s = suite_create("guard");
	TCase *tc = tcase_create("guard");
	tcase_add_loop_test(tc, test_rule, 0, sizeof(rule_cases) / sizeof(rule_cases[0]));
	tcase_add_test(tc, test_view_healthy_states);
	tcase_add_loop_test(tc, test_view_garbage, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_simultaneous_failure_keeps_a_copy);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(guard_suite)
