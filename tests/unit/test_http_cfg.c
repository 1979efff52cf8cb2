/* The http probe's configuration: every class of bad input refused with its message,
 * and the normalized form that "healthd check" prints configuring the same probe again.
 * Runs against servers are in test_http.c and test_http_body.c. */
#include <stdlib.h>

#include "testlib.h"

static const struct tl_probe_case config_cases[] = {
        {"http", "{}", "test: url: required key is missing (expected http:// or https:// URL)",
         TL_EXACT},
        {"http", "{\"url\": \"ftp://127.0.0.1/\"}",
         "test: url: unsupported scheme \"ftp\" (expected http or https)", TL_EXACT},
        {"http", "{\"url\": \"127.0.0.1/health\"}",
         "test: url: invalid URL \"127.0.0.1/health\": ", TL_PREFIX},
        {"http", "{\"url\": \"http://www.example/\"}", "test: url: host \"www.example\" is a name",
         TL_PREFIX},
        {"http", "{\"url\": \"http://www.example/\", \"connect_to\": \"localhost\"}",
         "test: connect_to: expected a numeric address", TL_PREFIX},
        {"http", "{\"url\": \"http://a.example/\", \"connect_to\": \"[::1]80\"}", "", TL_PREFIX},
        {"http", "{\"url\": \"http://a.example/\", \"connect_to\": \"1.2.3.4:0\"}", "", TL_PREFIX},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"(unclosed\"}",
         "test: expect_body_regex: invalid POSIX extended regular "
         "expression \"(unclosed\": ",
         TL_PREFIX},
        /* regcomp copies what a count or "+" repeats, and loops over what matches the
         * empty string: large or nested counts, and repeated empty matches, took it
         * seconds to gigabytes, or forever (found by fuzzing). */
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"(a{1000}){1000}\"}",
         "test: expect_body_regex: \"(a{1000}){1000}\": byte 2: count 1000 in {1000} is more than "
         "16",
         TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"a{17,}\"}",
         "test: expect_body_regex: \"a{17,}\": byte 1: count 17 in {17,} is more than 16",
         TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"(a{2}){3}\"}",
         "test: expect_body_regex: \"(a{2}){3}\": byte 6: {3} repeats something that already holds "
         "a counted repetition {...}: they cannot be nested",
         TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"a{2}{3}\"}",
         "test: expect_body_regex: \"a{2}{3}\": byte 4: {3} repeats something that already holds",
         TL_PREFIX},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"x((a|b{2})+){4}\"}",
         "test: expect_body_regex: \"x((a|b{2})+){4}\": byte 12: {4} repeats something that "
         "already holds",
         TL_PREFIX},
        {"http",
         "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": "
         "\"(x(((((((y+)+)+)+)+)+)+)){4}\"}",
         "test: expect_body_regex: \"(x(((((((y+)+)+)+)+)+)+)){4}\": more than 256 atoms and "
         "operators once its repetitions are copied out",
         TL_PREFIX},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"(ok)\\\\1\"}",
         "test: expect_body_regex: \"(ok)\\1\": byte 4: back-reference \\1: not part of POSIX "
         "extended regular expressions",
         TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"((x*)*){0,999}\"}",
         "test: expect_body_regex: \"((x*)*){0,999}\": byte 5: * repeats something that can match "
         "the empty string",
         TL_PREFIX},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"((^|$)*\\\\b)*\"}",
         "test: expect_body_regex: \"((^|$)*\\b)*\": byte 6: * repeats something that can match "
         "the empty string",
         TL_PREFIX},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"((^|$)(^|$))+\"}",
         "test: expect_body_regex: \"((^|$)(^|$))+\": byte 12: + repeats something that can match "
         "the empty string",
         TL_PREFIX},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"(x|y*){2}\"}",
         "test: expect_body_regex: \"(x|y*){2}\": byte 6: {2} repeats something that can match the "
         "empty string",
         TL_PREFIX},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"(x|)?\"}",
         "test: expect_body_regex: \"(x|)?\": byte 4: ? repeats something that can match the empty "
         "string",
         TL_PREFIX},
        {"http",
         "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"(^|$)(^|$)(^|$)(^|$)(^|$)\"}",
         "test: expect_body_regex: \"(^|$)(^|$)(^|$)(^|$)(^|$)\": byte 21: more than 8 anchors",
         TL_PREFIX},
        /* Common patterns, and the largest counts, are accepted. */
        {"http",
         "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"^(ab|cd)+ "
         "([0-9]+\\\\.){3}[0-9]+(:[0-9]+)?$\"}",
         NULL, TL_EXACT},
        {"http",
         "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"\\\"status\\\": *\\\"ok\\\"\"}",
         NULL, TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"^OK$\"}", NULL,
         TL_EXACT},
        {"http",
         "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"version [0-9]+\\\\.[0-9]+\"}",
         NULL, TL_EXACT},
        {"http",
         "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"x[0-9a-f]{16}b{0,16}\"}", NULL,
         TL_EXACT},
        {"http",
         "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": "
         "\"^[[:digit:]]{4}-[0-9]{2}-[0-9]{2}$\"}",
         NULL, TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"(ab|cd){1,16}\"}", NULL,
         TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"a\\\\\\\\1\"}", NULL,
         TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"(x*y){16}\"}", NULL,
         TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_status\": [200, 600]}",
         "test: expect_status[1]: expected a status 100-599 or a range "
         "\"200-399\" (low-high)",
         TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_status\": [\"399-200\"]}", "",
         TL_PREFIX},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_status\": [\"2xx\"]}", "", TL_PREFIX},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_status\": \"200\"}", "", TL_PREFIX},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"expect_status\": []}", "", TL_PREFIX},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"method\": \"POST\"}",
         "test: method: unknown method \"POST\" (valid: GET, HEAD)", TL_EXACT},
        {"http",
         "{\"url\": \"http://127.0.0.1/\", \"method\": \"HEAD\", \"expect_body\": "
         "\"x\"}",
         "test: expect_body: a HEAD response has no body to match (use "
         "\"method\": \"GET\")",
         TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"max_body\": 0}",
         "test: max_body: expected integer 1-16777216", TL_EXACT},
        {"http",
         "{\"url\": \"http://127.0.0.1/\", \"max_body\": 2, \"expect_body\": "
         "\"abc\"}",
         "test: expect_body: 3 bytes long, more than max_body (2): it could "
         "never be found",
         TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"ca_file\": \"/etc/hostname\"}",
         "test: ca_file: only https:// URLs use a CA file", TL_EXACT},
        {"http", "{\"url\": \"https://127.0.0.1/\", \"ca_file\": \"ca.pem\"}",
         "test: ca_file: expected an absolute path", TL_PREFIX},
        {"http", "{\"url\": \"https://127.0.0.1/\", \"ca_file\": \"/nonexistent/ca.pem\"}",
         "test: ca_file: cannot read /nonexistent/ca.pem: No such file or "
         "directory",
         TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"insecure\": true}",
         "test: insecure: only https:// URLs have certificates to verify", TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"tls_resume\": false}",
         "test: tls_resume: only https:// URLs have TLS sessions to resume", TL_EXACT},
        {"http", "{\"url\": \"https://127.0.0.1/\", \"tls_resume\": \"no\"}",
         "test: tls_resume: ", TL_PREFIX},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"headers\": {\"Bad Name\": \"x\"}}",
         "test: headers.Bad Name: invalid header name", TL_PREFIX},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"headers\": [\"NoColon\"]}",
         "test: headers[0]: expected string \"Name: value\"", TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"headers\": [\"X-A: a\\r\\nX-B: b\"]}",
         "test: headers[0]: control character in header value", TL_EXACT},
        {"http", "{\"url\": \"http://127.0.0.1/\", \"host\": \"a b\"}",
         "test: host: expected a host name, with an optional :port, not \"a b\"", TL_EXACT},
        {"http",
         "{\"url\": \"http://127.0.0.1/\", \"host\": \"a\", \"headers\": "
         "[\"host: b\"]}",
         "test: host: set twice: here and as a Host header in \"headers\"", TL_EXACT},
        {"http",
         "{\"url\": \"https://[::1]:8443/x?y=1\", \"insecure\": "
         "true, \"method\": \"HEAD\", \"expect_status\": [200]}",
         NULL, TL_EXACT},
        {"http",
         "{\"url\": \"https://dns.example/\", \"connect_to\": "
         "\"[2001:db8::53]:8443\", \"ca_file\": \"/etc/hostname\"}",
         NULL, TL_EXACT},
};

