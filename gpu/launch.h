/* Enqueueing a plan's kernels on a stream (driver API). */
#ifndef GPX_GPU_LAUNCH_H
#define GPX_GPU_LAUNCH_H

#include "gpu/cu.h"
#include "gpu/plan.h"

enum {
	GPX_KF_POINT,
	GPX_KF_BLUR_V,
	GPX_KF_BLUR_H,
	GPX_KF_BOX_V,
	GPX_KF_BOX_H,
	GPX_KF_EDGE,
	GPX_KF_RESIZE_V,
	GPX_KF_RESIZE_H,
	GPX_KF_NEAREST,
	GPX_KF_GEOM,
	GPX_KF_TRAP,
	GPX_KF_COUNT
};

/* The kernels' names in the module, indexed by GPX_KF_*. */
extern const char *const gpx_cu_kernel_names[GPX_KF_COUNT];

/* Device memory a plan runs in. */
typedef struct gpx_cu_bufs {
	CUdeviceptr img[2]; /* plan.img_bytes each; the input is in img[0] */
	CUdeviceptr tmp;    /* plan.tmp_bytes */
	CUdeviceptr blob;   /* plan.blob_len: the parameters */
} gpx_cu_bufs;

/* Enqueues pass i of p on stream s. */
CUresult gpx_cu_launch_pass(const gpx_cu_api *api, const CUfunction *fn, const gpx_cu_plan *p,
			    uint32_t i, const gpx_cu_bufs *b, CUstream s);
/* Every pass, in order. */
CUresult gpx_cu_launch_plan(const gpx_cu_api *api, const CUfunction *fn, const gpx_cu_plan *p,
			    const gpx_cu_bufs *b, CUstream s);

/* Bytes a pass reads and writes in device memory at the least (each input
 * and output byte once), for the bandwidth roofline of bench-gpu. */
double gpx_cu_pass_min_bytes(const gpx_cu_pass *ps);

#endif
