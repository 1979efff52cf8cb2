/* The config loader's values: the inheritance of timing and source (the level nearest the
 * check wins), route attributes and on_down, the normalized output printed again, and
 * the position index of JSON paths. The errors are in test_config_errors.c. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <syslog.h>

#include "../../lib/cfgpos.h"
#include "../../lib/cfgread.h"
#include "testlib.h"

#define TCP53 "{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 53}"

START_TEST(test_timing_nearest_wins)
{
	struct config *cfg = tl_config_ok(
	        "{\"source\": {\"ipv4\": \"198.51.100.7\", \"ipv6\": \"2001:db8:ffff::7\"}, "
	        "\"source_check\": false,\n"
	        " \"defaults\": {\"interval\": \"10s\", \"fast_interval\": \"1s\", \"timeout\": "
	        "\"2s\", \"rise\": 5, \"fall\": 6},\n"
	        " \"services\": [\n"
	        "  {\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"], \"interval\": 5, "
	        "\"rise\": "
	        "4,\n"
	        "   \"source\": {\"ipv6\": \"2001:db8:ffff::8\"},\n"
	        "   \"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 53, "
	        "\"interval\": \"3s\",\n"
	        "               \"source\": {\"ipv4\": \"198.51.100.9\"}},\n"
	        "              " TCP53 "]},\n"
	        "  {\"name\": \"web\", \"prefixes\": [\"192.0.2.80/32\"], \"checks\": [" TCP53
	        "]}]}\n");
	const struct service_cfg *dns = &cfg->services[0], *web = &cfg->services[1];
	const struct check_cfg *c0 = &dns->checks[0], *c1 = &dns->checks[1], *w0 = &web->checks[0];
	char a[INET6_ADDRSTRLEN];

	ck_assert_uint_eq(cfg->defaults.interval_ms, 10000);
	ck_assert_uint_eq(dns->timing.interval_ms, 5000);
	ck_assert_int_eq(dns->timing.rise, 4);

	ck_assert_uint_eq(c0->timing.interval_ms, 3000); /* check */
	ck_assert_uint_eq(c0->timing.fast_interval_ms, 1000);
	ck_assert_uint_eq(c0->timing.timeout_ms, 2000);
	ck_assert_int_eq(c0->timing.rise, 4); /* service */
	ck_assert_int_eq(c0->timing.fall, 6); /* defaults */
	/* The probe the engine builds from a check carries its resolved settings. */
	struct config_error err;
	config_error_init(&err, "t", NULL);
	struct probe *p0 = check_cfg_probe(c0, dns->name, &err),
	             *pw = check_cfg_probe(w0, web->name, &err);
	ck_assert_ptr_nonnull(p0);
	ck_assert_ptr_nonnull(pw);
	ck_assert_uint_eq(p0->timeout_ms, 2000);
	ck_assert_uint_eq(c1->timing.interval_ms, 5000);
	ck_assert_int_eq(c1->timing.rise, 4);
	ck_assert_uint_eq(w0->timing.interval_ms, 10000);
	ck_assert_int_eq(w0->timing.rise, 5);
	ck_assert_str_eq(c1->path, "services[0].checks[1]");
	ck_assert_str_eq(w0->path, "services[1].checks[0]");
	ck_assert_str_eq(p0->service, "dns");
	ck_assert_str_eq(pw->service, "web");
	ck_assert(p0->source.has_v4 && p0->source.has_v6);
	probe_free(p0);
	probe_free(pw);
	config_error_free(&err);

	/* Source per family: the check's ipv4, the service's ipv6. */
	ck_assert(c0->source.has_v4 && c0->source.has_v6);
	ck_assert_str_eq(inet_ntop(AF_INET, &c0->source.v4, a, sizeof(a)), "198.51.100.9");
	ck_assert_str_eq(inet_ntop(AF_INET6, &c0->source.v6, a, sizeof(a)), "2001:db8:ffff::8");
	ck_assert_str_eq(inet_ntop(AF_INET, &c1->source.v4, a, sizeof(a)), "198.51.100.7");
	ck_assert_str_eq(inet_ntop(AF_INET6, &c1->source.v6, a, sizeof(a)), "2001:db8:ffff::8");
	ck_assert_str_eq(inet_ntop(AF_INET6, &w0->source.v6, a, sizeof(a)), "2001:db8:ffff::7");
	config_free(cfg);

	/* Nothing set anywhere: the built-in defaults. */
	cfg = tl_config_ok("{\"services\": [{\"name\": \"a\", \"prefixes\": [\"192.0.2.1/32\"], "
	                   "\"checks\": [" TCP53 "]}]}");
	const struct timing *t = &cfg->services[0].checks[0].timing;
	ck_assert_uint_eq(t->interval_ms, CONFIG_DEFAULT_INTERVAL_MS);
	ck_assert_uint_eq(t->fast_interval_ms, CONFIG_DEFAULT_FAST_INTERVAL_MS);
	ck_assert_uint_eq(t->timeout_ms, CONFIG_DEFAULT_TIMEOUT_MS);
	ck_assert_int_eq(t->rise, CONFIG_DEFAULT_RISE);
	ck_assert_int_eq(t->fall, CONFIG_DEFAULT_FALL);
	ck_assert(!cfg->services[0].checks[0].source.has_v4);
	ck_assert(cfg->services[0].on_down.withdraw && cfg->services[0].on_disabled.withdraw);
	ck_assert_str_eq(cfg->services[0].announce.next_hop, "self");
	ck_assert_int_eq(cfg->services[0].announce.med, -1);
	ck_assert_ptr_null(cfg->services[0].neighbors);
	ck_assert_ptr_null(cfg->services[0].disable_file);
	ck_assert_int_eq(cfg->log.facility, LOG_DAEMON);
	ck_assert_int_eq(cfg->log.level, LOG_INFO);
	ck_assert_uint_eq(cfg->speaker.ack_timeout_ms, 5000);
	ck_assert_uint_eq(cfg->speaker.reannounce_ms, 0);
	config_free(cfg);
}
END_TEST

