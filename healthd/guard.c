/* The fleet guard's rule and the parsing of a peer's status; see guard.h. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"

#define GUARD_MAX_SERVICES 4096

bool guard_holds(const struct guard_case *c)
{
	/* Never announce what is not announced now: the guard keeps a route, it does not
	 * bring one back. */
	if (!c->announced || c->opt_out)
		return false;
	/* No local address: announcing would draw traffic to nothing. */
	if (c->why == GUARD_NO_ADDRESS)
		return false;
	if (c->why == GUARD_DISABLED_OPERATOR && !c->guard_disable)
		return false;
	return c->announcing < (size_t)(c->min_others < 0 ? 0 : c->min_others);
}

static bool guard_state_healthy(const char *state)
{
	return strcmp(state, "UP") == 0 || strcmp(state, "DEGRADED") == 0;
}

int guard_view_parse(const char *body, size_t len, struct guard_view *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	const json_t *svcs;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (root == NULL) {
		snprintf(err, errlen, "not JSON: %s", jerr.text);
		return -1;
	}
	svcs = json_object_get(root, "services");
	if (!json_is_array(svcs)) {
		snprintf(err, errlen, "no \"services\" array");
		goto out;
	}
	if (json_array_size(svcs) > GUARD_MAX_SERVICES) {
		snprintf(err, errlen, "more than %d services", GUARD_MAX_SERVICES);
		goto out;
	}
	out->svcs = calloc(json_array_size(svcs) + 1, sizeof(*out->svcs));
	if (out->svcs == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(svcs); i++) {
		const json_t *s = json_array_get(svcs, i);
		const json_t *name = json_object_get(s, "name");
		const json_t *state = json_object_get(s, "state");
		const json_t *announced = json_object_get(s, "announced");
		const json_t *falling = json_object_get(s, "falling");
		if (!json_is_string(name) || !json_is_string(state)) {
			snprintf(err, errlen, "services[%zu]: no \"name\" and \"state\" strings",
			         i);
			goto out;
		}
		if ((announced != NULL && !json_is_boolean(announced)) ||
		    (falling != NULL && !json_is_boolean(falling))) {
			snprintf(err, errlen,
			         "services[%zu]: \"announced\" and \"falling\" must be "
			         "booleans",
			         i);
			goto out;
		}
		struct guard_view_svc *v = &out->svcs[out->n];
		v->name = strdup(json_string_value(name));
		if (v->name == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		out->n++;
		v->healthy = guard_state_healthy(json_string_value(state)) &&
		             (announced == NULL || json_is_true(announced)) &&
		             !json_is_true(falling);
	}
	rc = 0;
out:
	if (rc != 0)
		guard_view_free(out);
	json_decref(root);
	return rc;
}

bool guard_view_announces(const struct guard_view *v, const char *service)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->svcs[i].name, service) == 0)
			return v->svcs[i].healthy;
	return false;
}

void guard_view_free(struct guard_view *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->svcs[i].name);
	free(v->svcs);
	memset(v, 0, sizeof(*v));
}
