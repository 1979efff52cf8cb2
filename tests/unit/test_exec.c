/* The exec probe and child.c with real processes in a real event loop: exit statuses,
 * signals, spawn failures, the environment, output capture, and that a timed-out command
 * leaves neither processes nor zombies behind. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../healthd/cfgerr.h"
#include "../../healthd/log.h"
#include "../../probes/child.h"
#include "../../probes/probe.h"
#include "unit.h"

struct outcome {
	bool done;
	int calls;
	struct probe_result r;
};

static struct event_base *base;

static void setup(void)
{
	log_init("test_exec", false, LOG_DAEMON, LOG_DEBUG);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(child_init(base), 0);
}

static void teardown(void)
{
	child_shutdown();
	event_base_free(base);
}

static void on_done(struct probe *p, const struct probe_result *r, void *arg)
{
	struct outcome *o = arg;
	(void)p;
	o->done = true;
	o->calls++;
	o->r = *r;
}

static struct probe *mk_probe(const char *text)
{
	struct config_error err;
	json_t *obj = json_loads(text, 0, NULL);

	ck_assert_msg(obj != NULL, "bad JSON: %s", text);
	config_error_init(&err, "test", NULL);
	struct probe *p = probe_new(&probe_exec_ops, obj, &err);
	ck_assert_msg(p != NULL, "%s: %s", text, err.nmsgs > 0 ? err.msgs[0] : "no message");
	json_decref(obj);
	config_error_free(&err);
	p->timeout_ms = 5000;
	return p;
}

static const char *config_fails(const char *text)
{
	static char msg[512];
	struct config_error err;
	json_t *obj = json_loads(text, 0, NULL);

	ck_assert_msg(obj != NULL, "bad JSON: %s", text);
	config_error_init(&err, "test", NULL);
	struct probe *p = probe_new(&probe_exec_ops, obj, &err);
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

static long ms_since(const struct timeval *start)
{
	struct timeval now, d;
	gettimeofday(&now, NULL);
	timersub(&now, start, &d);
	return d.tv_sec * 1000 + d.tv_usec / 1000;
}

/* Turn the loop for about ms. */
static void spin(unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void run(struct probe *p, struct outcome *o)
{
	struct timeval start;

	memset(o, 0, sizeof(*o));
	probe_set_done(p, on_done, o);
	gettimeofday(&start, NULL);
	probe_run(p, base);
	ck_assert_msg(!o->done, "reported from inside probe_run");
	while (!o->done) {
		ck_assert_msg(ms_since(&start) < p->timeout_ms + 2000, "run did not end");
		spin(10);
	}
	spin(20);
	ck_assert_int_eq(o->calls, 1);
	ck_assert(!p->running);
}

/* Run the loop until this process has no child left, live or zombie; bounded. */
static void assert_no_children(void)
{
	struct timeval start;
	int zombie_turns = 0;

	gettimeofday(&start, NULL);
	for (;;) {
		siginfo_t si;
		si.si_pid = 0;
		/* Peek, never reap: reaping is the handler's job, and a zombie that lasts
		 * several turns of the loop is one the handler missed. */
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
			ck_assert_int_eq(errno, ECHILD);
			return;
		}
		if (si.si_pid != 0)
			ck_assert_msg(++zombie_turns < 20, "zombie %d not reaped", (int)si.si_pid);
		ck_assert_msg(ms_since(&start) < 3000, "children still running");
		spin(10);
	}
}

static struct probe *run_cmd(const char *text, struct outcome *o)
{
	struct probe *p = mk_probe(text);
	run(p, o);
	return p;
}

START_TEST(test_exit_codes)
{
	struct outcome o;
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
	run(p, &o);
	ck_assert_int_eq(o.r.reason, PR_EXIT);
	probe_free(p);
	assert_no_children();
}
END_TEST

START_TEST(test_warning_is_failure)
{
	struct outcome o;
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
	struct outcome o;
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
	struct outcome o;
	struct probe *p = run_cmd("{\"command\": [\"/nonexistent/check_thing\", \"-v\"]}", &o);
	ck_assert_int_eq(o.r.reason, PR_SPAWN);
	ck_assert_int_eq(o.r.status, PROBE_ERROR);
	ck_assert_str_eq(o.r.detail,
	                 "cannot run /nonexistent/check_thing: No such file or directory");
	probe_free(p);

	p = run_cmd("{\"command\": [\"healthd-no-such-command-in-path\"]}", &o);
	ck_assert_int_eq(o.r.reason, PR_SPAWN);
	probe_free(p);
	assert_no_children();
}
END_TEST

