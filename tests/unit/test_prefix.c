/* Prefixes: parsing (host bits refused with a suggestion), containment, formatting. */
#include <arpa/inet.h>
#include <string.h>

#include "../../healthd/prefix.h"
#include "testlib.h"

static const char *norm(const char *s)
{
	static char buf[PREFIX_STRLEN];
	struct prefix p = tl_prefix(s);
	prefix_format(&p, buf, sizeof(buf));
	return buf;
}

static const char *bad(const char *s)
{
	static char err[128];
	struct prefix p;
	err[0] = '\0';
	ck_assert_msg(prefix_parse(s, &p, err, sizeof(err)) == -1, "%s parsed", s);
	return err;
}

START_TEST(test_parse)
{
	ck_assert_str_eq(norm("192.0.2.0/24"), "192.0.2.0/24");
	ck_assert_str_eq(norm("192.0.2.53"), "192.0.2.53/32");
	ck_assert_str_eq(norm("0.0.0.0/0"), "0.0.0.0/0");
	ck_assert_str_eq(norm("2001:db8::53"), "2001:db8::53/128");
	ck_assert_str_eq(norm("2001:DB8:0:0::/32"), "2001:db8::/32");
	ck_assert_str_eq(norm("::/0"), "::/0");
	ck_assert_str_eq(norm("192.0.2.128/25"), "192.0.2.128/25");
	ck_assert_str_eq(norm("192.0.2.53/032"), "192.0.2.53/32");

	struct prefix p = tl_prefix("2001:db8::/48");
	ck_assert_int_eq(p.family, AF_INET6);
	ck_assert_uint_eq(p.len, 48);
	p = tl_prefix("192.0.2.0/24");
	ck_assert_int_eq(p.family, AF_INET);
	ck_assert_uint_eq(p.len, 24);
}
END_TEST

START_TEST(test_host_bits)
{
	ck_assert_str_eq(bad("192.0.2.1/24"), "host bits set: did you mean 192.0.2.0/24?");
	ck_assert_str_eq(bad("192.0.2.129/25"), "host bits set: did you mean 192.0.2.128/25?");
	ck_assert_str_eq(bad("10.1.2.3/0"), "host bits set: did you mean 0.0.0.0/0?");
	ck_assert_str_eq(bad("2001:db8::53/64"), "host bits set: did you mean 2001:db8::/64?");
	ck_assert_str_eq(bad("2001:db8:1::/31"), "host bits set: did you mean 2001:db8::/31?");
}
END_TEST

START_TEST(test_malformed)
{
	ck_assert_str_eq(bad("foo"), "foo is not an IPv4 or IPv6 address");
	ck_assert_str_eq(bad("192.0.2/24"), "192.0.2 is not an IPv4 or IPv6 address");
	ck_assert_str_eq(bad("192.0.2.256"), "192.0.2.256 is not an IPv4 or IPv6 address");
	ck_assert_str_eq(bad(""), "expected an address or prefix such as 192.0.2.0/24");
	ck_assert_str_eq(bad("/24"), "expected an address or prefix such as 192.0.2.0/24");
	ck_assert_str_eq(bad("192.0.2.0/33"), "prefix length must be 0-32 for IPv4");
	ck_assert_str_eq(bad("192.0.2.0/"), "prefix length must be 0-32 for IPv4");
	ck_assert_str_eq(bad("192.0.2.0/+24"), "prefix length must be 0-32 for IPv4");
	ck_assert_str_eq(bad("192.0.2.0/24/24"), "prefix length must be 0-32 for IPv4");
	ck_assert_str_eq(bad("192.0.2.0/0x18"), "prefix length must be 0-32 for IPv4");
	ck_assert_str_eq(bad("2001:db8::/129"), "prefix length must be 0-128 for IPv6");
	ck_assert_str_eq(bad("2001:db8::/1280"), "prefix length must be 0-128 for IPv6");
	ck_assert_str_eq(bad("fe80::1%eth0"), "fe80::1%eth0 is not an IPv4 or IPv6 address");
}
END_TEST

START_TEST(test_contains)
{
	struct prefix p = tl_prefix("192.0.2.0/24");
	struct in_addr a4;
	struct in6_addr a6;

	inet_pton(AF_INET, "192.0.2.53", &a4);
	ck_assert(prefix_contains(&p, AF_INET, &a4));
	inet_pton(AF_INET, "192.0.3.1", &a4);
	ck_assert(!prefix_contains(&p, AF_INET, &a4));
	inet_pton(AF_INET6, "2001:db8::53", &a6);
	ck_assert(!prefix_contains(&p, AF_INET6, &a6));

	p = tl_prefix("2001:db8::/33");
	ck_assert(prefix_contains(&p, AF_INET6, &a6));
	inet_pton(AF_INET6, "2001:db8:8000::1", &a6);
	ck_assert(!prefix_contains(&p, AF_INET6, &a6));

	p = tl_prefix("0.0.0.0/0");
	ck_assert(prefix_contains(&p, AF_INET, &a4));

	p = tl_prefix("192.0.2.53");
	inet_pton(AF_INET, "192.0.2.53", &a4);
	ck_assert(prefix_contains(&p, AF_INET, &a4));
	inet_pton(AF_INET, "192.0.2.52", &a4);
	ck_assert(!prefix_contains(&p, AF_INET, &a4));
}
END_TEST

START_TEST(test_equal)
{
	struct prefix a, b;
	char err[128];
	a = tl_prefix("2001:db8::53");
	b = tl_prefix("2001:0db8:0::53/128");
	ck_assert(prefix_equal(&a, &b));
	ck_assert_int_eq(prefix_parse("2001:db8::53/127", &b, err, sizeof(err)), -1);
	b = tl_prefix("2001:db8::52/127");
	ck_assert(!prefix_equal(&a, &b));
	a = tl_prefix("192.0.2.0/24");
	b = tl_prefix("192.0.2.0/25");
	ck_assert(!prefix_equal(&a, &b));
}
END_TEST

static Suite *prefix_suite(void)
{
	Suite *s = suite_create("prefix");
	TCase *tc = tcase_create("prefix");
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_host_bits);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_contains);
	tcase_add_test(tc, test_equal);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(prefix_suite)
