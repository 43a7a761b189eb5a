#include "gpu/cu.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define GPX_CU_STR_(x) #x
#define GPX_CU_STR(x) GPX_CU_STR_(x) /* expands cuMemAlloc to "cuMemAlloc_v2" */

int gpx_cu_load(gpx_cu_api *api, char *why, size_t whylen)
{
	memset(api, 0, sizeof(*api));
	dlerror();
	api->lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!api->lib) {
		const char *e = dlerror();
		snprintf(why, whylen, "no NVIDIA driver: %s", e ? e : "libcuda.so.1 not found");
		return -1;
	}
	union {
		void *obj;
		void (*fn)(void);
	} u;
#define GPX_CU_LOAD(name)                                                                    \
	u.obj = dlsym(api->lib, GPX_CU_STR(name));                                           \
	if (!u.obj) {                                                                        \
		snprintf(why, whylen, "the NVIDIA driver is too old: no %s in libcuda.so.1", \
			 GPX_CU_STR(name));                                                  \
		gpx_cu_unload(api);                                                          \
		return -1;                                                                   \
	}                                                                                    \
	api->name = (__typeof__(api->name))u.fn;
	GPX_CU_FUNCS(GPX_CU_LOAD)
#undef GPX_CU_LOAD
	u.obj = dlsym(api->lib, "cuEventElapsedTime");
	api->eventElapsedTime = (CUresult(*)(float *, CUevent, CUevent))u.fn;
	return 0;
}

void gpx_cu_unload(gpx_cu_api *api)
{
	if (api->lib)
		dlclose(api->lib);
	memset(api, 0, sizeof(*api));
}

const char *gpx_cu_strerror(const gpx_cu_api *api, CUresult rc, char *buf, size_t len)
{
	const char *name = NULL, *text = NULL;
	if (api->cuGetErrorName)
		api->cuGetErrorName(rc, &name);
	if (api->cuGetErrorString)
		api->cuGetErrorString(rc, &text);
	if (name)
		snprintf(buf, len, "%s: %s", name, text ? text : "");
	else
		snprintf(buf, len, "CUDA error %d", (int)rc);
	return buf;
}

uint32_t gpx_cu_code(CUresult rc, int *lost)
{
	switch (rc) {
	case CUDA_ERROR_OUT_OF_MEMORY: return GPX_PLUGIN_RESOURCE_EXHAUSTED;
	case CUDA_ERROR_ILLEGAL_ADDRESS:
	case CUDA_ERROR_LAUNCH_FAILED:
	case CUDA_ERROR_HARDWARE_STACK_ERROR:
	case CUDA_ERROR_ILLEGAL_INSTRUCTION:
	case CUDA_ERROR_MISALIGNED_ADDRESS:
	case CUDA_ERROR_INVALID_ADDRESS_SPACE:
	case CUDA_ERROR_INVALID_PC:
	case CUDA_ERROR_ASSERT:
	case CUDA_ERROR_LAUNCH_TIMEOUT:
	case CUDA_ERROR_ECC_UNCORRECTABLE:
	case CUDA_ERROR_NVLINK_UNCORRECTABLE:
	case CUDA_ERROR_DEVICE_UNAVAILABLE:
	case CUDA_ERROR_NO_DEVICE:
	case CUDA_ERROR_CONTEXT_IS_DESTROYED:
	case CUDA_ERROR_DEINITIALIZED: *lost = 1; return GPX_PLUGIN_UNAVAILABLE;
	default: return GPX_PLUGIN_INTERNAL;
	}
}
