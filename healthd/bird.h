/* The BIRD backend, shared by its files:
 *   bird_reply.c    the reply-line parser (pure; unit-tested and fuzzed)
 *   bird_socket.c   the control-socket client on the libevent loop (a transport)
 *   bird_stdout.c   birdc commands on stdout (the other transport)
 *   bird_static.c   mode "static": include files + one "configure" per batch
 *   bird_proto.c    mode "protocol": "enable"/"disable" one protocol per service
 *   bird_file.c     include-file text and its atomic replacement
 *   bird_speaker.c  the speaker_ops that join a transport and a mode
 * A mode decides what to tell BIRD; a transport carries commands and brings replies. */
#ifndef HEALTHD_BIRD_H
#define HEALTHD_BIRD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/time.h>

#include "config.h"
#include "../lib/monotime.h"
#include "speaker.h"

/* ---- bird_reply.c ---------------------------------------------------------------- */

#define BIRD_LINE_MAX 8192 /* a longer line is not BIRD talking */
#define BIRD_MSG_MAX  256

enum bird_line_type {
	BIRD_LINE_BAD,   /* none of the forms below */
	BIRD_LINE_MORE,  /* "DDDD-text": the reply goes on */
	BIRD_LINE_LAST,  /* "DDDD text": the reply's last line */
	BIRD_LINE_CONT,  /* " text": more of the previous numbered line */
	BIRD_LINE_ASYNC, /* "+text" (echoed log line) or "<N messages lost>": in no reply */
};

struct bird_line {
	enum bird_line_type type;
	int code;         /* 0-9999 for MORE and LAST; -1 otherwise */
	const char *text; /* after the prefix; not NUL-terminated */
	size_t len;
};

/* Classify one line (without its newline). */
enum bird_line_type bird_line_parse(const char *s, size_t len, struct bird_line *out);

/* One reply, assembled from its lines. */
struct bird_reply {
	int code;               /* the last line's code; -1: the connection was lost */
	int first;              /* the first numbered line's code; -1 before it */
	int error;              /* the first 8xxx/9xxx code of the reply, 0 if none */
	size_t lines;           /* numbered and continuation lines so far */
	char msg[BIRD_MSG_MAX]; /* the error line's text, else the first line's; printable */
};

void bird_reply_init(struct bird_reply *r);
/* 1 when l ended the reply, 0 when more lines are due, -1 when l cannot be in a reply
 * (BAD, ASYNC, or a continuation before any numbered line). */
int bird_reply_feed(struct bird_reply *r, const struct bird_line *l);
/* 8000-9999: run-time (8xxx) and parse (9xxx) errors. */
bool bird_code_error(int code);
/* s as printable ASCII for a log line, at most outlen - 1 bytes, always terminated. */
void bird_text(const char *s, size_t len, char *out, size_t outlen);

/* ---- the backend ---------------------------------------------------------------- */

struct bird;
/* A command's reply; r->code is -1 when the connection was lost before it came. */
typedef void (*bird_done_fn)(struct bird *b, const struct bird_reply *r, void *arg);

struct bird_io {
	const char *name;
	bool answers; /* replies come back (the socket); birdc on stdout answers its tty */
	/* 0: queued, done() follows; 1: written where no reply comes (stdout); -1: not now
	 * (not connected: the mode's ready() re-asserts everything once it is). */
	int (*send)(struct bird *, const char *cmd, bird_done_fn done, void *arg);
	/* At exit only, without the loop: work until the mode is settled and nothing is left
	 * to write, or until the deadline (monotime.h). */
	void (*run)(struct bird *, const struct timeval *deadline);
	void (*close)(struct bird *);
	/* Optional: fill the gauges of b->sp->stats (speaker_ops.gauges). */
	void (*gauges)(struct bird *);
};

struct bird_mode_ops {
	const char *name;
	int (*open)(struct bird *);
	void (*reconfigure)(struct bird *); /* optional: a reload replaced the config */
	void (*flush)(struct bird *);       /* the route table changed */
	void (*ready)(struct bird *);       /* (re)connected: assert everything */
	void (*async)(struct bird *, const char *, size_t); /* a spontaneous line */
	void (*shutdown)(struct bird *); /* at exit: no more windows or backoff, act now */
	bool (*settled)(struct bird *);  /* BIRD has what was told, or it failed at exit */
	void (*close)(struct bird *);
};

struct bird {
	struct speaker *sp;
	const struct bird_cfg *cfg;
	const struct bird_io *io;
	void *io_priv;
	const struct bird_mode_ops *mode;
	void *mode_priv;
	bool dirty; /* a route's told state changed since the mode last looked */
	/* Among those changes, one to a route BIRD was told to announce: withdrawn, or other
	 * attributes (on_down, on_disabled...). Mode "static" sends it without its window. */
	bool urgent;
	bool stopping; /* at exit */
	bool failed;   /* at exit: BIRD refused the withdrawal */
};

/* Transports. */
int bird_sock_open(struct bird *b);
int birdc_stdout_io_open(struct bird *b);
/* Modes. */
extern const struct bird_mode_ops bird_static_mode;
extern const struct bird_mode_ops bird_proto_mode;

/* ---- bird_file.c ------------------------------------------------------------------ */

/* BIRD filter-language spellings; 0, or -1 when s has none. */
int bird_community(const char *s, char *out, size_t len);       /* "65000:53" -> "(65000,53)" */
int bird_large_community(const char *s, char *out, size_t len); /* "1:2:3" -> "(1,2,3)" */
int bird_ext_community(const char *s, char *out, size_t len);   /* "target:1:2" -> "(rt,1,2)" */
/* No attribute at all ("self" as the next hop is none): a bare route, or a prefix that
 * mode "protocol" and format "set" can announce (their attributes are BIRD's). */
bool bird_attrs_plain(const struct route_attrs *a);
/* The include text for routes told so far (sent != NULL): "routes" format writes the
 * routes of one family; "set" format writes both families' sets (family ignored). */
int bird_file_render(FILE *f, enum bird_format format, int family,
                     const struct speaker_route *routes, size_t n);

#endif
