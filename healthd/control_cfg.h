/* The "control" section of the config: where the control endpoint (control.c) listens and
 * who may change routing through it. Read by config_control.c; off when nothing listens. */
#ifndef HEALTHD_CONTROL_CFG_H
#define HEALTHD_CONTROL_CFG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CONTROL_DEFAULT_SOCKET_MODE 0660

struct control_cfg {
	char **listen;      /* NULL-terminated: "127.0.0.1:9187", "[::1]:9187", "unix:/path" */
	size_t nlisten;     /* 0: the control endpoint is off */
	mode_t socket_mode; /* of every unix socket; CONTROL_DEFAULT_SOCKET_MODE */
	char *socket_group; /* NULL: the process's group */
	char *token_file;   /* NULL: writes only over a unix socket */
	char *state_file;   /* NULL: API disables are kept across reloads, not restarts */
};

/* A listen address split: unix (path set) or TCP (host and port). 0, or -1 when s is none. */
struct control_addr {
	bool is_unix;
	char path[108];
	char host[64];
	unsigned port;
};
int control_addr_parse(const char *s, struct control_addr *out);

/* The token file must not be readable by others: a token anyone can read guards nothing.
 * 0, or -1 with why set (also for a file that cannot be looked at). */
int control_token_file_ok(const char *path, char *why, size_t whylen);

json_t *control_cfg_to_json(const struct control_cfg *c); /* NULL when off */
bool control_cfg_equal(const struct control_cfg *a, const struct control_cfg *b);
void control_cfg_free(struct control_cfg *c);

#endif
