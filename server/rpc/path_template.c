/* google.api.http path templates:
 *
 *   Template = "/" Segments [ Verb ] ;
 *   Segments = Segment { "/" Segment } ;
 *   Segment  = "*" | "**" | LITERAL | Variable ;
 *   Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *   Verb     = ":" LITERAL ;
 *
 * Compiled once into a flat segment list; matching walks the request path
 * segment by segment ("**" only as the last segment, as the spec requires). */
#include <stdlib.h>
#include <string.h>

#include "common/url.h"
#include "server/rpc/methods.h"

static int add_seg(gpx_path_template *t, gpx_path_seg_kind k, const char *lit, size_t n, int var)
{
	gpx_path_seg *s = realloc(t->segs, (t->nsegs + 1) * sizeof(*s));
	if (!s)
		return -1;
	t->segs = s;
	s = &t->segs[t->nsegs];
	s->kind = k;
	s->var = var;
	s->literal = NULL;
	if (k == GPX_SEG_LITERAL) {
		s->literal = strndup(lit, n);
		if (!s->literal)
			return -1;
	}
	t->nsegs++;
	return 0;
}

static int parse_segs(gpx_path_template *t, const char **pp, const char *end, int var,
		      gpx_status *st)
{
	const char *p = *pp;
	for (;;) {
		const char *s = p;
		while (p < end && *p != '/' && *p != '}')
			p++;
		size_t n = (size_t)(p - s);
		if (n == 0)
			return gpx_status_set(st, GPX_INTERNAL, "empty path segment");
		if (n == 1 && s[0] == '*') {
			if (add_seg(t, GPX_SEG_STAR, NULL, 0, var) < 0)
				return -1;
		} else if (n == 2 && s[0] == '*' && s[1] == '*') {
			if (add_seg(t, GPX_SEG_DOUBLESTAR, NULL, 0, var) < 0)
				return -1;
		} else if (s[0] == '{') {
			if (var >= 0)
				return gpx_status_set(st, GPX_INTERNAL, "nested variable");
			const char *close = memchr(s, '}', (size_t)(end - s));
			if (!close)
				return gpx_status_set(st, GPX_INTERNAL, "unterminated variable");
			const char *eq = memchr(s, '=', (size_t)(close - s));
			const char *fe = eq ? eq : close;
			gpx_path_var *v = realloc(t->vars, (t->nvars + 1) * sizeof(*v));
			if (!v)
				return -1;
			t->vars = v;
			v = &t->vars[t->nvars];
			v->field = strndup(s + 1, (size_t)(fe - s - 1));
			v->first = (int)t->nsegs;
			int idx = (int)t->nvars++;
			if (eq) {
				const char *q = eq + 1;
				if (parse_segs(t, &q, close, idx, st) < 0)
					return -1;
			} else if (add_seg(t, GPX_SEG_STAR, NULL, 0, idx) < 0) {
				return -1;
			}
			t->vars[idx].last = (int)t->nsegs - 1;
			p = close + 1;
		} else {
			if (memchr(s, '{', n) || memchr(s, '*', n))
				return gpx_status_set(st, GPX_INTERNAL, "bad literal segment");
			if (add_seg(t, GPX_SEG_LITERAL, s, n, var) < 0)
				return -1;
		}
		if (p >= end || *p != '/')
			break;
		p++;
	}
	*pp = p;
	return 0;
}

int gpx_path_template_compile(gpx_path_template *t, const char *pattern, gpx_status *st)
{
	memset(t, 0, sizeof(*t));
	if (pattern[0] != '/')
		return gpx_status_set(st, GPX_INTERNAL, "template must start with /: %s", pattern);
	const char *end = pattern + strlen(pattern);
	/* The verb is a ':' after the last '/' and outside any variable. */
	const char *last_slash = strrchr(pattern, '/');
	const char *colon = strrchr(last_slash, ':');
	const char *brace = strrchr(last_slash, '}');
	if (colon && (!brace || colon > brace)) {
		t->verb = strdup(colon + 1);
		end = colon;
	}
	const char *p = pattern + 1;
	if (parse_segs(t, &p, end, -1, st) < 0 || p != end) {
		gpx_path_template_free(t);
		if (st && st->code == GPX_OK)
			gpx_status_set(st, GPX_INTERNAL, "bad path template %s", pattern);
		return -1;
	}
	for (size_t i = 0; i + 1 < t->nsegs; i++)
		if (t->segs[i].kind == GPX_SEG_DOUBLESTAR) {
			gpx_path_template_free(t);
			return gpx_status_set(st, GPX_INTERNAL, "** must be last: %s", pattern);
		}
	return 0;
}

void gpx_path_template_free(gpx_path_template *t)
{
	for (size_t i = 0; i < t->nsegs; i++)
		free(t->segs[i].literal);
	for (size_t i = 0; i < t->nvars; i++)
		free(t->vars[i].field);
	free(t->segs);
	free(t->vars);
	free(t->verb);
	memset(t, 0, sizeof(*t));
}

int gpx_path_template_match(const gpx_path_template *t, const char *path, char **values)
{
	if (path[0] != '/')
		return 0;
	size_t plen = strlen(path);
	/* Split off the verb: the last segment's ':' suffix. */
	const char *last_slash = strrchr(path, '/');
	const char *pend = path + plen;
	if (t->verb) {
		const char *colon = strrchr(last_slash, ':');
		if (!colon || strcmp(colon + 1, t->verb) != 0)
			return 0;
		pend = colon;
	}
	/* Segment boundaries of the request path. */
	const char *starts[64], *ends[64];
	size_t n = 0;
	const char *p = path + 1;
	while (p <= pend) {
		if (n == 64)
			return 0;
		const char *s = p;
		while (p < pend && *p != '/')
			p++;
		starts[n] = s;
		ends[n] = p;
		n++;
		p++;
	}
	if (n == 1 && starts[0] == ends[0] && t->nsegs == 0)
		return 1;
	size_t i = 0, j = 0;
	int seg_first[64], seg_last[64];
	for (; i < t->nsegs; i++) {
		const gpx_path_seg *s = &t->segs[i];
		if (s->kind == GPX_SEG_DOUBLESTAR) {
			if (j >= n)
				return 0;
			seg_first[i] = (int)j;
			seg_last[i] = (int)n - 1;
			j = n;
			continue;
		}
		if (j >= n)
			return 0;
		size_t len = (size_t)(ends[j] - starts[j]);
		if (len == 0)
			return 0;
		if (s->kind == GPX_SEG_LITERAL &&
		    (strlen(s->literal) != len || memcmp(s->literal, starts[j], len) != 0))
			return 0;
		seg_first[i] = seg_last[i] = (int)j;
		j++;
	}
	if (j != n)
		return 0;
	for (size_t v = 0; v < t->nvars; v++) {
		const char *from = starts[seg_first[t->vars[v].first]];
		const char *to = ends[seg_last[t->vars[v].last]];
		values[v] = gpx_url_decode(from, (size_t)(to - from), 0);
		if (!values[v]) {
			for (size_t k = 0; k < v; k++) {
				free(values[k]);
				values[k] = NULL;
			}
			return 0;
		}
	}
	return 1;
}
