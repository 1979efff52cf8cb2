/* The config loader's errors: every class of error with its exact file:line:col and
 * path, one table row each, the error index without a position, and a file that cannot be
 * read. What a loaded config holds is in test_config_values.c. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/cfgerr.h"
#include "testlib.h"

/* The registry, in its order (probes/probe.c). */
#define TYPES "tcp, exec, http, dns, dns-serial, dns-axfr"
#define SELECTOR                                                                                   \
	"expected an address such as \"192.0.2.254\", optionally followed by pairs such as "       \
	"\"local-ip 192.0.2.1\" or \"peer-as 65000\""

#define TCP53 "{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 53}"

/* A config and all the messages it is refused with, one per line. */
struct error_case {
	const char *name, *text, *want;
};

static const struct error_case error_cases[] = {
        {"unknown_keys",
         "{\n"
         "  \"servces\": [],\n"
         "  \"defaults\": {\"rise\": 2, \"intervall\": \"1s\"},\n"
         "  \"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"], "
         "\"announce\": {\"mde\": 5},\n"
         "    \"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": "
         "53, "
         "\"intreval\": \"1s\"},\n"
         "               {\"type\": \"exec\", \"command\": [\"/bin/true\"], "
         "\"timeot\": \"1s\", \"zzz\": 1}]}]\n"
         "}\n",
         "t.json:2:3: servces: unknown key \"servces\" (did you mean \"services\"?)\n"
         "t.json:3:27: defaults.intervall: unknown key \"intervall\" (did you mean "
         "\"interval\"?)\n"
         "t.json:4:76: services[0].announce.mde: unknown key \"mde\" (did you mean "
         "\"med\"?)\n"
         "t.json:5:65: services[0].checks[0].intreval: unknown key \"intreval\" (did you "
         "mean \"interval\"?)\n"
         "t.json:6:59: services[0].checks[1].timeot: unknown key \"timeot\" (did you mean "
         "\"timeout\"?)\n"
         "t.json:6:75: services[0].checks[1].zzz: unknown key \"zzz\"\n"
         /* Nothing stops at the first error: the exec check is refused as well. */
         "t.json:6:17: services[0].checks[1].type: an exec check would run as root (no "
         "\"user\"): set \"user\" to the account it should run as, or "
         "\"allow_root_exec\": true\n"},
        {"wrong_types",
         "{\n"
         "  \"source_check\": \"yes\",\n"
         "  \"log\": {\"syslog\": 1, \"level\": 3},\n"
         "  \"speaker\": {\"neighbors\": \"192.0.2.254\", \"reannounce\": true},\n"
         "  \"services\": [{\"name\": \"\", \"prefixes\": \"192.0.2.53/32\", "
         "\"announce\": [],\n"
         "    \"require\": \"1\", \"disable_file\": \"relative/path\",\n"
         "    \"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": "
         "\"53\", \"rise\": \"3\", \"interval\": [1]}]}]\n"
         "}\n",
         "t.json:2:3: source_check: expected boolean\n"
         "t.json:4:15: speaker.neighbors: expected array of strings\n"
         "t.json:4:43: speaker.reannounce: expected duration such as \"500ms\", \"2s\" or a "
         "number of seconds\n"
         "t.json:3:11: log.syslog: expected boolean\n"
         "t.json:3:24: log.level: expected non-empty string\n"
         "t.json:5:17: services[0].name: expected non-empty string\n"
         "t.json:5:29: services[0].prefixes: expected non-empty array of prefixes\n"
         "t.json:5:58: services[0].announce: expected object of route attributes\n"
         "t.json:6:21: services[0].disable_file: expected an absolute path: healthd runs in "
         "the speaker's working directory\n"
         "t.json:7:80: services[0].checks[0].interval: expected duration such as \"500ms\", "
         "\"2s\" or a number of seconds\n"
         "t.json:7:67: services[0].checks[0].rise: expected integer 1-1000\n"
         "t.json:7:53: services[0].checks[0].port: expected integer 1-65535\n"
         "t.json:6:5: services[0].require: expected integer 1-1\n"},
        {"source_types",
         "{\"source\": \"198.51.100.7\", \"source_check\": false,\n"
         " \"defaults\": {\"source\": {\"ipv4\": \"2001:db8::1\", \"ipv6\": "
         "\"2001:db8::1\", \"ipv5\": \"x\"}},\n"
         " \"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"],\n"
         "   \"checks\": [" TCP53 "]}]}\n",
         "t.json:1:2: source: expected object with \"ipv4\" and/or \"ipv6\"\n"
         "t.json:2:72: defaults.source.ipv5: unknown key \"ipv5\" (did you mean \"ipv4\"?)\n"
         "t.json:2:26: defaults.source.ipv4: expected a numeric IPv4 address, got an "
         "address "
         "of the other family\n"},
        {"prefixes",
         "{\"services\": [\n"
         "  {\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\", \"192.0.2.1/24\", "
         "\"192.0.2\", \"2001:db8::53/129\", \"192.0.2.53\", 53],\n"
         "   \"checks\": [" TCP53 "]},\n"
         "  {\"name\": \"dns\", \"prefixes\": [\"2001:db8::/32\", "
         "\"192.0.2.53/32\"],\n"
         "   \"checks\": [" TCP53 "]}\n"
         "]}\n",
         "t.json:2:49: services[0].prefixes[1]: invalid prefix \"192.0.2.1/24\": host bits "
         "set: did you mean 192.0.2.0/24?\n"
         "t.json:2:65: services[0].prefixes[2]: invalid prefix \"192.0.2\": 192.0.2 is not "
         "an "
         "IPv4 or IPv6 address\n"
         "t.json:2:76: services[0].prefixes[3]: invalid prefix \"2001:db8::53/129\": prefix "
         "length must be 0-128 for IPv6\n"
         "t.json:2:96: services[0].prefixes[4]: duplicate prefix 192.0.2.53/32 (already at "
         "services[0].prefixes[0])\n"
         "t.json:2:110: services[0].prefixes[5]: expected string\n"
         "t.json:4:4: services[1].name: duplicate service name \"dns\" (first at "
         "services[0])\n"
         "t.json:4:49: services[1].prefixes[1]: duplicate prefix 192.0.2.53/32 (already at "
         "services[0].prefixes[0])\n"},
        {"rise_fall",
         "{\"defaults\": {\"fall\": 0},\n"
         " \"services\": [{\"name\": \"dns\", \"prefixes\": "
         "[\"192.0.2.53/32\"], \"rise\": 0,\n"
         "   \"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", "
         "\"port\": 53, \"rise\": 1001, \"fall\": 0}]}]}\n",
         "t.json:1:15: defaults.fall: expected integer 1-1000\n"
         "t.json:2:62: services[0].rise: expected integer 1-1000\n"
         "t.json:3:64: services[0].checks[0].rise: expected integer 1-1000\n"
         "t.json:3:78: services[0].checks[0].fall: expected integer 1-1000\n"},
        /* Each error is at the level that set the value nearest the check; an error of an
         * inherited value is reported once, not once per check. */
        {"timeout_interval",
         "{\"defaults\": {\"interval\": \"1s\", \"timeout\": \"500ms\"},\n"
         " \"services\": [\n"
         "  {\"name\": \"a\", \"prefixes\": [\"192.0.2.1/32\"], \"timeout\": "
         "\"1s\",\n"
         "   \"checks\": [" TCP53 ",\n"
         "              " TCP53 "]},\n"
         "  {\"name\": \"b\", \"prefixes\": [\"192.0.2.2/32\"],\n"
         "   \"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": "
         "53, "
         "\"interval\": \"500ms\"},\n"
         "              {\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 53, "
         "\"timeout\": \"2s\"},\n"
         "              {\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 53, "
         "\"interval\": \"5ms\", \"fast_interval\": 0.009, \"timeout\": 0}]}]}\n",
         "t.json:3:47: services[0].timeout: timeout 1s must be shorter than interval 1s\n"
         "t.json:7:64: services[1].checks[0].interval: interval 500ms must be longer than "
         "timeout 500ms\n"
         "t.json:8:64: services[1].checks[1].timeout: timeout 2s must be shorter than "
         "interval 1s\n"
         "t.json:9:64: services[1].checks[2].interval: must be at least 10ms\n"
         "t.json:9:83: services[1].checks[2].fast_interval: must be at least 10ms\n"
         "t.json:9:107: services[1].checks[2].timeout: must be greater than 0\n"},
        /* Against a built-in default the error is at the value that was set. */
        {"timeout_interval: defaults.interval against the built-in timeout",
         "{\"defaults\": {\"interval\": \"1s\"},\n"
         " \"services\": [{\"name\": \"a\", \"prefixes\": "
         "[\"192.0.2.1/32\"], \"checks\": [" TCP53 "]}]}\n",
         "t.json:1:15: defaults.interval: interval 1s must be longer than timeout "
         "1s\n"},
        {"timeout_interval: a check's timeout against the built-in interval",
         "{\"services\": [{\"name\": \"a\", \"prefixes\": "
         "[\"192.0.2.1/32\"],\n"
         "  \"checks\": [{\"type\": \"exec\", \"command\": [\"/bin/true\"], "
         "\"timeout\": \"2s\"}]}], \"allow_root_exec\": true}\n",
         "t.json:2:57: services[0].checks[0].timeout: timeout 2s must be shorter "
         "than interval 2s\n"},
        {"source_in_prefix",
         "{\"source\": {\"ipv4\": \"192.0.2.53\", \"ipv6\": \"2001:db8:ffff::7\"}, "
         "\"source_check\": false,\n"
         " \"defaults\": {\"source\": {\"ipv6\": \"2001:db8::53\"}},\n"
         " \"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\", "
         "\"2001:db8::53/128\"],\n"
         "   \"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": "
         "53, "
         "\"source\": {\"ipv4\": \"198.51.100.7\"}}]},\n"
         "  {\"name\": \"web\", \"prefixes\": [\"198.51.100.0/24\"], \"source\": "
         "{\"ipv4\": \"198.51.100.7\"},\n"
         "   \"checks\": [" TCP53 "]}]}\n",
         "t.json:1:13: source.ipv4: 192.0.2.53 lies inside announced prefix 192.0.2.53/32 "
         "(services[0].prefixes[0]); probes must leave from the node's unique address\n"
         "t.json:2:26: defaults.source.ipv6: 2001:db8::53 lies inside announced prefix "
         "2001:db8::53/128 (services[0].prefixes[1]); probes must leave from the node's "
         "unique address\n"
         "t.json:4:75: services[0].checks[0].source.ipv4: 198.51.100.7 lies inside "
         "announced "
         "prefix 198.51.100.0/24 (services[1].prefixes[0]); probes must leave from the "
         "node's unique address\n"
         "t.json:5:63: services[1].source.ipv4: 198.51.100.7 lies inside announced prefix "
         "198.51.100.0/24 (services[1].prefixes[0]); probes must leave from the node's "
         "unique address\n"},
        {"check_type",
         "{\"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"],\n"
         "  \"checks\": [{\"type\": \"ping\", \"host\": \"127.0.0.1\"},\n"
         "             {\"host\": \"127.0.0.1\"}, \"tcp\", {\"type\": 7}]}]}\n",
         "t.json:2:15: services[0].checks[0].type: unknown check type \"ping\" (valid "
         "types: " TYPES ")\n"
         "t.json:3:14: services[0].checks[1].type: required key is missing (one of " TYPES ")\n"
         "t.json:3:37: services[0].checks[2]: expected object\n"
         "t.json:3:45: services[0].checks[3].type: expected non-empty string\n"},
        {"services_missing: none", "{}",
         "t.json:1:1: services: required key is missing: at least one service\n"},
        {"services_missing: empty", "{\"log\": {},\n \"services\": []}",
         "t.json:2:2: services: expected non-empty array of services\n"},
        {"services_missing: not an object", "[]", "t.json:1:1: (top): expected object\n"},
        {"services_missing: keys and elements",
         "{\"services\": [{\"prefixes\": [\"192.0.2.1\"]}, 7]}",
         "t.json:1:15: services[0].name: required key is missing\n"
         "t.json:1:15: services[0].checks: required key is missing\n"
         "t.json:1:44: services[1]: expected object\n"},
        {"json_errors: duplicate key", "{\"services\": [],\n \"services\": []}",
         "t.json:2:11: (parse): duplicate object key near '\"services\"'\n"},
        {"json_errors: bad token", "{\n  \"services\": [,]\n}",
         "t.json:2:16: (parse): unexpected token near ','\n"},
        {"json_errors: empty", "", "t.json:1:1: (parse): '[' or '{' expected near end of file\n"},
        {"json_errors: trailing garbage", "{\"services\": []} x",
         "t.json:1:18: (parse): end of file expected near 'x'\n"},
        {"on_down_invalid",
         "{\"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"],\n"
         "  \"on_down\": \"withdrawn\",\n"
         "  \"on_disabled\": {\"med\": \"1000\", \"color\": \"red\"},\n"
         "  \"checks\": [" TCP53 "]}]}\n",
         "t.json:2:3: services[0].on_down: expected \"withdraw\" or an object of route "
         "attributes\n"
         "t.json:3:34: services[0].on_disabled.color: unknown key \"color\"\n"
         "t.json:3:19: services[0].on_disabled.med: expected integer 0-4294967295\n"},
        {"attrs_invalid",
         "{\"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"],\n"
         "  \"announce\": {\"next_hop\": \"me\", \"local_preference\": 4294967296,\n"
         "    \"communities\": [\"65000:53\", \"65536:1\", \"65000\", "
         "\"no-export\", "
         "\"1:2:3\"],\n"
         "    \"large_communities\": [\"65000:0:53\", \"65000:0\", "
         "\"4294967296:0:1\"],\n"
         "    \"extended_communities\": [\"target:65000:53\", \"a b\", \"[x]\"],\n"
         "    \"as_path\": [65000, -1], \"path_information\": \"x\"},\n"
         "  \"checks\": [" TCP53 "]}]}\n",
         "t.json:2:16: services[0].announce.next_hop: expected \"self\" or an IPv4 or IPv6 "
         "address\n"
         "t.json:2:34: services[0].announce.local_preference: expected integer "
         "0-4294967295\n"
         "t.json:3:33: services[0].announce.communities[1]: invalid community \"65536:1\": "
         "expected ASN:VALUE (each 0-65535) or one of no-export, no-advertise, "
         "no-export-subconfed, no-peer, blackhole\n"
         "t.json:3:44: services[0].announce.communities[2]: invalid community \"65000\": "
         "expected ASN:VALUE (each 0-65535) or one of no-export, no-advertise, "
         "no-export-subconfed, no-peer, blackhole\n"
         "t.json:3:66: services[0].announce.communities[4]: invalid community \"1:2:3\": "
         "expected ASN:VALUE (each 0-65535) or one of no-export, no-advertise, "
         "no-export-subconfed, no-peer, blackhole\n"
         "t.json:4:41: services[0].announce.large_communities[1]: invalid large community "
         "\"65000:0\": expected GLOBAL:LOCAL1:LOCAL2 (each 0-4294967295)\n"
         "t.json:4:52: services[0].announce.large_communities[2]: invalid large community "
         "\"4294967296:0:1\": expected GLOBAL:LOCAL1:LOCAL2 (each 0-4294967295)\n"
         "t.json:5:49: services[0].announce.extended_communities[1]: invalid extended "
         "community \"a b\": expected such as \"target:65000:53\", without spaces or "
         "brackets\n"
         "t.json:5:56: services[0].announce.extended_communities[2]: invalid extended "
         "community \"[x]\": expected such as \"target:65000:53\", without spaces or "
         "brackets\n"
         "t.json:6:24: services[0].announce.as_path[1]: expected integer 0-4294967295\n"
         "t.json:6:29: services[0].announce.path_information: expected an id such as "
         "\"0.0.0.1\" or an integer 0-4294967295\n"},
        {"speaker_log",
         "{\"speaker\": {\"type\": \"quagga\", \"neighbors\": [\"192.0.2.254\", "
         "\"a,b\", \"\"], \"ack_timeout\": 0},\n"
         " \"log\": {\"facility\": \"local8\", \"level\": \"loud\"},\n"
         " \"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"], "
         "\"neighbors\": [\" x\"],\n"
         "   \"checks\": [" TCP53 "]}]}\n",
         "t.json:1:14: speaker.type: unknown speaker type \"quagga\" (valid types: exabgp, "
         "bird, birdc-stdout, gobgp, frr)\n"
         "t.json:1:68: speaker.neighbors[2]: expected non-empty string\n"
         "t.json:1:73: speaker.ack_timeout: must be greater than 0\n"
         "t.json:2:10: log.facility: unknown facility \"local8\" (valid: daemon, user, "
         "local0 "
         "to local7)\n"
         "t.json:2:32: log.level: unknown level \"loud\" (valid: error, warning, info, "
         "debug)\n"
         "t.json:3:76: services[0].neighbors[0]: invalid neighbor selector \" x\": " SELECTOR "\n"},
        {"service_names",
         "{\"services\": [{\"name\": \"a b\", \"prefixes\": [\"192.0.2.1/32\"],"
         " \"checks\": [" TCP53 "]},\n"
         " {\"name\": \"x\\ny\", \"prefixes\": [\"192.0.2.2/32\"], \"checks\": "
         "[" TCP53 "]}]}\n",
         "t.json:1:16: services[0].name: invalid service name \"a b\": use up to 64 "
         "letters, "
         "digits, '_', '.' and '-'\n"
         "t.json:2:3: services[1].name: invalid service name \"x\ny\": use up to 64 "
         "letters, "
         "digits, '_', '.' and '-'\n"},
        {"fast_interval_and_reannounce",
         "{\"speaker\": {\"reannounce\": \"100ms\"},\n"
         " \"services\": [{\"name\": \"a\", \"prefixes\": [\"192.0.2.1/32\"],"
         " \"fast_interval\": \"3s\", \"checks\": [" TCP53 "]}]}\n",
         "t.json:1:14: speaker.reannounce: must be 0 (never) or at least 1s\n"
         "t.json:2:59: services[0].fast_interval: fast_interval 3s must be no longer than "
         "interval 2s\n"},
        /* Words that are not a selector would be spliced into every command line. */
        {"neighbor_selectors",
         "{\"services\": [{\"name\": \"a\", \"prefixes\": [\"192.0.2.1/32\"],\n"
         " \"neighbors\": [\"foo bar\", \"192.0.2.1 announce route 10.0.0.0/8\","
         " \"192.0.2.1 peer-as\"],\n"
         " \"checks\": [" TCP53 "]}]}\n",
         "t.json:2:16: services[0].neighbors[0]: invalid neighbor selector \"foo "
         "bar\": " SELECTOR "\n"
         "t.json:2:27: services[0].neighbors[1]: invalid neighbor selector \"192.0.2.1 "
         "announce route 10.0.0.0/8\": " SELECTOR "\n"
         "t.json:2:66: services[0].neighbors[2]: invalid neighbor selector \"192.0.2.1 "
         "peer-as\": " SELECTOR "\n"},
        {"require",
         "{\"services\": [{\"name\": \"dns\", \"prefixes\": "
         "[\"192.0.2.53/32\"], \"require\": 3,\n"
         "  \"checks\": [" TCP53 ", " TCP53 "]}]}\n",
         "t.json:1:62: services[0].require: expected integer 1-2\n"},
};

