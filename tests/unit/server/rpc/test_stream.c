#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/rpc/stream.h"

typedef struct got {
	int n;
	uint8_t flags[8];
	size_t len[8];
	char data[8][64];
} got;

static int on_msg(void *ud, uint8_t flags, uint8_t *msg, size_t len)
{
	got *g = ud;
	g->flags[g->n] = flags;
	g->len[g->n] = len;
	memcpy(g->data[g->n], msg, len < 63 ? len : 63);
	g->n++;
	return 0;
}

START_TEST(test_envelope_reader_splits_messages_across_any_chunking)
{
	const uint8_t wire[] = {0, 0, 0, 0, 3, 'a', 'b', 'c', 1,   0,
				0, 0, 0, 0, 0, 0,   0,	 2,   'x', 'y'};
	for (size_t step = 1; step <= sizeof(wire); step++) {
		gpx_envelope_reader r;
		gpx_envelope_reader_init(&r, 100);
		got g = {0};
		gpx_status st = {0};
		for (size_t off = 0; off < sizeof(wire); off += step) {
			size_t n = sizeof(wire) - off < step ? sizeof(wire) - off : step;
			ck_assert_int_eq(gpx_envelope_feed(&r, wire + off, n, on_msg, &g, &st), 0);
		}
		ck_assert_int_eq(g.n, 3);
		ck_assert_uint_eq(g.len[0], 3);
		ck_assert_mem_eq(g.data[0], "abc", 3);
		ck_assert_int_eq(g.flags[1], 1);
		ck_assert_uint_eq(g.len[1], 0);
		ck_assert_mem_eq(g.data[2], "xy", 2);
		ck_assert_int_eq(gpx_envelope_pending(&r), 0);
		gpx_envelope_reader_free(&r);
	}
}
END_TEST

START_TEST(test_envelope_reader_refuses_a_length_over_the_limit_before_buffering)
{
	gpx_envelope_reader r;
	gpx_envelope_reader_init(&r, 1024);
	got g = {0};
	gpx_status st = {0};
	const uint8_t hdr[] = {0, 0x7f, 0xff, 0xff, 0xff};
	ck_assert_int_eq(gpx_envelope_feed(&r, hdr, sizeof(hdr), on_msg, &g, &st), -1);
	ck_assert_int_eq(st.code, GPX_RESOURCE_EXHAUSTED);
	ck_assert_ptr_null(r.msg);
	gpx_envelope_reader_free(&r);
}
END_TEST

START_TEST(test_envelope_reader_reports_a_truncated_message)
{
	gpx_envelope_reader r;
	gpx_envelope_reader_init(&r, 1024);
	got g = {0};
	gpx_status st = {0};
	const uint8_t part[] = {0, 0, 0, 0, 9, 'a'};
	ck_assert_int_eq(gpx_envelope_feed(&r, part, sizeof(part), on_msg, &g, &st), 0);
	ck_assert_int_eq(g.n, 0);
	ck_assert_int_eq(gpx_envelope_pending(&r), 1);
	gpx_envelope_reader_free(&r);
}
END_TEST

START_TEST(test_grpc_timeout_units)
{
	double s;
	ck_assert_int_eq(gpx_grpc_parse_timeout("100m", &s), 0);
	ck_assert(s > 0.0999 && s < 0.1001);
	ck_assert_int_eq(gpx_grpc_parse_timeout("2S", &s), 0);
	ck_assert(s == 2.0);
	ck_assert_int_eq(gpx_grpc_parse_timeout("1H", &s), 0);
	ck_assert(s == 3600.0);
	ck_assert_int_eq(gpx_grpc_parse_timeout("5u", &s), 0);
	ck_assert_int_eq(gpx_grpc_parse_timeout("123456789S", &s), -1); /* 9 digits */
	ck_assert_int_eq(gpx_grpc_parse_timeout("10", &s), -1);
	ck_assert_int_eq(gpx_grpc_parse_timeout("S", &s), -1);
	ck_assert_int_eq(gpx_grpc_parse_timeout("1x", &s), -1);
}
END_TEST

START_TEST(test_grpc_message_is_percent_encoded)
{
	char out[64];
	gpx_grpc_percent_encode("50% done\nnext: caf\xc3\xa9", out, sizeof(out));
	ck_assert_str_eq(out, "50%25 done%0Anext: caf%C3%A9");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_envelope_reader_splits_messages_across_any_chunking);
	tcase_add_test(tc, test_envelope_reader_refuses_a_length_over_the_limit_before_buffering);
	tcase_add_test(tc, test_envelope_reader_reports_a_truncated_message);
	tcase_add_test(tc, test_grpc_timeout_units);
	tcase_add_test(tc, test_grpc_message_is_percent_encoded);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
