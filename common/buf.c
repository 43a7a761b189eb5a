#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gpx_buf_init(gpx_buf *b, size_t limit)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->limit = limit;
}

void gpx_buf_free(gpx_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void gpx_buf_reset(gpx_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

int gpx_buf_reserve(gpx_buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1)
		return -1;
	size_t need = b->len + extra;
	if (b->limit && need > b->limit)
		return -1;
	if (need + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need + 1)
		cap = cap > SIZE_MAX / 2 ? need + 1 : cap * 2;
	if (b->limit && cap > b->limit + 1)
		cap = b->limit + 1;
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int gpx_buf_append(gpx_buf *b, const void *p, size_t n)
{
	if (gpx_buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0; /* always NUL-terminated for text users */
	return 0;
}

int gpx_buf_append_str(gpx_buf *b, const char *s)
{
	return gpx_buf_append(b, s, strlen(s));
}

int gpx_buf_printf(gpx_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || gpx_buf_reserve(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void gpx_buf_consume(gpx_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = 0;
}

uint8_t *gpx_buf_steal(gpx_buf *b, size_t *len)
{
	uint8_t *p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
