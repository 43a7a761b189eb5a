#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/filters/filter.h"
#include "engine/filters/internal.h"

static const gpx_filter_def *const builtin_list[] = {
	&gpx_fdef_grayscale,
	&gpx_fdef_blur,
	&gpx_fdef_box_blur,
	&gpx_fdef_edge,
	&gpx_fdef_sharpen,
	&gpx_fdef_invert,
	&gpx_fdef_brightness_contrast,
	&gpx_fdef_threshold,
	&gpx_fdef_sepia,
	&gpx_fdef_resize,
	&gpx_fdef_rotate,
	&gpx_fdef_flip,
	&gpx_fdef_crop,
};
#define NBUILTIN (sizeof(builtin_list) / sizeof(builtin_list[0]))

const gpx_filter_def *const *gpx_filters_builtin(size_t *n)
{
	*n = NBUILTIN;
	return builtin_list;
}

int gpx_filter_param_index(const gpx_filter_def *def, const char *name)
{
	for (size_t i = 0; i < def->nparams; i++)
		if (strcmp(def->params[i].name, name) == 0)
			return (int)i;
	return -1;
}

size_t gpx_param_noptions(const gpx_param_def *p)
{
	size_t n = 0;
	if (p->type != GPX_PARAM_ENUM || !p->options)
		return 0;
	while (p->options[n])
		n++;
	return n;
}

struct gpx_filter_registry {
	const gpx_filter_def **defs;
	size_t n, cap;
};

static int valid_name(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int check_param_def(const gpx_filter_def *d, const gpx_param_def *p, gpx_status *st)
{
	if (!valid_name(p->name))
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "filter \"%s\": bad parameter name",
				      d->name);
	switch (p->type) {
	case GPX_PARAM_NUMBER:
	case GPX_PARAM_INTEGER:
		if (!isfinite(p->min) || !isfinite(p->max) || p->min > p->max ||
		    !(p->def_num >= p->min && p->def_num <= p->max))
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "parameter \"%s.%s\": bad range or default", d->name,
					      p->name);
		if (p->type == GPX_PARAM_INTEGER && p->def_num != floor(p->def_num))
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "parameter \"%s.%s\": default is not an integer",
					      d->name, p->name);
		break;
	case GPX_PARAM_BOOL:
		if (p->def_bool != 0 && p->def_bool != 1)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "parameter \"%s.%s\": bad default", d->name, p->name);
		break;
	case GPX_PARAM_ENUM: {
		size_t n = gpx_param_noptions(p);
		int found = 0;
		for (size_t i = 0; i < n; i++)
			if (p->def_enum && strcmp(p->options[i], p->def_enum) == 0)
				found = 1;
		if (n == 0 || !found)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "parameter \"%s.%s\": no options or bad default",
					      d->name, p->name);
		break;
	}
	default:
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "parameter \"%s.%s\": bad type",
				      d->name, p->name);
	}
	return 0;
}

static int check_def(const gpx_filter_registry *r, const gpx_filter_def *d, gpx_status *st)
{
	if (!d || !valid_name(d->name))
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "filter definition: bad name");
	if (gpx_filter_registry_find(r, d->name))
		return gpx_status_set(st, GPX_ALREADY_EXISTS, "filter \"%s\" is already registered",
				      d->name);
	if (d->nparams > GPX_FILTER_MAX_PARAMS || (d->nparams && !d->params))
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "filter \"%s\": too many parameters", d->name);
	for (size_t i = 0; i < d->nparams; i++) {
		if (check_param_def(d, &d->params[i], st) != 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(d->params[i].name, d->params[j].name) == 0)
				return gpx_status_set(st, GPX_INVALID_ARGUMENT,
						      "filter \"%s\": parameter \"%s\" twice",
						      d->name, d->params[i].name);
	}
	if (d->cpu && (!d->cpu->plan || !d->cpu->rows))
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "filter \"%s\": CPU implementation lacks plan or rows",
				      d->name);
	return 0;
}

static int push(gpx_filter_registry *r, const gpx_filter_def *d)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		const gpx_filter_def **nd = realloc(r->defs, cap * sizeof(*nd));
		if (!nd)
			return -1;
		r->defs = nd;
		r->cap = cap;
	}
	r->defs[r->n++] = d;
	return 0;
}

int gpx_filter_registry_create(gpx_filter_registry **out)
{
	*out = NULL;
	gpx_filter_registry *r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	for (size_t i = 0; i < NBUILTIN; i++) {
		if (push(r, builtin_list[i]) != 0) {
			gpx_filter_registry_free(r);
			return -1;
		}
	}
	*out = r;
	return 0;
}

int gpx_filter_registry_add(gpx_filter_registry *r, const gpx_filter_def *def, gpx_status *st)
{
	if (check_def(r, def, st) != 0)
		return -1;
	if (push(r, def) != 0)
		return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
	return 0;
}

void gpx_filter_registry_free(gpx_filter_registry *r)
{
	if (!r)
		return;
	free(r->defs);
	free(r);
}

const gpx_filter_def *gpx_filter_registry_find(const gpx_filter_registry *r, const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->defs[i]->name, name) == 0)
			return r->defs[i];
	return NULL;
}

size_t gpx_filter_registry_count(const gpx_filter_registry *r)
{
	return r->n;
}

const gpx_filter_def *gpx_filter_registry_at(const gpx_filter_registry *r, size_t i)
{
	return i < r->n ? r->defs[i] : NULL;
}
