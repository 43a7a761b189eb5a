#include "common/url.h"

#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *gpx_url_decode(const char *s, size_t n, int plus_is_space)
{
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0) {
				free(out);
				return NULL;
			}
			c = (char)(hi << 4 | lo);
			if (c == '\0') {
				free(out);
				return NULL;
			}
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
}

int gpx_query_next(const char *q, size_t *pos, char **key, char **value)
{
	*key = *value = NULL;
	if (!q)
		return 0;
	size_t len = strlen(q);
	while (*pos < len) {
		const char *s = q + *pos;
		const char *amp = strchr(s, '&');
		size_t n = amp ? (size_t)(amp - s) : strlen(s);
		*pos += n + (amp ? 1 : 0);
		if (n == 0)
			continue;
		const char *eq = memchr(s, '=', n);
		size_t kl = eq ? (size_t)(eq - s) : n;
		*key = gpx_url_decode(s, kl, 1);
		*value = eq ? gpx_url_decode(eq + 1, n - kl - 1, 1) : strdup("");
		if (!*key || !*value) {
			free(*key);
			free(*value);
			*key = *value = NULL;
			return -1;
		}
		return 1;
	}
	return 0;
}

char *gpx_query_get(const char *query, const char *key)
{
	size_t pos = 0;
	char *k, *v;
	int r;
	while ((r = gpx_query_next(query, &pos, &k, &v)) == 1) {
		int match = strcmp(k, key) == 0;
		free(k);
		if (match)
			return v;
		free(v);
	}
	return NULL;
}
