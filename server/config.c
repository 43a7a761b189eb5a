#include "server/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpx_config.h"

typedef enum { T_STR, T_INT, T_I64 } opt_type;

typedef struct opt {
	const char *name;
	opt_type type;
	size_t off;
	size_t size; /* for strings */
	const char *arg;
	const char *help;
	int64_t min, max;
} opt;

#define S(field, arg, help)                                                                        \
	{                                                                                          \
#field, T_STR, offsetof(gpx_config, field), sizeof(((gpx_config *)0)->field), arg, \
			help, 0, 0                                                                 \
	}
#define I(field, arg, help, lo, hi)                                              \
	{                                                                        \
#field, T_INT, offsetof(gpx_config, field), 0, arg, help, lo, hi \
	}
#define L(field, arg, help, lo, hi)                                              \
	{                                                                        \
#field, T_I64, offsetof(gpx_config, field), 0, arg, help, lo, hi \
	}

/* Field names use '_' and become flags with '-' and GPIX_ variables in
 * upper case: io_threads -> --io-threads, GPIX_IO_THREADS. */
static const opt opts[] = {
	S(listen, "HOST:PORT", "address to listen on (default 127.0.0.1:8080)"),
	S(data_dir, "DIR", "read-only sample images (default data/samples)"),
	S(store_dir, "DIR", "uploads and results (default var/store)"),
	S(web_dir, "DIR", "the built web UI served at / (default web/dist)"),
	S(plugin_dir, "DIR", "backend and filter plugins to load"),
	S(config_file, "FILE", "config file with name = value lines"),
	I(io_threads, "N", "I/O event loops (default 1)", 1, 256),
	I(workers, "N", "image worker threads (default: number of cores)", 1, 1024),
	I(queue_depth, "N", "jobs waiting at most before resource_exhausted (default 64)", 1,
	  1000000),
	S(backend, "auto|cpu|cuda", "default processing backend (default auto)"),
	L(max_pixels, "N", "largest image in pixels (default 100000000)", 1, INT64_C(1) << 40),
	S(allowed_origins, "LIST", "comma-separated origins allowed besides the server's own"),
	S(tls_cert, "FILE", "TLS certificate chain (PEM)"),
	S(tls_key, "FILE", "TLS private key (PEM)"),
	S(client_ca, "FILE", "CA bundle to require and verify client certificates"),
	S(log_format_s, "json|text", "log format (default text)"),
	S(log_level_s, "debug|info|warn|error", "log level (default info)"),
	L(max_message_bytes, "BYTES", "largest RPC message or unary body (default 4194304)", 1024,
	  INT64_C(1) << 32),
	L(max_upload_bytes, "BYTES", "largest uploaded image (default 268435456)", 1024,
	  INT64_C(1) << 40),
	L(max_header_bytes, "BYTES", "largest request header block (default 65536)", 4096,
	  16 << 20),
	I(max_connections, "N", "open connections at most (default 10000)", 1, 1000000),
	I(max_streams, "N", "concurrent HTTP/2 streams per connection (default 100)", 1, 100000),
	I(idle_timeout_s, "SECONDS", "close idle connections after (default 60)", 1, 86400),
	I(request_timeout_s, "SECONDS",
	  "a request's headers and body must arrive within (default 30)", 1, 86400),
	I(grace_s, "SECONDS", "SIGTERM grace period for in-flight work (default 10)", 0, 3600),
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

void gpx_config_defaults(gpx_config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->listen, "127.0.0.1:8080");
	strcpy(c->data_dir, "data/samples");
	strcpy(c->store_dir, "var/store");
	strcpy(c->web_dir, "web/dist");
	c->io_threads = 1;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	c->workers = n > 0 ? (int)n : 1;
	c->queue_depth = 64;
	strcpy(c->backend, "auto");
	c->max_pixels = 100000000;
	strcpy(c->log_format_s, "text");
	strcpy(c->log_level_s, "info");
	c->max_message_bytes = 4 << 20;
	c->max_upload_bytes = 256 << 20;
	c->max_header_bytes = 64 << 10;
	c->max_connections = 10000;
	c->max_streams = 100;
	c->idle_timeout_s = 60;
	c->request_timeout_s = 30;
	c->grace_s = 10;
}

