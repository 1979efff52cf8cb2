/* The options of ExaBGP 4.2.21's healthcheck, in its order, with its defaults and its
 * value types (Python's int(), float(), ipaddress), plus three of healthd's own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compat.h"

enum {
	D_HELP,
	D_SILENT,
	D_FACILITY,
	D_NO_SYSLOG,
	D_NO_ACK,
	D_SUDO,
	D_DEBUG,
	D_NAME,
	D_CONFIG,
	D_PID,
	D_USER,
	D_GROUP,
	D_INTERVAL,
	D_FAST,
	D_TIMEOUT,
	D_RISE,
	D_FALL,
	D_DISABLE,
	D_COMMAND,
	D_NEXT_HOP,
	D_IP,
	D_LOCAL_PREF,
	D_DEAGGREGATE,
	D_NO_IP_SETUP,
	D_DYNAMIC,
	D_LABEL,
	D_START_IP,
	D_UP_METRIC,
	D_DOWN_METRIC,
	D_DISABLED_METRIC,
	D_INCREASE,
	D_COMMUNITY,
	D_EXT_COMMUNITY,
	D_LARGE_COMMUNITY,
	D_DISABLED_COMMUNITY,
	D_AS_PATH,
	D_UP_AS_PATH,
	D_DOWN_AS_PATH,
	D_DISABLED_AS_PATH,
	D_WITHDRAW_ON_DOWN,
	D_PATH_ID,
	D_NEIGHBOR,
	D_EXECUTE,
	D_UP_EXECUTE,
	D_DOWN_EXECUTE,
	D_DISABLED_EXECUTE,
	D_DEBOUNCE,
	D_EXABGP_VERSION,
	D_ACK_TIMEOUT,
};

const struct compat_optdef compat_optdefs[] = {
        {{"-h", "--help"}, CK_HELP, D_HELP, 0, false},
        {{"--silent", "-s"}, CK_TRUE, D_SILENT, 1, false},
        {{"--syslog-facility", "-sF"}, CK_OPTIONAL, D_FACILITY, 1, false},
        {{"--no-syslog"}, CK_TRUE, D_NO_SYSLOG, 1, false},
        {{"--no-ack", "-a"}, CK_TRUE, D_NO_ACK, 0, false},
        {{"--sudo"}, CK_TRUE, D_SUDO, 0, false},
        {{"--debug", "-d"}, CK_TRUE, D_DEBUG, 0, false},
        {{"--name", "-n"}, CK_STORE, D_NAME, 0, false},
        {{"--config", "-F"}, CK_STORE, D_CONFIG, 0, false},
        {{"--pid", "-p"}, CK_STORE, D_PID, 0, false},
        {{"--user"}, CK_STORE, D_USER, 0, false},
        {{"--group"}, CK_STORE, D_GROUP, 0, false},
        {{"--interval", "-i"}, CK_STORE, D_INTERVAL, 0, false},
        {{"--fast-interval", "-f"}, CK_STORE, D_FAST, 0, false},
        {{"--timeout", "-t"}, CK_STORE, D_TIMEOUT, 0, false},
        {{"--rise"}, CK_STORE, D_RISE, 0, false},
        {{"--fall"}, CK_STORE, D_FALL, 0, false},
        {{"--disable"}, CK_STORE, D_DISABLE, 0, false},
        {{"--command", "--cmd", "-c"}, CK_STORE, D_COMMAND, 0, false},
        {{"--next-hop", "-N"}, CK_STORE, D_NEXT_HOP, 0, false},
        {{"--ip"}, CK_APPEND, D_IP, 0, false},
        {{"--local-preference"}, CK_STORE, D_LOCAL_PREF, 0, false},
        {{"--deaggregate-networks"}, CK_TRUE, D_DEAGGREGATE, 0, false},
        {{"--no-ip-setup"}, CK_FALSE, D_NO_IP_SETUP, 0, false},
        {{"--dynamic-ip-setup"}, CK_TRUE, D_DYNAMIC, 0, false},
        {{"--label"}, CK_STORE, D_LABEL, 0, false},
        {{"--start-ip"}, CK_STORE, D_START_IP, 0, false},
        {{"--up-metric"}, CK_STORE, D_UP_METRIC, 0, false},
        {{"--down-metric"}, CK_STORE, D_DOWN_METRIC, 0, false},
        {{"--disabled-metric"}, CK_STORE, D_DISABLED_METRIC, 0, false},
        {{"--increase"}, CK_STORE, D_INCREASE, 0, false},
        {{"--community"}, CK_STORE, D_COMMUNITY, 0, false},
        {{"--extended-community"}, CK_STORE, D_EXT_COMMUNITY, 0, false},
        {{"--large-community"}, CK_STORE, D_LARGE_COMMUNITY, 0, false},
        {{"--disabled-community"}, CK_STORE, D_DISABLED_COMMUNITY, 0, false},
        {{"--as-path"}, CK_STORE, D_AS_PATH, 0, false},
        {{"--up-as-path"}, CK_STORE, D_UP_AS_PATH, 0, false},
        {{"--down-as-path"}, CK_STORE, D_DOWN_AS_PATH, 0, false},
        {{"--disabled-as-path"}, CK_STORE, D_DISABLED_AS_PATH, 0, false},
        {{"--withdraw-on-down"}, CK_TRUE, D_WITHDRAW_ON_DOWN, 0, false},
        {{"--path-id"}, CK_STORE, D_PATH_ID, 0, false},
        {{"--neighbor"}, CK_APPEND, D_NEIGHBOR, 0, false},
        {{"--execute"}, CK_APPEND, D_EXECUTE, 0, false},
        {{"--up-execute"}, CK_APPEND, D_UP_EXECUTE, 0, false},
        {{"--down-execute"}, CK_APPEND, D_DOWN_EXECUTE, 0, false},
        {{"--disabled-execute"}, CK_APPEND, D_DISABLED_EXECUTE, 0, false},
        /* newer ExaBGP's and healthd's own */
        {{"--debounce"}, CK_TRUE, D_DEBOUNCE, 0, true},
        {{"--exabgp-version"}, CK_STORE, D_EXABGP_VERSION, 0, true},
        {{"--ack-timeout"}, CK_STORE, D_ACK_TIMEOUT, 0, true},
};
const size_t compat_noptdefs = sizeof(compat_optdefs) / sizeof(compat_optdefs[0]);

