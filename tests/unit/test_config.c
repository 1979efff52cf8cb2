/* The config loader: every class of error with its exact file:line:col and path, the
 * inheritance of timing and source, route attributes, and the normalized output. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "../../healthd/cfgjson.h"
#include "../../healthd/config.h"
#include "unit.h"

/* The registry, in its order (probes/probe.c). */
#define TYPES "tcp, exec, http, dns, dns-serial, dns-axfr"
#define SELECTOR                                                                                   \
	"expected an address such as \"192.0.2.254\", optionally followed by pairs such as "       \
	"\"local-ip 192.0.2.1\" or \"peer-as 65000\""

#define NAME "t.json"

/* All messages of a refused config, one per line. */
static const char *errors_of(const char *text)
{
	static char joined[16384];
	struct config_error err;
	config_error_init(&err, NAME, NULL);
	struct config *cfg = config_load_string(text, NAME, &err);
	ck_assert_msg(cfg == NULL, "config accepted:\n%s", text);
	ck_assert_ptr_null(err.pos); /* the index does not outlive the load */
	joined[0] = '\0';
	for (size_t i = 0; i < err.nmsgs; i++) {
		strncat(joined, err.msgs[i], sizeof(joined) - strlen(joined) - 1);
		strncat(joined, "\n", sizeof(joined) - strlen(joined) - 1);
	}
	config_error_free(&err);
	return joined;
}

/* Check's messages are limited in size: show long differences on stderr instead. */
static void same_errors(const char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fprintf(stderr, "--- want:\n%s--- got:\n%s", want, got);
	ck_assert_msg(strcmp(got, want) == 0, "errors differ (see stderr)");
}

static struct config *load_ok(const char *text)
{
	struct config_error err;
	config_error_init(&err, NAME, NULL);
	struct config *cfg = config_load_string(text, NAME, &err);
	ck_assert_msg(cfg != NULL && err.nmsgs == 0, "refused: %s", err.nmsgs ? err.msgs[0] : "?");
	config_error_free(&err);
	return cfg;
}

#define TCP53 "{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 53}"

START_TEST(test_unknown_keys)
{
	same_errors(
	        errors_of("{\n"
	                  "  \"servces\": [],\n"
	                  "  \"defaults\": {\"rise\": 2, \"intervall\": \"1s\"},\n"
	                  "  \"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"], "
	                  "\"announce\": {\"mde\": 5},\n"
	                  "    \"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": "
	                  "53, "
	                  "\"intreval\": \"1s\"},\n"
	                  "               {\"type\": \"exec\", \"command\": [\"/bin/true\"], "
	                  "\"timeot\": \"1s\", \"zzz\": 1}]}]\n"
	                  "}\n"),
	        "t.json:2:3: servces: unknown key \"servces\" (did you mean \"services\"?)\n"
	        "t.json:3:27: defaults.intervall: unknown key \"intervall\" (did you mean "
	        "\"interval\"?)\n"
	        "t.json:4:76: services[0].announce.mde: unknown key \"mde\" (did you mean "
	        "\"med\"?)\n"
	        "t.json:5:65: services[0].checks[0].intreval: unknown key \"intreval\" (did you "
	        "mean \"interval\"?)\n"
	        "t.json:6:59: services[0].checks[1].timeot: unknown key \"timeot\" (did you mean "
	        "\"timeout\"?)\n"
	        "t.json:6:75: services[0].checks[1].zzz: unknown key \"zzz\"\n");
}
END_TEST

START_TEST(test_wrong_types)
{
	same_errors(
	        errors_of("{\n"
	                  "  \"source_check\": \"yes\",\n"
	                  "  \"log\": {\"syslog\": 1, \"level\": 3},\n"
	                  "  \"speaker\": {\"neighbors\": \"192.0.2.254\", \"reannounce\": true},\n"
	                  "  \"services\": [{\"name\": \"\", \"prefixes\": \"192.0.2.53/32\", "
	                  "\"announce\": [],\n"
	                  "    \"require\": \"1\", \"disable_file\": \"relative/path\",\n"
	                  "    \"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": "
	                  "\"53\", \"rise\": \"3\", \"interval\": [1]}]}]\n"
	                  "}\n"),
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
	        "t.json:6:5: services[0].require: expected integer 1-1\n");
}
END_TEST

