/* Config errors: each names file:line:col and the JSON path of the value at fault.
 * jansson keeps no positions per value, so cfgpos indexes the source text by JSON path. */
#ifndef HEALTHD_CFGERR_H
#define HEALTHD_CFGERR_H

#include <stddef.h>

#define CFG_PATH_MAX 256

struct cfgpos; /* JSON path -> line:col of the source text (cfgpos.c) */

struct cfgpos *cfgpos_build(const char *text);
/* 0 and line/col (1-based) when path is known, -1 otherwise. Paths look like
 * "services[1].checks[0].port"; the position is that of the key when the value is
 * an object member, of the value itself when it is an array element. */
int cfgpos_lookup(const struct cfgpos *pos, const char *path, int *line, int *col);
void cfgpos_free(struct cfgpos *pos);

struct config_error {
	const char *file;         /* shown as given; "<string>" for in-memory text */
	const struct cfgpos *pos; /* may be NULL: errors then carry no line:col */
	char base[CFG_PATH_MAX];  /* path of the object being read; "" at the top */
	char **msgs;              /* "file:line:col: path: message", in order found */
	size_t nmsgs;
};

void config_error_init(struct config_error *e, const char *file, const struct cfgpos *pos);
void config_error_free(struct config_error *e); /* frees msgs only */

/* Record an error at base + key. key may be NULL (the base object itself), a member name
 * ("port"), an index ("[2]"), or a dotted tail ("announce.med"). */
void cfgerr_add(struct config_error *e, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Descend into a member or element for the duration of nested reads:
 *   char saved[CFG_PATH_MAX]; cfgerr_push(e, "checks", saved); ... cfgerr_pop(e, saved); */
void cfgerr_push(struct config_error *e, const char *key, char *saved);
void cfgerr_push_index(struct config_error *e, size_t index, char *saved);
void cfgerr_pop(struct config_error *e, const char *saved);

/* Join base and key into buf the way paths are written in messages. */
void cfgerr_path(const struct config_error *e, const char *key, char *buf, size_t len);

#endif
