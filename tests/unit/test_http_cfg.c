/* The http probe's configuration: every class of bad input refused with its message,
 * and the normalized form that "healthd check" prints configuring the same probe again.
 * Runs against servers are in test_http.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../../healthd/cfgerr.h"
#include "../../probes/probe.h"
#include "unit.h"

static struct probe *mk_probe(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct probe *mk_probe(const char *fmt, ...)
{
	char text[1024];
	struct config_error err;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_t *obj = json_loads(text, 0, NULL);
	ck_assert_msg(obj != NULL, "bad JSON: %s", text);
	config_error_init(&err, "test", NULL);
	struct probe *p = probe_new(&probe_http_ops, obj, &err);
	ck_assert_msg(p != NULL, "%s: %s", text, err.nmsgs > 0 ? err.msgs[0] : "no message");
	json_decref(obj);
	config_error_free(&err);
	return p;
}

/* The first config error for text, or NULL when it configures. */
static const char *config_fails(const char *text)
{
	static char msg[512];
	struct config_error err;
	json_t *obj = json_loads(text, 0, NULL);

	ck_assert_msg(obj != NULL, "bad JSON: %s", text);
	config_error_init(&err, "test", NULL);
	struct probe *p = probe_new(&probe_http_ops, obj, &err);
	json_decref(obj);
	if (p != NULL) {
		probe_free(p);
		config_error_free(&err);
		return NULL;
	}
	ck_assert_uint_ge(err.nmsgs, 1);
	snprintf(msg, sizeof(msg), "%s", err.msgs[0]);
	config_error_free(&err);
	return msg;
}

