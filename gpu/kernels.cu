// CUDA kernels of the gpix CUDA backend (docs/filters.md, docs/plugins.md).
//
// Built by meson into a fatbin (nvcc --fatbin -fmad=false) that the plugin
// embeds and loads with the driver API (cuModuleLoadData), so the plugin
// needs no CUDA runtime. The arithmetic of every output element is in
// gpu/kmath.h, shared with the CPU emulation the unit tests run without a
// GPU; these kernels add the memory layout: packed 8-bit images (stride =
// width * channels), shared-memory tiles for the separable filters, and
// border handling when tiles are loaded.
//
// Names are extern "C" so that the plugin finds them with
// cuModuleGetFunction.
#include "gpu/kconf.h"
#include "gpu/kmath.h"

#define KERNEL extern "C" __global__

// Shared memory, spelled so that the CPU simulation of these kernels
// (tests/unit/gpu/cudasim.cpp) can give them its own meaning.
#ifndef GPX_SHARED
#define GPX_SHARED __shared__
#define GPX_DYN_SHARED(T, name) extern __shared__ __align__(16) T name[]
#endif

// ---- fused point operations ---------------------------------------------

KERNEL void k_point(const uint8_t *__restrict__ in, uint8_t *__restrict__ out, int npix, int cin,
		    int cout, const gpx_k_pointop *__restrict__ ops, int nops,
		    const uint8_t *__restrict__ luts, int nluts)
{
	GPX_SHARED gpx_k_pointop sops[32];
	GPX_SHARED uint8_t slut[8 * 256];
	for (int i = threadIdx.x; i < nops; i += blockDim.x)
		sops[i] = ops[i];
	for (int i = threadIdx.x; i < nluts * 256; i += blockDim.x)
		slut[i] = luts[i];
	__syncthreads();
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < npix; i += gridDim.x * blockDim.x) {
		const uint8_t *s = in + (size_t)i * cin;
		uint8_t p[4] = {s[0], 0, 0, 0};
		for (int c = 1; c < cin; c++)
			p[c] = s[c];
		int32_t c = cin;
		for (int k = 0; k < nops; k++)
			gpx_k_point(&sops[k], slut, p, &c);
		uint8_t *d = out + (size_t)i * cout;
		for (int k = 0; k < cout; k++)
			d[k] = p[k];
	}
}

// ---- vertical passes: a column strip of 32 samples x (32 + 2r) rows -------

// Loads rows y0 - r .. y0 + TH + r - 1 (border rule on y) of samples
// j0 .. j0 + 31 into tile[row][32].
__device__ __forceinline__ void load_strip(const uint8_t *__restrict__ in, uint8_t *tile, int n,
					   int H, int y0, int r, int border)
{
	int j = blockIdx.x * GPX_KV_TX + threadIdx.x;
	int rows = GPX_KV_TH + 2 * r;
	for (int ry = threadIdx.y; ry < rows; ry += GPX_KV_TY) {
		int sy = gpx_k_border(y0 - r + ry, H, border);
		tile[ry * GPX_KV_TX + threadIdx.x] = j < n ? in[(size_t)sy * n + j] : 0;
	}
}

// n = width * channels samples per row. w: r + 1 weights.
KERNEL void k_blur_v(const uint8_t *__restrict__ in, float *__restrict__ out, int n, int H,
		     const float *__restrict__ w, int r, int border)
{
	GPX_DYN_SHARED(uint8_t, smem);
	float *sw = (float *)smem;
	uint8_t *tile = smem + (((r + 1) * 4 + 15) & ~15);
	int tid = threadIdx.y * GPX_KV_TX + threadIdx.x;
	for (int i = tid; i <= r; i += GPX_KV_TX * GPX_KV_TY)
		sw[i] = w[i];
	int y0 = blockIdx.y * GPX_KV_TH;
	load_strip(in, tile, n, H, y0, r, border);
	__syncthreads();
	int j = blockIdx.x * GPX_KV_TX + threadIdx.x;
	if (j >= n)
		return;
	for (int q = 0; q < GPX_KV_ROWS; q++) {
		int ty = threadIdx.y + q * GPX_KV_TY, y = y0 + ty;
		if (y >= H)
			return;
		out[(size_t)y * n + j] =
			gpx_k_blur_v(tile + ty * GPX_KV_TX + threadIdx.x, GPX_KV_TX, sw, r);
	}
}

