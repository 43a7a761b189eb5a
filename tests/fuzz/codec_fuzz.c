/* libFuzzer target for the codecs: probe, then decode (full and scaled)
 * under small limits, then re-encode what decoded. Build and run by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. -Ibuild \
 *     -I/usr/include/libpng16 tests/fuzz/codec_fuzz.c codec/codec.c codec/exif.c \
 *     codec/jpeg.c codec/png.c engine/image.c common/status.c common/buf.c \
 *     -lturbojpeg -lpng -lz -lpthread -o codec_fuzz
 *   ./codec_fuzz -max_len=65536 -rss_limit_mb=1024 data/samples
 */
#include <stddef.h>
#include <stdint.h>

#include "codec/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	gpx_codec_limits lim = {.max_pixels = 4u << 20, .max_side = 8192};
	gpx_codec_info info;
	gpx_status st;
	gpx_image img;
	if (gpx_codec_probe(data, len, &info, &st) < 0)
		return 0;
	if (gpx_codec_decode(data, len, &lim, &img, &st) == 0) {
		if (img.width != info.width || img.height != info.height)
			__builtin_trap(); /* probe and decode must agree */
		gpx_buf out;
		gpx_buf_init(&out, 0);
		gpx_codec_encode(&img, GPX_FMT_PNG, 0, &out, &st);
		gpx_codec_encode(&img, GPX_FMT_JPEG, 50, &out, &st);
		gpx_buf_free(&out);
		gpx_image_free(&img);
	}
	if (gpx_codec_decode_scaled(data, len, &lim, 16, 16, &img, &st) == 0)
		gpx_image_free(&img);
	return 0;
}
