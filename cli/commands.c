#include "cli/commands.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "cli/pipeline.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "gpix/v1/image_service.pb-c.h"

#define SERVICE "gpix.v1.ImageService/"
/* A server that keeps handing out page tokens is broken, not big. */
#define MAX_PAGES 100000

int gpx_cli_report(gpx_cli_ctx *ctx, const gpx_cc_error *e)
{
	char line[GPX_STATUS_MSG_MAX + 64];

	fflush(ctx->out);
	fprintf(ctx->err, "gpix: %s\n", gpx_cc_error_text(e, line, sizeof(line)));
	return -1;
}

static int fail(gpx_cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(gpx_cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fflush(ctx->out);
	fputs("gpix: ", ctx->err);
	va_start(ap, fmt);
	vfprintf(ctx->err, fmt, ap);
	va_end(ap);
	fputc('\n', ctx->err);
	return -1;
}

static int unary(gpx_cli_ctx *ctx, const char *method, const ProtobufCMessage *req,
		 const ProtobufCMessageDescriptor *desc, ProtobufCMessage **resp)
{
	gpx_cc_error e;

	if (gpx_cc_unary(ctx->cc, method, req, desc, resp, &e) < 0)
		return gpx_cli_report(ctx, &e);
	return 0;
}

static int print_table(gpx_cli_ctx *ctx, gpx_table *t)
{
	if (gpx_table_print(t, ctx->out) < 0)
		return fail(ctx, "out of memory");
	return 0;
}

/* ---- version ---- */

int gpx_cmd_version(gpx_cli_ctx *ctx)
{
	Gpix__V1__GetVersionRequest req = GPIX__V1__GET_VERSION_REQUEST__INIT;
	Gpix__V1__GetVersionResponse *resp;

	if (unary(ctx, SERVICE "GetVersion", &req.base, &gpix__v1__get_version_response__descriptor,
		  (ProtobufCMessage **)&resp) < 0)
		return -1;
	fprintf(ctx->out, "Service version: %s\n", resp->version);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return 0;
}

/* ---- images ---- */

static const char *format_name(Gpix__V1__ImageFormat f)
{
	switch (f) {
	case GPIX__V1__IMAGE_FORMAT__IMAGE_FORMAT_JPEG: return "JPEG";
	case GPIX__V1__IMAGE_FORMAT__IMAGE_FORMAT_PNG: return "PNG";
	default: return "-";
	}
}

static const char *source_name(Gpix__V1__ImageSource s)
{
	switch (s) {
	case GPIX__V1__IMAGE_SOURCE__IMAGE_SOURCE_SAMPLE: return "sample";
	case GPIX__V1__IMAGE_SOURCE__IMAGE_SOURCE_UPLOAD: return "upload";
	case GPIX__V1__IMAGE_SOURCE__IMAGE_SOURCE_RESULT: return "result";
	default: return "-";
	}
}

static int add_images(gpx_table *t, const Gpix__V1__ListImagesResponse *resp)
{
	for (size_t i = 0; i < resp->n_images; i++) {
		const Gpix__V1__Image *im = resp->images[i];
		char size[32], bytes[32];

		snprintf(size, sizeof(size), "%dx%d", im->width, im->height);
		snprintf(bytes, sizeof(bytes), "%lld", (long long)im->size_bytes);
		const char *name = im->name[0] ? im->name : NULL;
		const char *row[] = {im->id, name,  format_name(im->format),
				     size,   bytes, source_name(im->source)};
		if (gpx_table_add(t, row) < 0)
			return -1;
	}
	return 0;
}

int gpx_cmd_images(gpx_cli_ctx *ctx)
{
	static const char *const header[] = {"ID", "NAME", "FORMAT", "SIZE", "BYTES", "SOURCE"};
	Gpix__V1__ListImagesRequest req = GPIX__V1__LIST_IMAGES_REQUEST__INIT;
	Gpix__V1__ListImagesResponse *resp = NULL;
	char *token = NULL;
	gpx_table t;
	int ret = -1, pages = 0;

	if (gpx_table_init(&t, 6, header) < 0)
		return fail(ctx, "out of memory");
	gpx_table_align_right(&t, 4);
	req.source = (Gpix__V1__ImageSource)ctx->args->source;
	req.page_size = ctx->args->page_size;
	do {
		req.page_token = token ? token : (char *)"";
		if (unary(ctx, SERVICE "ListImages", &req.base,
			  &gpix__v1__list_images_response__descriptor,
			  (ProtobufCMessage **)&resp) < 0)
			goto out;
		if (add_images(&t, resp) < 0) {
			fail(ctx, "out of memory");
			goto out;
		}
		if (resp->next_page_token[0] && token &&
		    strcmp(resp->next_page_token, token) == 0) {
			fail(ctx, "the server returned the same page token twice");
			goto out;
		}
		free(token);
		token = resp->next_page_token[0] ? strdup(resp->next_page_token) : NULL;
		if (resp->next_page_token[0] && !token) {
			fail(ctx, "out of memory");
			goto out;
		}
		protobuf_c_message_free_unpacked(&resp->base, NULL);
		resp = NULL;
		if (++pages >= MAX_PAGES && token) {
			fail(ctx, "more than %d pages of images: giving up", MAX_PAGES);
			goto out;
		}
	} while (token);

	if (t.nrows == 1)
		fprintf(ctx->err, "No images.\n");
	else if (print_table(ctx, &t) < 0)
		goto out;
	ret = 0;
out:
	if (resp)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	free(token);
	gpx_table_free(&t);
	return ret;
}

/* ---- filters ---- */

static const char *param_type(Gpix__V1__ParameterType t)
{
	switch (t) {
	case GPIX__V1__PARAMETER_TYPE__PARAMETER_TYPE_NUMBER: return "number";
	case GPIX__V1__PARAMETER_TYPE__PARAMETER_TYPE_INTEGER: return "integer";
	case GPIX__V1__PARAMETER_TYPE__PARAMETER_TYPE_BOOL: return "bool";
	case GPIX__V1__PARAMETER_TYPE__PARAMETER_TYPE_ENUM: return "enum";
	default: return "-";
	}
}

static void value_text(const Google__Protobuf__Value *v, char *out, size_t cap)
{
	if (!v) {
		snprintf(out, cap, "-");
		return;
	}
	switch (v->kind_case) {
	case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE:
		snprintf(out, cap, "%.15g", v->number_value);
		break;
	case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE:
		snprintf(out, cap, "%s", v->string_value);
		break;
	case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE:
		snprintf(out, cap, "%s", v->bool_value ? "true" : "false");
		break;
	default: snprintf(out, cap, "-"); break;
	}
}

/* "0.1..50, step 0.1" for numbers, "a|b|c" for enums. */
static void range_text(const Gpix__V1__FilterParameter *p, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = 0;
	if (p->type == GPIX__V1__PARAMETER_TYPE__PARAMETER_TYPE_ENUM) {
		for (size_t i = 0; i < p->n_options && n < cap; i++)
			n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "|" : "",
					      p->options[i]);
	} else if ((p->type == GPIX__V1__PARAMETER_TYPE__PARAMETER_TYPE_NUMBER ||
		    p->type == GPIX__V1__PARAMETER_TYPE__PARAMETER_TYPE_INTEGER) &&
		   (p->min != 0 || p->max != 0)) {
		n = (size_t)snprintf(out, cap, "%.15g..%.15g", p->min, p->max);
		if (p->step > 0 && n < cap)
			snprintf(out + n, cap - n, ", step %.15g", p->step);
	}
	if (!out[0])
		snprintf(out, cap, "-");
}