START_TEST(test_source_types)
{
	same_errors(
	        errors_of("{\"source\": \"198.51.100.7\", \"source_check\": false,\n"
	                  " \"defaults\": {\"source\": {\"ipv4\": \"2001:db8::1\", \"ipv6\": "
	                  "\"2001:db8::1\", \"ipv5\": \"x\"}},\n"
	                  " \"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"],\n"
	                  "   \"checks\": [" TCP53 "]}]}\n"),
	        "t.json:1:2: source: expected object with \"ipv4\" and/or \"ipv6\"\n"
	        "t.json:2:72: defaults.source.ipv5: unknown key \"ipv5\" (did you mean \"ipv4\"?)\n"
	        "t.json:2:26: defaults.source.ipv4: expected a numeric IPv4 address, got an "
	        "address "
	        "of the other family\n");
}
END_TEST

START_TEST(test_prefixes)
{
	same_errors(
	        errors_of(
	                "{\"services\": [\n"
	                "  {\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\", \"192.0.2.1/24\", "
	                "\"192.0.2\", \"2001:db8::53/129\", \"192.0.2.53\", 53],\n"
	                "   \"checks\": [" TCP53 "]},\n"
	                "  {\"name\": \"dns\", \"prefixes\": [\"2001:db8::/32\", "
	                "\"192.0.2.53/32\"],\n"
	                "   \"checks\": [" TCP53 "]}\n"
	                "]}\n"),
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
	        "services[0].prefixes[0])\n");
}
END_TEST

START_TEST(test_rise_fall)
{
	same_errors(errors_of("{\"defaults\": {\"fall\": 0},\n"
	                      " \"services\": [{\"name\": \"dns\", \"prefixes\": "
	                      "[\"192.0.2.53/32\"], \"rise\": 0,\n"
	                      "   \"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", "
	                      "\"port\": 53, \"rise\": 1001, \"fall\": 0}]}]}\n"),
	            "t.json:1:15: defaults.fall: expected integer 1-1000\n"
	            "t.json:2:62: services[0].rise: expected integer 1-1000\n"
	            "t.json:3:64: services[0].checks[0].rise: expected integer 1-1000\n"
	            "t.json:3:78: services[0].checks[0].fall: expected integer 1-1000\n");
}
END_TEST

START_TEST(test_timeout_interval)
{
	/* Each error is at the level that set the value nearest the check; an error of an
	 * inherited value is reported once, not once per check. */
	same_errors(
	        errors_of(
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
	                "\"interval\": \"5ms\", \"fast_interval\": 0.009, \"timeout\": 0}]}]}\n"),
	        "t.json:3:47: services[0].timeout: timeout 1s must be shorter than interval 1s\n"
	        "t.json:7:64: services[1].checks[0].interval: interval 500ms must be longer than "
	        "timeout 500ms\n"
	        "t.json:8:64: services[1].checks[1].timeout: timeout 2s must be shorter than "
	        "interval 1s\n"
	        "t.json:9:64: services[1].checks[2].interval: must be at least 10ms\n"
	        "t.json:9:83: services[1].checks[2].fast_interval: must be at least 10ms\n"
	        "t.json:9:107: services[1].checks[2].timeout: must be greater than 0\n");

	/* Against a built-in default the error is at the value that was set. */
	same_errors(errors_of("{\"defaults\": {\"interval\": \"1s\"},\n"
	                      " \"services\": [{\"name\": \"a\", \"prefixes\": "
	                      "[\"192.0.2.1/32\"], \"checks\": [" TCP53 "]}]}\n"),
	            "t.json:1:15: defaults.interval: interval 1s must be longer than timeout "
	            "1s\n");
	same_errors(errors_of("{\"services\": [{\"name\": \"a\", \"prefixes\": "
	                      "[\"192.0.2.1/32\"],\n"
	                      "  \"checks\": [{\"type\": \"exec\", \"command\": [\"/bin/true\"], "
	                      "\"timeout\": \"2s\"}]}]}\n"),
	            "t.json:2:57: services[0].checks[0].timeout: timeout 2s must be shorter "
	            "than interval 2s\n");
}
END_TEST