// Column sums of 2r + 1 rows (at most 255 * 201: 16 bits).
KERNEL void k_box_v(const uint8_t *__restrict__ in, uint16_t *__restrict__ out, int n, int H, int r,
		    int border)
{
	GPX_DYN_SHARED(uint8_t, smem);
	uint8_t *tile = smem;
	int y0 = blockIdx.y * GPX_KV_TH;
	load_strip(in, tile, n, H, y0, r, border);
	__syncthreads();
	int j = blockIdx.x * GPX_KV_TX + threadIdx.x;
	if (j >= n)
		return;
	for (int q = 0; q < GPX_KV_ROWS; q++) {
		int ty = threadIdx.y + q * GPX_KV_TY, y = y0 + ty;
		if (y >= H)
			return;
		const uint8_t *col = tile + ty * GPX_KV_TX + threadIdx.x;
		uint32_t s = 0;
		for (int m = 0; m <= 2 * r; m++)
			s += col[m * GPX_KV_TX];
		out[(size_t)y * n + j] = (uint16_t)s;
	}
}

// ---- horizontal passes: a row segment of TW pixels plus its halo ----------

// Blurs the vertical result `in` (W*H*C floats) along x into `out`. With
// `orig` set (sharpen), the blurred sample is the unsharp mask's reference:
// out = unsharp(orig, blurred), alpha copied from orig.
KERNEL void k_blur_h(const float *__restrict__ in, uint8_t *__restrict__ out, int W, int C,
		     const float *__restrict__ w, int r, int border,
		     const uint8_t *__restrict__ orig, float amount, int thr)
{
	GPX_DYN_SHARED(float, fsm);
	float *sw = fsm;
	float *row = fsm + r + 1;
	int y = blockIdx.y, x0 = blockIdx.x * GPX_KH_TW;
	int span = (GPX_KH_TW + 2 * r) * C;
	for (int i = threadIdx.x; i <= r; i += blockDim.x)
		sw[i] = w[i];
	const float *src = in + (size_t)y * W * C;
	for (int i = threadIdx.x; i < span; i += blockDim.x) {
		int px = i / C, c = i - px * C;
		int sx = gpx_k_border(x0 - r + px, W, border);
		row[i] = src[(size_t)sx * C + c];
	}
	__syncthreads();
	for (int i = threadIdx.x; i < GPX_KH_TW * C; i += blockDim.x) {
		int px = i / C, c = i - px * C, x = x0 + px;
		if (x >= W)
			return;
		uint8_t b = gpx_k_blur_h(row + px * C + c, C, sw, r);
		size_t o = ((size_t)y * W + x) * C + c;
		if (!orig)
			out[o] = b;
		else if (C == 4 && c == 3)
			out[o] = orig[o];
		else
			out[o] = gpx_k_unsharp(orig[o], b, amount, thr);
	}
}

// Window sums of the column sums; out = round(S / (2r+1)^2).
KERNEL void k_box_h(const uint16_t *__restrict__ in, uint8_t *__restrict__ out, int W, int C, int r,
		    int border)
{
	GPX_DYN_SHARED(uint16_t, hsm);
	int y = blockIdx.y, x0 = blockIdx.x * GPX_KH_TW;
	int span = (GPX_KH_TW + 2 * r) * C;
	const uint16_t *src = in + (size_t)y * W * C;
	for (int i = threadIdx.x; i < span; i += blockDim.x) {
		int px = i / C, c = i - px * C;
		int sx = gpx_k_border(x0 - r + px, W, border);
		hsm[i] = src[(size_t)sx * C + c];
	}
	__syncthreads();
	uint32_t N = (uint32_t)(2 * r + 1) * (uint32_t)(2 * r + 1);
	for (int i = threadIdx.x; i < GPX_KH_TW * C; i += blockDim.x) {
		int px = i / C, c = i - px * C, x = x0 + px;
		if (x >= W)
			return;
		const uint16_t *s = hsm + px * C + c;
		uint32_t sum = 0;
		for (int m = 0; m <= 2 * r; m++)
			sum += s[m * C];
		out[((size_t)y * W + x) * C + c] = gpx_k_box_div(sum, N);
	}
}

// ---- Sobel ---------------------------------------------------------------

