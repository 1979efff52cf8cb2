/* Hostile configs, each built here (none is checked in: some are megabytes): nesting a
 * hundred thousand deep, arrays of 100,000 elements, 5 MB strings in every kind of
 * place, NUL bytes raw and escaped, every value of a real config replaced by each wrong
 * JSON type, duplicate keys, numbers out of every range. Each must be refused quickly
 * (well under a second; the bound here leaves room for sanitizers and a loaded machine),
 * with at most CFGERR_MAX_MSGS + 1 messages, each one line of bounded length that never
 * quotes a huge value back, and the first of them naming where the problem is. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../healthd/config.h"
#include "../../lib/cfgerr.h"
#include "testlib.h"

/* One load; the loads here take milliseconds, seconds under a sanitizer on a busy machine. */
#if defined(__SANITIZE_ADDRESS__)
#define HOSTILE_MAX_MS 30000
#else
#define HOSTILE_MAX_MS 5000
#endif
#define HOSTILE_MAX_MSG   2048 /* bytes in one message */
#define HOSTILE_MAX_QUOTE 200  /* bytes of one value quoted in a message */

#define SVC_HEAD "{\"services\": [{\"name\": \"s\", \"prefixes\": [\"192.0.2.1/32\"], "
#define TCP_OK   "{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 53}"

static char path[64];

/* A growing text. */
struct buf {
	char *s;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		ck_assert_ptr_nonnull(b->s);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void putn(struct buf *b, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(b, &c, 1);
}

/* Load len bytes of text from a file, as healthd check does; the messages in err. */
static struct config *load(const char *text, size_t len, struct config_error *err, uint64_t *ms)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	config_error_init(err, path, NULL);
	uint64_t t0 = tl_now_ms();
	struct config *cfg = config_load_file(path, err);
	*ms = tl_now_ms() - t0;
	return cfg;
}

/* Refused, quickly, with bounded one-line messages; the first contains want (a path or
 * a phrase; NULL: anything). */
/* More of a huge value than a message may quote. */
static char xrun[HOSTILE_MAX_QUOTE + 1];

static void refused(const char *name, const char *text, size_t len, const char *want)
{
	struct config_error err;
	uint64_t ms;
	struct config *cfg = load(text, len, &err, &ms);

	ck_assert_msg(cfg == NULL, "%s: loaded", name);
	ck_assert_msg(err.nmsgs > 0 && err.nmsgs <= CFGERR_MAX_MSGS + 1, "%s: %zu messages", name,
	              err.nmsgs);
	ck_assert_msg(ms < HOSTILE_MAX_MS, "%s: %llu ms", name, (unsigned long long)ms);
	for (size_t i = 0; i < err.nmsgs; i++) {
		size_t n = strlen(err.msgs[i]);
		ck_assert_msg(n > 0 && n <= HOSTILE_MAX_MSG, "%s: message %zu is %zu bytes", name,
		              i, n);
		ck_assert_msg(strchr(err.msgs[i], '\n') == NULL, "%s: message %zu: %s", name, i,
		              err.msgs[i]);
		ck_assert_msg(strstr(err.msgs[i], xrun) == NULL,
		              "%s: message %zu quotes the long value: %.400s", name, i,
		              err.msgs[i]);
		ck_assert_msg(strncmp(err.msgs[i], path, strlen(path)) == 0,
		              "%s: message %zu does not name the file: %s", name, i, err.msgs[i]);
	}
	if (want != NULL)
		ck_assert_msg(strstr(err.msgs[0], want) != NULL,
		              "%s: first message %s lacks \"%s\"", name, err.msgs[0], want);
	config_error_free(&err);
}

static void refused_str(const char *name, const char *text, const char *want)
{
	refused(name, text, strlen(text), want);
}

