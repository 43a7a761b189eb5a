/* gpix's own pipeline in-process, without HTTP, for the image pipeline
 * benchmark (scripts/bench-image.sh): the same work one queue worker does
 * for POST /v1/process?filters=grayscale,blur&blur.sigma=2&format=jpeg&quality=90
 * (gpx_codec_probe + gpx_codec_decode, gpx_pipeline_run with a warm
 * per-worker scratch pool, gpx_codec_encode into a fresh buffer), timed per
 * stage, plus "what if" variants that call TurboJPEG directly to size the
 * optimisations the benchmark report suggests:
 *
 *   engine        the server's path, stage by stage, on the main thread
 *   engine-thread the same on a second thread, as a queue worker runs it
 *                 (glibc serves other threads from per-thread arenas; a
 *                 fresh decoded image costs a page fault per 4 KiB page
 *                 whenever glibc hands back new pages, see faults=)
 *   rgb-reuse     (second thread) TurboJPEG RGB decode into a reused
 *                 buffer, then the same grayscale+blur and encode
 *   gray-decode   (second thread) TurboJPEG decode straight to TJPF_GRAY
 *                 (libjpeg skips the chroma upsampling and colour
 *                 conversion) into a reused buffer, then blur only, then
 *                 encode: grayscale fused into decode. Its gray is the
 *                 JPEG's Y channel, which for the benchmark images gives
 *                 the very same output bytes as the engine path
 *
 * Not a test and not built by meson: the script compiles it against the
 * static libraries of a release build:
 *   cc -O2 -I. -o gpix_pipeline tests/bench/gpix_pipeline.c \
 *      build-bench/engine/libgpixengine.a build-bench/common/libgpixcommon.a \
 *      $(pkg-config --libs libturbojpeg libpng zlib libcrypto) -lm -lpthread -ldl
 *   gpix_pipeline FILE.jpg [SECONDS=3 per variant] [OUT.jpg]
 *
 * One line per variant: gpix-<variant> <W>x<H> images=<n> ms_median=<m>
 * img_per_s=<r> cpu_ms=<c> decode_ms=<d> filter_ms=<f> encode_ms=<e>
 * faults=<p> out_bytes=<b>. ms_median and img_per_s are wall clock;
 * cpu_ms and the stage times are medians of the thread's CPU time (user +
 * system, page faults included): the machine is shared, wall time also
 * measures the neighbours. faults: minor page faults per image. Each
 * variant runs on one thread. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>
#include <turbojpeg.h>

#include "codec/codec.h"
#include "common/buf.h"
#include "common/log.h"
#include "engine/filters/pipeline.h"

enum { V_ENGINE, V_ENGINE_THREAD, V_RGB_REUSE, V_GRAY_DECODE, V_COUNT };
static const char *const vnames[] = {"engine", "engine-thread", "rgb-reuse", "gray-decode"};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static long minflt(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(double), cmp_d);
	return n ? v[n / 2] : 0;
}

static void die(const char *what, const gpx_status *st)
{
	fprintf(stderr, "gpix_pipeline: %s: %s\n", what, st ? st->msg : "");
	exit(1);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *p = malloc((size_t)n + 1);
	if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(p);
		return NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return p;
}

typedef struct bench {
	const uint8_t *src;
	size_t len;
	double seconds;
	int w, h;
	int variant;
	const gpx_pipeline *p_gb, *p_b;
	gpx_codec_limits lim;
	gpx_image rgb, gray; /* reused decode targets of the what-if variants */
	gpx_buf last;	     /* the engine variant's last output */
	double *tw, *tt, *td, *tf, *te;
	size_t cap;
} bench;

