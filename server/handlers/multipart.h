/* multipart/form-data (RFC 7578), just enough to take one file field out of
 * a request body that is already in memory and bounded by the upload
 * limit. Nothing is copied: the part points into the body. */
#ifndef GPX_MULTIPART_H
#define GPX_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

typedef struct gpx_part {
	const uint8_t *data;
	size_t len;
	char filename[256];
	char content_type[128];
} gpx_part;

/* The boundary parameter of a Content-Type header into out (1..70 chars). */
int gpx_multipart_boundary(const char *content_type, char *out, size_t cap);

/* Finds the part whose Content-Disposition name is `field`. 0, or -1 with
 * st: invalid_argument for a malformed body or a missing field. */
int gpx_multipart_find(const uint8_t *body, size_t len, const char *boundary, const char *field,
		       gpx_part *part, gpx_status *st);

#endif
