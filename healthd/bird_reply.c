/* BIRD's control-socket replies, line by line. Pure: no I/O, no allocation, so that the
 * unit tests and the fuzzer reach every branch.
 *
 * What BIRD writes (nest/cli.c): "DDDD-text" when more lines of the reply follow,
 * "DDDD text" for its last line, " text" for a further line of the same code, "+text"
 * for a log line echoed to the session, and a bare "<N messages lost>" when the echo
 * ring overflowed. Success is judged by the codes, never by the English. */
#include <string.h>

#include "bird.h"

static bool bird_digits(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

enum bird_line_type bird_line_parse(const char *s, size_t len, struct bird_line *out)
{
	out->type = BIRD_LINE_BAD;
	out->code = -1;
	out->text = s;
	out->len = len;
	if (len == 0 || len > BIRD_LINE_MAX)
		return out->type;

	if (s[0] == '+' || s[0] == ' ') {
		out->type = s[0] == '+' ? BIRD_LINE_ASYNC : BIRD_LINE_CONT;
		out->text = s + 1;
		out->len = len - 1;
		return out->type;
	}
	if (s[0] == '<' && s[len - 1] == '>' && len > 2) {
		/* "<3 messages lost>": written without a prefix, between replies */
		out->type = BIRD_LINE_ASYNC;
		return out->type;
	}
	if (len < 4 || !bird_digits(s))
		return out->type;
	/* "0000" alone has never been seen, but it can only mean a last line. */
	if (len > 4 && s[4] != '-' && s[4] != ' ')
		return out->type;
	out->code = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	out->type = len > 4 && s[4] == '-' ? BIRD_LINE_MORE : BIRD_LINE_LAST;
	out->text = len > 4 ? s + 5 : s + 4;
	out->len = len > 4 ? len - 5 : 0;
	return out->type;
}

void bird_reply_init(struct bird_reply *r)
{
	r->code = -1;
	r->first = -1;
	r->error = 0;
	r->lines = 0;
	r->msg[0] = '\0';
}

bool bird_code_error(int code)
{
	return code >= 8000 && code <= 9999;
}

void bird_text(const char *s, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	if (outlen == 0)
		return;
	for (size_t i = 0; i < len && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[o] = '\0';
}

int bird_reply_feed(struct bird_reply *r, const struct bird_line *l)
{
	switch (l->type) {
	case BIRD_LINE_MORE:
	case BIRD_LINE_LAST:
		break;
	case BIRD_LINE_CONT:
		if (r->first < 0)
			return -1; /* continues nothing */
		r->lines++;
		return 0;
	default:
		return -1;
	}

	r->lines++;
	if (r->first < 0) {
		r->first = l->code;
		bird_text(l->text, l->len, r->msg, sizeof(r->msg));
	}
	if (bird_code_error(l->code) && r->error == 0) {
		r->error = l->code;
		bird_text(l->text, l->len, r->msg, sizeof(r->msg));
	}
	if (l->type == BIRD_LINE_MORE)
		return 0;
	r->code = l->code;
	return 1;
}
