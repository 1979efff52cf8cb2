/* child.c on its own, with real processes: output capture and its cap, spawn errors, a
 * child freed while running, orphans collected by the subreaper, shutdown. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/monotime.h"
#include "../../probes/child.h"
#include "testlib.h"

static void child_done(struct child *c, int wstatus, void *arg)
{
	int *st = arg;
	(void)c;
	*st = wstatus;
}

/* Spin until the done callback has run; bounded. */
static void wait_done(const int *st)
{
	uint64_t start = tl_now_ms();
	while (*st == -1) {
		ck_assert_msg(tl_now_ms() - start < 3000, "child did not finish");
		tl_spin(tl_base, 10);
	}
}

START_TEST(test_capture)
{
	const char *argv[] = {"sh", "-c", "printf 'line1\\nline2\\n'; printf err >&2", NULL};
	struct child_spec spec = {.argv = argv, .max_output = CHILD_OUTPUT_DEFAULT};
	int err = 0, st = -1;
	size_t len;

	struct child *c = child_spawn(tl_base, &spec, child_done, &st, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_gt(child_pid(c), 0);
	wait_done(&st);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(child_output(c, &len), "line1\nline2\nerr");
	ck_assert_uint_eq(len, 15);
	ck_assert(!child_output_truncated(c));
	child_free(c);
	tl_assert_no_children();
}
END_TEST

START_TEST(test_cap)
{
	struct child_spec spec = {.shell = "yes | head -c 500000; exit 4", .max_output = 100};
	int err = 0, st = -1;
	size_t len;

	struct child *c = child_spawn(tl_base, &spec, child_done, &st, &err);
	ck_assert_ptr_nonnull(c);
	wait_done(&st);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 4);
	ck_assert_uint_eq(strlen(child_output(c, &len)), 100);
	ck_assert_uint_eq(len, 100);
	ck_assert(child_output_truncated(c));
	child_free(c);

	/* Nothing kept at all, still drained. */
	spec.max_output = 0;
	st = -1;
	c = child_spawn(tl_base, &spec, child_done, &st, &err);
	ck_assert_ptr_nonnull(c);
	wait_done(&st);
	ck_assert_str_eq(child_output(c, &len), "");
	ck_assert_uint_eq(len, 0);
	child_free(c);
}
END_TEST

/* child_wait: without the loop, the output is read, the child reaped and done called;
 * at the deadline it gives up and the child still runs until freed. */
START_TEST(test_wait_without_loop)
{
	const char *argv[] = {"sh", "-c", "sleep 0.1; printf bye; exit 3", NULL};
	struct child_spec spec = {.argv = argv, .max_output = CHILD_OUTPUT_DEFAULT};
	struct timeval deadline;
	int err = 0, st = -1;

	struct child *c = child_spawn(tl_base, &spec, child_done, &st, &err);
	ck_assert_ptr_nonnull(c);
	mono_deadline(&deadline, 3000);
	ck_assert_int_eq(child_wait(c, &deadline), 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	ck_assert_str_eq(child_output(c, NULL), "bye");
	child_free(c);
	tl_assert_no_children();

	const char *slow[] = {"sleep", "5", NULL};
	spec.argv = slow;
	st = -1;
	c = child_spawn(tl_base, &spec, child_done, &st, &err);
	ck_assert_ptr_nonnull(c);
	uint64_t start = tl_now_ms();
	mono_deadline(&deadline, 100);
	ck_assert_int_eq(child_wait(c, &deadline), -1);
	ck_assert_int_eq(st, -1);
	ck_assert_uint_lt(tl_now_ms() - start, 1000);
	child_free(c); /* killed; the reaper collects it */
	tl_assert_no_children();
}
END_TEST

START_TEST(test_spawn_errors)
{
	const char *missing[] = {"/nonexistent", NULL};
	const char *notexec[] = {"/etc/passwd", NULL};
	const char *empty[] = {NULL};
	struct child_spec spec = {.argv = missing};
	int err = 0, st = -1;

	ck_assert_ptr_null(child_spawn(tl_base, &spec, child_done, &st, &err));
	ck_assert_int_eq(err, ENOENT);
	spec.argv = notexec;
	ck_assert_ptr_null(child_spawn(tl_base, &spec, child_done, &st, &err));
	ck_assert_int_eq(err, EACCES);
	spec.argv = empty;
	ck_assert_ptr_null(child_spawn(tl_base, &spec, child_done, &st, &err));
	ck_assert_int_eq(err, EINVAL);
	tl_assert_no_children();
}
END_TEST

START_TEST(test_free_running)
{
	const char *argv[] = {"sleep", "300", NULL};
	struct child_spec spec = {.argv = argv};
	int err = 0, st = -1;

	struct child *c = child_spawn(tl_base, &spec, child_done, &st, &err);
	ck_assert_ptr_nonnull(c);
	pid_t pid = child_pid(c);
	tl_spin(tl_base, 20);
	child_free(c); /* killed now, reaped by the handler later */
	tl_assert_no_children();
	ck_assert_int_eq(kill(pid, 0), -1);
	ck_assert_int_eq(st, -1); /* an abandoned child reports nothing */
}
END_TEST

/* A grandchild that left the group outlives the leader; when it exits later, re-parented
 * to us as the subreaper, the handler collects it. */
START_TEST(test_orphans_reaped)
{
	struct child_spec spec = {.shell = "setsid sleep 0.4 & sleep 0.1", .max_output = 64};
	int err = 0, st = -1;

	struct child *c = child_spawn(tl_base, &spec, child_done, &st, &err);
	ck_assert_ptr_nonnull(c);
	wait_done(&st);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	child_free(c);
	tl_assert_no_children();
}
END_TEST

START_TEST(test_shutdown_with_children)
{
	const char *argv[] = {"sleep", "300", NULL};
	struct child_spec spec = {.argv = argv};
	int err = 0, st = -1;

	struct child *c = child_spawn(tl_base, &spec, child_done, &st, &err);
	ck_assert_ptr_nonnull(c);
	child_free(c);
	c = child_spawn(tl_base, &spec, child_done, &st, &err);
	ck_assert_ptr_nonnull(c);
	child_free(c);
	child_shutdown(); /* kills, reaps and frees both without the loop */
	errno = 0;
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	child_shutdown(); /* twice is fine; teardown calls it again */

	/* Another base may take the handler only once it is released. */
	struct event_base *other = event_base_new();
	ck_assert_int_eq(child_init(tl_base), 0);
	ck_assert_int_eq(child_init(other), -1);
	ck_assert_int_eq(errno, EBUSY);
	child_shutdown();
	ck_assert_int_eq(child_init(other), 0);
	child_shutdown();
	event_base_free(other);
}
END_TEST

static Suite *child_suite(void)
{
	Suite *s = suite_create("child");
	TCase *tc = tcase_create("child");
	tcase_add_checked_fixture(tc, tl_child_setup, tl_child_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_capture);
	tcase_add_test(tc, test_cap);
	tcase_add_test(tc, test_wait_without_loop);
	tcase_add_test(tc, test_spawn_errors);
	tcase_add_test(tc, test_free_running);
	tcase_add_test(tc, test_orphans_reaped);
	tcase_add_test(tc, test_shutdown_with_children);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(child_suite)
