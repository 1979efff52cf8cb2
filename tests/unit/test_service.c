/* The service state machine: every transition, table-driven. */
#include <string.h>

#include "../../healthd/service.h"
#include "unit.h"

/* Check-level transitions: from a state reached by a prefix of results, one more result. */
struct health_case {
	const char *name;
	int rise, fall;
	const char *results; /* '+' success, '-' failure, applied in order */
	enum health_state want;
	int want_count;
};

static const struct health_case health_cases[] = {
        {"init stays init with no result", 3, 3, "", HS_INIT, 0},
        {"init + success -> rising", 3, 3, "+", HS_RISING, 1},
        {"init + success, rise 1 -> up", 1, 3, "+", HS_UP, 1},
        {"init + failure -> down at once", 3, 3, "-", HS_DOWN, 0},
        {"rising + success below rise -> rising", 3, 3, "++", HS_RISING, 2},
        {"rising + success reaching rise -> up", 3, 3, "+++", HS_UP, 3},
        {"rising + failure -> down", 3, 3, "++-", HS_DOWN, 0},
        {"up + success -> up", 2, 2, "+++", HS_UP, 0},
        {"up + failure -> falling", 2, 3, "++-", HS_FALLING, 1},
        {"up + failure, fall 1 -> down", 2, 1, "++-", HS_DOWN, 1},
        {"falling + failure below fall -> falling", 2, 3, "++--", HS_FALLING, 2},
        {"falling + failure reaching fall -> down", 2, 3, "++---", HS_DOWN, 3},
        {"falling + success -> up", 2, 3, "++--+", HS_UP, 0},
        {"down + failure -> down", 2, 2, "--", HS_DOWN, 0},
        {"down + success -> rising", 2, 2, "-+", HS_RISING, 1},
        {"down + success, rise 1 -> up", 1, 2, "-+", HS_UP, 1},
        {"down, rise again -> up", 2, 2, "++--++", HS_UP, 2},
        {"flapping never rises with rise 3", 3, 3, "++-++-++-", HS_DOWN, 0},
};

START_TEST(test_health_table)
{
	const struct health_case *c = &health_cases[_i];
	struct check_health h;
	health_init(&h, c->rise, c->fall);
	for (const char *r = c->results; *r; r++)
		health_feed(&h, *r == '+');
	ck_assert_msg(h.state == c->want, "%s: state %s, want %s", c->name,
	              health_state_name(h.state), health_state_name(c->want));
	ck_assert_msg(h.count == c->want_count, "%s: count %d, want %d", c->name, h.count,
	              c->want_count);
}
END_TEST

START_TEST(test_health_feed_reports_change)
{
	struct check_health h;
	health_init(&h, 2, 2);
	ck_assert(health_feed(&h, true));  /* INIT -> RISING */
	ck_assert(health_feed(&h, true));  /* RISING -> UP */
	ck_assert(!health_feed(&h, true)); /* UP -> UP */
	ck_assert(health_feed(&h, false)); /* UP -> FALLING */
	ck_assert(health_feed(&h, false)); /* FALLING -> DOWN */
	ck_assert_int_eq(h.state, HS_DOWN);
}
END_TEST

START_TEST(test_fast_interval_states)
{
	ck_assert(health_is_fast(HS_RISING));
	ck_assert(health_is_fast(HS_FALLING));
	ck_assert(!health_is_fast(HS_UP));
	ck_assert(!health_is_fast(HS_DOWN));
	ck_assert(!health_is_fast(HS_INIT));
	ck_assert(health_is_up(HS_UP) && health_is_up(HS_FALLING));
	ck_assert(!health_is_up(HS_RISING) && !health_is_up(HS_DOWN));
}
END_TEST

/* Service-level: several checks, require, disable, and the route each state yields. */
enum route_want { R_NONE, R_ANNOUNCE, R_DOWN_ATTRS, R_DISABLED_ATTRS };

struct step {
	char op; /* '0'..'9': result of that check follows in ok; 'D' disable; 'E' enable */
	bool ok;
	enum health_state want;
	enum route_want route;
};

struct service_case {
	const char *name;
	int nchecks, require, rise, fall;
	bool down_withdraw, disabled_withdraw;
	struct step steps[12];
};

#define END                                                                                        \
	{                                                                                          \
		0, false, HS_INIT, R_NONE                                                          \
	}

