#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/codec_internal.h"
#include "testutil.h"

/* An APP1 payload: "Exif\0\0", TIFF header, IFD0 with one or two entries. */
static size_t make_exif(uint8_t *p, int little, int orientation, int type)
{
	size_t n = 0;
	memcpy(p, "Exif\0\0", 6);
	n = 6;
	uint8_t *t = p + n;
#define W16(off, v)                                         \
	do {                                                \
		if (little) {                               \
			t[off] = (uint8_t)(v);              \
			t[(off) + 1] = (uint8_t)((v) >> 8); \
		} else {                                    \
			t[off] = (uint8_t)((v) >> 8);       \
			t[(off) + 1] = (uint8_t)(v);        \
		}                                           \
	} while (0)
#define W32(off, v)                                                    \
	do {                                                           \
		W16(little ? (off) : (off) + 2, (v)&0xffff);           \
		W16(little ? (off) + 2 : (off), ((v) >> 16) & 0xffff); \
	} while (0)
	t[0] = t[1] = little ? 'I' : 'M';
	W16(2, 42);
	W32(4, 8);
	W16(8, 2); /* two entries: an unrelated tag first */
	W16(10, 0x010f);
	W16(12, 2);
	W32(14, 4);
	W32(18, 0);
	W16(22, 0x0112);
	W16(24, type);
	W32(26, 1);
	W16(30, orientation);
	W16(32, 0);
	W32(34, 0); /* next IFD */
#undef W16
#undef W32
	return n + 38;
}

/* Inserts an APP1 segment with the payload right after SOI. */
static gpx_buf splice_app1(const gpx_buf *jpg, const uint8_t *payload, size_t n)
{
	gpx_buf out;
	gpx_buf_init(&out, 0);
	uint8_t hdr[4] = {0xff, 0xe1, (uint8_t)((n + 2) >> 8), (uint8_t)(n + 2)};
	ck_assert_int_eq(gpx_buf_append(&out, jpg->data, 2), 0);
	ck_assert_int_eq(gpx_buf_append(&out, hdr, 4), 0);
	ck_assert_int_eq(gpx_buf_append(&out, payload, n), 0);
	ck_assert_int_eq(gpx_buf_append(&out, jpg->data + 2, jpg->len - 2), 0);
	return out;
}

START_TEST(test_exif_reads_orientation_in_both_byte_orders)
{
	uint8_t p[64];
	for (int o = 1; o <= 8; o++) {
		size_t n = make_exif(p, 1, o, 3);
		ck_assert_int_eq(gpx_codec_exif_parse(p, n), o);
		n = make_exif(p, 0, o, 3);
		ck_assert_int_eq(gpx_codec_exif_parse(p, n), o);
	}
}
END_TEST

START_TEST(test_exif_ignores_bad_values_types_and_truncation)
{
	uint8_t p[64];
	size_t n = make_exif(p, 1, 9, 3);
	ck_assert_int_eq(gpx_codec_exif_parse(p, n), 0);
	n = make_exif(p, 1, 0, 3);
	ck_assert_int_eq(gpx_codec_exif_parse(p, n), 0);
	n = make_exif(p, 1, 6, 4); /* LONG, not SHORT */
	ck_assert_int_eq(gpx_codec_exif_parse(p, n), 0);
	n = make_exif(p, 0, 6, 3);
	for (size_t cut = 0; cut < n - 8; cut++) /* entry cut off: not read */
		ck_assert_int_eq(gpx_codec_exif_parse(p, cut), 0);
	/* IFD offset far past the end, entry count past the end. */
	n = make_exif(p, 1, 6, 3);
	p[6 + 4] = 0xff;
	p[6 + 7] = 0x7f;
	ck_assert_int_eq(gpx_codec_exif_parse(p, n), 0);
	n = make_exif(p, 1, 6, 3);
	p[6 + 8] = 0xff;
	p[6 + 9] = 0xff;
	p[6 + 22] = 0; /* orientation tag gone: walk runs off the end */
	ck_assert_int_eq(gpx_codec_exif_parse(p, n), 0);
	memcpy(p, "Exif\0\0II*\0", 10);
	ck_assert_int_eq(gpx_codec_exif_parse(p, 10), 0);
	memcpy(p, "XMP\0\0\0", 6);
	ck_assert_int_eq(gpx_codec_exif_parse(p, 40), 0);
}
END_TEST

