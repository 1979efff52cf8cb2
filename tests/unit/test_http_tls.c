/* The http probe over HTTPS against `openssl s_server` on loopback, with certificates
 * made here by the openssl tool (the tests skip without it): ca_file verifies the
 * server; a certificate signed by another CA is refused; and ca_file replaces the
 * system's trust store instead of adding to it. For the last, a child process gets a
 * mount namespace of its own (root, or an unprivileged user namespace; skipped when
 * neither is allowed) in which libcurl's default CA directory holds the other CA.
 * The trust store is read once per CA file and again only when the file changes, and
 * still refuses what it does not trust; a later run resumes the TLS session of an
 * earlier one (s_server -www says "Reused" in its page) unless "tls_resume": false. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/cfgerr.h"
#include "../../probes/curlev.h"
#include "../../probes/probe.h"
#include "../../probes/tls_ca.h"
#include "testlib.h"

#define SKIP 77

static char dir[] = "/tmp/healthd-tls.XXXXXX";
static bool have_pki;

/* ca1 and ca2, srv1.pem signed by ca1 and srv2.pem by ca2 (both for IP 127.0.0.1), and
 * capath/: a stand-in for the system's CA directory, holding ca2 (hashed) and, as its
 * bundle, ca1. */
static void make_pki(void)
{
	char cmd[2048];

	if (system("openssl version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "http_tls: no openssl tool: skipped\n");
		return;
	}
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
	         "cd %s && exec >openssl.log 2>&1 && "
	         "for n in 1 2; do "
	         " openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
	         "  -subj /CN=healthd-test-ca$n -keyout ca$n.key -out ca$n.pem &&"
	         " openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
	         "  -subj /CN=127.0.0.1 -keyout srv$n.key -out srv$n.csr &&"
	         " printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' >ext.cnf &&"
	         " openssl x509 -req -in srv$n.csr -CA ca$n.pem -CAkey ca$n.key -CAcreateserial"
	         "  -days 2 -extfile ext.cnf -out srv$n.pem || exit 1; "
	         "done && mkdir capath && cp ca1.pem capath/ca-certificates.crt &&"
	         " cp ca2.pem capath/$(openssl x509 -hash -noout -in ca2.pem).0",
	         dir);
	ck_assert_msg(system(cmd) == 0, "openssl failed: see %s/openssl.log", dir);
	have_pki = true;
}

static void remove_pki(void)
{
	char cmd[128];

	if (!have_pki)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf -- %s", dir);
	(void)system(cmd);
}

/* `openssl s_server -www` with srvN's certificate on a free port of 127.0.0.1. */
static pid_t tls_server(int n, unsigned *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	char accept[32], cert[96], key[96];
	pid_t pid;

	*port = 0;
	int fd = tl_bind("127.0.0.1", SOCK_STREAM, port);
	ck_assert_int_ge(fd, 0);
	close(fd);
	sin.sin_port = htons(*port);
	snprintf(accept, sizeof(accept), "127.0.0.1:%u", *port);
	snprintf(cert, sizeof(cert), "%s/srv%d.pem", dir, n);
	snprintf(key, sizeof(key), "%s/srv%d.key", dir, n);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", accept,
		       "-cert", cert, "-key", key, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) { /* up to 5 s for it to listen */
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
			close(fd);
			return pid;
		}
		close(fd);
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ck_abort_msg("openssl s_server did not start on %s", accept);
	return -1;
}

static void tls_server_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static void on_done(struct probe *p, const struct probe_result *r, void *arg)
{
	(void)p;
	*(struct probe_result *)arg = *r;
}

/* One run of an http probe to https://127.0.0.1:PORT/, with ca_file caN.pem (n > 0) or
 * the system's trust store (n == 0). Plain checks only: it also runs in a child. */
static struct probe_result fetch(unsigned port, int n)
{
	struct probe_result r = {.reason = PR_COUNT};
	struct config_error err;
	struct event_base *base = event_base_new();
	char text[256], ca[128] = "";
	json_t *obj;
	struct probe *p;

	if (n > 0)
		snprintf(ca, sizeof(ca), ", \"ca_file\": \"%s/ca%d.pem\"", dir, n);
	snprintf(text, sizeof(text), "{\"url\": \"https://127.0.0.1:%u/\"%s}", port, ca);
	obj = json_loads(text, 0, NULL);
	config_error_init(&err, "test", NULL);
	p = obj != NULL ? probe_new(&probe_http_ops, obj, &err) : NULL;
	if (p != NULL) {
		p->timeout_ms = 3000;
		probe_set_done(p, on_done, &r);
		probe_run(p, base);
		for (int i = 0; i < 100000 && r.reason == PR_COUNT; i++)
			event_base_loop(base, EVLOOP_ONCE);
		probe_free(p);
	} else {
		snprintf(r.detail, sizeof(r.detail), "config: %s", err.nmsgs ? err.msgs[0] : "?");
	}
	config_error_free(&err);
	json_decref(obj);
	event_base_free(base);
	return r;
}

