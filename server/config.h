/* gpixd settings: defaults, then the config file, then GPIX_* environment
 * variables, then command-line flags (flags win). One table describes every
 * setting, so the three sources and --help can never disagree. */
#ifndef GPX_CONFIG_H
#define GPX_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/log.h"

#define GPX_PATH_MAX 1024

typedef struct gpx_config {
	char listen[256];
	char data_dir[GPX_PATH_MAX];
	char store_dir[GPX_PATH_MAX];
	char web_dir[GPX_PATH_MAX];
	char plugin_dir[GPX_PATH_MAX];
	char config_file[GPX_PATH_MAX];
	int io_threads;
	int workers;
	int queue_depth;
	char backend[32];
	int64_t max_pixels;
	char allowed_origins[2048];
	char tls_cert[GPX_PATH_MAX];
	char tls_key[GPX_PATH_MAX];
	char client_ca[GPX_PATH_MAX];
	char log_format_s[16];
	char log_level_s[16];
	gpx_log_format log_format;
	gpx_log_level log_level;
	int64_t max_message_bytes; /* one RPC message / unary body */
	int64_t max_upload_bytes;  /* one uploaded image */
	int64_t max_header_bytes;  /* all request headers of one request */
	int max_connections;
	int max_streams;       /* concurrent HTTP/2 streams per connection */
	int idle_timeout_s;    /* a connection with nothing in flight */
	int request_timeout_s; /* headers + body of one request must arrive */
	int grace_s;	       /* SIGTERM: time to finish in-flight work */
} gpx_config;

void gpx_config_defaults(gpx_config *c);

/* Loads file, environment and argv in that order. Returns 0, 1 when the
 * program should exit 0 (--help/--version printed), or -1 with a message
 * in err. */
int gpx_config_load(gpx_config *c, int argc, char **argv, char **envp, char *err, size_t errlen);

/* Applies one setting by name ("listen", "io-threads", ...). */
int gpx_config_set(gpx_config *c, const char *name, const char *value, char *err, size_t errlen);

void gpx_config_usage(FILE *out);

/* Splits "host:port" / "[v6]:port"; returns -1 when malformed. */
int gpx_config_split_listen(const char *listen, char *host, size_t hostlen, int *port);

#endif
