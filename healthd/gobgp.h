/* The GoBGP backend, shared by its files:
 *   gobgp_text.c  the gobgp client's text: a path's words out, the RIB's JSON in (pure;
 *                 unit-tested)
 *   gobgp.c       the speaker_ops: batches, client runs, read-back and repair */
#ifndef HEALTHD_GOBGP_H
#define HEALTHD_GOBGP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define GOBGP_RIB_MAX (8 * 1024 * 1024) /* bytes of RIB JSON read; more is refused */

/* The words after "global rib add -a FAMILY PREFIX" for a path with attributes a: its
 * identifier, origin igp, next hop unless "self", MED, local preference, communities with
 * the mark last, large communities, as-path prepend; one space between words (none holds
 * a space). malloc'd, or NULL when out of memory. */
char *gobgp_path_words(const struct route_attrs *a, uint32_t identifier, const char *mark);

/* The prefixes of `gobgp global rib -a FAMILY -j` output that have a path carrying the
 * community mark (as GoBGP's JSON writes it: (A << 16) | B), canonical as prefix_format
 * writes them, of family only. *out is NULL-terminated (cfg_strv_free), *n its length.
 * 0, or -1 with why set: the text is not such a RIB. */
int gobgp_rib_marked(const char *text, size_t len, int family, uint32_t mark, char ***out,
                     size_t *n, char *why, size_t whylen);

#endif
