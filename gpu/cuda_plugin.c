/* The CUDA backend, a gpix plugin (include/gpix/plugin.h).
 *
 * Loading: nothing from CUDA is linked. The driver API comes from
 * dlopen("libcuda.so.1") (gpu/cu.c) and the kernels from a fatbin embedded
 * at build time (gpu/kernels.cu), loaded with cuModuleLoadData. Without a
 * driver or a device, probe() says so and the backend is listed as
 * unavailable with that reason.
 *
 * Per device (every visible one):
 *   - the primary context, with blocking synchronisation (a waiting worker
 *     sleeps instead of spinning);
 *   - GPX_CU_SLOTS slots, each with its own stream, pinned host staging
 *     buffers and device buffers. Buffers grow to the largest job seen and
 *     are reused; nothing is allocated per job once warm. The device
 *     buffers of all slots together stay under a pool limit (half the free
 *     memory at start, or GPIX_CUDA_POOL_MB);
 *   - one submitter thread. A worker thread (the job queue's) takes a free
 *     slot, stages its input into pinned memory and hands the slot to the
 *     submitter, which enqueues upload, kernels and download on the slot's
 *     stream and goes on to the next slot at once: one job's copies
 *     overlap another's kernels. The worker waits for its stream, copies
 *     the result out and frees the slot.
 *
 * Faults: out of device memory (or over the pool) is RESOURCE_EXHAUSTED;
 * an error that leaves the context unusable (illegal address, trap, ECC,
 * device gone) is UNAVAILABLE and marks the device lost, so later jobs
 * fail fast until the next reload; other driver errors are INTERNAL. With
 * backend "auto" the host then runs the job on the CPU.
 *
 * Environment (read at load): GPIX_CUDA_AUTO_MIN_PIXELS (default 1000000),
 * GPIX_CUDA_POOL_MB, GPIX_CUDA_STREAMS (2..4, default 2). Test only:
 * GPIX_CUDA_FAULT=oom|launch|trap injects a fault into every job. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpix/plugin.h"
#include "gpu/cu.h"
#include "gpu/launch.h"
#include "gpu/plan.h"

#define GPX_CUDA_VERSION "1.0.0"
#define GPX_CU_SLOTS_MAX 4
#define GPX_CU_AUTO_MIN_PIXELS 1000000u

extern const unsigned char gpx_cu_fatbin[];
extern const size_t gpx_cu_fatbin_len;

enum { SLOT_IDLE, SLOT_QUEUED, SLOT_LAUNCHED };
enum { FAULT_NONE, FAULT_OOM, FAULT_LAUNCH, FAULT_TRAP };

struct dev;

typedef struct slot {
	struct dev *d;
	CUstream stream;
	gpx_cu_plan plan;
	uint8_t *h_in, *h_out, *h_blob; /* pinned */
	size_t h_in_cap, h_out_cap, h_blob_cap;
	gpx_cu_bufs buf;
	size_t img_cap[2], tmp_cap, blob_cap;
	int busy;
	int state;
	int fault;
	CUresult launch_rc;
	struct slot *next;
} slot;

typedef struct dev {
	const gpx_cu_api *api;
	int ordinal;
	CUdevice dev;
	CUcontext ctx;
	CUmodule mod;
	CUfunction fn[GPX_KF_COUNT];
	int has_ctx;
	slot slots[GPX_CU_SLOTS_MAX];
	int nslots;
	pthread_mutex_t mu;
	pthread_cond_t free_cv, queue_cv, launched_cv;
	slot *qhead, *qtail;
	pthread_t submitter;
	int running, stop;
	size_t pool_used, pool_limit;
	int inflight;
	int lost;
	char lost_msg[256];
} dev;

typedef struct cuda_ctx {
	gpx_cu_api api;
	const gpx_plugin_host *host;
	void *image; /* the fatbin, 64-byte aligned */
	int ndev;
	dev *devs;
} cuda_ctx;

/* ---- configuration ------------------------------------------------------- */

static unsigned long env_ulong(const char *name, unsigned long def, unsigned long lo,
			       unsigned long hi)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return def;
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	return *end || n < lo || n > hi ? def : n;
}

