/* config_write, the text `healthd check` prints: byte for byte what json_dumps gives for
 * config_to_json with indent 2, written one service at a time, also when strings hold
 * escaped newlines (the writer re-indents at each newline of the layout). And the lazy
 * position index: the same positions as the one built at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/cfgpos.h"
#include "testlib.h"

static void same_as_dumps(const char *text)
{
	struct config *cfg = tl_config_ok(text);
	json_t *tree = config_to_json(cfg);
	char *want = json_dumps(tree, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char *got = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&got, &len);

	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(config_write(cfg, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	json_decref(tree);
	config_free(cfg);
}

START_TEST(test_write_one_service)
{
	same_as_dumps("{\"source_check\": false, \"services\": [{\"name\": \"web\", "
	              "\"prefixes\": [\"192.0.2.80/32\"], \"checks\": [{\"type\": \"tcp\", "
	              "\"host\": \"127.0.0.1\", \"port\": 80}]}]}");
}
END_TEST

START_TEST(test_write_escapes_and_many)
{
	/* Newlines, tabs, quotes and non-ASCII inside strings: escaped in the text, so not
	 * line breaks of the layout. Several services, attributes, and a second check. */
	same_as_dumps("{\"source_check\": false, \"speaker\": {\"type\": \"exabgp\", "
	              "\"neighbors\": [\"192.0.2.1\"]},\n"
	              " \"services\": [\n"
	              "  {\"name\": \"a.1-x\", \"prefixes\": [\"192.0.2.1/32\", "
	              "\"2001:db8::1/128\"],\n"
	              "   \"disable_file\": \"/run/x\\ny\",\n"
	              "   \"announce\": {\"med\": 10, \"communities\": [\"65000:1\"]},\n"
	              "   \"checks\": [{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 80, "
	              "\"send\": \"GET / HTTP/1.0\\r\\n\\r\\n\", \"expect\": \"200\"},\n"
	              "              {\"type\": \"tcp\", \"host\": \"::1\", \"port\": 81}]},\n"
	              "  {\"name\": \"b\", \"prefixes\": [\"192.0.2.2/32\"], \"checks\": "
	              "[{\"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 82}]}]}");
}
END_TEST

START_TEST(test_write_fails_on_a_full_device)
{
	struct config *cfg =
	        tl_config_ok("{\"source_check\": false, \"services\": [{\"name\": \"web\", "
	                     "\"prefixes\": [\"192.0.2.80/32\"], \"checks\": [{\"type\": \"tcp\", "
	                     "\"host\": \"127.0.0.1\", \"port\": 80}]}]}");
	FILE *f = fopen("/dev/full", "w");
	if (f != NULL) {
		ck_assert_int_eq(config_write(cfg, f), -1);
		fclose(f);
	}
	config_free(cfg);
}
END_TEST

START_TEST(test_cfgpos_lazy_same)
{
	const char *text = "{\n \"a\": {\"b\": [1, {\"c\": 2}]},\n  \"d\": [[], 3]}";
	const char *paths[] = {"", "a", "a.b", "a.b[1]", "a.b[1].c", "d", "d[1]", "x", "d[2]"};
	struct cfgpos *now = cfgpos_build(text), *lazy = cfgpos_lazy(text);

	ck_assert_ptr_nonnull(now);
	ck_assert_ptr_nonnull(lazy);
	for (size_t i = 0; i < TL_LEN(paths); i++) {
		int l1 = 0, c1 = 0, l2 = 0, c2 = 0;
		int r1 = cfgpos_lookup(now, paths[i], &l1, &c1);
		int r2 = cfgpos_lookup(lazy, paths[i], &l2, &c2);
		ck_assert_msg(r1 == r2 && l1 == l2 && c1 == c2, "%s: %d %d:%d, lazy %d %d:%d",
		              paths[i], r1, l1, c1, r2, l2, c2);
	}
	ck_assert_int_eq(cfgpos_lookup(now, "a.b[1].c", &(int){0}, &(int){0}), 0);
	cfgpos_free(now);
	cfgpos_free(lazy);
	/* Never looked up: nothing built, nothing leaked. */
	cfgpos_free(cfgpos_lazy(text));
}
END_TEST

static Suite *config_write_suite(void)
{
	Suite *s = suite_create("config_write");
	TCase *tc = tcase_create("write");
	tcase_add_test(tc, test_write_one_service);
	tcase_add_test(tc, test_write_escapes_and_many);
	tcase_add_test(tc, test_write_fails_on_a_full_device);
	tcase_add_test(tc, test_cfgpos_lazy_same);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(config_write_suite)
