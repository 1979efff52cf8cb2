/* What a SIGHUP's re-read options change, kept apart from the loop so that tests can
 * compare any two sets of options: which changed options cannot be applied while
 * running (they are refused as a whole), which ones are applied, whether the check
 * must be rebuilt, and the lines that bring ExaBGP from what the running options last
 * announced to what the new ones announce (withdrawals of the routes that went away,
 * then only the lines that differ). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

enum reload_type { RT_BOOL, RT_STR, RT_LLONG, RT_DOUBLE, RT_STRV, RT_FORM };

/* Why an option cannot change live. */
enum reload_why {
	RW_LIVE,     /* applied */
	RW_PROCESS,  /* set up once at start: privileges, pid file, logging */
	RW_LOOPBACK, /* the addresses on lo and how they are set up */
	RW_ROUTES,   /* the old routes would stay behind at the old neighbors or paths */
};

static const struct {
	const char *name;
	enum reload_type type;
	size_t off;
	enum reload_why why;
} reload_fields[] = {
#define F(name, type, field, why)                                                                  \
	{                                                                                          \
		name, type, offsetof(struct compat_opts, field), why                               \
	}
        F("--silent", RT_BOOL, silent, RW_PROCESS),
        F("--no-syslog", RT_BOOL, no_syslog, RW_PROCESS),
        F("--debug", RT_BOOL, debug, RW_PROCESS),
        F("--syslog-facility", RT_STR, syslog_facility, RW_PROCESS),
        F("--name", RT_STR, name, RW_PROCESS),
        F("--pid", RT_STR, pid, RW_PROCESS),
        F("--user", RT_STR, user, RW_PROCESS),
        F("--group", RT_STR, group, RW_PROCESS),
        F("--no-ack", RT_BOOL, no_ack, RW_LIVE),
        F("--ack-timeout", RT_DOUBLE, ack_timeout, RW_LIVE),
        F("--interval", RT_DOUBLE, interval, RW_LIVE),
        F("--fast-interval", RT_DOUBLE, fast, RW_LIVE),
        F("--timeout", RT_LLONG, timeout, RW_LIVE),
        F("--rise", RT_LLONG, rise, RW_LIVE),
        F("--fall", RT_LLONG, fall, RW_LIVE),
        F("--disable", RT_STR, disable, RW_LIVE),
        F("--command", RT_STR, command, RW_LIVE),
        F("--next-hop", RT_STR, next_hop, RW_LIVE),
        F("--local-preference", RT_LLONG, local_preference, RW_LIVE),
        F("--deaggregate-networks", RT_BOOL, deaggregate, RW_LIVE),
        F("--no-ip-setup", RT_BOOL, ip_setup, RW_LOOPBACK),
        F("--dynamic-ip-setup", RT_BOOL, ip_dynamic, RW_LOOPBACK),
        F("--label", RT_STR, label, RW_LOOPBACK),
        F("--sudo", RT_BOOL, sudo, RW_LOOPBACK),
        F("--start-ip", RT_LLONG, start_ip, RW_LIVE),
        F("--up-metric", RT_LLONG, up_metric, RW_LIVE),
        F("--down-metric", RT_LLONG, down_metric, RW_LIVE),
        F("--disabled-metric", RT_LLONG, disabled_metric, RW_LIVE),
        F("--increase", RT_LLONG, increase, RW_LIVE),
        F("--community", RT_STR, community, RW_LIVE),
        F("--extended-community", RT_STR, extended_community, RW_LIVE),
        F("--large-community", RT_STR, large_community, RW_LIVE),
        F("--disabled-community", RT_STR, disabled_community, RW_LIVE),
        F("--as-path", RT_STR, as_path, RW_LIVE),
        F("--up-as-path", RT_STR, up_as_path, RW_LIVE),
        F("--down-as-path", RT_STR, down_as_path, RW_LIVE),
        F("--disabled-as-path", RT_STR, disabled_as_path, RW_LIVE),
        F("--withdraw-on-down", RT_BOOL, withdraw_on_down, RW_LIVE),
        F("--path-id", RT_BOOL, has_path_id, RW_ROUTES),
        F("--path-id", RT_LLONG, path_id, RW_ROUTES),
        F("--neighbor", RT_STRV, neighbors, RW_ROUTES),
        F("--exabgp-version", RT_FORM, form, RW_ROUTES),
        F("--execute", RT_STRV, execute, RW_LIVE),
        F("--up-execute", RT_STRV, up_execute, RW_LIVE),
        F("--down-execute", RT_STRV, down_execute, RW_LIVE),
        F("--disabled-execute", RT_STRV, disabled_execute, RW_LIVE),
        F("--debounce", RT_BOOL, debounce, RW_LIVE),
#undef F
};

