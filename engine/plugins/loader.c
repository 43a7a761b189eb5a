/* Plugin loader and generations; see loader.h for the design. */
#include "engine/plugins/loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "engine/image.h"

/* The CPU functions of a plugin filter are handed to the pipeline as they
 * are (no wrapper per call, no per-filter context to carry): the ABI's
 * image, status and argument structs are laid out exactly like the
 * engine's, which these checks pin down. */
#define SAME_FIELD(a, b, f) \
	(offsetof(a, f) == offsetof(b, f) && sizeof(((a *)0)->f) == sizeof(((b *)0)->f))
_Static_assert(sizeof(gpx_plugin_image) == sizeof(gpx_image) &&
		       SAME_FIELD(gpx_plugin_image, gpx_image, width) &&
		       SAME_FIELD(gpx_plugin_image, gpx_image, height) &&
		       SAME_FIELD(gpx_plugin_image, gpx_image, channels) &&
		       SAME_FIELD(gpx_plugin_image, gpx_image, stride) &&
		       SAME_FIELD(gpx_plugin_image, gpx_image, data),
	       "gpx_plugin_image must match gpx_image");
_Static_assert(sizeof(gpx_plugin_status) == sizeof(gpx_status) &&
		       SAME_FIELD(gpx_plugin_status, gpx_status, code) &&
		       SAME_FIELD(gpx_plugin_status, gpx_status, msg),
	       "gpx_plugin_status must match gpx_status");
_Static_assert(sizeof(gpx_plugin_filter_args) == sizeof(gpx_filter_args) &&
		       SAME_FIELD(gpx_plugin_filter_args, gpx_filter_args, in) &&
		       SAME_FIELD(gpx_plugin_filter_args, gpx_filter_args, out) &&
		       SAME_FIELD(gpx_plugin_filter_args, gpx_filter_args, params) &&
		       SAME_FIELD(gpx_plugin_filter_args, gpx_filter_args, state),
	       "gpx_plugin_filter_args must match gpx_filter_args");
_Static_assert(GPX_PLUGIN_MAX_PARAMS == GPX_FILTER_MAX_PARAMS, "parameter limits differ");
_Static_assert(GPX_PLUGIN_PARAM_NUMBER == GPX_PARAM_NUMBER &&
		       GPX_PLUGIN_PARAM_INTEGER == GPX_PARAM_INTEGER &&
		       GPX_PLUGIN_PARAM_BOOL == GPX_PARAM_BOOL &&
		       GPX_PLUGIN_PARAM_ENUM == GPX_PARAM_ENUM,
	       "parameter type numbers differ");
_Static_assert(GPX_PLUGIN_RESOURCE_EXHAUSTED == GPX_RESOURCE_EXHAUSTED &&
		       GPX_PLUGIN_UNAVAILABLE == GPX_UNAVAILABLE &&
		       GPX_PLUGIN_UNIMPLEMENTED == GPX_UNIMPLEMENTED &&
		       GPX_PLUGIN_CANCELED == GPX_CANCELED && GPX_PLUGIN_INTERNAL == GPX_INTERNAL,
	       "status codes differ");

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: executable even under vm.memfd_noexec=1 */
#endif

typedef struct loaded {
	void *handle;
	int fd; /* the private copy, open while loaded (see unload_one) */
	char dlpath[64];
	char file[256];
	const gpx_plugin_descriptor *d;
	gpx_filter_def *defs;
	gpx_filter_cpu *cpus;
	gpx_param_def *params;
} loaded;

struct gpx_plugin_gen {
	atomic_int refs;
	unsigned id;
	gpx_plugins *owner;
	gpx_filter_registry *filters;
	loaded *plugins;
	size_t nplugins;
	gpx_backend *backends;
	size_t nbackends;
	gpx_plugin_refusal *refused;
	size_t nrefused;
};

struct gpx_plugins {
	atomic_int refs; /* the owner's, plus one per live generation */
	atomic_int live;
	pthread_mutex_t lock;	     /* guards current */
	pthread_mutex_t reload_lock; /* one reload at a time */
	gpx_plugin_gen *current;
	unsigned next_id;
	char *dir;
	char cpu_device[128];
	char cpu_version[64];
};

