#include "common/status.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int http;
} codes[] = {
	[GPX_OK] = {"ok", 200},
	[GPX_CANCELED] = {"canceled", 499},
	[GPX_UNKNOWN] = {"unknown", 500},
	[GPX_INVALID_ARGUMENT] = {"invalid_argument", 400},
	[GPX_DEADLINE_EXCEEDED] = {"deadline_exceeded", 504},
	[GPX_NOT_FOUND] = {"not_found", 404},
	[GPX_ALREADY_EXISTS] = {"already_exists", 409},
	[GPX_PERMISSION_DENIED] = {"permission_denied", 403},
	[GPX_RESOURCE_EXHAUSTED] = {"resource_exhausted", 429},
	[GPX_FAILED_PRECONDITION] = {"failed_precondition", 400},
	[GPX_ABORTED] = {"aborted", 409},
	[GPX_OUT_OF_RANGE] = {"out_of_range", 400},
	[GPX_UNIMPLEMENTED] = {"unimplemented", 501},
	[GPX_INTERNAL] = {"internal", 500},
	[GPX_UNAVAILABLE] = {"unavailable", 503},
	[GPX_DATA_LOSS] = {"data_loss", 500},
	[GPX_UNAUTHENTICATED] = {"unauthenticated", 401},
};

#define NCODES ((int)(sizeof(codes) / sizeof(codes[0])))

int gpx_status_vset(gpx_status *st, gpx_code code, const char *fmt, va_list ap)
{
	if (st) {
		st->code = code;
		vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
	}
	return -1;
}

int gpx_status_set(gpx_status *st, gpx_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gpx_status_vset(st, code, fmt, ap);
	va_end(ap);
	return -1;
}

void gpx_status_clear(gpx_status *st)
{
	st->code = GPX_OK;
	st->msg[0] = '\0';
}

const char *gpx_code_name(gpx_code code)
{
	if ((int)code < 0 || (int)code >= NCODES)
		return "unknown";
	return codes[code].name;
}

int gpx_code_from_name(const char *name)
{
	for (int i = 0; i < NCODES; i++)
		if (strcmp(codes[i].name, name) == 0)
			return i;
	return -1;
}

int gpx_code_http_status(gpx_code code)
{
	if ((int)code < 0 || (int)code >= NCODES)
		return 500;
	return codes[code].http;
}

gpx_code gpx_code_from_http_status(int s)
{
	/* Connect spec: HTTP to code mapping for errors without a body. */
	switch (s) {
	case 400: return GPX_INTERNAL;
	case 401: return GPX_UNAUTHENTICATED;
	case 403: return GPX_PERMISSION_DENIED;
	case 404: return GPX_UNIMPLEMENTED;
	case 429: return GPX_UNAVAILABLE;
	case 502: return GPX_UNAVAILABLE;
	case 503: return GPX_UNAVAILABLE;
	case 504: return GPX_UNAVAILABLE;
	default: return GPX_UNKNOWN;
	}
}
