/* The plugin loader: ABI checks, several plugins, refusals, generations and
 * reloads while jobs run, and backend dispatch with the CPU fallback. The
 * test plugins are tp_plugin.c built several ways (meson.build), found in
 * TP_DIR. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "engine/filters/pipeline.h"
#include "engine/plugins/backend.h"
#include "engine/plugins/loader.h"
#include "engine/queue/queue.h"

#ifndef TP_DIR
#error "TP_DIR: the build directory holding the test plugins"
#endif

/* ---- helpers ------------------------------------------------------------ */

static char dir[64];

static void setup(void)
{
	gpx_log_setup(GPX_LOG_TEXT, GPX_LOG_ERROR);
	snprintf(dir, sizeof(dir), "/tmp/gpx-plugins-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	unsetenv("TP_FAIL_CODE");
	unsetenv("TP_RELEASE_LOG");
}

static void teardown(void)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		char p[512];
		while ((e = readdir(d)))
			if (e->d_name[0] != '.') {
				snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
				unlink(p);
			}
		closedir(d);
	}
	rmdir(dir);
}

/* Copies TP_DIR/<module>.so to dir/<as> (overwriting it in place). */
static void put(const char *module, const char *as)
{
	char src[512], dst[512], buf[65536];
	snprintf(src, sizeof(src), "%s/%s.so", TP_DIR, module);
	snprintf(dst, sizeof(dst), "%s/%s", dir, as);
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_msg(in >= 0, "cannot open %s", src);
	ck_assert_int_ge(out, 0);
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
}

static gpx_plugins *open_dir(void)
{
	gpx_plugins *pl = NULL;
	gpx_status st = {0};
	gpx_plugins_opts o = {.dir = dir, .cpu_device = "Test CPU", .cpu_version = "v9"};
	ck_assert_msg(gpx_plugins_open(&o, &pl, &st) == 0, "%s", st.msg);
	return pl;
}

static void image(gpx_image *im, uint32_t w, uint32_t h, uint32_t ch)
{
	ck_assert_int_eq(gpx_image_alloc(im, w, h, ch), 0);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t i = 0; i < w * ch; i++)
			gpx_image_row(im, y)[i] = (uint8_t)((y * 7 + i * 3) % 200);
}

/* Every sample of out is the same sample of in plus `add`. */
static void assert_added(const gpx_image *in, const gpx_image *out, int add)
{
	ck_assert_uint_eq(out->width, in->width);
	ck_assert_uint_eq(out->height, in->height);
	for (uint32_t y = 0; y < in->height; y++)
		for (uint32_t i = 0; i < in->width * in->channels; i++)
			ck_assert_int_eq(gpx_image_row(out, y)[i], gpx_image_row(in, y)[i] + add);
}

static gpx_pipeline *build(const gpx_plugin_gen *g, const char *filter, const gpx_step_param *p,
			   size_t np, gpx_status *st)
{
	gpx_step_spec spec = {filter, p, np};
	gpx_pipeline *pp = NULL;
	if (gpx_pipeline_build(gpx_plugin_gen_filters(g), &spec, 1, &pp, st) < 0)
		return NULL;
	return pp;
}

/* ---- the ABI and refusals ----------------------------------------------- */

START_TEST(test_loader_without_a_dir_has_the_builtins_and_the_cpu)
{
	gpx_plugins *pl = NULL;
	gpx_status st = {0};
	ck_assert_int_eq(gpx_plugins_open(NULL, &pl, &st), 0);
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	ck_assert_uint_eq(gpx_plugin_gen_id(g), 1);
	size_t nb;
	gpx_filters_builtin(&nb);
	ck_assert_uint_eq(gpx_filter_registry_count(gpx_plugin_gen_filters(g)), nb);
	ck_assert_uint_eq(gpx_plugin_gen_nplugins(g), 0);
	ck_assert_uint_eq(gpx_plugin_gen_nbackends(g), 1);
	const gpx_backend *cpu = gpx_plugin_gen_backend(g, 0);
	ck_assert_str_eq(cpu->name, "cpu");
	ck_assert_int_eq(cpu->info.available, 1);
	ck_assert_ptr_null(cpu->ops);
	ck_assert(gpx_backend_has_filter(cpu, "anything"));
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
}
END_TEST

