/* Percent-decoding and query strings (RFC 3986, application/x-www-form-urlencoded). */
#ifndef GPX_URL_H
#define GPX_URL_H

#include <stddef.h>

/* Decodes n bytes; plus_is_space for query strings. Returns a malloc'd
 * NUL-terminated string, or NULL on a bad escape or an embedded NUL. */
char *gpx_url_decode(const char *s, size_t n, int plus_is_space);

/* Iterates "a=1&b=2": on each call fills key/value (decoded, malloc'd, the
 * caller frees both) and advances *pos. Returns 1 for a pair, 0 at the end,
 * -1 on a malformed escape. */
int gpx_query_next(const char *query, size_t *pos, char **key, char **value);

/* The first value of key in query, decoded and malloc'd; NULL if absent. */
char *gpx_query_get(const char *query, const char *key);

#endif
