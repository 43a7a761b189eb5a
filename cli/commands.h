/* The gpix commands, one function each, over a Connect client.
 *
 * Each prints its result to ctx->out and returns 0, or prints one line
 * "gpix: <why>" to ctx->err and returns -1. None of them exits. */
#ifndef GPX_CLI_COMMANDS_H
#define GPX_CLI_COMMANDS_H

#include <stdio.h>

#include "cli/args.h"
#include "cli/connect_client.h"

typedef struct gpx_cli_ctx {
	gpx_cc *cc;
	const gpx_cli_args *args;
	FILE *out;
	FILE *err;
	int tty; /* out is a terminal: progress bars instead of lines */
} gpx_cli_ctx;

/* Prints "gpix: <text of e>" on ctx->err; returns -1. */
int gpx_cli_report(gpx_cli_ctx *ctx, const gpx_cc_error *e);

int gpx_cmd_version(gpx_cli_ctx *ctx);
int gpx_cmd_images(gpx_cli_ctx *ctx);
int gpx_cmd_filters(gpx_cli_ctx *ctx);
int gpx_cmd_backends(gpx_cli_ctx *ctx);
int gpx_cmd_upload(gpx_cli_ctx *ctx);
int gpx_cmd_process(gpx_cli_ctx *ctx);
int gpx_cmd_tune(gpx_cli_ctx *ctx);

/* The chunk size of upload: the server expects 64 KiB. */
#define GPX_CLI_UPLOAD_CHUNK ((size_t)64 << 10)

#endif
