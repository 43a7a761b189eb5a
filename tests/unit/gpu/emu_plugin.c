/* A test plugin whose backend "cudaemu" runs the CUDA backend's plans
 * (gpu/plan.c) through a CPU emulation of its kernels: the per-element
 * arithmetic is gpu/kmath.h, exactly what gpu/kernels.cu calls, and the
 * memory layout (packed ping-pong buffers, the float/16-bit temporaries,
 * the parameter blob, borders applied where the kernels load their tiles)
 * follows the kernels. test_plan.c checks it against the CPU backend, so
 * everything of the CUDA backend except the CUDA-specific tiling and
 * launching is tested without a GPU. */
#include <stdlib.h>
#include <string.h>

#include "gpix/plugin.h"
#include "gpu/kmath.h"
#include "gpu/plan.h"

#ifdef GPX_CUDASIM
/* Built as "cudasim": the plans go through gpu/launch.c into
 * gpu/kernels.cu itself, compiled for the CPU by cudasim.cpp. */
#include "gpu/launch.h"
int gpx_cusim_launch(void *ud, int k, unsigned gx, unsigned gy, unsigned bx, unsigned by,
		     unsigned shm, void **args);
void gpx_cusim_shutdown(void);
#define EMU_NAME "cudasim"
#else
#define EMU_NAME "cudaemu"
#endif

typedef struct emu {
	gpx_cu_plan plan;
	uint8_t *img[2];
	void *tmp;
} emu;

#ifndef GPX_CUDASIM
static void pass_point(const gpx_cu_plan *p, const gpx_cu_pass *ps, const uint8_t *src,
		       uint8_t *dst)
{
	const gpx_k_pointop *ops = (const gpx_k_pointop *)(p->blob + ps->off[0]);
	const uint8_t *luts = p->blob + ps->off[1];
	size_t npix = (size_t)ps->win * ps->hin;
	for (size_t i = 0; i < npix; i++) {
		uint8_t px[4] = {0, 0, 0, 0};
		memcpy(px, src + i * ps->cin, ps->cin);
		int32_t c = (int32_t)ps->cin;
		for (uint32_t k = 0; k < ps->nops; k++)
			gpx_k_point(&ops[k], luts, px, &c);
		memcpy(dst + i * ps->cout, px, ps->cout);
	}
}

static void pass_blur(const gpx_cu_plan *p, const gpx_cu_pass *ps, const uint8_t *src, uint8_t *dst,
		      float *tmp)
{
	const float *w = (const float *)(p->blob + ps->off[0]);
	int32_t W = (int32_t)ps->win, H = (int32_t)ps->hin, C = (int32_t)ps->cin, r = ps->r;
	int32_t n = W * C;
	uint8_t col[1024];
	float row[1024];
	for (int32_t y = 0; y < H; y++)
		for (int32_t j = 0; j < n; j++) {
			for (int32_t m = 0; m <= 2 * r; m++)
				col[m] =
					src[(size_t)gpx_k_border(y + m - r, H, ps->border) * n + j];
			tmp[(size_t)y * n + j] = gpx_k_blur_v(col, 1, w, r);
		}
	for (int32_t y = 0; y < H; y++)
		for (int32_t x = 0; x < W; x++)
			for (int32_t c = 0; c < C; c++) {
				for (int32_t m = 0; m <= 2 * r; m++)
					row[m] = tmp[((size_t)y * W +
						      gpx_k_border(x + m - r, W, ps->border)) *
							     C +
						     c];
				uint8_t b = gpx_k_blur_h(row, 1, w, r);
				size_t o = ((size_t)y * W + x) * C + c;
				if (ps->kind == GPX_CU_BLUR)
					dst[o] = b;
				else if (C == 4 && c == 3)
					dst[o] = src[o];
				else
					dst[o] = gpx_k_unsharp(src[o], b, ps->amount, ps->thr);
			}
}

