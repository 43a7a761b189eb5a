/* ListImages, GetImage, DeleteImage, ListFilters, ListBackends, and the
 * plain-HTTP routes POST /v1/images and GET|HEAD /v1/images/{id}/content. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/url.h"
#include "gpix/v1/image_service.pb-c.h"
#include "server/handlers/engine.h"
#include "server/handlers/handlers.h"
#include "server/handlers/multipart.h"
#include "server/rpc/connect.h"
#include "server/rpc/json.h"
#include "server/rpc/router.h"

typedef struct image_msg {
	Gpix__V1__Image img;
	Google__Protobuf__Timestamp ts;
	char url[GPX_STORE_ID_MAX + 32];
} image_msg;

static void image_from_meta(image_msg *m, gpx_image_meta *meta)
{
	gpix__v1__image__init(&m->img);
	google__protobuf__timestamp__init(&m->ts);
	m->img.id = meta->id;
	m->img.name = meta->name;
	m->img.format = (Gpix__V1__ImageFormat)meta->format;
	m->img.width = (int32_t)meta->width;
	m->img.height = (int32_t)meta->height;
	m->img.size_bytes = (int64_t)meta->size_bytes;
	m->img.sha256 = meta->sha256;
	m->img.source = (Gpix__V1__ImageSource)meta->source;
	m->ts.seconds = (int64_t)meta->created_at;
	m->ts.nanos = (int32_t)((meta->created_at - (double)m->ts.seconds) * 1e9);
	m->img.created_at = &m->ts;
	snprintf(m->url, sizeof(m->url), "/v1/images/%s/content", meta->id);
	m->img.content_url = m->url;
}

static int check_id(const char *id, gpx_status *st)
{
	if (!id || !*id)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "image_id is required");
	if (!gpx_store_id_valid(id))
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "image_id \"%.80s\" is malformed",
				      id);
	return 0;
}

static void list_images(gpx_call *c)
{
	const Gpix__V1__ListImagesRequest *req = (const Gpix__V1__ListImagesRequest *)c->request;
	gpx_status st = {0};
	if (req->source < 0 || req->source > 3) {
		gpx_call_fail(c, GPX_INVALID_ARGUMENT, "unknown source %d", req->source);
		return;
	}
	gpx_image_meta *metas = NULL;
	size_t n = 0;
	char next[GPX_STORE_TOKEN_MAX];
	if (gpx_store_list(c->srv->engine->store, (int)req->source, req->page_size, req->page_token,
			   &metas, &n, next, sizeof(next), &st) < 0) {
		gpx_call_finish(c, &st);
		return;
	}
	image_msg *msgs = calloc(n ? n : 1, sizeof(*msgs));
	Gpix__V1__Image **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
	if (!msgs || !ptrs) {
		free(msgs);
		free(ptrs);
		gpx_store_list_free(metas);
		gpx_call_fail(c, GPX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		image_from_meta(&msgs[i], &metas[i]);
		ptrs[i] = &msgs[i].img;
	}
	Gpix__V1__ListImagesResponse r = GPIX__V1__LIST_IMAGES_RESPONSE__INIT;
	r.n_images = n;
	r.images = ptrs;
	r.next_page_token = next;
	gpx_call_reply(c, &r.base);
	free(ptrs);
	free(msgs);
	gpx_store_list_free(metas);
}

static void get_image(gpx_call *c)
{
	const Gpix__V1__GetImageRequest *req = (const Gpix__V1__GetImageRequest *)c->request;
	gpx_status st = {0};
	gpx_image_meta meta;
	if (check_id(req->image_id, &st) < 0 ||
	    gpx_store_get(c->srv->engine->store, req->image_id, &meta, &st) < 0) {
		gpx_call_finish(c, &st);
		return;
	}
	image_msg m;
	image_from_meta(&m, &meta);
	gpx_call_reply(c, &m.img.base);
}

static void delete_image(gpx_call *c)
{
	const Gpix__V1__DeleteImageRequest *req = (const Gpix__V1__DeleteImageRequest *)c->request;
	gpx_status st = {0};
	if (check_id(req->image_id, &st) < 0 ||
	    gpx_store_delete(c->srv->engine->store, req->image_id, &st) < 0) {
		gpx_call_finish(c, &st);
		return;
	}
	gpx_log_field f[] = {{"request_id", c->request_id}, {NULL, NULL}};
	gpx_logf(GPX_LOG_INFO, f, "image %s deleted", req->image_id);
	Gpix__V1__DeleteImageResponse r = GPIX__V1__DELETE_IMAGE_RESPONSE__INIT;
	gpx_call_reply(c, &r.base);
}

/* ------------------------------------------------------------ filters, backends */