/* An http probe from JSON text (any %s filled with dir), with a 3 s timeout. */
static struct probe *tls_probe(const char *fmt, unsigned port, const char *ca)
{
	struct config_error err;
	char text[512];
	json_t *obj;
	struct probe *p;

	snprintf(text, sizeof(text), fmt, port, ca);
	obj = json_loads(text, 0, NULL);
	ck_assert_msg(obj != NULL, "bad JSON %s", text);
	config_error_init(&err, "test", NULL);
	p = probe_new(&probe_http_ops, obj, &err);
	ck_assert_msg(p != NULL, "config: %s", err.nmsgs ? err.msgs[0] : "?");
	config_error_free(&err);
	json_decref(obj);
	p->timeout_ms = 3000;
	return p;
}

/* The loop of every run in a test: a probe stays on the base of its first run. */
static struct event_base *tbase;

/* One run of p. */
static struct probe_result tls_run(struct probe *p)
{
	struct probe_result r = {.reason = PR_COUNT};

	if (tbase == NULL)
		tbase = event_base_new();
	probe_set_done(p, on_done, &r);
	probe_run(p, tbase);
	for (int i = 0; i < 100000 && r.reason == PR_COUNT; i++)
		event_base_loop(tbase, EVLOOP_ONCE);
	return r;
}

/* After the test's probes are freed. */
static void tls_loop_free(void)
{
	if (tbase != NULL)
		event_base_free(tbase);
	tbase = NULL;
}

/* The "tls_resumed" fact of p's last run: 1, 0, or -1 when missing. */
static int tls_resumed_fact(const struct probe *p)
{
	json_t *v = p->facts != NULL ? json_object_get(p->facts, "tls_resumed") : NULL;

	return json_is_boolean(v) ? json_is_true(v) : -1;
}

/* Replace path's content with the file from, atomically (a new inode, as an operator's
 * tool or a package update would). */
