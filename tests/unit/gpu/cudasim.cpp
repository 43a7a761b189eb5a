// A CPU simulation of gpu/kernels.cu, for the unit tests (no GPU, no nvcc).
//
// The kernels are compiled as host C++ with CUDA's vocabulary defined
// here. Blocks run one after another and the threads of a block one after
// another, in two rounds, which is exact for kernels shaped like ours: at
// most one __syncthreads(), and nothing before it but loads into shared
// memory (deterministic: every thread writes the same values whenever it
// runs). Round 1 runs each thread up to its __syncthreads() (which throws
// to stop it there) or to its end; round 2 runs again, from the start, the
// threads that stopped at the barrier: their loads rewrite the values
// already there, and __syncthreads() returns since every thread of the
// block has done its loads. A kernel that reaches __syncthreads() twice
// fails the launch. Round 1 stops a thread with siglongjmp: between the
// runner and the barrier there are only the kernel, a lambda and
// std::function's call, none with a destructor to skip.
//
// `__shared__` arrays are function statics (one block at a time uses
// them); dynamic shared memory is one buffer whose bytes past the launch's
// request are checked for stray writes after every block. The launch checks
// CUDA's limits (1024 threads per block, grid.y <= 65535, 48 KiB of shared
// memory), so geometry mistakes fail here as on a device. What this cannot
// show: timing, coalescing, and races (none by construction: blocks write
// disjoint outputs).
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <functional>

struct dim3 {
	unsigned x, y, z;
};
static dim3 threadIdx, blockIdx, blockDim, gridDim;

static sigjmp_buf sim_stop; /* where round 1 resumes at a barrier */
static int sim_round, sim_syncs;
static inline void __syncthreads(void)
{
	if (sim_round == 1)
		siglongjmp(sim_stop, 1);
	sim_syncs++;
}

enum { SIM_SMEM = 48 * 1024, SIM_GUARD = 4096 };
alignas(16) static unsigned char sim_smem[SIM_SMEM + SIM_GUARD];

#define __global__
#define __device__
#define __forceinline__ inline
#define __align__(n)
#define GPX_SHARED static
#define GPX_DYN_SHARED(T, name) T *name = (T *)sim_smem

#include "gpu/kernels.cu"
#include "gpu/launch.h"

extern "C" int gpx_cusim_launch(void *ud, int k, unsigned gx, unsigned gy, unsigned bx, unsigned by,
				unsigned shm, void **args);
extern "C" void gpx_cusim_shutdown(void);

#define PTR(i, T) ((T)(uintptr_t)(*(gpx_cu_ptr *)args[i]))
#define INT(i) (*(int *)args[i])
#define FLT(i) (*(float *)args[i])

static std::function<void()> kernel_call(int k, void **args)
{
	switch (k) {
	case GPX_KF_POINT:
		return [=] {
			k_point(PTR(0, const uint8_t *), PTR(1, uint8_t *), INT(2), INT(3), INT(4),
				PTR(5, const gpx_k_pointop *), INT(6), PTR(7, const uint8_t *),
				INT(8));
		};
	case GPX_KF_BLUR_V:
		return [=] {
			k_blur_v(PTR(0, const uint8_t *), PTR(1, float *), INT(2), INT(3),
				 PTR(4, const float *), INT(5), INT(6));
		};
	case GPX_KF_BLUR_H:
		return [=] {
			k_blur_h(PTR(0, const float *), PTR(1, uint8_t *), INT(2), INT(3),
				 PTR(4, const float *), INT(5), INT(6), PTR(7, const uint8_t *),
				 FLT(8), INT(9));
		};
	case GPX_KF_BOX_V:
		return [=] {
			k_box_v(PTR(0, const uint8_t *), PTR(1, uint16_t *), INT(2), INT(3), INT(4),
				INT(5));
		};
	case GPX_KF_BOX_H:
		return [=] {
			k_box_h(PTR(0, const uint16_t *), PTR(1, uint8_t *), INT(2), INT(3), INT(4),
				INT(5));
		};
	case GPX_KF_EDGE:
		return [=] {
			k_edge(PTR(0, const uint8_t *), PTR(1, uint8_t *), INT(2), INT(3), INT(4),
			       INT(5), INT(6));
		};
	case GPX_KF_RESIZE_V:
		return [=] {
			k_resize_v(PTR(0, const uint8_t *), PTR(1, float *), INT(2),
				   PTR(3, const int32_t *), PTR(4, const int32_t *),
				   PTR(5, const float *), INT(6));
		};
	case GPX_KF_RESIZE_H:
		return [=] {
			k_resize_h(PTR(0, const float *), PTR(1, uint8_t *), INT(2), INT(3), INT(4),
				   PTR(5, const int32_t *), PTR(6, const int32_t *),
				   PTR(7, const float *), INT(8));
		};
	case GPX_KF_NEAREST:
		return [=] {
			k_resize_nearest(PTR(0, const uint8_t *), PTR(1, uint8_t *), INT(2), INT(3),
					 INT(4), PTR(5, const int32_t *), PTR(6, const int32_t *));
		};
	case GPX_KF_GEOM:
		return [=] {
			k_geom(PTR(0, const uint8_t *), PTR(1, uint8_t *), INT(2), INT(3), INT(4),
			       INT(5), INT(6), INT(7), INT(8));
		};
	default: return nullptr;
	}
}

/* Round 1 of one thread: true when it stopped at __syncthreads(). Alone
 * in its function so that no local of the caller lives across the jump. */
static bool run_to_barrier(const std::function<void()> &fn)
{
	if (sigsetjmp(sim_stop, 0) != 0)
		return true;
	fn();
	return false;
}

extern "C" int gpx_cusim_launch(void *ud, int k, unsigned gx, unsigned gy, unsigned bx, unsigned by,
				unsigned shm, void **args)
{
	(void)ud;
	/* cudaErrorInvalidValue / InvalidConfiguration, as a device would */
	if (bx == 0 || by == 0 || bx * by > 1024 || gx == 0 || gy == 0 || gy > 65535 ||
	    shm > SIM_SMEM)
		return 1;
	std::function<void()> fn = kernel_call(k, args);
	if (!fn)
		return 1;
	blockDim = dim3{bx, by, 1};
	gridDim = dim3{gx, gy, 1};
	static bool stopped[1024];
	for (unsigned y = 0; y < gy; y++)
		for (unsigned x = 0; x < gx; x++) {
			memset(sim_smem + shm, 0xA5, SIM_SMEM + SIM_GUARD - shm);
			blockIdx = dim3{x, y, 0};
			bool any = false;
			sim_round = 1;
			for (unsigned t = 0; t < bx * by; t++) {
				threadIdx = dim3{t % bx, t / bx, 0};
				stopped[t] = false;
				if (run_to_barrier(fn))
					stopped[t] = any = true;
			}
			sim_round = 2;
			for (unsigned t = 0; any && t < bx * by; t++) {
				if (!stopped[t])
					continue;
				threadIdx = dim3{t % bx, t / bx, 0};
				sim_syncs = 0;
				fn();
				if (sim_syncs != 1)
					return 3; /* not the shape this simulation handles */
			}
			for (size_t i = shm; i < SIM_SMEM + SIM_GUARD; i++)
				if (sim_smem[i] != 0xA5)
					return 700; /* CUDA_ERROR_ILLEGAL_ADDRESS */
		}
	return 0;
}

extern "C" void gpx_cusim_shutdown(void)
{
	/* nothing runs between launches */
}
