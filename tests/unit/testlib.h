/* What the unit tests share (testlib.c, linked into every test): probes built from JSON
 * text, one run of a probe in a real event loop, configs loaded from a string with their
 * errors joined, loopback sockets on ephemeral ports, and small builders. Every helper
 * fails the calling test through Check's asserts when its own step goes wrong. */
#ifndef HEALTHD_TESTLIB_H
#define HEALTHD_TESTLIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../healthd/config.h"
#include "../../probes/probe.h"
#include "unit.h"

/* The number of elements of array a. */
#define TL_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- probes */

/* What one run reported; tl_on_done fills it. */
struct tl_outcome {
	bool done;
	int calls;
	struct probe_result r;
};

void tl_on_done(struct probe *p, const struct probe_result *r, void *arg);

/* A probe of type from printf-formatted JSON, configured under the name "test"; the test
 * fails when the JSON is bad or the probe refused. timeout_ms 0 keeps the default. */
struct probe *tl_probe(const char *type, uint32_t timeout_ms, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* The same from a JSON object, e.g. what to_json printed. */
struct probe *tl_probe_json(const struct probe_ops *ops, const json_t *obj);
/* The first config error of type with printf-formatted JSON ("test: key: ..."), or NULL
 * when it is accepted (then without any message). Valid until the next call. */
const char *tl_probe_error(const char *type, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* What configuring a probe must say: want NULL, accepted; otherwise its first error is
 * want (TL_EXACT), starts with it (TL_PREFIX; "" is any error) or contains it. */
enum tl_match { TL_EXACT, TL_PREFIX, TL_CONTAINS };
struct tl_probe_case {
	const char *type, *json, *want;
	enum tl_match match;
};
void tl_check_probe_case(const struct tl_probe_case *c);
/* Every key in the NULL-terminated keys is listed in ops->keys, for config.c's
 * unknown-key check. */
void tl_assert_keys(const struct probe_ops *ops, const char *const *keys);

/* Run p once in base until it reports, bounded by its timeout plus 2 s: no report from
 * inside probe_run, exactly one after, and p no longer running. */
void tl_run(struct event_base *base, struct probe *p, struct tl_outcome *o);
/* tl_run, then 20 ms more of the loop in which a second report would show up; and
 * nothing of libcurl outlives the run. */
void tl_run_settled(struct event_base *base, struct probe *p, struct tl_outcome *o);

/* A fact of p's last run, which must be there with that JSON type. */
json_int_t tl_fact_int(const struct probe *p, const char *key);
const char *tl_fact_str(const struct probe *p, const char *key);

/* ---------------------------------------------------------------- event loop, time */

/* Turn base's loop for about ms. */
void tl_spin(struct event_base *base, unsigned ms);
/* Milliseconds on the monotonic clock. */
uint64_t tl_now_ms(void);

/* A checked fixture: a new event base in tl_base for each test. */
extern struct event_base *tl_base;
void tl_base_setup(void);
void tl_base_teardown(void);
/* The same for tests that spawn processes: child.c's SIGCHLD handler on tl_base, and the
 * log on stderr under the program's name. */
void tl_child_setup(void);
void tl_child_teardown(void);
/* Turn tl_base's loop until this process has no child left, live or zombie; bounded. */
void tl_assert_no_children(void);

/* ---------------------------------------------------------------- configs */

/* All messages of a config that must be refused ("t.json:L:C: path: text"), each ending
 * in a newline. Valid until the next call. */
const char *tl_config_errors(const char *text);
/* A config that must load without a message. */
struct config *tl_config_ok(const char *text);
/* got == want; long differences are shown on stderr (Check's messages are limited),
 * under label when it is not NULL. */
void tl_same_errors(const char *label, const char *got, const char *want);

/* ---------------------------------------------------------------- sockets */

/* A socket of type (SOCK_STREAM, SOCK_DGRAM) bound to the numeric addr at *port, or at an
 * ephemeral port when *port is 0, which is then written to *port. Non-blocking and
 * close-on-exec. -1 when it cannot be bound (no such family here, the port taken). */
int tl_bind(const char *addr, int type, unsigned *port);
/* tl_bind for a listening TCP socket, with SO_REUSEADDR. */
int tl_listen(const char *addr, unsigned *port);

/* ---------------------------------------------------------------- builders */

/* A prefix that must parse. */
struct prefix tl_prefix(const char *text);
/* Route attributes with nothing set: next-hop self, no MED, no local preference. */
struct route_attrs tl_plain_attrs(void);
/* argv[0] = argv0, then first and the arguments after it up to a NULL, at most max - 1
 * in all; argv[argc] = NULL. Returns argc. */
int tl_argv(char **argv, int max, const char *argv0, const char *first, va_list ap);
/* printf into a static buffer, valid until the next call. */
const char *tl_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
