/* The plugin loader as the server uses it (engine/plugins/loader.h): opened
 * with the engine from --plugin-dir, reloaded on SIGHUP, and the plugin
 * generation each job's pipeline is built from. A job's gpx_proc holds a
 * reference to that generation until gpx_proc_clear, so a reload never
 * unloads code a job still runs. */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "gpx_config.h"
#include "server/handlers/engine.h"
#include "server/handlers/process.h"

/* Why there is no CUDA backend, for ListBackends and for backend "cuda". */
void gpx_engine_cuda_missing(gpx_server *srv, const gpx_plugin_gen *g, char *buf, size_t cap)
{
	size_t off;
	if (!srv->cfg.plugin_dir[0])
		off = (size_t)snprintf(
			buf, cap,
			"no CUDA backend plugin loaded: --plugin-dir is not set (the "
			"plugin is built as gpu/gpix-cuda.so when meson finds nvcc)");
	else
		off = (size_t)snprintf(buf, cap,
				       "no CUDA backend plugin loaded from --plugin-dir %s",
				       srv->cfg.plugin_dir);
	for (size_t i = 0; g && i < gpx_plugin_gen_nrefused(g) && off < cap; i++) {
		const gpx_plugin_refusal *r = gpx_plugin_gen_refused(g, i);
		if (strstr(r->file, "cuda"))
			off += (size_t)snprintf(buf + off, cap - off, "; %s refused: %s", r->file,
						r->reason);
	}
}

static void log_generation(const gpx_plugin_gen *g)
{
	char list[512] = "";
	size_t off = 0;
	for (size_t i = 0; i < gpx_plugin_gen_nplugins(g) && off < sizeof(list); i++) {
		const gpx_plugin_descriptor *d = gpx_plugin_gen_plugin(g, i, NULL);
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s %s", i ? ", " : "",
					d->name, d->version);
	}
	gpx_info("plugins: generation %u: %zu loaded%s%s%s, %zu refused; %zu filters, %zu backends",
		 gpx_plugin_gen_id(g), gpx_plugin_gen_nplugins(g), off ? " (" : "", off ? list : "",
		 off ? ")" : "", gpx_plugin_gen_nrefused(g),
		 gpx_filter_registry_count(gpx_plugin_gen_filters(g)), gpx_plugin_gen_nbackends(g));
}

int gpx_engine_plugins_open(gpx_server *srv, gpx_engine *e, gpx_status *st)
{
	gpx_plugins_opts o = {
		.dir = srv->cfg.plugin_dir,
		.cpu_device = e->cpu_model,
		.cpu_version = GPX_VERSION,
	};
	if (gpx_plugins_open(&o, &e->plugins, st) < 0)
		return -1;
	gpx_plugin_gen *g = gpx_plugins_acquire(e->plugins);
	if (gpx_plugin_gen_nplugins(g) || gpx_plugin_gen_nrefused(g))
		log_generation(g);
	gpx_engine_cuda_missing(srv, g, e->cuda_detail, sizeof(e->cuda_detail));
	const char *want = srv->cfg.backend;
	gpx_status bst = {0};
	if (strcmp(want, "auto") && strcmp(want, "cpu") &&
	    gpx_backend_check_name(g, want, &bst) < 0)
		gpx_warn("--backend %s: %s; requests without a backend will fail", want, bst.msg);
	gpx_plugin_gen_release(g);
	return 0;
}

int gpx_engine_reload(gpx_server *srv, gpx_status *st)
{
	gpx_engine *e = srv->engine;
	if (!e || !e->plugins)
		return gpx_status_set(st, GPX_FAILED_PRECONDITION, "no engine");
	if (gpx_plugins_reload(e->plugins, st) < 0)
		return -1;
	gpx_plugin_gen *g = gpx_plugins_acquire(e->plugins);
	log_generation(g);
	gpx_plugin_gen_release(g);
	return 0;
}

const gpx_filter_registry *gpx_proc_filters(gpx_server *srv, gpx_proc *p)
{
	if (!p->gen)
		p->gen = gpx_plugins_acquire(srv->engine->plugins);
	return gpx_plugin_gen_filters(p->gen);
}

int gpx_engine_check_backend(gpx_server *srv, const char *name, gpx_status *st)
{
	gpx_plugin_gen *g = gpx_plugins_acquire(srv->engine->plugins);
	const gpx_backend *b = gpx_plugin_gen_find_backend(g, name);
	int rc = 0;
	if (!b && !strcmp(name, "cuda")) {
		char why[768];
		gpx_engine_cuda_missing(srv, g, why, sizeof(why));
		rc = gpx_status_set(st, GPX_FAILED_PRECONDITION,
				    "backend \"cuda\" is not available here: %s", why);
	} else if (!b) {
		char list[256] = "auto, cpu";
		size_t off = strlen(list);
		for (size_t i = 1; i < gpx_plugin_gen_nbackends(g) && off < sizeof(list); i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, ", %s",
						gpx_plugin_gen_backend(g, i)->name);
		rc = gpx_status_set(st, GPX_INVALID_ARGUMENT, "unknown backend \"%.64s\" (use %s)",
				    name, list);
	} else if (!b->info.available) {
		rc = gpx_status_set(st, GPX_FAILED_PRECONDITION,
				    "backend \"%s\" is not available here: %s", b->name,
				    b->info.detail);
	}
	gpx_plugin_gen_release(g);
	return rc;
}

int gpx_proc_pick_backend(gpx_server *srv, gpx_proc *p, const char *name, gpx_status *st)
{
	const char *picked;
	if (gpx_engine_pick_backend(srv, name, &picked, st) < 0)
		return -1;
	snprintf(p->backend, sizeof(p->backend), "%s", picked);
	return 0;
}