START_TEST(test_timeout_fast_interval)
{
	/* A timeout beyond the fast interval is valid (DESIGN.md's own example): the engine
	 * schedules a check's next run only after the previous one ended. */
	struct config *cfg = load_ok(
	        "{\"defaults\": {\"interval\": \"2s\", \"fast_interval\": \"500ms\", \"timeout\": "
	        "\"1s\"},\n"
	        " \"services\": [{\"name\": \"a\", \"prefixes\": [\"192.0.2.1/32\"], \"checks\": "
	        "[" TCP53 "]}]}\n");
	ck_assert_uint_eq(cfg->services[0].checks[0].timing.timeout_ms, 1000);
	ck_assert_uint_eq(cfg->services[0].checks[0].timing.fast_interval_ms, 500);
	config_free(cfg);
}
END_TEST

START_TEST(test_source_in_prefix)
{
	same_errors(
	        errors_of(
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
	                "   \"checks\": [" TCP53 "]}]}\n"),
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
	        "unique address\n");
}
END_TEST

START_TEST(test_check_type)
{
	same_errors(
	        errors_of("{\"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"],\n"
	                  "  \"checks\": [{\"type\": \"ping\", \"host\": \"127.0.0.1\"},\n"
	                  "             {\"host\": \"127.0.0.1\"}, \"tcp\", {\"type\": 7}]}]}\n"),
	        "t.json:2:15: services[0].checks[0].type: unknown check type \"ping\" (valid "
	        "types: " TYPES ")\n"
	        "t.json:3:14: services[0].checks[1].type: required key is missing (one of " TYPES
	        ")\n"
	        "t.json:3:37: services[0].checks[2]: expected object\n"
	        "t.json:3:45: services[0].checks[3].type: expected non-empty string\n");
}
END_TEST

START_TEST(test_services_missing)
{
	same_errors(errors_of("{}"),
	            "t.json:1:1: services: required key is missing: at least one service\n");
	same_errors(errors_of("{\"log\": {},\n \"services\": []}"),
	            "t.json:2:2: services: expected non-empty array of services\n");
	same_errors(errors_of("[]"), "t.json:1:1: (top): expected object\n");
	same_errors(errors_of("{\"services\": [{\"prefixes\": [\"192.0.2.1\"]}, 7]}"),
	            "t.json:1:15: services[0].name: required key is missing\n"
	            "t.json:1:15: services[0].checks: required key is missing\n"
	            "t.json:1:44: services[1]: expected object\n");
}
END_TEST

START_TEST(test_json_errors)
{
	same_errors(errors_of("{\"services\": [],\n \"services\": []}"),
	            "t.json:2:11: (parse): duplicate object key near '\"services\"'\n");
	same_errors(errors_of("{\n  \"services\": [,]\n}"),
	            "t.json:2:16: (parse): unexpected token near ','\n");
	same_errors(errors_of(""), "t.json:1:1: (parse): '[' or '{' expected near end of file\n");
	same_errors(errors_of("{\"services\": []} x"),
	            "t.json:1:18: (parse): end of file expected near 'x'\n");
}
END_TEST

START_TEST(test_on_down_invalid)
{
	same_errors(
	        errors_of("{\"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"],\n"
	                  "  \"on_down\": \"withdrawn\",\n"
	                  "  \"on_disabled\": {\"med\": \"1000\", \"color\": \"red\"},\n"
	                  "  \"checks\": [" TCP53 "]}]}\n"),
	        "t.json:2:3: services[0].on_down: expected \"withdraw\" or an object of route "
	        "attributes\n"
	        "t.json:3:34: services[0].on_disabled.color: unknown key \"color\"\n"
	        "t.json:3:19: services[0].on_disabled.med: expected integer 0-4294967295\n");
}
END_TEST

