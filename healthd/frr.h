/* The FRR backend, shared by its files:
 *   frr_text.c     FRR's side as text: route-map set clauses from route attributes,
 *                  "show running-config" parsed into healthd's part of it, and the vtysh
 *                  commands that turn one state into another (pure; unit-tested)
 *   frr_speaker.c  the speaker_ops: batches, one supervised vtysh child at a time,
 *                  read-back verification, periodic re-assertion, the exit drain
 *
 * What healthd owns in FRR is recognisable by name: route-maps called HEALTHD-..., and
 * the "network" statements under "router bgp" that name one of them. Everything else in
 * FRR's configuration, also a "network" statement for a prefix healthd serves, is left
 * alone. */
#ifndef HEALTHD_FRR_H
#define HEALTHD_FRR_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "prefix.h"

#define FRR_MAP_PREFIX "HEALTHD-"
#define FRR_MAP_MAX    96 /* "HEALTHD-" + a 64-byte service name + "-" + 8 hex digits */

/* One "network PFX route-map MAP" statement of address family ipv4 or ipv6 unicast. */
struct frr_net {
	int family; /* AF_INET or AF_INET6 */
	char prefix[PREFIX_STRLEN];
	char map[FRR_MAP_MAX]; /* "" for a statement that is not healthd's */
};

/* One route-map: its entries as FRR prints them, normalized (frr_map_normalize). */
struct frr_map {
	char name[FRR_MAP_MAX];
	char *text;  /* normalized, for comparison */
	char **sets; /* the set clauses to create it with (wanted maps only), NULL-ended */
};

/* healthd's part of FRR's BGP configuration: wanted (from the route table) or found
 * (parsed from "show running-config"). */
struct frr_state {
	long long asn;        /* the default VRF's "router bgp ASN"; -1 when there is none */
	bool import_check;    /* it lacks "no bgp network import-check" (FRR's default is on) */
	struct frr_net *nets; /* found: also the statements that are not healthd's */
	size_t nnets, capnets;
	struct frr_map *maps; /* only HEALTHD-... route-maps */
	size_t nmaps, capmaps;
};

void frr_state_init(struct frr_state *s);
void frr_state_clear(struct frr_state *s);

/* The set clauses of a route-map for a and a prefix of family, NULL-terminated, in
 * vtysh syntax ("set metric 100"); NULL when out of memory. Free with frr_strv_free. */
char **frr_sets(const struct route_attrs *a, int family);
void frr_strv_free(char **v);
/* The route-map's name: HEALTHD-<service>-<hash of its set clauses>, so that the same
 * attributes always get the same name (also in a later run of healthd), and a changed
 * set gets a new map instead of an edit to one in use. */
void frr_map_name(const char *service, char *const *sets, char *out, size_t len);
/* The normalized text of a one-entry map "permit 10" with these set clauses: what
 * frr_parse records for a map FRR holds with exactly these clauses. */
char *frr_map_normalize(char *const *sets);

/* Want pfx announced through a map with these set clauses (copied), or (sets NULL) not
 * at all. Maps no statement names any more are dropped. 0, or -1 out of memory. */
int frr_want(struct frr_state *want, const struct prefix *pfx, const char *service,
             char *const *sets);

/* Parse "show running-config" as vtysh prints it. 0, or -1 (why set) when the text is
 * not a whole configuration ("end" missing: vtysh failed or the output was cut). */
int frr_parse(const char *text, struct frr_state *out, char *why, size_t whylen);

/* The vtysh commands ("-c" arguments, NULL-terminated, "configure terminal" ... "end")
 * that make found into want, touching only healthd's statements and maps; NULL in *out
 * when nothing differs. A prefix that has a statement of someone else is skipped and
 * counted in *foreign. 0; -1 out of memory; -2 when statements must change but FRR has
 * no "router bgp" in the default VRF. */
int frr_diff(const struct frr_state *want, const struct frr_state *found, char ***out,
             size_t *foreign);

#endif
