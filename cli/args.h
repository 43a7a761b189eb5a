/* The gpix command line: which command, which options, checked before any
 * request is made.
 *
 *   gpix [--server URL] [--timeout SEC] [--http2] COMMAND [ARGS]
 *
 * Global options may also follow the command. Options take their value as
 * the next argument or after '=' (--server=URL, -oOUT); "--" ends options.
 *
 * Ownership: strings in gpx_cli_args point into argv, which must outlive
 * them; the sets array is allocated and freed by gpx_cli_args_free. */
#ifndef GPX_CLI_ARGS_H
#define GPX_CLI_ARGS_H

#include <stddef.h>

#include "common/status.h"

typedef enum gpx_cli_cmd {
	GPX_CLI_USAGE = 0,	/* no command given */
	GPX_CLI_HELP,		/* -h, --help, or "help [COMMAND]" */
	GPX_CLI_CLIENT_VERSION, /* --version */
	GPX_CLI_VERSION,
	GPX_CLI_IMAGES,
	GPX_CLI_FILTERS,
	GPX_CLI_BACKENDS,
	GPX_CLI_UPLOAD,
	GPX_CLI_PROCESS,
	GPX_CLI_TUNE,
} gpx_cli_cmd;

typedef struct gpx_cli_args {
	gpx_cli_cmd cmd;
	gpx_cli_cmd help_for; /* GPX_CLI_HELP: the command asked about; USAGE: all */

	/* global */
	const char *server; /* --server; NULL when not given */
	long timeout_ms;    /* --timeout; 0 when not given */
	int http2;	    /* --http2 */

	/* images */
	int source;    /* --source, as gpix.v1.ImageSource; 0: all */
	int page_size; /* --page-size; 0: the server's default */

	/* upload */
	const char *file;

	/* process and tune */
	const char *image_id;
	const char *filters; /* --filters "blur,edge" */
	const char **sets;   /* each --set "blur.sigma=3,edge.threshold=40" */
	size_t n_sets;
	const char *params; /* tune --params "blur.sigma:2,blur.sigma:4" */
	const char *output; /* -o: a file (process) or a directory (tune) */
	const char *backend;
	int format;	   /* --format, as gpix.v1.ImageFormat; 0: as the input */
	int quality;	   /* --quality 1..100; 0: the server's default */
	int preview_width; /* tune --preview-width; 0: the server's default */
} gpx_cli_args;

/* Fills a from argv. Returns 0, or -1 with st (GPX_INVALID_ARGUMENT, a
 * message fit to print after "gpix: ") on a usage error; a then needs
 * gpx_cli_args_free all the same. */
int gpx_cli_args_parse(int argc, char *const argv[], gpx_cli_args *a, gpx_status *st);
void gpx_cli_args_free(gpx_cli_args *a);

/* "images" for GPX_CLI_IMAGES; NULL for the pseudo-commands. */
const char *gpx_cli_cmd_name(gpx_cli_cmd cmd);

#endif