static void replace_file(const char *from, const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp %s %s.new && mv -f %s.new %s", from, path, path, path);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_store_read_once)
{
	char ca[128];
	unsigned port1, port2;
	pid_t srv1, srv2;
	struct probe *a, *b, *c;
	struct probe_result r;
	unsigned long loads;

	if (!have_pki)
		return;
	srv1 = tls_server(1, &port1);
	srv2 = tls_server(2, &port2);
	snprintf(ca, sizeof(ca), "%s/ca1.pem", dir);
	/* Two checks naming the same file, a third against a server ca1 did not sign. */
	a = tls_probe("{\"url\": \"https://127.0.0.1:%u/\", \"ca_file\": \"%s\"}", port1, ca);
	b = tls_probe("{\"url\": \"https://127.0.0.1:%u/a\", \"ca_file\": \"%s\"}", port1, ca);
	c = tls_probe("{\"url\": \"https://127.0.0.1:%u/\", \"ca_file\": \"%s\"}", port2, ca);
	loads = tls_ca_loads();
	for (int i = 0; i < 3; i++) {
		r = tls_run(a);
		ck_assert_msg(r.reason == PR_OK, "run %d: %s", i, r.detail);
		r = tls_run(b);
		ck_assert_msg(r.reason == PR_OK, "run %d: %s", i, r.detail);
		/* The cached store still refuses a certificate it does not vouch for. */
		r = tls_run(c);
		ck_assert_msg(r.reason == PR_TLS, "run %d: %s %s", i,
		              probe_reason_info(r.reason)->code, r.detail);
	}
	ck_assert_uint_eq(tls_ca_loads() - loads, 1);
	probe_free(a);
	probe_free(b);
	probe_free(c);
	tls_loop_free();
	tls_server_stop(srv1);
	tls_server_stop(srv2);
}
END_TEST

/* Checks with different trust stores running at once share libcurl's multi handle:
 * each must still be verified with its own store (libcurl 7.88's CA cache, kept in
 * the multi, would hand every connection the store of the first). */
START_TEST(test_stores_kept_apart)
{
	char ca1[128], ca2[128];
	unsigned port;
	pid_t srv;
	struct probe *p[3];
	struct probe_result r[3];

	if (!have_pki)
		return;
	srv = tls_server(1, &port);
	snprintf(ca1, sizeof(ca1), "%s/ca1.pem", dir);
	snprintf(ca2, sizeof(ca2), "%s/ca2.pem", dir);
	p[0] = tls_probe("{\"url\": \"https://127.0.0.1:%u/\", \"ca_file\": \"%s\"}", port, ca1);
	p[1] = tls_probe("{\"url\": \"https://127.0.0.1:%u/\", \"ca_file\": \"%s\"}", port, ca2);
	p[2] = tls_probe("{\"url\": \"https://127.0.0.1:%u/\"%s}", port, ""); /* the system's */
	if (tbase == NULL)
		tbase = event_base_new();
	for (int round = 0; round < 4; round++) {
		/* in turn, each one starts first */
		for (int k = 0; k < 3; k++) {
			int i = (k + round) % 3;
			r[i].reason = PR_COUNT;
			probe_set_done(p[i], on_done, &r[i]);
			probe_run(p[i], tbase);
		}
		for (int n = 0; n < 100000 && (r[0].reason == PR_COUNT || r[1].reason == PR_COUNT ||
		                               r[2].reason == PR_COUNT);
		     n++)
			event_base_loop(tbase, EVLOOP_ONCE);
		ck_assert_msg(r[0].reason == PR_OK, "round %d, ca1: %s", round, r[0].detail);
		ck_assert_msg(r[1].reason == PR_TLS, "round %d, ca2: %s %s", round,
		              probe_reason_info(r[1].reason)->code, r[1].detail);
		ck_assert_msg(r[2].reason == PR_TLS, "round %d, system: %s %s", round,
		              probe_reason_info(r[2].reason)->code, r[2].detail);
	}
	for (int i = 0; i < 3; i++)
		probe_free(p[i]);
	tls_loop_free();
	tls_server_stop(srv);
}
END_TEST

/* The CA file replaced by one that does not sign the server: the next run reads it and
 * fails, even though a session to resume exists; put back, the run passes again. */
START_TEST(test_store_reread_when_changed)
{
	char ca[128], ca1[128], ca2[128];
	unsigned port;
	pid_t srv;
	struct probe *p;
	struct probe_result r;
	unsigned long loads;

	if (!have_pki)
		return;
	srv = tls_server(1, &port);
	snprintf(ca, sizeof(ca), "%s/changing.pem", dir);
	snprintf(ca1, sizeof(ca1), "%s/ca1.pem", dir);
	snprintf(ca2, sizeof(ca2), "%s/ca2.pem", dir);
	replace_file(ca1, ca);
	p = tls_probe("{\"url\": \"https://127.0.0.1:%u/\", \"ca_file\": \"%s\"}", port, ca);
	loads = tls_ca_loads();
	r = tls_run(p);
	ck_assert_msg(r.reason == PR_OK, "%s", r.detail);
	r = tls_run(p);
	ck_assert_msg(r.reason == PR_OK, "%s", r.detail);
	ck_assert_int_eq(tls_resumed_fact(p), 1);
	ck_assert_uint_eq(tls_ca_loads() - loads, 1);

	replace_file(ca2, ca);
	r = tls_run(p);
	ck_assert_msg(r.reason == PR_TLS, "%s %s", probe_reason_info(r.reason)->code, r.detail);
	ck_assert_uint_eq(tls_ca_loads() - loads, 2);

	/* A file that is no CA bundle at all: a clear error naming it. */
	replace_file("/dev/null", ca);
	r = tls_run(p);
	ck_assert_msg(r.reason == PR_TLS && strstr(r.detail, "changing.pem") != NULL, "%s %s",
	              probe_reason_info(r.reason)->code, r.detail);

	replace_file(ca1, ca);
	r = tls_run(p);
	ck_assert_msg(r.reason == PR_OK, "%s", r.detail);
	ck_assert_int_eq(tls_resumed_fact(p), 0); /* the old sessions were forgotten */
	probe_free(p);
	tls_loop_free();
	tls_server_stop(srv);
}
END_TEST

/* s_server -www's page says "Reused, " for a resumed session, "New, " otherwise. */
static void resume_case(bool resume)
{
	char ca[128], fmt[256];
	unsigned port;
	pid_t srv;
	struct probe *p;
	struct probe_result r;

	srv = tls_server(1, &port);
	snprintf(ca, sizeof(ca), "%s/ca1.pem", dir);
	snprintf(fmt, sizeof(fmt),
	         "{\"url\": \"https://127.0.0.1:%%u/\", \"ca_file\": \"%%s\", "
	         "\"expect_body\": \"Reused, \"%s}",
	         resume ? "" : ", \"tls_resume\": false");
	p = tls_probe(fmt, port, ca);
	r = tls_run(p); /* the first run has nothing to resume */
	ck_assert_msg(r.reason == PR_BODY_MISMATCH, "%s %s", probe_reason_info(r.reason)->code,
	              r.detail);
	ck_assert_int_eq(tls_resumed_fact(p), 0);
	for (int i = 0; i < 2; i++) {
		r = tls_run(p);
		if (resume) {
			ck_assert_msg(r.reason == PR_OK, "%s %s", probe_reason_info(r.reason)->code,
			              r.detail);
			ck_assert_int_eq(tls_resumed_fact(p), 1);
		} else {
			ck_assert_msg(r.reason == PR_BODY_MISMATCH, "%s %s",
			              probe_reason_info(r.reason)->code, r.detail);
			ck_assert_int_eq(tls_resumed_fact(p), 0);
		}
	}
	probe_free(p);
	tls_loop_free();
	tls_server_stop(srv);
}

START_TEST(test_session_resumed)
{
	if (have_pki)
		resume_case(true);
}
END_TEST

START_TEST(test_tls_resume_off)
{
	if (have_pki)
		resume_case(false);
}
END_TEST

START_TEST(test_ca_file_verifies)
{
	struct probe_result r;
	unsigned port;
	pid_t srv;

	if (!have_pki)
		return;
	srv = tls_server(1, &port);
	r = fetch(port, 1);
	ck_assert_msg(r.reason == PR_OK, "%s", r.detail);
	tls_server_stop(srv);
}
END_TEST

START_TEST(test_other_ca_refused)
{
	struct probe_result r;
	unsigned port;
	pid_t srv;

	if (!have_pki)
		return;
	srv = tls_server(2, &port);
	r = fetch(port, 1);
	ck_assert_msg(r.reason == PR_TLS, "%s", r.detail);
	ck_assert_msg(strstr(r.detail, "TLS with 127.0.0.1:") == r.detail, "%s", r.detail);
	/* Nor does the system trust it. */
	r = fetch(port, 0);
	ck_assert_msg(r.reason == PR_TLS, "%s", r.detail);
	tls_server_stop(srv);
}
END_TEST

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* This process alone sees from mounted on onto. */
static int private_bind_mount(const char *from, const char *onto)
{
	char map[64];
	unsigned uid = getuid(), gid = getgid();

	if (unshare(CLONE_NEWNS) != 0) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
			return -1;
		snprintf(map, sizeof(map), "0 %u 1", uid);
		if (write_file("/proc/self/uid_map", map) != 0)
			return -1;
		(void)write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", gid);
		if (write_file("/proc/self/gid_map", map) != 0)
			return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return -1;
	return mount(from, onto, NULL, MS_BIND, NULL);
}

/* In a child: the system's CA directory trusts ca2, which signs the server. */
static int ca_file_replaces_system_store(unsigned port)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	char from[96];
	struct probe_result r;

	if (v->capath == NULL) {
		fprintf(stderr, "libcurl has no default CA path: nothing to replace\n");
		return SKIP;
	}
	snprintf(from, sizeof(from), "%s/capath", dir);
	if (private_bind_mount(from, v->capath) != 0) {
		fprintf(stderr, "cannot mount over %s here: %s\n", v->capath, strerror(errno));
		return SKIP;
	}
	/* Without ca_file, the system's store (now ca2 in the directory) trusts it ... */
	r = fetch(port, 0);
	if (r.reason != PR_OK) {
		fprintf(stderr, "the stand-in CA directory %s is not used: %s\n", v->capath,
		        r.detail);
		return SKIP;
	}
	/* ... with ca_file, only ca1 may. */
	r = fetch(port, 1);
	if (r.reason != PR_TLS) {
		fprintf(stderr,
		        "ca_file %s/ca1.pem did not replace the system's CA path %s: %s %s\n", dir,
		        v->capath, probe_reason_info(r.reason)->code, r.detail);
		return 1;
	}
	return 0;
}

START_TEST(test_ca_file_replaces_system_store)
{
	unsigned port;
	pid_t srv, child;
	int status;

	if (!have_pki)
		return;
	srv = tls_server(2, &port);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(ca_file_replaces_system_store(port));
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	tls_server_stop(srv);
	ck_assert_msg(WIFEXITED(status), "the child died (status %d)", status);
	if (WEXITSTATUS(status) == SKIP)
		fprintf(stderr, "test_ca_file_replaces_system_store: skipped\n");
	else
		ck_assert_msg(WEXITSTATUS(status) == 0, "see the child's message above");
}
END_TEST

static Suite *http_tls_suite(void)
{
	Suite *s = suite_create("http_tls");
	TCase *tc = tcase_create("tls");
	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, make_pki, remove_pki);
	tcase_add_test(tc, test_ca_file_verifies);
	tcase_add_test(tc, test_other_ca_refused);
	tcase_add_test(tc, test_ca_file_replaces_system_store);
	tcase_add_test(tc, test_store_read_once);
	tcase_add_test(tc, test_stores_kept_apart);
	tcase_add_test(tc, test_store_reread_when_changed);
	tcase_add_test(tc, test_session_resumed);
	tcase_add_test(tc, test_tls_resume_off);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(http_tls_suite)