static void *run_variant(void *arg)
{
	bench *b = arg;
	int v = b->variant;
	gpx_status st = {0};
	gpx_scratch *pool; /* a worker's pool, warm after the first jobs */
	if (gpx_scratch_create(0, 0, &pool) != 0)
		die("scratch", NULL);
	gpx_run_ctx ctx = {.scratch = pool, .max_pixels = b->lim.max_pixels};
	tjhandle tj = tjInitDecompress();
	if (!tj)
		die("TurboJPEG", NULL);
	size_t n = 0;
	double start = now_ms(), end = start;
	long flt0 = 0;
	for (int i = -2;; i++) {
		gpx_image in = {0}, out = {0};
		const gpx_image *pin = &in;
		const gpx_pipeline *pp = b->p_gb;
		double w0 = now_ms(), t0 = cpu_ms();
		if (v == V_ENGINE || v == V_ENGINE_THREAD) {
			gpx_codec_info info;
			if (gpx_codec_probe(b->src, b->len, &info, &st) < 0 ||
			    gpx_codec_decode(b->src, b->len, &b->lim, &in, &st) < 0)
				die("decode", &st);
		} else {
			const gpx_image *dst = v == V_RGB_REUSE ? &b->rgb : &b->gray;
			if (tjDecompress2(tj, b->src, (unsigned long)b->len, dst->data, b->w,
					  (int)dst->stride, b->h,
					  v == V_RGB_REUSE ? TJPF_RGB : TJPF_GRAY,
					  TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) < 0)
				die(tjGetErrorStr2(tj), NULL);
			pin = dst;
			if (v == V_GRAY_DECODE)
				pp = b->p_b;
		}
		double t1 = cpu_ms();
		if (gpx_pipeline_run(pp, pin, &out, &ctx, &st) < 0)
			die("run", &st);
		gpx_image_free(&in);
		double t2 = cpu_ms();
		gpx_buf enc; /* fresh per job, as gpx_proc's */
		gpx_buf_init(&enc, 0);
		if (gpx_codec_encode(&out, GPX_FMT_JPEG, 90, &enc, &st) < 0)
			die("encode", &st);
		double t3 = cpu_ms(), w3 = now_ms();
		gpx_scratch_image_release(pool, &out);
		if (v == V_ENGINE) {
			gpx_buf_reset(&b->last);
			gpx_buf_append(&b->last, enc.data, enc.len);
		}
		size_t outlen = enc.len;
		gpx_buf_free(&enc);
		end = w3;
		if (i < 0) {
			start = now_ms();
			flt0 = minflt();
			continue;
		}
		b->tw[n] = w3 - w0;
		b->tt[n] = t3 - t0;
		b->td[n] = t1 - t0;
		b->tf[n] = t2 - t1;
		b->te[n] = t3 - t2;
		n++;
		if ((end - start >= b->seconds * 1e3 && n >= 5) || n == b->cap) {
			printf("gpix-%s %dx%d images=%zu ms_median=%.3f img_per_s=%.2f cpu_ms=%.3f "
			       "decode_ms=%.3f filter_ms=%.3f encode_ms=%.3f faults=%.0f "
			       "out_bytes=%zu\n",
			       vnames[v], b->w, b->h, n, median(b->tw, n),
			       1e3 * (double)n / (end - start), median(b->tt, n), median(b->td, n),
			       median(b->tf, n), median(b->te, n),
			       (double)(minflt() - flt0) / (double)n, outlen);
			fflush(stdout);
			break;
		}
	}
	tjDestroy(tj);
	gpx_scratch_destroy(pool);
	gpx_codec_thread_cleanup();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE.jpg [SECONDS] [OUT.jpg]\n", argv[0]);
		return 2;
	}
	bench b = {.seconds = argc > 2 ? atof(argv[2]) : 3.0, .cap = 4096};
	uint8_t *src = read_file(argv[1], &b.len);
	if (!src)
		die("cannot read the input", NULL);
	b.src = src;

	gpx_filter_registry *reg;
	gpx_status st = {0};
	if (gpx_filter_registry_create(&reg) != 0)
		die("setup", NULL);
	static const gpx_step_param sigma2[] = {{"sigma", {.kind = GPX_VALUE_NUMBER, .num = 2}}};
	const gpx_step_spec gray_blur[] = {{"grayscale", NULL, 0}, {"blur", sigma2, 1}};
	gpx_pipeline *p_gb, *p_b;
	if (gpx_pipeline_build(reg, gray_blur, 2, &p_gb, &st) != 0 ||
	    gpx_pipeline_build(reg, gray_blur + 1, 1, &p_b, &st) != 0)
		die("pipeline", &st);
	b.p_gb = p_gb;
	b.p_b = p_b;
	gpx_codec_limits_default(&b.lim);
	tjhandle tj = tjInitDecompress();
	int ss, cs;
	if (!tj || tjDecompressHeader3(tj, src, (unsigned long)b.len, &b.w, &b.h, &ss, &cs) < 0)
		die("TurboJPEG header", NULL);
	tjDestroy(tj);
	if (gpx_image_alloc(&b.rgb, (uint32_t)b.w, (uint32_t)b.h, 3) < 0 ||
	    gpx_image_alloc(&b.gray, (uint32_t)b.w, (uint32_t)b.h, 1) < 0)
		die("alloc", NULL);
	memset(b.rgb.data, 0, b.rgb.stride * b.rgb.height);
	memset(b.gray.data, 0, b.gray.stride * b.gray.height);
	b.tw = malloc(b.cap * sizeof(double));
	b.tt = malloc(b.cap * sizeof(double));
	b.td = malloc(b.cap * sizeof(double));
	b.tf = malloc(b.cap * sizeof(double));
	b.te = malloc(b.cap * sizeof(double));
	gpx_buf_init(&b.last, 0);

	for (int v = 0; v < V_COUNT; v++) {
		b.variant = v;
		if (v == V_ENGINE) {
			run_variant(&b);
			continue;
		}
		pthread_t t;
		if (pthread_create(&t, NULL, run_variant, &b) != 0)
			die("pthread_create", NULL);
		pthread_join(t, NULL);
	}
	if (argc > 3) {
		FILE *f = fopen(argv[3], "wb");
		if (!f || fwrite(b.last.data, 1, b.last.len, f) != b.last.len)
			die("cannot write the output", NULL);
		fclose(f);
	}
	gpx_buf_free(&b.last);
	gpx_image_free(&b.rgb);
	gpx_image_free(&b.gray);
	gpx_pipeline_free(p_gb);
	gpx_pipeline_free(p_b);
	gpx_filter_registry_free(reg);
	free(src);
	free(b.tw);
	free(b.tt);
	free(b.td);
	free(b.tf);
	free(b.te);
	return 0;
}
