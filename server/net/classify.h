/* Decides from a connection's first bytes which protocol it speaks. */
#ifndef GPX_CLASSIFY_H
#define GPX_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

typedef enum gpx_proto_guess {
	GPX_GUESS_NEED_MORE = 0, /* could still be the HTTP/2 preface */
	GPX_GUESS_HTTP1 = 1,
	GPX_GUESS_H2 = 2,  /* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */
	GPX_GUESS_TLS = 3, /* a TLS handshake record (ClientHello) */
} gpx_proto_guess;

#define GPX_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define GPX_H2_PREFACE_LEN 24

gpx_proto_guess gpx_classify(const uint8_t *p, size_t n);

/* Whether the bytes can start an HTTP/1.x request line ("GET /..."). */
int gpx_looks_like_http1(const uint8_t *p, size_t n);

#endif