/* clang-format off */
static const struct service_case service_cases[] = {
	{"one check rises, falls, withdraws on down", 1, 1, 2, 2, true, true,
	 {{'0', true, HS_RISING, R_NONE},
	  {'0', true, HS_UP, R_ANNOUNCE},
	  {'0', false, HS_FALLING, R_ANNOUNCE},
	  {'0', false, HS_DOWN, R_NONE},
	  {'0', true, HS_RISING, R_NONE},
	  {'0', true, HS_UP, R_ANNOUNCE},
	  END}},
	{"start down: nothing announced before rise, even with on_down attributes", 1, 1, 3, 3,
	 false, true,
	 {{'0', true, HS_RISING, R_NONE},
	  {'0', true, HS_RISING, R_NONE},
	  {'0', true, HS_UP, R_ANNOUNCE},
	  {'0', false, HS_FALLING, R_ANNOUNCE},
	  {'0', false, HS_FALLING, R_ANNOUNCE},
	  {'0', false, HS_DOWN, R_DOWN_ATTRS},
	  {'0', true, HS_RISING, R_DOWN_ATTRS},
	  END}},
	{"failures before the first rise announce nothing, not even on_down", 1, 1, 2, 2,
	 false, true,
	 {{'0', false, HS_DOWN, R_NONE},
	  {'0', true, HS_RISING, R_NONE},
	  {'0', false, HS_DOWN, R_NONE},
	  {'0', true, HS_RISING, R_NONE},
	  {'0', true, HS_UP, R_ANNOUNCE},
	  {'0', false, HS_FALLING, R_ANNOUNCE},
	  {'0', false, HS_DOWN, R_DOWN_ATTRS},
	  END}},
	{"all of two checks required", 2, 2, 1, 1, true, true,
	 {{'0', true, HS_RISING, R_NONE},
	  {'1', true, HS_UP, R_ANNOUNCE},
	  {'1', false, HS_DOWN, R_NONE},
	  {'0', true, HS_DOWN, R_NONE},
	  {'1', true, HS_UP, R_ANNOUNCE},
	  END}},
	{"require 1 of 2: one failing check keeps the service up", 2, 1, 1, 2, true, true,
	 {{'0', true, HS_UP, R_ANNOUNCE},
	  {'1', false, HS_UP, R_ANNOUNCE},
	  {'0', false, HS_FALLING, R_ANNOUNCE},
	  {'0', false, HS_DOWN, R_NONE},
	  {'1', true, HS_UP, R_ANNOUNCE},
	  END}},
	{"disable withdraws, enable returns to the checks' verdict", 1, 1, 1, 1, true, true,
	 {{'0', true, HS_UP, R_ANNOUNCE},
	  {'D', false, HS_DISABLED, R_NONE},
	  {'0', true, HS_DISABLED, R_NONE},
	  {'E', false, HS_UP, R_ANNOUNCE},
	  END}},
	{"disabled with attributes keeps a backup route once the service has been up", 1, 1, 1,
	 1, true, false,
	 {{'D', false, HS_DISABLED, R_NONE},
	  {'0', true, HS_DISABLED, R_NONE},
	  {'E', false, HS_UP, R_ANNOUNCE},
	  {'D', false, HS_DISABLED, R_DISABLED_ATTRS},
	  {'E', false, HS_UP, R_ANNOUNCE},
	  {'0', false, HS_DOWN, R_NONE},
	  {'D', false, HS_DISABLED, R_DISABLED_ATTRS},
	  END}},
	{"enable while checks are down: down", 1, 1, 1, 1, true, true,
	 {{'0', false, HS_DOWN, R_NONE},
	  {'D', false, HS_DISABLED, R_NONE},
	  {'E', false, HS_DOWN, R_NONE},
	  END}},
};
/* clang-format on */

static enum route_want route_kind(const struct service_cfg *cfg, const struct route_attrs *r)
{
	if (r == NULL)
		return R_NONE;
	if (r == &cfg->announce)
		return R_ANNOUNCE;
	if (r == &cfg->on_down.attrs)
		return R_DOWN_ATTRS;
	if (r == &cfg->on_disabled.attrs)
		return R_DISABLED_ATTRS;
	return -1;
}

