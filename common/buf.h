/* A growable byte buffer with a hard limit.
 *
 * The owner of a gpx_buf frees it with gpx_buf_free. Every append checks the
 * limit first: bytes that would take the buffer past it are refused (-1)
 * and the buffer is left as it was. */
#ifndef GPX_BUF_H
#define GPX_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct gpx_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t limit; /* 0: no limit (only for data the server itself makes) */
} gpx_buf;

void gpx_buf_init(gpx_buf *b, size_t limit);
void gpx_buf_free(gpx_buf *b);
void gpx_buf_reset(gpx_buf *b); /* len = 0, keeps the memory */
int gpx_buf_reserve(gpx_buf *b, size_t extra);
int gpx_buf_append(gpx_buf *b, const void *p, size_t n);
int gpx_buf_append_str(gpx_buf *b, const char *s);
int gpx_buf_printf(gpx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void gpx_buf_consume(gpx_buf *b, size_t n);
/* Takes the bytes out; the buffer is empty afterwards, the caller frees. */
uint8_t *gpx_buf_steal(gpx_buf *b, size_t *len);

#endif