START_TEST(test_on_down_replaces)
{
	struct config *cfg = tl_config_ok(
	        "{\"speaker\": {\"neighbors\": [\"192.0.2.254\"]},\n"
	        " \"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"],\n"
	        "  \"announce\": {\"med\": 100, \"local_preference\": 200, \"communities\": "
	        "[\"065000:053\", \"no-export\"],\n"
	        "               \"as_path\": [65000, 4200000000], \"path_information\": 7},\n"
	        "  \"on_down\": {\"med\": 1000, \"communities\": [], \"next_hop\": "
	        "\"2001:DB8::1\"},\n"
	        "  \"on_disabled\": \"withdraw\",\n"
	        "  \"checks\": [" TCP53 "]},\n"
	        " {\"name\": \"web\", \"prefixes\": [\"192.0.2.80/32\"], \"neighbors\": [],\n"
	        "  \"checks\": [" TCP53 "]}]}\n");
	const struct service_cfg *svc = &cfg->services[0];
	const struct route_attrs *a = &svc->announce, *d = &svc->on_down.attrs;

	ck_assert_str_eq(a->next_hop, "self");
	ck_assert_int_eq(a->med, 100);
	ck_assert_str_eq(a->communities[0], "65000:53");
	ck_assert_str_eq(a->communities[1], "no-export");
	ck_assert_ptr_null(a->communities[2]);
	ck_assert_uint_eq(a->nas_path, 2);
	ck_assert_uint_eq(a->as_path[1], 4200000000u);
	ck_assert_str_eq(a->path_information, "0.0.0.7");

	ck_assert(!svc->on_down.withdraw);
	ck_assert_str_eq(d->next_hop, "2001:db8::1");
	ck_assert_int_eq(d->med, 1000);
	ck_assert_int_eq(d->local_preference, 200);
	ck_assert_ptr_null(d->communities);
	ck_assert_uint_eq(d->nas_path, 2);
	ck_assert_ptr_ne(d->as_path, a->as_path);
	ck_assert_str_eq(d->path_information, "0.0.0.7");
	ck_assert(svc->on_disabled.withdraw);

	/* Neighbors: inherited from the speaker unless the service names its own. */
	ck_assert_str_eq(svc->neighbors[0], "192.0.2.254");
	ck_assert_ptr_null(svc->neighbors[1]);
	ck_assert_ptr_null(cfg->services[1].neighbors);
	config_free(cfg);
}
END_TEST

static const char small_config[] =
        "{\"source\": {\"ipv4\": \"198.51.100.7\"}, \"source_check\": false,\n"
        " \"defaults\": {\"interval\": 5, \"timeout\": 1.5, \"source\": {\"ipv6\": "
        "\"2001:DB8:FFFF:0::7\"}},\n"
        " \"speaker\": {\"reannounce\": \"90s\"},\n"
        " \"log\": {\"facility\": \"local3\", \"level\": \"debug\"},\n"
        " \"services\": [{\"name\": \"dns\", \"prefixes\": [\"2001:db8::53\", \"192.0.2.53\"],\n"
        "  \"announce\": {\"med\": 100}, \"on_disabled\": {\"med\": 1000}, \"disable_file\": "
        "\"/run/dns.off\",\n"
        "  \"checks\": [{\"type\": \"tcp\", \"port\": 53, \"host\": \"127.0.0.1\", \"rise\": "
        "2}]}]}\n";