START_TEST(test_loader_fails_on_a_missing_dir)
{
	gpx_plugins *pl = NULL;
	gpx_status st = {0};
	gpx_plugins_opts o = {.dir = "/nonexistent/gpix-plugins"};
	ck_assert_int_eq(gpx_plugins_open(&o, &pl, &st), -1);
	ck_assert_ptr_null(pl);
	ck_assert_int_eq(st.code, GPX_FAILED_PRECONDITION);
	ck_assert_ptr_nonnull(strstr(st.msg, "/nonexistent/gpix-plugins"));
}
END_TEST

static const gpx_plugin_refusal *refusal_for(const gpx_plugin_gen *g, const char *file)
{
	for (size_t i = 0; i < gpx_plugin_gen_nrefused(g); i++) {
		const gpx_plugin_refusal *r = gpx_plugin_gen_refused(g, i);
		if (strstr(r->file, file))
			return r;
	}
	return NULL;
}

START_TEST(test_loader_refuses_another_abi_version_and_loads_the_rest)
{
	put("tp_badabi", "a-badabi.so");
	put("tp_v1", "b-good.so");
	gpx_plugins *pl = open_dir();
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	ck_assert_uint_eq(gpx_plugin_gen_nplugins(g), 1);
	ck_assert_str_eq(gpx_plugin_gen_plugin(g, 0, NULL)->name, "tp");
	const gpx_plugin_refusal *r = refusal_for(g, "a-badabi.so");
	ck_assert_ptr_nonnull(r);
	char want[128];
	snprintf(want, sizeof(want),
		 "built for plugin ABI version %u, this gpixd speaks version %u",
		 GPX_PLUGIN_ABI_VERSION + 1, GPX_PLUGIN_ABI_VERSION);
	ck_assert_msg(strstr(r->reason, want), "reason: %s", r->reason);
	/* nothing of the refused plugin is left behind */
	ck_assert_ptr_null(gpx_plugin_gen_find_backend(g, "tpbb"));
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
}
END_TEST

START_TEST(test_loader_refuses_a_file_without_entry_point)
{
	put("tp_noentry", "noentry.so");
	gpx_plugins *pl = open_dir();
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	ck_assert_uint_eq(gpx_plugin_gen_nplugins(g), 0);
	const gpx_plugin_refusal *r = refusal_for(g, "noentry.so");
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(strstr(r->reason, "no gpx_plugin_entry symbol"));
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
}
END_TEST

START_TEST(test_loader_refuses_a_file_that_is_not_a_shared_object)
{
	FILE *f;
	char p[256];
	snprintf(p, sizeof(p), "%s/junk.so", dir);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fputs("not an ELF file\n", f);
	fclose(f);
	gpx_plugins *pl = open_dir();
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	const gpx_plugin_refusal *r = refusal_for(g, "junk.so");
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(strstr(r->reason, "dlopen"));
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
}
END_TEST

START_TEST(test_loader_refuses_a_filter_named_like_a_builtin)
{
	put("tp_clash", "clash.so");
	gpx_plugins *pl = open_dir();
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	const gpx_plugin_refusal *r = refusal_for(g, "clash.so");
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(strstr(r->reason, "\"blur\" is a built-in filter"));
	ck_assert_str_eq(gpx_filter_registry_find(gpx_plugin_gen_filters(g), "blur")->plugin, "");
	/* its backend was not registered either */
	ck_assert_ptr_null(gpx_plugin_gen_find_backend(g, "tpb"));
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
}
END_TEST

START_TEST(test_loader_refuses_the_same_plugin_twice)
{
	put("tp_v1", "a.so");
	put("tp_v2", "b.so");
	gpx_plugins *pl = open_dir();
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	ck_assert_uint_eq(gpx_plugin_gen_nplugins(g), 1);
	ck_assert_str_eq(gpx_plugin_gen_plugin(g, 0, NULL)->version, "1");
	const gpx_plugin_refusal *r = refusal_for(g, "b.so");
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(strstr(r->reason, "already loaded"));
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
}
END_TEST

