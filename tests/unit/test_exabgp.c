/* ExaBGP text-API lines: exactly what ExaBGP 4.2 parses, for every attribute. */
#include <string.h>

#include "../../healthd/exabgp.h"
#include "testlib.h"

/* Format one line and compare it; frees the line. */
#define ck_line(line, want)                                                                        \
	do {                                                                                       \
		char *got_ = (line);                                                               \
		ck_assert_ptr_nonnull(got_);                                                       \
		ck_assert_str_eq(got_, want);                                                      \
		free(got_);                                                                        \
	} while (0)

START_TEST(test_announce_minimal)
{
	struct prefix p = tl_prefix("192.0.2.53/32");
	struct route_attrs a = tl_plain_attrs();
	ck_line(exabgp_format(NULL, true, &p, &a), "announce route 192.0.2.53/32 next-hop self");
}
END_TEST

START_TEST(test_announce_all_attributes)
{
	struct prefix p = tl_prefix("2001:db8::53/128");
	char *comm[] = {"65000:53", "no-export", NULL};
	char *large[] = {"65000:0:53", NULL};
	char *ext[] = {"target:65000:53", NULL};
	uint32_t path[] = {65001, 4200000000u};
	struct route_attrs a = tl_plain_attrs();
	a.next_hop = "2001:db8::1";
	a.med = 100;
	a.local_preference = 200;
	a.communities = comm;
	a.large_communities = large;
	a.extended_communities = ext;
	a.as_path = path;
	a.nas_path = 2;
	a.path_information = "0.0.0.7";
	ck_line(exabgp_format(NULL, true, &p, &a),
	        "announce route 2001:db8::53/128 next-hop 2001:db8::1 med 100 "
	        "local-preference 200 community [ 65000:53 no-export ] "
	        "extended-community [ target:65000:53 ] large-community [ 65000:0:53 ] "
	        "as-path [ 65001 4200000000 ] path-information 0.0.0.7");
}
END_TEST

START_TEST(test_withdraw_keeps_identity_only)
{
	struct prefix p = tl_prefix("192.0.2.0/24");
	char *comm[] = {"65000:53", NULL};
	struct route_attrs a = tl_plain_attrs();
	a.med = 100;
	a.communities = comm;
	a.path_information = "5";
	ck_line(exabgp_format(NULL, false, &p, &a),
	        "withdraw route 192.0.2.0/24 next-hop self path-information 5");
}
END_TEST

START_TEST(test_neighbor_selectors)
{
	struct prefix p = tl_prefix("192.0.2.53/32");
	struct route_attrs a = tl_plain_attrs();
	a.med = 1000;
	char *one[] = {"127.0.0.2", NULL};
	char *two[] = {"127.0.0.2", "127.0.0.3", NULL};
	ck_line(exabgp_format(one, true, &p, &a),
	        "neighbor 127.0.0.2 announce route 192.0.2.53/32 next-hop self med 1000");
	ck_line(exabgp_format(two, false, &p, &a),
	        "neighbor 127.0.0.2, neighbor 127.0.0.3 withdraw route "
	        "192.0.2.53/32 next-hop self");
}
END_TEST

START_TEST(test_long_line)
{
	/* 2000 communities: far past any fixed line buffer, and still one whole line. */
	struct prefix p = tl_prefix("192.0.2.53/32");
	struct route_attrs a = tl_plain_attrs();
	char *comm[2001];
	for (int i = 0; i < 2000; i++)
		comm[i] = "65000:65000";
	comm[2000] = NULL;
	a.communities = comm;
	char *line = exabgp_format(NULL, true, &p, &a);
	ck_assert_ptr_nonnull(line);
	ck_assert_uint_eq(strlen(line),
	                  strlen("announce route 192.0.2.53/32 next-hop self community [ ]") +
	                          2000 * strlen(" 65000:65000"));
	ck_assert_ptr_null(strchr(line, '\n'));
	ck_assert(strstr(line, "65000:65000 ]") != NULL);
	free(line);
}
END_TEST

START_TEST(test_classify_input)
{
	ck_assert_int_eq(exabgp_classify("done"), EXABGP_IN_DONE);
	ck_assert_int_eq(exabgp_classify("error"), EXABGP_IN_ERROR);
	ck_assert_int_eq(exabgp_classify("shutdown 1234 1"), EXABGP_IN_SHUTDOWN);
	ck_assert_int_eq(exabgp_classify("shutdown"), EXABGP_IN_SHUTDOWN);
	ck_assert_int_eq(exabgp_classify(""), EXABGP_IN_EMPTY);
	ck_assert_int_eq(exabgp_classify("shutdownx"), EXABGP_IN_OTHER);
	ck_assert_int_eq(exabgp_classify("doned"), EXABGP_IN_OTHER);
	ck_assert_int_eq(exabgp_classify("{\"exabgp\": \"4.0\"}"), EXABGP_IN_OTHER);
}
END_TEST

static Suite *exabgp_suite(void)
{
	Suite *s = suite_create("exabgp");
	TCase *tc = tcase_create("format");
	tcase_add_test(tc, test_announce_minimal);
	tcase_add_test(tc, test_announce_all_attributes);
	tcase_add_test(tc, test_withdraw_keeps_identity_only);
	tcase_add_test(tc, test_neighbor_selectors);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_classify_input);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(exabgp_suite)
