/* Base64 (RFC 4648): standard alphabet on output, standard and URL-safe
 * alphabets, with or without padding, on input. */
#ifndef GPX_BASE64_H
#define GPX_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Exact encoded length with padding. */
size_t gpx_base64_encoded_len(size_t n);
/* Writes gpx_base64_encoded_len(n) chars plus a NUL; returns the length. */
size_t gpx_base64_encode(char *out, const uint8_t *in, size_t n, int url_safe);
/* Upper bound of the decoded length of n input chars. */
size_t gpx_base64_decoded_max(size_t n);
/* Decodes n chars (either alphabet, padding optional); returns the decoded
 * length, or -1 on an invalid character or length. out needs
 * gpx_base64_decoded_max(n) bytes. */
long gpx_base64_decode(uint8_t *out, const char *in, size_t n);

#endif
