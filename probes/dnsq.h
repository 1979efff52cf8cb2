/* One DNS exchange on the libevent loop: a query sent from the node's unique source
 * address over UDP (retried over TCP when the reply is truncated) or TCP, and the reply
 * that passes dnsmsg_check. Datagrams and messages that fail it are counted and ignored;
 * the exchange keeps waiting. It has no deadline of its own: the probe that owns it ends
 * it (dnsq_free) when its run ends.
 *
 * Stream mode (AXFR): every TCP message goes to on_msg, and one that fails the checks
 * ends the exchange as a transfer failure instead of being ignored. */
#ifndef HEALTHD_DNSQ_H
#define HEALTHD_DNSQ_H

#include <event2/event.h>
#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>

#include "net.h"
#include "probe.h"

struct dnsq;

/* Called once, as the exchange's last act: the callee may dnsq_free(q). */
typedef void (*dnsq_done_fn)(struct dnsq *q, void *arg);
/* Stream mode: one checked message (the callee owns msg). Return DNSQ_MORE to read on,
 * DNSQ_STOP when done: the exchange then does nothing more (the callee may free it). */
typedef int (*dnsq_msg_fn)(struct dnsq *q, ldns_pkt *msg, size_t wirelen, void *arg);
#define DNSQ_MORE 0
#define DNSQ_STOP 1

struct dnsq_params {
	const struct sockaddr *dst;
	socklen_t dstlen;
	const struct source_addr *src; /* bound for dst's family when set */
	bool tcp;                      /* TCP from the start; else UDP, TCP when truncated */
	dnsq_msg_fn on_msg;            /* stream mode when set (TCP only) */
	size_t max_bytes;              /* stream mode: stop with PR_TRANSFER past this; 0: none */
	dnsq_done_fn on_done;
	void *arg;
	struct probe *probe; /* the run whose max_read_bytes the replies count against, or NULL */
};

struct dnsq_result {
	enum probe_reason reason; /* PR_OK: reply set (not in stream mode) */
	char detail[192];         /* why it failed: "127.0.0.1:53 over udp: port unreachable" */
	ldns_pkt *reply;          /* the accepted reply, owned by the dnsq */
	size_t reply_len;         /* its size on the wire */
	bool tcp;                 /* the last attempt was over TCP */
	bool truncated;           /* ... after a truncated UDP reply */
	char remote[64];          /* "127.0.0.1:53" */
	char local[64];           /* the source address the kernel used: "127.0.0.7" */
	unsigned ignored;         /* replies that failed the checks */
	char ignored_why[128];    /* the last one's reason */
	size_t bytes;             /* received, TCP length prefixes included */
	unsigned messages;        /* TCP messages received */
};

/* Start an exchange of query (owned from here on, freed with the dnsq). NULL only when
 * out of memory (query freed); failures to open a socket are reported through on_done
 * from the loop, never from inside dnsq_start. */
struct dnsq *dnsq_start(struct event_base *base, ldns_pkt *query, const struct dnsq_params *p);
const struct dnsq_result *dnsq_result(const struct dnsq *q);
/* "udp", "tcp", or "udp, truncated, then tcp" */
const char *dnsq_transport(const struct dnsq *q);
/* Run an exchange that has ended (on_done called) or was stopped again, with the same
 * query under a new id and p's parameters, as dnsq_start would: its buffers and events
 * are reused, and a reply byte for byte the same as the last one accepted (but the id)
 * is not parsed again. 0, or -1 when out of memory (q is stopped then). */
int dnsq_restart(struct dnsq *q, struct event_base *base, const struct dnsq_params *p);
/* Stop the exchange if still going and release the run's socket and reply (the result
 * stays readable, reply NULL); dnsq_restart or dnsq_free may follow. NULL is fine. */
void dnsq_stop(struct dnsq *q);
/* Stop the exchange (if still going) and free it. NULL is fine. */
void dnsq_free(struct dnsq *q);

#endif
