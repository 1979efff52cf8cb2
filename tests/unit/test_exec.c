/* The exec probe and child.c with real processes in a real event loop: exit statuses,
 * signals, spawn failures, the environment, output capture, and that a timed-out command
 * leaves neither processes nor zombies behind. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

/* A probe of the JSON text with a 5 s timeout, run once. */
static struct probe *run_cmd(const char *json, struct tl_outcome *o)
{
	struct probe *p = tl_probe("exec", 5000, "%s", json);
	tl_run_settled(tl_base, p, o);
	return p;
}

static pid_t read_pid(const char *path)
{
	uint64_t start = tl_now_ms();
	FILE *f;
	int pid = 0;

	while (tl_now_ms() - start < 3000) {
		if ((f = fopen(path, "r")) != NULL) {
			int n = fscanf(f, "%d", &pid);
			fclose(f);
			if (n == 1 && pid > 0)
				return pid;
		}
		tl_spin(tl_base, 5);
	}
	ck_abort_msg("no pid in %s", path);
	return 0;
}

START_TEST(test_exit_codes)
{
	struct tl_outcome o;
	struct probe *p;

	p = run_cmd("{\"command\": [\"true\"]}", &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	ck_assert_str_eq(o.r.detail, "exit 0");
	ck_assert_str_eq(p->label, "exec true");
	probe_free(p);

	p = run_cmd("{\"command\": [\"sh\", \"-c\", \"echo 'DNS WARNING - slow'; exit 1\"]}", &o);
	ck_assert_int_eq(o.r.reason, PR_WARNING);
	ck_assert_int_eq(o.r.status, PROBE_WARNING);
	ck_assert_str_eq(o.r.detail, "exit 1: DNS WARNING - slow");
	ck_assert(probe_result_healthy(p, &o.r));
	probe_free(p);

	p = run_cmd("{\"command\": \"echo; echo '  CRITICAL: no answer  '; echo second >&2; "
	            "exit 2\", \"shell\": true}",
	            &o);
	ck_assert_int_eq(o.r.reason, PR_EXIT);
	ck_assert_int_eq(o.r.status, PROBE_FAIL);
	ck_assert_str_eq(o.r.detail, "exit 2: CRITICAL: no answer");
	ck_assert(!probe_result_healthy(p, &o.r));
	/* A second run of the same probe. */
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_EXIT);
	probe_free(p);
	tl_assert_no_children();
}
END_TEST

START_TEST(test_warning_is_failure)
{
	struct tl_outcome o;
	struct probe *p = run_cmd(
	        "{\"command\": [\"sh\", \"-c\", \"exit 1\"], \"warning_is_failure\": true}", &o);
	ck_assert(p->warning_is_failure);
	ck_assert_int_eq(o.r.reason, PR_WARNING);
	ck_assert(!probe_result_healthy(p, &o.r));
	probe_free(p);
}
END_TEST

START_TEST(test_signal)
{
	struct tl_outcome o;
	struct probe *p =
	        run_cmd("{\"command\": \"echo dying; kill -TERM $$\", \"shell\": true}", &o);
	ck_assert_int_eq(o.r.reason, PR_SIGNAL);
	ck_assert_msg(strncmp(o.r.detail, "killed by signal 15 (Terminated): dying", 40) == 0, "%s",
	              o.r.detail);
	probe_free(p);
}
END_TEST

START_TEST(test_spawn_failure)
{
	struct tl_outcome o;
	struct probe *p = run_cmd("{\"command\": [\"/nonexistent/check_thing\", \"-v\"]}", &o);
	ck_assert_int_eq(o.r.reason, PR_SPAWN);
	ck_assert_int_eq(o.r.status, PROBE_ERROR);
	ck_assert_str_eq(o.r.detail,
	                 "cannot run /nonexistent/check_thing: No such file or directory");
	probe_free(p);

	p = run_cmd("{\"command\": [\"healthd-no-such-command-in-path\"]}", &o);
	ck_assert_int_eq(o.r.reason, PR_SPAWN);
	probe_free(p);
	tl_assert_no_children();
}
END_TEST

