/* The healthcheck drop-in's dealings with the system: where logs go, the pid file,
 * dropping privileges, and which loopback addresses to add or delete (the `ip` commands
 * themselves run from run.c's loop, through child.c). */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "compat.h"
#include "../lib/log.h"

static const struct {
	const char *name;
	int facility;
} sys_facilities[] = {
        {"kern", LOG_KERN},     {"user", LOG_USER},         {"mail", LOG_MAIL},
        {"daemon", LOG_DAEMON}, {"auth", LOG_AUTH},         {"syslog", LOG_SYSLOG},
        {"lpr", LOG_LPR},       {"news", LOG_NEWS},         {"uucp", LOG_UUCP},
        {"cron", LOG_CRON},     {"authpriv", LOG_AUTHPRIV}, {"ftp", LOG_FTP},
        {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},     {"local2", LOG_LOCAL2},
        {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},     {"local5", LOG_LOCAL5},
        {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

void compat_sys_log(const struct compat_opts *o)
{
	static char ident[128]; /* log.c keeps the pointer */
	int facility = LOG_DAEMON;

	if (o->name != NULL && o->name[0] != '\0')
		snprintf(ident, sizeof(ident), "healthcheck-%s", o->name);
	else
		snprintf(ident, sizeof(ident), "healthcheck");
	for (size_t i = 0; i < sizeof(sys_facilities) / sizeof(sys_facilities[0]); i++)
		if (o->syslog_facility != NULL &&
		    strcasecmp(o->syslog_facility, sys_facilities[i].name) == 0)
			facility = sys_facilities[i].facility;
	if (o->debug)
		log_init(ident, false, facility, LOG_DEBUG);
	else if (isatty(STDERR_FILENO) && !o->silent)
		log_init(ident, false, facility, LOG_INFO);
	else if (!o->no_syslog)
		log_init(ident, true, facility, LOG_INFO);
	else
		log_init(ident, false, facility, LOG_WARNING);
}

int compat_sys_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");
	if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0) {
		log_err("cannot write the pid file %s", path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

int compat_sys_drop(const char *user, const char *group)
{
	if (group != NULL) {
		struct group *gr = getgrnam(group);
		if (gr == NULL) {
			log_err("cannot drop privileges: no group %s", group);
			return -1;
		}
		log_debug("dropping privileges to group %s/%ld", group, (long)gr->gr_gid);
		/* The original keeps root's supplementary groups; they are dropped here. */
		if (geteuid() == 0)
			(void)setgroups(1, &gr->gr_gid);
		if (setresgid(gr->gr_gid, gr->gr_gid, gr->gr_gid) != 0) {
			log_err("cannot drop privileges to group %s: %m", group);
			return -1;
		}
	}
	if (user != NULL) {
		struct passwd *pw = getpwnam(user);
		if (pw == NULL) {
			log_err("cannot drop privileges: no user %s", user);
			return -1;
		}
		log_debug("dropping privileges to user %s/%ld", user, (long)pw->pw_uid);
		if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
			log_err("cannot drop privileges to user %s: %m", user);
			return -1;
		}
	}
	return 0;
}

int compat_sys_discover(struct compat_opts *o)
{
	if (o->nips > 0)
		return 0;
	if (compat_lo_addrs(o->label, false, &o->ips, &o->nips) != 0 || o->nips == 0) {
		log_err("No IP found");
		return -1;
	}
	return 0;
}

int compat_sys_arrange(struct compat_opts *o)
{
	if (o->deaggregate) {
		size_t total = 0, k = 0;
		for (size_t i = 0; i < o->nips; i++)
			total += (size_t)compat_net_size(&o->ips[i]); /* bounded by validation */
		struct compat_net *v = calloc(total ? total : 1, sizeof(*v));
		if (v == NULL)
			return -1;
		for (size_t i = 0; i < o->nips; i++)
			for (uint64_t j = 0; j < compat_net_size(&o->ips[i]); j++)
				compat_net_host(&o->ips[i], j, &v[k++]);
		free(o->ips);
		o->ips = v;
		o->nips = k;
	}
	if (o->nips == 0)
		return 0;
	/* deque.rotate(-start_ip): the list starts at start_ip, modulo its length */
	long long n = (long long)o->nips, s = ((o->start_ip % n) + n) % n;
	struct compat_net *v = malloc(o->nips * sizeof(*v));
	if (v == NULL)
		return -1;
	for (long long i = 0; i < n; i++)
		v[i] = o->ips[(i + s) % n];
	free(o->ips);
	o->ips = v;
	return 0;
}

static int sys_net_cmp(const void *a, const void *b)
{
	const struct compat_net *x = a, *y = b;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

int compat_sys_ip_todo(const struct compat_opts *o, bool add, struct compat_net **out, size_t *n)
{
	struct compat_net *lo = NULL, *v = NULL;
	size_t nlo = 0, total = 0, k = 0;

	*out = NULL;
	*n = 0;
	/* Deleting looks only at labelled addresses, adding at all of lo's (as labelled). */
	if (compat_lo_addrs(o->label, !add, &lo, &nlo) != 0)
		return -1;
	for (size_t i = 0; i < o->nips; i++)
		total += (size_t)compat_net_size(&o->ips[i]); /* bounded by validation */
	if ((v = calloc(total ? total : 1, sizeof(*v))) == NULL) {
		free(lo);
		return -1;
	}
	for (size_t i = 0; i < o->nips; i++)
		for (uint64_t j = 0; j < compat_net_size(&o->ips[i]); j++)
			compat_net_host(&o->ips[i], j, &v[k++]);
	qsort(v, k, sizeof(*v), sys_net_cmp);
	size_t m = 0;
	for (size_t i = 0; i < k; i++) {
		if (m > 0 && sys_net_cmp(&v[m - 1], &v[i]) == 0)
			continue;
		bool there = false;
		for (size_t j = 0; j < nlo && !there; j++)
			there = compat_net_equal(&lo[j], &v[i]);
		if (there != add) /* add: missing ones; delete: present ones */
			v[m++] = v[i];
	}
	free(lo);
	*out = v;
	*n = m;
	return 0;
}

void compat_sys_ipcmd(const struct compat_opts *o, bool add, const struct compat_net *n,
                      struct compat_ipcmd *c)
{
	int k = 0;

	compat_net_format(n, c->addr, sizeof(c->addr));
	if (o->sudo)
		c->argv[k++] = "sudo";
	c->argv[k++] = "ip";
	c->argv[k++] = "address";
	c->argv[k++] = add ? "add" : "delete";
	c->argv[k++] = c->addr;
	c->argv[k++] = "dev";
	c->argv[k++] = "lo";
	if (o->label != NULL && o->label[0] != '\0') {
		snprintf(c->label, sizeof(c->label), "lo:%s", o->label);
		c->argv[k++] = "label";
		c->argv[k++] = c->label;
	}
	c->argv[k] = NULL;
}
