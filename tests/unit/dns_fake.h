/* Fake DNS servers on loopback (UDP and TCP on one port) that answer as each test scripts
 * them, for test_dns_probe.c, test_dns_zone.c and test_source_v6.c; and the queries and
 * replies built with ldns that they and test_dns_msg.c, test_dns_rules.c use
 * (dns_fake.c, linked into every test with testlib.c). */
#ifndef HEALTHD_TEST_DNS_FAKE_H
#define HEALTHD_TEST_DNS_FAKE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "../../probes/dnsmsg.h"

enum fake_mode {
	FAKE_GOOD,          /* www A 192.0.2.1, AA */
	FAKE_BAD_THEN_GOOD, /* wrong id, wrong question, QR clear, then the good one */
	FAKE_BAD_ONLY,      /* only the three bad ones */
	FAKE_TRUNCATED,     /* UDP: TC and no answer; TCP: 30 A records */
	FAKE_NSID,          /* the good reply with NSID "node1" */
	FAKE_SOA,           /* SOA with fake.serial; CHAOS TXT "node1" */
	FAKE_SILENT,
	FAKE_AXFR, /* TCP: the messages in fake.axfr */
	/* TCP: a reply with a wrong id, then the right one without its question */
	FAKE_TCP_NO_QUESTION,
};

#define FAKE_AXFR_MAX 4

struct fake {
	int ufd, lfd, cfd;
	unsigned port;
	enum fake_mode mode;
	uint32_t serial;
	struct event *uev, *lev, *cev;
	struct sockaddr_storage peer;
	int udp_queries, tcp_queries;
	unsigned last_id; /* the id of the last query answered */
	uint8_t in[1024];
	size_t inlen;
	/* AXFR: each message a list of records, and what to spoil */
	const char *const *axfr[FAKE_AXFR_MAX];
	int axfr_bad_id; /* message index (1-based) sent with a wrong id; 0: none */
	int axfr_rcode;  /* rcode of every message */
	bool drop_even;  /* UDP: ignore the 2nd, 4th, ... query (a lossy path) */
	bool axfr_close; /* TCP: close (FIN) after the AXFR messages */
};

/* UDP and TCP on the same ephemeral port of 127.0.0.1, answering in base's loop. */
void fake_start(struct fake *f, struct event_base *base, enum fake_mode mode);
void fake_stop(struct fake *f);
/* The address the last query came from, into buf; returns its first character. */
char fake_peer(const struct fake *f, char *buf, size_t len);

/* "www.example.test. 300 IN A 192.0.2.1", NULL */
extern const char *const www_a[];

/* A query as the probe sends it (RD off). */
ldns_pkt *dns_query(const char *name, ldns_rr_type t, bool nsid);
/* A reply to q with the given answer records (zone-file lines), in wire format; the
 * caller frees it. */
uint8_t *dns_reply_wire(const ldns_pkt *q, bool aa, int rcode, const char *const *rrs, size_t *len);

#endif
