/* BIRD's control socket, spoken directly: AF_UNIX stream, one command at a time, replies
 * read by their numeric codes (bird_reply.c). Everything is non-blocking on the loop, so a
 * slow or absent BIRD never delays a probe; only the exit drain (bird_sock_run) polls.
 *
 * The connection comes and goes with BIRD: it is retried with a doubling backoff up to
 * "reconnect", and after every greeting the mode re-asserts its whole state, because a
 * BIRD that restarted knows nothing of what it was told before. */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "bird.h"
#include "../lib/log.h"

#define BIRD_BACKOFF_MIN_MS   200
#define BIRD_CMD_TIMEOUT_MS   30000 /* a configure of a large config takes seconds, not this */
#define BIRD_HELLO_TIMEOUT_MS 10000 /* BIRD greets as it accepts; a busy one within seconds */
#define BIRD_QUEUE_MAX        4096

enum {
	BIRD_TROUBLE_GREETING = 1, /* not greeted like BIRD */
	BIRD_TROUBLE_PROTOCOL = 2, /* a line that is no reply */
	BIRD_TROUBLE_TIMEOUT = 4,  /* a command never answered */
	BIRD_TROUBLE_CLOSED = 8,   /* the connection closed under us */
};

enum bird_sock_state {
	BIRD_DOWN,  /* no socket; the retry timer is armed */
	BIRD_HELLO, /* connected, waiting for "0001 BIRD x.y ready." */
	BIRD_READY, /* commands go out */
};

struct bird_cmd {
	struct bird_cmd *next;
	bird_done_fn done;
	void *arg;
	char text[];
};

struct bird_sock {
	struct bird *b;
	const char *path;
	int fd;
	enum bird_sock_state state;
	struct evbuffer *in, *out;
	struct event *rev, *wev, *retry, *cmd_timer;
	uint32_t backoff_ms;
	/* What went wrong and was logged since BIRD last answered a command: a lasting
	 * outage, or a socket that keeps talking nonsense, is logged once, not per retry. */
	int logged_errno;             /* the connect error */
	unsigned troubles;            /* BIRD_TROUBLE_* */
	struct timeval retry_at;      /* for bird_sock_run, which has no timers */
	struct bird_cmd *head, *tail; /* head is in flight once head_sent */
	size_t queued;
	bool head_sent;
	struct bird_reply reply;
};

static void bird_sock_connect(struct bird_sock *s);

static void bird_event_free(struct event **ev)
{
	if (*ev != NULL)
		event_free(*ev);
	*ev = NULL;
}

/* Log at error the first time a kind of trouble occurs, at debug while it repeats. */
static int bird_sock_trouble(struct bird_sock *s, unsigned kind)
{
	int prio = s->troubles & kind ? LOG_DEBUG : LOG_ERR;
	s->troubles |= kind;
	return prio;
}

/* The group to join to use the socket: the socket's, else its directory's, else BIRD's
 * group on Debian. */
static void bird_sock_group(const char *path, char *out, size_t len)
{
	struct stat st;
	char *dir = strdup(path);
	int rc = stat(path, &st);
	if (rc != 0 && dir != NULL)
		rc = stat(dirname(dir), &st);
	free(dir);
	struct group *g = rc == 0 ? getgrgid(st.st_gid) : NULL;
	snprintf(out, len, "%s", g != NULL && g->gr_gid != 0 ? g->gr_name : "bird");
}

static void bird_sock_report(struct bird_sock *s, int err)
{
	char why[256], group[64];
	int prio = err == s->logged_errno ? LOG_DEBUG : LOG_ERR;

	s->logged_errno = err;
	if (err == EACCES || err == EPERM) {
		bird_sock_group(s->path, group, sizeof(group));
		snprintf(why, sizeof(why),
		         "permission denied; run healthd as a member of group \"%s\" (e.g. "
		         "adduser USER %s)",
		         group, group);
	} else {
		snprintf(why, sizeof(why), "%s",
		         err == ENOENT ? "it does not exist (is BIRD running, with this socket?)"
		         : err == ECONNREFUSED ? "nothing listens: BIRD is not running"
		                               : strerror(err));
	}
	log_msg(prio, __func__,
	        "cannot connect to BIRD's control socket %s: %s; retrying, at most every %ums",
	        s->path, why, s->b->cfg->reconnect_ms);
}

static void bird_sock_schedule(struct bird_sock *s)
{
	struct timeval tv;
	ms_to_tv(&tv, s->backoff_ms);
	mono_deadline(&s->retry_at, s->backoff_ms);
	evtimer_add(s->retry, &tv);
	s->backoff_ms = s->backoff_ms * 2 > s->b->cfg->reconnect_ms ? s->b->cfg->reconnect_ms
	                                                            : s->backoff_ms * 2;
}

