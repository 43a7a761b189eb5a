/* The plugin loader: loads every plugin in --plugin-dir (include/gpix/plugin.h)
 * into a "generation" (a filter registry with the built-ins and every
 * plugin's filters, plus a backend table with the built-in CPU backend and
 * every plugin backend), and swaps in a new generation on reload.
 *
 * Generations are reference-counted. The loader holds one reference to the
 * current generation; a job takes its own with gpx_plugins_acquire before
 * it builds its pipeline and drops it with gpx_plugin_gen_release once the
 * pipeline is freed. gpx_plugins_reload builds a complete new generation
 * next to the old one, swaps it in under a lock and drops the loader's
 * reference to the old one: new jobs see the new plugins at once, jobs in
 * flight finish on the old ones, and the old generation (its backends
 * released, its shared objects dlclosed, its registry freed) goes away
 * with its last reference, on whichever thread drops it.
 *
 * dlopen returns the handle it already has for a path it has loaded, so
 * each generation loads a private copy of every plugin file: an anonymous
 * memfd (falling back to an unlinked file in $TMPDIR), opened through
 * /proc/self/fd. A plugin file may therefore be replaced in place (cp over
 * it) while the server runs; the next reload picks it up.
 *
 * A plugin that cannot be loaded (dlopen error, no entry point, another ABI
 * version, a bad descriptor, a filter or plugin name already taken) is
 * refused with one log line and listed in the generation's refusals; the
 * rest load. Every function is thread-safe unless it says otherwise. */
#ifndef GPX_PLUGINS_LOADER_H
#define GPX_PLUGINS_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "engine/filters/filter.h"
#include "gpix/plugin.h"

typedef struct gpx_plugins gpx_plugins;
typedef struct gpx_plugin_gen gpx_plugin_gen;

/* A backend of a generation. The CPU backend is always the first: it is
 * compiled in, runs the engine's own pipeline (ops is NULL) and runs every
 * filter. Plugin backends run the filters they list. */
typedef struct gpx_backend {
	const char *name;    /* "cpu", "cuda" */
	const char *plugin;  /* "" for the CPU backend */
	const char *version; /* the plugin's version; gpixd's for the CPU */
	const gpx_plugin_backend *ops;
	void *ctx; /* ops->init's; NULL when unavailable */
	gpx_plugin_backend_info info;
	char **filters; /* names from ops->filters; NULL for the CPU */
	size_t nfilters;
} gpx_backend;

/* Does backend b run the filter? */
int gpx_backend_has_filter(const gpx_backend *b, const char *filter);

typedef struct gpx_plugin_refusal {
	char file[256];
	char reason[512];
} gpx_plugin_refusal;

typedef struct gpx_plugins_opts {
	/* Directories to scan for *.so, separated by ':' (searched in that
	 * order, files sorted by name). NULL or "": built-ins only. */
	const char *dir;
	const char *cpu_device;	 /* the CPU backend's device (the CPU model) */
	const char *cpu_version; /* shown as the CPU backend's version */
} gpx_plugins_opts;

/* Loads the first generation. Fails only when out of memory or when a
 * directory cannot be read (a missing --plugin-dir is a configuration
 * error); plugins that fail are refused, not fatal. */
int gpx_plugins_open(const gpx_plugins_opts *opts, gpx_plugins **out, gpx_status *st);

/* Builds a new generation from the directories and makes it current. On
 * failure (out of memory, unreadable directory) the current generation
 * stays. Reloads are serialised. */
int gpx_plugins_reload(gpx_plugins *pl, gpx_status *st);

/* A reference to the current generation; never NULL. */
gpx_plugin_gen *gpx_plugins_acquire(gpx_plugins *pl);
/* Drops a reference; the last one frees the generation. NULL: no-op. */
void gpx_plugin_gen_release(gpx_plugin_gen *g);

/* Drops the loader's reference to the current generation. Generations
 * still referenced live on until released; the loader's memory goes with
 * the last of them. NULL: no-op. */
void gpx_plugins_close(gpx_plugins *pl);

/* Generations alive now (the current one plus those still draining). */
int gpx_plugins_live(gpx_plugins *pl);

/* ---- reading a generation (immutable once built) ----------------------- */

unsigned gpx_plugin_gen_id(const gpx_plugin_gen *g); /* 1, 2, ... */
const gpx_filter_registry *gpx_plugin_gen_filters(const gpx_plugin_gen *g);

size_t gpx_plugin_gen_nbackends(const gpx_plugin_gen *g);
const gpx_backend *gpx_plugin_gen_backend(const gpx_plugin_gen *g, size_t i);
const gpx_backend *gpx_plugin_gen_find_backend(const gpx_plugin_gen *g, const char *name);

/* Loaded plugins: name, version, description and the file they came from. */
size_t gpx_plugin_gen_nplugins(const gpx_plugin_gen *g);
const gpx_plugin_descriptor *gpx_plugin_gen_plugin(const gpx_plugin_gen *g, size_t i,
						   const char **file);

size_t gpx_plugin_gen_nrefused(const gpx_plugin_gen *g);
const gpx_plugin_refusal *gpx_plugin_gen_refused(const gpx_plugin_gen *g, size_t i);

#endif