START_TEST(test_loader_loads_several_plugins_with_metadata)
{
	put("tp_v1", "tp.so");
	put("tp_second", "tp2.so");
	put("tp_v1", "ignored.txt"); /* not *.so */
	gpx_plugins *pl = open_dir();
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	ck_assert_uint_eq(gpx_plugin_gen_nplugins(g), 2);
	ck_assert_uint_eq(gpx_plugin_gen_nrefused(g), 0);
	const gpx_filter_registry *reg = gpx_plugin_gen_filters(g);
	const gpx_filter_def *a = gpx_filter_registry_find(reg, "tp_add");
	const gpx_filter_def *m = gpx_filter_registry_find(reg, "tp_mul");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(a->plugin, "tp");
	ck_assert_str_eq(a->version, "1");
	ck_assert_str_eq(m->plugin, "tp2");
	ck_assert_str_eq(m->version, "7.5");
	ck_assert_str_eq(a->display_name, "Test filter");
	ck_assert_uint_eq(a->nparams, 4);
	ck_assert_str_eq(a->params[0].name, "amount");
	ck_assert_int_eq(a->params[0].type, GPX_PARAM_INTEGER);
	ck_assert_double_eq(a->params[0].max, 10);
	ck_assert_int_eq(a->params[2].type, GPX_PARAM_ENUM);
	ck_assert_uint_eq(gpx_param_noptions(&a->params[2]), 2);
	ck_assert_int_eq(a->params[3].type, GPX_PARAM_BOOL);
	ck_assert_str_eq(a->params[1].display_name, "delay_ms"); /* defaults to the name */

	ck_assert_uint_eq(gpx_plugin_gen_nbackends(g), 3);
	const gpx_backend *b = gpx_plugin_gen_find_backend(g, "tpb");
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(b->info.available, 1);
	ck_assert_str_eq(b->plugin, "tp");
	ck_assert_str_eq(b->info.device, "test device 1");
	ck_assert(gpx_backend_has_filter(b, "tp_add"));
	ck_assert(gpx_backend_has_filter(b, "invert"));
	ck_assert(!gpx_backend_has_filter(b, "blur"));
	const gpx_backend *u = gpx_plugin_gen_find_backend(g, "tpu");
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(u->info.available, 0);
	ck_assert_str_eq(u->info.detail, "no test device here");
	ck_assert_ptr_null(u->ctx);
	ck_assert_str_eq(gpx_plugin_gen_backend(g, 0)->info.device, "Test CPU");
	ck_assert_str_eq(gpx_plugin_gen_backend(g, 0)->version, "v9");
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
}
END_TEST

START_TEST(test_plugin_filter_runs_in_a_pipeline_with_validation)
{
	put("tp_v1", "tp.so");
	gpx_plugins *pl = open_dir();
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	gpx_status st = {0};
	gpx_step_param bad[] = {{"amount", {.kind = GPX_VALUE_NUMBER, .num = 11}}};
	ck_assert_ptr_null(build(g, "tp_add", bad, 1, &st));
	ck_assert_str_eq(st.msg, "parameter \"tp_add.amount\" is 11, outside 0..10");
	gpx_step_param seven[] = {{"amount", {.kind = GPX_VALUE_NUMBER, .num = 7}}};
	ck_assert_ptr_null(build(g, "tp_add", seven, 1, &st));
	ck_assert_str_eq(st.msg, "parameter \"tp_add.amount\" must not be 7"); /* check() */
	gpx_step_param ok[] = {{"amount", {.kind = GPX_VALUE_NUMBER, .num = 2}}};
	gpx_pipeline *p = build(g, "tp_add", ok, 1, &st);
	ck_assert_ptr_nonnull(p);
	gpx_image in, out;
	image(&in, 33, 17, 3);
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &out, NULL, &st), 0);
	assert_added(&in, &out, 1 + 2);
	gpx_image_free(&out);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
}
END_TEST

/* ---- backends ------------------------------------------------------------ */

