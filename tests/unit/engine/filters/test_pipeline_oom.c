/* Every allocation in building and running a pipeline fails in turn: each
 * error path must report resource_exhausted and free what it took. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "engine/filters/pipeline.h"

/* ASan owns malloc in the sanitized build (its leak checker covers the
 * paths the other tests reach); elsewhere this binary interposes it. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FAILING_ALLOC 0
#else
#define FAILING_ALLOC 1
#endif

#if FAILING_ALLOC
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t k);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

static long fail_after = -1; /* allocations left before one fails; -1: never */
static long live;

static int should_fail(void)
{
	if (fail_after < 0)
		return 0;
	return fail_after-- == 0;
}

void *malloc(size_t n)
{
	if (should_fail())
		return NULL;
	void *p = __libc_malloc(n);
	live += p != NULL;
	return p;
}

void *calloc(size_t n, size_t k)
{
	if (should_fail())
		return NULL;
	void *p = __libc_calloc(n, k);
	live += p != NULL;
	return p;
}

void *realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	void *q = __libc_realloc(p, n);
	live += p == NULL && q != NULL;
	return q;
}

int posix_memalign(void **out, size_t align, size_t n)
{
	if (should_fail())
		return 12; /* ENOMEM */
	*out = __libc_memalign(align, n);
	live += *out != NULL;
	return *out ? 0 : 12;
}

void free(void *p)
{
	live -= p != NULL;
	__libc_free(p);
}

static gpx_status st;

static int op_build_and_run(void)
{
	gpx_filter_registry *reg;
	gpx_scratch *pool;
	gpx_pipeline *p = NULL, *copy = NULL;
	gpx_image in, out;
	int rc = -1;
	gpx_status_clear(&st);
	if (gpx_filter_registry_create(&reg) != 0)
		return gpx_status_set(&st, GPX_RESOURCE_EXHAUSTED, "registry");
	if (gpx_scratch_create(0, 0, &pool) != 0) {
		gpx_status_set(&st, GPX_RESOURCE_EXHAUSTED, "pool");
		goto fail_reg;
	}
	if (gpx_scratch_image_alloc(pool, &in, 64, 48, 3) != 0) {
		gpx_status_set(&st, GPX_RESOURCE_EXHAUSTED, "input");
		goto fail_pool;
	}
	memset(in.data, 90, in.stride * in.height);
	gpx_step_param rp[] = {{"width", {.kind = GPX_VALUE_NUMBER, .num = 20}},
			       {"filter", {.kind = GPX_VALUE_STRING, .str = "lanczos3"}}};
	gpx_step_spec steps[] = {
		{"grayscale", NULL, 0}, {"blur", NULL, 0}, {"resize", rp, 2}, {"edge", NULL, 0}};
	if (gpx_pipeline_build(reg, steps, 4, &p, &st) != 0)
		goto fail_in;
	if (gpx_pipeline_set(p, "sharpen.amount", 2, &st) != 0)
		goto fail_p;
	if (gpx_pipeline_copy(p, &copy, &st) != 0)
		goto fail_p;
	gpx_run_ctx ctx = {.scratch = pool};
	if (gpx_pipeline_run(copy, &in, &out, &ctx, &st) != 0)
		goto fail_copy;
	gpx_scratch_image_release(pool, &out);
	rc = 0;
fail_copy:
	gpx_pipeline_free(copy);
fail_p:
	gpx_pipeline_free(p);
fail_in:
	gpx_scratch_image_release(pool, &in);
fail_pool:
	gpx_scratch_destroy(pool);
fail_reg:
	gpx_filter_registry_free(reg);
	return rc;
}

START_TEST(test_pipeline_frees_everything_when_any_allocation_fails)
{
	for (long k = 0;; k++) {
		live = 0;
		fail_after = k;
		int rc = op_build_and_run();
		int failed_alloc = fail_after < 0;
		fail_after = -1;
		ck_assert_msg(live == 0, "%ld blocks leaked with allocation %ld failing", live, k);
		if (!failed_alloc) {
			ck_assert_int_eq(rc, 0);
			ck_assert_int_gt(k, 5);
			break;
		}
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(st.code == GPX_RESOURCE_EXHAUSTED, "k=%ld: %s", k, st.msg);
	}
}
END_TEST
#endif

int main(void)
{
	Suite *s = suite_create("pipeline_oom");
	TCase *tc = tcase_create("core");
#if FAILING_ALLOC
	tcase_add_test(tc, test_pipeline_frees_everything_when_any_allocation_fails);
#endif
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
