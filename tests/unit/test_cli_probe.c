/* `healthd probe`: options become config keys of the right JSON type through the config
 * loader's own validation, and the output and exit codes follow the monitoring-plugins
 * convention. Real probes (exec, tcp on a socket this test listens on) on loopback. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../healthd/cli_probe.h"
#include "testlib.h"

static char out[16384], errout[8192];

static void slurp(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
}

/* run("tcp", "--host", "127.0.0.1", NULL): the exit code; stdout in out, stderr in errout. */
static int run(const char *first, ...)
{
	char *argv[64];
	va_list ap;

	va_start(ap, first);
	int argc = tl_argv(argv, 64, "probe", first, ap);
	va_end(ap);
	FILE *o = tmpfile(), *e = tmpfile();
	ck_assert(o != NULL && e != NULL);
	fflush(stdout);
	fflush(stderr);
	int so = dup(1), se = dup(2);
	dup2(fileno(o), 1);
	dup2(fileno(e), 2);
	int code = cli_probe_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	slurp(fileno(o), out, sizeof(out));
	slurp(fileno(e), errout, sizeof(errout));
	fclose(o);
	fclose(e);
	return code;
}

START_TEST(exec_exit_statuses_are_plugin_codes)
{
	ck_assert_int_eq(run("exec", "--", "/bin/true", NULL), CLI_OK);
	ck_assert_msg(strncmp(out, "EXEC OK - exit 0 | time=", 24) == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\nresult:    ok (ok: healthy)\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nexit_code: 0\n"));
	ck_assert_int_eq(run("exec", "--", "/bin/sh", "-c", "echo busy; exit 1", NULL),
	                 CLI_WARNING);
	ck_assert_msg(strncmp(out, "EXEC WARNING - warning: exit 1: busy | time=", 44) == 0, "%s",
	              out);
	/* a flag without a value is true: the daemon would count this run as a failure */
	ck_assert_int_eq(run("exec", "--warning-is-failure", "--", "/bin/sh", "-c", "exit 1", NULL),
	                 CLI_CRITICAL);
	ck_assert_int_eq(run("exec", "--", "/bin/sh", "-c", "exit 2", NULL), CLI_CRITICAL);
	/* a wrapped plugin's UNKNOWN stays UNKNOWN (the daemon counts it as a failure) */
	ck_assert_int_eq(run("exec", "--", "sh", "-c", "echo no data; exit 3", NULL), CLI_UNKNOWN);
	ck_assert_msg(strncmp(out, "EXEC UNKNOWN - exit-status: exit 3: no data | time=", 51) == 0,
	              "%s", out);
	ck_assert_int_eq(run("exec", "--", "sh", "-c", "exit 4", NULL), CLI_CRITICAL);
	ck_assert_int_eq(run("exec", "--", "/nonexistent/check", NULL), CLI_UNKNOWN);
	ck_assert_msg(strncmp(out, "EXEC UNKNOWN - spawn: ", 22) == 0, "%s", out);
	ck_assert_int_eq(run("exec", "--timeout", "0.2", "--", "sleep", "5", NULL), CLI_CRITICAL);
	ck_assert_msg(strncmp(out, "EXEC CRITICAL - timeout: ", 25) == 0, "%s", out);
}
END_TEST

START_TEST(bad_options_are_unknown_and_name_the_flag)
{
	ck_assert_int_eq(run("tcp", "--host", "127.0.0.1", "--port", "x", NULL), CLI_UNKNOWN);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(errout, "healthd probe tcp: --port: expected integer 1-65535\n");
	ck_assert_int_eq(run("tcp", "--host", "127.0.0.1", NULL), CLI_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(errout, "--port: required key is missing"));
	ck_assert_int_eq(run("tcp", "--hots", "127.0.0.1", NULL), CLI_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(errout, "unknown option --hots"));
	ck_assert_int_eq(run("tcp", "--host", "127.0.0.1", "--port", "1", "--source", "::1x", NULL),
	                 CLI_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(errout, "--source.ipv6: expected a numeric IPv6 address"));
	/* one address per family: the second IPv4 address is not silently the one used */
	ck_assert_int_eq(run("tcp", "--host", "127.0.0.1", "--port", "1", "--source", "127.0.0.1",
	                     "--source", "127.0.0.2", NULL),
	                 CLI_UNKNOWN);
	ck_assert_str_eq(out, "");
	ck_assert_msg(strstr(errout, "--source: two IPv4 addresses (127.0.0.1, 127.0.0.2)") != NULL,
	              "%s", errout);
	ck_assert_int_eq(
	        run("tcp", "--host", "127.0.0.1", "--port", "1", "--source", "::1,::2", NULL),
	        CLI_UNKNOWN);
	ck_assert_msg(strstr(errout, "--source: two IPv6 addresses (::1, ::2)") != NULL, "%s",
	              errout);
	/* a source the node does not have: no advice the command line cannot follow */
	ck_assert_int_eq(
	        run("tcp", "--host", "127.0.0.1", "--port", "1", "--source", "192.0.2.99", NULL),
	        CLI_UNKNOWN);
	ck_assert_msg(strstr(errout, "192.0.2.99 is not configured on any local interface") != NULL,
	              "%s", errout);
	ck_assert_msg(strstr(errout, "source_check") == NULL, "%s", errout);
	ck_assert_int_eq(run("nosuch", NULL), CLI_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(errout, "unknown probe type \"nosuch\""));
	ck_assert_int_eq(run("exec", "--count", "0", "--", "true", NULL), CLI_UNKNOWN);
	ck_assert_int_eq(run("tcp", "stray", NULL), CLI_UNKNOWN);
	ck_assert_int_eq(run("tcp", "--help", NULL), CLI_OK);
	ck_assert_ptr_nonnull(strstr(out, "options of tcp:\n     --host --port"));
}
END_TEST

START_TEST(tcp_ok_with_source_and_json)
{
	unsigned port = 0;
	char p[16];
	int fd = tl_listen("127.0.0.1", &port);
	ck_assert_int_ge(fd, 0);

	snprintf(p, sizeof(p), "%u", port);
	ck_assert_int_eq(
	        run("tcp", "--host", "127.0.0.1", "--port", p, "--source", "127.0.0.1", NULL),
	        CLI_OK);
	ck_assert_msg(strncmp(out, "TCP OK - connected to 127.0.0.1:", 32) == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\nsource:   127.0.0.1\n"));
	ck_assert_int_eq(run("tcp", "--host=127.0.0.1", "--port", p, "--json", NULL), CLI_OK);
	json_t *j = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "OK");
	ck_assert_str_eq(json_string_value(json_object_get(j, "reason")), "ok");
	ck_assert(json_is_true(json_object_get(j, "healthy")));
	ck_assert(json_is_real(json_object_get(j, "latency_ms")));
	json_decref(j);
	close(fd);
	ck_assert_int_eq(run("tcp", "--host", "127.0.0.1", "--port", p, NULL), CLI_CRITICAL);
	ck_assert_msg(strncmp(out, "TCP CRITICAL - refused: ", 24) == 0, "%s", out);
}
END_TEST

START_TEST(values_take_the_type_the_key_accepts)
{
	/* "53" is an integer for port, "true" a boolean for shell, "0.3" seconds for timeout;
	 * the same texts stay strings where strings are wanted. */
	ck_assert_int_eq(
	        run("exec", "--shell", "true", "--timeout", "0.3", "--command", "exit 0", NULL),
	        CLI_OK);
	ck_assert_int_eq(run("exec", "--shell", "--command", "true", NULL), CLI_OK);
	ck_assert_int_eq(run("exec", "--command", "/bin/sh,-c,exit 2", NULL), CLI_CRITICAL);
	/* a value that looks like one of the short options needs the "=" form */
	ck_assert_int_eq(
	        run("exec", "--command", "/bin/sh", "--command=-c", "--command", "exit 1", NULL),
	        CLI_WARNING);
	ck_assert_int_eq(run("exec", "--env", "{\"A\":\"1\"}", "--", "/bin/sh", "-c",
	                     "test \"$A\" = 1", NULL),
	                 CLI_OK);
}
END_TEST

START_TEST(a_series_ends_with_min_median_max)
{
	ck_assert_int_eq(run("exec", "-c", "3", "-i", "10ms", "--", "/bin/true", NULL), CLI_OK);
	/* the first line is a plugin line for the whole series; the runs follow */
	ck_assert_msg(strncmp(out, "EXEC OK - 3 runs: 3 ok; latency min/median/max ", 47) == 0,
	              "%s", out);
	ck_assert_msg(strstr(strchr(out, '\n'), " | time=") == NULL, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, " ms | time="));
	ck_assert_ptr_nonnull(strstr(out, "s;;;0\n1: EXEC OK - exit 0 ("));
	ck_assert_ptr_nonnull(strstr(out, "\n3: EXEC OK - exit 0 ("));
	ck_assert_ptr_nonnull(strstr(out, "\n--- exec /bin/true: 3 runs, 3 ok, 0 warning, "
	                                  "0 critical, 0 unknown\nlatency min/median/max = "));
	/* the worst run decides the exit code */
	ck_assert_int_eq(
	        run("exec", "--json", "-c", "2", "-i", "10ms", "--", "/bin/sh", "-c",
	            "test -e /tmp/test_cli_probe.flag; r=$?; touch /tmp/test_cli_probe.flag;"
	            " exit $((1 - r))",
	            NULL),
	        CLI_WARNING);
	unlink("/tmp/test_cli_probe.flag");
	ck_assert_ptr_nonnull(strstr(out, "{\"summary\":{\"check\":"));
	ck_assert_ptr_nonnull(strstr(out, "\"runs\":2,\"ok\":1,\"warning\":1,"));
}
END_TEST

