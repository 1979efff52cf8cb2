/* The limits healthd enforces on its probe runs (probes/probe_limits.c), with real
 * processes, sockets and an event loop: too many runs at once, too many bytes read by
 * one run (exec output, a TCP reply, an HTTP body), no descriptors left, an exec probe as
 * root; and the privilege drop (healthd/privdrop.c) in a child process. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../healthd/privdrop.h"
#include "../../healthd/process.h"
#include "../../probes/probe_limits.h"
#include "dns_fake.h"
#include "tcp_fake.h"
#include "testlib.h"

static void limits(unsigned max_running, size_t max_read, bool root_exec)
{
	struct probe_limits l = {max_running, max_read, root_exec};
	probe_limits_set(&l);
}

static void setup(void)
{
	tl_child_setup();
	limits(0, 0, true);
}

static void teardown(void)
{
	limits(0, 0, true);
	tl_child_teardown();
}

START_TEST(test_max_running)
{
	struct tl_outcome o;
	struct probe *slow = tl_probe("exec", 5000, "{\"command\": [\"sleep\", \"5\"]}");
	struct probe *p = tl_probe("exec", 5000, "{\"command\": [\"true\"]}");

	limits(1, 0, true);
	probe_run(slow, tl_base);
	ck_assert(slow->running);
	ck_assert_uint_eq(probe_limits_running(), 1);
	/* The second run ends at once, from the loop, as the probe's failure. */
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_LIMIT);
	ck_assert_int_eq(o.r.status, PROBE_ERROR);
	ck_assert_str_eq(probe_reason_info(PR_LIMIT)->code, "limit");
	ck_assert_msg(strstr(o.r.detail, "max_running") != NULL, "%s", o.r.detail);
	ck_assert(!probe_result_healthy(p, &o.r));
	ck_assert_uint_eq(probe_limits_running(), 1); /* the refused run never counted */

	/* A run that ends frees its place. */
	probe_cancel(slow);
	ck_assert_uint_eq(probe_limits_running(), 0);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	ck_assert_uint_eq(probe_limits_running(), 0);
	probe_free(p);
	probe_free(slow);
	tl_assert_no_children();
}
END_TEST

START_TEST(test_exec_read_limit)
{
	struct tl_outcome o;
	uint64_t t0 = tl_now_ms();
	/* Output without end: only the limit stops it before the 5 s timeout. */
	struct probe *p = tl_probe("exec", 5000, "{\"command\": [\"yes\", \"healthy\"]}");

	limits(0, 64 * 1024, true);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_LIMIT);
	ck_assert_msg(strstr(o.r.detail, "max_read_bytes (65536 bytes)") != NULL, "%s", o.r.detail);
	ck_assert_msg(tl_now_ms() - t0 < 3000, "took %llu ms",
	              (unsigned long long)(tl_now_ms() - t0));
	probe_free(p);
	tl_assert_no_children();

	/* Under the limit, the same kind of command passes. */
	p = tl_probe("exec", 5000, "{\"command\": [\"sh\", \"-c\", \"head -c 60000 /dev/zero\"]}");
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	probe_free(p);
	tl_assert_no_children();
}
END_TEST

START_TEST(test_tcp_read_limit)
{
	struct tcp_fake s;
	struct tl_outcome o;
	char send[801];

	memset(send, 'x', sizeof(send) - 1);
	send[sizeof(send) - 1] = '\0';
	ck_assert(tcp_fake_start(&s, tl_base, "127.0.0.1", TCP_FAKE_ECHO));
	/* The echo of 800 bytes never holds "needle": 512 bytes end the run first. */
	struct probe *p = tl_probe("tcp", 500,
	                           "{\"host\": \"127.0.0.1\", \"port\": %u, \"send\": \"%s\", "
	                           "\"expect\": \"needle\"}",
	                           s.port, send);
	limits(0, 512, true);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_LIMIT);
	ck_assert_msg(strstr(o.r.detail, "reply from 127.0.0.1:") != NULL, "%s", o.r.detail);
	ck_assert_uint_gt(p->read_bytes, 512);

	/* Without it, the run reads all and waits on for the needle. */
	limits(0, 0, true);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_TIMEOUT);
	ck_assert_uint_eq(p->read_bytes, 800);
	probe_free(p);
	tcp_fake_stop(&s);
}
END_TEST

START_TEST(test_http_read_limit)
{
	struct tcp_fake s;
	struct tl_outcome o;
	static char body[20000];

	memset(body, 'b', sizeof(body));
	ck_assert(tcp_fake_start(&s, tl_base, "127.0.0.1", TCP_FAKE_HTTP));
	tcp_fake_respond(&s, "200 OK", body, sizeof(body));
	struct probe *p =
	        tl_probe("http", 2000,
	                 "{\"url\": \"http://127.0.0.1:%u/\", \"expect_body\": \"ok\"}", s.port);
	limits(0, 4096, true);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_LIMIT);
	ck_assert_msg(strstr(o.r.detail, "body from 127.0.0.1:") != NULL, "%s", o.r.detail);
	probe_free(p);
	tcp_fake_stop(&s);
}
END_TEST

