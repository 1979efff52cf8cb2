/* Config reads shared by the dns, dns-serial and dns-axfr probes: numeric server
 * addresses with an optional port ("192.0.2.1", "192.0.2.1@5300", "2001:db8::1@5300",
 * kdig's and Knot's spelling) and domain names. */
#ifndef HEALTHD_DNSCFG_H
#define HEALTHD_DNSCFG_H

#include <jansson.h>
#include <ldns/ldns.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "../lib/cfgerr.h"

#define DNSCFG_PORT          53
#define DNSCFG_MAX_PRIMARIES 16

/* A server address as configured, with its text for details and facts. */
struct dnscfg_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[104]; /* "192.0.2.1@53": an address of up to 95 bytes (scope), @, port */
};

/* "ADDR" or "ADDR@PORT", numeric only. 0 or -1. */
int dnscfg_addr_parse(const char *text, unsigned dflt_port, struct sockaddr_storage *ss,
                      socklen_t *sslen);
/* "127.0.0.1@53", "::1@5300": the form dnscfg_addr_parse reads back. */
void dnscfg_addr_format(const struct sockaddr *sa, char *buf, size_t len);
/* The "server" key (ADDR or ADDR@PORT) with the "port" key (default 53; not both).
 * 1 read, 0 absent (an error when required), -1 on error. */
int dnscfg_server(struct config_error *e, const json_t *obj, bool required,
                  struct sockaddr_storage *ss, socklen_t *sslen);
/* The "primaries" key: 1 to DNSCFG_MAX_PRIMARIES "ADDR" or "ADDR@PORT" strings, into
 * *out (an array of *n to free). 1 read, 0 absent (an error when required), -1 on error. */
int dnscfg_primaries(struct config_error *e, const json_t *obj, bool required,
                     struct dnscfg_addr **out, size_t *n);
/* A domain name key, made absolute. 1 read (*out to free with ldns_rdf_deep_free),
 * 0 absent (an error when required), -1 on error. */
int dnscfg_name(struct config_error *e, const json_t *obj, const char *key, bool required,
                ldns_rdf **out);
/* The port of sa. */
unsigned dnscfg_port(const struct sockaddr *sa);

#endif
