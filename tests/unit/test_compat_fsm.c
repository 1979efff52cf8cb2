/* The healthcheck drop-in's pure parts: the original's state machine walked through
 * scripted results, the exact lines each state writes, and addresses as Python's
 * ipaddress reads and prints them. Expected values were worked out from ExaBGP 4.2.21's
 * healthcheck.py (and checked against it where noted). */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../../compat/compat.h"
#include "unit.h"

/* Feeds steps ('0' healthy, '1' failing, 'D' disable file present) and writes the state
 * after each, lower case when no transition was triggered: "R r U". */
static void walk(long long rise, long long fall, const char *steps, char *out, size_t len)
{
	static const char letters[] = {[CS_INIT] = 'I',    [CS_DISABLED] = 'X', [CS_RISING] = 'R',
	                               [CS_FALLING] = 'F', [CS_UP] = 'U',       [CS_DOWN] = 'D'};
	struct compat_fsm f = {.state = CS_INIT};
	size_t n = 0;

	for (const char *s = steps; *s != '\0' && n + 2 < len; s++) {
		enum compat_state t = CS_END;
		bool trig = compat_fsm_step(&f, rise, fall, *s == 'D', *s == '0', &t);
		if (trig)
			ck_assert_int_eq(t, f.state);
		char c = letters[f.state];
		out[n++] = trig ? c : (char)(c | 0x20);
		out[n++] = ' ';
	}
	out[n > 0 ? n - 1 : 0] = '\0';
}

START_TEST(rise_and_fall_count_consecutive_results)
{
	char got[128];
	walk(3, 3, "000111000", got, sizeof(got));
	ck_assert_str_eq(got, "R r U F f D R r U");
	walk(3, 2, "110", got, sizeof(got));
	ck_assert_str_eq(got, "F D R");
	/* a success while falling starts rising again, and the other way round */
	walk(3, 3, "00101100", got, sizeof(got));
	ck_assert_str_eq(got, "R r F R F f R r");
}
END_TEST

START_TEST(rise_or_fall_of_one_skips_the_middle_states)
{
	char got[128];
	walk(1, 1, "0101", got, sizeof(got));
	ck_assert_str_eq(got, "U D U D");
	walk(0, 0, "010", got, sizeof(got)); /* <= 1 is the shortcut too */
	ck_assert_str_eq(got, "U D U");
	walk(1, 3, "01110", got, sizeof(got));
	ck_assert_str_eq(got, "U F f D U");
}
END_TEST

START_TEST(disabled_wins_then_starts_over_from_init)
{
	char got[128];
	walk(2, 2, "00DD000", got, sizeof(got));
	ck_assert_str_eq(got, "R U X x I R U");
	/* the first iteration after the file went away only returns to INIT */
	walk(1, 1, "D1", got, sizeof(got));
	ck_assert_str_eq(got, "X I");
	walk(3, 3, "0D", got, sizeof(got));
	ck_assert_str_eq(got, "R X");
}
END_TEST

static struct compat_opts o;

static void opts(const char *const *ips)
{
	compat_opts_free(&o);
	compat_opts_init(&o);
	for (; *ips != NULL; ips++) {
		struct compat_net n;
		ck_assert_int_eq(compat_net_parse(*ips, &n), 0);
		o.ips = realloc(o.ips, (o.nips + 1) * sizeof(n));
		o.ips[o.nips++] = n;
	}
}

static void strv(struct compat_strv *s, const char *v)
{
	s->v = realloc(s->v, (s->n + 2) * sizeof(*s->v));
	s->v[s->n++] = strdup(v);
	s->v[s->n] = NULL;
}

/* The lines of state st joined by '|'. */
static void lines(enum compat_state st, char *out, size_t len)
{
	size_t n;
	char **l = compat_lines(&o, st, &n);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "|" : "", l[i]);
	compat_lines_free(l);
}

static void teardown(void)
{
	compat_opts_free(&o);
}