/* ---- small helpers ------------------------------------------------------ */

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 4;
	void *p = realloc(*arr, nc * elem);
	if (!p)
		return -1;
	*arr = p;
	*cap = nc;
	return 0;
}

static int valid_ident(const char *s, int allow_dash)
{
	if (!s || !*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      (allow_dash && *s == '-')))
			return 0;
	return 1;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static void host_log(int level, const char *msg)
{
	gpx_log_level l = level <= GPX_PLUGIN_LOG_DEBUG ? GPX_LOG_DEBUG :
			  level == GPX_PLUGIN_LOG_INFO	? GPX_LOG_INFO :
			  level == GPX_PLUGIN_LOG_WARN	? GPX_LOG_WARN :
							  GPX_LOG_ERROR;
	gpx_logf(l, NULL, "%s", msg ? msg : "");
}

static const gpx_plugin_host host_ops = {.abi_version = GPX_PLUGIN_ABI_VERSION, .log = host_log};

int gpx_backend_has_filter(const gpx_backend *b, const char *filter)
{
	if (!b->ops)
		return 1;
	for (size_t i = 0; i < b->nfilters; i++)
		if (strcmp(b->filters[i], filter) == 0)
			return 1;
	return 0;
}

/* ---- one generation ----------------------------------------------------- */