/* Like ping: a run that timed out is counted and named, never part of the latency. */
START_TEST(timed_out_runs_are_lost_not_latency)
{
	const char *script = "n=$(cat /tmp/test_cli_probe.count 2>/dev/null || echo 0);"
	                     " echo $((n + 1)) >/tmp/test_cli_probe.count;"
	                     " if [ $n = 1 ]; then sleep 5; fi; exit 0";
	unlink("/tmp/test_cli_probe.count");
	ck_assert_int_eq(run("exec", "-c", "3", "-i", "10ms", "--timeout", "300ms", "--", "/bin/sh",
	                     "-c", script, NULL),
	                 CLI_CRITICAL);
	unlink("/tmp/test_cli_probe.count");
	ck_assert_msg(strncmp(out,
	                      "EXEC CRITICAL - 3 runs: 2 ok, 1 critical (1 timed out); latency "
	                      "min/median/max ",
	                      78) == 0,
	              "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\n2: EXEC CRITICAL - timeout: "));
	ck_assert_ptr_nonnull(strstr(out, "\n--- exec /bin/sh -c n=$(cat"));
	ck_assert_ptr_nonnull(strstr(out, ": 3 runs, 2 ok, 0 warning, 1 critical, 0 unknown, "
	                                  "1 timed out (not in the latency)\n"));
	double min, med, max;
	const char *l = strstr(out, "\nlatency min/median/max = ");
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(sscanf(l, "\nlatency min/median/max = %lf/%lf/%lf ms", &min, &med, &max),
	                 3);
	/* two quick runs: the 300ms of the one that timed out are in none of the three (a run
	 * that passed ended within its 300ms timeout, whatever the machine's load) */
	ck_assert(min <= med && med <= max);
	ck_assert_msg(max < 300, "max %f", max);
	double off = med - (min + max) / 2; /* the median of two, as printed to 1us */
	ck_assert_msg(off < 0.002 && off > -0.002, "%f %f %f", min, med, max);
	/* --json: the summary says so too */
	unlink("/tmp/test_cli_probe.count");
	ck_assert_int_eq(run("exec", "--json", "-c", "3", "-i", "10ms", "--timeout", "300ms", "--",
	                     "/bin/sh", "-c", script, NULL),
	                 CLI_CRITICAL);
	unlink("/tmp/test_cli_probe.count");
	const char *sum = strstr(out, "{\"summary\":");
	ck_assert_ptr_nonnull(sum);
	json_t *j = json_loads(sum, JSON_DISABLE_EOF_CHECK, NULL);
	ck_assert_ptr_nonnull(j);
	json_t *o = json_object_get(j, "summary");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "runs")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "timed_out")), 1);
	ck_assert(json_real_value(json_object_get(json_object_get(o, "latency_ms"), "max")) < 150);
	json_decref(j);
	/* every run timed out: nothing to measure, and the plugin line says so */
	ck_assert_int_eq(run("exec", "-c", "2", "-i", "10ms", "--timeout", "100ms", "--", "sleep",
	                     "5", NULL),
	                 CLI_CRITICAL);
	ck_assert_msg(strncmp(out, "EXEC CRITICAL - 2 runs: 2 critical (2 timed out)\n", 49) == 0,
	              "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\nlatency: no run ended in time\n"));
}
END_TEST

