/* libvips reference for the image pipeline benchmark (scripts/bench-image.sh):
 * JPEG bytes -> vips_jpegload_buffer -> vips_colourspace(B_W) ->
 * vips_gaussblur(sigma 2) -> vips_jpegsave_buffer(Q 90), single-threaded
 * (vips_concurrency_set(1); run it with VIPS_CONCURRENCY=1 too), operation
 * cache off, the bytes already in memory.
 *
 * vips_gaussblur's default min_ampl 0.2 cuts a sigma-2 kernel to 9 taps;
 * min_ampl 0.01 gives the 13 taps gpix and the OpenCV run use
 * (2*ceil(3*sigma)+1). vips uses its default integer precision for uchar.
 *
 *   cc -O2 -o vips_pipeline vips_pipeline.c $(pkg-config --cflags --libs vips)
 *   vips_pipeline FILE.jpg [SECONDS=3] [OUT.jpg]
 *       one line: vips <W>x<H> images=<n> ms_median=<m> ms_mean=<a> img_per_s=<r>
 *       cpu_ms=<c> faults=<p> out_bytes=<b> (cpu_ms: median process CPU time
 *       per image; faults: minor page faults per image; the rest wall clock)
 *   vips_pipeline --make SRC.jpg DST.jpg WIDTH HEIGHT
 *       scales SRC to cover WIDTHxHEIGHT (lanczos3; not at all when it
 *       already fits), crops the centre, saves a baseline 4:2:0 JPEG q90
 *       without metadata: the benchmark's inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>

#include <vips/vips.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Process CPU time (every thread: vips keeps helper threads even at
 * concurrency 1), user + system. */
static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
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

static int make(const char *src, const char *dst, int w, int h)
{
	VipsImage *in = vips_image_new_from_file(src, NULL), *sc = NULL, *cr = NULL;
	if (!in)
		return -1;
	double s = (double)w / in->Xsize;
	if ((double)h / in->Ysize > s)
		s = (double)h / in->Ysize;
	if (s != 1.0) {
		if (vips_resize(in, &sc, s, "kernel", VIPS_KERNEL_LANCZOS3, NULL))
			return -1;
	} else {
		sc = in;
		g_object_ref(sc);
	}
	if (sc->Xsize < w || sc->Ysize < h) {
		fprintf(stderr, "make: %dx%d after scaling, wanted %dx%d\n", sc->Xsize, sc->Ysize,
			w, h);
		return -1;
	}
	if (vips_extract_area(sc, &cr, (sc->Xsize - w) / 2, (sc->Ysize - h) / 2, w, h, NULL))
		return -1;
	if (vips_jpegsave(cr, dst, "Q", 90, "strip", TRUE, "subsample_mode",
			  VIPS_FOREIGN_SUBSAMPLE_ON, NULL))
		return -1;
	g_object_unref(cr);
	g_object_unref(sc);
	g_object_unref(in);
	return 0;
}

/* One image through the pipeline; *out, *outlen: the JPEG (g_free it). */
static int run_once(const void *buf, size_t len, void **out, size_t *outlen, int *w, int *h)
{
	VipsImage *a = NULL, *b = NULL, *c = NULL;
	int rc = -1;
	if (vips_jpegload_buffer((void *)buf, len, &a, "access", VIPS_ACCESS_SEQUENTIAL, NULL))
		goto done;
	if (vips_colourspace(a, &b, VIPS_INTERPRETATION_B_W, NULL))
		goto done;
	if (vips_gaussblur(b, &c, 2.0, "min_ampl", 0.01, NULL))
		goto done;
	if (vips_jpegsave_buffer(c, out, outlen, "Q", 90, NULL))
		goto done;
	*w = c->Xsize;
	*h = c->Ysize;
	rc = 0;
done:
	if (c)
		g_object_unref(c);
	if (b)
		g_object_unref(b);
	if (a)
		g_object_unref(a);
	return rc;
}

int main(int argc, char **argv)
{
	if (VIPS_INIT(argv[0]))
		vips_error_exit(NULL);
	vips_concurrency_set(1);
	vips_cache_set_max(0);
	vips_cache_set_max_mem(0);
	vips_cache_set_max_files(0);
	if (argc == 6 && strcmp(argv[1], "--make") == 0) {
		if (make(argv[2], argv[3], atoi(argv[4]), atoi(argv[5])) < 0)
			vips_error_exit("make");
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE.jpg [SECONDS] [OUT.jpg]\n", argv[0]);
		return 2;
	}
	double seconds = argc > 2 ? atof(argv[2]) : 3.0;
	gchar *src;
	gsize len;
	GError *err = NULL;
	if (!g_file_get_contents(argv[1], &src, &len, &err)) {
		fprintf(stderr, "%s\n", err->message);
		return 1;
	}
	size_t cap = 1024, n = 0;
	double *t = malloc(cap * sizeof(double)), *c = malloc(cap * sizeof(double));
	void *out = NULL;
	size_t outlen = 0;
	int w = 0, h = 0;
	double start = now_ms(), end = start;
	long flt0 = 0;
	for (int i = -2;; i++) {
		if (out)
			g_free(out);
		out = NULL;
		double t0 = now_ms(), c0 = cpu_ms();
		if (run_once(src, len, &out, &outlen, &w, &h) < 0)
			vips_error_exit("pipeline");
		double c1 = cpu_ms();
		end = now_ms();
		if (i < 0) {
			start = now_ms();
			flt0 = minflt();
			continue;
		}
		if (n == cap) {
			cap *= 2;
			t = realloc(t, cap * sizeof(double));
			c = realloc(c, cap * sizeof(double));
		}
		c[n] = c1 - c0;
		t[n++] = end - t0;
		if (end - start >= seconds * 1e3 && n >= 5)
			break;
	}
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += t[i];
	qsort(t, n, sizeof(double), cmp_d);
	qsort(c, n, sizeof(double), cmp_d);
	printf("vips %dx%d images=%zu ms_median=%.3f ms_mean=%.3f img_per_s=%.2f cpu_ms=%.3f "
	       "faults=%.0f out_bytes=%zu concurrency=%d\n",
	       w, h, n, t[n / 2], sum / (double)n, 1e3 * (double)n / (end - start), c[n / 2],
	       (double)(minflt() - flt0) / (double)n, outlen, vips_concurrency_get());
	if (argc > 3 && !g_file_set_contents(argv[3], out, (gssize)outlen, &err))
		fprintf(stderr, "%s\n", err->message);
	g_free(out);
	free(t);
	free(c);
	g_free(src);
	vips_shutdown();
	return 0;
}
