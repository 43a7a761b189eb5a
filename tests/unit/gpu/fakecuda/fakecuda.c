/* A fake libcuda.so.1 for the unit tests: the driver API the CUDA plugin
 * uses (gpu/cu.h), on the CPU. Device memory is host memory, copies are
 * synchronous, and kernel launches run gpu/kernels.cu in the CPU
 * simulation (cudasim.cpp). With it the real gpix-cuda.so — slots, the
 * submitter thread, pinned and device buffer reuse, the pool limit, fault
 * handling — runs end to end on a machine without a GPU
 * (test_cuda_fake.c; LD_LIBRARY_PATH points dlopen here).
 *
 * Faults: k_trap launched with more than 1024 threads is refused
 * (CUDA_ERROR_INVALID_VALUE, like a device); launched properly it "traps":
 * the context is broken for good, and every later call fails with
 * CUDA_ERROR_LAUNCH_FAILED, like a sticky error. fakecuda_stats() counts
 * allocations, for the tests that check buffers are reused. */
#include <cuda.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/launch.h"

int gpx_cusim_launch(void *ud, int k, unsigned gx, unsigned gy, unsigned bx, unsigned by,
		     unsigned shm, void **args);

#define FAKE_EXPORT __attribute__((visibility("default")))
#define FAKE_MEM ((size_t)4 << 30)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int broken;
static size_t used;
static unsigned long dev_allocs, host_allocs, launches;
static char ctx_token, mod_token;

FAKE_EXPORT void fakecuda_stats(unsigned long *dev, unsigned long *host, unsigned long *launched);
FAKE_EXPORT void fakecuda_stats(unsigned long *dev, unsigned long *host, unsigned long *launched)
{
	pthread_mutex_lock(&mu);
	*dev = dev_allocs;
	*host = host_allocs;
	*launched = launches;
	pthread_mutex_unlock(&mu);
}

