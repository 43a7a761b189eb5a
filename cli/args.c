#include "cli/args.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpix/v1/image_service.pb-c.h"

static const struct {
	const char *name;
	gpx_cli_cmd cmd;
} commands[] = {
	{"version", GPX_CLI_VERSION},	{"images", GPX_CLI_IMAGES}, {"filters", GPX_CLI_FILTERS},
	{"backends", GPX_CLI_BACKENDS}, {"upload", GPX_CLI_UPLOAD}, {"process", GPX_CLI_PROCESS},
	{"tune", GPX_CLI_TUNE},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))
#define CMD_BIT(c) (1u << (c))
#define GLOBAL 0u

enum opt_id {
	OPT_SERVER,
	OPT_TIMEOUT,
	OPT_HTTP2,
	OPT_HELP,
	OPT_VERSION,
	OPT_SOURCE,
	OPT_PAGE_SIZE,
	OPT_FILTERS,
	OPT_SET,
	OPT_PARAMS,
	OPT_OUTPUT,
	OPT_BACKEND,
	OPT_FORMAT,
	OPT_QUALITY,
	OPT_PREVIEW_WIDTH,
};

static const struct opt {
	const char *name;
	char short_name;
	enum opt_id id;
	int has_arg;
	unsigned cmds; /* commands that take it; GLOBAL: every one */
} opts[] = {
	{"server", 0, OPT_SERVER, 1, GLOBAL},
	{"timeout", 0, OPT_TIMEOUT, 1, GLOBAL},
	{"http2", 0, OPT_HTTP2, 0, GLOBAL},
	{"help", 'h', OPT_HELP, 0, GLOBAL},
	{"version", 0, OPT_VERSION, 0, GLOBAL},
	{"source", 0, OPT_SOURCE, 1, CMD_BIT(GPX_CLI_IMAGES)},
	{"page-size", 0, OPT_PAGE_SIZE, 1, CMD_BIT(GPX_CLI_IMAGES)},
	{"filters", 0, OPT_FILTERS, 1, CMD_BIT(GPX_CLI_PROCESS) | CMD_BIT(GPX_CLI_TUNE)},
	{"set", 0, OPT_SET, 1, CMD_BIT(GPX_CLI_PROCESS) | CMD_BIT(GPX_CLI_TUNE)},
	{"params", 0, OPT_PARAMS, 1, CMD_BIT(GPX_CLI_TUNE)},
	{"output", 'o', OPT_OUTPUT, 1, CMD_BIT(GPX_CLI_PROCESS) | CMD_BIT(GPX_CLI_TUNE)},
	{"backend", 0, OPT_BACKEND, 1, CMD_BIT(GPX_CLI_PROCESS) | CMD_BIT(GPX_CLI_TUNE)},
	{"format", 0, OPT_FORMAT, 1, CMD_BIT(GPX_CLI_PROCESS)},
	{"quality", 0, OPT_QUALITY, 1, CMD_BIT(GPX_CLI_PROCESS)},
	{"preview-width", 0, OPT_PREVIEW_WIDTH, 1, CMD_BIT(GPX_CLI_TUNE)},
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

const char *gpx_cli_cmd_name(gpx_cli_cmd cmd)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].cmd == cmd)
			return commands[i].name;
	return NULL;
}

static int find_command(const char *name, gpx_cli_cmd *out)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0) {
			*out = commands[i].cmd;
			return 0;
		}
	}
	return -1;
}

/* Finds "--name" (name_len bytes of name) or "-c". */
static const struct opt *find_opt(const char *name, size_t name_len, char short_name)
{
	for (size_t i = 0; i < NOPTS; i++) {
		if (short_name) {
			if (opts[i].short_name == short_name)
				return &opts[i];
		} else if (strlen(opts[i].name) == name_len &&
			   strncmp(opts[i].name, name, name_len) == 0) {
			return &opts[i];
		}
	}
	return NULL;
}