START_TEST(test_errors)
{
	const struct error_case *c = &error_cases[_i];
	tl_same_errors(c->name, tl_config_errors(c->text), c->want);
}
END_TEST

START_TEST(test_timeout_fast_interval)
{
	/* A timeout beyond the fast interval is valid (DESIGN.md's own example): the engine
	 * schedules a check's next run only after the previous one ended. */
	struct config *cfg = tl_config_ok(
	        "{\"defaults\": {\"interval\": \"2s\", \"fast_interval\": \"500ms\", \"timeout\": "
	        "\"1s\"},\n"
	        " \"services\": [{\"name\": \"a\", \"prefixes\": [\"192.0.2.1/32\"], \"checks\": "
	        "[" TCP53 "]}]}\n");
	ck_assert_uint_eq(cfg->services[0].checks[0].timing.timeout_ms, 1000);
	ck_assert_uint_eq(cfg->services[0].checks[0].timing.fast_interval_ms, 500);
	config_free(cfg);
}
END_TEST

START_TEST(test_neighbor_selectors)
{
	struct config *cfg = tl_config_ok(
	        "{\"speaker\": {\"neighbors\": [\"192.0.2.254\", \"2001:db8::1 local-ip "
	        "2001:db8::2\","
	        " \"* peer-as 65000\"]},\n"
	        " \"services\": [{\"name\": \"a\", \"prefixes\": [\"192.0.2.1/32\"], \"checks\": "
	        "[" TCP53 "]}]}\n");
	ck_assert_str_eq(cfg->services[0].neighbors[1], "2001:db8::1 local-ip 2001:db8::2");
	config_free(cfg);
}
END_TEST

