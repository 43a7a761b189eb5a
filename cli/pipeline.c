#include "cli/pipeline.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The next comma-separated item of s from *pos, spaces around it dropped.
 * Returns 1 with *item and *len set, 0 after the last one. */
static int next_item(const char *s, size_t *pos, const char **item, size_t *len)
{
	const char *p, *end;

	if (*pos == SIZE_MAX)
		return 0;
	p = s + *pos;
	end = strchr(p, ',');
	if (end) {
		*pos = (size_t)(end - s) + 1;
	} else {
		end = p + strlen(p);
		*pos = SIZE_MAX;
	}
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	*item = p;
	*len = (size_t)(end - p);
	return 1;
}

static int name_ok(const char *s, size_t len, int dots)
{
	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || c == '_' || c == '-' || (dots && c == '.')))
			return 0;
	}
	return 1;
}

static void free_steps(Gpix__V1__FilterStep **steps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(&steps[i]->base, NULL);
	free(steps);
}

void gpx_cli_pipeline_free(gpx_cli_pipeline *p)
{
	free_steps(p->steps, p->n_steps);
	p->steps = NULL;
	p->n_steps = 0;
}

Google__Protobuf__Value *gpx_cli_value_parse(const char *text)
{
	Google__Protobuf__Value *v = malloc(sizeof(*v));
	size_t len = strlen(text);
	char *end;
	double d;

	if (!v)
		return NULL;
	google__protobuf__value__init(v);
	if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
		v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
		v->bool_value = text[0] == 't';
		return v;
	}
	errno = 0;
	d = strtod(text, &end);
	/* strtod also reads "nan", "inf" and hex: none is a parameter value. */
	if (len && end == text + len && !errno && isfinite(d) && !strpbrk(text, "xXnN")) {
		v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
		v->number_value = d;
		return v;
	}
	if (len >= 2 && (text[0] == '"' || text[0] == '\'') && text[len - 1] == text[0]) {
		text++;
		len -= 2;
	}
	v->string_value = strndup(text, len);
	if (!v->string_value) {
		free(v);
		return NULL;
	}
	v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
	return v;
}

static int oom(gpx_status *st)
{
	return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
}

/* Sets key to a copy of value in step, replacing an earlier setting. */
static int step_set(Gpix__V1__FilterStep *step, const char *key, size_t key_len, const char *value,
		    gpx_status *st)
{
	Gpix__V1__FilterStep__ParamsEntry *e = NULL, **grown;
	Google__Protobuf__Value *v = gpx_cli_value_parse(value);

	if (!v)
		return oom(st);
	for (size_t i = 0; i < step->n_params; i++) {
		if (strlen(step->params[i]->key) == key_len &&
		    strncmp(step->params[i]->key, key, key_len) == 0) {
			e = step->params[i];
			protobuf_c_message_free_unpacked(&e->value->base, NULL);
			e->value = v;
			return 0;
		}
	}
	e = malloc(sizeof(*e));
	if (!e)
		goto fail_entry;
	gpix__v1__filter_step__params_entry__init(e);
	e->key = strndup(key, key_len);
	if (!e->key)
		goto fail_key;
	grown = realloc(step->params, (step->n_params + 1) * sizeof(*grown));
	if (!grown)
		goto fail_grow;
	step->params = grown;
	e->value = v;
	step->params[step->n_params++] = e;
	return 0;

fail_grow:
	free(e->key);
fail_key:
	free(e);
fail_entry:
	protobuf_c_message_free_unpacked(&v->base, NULL);
	return oom(st);
}

static int add_step(gpx_cli_pipeline *p, const char *name, size_t len, gpx_status *st)
{
	Gpix__V1__FilterStep *step, **grown;

	step = malloc(sizeof(*step));
	if (!step)
		return oom(st);
	gpix__v1__filter_step__init(step);
	step->name = strndup(name, len);
	grown = step->name ? realloc(p->steps, (p->n_steps + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		free(step->name);
		free(step);
		return oom(st);
	}
	p->steps = grown;
	p->steps[p->n_steps++] = step;
	return 0;
}

/* One "filter.param=value" of --set. */
static int apply_set(gpx_cli_pipeline *p, const char *item, size_t len, const char *whole,
		     gpx_status *st)
{
	const char *eq = memchr(item, '=', len), *dot;
	size_t key_len, matched = 0;
	char *value;
	int ret = 0;

	if (!eq)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "--set \"%.*s\": expected FILTER.PARAM=VALUE", (int)len,
				      item);
	key_len = (size_t)(eq - item);
	while (key_len && isspace((unsigned char)item[key_len - 1]))
		key_len--;
	dot = NULL;
	for (size_t i = 0; i < key_len; i++)
		if (item[i] == '.')
			dot = item + i;
	if (!dot || !name_ok(item, (size_t)(dot - item), 1) ||
	    !name_ok(dot + 1, key_len - (size_t)(dot + 1 - item), 0))
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "--set \"%.*s\": expected FILTER.PARAM=VALUE", (int)len,
				      item);
	const char *v = eq + 1;
	size_t v_len = len - (size_t)(v - item);
	while (v_len && isspace((unsigned char)*v)) {
		v++;
		v_len--;
	}
	if (!v_len)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "--set \"%.*s\": no value",
				      (int)len, item);
	value = strndup(v, v_len);
	if (!value)
		return oom(st);
	size_t f_len = (size_t)(dot - item);
	for (size_t i = 0; i < p->n_steps && ret == 0; i++) {
		if (strlen(p->steps[i]->name) != f_len ||
		    strncmp(p->steps[i]->name, item, f_len) != 0)
			continue;
		matched++;
		ret = step_set(p->steps[i], dot + 1, key_len - f_len - 1, value, st);
	}
	free(value);
	if (ret == 0 && !matched)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "--set \"%.*s\": filter \"%.*s\" is not in --filters \"%s\"",
				      (int)len, item, (int)f_len, item, whole ? whole : "");
	return ret;
}

