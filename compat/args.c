/* The command line of ExaBGP's healthcheck, read the way Python's argparse reads it:
 * long options abbreviated to any unique prefix, "--opt=value", short options with
 * attached values and chained flags ("-ad", "-i5"), negative numbers as values, one
 * mutually exclusive group, unknown arguments reported together at the end. Then the
 * --config file, whose lines become options in front of the command line. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compat.h"

#define ARGS_MAX_CONFIG_LINES 4096

/* What one argument is: a value ('A'), an option, or the "--" that ends options. */
struct arg_class {
	char kind;                       /* 'A', 'O', '-' */
	const struct compat_optdef *def; /* 'O': NULL when no option matches */
	const char *name;                /* the option string it matched */
	const char *explicit_arg;        /* after '=' or after a short option's letter */
	char *owned;                     /* storage for explicit_arg */
};

struct args_state {
	struct compat_opts *o;
	char *err;
	size_t errlen;
	bool seen[64];  /* group members seen with a non-default value, by table index */
	unsigned flags; /* COMPAT_STORE_REREAD: at SIGHUP */
};

static const struct compat_optdef *args_exact(const char *s, const char **name)
{
	for (size_t i = 0; i < compat_noptdefs; i++)
		for (int k = 0; k < 4 && compat_optdefs[i].names[k] != NULL; k++)
			if (strcmp(compat_optdefs[i].names[k], s) == 0) {
				*name = compat_optdefs[i].names[k];
				return &compat_optdefs[i];
			}
	return NULL;
}

static bool args_negative_number(const char *s)
{
	/* argparse's '^-\d+$|^-\d*\.\d+$' */
	if (s[0] != '-' || s[1] == '\0')
		return false;
	const char *p = s + 1;
	size_t d1 = strspn(p, "0123456789");
	if (p[d1] == '\0')
		return d1 > 0;
	if (p[d1] != '.')
		return false;
	size_t d2 = strspn(p + d1 + 1, "0123456789");
	return d2 > 0 && p[d1 + 1 + d2] == '\0';
}

/* argparse's _parse_optional and _get_option_tuples. Options that ExaBGP does not have
 * are matched by prefix only when none of its own matches, so that an abbreviation that
 * works with the original means the same here. 0, or -1 on an ambiguous prefix. */
static int args_classify(struct args_state *st, const char *s, struct arg_class *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = 'A';
	if (s[0] != '-')
		return 0;
	if ((c->def = args_exact(s, &c->name)) != NULL) {
		c->kind = 'O';
		return 0;
	}
	if (s[1] == '\0')
		return 0;
	const char *eq = strchr(s, '=');
	char prefix[256];
	size_t plen = eq != NULL ? (size_t)(eq - s) : strlen(s);
	if (plen >= sizeof(prefix))
		plen = sizeof(prefix) - 1;
	memcpy(prefix, s, plen);
	prefix[plen] = '\0';
	if (eq != NULL && (c->def = args_exact(prefix, &c->name)) != NULL) {
		c->kind = 'O';
		c->explicit_arg = eq + 1;
		return 0;
	}

	bool dbl = s[1] == '-';
	char matches[1024] = "";
	int n = 0;
	for (int pass = 0; pass < 2 && n == 0; pass++) {
		for (size_t i = 0; i < compat_noptdefs; i++) {
			const struct compat_optdef *d = &compat_optdefs[i];
			if (d->ours != (pass == 1))
				continue;
			for (int k = 0; k < 4 && d->names[k] != NULL; k++) {
				const char *os = d->names[k], *ex;
				if (dbl && strncmp(os, prefix, plen) == 0)
					ex = eq != NULL ? eq + 1 : NULL;
				else if (!dbl && strlen(os) == 2 && strncmp(os, s, 2) == 0)
					ex = s + 2; /* "-i5": a short option and its value */
				else if (!dbl && strncmp(os, s, strlen(s)) == 0)
					ex = NULL;
				else
					continue;
				size_t ml = strlen(matches);
				snprintf(matches + ml, sizeof(matches) - ml, "%s%s", n ? ", " : "",
				         os);
				n++;
				c->def = d;
				c->name = os;
				c->explicit_arg = ex;
			}
		}
	}
	if (n > 1) {
		snprintf(st->err, st->errlen, "ambiguous option: %s could match %s", s, matches);
		return -1;
	}
	if (n == 1) {
		c->kind = 'O';
		return 0;
	}
	if (args_negative_number(s) || strchr(s, ' ') != NULL)
		return 0;
	c->kind = 'O'; /* an option nobody knows: reported with the other extras */
	c->def = NULL;
	c->name = s;
	return 0;
}

