/* A non-blocking writer for the pipe a speaker reads (stdout to ExaBGP or to birdc): what
 * is queued is written whenever the descriptor takes more, so a reader that stalls fills
 * memory (which the owner bounds with outbuf_pending), never the loop's time.
 *
 * Used by exabgp.c, birdc_stdout.c and compat_io.c. */
#ifndef HEALTHD_OUTBUF_H
#define HEALTHD_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct outbuf;

/* The reader went away (err is EPIPE) or writing failed (another errno). Called once,
 * from inside the write that met the error; nothing is written after it. */
typedef void (*outbuf_gone_fn)(void *arg, int err);
/* Everything that waited for room has been written (called from the loop). */
typedef void (*outbuf_drained_fn)(void *arg);

/* fd is made non-blocking when it is a pipe or a socket, and restored by outbuf_free (the
 * flag is shared with whoever else holds the descriptor; a terminal or a file never
 * stalls). drained may be NULL. NULL when out of memory. */
struct outbuf *outbuf_new(struct event_base *base, int fd, outbuf_gone_fn gone,
                          outbuf_drained_fn drained, void *arg);
/* Queue text and a newline; written by the next outbuf_flush. -1 once gone. */
int outbuf_line(struct outbuf *o, const char *text);
/* Write what the descriptor takes now; the rest goes out from the loop. -1 once gone. */
int outbuf_flush(struct outbuf *o);
size_t outbuf_pending(const struct outbuf *o); /* bytes queued, not yet written */
bool outbuf_gone(const struct outbuf *o);
/* At exit, without the loop: wait up to ms (CLOCK_MONOTONIC) for everything queued to be
 * written. 0 when it was; -1 when time ran out or the reader went away. */
int outbuf_drain(struct outbuf *o, uint32_t ms);
void outbuf_free(struct outbuf *o);

#endif