START_TEST(test_require)
{
	struct config *cfg = tl_config_ok("{\"services\": [{\"name\": \"dns\", \"prefixes\": "
	                                  "[\"192.0.2.53/32\"],\n"
	                                  "  \"checks\": [" TCP53 ", " TCP53 "]},\n"
	                                  " {\"name\": \"web\", \"prefixes\": [\"192.0.2.80/32\"], "
	                                  "\"require\": 1,\n"
	                                  "  \"checks\": [" TCP53 ", " TCP53 "]}]}\n");
	ck_assert_int_eq(cfg->services[0].require, 2);
	ck_assert_int_eq(cfg->services[1].require, 1);
	config_free(cfg);
}
END_TEST

START_TEST(test_cfgerr_no_index)
{
	struct config_error e;
	char saved[CFG_PATH_MAX], saved2[CFG_PATH_MAX];
	config_error_init(&e, "x.json", NULL);
	cfgerr_add(&e, NULL, "at the top");
	cfgerr_push(&e, "services", saved);
	cfgerr_push_index(&e, 2, saved2);
	cfgerr_add(&e, "announce.med", "deep %d", 7);
	cfgerr_add(&e, "announce.med", "deep %d", 7); /* the same message once */
	cfgerr_pop(&e, saved2);
	cfgerr_add(&e, "[0]", "element");
	cfgerr_pop(&e, saved);
	ck_assert_str_eq(e.base, "");
	ck_assert_uint_eq(e.nmsgs, 3);
	ck_assert_str_eq(e.msgs[0], "x.json: (top): at the top");
	ck_assert_str_eq(e.msgs[1], "x.json: services[2].announce.med: deep 7");
	ck_assert_str_eq(e.msgs[2], "x.json: services[0]: element");
	config_error_free(&e);
	ck_assert_uint_eq(e.nmsgs, 0);
}
END_TEST

