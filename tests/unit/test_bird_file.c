/* The include files healthd writes for BIRD: attribute spellings of BIRD's filter
 * language, the text of both formats, and the atomic replacement. (That a real BIRD 2
 * loads these texts is the integration tests' part.) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../healthd/bird.h"
#include "../../lib/atomicfile.h"
#include "testlib.h"

/* Render into a string the caller frees. */
static char *render(enum bird_format format, int family, const struct speaker_route *r, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(bird_file_render(f, format, family, r, n), 0);
	fclose(f);
	return text;
}

START_TEST(test_communities)
{
	char b[64];
	ck_assert_int_eq(bird_community("65000:53", b, sizeof(b)), 0);
	ck_assert_str_eq(b, "(65000,53)");
	ck_assert_int_eq(bird_community("no-export", b, sizeof(b)), 0);
	ck_assert_str_eq(b, "(65535,65281)");
	ck_assert_int_eq(bird_community("blackhole", b, sizeof(b)), 0);
	ck_assert_str_eq(b, "(65535,666)");
	ck_assert_int_eq(bird_community("65536:1", b, sizeof(b)), -1);
	ck_assert_int_eq(bird_community("1:2:3", b, sizeof(b)), -1);
	ck_assert_int_eq(bird_community("1", b, sizeof(b)), -1);
	ck_assert_int_eq(bird_community("a:b", b, sizeof(b)), -1);
	ck_assert_int_eq(bird_community("65000:53", b, 5), -1); /* does not fit */

	ck_assert_int_eq(bird_large_community("65000:0:53", b, sizeof(b)), 0);
	ck_assert_str_eq(b, "(65000,0,53)");
	ck_assert_int_eq(bird_large_community("4294967295:4294967295:0", b, sizeof(b)), 0);
	ck_assert_int_eq(bird_large_community("4294967296:0:0", b, sizeof(b)), -1);
	ck_assert_int_eq(bird_large_community("1:2", b, sizeof(b)), -1);
	ck_assert_int_eq(bird_large_community("1:2:3:4", b, sizeof(b)), -1);
}
END_TEST

START_TEST(test_ext_communities)
{
	char b[64];
	ck_assert_int_eq(bird_ext_community("target:65000:53", b, sizeof(b)), 0);
	ck_assert_str_eq(b, "(rt,65000,53)");
	ck_assert_int_eq(bird_ext_community("origin:65000:4294967295", b, sizeof(b)), 0);
	ck_assert_str_eq(b, "(ro,65000,4294967295)");
	ck_assert_int_eq(bird_ext_community("target:192.0.2.1:5", b, sizeof(b)), 0);
	ck_assert_str_eq(b, "(rt,192.0.2.1,5)");
	ck_assert_int_eq(bird_ext_community("target:4200000000:5", b, sizeof(b)), 0);
	ck_assert_str_eq(b, "(rt,4200000000,5)");
	/* a 4-byte AS or an address leaves 2 bytes for the local part */
	ck_assert_int_eq(bird_ext_community("target:4200000000:70000", b, sizeof(b)), -1);
	ck_assert_int_eq(bird_ext_community("target:192.0.2.1:70000", b, sizeof(b)), -1);
	ck_assert_int_eq(bird_ext_community("soo:1:2", b, sizeof(b)), -1);
	ck_assert_int_eq(bird_ext_community("target::1", b, sizeof(b)), -1);
	ck_assert_int_eq(bird_ext_community("target:1", b, sizeof(b)), -1);
	ck_assert_int_eq(bird_ext_community("target:1:", b, sizeof(b)), -1);
	ck_assert_int_eq(bird_ext_community("target:x:1", b, sizeof(b)), -1);
	ck_assert_int_eq(bird_ext_community("target:2001:db8::1:1", b, sizeof(b)), -1);
}
END_TEST

START_TEST(test_render_routes)
{
	struct prefix p4 = tl_prefix("192.0.2.53/32"), p4b = tl_prefix("192.0.2.0/24"),
	              p4c = tl_prefix("198.51.100.0/24"), p6 = tl_prefix("2001:db8::53/128");
	char *comm[] = {"65000:53", "no-export", NULL};
	char *large[] = {"65000:0:53", NULL};
	char *ext[] = {"target:65000:53", NULL};
	uint32_t path[] = {65010, 65011};
	struct route_attrs full = tl_plain_attrs(), bare = tl_plain_attrs(), nh = tl_plain_attrs();
	full.med = 100;
	full.local_preference = 200;
	full.communities = comm;
	full.large_communities = large;
	full.extended_communities = ext;
	full.as_path = path;
	full.nas_path = 2;
	full.path_information = "0.0.0.1"; /* ExaBGP's; never written for BIRD */
	nh.next_hop = "2001:db8::1";
	struct speaker_route r[] = {
	        {.pfx = &p4, .sent = &full},
	        {.pfx = &p4b, .sent = &bare},
	        {.pfx = &p4c, .sent = NULL}, /* withdrawn */
	        {.pfx = &p6, .sent = &nh},
	};

	char *v4 = render(BIRD_FORMAT_ROUTES, AF_INET, r, 4);
	ck_assert_str_eq(v4,
	                 "# IPv4 routes of the healthy services, inside a BIRD static protocol.\n"
	                 "# Written by healthd, which replaces this file on every change.\n"
	                 "route 192.0.2.53/32 blackhole { bgp_med = 100; bgp_local_pref = "
	                 "200; bgp_path.prepend(65011); bgp_path.prepend(65010); "
	                 "bgp_community.add((65000,53)); bgp_community.add((65535,65281)); "
	                 "bgp_large_community.add((65000,0,53)); "
	                 "bgp_ext_community.add((rt,65000,53)); };\n"
	                 "route 192.0.2.0/24 blackhole;\n");
	free(v4);
	char *v6 = render(BIRD_FORMAT_ROUTES, AF_INET6, r, 4);
	ck_assert_str_eq(v6,
	                 "# IPv6 routes of the healthy services, inside a BIRD static protocol.\n"
	                 "# Written by healthd, which replaces this file on every change.\n"
	                 "route 2001:db8::53/128 blackhole { bgp_next_hop = 2001:db8::1; };\n");
	free(v6);
}
END_TEST