KERNEL void k_edge(const uint8_t *__restrict__ in, uint8_t *__restrict__ out, int W, int H, int cin,
		   int cout, int thr)
{
	GPX_SHARED uint8_t lum[GPX_KE_TY + 2][GPX_KE_TX + 2];
	int x0 = blockIdx.x * GPX_KE_TX, y0 = blockIdx.y * GPX_KE_TY;
	int tid = threadIdx.y * GPX_KE_TX + threadIdx.x;
	for (int i = tid; i < (GPX_KE_TX + 2) * (GPX_KE_TY + 2); i += GPX_KE_TX * GPX_KE_TY) {
		int ly = i / (GPX_KE_TX + 2), lx = i - ly * (GPX_KE_TX + 2);
		int sx = gpx_k_border(x0 - 1 + lx, W, GPX_K_CLAMP);
		int sy = gpx_k_border(y0 - 1 + ly, H, GPX_K_CLAMP);
		lum[ly][lx] = gpx_k_luma(in + ((size_t)sy * W + sx) * cin, cin);
	}
	__syncthreads();
	int x = x0 + threadIdx.x, y = y0 + threadIdx.y;
	if (x >= W || y >= H)
		return;
	uint8_t v = gpx_k_sobel(&lum[threadIdx.y][threadIdx.x], &lum[threadIdx.y + 1][threadIdx.x],
				&lum[threadIdx.y + 2][threadIdx.x], thr);
	size_t o = (size_t)y * W + x;
	if (cout == 1) {
		out[o] = v;
	} else {
		out[o * 4] = v;
		out[o * 4 + 1] = v;
		out[o * 4 + 2] = v;
		out[o * 4 + 3] = in[o * 4 + 3];
	}
}

// ---- resize ----------------------------------------------------------------

// tmp[oy][j] over the input's n = Win*C samples of a row.
KERNEL void k_resize_v(const uint8_t *__restrict__ in, float *__restrict__ out, int n,
		       const int32_t *__restrict__ ys, const int32_t *__restrict__ yn,
		       const float *__restrict__ yw, int ty)
{
	int j = blockIdx.x * blockDim.x + threadIdx.x, oy = blockIdx.y;
	if (j >= n)
		return;
	out[(size_t)oy * n + j] = gpx_k_resize_v(in + (size_t)ys[oy] * n + j, (size_t)n,
						 yw + (size_t)oy * ty, yn[oy]);
}

KERNEL void k_resize_h(const float *__restrict__ in, uint8_t *__restrict__ out, int Win, int Wout,
		       int C, const int32_t *__restrict__ xs, const int32_t *__restrict__ xn,
		       const float *__restrict__ xw, int tx)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x, oy = blockIdx.y;
	if (i >= Wout * C)
		return;
	int ox = i / C, c = i - ox * C;
	const float *row = in + (size_t)oy * Win * C + (size_t)xs[ox] * C + c;
	out[(size_t)oy * Wout * C + i] = gpx_k_resize_h(row, C, xw + (size_t)ox * tx, xn[ox]);
}

KERNEL void k_resize_nearest(const uint8_t *__restrict__ in, uint8_t *__restrict__ out, int Win,
			     int Wout, int C, const int32_t *__restrict__ xs,
			     const int32_t *__restrict__ ys)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x, oy = blockIdx.y;
	if (i >= Wout * C)
		return;
	int ox = i / C, c = i - ox * C;
	out[(size_t)oy * Wout * C + i] = in[((size_t)ys[oy] * Win + xs[ox]) * C + c];
}

// ---- flip, rotate, crop: a gather -----------------------------------------

KERNEL void k_geom(const uint8_t *__restrict__ in, uint8_t *__restrict__ out, int Win, int Hin,
		   int Wout, int C, int mode, int a, int b)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x, oy = blockIdx.y;
	if (i >= Wout * C)
		return;
	int ox = i / C, c = i - ox * C;
	int32_t sx, sy;
	gpx_k_geom_src(mode, Win, Hin, ox, oy, a, b, &sx, &sy);
	out[(size_t)oy * Wout * C + i] = in[((size_t)sy * Win + sx) * C + c];
}

// ---- fault injection (GPIX_CUDA_FAULT=trap, make test-gpu) -----------------

KERNEL void k_trap(int *p)
{
#ifdef __CUDA_ARCH__
	if (p == nullptr)
		asm volatile("trap;");
#endif
}