START_TEST(test_service_table)
{
	const struct service_case *c = &service_cases[_i];
	struct check_cfg checks[4];
	struct service_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	memset(checks, 0, sizeof(checks));
	cfg.name = "svc";
	cfg.require = c->require;
	cfg.nchecks = (size_t)c->nchecks;
	cfg.checks = checks;
	cfg.on_down.withdraw = c->down_withdraw;
	cfg.on_disabled.withdraw = c->disabled_withdraw;
	for (int i = 0; i < c->nchecks; i++) {
		checks[i].timing.rise = c->rise;
		checks[i].timing.fall = c->fall;
	}

	struct service *svc = service_new(&cfg);
	ck_assert_ptr_nonnull(svc);
	ck_assert_int_eq(svc->state, HS_INIT);
	ck_assert_ptr_null(service_route(svc));

	for (int s = 0; c->steps[s].op != 0; s++) {
		const struct step *st = &c->steps[s];
		if (st->op == 'D')
			service_set_disabled(svc, true);
		else if (st->op == 'E')
			service_set_disabled(svc, false);
		else
			service_feed(svc, (size_t)(st->op - '0'), st->ok);
		ck_assert_msg(svc->state == st->want, "%s: step %d: state %s, want %s", c->name, s,
		              health_state_name(svc->state), health_state_name(st->want));
		ck_assert_msg(route_kind(&cfg, service_route(svc)) == st->route,
		              "%s: step %d: route %d, want %d", c->name, s,
		              route_kind(&cfg, service_route(svc)), st->route);
	}
	service_free(svc);
}
END_TEST

START_TEST(test_service_feed_reports_change)
{
	struct check_cfg check = {.timing = {.rise = 2, .fall = 2}};
	struct service_cfg cfg = {.name = "svc", .nchecks = 1, .require = 1, .checks = &check};
	cfg.on_down.withdraw = true;
	struct service *svc = service_new(&cfg);
	ck_assert(service_feed(svc, 0, true));  /* INIT -> RISING */
	ck_assert(service_feed(svc, 0, true));  /* -> UP */
	ck_assert(!service_feed(svc, 0, true)); /* UP stays */
	ck_assert(!service_feed(svc, 5, true)); /* out of range: ignored */
	ck_assert(service_set_disabled(svc, true));
	ck_assert(!service_set_disabled(svc, true));
	service_free(svc);
}
END_TEST

START_TEST(test_service_address_missing)
{
	struct check_cfg check = {.timing = {.rise = 1, .fall = 1}};
	struct service_cfg cfg = {.name = "svc", .nchecks = 1, .require = 1, .checks = &check};
	cfg.on_down.withdraw = false; /* even a backup route is withdrawn */
	struct service *svc = service_new(&cfg);
	service_feed(svc, 0, true);
	ck_assert_int_eq(svc->state, HS_UP);
	ck_assert(service_set_address_missing(svc, true));
	ck_assert_int_eq(svc->state, HS_DOWN);
	ck_assert_ptr_null(service_route(svc));
	service_feed(svc, 0, true); /* checks pass, the address is still missing */
	ck_assert_int_eq(svc->state, HS_DOWN);
	ck_assert(service_set_disabled(svc, true)); /* maintenance still wins */
	ck_assert_int_eq(svc->state, HS_DISABLED);
	service_set_disabled(svc, false);
	ck_assert(service_set_address_missing(svc, false));
	ck_assert_int_eq(svc->state, HS_UP);
	ck_assert_ptr_eq(service_route(svc), &cfg.announce);
	service_free(svc);
}
END_TEST

/* Degradation: one check with rise/fall, results '+' clean, 's' slow (degraded), '-' fail;
 * the state and route after every result. */
struct degraded_case {
	const char *name;
	int rise, fall;
	const char *results;
	const char
	        *states; /* one letter per result: U up, G degraded, F falling, D down, R rising */
	const char *routes; /* one letter per result: n none, a announce, g on_degraded */
};

static const struct degraded_case degraded_cases[] = {
        {"one slow run does not move it", 1, 2, "+s+s+", "UUUUU", "aaaaa"},
        {"fall slow runs degrade, rise clean runs restore", 2, 2, "++ss+s++", "RUUGGGGU",
         "naagggga"},
        {"slow while rising: up degraded at once", 2, 2, "ss", "RG", "ng"},
        {"failing while degraded keeps on_degraded's attributes, then down", 1, 2, "+ss--", "UUGFD",
         "aaggn"},
        {"a failure while falling toward degraded resets the count", 1, 2, "+s-s+s", "UUFUUU",
         "aaaaaa"},
        {"down resets degradation: clean rise is up", 1, 1, "+s-+", "UGDU", "agna"},
};

static char state_letter(enum health_state s)
{
	switch (s) {
	case HS_UP:
		return 'U';
	case HS_DEGRADED:
		return 'G';
	case HS_FALLING:
		return 'F';
	case HS_DOWN:
		return 'D';
	case HS_RISING:
		return 'R';
	default:
		return '?';
	}
}