static int refuse(gpx_plugin_gen *g, size_t *cap, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int refuse(gpx_plugin_gen *g, size_t *cap, const char *file, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	gpx_warn("plugin %s refused: %s", file, reason);
	if (grow((void **)&g->refused, cap, g->nrefused, sizeof(*g->refused)) == 0) {
		gpx_plugin_refusal *r = &g->refused[g->nrefused++];
		snprintf(r->file, sizeof(r->file), "%s", file);
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
	}
	return -1;
}

static void unload_one(loaded *lp)
{
	free(lp->defs);
	free(lp->cpus);
	free(lp->params);
	if (lp->handle) {
		dlclose(lp->handle);
		/* An object glibc keeps (NODELETE: C++ unique symbols, thread-local
		 * destructors) keeps its name and inode in the link map; closing
		 * the copy would let a later copy reuse both and dlopen would hand
		 * back the stale object. Such a copy's descriptor is kept open. */
		void *still = dlopen(lp->dlpath, RTLD_NOW | RTLD_NOLOAD);
		dlerror(); /* no error state left on this (maybe worker) thread */
		if (still) {
			dlclose(still);
			gpx_warn("plugin %s could not be unloaded (its code stays mapped)",
				 lp->file);
			lp->fd = -1;
		}
	}
	if (lp->fd >= 0)
		close(lp->fd);
	memset(lp, 0, sizeof(*lp));
	lp->fd = -1;
}

static void gen_free(gpx_plugin_gen *g)
{
	/* Backends first (they may run threads inside the plugin), then the
	 * registry that points at plugin strings, then the code. */
	for (size_t i = 0; i < g->nbackends; i++) {
		gpx_backend *b = &g->backends[i];
		if (b->ops && b->ctx && b->ops->release)
			b->ops->release(b->ctx);
		for (size_t k = 0; k < b->nfilters; k++)
			free(b->filters[k]);
		free(b->filters);
	}
	free(g->backends);
	gpx_filter_registry_free(g->filters);
	for (size_t i = 0; i < g->nplugins; i++)
		unload_one(&g->plugins[i]);
	free(g->plugins);
	free(g->refused);
	free(g);
}

/* A private copy of `path` that dlopen has never seen: a memfd, or an
 * unlinked temporary file when memfd is not available. */
static int private_copy(const char *path, unsigned gen, char *dlpath, size_t cap, char *err,
			size_t errlen)
{
	int src = open(path, O_RDONLY | O_CLOEXEC);
	if (src < 0) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	struct stat sb;
	if (fstat(src, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		close(src);
		return -1;
	}
	char name[96];
	snprintf(name, sizeof(name), "gpix-plugin-g%u-%s", gen, base_name(path));
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_EXEC);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(name, MFD_CLOEXEC);
	if (fd >= 0 && access("/proc/self/fd", X_OK) == 0) {
		snprintf(dlpath, cap, "/proc/self/fd/%d", fd);
	} else {
		if (fd >= 0)
			close(fd);
		const char *tmp = getenv("TMPDIR");
		snprintf(dlpath, cap, "%s/gpix-plugin-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		fd = mkostemp(dlpath, O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, errlen, "cannot make a private copy: %s", strerror(errno));
			close(src);
			return -1;
		}
	}
	char buf[65536];
	for (;;) {
		ssize_t r = read(src, buf, sizeof(buf));
		if (r == 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		ssize_t off = 0;
		while (r > 0 && off < r) {
			ssize_t w = write(fd, buf + off, (size_t)(r - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				r = -1;
				break;
			}
			off += w;
		}
		if (r < 0) {
			snprintf(err, errlen, "cannot copy: %s", strerror(errno));
			close(src);
			close(fd);
			if (strncmp(dlpath, "/proc/", 6) != 0)
				unlink(dlpath);
			return -1;
		}
	}
	close(src);
	return fd;
}

static int convert_filter(const gpx_plugin_descriptor *d, const gpx_plugin_filter *pf,
			  gpx_filter_def *def, gpx_filter_cpu *cpu, gpx_param_def *params)
{
	for (uint32_t j = 0; j < pf->nparams; j++) {
		const gpx_plugin_param *pp = &pf->params[j];
		params[j] = (gpx_param_def){
			.name = pp->name,
			.display_name = pp->display_name ? pp->display_name : pp->name,
			.description = pp->description ? pp->description : "",
			.type = (gpx_param_type)pp->type,
			.def_num = pp->def_num,
			.def_bool = pp->def_bool,
			.def_enum = pp->def_enum,
			.min = pp->min,
			.max = pp->max,
			.step = pp->step,
			.options = pp->options,
		};
	}
	/* Same layout (checked above); the casts only rename the struct types
	 * in the signatures. */
	*cpu = (gpx_filter_cpu){
		.plan = (int (*)(const double *, const gpx_image *, uint32_t *, uint32_t *,
				 uint32_t *, gpx_status *))pf->cpu->plan,
		.state_size = (size_t(*)(const double *, const gpx_image *,
					 const gpx_image *))pf->cpu->state_size,
		.prepare = (void (*)(const double *, const gpx_image *, const gpx_image *,
				     void *))pf->cpu->prepare,
		.scratch_size = (size_t(*)(const double *, const gpx_image *,
					   const gpx_image *))pf->cpu->scratch_size,
		.rows = (void (*)(const gpx_filter_args *, uint32_t, uint32_t,
				  void *))pf->cpu->rows,
	};
	*def = (gpx_filter_def){
		.name = pf->name,
		.display_name = pf->display_name ? pf->display_name : pf->name,
		.description = pf->description ? pf->description : "",
		.params = params,
		.nparams = pf->nparams,
		.backends = "cpu",
		.plugin = d->name,
		.version = d->version,
		.cpu = cpu,
		.check = (int (*)(const double *, gpx_status *))pf->check,
	};
	return 0;
}

/* Checks and registers a plugin's filters. Validation runs against a
 * throwaway registry first so that a refused plugin leaves nothing behind
 * in the generation's. */
static int add_filters(gpx_plugin_gen *g, loaded *lp, char *why, size_t whylen)
{
	const gpx_plugin_descriptor *d = lp->d;
	size_t nparams = 0;
	for (uint32_t i = 0; i < d->nfilters; i++) {
		const gpx_plugin_filter *pf = &d->filters[i];
		if (!valid_ident(pf->name, 0)) {
			snprintf(why, whylen, "filter %u has a bad name (want [a-z0-9_]+)", i);
			return -1;
		}
		if (!pf->cpu || !pf->cpu->plan || !pf->cpu->rows) {
			snprintf(why, whylen,
				 "filter \"%s\" has no CPU implementation (plan, rows)", pf->name);
			return -1;
		}
		if (pf->nparams > GPX_PLUGIN_MAX_PARAMS || (pf->nparams && !pf->params)) {
			snprintf(why, whylen, "filter \"%s\": more than %d parameters", pf->name,
				 GPX_PLUGIN_MAX_PARAMS);
			return -1;
		}
		const gpx_filter_def *other = gpx_filter_registry_find(g->filters, pf->name);
		if (other) {
			if (other->plugin && *other->plugin)
				snprintf(why, whylen,
					 "filter \"%s\" is already provided by plugin %s", pf->name,
					 other->plugin);
			else
				snprintf(why, whylen, "filter \"%s\" is a built-in filter",
					 pf->name);
			return -1;
		}
		nparams += pf->nparams;
	}
	lp->defs = calloc(d->nfilters ? d->nfilters : 1, sizeof(*lp->defs));
	lp->cpus = calloc(d->nfilters ? d->nfilters : 1, sizeof(*lp->cpus));
	lp->params = calloc(nparams ? nparams : 1, sizeof(*lp->params));
	if (!lp->defs || !lp->cpus || !lp->params) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	gpx_filter_registry *trial;
	if (gpx_filter_registry_create(&trial) < 0) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	size_t k = 0;
	gpx_status st = {0};
	for (uint32_t i = 0; i < d->nfilters; i++) {
		convert_filter(d, &d->filters[i], &lp->defs[i], &lp->cpus[i], &lp->params[k]);
		k += d->filters[i].nparams;
		if (gpx_filter_registry_add(trial, &lp->defs[i], &st) < 0) {
			snprintf(why, whylen, "%s", st.msg);
			gpx_filter_registry_free(trial);
			return -1;
		}
	}
	gpx_filter_registry_free(trial);
	for (uint32_t i = 0; i < d->nfilters; i++)
		if (gpx_filter_registry_add(g->filters, &lp->defs[i], &st) < 0) {
			/* Cannot happen after the trial, short of memory. */
			snprintf(why, whylen, "%s", st.msg);
			return -1;
		}
	return 0;
}

static int split_filters(gpx_backend *b, const char *list)
{
	const char *s = list ? list : "";
	while (*s) {
		size_t n = strcspn(s, ",");
		while (n && (*s == ' ')) {
			s++;
			n--;
		}
		size_t m = n;
		while (m && s[m - 1] == ' ')
			m--;
		if (m) {
			char **nf = realloc(b->filters, (b->nfilters + 1) * sizeof(*nf));
			if (!nf)
				return -1;
			b->filters = nf;
			if (!(b->filters[b->nfilters] = strndup(s, m)))
				return -1;
			b->nfilters++;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	return 0;
}

static int check_backends(gpx_plugin_gen *g, const gpx_plugin_descriptor *d, char *why,
			  size_t whylen)
{
	for (uint32_t i = 0; i < d->nbackends; i++) {
		const gpx_plugin_backend *pb = &d->backends[i];
		if (!valid_ident(pb->name, 0) || !strcmp(pb->name, "cpu") ||
		    !strcmp(pb->name, "auto")) {
			snprintf(why, whylen,
				 "backend %u has a bad name (want [a-z0-9_]+, not cpu/auto)", i);
			return -1;
		}
		if (!pb->probe || !pb->process) {
			snprintf(why, whylen, "backend \"%s\" lacks probe or process", pb->name);
			return -1;
		}
		if (gpx_plugin_gen_find_backend(g, pb->name)) {
			snprintf(why, whylen,
				 "backend \"%s\" is already provided by another plugin", pb->name);
			return -1;
		}
		for (uint32_t j = 0; j < i; j++)
			if (!strcmp(d->backends[j].name, pb->name)) {
				snprintf(why, whylen, "backend \"%s\" twice", pb->name);
				return -1;
			}
	}
	return 0;
}

static int add_backends(gpx_plugin_gen *g, size_t *cap, const gpx_plugin_descriptor *d)
{
	for (uint32_t i = 0; i < d->nbackends; i++) {
		const gpx_plugin_backend *pb = &d->backends[i];
		if (grow((void **)&g->backends, cap, g->nbackends, sizeof(*g->backends)) < 0)
			return -1;
		gpx_backend *b = &g->backends[g->nbackends++];
		memset(b, 0, sizeof(*b));
		b->name = pb->name;
		b->plugin = d->name;
		b->version = d->version;
		b->ops = pb;
		if (split_filters(b, pb->filters) < 0)
			return -1;
		pb->probe(&b->info);
		b->info.device[sizeof(b->info.device) - 1] = '\0';
		b->info.detail[sizeof(b->info.detail) - 1] = '\0';
		if (!b->info.available) {
			gpx_info("backend %s (plugin %s %s): unavailable: %s", b->name, d->name,
				 d->version, b->info.detail);
			continue;
		}
		gpx_plugin_status st = {0};
		if (pb->init && pb->init(&host_ops, &b->ctx, &st) < 0) {
			b->info.available = 0;
			b->ctx = NULL;
			snprintf(b->info.detail, sizeof(b->info.detail), "init failed: %.480s",
				 st.msg);
			gpx_warn("backend %s (plugin %s %s): %s", b->name, d->name, d->version,
				 b->info.detail);
			continue;
		}
		gpx_info("backend %s (plugin %s %s): %s; %s", b->name, d->name, d->version,
			 b->info.device, b->info.detail);
	}
	return 0;
}

/* Loads one file into g, or refuses it. -1 only when out of memory. */
static int load_one(gpx_plugin_gen *g, size_t *plug_cap, size_t *be_cap, size_t *ref_cap,
		    const char *path)
{
	const char *file = path;
	char why[512] = "";
	if (grow((void **)&g->plugins, plug_cap, g->nplugins, sizeof(*g->plugins)) < 0)
		return -1;
	loaded *lp = &g->plugins[g->nplugins];
	memset(lp, 0, sizeof(*lp));
	lp->fd = -1;
	snprintf(lp->file, sizeof(lp->file), "%s", path);

	lp->fd = private_copy(path, g->id, lp->dlpath, sizeof(lp->dlpath), why, sizeof(why));
	if (lp->fd < 0) {
		refuse(g, ref_cap, file, "%s", why);
		return 0;
	}
	dlerror();
	lp->handle = dlopen(lp->dlpath, RTLD_NOW | RTLD_LOCAL);
	if (strncmp(lp->dlpath, "/proc/", 6) != 0)
		unlink(lp->dlpath); /* the open descriptor keeps the inode */
	if (!lp->handle) {
		const char *e = dlerror();
		refuse(g, ref_cap, file, "dlopen: %s", e ? e : "unknown error");
		unload_one(lp);
		return 0;
	}
	union {
		void *obj;
		gpx_plugin_entry_fn fn;
	} entry;
	entry.obj = dlsym(lp->handle, GPX_PLUGIN_ENTRY_SYMBOL);
	if (!entry.obj) {
		refuse(g, ref_cap, file, "no %s symbol: not a gpix plugin",
		       GPX_PLUGIN_ENTRY_SYMBOL);
		unload_one(lp);
		return 0;
	}
	const gpx_plugin_descriptor *d = entry.fn(GPX_PLUGIN_ABI_VERSION);
	if (!d) {
		refuse(g, ref_cap, file, "it declined plugin ABI version %u",
		       GPX_PLUGIN_ABI_VERSION);
		unload_one(lp);
		return 0;
	}
	if (d->abi_version != GPX_PLUGIN_ABI_VERSION) {
		refuse(g, ref_cap, file,
		       "built for plugin ABI version %u, this gpixd speaks version %u "
		       "(rebuild it against this gpixd's include/gpix/plugin.h)",
		       d->abi_version, GPX_PLUGIN_ABI_VERSION);
		unload_one(lp);
		return 0;
	}
	if (d->struct_size != sizeof(gpx_plugin_descriptor)) {
		refuse(g, ref_cap, file,
		       "descriptor is %u bytes, ABI version %u has %zu (mismatched header)",
		       d->struct_size, GPX_PLUGIN_ABI_VERSION, sizeof(gpx_plugin_descriptor));
		unload_one(lp);
		return 0;
	}
	lp->d = d;
	if (!valid_ident(d->name, 1) || !d->version || !*d->version ||
	    (d->nfilters && !d->filters) || (d->nbackends && !d->backends)) {
		refuse(g, ref_cap, file, "bad descriptor (name, version or lists)");
		unload_one(lp);
		return 0;
	}
	for (size_t i = 0; i < g->nplugins; i++)
		if (!strcmp(g->plugins[i].d->name, d->name)) {
			refuse(g, ref_cap, file, "plugin \"%s\" is already loaded from %s", d->name,
			       g->plugins[i].file);
			unload_one(lp);
			return 0;
		}
	if (check_backends(g, d, why, sizeof(why)) < 0 ||
	    add_filters(g, lp, why, sizeof(why)) < 0) {
		refuse(g, ref_cap, file, "%s", why);
		unload_one(lp);
		return 0;
	}
	g->nplugins++;
	if (add_backends(g, be_cap, d) < 0)
		return -1;
	gpx_info("plugin %s %s loaded from %s: %u filters, %u backends (generation %u)", d->name,
		 d->version, file, d->nfilters, d->nbackends, g->id);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.so files of one directory, sorted, appended to *list. */
static int scan_dir(const char *dir, char ***list, size_t *n, size_t *cap, gpx_status *st)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return gpx_status_set(st, GPX_FAILED_PRECONDITION, "--plugin-dir %s: %s", dir,
				      strerror(errno));
	size_t first = *n;
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(dp))) {
		size_t len = strlen(de->d_name);
		if (len < 4 || strcmp(de->d_name + len - 3, ".so") != 0 || de->d_name[0] == '.')
			continue;
		if (grow((void **)list, cap, *n, sizeof(**list)) < 0) {
			rc = gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
			break;
		}
		size_t need = strlen(dir) + len + 2;
		char *p = malloc(need);
		if (!p) {
			rc = gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
			break;
		}
		snprintf(p, need, "%s/%s", dir, de->d_name);
		(*list)[(*n)++] = p;
	}
	closedir(dp);
	qsort(*list + first, *n - first, sizeof(**list), cmp_str);
	return rc;
}

static int collect(const char *dirs, char ***list, size_t *n, gpx_status *st)
{
	size_t cap = 0;
	*list = NULL;
	*n = 0;
	if (!dirs || !*dirs)
		return 0;
	char *copy = strdup(dirs);
	if (!copy)
		return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
	int rc = 0;
	for (char *save = NULL, *d = strtok_r(copy, ":", &save); d && rc == 0;
	     d = strtok_r(NULL, ":", &save))
		rc = scan_dir(d, list, n, &cap, st);
	free(copy);
	return rc;
}

static void pl_unref(gpx_plugins *pl)
{
	if (atomic_fetch_sub_explicit(&pl->refs, 1, memory_order_acq_rel) != 1)
		return;
	pthread_mutex_destroy(&pl->lock);
	pthread_mutex_destroy(&pl->reload_lock);
	free(pl->dir);
	free(pl);
}

static int gen_build(gpx_plugins *pl, unsigned id, gpx_plugin_gen **out, gpx_status *st)
{
	char **files = NULL;
	size_t nfiles = 0;
	if (collect(pl->dir, &files, &nfiles, st) < 0)
		goto fail_files;
	gpx_plugin_gen *g = calloc(1, sizeof(*g));
	if (!g) {
		gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
		goto fail_files;
	}
	g->id = id;
	g->owner = pl;
	atomic_init(&g->refs, 1);
	size_t plug_cap = 0, be_cap = 0, ref_cap = 0;
	if (gpx_filter_registry_create(&g->filters) < 0 ||
	    grow((void **)&g->backends, &be_cap, 0, sizeof(*g->backends)) < 0) {
		gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
		goto fail_gen;
	}
	gpx_backend *cpu = &g->backends[g->nbackends++];
	memset(cpu, 0, sizeof(*cpu));
	cpu->name = "cpu";
	cpu->plugin = "";
	cpu->version = pl->cpu_version;
	cpu->info.available = 1;
	snprintf(cpu->info.device, sizeof(cpu->info.device), "%s", pl->cpu_device);
	for (size_t i = 0; i < nfiles; i++)
		if (load_one(g, &plug_cap, &be_cap, &ref_cap, files[i]) < 0) {
			gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory loading plugins");
			goto fail_gen;
		}
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	atomic_fetch_add(&pl->refs, 1);
	atomic_fetch_add(&pl->live, 1);
	*out = g;
	return 0;
fail_gen:
	gen_free(g);
fail_files:
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	return -1;
}

/* ---- the loader --------------------------------------------------------- */

int gpx_plugins_open(const gpx_plugins_opts *opts, gpx_plugins **out, gpx_status *st)
{
	*out = NULL;
	gpx_plugins *pl = calloc(1, sizeof(*pl));
	if (!pl)
		return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
	atomic_init(&pl->refs, 1);
	atomic_init(&pl->live, 0);
	pthread_mutex_init(&pl->lock, NULL);
	pthread_mutex_init(&pl->reload_lock, NULL);
	pl->dir = strdup(opts && opts->dir ? opts->dir : "");
	snprintf(pl->cpu_device, sizeof(pl->cpu_device), "%s",
		 opts && opts->cpu_device ? opts->cpu_device : "CPU");
	snprintf(pl->cpu_version, sizeof(pl->cpu_version), "%s",
		 opts && opts->cpu_version ? opts->cpu_version : "");
	if (!pl->dir) {
		pl_unref(pl);
		return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
	}
	if (gen_build(pl, ++pl->next_id, &pl->current, st) < 0) {
		pl_unref(pl);
		return -1;
	}
	*out = pl;
	return 0;
}

int gpx_plugins_reload(gpx_plugins *pl, gpx_status *st)
{
	pthread_mutex_lock(&pl->reload_lock);
	gpx_plugin_gen *g;
	unsigned id = pl->next_id + 1;
	if (gen_build(pl, id, &g, st) < 0) {
		pthread_mutex_unlock(&pl->reload_lock);
		gpx_warn("plugin reload failed, keeping generation %u: %s", pl->next_id, st->msg);
		return -1;
	}
	pl->next_id = id;
	pthread_mutex_lock(&pl->lock);
	gpx_plugin_gen *old = pl->current;
	pl->current = g;
	pthread_mutex_unlock(&pl->lock);
	pthread_mutex_unlock(&pl->reload_lock);
	int users = atomic_load(&old->refs) - 1;
	gpx_info("plugins: generation %u is current (%zu plugins, %zu filters, %zu refused); "
		 "generation %u unloads when its last job ends (%d now)",
		 g->id, g->nplugins, gpx_filter_registry_count(g->filters), g->nrefused, old->id,
		 users < 0 ? 0 : users);
	gpx_plugin_gen_release(old);
	return 0;
}

gpx_plugin_gen *gpx_plugins_acquire(gpx_plugins *pl)
{
	pthread_mutex_lock(&pl->lock);
	gpx_plugin_gen *g = pl->current;
	atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&pl->lock);
	return g;
}

void gpx_plugin_gen_release(gpx_plugin_gen *g)
{
	if (!g || atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) != 1)
		return;
	gpx_plugins *pl = g->owner;
	unsigned id = g->id;
	gen_free(g);
	atomic_fetch_sub(&pl->live, 1);
	gpx_info("plugins: generation %u unloaded", id);
	pl_unref(pl);
}

void gpx_plugins_close(gpx_plugins *pl)
{
	if (!pl)
		return;
	pthread_mutex_lock(&pl->lock);
	gpx_plugin_gen *g = pl->current;
	pl->current = NULL;
	pthread_mutex_unlock(&pl->lock);
	gpx_plugin_gen_release(g);
	pl_unref(pl);
}

int gpx_plugins_live(gpx_plugins *pl)
{
	return atomic_load(&pl->live);
}

/* ---- reading a generation ---------------------------------------------- */

unsigned gpx_plugin_gen_id(const gpx_plugin_gen *g)
{
	return g->id;
}

const gpx_filter_registry *gpx_plugin_gen_filters(const gpx_plugin_gen *g)
{
	return g->filters;
}

size_t gpx_plugin_gen_nbackends(const gpx_plugin_gen *g)
{
	return g->nbackends;
}

const gpx_backend *gpx_plugin_gen_backend(const gpx_plugin_gen *g, size_t i)
{
	return i < g->nbackends ? &g->backends[i] : NULL;
}

const gpx_backend *gpx_plugin_gen_find_backend(const gpx_plugin_gen *g, const char *name)
{
	for (size_t i = 0; name && i < g->nbackends; i++)
		if (!strcmp(g->backends[i].name, name))
			return &g->backends[i];
	return NULL;
}

size_t gpx_plugin_gen_nplugins(const gpx_plugin_gen *g)
{
	return g->nplugins;
}

const gpx_plugin_descriptor *gpx_plugin_gen_plugin(const gpx_plugin_gen *g, size_t i,
						   const char **file)
{
	if (i >= g->nplugins)
		return NULL;
	if (file)
		*file = g->plugins[i].file;
	return g->plugins[i].d;
}

size_t gpx_plugin_gen_nrefused(const gpx_plugin_gen *g)
{
	return g->nrefused;
}

const gpx_plugin_refusal *gpx_plugin_gen_refused(const gpx_plugin_gen *g, size_t i)
{
	return i < g->nrefused ? &g->refused[i] : NULL;
}
