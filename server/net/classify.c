#include "server/net/classify.h"

#include <string.h>

gpx_proto_guess gpx_classify(const uint8_t *p, size_t n)
{
	if (n == 0)
		return GPX_GUESS_NEED_MORE;
	/* TLS record: content type 22 (handshake), version major 3. */
	if (p[0] == 0x16) {
		if (n < 2)
			return GPX_GUESS_NEED_MORE;
		return p[1] == 0x03 ? GPX_GUESS_TLS : GPX_GUESS_HTTP1;
	}
	size_t k = n < GPX_H2_PREFACE_LEN ? n : GPX_H2_PREFACE_LEN;
	if (memcmp(p, GPX_H2_PREFACE, k) != 0)
		return GPX_GUESS_HTTP1;
	return n >= GPX_H2_PREFACE_LEN ? GPX_GUESS_H2 : GPX_GUESS_NEED_MORE;
}

int gpx_looks_like_http1(const uint8_t *p, size_t n)
{
	/* method SP: 1..20 upper-case letters (or '-', '_'), then a space. */
	size_t i = 0;
	for (; i < n && i <= 20; i++) {
		uint8_t c = p[i];
		if (c == ' ')
			return i > 0;
		if (!((c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
			return 0;
	}
	return i < n ? 0 : 1; /* all letters so far: could still be a method */
}
