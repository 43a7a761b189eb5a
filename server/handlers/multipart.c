#include "server/handlers/multipart.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int gpx_multipart_boundary(const char *ct, char *out, size_t cap)
{
	const char *p = ct ? strcasestr(ct, "boundary=") : NULL;
	if (!p)
		return -1;
	p += 9;
	size_t n = 0;
	if (*p == '"') {
		p++;
		while (p[n] && p[n] != '"')
			n++;
		if (p[n] != '"')
			return -1;
	} else {
		while (p[n] && p[n] != ';' && p[n] != ' ' && p[n] != '\t')
			n++;
	}
	if (n == 0 || n > 70 || n + 1 > cap)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static const uint8_t *find(const uint8_t *h, size_t hl, const char *needle, size_t nl)
{
	if (nl == 0 || hl < nl)
		return NULL;
	return memmem(h, hl, needle, nl);
}

/* Parameter `key` (name=, filename=) of a Content-Disposition value. */
static int disposition_param(const char *v, size_t vl, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i + kl < vl; i++) {
		if ((i == 0 || v[i - 1] == ';' || v[i - 1] == ' ') &&
		    strncasecmp(v + i, key, kl) == 0 && v[i + kl] == '=') {
			const char *p = v + i + kl + 1;
			const char *end = v + vl;
			size_t n = 0;
			if (p < end && *p == '"') {
				p++;
				while (p + n < end && p[n] != '"')
					n++;
			} else {
				while (p + n < end && p[n] != ';')
					n++;
			}
			if (n + 1 > cap)
				n = cap - 1;
			memcpy(out, p, n);
			out[n] = '\0';
			return 0;
		}
	}
	return -1;
}

int gpx_multipart_find(const uint8_t *body, size_t len, const char *boundary, const char *field,
		       gpx_part *part, gpx_status *st)
{
	char delim[80];
	int dl = snprintf(delim, sizeof(delim), "--%s", boundary);
	if (dl < 3 || (size_t)dl >= sizeof(delim))
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "bad multipart boundary");
	const uint8_t *p = find(body, len, delim, (size_t)dl);
	const uint8_t *end = body + len;
	if (!p)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "multipart body has no boundary");
	for (;;) {
		p += dl;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break; /* closing delimiter */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return gpx_status_set(st, GPX_INVALID_ARGUMENT, "malformed multipart body");
		p += 2;
		const uint8_t *hend = find(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (!hend)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "truncated multipart headers");
		char name[128] = "", filename[256] = "", ctype[128] = "";
		for (const uint8_t *line = p; line < hend;) {
			const uint8_t *eol = find(line, (size_t)(hend + 2 - line), "\r\n", 2);
			if (!eol)
				eol = hend;
			size_t ll = (size_t)(eol - line);
			const char *l = (const char *)line;
			if (ll > 20 && strncasecmp(l, "content-disposition:", 20) == 0) {
				disposition_param(l + 20, ll - 20, "name", name, sizeof(name));
				disposition_param(l + 20, ll - 20, "filename", filename,
						  sizeof(filename));
			} else if (ll > 13 && strncasecmp(l, "content-type:", 13) == 0) {
				size_t k = 13;
				while (k < ll && l[k] == ' ')
					k++;
				snprintf(ctype, sizeof(ctype), "%.*s", (int)(ll - k), l + k);
			}
			line = eol + 2;
		}
		const uint8_t *data = hend + 4;
		/* The part ends at CRLF + delimiter. */
		char crlf_delim[84];
		int cl = snprintf(crlf_delim, sizeof(crlf_delim), "\r\n%s", delim);
		const uint8_t *next = find(data, (size_t)(end - data), crlf_delim, (size_t)cl);
		if (!next)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT, "truncated multipart part");
		if (strcmp(name, field) == 0) {
			part->data = data;
			part->len = (size_t)(next - data);
			snprintf(part->filename, sizeof(part->filename), "%s", filename);
			snprintf(part->content_type, sizeof(part->content_type), "%s", ctype);
			return 0;
		}
		p = next + 2;
	}
	return gpx_status_set(st, GPX_INVALID_ARGUMENT, "multipart body has no \"%s\" field",
			      field);
}