START_TEST(test_load_file)
{
	struct config_error err;
	config_error_init(&err, "/nonexistent/healthd.json", NULL);
	ck_assert_ptr_null(config_load_file("/nonexistent/healthd.json", &err));
	ck_assert_uint_eq(err.nmsgs, 1);
	ck_assert_str_eq(err.msgs[0],
	                 "/nonexistent/healthd.json: cannot open: No such file or directory");
	config_error_free(&err);

	char path[] = "/tmp/test_config_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	FILE *f = fdopen(fd, "w");
	fputs("{\"services\": [{\"name\": \"a\", \"prefixes\": [\"192.0.2.1/32\"],\n"
	      "  \"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 0}]}]}\n",
	      f);
	fclose(f);
	config_error_init(&err, path, NULL);
	ck_assert_ptr_null(config_load_file(path, &err));
	ck_assert_uint_eq(err.nmsgs, 1);
	char want[256];
	snprintf(want, sizeof(want),
	         "%s:2:51: services[0].checks[0].port: expected integer 1-65535", path);
	ck_assert_str_eq(err.msgs[0], want);
	config_error_free(&err);
	unlink(path);
}
END_TEST

static Suite *config_errors_suite(void)
{
	Suite *s = suite_create("config_errors");
	TCase *tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_errors, 0, TL_LEN(error_cases));
	tcase_add_test(tc, test_timeout_fast_interval);
	tcase_add_test(tc, test_neighbor_selectors);
	tcase_add_test(tc, test_require);
	tcase_add_test(tc, test_cfgerr_no_index);
	tcase_add_test(tc, test_load_file);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(config_errors_suite)