static void setup(void)
{
	memset(xrun, 'x', HOSTILE_MAX_QUOTE);
	snprintf(path, sizeof(path), "/tmp/healthd-hostile.XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void teardown(void)
{
	unlink(path);
}

START_TEST(deep_nesting)
{
	struct buf b = {0};

	/* 100,000 arrays deep where a service list belongs, and as a value inside a check */
	puts_(&b, "{\"services\": ");
	putn(&b, '[', 100000);
	putn(&b, ']', 100000);
	puts_(&b, "}");
	refused("nested arrays", b.s, b.len, ":1:");
	b.len = 0;
	puts_(&b, SVC_HEAD "\"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": ");
	for (int i = 0; i < 100000; i++)
		puts_(&b, "{\"a\":");
	puts_(&b, "1");
	putn(&b, '}', 100000);
	puts_(&b, "}]}]}");
	refused("nested objects", b.s, b.len, ":1:");
	free(b.s);
}
END_TEST

START_TEST(huge_arrays)
{
	struct buf b = {0};
	char one[96];

	/* 100,000 services, each wrong */
	puts_(&b, "{\"services\": [");
	for (int i = 0; i < 100000; i++)
		puts_(&b, i ? ", 7" : "7");
	puts_(&b, "]}");
	refused("100,000 numbers as services", b.s, b.len, "services[0]");

	/* 100,000 prefixes in one service: all the same */
	b.len = 0;
	puts_(&b, "{\"services\": [{\"name\": \"s\", \"checks\": [" TCP_OK "], \"prefixes\": [");
	for (int i = 0; i < 100000; i++)
		puts_(&b, i ? ", \"192.0.2.1/32\"" : "\"192.0.2.1/32\"");
	puts_(&b, "]}]}");
	refused("100,000 duplicate prefixes", b.s, b.len, "services[0].prefixes[1]: duplicate");

	/* 100,000 checks with a bad port each */
	b.len = 0;
	puts_(&b, SVC_HEAD "\"checks\": [");
	for (int i = 0; i < 100000; i++) {
		snprintf(one, sizeof(one),
		         "%s{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": %d}",
		         i ? ", " : "", 70000 + i);
		puts_(&b, one);
	}
	puts_(&b, "]}]}");
	refused("100,000 checks out of range", b.s, b.len, "services[0].checks[0].port");

	/* 20,000 valid services whose names all clash (each is configured: more costs
	 * seconds, as any config of that size would) */
	b.len = 0;
	puts_(&b, "{\"services\": [");
	for (int i = 0; i < 20000; i++) {
		snprintf(one, sizeof(one),
		         "%s{\"name\": \"s\", \"prefixes\": [\"10.%d.%d.%d/32\"], ", i ? ", " : "",
		         i >> 16, (i >> 8) & 255, i & 255);
		puts_(&b, one);
		puts_(&b, "\"checks\": [" TCP_OK "]}");
	}
	puts_(&b, "]}");
	refused("20,000 services of one name", b.s, b.len, "services[1].name: duplicate");
	free(b.s);
}
END_TEST

/* A 5 MB string in each place: a key, a name, a prefix, a host, a URL, a command, a
 * duration, an enum, a community. */
START_TEST(huge_strings)
{
	static const struct {
		const char *name, *before, *after, *want;
	} places[] = {
	        {"key", "{\"", "\": 1, \"services\": []}", "unknown key"},
	        {"name", "{\"services\": [{\"name\": \"",
	         "\", \"prefixes\": [\"192.0.2.1/32\"], "
	         "\"checks\": [" TCP_OK "]}]}",
	         "services[0].name"},
	        {"prefix",
	         SVC_HEAD "\"checks\": [" TCP_OK "]}, {\"name\": \"t\", \"prefixes\": [\"",
	         "\"], \"checks\": [" TCP_OK "]}]}", "services[1].prefixes[0]"},
	        {"host", SVC_HEAD "\"checks\": [{\"type\": \"tcp\", \"port\": 53, \"host\": \"",
	         "\"}]}]}", "services[0].checks[0].host"},
	        {"url host", SVC_HEAD "\"checks\": [{\"type\": \"http\", \"url\": \"http://",
	         "/\"}]}]}", "services[0].checks[0].url"},
	        {"command without shell",
	         SVC_HEAD "\"checks\": [{\"type\": \"exec\", \"command\": \"/nonexistent/",
	         "\"}]}]}", "services[0].checks[0].command"},
	        {"env name",
	         SVC_HEAD "\"checks\": [{\"type\": \"exec\", \"command\": [\"/bin/true\"], "
	                  "\"env\": {\"A=",
	         "\": \"1\"}}]}]}", "services[0].checks[0].env"},
	        {"duration", SVC_HEAD "\"checks\": [" TCP_OK "], \"interval\": \"1", "\"}]}",
	         "services[0].interval"},
	        {"check type", SVC_HEAD "\"checks\": [{\"type\": \"", "\"}]}]}",
	         "services[0].checks[0].type"},
	        {"community",
	         SVC_HEAD "\"checks\": [" TCP_OK "], \"announce\": {\"communities\": [\"",
	         "\"]}}]}", "services[0].announce.communities[0]"},
	};
	struct buf b = {0};

	/* around the length at which a quoted value is cut */
	for (size_t n = 95; n < 110; n++) {
		b.len = 0;
		puts_(&b, "{\"services\": [{\"name\": \"");
		putn(&b, '-', n);
		puts_(&b, " \", \"prefixes\": [\"192.0.2.1/32\"], \"checks\": [" TCP_OK "]}]}");
		refused("name near the cut", b.s, b.len, "services[0].name");
	}
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		b.len = 0;
		puts_(&b, places[i].before);
		putn(&b, 'x', 5 * 1024 * 1024);
		puts_(&b, places[i].after);
		refused(places[i].name, b.s, b.len, places[i].want);
	}
	free(b.s);
}
END_TEST

START_TEST(nul_bytes)
{
	static const char raw[] = "{\"services\": [{\"name\": \"a\0b\"}]}";
	/* a NUL byte in the file itself, inside a string and between tokens */
	refused("raw NUL in a string", raw, sizeof(raw) - 1, ":1:");
	static const char raw2[] = "{\"services\": []}\0{\"x\": 1}";
	refused("raw NUL after the object", raw2, sizeof(raw2) - 1, ":1:");
	/* escaped: \u0000 inside a key and inside values */
	refused_str("escaped NUL in a name",
	            "{\"services\": [{\"name\": \"a\\u0000b\", \"prefixes\": [\"192.0.2.1/32\"], "
	            "\"checks\": [" TCP_OK "]}]}",
	            ":1:");
	refused_str("escaped NUL in a key", "{\"serv\\u0000ices\": []}", ":1:");
	refused_str("escaped NUL in a command",
	            SVC_HEAD
	            "\"checks\": [{\"type\": \"exec\", \"command\": [\"/bin/true\\u0000x\"]}]}]}",
	            ":1:");
}
END_TEST

START_TEST(duplicate_keys)
{
	refused_str("top level", "{\"services\": [],\n \"services\": []}", ":2:");
	refused_str("in a check",
	            SVC_HEAD "\"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\",\n"
	                     " \"port\": 53, \"port\": 54}]}]}",
	            ":2:");
	refused_str("in defaults", "{\"defaults\": {\"rise\": 2, \"rise\": 3}, \"services\": []}",
	            "duplicate");
}
END_TEST

START_TEST(numbers_out_of_range)
{
	static const struct {
		const char *name, *text, *want;
	} cases[] = {
	        {"rise 0", SVC_HEAD "\"checks\": [" TCP_OK "], \"rise\": 0}]}", "services[0].rise"},
	        {"rise huge", SVC_HEAD "\"checks\": [" TCP_OK "], \"rise\": 9223372036854775807}]}",
	         "services[0].rise"},
	        {"rise beyond 64 bits",
	         SVC_HEAD "\"checks\": [" TCP_OK "], \"rise\": 99999999999999999999999}]}", ":1:"},
	        {"fall negative", SVC_HEAD "\"checks\": [" TCP_OK "], \"fall\": -1}]}",
	         "services[0].fall"},
	        {"rise as a real", SVC_HEAD "\"checks\": [" TCP_OK "], \"rise\": 1e300}]}",
	         "services[0].rise"},
	        {"port 70000",
	         SVC_HEAD
	         "\"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 70000}]}]}",
	         "services[0].checks[0].port"},
	        {"port -1",
	         SVC_HEAD
	         "\"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": -1}]}]}",
	         "services[0].checks[0].port"},
	        {"interval of years",
	         SVC_HEAD "\"checks\": [" TCP_OK "], \"interval\": \"9999999999h\"}]}",
	         "services[0].interval"},
	        {"timeout 0", SVC_HEAD "\"checks\": [" TCP_OK "], \"timeout\": \"0s\"}]}",
	         "services[0].timeout"},
	        {"interval overflowing",
	         SVC_HEAD "\"checks\": [" TCP_OK "], \"interval\": \"99999999999999999999ms\"}]}",
	         "services[0].interval"},
	        {"med negative",
	         SVC_HEAD "\"checks\": [" TCP_OK "], \"announce\": {\"med\": -5}}]}",
	         "services[0].announce.med"},
	        {"max_body 1e12",
	         SVC_HEAD "\"checks\": [{\"type\": \"http\", \"url\": \"http://127.0.0.1/\", "
	                  "\"max_body\": 1000000000000}]}]}",
	         "services[0].checks[0].max_body"},
	        {"prefix length 33",
	         SVC_HEAD "\"checks\": [" TCP_OK "]}, {\"name\": \"t\", "
	                  "\"prefixes\": [\"192.0.2.0/33\"], \"checks\": [" TCP_OK "]}]}",
	         "services[1].prefixes[0]"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		refused_str(cases[i].name, cases[i].text, cases[i].want);
}
END_TEST

