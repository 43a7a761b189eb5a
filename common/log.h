/* Structured logging to stderr: one line per event, text or JSON.
 *
 * The format and level are process-wide settings made once by main before
 * any thread starts; after that the logger only reads them. */
#ifndef GPX_LOG_H
#define GPX_LOG_H

#include <stddef.h>

typedef enum gpx_log_level {
	GPX_LOG_DEBUG = 0,
	GPX_LOG_INFO = 1,
	GPX_LOG_WARN = 2,
	GPX_LOG_ERROR = 3,
} gpx_log_level;

typedef enum gpx_log_format {
	GPX_LOG_TEXT = 0,
	GPX_LOG_JSON = 1,
} gpx_log_format;

/* A key/value pair for structured fields; a NULL key ends a list. */
typedef struct gpx_log_field {
	const char *key;
	const char *val; /* printed as a string */
} gpx_log_field;

void gpx_log_setup(gpx_log_format fmt, gpx_log_level level);
/* Full buffering of stderr (call before threads start); the caller then
 * flushes with gpx_log_flush, e.g. once per event-loop iteration. */
void gpx_log_buffered(int on);
void gpx_log_flush(void);
int gpx_log_enabled(gpx_log_level level);
int gpx_log_level_parse(const char *s, gpx_log_level *out);
int gpx_log_format_parse(const char *s, gpx_log_format *out);

/* Message plus optional fields (NULL-terminated array, may be NULL). */
void gpx_logf(gpx_log_level level, const gpx_log_field *fields, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define gpx_debug(...) gpx_logf(GPX_LOG_DEBUG, NULL, __VA_ARGS__)
#define gpx_info(...) gpx_logf(GPX_LOG_INFO, NULL, __VA_ARGS__)
#define gpx_warn(...) gpx_logf(GPX_LOG_WARN, NULL, __VA_ARGS__)
#define gpx_error(...) gpx_logf(GPX_LOG_ERROR, NULL, __VA_ARGS__)

/* RFC 3339 UTC with milliseconds: "2026-11-23T10:24:00.123Z" (buf >= 32). */
void gpx_time_rfc3339(char *buf, size_t len, double unix_seconds);
/* Wall clock and monotonic clock in seconds. */
double gpx_now_wall(void);
double gpx_now_mono(void);

#endif