START_TEST(test_attrs_invalid)
{
	same_errors(
	        errors_of(
	                "{\"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"],\n"
	                "  \"announce\": {\"next_hop\": \"me\", \"local_preference\": 4294967296,\n"
	                "    \"communities\": [\"65000:53\", \"65536:1\", \"65000\", "
	                "\"no-export\", "
	                "\"1:2:3\"],\n"
	                "    \"large_communities\": [\"65000:0:53\", \"65000:0\", "
	                "\"4294967296:0:1\"],\n"
	                "    \"extended_communities\": [\"target:65000:53\", \"a b\", \"[x]\"],\n"
	                "    \"as_path\": [65000, -1], \"path_information\": \"x\"},\n"
	                "  \"checks\": [" TCP53 "]}]}\n"),
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
	        "\"0.0.0.1\" or an integer 0-4294967295\n");
}
END_TEST

START_TEST(test_speaker_log)
{
	same_errors(
	        errors_of("{\"speaker\": {\"type\": \"quagga\", \"neighbors\": [\"192.0.2.254\", "
	                  "\"a,b\", \"\"], \"ack_timeout\": 0},\n"
	                  " \"log\": {\"facility\": \"local8\", \"level\": \"loud\"},\n"
	                  " \"services\": [{\"name\": \"dns\", \"prefixes\": [\"192.0.2.53/32\"], "
	                  "\"neighbors\": [\" x\"],\n"
	                  "   \"checks\": [" TCP53 "]}]}\n"),
	        "t.json:1:14: speaker.type: unknown speaker type \"quagga\" (valid types: exabgp, "
	        "bird, birdc-stdout)\n"
	        "t.json:1:68: speaker.neighbors[2]: expected non-empty string\n"
	        "t.json:1:73: speaker.ack_timeout: must be greater than 0\n"
	        "t.json:2:10: log.facility: unknown facility \"local8\" (valid: daemon, user, "
	        "local0 "
	        "to local7)\n"
	        "t.json:2:32: log.level: unknown level \"loud\" (valid: error, warning, info, "
	        "debug)\n"
	        "t.json:3:76: services[0].neighbors[0]: invalid neighbor selector \" x\": " SELECTOR
	        "\n");
}
END_TEST

START_TEST(test_neighbor_selectors)
{
	struct config *cfg = load_ok(
	        "{\"speaker\": {\"neighbors\": [\"192.0.2.254\", \"2001:db8::1 local-ip "
	        "2001:db8::2\","
	        " \"* peer-as 65000\"]},\n"
	        " \"services\": [{\"name\": \"a\", \"prefixes\": [\"192.0.2.1/32\"], \"checks\": "
	        "[" TCP53 "]}]}\n");
	ck_assert_str_eq(cfg->services[0].neighbors[1], "2001:db8::1 local-ip 2001:db8::2");
	config_free(cfg);
	/* Words that are not a selector would be spliced into every command line. */
	same_errors(
	        errors_of("{\"services\": [{\"name\": \"a\", \"prefixes\": [\"192.0.2.1/32\"],\n"
	                  " \"neighbors\": [\"foo bar\", \"192.0.2.1 announce route 10.0.0.0/8\","
	                  " \"192.0.2.1 peer-as\"],\n"
	                  " \"checks\": [" TCP53 "]}]}\n"),
	        "t.json:2:16: services[0].neighbors[0]: invalid neighbor selector \"foo "
	        "bar\": " SELECTOR "\n"
	        "t.json:2:27: services[0].neighbors[1]: invalid neighbor selector \"192.0.2.1 "
	        "announce route 10.0.0.0/8\": " SELECTOR "\n"
	        "t.json:2:66: services[0].neighbors[2]: invalid neighbor selector \"192.0.2.1 "
	        "peer-as\": " SELECTOR "\n");
}
END_TEST

