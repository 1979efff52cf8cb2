/* "healthd check"'s output: config_to_json's text, written one service at a time. The
 * whole normalized tree of a large config (and its text) would be several times the size
 * of the config itself; here at most one service's tree lives at once. The bytes are
 * those json_dumps(config_to_json(cfg), JSON_INDENT(2) | JSON_PRESERVE_ORDER) gives;
 * the services are written by a small writer of that one layout, since jansson's dump
 * (a callback per token, numbers through printf) was half of checking a large config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define CW_FLAGS   (JSON_INDENT(2) | JSON_PRESERVE_ORDER)
#define CW_BUF     65536
#define CW_SVC_PAD "    " /* a service sits at depth 2: top object, "services" array */

struct cw {
	FILE *out;
	size_t len;
	bool failed;
	char buf[CW_BUF];
};

static void cw_flush(struct cw *w)
{
	if (w->len > 0 && fwrite(w->buf, 1, w->len, w->out) != w->len)
		w->failed = true;
	w->len = 0;
}

static void cw_put(struct cw *w, const char *s, size_t n)
{
	if (n <= CW_BUF - w->len) { /* jansson writes in small pieces: the usual case */
		memcpy(w->buf + w->len, s, n);
		w->len += n;
		return;
	}
	while (n > 0) {
		if (w->len == CW_BUF)
			cw_flush(w);
		size_t k = CW_BUF - w->len < n ? CW_BUF - w->len : n;
		memcpy(w->buf + w->len, s, k);
		w->len += k;
		s += k;
		n -= k;
	}
}

static void cw_str(struct cw *w, const char *s)
{
	cw_put(w, s, strlen(s));
}

static void cw_indent(struct cw *w, size_t depth)
{
	static const char spaces[] = "                                ";
	size_t n = 1 + 2 * depth; /* the newline, then two spaces a level */

	cw_put(w, "\n", 1);
	for (n -= 1; n > 0;) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
		cw_put(w, spaces, k);
		n -= k;
	}
}

/* A string as jansson quotes it without JSON_ENSURE_ASCII: '"', '\\' and control
 * characters escaped, everything else (UTF-8 included: the loader checked it) as is. */
static void cw_quoted(struct cw *w, const char *s, size_t len)
{
	size_t from = 0;

	cw_put(w, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char seq[8];
		const char *esc;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		cw_put(w, s + from, i - from);
		from = i + 1;
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		default:
			snprintf(seq, sizeof(seq), "\\u%04X", c);
			esc = seq;
			break;
		}
		cw_str(w, esc);
	}
	cw_put(w, s + from, len - from);
	cw_put(w, "\"", 1);
}

static void cw_value(struct cw *w, const json_t *v, size_t depth);

static void cw_object(struct cw *w, const json_t *o, size_t depth)
{
	const char *key;
	json_t *v;
	bool first = true;

	if (json_object_size(o) == 0) {
		cw_put(w, "{}", 2);
		return;
	}
	cw_put(w, "{", 1);
	json_object_foreach((json_t *)o, key, v)
	{
		if (!first)
			cw_put(w, ",", 1);
		first = false;
		cw_indent(w, depth + 1);
		cw_quoted(w, key, strlen(key));
		cw_put(w, ": ", 2);
		cw_value(w, v, depth + 1);
	}
	cw_indent(w, depth);
	cw_put(w, "}", 1);
}

static void cw_array(struct cw *w, const json_t *a, size_t depth)
{
	size_t n = json_array_size(a);

	if (n == 0) {
		cw_put(w, "[]", 2);
		return;
	}
	cw_put(w, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			cw_put(w, ",", 1);
		cw_indent(w, depth + 1);
		cw_value(w, json_array_get(a, i), depth + 1);
	}
	cw_indent(w, depth);
	cw_put(w, "]", 1);
}

/* One value at depth (the level of its own line), in json_dumps's layout for
 * JSON_INDENT(2) | JSON_PRESERVE_ORDER: the one format `healthd check` prints. A real,
 * which the normalized config never holds, goes through jansson itself. */
static void cw_value(struct cw *w, const json_t *v, size_t depth)
{
	char num[32];
	char *text;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		cw_object(w, v, depth);
		return;
	case JSON_ARRAY:
		cw_array(w, v, depth);
		return;
	case JSON_STRING:
		cw_quoted(w, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		cw_str(w, num);
		return;
	case JSON_TRUE:
		cw_put(w, "true", 4);
		return;
	case JSON_FALSE:
		cw_put(w, "false", 5);
		return;
	case JSON_NULL:
		cw_put(w, "null", 4);
		return;
	case JSON_REAL:
		text = json_dumps(v, JSON_ENCODE_ANY);
		if (text == NULL) {
			w->failed = true;
			return;
		}
		cw_str(w, text);
		free(text);
		return;
	}
}

int config_write(const struct config *cfg, FILE *out)
{
	struct cw *w = malloc(sizeof(*w));
	if (w == NULL)
		return -1;
	w->out = out;
	w->len = 0;
	w->failed = false;

	/* The head's text ends in "\n}": "services" goes in before that brace. */
	json_t *head = config_head_json(cfg);
	char *text = head != NULL ? json_dumps(head, CW_FLAGS) : NULL;
	size_t tlen = text != NULL ? strlen(text) : 0;
	json_decref(head);
	if (tlen < 2 || strcmp(text + tlen - 2, "\n}") != 0) {
		free(text);
		free(w);
		return -1;
	}
	cw_put(w, text, tlen - 2);
	free(text);
	cw_str(w, ",\n  \"services\": [");
	for (size_t i = 0; i < cfg->nservices && !w->failed; i++) {
		json_t *svc = config_service_to_json(&cfg->services[i]);
		cw_str(w, i > 0 ? ",\n" CW_SVC_PAD : "\n" CW_SVC_PAD);
		if (svc == NULL)
			w->failed = true;
		else
			cw_value(w, svc, 2); /* a service sits at depth 2: top object, "services" */
		json_decref(svc);
	}
	cw_str(w, cfg->nservices > 0 ? "\n  ]\n}" : "]\n}");
	cw_flush(w);
	/* A full disk shows only when stdio's own buffer goes out. */
	int rc = w->failed || fflush(out) != 0 ? -1 : 0;
	free(w);
	return rc;
}
