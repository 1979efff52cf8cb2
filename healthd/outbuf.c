/* The non-blocking pipe writer shared by the speakers on stdout (outbuf.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "../lib/monotime.h"
#include "outbuf.h"

struct outbuf {
	int fd;
	int flags; /* restored by outbuf_free; -1: not changed */
	bool gone;
	struct evbuffer *buf;
	struct event *wev;
	outbuf_gone_fn gone_fn;
	outbuf_drained_fn drained_fn;
	void *arg;
};

static void outbuf_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outbuf *o = arg;
	if (outbuf_flush(o) == 0 && evbuffer_get_length(o->buf) == 0 && o->drained_fn != NULL)
		o->drained_fn(o->arg);
}

struct outbuf *outbuf_new(struct event_base *base, int fd, outbuf_gone_fn gone,
                          outbuf_drained_fn drained, void *arg)
{
	struct outbuf *o = calloc(1, sizeof(*o));
	struct stat st;

	if (o == NULL)
		return NULL;
	o->fd = fd;
	o->flags = -1;
	o->gone_fn = gone;
	o->drained_fn = drained;
	o->arg = arg;
	o->buf = evbuffer_new();
	o->wev = event_new(base, fd, EV_WRITE, outbuf_write_cb, o);
	if (o->buf == NULL || o->wev == NULL) {
		outbuf_free(o);
		return NULL;
	}
	if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		o->flags = fcntl(fd, F_GETFL);
		if (o->flags >= 0)
			fcntl(fd, F_SETFL, o->flags | O_NONBLOCK);
	}
	return o;
}

int outbuf_line(struct outbuf *o, const char *text)
{
	if (o->gone)
		return -1;
	if (evbuffer_add(o->buf, text, strlen(text)) != 0 || evbuffer_add(o->buf, "\n", 1) != 0)
		return -1;
	return 0;
}

int outbuf_flush(struct outbuf *o)
{
	while (!o->gone && evbuffer_get_length(o->buf) > 0) {
		int n = evbuffer_write(o->buf, o->fd);
		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
			event_add(o->wev, NULL);
			return 0;
		}
		int err = errno;
		o->gone = true;
		evbuffer_drain(o->buf, evbuffer_get_length(o->buf));
		event_del(o->wev);
		if (o->gone_fn != NULL)
			o->gone_fn(o->arg, err);
	}
	return o->gone ? -1 : 0;
}

size_t outbuf_pending(const struct outbuf *o)
{
	return evbuffer_get_length(o->buf);
}

bool outbuf_gone(const struct outbuf *o)
{
	return o->gone;
}

int outbuf_drain(struct outbuf *o, uint32_t ms)
{
	struct timeval deadline;

	mono_deadline(&deadline, ms);
	while (!o->gone && evbuffer_get_length(o->buf) > 0) {
		long left = mono_ms_left(&deadline);
		if (left <= 0)
			return -1;
		struct pollfd p = {.fd = o->fd, .events = POLLOUT};
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -1;
		outbuf_flush(o);
	}
	return o->gone ? -1 : 0;
}

void outbuf_free(struct outbuf *o)
{
	if (o == NULL)
		return;
	if (o->wev != NULL)
		event_free(o->wev);
	if (o->buf != NULL)
		evbuffer_free(o->buf);
	if (o->flags >= 0)
		fcntl(o->fd, F_SETFL, o->flags);
	free(o);
}
