/* The ExaBGP backend: text-API commands on stdout, acknowledgements and notices on stdin.
 *
 * Both ends are non-blocking and driven by the loop: a stalled ExaBGP fills our output
 * buffer, never our probes' time. Acks are matched to commands in order only to name the
 * command an `error` answers; nothing ever waits for one. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "exabgp.h"
#include "../lib/log.h"
#include "../lib/monotime.h"
#include "outbuf.h"
#include "speaker.h"

#define EXABGP_OUT_ROOM (256 * 1024) /* queue no more than this; the rest waits in the table */
#define EXABGP_LINE_MAX 4096
#define EXABGP_ACKS_MAX 1024

struct exabgp_ack {
	char *cmd;
	struct timeval sent;
};

struct exabgp {
	int in_fd;
	int in_flags; /* restored at close */
	struct outbuf *out;
	struct evbuffer *in;
	struct event *read_ev, *ack_timer;
	struct exabgp_ack acks[EXABGP_ACKS_MAX]; /* ring of commands awaiting done/error */
	size_t ack_head, ack_count;
	size_t ack_late; /* acks still owed to commands forgotten after ack_timeout */
	bool ack_warned;
	bool skipping; /* the rest of an over-long input line is still to come */
};

static void fmt_list(FILE *f, const char *name, char *const *items)
{
	if (items == NULL || items[0] == NULL)
		return;
	fprintf(f, " %s [", name);
	for (size_t i = 0; items[i] != NULL; i++)
		fprintf(f, " %s", items[i]);
	fputs(" ]", f);
}

char *exabgp_format(char *const *neighbors, bool announce, const struct prefix *pfx,
                    const struct route_attrs *a)
{
	char p[PREFIX_STRLEN], *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);

	if (f == NULL)
		return NULL;
	prefix_format(pfx, p, sizeof(p));
	for (size_t i = 0; neighbors != NULL && neighbors[i] != NULL; i++)
		fprintf(f, "%sneighbor %s", i ? ", " : "", neighbors[i]);
	if (ftell(f) > 0)
		fputc(' ', f);
	fprintf(f, "%s route %s next-hop %s", announce ? "announce" : "withdraw", p,
	        a->next_hop ? a->next_hop : "self");
	if (announce) {
		if (a->med >= 0)
			fprintf(f, " med %lld", a->med);
		if (a->local_preference >= 0)
			fprintf(f, " local-preference %lld", a->local_preference);
		fmt_list(f, "community", a->communities);
		fmt_list(f, "extended-community", a->extended_communities);
		fmt_list(f, "large-community", a->large_communities);
		if (a->nas_path > 0) {
			fputs(" as-path [", f);
			for (size_t i = 0; i < a->nas_path; i++)
				fprintf(f, " %u", a->as_path[i]);
			fputs(" ]", f);
		}
	}
	if (a->path_information != NULL)
		fprintf(f, " path-information %s", a->path_information);
	if (ferror(f) != 0 || fclose(f) != 0) {
		free(line);
		return NULL;
	}
	return line;
}

enum exabgp_input exabgp_classify(const char *line)
{
	if (strcmp(line, "done") == 0)
		return EXABGP_IN_DONE;
	if (strcmp(line, "error") == 0)
		return EXABGP_IN_ERROR;
	if (strncmp(line, "shutdown", 8) == 0 && (line[8] == '\0' || line[8] == ' '))
		return EXABGP_IN_SHUTDOWN;
	if (line[0] == '\0')
		return EXABGP_IN_EMPTY;
	return EXABGP_IN_OTHER;
}

/* The command the next ack answers, owned by the caller; NULL when none is waiting. */
static char *exabgp_ack_pop(struct exabgp *x)
{
	if (x->ack_count == 0)
		return NULL;
	char *cmd = x->acks[x->ack_head].cmd;
	x->ack_head = (x->ack_head + 1) % EXABGP_ACKS_MAX;
	x->ack_count--;
	return cmd;
}

/* Takes ownership of cmd. */
static void exabgp_ack_push(struct exabgp *x, char *cmd)
{
	if (x->ack_count == EXABGP_ACKS_MAX) { /* ExaBGP is not acking: forget the oldest */
		free(exabgp_ack_pop(x));
		x->ack_late++;
	}
	struct exabgp_ack *a = &x->acks[(x->ack_head + x->ack_count) % EXABGP_ACKS_MAX];
	a->cmd = cmd;
	mono_now(&a->sent);
	x->ack_count++;
}

