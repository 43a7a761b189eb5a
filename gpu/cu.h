/* The CUDA driver API, loaded with dlopen("libcuda.so.1") at run time: the
 * plugin links nothing from CUDA, so it loads (and reports why CUDA is
 * unavailable) on machines without an NVIDIA driver. cuda.h supplies the
 * types and the versioned entry point names (cuMemAlloc is cuMemAlloc_v2);
 * the table holds exactly those symbols. */
#ifndef GPX_GPU_CU_H
#define GPX_GPU_CU_H

#include <cuda.h>
#include <stddef.h>

#include "gpix/plugin.h"

#define GPX_CU_FUNCS(X)               \
	X(cuInit)                     \
	X(cuDriverGetVersion)         \
	X(cuGetErrorName)             \
	X(cuGetErrorString)           \
	X(cuDeviceGetCount)           \
	X(cuDeviceGet)                \
	X(cuDeviceGetName)            \
	X(cuDeviceTotalMem)           \
	X(cuDeviceGetAttribute)       \
	X(cuDevicePrimaryCtxRetain)   \
	X(cuDevicePrimaryCtxRelease)  \
	X(cuDevicePrimaryCtxSetFlags) \
	X(cuCtxSetCurrent)            \
	X(cuModuleLoadData)           \
	X(cuModuleUnload)             \
	X(cuModuleGetFunction)        \
	X(cuMemAlloc)                 \
	X(cuMemFree)                  \
	X(cuMemGetInfo)               \
	X(cuMemHostAlloc)             \
	X(cuMemFreeHost)              \
	X(cuMemcpyHtoDAsync)          \
	X(cuMemcpyDtoHAsync)          \
	X(cuMemcpyDtoDAsync)          \
	X(cuStreamCreate)             \
	X(cuStreamDestroy)            \
	X(cuStreamSynchronize)        \
	X(cuEventCreate)              \
	X(cuEventDestroy)             \
	X(cuEventRecord)              \
	X(cuEventSynchronize)         \
	X(cuLaunchKernel)

typedef struct gpx_cu_api {
	void *lib;
#define GPX_CU_MEMBER(name) __typeof__(&name) name;
	GPX_CU_FUNCS(GPX_CU_MEMBER)
#undef GPX_CU_MEMBER
	/* Optional (bench timing): the unversioned symbol, present in every
	 * driver; NULL when missing. */
	CUresult (*eventElapsedTime)(float *ms, CUevent start, CUevent end);
} gpx_cu_api;

/* Loads libcuda and every symbol. 0, or -1 with why[] ("no NVIDIA driver:
 * libcuda.so.1: cannot open shared object file ..."). */
int gpx_cu_load(gpx_cu_api *api, char *why, size_t whylen);
void gpx_cu_unload(gpx_cu_api *api);

/* "CUDA_ERROR_OUT_OF_MEMORY: out of memory" into buf; returns buf. */
const char *gpx_cu_strerror(const gpx_cu_api *api, CUresult rc, char *buf, size_t len);

/* The job's status for a driver error: out of memory is
 * RESOURCE_EXHAUSTED; errors that leave the context unusable (illegal
 * address, launch failure, trap, ECC, device gone) are UNAVAILABLE and set
 * *lost; the rest INTERNAL. */
uint32_t gpx_cu_code(CUresult rc, int *lost);

#endif
