#include <check.h>
#include <stdlib.h>

#include "server/net/exchange.h"

const char *gpx_h1_check_framing(const gpx_header *h, size_t n);

#define CHECK(...)                                                    \
	({                                                            \
		gpx_header hh[] = {__VA_ARGS__};                      \
		gpx_h1_check_framing(hh, sizeof(hh) / sizeof(hh[0])); \
	})

START_TEST(test_h1_accepts_sound_framing)
{
	ck_assert_ptr_null(CHECK({"host", "x"}, {"content-length", "12"}));
	ck_assert_ptr_null(CHECK({"host", "x"}, {"transfer-encoding", "chunked"}));
	ck_assert_ptr_null(CHECK({"host", "x"}, {"transfer-encoding", "Chunked"}));
	/* The same length twice is harmless. */
	ck_assert_ptr_null(CHECK({"content-length", "5"}, {"content-length", "5"}));
}
END_TEST

START_TEST(test_h1_rejects_content_length_with_transfer_encoding)
{
	ck_assert_ptr_nonnull(CHECK({"content-length", "4"}, {"transfer-encoding", "chunked"}));
}
END_TEST

START_TEST(test_h1_rejects_conflicting_or_bad_content_length)
{
	ck_assert_ptr_nonnull(CHECK({"content-length", "4"}, {"content-length", "5"}));
	ck_assert_ptr_nonnull(CHECK({"content-length", "-1"}));
	ck_assert_ptr_nonnull(CHECK({"content-length", "1 2"}));
	ck_assert_ptr_nonnull(CHECK({"content-length", "0x10"}));
	ck_assert_ptr_nonnull(CHECK({"content-length", ""}));
	ck_assert_ptr_nonnull(CHECK({"content-length", "99999999999999999999"}));
}
END_TEST

START_TEST(test_h1_rejects_transfer_encodings_other_than_chunked)
{
	ck_assert_ptr_nonnull(CHECK({"transfer-encoding", "chunked, identity"}));
	ck_assert_ptr_nonnull(CHECK({"transfer-encoding", "gzip, chunked"}));
	ck_assert_ptr_nonnull(CHECK({"transfer-encoding", "identity"}));
	ck_assert_ptr_nonnull(
		CHECK({"transfer-encoding", "chunked"}, {"transfer-encoding", "chunked"}));
}
END_TEST

START_TEST(test_h1_rejects_folded_or_malformed_header_names)
{
	/* What libmicrohttpd makes of an obs-fold continuation line. */
	ck_assert_ptr_nonnull(CHECK({"x-a", "b"}, {" c", "d"}));
	ck_assert_ptr_nonnull(CHECK({"x a", "b"}));
	ck_assert_ptr_nonnull(CHECK({"", "b"}));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("h1");
	TCase *tc = tcase_create("framing");
	tcase_add_test(tc, test_h1_accepts_sound_framing);
	tcase_add_test(tc, test_h1_rejects_content_length_with_transfer_encoding);
	tcase_add_test(tc, test_h1_rejects_conflicting_or_bad_content_length);
	tcase_add_test(tc, test_h1_rejects_transfer_encodings_other_than_chunked);
	tcase_add_test(tc, test_h1_rejects_folded_or_malformed_header_names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