START_TEST(test_config)
{
	tl_check_probe_case(&config_cases[_i]);
}
END_TEST

/* Every key of the type is listed for config.c's unknown-key check. */
START_TEST(test_keys)
{
	static const char *const keys[] = {
	        "url",      "method",  "expect_status", "expect_body", "expect_body_regex",
	        "max_body", "headers", "host",          "connect_to",  "ca_file",
	        "insecure", NULL};
	tl_assert_keys(&probe_http_ops, keys);
}
END_TEST

START_TEST(test_to_json)
{
	struct probe *p = tl_probe(
	        "http", 0,
	        "{\"url\": \"https://dns.example/health\", \"connect_to\": \"127.0.0.1:8443\", "
	        "\"expect_status\": [\"200-204\", 301], \"expect_body\": \"ok\", "
	        "\"headers\": {\"X-A\": \" 1 \"}, \"insecure\": true}");
	json_t *j = p->ops->to_json(p);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(
	        s, "{\"url\":\"https://dns.example/health\",\"method\":\"GET\","
	           "\"expect_status\":[\"200-204\",301],\"expect_body\":\"ok\","
	           "\"max_body\":65536,\"headers\":[\"X-A: 1\"],"
	           "\"connect_to\":\"127.0.0.1:8443\",\"insecure\":true,\"tls_resume\":true}");
	free(s);
	/* What to_json prints configures the same probe again. */
	struct probe *q = tl_probe_json(&probe_http_ops, j);
	ck_assert_str_eq(q->label, "http https://dns.example/health via 127.0.0.1:8443");
	json_t *j2 = q->ops->to_json(q);
	ck_assert(json_equal(j, j2));
	json_decref(j2);
	probe_free(q);
	json_decref(j);
	probe_free(p);
}
END_TEST

static Suite *http_cfg_suite(void)
{
	Suite *s = suite_create("http_cfg");
	TCase *tc = tcase_create("http_cfg");
	tcase_add_loop_test(tc, test_config, 0, TL_LEN(config_cases));
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_to_json);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(http_cfg_suite)
