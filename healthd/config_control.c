/* The "control" section: listen addresses, the unix sockets' mode and group, the token file
 * for writes over TCP and the file that keeps API disables across restarts. */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/cfgread.h"
#include "config_priv.h"

static const char *const control_keys[] = {
        "listen", "socket_mode", "socket_group", "token_file", "state_file", NULL,
};

int control_addr_parse(const char *s, struct control_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(s, "unix:", 5) == 0) {
		const char *p = s + 5;
		if (p[0] != '/' || strlen(p) >= sizeof(out->path))
			return -1;
		out->is_unix = true;
		snprintf(out->path, sizeof(out->path), "%s", p);
		return 0;
	}
	const char *colon = strrchr(s, ':');
	if (colon == NULL || colon == s)
		return -1;
	size_t hlen = (size_t)(colon - s);
	const char *h = s;
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']')
			return -1;
		h = s + 1;
		hlen -= 2;
	}
	if (hlen >= sizeof(out->host))
		return -1;
	memcpy(out->host, h, hlen);
	out->host[hlen] = '\0';
	unsigned char buf[sizeof(struct in6_addr)];
	bool v6 = inet_pton(AF_INET6, out->host, buf) == 1;
	/* IPv6 in brackets, IPv4 without: "[::1]:80", "127.0.0.1:80". */
	if (s[0] == '[' ? !v6 : inet_pton(AF_INET, out->host, buf) != 1)
		return -1;
	unsigned long long port;
	if (cfg_decimal(colon + 1, strlen(colon + 1), 65535, &port) != 0 || port == 0)
		return -1;
	out->port = (unsigned)port;
	return 0;
}

int control_token_file_ok(const char *path, char *why, size_t whylen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(why, whylen, "cannot look at %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s is not a regular file", path);
		return -1;
	}
	if (st.st_mode & S_IROTH) {
		snprintf(why, whylen, "%s is readable by every user (mode %04o): chmod o-r it",
		         path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

static void control_listen(struct config_loader *ld, const json_t *obj, struct control_cfg *c)
{
	const json_t *v = json_object_get(obj, "listen");
	if (v == NULL)
		return;
	if (json_is_string(v)) {
		/* One address as a plain string: the same as a list of one. */
		c->listen = calloc(2, sizeof(*c->listen));
		if (c->listen == NULL || (c->listen[0] = strdup(json_string_value(v))) == NULL) {
			cfgerr_add(ld->e, "listen", "out of memory");
			return;
		}
		c->nlisten = 1;
	} else if (cfg_strv(ld->e, obj, "listen", &c->listen, &c->nlisten) < 0) {
		return;
	}
	for (size_t i = 0; i < c->nlisten; i++) {
		struct control_addr a;
		char key[32];
		if (json_is_string(v))
			snprintf(key, sizeof(key), "listen");
		else
			snprintf(key, sizeof(key), "listen[%zu]", i);
		if (control_addr_parse(c->listen[i], &a) != 0)
			cfgerr_add(
			        ld->e, key,
			        "invalid listen address \"%s\": expected \"ADDRESS:PORT\" "
			        "(\"127.0.0.1:9187\", \"[::1]:9187\") or \"unix:/ABSOLUTE/PATH\"",
			        c->listen[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->listen[j], c->listen[i]) == 0)
				cfgerr_add(ld->e, key, "\"%s\" is listed twice", c->listen[i]);
	}
}

void config_control(struct config_loader *ld, const json_t *top)
{
	struct control_cfg *c = &ld->cfg->control;
	const json_t *obj = json_object_get(top, "control");
	char saved[CFG_PATH_MAX];
	const char *s;

	c->socket_mode = CONTROL_DEFAULT_SOCKET_MODE;
	if (obj == NULL)
		return;
	if (!json_is_object(obj)) {
		cfgerr_add(ld->e, "control", "expected object");
		return;
	}
	cfgerr_push(ld->e, "control", saved);
	cfg_check_keys(ld->e, obj, control_keys, NULL);
	control_listen(ld, obj, c);
	if (cfg_string(ld->e, obj, "socket_mode", false, &s) > 0) {
		unsigned long long m = 0;
		bool ok = strlen(s) <= 4;
		for (const char *p = s; ok && *p != '\0'; p++)
			ok = *p >= '0' && *p <= '7';
		if (ok)
			m = strtoull(s, NULL, 8);
		if (!ok || m > 0777)
			cfgerr_add(ld->e, "socket_mode",
			           "expected an octal mode such as \"0660\" (at most 0777)");
		else
			c->socket_mode = (mode_t)m;
	}
	if (cfg_string(ld->e, obj, "socket_group", false, &s) > 0) {
		if (getgrnam(s) == NULL)
			cfgerr_add(ld->e, "socket_group", "no group named \"%s\"", s);
		else
			c->socket_group = strdup(s);
	}
	if (cfg_string(ld->e, obj, "token_file", false, &s) > 0) {
		char why[512];
		if (s[0] != '/')
			cfgerr_add(ld->e, "token_file", "expected an absolute path");
		else if (control_token_file_ok(s, why, sizeof(why)) != 0)
			cfgerr_add(ld->e, "token_file", "%s", why);
		else
			c->token_file = strdup(s);
	}
	if (cfg_string(ld->e, obj, "state_file", false, &s) > 0) {
		if (s[0] != '/')
			cfgerr_add(ld->e, "state_file", "expected an absolute path");
		else
			c->state_file = strdup(s);
	}
	bool any_unix = false;
	for (size_t i = 0; i < c->nlisten; i++)
		any_unix = any_unix || strncmp(c->listen[i], "unix:", 5) == 0;
	if (!any_unix &&
	    (json_object_get(obj, "socket_mode") || json_object_get(obj, "socket_group")))
		cfgerr_add(ld->e, NULL,
		           "socket_mode and socket_group need a \"unix:\" listen address");
	cfgerr_pop(ld->e, saved);
}

json_t *control_cfg_to_json(const struct control_cfg *c)
{
	if (c->nlisten == 0)
		return NULL;
	json_t *o = json_object(), *l = json_array();
	char mode[8];
	for (size_t i = 0; i < c->nlisten; i++)
		json_array_append_new(l, json_string(c->listen[i]));
	json_object_set_new(o, "listen", l);
	bool any_unix = false;
	for (size_t i = 0; i < c->nlisten; i++)
		any_unix = any_unix || strncmp(c->listen[i], "unix:", 5) == 0;
	snprintf(mode, sizeof(mode), "%04o", (unsigned)c->socket_mode);
	if (any_unix) /* the mode of no socket is no setting */
		json_object_set_new(o, "socket_mode", json_string(mode));
	if (c->socket_group != NULL)
		json_object_set_new(o, "socket_group", json_string(c->socket_group));
	if (c->token_file != NULL)
		json_object_set_new(o, "token_file", json_string(c->token_file));
	if (c->state_file != NULL)
		json_object_set_new(o, "state_file", json_string(c->state_file));
	return o;
}

bool control_cfg_equal(const struct control_cfg *a, const struct control_cfg *b)
{
	json_t *ja = control_cfg_to_json(a), *jb = control_cfg_to_json(b);
	bool same = (ja == NULL && jb == NULL) || (ja != NULL && jb != NULL && json_equal(ja, jb));
	json_decref(ja);
	json_decref(jb);
	return same;
}

void control_cfg_free(struct control_cfg *c)
{
	cfg_strv_free(c->listen);
	free(c->socket_group);
	free(c->token_file);
	free(c->state_file);
	memset(c, 0, sizeof(*c));
}
