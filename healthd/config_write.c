/* "healthd check"'s output: config_to_json's text, written one service at a time. The
 * whole normalized tree of a large config (and its text) would be several times the size
 * of the config itself; here at most one service's tree lives at once. The bytes are
 * those json_dumps(config_to_json(cfg), JSON_INDENT(2) | JSON_PRESERVE_ORDER) gives. */
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define CW_FLAGS   (JSON_INDENT(2) | JSON_PRESERVE_ORDER)
#define CW_BUF     65536
#define CW_SVC_PAD "    " /* a service sits at depth 2: top object, "services" array */

struct cw {
	FILE *out;
	size_t len;
	const char *pad; /* written after each newline of a dumped chunk */
	size_t padlen;
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

/* jansson's dump callback. A dumped string holds no raw newline (it is escaped), so every
 * newline is a line break of the layout, followed by the deeper indent. */
static int cw_dump(const char *s, size_t n, void *data)
{
	struct cw *w = data;
	const char *nl;
	while (w->padlen > 0 && (nl = memchr(s, '\n', n)) != NULL) {
		size_t k = (size_t)(nl - s) + 1;
		cw_put(w, s, k);
		cw_put(w, w->pad, w->padlen);
		s += k;
		n -= k;
	}
	cw_put(w, s, n);
	return w->failed ? -1 : 0;
}

static void cw_str(struct cw *w, const char *s)
{
	cw_put(w, s, strlen(s));
}

int config_write(const struct config *cfg, FILE *out)
{
	struct cw *w = malloc(sizeof(*w));
	if (w == NULL)
		return -1;
	w->out = out;
	w->len = 0;
	w->pad = CW_SVC_PAD;
	w->padlen = 0;
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
		w->padlen = strlen(CW_SVC_PAD);
		if (svc == NULL || json_dump_callback(svc, cw_dump, w, CW_FLAGS) != 0)
			w->failed = true;
		w->padlen = 0;
		json_decref(svc);
	}
	cw_str(w, cfg->nservices > 0 ? "\n  ]\n}" : "]\n}");
	cw_flush(w);
	/* A full disk shows only when stdio's own buffer goes out. */
	int rc = w->failed || fflush(out) != 0 ? -1 : 0;
	free(w);
	return rc;
}
