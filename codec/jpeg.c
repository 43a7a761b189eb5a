/* JPEG through the TurboJPEG API, one decompress and one compress handle per
 * thread (creating them costs more than decoding a small preview). */
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <turbojpeg.h>

#include "codec/codec_internal.h"

static pthread_once_t keys_once = PTHREAD_ONCE_INIT;
static pthread_key_t key_dec, key_enc;
static int keys_ok;
/* The thread-local copies make the common path a plain load; the keys are
 * there only so their destructors free the handles at thread exit. */
static __thread tjhandle tl_dec, tl_enc;

static void destroy_handle(void *h)
{
	if (h)
		tjDestroy(h);
}

static void make_keys(void)
{
	if (pthread_key_create(&key_dec, destroy_handle) != 0)
		return;
	if (pthread_key_create(&key_enc, destroy_handle) != 0) {
		pthread_key_delete(key_dec);
		return;
	}
	keys_ok = 1;
}

static tjhandle thread_handle(int compress)
{
	tjhandle *slot = compress ? &tl_enc : &tl_dec;
	if (*slot)
		return *slot;
	*slot = compress ? tjInitCompress() : tjInitDecompress();
	if (!*slot)
		return NULL;
	pthread_once(&keys_once, make_keys);
	if (keys_ok)
		pthread_setspecific(compress ? key_enc : key_dec, *slot);
	return *slot;
}

/* A handle that failed is not trusted again: after an error inside
 * tjDecompressHeader3, libjpeg-turbo 2.1 leaves the decompressor mid-header
 * and the next header read on that handle reports a tables-only stream. */
static void drop_handle(int compress)
{
	tjhandle *slot = compress ? &tl_enc : &tl_dec;
	if (!*slot)
		return;
	tjDestroy(*slot);
	*slot = NULL;
	pthread_once(&keys_once, make_keys);
	if (keys_ok)
		pthread_setspecific(compress ? key_enc : key_dec, NULL);
}

void gpx_codec_thread_cleanup(void)
{
	drop_handle(0);
	drop_handle(1);
}

/* Fills st from the decompressor's last message, then drops the handle. */
static int jpeg_fail(tjhandle h, gpx_status *st)
{
	const char *m = tjGetErrorStr2(h);
	if (!m)
		m = "unknown error";
	/* The memory source inserts a fake EOI at the end of the data and warns,
	 * so truncation shows up as one of these two. */
	if (strstr(m, "Premature end") || strstr(m, "contains no image"))
		gpx_status_set(st, GPX_INVALID_ARGUMENT, "truncated JPEG data");
	else
		gpx_status_set(st, GPX_INVALID_ARGUMENT, "corrupt JPEG data: %s", m);
	drop_handle(0);
	return -1;
}

struct jpeg_header {
	int width, height, subsamp, colorspace;
	int orientation;
};

static int read_header(tjhandle h, const uint8_t *data, size_t len, struct jpeg_header *hd,
		       gpx_codec_info *info, gpx_status *st)
{
	memset(hd, 0, sizeof(*hd));
	if (len > ULONG_MAX)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "JPEG data too large");
	if (tjDecompressHeader3(h, data, (unsigned long)len, &hd->width, &hd->height, &hd->subsamp,
				&hd->colorspace) < 0)
		return jpeg_fail(h, st);
	/* An EOI (real, or the one the memory source fakes at the end of the
	 * data) before any frame header reads as a tables-only stream: success
	 * with nothing filled in. */
	if (hd->width <= 0 || hd->height <= 0) {
		drop_handle(0);
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "truncated JPEG data");
	}
	hd->orientation = gpx_codec_jpeg_orientation(data, len);
	int swap = hd->orientation >= 5;
	info->format = GPX_FMT_JPEG;
	info->width = (uint32_t)(swap ? hd->height : hd->width);
	info->height = (uint32_t)(swap ? hd->width : hd->height);
	info->channels = hd->colorspace == TJCS_GRAY ? 1 : 3;
	info->orientation = hd->orientation;
	return 0;
}

int gpx_codec_jpeg_probe(const uint8_t *data, size_t len, gpx_codec_info *info, gpx_status *st)
{
	tjhandle h = thread_handle(0);
	if (!h)
		return gpx_status_set(st, GPX_INTERNAL, "cannot create a JPEG decoder");
	struct jpeg_header hd;
	return read_header(h, data, len, &hd, info, st);
}

/* The smallest of 1/8, 1/4, 1/2, 1 that keeps the raw (unrotated) size at
 * least tw x th. */
static tjscalingfactor pick_scale(int w, int h, uint32_t tw, uint32_t th)
{
	static const tjscalingfactor f[] = {{1, 8}, {1, 4}, {1, 2}, {1, 1}};
	if (tw == 0 && th == 0)
		return f[3];
	for (size_t i = 0; i < 3; i++) {
		if ((tw == 0 || (uint32_t)TJSCALED(w, f[i]) >= tw) &&
		    (th == 0 || (uint32_t)TJSCALED(h, f[i]) >= th))
			return f[i];
	}
	return f[3];
}

/* Adobe-style (inverted) CMYK, as libjpeg-turbo reads and writes it, to
 * RGB in place: 4 bytes in, 3 out, so writes never pass the reads. */