START_TEST(test_exif_marker_walk_stops_at_bad_lengths)
{
	uint8_t p[64];
	size_t n = make_exif(p, 1, 6, 3);
	uint8_t jpg[128] = {0xff, 0xd8, 0xff, 0xe1, (uint8_t)((n + 2) >> 8), (uint8_t)(n + 2)};
	memcpy(jpg + 6, p, n);
	ck_assert_int_eq(gpx_codec_jpeg_orientation(jpg, 6 + n), 6);
	/* Segment longer than the data: ignored, never read past the end. */
	ck_assert_int_eq(gpx_codec_jpeg_orientation(jpg, 6 + n - 1), 1);
	jpg[4] = 0;
	jpg[5] = 1; /* length below 2 */
	ck_assert_int_eq(gpx_codec_jpeg_orientation(jpg, 6 + n), 1);
	ck_assert_int_eq(gpx_codec_jpeg_orientation(jpg, 0), 1);
	const uint8_t fills[] = {0xff, 0xd8, 0xff, 0xff, 0xff};
	ck_assert_int_eq(gpx_codec_jpeg_orientation(fills, sizeof(fills)), 1);
}
END_TEST

/* Where displayed pixel (x, y) comes from in the stored W x H image, as the
 * EXIF specification defines each orientation. */
static void exif_source(int o, uint32_t w, uint32_t h, uint32_t x, uint32_t y, uint32_t *sx,
			uint32_t *sy)
{
	switch (o) {
	case 1:
		*sx = x;
		*sy = y;
		break;
	case 2:
		*sx = w - 1 - x;
		*sy = y;
		break;
	case 3:
		*sx = w - 1 - x;
		*sy = h - 1 - y;
		break;
	case 4:
		*sx = x;
		*sy = h - 1 - y;
		break;
	case 5:
		*sx = y;
		*sy = x;
		break;
	case 6:
		*sx = y;
		*sy = h - 1 - x;
		break;
	case 7:
		*sx = w - 1 - y;
		*sy = h - 1 - x;
		break;
	default:
		*sx = w - 1 - y;
		*sy = x;
		break;
	}
}

START_TEST(test_exif_orient_matches_the_specification_for_all_channels)
{
	static const uint32_t chans[] = {1, 3, 4};
	for (size_t ci = 0; ci < 3; ci++) {
		/* Over one 64-pixel tile in each direction, odd sizes. */
		gpx_image src = tu_gradient(131, 70, chans[ci]);
		for (uint32_t y = 0; y < src.height; y++)
			for (uint32_t x = 0; x < src.width * src.channels; x++)
				gpx_image_row(&src, y)[x] = (uint8_t)(x * 7 + y * 13);
		for (int o = 1; o <= 8; o++) {
			gpx_image d;
			ck_assert_int_eq(gpx_codec_orient(&src, o, &d), 0);
			ck_assert_uint_eq(d.width, o >= 5 ? 70 : 131);
			ck_assert_uint_eq(d.height, o >= 5 ? 131 : 70);
			for (uint32_t y = 0; y < d.height; y++)
				for (uint32_t x = 0; x < d.width; x++) {
					uint32_t sx, sy;
					exif_source(o, src.width, src.height, x, y, &sx, &sy);
					ck_assert_mem_eq(gpx_image_row(&d, y) + x * d.channels,
							 gpx_image_row(&src, sy) + sx * d.channels,
							 d.channels);
				}
			gpx_image_free(&d);
		}
		gpx_image_free(&src);
	}
}
END_TEST