int gpx_cli_pipeline_parse(const char *filters, const char *const *sets, size_t n_sets,
			   gpx_cli_pipeline *p, gpx_status *st)
{
	const char *item;
	size_t pos = 0, len;

	p->n_steps = 0;
	p->steps = NULL;
	if (filters && *filters) {
		while (next_item(filters, &pos, &item, &len)) {
			if (!name_ok(item, len, 1)) {
				if (len)
					gpx_status_set(st, GPX_INVALID_ARGUMENT,
						       "--filters \"%s\": \"%.*s\" is not a filter "
						       "name",
						       filters, (int)len, item);
				else
					gpx_status_set(st, GPX_INVALID_ARGUMENT,
						       "--filters \"%s\": empty filter name",
						       filters);
				goto fail;
			}
			if (add_step(p, item, len, st) < 0)
				goto fail;
		}
	}
	for (size_t i = 0; i < n_sets; i++) {
		pos = 0;
		if (!*sets[i]) {
			gpx_status_set(st, GPX_INVALID_ARGUMENT,
				       "--set needs FILTER.PARAM=VALUE, got \"\"");
			goto fail;
		}
		while (next_item(sets[i], &pos, &item, &len))
			if (apply_set(p, item, len, filters, st) < 0)
				goto fail;
	}
	return 0;
fail:
	gpx_cli_pipeline_free(p);
	return -1;
}

void gpx_cli_tune_params_free(gpx_cli_tune_params *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->items[i].parameter);
	free(p->items);
	p->items = NULL;
	p->n = 0;
}

int gpx_cli_tune_params_parse(const char *s, gpx_cli_tune_params *out, gpx_status *st)
{
	const char *item;
	size_t pos = 0, len;

	out->n = 0;
	out->items = NULL;
	while (next_item(s, &pos, &item, &len)) {
		const char *sep = NULL, *dot = NULL;
		gpx_cli_tune_param *grown;
		char num[64], *end;
		size_t key_len, v_len;
		double d;

		for (size_t i = 0; i < len && !sep; i++)
			if (item[i] == ':' || item[i] == '=')
				sep = item + i;
		key_len = sep ? (size_t)(sep - item) : 0;
		for (size_t i = 0; i < key_len; i++)
			if (item[i] == '.')
				dot = item + i;
		if (!sep || !dot || !name_ok(item, (size_t)(dot - item), 1) ||
		    !name_ok(dot + 1, key_len - (size_t)(dot + 1 - item), 0)) {
			gpx_status_set(st, GPX_INVALID_ARGUMENT,
				       "--params \"%.*s\": expected FILTER.PARAM:VALUE", (int)len,
				       item);
			goto fail;
		}
		v_len = len - key_len - 1;
		if (v_len >= sizeof(num))
			v_len = sizeof(num) - 1;
		memcpy(num, sep + 1, v_len);
		num[v_len] = 0;
		errno = 0;
		d = strtod(num, &end);
		if (!v_len || end == num || *end || errno || !isfinite(d) || strpbrk(num, "xXnN")) {
			gpx_status_set(st, GPX_INVALID_ARGUMENT,
				       "--params \"%.*s\": \"%s\" is not a number", (int)len, item,
				       num);
			goto fail;
		}
		grown = realloc(out->items, (out->n + 1) * sizeof(*grown));
		if (!grown) {
			oom(st);
			goto fail;
		}
		out->items = grown;
		out->items[out->n].parameter = strndup(item, key_len);
		out->items[out->n].value = d;
		if (!out->items[out->n].parameter) {
			oom(st);
			goto fail;
		}
		out->n++;
	}
	if (!out->n) {
		gpx_status_set(st, GPX_INVALID_ARGUMENT,
			       "--params needs FILTER.PARAM:VALUE items, e.g. blur.sigma:2");
		goto fail;
	}
	return 0;
fail:
	gpx_cli_tune_params_free(out);
	return -1;
}