static const char small_normalized[] =
        "{\"source\": {\"ipv4\": \"198.51.100.7\", \"ipv6\": \"2001:db8:ffff::7\"}, "
        "\"source_check\": false, "
        "\"allow_root_exec\": false, \"limits\": {\"max_running\": 256, \"max_read_bytes\": "
        "33554432, \"max_open_files\": 1024}, "
        "\"speaker\": {\"type\": \"exabgp\", \"neighbors\": [], \"reannounce\": \"1m30s\", "
        "\"ack_timeout\": \"5s\", \"withdraw_on_start\": true}, "
        "\"log\": {\"syslog\": false, \"facility\": \"local3\", \"level\": \"debug\"}, "
        "\"defaults\": {\"interval\": \"5s\", \"fast_interval\": \"500ms\", \"timeout\": "
        "\"1s500ms\", \"rise\": 3, \"fall\": 3}, "
        "\"services\": [{\"name\": \"dns\", \"prefixes\": [\"2001:db8::53/128\", "
        "\"192.0.2.53/32\"], "
        "\"announce\": {\"next_hop\": \"self\", \"med\": 100, \"communities\": [], "
        "\"large_communities\": [], \"extended_communities\": [], \"as_path\": []}, "
        "\"on_down\": \"withdraw\", "
        "\"on_disabled\": {\"next_hop\": \"self\", \"med\": 1000, \"communities\": [], "
        "\"large_communities\": [], \"extended_communities\": [], \"as_path\": []}, "
        "\"on_degraded\": {\"next_hop\": \"self\", \"med\": 100, \"communities\": [], "
        "\"large_communities\": [], \"extended_communities\": [], \"as_path\": []}, "
        "\"on_last\": {\"next_hop\": \"self\", \"med\": 100, \"communities\": [], "
        "\"large_communities\": [], \"extended_communities\": [], \"as_path\": []}, "
        "\"guard_disable\": false, "
        "\"disable_file\": \"/run/dns.off\", \"neighbors\": [], \"require\": 1, "
        "\"require_local_address\": false, "
        "\"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 53, "
        "\"interval\": \"5s\", \"fast_interval\": \"500ms\", \"timeout\": \"1s500ms\", \"rise\": "
        "2, \"fall\": 3, \"source\": {\"ipv4\": \"198.51.100.7\", \"ipv6\": "
        "\"2001:db8:ffff::7\"}}]}]}";

static char *normalized(const char *text, size_t flags)
{
	struct config *cfg = tl_config_ok(text);
	json_t *j = config_to_json(cfg);
	char *out = json_dumps(j, flags | JSON_PRESERVE_ORDER);
	json_decref(j);
	config_free(cfg);
	return out;
}

START_TEST(test_normalized)
{
	char *once = normalized(small_config, 0);
	ck_assert_str_eq(once, small_normalized);
	free(once);

	/* Printing what was printed changes nothing. */
	char *pretty = normalized(small_config, JSON_INDENT(2));
	char *again = normalized(pretty, JSON_INDENT(2));
	ck_assert_str_eq(pretty, again);
	free(pretty);
	free(again);
}
END_TEST

START_TEST(test_cfgpos)
{
	const char *text = "{\n"
	                   "\t\"a\": {\"b\\u00e9\": [1, {\"c\": \"x\\\"]\"}]},\n"
	                   "  \"é\": [ [ ], \"}\" , 3 ],\"a.b\":null}";
	static const struct {
		const char *path;
		int at; /* line * 1000 + column; 0: not in the text */
	} paths[] = {
	        {"", 1001},
	        {"a", 2002},
	        {"a.b\xc3\xa9", 2008},
	        {"a.b\xc3\xa9[1]", 2023},
	        {"a.b\xc3\xa9[1].c", 2024},
	        {"\xc3\xa9", 3003},
	        /* Columns count characters: "é" is one. */
	        {"\xc3\xa9[1]", 3015},
	        {"\xc3\xa9[2]", 3021},
	        {"a.b", 3025},
	        {"a.c", 0},
	        {"\xc3\xa9[3]", 0},
	};
	struct cfgpos *pos = cfgpos_build(text);
	int line = 0, col = 0;
	ck_assert_ptr_nonnull(pos);
	for (size_t i = 0; i < TL_LEN(paths); i++) {
		int rc = cfgpos_lookup(pos, paths[i].path, &line, &col);
		ck_assert_msg(rc == (paths[i].at > 0 ? 0 : -1), "%s: %d", paths[i].path, rc);
		if (paths[i].at > 0)
			ck_assert_msg(line * 1000 + col == paths[i].at, "%s: %d:%d", paths[i].path,
			              line, col);
	}
	cfgpos_free(pos);
	ck_assert_int_eq(cfgpos_lookup(NULL, "", &line, &col), -1);
}
END_TEST

static Suite *config_values_suite(void)
{
	Suite *s = suite_create("config_values");
	TCase *tc = tcase_create("values");
	tcase_add_test(tc, test_timing_nearest_wins);
	tcase_add_test(tc, test_on_down_replaces);
	tcase_add_test(tc, test_normalized);
	tcase_add_test(tc, test_cfgpos);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(config_values_suite)