START_TEST(test_backend_names_are_checked_against_the_generation)
{
	put("tp_v1", "tp.so");
	put("tp_second", "tp2.so");
	gpx_plugins *pl = open_dir();
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	gpx_status st = {0};
	ck_assert_int_eq(gpx_backend_check_name(g, "", &st), 0);
	ck_assert_int_eq(gpx_backend_check_name(g, "auto", &st), 0);
	ck_assert_int_eq(gpx_backend_check_name(g, "cpu", &st), 0);
	ck_assert_int_eq(gpx_backend_check_name(g, "tpb", &st), 0);
	ck_assert_int_eq(gpx_backend_check_name(g, "tpu", &st), -1);
	ck_assert_int_eq(st.code, GPX_FAILED_PRECONDITION);
	ck_assert_str_eq(st.msg, "backend \"tpu\" is not available here: no test device here");
	ck_assert_int_eq(gpx_backend_check_name(g, "cuda", &st), -1);
	ck_assert_int_eq(st.code, GPX_FAILED_PRECONDITION);
	ck_assert_int_eq(gpx_backend_check_name(g, "Bad Name", &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
}
END_TEST

START_TEST(test_backend_auto_picks_the_plugin_only_for_large_enough_images)
{
	put("tp_v1", "tp.so");
	gpx_plugins *pl = open_dir();
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	gpx_status st = {0};
	gpx_pipeline *p = build(g, "tp_add", NULL, 0, &st);
	ck_assert_ptr_nonnull(p);
	/* auto_min_pixels is 100 */
	ck_assert_str_eq(gpx_backend_choose(g, "auto", p, 99, &st)->name, "cpu");
	ck_assert_str_eq(gpx_backend_choose(g, "", p, 100, &st)->name, "tpb");
	ck_assert_str_eq(gpx_backend_choose(g, "cpu", p, 1000, &st)->name, "cpu");
	gpx_image in, out;
	image(&in, 20, 10, 4);
	const char *ran = NULL;
	ck_assert_int_eq(gpx_backend_exec(g, "auto", p, &in, &out, NULL, &ran, &st), 0);
	ck_assert_str_eq(ran, "tpb");
	assert_added(&in, &out, 1);
	gpx_image_free(&out);
	gpx_image_free(&in);
	image(&in, 9, 11, 1);
	ck_assert_int_eq(gpx_backend_exec(g, "auto", p, &in, &out, NULL, &ran, &st), 0);
	ck_assert_str_eq(ran, "cpu");
	assert_added(&in, &out, 1);
	gpx_image_free(&out);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
}
END_TEST

START_TEST(test_backend_gets_every_step_with_params_by_name)
{
	put("tp_v1", "tp.so");
	gpx_plugins *pl = open_dir();
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	gpx_status st = {0};
	gpx_step_param a3[] = {{"amount", {.kind = GPX_VALUE_NUMBER, .num = 3}}};
	gpx_step_param keep[] = {{"mode", {.kind = GPX_VALUE_STRING, .str = "keep"}}};
	gpx_step_spec specs[] = {{"tp_add", a3, 1}, {"invert", NULL, 0}, {"tp_add", keep, 1}};
	gpx_pipeline *p;
	ck_assert_int_eq(gpx_pipeline_build(gpx_plugin_gen_filters(g), specs, 3, &p, &st), 0);
	gpx_image in, a, b;
	image(&in, 16, 16, 4);
	const char *ran = NULL;
	ck_assert_int_eq(gpx_backend_exec(g, "tpb", p, &in, &a, NULL, &ran, &st), 0);
	ck_assert_str_eq(ran, "tpb");
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &b, NULL, &st), 0);
	for (uint32_t y = 0; y < in.height; y++)
		ck_assert_int_eq(memcmp(gpx_image_row(&a, y), gpx_image_row(&b, y), 16 * 4), 0);
	gpx_image_free(&a);
	gpx_image_free(&b);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
}
END_TEST

START_TEST(test_backend_by_name_refuses_what_it_cannot_run)
{
	put("tp_v1", "tp.so");
	put("tp_second", "tp2.so");
	gpx_plugins *pl = open_dir();
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	gpx_status st = {0};
	gpx_pipeline *p = build(g, "blur", NULL, 0, &st);
	ck_assert_ptr_null(gpx_backend_choose(g, "tpb", p, 1000, &st));
	ck_assert_int_eq(st.code, GPX_FAILED_PRECONDITION);
	ck_assert_str_eq(st.msg,
			 "backend \"tpb\" cannot run filter \"blur\"; use backend cpu or auto");
	/* auto quietly uses the CPU for it */
	ck_assert_str_eq(gpx_backend_choose(g, "auto", p, 1000, &st)->name, "cpu");
	ck_assert_ptr_null(gpx_backend_choose(g, "tpu", p, 1000, &st));
	ck_assert_int_eq(st.code, GPX_FAILED_PRECONDITION);
	ck_assert_ptr_nonnull(strstr(st.msg, "no test device here"));
	gpx_pipeline_free(p);
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
}
END_TEST