START_TEST(metrics_per_state_and_increase_per_ip)
{
	static const char *const ips[] = {"192.0.2.1", "192.0.2.2", "2001:db8::1", NULL};
	char got[2048];

	opts(ips);
	lines(CS_UP, got, sizeof(got));
	ck_assert_str_eq(got, "announce route 192.0.2.1/32 next-hop self med 100|"
	                      "announce route 192.0.2.2/32 next-hop self med 101|"
	                      "announce route 2001:db8::1/128 next-hop self med 102");
	o.increase = -10;
	o.down_metric = 5;
	lines(CS_DOWN, got, sizeof(got));
	ck_assert_str_eq(got, "announce route 192.0.2.1/32 next-hop self med 5|"
	                      "announce route 192.0.2.2/32 next-hop self med -5|"
	                      "announce route 2001:db8::1/128 next-hop self med -15");
	lines(CS_RISING, got, sizeof(got));
	ck_assert_str_eq(got, ""); /* nothing while rising, falling or in INIT */
	lines(CS_EXIT, got, sizeof(got));
	ck_assert_str_eq(got, "withdraw route 192.0.2.1/32 next-hop self|"
	                      "withdraw route 192.0.2.2/32 next-hop self|"
	                      "withdraw route 2001:db8::1/128 next-hop self");
}
END_TEST

START_TEST(withdraw_on_down_withdraws_down_and_disabled)
{
	static const char *const ips[] = {"192.0.2.1", NULL};
	char got[1024];

	opts(ips);
	o.withdraw_on_down = true;
	o.next_hop = strdup("192.0.2.254");
	lines(CS_DOWN, got, sizeof(got));
	ck_assert_str_eq(got, "withdraw route 192.0.2.1/32 next-hop 192.0.2.254");
	lines(CS_DISABLED, got, sizeof(got));
	ck_assert_str_eq(got, "withdraw route 192.0.2.1/32 next-hop 192.0.2.254");
	lines(CS_UP, got, sizeof(got));
	ck_assert_str_eq(got, "announce route 192.0.2.1/32 next-hop 192.0.2.254 med 100");
}
END_TEST

START_TEST(attributes_in_the_originals_order)
{
	static const char *const ips[] = {"192.0.2.1", NULL};
	char got[1024];

	opts(ips);
	o.local_preference = 0;
	o.community = strdup("65000:1");
	o.disabled_community = strdup("65000:666");
	o.extended_community = strdup("target:65000:1");
	o.large_community = strdup("65000:1:1");
	o.as_path = strdup("65000 65001");
	o.up_as_path = strdup(""); /* given empty: no as-path when up, not the default one */
	o.disabled_as_path = strdup("65000 65000");
	o.has_path_id = true;
	o.path_id = 7;
	lines(CS_UP, got, sizeof(got));
	ck_assert_str_eq(got, "announce route 192.0.2.1/32 next-hop self med 100 "
	                      "local-preference 0 community [ 65000:1 ] extended-community "
	                      "[ target:65000:1 ] large-community [ 65000:1:1 ] "
	                      "path-information 7");
	lines(CS_DOWN, got, sizeof(got));
	ck_assert_str_eq(got, "announce route 192.0.2.1/32 next-hop self med 1000 "
	                      "local-preference 0 community [ 65000:666 ] extended-community "
	                      "[ target:65000:1 ] large-community [ 65000:1:1 ] "
	                      "as-path [ 65000 65001 ] path-information 7");
	lines(CS_DISABLED, got, sizeof(got));
	ck_assert(strstr(got, " med 500 ") && strstr(got, "as-path [ 65000 65000 ]"));
	o.path_id = 0; /* falsy in the original: not sent */
	free(o.community);
	o.community = NULL; /* only the disabled one: none when up */
	lines(CS_UP, got, sizeof(got));
	ck_assert_str_eq(got, "announce route 192.0.2.1/32 next-hop self med 100 "
	                      "local-preference 0 extended-community [ target:65000:1 ] "
	                      "large-community [ 65000:1:1 ]");
}
END_TEST

START_TEST(neighbors_and_the_command_forms)
{
	static const char *const ips[] = {"192.0.2.1", NULL};
	char got[1024];

	opts(ips);
	lines(CS_UP, got, sizeof(got));
	ck_assert_str_eq(got, "announce route 192.0.2.1/32 next-hop self med 100");
	o.form = CF_NEIGHBOR;
	lines(CS_EXIT, got, sizeof(got));
	ck_assert_str_eq(got, "neighbor * withdraw route 192.0.2.1/32 next-hop self");
	o.form = CF_PEER;
	lines(CS_UP, got, sizeof(got));
	ck_assert_str_eq(got, "peer * announce route 192.0.2.1/32 next-hop self med 100");
	strv(&o.neighbors, "127.0.0.3");
	strv(&o.neighbors, "::1");
	lines(CS_UP, got, sizeof(got));
	ck_assert_str_eq(got, "peer 127.0.0.3, peer ::1 announce route 192.0.2.1/32 next-hop self "
	                      "med 100");
	o.form = CF_LEGACY;
	lines(CS_UP, got, sizeof(got));
	ck_assert_str_eq(got, "neighbor 127.0.0.3, neighbor ::1 announce route 192.0.2.1/32 "
	                      "next-hop self med 100");
	o.form = CF_NEIGHBOR;
	strv(&o.neighbors, "*"); /* a wildcard among them means every neighbor */
	lines(CS_UP, got, sizeof(got));
	ck_assert_str_eq(got, "neighbor * announce route 192.0.2.1/32 next-hop self med 100");
}
END_TEST