START_TEST(test_service_names)
{
	same_errors(
	        errors_of("{\"services\": [{\"name\": \"a b\", \"prefixes\": [\"192.0.2.1/32\"],"
	                  " \"checks\": [" TCP53 "]},\n"
	                  " {\"name\": \"x\\ny\", \"prefixes\": [\"192.0.2.2/32\"], \"checks\": "
	                  "[" TCP53 "]}]}\n"),
	        "t.json:1:16: services[0].name: invalid service name \"a b\": use up to 64 "
	        "letters, "
	        "digits, '_', '.' and '-'\n"
	        "t.json:2:3: services[1].name: invalid service name \"x\ny\": use up to 64 "
	        "letters, "
	        "digits, '_', '.' and '-'\n");
}
END_TEST

START_TEST(test_fast_interval_and_reannounce)
{
	same_errors(
	        errors_of("{\"speaker\": {\"reannounce\": \"100ms\"},\n"
	                  " \"services\": [{\"name\": \"a\", \"prefixes\": [\"192.0.2.1/32\"],"
	                  " \"fast_interval\": \"3s\", \"checks\": [" TCP53 "]}]}\n"),
	        "t.json:1:14: speaker.reannounce: must be 0 (never) or at least 1s\n"
	        "t.json:2:59: services[0].fast_interval: fast_interval 3s must be no longer than "
	        "interval 2s\n");
}
END_TEST