START_TEST(test_backend_failure_falls_back_to_the_cpu_only_for_auto)
{
	put("tp_v1", "tp.so");
	gpx_plugins *pl = open_dir();
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	gpx_status st = {0};
	gpx_pipeline *p = build(g, "invert", NULL, 0, &st);
	gpx_image in, out;
	image(&in, 20, 20, 3);
	const char *ran = NULL;
	static const struct {
		const char *code;
		gpx_code want;
	} faults[] = {{"8", GPX_RESOURCE_EXHAUSTED}, {"14", GPX_UNAVAILABLE}, {"13", GPX_INTERNAL}};
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		setenv("TP_FAIL_CODE", faults[i].code, 1);
		ck_assert_int_eq(gpx_backend_exec(g, "auto", p, &in, &out, NULL, &ran, &st), 0);
		ck_assert_str_eq(ran, "cpu");
		ck_assert_uint_eq(gpx_image_row(&out, 3)[5], 255 - gpx_image_row(&in, 3)[5]);
		gpx_image_free(&out);
		ck_assert_int_eq(gpx_backend_exec(g, "tpb", p, &in, &out, NULL, &ran, &st), -1);
		ck_assert_int_eq(st.code, faults[i].want);
		ck_assert_msg(strstr(st.msg, "backend tpb: injected failure"), "%s", st.msg);
		ck_assert_ptr_null(out.data);
	}
	/* cancellation is not a device fault: no second run */
	unsetenv("TP_FAIL_CODE");
	atomic_int cancel = 1;
	gpx_run_ctx ctx = {.cancel = &cancel};
	ck_assert_int_eq(gpx_backend_exec(g, "auto", p, &in, &out, &ctx, &ran, &st), -1);
	ck_assert_int_eq(st.code, GPX_CANCELED);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
}
END_TEST

/* ---- generations and reloads ------------------------------------------- */

START_TEST(test_reload_keeps_the_current_generation_when_the_dir_is_gone)
{
	put("tp_v1", "tp.so");
	gpx_plugins *pl = open_dir();
	teardown(); /* the directory disappears */
	gpx_status st = {0};
	ck_assert_int_eq(gpx_plugins_reload(pl, &st), -1);
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	ck_assert_uint_eq(gpx_plugin_gen_id(g), 1);
	ck_assert_ptr_nonnull(gpx_filter_registry_find(gpx_plugin_gen_filters(g), "tp_add"));
	ck_assert_int_eq(gpx_plugins_live(pl), 1);
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
}
END_TEST

START_TEST(test_generation_outlives_the_loader_until_released)
{
	put("tp_v1", "tp.so");
	gpx_plugins *pl = open_dir();
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	gpx_plugins_close(pl);
	/* still usable: the plugin's code is loaded */
	gpx_status st = {0};
	gpx_pipeline *p = build(g, "tp_add", NULL, 0, &st);
	gpx_image in, out;
	image(&in, 8, 8, 1);
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &out, NULL, &st), 0);
	assert_added(&in, &out, 1);
	gpx_image_free(&out);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
	gpx_plugin_gen_release(g); /* frees the generation, then the loader (ASan: no leak) */
}
END_TEST

/* Jobs as the server runs them: a job takes a reference to the current
 * generation when it is submitted (before its pipeline is built) and drops
 * it when it is done. */
typedef struct gjob {
	gpx_job job;
	gpx_plugin_gen *gen;
	gpx_pipeline *p;
	gpx_image in, out;
	unsigned gen_id;
	int rc;
	atomic_int done;
} gjob;

static int gjob_run(gpx_job *j, gpx_worker_ctx *w, gpx_status *st)
{
	gjob *g = (gjob *)j;
	gpx_run_ctx ctx = {.scratch = NULL};
	return g->rc = gpx_pipeline_run(g->p, &g->in, &g->out, &ctx, st);
}

