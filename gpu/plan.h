/* A pipeline, as the plugin ABI hands it to the CUDA backend, turned into
 * GPU passes: which kernels run on which buffers, and one parameter blob
 * (kernel weights, resize tables, lookup tables, fused point programs)
 * uploaded with the image. Pure C, no CUDA: the planning (and the host-side
 * tables, which must equal the CPU backend's) is unit-tested without a GPU
 * by running the plan through a CPU emulation of the kernels
 * (tests/unit/gpu/).
 *
 * Buffers: the image moves between two device buffers of plan.img_bytes
 * ("ping-pong", packed rows: stride = width * channels) and, for separable
 * filters, one temporary of plan.tmp_bytes. The input is uploaded into
 * buffer 0; the result is in buffer plan.out_buf. */
#ifndef GPX_GPU_PLAN_H
#define GPX_GPU_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "gpix/plugin.h"
#include "gpu/kmath.h"

/* What the CUDA backend runs (the backend's `filters`). */
#define GPX_CU_FILTERS                                                                            \
	"grayscale,blur,box_blur,edge,sharpen,invert,brightness_contrast,threshold,sepia,resize," \
	"rotate,flip,crop"

#define GPX_CU_MAX_PASSES 32
#define GPX_CU_MAX_POINT_OPS 32
#define GPX_CU_MAX_LUTS 8

typedef enum gpx_cu_pass_kind {
	GPX_CU_POINT,	/* fused point operations: k_point */
	GPX_CU_BLUR,	/* k_blur_v then k_blur_h */
	GPX_CU_SHARPEN, /* k_blur_v then k_blur_h with the unsharp mask */
	GPX_CU_BOX,	/* k_box_v then k_box_h */
	GPX_CU_EDGE,	/* k_edge */
	GPX_CU_RESIZE,	/* k_resize_v then k_resize_h */
	GPX_CU_NEAREST, /* k_resize_nearest */
	GPX_CU_GEOM,	/* k_geom: flip, rotate, crop */
} gpx_cu_pass_kind;

typedef struct gpx_cu_pass {
	gpx_cu_pass_kind kind;
	uint32_t win, hin, cin, wout, hout, cout;
	uint32_t src, dst; /* buffer 0 or 1 */
	/* POINT: the program and its tables (copied into the blob at the end) */
	uint32_t nops, nluts;
	gpx_k_pointop ops[GPX_CU_MAX_POINT_OPS];
	uint8_t luts[GPX_CU_MAX_LUTS][256];
	/* BLUR, SHARPEN, BOX: radius and border; SHARPEN: amount, threshold */
	int32_t r, border;
	float amount;
	int32_t thr; /* SHARPEN, EDGE */
	/* RESIZE: taps per output along x and y; GEOM: mode and corner */
	int32_t tx, ty;
	int32_t mode, a, b;
	/* Blob offsets. BLUR/SHARPEN: [0] r+1 weights. RESIZE: [0..2] x start,
	 * count, weights, [3..5] y. NEAREST: [0] x, [3] y sources. POINT: [0]
	 * ops, [1] luts. */
	size_t off[6];
} gpx_cu_pass;

typedef struct gpx_cu_plan {
	gpx_cu_pass pass[GPX_CU_MAX_PASSES];
	uint32_t npass;
	uint32_t in_w, in_h, in_c, out_w, out_h, out_c;
	uint32_t out_buf;
	size_t in_bytes, out_bytes;
	size_t img_bytes; /* each ping-pong buffer */
	size_t tmp_bytes; /* the separable filters' temporary */
	uint8_t *blob;	  /* parameters, 16-byte aligned items */
	size_t blob_len, blob_cap;
} gpx_cu_plan;

void gpx_cu_plan_init(gpx_cu_plan *p);
void gpx_cu_plan_free(gpx_cu_plan *p);

/* Plans steps[0..n) (n >= 1; the host gives each step its geometry). The
 * blob is reused between calls. 0, or -1 with st: UNIMPLEMENTED for a
 * filter or value the kernels do not cover, RESOURCE_EXHAUSTED when out of
 * host memory, INVALID_ARGUMENT for a geometry the plan does not expect. */
int gpx_cu_plan_build(gpx_cu_plan *p, const gpx_plugin_step *steps, uint32_t n,
		      gpx_plugin_status *st);

/* Host-side tables, exactly as the CPU backend builds them (exported for
 * the tests that compare them with engine/filters). */
uint32_t gpx_cu_gauss_ksize(double sigma, double kernel_size);
void gpx_cu_gauss_kernel(double sigma, uint32_t ksize, float *w);
void gpx_cu_bc_lut(double brightness, double contrast, uint8_t *lut);

#endif