static Google__Protobuf__Value *default_value(const gpx_param_def *p, Google__Protobuf__Value *v)
{
	google__protobuf__value__init(v);
	switch (p->type) {
	case GPX_PARAM_BOOL:
		v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
		v->bool_value = p->def_bool;
		break;
	case GPX_PARAM_ENUM:
		v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
		v->string_value = (char *)(p->def_enum ? p->def_enum : "");
		break;
	default:
		v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
		v->number_value = p->def_num;
		break;
	}
	return v;
}

static void list_filters(gpx_call *c)
{
	/* The current plugin generation: built-ins plus every plugin's filters. */
	gpx_plugin_gen *gen = gpx_plugins_acquire(c->srv->engine->plugins);
	const gpx_filter_registry *reg = gpx_plugin_gen_filters(gen);
	size_t n = gpx_filter_registry_count(reg), nbe = gpx_plugin_gen_nbackends(gen);
	Gpix__V1__FilterDefinition *defs = calloc(n ? n : 1, sizeof(*defs));
	Gpix__V1__FilterDefinition **dptr = calloc(n ? n : 1, sizeof(*dptr));
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += gpx_filter_registry_at(reg, i)->nparams;
	Gpix__V1__FilterParameter *params = calloc(total ? total : 1, sizeof(*params));
	Gpix__V1__FilterParameter **pptr = calloc(total ? total : 1, sizeof(*pptr));
	Google__Protobuf__Value *vals = calloc(total ? total : 1, sizeof(*vals));
	char **bptr = calloc(n * nbe + 1, sizeof(*bptr));
	if (!defs || !dptr || !params || !pptr || !vals || !bptr) {
		gpx_call_fail(c, GPX_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	size_t k = 0, nb = 0;
	for (size_t i = 0; i < n; i++) {
		const gpx_filter_def *d = gpx_filter_registry_at(reg, i);
		Gpix__V1__FilterDefinition *fd = &defs[i];
		gpix__v1__filter_definition__init(fd);
		fd->name = (char *)d->name;
		fd->display_name = (char *)d->display_name;
		fd->description = (char *)d->description;
		fd->plugin = (char *)(d->plugin ? d->plugin : "");
		fd->version = (char *)(d->version ? d->version : "");
		fd->parameters = &pptr[k];
		for (size_t j = 0; j < d->nparams; j++, k++) {
			const gpx_param_def *p = &d->params[j];
			Gpix__V1__FilterParameter *fp = &params[k];
			gpix__v1__filter_parameter__init(fp);
			fp->name = (char *)p->name;
			fp->display_name = (char *)p->display_name;
			fp->description = (char *)p->description;
			fp->type = (Gpix__V1__ParameterType)p->type;
			fp->default_value = default_value(p, &vals[k]);
			if (p->type == GPX_PARAM_NUMBER || p->type == GPX_PARAM_INTEGER) {
				fp->min = p->min;
				fp->max = p->max;
				fp->step = p->step;
			}
			if (p->type == GPX_PARAM_ENUM) {
				fp->n_options = gpx_param_noptions(p);
				fp->options = (char **)p->options;
			}
			pptr[k] = fp;
			fd->n_parameters++;
		}
		/* The CPU, plus every available plugin backend that runs it. */
		fd->backends = &bptr[nb];
		for (size_t b = 0; b < nbe; b++) {
			const gpx_backend *be = gpx_plugin_gen_backend(gen, b);
			if ((be->ops ? be->info.available : d->cpu != NULL) &&
			    gpx_backend_has_filter(be, d->name)) {
				bptr[nb++] = (char *)be->name;
				fd->n_backends++;
			}
		}
		dptr[i] = fd;
	}
	Gpix__V1__ListFiltersResponse r = GPIX__V1__LIST_FILTERS_RESPONSE__INIT;
	r.n_filters = n;
	r.filters = dptr;
	gpx_call_reply(c, &r.base);
out:
	free(bptr);
	free(vals);
	free(pptr);
	free(params);
	free(dptr);
	free(defs);
	gpx_plugin_gen_release(gen);
}

static void list_backends(gpx_call *c)
{
	gpx_engine *e = c->srv->engine;
	gpx_plugin_gen *gen = gpx_plugins_acquire(e->plugins);
	size_t nbe = gpx_plugin_gen_nbackends(gen);
	gpx_queue_stats qs;
	gpx_queue_get_stats(e->queue, &qs);
	char cpu_detail[160], cuda_detail[768];
	snprintf(cpu_detail, sizeof(cpu_detail), "%d worker threads, queue depth %d", qs.workers,
		 qs.capacity);
	/* Every backend of the generation (the CPU first), and cuda as
	 * unavailable with the reason when no plugin provides it. */
	Gpix__V1__Backend *msgs = calloc(nbe + 1, sizeof(*msgs));
	Gpix__V1__Backend **list = calloc(nbe + 1, sizeof(*list));
	if (!msgs || !list) {
		gpx_call_fail(c, GPX_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	size_t n = 0;
	int auto_gpu = 0;
	for (size_t i = 0; i < nbe; i++, n++) {
		const gpx_backend *b = gpx_plugin_gen_backend(gen, i);
		Gpix__V1__Backend *m = &msgs[n];
		gpix__v1__backend__init(m);
		m->name = (char *)b->name;
		m->available = b->info.available;
		m->device = (char *)b->info.device;
		m->detail = b->ops ? (char *)b->info.detail : cpu_detail;
		m->plugin = (char *)b->plugin;
		m->version = (char *)b->version;
		list[n] = m;
		auto_gpu |= b->ops && b->info.available && b->info.auto_min_pixels;
	}
	if (!gpx_plugin_gen_find_backend(gen, "cuda")) {
		gpx_engine_cuda_missing(c->srv, gen, cuda_detail, sizeof(cuda_detail));
		gpix__v1__backend__init(&msgs[n]);
		msgs[n].name = (char *)"cuda";
		msgs[n].device = (char *)"";
		msgs[n].detail = cuda_detail;
		msgs[n].plugin = (char *)"";
		msgs[n].version = (char *)"";
		list[n] = &msgs[n];
		n++;
	}
	Gpix__V1__ListBackendsResponse r = GPIX__V1__LIST_BACKENDS_RESPONSE__INIT;
	r.n_backends = n;
	r.backends = list;
	/* "auto" when it may pick a device backend by image size. */
	const char *def = c->srv->cfg.backend;
	if (!strcmp(def, "auto"))
		def = auto_gpu ? "auto" : "cpu";
	r.default_backend = (char *)def;
	gpx_call_reply(c, &r.base);
out:
	free(list);
	free(msgs);
	gpx_plugin_gen_release(gen);
}

/* ------------------------------------------------------------ raw upload */

typedef struct upload_job {
	gpx_work work;
	gpx_exchange *ex;
	gpx_buf body;
	const uint8_t *data;
	size_t len;
	char name[GPX_STORE_NAME_MAX];
	gpx_image_meta meta;
	int gone;
} upload_job;

static void upload_free(upload_job *u)
{
	gpx_buf_free(&u->body);
	free(u);
}

static void upload_free_arg(void *arg)
{
	upload_free(arg);
}

static void reply_plain_error(gpx_exchange *ex, const gpx_status *st, int queue_full)
{
	gpx_ex_reply_plain_error(ex, st, queue_full);
}

static int upload_run(gpx_work *w, gpx_worker_ctx *wc, gpx_status *st)
{
	upload_job *u = (upload_job *)w;
	(void)wc;
	return gpx_store_put(w->srv->engine->store, u->data, u->len, u->name, GPX_SRC_UPLOAD,
			     &u->meta, st);
}

static void upload_gone(gpx_exchange *ex)
{
	upload_job *u = ex->route_data;
	u->gone = 1;
	u->ex = NULL;
	/* The store write is atomic: if it already ran the image stays, as
	 * any completed upload does; a queued one is dropped. */
	gpx_work_cancel(&u->work);
}

static void upload_complete(gpx_work *w, const gpx_status *st)
{
	upload_job *u = (upload_job *)w;
	gpx_exchange *ex = u->ex;
	if (!u->gone && ex) {
		ex->on_gone = NULL;
		ex->route_data = NULL;
		if (st->code != GPX_OK) {
			reply_plain_error(ex, st, 0);
		} else {
			gpx_log_field f[] = {{"request_id", ex->request_id}, {NULL, NULL}};
			gpx_logf(GPX_LOG_INFO, f, "Upload completed: %s (%s, %llu bytes)",
				 u->meta.id, u->meta.name, (unsigned long long)u->meta.size_bytes);
			image_msg m;
			image_from_meta(&m, &u->meta);
			Gpix__V1__UploadResponse r = GPIX__V1__UPLOAD_RESPONSE__INIT;
			r.image_id = u->meta.id;
			r.image = &m.img;
			gpx_buf json;
			gpx_buf_init(&json, 0);
			gpx_json_opts o = {.emit_defaults = 1};
			gpx_status est;
			gpx_json_encode(&r.base, &json, &o, &est);
			char loc[GPX_STORE_ID_MAX + 16];
			snprintf(loc, sizeof(loc), "/v1/images/%s", u->meta.id);
			gpx_header h = {"location", loc};
			ex->code = GPX_OK;
			gpx_ex_reply(ex, 201, "application/json", json.data, json.len, &h, 1);
			gpx_buf_free(&json);
		}
	}
	upload_free(u);
}

static void upload_body_done(gpx_exchange *ex, gpx_buf *body, void *arg)
{
	upload_job *u = arg;
	gpx_status st = {0};
	u->body = *body;
	gpx_buf_init(body, 0);
	u->data = u->body.data;
	u->len = u->body.len;
	char mt[128];
	gpx_media_type(gpx_ex_header(ex, "content-type"), mt, sizeof(mt));
	if (strcmp(mt, "multipart/form-data") == 0) {
		char boundary[80];
		gpx_part part;
		if (gpx_multipart_boundary(gpx_ex_header(ex, "content-type"), boundary,
					   sizeof(boundary)) < 0) {
			gpx_status_set(&st, GPX_INVALID_ARGUMENT,
				       "multipart body without a boundary");
			goto fail;
		}
		if (gpx_multipart_find(u->body.data, u->body.len, boundary, "file", &part, &st) < 0)
			goto fail;
		u->data = part.data;
		u->len = part.len;
		if (!u->name[0])
			snprintf(u->name, sizeof(u->name), "%s", part.filename);
	}
	if (u->len == 0) {
		gpx_status_set(&st, GPX_INVALID_ARGUMENT, "empty upload: send the image bytes");
		goto fail;
	}
	atomic_fetch_add(&ex->srv->metrics.upload_bytes, u->len);
	u->ex = ex;
	u->work.run = upload_run;
	u->work.complete = upload_complete;
	if (gpx_work_submit(&u->work, ex->srv, ex->loop, 0, &st) < 0) {
		reply_plain_error(ex, &st, st.code == GPX_RESOURCE_EXHAUSTED);
		upload_free(u);
		return;
	}
	ex->route_data = u;
	ex->on_gone = upload_gone;
	return;
fail:
	reply_plain_error(ex, &st, 0);
	upload_free(u);
}

static int route_upload(gpx_exchange *ex)
{
	char mt[128];
	gpx_media_type(gpx_ex_header(ex, "content-type"), mt, sizeof(mt));
	ex->protocol = "http";
	snprintf(ex->rpc, sizeof(ex->rpc), "raw/upload");
	if (strcmp(mt, "image/jpeg") && strcmp(mt, "image/jpg") && strcmp(mt, "image/png") &&
	    strcmp(mt, "application/octet-stream") && strcmp(mt, "multipart/form-data")) {
		gpx_status st;
		gpx_status_set(
			&st, GPX_INVALID_ARGUMENT,
			"POST /v1/images takes image/jpeg, image/png or multipart/form-data, "
			"not \"%.60s\"",
			mt);
		ex->ops->discard_input(ex);
		gpx_buf b;
		gpx_buf_init(&b, 0);
		connect_error_json(&b, &st);
		ex->code = GPX_INVALID_ARGUMENT;
		gpx_ex_reply(ex, 415, "application/json", b.data, b.len, NULL, 0);
		gpx_buf_free(&b);
		return 1;
	}
	upload_job *u = calloc(1, sizeof(*u));
	if (!u) {
		ex->ops->discard_input(ex);
		gpx_ex_reply_error(ex, 503, GPX_RESOURCE_EXHAUSTED, "out of memory");
		return 1;
	}
	gpx_buf_init(&u->body, 0);
	char *name = gpx_query_get(ex->query, "name");
	if (name)
		snprintf(u->name, sizeof(u->name), "%s", name);
	free(name);
	gpx_log_field f[] = {{"request_id", ex->request_id}, {NULL, NULL}};
	gpx_logf(GPX_LOG_INFO, f, "Upload started");
	gpx_ex_collect_body(ex, (size_t)ex->srv->cfg.max_upload_bytes, 413, upload_body_done,
			    upload_free_arg, u);
	return 1;
}

/* ------------------------------------------------------------ content */

static int route_content(gpx_exchange *ex, const char *id)
{
	ex->protocol = "http";
	snprintf(ex->rpc, sizeof(ex->rpc), "raw/content");
	ex->ops->discard_input(ex);
	gpx_status st = {0};
	gpx_image_meta meta;
	gpx_buf data;
	gpx_buf_init(&data, 0);
	/* HEAD reads the bytes too: the transports drop the body but keep its
	 * length. */
	if (check_id(id, &st) < 0 ||
	    gpx_store_read(ex->srv->engine->store, id, &data, &meta, &st) < 0) {
		reply_plain_error(ex, &st, 0);
		gpx_buf_free(&data);
		return 1;
	}
	char etag[72];
	snprintf(etag, sizeof(etag), "\"%s\"", meta.sha256);
	const char *inm = gpx_ex_header(ex, "if-none-match");
	gpx_header h[] = {
		{"etag", etag},
		{"cache-control", "public, max-age=86400"},
		{"access-control-expose-headers", "etag"},
	};
	ex->code = GPX_OK;
	if (inm && (strstr(inm, etag) || strcmp(inm, "*") == 0)) {
		ex->ops->respond(ex, 304, h, 3);
		ex->ops->end(ex, NULL, 0);
	} else {
		gpx_ex_reply(ex, 200, gpx_codec_mime(meta.format), data.data, data.len, h, 3);
	}
	gpx_buf_free(&data);
	return 1;
}

/* POST /v1/images and GET|HEAD /v1/images/{id}/content */
static int route_images(gpx_exchange *ex)
{
	if (strcmp(ex->path, "/v1/images") == 0 && strcmp(ex->method, "POST") == 0)
		return route_upload(ex);
	static const char prefix[] = "/v1/images/";
	static const char suffix[] = "/content";
	size_t pl = sizeof(prefix) - 1, sl = sizeof(suffix) - 1, n = strlen(ex->path);
	if (n <= pl + sl || strncmp(ex->path, prefix, pl) != 0 ||
	    strcmp(ex->path + n - sl, suffix) != 0)
		return 0;
	if (strcmp(ex->method, "GET") && strcmp(ex->method, "HEAD")) {
		ex->ops->discard_input(ex);
		gpx_header allow = {"allow", "GET, HEAD"};
		const char *b = "{\"code\":\"unimplemented\",\"message\":\"use GET or HEAD\"}";
		gpx_ex_reply(ex, 405, "application/json", b, strlen(b), &allow, 1);
		return 1;
	}
	char *id = gpx_url_decode(ex->path + pl, n - pl - sl, 0);
	int rc = route_content(ex, id ? id : "");
	free(id);
	return rc;
}

void gpx_handlers_register_images(gpx_server *srv)
{
	gpx_methods_set_handler(&srv->methods, "gpix.v1.ImageService/ListImages", list_images);
	gpx_methods_set_handler(&srv->methods, "gpix.v1.ImageService/GetImage", get_image);
	gpx_methods_set_handler(&srv->methods, "gpix.v1.ImageService/DeleteImage", delete_image);
	gpx_methods_set_handler(&srv->methods, "gpix.v1.ImageService/ListFilters", list_filters);
	gpx_methods_set_handler(&srv->methods, "gpix.v1.ImageService/ListBackends", list_backends);
	gpx_router_add_raw(route_images);
}