/* DNS: the truncated UDP reply fits, the 30 records over TCP do not. */
START_TEST(test_dns_read_limit)
{
	struct fake f;
	struct tl_outcome o;

	fake_start(&f, tl_base, FAKE_TRUNCATED);
	struct probe *p = tl_probe("dns", 1000,
	                           "{\"server\":\"127.0.0.1@%u\",\"name\":\"www.example.test\","
	                           "\"qtype\":\"A\"}",
	                           f.port);
	limits(0, 200, true);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_LIMIT);
	ck_assert_msg(strstr(o.r.detail, "max_read_bytes (200 bytes)") != NULL &&
	                      strstr(o.r.detail, "over tcp") != NULL,
	              "%s", o.r.detail);
	ck_assert_int_eq(f.udp_queries, 1);
	ck_assert_int_eq(f.tcp_queries, 1);

	limits(0, 0, true);
	tl_run_settled(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_uint_gt(p->read_bytes, 200);
	probe_free(p);
	fake_stop(&f);
}
END_TEST

/* With no descriptor left (max_open_files reached), a probe fails with "limit". */
START_TEST(test_no_descriptors)
{
	struct rlimit old, low;
	struct tl_outcome o, o2;
	int held[64], nheld = 0;
	unsigned port = 0;
	int lfd = tl_listen("127.0.0.1", &port);
	struct probe *tcp = tl_probe("tcp", 1000, "{\"host\": \"127.0.0.1\", \"port\": %u}", port);
	struct probe *ex = tl_probe("exec", 1000, "{\"command\": [\"true\"]}");
	struct probe *web = tl_probe("http", 1000, "{\"url\": \"http://127.0.0.1:%u/\"}", port);
	struct tl_outcome o3;

	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	/* The lowest limit above what is open now, then fill it. */
	int top = dup(0);
	ck_assert_int_ge(top, 0);
	close(top);
	low.rlim_cur = (rlim_t)top + 4;
	low.rlim_max = old.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (nheld < 64) {
		int fd = dup(0);
		if (fd < 0)
			break;
		held[nheld++] = fd;
	}
	ck_assert_int_eq(errno, EMFILE);
	probe_run(tcp, tl_base);
	tl_run_settled(tl_base, tcp, &o);
	tl_run_settled(tl_base, ex, &o2);
	tl_run_settled(tl_base, web, &o3);
	for (int i = 0; i < nheld; i++)
		close(held[i]);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);

	ck_assert_int_eq(o.r.reason, PR_LIMIT);
	ck_assert_int_eq(o2.r.reason, PR_LIMIT);
	ck_assert_msg(strstr(o2.r.detail, "Too many open files") != NULL, "%s", o2.r.detail);
	ck_assert_msg(o3.r.reason == PR_LIMIT &&
	                      strstr(o3.r.detail, "cannot open a socket: Too many open files"),
	              "%s", o3.r.detail);
	/* With descriptors back, the same probes run. */
	tl_run_settled(tl_base, tcp, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	probe_free(tcp);
	probe_free(ex);
	probe_free(web);
	close(lfd);
	tl_assert_no_children();
}
END_TEST

START_TEST(test_root_exec)
{
	struct tl_outcome o;
	struct probe *p = tl_probe("exec", 2000, "{\"command\": [\"true\"]}");

	limits(0, 0, false);
	tl_run_settled(tl_base, p, &o);
	if (geteuid() == 0) {
		ck_assert_int_eq(o.r.reason, PR_SPAWN);
		ck_assert_msg(strstr(o.r.detail, "refused to run as root") != NULL, "%s",
		              o.r.detail);
	} else {
		ck_assert_int_eq(o.r.reason, PR_OK);
	}
	limits(0, 0, true);
	tl_run_settled(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_OK);
	probe_free(p);
	tl_assert_no_children();
}
END_TEST

