/* "source_check": a source address that is not configured on a local interface is
 * refused at the path where it is set, at every level, unless "source_check": false. The
 * addresses: 127.0.0.1 is on lo everywhere; 127.0.0.7 is inside lo's 127.0.0.0/8, which
 * Linux routes locally; 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32 are
 * documentation ranges that no test machine has. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "../../healthd/ifaddr.h"
#include "../../healthd/source_check.h"
#include "testlib.h"

static int local(int family, const char *text)
{
	unsigned char a[sizeof(struct in6_addr)];
	char why[128];
	ck_assert_int_eq(inet_pton(family, text, a), 1);
	return source_check_addr(family, a, why, sizeof(why));
}

#define SERVICE_WITH(src)                                                                          \
	"{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"], \"checks\": [{\"type\": \"tcp\", " \
	"\"host\": \"127.0.0.1\", \"port\": 53" src "}]}"

START_TEST(test_source_check_addr)
{
	ck_assert_int_eq(local(AF_INET, "127.0.0.1"), 1);
	ck_assert_int_eq(local(AF_INET, "127.0.0.7"), 1);
	ck_assert_int_eq(local(AF_INET, "198.51.100.7"), 0);
	ck_assert_int_eq(local(AF_INET, "0.0.0.0"), 0);
	ck_assert_int_eq(local(AF_INET6, "2001:db8::7"), 0);
	/* ::1 is there when the host has IPv6 at all; never anything else of ::/8. */
	ck_assert_int_eq(local(AF_INET6, "::2"), 0);
}
END_TEST

/* The rule lives in ifaddr.c: local is wider than configured only on loopback (IPv4). */
START_TEST(test_ifaddr_is_local)
{
	struct ifaddr_set *set = ifaddr_snapshot();
	struct in_addr a;
	struct in6_addr a6;

	ck_assert_ptr_nonnull(set);
	inet_pton(AF_INET, "127.0.0.1", &a);
	ck_assert(ifaddr_has(set, AF_INET, &a) && ifaddr_is_local(set, AF_INET, &a));
	inet_pton(AF_INET, "127.0.0.7", &a);
	ck_assert(!ifaddr_has(set, AF_INET, &a));
	ck_assert(ifaddr_is_local(set, AF_INET, &a));
	inet_pton(AF_INET, "198.51.100.7", &a);
	ck_assert(!ifaddr_is_local(set, AF_INET, &a));
	inet_pton(AF_INET6, "2001:db8::7", &a6);
	ck_assert(!ifaddr_is_local(set, AF_INET6, &a6));
	inet_pton(AF_INET6, "::2", &a6);
	ck_assert(!ifaddr_is_local(set, AF_INET6, &a6));
	ifaddr_set_free(set);
}
END_TEST

START_TEST(test_local_accepted)
{
	struct config *cfg = tl_config_ok(
	        "{\"source\": {\"ipv4\": \"127.0.0.1\"},\n"
	        " \"services\": [" SERVICE_WITH(", \"source\": {\"ipv4\": \"127.0.0.7\"}") "]}\n");
	char a[INET6_ADDRSTRLEN];
	ck_assert(cfg->source_check); /* the default */
	ck_assert_str_eq(inet_ntop(AF_INET, &cfg->source.v4, a, sizeof(a)), "127.0.0.1");
	ck_assert_str_eq(inet_ntop(AF_INET, &cfg->services[0].checks[0].source.v4, a, sizeof(a)),
	                 "127.0.0.7");
	config_free(cfg);

	if (local(AF_INET6, "::1") == 1) {
		cfg = tl_config_ok(
		        "{\"source\": {\"ipv6\": \"::1\"}, \"services\": [" SERVICE_WITH("") "]}");
		config_free(cfg);
	}
}
END_TEST

START_TEST(test_refused_at_each_level)
{
	const char *got = tl_config_errors(
	        "{\"source\": {\"ipv4\": \"198.51.100.7\", \"ipv6\": \"2001:db8:ffff::7\"},\n"
	        " \"defaults\": {\"source\": {\"ipv4\": \"127.0.0.1\"}},\n"
	        " \"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"],\n"
	        "   \"source\": {\"ipv4\": \"203.0.113.8\"},\n"
	        "   \"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 53,\n"
	        "                \"source\": {\"ipv4\": \"127.0.0.7\", \"ipv6\": "
	        "\"2001:db8::9\"}}]}]}\n");
	const char *want =
	        "t.json:1:13: source.ipv4: 198.51.100.7 is not configured on any local interface "
	        "(set \"source_check\": false to skip)\n"
	        "t.json:1:37: source.ipv6: 2001:db8:ffff::7 is not configured on any local "
	        "interface (set \"source_check\": false to skip)\n"
	        "t.json:4:15: services[0].source.ipv4: 203.0.113.8 is not configured on any local "
	        "interface (set \"source_check\": false to skip)\n"
	        "t.json:6:49: services[0].checks[0].source.ipv6: 2001:db8::9 is not configured on "
	        "any local interface (set \"source_check\": false to skip)\n";
	tl_same_errors(NULL, got, want);
}
END_TEST

START_TEST(test_switched_off)
{
	struct config *cfg =
	        tl_config_ok("{\"source\": {\"ipv4\": \"198.51.100.7\"}, \"source_check\": "
	                     "false, \"services\": [" SERVICE_WITH("") "]}");
	ck_assert(!cfg->source_check);
	json_t *j = config_to_json(cfg);
	ck_assert(json_is_false(json_object_get(j, "source_check")));
	json_decref(j);
	config_free(cfg);

	/* A source inside an announced prefix is refused even then. */
	const char *got =
	        tl_config_errors("{\"source\": {\"ipv4\": \"192.0.2.53\"}, \"source_check\": "
	                         "false, \"services\": [" SERVICE_WITH("") "]}");
	ck_assert_msg(strstr(got, "lies inside announced prefix 192.0.2.53/32") != NULL, "%s", got);
	ck_assert_msg(strstr(got, "not configured") == NULL, "%s", got);
}
END_TEST

static Suite *source_check_suite(void)
{
	Suite *s = suite_create("source_check");
	TCase *tc = tcase_create("source_check");
	tcase_add_test(tc, test_source_check_addr);
	tcase_add_test(tc, test_ifaddr_is_local);
	tcase_add_test(tc, test_local_accepted);
	tcase_add_test(tc, test_refused_at_each_level);
	tcase_add_test(tc, test_switched_off);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(source_check_suite)
