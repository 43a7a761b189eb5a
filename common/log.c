#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static gpx_log_format log_format = GPX_LOG_TEXT;
static gpx_log_level log_level = GPX_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void gpx_log_setup(gpx_log_format fmt, gpx_log_level level)
{
	log_format = fmt;
	log_level = level;
}

void gpx_log_buffered(int on)
{
	/* A server logs a line per request: with a full buffer flushed once
	 * per event-loop iteration, many lines share one write(2). */
	static char buf[1 << 16];
	setvbuf(stderr, on ? buf : NULL, on ? _IOFBF : _IONBF, on ? sizeof(buf) : 0);
}

void gpx_log_flush(void)
{
	fflush(stderr);
}

int gpx_log_enabled(gpx_log_level level)
{
	return level >= log_level;
}

int gpx_log_level_parse(const char *s, gpx_log_level *out)
{
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (gpx_log_level)i;
			return 0;
		}
	if (strcasecmp(s, "warning") == 0) {
		*out = GPX_LOG_WARN;
		return 0;
	}
	return -1;
}

int gpx_log_format_parse(const char *s, gpx_log_format *out)
{
	if (strcasecmp(s, "text") == 0)
		*out = GPX_LOG_TEXT;
	else if (strcasecmp(s, "json") == 0)
		*out = GPX_LOG_JSON;
	else
		return -1;
	return 0;
}

double gpx_now_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double gpx_now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void gpx_time_rfc3339(char *buf, size_t len, double t)
{
	time_t secs = (time_t)t;
	int ms = (int)((t - (double)secs) * 1000.0);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

/* Appends s to out as JSON string content (no quotes). */
static size_t json_escape(char *out, size_t cap, const char *s)
{
	size_t n = 0;
	for (; *s && n + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else if (c < 0x20) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	return n;
}

void gpx_logf(gpx_log_level level, const gpx_log_field *fields, const char *fmt, ...)
{
	if (level < log_level)
		return;
	char msg[2048], ts[40], line[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gpx_time_rfc3339(ts, sizeof(ts), gpx_now_wall());

	size_t n = 0, cap = sizeof(line) - 2;
	if (log_format == GPX_LOG_JSON) {
		n += (size_t)snprintf(line + n, cap - n,
				      "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts,
				      level_names[level]);
		n += json_escape(line + n, cap - n, msg);
		for (const gpx_log_field *f = fields; f && f->key && n + 8 < cap; f++) {
			n += (size_t)snprintf(line + n, cap - n, "\",\"%s\":\"", f->key);
			if (n >= cap)
				break;
			n += json_escape(line + n, cap - n, f->val ? f->val : "");
		}
		if (n + 2 < cap)
			n += (size_t)snprintf(line + n, cap - n, "\"}");
	} else {
		n += (size_t)snprintf(line + n, cap - n, "%s %-5s %s", ts, level_names[level], msg);
		for (const gpx_log_field *f = fields; f && f->key && n < cap; f++) {
			const char *v = f->val ? f->val : "";
			int quote = strpbrk(v, " \"=") != NULL || !*v;
			n += (size_t)snprintf(line + n, cap - n, quote ? " %s=\"%s\"" : " %s=%s",
					      f->key, v);
		}
	}
	if (n > cap)
		n = cap;
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
}
