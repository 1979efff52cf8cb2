/* FRR's side as text (frr_text.c): set clauses in vtysh syntax, route-map names, healthd's
 * part of "show running-config", and the commands between two states. The texts FRR
 * prints here are as FRR 8.4 printed them; that a real bgpd takes the commands is the
 * integration test's part (tests/integration/test_frr.sh). */
#include <arpa/inet.h>
#include <string.h>

#include "../../healthd/frr.h"
#include "testlib.h"

static struct prefix pfx(const char *s)
{
	struct prefix p;
	char err[128];
	ck_assert_int_eq(prefix_parse(s, &p, err, sizeof(err)), 0);
	return p;
}

static void attrs_plain(struct route_attrs *a)
{
	memset(a, 0, sizeof(*a));
	a->next_hop = "self";
	a->med = -1;
	a->local_preference = -1;
}

/* The vector as one string, clauses separated by '|'. */
static const char *joined(char *const *v)
{
	static char buf[2048];
	size_t k = 0;
	buf[0] = '\0';
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%s%s", i ? "|" : "", v[i]);
	return buf;
}

START_TEST(test_sets)
{
	struct route_attrs a;
	char *comms[] = {"65000:53", "no-export",   "no-export-subconfed",
	                 "65535:0",  "65535:65281", NULL};
	char *large[] = {"65000:0:53", NULL};
	char *ext[] = {"target:65000:1", "origin:192.0.2.1:7", "target:65000:2", NULL};
	uint32_t path[] = {65010, 65010};
	char **v;

	attrs_plain(&a);
	v = frr_sets(&a, AF_INET);
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_null(v[0]); /* a bare route: a map without clauses */
	frr_strv_free(v);

	a.med = 100;
	a.local_preference = 300;
	a.communities = comms;
	a.large_communities = large;
	a.extended_communities = ext;
	a.as_path = path;
	a.nas_path = 2;
	a.next_hop = "192.0.2.9";
	v = frr_sets(&a, AF_INET);
	ck_assert_str_eq(joined(v), "set metric 100|set local-preference 300|"
	                            "set community 65000:53 no-export local-AS graceful-shutdown|"
	                            "set large-community 65000:0:53|"
	                            "set extcommunity rt 65000:1 65000:2|"
	                            "set extcommunity soo 192.0.2.1:7|"
	                            "set as-path prepend 65010 65010|set ip next-hop 192.0.2.9");
	frr_strv_free(v);
	a.next_hop = "2001:db8::9";
	v = frr_sets(&a, AF_INET6);
	ck_assert_ptr_nonnull(strstr(joined(v), "|set ipv6 next-hop global 2001:db8::9"));
	frr_strv_free(v);
}
END_TEST

START_TEST(test_map_names)
{
	char *a[] = {"set metric 100", NULL}, *b[] = {"set metric 200", NULL}, *none[] = {NULL};
	char n1[FRR_MAP_MAX], n2[FRR_MAP_MAX], n3[FRR_MAP_MAX];

	frr_map_name("dns", a, n1, sizeof(n1));
	frr_map_name("dns", a, n2, sizeof(n2));
	frr_map_name("dns", b, n3, sizeof(n3));
	ck_assert_str_eq(n1, n2); /* the same in every run */
	ck_assert_str_ne(n1, n3);
	ck_assert(strncmp(n1, "HEALTHD-dns-", 12) == 0 && strlen(n1) == 20);
	frr_map_name("dns", none, n1, sizeof(n1));
	ck_assert_str_eq(n1, "HEALTHD-dns-811c9dc5"); /* FNV-1a of nothing */
}
END_TEST