int gpx_cmd_filters(gpx_cli_ctx *ctx)
{
	static const char *const header[] = {"FILTER", "PARAMETER", "TYPE", "DEFAULT",
					     "RANGE/OPTIONS"};
	Gpix__V1__ListFiltersRequest req = GPIX__V1__LIST_FILTERS_REQUEST__INIT;
	Gpix__V1__ListFiltersResponse *resp;
	gpx_table t;
	int ret = -1;

	if (unary(ctx, SERVICE "ListFilters", &req.base,
		  &gpix__v1__list_filters_response__descriptor, (ProtobufCMessage **)&resp) < 0)
		return -1;
	if (gpx_table_init(&t, 5, header) < 0) {
		fail(ctx, "out of memory");
		goto fail_table;
	}
	for (size_t i = 0; i < resp->n_filters; i++) {
		const Gpix__V1__FilterDefinition *f = resp->filters[i];
		if (!f->n_parameters) {
			const char *row[] = {f->name, NULL, NULL, NULL, NULL};
			if (gpx_table_add(&t, row) < 0)
				goto oom;
		}
		for (size_t j = 0; j < f->n_parameters; j++) {
			const Gpix__V1__FilterParameter *p = f->parameters[j];
			char def[128], range[512];
			value_text(p->default_value, def, sizeof(def));
			range_text(p, range, sizeof(range));
			const char *row[] = {f->name, p->name, param_type(p->type), def, range};
			if (gpx_table_add(&t, row) < 0)
				goto oom;
		}
	}
	ret = print_table(ctx, &t);
	goto out;
oom:
	fail(ctx, "out of memory");
out:
	gpx_table_free(&t);
fail_table:
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return ret;
}