/* Forget commands unanswered for longer than ack_timeout: ExaBGP may run with ack off. */
static void exabgp_ack_expire(evutil_socket_t fd, short what, void *arg)
{
	struct speaker *sp = arg;
	struct exabgp *x = sp->priv;
	struct timeval now, age;
	size_t expired = 0;
	uint32_t limit = sp->cfg->speaker.ack_timeout_ms;

	mono_now(&now);
	if (x->ack_count == 0)
		return;
	timersub(&now, &x->acks[x->ack_head].sent, &age);
	if ((uint64_t)age.tv_sec * 1000 + (uint64_t)age.tv_usec / 1000 < limit)
		return;
	/* The oldest is overdue: forget them all. Acks that still come belong to these
	 * commands, in order, and must not be matched to later ones. */
	while (x->ack_count > 0) {
		free(exabgp_ack_pop(x));
		expired++;
	}
	x->ack_late += expired;
	if (expired > 0) {
		if (!x->ack_warned)
			log_warn("exabgp acknowledged none of %zu command%s within %ums "
			         "(are acks off?); nothing waits for them",
			         expired, expired == 1 ? "" : "s", (unsigned)limit);
		else
			log_debug("%zu command%s unacknowledged", expired, expired == 1 ? "" : "s");
		x->ack_warned = true;
	}
}

static void exabgp_line(struct speaker *sp, char *line)
{
	struct exabgp *x = sp->priv;
	char *cmd;

	enum exabgp_input in = exabgp_classify(line);
	if (in == EXABGP_IN_DONE)
		sp->stats.acks_done++;
	else if (in == EXABGP_IN_ERROR)
		sp->stats.acks_error++;
	if ((in == EXABGP_IN_DONE || in == EXABGP_IN_ERROR) && x->ack_late > 0) {
		x->ack_late--; /* the ack of a command forgotten after ack_timeout */
		if (in == EXABGP_IN_ERROR)
			log_err("exabgp rejected a command sent more than %ums ago",
			        (unsigned)sp->cfg->speaker.ack_timeout_ms);
		return;
	}
	switch (in) {
	case EXABGP_IN_DONE:
		free(exabgp_ack_pop(x));
		break;
	case EXABGP_IN_ERROR:
		cmd = exabgp_ack_pop(x);
		log_err("exabgp rejected: %s", cmd ? cmd : "(no command was waiting for an ack)");
		free(cmd);
		break;
	case EXABGP_IN_SHUTDOWN:
		speaker_gone(sp, "exabgp is shutting down");
		break;
	case EXABGP_IN_EMPTY:
		break;
	case EXABGP_IN_OTHER:
		log_debug("exabgp said: %.200s", line);
		break;
	}
}

static void exabgp_too_long(void)
{
	log_err("stdin: a line from exabgp is longer than %d bytes; discarded", EXABGP_LINE_MAX);
}

static void exabgp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct speaker *sp = arg;
	struct exabgp *x = sp->priv;

	for (int rounds = 0; rounds < 16 && !sp->gone; rounds++) {
		int n = evbuffer_read(x->in, fd, 4096);
		if (n == 0) {
			event_del(x->read_ev); /* a pipe at EOF stays readable forever */
			speaker_gone(sp, "exabgp closed healthd's stdin");
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			event_del(x->read_ev);
			speaker_failed(sp, "reading stdin failed");
			return;
		}
		size_t len;
		char *line;
		while (!sp->gone && (line = evbuffer_readln(x->in, &len, EVBUFFER_EOL_CRLF))) {
			if (x->skipping) /* the tail of a line already discarded */
				x->skipping = false;
			else if (len > EXABGP_LINE_MAX)
				exabgp_too_long();
			else
				exabgp_line(sp, line);
			free(line);
		}
		if (evbuffer_get_length(x->in) > EXABGP_LINE_MAX) {
			if (!x->skipping)
				log_err("stdin: a line from exabgp is longer than %d bytes; "
				        "discarded",
				        EXABGP_LINE_MAX);
			evbuffer_drain(x->in, evbuffer_get_length(x->in));
			x->skipping = true;
		}
	}
}

static void exabgp_out_gone(void *arg, int err)
{
	if (err == EPIPE)
		speaker_gone(arg, "exabgp closed healthd's stdout");
	else
		speaker_failed(arg, "writing stdout failed");
}

static void exabgp_out_drained(void *arg)
{
	speaker_sync(arg); /* routes refused while the buffer was full */
}