START_TEST(test_exif_orientation_6_and_8_rotate_a_row_as_documented)
{
	gpx_image src;
	ck_assert_int_eq(gpx_image_alloc(&src, 2, 1, 1), 0);
	src.data[0] = 'A';
	src.data[1] = 'B';
	gpx_image d;
	ck_assert_int_eq(gpx_codec_orient(&src, 6, &d), 0); /* 90° clockwise */
	ck_assert_uint_eq(d.width, 1);
	ck_assert_uint_eq(d.height, 2);
	ck_assert_int_eq(gpx_image_row(&d, 0)[0], 'A');
	ck_assert_int_eq(gpx_image_row(&d, 1)[0], 'B');
	gpx_image_free(&d);
	ck_assert_int_eq(gpx_codec_orient(&src, 8, &d), 0); /* 90° counter-clockwise */
	ck_assert_int_eq(gpx_image_row(&d, 0)[0], 'B');
	ck_assert_int_eq(gpx_image_row(&d, 1)[0], 'A');
	gpx_image_free(&d);
	gpx_image_free(&src);
}
END_TEST

START_TEST(test_exif_jpeg_with_orientation_is_decoded_upright)
{
	gpx_image src = tu_blocks(4, 2, 3); /* 64x32 */
	gpx_buf plain;
	gpx_status st;
	gpx_buf_init(&plain, 0);
	ck_assert_int_eq(gpx_codec_encode(&src, GPX_FMT_JPEG, 98, &plain, &st), 0);
	for (int o = 1; o <= 8; o++) {
		uint8_t p[64];
		size_t n = make_exif(p, o % 2, o, 3);
		gpx_buf jpg = splice_app1(&plain, p, n);
		gpx_codec_info info;
		ck_assert_int_eq(gpx_codec_probe(jpg.data, jpg.len, &info, &st), 0);
		ck_assert_int_eq(info.orientation, o);
		ck_assert_uint_eq(info.width, o >= 5 ? 32 : 64);
		ck_assert_uint_eq(info.height, o >= 5 ? 64 : 32);

		gpx_image out;
		ck_assert_msg(gpx_codec_decode(jpg.data, jpg.len, NULL, &out, &st) == 0, "%s",
			      st.msg);
		ck_assert_uint_eq(out.width, info.width);
		ck_assert_uint_eq(out.height, info.height);
		/* Block centres: each must hold the colour of the block the
		 * specification maps there. */
		for (uint32_t y = 8; y < out.height; y += 16)
			for (uint32_t x = 8; x < out.width; x += 16) {
				uint32_t sx, sy;
				exif_source(o, 64, 32, x, y, &sx, &sy);
				for (uint32_t c = 0; c < 3; c++) {
					int got = gpx_image_row(&out, y)[x * 3 + c];
					int want = tu_block_value(sx / 16, sy / 16, c);
					ck_assert_msg(abs(got - want) <= 12,
						      "o=%d (%u,%u) c=%u: %d vs %d", o, x, y, c,
						      got, want);
				}
			}
		/* Scaled decode turns the same way and swaps the target too. */
		gpx_image small;
		ck_assert_int_eq(gpx_codec_decode_scaled(jpg.data, jpg.len, NULL, info.width / 2, 0,
							 &small, &st),
				 0);
		ck_assert_uint_eq(small.width, info.width / 2);
		ck_assert_uint_eq(small.height, info.height / 2);
		gpx_image_free(&small);
		gpx_image_free(&out);
		gpx_buf_free(&jpg);
	}
	gpx_buf_free(&plain);
	gpx_image_free(&src);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("exif");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_exif_reads_orientation_in_both_byte_orders);
	tcase_add_test(tc, test_exif_ignores_bad_values_types_and_truncation);
	tcase_add_test(tc, test_exif_marker_walk_stops_at_bad_lengths);
	tcase_add_test(tc, test_exif_orient_matches_the_specification_for_all_channels);
	tcase_add_test(tc, test_exif_orientation_6_and_8_rotate_a_row_as_documented);
	tcase_add_test(tc, test_exif_jpeg_with_orientation_is_decoded_upright);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