/* ---- backends ---- */

int gpx_cmd_backends(gpx_cli_ctx *ctx)
{
	static const char *const header[] = {"NAME", "AVAILABLE", "DEVICE", "DETAIL"};
	Gpix__V1__ListBackendsRequest req = GPIX__V1__LIST_BACKENDS_REQUEST__INIT;
	Gpix__V1__ListBackendsResponse *resp;
	gpx_table t;
	int ret = -1;

	if (unary(ctx, SERVICE "ListBackends", &req.base,
		  &gpix__v1__list_backends_response__descriptor, (ProtobufCMessage **)&resp) < 0)
		return -1;
	if (gpx_table_init(&t, 4, header) < 0) {
		fail(ctx, "out of memory");
		goto fail_table;
	}
	for (size_t i = 0; i < resp->n_backends; i++) {
		const Gpix__V1__Backend *b = resp->backends[i];
		const char *row[] = {b->name, b->available ? "yes" : "no",
				     b->device[0] ? b->device : NULL,
				     b->detail[0] ? b->detail : NULL};
		if (gpx_table_add(&t, row) < 0) {
			fail(ctx, "out of memory");
			goto out;
		}
	}
	if (print_table(ctx, &t) < 0)
		goto out;
	if (resp->default_backend[0])
		fprintf(ctx->out, "Default backend: %s\n", resp->default_backend);
	ret = 0;
out:
	gpx_table_free(&t);
fail_table:
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return ret;
}

/* ---- upload ---- */

struct upload {
	gpx_cli_ctx *ctx;
	FILE *f;
	const char *path;
	uint64_t size, sent;
	int first, eof;
	uint8_t *chunk;
	char sha256[65];
	Gpix__V1__UploadRequest req;
	char *image_id;
	gpx_progress bar;
};

/* Lowercase hex SHA-256 of the whole file; rewinds it. */
static int file_sha256(FILE *f, char out[65], uint8_t *buf, size_t cap)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *md_ctx = EVP_MD_CTX_new();
	size_t n;
	int ret = -1;

	if (!md_ctx)
		return -1;
	if (EVP_DigestInit_ex(md_ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while ((n = fread(buf, 1, cap, f)) > 0)
		if (EVP_DigestUpdate(md_ctx, buf, n) != 1)
			goto out;
	if (ferror(f) || EVP_DigestFinal_ex(md_ctx, md, &md_len) != 1 || md_len != 32)
		goto out;
	for (unsigned i = 0; i < md_len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	rewind(f);
	ret = 0;
out:
	EVP_MD_CTX_free(md_ctx);
	return ret;
}

/* image/jpeg or image/png from the first bytes, then from the name; "" when
 * neither says (the server then decides, or refuses). */
static const char *sniff_type(const uint8_t *p, size_t n, const char *path)
{
	const char *dot = strrchr(path, '.');

	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return "image/jpeg";
	if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0))
		return "image/jpeg";
	if (dot && strcasecmp(dot, ".png") == 0)
		return "image/png";
	return "";
}

