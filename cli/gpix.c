/* gpix: the command-line client of gpixd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/connect_client.h"
#include "gpx_config.h"
#include "gpx_version.h"

#define DEFAULT_SERVER "http://127.0.0.1:8080"

/* Exit statuses: 0 done, 1 the call failed, 2 the command line is wrong. */
enum { EXIT_CALL_FAILED = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
	"Usage: gpix [--server URL] [--timeout SEC] [--http2] COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  version                     the server's version\n"
	"  images [--source S] [--page-size N]\n"
	"                              list images (S: sample, upload, result, all)\n"
	"  filters                     filters and their parameters\n"
	"  backends                    processing backends\n"
	"  upload FILE                 upload a JPEG or PNG image in 64 KiB chunks\n"
	"  process ID --filters LIST [--set F.P=V]... [-o OUT]\n"
	"                              run a pipeline with progress; save the result\n"
	"  tune ID --params F.P:V,... [-o DIR]\n"
	"                              one preview per parameter value\n"
	"  help [COMMAND]              this help, or a command's\n"
	"\n"
	"Options:\n"
	"  --server URL    server to call (default: $GPIX_SERVER, else " DEFAULT_SERVER ")\n"
	"  --timeout SEC   deadline for each call (default: none)\n"
	"  --http2         use HTTP/2 for every call (prior knowledge on http://)\n"
	"  -h, --help      show help\n"
	"  --version       show the client's version\n"
	"\n"
	"Exit status: 0 done, 1 the call failed, 2 bad command line.\n";

static const char *const command_help[] = {
	[GPX_CLI_VERSION] = "Usage: gpix version\n"
			    "\n"
			    "Prints the server's version: \"Service version: v0.1.0\".\n",
	[GPX_CLI_IMAGES] =
		"Usage: gpix images [--source sample|upload|result|all] [--page-size N]\n"
		"\n"
		"Lists stored images, every page of them: ID, NAME, FORMAT, SIZE (WxH),\n"
		"BYTES and SOURCE. --page-size sets how many each request fetches.\n",
	[GPX_CLI_FILTERS] = "Usage: gpix filters\n"
			    "\n"
			    "Lists the filters and their parameters: type, default, and range or\n"
			    "options.\n",
	[GPX_CLI_BACKENDS] = "Usage: gpix backends\n"
			     "\n"
			     "Lists the processing backends, whether each can run on the server,\n"
			     "and which one is the default.\n",
	[GPX_CLI_UPLOAD] = "Usage: gpix upload FILE\n"
			   "\n"
			   "Uploads a JPEG or PNG image over a client stream in 64 KiB chunks,\n"
			   "with its size and SHA-256 so that the server can check it, and prints\n"
			   "\"Uploaded image ID: <id>\".\n",
	[GPX_CLI_PROCESS] =
		"Usage: gpix process ID --filters LIST [--set F.P=V[,F.P=V]]... [-o OUT]\n"
		"                    [--backend NAME] [--format jpeg|png] [--quality N]\n"
		"\n"
		"Runs a filter pipeline on image ID and shows its progress, then prints\n"
		"the result's id and, with -o, saves the result image to OUT (its format\n"
		"follows OUT's extension unless --format says otherwise).\n"
		"\n"
		"  --filters grayscale,blur   the steps, in order\n"
		"  --set blur.sigma=3         a parameter: numbers, true/false, or text\n",
	[GPX_CLI_TUNE] = "Usage: gpix tune ID --params F.P:V[,F.P:V]... [--filters LIST]\n"
			 "                 [--set F.P=V]... [--preview-width N] [-o DIR]\n"
			 "\n"
			 "Opens a tuning session on image ID and asks for one preview per\n"
			 "parameter value, in order; with -o, writes each preview into DIR as\n"
			 "tune-<seq>-<filter.param>-<value>.jpg. A parameter of a filter that\n"
			 "is not in --filters adds that filter.\n",
};

static void print_help(gpx_cli_cmd cmd)
{
	const char *text = NULL;

	if (cmd < sizeof(command_help) / sizeof(command_help[0]))
		text = command_help[cmd];
	fputs(text ? text : usage_text, stdout);
}

/* The URL from --server, $GPIX_SERVER or the default, with http:// added
 * when no scheme is given ("localhost:8080"). Caller frees. */
static char *server_url(const gpx_cli_args *a)
{
	const char *s = a->server;
	char *url;
	size_t n;

	if (!s) {
		s = getenv("GPIX_SERVER");
		if (!s || !*s)
			s = DEFAULT_SERVER;
	}
	if (strstr(s, "://"))
		return strdup(s);
	n = strlen(s) + 8;
	url = malloc(n);
	if (url)
		snprintf(url, n, "http://%s", s);
	return url;
}

static int run(const gpx_cli_args *a)
{
	gpx_cc_opts opts = {0};
	gpx_cli_ctx ctx;
	gpx_status st;
	char *url = server_url(a);
	int rc;

	if (!url) {
		fprintf(stderr, "gpix: out of memory\n");
		return EXIT_CALL_FAILED;
	}
	opts.base_url = url;
	opts.timeout_ms = a->timeout_ms;
	opts.http2 = a->http2;
	opts.user_agent = "gpix/" GPX_VERSION;
	ctx.cc = gpx_cc_new(&opts, &st);
	free(url);
	if (!ctx.cc) {
		fprintf(stderr, "gpix: %s\n", st.msg);
		return st.code == GPX_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_CALL_FAILED;
	}
	ctx.args = a;
	ctx.out = stdout;
	ctx.err = stderr;
	ctx.tty = isatty(STDOUT_FILENO);

	switch (a->cmd) {
	case GPX_CLI_VERSION: rc = gpx_cmd_version(&ctx); break;
	case GPX_CLI_IMAGES: rc = gpx_cmd_images(&ctx); break;
	case GPX_CLI_FILTERS: rc = gpx_cmd_filters(&ctx); break;
	case GPX_CLI_BACKENDS: rc = gpx_cmd_backends(&ctx); break;
	case GPX_CLI_UPLOAD: rc = gpx_cmd_upload(&ctx); break;
	case GPX_CLI_PROCESS: rc = gpx_cmd_process(&ctx); break;
	case GPX_CLI_TUNE: rc = gpx_cmd_tune(&ctx); break;
	default: rc = -1; break;
	}
	gpx_cc_free(ctx.cc);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gpix: cannot write the output\n");
		rc = -1;
	}
	return rc < 0 ? EXIT_CALL_FAILED : 0;
}

int main(int argc, char **argv)
{
	gpx_cli_args a;
	gpx_status st;
	int rc;

	if (gpx_cli_args_parse(argc, argv, &a, &st) < 0) {
		fprintf(stderr, "gpix: %s\nTry 'gpix --help'.\n", st.msg);
		gpx_cli_args_free(&a);
		return EXIT_USAGE;
	}
	switch (a.cmd) {
	case GPX_CLI_USAGE:
		fputs(usage_text, stderr);
		rc = EXIT_USAGE;
		break;
	case GPX_CLI_HELP:
		print_help(a.help_for);
		rc = 0;
		break;
	case GPX_CLI_CLIENT_VERSION:
		printf("gpix %s (commit %s)\n", GPX_VERSION, GPX_COMMIT);
		rc = 0;
		break;
	default:
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			fprintf(stderr, "gpix: cannot initialise libcurl\n");
			rc = EXIT_CALL_FAILED;
			break;
		}
		rc = run(&a);
		curl_global_cleanup();
		break;
	}
	gpx_cli_args_free(&a);
	return rc;
}
