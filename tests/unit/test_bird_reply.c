/* BIRD's control-socket replies: the line forms BIRD 2 writes (seen on the wire from
 * bird 2.0.12), replies assembled from them, and what is not a reply. */
#include <string.h>

#include "../../healthd/bird.h"
#include "unit.h"

static enum bird_line_type parse(const char *s, struct bird_line *l)
{
	return bird_line_parse(s, strlen(s), l);
}

/* Feed lines until one ends the reply; returns the index of that line, or -1. */
static int feed_all(struct bird_reply *r, const char *const *lines)
{
	bird_reply_init(r);
	for (int i = 0; lines[i] != NULL; i++) {
		struct bird_line l;
		parse(lines[i], &l);
		int rc = bird_reply_feed(r, &l);
		if (rc == 1)
			return i;
		ck_assert_int_eq(rc, 0);
	}
	return -1;
}

static void text_is(const struct bird_line *l, const char *want)
{
	ck_assert_uint_eq(l->len, strlen(want));
	ck_assert(memcmp(l->text, want, l->len) == 0);
}

START_TEST(test_line_last)
{
	struct bird_line l;
	ck_assert_int_eq(parse("0001 BIRD 2.0.12 ready.", &l), BIRD_LINE_LAST);
	ck_assert_int_eq(l.code, 1);
	text_is(&l, "BIRD 2.0.12 ready.");
	ck_assert_int_eq(parse("0000 ", &l), BIRD_LINE_LAST); /* end of a multi-line reply */
	ck_assert_int_eq(l.code, 0);
	text_is(&l, "");
	ck_assert_int_eq(parse("0000", &l), BIRD_LINE_LAST);
	text_is(&l, "");
	ck_assert_int_eq(parse("9999 x", &l), BIRD_LINE_LAST);
	ck_assert_int_eq(l.code, 9999);
}
END_TEST

START_TEST(test_line_more_and_continuation)
{
	struct bird_line l;
	ck_assert_int_eq(parse("0002-Reading configuration from /etc/bird/bird.conf", &l),
	                 BIRD_LINE_MORE);
	ck_assert_int_eq(l.code, 2);
	text_is(&l, "Reading configuration from /etc/bird/bird.conf");
	ck_assert_int_eq(parse("1002-device1    Device     ---        up", &l), BIRD_LINE_MORE);
	ck_assert_int_eq(l.code, 1002);
	ck_assert_int_eq(parse(" s4         Static     master4    up", &l), BIRD_LINE_CONT);
	ck_assert_int_eq(l.code, -1);
	text_is(&l, "s4         Static     master4    up");
	ck_assert_int_eq(parse(" ", &l), BIRD_LINE_CONT);
	text_is(&l, "");
}
END_TEST

START_TEST(test_line_async)
{
	struct bird_line l;
	ck_assert_int_eq(parse("+Reconfigured", &l), BIRD_LINE_ASYNC);
	text_is(&l, "Reconfigured");
	ck_assert_int_eq(l.code, -1);
	ck_assert_int_eq(parse("+", &l), BIRD_LINE_ASYNC);
	text_is(&l, "");
	/* the echo ring overflowed: BIRD writes this one without any prefix */
	ck_assert_int_eq(parse("<3 messages lost>", &l), BIRD_LINE_ASYNC);
	text_is(&l, "<3 messages lost>");
}
END_TEST

START_TEST(test_line_garbage)
{
	struct bird_line l;
	const char *bad[] = {
	        "",
	        "<",
	        "<>",
	        "abc",
	        "12",
	        "123",
	        "000a x",
	        "0001x",
	        "-001 x",
	        "0001\t",
	        "00 01 x",
	        "HTTP/1.1 200 OK",
	        "\x80\x81\x82\x83 x",
	        NULL,
	};
	for (int i = 0; bad[i] != NULL; i++) {
		ck_assert_msg(parse(bad[i], &l) == BIRD_LINE_BAD, "\"%s\" parsed", bad[i]);
		ck_assert_int_eq(l.code, -1);
	}
	/* a NUL inside the line is data, not its end */
	ck_assert_int_eq(bird_line_parse("0001 a\0b", 8, &l), BIRD_LINE_LAST);
	ck_assert_uint_eq(l.len, 3);
	/* longer than any reply line */
	static char big[BIRD_LINE_MAX + 2];
	memset(big, 'x', sizeof(big));
	memcpy(big, "0001 ", 5);
	ck_assert_int_eq(bird_line_parse(big, BIRD_LINE_MAX + 1, &l), BIRD_LINE_BAD);
	ck_assert_int_eq(bird_line_parse(big, BIRD_LINE_MAX, &l), BIRD_LINE_LAST);
}
END_TEST