START_TEST(test_environment)
{
	struct outcome o;
	struct probe *p = mk_probe(
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
	run(p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	probe_free(p);

	/* Without an IPv4 source, HEALTHD_SOURCE is the IPv6 one; without any, empty. */
	p = mk_probe("{\"command\": \"test \\\"$HEALTHD_SOURCE\\\" = 2001:db8::7 && "
	             "test -z \\\"$HEALTHD_SOURCE4\\\" && test -z \\\"$HEALTHD_SERVICE\\\"\", "
	             "\"shell\": true}");
	p->source.has_v6 = true;
	inet_pton(AF_INET6, "2001:db8::7", &p->source.v6);
	run(p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	p->source.has_v6 = false;
	run(p, &o);
	ck_assert_int_eq(o.r.reason, PR_WARNING); /* test(1) exits 1 */
	probe_free(p);
}
END_TEST

/* The child gets /dev/null as stdin, the pipe as stdout and stderr, its own group, and
 * none of healthd's other descriptors. */
START_TEST(test_isolation)
{
	struct outcome o;
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
	struct outcome o;
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

static pid_t read_pid(const char *path)
{
	struct timeval start;
	FILE *f;
	int pid = 0;

	gettimeofday(&start, NULL);
	while (ms_since(&start) < 3000) {
		if ((f = fopen(path, "r")) != NULL) {
			int n = fscanf(f, "%d", &pid);
			fclose(f);
			if (n == 1 && pid > 0)
				return pid;
		}
		spin(5);
	}
	ck_abort_msg("no pid in %s", path);
	return 0;
}

START_TEST(test_timeout_kills_group)
{
	struct outcome o;
	char path[] = "/tmp/healthd-test-exec-XXXXXX", text[512];
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(path);

	snprintf(text, sizeof(text),
	         "{\"command\": \"echo $$ > %s.tmp && mv %s.tmp %s; "
	         "sleep 300 & sleep 300 & exec sleep 300\", \"shell\": true}",
	         path, path, path);
	struct probe *p = mk_probe(text);
	p->timeout_ms = 300;
	run(p, &o);
	ck_assert_int_eq(o.r.reason, PR_TIMEOUT);
	ck_assert_uint_ge(o.r.latency_us, 290000);
	pid_t pgid = read_pid(path);
	unlink(path);

	/* The whole group goes, and the reaper collects every member: the leader and the
	 * background sleeps re-parented to us as the subreaper. */
	struct timeval start;
	gettimeofday(&start, NULL);
	while (kill(-pgid, 0) == 0) {
		ck_assert_msg(ms_since(&start) < 3000, "group %d survived", (int)pgid);
		spin(10);
	}
	ck_assert_int_eq(errno, ESRCH);
	assert_no_children();
	probe_free(p);
}
END_TEST

/* A leader that exits while its background child still holds the pipe: the run ends on
 * the leader's exit, and the group is killed rather than waited for. */
START_TEST(test_leader_exit_kills_stragglers)
{
	struct outcome o;
	struct probe *p =
	        run_cmd("{\"command\": \"sleep 300 & echo started $!\", \"shell\": true}", &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	ck_assert_uint_lt(o.r.latency_us, 2000000);
	int pid = 0;
	ck_assert_int_eq(sscanf(o.r.detail, "exit 0: started %d", &pid), 1);
	assert_no_children();
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
	assert_no_children();
	probe_free(p);
}
END_TEST

START_TEST(test_cancel_and_free_running)
{
	struct outcome o = {0};
	struct probe *p = mk_probe("{\"command\": [\"sleep\", \"300\"]}");
	probe_set_done(p, on_done, &o);
	probe_run(p, base);
	spin(50);
	ck_assert(p->running);
	probe_free(p); /* cancels: kills the group; the reap comes later */
	assert_no_children();
	ck_assert(!o.done);

	/* child_shutdown with a child still unreaped frees it too (checked under ASan). */
	p = mk_probe("{\"command\": [\"sleep\", \"300\"]}");
	probe_set_done(p, on_done, &o);
	probe_run(p, base);
	probe_free(p);
}
END_TEST

START_TEST(test_config)
{
	ck_assert_pstr_eq(
	        config_fails("{}"),
	        "test: command: required key is missing (expected array of non-empty strings)");
	ck_assert_pstr_eq(config_fails("{\"command\": \"true\"}"),
	                  "test: command: expected array of non-empty strings (a command line "
	                  "given as one string needs \"shell\": true)");
	ck_assert_pstr_eq(config_fails("{\"command\": []}"),
	                  "test: command: expected array of non-empty strings, not an empty one");
	ck_assert_pstr_eq(config_fails("{\"command\": [\"a\", \"\"]}"),
	                  "test: command[1]: expected non-empty string");
	ck_assert_pstr_eq(config_fails("{\"command\": \"\", \"shell\": true}"),
	                  "test: command: expected non-empty string");
	ck_assert_pstr_eq(config_fails("{\"command\": [\"true\"], \"max_output\": 1048577}"),
	                  "test: max_output: expected integer 0-1048576");
	ck_assert_pstr_eq(config_fails("{\"command\": [\"true\"], \"shell\": 1}"),
	                  "test: shell: expected boolean");
	ck_assert_pstr_eq(config_fails("{\"command\": [\"true\"], \"env\": []}"),
	                  "test: env: expected object of strings");
	ck_assert_pstr_eq(config_fails("{\"command\": [\"true\"], \"env\": {\"A\": 1}}"),
	                  "test: env.A: expected string");
	ck_assert_pstr_eq(config_fails("{\"command\": [\"true\"], \"env\": {\"A=B\": \"x\"}}"),
	                  "test: env.A=B: not a valid environment variable name");
	ck_assert_pstr_eq(
	        config_fails("{\"command\": [\"true\"], \"env\": {\"HEALTHD_SERVICE\": \"x\"}}"),
	        "test: env.HEALTHD_SERVICE: HEALTHD_ variables are set by healthd");

	const char *keys[] = {"command", "shell", "warning_is_failure", "max_output", "env"};
	for (size_t i = 0; i < 5; i++) {
		bool found = false;
		for (const char *const *k = probe_exec_ops.keys; *k != NULL; k++)
			found |= strcmp(*k, keys[i]) == 0;
		ck_assert_msg(found, "%s", keys[i]);
	}
}
END_TEST

START_TEST(test_to_json)
{
	struct probe *p = mk_probe("{\"command\": [\"echo\", \"a b\"], \"env\": {\"X\": \"1\"}}");
	json_t *j = p->ops->to_json(p);
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(s, "{\"command\":[\"echo\",\"a b\"],\"env\":{\"X\":\"1\"},"
	                    "\"max_output\":4096,\"shell\":false,\"warning_is_failure\":false}");
	free(s);
	json_decref(j);
	probe_free(p);

	/* With shell, an array is one command line joined by spaces. */
	p = mk_probe("{\"command\": [\"exit\", \"3\"], \"shell\": true, "
	             "\"warning_is_failure\": true, \"max_output\": 0}");
	j = p->ops->to_json(p);
	s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(s, "{\"command\":\"exit 3\",\"env\":{},\"max_output\":0,\"shell\":true,"
	                    "\"warning_is_failure\":true}");
	free(s);
	struct config_error err;
	config_error_init(&err, "test", NULL);
	struct probe *q = probe_new(&probe_exec_ops, j, &err);
	ck_assert_ptr_nonnull(q);
	json_decref(j);
	config_error_free(&err);
	struct outcome o;
	run(q, &o);
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
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_exit_codes);
	tcase_add_test(tc, test_warning_is_failure);
	tcase_add_test(tc, test_signal);
	tcase_add_test(tc, test_spawn_failure);
	tcase_add_test(tc, test_environment);
	tcase_add_test(tc, test_isolation);
	tcase_add_test(tc, test_output_cap);
	tcase_add_test(tc, test_timeout_kills_group);
	tcase_add_test(tc, test_leader_exit_kills_stragglers);
	tcase_add_test(tc, test_cancel_and_free_running);
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_to_json);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(exec_suite)