/* Every value of a real config (the example, all its sections), replaced in turn by each
 * JSON type it is not: refused with its path named, or, where that type is also valid
 * there, loaded. Never a crash. */
static size_t nloaded, nrefused;

static void mutate_all(json_t *root, json_t *v, const char *where)
{
	static const char *const wrong[] = {"7",      "-1.5", "\"x\"", "[]",
	                                    "[1, 2]", "{}",   "null",  "true"};
	char sub[512];

	if (json_is_object(v)) {
		const char *k;
		json_t *c;
		void *tmp;
		json_object_foreach_safe(v, tmp, k, c)
		{
			snprintf(sub, sizeof(sub), "%s%s%s", where, *where ? "." : "", k);
			for (size_t w = 0; w < sizeof(wrong) / sizeof(wrong[0]); w++) {
				json_t *orig = json_incref(c),
				       *bad = json_loads(wrong[w], JSON_DECODE_ANY, NULL);
				if (json_typeof(bad) == json_typeof(orig)) {
					json_decref(bad);
					json_decref(orig);
					continue;
				}
				json_object_set_new(v, k, bad);
				char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
				struct config_error err;
				uint64_t ms;
				struct config *cfg = load(text, strlen(text), &err, &ms);
				ck_assert_msg(ms < HOSTILE_MAX_MS, "%s = %s: %llu ms", sub,
				              wrong[w], (unsigned long long)ms);
				if (cfg != NULL) {
					nloaded++;
					config_free(cfg);
				} else {
					nrefused++;
					ck_assert_msg(err.nmsgs > 0, "%s = %s: refused silently",
					              sub, wrong[w]);
					bool named = false;
					for (size_t i = 0; i < err.nmsgs; i++) {
						ck_assert_uint_le(strlen(err.msgs[i]),
						                  HOSTILE_MAX_MSG);
						/* at the key itself, or at the object that holds it
						 */
						if (strstr(err.msgs[i], sub) != NULL ||
						    (*where != '\0' &&
						     strstr(err.msgs[i], where) != NULL) ||
						    *where == '\0')
							named = true;
					}
					ck_assert_msg(named, "%s = %s: no message names it: %s",
					              sub, wrong[w], err.msgs[0]);
				}
				config_error_free(&err);
				free(text);
				json_object_set_new(v, k, orig);
			}
			mutate_all(root, c, sub);
		}
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			snprintf(sub, sizeof(sub), "%s[%zu]", where, i);
			mutate_all(root, json_array_get(v, i), sub);
		}
	}
}