/* As FRR 8.4 prints it: clauses sorted, community values in its own order. */
static const char running[] = "Building configuration...\n"
                              "\n"
                              "Current configuration:\n"
                              "!\n"
                              "frr version 8.4.4\n"
                              "frr defaults traditional\n"
                              "!\n"
                              "router bgp 65041\n"
                              " bgp router-id 127.0.41.2\n"
                              " no bgp network import-check\n"
                              " neighbor 127.0.41.3 remote-as 65042\n"
                              " !\n"
                              " address-family ipv4 unicast\n"
                              "  network 192.0.2.53/32 route-map HEALTHD-dns-aaaaaaaa\n"
                              "  network 198.51.100.99/32\n"
                              "  network 198.51.100.98/32 route-map OPERATOR\n"
                              "  network 198.51.100.97/32 route-map HEALTHD-old-00000000\n"
                              " exit-address-family\n"
                              " !\n"
                              " address-family ipv6 unicast\n"
                              "  network 2001:db8::53/128 route-map HEALTHD-dns-aaaaaaaa\n"
                              " exit-address-family\n"
                              " !\n"
                              " address-family ipv4 multicast\n"
                              "  network 192.0.2.54/32 route-map HEALTHD-dns-aaaaaaaa\n"
                              " exit-address-family\n"
                              "exit\n"
                              "!\n"
                              "router bgp 65099 vrf blue\n"
                              " address-family ipv4 unicast\n"
                              "  network 192.0.2.55/32 route-map HEALTHD-dns-aaaaaaaa\n"
                              " exit-address-family\n"
                              "exit\n"
                              "!\n"
                              "route-map HEALTHD-dns-aaaaaaaa permit 10\n"
                              " set as-path prepend 65010\n"
                              " set community 65000:53 65000:54 no-export\n"
                              " set metric 100\n"
                              "exit\n"
                              "!\n"
                              "route-map HEALTHD-old-00000000 permit 10\n"
                              " set metric 7\n"
                              "exit\n"
                              "!\n"
                              "route-map OPERATOR permit 10\n"
                              " set metric 1\n"
                              "exit\n"
                              "!\n"
                              "end\n";

START_TEST(test_parse)
{
	struct frr_state s;
	char why[128];

	frr_state_init(&s);
	ck_assert_int_eq(frr_parse(running, &s, why, sizeof(why)), 0);
	ck_assert_int_eq(s.asn, 65041); /* not the VRF's */
	ck_assert(!s.import_check);
	ck_assert_uint_eq(s.nnets, 5); /* not the multicast one, nor the VRF's */
	ck_assert_str_eq(s.nets[0].prefix, "192.0.2.53/32");
	ck_assert_str_eq(s.nets[0].map, "HEALTHD-dns-aaaaaaaa");
	ck_assert_str_eq(s.nets[1].prefix, "198.51.100.99/32");
	ck_assert_str_eq(s.nets[1].map, ""); /* someone else's */
	ck_assert_str_eq(s.nets[2].map, ""); /* another's route-map: not healthd's */
	ck_assert_str_eq(s.nets[3].map, "HEALTHD-old-00000000");
	ck_assert_int_eq(s.nets[4].family, AF_INET6);
	ck_assert_str_eq(s.nets[4].prefix, "2001:db8::53/128");
	ck_assert_uint_eq(s.nmaps, 2); /* OPERATOR is not healthd's */

	/* The map as FRR printed it compares equal to the clauses healthd wrote, in
	 * healthd's order. */
	char *sets[] = {"set metric 100", "set community no-export 65000:54 65000:53",
	                "set as-path prepend 65010", NULL};
	char *text = frr_map_normalize(sets);
	ck_assert_str_eq(s.maps[0].name, "HEALTHD-dns-aaaaaaaa");
	ck_assert_str_eq(s.maps[0].text, text);
	free(text);
	char *other[] = {"set metric 100", "set community 65000:53 65000:54",
	                 "set as-path prepend 65010", NULL};
	text = frr_map_normalize(other);
	ck_assert_str_ne(s.maps[0].text, text);
	free(text);

	/* Cut short (vtysh failed, output truncated): not a state. */
	char cut[sizeof(running)];
	snprintf(cut, sizeof(cut), "%s", running);
	*strstr(cut, "end\n") = '\0';
	ck_assert_int_eq(frr_parse(cut, &s, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "end"));
	ck_assert_uint_eq(s.nnets, 0);

	/* Without a BGP instance. */
	ck_assert_int_eq(frr_parse("Current configuration:\n!\nend\n", &s, why, sizeof(why)), 0);
	ck_assert_int_eq(s.asn, -1);
	frr_state_clear(&s);
}
END_TEST

START_TEST(test_want)
{
	struct frr_state w;
	char *a[] = {"set metric 100", NULL}, *b[] = {"set metric 900", NULL};
	struct prefix p1 = pfx("192.0.2.53/32"), p2 = pfx("2001:db8::53/128");

	frr_state_init(&w);
	ck_assert_int_eq(frr_want(&w, &p1, "dns", a), 0);
	ck_assert_int_eq(frr_want(&w, &p2, "dns", a), 0);
	ck_assert_uint_eq(w.nnets, 2);
	ck_assert_uint_eq(w.nmaps, 1); /* both statements name one map */
	ck_assert_int_eq(frr_want(&w, &p1, "dns", b), 0);
	ck_assert_uint_eq(w.nnets, 2);
	ck_assert_uint_eq(w.nmaps, 2);
	ck_assert_int_eq(frr_want(&w, &p2, "dns", b), 0);
	ck_assert_uint_eq(w.nmaps, 1); /* the first map is named by nothing now */
	ck_assert_str_eq(w.maps[0].sets[0], "set metric 900");
	ck_assert_int_eq(frr_want(&w, &p1, "dns", NULL), 0);
	ck_assert_int_eq(frr_want(&w, &p2, "dns", NULL), 0);
	ck_assert_uint_eq(w.nnets, 0);
	ck_assert_uint_eq(w.nmaps, 0);
	frr_state_clear(&w);
}
END_TEST