START_TEST(test_degraded_table)
{
	const struct degraded_case *c = &degraded_cases[_i];
	struct check_cfg check = {.timing = {.rise = c->rise, .fall = c->fall}};
	struct service_cfg cfg = {.name = "svc", .nchecks = 1, .require = 1, .checks = &check};
	cfg.on_down.withdraw = true;
	cfg.on_degraded.withdraw = false;
	struct service *svc = service_new(&cfg);

	for (size_t k = 0; c->results[k] != '\0'; k++) {
		char r = c->results[k];
		service_feed_result(svc, 0, r == '+' ? HR_OK : r == 's' ? HR_DEGRADED : HR_FAIL);
		const struct route_attrs *a = service_route(svc);
		char route = a == NULL                     ? 'n'
		             : a == &cfg.announce          ? 'a'
		             : a == &cfg.on_degraded.attrs ? 'g'
		                                           : '?';
		ck_assert_msg(state_letter(svc->state) == c->states[k], "%s: result %zu: state %s",
		              c->name, k, health_state_name(svc->state));
		ck_assert_msg(route == c->routes[k], "%s: result %zu: route %c, want %c", c->name,
		              k, route, c->routes[k]);
	}
	service_free(svc);
}
END_TEST

START_TEST(test_degraded_require)
{
	/* require 1 of 2: one clean check is enough to be UP; both degraded is DEGRADED. */
	struct check_cfg checks[2] = {{.timing = {.rise = 1, .fall = 1}},
	                              {.timing = {.rise = 1, .fall = 1}}};
	struct service_cfg cfg = {.name = "svc", .nchecks = 2, .require = 1, .checks = checks};
	struct service *svc = service_new(&cfg);
	service_feed_result(svc, 0, HR_OK);
	service_feed_result(svc, 1, HR_DEGRADED);
	ck_assert_int_eq(svc->state, HS_UP);
	ck_assert(service_feed_result(svc, 0, HR_DEGRADED));
	ck_assert_int_eq(svc->state, HS_DEGRADED);
	ck_assert_str_eq(health_state_name(svc->state), "DEGRADED");
	ck_assert(health_is_up(svc->state) && !health_is_fast(svc->state));
	ck_assert(service_feed_result(svc, 1, HR_OK));
	ck_assert_int_eq(svc->state, HS_UP);
	service_free(svc);
}
END_TEST

/* The disable file and the control endpoint's disable combine: enabled only when neither
 * holds, whichever order they come and go in; a reload's adopt keeps both. */
START_TEST(test_service_two_disable_sources)
{
	struct check_cfg check = {.timing = {.rise = 1, .fall = 1}};
	struct service_cfg cfg = {.name = "svc", .nchecks = 1, .require = 1, .checks = &check};
	struct service *svc = service_new(&cfg);
	service_feed(svc, 0, true);
	ck_assert_int_eq(svc->state, HS_UP);
	ck_assert(service_set_disabled_api(svc, true));
	ck_assert_int_eq(svc->state, HS_DISABLED);
	ck_assert(!service_set_disabled(svc, true));      /* already disabled: no change */
	ck_assert(!service_set_disabled_api(svc, false)); /* the file still holds */
	ck_assert_int_eq(svc->state, HS_DISABLED);
	ck_assert(service_set_disabled_api(svc, true) == false);
	struct service *again = service_new(&cfg);
	service_adopt(again, svc, NULL);
	ck_assert(again->disabled_file && again->disabled_api && again->disabled);
	ck_assert_int_eq(again->state, HS_DISABLED);
	ck_assert(!service_set_disabled(again, false)); /* the API still holds */
	ck_assert(service_set_disabled_api(again, false));
	ck_assert_int_eq(again->state, HS_DOWN); /* adopted while disabled: rises again */
	service_free(again);
	service_free(svc);
}
END_TEST

static Suite *service_suite(void)
{
	Suite *s = suite_create("service");
	TCase *tc = tcase_create("transitions");
	tcase_add_loop_test(tc, test_health_table, 0,
	                    sizeof(health_cases) / sizeof(health_cases[0]));
	tcase_add_test(tc, test_health_feed_reports_change);
	tcase_add_test(tc, test_fast_interval_states);
	tcase_add_loop_test(tc, test_service_table, 0,
	                    sizeof(service_cases) / sizeof(service_cases[0]));
	tcase_add_test(tc, test_service_feed_reports_change);
	tcase_add_test(tc, test_service_address_missing);
	tcase_add_loop_test(tc, test_degraded_table, 0,
	                    sizeof(degraded_cases) / sizeof(degraded_cases[0]));
	tcase_add_test(tc, test_degraded_require);
	tcase_add_test(tc, test_service_two_disable_sources);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(service_suite)