static void gjob_done(gpx_job *j, const gpx_status *st)
{
	gjob *g = (gjob *)j;
	gpx_pipeline_free(g->p); /* the pipeline points into the generation */
	g->p = NULL;
	gpx_plugin_gen_release(g->gen);
	g->gen = NULL;
	atomic_store(&g->done, 1);
}

static void gjob_submit(gjob *g, gpx_plugins *pl, gpx_queue *q, int delay_ms)
{
	gpx_job_init(&g->job, gjob_run, gjob_done, g);
	g->gen = gpx_plugins_acquire(pl);
	g->gen_id = gpx_plugin_gen_id(g->gen);
	gpx_status st = {0};
	gpx_step_param prm[] = {{"delay_ms", {.kind = GPX_VALUE_NUMBER, .num = delay_ms}}};
	g->p = build(g->gen, "tp_add", prm, 1, &st);
	ck_assert_msg(g->p != NULL, "%s", st.msg);
	image(&g->in, 16, 32, 3); /* 16 bands of 2 rows: 16 * delay_ms per job */
	ck_assert_int_eq(gpx_queue_submit(q, &g->job), 0);
}

static void wait_done(gjob *g)
{
	while (!atomic_load(&g->done))
		nanosleep(&(struct timespec){0, 1000000}, NULL);
}

static int count_lines(const char *path, const char *line)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char buf[256];
	int n = 0;
	while (fgets(buf, sizeof(buf), f))
		if (strncmp(buf, line, strlen(line)) == 0)
			n++;
	fclose(f);
	return n;
}

/* Is a mapping whose name contains `what` in this process? (The loader
 * names each generation's private copy gpix-plugin-g<N>-<file>.) */
static int mapped(const char *what)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	char line[1024];
	int found = 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, what) != NULL;
	fclose(f);
	return found;
}

START_TEST(test_reload_while_jobs_run_finishes_them_on_the_old_version)
{
	char relog[128];
	snprintf(relog, sizeof(relog), "%s.release.log", dir);
	unlink(relog);
	setenv("TP_RELEASE_LOG", relog, 1);
	put("tp_v1", "tp.so");
	gpx_plugins *pl = open_dir();
	gpx_queue *q;
	ck_assert_int_eq(gpx_queue_create(4, 16, &q), 0);

	/* Three slow jobs on version 1 (each about 16 x 25 ms). */
	static gjob old[3], young[3];
	memset(old, 0, sizeof(old));
	memset(young, 0, sizeof(young));
	for (int i = 0; i < 3; i++)
		gjob_submit(&old[i], pl, q, 25);

	/* Replace the file in place and reload, as SIGHUP does. */
	put("tp_v2", "tp.so");
	gpx_status st = {0};
	ck_assert_int_eq(gpx_plugins_reload(pl, &st), 0);
	ck_assert_int_eq(gpx_plugins_live(pl), 2);
	ck_assert_int_eq(mapped("gpix-plugin-g1-tp.so"), 1); /* still running there */
	ck_assert_int_eq(mapped("gpix-plugin-g2-tp.so"), 1);

	gpx_plugin_gen *g2 = gpx_plugins_acquire(pl);
	ck_assert_uint_eq(gpx_plugin_gen_id(g2), 2);
	ck_assert_str_eq(gpx_filter_registry_find(gpx_plugin_gen_filters(g2), "tp_add")->version,
			 "2");
	ck_assert_str_eq(gpx_plugin_gen_find_backend(g2, "tpb")->info.device, "test device 2");
	gpx_plugin_gen_release(g2);

	for (int i = 0; i < 3; i++)
		gjob_submit(&young[i], pl, q, 0);
	for (int i = 0; i < 3; i++) {
		wait_done(&old[i]);
		wait_done(&young[i]);
	}
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(old[i].gen_id, 1);
		ck_assert_int_eq(old[i].rc, 0);
		assert_added(&old[i].in, &old[i].out, 1); /* version 1 adds 1 */
		ck_assert_uint_eq(young[i].gen_id, 2);
		ck_assert_int_eq(young[i].rc, 0);
		assert_added(&young[i].in, &young[i].out, 2); /* version 2 adds 2 */
	}
	/* the old generation went with its last job: its backend released, its
	 * code unmapped */
	ck_assert_int_eq(gpx_plugins_live(pl), 1);
	ck_assert_int_eq(mapped("gpix-plugin-g1-tp.so"), 0);
	ck_assert_int_eq(count_lines(relog, "release tp 1"), 1);
	ck_assert_int_eq(count_lines(relog, "release tp 2"), 0);

	/* a reload with nothing running unloads the old generation at once */
	ck_assert_int_eq(gpx_plugins_reload(pl, &st), 0);
	ck_assert_int_eq(gpx_plugins_live(pl), 1);
	ck_assert_int_eq(count_lines(relog, "release tp 2"), 1);

	gpx_queue_destroy(q);
	for (int i = 0; i < 3; i++) {
		gpx_image_free(&old[i].in);
		gpx_image_free(&old[i].out);
		gpx_image_free(&young[i].in);
		gpx_image_free(&young[i].out);
	}
	gpx_plugins_close(pl);
	ck_assert_int_eq(count_lines(relog, "release tp 2"), 2); /* generation 3 */
	unlink(relog);
}
END_TEST