START_TEST(test_reply_configure_ok)
{
	struct bird_reply r;
	const char *lines[] = {"0002-Reading configuration from /etc/bird/bird.conf",
	                       "0003 Reconfigured", NULL};
	ck_assert_int_eq(feed_all(&r, lines), 1);
	ck_assert_int_eq(r.code, 3);
	ck_assert_int_eq(r.first, 2);
	ck_assert_int_eq(r.error, 0);
	ck_assert_uint_eq(r.lines, 2);
	ck_assert_str_eq(r.msg, "Reading configuration from /etc/bird/bird.conf");
}
END_TEST

START_TEST(test_reply_configure_in_progress_and_queued)
{
	struct bird_reply r;
	const char *bird3[] = {"0002-Reading configuration from bird.conf",
	                       "0004 Reconfiguration in progress", NULL};
	const char *queued[] = {"0002-Reading configuration from bird.conf",
	                        "0005 Reconfiguration already in progress, queueing", NULL};
	ck_assert_int_eq(feed_all(&r, bird3), 1);
	ck_assert_int_eq(r.code, 4);
	ck_assert_int_eq(r.error, 0);
	ck_assert_int_eq(feed_all(&r, queued), 1);
	ck_assert_int_eq(r.code, 5);
	ck_assert_int_eq(r.error, 0);
}
END_TEST

START_TEST(test_reply_config_error)
{
	struct bird_reply r;
	const char *lines[] = {"0002-Reading configuration from t1.conf",
	                       "8002 t1.conf:15:1 syntax error, unexpected GARBAGE", NULL};
	ck_assert_int_eq(feed_all(&r, lines), 1);
	ck_assert_int_eq(r.code, 8002);
	ck_assert_int_eq(r.error, 8002);
	ck_assert_str_eq(r.msg, "t1.conf:15:1 syntax error, unexpected GARBAGE");
}
END_TEST

START_TEST(test_reply_parse_error)
{
	struct bird_reply r;
	const char *lines[] = {
	        "9001 syntax error, unexpected CF_SYM_UNDEFINED, expecting CF_SYM_KNOWN or TEXT "
	        "or ALL",
	        NULL};
	ck_assert_int_eq(feed_all(&r, lines), 0);
	ck_assert_int_eq(r.code, 9001);
	ck_assert_int_eq(r.first, 9001);
	ck_assert_int_eq(r.error, 9001);
	ck_assert(strncmp(r.msg, "syntax error, unexpected CF_SYM_UNDEFINED", 41) == 0);
}
END_TEST

START_TEST(test_reply_error_then_ok_line)
{
	/* an error code in the middle of a reply is the reply's error, even if it ends 0000 */
	struct bird_reply r;
	const char *lines[] = {"0009-a: disabled", "8003-No protocols match", "0000 ", NULL};
	ck_assert_int_eq(feed_all(&r, lines), 2);
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_eq(r.first, 9);
	ck_assert_int_eq(r.error, 8003);
	ck_assert_str_eq(r.msg, "No protocols match");
}
END_TEST

START_TEST(test_reply_enable_disable)
{
	struct bird_reply r;
	const char *disabled[] = {"0009-anycast_dns: disabled", "0000 ", NULL};
	const char *already[] = {"0010-anycast_dns: already enabled", "0000 ", NULL};
	ck_assert_int_eq(feed_all(&r, disabled), 1);
	ck_assert_int_eq(r.first, 9);
	ck_assert_int_eq(r.code, 0);
	ck_assert_str_eq(r.msg, "anycast_dns: disabled");
	ck_assert_int_eq(feed_all(&r, already), 1);
	ck_assert_int_eq(r.first, 10);
}
END_TEST