static int upload_next(void *user, const ProtobufCMessage **msg, gpx_status *st)
{
	struct upload *u = user;
	size_t n;

	if (u->eof)
		return GPX_CC_CLOSE;
	n = fread(u->chunk, 1, GPX_CLI_UPLOAD_CHUNK, u->f);
	if (ferror(u->f))
		return gpx_status_set(st, GPX_INTERNAL, "cannot read %s: %s", u->path,
				      strerror(errno));
	if (n < GPX_CLI_UPLOAD_CHUNK)
		u->eof = 1;
	/* A file that ends on a chunk boundary has nothing left for a last
	 * message; an empty file still sends its metadata. */
	if (!n && !u->first)
		return GPX_CC_CLOSE;
	gpix__v1__upload_request__init(&u->req);
	u->req.chunk.data = u->chunk;
	u->req.chunk.len = n;
	if (u->first) {
		const char *base = strrchr(u->path, '/');
		u->req.filename = (char *)(base ? base + 1 : u->path);
		u->req.content_type = (char *)sniff_type(u->chunk, n, u->path);
		u->req.size_bytes = (int64_t)u->size;
		u->req.sha256 = u->sha256;
		u->first = 0;
	}
	u->sent += n;
	if (u->ctx->tty) {
		char detail[64];
		snprintf(detail, sizeof(detail), "%llu/%llu KiB",
			 (unsigned long long)(u->sent >> 10), (unsigned long long)(u->size >> 10));
		gpx_progress_draw(&u->bar, "Uploading",
				  u->size ? (int)(u->sent * 100 / u->size) : 100, detail);
	}
	*msg = &u->req.base;
	return GPX_CC_SEND;
}

static int upload_response(void *user, const ProtobufCMessage *msg, gpx_status *st)
{
	struct upload *u = user;
	const Gpix__V1__UploadResponse *r = (const Gpix__V1__UploadResponse *)msg;

	if (u->image_id)
		return gpx_status_set(st, GPX_INTERNAL, "the server answered the upload twice");
	u->image_id = strdup(r->image_id);
	if (!u->image_id)
		return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
	return 0;
}

int gpx_cmd_upload(gpx_cli_ctx *ctx)
{
	static const gpx_cc_stream_cbs cbs = {upload_next, upload_response};
	struct upload u;
	struct stat sb;
	gpx_cc_error e;
	int ret = -1;

	memset(&u, 0, sizeof(u));
	u.ctx = ctx;
	u.path = ctx->args->file;
	u.first = 1;
	gpx_progress_init(&u.bar, ctx->out);
	u.f = fopen(u.path, "rb");
	if (!u.f)
		return fail(ctx, "cannot open %s: %s", u.path, strerror(errno));
	if (fstat(fileno(u.f), &sb) < 0 || !S_ISREG(sb.st_mode)) {
		fail(ctx, "%s is not a regular file", u.path);
		goto fail_stat;
	}
	u.size = (uint64_t)sb.st_size;
	u.chunk = malloc(GPX_CLI_UPLOAD_CHUNK);
	if (!u.chunk) {
		fail(ctx, "out of memory");
		goto fail_stat;
	}
	if (file_sha256(u.f, u.sha256, u.chunk, GPX_CLI_UPLOAD_CHUNK) < 0) {
		fail(ctx, "cannot read %s: %s", u.path, errno ? strerror(errno) : "SHA-256 failed");
		goto fail_read;
	}
	if (gpx_cc_stream(ctx->cc, SERVICE "Upload", &gpix__v1__upload_response__descriptor, &cbs,
			  &u, 0, &e) < 0) {
		gpx_progress_end(&u.bar);
		gpx_cli_report(ctx, &e);
		goto fail_call;
	}
	gpx_progress_end(&u.bar);
	if (!u.image_id || !u.image_id[0]) {
		fail(ctx, "the server finished the upload without an image id");
		goto fail_call;
	}
	fprintf(ctx->out, "Uploaded image ID: %s\n", u.image_id);
	ret = 0;
fail_call:
	free(u.image_id);
fail_read:
	free(u.chunk);
fail_stat:
	fclose(u.f);
	return ret;
}