static int fault_kind(void)
{
	const char *f = getenv("GPIX_CUDA_FAULT");
	if (!f || !*f)
		return FAULT_NONE;
	return !strcmp(f, "oom")    ? FAULT_OOM :
	       !strcmp(f, "launch") ? FAULT_LAUNCH :
	       !strcmp(f, "trap")   ? FAULT_TRAP :
				      FAULT_NONE;
}

static void logf_(const cuda_ctx *cx, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void logf_(const cuda_ctx *cx, int level, const char *fmt, ...)
{
	if (!cx->host || !cx->host->log)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cx->host->log(level, msg);
}

/* "580.65.06" from the kernel module, when readable. */
static void nvidia_release(char *buf, size_t len)
{
	buf[0] = '\0';
	FILE *f = fopen("/proc/driver/nvidia/version", "r");
	if (!f)
		return;
	char line[256];
	if (fgets(line, sizeof(line), f)) {
		/* "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  ..." */
		char *p = strstr(line, "Kernel Module");
		if (p) {
			p += strlen("Kernel Module");
			while (*p == ' ')
				p++;
			size_t n = strcspn(p, " \n");
			snprintf(buf, len, "%.*s", (int)n, p);
		}
	}
	fclose(f);
}

/* ---- probe ----------------------------------------------------------------- */

static void cuda_probe(gpx_plugin_backend_info *info)
{
	gpx_cu_api api;
	char why[256], err[192];
	memset(info, 0, sizeof(*info));
	if (gpx_cu_load(&api, why, sizeof(why)) < 0) {
		snprintf(info->detail, sizeof(info->detail), "%s", why);
		return;
	}
	CUresult rc = api.cuInit(0);
	int n = 0;
	if (rc == CUDA_SUCCESS)
		rc = api.cuDeviceGetCount(&n);
	if (rc != CUDA_SUCCESS || n == 0) {
		snprintf(info->detail, sizeof(info->detail), "no CUDA device: %s",
			 rc != CUDA_SUCCESS ? gpx_cu_strerror(&api, rc, err, sizeof(err)) :
					      "cuDeviceGetCount found none");
		gpx_cu_unload(&api);
		return;
	}
	int drv = 0, maj = 0, min = 0;
	api.cuDriverGetVersion(&drv);
	CUdevice d;
	char name[100] = "";
	size_t mem = 0;
	api.cuDeviceGet(&d, 0);
	api.cuDeviceGetName(name, sizeof(name), d);
	api.cuDeviceTotalMem(&mem, d);
	api.cuDeviceGetAttribute(&maj, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
	api.cuDeviceGetAttribute(&min, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
	gpx_cu_unload(&api);
	if (maj * 10 + min < 75) {
		snprintf(info->detail, sizeof(info->detail),
			 "%s has compute capability %d.%d; the kernels need 7.5 or newer", name,
			 maj, min);
		return;
	}
	char rel[32];
	nvidia_release(rel, sizeof(rel));
	unsigned long amp =
		env_ulong("GPIX_CUDA_AUTO_MIN_PIXELS", GPX_CU_AUTO_MIN_PIXELS, 0, 1ul << 40);
	info->available = 1;
	info->memory_bytes = mem;
	info->auto_min_pixels = amp;
	if (n == 1)
		snprintf(info->device, sizeof(info->device), "%s", name);
	else
		snprintf(info->device, sizeof(info->device), "%d x %s", n, name);
	snprintf(info->detail, sizeof(info->detail),
		 "compute %d.%d, %.1f GiB; driver CUDA %d.%d%s%s%s; runtime CUDA %d.%d (kernels "
		 "built by nvcc, loaded through the driver API); %lu streams per device; auto "
		 "from %.2f MP",
		 maj, min, (double)mem / (1024.0 * 1024.0 * 1024.0), drv / 1000, drv % 1000 / 10,
		 rel[0] ? " (NVIDIA " : "", rel, rel[0] ? ")" : "", CUDA_VERSION / 1000,
		 CUDA_VERSION % 1000 / 10, env_ulong("GPIX_CUDA_STREAMS", 2, 2, GPX_CU_SLOTS_MAX),
		 (double)amp / 1e6);
}

/* ---- buffers --------------------------------------------------------------- */

static size_t grow_to(size_t need)
{
	size_t mib = (size_t)1 << 20;
	need += need / 4; /* a little headroom for the next, slightly larger image */
	return (need + mib - 1) / mib * mib;
}

static int fail_cu(dev *d, CUresult rc, const char *what, gpx_plugin_status *st)
{
	char err[192];
	int lost = 0;
	uint32_t code = gpx_cu_code(rc, &lost);
	gpx_cu_strerror(d->api, rc, err, sizeof(err));
	if (lost) {
		pthread_mutex_lock(&d->mu);
		if (!d->lost) {
			d->lost = 1;
			snprintf(d->lost_msg, sizeof(d->lost_msg), "%s: %s", what, err);
		}
		pthread_mutex_unlock(&d->mu);
		return gpx_plugin_fail(st, code, "CUDA device %d lost (%s: %s)", d->ordinal, what,
				       err);
	}
	return gpx_plugin_fail(st, code, "%s: %s", what, err);
}

static int ensure_device(dev *d, gpx_cu_ptr *p, size_t *cap, size_t need, gpx_plugin_status *st)
{
	if (need <= *cap)
		return 0;
	size_t want = grow_to(need);
	pthread_mutex_lock(&d->mu);
	int over = d->pool_used - *cap + want > d->pool_limit;
	if (!over)
		d->pool_used = d->pool_used - *cap + want;
	size_t used = d->pool_used;
	pthread_mutex_unlock(&d->mu);
	if (over)
		return gpx_plugin_fail(
			st, GPX_PLUGIN_RESOURCE_EXHAUSTED,
			"the job needs %zu MiB more of device memory; the pool has %zu "
			"of %zu MiB in use (GPIX_CUDA_POOL_MB)",
			(want - *cap) >> 20, used >> 20, d->pool_limit >> 20);
	if (*p)
		d->api->cuMemFree(*p);
	*p = 0;
	CUdeviceptr np = 0;
	CUresult rc = d->api->cuMemAlloc(&np, want);
	*p = np;
	if (rc != CUDA_SUCCESS) {
		pthread_mutex_lock(&d->mu);
		d->pool_used -= want;
		pthread_mutex_unlock(&d->mu);
		*cap = 0;
		*p = 0;
		return fail_cu(d, rc, "cuMemAlloc", st);
	}
	*cap = want;
	return 0;
}

static int ensure_pinned(dev *d, uint8_t **p, size_t *cap, size_t need, gpx_plugin_status *st)
{
	if (need <= *cap)
		return 0;
	size_t want = grow_to(need);
	if (*p)
		d->api->cuMemFreeHost(*p);
	*p = NULL;
	*cap = 0;
	void *np = NULL;
	CUresult rc = d->api->cuMemHostAlloc(&np, want, CU_MEMHOSTALLOC_PORTABLE);
	if (rc != CUDA_SUCCESS)
		return fail_cu(d, rc, "cuMemHostAlloc", st);
	*p = np;
	*cap = want;
	return 0;
}

static void slot_free_buffers(dev *d, slot *s)
{
	const gpx_cu_api *api = d->api;
	gpx_cu_ptr *dp[] = {&s->buf.img[0], &s->buf.img[1], &s->buf.tmp, &s->buf.blob};
	for (size_t i = 0; i < sizeof(dp) / sizeof(dp[0]); i++)
		if (*dp[i])
			api->cuMemFree(*dp[i]);
	uint8_t *hp[] = {s->h_in, s->h_out, s->h_blob};
	for (size_t i = 0; i < sizeof(hp) / sizeof(hp[0]); i++)
		if (hp[i])
			api->cuMemFreeHost(hp[i]);
	gpx_cu_plan_free(&s->plan);
}

/* ---- the submitter ----------------------------------------------------------- */

/* gpx_cu_launcher on the slot's stream */
static int slot_launch(void *ud, int k, unsigned gx, unsigned gy, unsigned bx, unsigned by,
		       unsigned shm, void **args)
{
	slot *s = ud;
	return (int)s->d->api->cuLaunchKernel(s->d->fn[k], gx, gy, 1, bx, by, 1, shm, s->stream,
					      args, NULL);
}

static CUresult launch_slot(dev *d, slot *s)
{
	const gpx_cu_api *api = d->api;
	const gpx_cu_plan *p = &s->plan;
	CUresult rc = CUDA_SUCCESS;
	if (p->blob_len)
		rc = api->cuMemcpyHtoDAsync(s->buf.blob, s->h_blob, p->blob_len, s->stream);
	if (rc == CUDA_SUCCESS)
		rc = api->cuMemcpyHtoDAsync(s->buf.img[0], s->h_in, p->in_bytes, s->stream);
	if (rc == CUDA_SUCCESS && s->fault == FAULT_LAUNCH) {
		void *args[] = {&s->buf.tmp};
		/* 4096 threads per block: refused at launch */
		rc = api->cuLaunchKernel(d->fn[GPX_KF_TRAP], 1, 1, 1, 4096, 1, 1, 0, s->stream,
					 args, NULL);
	}
	if (rc == CUDA_SUCCESS && s->fault == FAULT_TRAP) {
		gpx_cu_ptr null = 0;
		void *args[] = {&null};
		rc = api->cuLaunchKernel(d->fn[GPX_KF_TRAP], 1, 1, 1, 1, 1, 1, 0, s->stream, args,
					 NULL);
	}
	if (rc == CUDA_SUCCESS) {
		gpx_cu_launcher l = {.launch = slot_launch, .ud = s};
		rc = (CUresult)gpx_cu_launch_plan(&l, p, &s->buf);
	}
	if (rc == CUDA_SUCCESS)
		rc = api->cuMemcpyDtoHAsync(s->h_out, s->buf.img[p->out_buf], p->out_bytes,
					    s->stream);
	return rc;
}

static void *submitter(void *arg)
{
	dev *d = arg;
	d->api->cuCtxSetCurrent(d->ctx);
	pthread_mutex_lock(&d->mu);
	for (;;) {
		while (!d->qhead && !d->stop)
			pthread_cond_wait(&d->queue_cv, &d->mu);
		if (!d->qhead)
			break; /* stopping, nothing queued */
		slot *s = d->qhead;
		d->qhead = s->next;
		if (!d->qhead)
			d->qtail = NULL;
		pthread_mutex_unlock(&d->mu);
		CUresult rc = launch_slot(d, s);
		pthread_mutex_lock(&d->mu);
		s->launch_rc = rc;
		s->state = SLOT_LAUNCHED;
		pthread_cond_broadcast(&d->launched_cv);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

/* ---- process ----------------------------------------------------------------- */

static dev *pick_device(cuda_ctx *cx, gpx_plugin_status *st)
{
	dev *best = NULL;
	char why[256] = "";
	for (int i = 0; i < cx->ndev; i++) {
		dev *d = &cx->devs[i];
		pthread_mutex_lock(&d->mu);
		if (d->lost)
			snprintf(why, sizeof(why), "%s", d->lost_msg);
		else if (!best || d->inflight < best->inflight)
			best = d;
		pthread_mutex_unlock(&d->mu);
	}
	if (!best)
		gpx_plugin_fail(st, GPX_PLUGIN_UNAVAILABLE,
				"the CUDA device is lost (%s); a reload (SIGHUP) tries again", why);
	return best;
}

/* A free slot of d, waiting for one; NULL when the job stops meanwhile. */
static slot *acquire_slot(dev *d, const gpx_plugin_job *job, gpx_plugin_status *st)
{
	pthread_mutex_lock(&d->mu);
	d->inflight++;
	for (;;) {
		for (int i = 0; i < d->nslots; i++)
			if (!d->slots[i].busy) {
				d->slots[i].busy = 1;
				pthread_mutex_unlock(&d->mu);
				return &d->slots[i];
			}
		pthread_mutex_unlock(&d->mu);
		if (job && job->stopped && job->stopped(job->host, st)) {
			pthread_mutex_lock(&d->mu);
			d->inflight--;
			pthread_mutex_unlock(&d->mu);
			return NULL;
		}
		pthread_mutex_lock(&d->mu);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		int any = 0;
		for (int i = 0; i < d->nslots; i++)
			any |= !d->slots[i].busy;
		if (!any)
			pthread_cond_timedwait(&d->free_cv, &d->mu, &ts);
	}
}

static void release_slot(dev *d, slot *s)
{
	pthread_mutex_lock(&d->mu);
	s->busy = 0;
	s->state = SLOT_IDLE;
	d->inflight--;
	pthread_cond_signal(&d->free_cv);
	pthread_mutex_unlock(&d->mu);
}

static int run_on_slot(dev *d, slot *s, const gpx_plugin_image *in, const gpx_plugin_step *steps,
		       uint32_t n, gpx_plugin_image *out, gpx_plugin_status *st)
{
	const gpx_cu_api *api = d->api;
	gpx_cu_plan *p = &s->plan;
	CUresult rc = api->cuCtxSetCurrent(d->ctx);
	if (rc != CUDA_SUCCESS)
		return fail_cu(d, rc, "cuCtxSetCurrent", st);
	if (gpx_cu_plan_build(p, steps, n, st) < 0)
		return -1;
	if (p->in_w != in->width || p->in_h != in->height || p->in_c != in->channels ||
	    p->out_w != out->width || p->out_h != out->height || p->out_c != out->channels)
		return gpx_plugin_fail(st, GPX_PLUGIN_INTERNAL,
				       "the plan does not match the images");
	if (s->fault == FAULT_OOM)
		return gpx_plugin_fail(st, GPX_PLUGIN_RESOURCE_EXHAUSTED,
				       "out of device memory [injected: GPIX_CUDA_FAULT=oom]");
	if (ensure_device(d, &s->buf.img[0], &s->img_cap[0], p->img_bytes, st) < 0 ||
	    ensure_device(d, &s->buf.img[1], &s->img_cap[1], p->img_bytes, st) < 0)
		return -1;
	if (p->tmp_bytes && ensure_device(d, &s->buf.tmp, &s->tmp_cap, p->tmp_bytes, st) < 0)
		return -1;
	if (p->blob_len && ensure_device(d, &s->buf.blob, &s->blob_cap, p->blob_len, st) < 0)
		return -1;
	if (ensure_pinned(d, &s->h_in, &s->h_in_cap, p->in_bytes, st) < 0 ||
	    ensure_pinned(d, &s->h_out, &s->h_out_cap, p->out_bytes, st) < 0 ||
	    (p->blob_len && ensure_pinned(d, &s->h_blob, &s->h_blob_cap, p->blob_len, st) < 0))
		return -1;
	size_t row = (size_t)in->width * in->channels;
	for (uint32_t y = 0; y < in->height; y++)
		memcpy(s->h_in + y * row, in->data + y * in->stride, row);
	if (p->blob_len)
		memcpy(s->h_blob, p->blob, p->blob_len);

	pthread_mutex_lock(&d->mu);
	s->state = SLOT_QUEUED;
	s->next = NULL;
	if (d->qtail)
		d->qtail->next = s;
	else
		d->qhead = s;
	d->qtail = s;
	pthread_cond_signal(&d->queue_cv);
	while (s->state != SLOT_LAUNCHED)
		pthread_cond_wait(&d->launched_cv, &d->mu);
	rc = s->launch_rc;
	pthread_mutex_unlock(&d->mu);
	if (rc != CUDA_SUCCESS) {
		/* what was enqueued before the failure must finish before the
		 * slot's buffers are reused */
		api->cuStreamSynchronize(s->stream);
		return fail_cu(d, rc, "launch", st);
	}
	rc = api->cuStreamSynchronize(s->stream);
	if (rc != CUDA_SUCCESS)
		return fail_cu(d, rc, "cuStreamSynchronize", st);
	size_t orow = (size_t)out->width * out->channels;
	for (uint32_t y = 0; y < out->height; y++)
		memcpy(out->data + y * out->stride, s->h_out + y * orow, orow);
	return 0;
}

static int cuda_process(void *vctx, const gpx_plugin_image *in, const gpx_plugin_step *steps,
			uint32_t n, gpx_plugin_image *out, const gpx_plugin_job *job,
			gpx_plugin_status *st)
{
	cuda_ctx *cx = vctx;
	if (job && job->stopped && job->stopped(job->host, st))
		return -1;
	dev *d = pick_device(cx, st);
	if (!d)
		return -1;
	slot *s = acquire_slot(d, job, st);
	if (!s)
		return -1;
	s->fault = fault_kind();
	int rc = run_on_slot(d, s, in, steps, n, out, st);
	release_slot(d, s);
	if (rc == 0 && job && job->progress)
		for (uint32_t i = 0; i < n; i++)
			job->progress(job->host, i, 1.0);
	return rc;
}

/* ---- init and release -------------------------------------------------------- */

static void dev_release(cuda_ctx *cx, dev *d)
{
	const gpx_cu_api *api = &cx->api;
	if (d->running) {
		pthread_mutex_lock(&d->mu);
		d->stop = 1;
		pthread_cond_broadcast(&d->queue_cv);
		pthread_mutex_unlock(&d->mu);
		pthread_join(d->submitter, NULL);
		d->running = 0;
	}
	if (d->has_ctx) {
		api->cuCtxSetCurrent(d->ctx);
		for (int i = 0; i < d->nslots; i++) {
			slot *s = &d->slots[i];
			if (s->stream) {
				api->cuStreamSynchronize(s->stream);
				api->cuStreamDestroy(s->stream);
			}
			slot_free_buffers(d, s);
		}
		if (d->mod)
			api->cuModuleUnload(d->mod);
		api->cuDevicePrimaryCtxRelease(d->dev);
		d->has_ctx = 0;
	}
	pthread_cond_destroy(&d->free_cv);
	pthread_cond_destroy(&d->queue_cv);
	pthread_cond_destroy(&d->launched_cv);
	pthread_mutex_destroy(&d->mu);
}

static int dev_init(cuda_ctx *cx, dev *d, int ordinal, int nslots, gpx_plugin_status *st)
{
	const gpx_cu_api *api = &cx->api;
	char err[192];
	d->api = api;
	d->ordinal = ordinal;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->free_cv, NULL);
	pthread_cond_init(&d->queue_cv, NULL);
	pthread_cond_init(&d->launched_cv, NULL);
	CUresult rc = api->cuDeviceGet(&d->dev, ordinal);
	if (rc == CUDA_SUCCESS) {
		/* fails harmlessly when another loaded copy already holds the context */
		api->cuDevicePrimaryCtxSetFlags(d->dev, CU_CTX_SCHED_BLOCKING_SYNC);
		rc = api->cuDevicePrimaryCtxRetain(&d->ctx, d->dev);
		d->has_ctx = rc == CUDA_SUCCESS;
	}
	if (rc == CUDA_SUCCESS)
		rc = api->cuCtxSetCurrent(d->ctx);
	if (rc != CUDA_SUCCESS)
		return gpx_plugin_fail(st, GPX_PLUGIN_UNAVAILABLE, "device %d: context: %s",
				       ordinal, gpx_cu_strerror(api, rc, err, sizeof(err)));
	rc = api->cuModuleLoadData(&d->mod, cx->image);
	if (rc != CUDA_SUCCESS) {
		d->mod = NULL;
		return gpx_plugin_fail(st, GPX_PLUGIN_UNAVAILABLE,
				       "device %d: cannot load the kernels: %s", ordinal,
				       gpx_cu_strerror(api, rc, err, sizeof(err)));
	}
	for (int k = 0; k < GPX_KF_COUNT; k++) {
		rc = api->cuModuleGetFunction(&d->fn[k], d->mod, gpx_cu_kernel_names[k]);
		if (rc != CUDA_SUCCESS)
			return gpx_plugin_fail(st, GPX_PLUGIN_UNAVAILABLE, "kernel %s: %s",
					       gpx_cu_kernel_names[k],
					       gpx_cu_strerror(api, rc, err, sizeof(err)));
	}
	d->nslots = nslots;
	for (int i = 0; i < nslots; i++) {
		d->slots[i].d = d;
		gpx_cu_plan_init(&d->slots[i].plan);
		rc = api->cuStreamCreate(&d->slots[i].stream, CU_STREAM_NON_BLOCKING);
		if (rc != CUDA_SUCCESS) {
			d->slots[i].stream = NULL;
			return gpx_plugin_fail(st, GPX_PLUGIN_UNAVAILABLE, "cuStreamCreate: %s",
					       gpx_cu_strerror(api, rc, err, sizeof(err)));
		}
	}
	size_t free_b = 0, total_b = 0;
	api->cuMemGetInfo(&free_b, &total_b);
	unsigned long mb = env_ulong("GPIX_CUDA_POOL_MB", 0, 1, 1ul << 24);
	d->pool_limit = mb ? (size_t)mb << 20 : free_b / 2;
	if (pthread_create(&d->submitter, NULL, submitter, d) != 0)
		return gpx_plugin_fail(st, GPX_PLUGIN_INTERNAL,
				       "cannot start the submitter thread");
	d->running = 1;
	char name[100] = "";
	api->cuDeviceGetName(name, sizeof(name), d->dev);
	logf_(cx, GPX_PLUGIN_LOG_INFO,
	      "cuda: device %d %s ready: %d streams, device pool up to %zu MiB of %zu MiB free",
	      ordinal, name, nslots, d->pool_limit >> 20, free_b >> 20);
	return 0;
}

static void cuda_release(void *vctx)
{
	cuda_ctx *cx = vctx;
	if (!cx)
		return;
	for (int i = 0; i < cx->ndev; i++)
		dev_release(cx, &cx->devs[i]);
	free(cx->devs);
	free(cx->image);
	gpx_cu_unload(&cx->api);
	free(cx);
}

static int cuda_init(const gpx_plugin_host *host, void **out, gpx_plugin_status *st)
{
	char why[256], err[192];
	cuda_ctx *cx = calloc(1, sizeof(*cx));
	if (!cx)
		return gpx_plugin_fail(st, GPX_PLUGIN_RESOURCE_EXHAUSTED, "out of memory");
	cx->host = host;
	if (gpx_cu_load(&cx->api, why, sizeof(why)) < 0) {
		free(cx);
		return gpx_plugin_fail(st, GPX_PLUGIN_UNAVAILABLE, "%s", why);
	}
	CUresult rc = cx->api.cuInit(0);
	int n = 0;
	if (rc == CUDA_SUCCESS)
		rc = cx->api.cuDeviceGetCount(&n);
	if (rc != CUDA_SUCCESS || n <= 0) {
		gpx_plugin_fail(st, GPX_PLUGIN_UNAVAILABLE, "no CUDA device: %s",
				rc != CUDA_SUCCESS ?
					gpx_cu_strerror(&cx->api, rc, err, sizeof(err)) :
					"cuDeviceGetCount found none");
		cuda_release(cx);
		return -1;
	}
	/* cuModuleLoadData wants the fatbin aligned */
	cx->image = aligned_alloc(64, (gpx_cu_fatbin_len + 63) & ~(size_t)63);
	cx->devs = calloc((size_t)n, sizeof(*cx->devs));
	if (!cx->image || !cx->devs) {
		cuda_release(cx);
		return gpx_plugin_fail(st, GPX_PLUGIN_RESOURCE_EXHAUSTED, "out of memory");
	}
	memcpy(cx->image, gpx_cu_fatbin, gpx_cu_fatbin_len);
	int nslots = (int)env_ulong("GPIX_CUDA_STREAMS", 2, 2, GPX_CU_SLOTS_MAX);
	for (int i = 0; i < n; i++) {
		cx->ndev = i + 1;
		if (dev_init(cx, &cx->devs[i], i, nslots, st) < 0) {
			cuda_release(cx);
			return -1;
		}
	}
	*out = cx;
	return 0;
}

/* ---- the descriptor ------------------------------------------------------------ */

static const gpx_plugin_backend cuda_backends[] = {{
	.name = "cuda",
	.filters = GPX_CU_FILTERS,
	.probe = cuda_probe,
	.init = cuda_init,
	.process = cuda_process,
	.release = cuda_release,
}};

static const gpx_plugin_descriptor cuda_descriptor = {
	.abi_version = GPX_PLUGIN_ABI_VERSION,
	.struct_size = sizeof(gpx_plugin_descriptor),
	.name = "cuda",
	.version = GPX_CUDA_VERSION,
	.description = "CUDA backend: the built-in filters on NVIDIA GPUs (docs/plugins.md)",
	.backends = cuda_backends,
	.nbackends = 1,
};

GPX_PLUGIN_EXPORT const gpx_plugin_descriptor *gpx_plugin_entry(uint32_t host_abi_version)
{
	return host_abi_version == GPX_PLUGIN_ABI_VERSION ? &cuda_descriptor : NULL;
}
