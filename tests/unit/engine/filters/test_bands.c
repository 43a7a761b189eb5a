#include <check.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "engine/filters/bands.h"

typedef struct tally {
	atomic_int hits[1000];
	atomic_int bad_slot;
	int nthreads;
} tally;

static void count(void *ud, size_t item, int slot)
{
	tally *t = ud;
	atomic_fetch_add(&t->hits[item], 1);
	if (slot < 0 || slot >= t->nthreads)
		atomic_store(&t->bad_slot, 1);
}

START_TEST(test_bands_run_every_item_exactly_once_per_call)
{
	for (int threads = 1; threads <= 4; threads++) {
		gpx_bands *b;
		ck_assert_int_eq(gpx_bands_create(threads, &b), 0);
		ck_assert_int_eq(gpx_bands_nthreads(b), threads);
		tally *t = calloc(1, sizeof(*t));
		t->nthreads = threads;
		for (int round = 0; round < 50; round++)
			gpx_bands_run(b, count, t, (size_t)(round * 20));
		for (int i = 0; i < 1000; i++)
			ck_assert_int_eq(atomic_load(&t->hits[i]), 49 - i / 20);
		ck_assert_int_eq(atomic_load(&t->bad_slot), 0);
		free(t);
		gpx_bands_destroy(b);
	}
}
END_TEST

START_TEST(test_bands_null_executor_runs_on_the_caller)
{
	tally *t = calloc(1, sizeof(*t));
	t->nthreads = 1;
	gpx_bands_run(NULL, count, t, 10);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(atomic_load(&t->hits[i]), 1);
	ck_assert_int_eq(gpx_bands_nthreads(NULL), 1);
	free(t);
	gpx_bands *b;
	ck_assert_int_eq(gpx_bands_create(0, &b), -1);
	gpx_bands_destroy(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bands");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_bands_run_every_item_exactly_once_per_call);
	tcase_add_test(tc, test_bands_null_executor_runs_on_the_caller);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
