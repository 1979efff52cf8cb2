/* libFuzzer target: the http check's status and body rules. A check object (url, method,
 * expect_status, expect_body, expect_body_regex, max_body, ...) is configured as healthd
 * would; then a status code and a body, arriving in pieces, go through the probe's own
 * write callback (status judged, body kept up to max_body, expect_body searched
 * incrementally, the transfer stopped once enough is read) and the final judgement's
 * regex match and quoted snippet. probes/http.c is included so that its static
 * functions run as in healthd; no transfer is made.
 *
 * Checked: the body kept never exceeds max_body; every pattern the config accepts gets
 * the one-pass matcher (http_match.c), which says what regexec says, with its DFA cache as
 * built and with one so small it is emptied or given up; expect_body counts as found
 * exactly when it occurs in the body kept (the incremental search misses nothing, finds nothing
 * false); the transfer stops only on purpose; the snippet is printable and bounded.
 *
 * Input: 2 bytes status code (big-endian, modulo 1000), 1 byte piece size (1 + n % 64),
 * the check's JSON, a NUL byte, the body.
 *
 * fuzz-sources: lib/*.c probes/*.c -probes/http.c
 * Seeds: tests/fuzz/corpus/http_rules. */
#include <syslog.h>

#include "../../lib/log.h"
#include "../../probes/http.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct config_error err;
	char snip[HTTP_SNIPPET * 4 + 8];

	if (!init) {
		log_init("fuzz", false, 0, LOG_CRIT);
		init = true;
	}
	if (size < 4)
		return 0;
	long code = (long)(((unsigned)data[0] << 8 | data[1]) % 1000);
	size_t piece = 1 + data[2] % 64;
	const char *cfg = (const char *)data + 3;
	size_t cfglen = strnlen(cfg, size - 3);
	if (cfglen == size - 3)
		return 0; /* no body separator */
	const uint8_t *body = data + 3 + cfglen + 1;
	size_t bodylen = size - 3 - cfglen - 1;

	json_t *obj = json_loadb(cfg, cfglen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return 0;
	}
	config_error_init(&err, "fuzz", NULL);
	struct probe *p = probe_new(&probe_http_ops, obj, &err);
	json_decref(obj);
	config_error_free(&err);
	if (p == NULL)
		return 0;
	struct http_check *h = p->priv;

	/* What http_write_cb reads from curl at the first body byte. */
	h->status_seen = true;
	h->status_bad = !http_status_ok(h, code);
	bool stopped = false;
	for (size_t off = 0; off < bodylen && !stopped; off += piece) {
		size_t n = bodylen - off < piece ? bodylen - off : piece;
		size_t r = http_write_cb((char *)body + off, 1, n, p);
		if (r != n) {
			stopped = true;
			if (!h->enough)
				abort(); /* only out of memory stops without reason */
		}
		if (h->bodylen > h->max_body)
			abort();
	}
	if (h->expect != NULL && !h->status_bad) {
		bool found = h->body != NULL &&
		             memmem(h->body, h->bodylen, h->expect, h->expectlen) != NULL;
		if (found != h->matched)
			abort();
	}
	if (h->regex_src != NULL) {
		/* the one-pass matcher says what regexec says (regexec is quadratic: short
		 * bodies only) */
		regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)h->bodylen};
		bool want = h->bodylen <= 4096 && regexec(&h->regex, h->body != NULL ? h->body : "",
		                                          1, &m, REG_STARTEND) == 0;
		bool got = http_body_matches(h);
		if (h->match == NULL || (h->bodylen <= 4096 && want != got))
			abort();
		/* and so does it with a DFA cache of 1-4 states, emptied whenever full or
		 * given up for the NFA at once */
		http_match_cache_limit(h->match, 1 + (data[0] & 3), (data[1] & 1) ? 0 : 1 << 30);
		if (http_body_matches(h) != got)
			abort();
	}
	http_snippet(h, snip, sizeof(snip));
	size_t sl = strlen(snip);
	if (sl >= sizeof(snip))
		abort();
	for (size_t i = 0; i < sl; i++)
		if ((unsigned char)snip[i] < 0x20 || (unsigned char)snip[i] >= 0x7f)
			abort();
	probe_free(p);
	return 0;
}