static void pass_box(const gpx_cu_pass *ps, const uint8_t *src, uint8_t *dst, uint16_t *tmp)
{
	int32_t W = (int32_t)ps->win, H = (int32_t)ps->hin, C = (int32_t)ps->cin, r = ps->r;
	int32_t n = W * C;
	uint32_t N = (uint32_t)(2 * r + 1) * (uint32_t)(2 * r + 1);
	for (int32_t y = 0; y < H; y++)
		for (int32_t j = 0; j < n; j++) {
			uint32_t s = 0;
			for (int32_t m = 0; m <= 2 * r; m++)
				s += src[(size_t)gpx_k_border(y + m - r, H, ps->border) * n + j];
			tmp[(size_t)y * n + j] = (uint16_t)s;
		}
	for (int32_t y = 0; y < H; y++)
		for (int32_t x = 0; x < W; x++)
			for (int32_t c = 0; c < C; c++) {
				uint32_t s = 0;
				for (int32_t m = 0; m <= 2 * r; m++)
					s += tmp[((size_t)y * W +
						  gpx_k_border(x + m - r, W, ps->border)) *
							 C +
						 c];
				dst[((size_t)y * W + x) * C + c] = gpx_k_box_div(s, N);
			}
}

static void pass_edge(const gpx_cu_pass *ps, const uint8_t *src, uint8_t *dst)
{
	int32_t W = (int32_t)ps->win, H = (int32_t)ps->hin, C = (int32_t)ps->cin;
	for (int32_t y = 0; y < H; y++)
		for (int32_t x = 0; x < W; x++) {
			uint8_t l[3][3];
			for (int32_t dy = 0; dy < 3; dy++)
				for (int32_t dx = 0; dx < 3; dx++) {
					int32_t sx = gpx_k_border(x - 1 + dx, W, GPX_K_CLAMP);
					int32_t sy = gpx_k_border(y - 1 + dy, H, GPX_K_CLAMP);
					l[dy][dx] = gpx_k_luma(src + ((size_t)sy * W + sx) * C, C);
				}
			uint8_t v = gpx_k_sobel(l[0], l[1], l[2], ps->thr);
			size_t o = (size_t)y * W + x;
			if (ps->cout == 1) {
				dst[o] = v;
			} else {
				dst[o * 4] = dst[o * 4 + 1] = dst[o * 4 + 2] = v;
				dst[o * 4 + 3] = src[o * 4 + 3];
			}
		}
}

static void pass_resize(const gpx_cu_plan *p, const gpx_cu_pass *ps, const uint8_t *src,
			uint8_t *dst, float *tmp)
{
	const int32_t *xs = (const int32_t *)(p->blob + ps->off[0]);
	const int32_t *xn = (const int32_t *)(p->blob + ps->off[1]);
	const float *xw = (const float *)(p->blob + ps->off[2]);
	const int32_t *ys = (const int32_t *)(p->blob + ps->off[3]);
	const int32_t *yn = (const int32_t *)(p->blob + ps->off[4]);
	const float *yw = (const float *)(p->blob + ps->off[5]);
	size_t C = ps->cin, n = (size_t)ps->win * C;
	if (ps->kind == GPX_CU_NEAREST) {
		for (size_t oy = 0; oy < ps->hout; oy++)
			for (size_t i = 0; i < ps->wout * C; i++)
				dst[oy * ps->wout * C + i] =
					src[((size_t)ys[oy] * ps->win + xs[i / C]) * C + i % C];
		return;
	}
	for (size_t oy = 0; oy < ps->hout; oy++)
		for (size_t j = 0; j < n; j++)
			tmp[oy * n + j] = gpx_k_resize_v(src + (size_t)ys[oy] * n + j, n,
							 yw + oy * (size_t)ps->ty, yn[oy]);
	for (size_t oy = 0; oy < ps->hout; oy++)
		for (size_t i = 0; i < ps->wout * C; i++) {
			size_t ox = i / C, c = i % C;
			dst[oy * ps->wout * C + i] =
				gpx_k_resize_h(tmp + oy * n + (size_t)xs[ox] * C + c, (int32_t)C,
					       xw + ox * (size_t)ps->tx, xn[ox]);
		}
}

static void pass_geom(const gpx_cu_pass *ps, const uint8_t *src, uint8_t *dst)
{
	size_t C = ps->cin;
	for (uint32_t oy = 0; oy < ps->hout; oy++)
		for (uint32_t ox = 0; ox < ps->wout; ox++) {
			int32_t sx, sy;
			gpx_k_geom_src(ps->mode, (int32_t)ps->win, (int32_t)ps->hin, (int32_t)ox,
				       (int32_t)oy, ps->a, ps->b, &sx, &sy);
			memcpy(dst + ((size_t)oy * ps->wout + ox) * C,
			       src + ((size_t)sy * ps->win + (size_t)sx) * C, C);
		}
}
#endif