START_TEST(wrong_types_everywhere)
{
	/* every probe type and the announce attributes, valid as a whole */
	const char *text =
	        "{\"allow_root_exec\": true, \"speaker\": {\"type\": \"exabgp\", \"ack_timeout\": "
	        "\"2s\"},\n"
	        " \"defaults\": {\"interval\": \"2s\", \"fast_interval\": \"500ms\", \"timeout\": "
	        "\"1s\","
	        " \"rise\": 2, \"fall\": 3},\n"
	        " \"services\": [{\"name\": \"web\", \"prefixes\": [\"192.0.2.80/32\", "
	        "\"2001:db8::80/128\"],\n"
	        "   \"announce\": {\"next_hop\": \"self\", \"med\": 100, \"local_preference\": 200,"
	        " \"communities\": [\"65000:1\"]},\n"
	        "   \"on_down\": \"withdraw\",\n"
	        "   \"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 80},\n"
	        "     {\"type\": \"http\", \"url\": \"http://127.0.0.1/health\", "
	        "\"expect_status\": [200],"
	        " \"expect_body\": \"ok\", \"headers\": {\"X-A\": \"1\"}, \"max_body\": 4096},\n"
	        "     {\"type\": \"exec\", \"command\": [\"/bin/true\"], \"env\": {\"A\": "
	        "\"1\"}},\n"
	        "     {\"type\": \"dns\", \"server\": \"127.0.0.1\", \"name\": \"example.com\","
	        " \"qtype\": \"SOA\", \"min_answers\": 1}]}]}\n";
	json_error_t je;
	json_t *root = json_loads(text, JSON_PRESERVE_ORDER, &je);
	ck_assert_msg(root != NULL, "%s", je.text);
	{
		struct config_error err;
		uint64_t ms;
		struct config *cfg = load(text, strlen(text), &err, &ms);
		ck_assert_msg(cfg != NULL, "the base config: %s", err.nmsgs ? err.msgs[0] : "?");
		config_free(cfg);
		config_error_free(&err);
	}
	nloaded = nrefused = 0;
	mutate_all(root, root, "");
	json_decref(root);
	/* Nearly every wrong type is refused; a few are valid too ("x" for a port is not,
	 * [] for a community list is). */
	ck_assert_msg(nrefused > 200 && nloaded < nrefused / 10, "%zu refused, %zu loaded",
	              nrefused, nloaded);
}
END_TEST

static Suite *config_hostile_suite(void)
{
	Suite *s = suite_create("config_hostile");
	TCase *tc = tcase_create("hostile");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, deep_nesting);
	tcase_add_test(tc, huge_arrays);
	tcase_add_test(tc, huge_strings);
	tcase_add_test(tc, nul_bytes);
	tcase_add_test(tc, duplicate_keys);
	tcase_add_test(tc, numbers_out_of_range);
	tcase_add_test(tc, wrong_types_everywhere);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(config_hostile_suite)
