/* The unit tests' shared scaffolding; see testlib.h. */
#include "testlib.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/log.h"
#include "../../probes/child.h"
#include "../../probes/curlev.h"

/* ---------------------------------------------------------------- probes */

void tl_on_done(struct probe *p, const struct probe_result *r, void *arg)
{
	struct tl_outcome *o = arg;
	(void)p;
	o->done = true;
	o->calls++;
	o->r = *r;
}

static const struct probe_ops *ops_of(const char *type)
{
	const struct probe_ops *ops = probe_ops_find(type);
	ck_assert_msg(ops != NULL, "no probe type \"%s\"", type);
	return ops;
}

/* fmt and ap into buf, which must hold all of it. */
static void format_into(char *buf, size_t len, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));
static void format_into(char *buf, size_t len, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, len, fmt, ap);
	ck_assert_msg(n >= 0 && (size_t)n < len, "test text longer than %zu bytes: %s", len, buf);
}

static json_t *json_of(const char *text)
{
	json_error_t je;
	json_t *obj = json_loads(text, 0, &je);
	ck_assert_msg(obj != NULL, "bad test JSON (%s): %s", je.text, text);
	return obj;
}

struct probe *tl_probe_json(const struct probe_ops *ops, const json_t *obj)
{
	struct config_error err;
	config_error_init(&err, "test", NULL);
	struct probe *p = probe_new(ops, obj, &err);
	ck_assert_msg(p != NULL, "config refused: %s", err.nmsgs > 0 ? err.msgs[0] : "no message");
	config_error_free(&err);
	return p;
}

