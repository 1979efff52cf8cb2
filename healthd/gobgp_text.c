/* The gobgp client's text: what healthd writes on its command line for a path, and what
 * it reads back from "global rib -j". The JSON comes from another program: anything not
 * in the expected shape is an error with a reason, never a guess. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cfgread.h"
#include "gobgp.h"
#include "prefix.h"

#define GOBGP_ATTR_COMMUNITIES 8 /* BGP path attribute type COMMUNITIES (RFC 1997) */

static void words_list(FILE *f, const char *key, char **v, const char *last)
{
	size_t n = 0;
	for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
		if (last != NULL && strcmp(v[i], last) == 0)
			continue; /* the mark goes last, once */
		fprintf(f, "%s%s", n++ ? "," : key, v[i]);
	}
	if (last != NULL)
		fprintf(f, "%s%s", n ? "," : key, last);
}

char *gobgp_path_words(const struct route_attrs *a, uint32_t identifier, const char *mark)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f == NULL)
		return NULL;
	/* Origin IGP, as ExaBGP's and BIRD's static routes: the client's default would
	 * be incomplete, which peers rank below IGP. */
	fprintf(f, "identifier %u origin igp", (unsigned)identifier);
	if (a->next_hop != NULL && strcmp(a->next_hop, "self") != 0)
		fprintf(f, " nexthop %s", a->next_hop);
	if (a->med >= 0)
		fprintf(f, " med %lld", a->med);
	if (a->local_preference >= 0)
		fprintf(f, " local-pref %lld", a->local_preference);
	words_list(f, " community ", a->communities, mark);
	if (a->large_communities != NULL)
		words_list(f, " large-community ", a->large_communities, NULL);
	for (size_t i = 0; i < a->nas_path; i++)
		fprintf(f, "%s%u", i ? "," : " aspath ", (unsigned)a->as_path[i]);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static bool rib_path_marked(const json_t *path, uint32_t mark)
{
	const json_t *attrs = json_object_get(path, "attrs"), *a, *c;
	size_t i, j;

	json_array_foreach(attrs, i, a)
	{
		const json_t *type = json_object_get(a, "type");
		if (!json_is_integer(type) || json_integer_value(type) != GOBGP_ATTR_COMMUNITIES)
			continue;
		json_array_foreach(json_object_get(a, "communities"), j, c)
		{
			if (json_is_integer(c) && json_integer_value(c) == (json_int_t)mark)
				return true;
		}
	}
	return false;
}

static int rib_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int gobgp_rib_marked(const char *text, size_t len, int family, uint32_t mark, char ***out,
                     size_t *n, char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	const char *key;
	json_t *paths;
	char **v = NULL;
	size_t count = 0;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (root == NULL) {
		snprintf(why, whylen, "not JSON: %s (line %d)", jerr.text, jerr.line);
		return -1;
	}
	if (json_is_null(root)) { /* no path at all, as some versions print it */
		json_decref(root);
		goto done;
	}
	if (!json_is_object(root)) {
		snprintf(why, whylen, "expected a JSON object of prefixes");
		goto out;
	}
	if (json_is_string(json_object_get(root, "error"))) {
		snprintf(why, whylen, "gobgp: %.200s",
		         json_string_value(json_object_get(root, "error")));
		goto out;
	}
	v = calloc(json_object_size(root) + 1, sizeof(*v));
	if (v == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	json_object_foreach(root, key, paths)
	{
		struct prefix p;
		char err[128], canon[PREFIX_STRLEN];
		const json_t *path;
		size_t i;
		bool marked = false;

		if (prefix_parse(key, &p, err, sizeof(err)) != 0 || !json_is_array(paths)) {
			snprintf(why, whylen, "unexpected entry \"%.80s\" in the RIB", key);
			goto out;
		}
		json_array_foreach(paths, i, path)
		{
			if (!json_is_object(path) ||
			    !json_is_array(json_object_get(path, "attrs"))) {
				snprintf(why, whylen, "a path of %.80s has no attribute list", key);
				goto out;
			}
			marked = marked || rib_path_marked(path, mark);
		}
		if (!marked || p.family != family)
			continue;
		prefix_format(&p, canon, sizeof(canon));
		v[count] = strdup(canon);
		if (v[count] == NULL) {
			snprintf(why, whylen, "out of memory");
			goto out;
		}
		count++;
	}
	json_decref(root);
	qsort(v, count, sizeof(*v), rib_cmp);
done:
	*out = v;
	*n = count;
	return 0;
out:
	json_decref(root);
	cfg_strv_free(v);
	return rc;
}