static int args_fail(struct args_state *st, const struct compat_optdef *d, const char *msg)
{
	char name[128];
	compat_opt_name(d, name, sizeof(name));
	snprintf(st->err, st->errlen, "argument %s: %s", name, msg);
	return -1;
}

/* argparse's take_action: store, then refuse a conflict within the group. */
static int args_take(struct args_state *st, const struct compat_optdef *d, const char *value)
{
	char why[512];

	if (d->kind == CK_HELP && (st->flags & COMPAT_STORE_REREAD))
		return args_fail(st, d, "not while running (stdout is ExaBGP's)");
	if (d->kind == CK_HELP) {
		fputs(compat_usage, stdout);
		return 1;
	}
	if (compat_opt_store(st->o, d, value, st->flags, why, sizeof(why)) != 0)
		return args_fail(st, d, why);
	/* A --syslog-facility without a value is its default and conflicts with nothing. */
	if (d->group == 0 || (d->kind == CK_OPTIONAL && value == NULL))
		return 0;
	size_t idx = (size_t)(d - compat_optdefs);
	if (idx >= sizeof(st->seen))
		return 0;
	for (size_t i = 0; i < compat_noptdefs; i++) {
		if (i == idx || i >= sizeof(st->seen) || !st->seen[i] ||
		    compat_optdefs[i].group != d->group)
			continue;
		char other[128];
		compat_opt_name(&compat_optdefs[i], other, sizeof(other));
		snprintf(why, sizeof(why), "not allowed with argument %s", other);
		return args_fail(st, d, why);
	}
	st->seen[idx] = true;
	return 0;
}

static int args_nargs(const struct compat_optdef *d)
{
	return d->kind == CK_STORE || d->kind == CK_APPEND ? 1 : d->kind == CK_OPTIONAL ? 2 : 0;
}

/* argparse's consume_optional; returns the index after what it used, or -1 / -2 (help). */
static int args_consume(struct args_state *st, struct arg_class *cls, char **args, int n, int i)
{
	const struct compat_optdef *d = cls[i].def;
	const char *name = cls[i].name, *ex = cls[i].explicit_arg;
	char flag[3], why[300];
	int rc;

	for (;;) {
		int nargs = args_nargs(d);
		if (ex == NULL)
			break;
		if (nargs != 0) {
			rc = args_take(st, d, ex);
			return rc == 0 ? i + 1 : -1 - (rc > 0);
		}
		if (name[1] == '-' || ex[0] == '\0') {
			snprintf(why, sizeof(why), "ignored explicit argument '%s'", ex);
			return args_fail(st, d, why);
		}
		/* "-ad": a flag, then the rest of the string is more short options */
		if ((rc = args_take(st, d, NULL)) != 0)
			return -1 - (rc > 0);
		snprintf(flag, sizeof(flag), "-%c", ex[0]);
		const struct compat_optdef *next = args_exact(flag, &name);
		if (next == NULL) {
			snprintf(why, sizeof(why), "ignored explicit argument '%s'", ex);
			return args_fail(st, d, why);
		}
		d = next;
		ex = ex[1] != '\0' ? ex + 1 : NULL;
	}
	int nargs = args_nargs(d), j = i + 1;
	const char *value = NULL;
	if (nargs > 0) {
		if (j < n && cls[j].kind == '-' && j + 1 < n && cls[j + 1].kind == 'A')
			j++; /* "--ip -- 192.0.2.1": argparse drops the "--" from the values */
		if (j < n && cls[j].kind == 'A')
			value = args[j++];
		else if (nargs == 1)
			return args_fail(st, d, "expected one argument");
		else
			j = i + 1;
	}
	rc = args_take(st, d, value);
	return rc == 0 ? j : -1 - (rc > 0);
}