/* Drop the connection: every queued command is answered "lost" (code -1), then a
 * reconnect is scheduled. */
static void bird_sock_down(struct bird_sock *s)
{
	struct bird_reply lost;

	bird_event_free(&s->rev);
	bird_event_free(&s->wev);
	evtimer_del(s->cmd_timer);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->state = BIRD_DOWN;
	evbuffer_drain(s->in, evbuffer_get_length(s->in));
	evbuffer_drain(s->out, evbuffer_get_length(s->out));
	bird_reply_init(&lost);
	snprintf(lost.msg, sizeof(lost.msg), "connection to BIRD lost");
	while (s->head != NULL) {
		struct bird_cmd *c = s->head;
		s->head = c->next;
		s->queued--;
		c->done(s->b, &lost, c->arg);
		free(c);
	}
	s->tail = NULL;
	s->head_sent = false;
	bird_reply_init(&s->reply);
	bird_sock_schedule(s);
}

/* Send what is queued; on EAGAIN wait for the socket. -1 when the connection dropped. */
static int bird_sock_write(struct bird_sock *s)
{
	while (evbuffer_get_length(s->out) > 0) {
		int n = evbuffer_write(s->out, s->fd);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			log_warn("writing to BIRD's control socket %s: %s; reconnecting", s->path,
			         strerror(errno));
			bird_sock_down(s);
			return -1;
		}
	}
	if (evbuffer_get_length(s->out) > 0)
		event_add(s->wev, NULL);
	return 0;
}

/* Put the next command on the wire when none is in flight. */
static void bird_sock_kick(struct bird_sock *s)
{
	struct timeval tv;
	if (s->state != BIRD_READY || s->head == NULL || s->head_sent)
		return;
	log_debug("bird <- %s", s->head->text);
	s->b->sp->stats.commands++;
	if (strcmp(s->head->text, "configure") == 0)
		s->b->sp->stats.configures++;
	evbuffer_add_printf(s->out, "%s\n", s->head->text);
	s->head_sent = true;
	ms_to_tv(&tv, BIRD_CMD_TIMEOUT_MS);
	evtimer_add(s->cmd_timer, &tv);
	bird_sock_write(s);
}

static void bird_sock_protocol_error(struct bird_sock *s, const char *what, const char *line,
                                     size_t len)
{
	char text[120];
	bird_text(line, len, text, sizeof(text));
	if (s->state == BIRD_HELLO)
		log_msg(bird_sock_trouble(s, BIRD_TROUBLE_GREETING), __func__,
		        "%s did not greet like BIRD's control socket (\"%s\"); reconnecting",
		        s->path, text);
	else
		log_msg(bird_sock_trouble(s, BIRD_TROUBLE_PROTOCOL), __func__,
		        "BIRD's control socket %s: %s: \"%s\"; reconnecting", s->path, what, text);
	bird_sock_down(s);
}

static void bird_sock_hello(struct bird_sock *s)
{
	if (s->reply.code != 1) {
		log_msg(bird_sock_trouble(s, BIRD_TROUBLE_GREETING), __func__,
		        "%s did not greet like BIRD's control socket (%04d %s); reconnecting",
		        s->path, s->reply.code, s->reply.msg);
		bird_sock_down(s);
		return;
	}
	/* A socket that keeps talking nonsense is not worth a line per reconnect. */
	int nonsense = BIRD_TROUBLE_GREETING | BIRD_TROUBLE_PROTOCOL;
	log_msg(s->troubles & nonsense ? LOG_DEBUG : LOG_INFO, __func__,
	        "connected to BIRD at %s (%s)", s->path, s->reply.msg);
	evtimer_del(s->cmd_timer);
	s->state = BIRD_READY;
	if (s->b->sp->stats.connects++ > 0)
		s->b->sp->stats.reconnects++;
	s->logged_errno = 0;
	bird_reply_init(&s->reply);
	s->b->mode->ready(s->b);
	bird_sock_kick(s);
}