START_TEST(test_config)
{
	const char *m;

	m = config_fails("{}");
	ck_assert_pstr_eq(m,
	                  "test: url: required key is missing (expected http:// or https:// URL)");
	m = config_fails("{\"url\": \"ftp://127.0.0.1/\"}");
	ck_assert_pstr_eq(m, "test: url: unsupported scheme \"ftp\" (expected http or https)");
	m = config_fails("{\"url\": \"127.0.0.1/health\"}");
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(strstr(m, "test: url: invalid URL \"127.0.0.1/health\": ") == m, "%s", m);
	m = config_fails("{\"url\": \"http://www.example/\"}");
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(strstr(m, "test: url: host \"www.example\" is a name") == m, "%s", m);
	m = config_fails("{\"url\": \"http://www.example/\", \"connect_to\": \"localhost\"}");
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(strstr(m, "test: connect_to: expected a numeric address") == m, "%s", m);
	ck_assert_ptr_nonnull(
	        config_fails("{\"url\": \"http://a.example/\", \"connect_to\": \"[::1]80\"}"));
	ck_assert_ptr_nonnull(
	        config_fails("{\"url\": \"http://a.example/\", \"connect_to\": \"1.2.3.4:0\"}"));
	m = config_fails("{\"url\": \"http://127.0.0.1/\", \"expect_body_regex\": \"(unclosed\"}");
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(strstr(m, "test: expect_body_regex: invalid POSIX extended regular "
	                        "expression \"(unclosed\": ") == m,
	              "%s", m);
	m = config_fails("{\"url\": \"http://127.0.0.1/\", \"expect_status\": [200, 600]}");
	ck_assert_pstr_eq(m, "test: expect_status[1]: expected a status 100-599 or a range "
	                     "\"200-399\" (low-high)");
	ck_assert_ptr_nonnull(
	        config_fails("{\"url\": \"http://127.0.0.1/\", \"expect_status\": [\"399-200\"]}"));
	ck_assert_ptr_nonnull(
	        config_fails("{\"url\": \"http://127.0.0.1/\", \"expect_status\": [\"2xx\"]}"));
	ck_assert_ptr_nonnull(
	        config_fails("{\"url\": \"http://127.0.0.1/\", \"expect_status\": \"200\"}"));
	ck_assert_ptr_nonnull(
	        config_fails("{\"url\": \"http://127.0.0.1/\", \"expect_status\": []}"));
	m = config_fails("{\"url\": \"http://127.0.0.1/\", \"method\": \"POST\"}");
	ck_assert_pstr_eq(m, "test: method: unknown method \"POST\" (valid: GET, HEAD)");
	m = config_fails("{\"url\": \"http://127.0.0.1/\", \"method\": \"HEAD\", \"expect_body\": "
	                 "\"x\"}");
	ck_assert_pstr_eq(m, "test: expect_body: a HEAD response has no body to match (use "
	                     "\"method\": \"GET\")");
	m = config_fails("{\"url\": \"http://127.0.0.1/\", \"max_body\": 0}");
	ck_assert_pstr_eq(m, "test: max_body: expected integer 1-16777216");
	m = config_fails("{\"url\": \"http://127.0.0.1/\", \"max_body\": 2, \"expect_body\": "
	                 "\"abc\"}");
	ck_assert_pstr_eq(m, "test: expect_body: 3 bytes long, more than max_body (2): it could "
	                     "never be found");
	m = config_fails("{\"url\": \"http://127.0.0.1/\", \"ca_file\": \"/etc/hostname\"}");
	ck_assert_pstr_eq(m, "test: ca_file: only https:// URLs use a CA file");
	m = config_fails("{\"url\": \"https://127.0.0.1/\", \"ca_file\": \"ca.pem\"}");
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(strstr(m, "test: ca_file: expected an absolute path") == m, "%s", m);
	m = config_fails("{\"url\": \"https://127.0.0.1/\", \"ca_file\": \"/nonexistent/ca.pem\"}");
	ck_assert_pstr_eq(m, "test: ca_file: cannot read /nonexistent/ca.pem: No such file or "
	                     "directory");
	m = config_fails("{\"url\": \"http://127.0.0.1/\", \"insecure\": true}");
	ck_assert_pstr_eq(m, "test: insecure: only https:// URLs have certificates to verify");
	m = config_fails("{\"url\": \"http://127.0.0.1/\", \"headers\": {\"Bad Name\": \"x\"}}");
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(strstr(m, "test: headers.Bad Name: invalid header name") == m, "%s", m);
	m = config_fails("{\"url\": \"http://127.0.0.1/\", \"headers\": [\"NoColon\"]}");
	ck_assert_pstr_eq(m, "test: headers[0]: expected string \"Name: value\"");
	m = config_fails("{\"url\": \"http://127.0.0.1/\", \"headers\": [\"X-A: a\\r\\nX-B: b\"]}");
	ck_assert_pstr_eq(m, "test: headers[0]: control character in header value");
	m = config_fails("{\"url\": \"http://127.0.0.1/\", \"host\": \"a b\"}");
	ck_assert_pstr_eq(m,
	                  "test: host: expected a host name, with an optional :port, not \"a b\"");
	m = config_fails("{\"url\": \"http://127.0.0.1/\", \"host\": \"a\", \"headers\": "
	                 "[\"host: b\"]}");
	ck_assert_pstr_eq(m, "test: host: set twice: here and as a Host header in \"headers\"");

	ck_assert_ptr_null(config_fails("{\"url\": \"https://[::1]:8443/x?y=1\", \"insecure\": "
	                                "true, \"method\": \"HEAD\", \"expect_status\": [200]}"));
	ck_assert_ptr_null(
	        config_fails("{\"url\": \"https://dns.example/\", \"connect_to\": "
	                     "\"[2001:db8::53]:8443\", \"ca_file\": \"/etc/hostname\"}"));

	/* Every key of the type is listed for config.c's unknown-key check. */
	const char *keys[] = {
	        "url",      "method",  "expect_status", "expect_body", "expect_body_regex",
	        "max_body", "headers", "host",          "connect_to",  "ca_file",
	        "insecure"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		bool found = false;
		for (const char *const *k = probe_http_ops.keys; *k != NULL; k++)
			found |= strcmp(*k, keys[i]) == 0;
		ck_assert_msg(found, "%s", keys[i]);
	}
}
END_TEST

START_TEST(test_to_json)
{
	struct probe *p = mk_probe(
	        "{\"url\": \"https://dns.example/health\", \"connect_to\": \"127.0.0.1:8443\", "
	        "\"expect_status\": [\"200-204\", 301], \"expect_body\": \"ok\", "
	        "\"headers\": {\"X-A\": \" 1 \"}, \"insecure\": true}");
	json_t *j = p->ops->to_json(p);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(s, "{\"url\":\"https://dns.example/health\",\"method\":\"GET\","
	                    "\"expect_status\":[\"200-204\",301],\"expect_body\":\"ok\","
	                    "\"max_body\":65536,\"headers\":[\"X-A: 1\"],"
	                    "\"connect_to\":\"127.0.0.1:8443\",\"insecure\":true}");
	free(s);
	/* What to_json prints configures the same probe again. */
	struct config_error err;
	config_error_init(&err, "test", NULL);
	struct probe *q = probe_new(&probe_http_ops, j, &err);
	ck_assert_ptr_nonnull(q);
	ck_assert_str_eq(q->label, "http https://dns.example/health via 127.0.0.1:8443");
	json_t *j2 = q->ops->to_json(q);
	ck_assert(json_equal(j, j2));
	json_decref(j2);
	probe_free(q);
	config_error_free(&err);
	json_decref(j);
	probe_free(p);
}
END_TEST

static Suite *http_cfg_suite(void)
{
	Suite *s = suite_create("http_cfg");
	TCase *tc = tcase_create("http_cfg");
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_to_json);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(http_cfg_suite)
