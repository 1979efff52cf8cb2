/* The dns-axfr and dns-serial probes in a real event loop against fake DNS servers on
 * loopback (dns_fake.h): AXFR streams good and broken in each way the probe checks, and
 * a secondary's serial falling behind, going stale, recovering, and its primaries going
 * silent. The real primary/secondary cases (Knot) are in tests/integration/. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns_fake.h"
#include "testlib.h"

/* ---------------------------------------------------------------- dns-axfr */

static const char *const axfr1[] = {
        "example.test. 300 IN SOA ns. h. 9 1 2 3 4",
        "example.test. 300 IN NS ns1.example.test.",
        "ns1.example.test. 300 IN A 192.0.2.53",
        NULL,
};
static const char *const axfr2[] = {
        "www.example.test. 300 IN A 192.0.2.1",
        "example.test. 300 IN SOA ns. h. 9 1 2 3 4",
        NULL,
};
static const char *const axfr2_other_soa[] = {
        "www.example.test. 300 IN A 192.0.2.1",
        "example.test. 300 IN SOA ns. h. 10 1 2 3 4",
        NULL,
};
static const char *const axfr2_extra[] = {
        "example.test. 300 IN SOA ns. h. 9 1 2 3 4",
        "www.example.test. 300 IN A 192.0.2.1",
        NULL,
};

static struct tl_outcome axfr_run(struct fake *f, const char *extra, struct probe **pp)
{
	struct tl_outcome o;
	struct probe *p = tl_probe("dns-axfr", 1000,
	                           "{\"zone\":\"example.test\",\"server\":\"127.0.0.1@%u\"%s}",
	                           f->port, extra);
	tl_run(tl_base, p, &o);
	if (pp != NULL)
		*pp = p;
	else
		probe_free(p);
	return o;
}

START_TEST(axfr_streams)
{
	struct fake f;
	struct tl_outcome o;
	struct probe *p;

	fake_start(&f, tl_base, FAKE_AXFR);
	f.axfr[0] = axfr1;
	f.axfr[1] = axfr2;
	o = axfr_run(&f, ",\"min_records\":5", &p);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_int_eq(tl_fact_int(p, "records"), 5);
	ck_assert_int_eq(tl_fact_int(p, "messages"), 2);
	ck_assert_int_eq(tl_fact_int(p, "serial"), 9);
	probe_free(p);

	/* The server defaults to the first primary. */
	p = tl_probe("dns-axfr", 1000,
	             "{\"zone\":\"example.test\",\"primaries\":[\"127.0.0.1@%u\","
	             "\"192.0.2.1\"]}",
	             f.port);
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_int_eq(tl_fact_int(p, "records"), 5);
	probe_free(p);

	o = axfr_run(&f, ",\"min_records\":6", NULL);
	ck_assert_int_eq(o.r.reason, PR_TRANSFER);
	ck_assert_ptr_nonnull(strstr(o.r.detail, "5 records, expected at least 6"));

	f.axfr[1] = axfr2_other_soa;
	o = axfr_run(&f, "", NULL);
	ck_assert_int_eq(o.r.reason, PR_TRANSFER);
	ck_assert_ptr_nonnull(strstr(o.r.detail, "closing SOA differs"));

	f.axfr[1] = axfr2_extra;
	o = axfr_run(&f, "", NULL);
	ck_assert_int_eq(o.r.reason, PR_TRANSFER);
	ck_assert_ptr_nonnull(strstr(o.r.detail, "records after the closing SOA"));

	f.axfr[1] = axfr2;
	f.axfr_bad_id = 2;
	o = axfr_run(&f, "", NULL);
	ck_assert_int_eq(o.r.reason, PR_TRANSFER);
	ck_assert_msg(strstr(o.r.detail, "message 2") && strstr(o.r.detail, "id "), "%s",
	              o.r.detail);
	f.axfr_bad_id = 0;

	o = axfr_run(&f, ",\"max_bytes\":512", NULL);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail); /* ~170 bytes */
	f.axfr[0] = axfr2;                                    /* first record not the SOA */
	o = axfr_run(&f, "", NULL);
	ck_assert_int_eq(o.r.reason, PR_TRANSFER);
	ck_assert_ptr_nonnull(strstr(o.r.detail, "does not start with the zone's SOA"));

	/* Refused: one message, NOTAUTH, no records. */
	static const char *const none[] = {NULL};
	f.axfr[0] = none;
	f.axfr[1] = NULL;
	f.axfr_rcode = LDNS_RCODE_NOTAUTH;
	o = axfr_run(&f, "", NULL);
	ck_assert_int_eq(o.r.reason, PR_TRANSFER);
	ck_assert_ptr_nonnull(strstr(o.r.detail, "refused with rcode NOTAUTH"));

	/* The stream stops half-way, without the closing SOA. The server keeps the
	 * connection open: a timeout that says how far the transfer got ... */
	f.axfr[0] = axfr1;
	f.axfr_rcode = 0;
	o = axfr_run(&f, "", NULL);
	ck_assert_int_eq(o.r.reason, PR_TIMEOUT);
	ck_assert_ptr_nonnull(strstr(o.r.detail, "3 records"));
	/* ... or it closes the connection: a broken transfer. */
	f.axfr_close = true;
	o = axfr_run(&f, "", &p);
	ck_assert_msg(o.r.reason == PR_TRANSFER, "%s", o.r.detail);
	ck_assert_msg(strstr(o.r.detail, "closed the connection after 1 message, ") != NULL, "%s",
	              o.r.detail);
	ck_assert_int_eq(tl_fact_int(p, "records"), 3);
	probe_free(p);
	fake_stop(&f);
}
END_TEST