/* A whole decimal integer in [lo, hi]. */
static int parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int set_value(gpx_cli_args *a, const struct opt *o, const char *spelled, const char *v,
		     gpx_status *st)
{
	const char **sets;
	char *end;
	double secs;

	switch (o->id) {
	case OPT_SERVER:
		if (!*v)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT, "%s needs a URL", spelled);
		a->server = v;
		return 0;
	case OPT_TIMEOUT:
		errno = 0;
		secs = strtod(v, &end);
		if (errno || end == v || *end || !isfinite(secs) || secs <= 0 ||
		    secs * 1000.0 > (double)LONG_MAX / 2)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "%s needs a positive number of seconds, got \"%s\"",
					      spelled, v);
		a->timeout_ms = (long)ceil(secs * 1000.0);
		return 0;
	case OPT_SOURCE:
		if (strcmp(v, "sample") == 0)
			a->source = GPIX__V1__IMAGE_SOURCE__IMAGE_SOURCE_SAMPLE;
		else if (strcmp(v, "upload") == 0)
			a->source = GPIX__V1__IMAGE_SOURCE__IMAGE_SOURCE_UPLOAD;
		else if (strcmp(v, "result") == 0)
			a->source = GPIX__V1__IMAGE_SOURCE__IMAGE_SOURCE_RESULT;
		else if (strcmp(v, "all") == 0)
			a->source = GPIX__V1__IMAGE_SOURCE__IMAGE_SOURCE_UNSPECIFIED;
		else
			return gpx_status_set(
				st, GPX_INVALID_ARGUMENT,
				"%s must be sample, upload, result or all, got \"%s\"", spelled, v);
		return 0;
	case OPT_PAGE_SIZE:
		if (parse_int(v, 1, INT32_MAX, &a->page_size) < 0)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "%s needs a positive integer, got \"%s\"", spelled,
					      v);
		return 0;
	case OPT_FILTERS: a->filters = v; return 0;
	case OPT_SET:
		sets = realloc(a->sets, (a->n_sets + 1) * sizeof(*sets));
		if (!sets)
			return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
		a->sets = sets;
		a->sets[a->n_sets++] = v;
		return 0;
	case OPT_PARAMS: a->params = v; return 0;
	case OPT_OUTPUT:
		if (!*v)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT, "%s needs a path", spelled);
		a->output = v;
		return 0;
	case OPT_BACKEND: a->backend = v; return 0;
	case OPT_FORMAT:
		if (strcasecmp(v, "jpeg") == 0 || strcasecmp(v, "jpg") == 0)
			a->format = GPIX__V1__IMAGE_FORMAT__IMAGE_FORMAT_JPEG;
		else if (strcasecmp(v, "png") == 0)
			a->format = GPIX__V1__IMAGE_FORMAT__IMAGE_FORMAT_PNG;
		else
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "%s must be jpeg or png, got \"%s\"", spelled, v);
		return 0;
	case OPT_QUALITY:
		if (parse_int(v, 1, 100, &a->quality) < 0)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "%s needs an integer from 1 to 100, got \"%s\"",
					      spelled, v);
		return 0;
	case OPT_PREVIEW_WIDTH:
		if (parse_int(v, 1, INT32_MAX, &a->preview_width) < 0)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "%s needs a positive integer, got \"%s\"", spelled,
					      v);
		return 0;
	case OPT_HTTP2:
	case OPT_HELP:
	case OPT_VERSION: break;
	}
	return 0;
}

/* A positional argument after the command. */
static int take_positional(gpx_cli_args *a, const char *arg, gpx_status *st)
{
	if (a->cmd == GPX_CLI_HELP && a->help_for == GPX_CLI_USAGE) {
		if (find_command(arg, &a->help_for) < 0)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT, "unknown command \"%s\"",
					      arg);
		return 0;
	}
	if (a->cmd == GPX_CLI_UPLOAD && !a->file) {
		a->file = arg;
		return 0;
	}
	if ((a->cmd == GPX_CLI_PROCESS || a->cmd == GPX_CLI_TUNE) && !a->image_id) {
		a->image_id = arg;
		return 0;
	}
	if (a->cmd == GPX_CLI_HELP)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "help: unexpected argument \"%s\"",
				      arg);
	return gpx_status_set(st, GPX_INVALID_ARGUMENT, "%s: unexpected argument \"%s\"",
			      gpx_cli_cmd_name(a->cmd), arg);
}