/* ---- process ---- */

struct process {
	gpx_cli_ctx *ctx;
	const Gpix__V1__ProcessRequest *req;
	int sent;
	char *result_id;
	Gpix__V1__Timing timing;
	int have_timing;
	gpx_progress bar;
};

static int process_next(void *user, const ProtobufCMessage **msg, gpx_status *st)
{
	struct process *p = user;

	if (p->sent)
		return GPX_CC_CLOSE;
	p->sent = 1;
	*msg = &p->req->base;
	return GPX_CC_SEND;
}

static int process_response(void *user, const ProtobufCMessage *msg, gpx_status *st)
{
	struct process *p = user;
	const Gpix__V1__ProcessResponse *r = (const Gpix__V1__ProcessResponse *)msg;
	char status[64];

	if (r->status[0])
		snprintf(status, sizeof(status), "%s", r->status);
	else
		snprintf(status, sizeof(status), "%d%% complete", r->percent);
	if (p->ctx->tty) {
		gpx_progress_draw(&p->bar, "Progress", r->percent, r->stage);
	} else {
		fprintf(p->ctx->out, "Progress %d%% - %s\n", r->percent, status);
		fflush(p->ctx->out);
	}
	if (r->result_image_id[0]) {
		free(p->result_id);
		p->result_id = strdup(r->result_image_id);
		if (!p->result_id)
			return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
	}
	if (r->timing) {
		p->timing = *r->timing;
		p->have_timing = 1;
	}
	return 0;
}

/* The format that matches OUT's extension, if the user did not say. */
static Gpix__V1__ImageFormat format_for(const char *path)
{
	const char *dot = path ? strrchr(path, '.') : NULL;

	if (dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0))
		return GPIX__V1__IMAGE_FORMAT__IMAGE_FORMAT_JPEG;
	if (dot && strcasecmp(dot, ".png") == 0)
		return GPIX__V1__IMAGE_FORMAT__IMAGE_FORMAT_PNG;
	return GPIX__V1__IMAGE_FORMAT__IMAGE_FORMAT_UNSPECIFIED;
}

/* Fetches /v1/images/{id}/content into path, through a temporary file so
 * that a failure leaves no partial image under the final name. */