START_TEST(test_render_sets)
{
	struct prefix a = tl_prefix("192.0.2.53/32"), b = tl_prefix("192.0.2.54/32"),
	              c = tl_prefix("2001:db8::/48");
	struct route_attrs at = tl_plain_attrs();
	struct speaker_route r[] = {
	        {.pfx = &a, .sent = &at},
	        {.pfx = &b, .sent = &at},
	        {.pfx = &c, .sent = NULL},
	};
	char *text = render(BIRD_FORMAT_SET, AF_INET, r, 3);
	ck_assert_str_eq(text, "# Prefixes of the healthy services, for BIRD's export filter.\n"
	                       "# Written by healthd, which replaces this file on every change.\n"
	                       "define healthd_v4 = [ 192.0.2.53/32, 192.0.2.54/32 ];\n"
	                       "define healthd_v6 = [ ];\n");
	free(text);
	/* nothing announced: both sets empty, still valid for BIRD */
	text = render(BIRD_FORMAT_SET, AF_INET, r, 0);
	ck_assert(strstr(text, "define healthd_v4 = [ ];\ndefine healthd_v6 = [ ];\n") != NULL);
	free(text);
}
END_TEST

static char *slurp(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

/* Entries of dir besides . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

START_TEST(test_replace)
{
	char dir[] = "/tmp/healthd-unit-bird.XXXXXX", path[256], tmp[300], why[512];
	struct stat st;
	mode_t old = umask(077); /* a daemon's usual umask: BIRD (another user) must still read */

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/routes.conf", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	ck_assert_int_eq(atomic_replace(path, "one\n", 4, 0644, 0, why, sizeof(why)), 0);
	ck_assert_str_eq(slurp(path), "one\n");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	ck_assert_int_eq(atomic_replace(path, "two\n", 4, 0644, ATOMIC_DURABLE, why, sizeof(why)),
	                 0);
	ck_assert_str_eq(slurp(path), "two\n");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	ck_assert_int_eq(count_entries(dir), 1); /* no temp file left behind */

	/* Another writer's temp file (or anything) by a fixed name does not get in the way. */
	ck_assert_int_eq(mkdir(tmp, 0755), 0);
	ck_assert_int_eq(atomic_replace(path, "three\n", 6, 0644, 0, why, sizeof(why)), 0);
	ck_assert_str_eq(slurp(path), "three\n");
	rmdir(tmp);

	/* The rename fails (the target became a directory): the error names the temp file,
	 * hidden (a glob in an include never reads it) and next to the target; it is
	 * removed, the target untouched. */
	char sub[280];
	snprintf(sub, sizeof(sub), "%s/sub.conf", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	snprintf(tmp, sizeof(tmp), "%s/x", sub);
	ck_assert_int_eq(mkdir(tmp, 0755), 0);
	ck_assert_int_eq(atomic_replace(sub, "four\n", 5, 0644, ATOMIC_DURABLE, why, sizeof(why)),
	                 -1);
	char prefix[320];
	snprintf(prefix, sizeof(prefix), "rename %s/.sub.conf.", dir);
	ck_assert_msg(strncmp(why, prefix, strlen(prefix)) == 0, "why: %s", why);
	ck_assert_int_eq(count_entries(dir), 2); /* routes.conf and sub.conf */
	rmdir(tmp);
	rmdir(sub);

	/* a missing directory is named in the error */
	char missing[300];
	snprintf(missing, sizeof(missing), "%s/nodir/routes.conf", dir);
	ck_assert_int_eq(atomic_replace(missing, "x", 1, 0644, 0, why, sizeof(why)), -1);
	ck_assert(strstr(why, "nodir") != NULL);
	ck_assert(strstr(why, strerror(ENOENT)) != NULL);

	unlink(path);
	rmdir(dir);
	umask(old);
}
END_TEST

/* Deadlines are on the monotonic clock: a wall-clock step (NTP, date -s) never stretches or
 * cuts short the exit drain or a reconnect's backoff. */
START_TEST(test_deadline_monotonic)
{
	struct timeval t;
	struct timespec now;

	mono_deadline(&t, 1500);
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ms = ((long long)t.tv_sec - now.tv_sec) * 1000 + t.tv_usec / 1000 -
	               now.tv_nsec / 1000000;
	ck_assert_int_ge(ms, 1000);
	ck_assert_int_le(ms, 1500);
	long left = mono_ms_left(&t);
	ck_assert_int_ge(left, 1000);
	ck_assert_int_le(left, 1500);
	t.tv_sec -= 2;
	ck_assert_int_eq(mono_ms_left(&t), 0);
}
END_TEST

static Suite *bird_file_suite(void)
{
	Suite *s = suite_create("bird_file");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_communities);
	tcase_add_test(tc, test_ext_communities);
	tcase_add_test(tc, test_render_routes);
	tcase_add_test(tc, test_render_sets);
	tcase_add_test(tc, test_replace);
	tcase_add_test(tc, test_deadline_monotonic);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(bird_file_suite)
