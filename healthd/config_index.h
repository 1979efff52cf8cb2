/* What the config loader has seen so far, by value: service names, announced prefixes,
 * BIRD protocol names, each with where it was first (services[i], prefixes[k]). A hash
 * table, so that a config of n services loads in O(n) rather than comparing every
 * service with every earlier one. Lives only while a config loads. */
#ifndef HEALTHD_CONFIG_INDEX_H
#define HEALTHD_CONFIG_INDEX_H

#include <stddef.h>

enum config_index_kind { CI_NAME, CI_PREFIX, CI_BIRD_PROTOCOL };

struct config_index;

struct config_index *config_index_new(void);
void config_index_free(struct config_index *ix);
/* Remember key (len bytes) of kind at position (i, k), unless it is there already.
 * 1: it was, *fi and *fk say where; 0: added; -1: out of memory (nothing added). */
int config_index_add(struct config_index *ix, enum config_index_kind kind, const void *key,
                     size_t len, size_t i, size_t k, size_t *fi, size_t *fk);

#endif
