#include "cli/connect_wire.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

void gpx_cw_envelope_header(uint8_t out[GPX_CW_HEADER_LEN], uint8_t flags, uint32_t len)
{
	out[0] = flags;
	out[1] = (uint8_t)(len >> 24);
	out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
}

int gpx_cw_envelope_append(gpx_buf *b, uint8_t flags, const void *payload, size_t len)
{
	uint8_t hdr[GPX_CW_HEADER_LEN];
	size_t before = b->len;

	if (len > UINT32_MAX)
		return -1;
	gpx_cw_envelope_header(hdr, flags, (uint32_t)len);
	/* Reserve for both parts first, so that a refusal leaves b as it was. */
	if (gpx_buf_reserve(b, sizeof(hdr) + len) < 0)
		return -1;
	if (gpx_buf_append(b, hdr, sizeof(hdr)) < 0 ||
	    (len && gpx_buf_append(b, payload, len) < 0)) {
		b->len = before;
		return -1;
	}
	return 0;
}

void gpx_cw_reader_init(gpx_cw_reader *r, size_t max_len)
{
	memset(r, 0, sizeof(*r));
	r->max_len = max_len;
	gpx_buf_init(&r->payload, 0);
}

void gpx_cw_reader_free(gpx_cw_reader *r)
{
	gpx_buf_free(&r->payload);
}

void gpx_cw_reader_next(gpx_cw_reader *r)
{
	r->hdr_len = 0;
	r->flags = 0;
	r->need = 0;
	r->ready = 0;
	gpx_buf_reset(&r->payload);
}

int gpx_cw_reader_idle(const gpx_cw_reader *r)
{
	return r->hdr_len == 0 && !r->ready;
}

int gpx_cw_reader_feed(gpx_cw_reader *r, const uint8_t *p, size_t n, size_t *used, gpx_status *st)
{
	size_t off = 0;

	*used = 0;
	if (r->ready)
		return 1;
	if (r->hdr_len < GPX_CW_HEADER_LEN) {
		size_t take = GPX_CW_HEADER_LEN - r->hdr_len;
		if (take > n)
			take = n;
		memcpy(r->hdr + r->hdr_len, p, take);
		r->hdr_len += take;
		off += take;
		if (r->hdr_len < GPX_CW_HEADER_LEN) {
			*used = off;
			return 0;
		}
		r->flags = r->hdr[0];
		r->need = (uint32_t)r->hdr[1] << 24 | (uint32_t)r->hdr[2] << 16 |
			  (uint32_t)r->hdr[3] << 8 | (uint32_t)r->hdr[4];
		if (r->need > r->max_len) {
			*used = off;
			return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED,
					      "message of %u bytes is over the limit of %zu bytes",
					      (unsigned)r->need, r->max_len);
		}
		if (gpx_buf_reserve(&r->payload, r->need) < 0) {
			*used = off;
			return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED,
					      "out of memory for a message of %u bytes",
					      (unsigned)r->need);
		}
	}
	size_t take = r->need - r->payload.len;
	if (take > n - off)
		take = n - off;
	if (take && gpx_buf_append(&r->payload, p + off, take) < 0) {
		*used = off;
		return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
	}
	off += take;
	*used = off;
	if (r->payload.len < r->need)
		return 0;
	r->ready = 1;
	return 1;
}

/* Copies s into out as one printable line. */
static void set_line(gpx_status *out, gpx_code code, const char *s, size_t len)
{
	size_t i;

	out->code = code;
	if (len >= sizeof(out->msg))
		len = sizeof(out->msg) - 1;
	for (i = 0; i < len && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];
		out->msg[i] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	out->msg[i] = 0;
}

static gpx_code code_of(const cJSON *code)
{
	int c;

	if (!cJSON_IsString(code))
		return GPX_UNKNOWN;
	c = gpx_code_from_name(code->valuestring);
	/* "ok" is no error code: a peer that sends it is confused. */
	return c <= 0 ? GPX_UNKNOWN : (gpx_code)c;
}

/* Fills out from a parsed {"code","message"} object. 0 when it has a code. */
static int from_error_object(const cJSON *err, gpx_status *out)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");

	if (!cJSON_IsObject(err) || !cJSON_IsString(code))
		return -1;
	if (cJSON_IsString(msg))
		set_line(out, code_of(code), msg->valuestring, strlen(msg->valuestring));
	else
		set_line(out, code_of(code), "", 0);
	return 0;
}

static int is_text(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == 0 || (ch < 0x20 && !isspace(ch)))
			return 0;
	}
	return 1;
}

void gpx_cw_error_from_body(const char *body, size_t len, int http_status, gpx_status *out)
{
	cJSON *root = NULL;
	char line[160];
	size_t i, n;

	if (len)
		root = cJSON_ParseWithLength(body, len);
	if (root && from_error_object(root, out) == 0) {
		cJSON_Delete(root);
		return;
	}
	cJSON_Delete(root);

	/* No Connect error: a proxy's page, or nothing. Say what came back. */
	n = (size_t)snprintf(line, sizeof(line), "HTTP status %d", http_status);
	if (len && is_text(body, len)) {
		while (len && isspace((unsigned char)*body)) {
			body++;
			len--;
		}
		for (i = 0; i < len && body[i] != '\n' && body[i] != '\r'; i++)
			;
		if (i) {
			if (i > 80)
				i = 80;
			n += (size_t)snprintf(line + n, sizeof(line) - n, ": %.*s", (int)i, body);
		}
	}
	set_line(out, gpx_code_from_http_status(http_status), line, n);
}

void gpx_cw_parse_end_stream(const char *json, size_t len, gpx_status *out)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *err;

	if (!cJSON_IsObject(root)) {
		set_line(out, GPX_INTERNAL, "malformed end-of-stream message", 31);
		goto out;
	}
	err = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (!err || cJSON_IsNull(err)) {
		gpx_status_clear(out);
		goto out;
	}
	if (!cJSON_IsObject(err)) {
		set_line(out, GPX_INTERNAL, "malformed end-of-stream message", 31);
		goto out;
	}
	if (from_error_object(err, out) < 0) {
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");
		const char *m = cJSON_IsString(msg) ? msg->valuestring : "";
		set_line(out, GPX_UNKNOWN, m, strlen(m));
	}
out:
	cJSON_Delete(root);
}
