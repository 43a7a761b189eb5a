#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/filters/scratch.h"

START_TEST(test_scratch_returns_the_same_buffer_for_the_same_size)
{
	gpx_scratch *s;
	ck_assert_int_eq(gpx_scratch_create(0, 0, &s), 0);
	void *a = gpx_scratch_get(s, 100000);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq((uintptr_t)a % 64, 0);
	gpx_scratch_put(s, a, 100000);
	void *b = gpx_scratch_get(s, 99000); /* rounds to the same size class */
	ck_assert_ptr_eq(a, b);
	gpx_scratch_stats st;
	gpx_scratch_get_stats(s, &st);
	ck_assert_uint_eq(st.hits, 1);
	ck_assert_uint_eq(st.misses, 1);
	gpx_scratch_put(s, b, 99000);
	gpx_scratch_destroy(s);
}
END_TEST

START_TEST(test_scratch_does_not_hand_out_buffers_more_than_twice_too_big)
{
	gpx_scratch *s;
	ck_assert_int_eq(gpx_scratch_create(0, 0, &s), 0);
	void *big = gpx_scratch_get(s, 1 << 20);
	gpx_scratch_put(s, big, 1 << 20);
	void *small = gpx_scratch_get(s, 4096);
	ck_assert_ptr_ne(small, big);
	void *mid = gpx_scratch_get(s, (1 << 19) + 1);
	ck_assert_ptr_eq(mid, big);
	gpx_scratch_put(s, small, 4096);
	gpx_scratch_put(s, mid, (1 << 19) + 1);
	gpx_scratch_destroy(s);
}
END_TEST

START_TEST(test_scratch_keeps_within_its_limits)
{
	gpx_scratch *s;
	ck_assert_int_eq(gpx_scratch_create(2, 3 * 4096, &s), 0);
	void *p[4];
	for (int i = 0; i < 4; i++)
		p[i] = gpx_scratch_get(s, 4096);
	for (int i = 0; i < 4; i++)
		gpx_scratch_put(s, p[i], 4096);
	gpx_scratch_stats st;
	gpx_scratch_get_stats(s, &st);
	ck_assert_uint_eq(st.idle_buffers, 2);
	void *huge = gpx_scratch_get(s, 4 * 4096);
	gpx_scratch_put(s, huge, 4 * 4096); /* over max_bytes: freed */
	gpx_scratch_get_stats(s, &st);
	ck_assert_uint_le(st.idle_bytes, 3 * 4096);
	gpx_scratch_trim(s);
	gpx_scratch_get_stats(s, &st);
	ck_assert_uint_eq(st.idle_buffers, 0);
	ck_assert_uint_eq(st.idle_bytes, 0);
	gpx_scratch_destroy(s);
}
END_TEST

START_TEST(test_scratch_images_are_aligned_and_freeable_either_way)
{
	gpx_scratch *s;
	ck_assert_int_eq(gpx_scratch_create(0, 0, &s), 0);
	gpx_image img;
	ck_assert_int_eq(gpx_scratch_image_alloc(s, &img, 33, 7, 3), 0);
	ck_assert_uint_eq(img.stride % 64, 0);
	ck_assert_uint_ge(img.stride, 99);
	gpx_scratch_image_release(s, &img);
	ck_assert_ptr_null(img.data);
	ck_assert_int_eq(gpx_scratch_image_alloc(s, &img, 33, 7, 3), 0);
	gpx_image_free(&img); /* plain free works too */
	ck_assert_int_eq(gpx_scratch_image_alloc(s, &img, 0, 7, 3), -1);
	ck_assert_int_eq(gpx_scratch_image_alloc(s, &img, 1, 1, 2), 0);
	gpx_scratch_image_release(s, &img);
	ck_assert_int_eq(gpx_scratch_image_alloc(NULL, &img, 5, 5, 4), 0);
	gpx_scratch_image_release(NULL, &img);
	gpx_scratch_destroy(s);
	gpx_scratch_destroy(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scratch");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_scratch_returns_the_same_buffer_for_the_same_size);
	tcase_add_test(tc, test_scratch_does_not_hand_out_buffers_more_than_twice_too_big);
	tcase_add_test(tc, test_scratch_keeps_within_its_limits);
	tcase_add_test(tc, test_scratch_images_are_aligned_and_freeable_either_way);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