START_TEST(test_reply_continuation_lines)
{
	struct bird_reply r;
	const char *lines[] = {
	        "2002-Name       Proto      Table      State  Since         Info",
	        "1002-device1    Device     ---        up     22:00:34.625",
	        " s4         Static     master4    up     22:00:39.276",
	        " s6         Static     master6    up     22:00:34.625",
	        "0000 ",
	        NULL,
	};
	ck_assert_int_eq(feed_all(&r, lines), 4);
	ck_assert_uint_eq(r.lines, 5);
	ck_assert_int_eq(r.first, 2002);
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_eq(r.error, 0);

	const char *status[] = {"1000-BIRD 2.0.12", "1011-Router ID is 127.0.0.9",
	                        " Hostname is vm", "0013 Daemon is up and running", NULL};
	ck_assert_int_eq(feed_all(&r, status), 3);
	ck_assert_int_eq(r.code, 13);
}
END_TEST

START_TEST(test_reply_refuses_strays)
{
	struct bird_reply r;
	struct bird_line l;

	bird_reply_init(&r);
	parse(" continues nothing", &l);
	ck_assert_int_eq(bird_reply_feed(&r, &l), -1);
	parse("+Reconfiguring", &l);
	ck_assert_int_eq(bird_reply_feed(&r, &l), -1);
	parse("garbage", &l);
	ck_assert_int_eq(bird_reply_feed(&r, &l), -1);
	ck_assert_int_eq(r.first, -1);

	/* a spontaneous line between the lines of a reply leaves the reply intact */
	parse("0002-Reading configuration from x", &l);
	ck_assert_int_eq(bird_reply_feed(&r, &l), 0);
	parse("+Reconfiguring", &l);
	ck_assert_int_eq(bird_reply_feed(&r, &l), -1);
	parse("0003 Reconfigured", &l);
	ck_assert_int_eq(bird_reply_feed(&r, &l), 1);
	ck_assert_int_eq(r.code, 3);
	ck_assert_uint_eq(r.lines, 2);
}
END_TEST

START_TEST(test_reply_message_printable_and_bounded)
{
	struct bird_reply r;
	struct bird_line l;
	char line[BIRD_MSG_MAX * 2];

	static const char esc[] = "8002 a\x1b[31mb\x01";
	bird_reply_init(&r);
	bird_line_parse(esc, sizeof(esc) - 1, &l);
	ck_assert_int_eq(bird_reply_feed(&r, &l), 1);
	ck_assert_str_eq(r.msg, "a?[31mb?");

	memset(line, 'y', sizeof(line));
	memcpy(line, "8002 ", 5);
	bird_reply_init(&r);
	bird_line_parse(line, sizeof(line), &l);
	ck_assert_int_eq(bird_reply_feed(&r, &l), 1);
	ck_assert_uint_eq(strlen(r.msg), BIRD_MSG_MAX - 1);

	char tiny[1] = {'x'};
	bird_text("abc", 3, tiny, 1);
	ck_assert_int_eq(tiny[0], '\0');
}
END_TEST

START_TEST(test_code_error)
{
	ck_assert(!bird_code_error(0));
	ck_assert(!bird_code_error(3));
	ck_assert(!bird_code_error(7999));
	ck_assert(bird_code_error(8000));
	ck_assert(bird_code_error(8002));
	ck_assert(bird_code_error(9001));
	ck_assert(bird_code_error(9999));
	ck_assert(!bird_code_error(-1));
}
END_TEST

static Suite *bird_reply_suite(void)
{
	Suite *s = suite_create("bird_reply");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_line_last);
	tcase_add_test(tc, test_line_more_and_continuation);
	tcase_add_test(tc, test_line_async);
	tcase_add_test(tc, test_line_garbage);
	tcase_add_test(tc, test_reply_configure_ok);
	tcase_add_test(tc, test_reply_configure_in_progress_and_queued);
	tcase_add_test(tc, test_reply_config_error);
	tcase_add_test(tc, test_reply_parse_error);
	tcase_add_test(tc, test_reply_error_then_ok_line);
	tcase_add_test(tc, test_reply_enable_disable);
	tcase_add_test(tc, test_reply_continuation_lines);
	tcase_add_test(tc, test_reply_refuses_strays);
	tcase_add_test(tc, test_reply_message_printable_and_bounded);
	tcase_add_test(tc, test_code_error);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(bird_reply_suite)
