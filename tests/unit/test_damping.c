/* Flap damping with injected times: what reaches the peers, and the hold. */
#include "../../healthd/damping.h"
#include "unit.h"

static const struct damping_cfg cfg4 = {.max_flaps = 4, .window_ms = 10000, .hold_ms = 30000};

/* Alternating up/down changes every 200 ms: 4 go out (up, down, up, down), the fifth
 * (up) is refused and starts the hold. */
START_TEST(test_flapping_is_held_after_max_flaps)
{
	struct damping d;
	damping_init(&d);
	uint64_t t = 1000;
	int sent = 0;
	for (int i = 0; i < 10; i++, t += 200) {
		bool down = i % 2 == 1;
		if (damping_held(&d, t, NULL))
			continue; /* the engine keeps the down action: nothing changes */
		if (damping_change(&d, &cfg4, t, down))
			sent++;
	}
	ck_assert_int_eq(sent, 4);
	ck_assert(damping_held(&d, t, NULL));
	ck_assert_uint_eq(damping_left(&d, t), 1000 + 4 * 200 + 30000 - t);
	damping_free(&d);
}
END_TEST

START_TEST(test_down_is_never_refused)
{
	struct damping e;
	damping_init(&e);
	ck_assert(damping_change(&e, &cfg4, 0, false)); /* up   1 */
	ck_assert(damping_change(&e, &cfg4, 1, true));  /* down 2 */
	ck_assert(damping_change(&e, &cfg4, 2, false)); /* up   3 */
	ck_assert(damping_change(&e, &cfg4, 3, true));  /* down 4: allowed, never held up */
	ck_assert(!e.held);
	ck_assert(!damping_change(&e, &cfg4, 4, false)); /* up 5: refused */
	ck_assert(e.held);
	damping_free(&e);
}
END_TEST

START_TEST(test_hold_ends_then_rises_normally)
{
	struct damping d;
	bool ended;
	damping_init(&d);
	for (uint64_t t = 0; t < 4; t++)
		ck_assert(damping_change(&d, &cfg4, t, t % 2 == 1));
	ck_assert(!damping_change(&d, &cfg4, 100, false));
	ck_assert(damping_held(&d, 100 + 29999, &ended) && !ended);
	ck_assert(!damping_held(&d, 100 + 30000, &ended) && ended);
	ck_assert_uint_eq(damping_count(&d, &cfg4, 100 + 30000), 0);
	ck_assert(damping_change(&d, &cfg4, 100 + 30000, false)); /* rises at once */
	ck_assert_uint_eq(damping_left(&d, 100 + 30000), 0);
	damping_free(&d);
}
END_TEST

START_TEST(test_window_forgets_old_changes)
{
	struct damping d;
	damping_init(&d);
	/* Slow flapping, one change every 4 s with a 10 s window: never more than 3 in it. */
	for (uint64_t t = 0; t < 100000; t += 4000)
		ck_assert_msg(damping_change(&d, &cfg4, t, (t / 4000) % 2 == 1), "refused at %llu",
		              (unsigned long long)t);
	ck_assert(!d.held);
	ck_assert_uint_le(damping_count(&d, &cfg4, 100000), 3);
	damping_free(&d);
}
END_TEST

START_TEST(test_off_allows_everything)
{
	struct damping d;
	struct damping_cfg off = {0};
	damping_init(&d);
	for (uint64_t t = 0; t < 1000; t++)
		ck_assert(damping_change(&d, &off, t, t % 2 == 1));
	ck_assert(!damping_held(&d, 1000, NULL));
}
END_TEST

static Suite *damping_suite(void)
{
	Suite *s = suite_create("damping");
	TCase *tc = tcase_create("damping");
	tcase_add_test(tc, test_flapping_is_held_after_max_flaps);
	tcase_add_test(tc, test_down_is_never_refused);
	tcase_add_test(tc, test_hold_ends_then_rises_normally);
	tcase_add_test(tc, test_window_forgets_old_changes);
	tcase_add_test(tc, test_off_allows_everything);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(damping_suite)
