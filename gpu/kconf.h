/* Launch geometry shared by gpu/kernels.cu and gpu/launch.c. */
#ifndef GPX_GPU_KCONF_H
#define GPX_GPU_KCONF_H

/* k_point: one pixel per thread, grid-stride. */
#define GPX_KP_THREADS 256

/* k_blur_v, k_box_v: 32 samples x 8 threads; each thread computes
 * GPX_KV_ROWS rows, so a block covers 32 samples x 32 rows and loads
 * 32 + 2r rows of its column strip into shared memory once. */
#define GPX_KV_TX 32
#define GPX_KV_TY 8
#define GPX_KV_ROWS 4
#define GPX_KV_TH (GPX_KV_TY * GPX_KV_ROWS)

/* k_blur_h, k_box_h: one row segment of GPX_KH_TW pixels per block, with
 * its r-pixel halo on each side in shared memory. */
#define GPX_KH_TW 128
#define GPX_KH_THREADS 256

/* k_edge: 32 x 8 pixels per block, a (32+2) x (8+2) luma tile. */
#define GPX_KE_TX 32
#define GPX_KE_TY 8

/* k_resize_*, k_geom: a row of samples per blockIdx.y. */
#define GPX_KR_THREADS 256

#endif