/* "io-threads", "io_threads", "IO_THREADS" all name io_threads. "log-format"
 * names log_format_s. */
static const opt *find_opt(const char *name)
{
	char norm[64];
	size_t i = 0;
	for (; name[i] && i + 1 < sizeof(norm); i++)
		norm[i] = name[i] == '-' ? '_' : (char)tolower((unsigned char)name[i]);
	norm[i] = '\0';
	for (size_t k = 0; k < NOPTS; k++) {
		size_t len = strlen(opts[k].name);
		if (strcmp(opts[k].name, norm) == 0)
			return &opts[k];
		if (len > 2 && strcmp(opts[k].name + len - 2, "_s") == 0 &&
		    strncmp(opts[k].name, norm, len - 2) == 0 && norm[len - 2] == '\0')
			return &opts[k];
	}
	return NULL;
}

static void flag_name(const opt *o, char *out, size_t cap)
{
	size_t len = strlen(o->name);
	if (len > 2 && strcmp(o->name + len - 2, "_s") == 0)
		len -= 2;
	size_t i = 0;
	for (; i < len && i + 1 < cap; i++)
		out[i] = o->name[i] == '_' ? '-' : o->name[i];
	out[i] = '\0';
}

static int finish(gpx_config *c, char *err, size_t errlen)
{
	if (gpx_log_format_parse(c->log_format_s, &c->log_format) < 0) {
		snprintf(err, errlen, "--log-format must be json or text, not \"%s\"",
			 c->log_format_s);
		return -1;
	}
	if (gpx_log_level_parse(c->log_level_s, &c->log_level) < 0) {
		snprintf(err, errlen, "--log-level must be debug, info, warn or error, not \"%s\"",
			 c->log_level_s);
		return -1;
	}
	char host[256];
	int port;
	if (gpx_config_split_listen(c->listen, host, sizeof(host), &port) < 0) {
		snprintf(err, errlen, "--listen must be HOST:PORT, not \"%s\"", c->listen);
		return -1;
	}
	if (strcmp(c->backend, "auto") && strcmp(c->backend, "cpu") && strcmp(c->backend, "cuda") &&
	    !c->backend[0]) {
		snprintf(err, errlen, "--backend must be auto, cpu, cuda or a plugin backend");
		return -1;
	}
	if ((c->tls_cert[0] != 0) != (c->tls_key[0] != 0)) {
		snprintf(err, errlen, "--tls-cert and --tls-key go together");
		return -1;
	}
	if (c->tls_cert[0] || c->client_ca[0]) {
		/* Refuse rather than serve cleartext to someone who asked for TLS. */
		snprintf(err, errlen,
			 "TLS is not served by this version yet: terminate TLS in front "
			 "of gpixd (see docs/operations.md)");
		return -1;
	}
	return 0;
}

int gpx_config_set(gpx_config *c, const char *name, const char *value, char *err, size_t errlen)
{
	const opt *o = find_opt(name);
	if (!o) {
		snprintf(err, errlen, "unknown setting \"%s\"", name);
		return -1;
	}
	char flag[64];
	flag_name(o, flag, sizeof(flag));
	char *field = (char *)c + o->off;
	if (o->type == T_STR) {
		if (strlen(value) >= o->size) {
			snprintf(err, errlen, "--%s: value too long", flag);
			return -1;
		}
		strcpy(field, value);
		return 0;
	}
	char *end;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	if (errno || end == value || *end || v < o->min || v > o->max) {
		snprintf(err, errlen, "--%s must be an integer in %lld..%lld, not \"%s\"", flag,
			 (long long)o->min, (long long)o->max, value);
		return -1;
	}
	if (o->type == T_INT)
		*(int *)field = (int)v;
	else
		*(int64_t *)field = v;
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_file(gpx_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
		return -1;
	}
	char line[4096];
	int lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		char *eq = strpbrk(s, "=:");
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected name = value", path, lineno);
			fclose(f);
			return -1;
		}
		*eq = '\0';
		char *k = trim(s), *v = trim(eq + 1);
		size_t vl = strlen(v);
		if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
			v[vl - 1] = '\0';
			v++;
		}
		char e2[256];
		if (gpx_config_set(c, k, v, e2, sizeof(e2)) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, e2);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