START_TEST(test_diff)
{
	struct frr_state w, f;
	char why[128], name[FRR_MAP_MAX], **cmds;
	size_t foreign;
	char *sets[] = {"set metric 100", NULL};
	struct prefix p53 = pfx("192.0.2.53/32"), p99 = pfx("198.51.100.99/32");
	struct prefix p6 = pfx("2001:db8::53/128");

	frr_state_init(&w);
	frr_state_init(&f);
	ck_assert_int_eq(frr_parse(running, &f, why, sizeof(why)), 0);
	/* Wanted: 192.0.2.53 with a new map, and 198.51.100.99, which has someone
	 * else's statement; 2001:db8::53 is not wanted any more. */
	ck_assert_int_eq(frr_want(&w, &p53, "dns", sets), 0);
	ck_assert_int_eq(frr_want(&w, &p99, "dns", sets), 0);
	frr_map_name("dns", sets, name, sizeof(name));
	ck_assert_int_eq(frr_diff(&w, &f, &cmds, &foreign), 0);
	ck_assert_uint_eq(foreign, 1);
	char want[1024];
	snprintf(want, sizeof(want),
	         "configure terminal|route-map %s permit 10|set metric 100|exit|"
	         "router bgp 65041|address-family ipv4 unicast|network 192.0.2.53/32 route-map %s|"
	         "no network 198.51.100.97/32|exit-address-family|"
	         "address-family ipv6 unicast|no network 2001:db8::53/128|exit-address-family|exit|"
	         "no route-map HEALTHD-dns-aaaaaaaa|no route-map HEALTHD-old-00000000|end",
	         name, name);
	ck_assert_str_eq(joined(cmds), want);
	frr_strv_free(cmds);

	/* FRR as healthd wants it: nothing to do. */
	const char *done_text = "Current configuration:\n"
	                        "router bgp 65041\n"
	                        " address-family ipv4 unicast\n"
	                        "  network 192.0.2.53/32 route-map %s\n"
	                        "  network 198.51.100.99/32\n"
	                        " exit-address-family\n"
	                        "exit\n"
	                        "route-map %s permit 10\n"
	                        " set metric 100\n"
	                        "exit\n"
	                        "end\n";
	char text[1024];
	snprintf(text, sizeof(text), done_text, name, name);
	ck_assert_int_eq(frr_parse(text, &f, why, sizeof(why)), 0);
	ck_assert(f.import_check); /* FRR's default: no "no bgp network import-check" */
	ck_assert_int_eq(frr_diff(&w, &f, &cmds, &foreign), 0);
	ck_assert_ptr_null(cmds);

	/* The map edited by hand: made again; the statement stays as it is. */
	char *edited = strstr(text, " set metric 100");
	memcpy(edited, " set metric 101", 15);
	ck_assert_int_eq(frr_parse(text, &f, why, sizeof(why)), 0);
	ck_assert_int_eq(frr_diff(&w, &f, &cmds, &foreign), 0);
	snprintf(
	        want, sizeof(want),
	        "configure terminal|no route-map %s|route-map %s permit 10|set metric 100|exit|end",
	        name, name);
	ck_assert_str_eq(joined(cmds), want);
	frr_strv_free(cmds);

	/* No BGP instance: statements cannot be written. */
	ck_assert_int_eq(frr_want(&w, &p6, "dns", sets), 0);
	ck_assert_int_eq(frr_parse("Current configuration:\nend\n", &f, why, sizeof(why)), 0);
	ck_assert_int_eq(frr_diff(&w, &f, &cmds, &foreign), -2);
	ck_assert_ptr_null(cmds);
	frr_state_clear(&w);
	frr_state_clear(&f);
}
END_TEST

static Suite *frr_text_suite(void)
{
	Suite *s = suite_create("frr_text");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_sets);
	tcase_add_test(tc, test_map_names);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_want);
	tcase_add_test(tc, test_diff);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(frr_text_suite)
