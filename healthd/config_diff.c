/* Reload's comparison of two configs; see config_diff.h. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_diff.h"

bool config_check_same(const struct check_cfg *a, const struct check_cfg *b)
{
	if (a->normal == NULL || b->normal == NULL)
		return false;
	if (strcmp(a->normal, b->normal) == 0)
		return true;
	/* The same keys in another order (an object as the user wrote it) are the same. */
	json_t *ja = check_cfg_normal(a), *jb = check_cfg_normal(b);
	bool same = ja != NULL && jb != NULL && json_equal(ja, jb);
	json_decref(ja);
	json_decref(jb);
	return same;
}

static bool diff_same_service(const struct service_cfg *a, const struct service_cfg *b)
{
	if (a->nchecks != b->nchecks)
		return false;
	for (size_t i = 0; i < a->nchecks; i++)
		if (!config_check_same(&a->checks[i], &b->checks[i]))
			return false;
	json_t *ja = config_service_head_json(a), *jb = config_service_head_json(b);
	bool same = ja != NULL && jb != NULL && json_equal(ja, jb);
	json_decref(ja);
	json_decref(jb);
	return same;
}

int config_diff(const struct config *old, const struct config *cur, struct config_diff *d)
{
	memset(d, 0, sizeof(*d));
	json_t *names = json_object(); /* old service name -> index: no n^2 on large configs */
	d->change = calloc(cur->nservices + 1, sizeof(*d->change));
	d->old_index = calloc(cur->nservices + 1, sizeof(*d->old_index));
	d->removed = calloc(old->nservices + 1, sizeof(*d->removed));
	if (names == NULL || d->change == NULL || d->old_index == NULL || d->removed == NULL)
		goto fail;

	json_t *sa = config_speaker_to_json(old), *sb = config_speaker_to_json(cur);
	d->speaker_changed = sa == NULL || sb == NULL || !json_equal(sa, sb);
	json_decref(sa);
	json_decref(sb);

	for (size_t i = 0; i < old->nservices; i++) {
		d->removed[i] = true;
		if (json_object_set_new(names, old->services[i].name,
		                        json_integer((json_int_t)i)) != 0)
			goto fail;
	}
	for (size_t i = 0; i < cur->nservices; i++) {
		const struct service_cfg *svc = &cur->services[i];
		json_t *at = json_object_get(names, svc->name);
		d->old_index[i] = SIZE_MAX;
		if (at == NULL) {
			d->change[i] = CHANGE_ADDED;
			d->added++;
			continue;
		}
		size_t j = (size_t)json_integer_value(at);
		d->old_index[i] = j;
		d->removed[j] = false;
		if (diff_same_service(&old->services[j], svc)) {
			d->change[i] = CHANGE_UNCHANGED;
			d->unchanged++;
		} else {
			d->change[i] = CHANGE_CHANGED;
			d->changed++;
		}
	}
	for (size_t i = 0; i < old->nservices; i++)
		d->removed_count += d->removed[i];
	json_decref(names);
	return 0;
fail:
	json_decref(names);
	config_diff_free(d);
	return -1;
}

void config_diff_free(struct config_diff *d)
{
	free(d->change);
	free(d->old_index);
	free(d->removed);
	memset(d, 0, sizeof(*d));
}