void gpx_config_usage(FILE *out)
{
	fprintf(out, "usage: gpixd [options]\n\n"
		     "gpix image-processing server: HTTP/1.1, HTTP/2, Connect, gRPC, gRPC-Web,\n"
		     "REST and WebSocket on one port.\n\noptions:\n");
	for (size_t k = 0; k < NOPTS; k++) {
		char flag[64], left[128];
		flag_name(&opts[k], flag, sizeof(flag));
		if (strcmp(flag, "config-file") == 0)
			strcpy(flag, "config");
		snprintf(left, sizeof(left), "--%s %s", flag, opts[k].arg);
		fprintf(out, "  %-32s %s\n", left, opts[k].help);
	}
	fprintf(out, "  %-32s %s\n  %-32s %s\n\n", "--help", "show this help", "--version",
		"show the version");
	fprintf(out,
		"Each setting also reads from GPIX_<NAME> (GPIX_LISTEN, GPIX_IO_THREADS, ...)\n"
		"and from the config file; flags win over the environment, which wins over\n"
		"the file.\n");
}

int gpx_config_split_listen(const char *listen, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(listen, ':');
	if (!colon || colon == listen)
		return -1;
	size_t hl = (size_t)(colon - listen);
	const char *h = listen;
	if (h[0] == '[') {
		if (hl < 2 || h[hl - 1] != ']')
			return -1;
		h++;
		hl -= 2;
	}
	if (hl + 1 > hostlen)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || p < 0 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

int gpx_config_load(gpx_config *c, int argc, char **argv, char **envp, char *err, size_t errlen)
{
	/* 1. Which config file: --config wins over GPIX_CONFIG. */
	const char *file = NULL;
	for (char **e = envp; e && *e; e++)
		if (strncmp(*e, "GPIX_CONFIG=", 12) == 0 ||
		    strncmp(*e, "GPIX_CONFIG_FILE=", 17) == 0)
			file = strchr(*e, '=') + 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			gpx_config_usage(stdout);
			return 1;
		}
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("gpixd %s\n", GPX_VERSION);
			return 1;
		}
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			file = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			file = argv[i] + 9;
	}
	if (file && *file) {
		if (load_file(c, file, err, errlen) < 0)
			return -1;
		snprintf(c->config_file, sizeof(c->config_file), "%s", file);
	}
	/* 2. Environment. */
	for (char **e = envp; e && *e; e++) {
		if (strncmp(*e, "GPIX_", 5) != 0)
			continue;
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		char name[64];
		size_t nl = (size_t)(eq - *e - 5);
		if (nl >= sizeof(name))
			continue;
		memcpy(name, *e + 5, nl);
		name[nl] = '\0';
		if (strcmp(name, "CONFIG") == 0 || strcmp(name, "CONFIG_FILE") == 0)
			continue;
		if (!find_opt(name))
			continue; /* GPIX_ variables of other tools are not ours */
		char e2[256];
		if (gpx_config_set(c, name, eq + 1, e2, sizeof(e2)) < 0) {
			snprintf(err, errlen, "GPIX_%s: %s", name, e2);
			return -1;
		}
	}
	/* 3. Flags. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0) {
			snprintf(err, errlen, "unexpected argument \"%s\" (see --help)", a);
			return -1;
		}
		char name[64];
		const char *val;
		const char *eq = strchr(a, '=');
		if (eq) {
			size_t nl = (size_t)(eq - a - 2);
			if (nl >= sizeof(name)) {
				snprintf(err, errlen, "unknown flag %s", a);
				return -1;
			}
			memcpy(name, a + 2, nl);
			name[nl] = '\0';
			val = eq + 1;
		} else {
			snprintf(name, sizeof(name), "%s", a + 2);
			if (i + 1 >= argc) {
				snprintf(err, errlen, "%s needs a value", a);
				return -1;
			}
			val = argv[++i];
		}
		if (strcmp(name, "config") == 0)
			continue;
		if (!find_opt(name)) {
			snprintf(err, errlen, "unknown flag --%s (see --help)", name);
			return -1;
		}
		if (gpx_config_set(c, name, val, err, errlen) < 0)
			return -1;
	}
	return finish(c, err, errlen);
}