/* One line from BIRD. -1 when the connection was dropped (stop reading). */
static int bird_sock_line(struct bird_sock *s, const char *line, size_t len)
{
	struct bird_line l;

	switch (bird_line_parse(line, len, &l)) {
	case BIRD_LINE_ASYNC:
		s->b->mode->async(s->b, l.text, l.len);
		return s->fd < 0 ? -1 : 0;
	case BIRD_LINE_BAD:
		bird_sock_protocol_error(s, "not a reply line", line, len);
		return -1;
	default:
		break;
	}
	if (s->state == BIRD_READY && !s->head_sent) {
		bird_sock_protocol_error(s, "a reply to no command", line, len);
		return -1;
	}
	int rc = bird_reply_feed(&s->reply, &l);
	if (rc < 0) {
		bird_sock_protocol_error(s, "a continuation of nothing", line, len);
		return -1;
	}
	if (rc == 0)
		return 0;
	if (s->state == BIRD_HELLO) {
		bird_sock_hello(s);
		return s->fd < 0 ? -1 : 0;
	}

	struct bird_cmd *c = s->head;
	struct bird_reply r = s->reply;
	s->head = c->next;
	if (s->head == NULL)
		s->tail = NULL;
	s->queued--;
	s->head_sent = false;
	evtimer_del(s->cmd_timer);
	bird_reply_init(&s->reply);
	/* BIRD answers: the connection is sound, and the next trouble worth a line. */
	s->backoff_ms = BIRD_BACKOFF_MIN_MS;
	if (s->troubles & ~(unsigned)BIRD_TROUBLE_CLOSED)
		log_info("BIRD at %s answers again", s->path);
	s->troubles = 0;
	log_debug("bird -> %04d %s (%s)", r.code, r.msg, c->text);
	speaker_stats_reply(&s->b->sp->stats, r.code);
	c->done(s->b, &r, c->arg);
	free(c);
	if (s->fd < 0)
		return -1;
	bird_sock_kick(s);
	return s->fd < 0 ? -1 : 0;
}

static void bird_sock_read(struct bird_sock *s)
{
	for (int rounds = 0; rounds < 16 && s->fd >= 0; rounds++) {
		int n = evbuffer_read(s->in, s->fd, 16384);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			int prio = bird_sock_trouble(s, BIRD_TROUBLE_CLOSED) == LOG_ERR
			                   ? LOG_WARNING
			                   : LOG_DEBUG;
			log_msg(prio, __func__,
			        "BIRD closed its control socket %s (%s); probing goes on, "
			        "reconnecting",
			        s->path, n == 0 ? "end of file" : strerror(errno));
			bird_sock_down(s);
			return;
		}
		char *line;
		size_t len;
		while ((line = evbuffer_readln(s->in, &len, EVBUFFER_EOL_LF)) != NULL) {
			int rc = bird_sock_line(s, line, len);
			free(line);
			if (rc != 0)
				return;
		}
		if (evbuffer_get_length(s->in) > BIRD_LINE_MAX) {
			char head[64];
			ev_ssize_t got = evbuffer_copyout(s->in, head, sizeof(head));
			bird_sock_protocol_error(s, "a line longer than any reply", head,
			                         got > 0 ? (size_t)got : 0);
			return;
		}
	}
}

static void bird_sock_read_cb(evutil_socket_t fd, short what, void *arg)
{
	bird_sock_read(arg);
}

static void bird_sock_write_cb(evutil_socket_t fd, short what, void *arg)
{
	bird_sock_write(arg);
}

static void bird_sock_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	bird_sock_connect(arg);
}

static void bird_sock_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bird_sock *s = arg;
	if (s->state == BIRD_HELLO) /* accepted, and never a word */
		log_msg(bird_sock_trouble(s, BIRD_TROUBLE_GREETING), __func__,
		        "%s did not greet like BIRD's control socket within %ds; reconnecting",
		        s->path, BIRD_HELLO_TIMEOUT_MS / 1000);
	else
		log_msg(bird_sock_trouble(s, BIRD_TROUBLE_TIMEOUT), __func__,
		        "BIRD at %s did not answer \"%s\" within %ds; reconnecting", s->path,
		        s->head ? s->head->text : "?", BIRD_CMD_TIMEOUT_MS / 1000);
	bird_sock_down(s);
}

static void bird_sock_connect(struct bird_sock *s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (s->fd >= 0)
		return;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		bird_sock_report(s, errno);
		bird_sock_schedule(s);
		return;
	}
	/* A unix socket connects at once or not at all (EAGAIN: BIRD's backlog is full). */
	if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		bird_sock_report(s, errno);
		close(s->fd);
		s->fd = -1;
		bird_sock_schedule(s);
		return;
	}
	s->rev = event_new(s->b->sp->base, s->fd, EV_READ | EV_PERSIST, bird_sock_read_cb, s);
	s->wev = event_new(s->b->sp->base, s->fd, EV_WRITE, bird_sock_write_cb, s);
	if (s->rev == NULL || s->wev == NULL || event_add(s->rev, NULL) != 0) {
		log_err("cannot watch BIRD's control socket %s", s->path);
		bird_sock_down(s);
		return;
	}
	evtimer_del(s->retry);
	s->state = BIRD_HELLO;
	bird_reply_init(&s->reply);
	struct timeval tv;
	ms_to_tv(&tv, BIRD_HELLO_TIMEOUT_MS);
	evtimer_add(s->cmd_timer, &tv);
	log_debug("connected to %s; waiting for BIRD's greeting", s->path);
}