/* Checked against ExaBGP 4.2.21's vendored ipaddress (1.0.23). */
START_TEST(networks_as_python_reads_and_prints_them)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
	        {"01.1.1.1", "1.1.1.1/32"},
	        {"1:0:0:0:1:0:0:0", "1::1:0:0:0/128"},
	        {"0:0:1:0:0:0:0:1", "0:0:1::1/128"},
	        {"1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0/128"},
	        {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304/128"},
	        {"1.2.3.4/032", "1.2.3.4/32"},
	        {"1::", "1::/128"},
	        {"::", "::/128"},
	        {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0/128"},
	        {"::1.2.3.4", "::102:304/128"},
	        {"2001:DB8::/32", "2001:db8::/32"},
	        {"0.0.0.0/0.0.0.0", "0.0.0.0/0"},
	        {"192.0.2.0/0.0.0.255", "192.0.2.0/24"},
	        {"192.0.2.0/255.255.255.128", "192.0.2.0/25"},
	};
	static const char *const bad[] = {
	        "08.1.1.1",
	        "1.2.3.4/+32",
	        "192.0.2.0/255.0.255.0",
	        "1:2:3:4:5:6:7:8:9",
	        "1::2::3",
	        ":::",
	        "12345::",
	        "1.2.3",
	        "256.1.1.1",
	        " 1.2.3.4",
	        "1.2.3.4/",
	        "1.2.3.4/33",
	        "192.0.2.1/24",
	        "1/2/3",
	        "2001:db8::/ffff::",
	        "fe80::1%lo",
	        "",
	};
	struct compat_net n;
	char buf[80];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(compat_net_parse(ok[i].in, &n) == 0, "%s refused", ok[i].in);
		compat_net_format(&n, buf, sizeof(buf));
		ck_assert_str_eq(buf, ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(compat_net_parse(bad[i], &n) != 0, "%s accepted", bad[i]);
}
END_TEST

START_TEST(hosts_of_a_network_and_loopback)
{
	struct compat_net n, h;
	char buf[80];

	ck_assert_int_eq(compat_net_parse("10.0.0.0/23", &n), 0);
	ck_assert_uint_eq(compat_net_size(&n), 512);
	compat_net_host(&n, 256, &h);
	compat_net_format(&h, buf, sizeof(buf));
	ck_assert_str_eq(buf, "10.0.1.0/32");
	ck_assert_int_eq(compat_net_parse("2001:db8::/120", &n), 0);
	compat_net_host(&n, 255, &h);
	compat_net_format(&h, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2001:db8::ff/128");
	ck_assert_int_eq(compat_net_parse("2001:db8::/32", &n), 0);
	ck_assert(compat_net_size(&n) == UINT64_MAX);
	ck_assert_int_eq(compat_net_parse("127.0.0.5", &n), 0);
	ck_assert(compat_net_is_loopback(&n));
	ck_assert_int_eq(compat_net_parse("126.0.0.0/7", &n), 0);
	ck_assert(!compat_net_is_loopback(&n));
	ck_assert_int_eq(compat_net_parse("::1", &n), 0);
	ck_assert(compat_net_is_loopback(&n));
}
END_TEST

static Suite *compat_fsm_suite(void)
{
	Suite *s = suite_create("compat_fsm");
	TCase *tc = tcase_create("fsm");
	tcase_add_test(tc, rise_and_fall_count_consecutive_results);
	tcase_add_test(tc, rise_or_fall_of_one_skips_the_middle_states);
	tcase_add_test(tc, disabled_wins_then_starts_over_from_init);
	suite_add_tcase(s, tc);
	tc = tcase_create("lines");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, metrics_per_state_and_increase_per_ip);
	tcase_add_test(tc, withdraw_on_down_withdraws_down_and_disabled);
	tcase_add_test(tc, attributes_in_the_originals_order);
	tcase_add_test(tc, neighbors_and_the_command_forms);
	suite_add_tcase(s, tc);
	tc = tcase_create("ip");
	tcase_add_test(tc, networks_as_python_reads_and_prints_them);
	tcase_add_test(tc, hosts_of_a_network_and_loopback);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(compat_fsm_suite)