START_TEST(test_environment)
{
	struct tl_outcome o;
	struct probe *p = tl_probe(
	        "exec", 5000,
	        "{\"command\": \"test \\\"$HEALTHD_SERVICE\\\" = svc && "
	        "test \\\"$HEALTHD_SOURCE\\\" = 127.0.0.7 && "
	        "test \\\"$HEALTHD_SOURCE4\\\" = 127.0.0.7 && "
	        "test \\\"$HEALTHD_SOURCE6\\\" = 2001:db8::7 && "
	        "test \\\"$FOO\\\" = 'bar baz' && test \\\"$HOME\\\" = /overridden && "
	        "test \\\"$TEST_INHERITED\\\" = yes\", "
	        "\"shell\": true, \"env\": {\"FOO\": \"bar baz\", \"HOME\": \"/overridden\"}}");
	setenv("TEST_INHERITED", "yes", 1);
	p->service = strdup("svc");
	p->source.has_v4 = p->source.has_v6 = true;
	inet_pton(AF_INET, "127.0.0.7", &p->source.v4);
	inet_pton(AF_INET6, "2001:db8::7", &p->source.v6);
	tl_run_settled(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	probe_free(p);

	/* Without an IPv4 source, HEALTHD_SOURCE is the IPv6 one; without any, empty. */
	p = tl_probe("exec", 5000,
	             "{\"command\": \"test \\\"$HEALTHD_SOURCE\\\" = 2001:db8::7 && "
	             "test -z \\\"$HEALTHD_SOURCE4\\\" && test -z \\\"$HEALTHD_SERVICE\\\"\", "
	             "\"shell\": true}");
	p->source.has_v6 = true;
	inet_pton(AF_INET6, "2001:db8::7", &p->source.v6);
	tl_run_settled(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	p->source.has_v6 = false;
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_WARNING); /* test(1) exits 1 */
	probe_free(p);
}
END_TEST

/* The child gets /dev/null as stdin, the pipe as stdout and stderr, its own group, and
 * none of healthd's other descriptors. */
START_TEST(test_isolation)
{
	struct tl_outcome o;
	int fd = open("/dev/null", O_RDONLY); /* not close-on-exec on purpose */
	ck_assert_int_eq(dup2(fd, 50), 50);
	close(fd);
	struct probe *p = run_cmd(
	        "{\"command\": \"test ! -e /proc/$$/fd/50 || exit 10; "
	        "test \\\"$(readlink /proc/$$/fd/0)\\\" = /dev/null || exit 11; "
	        "test \\\"$(readlink /proc/$$/fd/1)\\\" = \\\"$(readlink /proc/$$/fd/2)\\\" || "
	        "exit "
	        "12; "
	        "case $(readlink /proc/$$/fd/1) in pipe:*) ;; *) exit 13;; esac; "
	        "set -- $(cat /proc/$$/stat); test \\\"$5\\\" = $$ || exit 14; echo isolated\", "
	        "\"shell\": true}",
	        &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_str_eq(o.r.detail, "exit 0: isolated");
	close(50);
	probe_free(p);
}
END_TEST

START_TEST(test_output_cap)
{
	struct tl_outcome o;
	/* 1 MB of output against a 10 byte cap: kept 10, the rest drained, so the writer
	 * never blocks on a full pipe. */
	struct probe *p = run_cmd("{\"command\": \"head -c 1000000 /dev/zero | tr '\\\\0' x; "
	                          "exit 2\", \"shell\": true, \"max_output\": 10}",
	                          &o);
	ck_assert_int_eq(o.r.reason, PR_EXIT);
	ck_assert_str_eq(o.r.detail, "exit 2: xxxxxxxxxx");
	probe_free(p);
}
END_TEST

START_TEST(test_timeout_kills_group)
{
	struct tl_outcome o;
	char path[] = "/tmp/healthd-test-exec-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(path);

	struct probe *p = tl_probe("exec", 5000,
	                           "{\"command\": \"echo $$ > %s.tmp && mv %s.tmp %s; "
	                           "sleep 300 & sleep 300 & exec sleep 300\", \"shell\": true}",
	                           path, path, path);
	p->timeout_ms = 300;
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_TIMEOUT);
	ck_assert_uint_ge(o.r.latency_us, 290000);
	pid_t pgid = read_pid(path);
	unlink(path);

	/* The whole group goes, and the reaper collects every member: the leader and the
	 * background sleeps re-parented to us as the subreaper. */
	uint64_t start = tl_now_ms();
	while (kill(-pgid, 0) == 0) {
		ck_assert_msg(tl_now_ms() - start < 3000, "group %d survived", (int)pgid);
		tl_spin(tl_base, 10);
	}
	ck_assert_int_eq(errno, ESRCH);
	tl_assert_no_children();
	probe_free(p);
}
END_TEST

/* A leader that exits while its background child still holds the pipe: the run ends on
 * the leader's exit, and the group is killed rather than waited for. */
START_TEST(test_leader_exit_kills_stragglers)
{
	struct tl_outcome o;
	struct probe *p =
	        run_cmd("{\"command\": \"sleep 300 & echo started $!\", \"shell\": true}", &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	ck_assert_uint_lt(o.r.latency_us, 2000000);
	int pid = 0;
	ck_assert_int_eq(sscanf(o.r.detail, "exit 0: started %d", &pid), 1);
	tl_assert_no_children();
	ck_assert_int_eq(kill(pid, 0), -1);
	probe_free(p);

	/* One that left the group (setsid) cannot be killed with it, but it cannot hold the
	 * run open either: the grace after the leader's exit ends it. */
	p = run_cmd("{\"command\": \"setsid sleep 300 & sleep 0.1; echo escaped $!\", "
	            "\"shell\": true}",
	            &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	ck_assert_uint_lt(o.r.latency_us, 2000000);
	ck_assert_int_eq(sscanf(o.r.detail, "exit 0: escaped %d", &pid), 1);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	tl_assert_no_children();
	probe_free(p);
}
END_TEST

START_TEST(test_cancel_and_free_running)
{
	struct tl_outcome o = {0};
	struct probe *p = tl_probe("exec", 5000, "{\"command\": [\"sleep\", \"300\"]}");
	probe_set_done(p, tl_on_done, &o);
	probe_run(p, tl_base);
	tl_spin(tl_base, 50);
	ck_assert(p->running);
	probe_free(p); /* cancels: kills the group; the reap comes later */
	tl_assert_no_children();
	ck_assert(!o.done);

	/* child_shutdown with a child still unreaped frees it too (checked under ASan). */
	p = tl_probe("exec", 5000, "{\"command\": [\"sleep\", \"300\"]}");
	probe_set_done(p, tl_on_done, &o);
	probe_run(p, tl_base);
	probe_free(p);
}
END_TEST

static const struct tl_probe_case config_cases[] = {
        {"exec", "{}",
         "test: command: required key is missing (expected array of non-empty strings)", TL_EXACT},
        {"exec", "{\"command\": \"true\"}",
         "test: command: expected array of non-empty strings (a command line "
         "given as one string needs \"shell\": true)",
         TL_EXACT},
        {"exec", "{\"command\": []}",
         "test: command: expected array of non-empty strings, not an empty one", TL_EXACT},
        {"exec", "{\"command\": [\"a\", \"\"]}", "test: command[1]: expected non-empty string",
         TL_EXACT},
        {"exec", "{\"command\": \"\", \"shell\": true}", "test: command: expected non-empty string",
         TL_EXACT},
        {"exec", "{\"command\": [\"true\"], \"max_output\": 1048577}",
         "test: max_output: expected integer 0-1048576", TL_EXACT},
        {"exec", "{\"command\": [\"true\"], \"shell\": 1}", "test: shell: expected boolean",
         TL_EXACT},
        {"exec", "{\"command\": [\"true\"], \"env\": []}", "test: env: expected object of strings",
         TL_EXACT},
        {"exec", "{\"command\": [\"true\"], \"env\": {\"A\": 1}}", "test: env.A: expected string",
         TL_EXACT},
        {"exec", "{\"command\": [\"true\"], \"env\": {\"A=B\": \"x\"}}",
         "test: env.A=B: not a valid environment variable name", TL_EXACT},
        {"exec", "{\"command\": [\"true\"], \"env\": {\"HEALTHD_SERVICE\": \"x\"}}",
         "test: env.HEALTHD_SERVICE: HEALTHD_ variables are set by healthd", TL_EXACT},
        {"exec", "{\"command\": [\"true\"], \"warning_is\": \"slow\"}",
         "test: warning_is: unknown value \"slow\" (expected \"healthy\", \"failure\" or "
         "\"degraded\")",
         TL_EXACT},
        {"exec",
         "{\"command\": [\"true\"], \"warning_is\": \"failure\", \"warning_is_failure\": "
         "true}",
         "test: warning_is_failure: give either \"warning_is\" or \"warning_is_failure\", not "
         "both",
         TL_EXACT},
};

START_TEST(test_config)
{
	tl_check_probe_case(&config_cases[_i]);
}
END_TEST

/* "warning_is": "degraded": exit 1 passes, degraded; the older spelling cannot join it. */
START_TEST(test_warning_is_degraded)
{
	struct tl_outcome o;
	struct probe *p = tl_probe("exec", 5000,
	                           "{\"command\": [\"sh\", \"-c\", \"exit 1\"], \"warning_is\": "
	                           "\"degraded\"}");
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.status, PROBE_WARNING);
	ck_assert(probe_result_healthy(p, &o.r));
	ck_assert(probe_result_degraded(p, &o.r));
	probe_free(p);

	p = tl_probe("exec", 5000, "{\"command\": [\"true\"], \"warning_is\": \"degraded\"}");
	tl_run_settled(tl_base, p, &o);
	ck_assert(probe_result_healthy(p, &o.r) && !probe_result_degraded(p, &o.r));
	probe_free(p);
}
END_TEST

START_TEST(test_keys)
{
	static const char *const keys[] = {
	        "command", "shell", "warning_is", "warning_is_failure", "max_output", "env", NULL};
	tl_assert_keys(&probe_exec_ops, keys);
}
END_TEST

START_TEST(test_to_json)
{
	struct probe *p = tl_probe("exec", 5000,
	                           "{\"command\": [\"echo\", \"a b\"], \"env\": {\"X\": \"1\"}}");
	json_t *j = p->ops->to_json(p);
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(s, "{\"command\":[\"echo\",\"a b\"],\"env\":{\"X\":\"1\"},"
	                    "\"max_output\":4096,\"shell\":false,\"warning_is\":\"healthy\"}");
	free(s);
	json_decref(j);
	probe_free(p);

	/* With shell, an array is one command line joined by spaces. */
	p = tl_probe("exec", 5000,
	             "{\"command\": [\"exit\", \"3\"], \"shell\": true, "
	             "\"warning_is_failure\": true, \"max_output\": 0}");
	j = p->ops->to_json(p);
	s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(s, "{\"command\":\"exit 3\",\"env\":{},\"max_output\":0,\"shell\":true,"
	                    "\"warning_is\":\"failure\"}");
	free(s);
	struct probe *q = tl_probe_json(&probe_exec_ops, j);
	json_decref(j);
	struct tl_outcome o;
	tl_run_settled(tl_base, q, &o);
	ck_assert_int_eq(o.r.reason, PR_EXIT);
	ck_assert_str_eq(o.r.detail, "exit 3");
	probe_free(q);
	probe_free(p);
}
END_TEST

static Suite *exec_suite(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("exec");
	tcase_add_checked_fixture(tc, tl_child_setup, tl_child_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_exit_codes);
	tcase_add_test(tc, test_warning_is_failure);
	tcase_add_test(tc, test_warning_is_degraded);
	tcase_add_test(tc, test_signal);
	tcase_add_test(tc, test_spawn_failure);
	tcase_add_test(tc, test_environment);
	tcase_add_test(tc, test_isolation);
	tcase_add_test(tc, test_output_cap);
	tcase_add_test(tc, test_timeout_kills_group);
	tcase_add_test(tc, test_leader_exit_kills_stragglers);
	tcase_add_test(tc, test_cancel_and_free_running);
	tcase_add_loop_test(tc, test_config, 0, TL_LEN(config_cases));
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_to_json);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(exec_suite)