static int bird_sock_send(struct bird *b, const char *cmd, bird_done_fn done, void *arg)
{
	struct bird_sock *s = b->io_priv;
	if (s->state != BIRD_READY || s->queued >= BIRD_QUEUE_MAX)
		return -1;
	size_t len = strlen(cmd);
	struct bird_cmd *c = malloc(sizeof(*c) + len + 1);
	if (c == NULL)
		return -1;
	c->next = NULL;
	c->done = done;
	c->arg = arg;
	memcpy(c->text, cmd, len + 1);
	if (s->tail != NULL)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
	s->queued++;
	bird_sock_kick(s);
	return 0;
}

/* The exit drain: the loop no longer runs, so poll here, bounded by the deadline. */
static void bird_sock_run(struct bird *b, const struct timeval *deadline)
{
	struct bird_sock *s = b->io_priv;

	/* BIRD may be back while the backoff still waits: try at once, then often. */
	mono_now(&s->retry_at);
	for (;;) {
		long left = mono_ms_left(deadline);
		bool busy = s->fd >= 0 && evbuffer_get_length(s->out) > 0;
		if ((b->mode->settled(b) && !busy) || left <= 0)
			return;
		long wait = left < 100 ? left : 100;
		if (s->fd < 0) {
			if (mono_ms_left(&s->retry_at) == 0) {
				bird_sock_connect(s);
				mono_deadline(&s->retry_at, BIRD_BACKOFF_MIN_MS);
			}
			if (s->fd < 0)
				poll(NULL, 0, (int)wait);
			continue;
		}
		struct pollfd p = {.fd = s->fd, .events = POLLIN | (busy ? POLLOUT : 0)};
		if (poll(&p, 1, (int)wait) <= 0)
			continue;
		if (p.revents & POLLOUT)
			bird_sock_write(s);
		if (s->fd >= 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)))
			bird_sock_read(s);
	}
}

static void bird_sock_close(struct bird *b)
{
	struct bird_sock *s = b->io_priv;
	if (s == NULL)
		return;
	bird_event_free(&s->rev);
	bird_event_free(&s->wev);
	bird_event_free(&s->retry);
	bird_event_free(&s->cmd_timer);
	if (s->fd >= 0)
		close(s->fd);
	while (s->head != NULL) {
		struct bird_cmd *c = s->head;
		s->head = c->next;
		free(c);
	}
	if (s->in)
		evbuffer_free(s->in);
	if (s->out)
		evbuffer_free(s->out);
	free(s);
	b->io_priv = NULL;
}

static void bird_sock_gauges(struct bird *b)
{
	struct bird_sock *s = b->io_priv;
	b->sp->stats.unacked = s->head_sent ? 1 : 0;
	b->sp->stats.backlog_bytes = evbuffer_get_length(s->out);
	b->sp->stats.connected = s->state == BIRD_READY;
}

static const struct bird_io bird_sock_io = {
        .name = "bird",
        .answers = true,
        .send = bird_sock_send,
        .run = bird_sock_run,
        .close = bird_sock_close,
        .gauges = bird_sock_gauges,
};

int bird_sock_open(struct bird *b)
{
	struct bird_sock *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -1;
	b->io = &bird_sock_io;
	b->io_priv = s;
	s->b = b;
	s->fd = -1;
	s->path = b->cfg->socket;
	s->backoff_ms = BIRD_BACKOFF_MIN_MS;
	bird_reply_init(&s->reply);
	s->in = evbuffer_new();
	s->out = evbuffer_new();
	s->retry = evtimer_new(b->sp->base, bird_sock_retry_cb, s);
	s->cmd_timer = evtimer_new(b->sp->base, bird_sock_timeout_cb, s);
	if (!s->in || !s->out || !s->retry || !s->cmd_timer) {
		bird_sock_close(b);
		return -1;
	}
	/* The first attempt happens at once: its error, if any, is the first line an
	 * operator reads. Probing starts whether or not BIRD is there. */
	bird_sock_connect(s);
	return 0;
}