static int exabgp_queue(struct speaker *sp, const struct speaker_route *r, bool announce)
{
	struct exabgp *x = sp->priv;
	const struct route_attrs *a = announce ? r->want : r->sent;

	if (outbuf_pending(x->out) >= EXABGP_OUT_ROOM)
		return -1;
	if (a == NULL)
		a = &r->svc->announce; /* withdrawing a route never told: its own next-hop */
	char *line = exabgp_format(r->svc->neighbors, announce, r->pfx, a);
	if (line == NULL)
		return -1; /* out of memory: the route stays pending and is retried */
	if (outbuf_line(x->out, line) != 0) {
		free(line);
		return -1;
	}
	log_debug("exabgp <- %s", line);
	sp->stats.commands++;
	exabgp_ack_push(x, line);
	return 0;
}

static int exabgp_announce(struct speaker *sp, const struct speaker_route *r)
{
	return exabgp_queue(sp, r, true);
}

static int exabgp_withdraw(struct speaker *sp, const struct speaker_route *r)
{
	return exabgp_queue(sp, r, false);
}

static void exabgp_flush(struct speaker *sp)
{
	struct exabgp *x = sp->priv;
	if (!sp->gone)
		outbuf_flush(x->out);
}

static int exabgp_drain(struct speaker *sp, uint32_t timeout_ms)
{
	struct exabgp *x = sp->priv;

	if (sp->gone)
		return -1;
	if (outbuf_drain(x->out, timeout_ms) == 0)
		return sp->gone ? -1 : 0;
	if (!outbuf_gone(x->out))
		log_warn("exabgp did not read %zu bytes of commands within %ums",
		         outbuf_pending(x->out), (unsigned)timeout_ms);
	return -1;
}

static void exabgp_close(struct speaker *sp)
{
	struct exabgp *x = sp->priv;
	if (x == NULL)
		return;
	if (x->read_ev)
		event_free(x->read_ev);
	if (x->ack_timer)
		event_free(x->ack_timer);
	if (x->in)
		evbuffer_free(x->in);
	outbuf_free(x->out);
	while (x->ack_count > 0)
		free(exabgp_ack_pop(x));
	if (x->in_flags >= 0)
		fcntl(x->in_fd, F_SETFL, x->in_flags);
	free(x);
	sp->priv = NULL;
}

static void exabgp_gauges(struct speaker *sp)
{
	struct exabgp *x = sp->priv;
	sp->stats.unacked = x->ack_count + x->ack_late;
	sp->stats.backlog_bytes = outbuf_pending(x->out);
	sp->stats.connected = !sp->gone;
}

static const struct speaker_ops exabgp_ops = {
        .name = "exabgp",
        .announce = exabgp_announce,
        .withdraw = exabgp_withdraw,
        .flush = exabgp_flush,
        .drain = exabgp_drain,
        .close = exabgp_close,
        .gauges = exabgp_gauges,
};

/* epoll refuses regular files and /dev/null; ExaBGP gives us a pipe. */
static bool exabgp_pollable(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
		return false;
	return !(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3);
}

int exabgp_open(struct speaker *sp)
{
	struct exabgp *x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -1;
	sp->ops = &exabgp_ops;
	sp->priv = x;
	x->in_fd = STDIN_FILENO;
	x->in_flags = fcntl(x->in_fd, F_GETFL);
	if (fcntl(STDOUT_FILENO, F_GETFL) < 0) {
		log_err("stdout is not open: it must lead to exabgp");
		goto fail;
	}
	if (x->in_flags >= 0)
		fcntl(x->in_fd, F_SETFL, x->in_flags | O_NONBLOCK);

	x->out = outbuf_new(sp->base, STDOUT_FILENO, exabgp_out_gone, exabgp_out_drained, sp);
	x->in = evbuffer_new();
	x->ack_timer = event_new(sp->base, -1, EV_PERSIST, exabgp_ack_expire, sp);
	if (!x->out || !x->in || !x->ack_timer)
		goto fail;
	if (x->in_flags >= 0 && !exabgp_pollable(x->in_fd)) {
		log_warn("stdin is not a pipe, socket or terminal: exabgp acks will not be read");
	} else if (x->in_flags >= 0) {
		x->read_ev =
		        event_new(sp->base, x->in_fd, EV_READ | EV_PERSIST, exabgp_read_cb, sp);
		if (x->read_ev == NULL || event_add(x->read_ev, NULL) != 0) {
			/* A regular file or /dev/null cannot be polled: nobody will ack. */
			log_warn("stdin cannot be watched; exabgp acks will not be read");
			if (x->read_ev)
				event_free(x->read_ev);
			x->read_ev = NULL;
		}
	}
	struct timeval second = {1, 0};
	event_add(x->ack_timer, &second);
	return 0;
fail:
	exabgp_close(sp);
	sp->ops = NULL;
	return -1;
}
