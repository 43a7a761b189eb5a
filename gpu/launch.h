/* Enqueueing a plan's kernels: the launch geometry (grid, block, dynamic
 * shared memory) and argument lists of every pass. Pure C: the actual
 * launch is a callback, cuLaunchKernel on a stream in the plugin and the
 * bench, a CPU simulation of the kernels in the unit tests
 * (tests/unit/gpu/cudasim.cpp), so this file is tested without a GPU. */
#ifndef GPX_GPU_LAUNCH_H
#define GPX_GPU_LAUNCH_H

#include <stdint.h>

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

/* A device address (CUdeviceptr: 64 bits). */
typedef uint64_t gpx_cu_ptr;

/* Launches kernel k (GPX_KF_*) with a gx x gy grid of bx x by blocks and
 * shm bytes of dynamic shared memory; args as cuLaunchKernel takes them
 * (pointers to each argument, device pointers as gpx_cu_ptr). Returns 0
 * or the driver's error code. */
typedef struct gpx_cu_launcher {
	int (*launch)(void *ud, int k, unsigned gx, unsigned gy, unsigned bx, unsigned by,
		      unsigned shm, void **args);
	void *ud;
} gpx_cu_launcher;

/* Device memory a plan runs in. */
typedef struct gpx_cu_bufs {
	gpx_cu_ptr img[2]; /* plan.img_bytes each; the input is in img[0] */
	gpx_cu_ptr tmp;	   /* plan.tmp_bytes */
	gpx_cu_ptr blob;   /* plan.blob_len: the parameters */
} gpx_cu_bufs;

/* Launches pass i of p; then every pass, in order. 0 or the error. */
int gpx_cu_launch_pass(const gpx_cu_launcher *l, const gpx_cu_plan *p, uint32_t i,
		       const gpx_cu_bufs *b);
int gpx_cu_launch_plan(const gpx_cu_launcher *l, const gpx_cu_plan *p, const gpx_cu_bufs *b);

/* Bytes a pass reads and writes in device memory at the least (each input
 * and output byte once), for the bandwidth roofline of bench-gpu. */
double gpx_cu_pass_min_bytes(const gpx_cu_pass *ps);

#endif