/* Many reloads racing with acquire/release from other threads. */
typedef struct racer {
	gpx_plugins *pl;
	atomic_int *stop;
	long rounds;
} racer;

static void *race(void *arg)
{
	racer *r = arg;
	while (!atomic_load(r->stop)) {
		gpx_plugin_gen *g = gpx_plugins_acquire(r->pl);
		ck_assert_ptr_nonnull(
			gpx_filter_registry_find(gpx_plugin_gen_filters(g), "tp_add"));
		gpx_plugin_gen_release(g);
		r->rounds++;
	}
	return NULL;
}

START_TEST(test_reloads_race_safely_with_acquire_and_release)
{
	put("tp_v1", "tp.so");
	gpx_plugins *pl = open_dir();
	atomic_int stop = 0;
	racer rs[3];
	pthread_t th[3];
	for (int i = 0; i < 3; i++) {
		rs[i] = (racer){.pl = pl, .stop = &stop};
		ck_assert_int_eq(pthread_create(&th[i], NULL, race, &rs[i]), 0);
	}
	gpx_status st = {0};
	for (int i = 0; i < 20; i++) {
		put(i % 2 ? "tp_v1" : "tp_v2", "tp.so");
		ck_assert_int_eq(gpx_plugins_reload(pl, &st), 0);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_gt(rs[i].rounds, 0);
	}
	ck_assert_int_eq(gpx_plugins_live(pl), 1);
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	ck_assert_uint_eq(gpx_plugin_gen_id(g), 21);
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("plugins_loader");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_loader_without_a_dir_has_the_builtins_and_the_cpu);
	tcase_add_test(tc, test_loader_fails_on_a_missing_dir);
	tcase_add_test(tc, test_loader_refuses_another_abi_version_and_loads_the_rest);
	tcase_add_test(tc, test_loader_refuses_a_file_without_entry_point);
	tcase_add_test(tc, test_loader_refuses_a_file_that_is_not_a_shared_object);
	tcase_add_test(tc, test_loader_refuses_a_filter_named_like_a_builtin);
	tcase_add_test(tc, test_loader_refuses_the_same_plugin_twice);
	tcase_add_test(tc, test_loader_loads_several_plugins_with_metadata);
	tcase_add_test(tc, test_plugin_filter_runs_in_a_pipeline_with_validation);
	tcase_add_test(tc, test_backend_names_are_checked_against_the_generation);
	tcase_add_test(tc, test_backend_auto_picks_the_plugin_only_for_large_enough_images);
	tcase_add_test(tc, test_backend_gets_every_step_with_params_by_name);
	tcase_add_test(tc, test_backend_by_name_refuses_what_it_cannot_run);
	tcase_add_test(tc, test_backend_failure_falls_back_to_the_cpu_only_for_auto);
	tcase_add_test(tc, test_reload_keeps_the_current_generation_when_the_dir_is_gone);
	tcase_add_test(tc, test_generation_outlives_the_loader_until_released);
	tcase_add_test(tc, test_reload_while_jobs_run_finishes_them_on_the_old_version);
	tcase_add_test(tc, test_reloads_race_safely_with_acquire_and_release);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
