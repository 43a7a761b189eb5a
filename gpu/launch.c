/* Launch geometry of every pass; the kernels are in gpu/kernels.cu and the
 * geometry constants in gpu/kconf.h. */
#include "gpu/launch.h"

#include "gpu/kconf.h"

const char *const gpx_cu_kernel_names[GPX_KF_COUNT] = {
	"k_point",    "k_blur_v",   "k_blur_h",		"k_box_v", "k_box_h", "k_edge",
	"k_resize_v", "k_resize_h", "k_resize_nearest", "k_geom",  "k_trap",
};

static unsigned blocks(size_t n, unsigned per)
{
	return (unsigned)((n + per - 1) / per);
}

#define LAUNCH(k, gx, gy, bx, by, shm, ...)                                            \
	do {                                                                           \
		void *args_[] = {__VA_ARGS__};                                         \
		int rc_ = l->launch(l->ud, (k), (gx), (gy), (bx), (by), (shm), args_); \
		if (rc_ != 0)                                                          \
			return rc_;                                                    \
	} while (0)

int gpx_cu_launch_pass(const gpx_cu_launcher *l, const gpx_cu_plan *p, uint32_t i,
		       const gpx_cu_bufs *b)
{
	const gpx_cu_pass *ps = &p->pass[i];
	gpx_cu_ptr src = b->img[ps->src], dst = b->img[ps->dst], tmp = b->tmp;
	int W = (int)ps->win, H = (int)ps->hin, C = (int)ps->cin;
	int n = W * C, r = ps->r, border = ps->border;
	switch (ps->kind) {
	case GPX_CU_POINT: {
		int npix = W * H, cin = C, cout = (int)ps->cout, nops = (int)ps->nops;
		int nluts = (int)ps->nluts;
		gpx_cu_ptr ops = b->blob + ps->off[0], luts = b->blob + ps->off[1];
		unsigned g = blocks((size_t)npix, GPX_KP_THREADS);
		LAUNCH(GPX_KF_POINT, g > 65535 ? 65535 : g, 1, GPX_KP_THREADS, 1, 0, &src, &dst,
		       &npix, &cin, &cout, &ops, &nops, &luts, &nluts);
		return 0;
	}
	case GPX_CU_BLUR:
	case GPX_CU_SHARPEN: {
		gpx_cu_ptr w = b->blob + ps->off[0];
		unsigned shv =
			(unsigned)((((r + 1) * 4 + 15) & ~15) + (GPX_KV_TH + 2 * r) * GPX_KV_TX);
		LAUNCH(GPX_KF_BLUR_V, blocks((size_t)n, GPX_KV_TX), blocks((size_t)H, GPX_KV_TH),
		       GPX_KV_TX, GPX_KV_TY, shv, &src, &tmp, &n, &H, &w, &r, &border);
		gpx_cu_ptr orig = ps->kind == GPX_CU_SHARPEN ? src : 0;
		float amount = ps->amount;
		int thr = ps->thr;
		unsigned shh = (unsigned)((r + 1 + (GPX_KH_TW + 2 * r) * C) * 4);
		LAUNCH(GPX_KF_BLUR_H, blocks((size_t)W, GPX_KH_TW), (unsigned)H, GPX_KH_THREADS, 1,
		       shh, &tmp, &dst, &W, &C, &w, &r, &border, &orig, &amount, &thr);
		return 0;
	}
	case GPX_CU_BOX: {
		unsigned shv = (unsigned)((GPX_KV_TH + 2 * r) * GPX_KV_TX);
		LAUNCH(GPX_KF_BOX_V, blocks((size_t)n, GPX_KV_TX), blocks((size_t)H, GPX_KV_TH),
		       GPX_KV_TX, GPX_KV_TY, shv, &src, &tmp, &n, &H, &r, &border);
		unsigned shh = (unsigned)((GPX_KH_TW + 2 * r) * C * 2);
		LAUNCH(GPX_KF_BOX_H, blocks((size_t)W, GPX_KH_TW), (unsigned)H, GPX_KH_THREADS, 1,
		       shh, &tmp, &dst, &W, &C, &r, &border);
		return 0;
	}
	case GPX_CU_EDGE: {
		int cout = (int)ps->cout, thr = ps->thr;
		LAUNCH(GPX_KF_EDGE, blocks((size_t)W, GPX_KE_TX), blocks((size_t)H, GPX_KE_TY),
		       GPX_KE_TX, GPX_KE_TY, 0, &src, &dst, &W, &H, &C, &cout, &thr);
		return 0;
	}
	case GPX_CU_RESIZE: {
		int Wout = (int)ps->wout, tx = ps->tx, ty = ps->ty;
		gpx_cu_ptr xs = b->blob + ps->off[0], xn = b->blob + ps->off[1],
			   xw = b->blob + ps->off[2];
		gpx_cu_ptr ys = b->blob + ps->off[3], yn = b->blob + ps->off[4],
			   yw = b->blob + ps->off[5];
		LAUNCH(GPX_KF_RESIZE_V, blocks((size_t)n, GPX_KR_THREADS), ps->hout, GPX_KR_THREADS,
		       1, 0, &src, &tmp, &n, &ys, &yn, &yw, &ty);
		LAUNCH(GPX_KF_RESIZE_H, blocks((size_t)Wout * C, GPX_KR_THREADS), ps->hout,
		       GPX_KR_THREADS, 1, 0, &tmp, &dst, &W, &Wout, &C, &xs, &xn, &xw, &tx);
		return 0;
	}
	case GPX_CU_NEAREST: {
		int Wout = (int)ps->wout;
		gpx_cu_ptr xs = b->blob + ps->off[0], ys = b->blob + ps->off[3];
		LAUNCH(GPX_KF_NEAREST, blocks((size_t)Wout * C, GPX_KR_THREADS), ps->hout,
		       GPX_KR_THREADS, 1, 0, &src, &dst, &W, &Wout, &C, &xs, &ys);
		return 0;
	}
	case GPX_CU_GEOM: {
		int Wout = (int)ps->wout, mode = ps->mode, a = ps->a, bb = ps->b;
		LAUNCH(GPX_KF_GEOM, blocks((size_t)Wout * C, GPX_KR_THREADS), ps->hout,
		       GPX_KR_THREADS, 1, 0, &src, &dst, &W, &H, &Wout, &C, &mode, &a, &bb);
		return 0;
	}
	}
	return 1; /* CUDA_ERROR_INVALID_VALUE */
}

int gpx_cu_launch_plan(const gpx_cu_launcher *l, const gpx_cu_plan *p, const gpx_cu_bufs *b)
{
	for (uint32_t i = 0; i < p->npass; i++) {
		int rc = gpx_cu_launch_pass(l, p, i, b);
		if (rc != 0)
			return rc;
	}
	return 0;
}

double gpx_cu_pass_min_bytes(const gpx_cu_pass *ps)
{
	return (double)ps->win * ps->hin * ps->cin + (double)ps->wout * ps->hout * ps->cout;
}