START_TEST(test_require)
{
	same_errors(errors_of("{\"services\": [{\"name\": \"dns\", \"prefixes\": "
	                      "[\"192.0.2.53/32\"], \"require\": 3,\n"
	                      "  \"checks\": [" TCP53 ", " TCP53 "]}]}\n"),
	            "t.json:1:62: services[0].require: expected integer 1-2\n");
	struct config *cfg = load_ok("{\"services\": [{\"name\": \"dns\", \"prefixes\": "
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

START_TEST(test_timing_nearest_wins)
{
	struct config *cfg = load_ok(
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
	ck_assert_uint_eq(c0->probe->timeout_ms, 2000);
	ck_assert_uint_eq(c1->timing.interval_ms, 5000);
	ck_assert_int_eq(c1->timing.rise, 4);
	ck_assert_uint_eq(w0->timing.interval_ms, 10000);
	ck_assert_int_eq(w0->timing.rise, 5);
	ck_assert_str_eq(c1->path, "services[0].checks[1]");
	ck_assert_str_eq(w0->path, "services[1].checks[0]");
	ck_assert_str_eq(c0->probe->service, "dns");
	ck_assert_str_eq(w0->probe->service, "web");

	/* Source per family: the check's ipv4, the service's ipv6. */
	ck_assert(c0->probe->source.has_v4 && c0->probe->source.has_v6);
	ck_assert_str_eq(inet_ntop(AF_INET, &c0->probe->source.v4, a, sizeof(a)), "198.51.100.9");
	ck_assert_str_eq(inet_ntop(AF_INET6, &c0->probe->source.v6, a, sizeof(a)),
	                 "2001:db8:ffff::8");
	ck_assert_str_eq(inet_ntop(AF_INET, &c1->probe->source.v4, a, sizeof(a)), "198.51.100.7");
	ck_assert_str_eq(inet_ntop(AF_INET6, &c1->probe->source.v6, a, sizeof(a)),
	                 "2001:db8:ffff::8");
	ck_assert_str_eq(inet_ntop(AF_INET6, &w0->probe->source.v6, a, sizeof(a)),
	                 "2001:db8:ffff::7");
	config_free(cfg);

	/* Nothing set anywhere: the built-in defaults. */
	cfg = load_ok("{\"services\": [{\"name\": \"a\", \"prefixes\": [\"192.0.2.1/32\"], "
	              "\"checks\": [" TCP53 "]}]}");
	const struct timing *t = &cfg->services[0].checks[0].timing;
	ck_assert_uint_eq(t->interval_ms, CONFIG_DEFAULT_INTERVAL_MS);
	ck_assert_uint_eq(t->fast_interval_ms, CONFIG_DEFAULT_FAST_INTERVAL_MS);
	ck_assert_uint_eq(t->timeout_ms, CONFIG_DEFAULT_TIMEOUT_MS);
	ck_assert_int_eq(t->rise, CONFIG_DEFAULT_RISE);
	ck_assert_int_eq(t->fall, CONFIG_DEFAULT_FALL);
	ck_assert(!cfg->services[0].checks[0].probe->source.has_v4);
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
	struct config *cfg = load_ok(
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
        "\"disable_file\": \"/run/dns.off\", \"neighbors\": [], \"require\": 1, "
        "\"require_local_address\": false, "
        "\"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 53, "
        "\"interval\": \"5s\", \"fast_interval\": \"500ms\", \"timeout\": \"1s500ms\", \"rise\": "
        "2, \"fall\": 3, \"source\": {\"ipv4\": \"198.51.100.7\", \"ipv6\": "
        "\"2001:db8:ffff::7\"}}]}]}";

static char *normalized(const char *text, size_t flags)
{
	struct config *cfg = load_ok(text);
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
	struct cfgpos *pos = cfgpos_build(text);
	int line = 0, col = 0;
	ck_assert_ptr_nonnull(pos);
	ck_assert_int_eq(cfgpos_lookup(pos, "", &line, &col), 0);
	ck_assert_int_eq(line * 1000 + col, 1001);
	ck_assert_int_eq(cfgpos_lookup(pos, "a", &line, &col), 0);
	ck_assert_int_eq(line * 1000 + col, 2002);
	ck_assert_int_eq(cfgpos_lookup(pos, "a.b\xc3\xa9", &line, &col), 0);
	ck_assert_int_eq(line * 1000 + col, 2008);
	ck_assert_int_eq(cfgpos_lookup(pos, "a.b\xc3\xa9[1]", &line, &col), 0);
	ck_assert_int_eq(line * 1000 + col, 2023);
	ck_assert_int_eq(cfgpos_lookup(pos, "a.b\xc3\xa9[1].c", &line, &col), 0);
	ck_assert_int_eq(line * 1000 + col, 2024);
	ck_assert_int_eq(cfgpos_lookup(pos, "\xc3\xa9", &line, &col), 0);
	ck_assert_int_eq(line * 1000 + col, 3003);
	/* Columns count characters: "é" is one. */
	ck_assert_int_eq(cfgpos_lookup(pos, "\xc3\xa9[1]", &line, &col), 0);
	ck_assert_int_eq(line * 1000 + col, 3015);
	ck_assert_int_eq(cfgpos_lookup(pos, "\xc3\xa9[2]", &line, &col), 0);
	ck_assert_int_eq(line * 1000 + col, 3021);
	ck_assert_int_eq(cfgpos_lookup(pos, "a.b", &line, &col), 0);
	ck_assert_int_eq(line * 1000 + col, 3025);
	ck_assert_int_eq(cfgpos_lookup(pos, "a.c", &line, &col), -1);
	ck_assert_int_eq(cfgpos_lookup(pos, "\xc3\xa9[3]", &line, &col), -1);
	cfgpos_free(pos);
	ck_assert_int_eq(cfgpos_lookup(NULL, "", &line, &col), -1);
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

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("errors");
	tcase_add_test(tc, test_unknown_keys);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_source_types);
	tcase_add_test(tc, test_prefixes);
	tcase_add_test(tc, test_rise_fall);
	tcase_add_test(tc, test_timeout_interval);
	tcase_add_test(tc, test_timeout_fast_interval);
	tcase_add_test(tc, test_source_in_prefix);
	tcase_add_test(tc, test_check_type);
	tcase_add_test(tc, test_services_missing);
	tcase_add_test(tc, test_json_errors);
	tcase_add_test(tc, test_on_down_invalid);
	tcase_add_test(tc, test_attrs_invalid);
	tcase_add_test(tc, test_speaker_log);
	tcase_add_test(tc, test_neighbor_selectors);
	tcase_add_test(tc, test_service_names);
	tcase_add_test(tc, test_fast_interval_and_reannounce);
	tcase_add_test(tc, test_require);
	tcase_add_test(tc, test_cfgerr_no_index);
	tcase_add_test(tc, test_load_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_test(tc, test_timing_nearest_wins);
	tcase_add_test(tc, test_on_down_replaces);
	tcase_add_test(tc, test_normalized);
	tcase_add_test(tc, test_cfgpos);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(config_suite)
