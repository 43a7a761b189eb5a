/* libFuzzer target for the JSON codec (server/rpc/json.c).
 *
 * The first byte picks a message type; the rest is JSON for it, or (when
 * the byte's top bit is set) a query string "a.b=v&c=w" applied with
 * gpx_json_set_field_from_string to an empty object. Whatever decodes must
 * encode, decode again and encode to the same text: the codec is stable on
 * its own output. Build with -fsanitize=fuzzer, or with main.c for gcc. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/duration.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"
#include "gpix/v1/image_service.pb-c.h"
#include "json_test.pb-c.h"
#include "server/rpc/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *const descs[] = {
	&gpxtest__all__descriptor,
	&gpix__v1__process_image_request__descriptor,
	&gpix__v1__filter_step__descriptor,
	&gpix__v1__filter_parameter__descriptor,
	&gpix__v1__image__descriptor,
	&gpix__v1__tune_request__descriptor,
	&gpix__v1__list_images_request__descriptor,
	&google__protobuf__value__descriptor,
	&google__protobuf__struct__descriptor,
	&google__protobuf__timestamp__descriptor,
	&google__protobuf__duration__descriptor,
	&google__protobuf__uint64_value__descriptor,
	&google__protobuf__float_value__descriptor,
	&google__protobuf__bytes_value__descriptor,
};
#define NDESCS (sizeof(descs) / sizeof(descs[0]))

static void check_stable(const ProtobufCMessage *m, const gpx_json_opts *opts)
{
	gpx_status st;
	gpx_buf a, b;
	ProtobufCMessage *m2 = NULL;
	gpx_buf_init(&a, 0);
	gpx_buf_init(&b, 0);
	if (gpx_json_encode(m, &a, opts, &st) < 0) {
		fprintf(stderr, "encode of a decoded message failed: %s\n", st.msg);
		abort();
	}
	if (gpx_json_decode(m->descriptor, (const char *)a.data, a.len, &m2, &st) < 0) {
		fprintf(stderr, "decode of own output failed: %s\n%s\n", st.msg, (char *)a.data);
		abort();
	}
	if (gpx_json_encode(m2, &b, opts, &st) < 0 || a.len != b.len ||
	    memcmp(a.data, b.data, a.len)) {
		fprintf(stderr, "unstable:\n%s\n%s\n", (char *)a.data,
			b.data ? (char *)b.data : "");
		abort();
	}
	protobuf_c_message_free_unpacked(m2, NULL);
	gpx_buf_free(&a);
	gpx_buf_free(&b);
}

static void run_query(const ProtobufCMessageDescriptor *d, const char *q, size_t n)
{
	gpx_status st;
	cJSON *obj = cJSON_CreateObject();
	char *s = malloc(n + 1);
	if (!obj || !s)
		abort();
	memcpy(s, q, n);
	s[n] = 0;
	for (char *save = NULL, *kv = strtok_r(s, "&", &save); kv;
	     kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (eq)
			*eq++ = 0;
		if (gpx_json_set_field_from_string(obj, d, kv, eq ? eq : "", &st) < 0)
			break;
	}
	ProtobufCMessage *m = NULL;
	if (gpx_json_from_cjson(d, obj, &m, &st) == 0) {
		check_stable(m, NULL);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	free(s);
	cJSON_Delete(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const ProtobufCMessageDescriptor *d = descs[(data[0] & 0x7f) % NDESCS];
	const char *json = (const char *)data + 1;
	size_t n = size - 1;
	if (data[0] & 0x80) {
		run_query(d, json, n);
		return 0;
	}
	gpx_status st;
	ProtobufCMessage *m = NULL;
	if (gpx_json_decode(d, json, n, &m, &st) < 0) {
		if (m || st.code == GPX_OK) {
			fprintf(stderr, "failed decode left a message or no status\n");
			abort();
		}
		return 0;
	}
	gpx_json_opts opts = {.emit_defaults = data[0] & 1,
			      .use_proto_names = (data[0] >> 1) & 1,
			      .enums_as_ints = (data[0] >> 2) & 1};
	check_stable(m, &opts);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}