static int take_option(gpx_cli_args *a, int argc, char *const argv[], int *i, int *help,
		       int *version, gpx_status *st)
{
	const char *arg = argv[*i], *value = NULL, *name;
	const struct opt *o;
	char spelled[64];
	size_t name_len;

	if (arg[1] == '-') {
		name = arg + 2;
		const char *eq = strchr(name, '=');
		name_len = eq ? (size_t)(eq - name) : strlen(name);
		if (eq)
			value = eq + 1;
		o = find_opt(name, name_len, 0);
		snprintf(spelled, sizeof(spelled), "--%.*s", (int)(name_len < 40 ? name_len : 40),
			 name);
	} else {
		o = find_opt(NULL, 0, arg[1]);
		if (arg[2])
			value = arg + 2;
		snprintf(spelled, sizeof(spelled), "-%c", arg[1]);
	}
	if (!o)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "unknown option %s", spelled);
	if (o->cmds != GLOBAL) {
		const char *cmd = gpx_cli_cmd_name(a->cmd);
		if (a->cmd == GPX_CLI_HELP) {
			/* "gpix help process --filters x": only help is wanted. */
		} else if (!cmd) {
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "option %s must follow a command", spelled);
		} else if (!(o->cmds & CMD_BIT(a->cmd))) {
			return gpx_status_set(st, GPX_INVALID_ARGUMENT, "%s: unknown option %s",
					      cmd, spelled);
		}
	}
	if (!o->has_arg) {
		if (value)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT, "%s takes no value",
					      spelled);
		if (o->id == OPT_HTTP2)
			a->http2 = 1;
		else if (o->id == OPT_HELP)
			*help = 1;
		else if (o->id == OPT_VERSION)
			*version = 1;
		return 0;
	}
	if (!value) {
		if (*i + 1 >= argc)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT, "%s needs a value",
					      spelled);
		value = argv[++*i];
	}
	return set_value(a, o, spelled, value, st);
}

static int check_complete(const gpx_cli_args *a, gpx_status *st)
{
	switch (a->cmd) {
	case GPX_CLI_UPLOAD:
		if (!a->file)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "upload: which file? (gpix upload FILE)");
		break;
	case GPX_CLI_PROCESS:
		if (!a->image_id)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "process: which image? (gpix process ID --filters "
					      "LIST)");
		if (!a->filters || !*a->filters)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "process: --filters is required, e.g. --filters "
					      "grayscale,blur");
		break;
	case GPX_CLI_TUNE:
		if (!a->image_id)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "tune: which image? (gpix tune ID --params LIST)");
		if (!a->params || !*a->params)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "tune: --params is required, e.g. --params "
					      "blur.sigma:2,blur.sigma:4");
		break;
	default: break;
	}
	return 0;
}

int gpx_cli_args_parse(int argc, char *const argv[], gpx_cli_args *a, gpx_status *st)
{
	int help = 0, version = 0, only_positional = 0;

	memset(a, 0, sizeof(*a));
	a->cmd = GPX_CLI_USAGE;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!only_positional && strcmp(arg, "--") == 0) {
			only_positional = 1;
			continue;
		}
		if (!only_positional && arg[0] == '-' && arg[1]) {
			if (take_option(a, argc, argv, &i, &help, &version, st) < 0)
				return -1;
			continue;
		}
		if (a->cmd == GPX_CLI_USAGE) {
			if (strcmp(arg, "help") == 0) {
				a->cmd = GPX_CLI_HELP;
				a->help_for = GPX_CLI_USAGE;
			} else if (find_command(arg, &a->cmd) < 0) {
				return gpx_status_set(st, GPX_INVALID_ARGUMENT,
						      "unknown command \"%s\"", arg);
			}
			continue;
		}
		if (take_positional(a, arg, st) < 0)
			return -1;
	}
	if (help) {
		if (a->cmd != GPX_CLI_HELP)
			a->help_for = a->cmd;
		a->cmd = GPX_CLI_HELP;
		return 0;
	}
	if (a->cmd == GPX_CLI_HELP)
		return 0;
	if (version) {
		a->cmd = GPX_CLI_CLIENT_VERSION;
		return 0;
	}
	return check_complete(a, st);
}

void gpx_cli_args_free(gpx_cli_args *a)
{
	free(a->sets);
	a->sets = NULL;
	a->n_sets = 0;
}