static int emu_init(const gpx_plugin_host *host, void **out, gpx_plugin_status *st)
{
	(void)host;
	emu *e = calloc(1, sizeof(*e));
	if (!e)
		return gpx_plugin_fail(st, GPX_PLUGIN_RESOURCE_EXHAUSTED, "out of memory");
	gpx_cu_plan_init(&e->plan);
	*out = e;
	return 0;
}

static void emu_release(void *v)
{
	emu *e = v;
#ifdef GPX_CUDASIM
	gpx_cusim_shutdown(); /* its threads run code of this object */
#endif
	gpx_cu_plan_free(&e->plan);
	free(e);
}

static void emu_probe(gpx_plugin_backend_info *info)
{
	info->available = 1;
	snprintf(info->device, sizeof(info->device), "CPU emulation of the CUDA kernels");
	snprintf(info->detail, sizeof(info->detail), "tests only");
}

/* Not thread-safe (one plan per context): the tests call it from one thread. */
static int emu_process(void *v, const gpx_plugin_image *in, const gpx_plugin_step *steps,
		       uint32_t n, gpx_plugin_image *out, const gpx_plugin_job *job,
		       gpx_plugin_status *st)
{
	(void)job;
	emu *e = v;
	gpx_cu_plan *p = &e->plan;
	if (gpx_cu_plan_build(p, steps, n, st) < 0)
		return -1;
	uint8_t *img[2] = {malloc(p->img_bytes), malloc(p->img_bytes)};
	void *tmp = malloc(p->tmp_bytes ? p->tmp_bytes : 1);
	if (!img[0] || !img[1] || !tmp) {
		free(img[0]);
		free(img[1]);
		free(tmp);
		return gpx_plugin_fail(st, GPX_PLUGIN_RESOURCE_EXHAUSTED, "out of memory");
	}
	size_t row = (size_t)in->width * in->channels;
	for (uint32_t y = 0; y < in->height; y++)
		memcpy(img[0] + y * row, in->data + y * in->stride, row);
#ifdef GPX_CUDASIM
	gpx_cu_bufs b = {.img = {(uintptr_t)img[0], (uintptr_t)img[1]},
			 .tmp = (uintptr_t)tmp,
			 .blob = (uintptr_t)p->blob};
	gpx_cu_launcher l = {.launch = gpx_cusim_launch, .ud = NULL};
	int lrc = gpx_cu_launch_plan(&l, p, &b);
	if (lrc != 0) {
		free(img[0]);
		free(img[1]);
		free(tmp);
		return gpx_plugin_fail(st, GPX_PLUGIN_INTERNAL, "simulated launch failed: %d", lrc);
	}
#else
	for (uint32_t i = 0; i < p->npass; i++) {
		const gpx_cu_pass *ps = &p->pass[i];
		const uint8_t *src = img[ps->src];
		uint8_t *dst = img[ps->dst];
		switch (ps->kind) {
		case GPX_CU_POINT: pass_point(p, ps, src, dst); break;
		case GPX_CU_BLUR:
		case GPX_CU_SHARPEN: pass_blur(p, ps, src, dst, tmp); break;
		case GPX_CU_BOX: pass_box(ps, src, dst, tmp); break;
		case GPX_CU_EDGE: pass_edge(ps, src, dst); break;
		case GPX_CU_RESIZE:
		case GPX_CU_NEAREST: pass_resize(p, ps, src, dst, tmp); break;
		case GPX_CU_GEOM: pass_geom(ps, src, dst); break;
		}
	}
#endif
	size_t orow = (size_t)out->width * out->channels;
	for (uint32_t y = 0; y < out->height; y++)
		memcpy(out->data + y * out->stride, img[p->out_buf] + y * orow, orow);
	free(img[0]);
	free(img[1]);
	free(tmp);
	return 0;
}

static const gpx_plugin_backend backends[] = {{
	.name = EMU_NAME,
	.filters = GPX_CU_FILTERS,
	.probe = emu_probe,
	.init = emu_init,
	.process = emu_process,
	.release = emu_release,
}};

static const gpx_plugin_descriptor desc = {
	.abi_version = GPX_PLUGIN_ABI_VERSION,
	.struct_size = sizeof(gpx_plugin_descriptor),
	.name = EMU_NAME,
	.version = "test",
	.backends = backends,
	.nbackends = 1,
};

GPX_PLUGIN_EXPORT const gpx_plugin_descriptor *gpx_plugin_entry(uint32_t v)
{
	return v == GPX_PLUGIN_ABI_VERSION ? &desc : NULL;
}