static int save_image(gpx_cli_ctx *ctx, const char *id, const char *path)
{
	CURL *esc = curl_easy_init();
	char *escaped = esc ? curl_easy_escape(esc, id, 0) : NULL;
	char *url_path = NULL, *tmp = NULL;
	uint64_t bytes = 0;
	gpx_cc_error e;
	FILE *f = NULL;
	int ret = -1;
	size_t n;

	if (!escaped) {
		fail(ctx, "out of memory");
		goto out;
	}
	n = strlen(escaped) + 32;
	url_path = malloc(n);
	tmp = malloc(strlen(path) + 8);
	if (!url_path || !tmp) {
		fail(ctx, "out of memory");
		goto out;
	}
	snprintf(url_path, n, "/v1/images/%s/content", escaped);
	sprintf(tmp, "%s.part", path);
	f = fopen(tmp, "wb");
	if (!f) {
		fail(ctx, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (gpx_cc_download(ctx->cc, url_path, f, &bytes, &e) < 0) {
		gpx_cli_report(ctx, &e);
		goto fail_file;
	}
	if (fclose(f) != 0) {
		f = NULL;
		fail(ctx, "cannot write %s: %s", tmp, strerror(errno));
		goto fail_file;
	}
	f = NULL;
	if (rename(tmp, path) < 0) {
		fail(ctx, "cannot write %s: %s", path, strerror(errno));
		goto fail_file;
	}
	fprintf(ctx->out, "Saved %s (%llu bytes)\n", path, (unsigned long long)bytes);
	ret = 0;
	goto out;
fail_file:
	if (f)
		fclose(f);
	remove(tmp);
out:
	free(tmp);
	free(url_path);
	curl_free(escaped);
	if (esc)
		curl_easy_cleanup(esc);
	return ret;
}

int gpx_cmd_process(gpx_cli_ctx *ctx)
{
	static const gpx_cc_stream_cbs cbs = {process_next, process_response};
	const gpx_cli_args *a = ctx->args;
	Gpix__V1__ProcessRequest req = GPIX__V1__PROCESS_REQUEST__INIT;
	Gpix__V1__OutputOptions out = GPIX__V1__OUTPUT_OPTIONS__INIT;
	gpx_cli_pipeline pl;
	struct process p;
	gpx_cc_error e;
	gpx_status st;
	int ret = -1;

	if (gpx_cli_pipeline_parse(a->filters, a->sets, a->n_sets, &pl, &st) < 0)
		return fail(ctx, "process: %s", st.msg);
	req.image_id = (char *)a->image_id;
	req.n_filters = pl.n_steps;
	req.filters = pl.steps;
	req.backend = (char *)(a->backend ? a->backend : "");
	out.format = a->format ? (Gpix__V1__ImageFormat)a->format : format_for(a->output);
	out.quality = a->quality;
	if (out.format || out.quality)
		req.output = &out;

	memset(&p, 0, sizeof(p));
	p.ctx = ctx;
	p.req = &req;
	gpx_progress_init(&p.bar, ctx->out);
	if (gpx_cc_stream(ctx->cc, SERVICE "Process", &gpix__v1__process_response__descriptor, &cbs,
			  &p, 0, &e) < 0) {
		gpx_progress_end(&p.bar);
		gpx_cli_report(ctx, &e);
		goto out;
	}
	gpx_progress_end(&p.bar);
	if (!p.result_id) {
		fail(ctx, "the server finished without a result image id");
		goto out;
	}
	fprintf(ctx->out, "Result image ID: %s\n", p.result_id);
	if (p.have_timing)
		fprintf(ctx->out,
			"Timing: %.1f ms (queue %.1f, decode %.1f, filter %.1f, encode %.1f)\n",
			p.timing.total_ms, p.timing.queue_ms, p.timing.decode_ms,
			p.timing.filter_ms, p.timing.encode_ms);
	if (a->output && save_image(ctx, p.result_id, a->output) < 0)
		goto out;
	ret = 0;
out:
	free(p.result_id);
	gpx_cli_pipeline_free(&pl);
	return ret;
}

/* ---- tune ---- */

struct tune {
	gpx_cli_ctx *ctx;
	const gpx_cli_tune_params *params;
	const gpx_cli_pipeline *pl;
	size_t next;	 /* params sent so far */
	uint32_t newest; /* newest seq a preview reflected */
	Gpix__V1__TuneRequest req;
	int previews;
};

static int tune_next(void *user, const ProtobufCMessage **msg, gpx_status *st)
{
	struct tune *t = user;
	const gpx_cli_args *a = t->ctx->args;

	/* One request at a time: the server keeps only the newest, and every
	 * value should get its own preview. */
	if (t->next > 0 && t->newest < (uint32_t)t->next)
		return GPX_CC_WAIT;
	if (t->next == t->params->n)
		return GPX_CC_CLOSE;
	gpix__v1__tune_request__init(&t->req);
	t->req.image_id = (char *)a->image_id;
	if (t->next == 0) {
		t->req.n_filters = t->pl->n_steps;
		t->req.filters = t->pl->steps;
		t->req.preview_width = a->preview_width;
	}
	t->req.parameter = t->params->items[t->next].parameter;
	t->req.value = t->params->items[t->next].value;
	t->req.seq = (uint32_t)++t->next;
	*msg = &t->req.base;
	return GPX_CC_SEND;
}

static const char *ext_for(const char *content_type)
{
	if (strcmp(content_type, "image/png") == 0)
		return "png";
	if (strcmp(content_type, "image/jpeg") == 0)
		return "jpg";
	return "img";
}

static int tune_response(void *user, const ProtobufCMessage *msg, gpx_status *st)
{
	struct tune *t = user;
	const Gpix__V1__TuneResponse *r = (const Gpix__V1__TuneResponse *)msg;
	const gpx_cli_args *a = t->ctx->args;
	const gpx_cli_tune_param *p = NULL;
	char label[160] = "?", path[4096] = "";

	if (r->seq >= 1 && r->seq <= t->params->n) {
		p = &t->params->items[r->seq - 1];
		snprintf(label, sizeof(label), "%s=%.15g", p->parameter, p->value);
	}
	if (r->seq > t->newest)
		t->newest = r->seq;
	t->previews++;
	if (a->output) {
		FILE *f;
		if (p)
			snprintf(path, sizeof(path), "%s/tune-%u-%s-%.15g.%s", a->output, r->seq,
				 p->parameter, p->value, ext_for(r->content_type));
		else
			snprintf(path, sizeof(path), "%s/tune-%u.%s", a->output, r->seq,
				 ext_for(r->content_type));
		f = fopen(path, "wb");
		if (!f)
			return gpx_status_set(st, GPX_INTERNAL, "cannot write %s: %s", path,
					      strerror(errno));
		if (fwrite(r->preview_chunk.data, 1, r->preview_chunk.len, f) !=
			    r->preview_chunk.len ||
		    fclose(f) != 0) {
			remove(path);
			return gpx_status_set(st, GPX_INTERNAL, "cannot write %s: %s", path,
					      strerror(errno));
		}
	}
	fprintf(t->ctx->out, "Preview %u: %s -> %dx%d %s, %zu bytes", r->seq, label, r->width,
		r->height, r->content_type[0] ? r->content_type : "?", r->preview_chunk.len);
	if (r->timing)
		fprintf(t->ctx->out, ", %.1f ms", r->timing->total_ms);
	if (path[0])
		fprintf(t->ctx->out, " -> %s", path);
	fputc('\n', t->ctx->out);
	fflush(t->ctx->out);
	return 0;
}

int gpx_cmd_tune(gpx_cli_ctx *ctx)
{
	static const gpx_cc_stream_cbs cbs = {tune_next, tune_response};
	const gpx_cli_args *a = ctx->args;
	gpx_cli_tune_params params;
	gpx_cli_pipeline pl;
	struct tune t;
	gpx_cc_error e;
	gpx_status st;
	int ret = -1;

	if (gpx_cli_tune_params_parse(a->params, &params, &st) < 0)
		return fail(ctx, "tune: %s", st.msg);
	if (gpx_cli_pipeline_parse(a->filters, a->sets, a->n_sets, &pl, &st) < 0) {
		fail(ctx, "tune: %s", st.msg);
		goto fail_pipeline;
	}
	if (a->output && mkdir(a->output, 0777) < 0 && errno != EEXIST) {
		fail(ctx, "cannot create directory %s: %s", a->output, strerror(errno));
		goto fail_dir;
	}
	memset(&t, 0, sizeof(t));
	t.ctx = ctx;
	t.params = &params;
	t.pl = &pl;
	if (gpx_cc_stream(ctx->cc, SERVICE "Tune", &gpix__v1__tune_response__descriptor, &cbs, &t,
			  GPX_CC_BIDI, &e) < 0) {
		gpx_cli_report(ctx, &e);
		goto fail_dir;
	}
	ret = 0;
fail_dir:
	gpx_cli_pipeline_free(&pl);
fail_pipeline:
	gpx_cli_tune_params_free(&params);
	return ret;
}