static void cmyk_to_rgb(gpx_image *img)
{
	for (uint32_t y = 0; y < img->height; y++) {
		uint8_t *row = gpx_image_row(img, y);
		for (uint32_t x = 0; x < img->width; x++) {
			const uint8_t *s = row + (size_t)x * 4;
			unsigned c = s[0], m = s[1], ye = s[2], k = s[3];
			uint8_t *d = row + (size_t)x * 3;
			d[0] = (uint8_t)((c * k + 127) / 255);
			d[1] = (uint8_t)((m * k + 127) / 255);
			d[2] = (uint8_t)((ye * k + 127) / 255);
		}
	}
	img->channels = 3;
}

int gpx_codec_jpeg_decode(const uint8_t *data, size_t len, const gpx_codec_limits *lim,
			  uint32_t max_width, uint32_t max_height, gpx_image *out, gpx_status *st)
{
	tjhandle h = thread_handle(0);
	if (!h)
		return gpx_status_set(st, GPX_INTERNAL, "cannot create a JPEG decoder");
	struct jpeg_header hd;
	gpx_codec_info info;
	if (read_header(h, data, len, &hd, &info, st) < 0)
		return -1;
	if (gpx_codec_check_limits(&info, lim, st) < 0)
		return -1;

	int swap = hd.orientation >= 5;
	tjscalingfactor sf = pick_scale(hd.width, hd.height, swap ? max_height : max_width,
					swap ? max_width : max_height);
	int sw = TJSCALED(hd.width, sf), sh = TJSCALED(hd.height, sf);
	int cmyk = hd.colorspace == TJCS_CMYK || hd.colorspace == TJCS_YCCK;
	int pf = hd.colorspace == TJCS_GRAY ? TJPF_GRAY : cmyk ? TJPF_CMYK : TJPF_RGB;
	uint32_t ch = (uint32_t)tjPixelSize[pf];

	gpx_image raw;
	if (gpx_image_alloc(&raw, (uint32_t)sw, (uint32_t)sh, ch) < 0 || raw.stride > INT_MAX)
		goto fail_alloc;
	/* Warnings (truncated data, corrupt entropy-coded data) are errors: a
	 * stored image must decode cleanly. LIMITSCANS stops progressive files
	 * built to burn CPU with thousands of scans. */
	if (tjDecompress2(h, data, (unsigned long)len, raw.data, sw, (int)raw.stride, sh, pf,
			  TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) < 0) {
		jpeg_fail(h, st);
		goto fail_decode;
	}
	if (cmyk)
		cmyk_to_rgb(&raw);
	if (hd.orientation == 1) {
		*out = raw;
		return 0;
	}
	if (gpx_codec_orient(&raw, hd.orientation, out) < 0)
		goto fail_alloc;
	gpx_image_free(&raw);
	return 0;

fail_alloc:
	gpx_status_set(st, GPX_INTERNAL, "out of memory decoding a %dx%d JPEG", sw, sh);
fail_decode:
	gpx_image_free(&raw);
	memset(out, 0, sizeof(*out));
	return -1;
}

int gpx_codec_jpeg_encode(const gpx_image *img, int quality, gpx_buf *out, gpx_status *st)
{
	if (img->width > 65535 || img->height > 65535)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "image is %ux%u, over the JPEG maximum of 65535 per side",
				      img->width, img->height);
	if (img->stride > INT_MAX)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "image rows too long for JPEG");
	tjhandle h = thread_handle(1);
	if (!h)
		return gpx_status_set(st, GPX_INTERNAL, "cannot create a JPEG encoder");
	int pf, ss;
	switch (img->channels) {
	case 1:
		pf = TJPF_GRAY;
		ss = TJSAMP_GRAY;
		break;
	case 3:
		pf = TJPF_RGB;
		ss = TJSAMP_420;
		break;
	default: /* RGBA: the X in RGBX is skipped, so alpha is dropped */
		pf = TJPF_RGBX;
		ss = TJSAMP_420;
		break;
	}
	int w = (int)img->width, hgt = (int)img->height, pitch = (int)img->stride;
	unsigned long bound = tjBufSize(w, hgt, ss);
	if (bound == (unsigned long)-1)
		return gpx_status_set(st, GPX_INTERNAL, "JPEG size bound: %s", tjGetErrorStr2(h));

	if (!out->limit || (out->limit >= out->len && out->limit - out->len >= bound)) {
		/* Worst case fits: compress straight into the caller's buffer. */
		if (gpx_buf_reserve(out, bound) < 0)
			return gpx_status_set(st, GPX_INTERNAL, "out of memory encoding JPEG");
		unsigned char *dst = out->data + out->len;
		unsigned long size = bound;
		if (tjCompress2(h, img->data, w, pitch, hgt, pf, &dst, &size, ss, quality,
				TJFLAG_NOREALLOC) < 0) {
			gpx_status_set(st, GPX_INTERNAL, "JPEG encode failed: %s",
				       tjGetErrorStr2(h));
			drop_handle(1);
			return -1;
		}
		out->len += size;
		out->data[out->len] = 0;
		return 0;
	}
	unsigned char *dst = NULL;
	unsigned long size = 0;
	if (tjCompress2(h, img->data, w, pitch, hgt, pf, &dst, &size, ss, quality, 0) < 0) {
		tjFree(dst);
		gpx_status_set(st, GPX_INTERNAL, "JPEG encode failed: %s", tjGetErrorStr2(h));
		drop_handle(1);
		return -1;
	}
	int rc = gpx_buf_append(out, dst, size);
	tjFree(dst);
	if (rc < 0)
		return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED,
				      "encoded JPEG is %lu bytes, over the output limit", size);
	return 0;
}
