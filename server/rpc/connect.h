/* Connect protocol helpers shared by the adapters and their tests. */
#ifndef GPX_CONNECT_H
#define GPX_CONNECT_H

#include "common/buf.h"
#include "common/status.h"

/* {"code":"not_found","message":"..."} */
void connect_error_json(gpx_buf *b, const gpx_status *st);
/* Connect-Timeout-Ms: 1 to 10 ASCII digits. */
int gpx_connect_parse_timeout(const char *v, double *seconds);
/* Decodes the query of a Connect GET request: encoding (json|proto),
 * message (percent-decoded, base64 when base64=1), compression. */
int gpx_connect_get_decode(const char *query, int *binary, int *gzip, gpx_buf *msg, gpx_status *st);

#endif