void compat_opt_name(const struct compat_optdef *d, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (int i = 0; i < 4 && d->names[i] != NULL && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "/" : "", d->names[i]);
}

void compat_opts_init(struct compat_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->interval = 5;
	o->fast = 1;
	o->timeout = 5;
	o->rise = 3;
	o->fall = 3;
	o->local_preference = -1;
	o->ip_setup = true;
	o->up_metric = 100;
	o->down_metric = 1000;
	o->disabled_metric = 500;
	o->increase = 1;
	o->form = CF_LEGACY;
	o->ack_timeout = 5;
}

static void opts_strv_free(struct compat_strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void compat_opts_free(struct compat_opts *o)
{
	char **strs[] = {&o->syslog_facility,
	                 &o->name,
	                 &o->config,
	                 &o->pid,
	                 &o->user,
	                 &o->group,
	                 &o->disable,
	                 &o->command,
	                 &o->next_hop,
	                 &o->label,
	                 &o->community,
	                 &o->extended_community,
	                 &o->large_community,
	                 &o->disabled_community,
	                 &o->as_path,
	                 &o->up_as_path,
	                 &o->down_as_path,
	                 &o->disabled_as_path};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	free(o->ips);
	o->ips = NULL;
	o->nips = 0;
	opts_strv_free(&o->neighbors);
	opts_strv_free(&o->execute);
	opts_strv_free(&o->up_execute);
	opts_strv_free(&o->down_execute);
	opts_strv_free(&o->disabled_execute);
}

static int opts_strv_add(struct compat_strv *s, const char *v)
{
	char **nv = realloc(s->v, (s->n + 2) * sizeof(*nv));
	if (nv == NULL)
		return -1;
	s->v = nv;
	if ((s->v[s->n] = strdup(v)) == NULL)
		return -1;
	s->v[++s->n] = NULL;
	return 0;
}

static int opts_set_str(char **field, const char *v)
{
	char *copy = strdup(v);
	if (copy == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

static int opts_add_ip(struct compat_opts *o, const struct compat_net *n)
{
	struct compat_net *v = realloc(o->ips, (o->nips + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	o->ips = v;
	o->ips[o->nips++] = *n;
	return 0;
}

static int opts_store_int(const char *value, long long *field, char *err, size_t errlen)
{
	if (compat_int_parse(value, field) == 0)
		return 0;
	snprintf(err, errlen, "invalid int value: '%s'", value);
	return -1;
}

static int opts_store_float(const char *value, double *field, char *err, size_t errlen)
{
	if (compat_float_parse(value, field) == 0)
		return 0;
	snprintf(err, errlen, "invalid float value: '%s'", value);
	return -1;
}

/* File arguments are opened as argparse opens them, so a bad path is a usage error. */
static int opts_store_file(const char *value, const char *mode, char **field, char *err,
                           size_t errlen)
{
	FILE *f = fopen(value, mode);
	if (f == NULL) {
		snprintf(err, errlen, "can't open '%s': %s", value, strerror(errno));
		return -1;
	}
	fclose(f);
	return opts_set_str(field, value);
}

static char **opts_str_field(struct compat_opts *o, int dest)
{
	switch (dest) {
	case D_NAME:
		return &o->name;
	case D_USER:
		return &o->user;
	case D_GROUP:
		return &o->group;
	case D_DISABLE:
		return &o->disable;
	case D_COMMAND:
		return &o->command;
	case D_LABEL:
		return &o->label;
	case D_COMMUNITY:
		return &o->community;
	case D_EXT_COMMUNITY:
		return &o->extended_community;
	case D_LARGE_COMMUNITY:
		return &o->large_community;
	case D_DISABLED_COMMUNITY:
		return &o->disabled_community;
	case D_AS_PATH:
		return &o->as_path;
	case D_UP_AS_PATH:
		return &o->up_as_path;
	case D_DOWN_AS_PATH:
		return &o->down_as_path;
	case D_DISABLED_AS_PATH:
		return &o->disabled_as_path;
	}
	return NULL;
}

static long long *opts_int_field(struct compat_opts *o, int dest)
{
	switch (dest) {
	case D_TIMEOUT:
		return &o->timeout;
	case D_RISE:
		return &o->rise;
	case D_FALL:
		return &o->fall;
	case D_LOCAL_PREF:
		return &o->local_preference;
	case D_START_IP:
		return &o->start_ip;
	case D_UP_METRIC:
		return &o->up_metric;
	case D_DOWN_METRIC:
		return &o->down_metric;
	case D_DISABLED_METRIC:
		return &o->disabled_metric;
	case D_INCREASE:
		return &o->increase;
	case D_PATH_ID:
		return &o->path_id;
	}
	return NULL;
}

static struct compat_strv *opts_strv_field(struct compat_opts *o, int dest)
{
	switch (dest) {
	case D_EXECUTE:
		return &o->execute;
	case D_UP_EXECUTE:
		return &o->up_execute;
	case D_DOWN_EXECUTE:
		return &o->down_execute;
	case D_DISABLED_EXECUTE:
		return &o->disabled_execute;
	}
	return NULL;
}

int compat_opt_store(struct compat_opts *o, const struct compat_optdef *d, const char *value,
                     unsigned flags, char *err, size_t errlen)
{
	struct compat_net net;
	char text[64];
	char **s;
	long long *i;
	struct compat_strv *sv;

	snprintf(err, errlen, "out of memory");
	switch (d->dest) {
	case D_SILENT:
		o->silent = true;
		return 0;
	case D_NO_SYSLOG:
		o->no_syslog = true;
		return 0;
	case D_NO_ACK:
		o->no_ack = true;
		return 0;
	case D_SUDO:
		o->sudo = true;
		return 0;
	case D_DEBUG:
		o->debug = true;
		return 0;
	case D_DEAGGREGATE:
		o->deaggregate = true;
		return 0;
	case D_NO_IP_SETUP:
		o->ip_setup = false;
		return 0;
	case D_DYNAMIC:
		o->ip_dynamic = true;
		return 0;
	case D_WITHDRAW_ON_DOWN:
		o->withdraw_on_down = true;
		return 0;
	case D_DEBOUNCE:
		o->debounce = true;
		return 0;
	case D_FACILITY:
		o->syslog_facility_given = value != NULL;
		return opts_set_str(&o->syslog_facility, value != NULL ? value : "daemon");
	case D_CONFIG:
		return opts_store_file(value, "r", &o->config, err, errlen);
	case D_PID:
		/* Opened for writing it would be truncated: written at start, it stays. */
		if (flags & COMPAT_STORE_REREAD)
			return opts_set_str(&o->pid, value);
		return opts_store_file(value, "w", &o->pid, err, errlen);
	case D_INTERVAL:
		return opts_store_float(value, &o->interval, err, errlen);
	case D_FAST:
		return opts_store_float(value, &o->fast, err, errlen);
	case D_ACK_TIMEOUT:
		return opts_store_float(value, &o->ack_timeout, err, errlen);
	case D_PATH_ID:
		o->has_path_id = true;
		return opts_store_int(value, &o->path_id, err, errlen);
	case D_EXABGP_VERSION:
		if (compat_version_parse(value, &o->form) == 0)
			return 0;
		snprintf(err, errlen,
		         "invalid version value: '%s' (expected such as 4.2.21, 5.0, 6)", value);
		return -1;
	case D_NEXT_HOP:
	case D_NEIGHBOR:
		if (d->dest == D_NEIGHBOR && strcmp(value, "*") == 0)
			return opts_strv_add(&o->neighbors, "*");
		if (compat_addr_parse(value, &net) != 0) {
			snprintf(err, errlen, "invalid fixed value: '%s'", value);
			return -1;
		}
		compat_addr_format(&net, text, sizeof(text));
		if (d->dest == D_NEIGHBOR)
			return opts_strv_add(&o->neighbors, text);
		return opts_set_str(&o->next_hop, text);
	case D_IP:
		if (compat_net_parse(value, &net) != 0) {
			snprintf(err, errlen, "invalid fixed value: '%s'", value);
			return -1;
		}
		return opts_add_ip(o, &net);
	}
	if ((s = opts_str_field(o, d->dest)) != NULL)
		return opts_set_str(s, value);
	if ((i = opts_int_field(o, d->dest)) != NULL)
		return opts_store_int(value, i, err, errlen);
	if ((sv = opts_strv_field(o, d->dest)) != NULL)
		return opts_strv_add(sv, value);
	snprintf(err, errlen, "internal error: option without a destination");
	return -1;
}