static bool reload_str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool reload_field_eq(size_t i, const struct compat_opts *a, const struct compat_opts *b)
{
	const char *pa = (const char *)a + reload_fields[i].off;
	const char *pb = (const char *)b + reload_fields[i].off;

	switch (reload_fields[i].type) {
	case RT_BOOL:
		return *(const bool *)pa == *(const bool *)pb;
	case RT_STR:
		return reload_str_eq(*(char *const *)pa, *(char *const *)pb);
	case RT_LLONG:
		return *(const long long *)pa == *(const long long *)pb;
	case RT_DOUBLE:
		return *(const double *)pa == *(const double *)pb;
	case RT_FORM:
		return *(const enum compat_form *)pa == *(const enum compat_form *)pb;
	case RT_STRV: {
		const struct compat_strv *x = (const void *)pa, *y = (const void *)pb;
		if (x->n != y->n)
			return false;
		for (size_t k = 0; k < x->n; k++)
			if (strcmp(x->v[k], y->v[k]) != 0)
				return false;
		return true;
	}
	}
	return false;
}

/* Appends ", name" to buf unless it is there already (--path-id has two fields). */
static void reload_name_add(char *buf, size_t len, const char *name)
{
	size_t l = strlen(buf), nl = strlen(name);
	for (const char *p = buf; (p = strstr(p, name)) != NULL; p += nl)
		if ((p == buf || p[-1] == ' ') && (p[nl] == ',' || p[nl] == '\0'))
			return;
	if (l + nl + 3 < len) {
		if (l > 0) {
			memcpy(buf + l, ", ", 2);
			l += 2;
		}
		memcpy(buf + l, name, nl + 1);
	}
}

static int reload_net_cmp(const void *a, const void *b)
{
	const struct compat_net *x = a, *y = b;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	int c = memcmp(x->addr, y->addr, sizeof(x->addr));
	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* The sorted, distinct routes (hosts: every address of every network) of o. */
static struct compat_net *reload_nets(const struct compat_opts *o, bool hosts, size_t *n)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < o->nips; i++)
		total +=
		        hosts ? (size_t)compat_net_size(&o->ips[i]) : 1; /* bounded by validation */
	struct compat_net *v = calloc(total ? total : 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < o->nips; i++) {
		if (!hosts)
			v[k++] = o->ips[i];
		else
			for (uint64_t j = 0; j < compat_net_size(&o->ips[i]); j++)
				compat_net_host(&o->ips[i], j, &v[k++]);
	}
	qsort(v, k, sizeof(*v), reload_net_cmp);
	size_t m = 0;
	for (size_t i = 0; i < k; i++)
		if (m == 0 || reload_net_cmp(&v[m - 1], &v[i]) != 0)
			v[m++] = v[i];
	*n = m;
	return v;
}

/* The entries of a (sorted, distinct) that b does not have; -1 out of memory. */
static int reload_nets_minus(const struct compat_net *a, size_t na, const struct compat_net *b,
                             size_t nb, struct compat_net **out, size_t *nout)
{
	*out = calloc(na ? na : 1, sizeof(**out));
	*nout = 0;
	if (*out == NULL)
		return -1;
	for (size_t i = 0, j = 0; i < na; i++) {
		while (j < nb && reload_net_cmp(&b[j], &a[i]) < 0)
			j++;
		if (j == nb || reload_net_cmp(&b[j], &a[i]) != 0)
			(*out)[(*nout)++] = a[i];
	}
	return 0;
}

