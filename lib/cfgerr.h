/* Config errors: each names file:line:col (from cfgpos.h) and the JSON path of the value
 * at fault. */
#ifndef LIB_CFGERR_H
#define LIB_CFGERR_H

#include <stddef.h>

#define CFG_PATH_MAX 256

struct cfgpos;

struct config_error {
	const char *file;         /* shown as given; "<string>" for in-memory text */
	const struct cfgpos *pos; /* may be NULL: errors then carry no line:col */
	char base[CFG_PATH_MAX];  /* path of the object being read; "" at the top */
	char **msgs;              /* "file:line:col: path: message", in order found */
	size_t nmsgs;
};

/* Bytes of a key shown in a path, and of a quoted value in a message; longer ones are
 * cut, with "...". */
#define CFGERR_KEY_SHOWN   64
#define CFGERR_QUOTE_SHOWN 100
/* Bytes of one message after its file, position and path. */
#define CFGERR_MSG_MAX 1023

/* Errors recorded at most; one more line then says that more were found. */
#define CFGERR_MAX_MSGS 100

/* s with control bytes written as \n, \t, \xNN, in a string the caller frees (NULL when
 * out of memory): a message is one line of the log, even when it quotes a key or value
 * that holds a newline. */
char *cfgerr_escape(const char *s);

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