/* Facts are printed for a person: 0.287 ms, not 0.28699999999999998. */
START_TEST(human_output_prints_float_facts_short)
{
	struct probe p = {.ops = &probe_http_ops, .label = "http http://127.0.0.1/"};
	struct probe_result r = {.status = PROBE_OK, .reason = PR_OK, .latency_us = 1234};
	char *text = NULL;
	size_t len = 0;

	snprintf(r.detail, sizeof(r.detail), "200 OK");
	p.facts = json_pack("{s:i, s:f, s:f, s:[f]}", "status", 200, "connect_ms", 0.1, "total_ms",
	                    0.287, "timings_ms", 1.1);
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	cli_out_run(f, &p, &r, 1, false, false);
	fclose(f);
	ck_assert_msg(strstr(text, "\nconnect_ms: 0.1\n") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "\ntotal_ms:   0.287\n") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "\ntimings_ms: [1.1]\n") != NULL, "%s", text);
	for (const char *c = text; *c != '\0'; c++)
		ck_assert_msg(strspn(c, "0123456789") < 12, "a long run of digits in: %s", text);
	free(text);
	json_decref(p.facts);
}
END_TEST

static Suite *cli_probe_suite(void)
{
	Suite *s = suite_create("cli_probe");
	TCase *tc = tcase_create("cli");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, exec_exit_statuses_are_plugin_codes);
	tcase_add_test(tc, bad_options_are_unknown_and_name_the_flag);
	tcase_add_test(tc, tcp_ok_with_source_and_json);
	tcase_add_test(tc, values_take_the_type_the_key_accepts);
	tcase_add_test(tc, a_series_ends_with_min_median_max);
	tcase_add_test(tc, timed_out_runs_are_lost_not_latency);
	tcase_add_test(tc, human_output_prints_float_facts_short);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(cli_probe_suite)
