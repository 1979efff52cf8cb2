/* ExaBGP 4.2's healthcheck state machine and the lines each state writes, kept apart
 * from all I/O so that tests can walk it through any sequence of results.
 *
 * Its rules, which differ from healthd's own service machine on purpose: the DOWN state
 * is announced (with --down-metric) unless --withdraw-on-down; every iteration that ends
 * in UP, DOWN or DISABLED writes all its lines again; EXIT withdraws every IP. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

const char *compat_state_name(enum compat_state s)
{
	static const char *const names[] = {
	        [CS_INIT] = "INIT",     [CS_DISABLED] = "DISABLED",
	        [CS_RISING] = "RISING", [CS_FALLING] = "FALLING",
	        [CS_UP] = "UP",         [CS_DOWN] = "DOWN",
	        [CS_EXIT] = "EXIT",     [CS_END] = "END",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* trigger(): RISING with rise <= 1 is UP at once, FALLING with fall <= 1 DOWN. */
static enum compat_state fsm_trigger(enum compat_state target, long long rise, long long fall)
{
	if (target == CS_RISING && rise <= 1)
		return CS_UP;
	if (target == CS_FALLING && fall <= 1)
		return CS_DOWN;
	return target;
}

bool compat_fsm_step(struct compat_fsm *f, long long rise, long long fall, bool disabled,
                     bool successful, enum compat_state *target)
{
	enum compat_state t;

	if (f->state != CS_DISABLED && disabled) {
		t = CS_DISABLED;
	} else {
		switch (f->state) {
		case CS_INIT:
			if (successful && rise <= 1) {
				t = CS_UP;
			} else {
				t = successful ? CS_RISING : CS_FALLING;
				f->checks = 1;
			}
			break;
		case CS_DISABLED:
			if (disabled)
				return false;
			t = CS_INIT;
			break;
		case CS_RISING:
			if (!successful) {
				t = CS_FALLING;
				f->checks = 1;
			} else if (++f->checks >= rise) {
				t = CS_UP;
			} else {
				return false;
			}
			break;
		case CS_FALLING:
			if (successful) {
				t = CS_RISING;
				f->checks = 1;
			} else if (++f->checks >= fall) {
				t = CS_DOWN;
			} else {
				return false;
			}
			break;
		case CS_UP:
			if (successful)
				return false;
			t = CS_FALLING;
			f->checks = 1;
			break;
		case CS_DOWN:
			if (!successful)
				return false;
			t = CS_RISING;
			f->checks = 1;
			break;
		default:
			return false;
		}
	}
	f->state = fsm_trigger(t, rise, fall);
	*target = f->state;
	return true;
}

static int lines_add(char *buf, size_t len, size_t *off, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int lines_add(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *off)
		return -1;
	*off += (size_t)n;
	return 0;
}

/* "neighbor A, neighbor B " / "neighbor * " / "peer * " / "" before the action. */
static int lines_prefix(const struct compat_opts *o, char *buf, size_t len, size_t *off)
{
	const char *word = o->form == CF_PEER ? "peer" : "neighbor";
	const struct compat_strv *nb = &o->neighbors;
	bool star = false;

	for (size_t i = 0; i < nb->n; i++)
		star |= strcmp(nb->v[i], "*") == 0;
	if (o->form != CF_LEGACY && (nb->n == 0 || star))
		return lines_add(buf, len, off, "%s * ", word);
	for (size_t i = 0; i < nb->n; i++)
		if (lines_add(buf, len, off, "%s %s%s", word, nb->v[i], i + 1 < nb->n ? ", " : " "))
			return -1;
	return 0;
}

static int lines_one(const struct compat_opts *o, enum compat_state target, size_t i,
                     long long metric, const char *as_path, char *buf, size_t len)
{
	bool announce = !(o->withdraw_on_down || target == CS_EXIT) || target == CS_UP;
	char ip[80];
	size_t off = 0;
	int rc;

	compat_net_format(&o->ips[i], ip, sizeof(ip));
	rc = lines_prefix(o, buf, len, &off);
	if (rc == 0)
		rc = lines_add(buf, len, &off, "%s route %s next-hop %s",
		               announce ? "announce" : "withdraw", ip,
		               o->next_hop != NULL ? o->next_hop : "self");
	if (rc == 0 && announce) {
		rc = lines_add(buf, len, &off, " med %lld", metric);
		if (rc == 0 && o->local_preference >= 0)
			rc = lines_add(buf, len, &off, " local-preference %lld",
			               o->local_preference);
		/* The original's truthiness: an empty value counts as not given. */
		const char *community = o->community;
		if ((target == CS_DOWN || target == CS_DISABLED) && o->disabled_community != NULL &&
		    o->disabled_community[0] != '\0')
			community = o->disabled_community;
		if (rc == 0 && community != NULL && community[0] != '\0')
			rc = lines_add(buf, len, &off, " community [ %s ]", community);
		if (rc == 0 && o->extended_community != NULL && o->extended_community[0] != '\0')
			rc = lines_add(buf, len, &off, " extended-community [ %s ]",
			               o->extended_community);
		if (rc == 0 && o->large_community != NULL && o->large_community[0] != '\0')
			rc = lines_add(buf, len, &off, " large-community [ %s ]",
			               o->large_community);
		if (rc == 0 && as_path != NULL && as_path[0] != '\0')
			rc = lines_add(buf, len, &off, " as-path [ %s ]", as_path);
	}
	if (rc == 0 && o->has_path_id && o->path_id != 0)
		rc = lines_add(buf, len, &off, " path-information %lld", o->path_id);
	return rc;
}

char **compat_lines(const struct compat_opts *o, enum compat_state target, size_t *n)
{
	long long metric;
	const char *as_path;
	char **lines;

	*n = 0;
	switch (target) {
	case CS_UP:
		metric = o->up_metric;
		as_path = o->up_as_path;
		break;
	case CS_DOWN:
		metric = o->down_metric;
		as_path = o->down_as_path;
		break;
	case CS_DISABLED:
		metric = o->disabled_metric;
		as_path = o->disabled_as_path;
		break;
	case CS_EXIT:
		metric = 0; /* there is no --exit-metric; EXIT only withdraws anyway */
		as_path = NULL;
		break;
	default:
		return NULL;
	}
	if (as_path == NULL) /* given but empty stays empty, as in the original */
		as_path = o->as_path;
	if (o->nips == 0 || (lines = calloc(o->nips + 1, sizeof(*lines))) == NULL)
		return NULL;
	for (size_t i = 0; i < o->nips; i++) {
		size_t len = 1024 + (o->community ? strlen(o->community) : 0) +
		             (o->disabled_community ? strlen(o->disabled_community) : 0) +
		             (o->extended_community ? strlen(o->extended_community) : 0) +
		             (o->large_community ? strlen(o->large_community) : 0) +
		             (as_path ? strlen(as_path) : 0) + o->neighbors.n * 64;
		lines[i] = malloc(len);
		if (lines[i] == NULL || lines_one(o, target, i, metric, as_path, lines[i], len)) {
			free(lines[i]);
			lines[i] = NULL;
			compat_lines_free(lines);
			return NULL;
		}
		metric += o->increase;
	}
	*n = o->nips;
	return lines;
}

void compat_lines_free(char **lines)
{
	if (lines == NULL)
		return;
	for (char **l = lines; *l != NULL; l++)
		free(*l);
	free(lines);
}
