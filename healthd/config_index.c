/* Open addressing, linear probing, FNV-1a; the table doubles at half full. Keys are
 * copied (the JSON they come from dies with the load). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_index.h"

struct config_index_slot {
	unsigned char *key; /* kind byte, then the key's bytes; NULL: empty */
	size_t len;         /* of key, the kind byte included */
	uint64_t hash;
	size_t i, k;
};

struct config_index {
	struct config_index_slot *slots;
	size_t cap, n; /* cap: a power of two */
};

struct config_index *config_index_new(void)
{
	struct config_index *ix = calloc(1, sizeof(*ix));

	if (ix == NULL)
		return NULL;
	ix->cap = 64;
	ix->slots = calloc(ix->cap, sizeof(*ix->slots));
	if (ix->slots == NULL) {
		free(ix);
		return NULL;
	}
	return ix;
}

void config_index_free(struct config_index *ix)
{
	if (ix == NULL)
		return;
	for (size_t s = 0; s < ix->cap; s++)
		free(ix->slots[s].key);
	free(ix->slots);
	free(ix);
}

static uint64_t config_index_hash(const unsigned char *b, size_t len)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t j = 0; j < len; j++) {
		h ^= b[j];
		h *= 1099511628211ULL;
	}
	return h;
}

static int config_index_grow(struct config_index *ix)
{
	size_t cap = ix->cap * 2;
	struct config_index_slot *slots = calloc(cap, sizeof(*slots));

	if (slots == NULL)
		return -1;
	for (size_t s = 0; s < ix->cap; s++) {
		if (ix->slots[s].key == NULL)
			continue;
		size_t t = (size_t)ix->slots[s].hash & (cap - 1);
		while (slots[t].key != NULL)
			t = (t + 1) & (cap - 1);
		slots[t] = ix->slots[s];
	}
	free(ix->slots);
	ix->slots = slots;
	ix->cap = cap;
	return 0;
}

int config_index_add(struct config_index *ix, enum config_index_kind kind, const void *key,
                     size_t len, size_t i, size_t k, size_t *fi, size_t *fk)
{
	unsigned char *b = malloc(len + 1);
	uint64_t h;
	size_t t;

	if (b == NULL)
		return -1;
	b[0] = (unsigned char)kind;
	memcpy(b + 1, key, len);
	h = config_index_hash(b, len + 1);
	for (t = (size_t)h & (ix->cap - 1); ix->slots[t].key != NULL; t = (t + 1) & (ix->cap - 1)) {
		const struct config_index_slot *s = &ix->slots[t];
		if (s->hash == h && s->len == len + 1 && memcmp(s->key, b, len + 1) == 0) {
			*fi = s->i;
			*fk = s->k;
			free(b);
			return 1;
		}
	}
	if ((ix->n + 1) * 2 > ix->cap) {
		/* a failed grow leaves a fuller table, but never a full one */
		if (config_index_grow(ix) != 0 && ix->n + 2 > ix->cap) {
			free(b);
			return -1;
		}
		for (t = (size_t)h & (ix->cap - 1); ix->slots[t].key != NULL;
		     t = (t + 1) & (ix->cap - 1))
			;
	}
	ix->slots[t] =
	        (struct config_index_slot){.key = b, .len = len + 1, .hash = h, .i = i, .k = k};
	ix->n++;
	return 0;
}