static CUresult state(void)
{
	pthread_mutex_lock(&mu);
	int b = broken;
	pthread_mutex_unlock(&mu);
	return b ? CUDA_ERROR_LAUNCH_FAILED : CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuInit(unsigned int flags)
{
	(void)flags;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDriverGetVersion(int *v)
{
	*v = 13000;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuGetErrorName(CUresult e, const char **s)
{
	*s = e == CUDA_ERROR_OUT_OF_MEMORY   ? "CUDA_ERROR_OUT_OF_MEMORY" :
	     e == CUDA_ERROR_LAUNCH_FAILED   ? "CUDA_ERROR_LAUNCH_FAILED" :
	     e == CUDA_ERROR_INVALID_VALUE   ? "CUDA_ERROR_INVALID_VALUE" :
	     e == CUDA_ERROR_ILLEGAL_ADDRESS ? "CUDA_ERROR_ILLEGAL_ADDRESS" :
					       "CUDA_ERROR_UNKNOWN";
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuGetErrorString(CUresult e, const char **s)
{
	*s = e == CUDA_ERROR_LAUNCH_FAILED ? "unspecified launch failure (fake trap)" :
					     "fake error";
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDeviceGetCount(int *n)
{
	*n = 1;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDeviceGet(CUdevice *d, int ordinal)
{
	*d = ordinal;
	return ordinal == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

FAKE_EXPORT CUresult cuDeviceGetName(char *name, int len, CUdevice d)
{
	(void)d;
	snprintf(name, (size_t)len, "Fake GPU (cudasim)");
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDeviceTotalMem(size_t *bytes, CUdevice d)
{
	(void)d;
	*bytes = FAKE_MEM;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDeviceGetAttribute(int *v, CUdevice_attribute a, CUdevice d)
{
	(void)d;
	switch (a) {
	case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = 9; break;
	case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = 0; break;
	case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: *v = 1000000; break;
	case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: *v = 256; break;
	default: *v = 0;
	}
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d)
{
	(void)d;
	*c = (CUcontext)&ctx_token;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDevicePrimaryCtxRelease(CUdevice d)
{
	(void)d;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDevicePrimaryCtxSetFlags(CUdevice d, unsigned int flags)
{
	(void)d;
	(void)flags;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuCtxSetCurrent(CUcontext c)
{
	(void)c;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuModuleLoadData(CUmodule *m, const void *image)
{
	(void)image;
	*m = (CUmodule)&mod_token;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuModuleUnload(CUmodule m)
{
	(void)m;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuModuleGetFunction(CUfunction *f, CUmodule m, const char *name)
{
	(void)m;
	for (int k = 0; k < GPX_KF_COUNT; k++)
		if (!strcmp(name, gpx_cu_kernel_names[k])) {
			*f = (CUfunction)(uintptr_t)(k + 1);
			return CUDA_SUCCESS;
		}
	return CUDA_ERROR_NOT_FOUND;
}

FAKE_EXPORT CUresult cuMemAlloc(CUdeviceptr *p, size_t n)
{
	pthread_mutex_lock(&mu);
	int full = used + n > FAKE_MEM;
	if (!full) {
		used += n;
		dev_allocs++;
	}
	pthread_mutex_unlock(&mu);
	if (full)
		return CUDA_ERROR_OUT_OF_MEMORY;
	/* the size in front, for cuMemFree's accounting */
	size_t *b = malloc(n + 16);
	if (!b)
		return CUDA_ERROR_OUT_OF_MEMORY;
	b[0] = n;
	*p = (CUdeviceptr)(uintptr_t)((char *)b + 16);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuMemFree(CUdeviceptr p)
{
	if (!p)
		return CUDA_SUCCESS;
	size_t *b = (size_t *)((char *)(uintptr_t)p - 16);
	pthread_mutex_lock(&mu);
	used -= b[0];
	pthread_mutex_unlock(&mu);
	free(b);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuMemGetInfo(size_t *free_b, size_t *total)
{
	pthread_mutex_lock(&mu);
	*free_b = FAKE_MEM - used;
	pthread_mutex_unlock(&mu);
	*total = FAKE_MEM;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuMemHostAlloc(void **p, size_t n, unsigned int flags)
{
	(void)flags;
	*p = malloc(n);
	pthread_mutex_lock(&mu);
	host_allocs++;
	pthread_mutex_unlock(&mu);
	return *p ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

FAKE_EXPORT CUresult cuMemFreeHost(void *p)
{
	free(p);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuMemcpyHtoDAsync(CUdeviceptr dst, const void *src, size_t n, CUstream s)
{
	(void)s;
	if (state() != CUDA_SUCCESS)
		return state();
	memcpy((void *)(uintptr_t)dst, src, n);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuMemcpyDtoHAsync(void *dst, CUdeviceptr src, size_t n, CUstream s)
{
	(void)s;
	if (state() != CUDA_SUCCESS)
		return state();
	memcpy(dst, (const void *)(uintptr_t)src, n);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuMemcpyDtoDAsync(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s)
{
	(void)s;
	memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, n);
	return state();
}

FAKE_EXPORT CUresult cuStreamCreate(CUstream *s, unsigned int flags)
{
	(void)flags;
	*s = (CUstream)malloc(1);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuStreamDestroy(CUstream s)
{
	free(s);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuStreamSynchronize(CUstream s)
{
	(void)s;
	return state();
}

FAKE_EXPORT CUresult cuEventCreate(CUevent *e, unsigned int flags)
{
	(void)flags;
	*e = (CUevent)malloc(1);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuEventDestroy(CUevent e)
{
	free(e);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuEventRecord(CUevent e, CUstream s)
{
	(void)e;
	(void)s;
	return state();
}

FAKE_EXPORT CUresult cuEventSynchronize(CUevent e)
{
	(void)e;
	return state();
}

FAKE_EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
				    unsigned int bx, unsigned int by, unsigned int bz,
				    unsigned int shm, CUstream s, void **args, void **extra)
{
	(void)gz;
	(void)bz;
	(void)s;
	(void)extra;
	int k = (int)(uintptr_t)f - 1;
	if (state() != CUDA_SUCCESS)
		return state();
	if (k == GPX_KF_TRAP) {
		if ((uint64_t)bx * by > 1024)
			return CUDA_ERROR_INVALID_VALUE;
		pthread_mutex_lock(&mu);
		broken = 1; /* reported later, as an asynchronous fault is */
		pthread_mutex_unlock(&mu);
		return CUDA_SUCCESS;
	}
	/* the simulation is not reentrant: one launch at a time */
	pthread_mutex_lock(&mu);
	launches++;
	int rc = gpx_cusim_launch(NULL, k, gx, gy, bx, by, shm, args);
	pthread_mutex_unlock(&mu);
	return rc == 0	 ? CUDA_SUCCESS :
	       rc == 700 ? CUDA_ERROR_ILLEGAL_ADDRESS :
			   CUDA_ERROR_INVALID_VALUE;
}
