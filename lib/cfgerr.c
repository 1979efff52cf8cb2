/* Config errors: "FILE:LINE:COL: PATH: MESSAGE", the path kept as a base that readers
 * push and pop while they descend, the position looked up in the cfgpos index. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgerr.h"
#include "cfgpos.h"

void config_error_init(struct config_error *e, const char *file, const struct cfgpos *pos)
{
	memset(e, 0, sizeof(*e));
	e->file = file != NULL ? file : "<string>";
	e->pos = pos;
}

void config_error_free(struct config_error *e)
{
	for (size_t i = 0; i < e->nmsgs; i++)
		free(e->msgs[i]);
	free(e->msgs);
	e->msgs = NULL;
	e->nmsgs = 0;
}

void cfgerr_path(const struct config_error *e, const char *key, char *buf, size_t len)
{
	const char *more = key != NULL && strlen(key) > CFGERR_KEY_SHOWN ? "..." : "";

	if (key == NULL || *key == '\0')
		snprintf(buf, len, "%s", e->base);
	else if (e->base[0] == '\0' || key[0] == '[')
		snprintf(buf, len, "%s%.*s%s", e->base, CFGERR_KEY_SHOWN, key, more);
	else
		snprintf(buf, len, "%s.%.*s%s", e->base, CFGERR_KEY_SHOWN, key, more);
}

/* Where path is in the text, or where its nearest ancestor is: a missing key is best
 * shown at the object that lacks it. */
static int cfgerr_locate(const struct cfgpos *pos, const char *path, int *line, int *col)
{
	char p[CFG_PATH_MAX];
	snprintf(p, sizeof(p), "%s", path);
	for (;;) {
		if (cfgpos_lookup(pos, p, line, col) == 0)
			return 0;
		if (p[0] == '\0')
			return -1;
		char *cut = p;
		for (char *c = p; *c != '\0'; c++)
			if (*c == '.' || *c == '[')
				cut = c;
		*cut = '\0';
	}
}

char *cfgerr_escape(const char *s)
{
	size_t n = 0;
	for (const char *c = s; *c != '\0'; c++)
		n += (unsigned char)*c < 0x20 || *c == 0x7f ? 4 : 1;
	char *out = malloc(n + 1), *o = out;
	if (out == NULL)
		return NULL;
	for (const char *c = s; *c != '\0'; c++) {
		unsigned char b = (unsigned char)*c;
		if (b == '\n' || b == '\t') {
			*o++ = '\\';
			*o++ = b == '\n' ? 'n' : 't';
		} else if (b < 0x20 || b == 0x7f) {
			o += sprintf(o, "\\x%02x", b);
		} else {
			*o++ = (char)b;
		}
	}
	*o = '\0';
	return out;
}

/* Messages quote values in double quotes: each quoted run longer than
 * CFGERR_QUOTE_SHOWN bytes is cut to that, with "...", so that a value of megabytes is
 * named, not echoed. In place. */
static void cfgerr_cut_quotes(char *msg)
{
	char *r = msg, *w = msg;

	while (*r != '\0') {
		if (*r != '"') {
			*w++ = *r++;
			continue;
		}
		char *end = strchr(r + 1, '"');
		size_t n = end != NULL ? (size_t)(end - r - 1) : strlen(r + 1);
		*w++ = *r++;
		/* + 3: the cut run with its "..." is never longer, so writing stays behind
		 * reading */
		if (n > CFGERR_QUOTE_SHOWN + 3) {
			memmove(w, r, CFGERR_QUOTE_SHOWN);
			w += CFGERR_QUOTE_SHOWN;
			memcpy(w, "...", 3);
			w += 3;
		} else {
			memmove(w, r, n);
			w += n;
		}
		r += n;
		if (*r == '"')
			*w++ = *r++;
	}
	*w = '\0';
}

void cfgerr_add(struct config_error *e, const char *key, const char *fmt, ...)
{
	char path[CFG_PATH_MAX], *msg = NULL, *out = NULL, *esc;
	int line, col;
	va_list ap;

	/* A config wrong in every one of its 100,000 elements: the first errors say it, and
	 * comparing each new one with all before stays cheap. */
	if (e->nmsgs > CFGERR_MAX_MSGS)
		return;
	if (e->nmsgs == CFGERR_MAX_MSGS) {
		if (asprintf(&out, "%s: more errors; only the first %d are shown", e->file,
		             CFGERR_MAX_MSGS) < 0)
			return;
		goto add;
	}
	cfgerr_path(e, key, path, sizeof(path));
	va_start(ap, fmt);
	int len = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	/* quoted values cut first, so that the words after a long one are kept */
	cfgerr_cut_quotes(msg);
	if (strlen(msg) > CFGERR_MSG_MAX)
		msg[CFGERR_MSG_MAX] = '\0';

	const char *shown = path[0] != '\0' ? path : "(top)";
	int n;
	if (e->pos != NULL && cfgerr_locate(e->pos, path, &line, &col) == 0)
		n = asprintf(&out, "%s:%d:%d: %s: %s", e->file, line, col, shown, msg);
	else
		n = asprintf(&out, "%s: %s: %s", e->file, shown, msg);
	free(msg);
	if (n < 0)
		return;
	esc = cfgerr_escape(out);
	free(out);
	if ((out = esc) == NULL)
		return;

	/* A setting inherited by many checks would repeat its one error for each of them. */
	for (size_t i = 0; i < e->nmsgs; i++) {
		if (strcmp(e->msgs[i], out) == 0) {
			free(out);
			return;
		}
	}
add:;
	char **v = realloc(e->msgs, (e->nmsgs + 1) * sizeof(*v));
	if (v == NULL) {
		free(out);
		return;
	}
	e->msgs = v;
	e->msgs[e->nmsgs++] = out;
}

void cfgerr_push(struct config_error *e, const char *key, char *saved)
{
	char path[CFG_PATH_MAX];
	memcpy(saved, e->base, CFG_PATH_MAX);
	cfgerr_path(e, key, path, sizeof(path));
	memcpy(e->base, path, CFG_PATH_MAX);
}

void cfgerr_push_index(struct config_error *e, size_t index, char *saved)
{
	char key[32];
	snprintf(key, sizeof(key), "[%zu]", index);
	cfgerr_push(e, key, saved);
}

void cfgerr_pop(struct config_error *e, const char *saved)
{
	memcpy(e->base, saved, CFG_PATH_MAX);
}