/* 0, 1 (help shown) or -1. */
static int args_parse_list(struct args_state *st, int n, char **args)
{
	struct arg_class *cls = calloc((size_t)n + 1, sizeof(*cls));
	char extras[1024] = "";
	int rc = -1;
	bool dashdash = false;

	if (cls == NULL) {
		snprintf(st->err, st->errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (dashdash) {
			cls[i].kind = 'A';
		} else if (strcmp(args[i], "--") == 0) {
			cls[i].kind = '-';
			dashdash = true;
		} else if (args_classify(st, args[i], &cls[i]) != 0) {
			goto out;
		}
	}
	for (int i = 0; i < n;) {
		if (cls[i].kind == 'O' && cls[i].def != NULL) {
			i = args_consume(st, cls, args, n, i);
			if (i < 0) {
				rc = i == -2 ? 1 : -1;
				goto out;
			}
			continue;
		}
		/* unknown options, values no option took, and a "--" (as argparse 3.11 lists it) */
		size_t l = strlen(extras);
		snprintf(extras + l, sizeof(extras) - l, "%s%s", l ? " " : "", args[i]);
		i++;
	}
	if (extras[0] != '\0') {
		snprintf(st->err, st->errlen, "unrecognized arguments: %s", extras);
		goto out;
	}
	rc = 0;
out:
	free(cls);
	return rc;
}

static char *args_strip(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* The original turns each line "key = value" into "--key", "value" (and "flag" into
 * "--flag"), skipping blank lines and '#' comments, then parses them followed by the
 * whole command line again. */
static int args_config(const char *file, int argc, char **argv, char ***out, int *nout)
{
	FILE *f = fopen(file, "r");
	char line[4096];
	char **v = NULL;
	int n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL && n < 2 * ARGS_MAX_CONFIG_LINES) {
		char *s = args_strip(line), *val = NULL;
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (eq != NULL) {
			*eq = '\0';
			val = args_strip(eq + 1);
		}
		char **nv = realloc(v, (size_t)(n + 2) * sizeof(*v));
		if (nv == NULL)
			break;
		v = nv;
		if (asprintf(&v[n], "--%s", args_strip(s)) < 0)
			break;
		n++;
		if (val != NULL && (v[n] = strdup(val)) != NULL)
			n++;
	}
	fclose(f);
	char **nv = realloc(v, (size_t)(n + argc) * sizeof(*v));
	if (nv == NULL) {
		for (int i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return -1;
	}
	v = nv;
	for (int i = 1; i < argc; i++)
		v[n++] = strdup(argv[i]);
	*out = v;
	*nout = n;
	return 0;
}

static int args_parse(int argc, char **argv, struct compat_opts *o, unsigned flags, char *err,
                      size_t errlen)
{
	struct args_state st = {.o = o, .err = err, .errlen = errlen, .flags = flags};
	char **v;
	int n, rc;

	compat_opts_init(o);
	rc = args_parse_list(&st, argc - 1, argv + 1);
	if (rc != 0 || o->config == NULL)
		return rc != 0 ? rc : compat_opts_validate(o, err, errlen);
	char *file = strdup(o->config);
	if (file == NULL || args_config(file, argc, argv, &v, &n) != 0) {
		snprintf(err, errlen, "argument --config/-F: cannot read '%s'", o->config);
		free(file);
		return -1;
	}
	free(file);
	compat_opts_free(o);
	compat_opts_init(o);
	memset(st.seen, 0, sizeof(st.seen));
	rc = 0;
	for (int i = 0; i < n; i++)
		if (v[i] == NULL)
			rc = -1;
	if (rc != 0)
		snprintf(err, errlen, "out of memory");
	else
		rc = args_parse_list(&st, n, v);
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return rc != 0 ? rc : compat_opts_validate(o, err, errlen);
}

int compat_args_parse(int argc, char **argv, struct compat_opts *o, char *err, size_t errlen)
{
	return args_parse(argc, argv, o, 0, err, errlen);
}

int compat_args_reread(int argc, char **argv, struct compat_opts *o, char *err, size_t errlen)
{
	int rc = args_parse(argc, argv, o, COMPAT_STORE_REREAD, err, errlen);
	return rc == 0 ? 0 : -1;
}

/* What the original accepts at parse time and then fails on (a traceback after its first
 * iteration, or a command line split in two), refused here before anything runs. */
int compat_opts_validate(const struct compat_opts *o, char *err, size_t errlen)
{
	static const char *const facilities[] = {
	        "kern",   "user",   "mail",   "daemon",   "auth",   "syslog", "lpr",
	        "news",   "uucp",   "cron",   "authpriv", "ftp",    "local0", "local1",
	        "local2", "local3", "local4", "local5",   "local6", "local7", NULL,
	};
	const struct {
		const char *name, *value;
	} attrs[] = {
	        {"--community", o->community},
	        {"--extended-community", o->extended_community},
	        {"--large-community", o->large_community},
	        {"--disabled-community", o->disabled_community},
	        {"--as-path", o->as_path},
	        {"--up-as-path", o->up_as_path},
	        {"--down-as-path", o->down_as_path},
	        {"--disabled-as-path", o->disabled_as_path},
	        {"--label", o->label},
	};
	size_t i;

	/* Beyond these a timer's seconds or milliseconds overflow (a hot loop), and no check
	 * waits longer than 11 days anyway. */
	if (!(o->interval >= 0 && o->interval <= COMPAT_SECONDS_MAX))
		snprintf(err, errlen, "argument --interval/-i: expected seconds from 0 to %d",
		         COMPAT_SECONDS_MAX);
	else if (!(o->fast >= 0 && o->fast <= COMPAT_SECONDS_MAX))
		snprintf(err, errlen, "argument --fast-interval/-f: expected seconds from 0 to %d",
		         COMPAT_SECONDS_MAX);
	else if (!(o->ack_timeout > 0 && o->ack_timeout <= COMPAT_ACK_SECONDS_MAX))
		snprintf(err, errlen,
		         "argument --ack-timeout: expected seconds above 0, at most %d",
		         COMPAT_ACK_SECONDS_MAX);
	else if (o->timeout < 0 || o->timeout > COMPAT_SECONDS_MAX)
		snprintf(err, errlen, "argument --timeout/-t: expected seconds from 0 (none) to %d",
		         COMPAT_SECONDS_MAX);
	else
		err[0] = '\0';
	if (err[0] != '\0')
		return -1;
	for (i = 0; facilities[i] != NULL; i++)
		if (o->syslog_facility == NULL ||
		    strcasecmp(o->syslog_facility, facilities[i]) == 0)
			break;
	if (facilities[i] == NULL) {
		snprintf(err, errlen, "argument --syslog-facility/-sF: unknown facility '%s'",
		         o->syslog_facility);
		return -1;
	}
	/* Each is spliced into a command line: a newline would make two commands. */
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		for (const char *c = attrs[i].value; c != NULL && *c != '\0'; c++) {
			if ((unsigned char)*c < 0x20 || *c == 0x7f) {
				snprintf(err, errlen,
				         "argument %s: control character 0x%02x in '%s'",
				         attrs[i].name, (unsigned char)*c, attrs[i].value);
				return -1;
			}
		}
	}
	for (i = 0; i < o->neighbors.n; i++) {
		if (strcmp(o->neighbors.v[i], "*") == 0 && o->form == CF_LEGACY) {
			snprintf(err, errlen,
			         "argument --neighbor: '*' needs --exabgp-version 4.2.22 or later");
			return -1;
		}
	}
	uint64_t total = 0;
	for (i = 0; i < o->nips; i++) {
		uint64_t size = compat_net_size(&o->ips[i]);
		total = size > COMPAT_MAX_ADDRS ? size : total + size;
		if ((o->deaggregate || o->ip_setup || o->ip_dynamic) && total > COMPAT_MAX_ADDRS) {
			char net[80];
			compat_net_format(&o->ips[i], net, sizeof(net));
			snprintf(err, errlen,
			         "argument --ip: %s makes more than %d addresses to %s; "
			         "use smaller networks%s",
			         net, COMPAT_MAX_ADDRS,
			         o->deaggregate ? "deaggregate" : "set up on lo",
			         o->deaggregate ? "" : " or --no-ip-setup");
			return -1;
		}
	}
	return 0;
}

const char compat_usage[] =
        "usage: healthd [--silent | --syslog-facility [FACILITY] | --no-syslog] [--no-ack]\n"
        "               [--sudo] [--debug] [--name NAME] [--config FILE] [--pid FILE]\n"
        "               [--user USER] [--group GROUP] [OPTIONS...]\n"
        "\n"
        "The drop-in for `python3 -m exabgp healthcheck`: the same options, the same\n"
        "stdout lines for ExaBGP (as ExaBGP 4.2.21's healthcheck prints them).\n"
        "\n"
        "checking healthiness:\n"
        "  -i, --interval N         seconds between checks (0: exit after the first announce) [5]\n"
        "  -f, --fast-interval N    seconds between checks while rising or falling [1]\n"
        "  -t, --timeout N          seconds the check command may take (0: no limit) [5]\n"
        "      --rise N, --fall N   checks before up / down [3]\n"
        "      --disable FILE       while FILE exists the service is disabled\n"
        "  -c, --cmd, --command CMD the check, run by /bin/sh; exit 0 means healthy\n"
        "advertising:\n"
        "      --ip IP[/LEN]        announce this address or network (repeatable; default:\n"
        "                           the addresses on lo)\n"
        "  -N, --next-hop IP        [self]\n"
        "      --local-preference P, --path-id ID, --neighbor IP (repeatable)\n"
        "      --up-metric M [100], --down-metric M [1000], --disabled-metric M [500],\n"
        "      --increase M         added to the metric for each further IP [1]\n"
        "      --community C, --extended-community C, --large-community C,\n"
        "      --disabled-community C (when down or disabled)\n"
        "      --as-path P, --up-as-path P, --down-as-path P, --disabled-as-path P\n"
        "      --withdraw-on-down   withdraw instead of announcing with --down-metric\n"
        "      --deaggregate-networks, --start-ip N, --no-ip-setup, --dynamic-ip-setup,\n"
        "      --label LABEL\n"
        "reporting:\n"
        "      --execute CMD, --up-execute CMD, --down-execute CMD, --disabled-execute CMD\n"
        "                           run on state changes with STATE set (timeout: --timeout)\n"
        "healthd's own:\n"
        "      --debounce           announce only on state changes\n"
        "      --exabgp-version V   4.2.21 (default): plain commands; 4.2.22 or 5.x:\n"
        "                           \"neighbor * announce ...\"; 6.x: \"peer * announce ...\"\n"
        "      --ack-timeout N      seconds to wait for each ExaBGP ack [5]\n"
        "\n"
        "SIGHUP re-reads the --config file; a file with errors changes nothing (see\n"
        "docs/compat.md for what may change while running).\n";
