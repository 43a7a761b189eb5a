/* A band executor: a few threads that run the row bands of one filter
 * step in parallel, so a single large image can use more than one core.
 *
 * Off by default (the job queue already keeps every core busy with one
 * job each); useful when jobs are few and images large. One executor
 * serves one caller at a time: gpx_bands_run is not re-entrant, so give
 * each queue worker its own executor or none. */
#ifndef GPX_BANDS_H
#define GPX_BANDS_H

#include <stddef.h>

typedef struct gpx_bands gpx_bands;

/* fn(ud, item, slot): item in [0, n), slot in [0, nthreads) is the
 * executing thread's index (the caller is slot 0), for per-thread scratch. */
typedef void (*gpx_bands_fn)(void *ud, size_t item, int slot);

/* nthreads >= 1 counts the calling thread: 2 starts one helper thread.
 * 0, or -1 when threads cannot be started. */
int gpx_bands_create(int nthreads, gpx_bands **out);
int gpx_bands_nthreads(const gpx_bands *b);
/* Runs fn for every item in [0, n) and returns when all have finished.
 * b may be NULL: everything runs on the caller, in order. */
void gpx_bands_run(gpx_bands *b, gpx_bands_fn fn, void *ud, size_t n);
/* Joins the helper threads. NULL is a no-op. */
void gpx_bands_destroy(gpx_bands *b);

#endif
