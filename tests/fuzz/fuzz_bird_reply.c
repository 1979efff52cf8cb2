/* libFuzzer target: whatever a control socket sends, the BIRD reply parser classifies
 * every line, assembles replies without overrunning anything, and keeps its promises
 * (codes in range, messages printable and terminated).
 *
 * fuzz-sources: healthd/bird_reply.c
 * Seeds: tests/fuzz/corpus/bird_reply (transcripts of bird 2.0.12's control socket). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../healthd/bird.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_reply(const struct bird_reply *r)
{
	size_t n = strnlen(r->msg, sizeof(r->msg));
	if (n >= sizeof(r->msg))
		abort(); /* not terminated */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)r->msg[i] < 0x20 || (unsigned char)r->msg[i] >= 0x7f)
			abort(); /* a log line must not carry control bytes */
	if (r->code < -1 || r->code > 9999 || r->first < -1 || r->first > 9999)
		abort();
	if (r->error != 0 && !bird_code_error(r->error))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct bird_reply r;
	size_t start = 0;

	bird_reply_init(&r);
	for (size_t i = 0; i <= size; i++) {
		if (i < size && s[i] != '\n')
			continue;
		struct bird_line l;
		enum bird_line_type t = bird_line_parse(s + start, i - start, &l);
		if (t != l.type || l.text < s + start || l.text + l.len > s + i)
			abort(); /* the text must lie inside the line */
		if ((t == BIRD_LINE_MORE || t == BIRD_LINE_LAST) != (l.code >= 0))
			abort();
		int rc = bird_reply_feed(&r, &l);
		fuzz_check_reply(&r);
		if (rc == 1) {
			if (r.code != l.code || r.first < 0)
				abort();
			bird_reply_init(&r);
		} else if (rc < 0 && t != BIRD_LINE_BAD && t != BIRD_LINE_ASYNC &&
		           t != BIRD_LINE_CONT) {
			abort(); /* a numbered line always belongs to a reply */
		}
		start = i + 1;
	}

	char out[32];
	bird_text(s, size, out, sizeof(out));
	if (strlen(out) > (size < sizeof(out) - 1 ? size : sizeof(out) - 1))
		abort();
	return 0;
}