int compat_reload_refused(const struct compat_opts *cur, const struct compat_opts *next, char *why,
                          size_t len)
{
	why[0] = '\0';
	for (size_t i = 0; i < sizeof(reload_fields) / sizeof(reload_fields[0]); i++)
		if (reload_fields[i].why != RW_LIVE && !reload_field_eq(i, cur, next))
			reload_name_add(why, len, reload_fields[i].name);
	/* Addresses set up on lo cannot follow: they were added as root, before --user. */
	if (cur->ip_setup || cur->ip_dynamic) {
		size_t na = 0, nb = 0;
		struct compat_net *a = reload_nets(cur, true, &na),
		                  *b = reload_nets(next, true, &nb);
		if (a == NULL || b == NULL)
			reload_name_add(why, len, "--ip (out of memory comparing them)");
		else if (na != nb || memcmp(a, b, na * sizeof(*a)) != 0)
			reload_name_add(why, len, "--ip (with the addresses set up on lo)");
		free(a);
		free(b);
	}
	/* --interval 0 exits after the announcement: a reload is no way to stop. */
	if (next->interval == 0 && cur->interval != 0)
		reload_name_add(why, len, "--interval to 0");
	return why[0] != '\0' ? -1 : 0;
}

size_t compat_reload_changed(const struct compat_opts *cur, const struct compat_opts *next,
                             char *names, size_t len)
{
	size_t n = 0;

	names[0] = '\0';
	for (size_t i = 0; i < sizeof(reload_fields) / sizeof(reload_fields[0]); i++) {
		if (reload_field_eq(i, cur, next))
			continue;
		n++;
		reload_name_add(names, len, reload_fields[i].name);
	}
	bool same_ips = cur->nips == next->nips;
	for (size_t i = 0; same_ips && i < cur->nips; i++)
		same_ips = compat_net_equal(&cur->ips[i], &next->ips[i]);
	if (!same_ips) {
		n++;
		reload_name_add(names, len, "--ip");
	}
	return n;
}

bool compat_reload_check_changed(const struct compat_opts *cur, const struct compat_opts *next)
{
	return cur->timeout != next->timeout || !reload_str_eq(cur->command, next->command);
}

static int reload_str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int compat_reload_lines(const struct compat_opts *cur, const struct compat_opts *next,
                        enum compat_state announced, char ***lines, size_t *n, size_t *nwithdrawn)
{
	size_t na = 0, nb = 0, ngone = 0, nw = 0, nold = 0, nnew = 0, k = 0;
	struct compat_net *a = NULL, *b = NULL, *gone = NULL;
	char **withdraw = NULL, **old = NULL, **new = NULL, **sorted = NULL, **out = NULL;
	int rc = -1;

	*lines = NULL;
	*n = 0;
	*nwithdrawn = 0;
	if (announced != CS_UP && announced != CS_DOWN && announced != CS_DISABLED)
		return 0; /* nothing announced yet: the next announcement uses the new options */
	a = reload_nets(cur, false, &na);
	b = reload_nets(next, false, &nb);
	if (a == NULL || b == NULL || reload_nets_minus(a, na, b, nb, &gone, &ngone) != 0)
		goto done;
	/* The routes that went away, withdrawn as the running options announced them. */
	struct compat_opts tmp = *cur;
	tmp.ips = gone;
	tmp.nips = ngone;
	if (ngone > 0 && (withdraw = compat_lines(&tmp, CS_EXIT, &nw)) == NULL)
		goto done;
	if ((cur->nips > 0 && (old = compat_lines(cur, announced, &nold)) == NULL) ||
	    (next->nips > 0 && (new = compat_lines(next, announced, &nnew)) == NULL) ||
	    (sorted = calloc(nold ? nold : 1, sizeof(*sorted))) == NULL ||
	    (out = calloc(nw + nnew + 1, sizeof(*out))) == NULL)
		goto done;
	for (size_t i = 0; i < nw; i++) {
		out[k++] = withdraw[i]; /* moved */
		withdraw[i] = NULL;
	}
	memcpy(sorted, old, nold * sizeof(*sorted));
	qsort(sorted, nold, sizeof(*sorted), reload_str_cmp);
	/* Only the lines the running options did not write already. */
	for (size_t i = 0; i < nnew; i++) {
		if (bsearch(&new[i], sorted, nold, sizeof(*sorted), reload_str_cmp) != NULL)
			continue;
		out[k++] = new[i];
		new[i] = NULL;
	}
	*nwithdrawn = nw;
	*n = k;
	if (k > 0) {
		*lines = out; /* NULL-terminated: calloc'd one longer */
		out = NULL;
	}
	rc = 0;
done:
	for (size_t i = 0; withdraw != NULL && i < nw; i++)
		free(withdraw[i]);
	free(withdraw);
	for (size_t i = 0; new != NULL &&i < nnew; i++)
		free(new[i]);
	free(new);
	compat_lines_free(old);
	free(sorted);
	free(out);
	free(a);
	free(b);
	free(gone);
	return rc;
}
