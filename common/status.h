/* Status codes shared by every layer: the Connect/gRPC codes, one message.
 *
 * A gpx_status is a small value the caller owns (no allocation): functions
 * that can fail fill one in and return a negative number, and the rpc layer
 * sends code and message to the client in whatever protocol it speaks. */
#ifndef GPX_STATUS_H
#define GPX_STATUS_H

#include <stdarg.h>

typedef enum gpx_code {
	GPX_OK = 0,
	GPX_CANCELED = 1,
	GPX_UNKNOWN = 2,
	GPX_INVALID_ARGUMENT = 3,
	GPX_DEADLINE_EXCEEDED = 4,
	GPX_NOT_FOUND = 5,
	GPX_ALREADY_EXISTS = 6,
	GPX_PERMISSION_DENIED = 7,
	GPX_RESOURCE_EXHAUSTED = 8,
	GPX_FAILED_PRECONDITION = 9,
	GPX_ABORTED = 10,
	GPX_OUT_OF_RANGE = 11,
	GPX_UNIMPLEMENTED = 12,
	GPX_INTERNAL = 13,
	GPX_UNAVAILABLE = 14,
	GPX_DATA_LOSS = 15,
	GPX_UNAUTHENTICATED = 16,
} gpx_code;

#define GPX_STATUS_MSG_MAX 512

typedef struct gpx_status {
	gpx_code code;
	char msg[GPX_STATUS_MSG_MAX];
} gpx_status;

/* Sets code and a printf-style message; returns -1 so callers can write
 * `return gpx_status_set(st, ...)`. st may be NULL. */
int gpx_status_set(gpx_status *st, gpx_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int gpx_status_vset(gpx_status *st, gpx_code code, const char *fmt, va_list ap);
void gpx_status_clear(gpx_status *st);

/* "invalid_argument", as the Connect protocol spells it. */
const char *gpx_code_name(gpx_code code);
/* Parses a Connect code name; returns -1 when unknown. */
int gpx_code_from_name(const char *name);
/* HTTP status for a code, as the Connect specification maps it. */
int gpx_code_http_status(gpx_code code);
/* The code a Connect client infers from an HTTP status with no error body. */
gpx_code gpx_code_from_http_status(int http_status);

#endif