struct probe *tl_probe(const char *type, uint32_t timeout_ms, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	format_into(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_t *obj = json_of(text);
	struct probe *p = tl_probe_json(ops_of(type), obj);
	json_decref(obj);
	if (timeout_ms > 0)
		p->timeout_ms = timeout_ms;
	return p;
}

const char *tl_probe_error(const char *type, const char *fmt, ...)
{
	static char msg[512];
	char text[1024];
	struct config_error err;
	va_list ap;

	va_start(ap, fmt);
	format_into(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_t *obj = json_of(text);
	config_error_init(&err, "test", NULL);
	struct probe *p = probe_new(ops_of(type), obj, &err);
	json_decref(obj);
	if (p != NULL) {
		ck_assert_msg(err.nmsgs == 0, "accepted with a message: %s", err.msgs[0]);
		probe_free(p);
		config_error_free(&err);
		return NULL;
	}
	ck_assert_uint_ge(err.nmsgs, 1);
	snprintf(msg, sizeof(msg), "%s", err.msgs[0]);
	config_error_free(&err);
	return msg;
}

void tl_check_probe_case(const struct tl_probe_case *c)
{
	const char *m = tl_probe_error(c->type, "%s", c->json);

	if (c->want == NULL) {
		ck_assert_msg(m == NULL, "%s %s: refused: %s", c->type, c->json, m);
		return;
	}
	ck_assert_msg(m != NULL, "%s %s: accepted", c->type, c->json);
	const char *at = strstr(m, c->want);
	bool ok = c->match == TL_EXACT    ? strcmp(m, c->want) == 0
	          : c->match == TL_PREFIX ? at == m
	                                  : at != NULL;
	ck_assert_msg(ok, "%s %s:\n got \"%s\"\nwant \"%s\"", c->type, c->json, m, c->want);
}

void tl_assert_keys(const struct probe_ops *ops, const char *const *keys)
{
	for (; *keys != NULL; keys++) {
		bool found = false;
		for (const char *const *k = ops->keys; *k != NULL; k++)
			found |= strcmp(*k, *keys) == 0;
		ck_assert_msg(found, "%s", *keys);
	}
}

void tl_run(struct event_base *base, struct probe *p, struct tl_outcome *o)
{
	uint64_t start = tl_now_ms();

	memset(o, 0, sizeof(*o));
	probe_set_done(p, tl_on_done, o);
	probe_run(p, base);
	ck_assert_msg(!o->done, "reported from inside probe_run");
	while (!o->done) {
		ck_assert_msg(tl_now_ms() - start < p->timeout_ms + 2000u, "run did not end");
		event_base_loop(base, EVLOOP_ONCE);
	}
	ck_assert_int_eq(o->calls, 1);
	ck_assert(!p->running);
}

void tl_run_settled(struct event_base *base, struct probe *p, struct tl_outcome *o)
{
	tl_run(base, p, o);
	tl_spin(base, 20);
	ck_assert_int_eq(o->calls, 1);
	ck_assert(!p->running);
	ck_assert_uint_eq(curlev_transfers(), 0);
}

json_int_t tl_fact_int(const struct probe *p, const char *key)
{
	json_t *v = json_object_get(p->facts, key);
	ck_assert_msg(json_is_integer(v), "fact %s missing", key);
	return json_integer_value(v);
}

const char *tl_fact_str(const struct probe *p, const char *key)
{
	json_t *v = json_object_get(p->facts, key);
	ck_assert_msg(json_is_string(v), "fact %s missing", key);
	return json_string_value(v);
}

/* ---------------------------------------------------------------- event loop, time */

void tl_spin(struct event_base *base, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

uint64_t tl_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

struct event_base *tl_base;

void tl_base_setup(void)
{
	tl_base = event_base_new();
	ck_assert_ptr_nonnull(tl_base);
}

void tl_base_teardown(void)
{
	event_base_free(tl_base);
	tl_base = NULL;
}

void tl_child_setup(void)
{
	log_init(program_invocation_short_name, false, LOG_DAEMON, LOG_DEBUG);
	tl_base_setup();
	ck_assert_int_eq(child_init(tl_base), 0);
}

void tl_child_teardown(void)
{
	child_shutdown();
	tl_base_teardown();
}

void tl_assert_no_children(void)
{
	uint64_t start = tl_now_ms();
	int zombie_turns = 0;

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
		ck_assert_msg(tl_now_ms() - start < 3000, "children still running");
		tl_spin(tl_base, 10);
	}
}

/* ---------------------------------------------------------------- configs */

#define CONFIG_NAME "t.json"

const char *tl_config_errors(const char *text)
{
	static char joined[16384];
	struct config_error err;
	config_error_init(&err, CONFIG_NAME, NULL);
	struct config *cfg = config_load_string(text, CONFIG_NAME, &err);
	ck_assert_msg(cfg == NULL, "config accepted:\n%s", text);
	ck_assert_ptr_null(err.pos); /* the index does not outlive the load */
	joined[0] = '\0';
	for (size_t i = 0; i < err.nmsgs; i++) {
		strncat(joined, err.msgs[i], sizeof(joined) - strlen(joined) - 1);
		strncat(joined, "\n", sizeof(joined) - strlen(joined) - 1);
	}
	config_error_free(&err);
	return joined;
}

struct config *tl_config_ok(const char *text)
{
	struct config_error err;
	config_error_init(&err, CONFIG_NAME, NULL);
	struct config *cfg = config_load_string(text, CONFIG_NAME, &err);
	ck_assert_msg(cfg != NULL && err.nmsgs == 0, "refused: %s", err.nmsgs ? err.msgs[0] : "?");
	config_error_free(&err);
	return cfg;
}

void tl_same_errors(const char *label, const char *got, const char *want)
{
	if (label == NULL)
		label = "";
	if (strcmp(got, want) != 0)
		fprintf(stderr, "%s%s--- want:\n%s--- got:\n%s", label, *label != '\0' ? ":\n" : "",
		        want, got);
	ck_assert_msg(strcmp(got, want) == 0, "%s%serrors differ (see stderr)", label,
	              *label != '\0' ? ": " : "");
}

/* ---------------------------------------------------------------- sockets */

static int bind_to(const char *addr, int type, unsigned *port, bool reuse)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	ck_assert_int_eq(net_addr_parse(addr, *port, &ss, &len), 0);
	int fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (reuse)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		close(fd);
		return -1;
	}
	len = sizeof(ss);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                      : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

int tl_bind(const char *addr, int type, unsigned *port)
{
	return bind_to(addr, type, port, false);
}

int tl_listen(const char *addr, unsigned *port)
{
	int fd = bind_to(addr, SOCK_STREAM, port, true);
	if (fd >= 0)
		ck_assert_int_eq(listen(fd, 16), 0);
	return fd;
}

/* ---------------------------------------------------------------- builders */

struct prefix tl_prefix(const char *text)
{
	struct prefix p;
	char err[128] = "";
	ck_assert_msg(prefix_parse(text, &p, err, sizeof(err)) == 0, "%s: %s", text, err);
	return p;
}

struct route_attrs tl_plain_attrs(void)
{
	struct route_attrs a;
	memset(&a, 0, sizeof(a));
	a.next_hop = "self";
	a.med = -1;
	a.local_preference = -1;
	return a;
}

int tl_argv(char **argv, int max, const char *argv0, const char *first, va_list ap)
{
	int argc = 0;

	argv[argc++] = (char *)argv0;
	for (const char *a = first; a != NULL && argc < max - 1; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	argv[argc] = NULL;
	return argc;
}

const char *tl_fmt(const char *fmt, ...)
{
	static char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	format_into(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}
