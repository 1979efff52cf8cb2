/* DNS messages for the dns probes, through ldns: building queries, deciding whether a
 * datagram or TCP message is a reply to our query (anything else is spoofed or stale and
 * is ignored), and reading the few things the probes look at (rcode, flags, NSID, CHAOS
 * TXT identity, SOA serial). No socket and no event loop here: this is the code the
 * fuzzer runs. */
#ifndef HEALTHD_DNSMSG_H
#define HEALTHD_DNSMSG_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNSMSG_EDNS_SIZE 1232 /* the DNS flag day 2020 buffer size */
#define DNSMSG_NSID      3    /* EDNS option code, RFC 5001 */
#define DNSMSG_ID_MAX    256  /* longest identity kept (NSID or CHAOS TXT) */

/* dnsmsg_check flags */
#define DNSMSG_ALLOW_NO_QUESTION 1u /* AXFR messages after the first (RFC 5936 2.2.1) */

/* A query for name/type/class with a random id and RD clear (healthd asks authoritative
 * servers about their own data). nsid: add EDNS0 with an empty NSID option. name is
 * copied. NULL when out of memory. */
ldns_pkt *dnsmsg_query(const ldns_rdf *name, ldns_rr_type type, ldns_rr_class cls, bool nsid);
/* A random query id, from the kernel's generator (read in batches). */
uint16_t dnsmsg_new_id(void);
/* The query in wire format; *wire is malloc'd. 0 or -1. */
int dnsmsg_wire(const ldns_pkt *q, uint8_t **wire, size_t *len);

/* Is wire[0..len) a reply to q? Accepted only when the id, QR, opcode and the echoed
 * question match, every record parses and the records end exactly at the end of the
 * message. 0 and *out (the caller frees it) when accepted; -1 with why otherwise. */
int dnsmsg_check(const ldns_pkt *q, const uint8_t *wire, size_t len, unsigned flags, ldns_pkt **out,
                 char *why, size_t whylen);

/* The full rcode: the header's 4 bits and EDNS's extended 8 (RFC 6891). */
unsigned dnsmsg_rcode(const ldns_pkt *r);
/* "NOERROR", "NXDOMAIN", ..., "RCODE16" for those without a name. */
const char *dnsmsg_rcode_name(unsigned rcode, char *buf, size_t len);
/* A name ("nxdomain" or "NXDOMAIN") or a number 0-4095. 0 or -1. */
int dnsmsg_rcode_parse(const char *s, unsigned *rcode);
/* "qr aa tc rd ra ad cd" as set, lowercase, like dig. */
void dnsmsg_flags(const ldns_pkt *r, char *buf, size_t len);
/* "A", "SOA", "TYPE65534". */
const char *dnsmsg_type_name(ldns_rr_type t, char *buf, size_t len);
/* The owner name as text, with the final dot: "www.example.com." */
void dnsmsg_name(const ldns_rdf *name, char *buf, size_t len);

/* The NSID option of the reply's EDNS: 1 and the raw bytes (at most len; *n their
 * count) when present, 0 when absent. */
int dnsmsg_nsid(ldns_pkt *r, uint8_t *buf, size_t len, size_t *n);
/* The first character-string of the first TXT record of the answer (a CHAOS
 * hostname.bind / id.server reply): 1 when found, 0 when not. */
int dnsmsg_txt(const ldns_pkt *r, uint8_t *buf, size_t len, size_t *n);
/* The SOA for zone in the answer: 1 with its serial and expire (seconds), else 0. */
int dnsmsg_soa(const ldns_pkt *r, const ldns_rdf *zone, uint32_t *serial, uint32_t *expire);
/* Raw bytes for logs: printable ASCII kept, the rest as \xHH. */
void dnsmsg_printable(const uint8_t *d, size_t n, char *buf, size_t len);

#endif