/* privdrop_apply in a child process: what it reports, and the ids it leaves. */
static int drop_in_child(const char *user, const char *group, char *why, size_t len, uid_t *uid,
                         gid_t *gid, int *ngroups)
{
	struct passwd *pw = getpwnam(user);
	struct group *gr = group != NULL ? getgrnam(group) : NULL;
	struct process_cfg pc = {.user = (char *)user};
	int pfd[2];

	ck_assert_ptr_nonnull(pw);
	pc.uid = pw->pw_uid;
	pc.gid = gr != NULL ? gr->gr_gid : pw->pw_gid;
	pc.group = (char *)(group != NULL ? group : "primary");
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char buf[600];
		char w[512] = "";
		int rc = privdrop_apply(&pc, w, sizeof(w));
		int n = snprintf(buf, sizeof(buf), "%d %u %u %d %s", rc, (unsigned)geteuid(),
		                 (unsigned)getegid(), getgroups(0, NULL), w);
		ssize_t wr = write(pfd[1], buf, (size_t)n);
		_exit(wr == n ? 0 : 1);
	}
	close(pfd[1]);
	char buf[600] = "";
	ssize_t n = 0, r;
	while ((r = read(pfd[0], buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	close(pfd[0]);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	unsigned u, g;
	int rc, off = 0;
	ck_assert_int_eq(sscanf(buf, "%d %u %u %d %n", &rc, &u, &g, ngroups, &off), 4);
	snprintf(why, len, "%s", buf + off);
	*uid = u;
	*gid = g;
	return rc;
}

START_TEST(test_privdrop)
{
	char why[512];
	uid_t uid;
	gid_t gid;
	int ngroups;
	struct passwd *nobody = getpwnam("nobody");
	struct group *nogroup = getgrnam("nogroup");

	ck_assert_ptr_nonnull(nobody);
	ck_assert_ptr_nonnull(nogroup);
	int rc = drop_in_child("nobody", "nogroup", why, sizeof(why), &uid, &gid, &ngroups);
	if (geteuid() == 0) {
		ck_assert_msg(rc == 0, "%s", why);
		ck_assert_uint_eq(uid, nobody->pw_uid);
		ck_assert_uint_eq(gid, nogroup->gr_gid);
		/* initgroups: nobody is in no group of its own but the one given. */
		ck_assert_int_le(ngroups, 1);
	} else if (geteuid() != nobody->pw_uid) {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(why, "not as root, and cannot become it") != NULL, "%s", why);
	}
}
END_TEST

/* process_apply in a child process, as start and reloads call it: the first config with
 * a user fixes whom healthd runs as; a later one naming another user, or none, is
 * refused; one naming the same user applies its limits. */
START_TEST(test_process_apply_fixes_the_user)
{
	/* As root the drop is real (nobody); otherwise the current user is "dropped" to. */
	struct passwd *pw = geteuid() == 0 ? getpwnam("nobody") : getpwuid(geteuid());
	ck_assert_ptr_nonnull(pw);
	struct process_cfg a = {
	        .user = strdup(pw->pw_name),
	        .group = strdup("g"),
	        .uid = pw->pw_uid,
	        .gid = geteuid() == 0 ? pw->pw_gid : getegid(),
	        .max_running = 5,
	        .max_read_bytes = 4096,
	        .max_open_files = 512,
	};
	struct process_cfg other = a, none = a, again = a;
	other.user = "root";
	other.uid = 0;
	other.gid = 0;
	none.user = NULL;
	again.max_running = 7;
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char w[512], buf[2048];
		int r1 = process_apply(&a, w, sizeof(w));
		unsigned uid = (unsigned)geteuid();
		int r2 = process_apply(&other, w, sizeof(w));
		int restart = strstr(w, "restart to change whom healthd runs as") != NULL;
		int r3 = process_apply(&none, w, sizeof(w));
		unsigned running = probe_limits_get()->max_running;
		int r4 = process_apply(&again, w, sizeof(w));
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		int n = snprintf(buf, sizeof(buf), "%d %u %d %d %d %u %d %u %llu", r1, uid, r2,
		                 restart, r3, running, r4, probe_limits_get()->max_running,
		                 (unsigned long long)rl.rlim_cur);
		ssize_t wr = write(pfd[1], buf, (size_t)n);
		_exit(wr == n ? 0 : 1);
	}
	close(pfd[1]);
	char buf[2048] = "";
	ssize_t n = 0, r;
	while ((r = read(pfd[0], buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	close(pfd[0]);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	char want[256];
	snprintf(want, sizeof(want), "0 %u -1 1 -1 5 0 7 512", (unsigned)pw->pw_uid);
	ck_assert_str_eq(buf, want);
	free(a.user);
	free(a.group);
}
END_TEST

static Suite *limits_suite(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_max_running);
	tcase_add_test(tc, test_exec_read_limit);
	tcase_add_test(tc, test_tcp_read_limit);
	tcase_add_test(tc, test_http_read_limit);
	tcase_add_test(tc, test_dns_read_limit);
	tcase_add_test(tc, test_no_descriptors);
	tcase_add_test(tc, test_root_exec);
	tcase_add_test(tc, test_privdrop);
	tcase_add_test(tc, test_process_apply_fixes_the_user);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(limits_suite)