START_TEST(axfr_max_bytes)
{
	const char *big[40];
	char rr[39][96];
	struct fake f;
	struct tl_outcome o;

	big[0] = axfr1[0];
	for (int i = 1; i < 39; i++) {
		snprintf(rr[i], sizeof(rr[i]), "host%d.example.test. 300 IN TXT \"%040d\"", i, i);
		big[i] = rr[i];
	}
	big[39] = NULL;
	fake_start(&f, tl_base, FAKE_AXFR);
	f.axfr[0] = big;
	f.axfr[1] = axfr2;
	o = axfr_run(&f, ",\"max_bytes\":1024", NULL);
	ck_assert_int_eq(o.r.reason, PR_TRANSFER);
	ck_assert_msg(strstr(o.r.detail, "more than max_bytes 1024") != NULL, "%s", o.r.detail);
	fake_stop(&f);
}
END_TEST

/* ---------------------------------------------------------------- dns-serial */

START_TEST(serial_lag_and_silence)
{
	struct fake local, prim;
	struct tl_outcome o;
	struct probe *p;

	fake_start(&local, tl_base, FAKE_SOA);
	fake_start(&prim, tl_base, FAKE_SOA);
	local.serial = prim.serial = 5;
	p = tl_probe("dns-serial", 150,
	             "{\"zone\":\"example.test\",\"server\":\"127.0.0.1@%u\","
	             "\"primaries\":[\"127.0.0.1@%u\"],\"max_lag_time\":\"200ms\","
	             "\"max_silence\":\"300ms\"}",
	             local.port, prim.port);
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_int_eq(tl_fact_int(p, "local_serial"), 5);
	ck_assert_int_eq(tl_fact_int(p, "primary_serial"), 5);

	/* The primary moves on: behind, but within max_lag_time... */
	prim.serial = 6;
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_ptr_nonnull(strstr(o.r.detail, "behind 6"));
	ck_assert(json_is_true(json_object_get(p->facts, "behind")));
	/* A run the primary misses: still behind the serial it gave last time. */
	prim.mode = FAKE_SILENT;
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_int_eq(tl_fact_int(p, "primaries_answered"), 0);
	ck_assert_msg(strstr(o.r.detail, "local serial 5 behind 6 (") != NULL, "%s", o.r.detail);
	ck_assert_int_eq(tl_fact_int(p, "primary_serial"), 6);
	prim.mode = FAKE_SOA;
	/* ... until it is not. */
	usleep(250000);
	tl_run(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_STALE_SERIAL);
	ck_assert_msg(strstr(o.r.detail, "local serial 5 behind primary serial 6") != NULL, "%s",
	              o.r.detail);
	/* The transfer happens: fresh again at once. */
	local.serial = 6;
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);

	/* The primary goes silent: fine until max_silence has passed. */
	prim.mode = FAKE_SILENT;
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);
	ck_assert_int_eq(tl_fact_int(p, "primaries_answered"), 0);
	usleep(200000);
	tl_run(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_PRIMARIES_SILENT);
	ck_assert_msg(strstr(o.r.detail, "max_silence 0.3s") != NULL, "%s", o.r.detail);
	prim.mode = FAKE_SOA;
	tl_run(tl_base, p, &o);
	ck_assert_msg(o.r.reason == PR_OK, "%s", o.r.detail);

	/* The local server itself does not answer: that is the failure. */
	local.mode = FAKE_SILENT;
	tl_run(tl_base, p, &o);
	ck_assert_int_eq(o.r.reason, PR_TIMEOUT);
	ck_assert_ptr_nonnull(strstr(o.r.detail, "local server"));
	probe_free(p);
	fake_stop(&local);
	fake_stop(&prim);
}
END_TEST

/* Two primaries: A has serial 10 but misses every other query, B lags at 5 like the local
 * copy. The copy is behind A all along: a run A misses must not restart the lag clock. */
START_TEST(serial_flaky_freshest_primary)
{
	struct fake local, a, b;
	struct tl_outcome o;
	struct probe *p;
	struct timespec t0, t;
	long ms = 0;
	int missed = 0;

	fake_start(&local, tl_base, FAKE_SOA);
	fake_start(&a, tl_base, FAKE_SOA);
	fake_start(&b, tl_base, FAKE_SOA);
	local.serial = b.serial = 5;
	a.serial = 10;
	a.drop_even = true;
	p = tl_probe("dns-serial", 100,
	             "{\"zone\":\"example.test\",\"server\":\"127.0.0.1@%u\","
	             "\"primaries\":[\"127.0.0.1@%u\",\"127.0.0.1@%u\"],"
	             "\"max_lag_time\":\"400ms\"}",
	             local.port, a.port, b.port);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		tl_run(tl_base, p, &o);
		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (o.r.reason != PR_OK || ms > 1500)
			break;
		if (tl_fact_int(p, "primaries_answered") == 1) {
			missed++;
			ck_assert_msg(strstr(o.r.detail, "local serial 5 behind 10 (127.0.0.1@") !=
			                      NULL,
			              "%s", o.r.detail);
			ck_assert_int_eq(tl_fact_int(p, "primary_serial"), 10);
		}
		usleep(20000);
	}
	ck_assert_msg(o.r.reason == PR_STALE_SERIAL, "after %ldms: %s", ms, o.r.detail);
	ck_assert_int_ge(ms, 400);
	ck_assert_int_ge(missed, 1);
	ck_assert_msg(strstr(o.r.detail, "local serial 5 behind primary serial 10 (127.0.0.1@") !=
	                      NULL,
	              "%s", o.r.detail);
	probe_free(p);
	fake_stop(&local);
	fake_stop(&a);
	fake_stop(&b);
}
END_TEST

static Suite *dns_zone_suite(void)
{
	Suite *s = suite_create("dns_zone");
	TCase *tc = tcase_create("axfr");
	tcase_add_checked_fixture(tc, tl_base_setup, tl_base_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, axfr_streams);
	tcase_add_test(tc, axfr_max_bytes);
	suite_add_tcase(s, tc);
	tc = tcase_create("serial");
	tcase_add_checked_fixture(tc, tl_base_setup, tl_base_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, serial_lag_and_silence);
	tcase_add_test(tc, serial_flaky_freshest_primary);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(dns_zone_suite)
