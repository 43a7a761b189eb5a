#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"
#include "gpix/v1/image_service.pb-c.h"
#include "json_test.pb-c.h"
#include "server/rpc/json.h"

/* ---- helpers ------------------------------------------------------------ */

static gpx_status st;

static ProtobufCMessage *dec_ok(const ProtobufCMessageDescriptor *desc, const char *json)
{
	ProtobufCMessage *m = (ProtobufCMessage *)1;
	gpx_status_clear(&st);
	int rc = gpx_json_decode(desc, json, strlen(json), &m, &st);
	ck_assert_msg(rc == 0, "decode of %s failed: %s", json, st.msg);
	ck_assert_ptr_nonnull(m);
	return m;
}

/* Decoding must fail with INVALID_ARGUMENT; returns the message. */
static const char *dec_err(const ProtobufCMessageDescriptor *desc, const char *json)
{
	ProtobufCMessage *m = (ProtobufCMessage *)1;
	gpx_status_clear(&st);
	int rc = gpx_json_decode(desc, json, strlen(json), &m, &st);
	ck_assert_msg(rc < 0, "decode of %s succeeded", json);
	ck_assert_ptr_null(m);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	return st.msg;
}

/* Encodes into a static buffer (valid until the next call). */
static const char *enc_opts(const void *msg, const gpx_json_opts *o)
{
	static gpx_buf b;
	gpx_buf_free(&b);
	gpx_buf_init(&b, 0);
	gpx_status_clear(&st);
	int rc = gpx_json_encode(msg, &b, o, &st);
	ck_assert_msg(rc == 0, "encode failed: %s", st.msg);
	return b.data ? (const char *)b.data : "";
}

static const char *enc(const void *msg)
{
	return enc_opts(msg, NULL);
}

/* Decodes json, checks that it encodes as want, and that want decodes and
 * encodes to itself. */
static void roundtrip(const ProtobufCMessageDescriptor *desc, const char *json, const char *want)
{
	ProtobufCMessage *m = dec_ok(desc, json);
	ck_assert_str_eq(enc(m), want);
	protobuf_c_message_free_unpacked(m, NULL);
	m = dec_ok(desc, want);
	ck_assert_str_eq(enc(m), want);
	protobuf_c_message_free_unpacked(m, NULL);
}

#define DEC(type, json) ((type *)dec_ok(&type##_descriptor_, json))
#define FREE(m) protobuf_c_message_free_unpacked(&(m)->base, NULL)

/* protobuf-c names descriptors in lower case; map the C type names used
 * above to them. */
#define Gpix__V1__ProcessImageRequest_descriptor_ gpix__v1__process_image_request__descriptor
#define Gpix__V1__ListImagesRequest_descriptor_ gpix__v1__list_images_request__descriptor
#define Gpix__V1__GetVersionResponse_descriptor_ gpix__v1__get_version_response__descriptor
#define Gpix__V1__FilterParameter_descriptor_ gpix__v1__filter_parameter__descriptor
#define Gpix__V1__FilterDefinition_descriptor_ gpix__v1__filter_definition__descriptor
#define Gpix__V1__FilterStep_descriptor_ gpix__v1__filter_step__descriptor
#define Gpix__V1__Image_descriptor_ gpix__v1__image__descriptor
#define Gpix__V1__UploadResponse_descriptor_ gpix__v1__upload_response__descriptor
#define Gpix__V1__TuneRequest_descriptor_ gpix__v1__tune_request__descriptor
#define Gpix__V1__Timing_descriptor_ gpix__v1__timing__descriptor
#define Gpxtest__All_descriptor_ gpxtest__all__descriptor
#define Google__Protobuf__Int64Value_descriptor_ google__protobuf__int64_value__descriptor
#define Google__Protobuf__UInt64Value_descriptor_ google__protobuf__uint64_value__descriptor
#define Google__Protobuf__FloatValue_descriptor_ google__protobuf__float_value__descriptor
#define Google__Protobuf__BytesValue_descriptor_ google__protobuf__bytes_value__descriptor
#define Google__Protobuf__Value_descriptor_ google__protobuf__value__descriptor

#define ALL (&gpxtest__all__descriptor)
#define LIST_IMAGES (&gpix__v1__list_images_request__descriptor)
#define PROCESS_IMAGE (&gpix__v1__process_image_request__descriptor)

/* ---- every type --------------------------------------------------------- */

static const char all_in[] =
	"{\"fInt32\":-5,\"fInt64\":\"-9223372036854775808\",\"fUint32\":4294967295,"
	"\"fUint64\":\"18446744073709551615\",\"fSint32\":-2147483648,"
	"\"fSint64\":\"9223372036854775807\",\"fFixed32\":7,\"fFixed64\":\"8\","
	"\"fSfixed32\":-9,\"fSfixed64\":\"-10\",\"fFloat\":1.5,\"fDouble\":0.1,\"fBool\":true,"
	"\"fString\":\"h\\u00e9llo \\\"q\\\"\\n\\ud83d\\ude00\",\"fBytes\":\"AAEC/w==\","
	"\"fEnum\":\"COLOR_GREEN\",\"legacy\":{\"optInt32\":0,\"optString\":\"\",\"reqBool\":false},"
	"\"rInt64\":[\"1\",-2],\"rEnum\":[\"COLOR_RED\",7],\"rBytes\":[\"\",\"AA==\"],"
	"\"rFloat\":[-0.25,\"NaN\",\"Infinity\",\"-Infinity\"],\"rBool\":[true,false],"
	"\"rString\":[\"a\",\"\"],\"mInt32\":{\"-1\":\"neg\",\"2\":\"two\"},"
	"\"mBool\":{\"true\":\"1\",\"false\":0},"
	"\"mMsg\":{\"18446744073709551615\":{\"fInt32\":1}},\"mEnum\":{\"k\":\"COLOR_RED\"},"
	"\"dur\":\"-1.5s\",\"ts\":\"2026-11-23T10:24:00.123Z\",\"wInt64\":\"0\","
	"\"wUint64\":\"18446744073709551615\",\"wFloat\":\"NaN\",\"wBytes\":\"_-8\","
	"\"wBool\":false,\"wString\":\"\",\"wInt32\":0,\"wUint32\":5,\"wDouble\":-0,"
	"\"st\":{\"a\":[1,\"x\",null,true,{}]},\"lv\":[],\"v\":{\"n\":2.5},\"nv\":null,"
	"\"empty\":{},\"mask\":\"a.fooBar,b\",\"child\":{\"fString\":\"c\"},"
	"\"children\":[{},{\"fBool\":true}],\"cMsg\":{}}";

static const char all_out[] =
	"{\"fInt32\":-5,\"fInt64\":\"-9223372036854775808\",\"fUint32\":4294967295,"
	"\"fUint64\":\"18446744073709551615\",\"fSint32\":-2147483648,"
	"\"fSint64\":\"9223372036854775807\",\"fFixed32\":7,\"fFixed64\":\"8\","
	"\"fSfixed32\":-9,\"fSfixed64\":\"-10\",\"fFloat\":1.5,\"fDouble\":0.1,\"fBool\":true,"
	"\"fString\":\"h\xc3\xa9llo \\\"q\\\"\\n\xf0\x9f\x98\x80\",\"fBytes\":\"AAEC/w==\","
	"\"fEnum\":\"COLOR_GREEN\",\"legacy\":{\"optInt32\":0,\"optString\":\"\",\"reqBool\":false},"
	"\"rInt64\":[\"1\",\"-2\"],\"rEnum\":[\"COLOR_RED\",7],\"rBytes\":[\"\",\"AA==\"],"
	"\"rFloat\":[-0.25,\"NaN\",\"Infinity\",\"-Infinity\"],\"rBool\":[true,false],"
	"\"rString\":[\"a\",\"\"],\"mInt32\":{\"-1\":\"neg\",\"2\":\"two\"},"
	"\"mBool\":{\"true\":\"1\",\"false\":\"0\"},"
	"\"mMsg\":{\"18446744073709551615\":{\"fInt32\":1}},\"mEnum\":{\"k\":\"COLOR_RED\"},"
	"\"dur\":\"-1.500s\",\"ts\":\"2026-11-23T10:24:00.123Z\",\"wInt64\":\"0\","
	"\"wUint64\":\"18446744073709551615\",\"wFloat\":\"NaN\",\"wBytes\":\"/+8=\","
	"\"wBool\":false,\"wString\":\"\",\"wInt32\":0,\"wUint32\":5,\"wDouble\":-0,"
	"\"st\":{\"a\":[1,\"x\",null,true,{}]},\"lv\":[],\"v\":{\"n\":2.5},"
	"\"empty\":{},\"mask\":\"a.fooBar,b\",\"child\":{\"fString\":\"c\"},"
	"\"children\":[{},{\"fBool\":true}],\"cMsg\":{}}";

START_TEST(test_json_roundtrips_every_field_type)
{
	roundtrip(ALL, all_in, all_out);
}
END_TEST

START_TEST(test_json_decodes_every_field_type_into_the_c_struct)
{
	Gpxtest__All *a = DEC(Gpxtest__All, all_in);
	ck_assert_int_eq(a->f_int32, -5);
	ck_assert(a->f_int64 == INT64_MIN);
	ck_assert_uint_eq(a->f_uint32, UINT32_MAX);
	ck_assert(a->f_uint64 == UINT64_MAX);
	ck_assert_int_eq(a->f_sint32, INT32_MIN);
	ck_assert(a->f_sint64 == INT64_MAX);
	ck_assert(a->f_fixed64 == 8);
	ck_assert(a->f_sfixed64 == -10);
	ck_assert(a->f_float == 1.5f);
	ck_assert(a->f_double == 0.1);
	ck_assert_int_eq(a->f_bool, 1);
	ck_assert_str_eq(a->f_string, "h\xc3\xa9llo \"q\"\n\xf0\x9f\x98\x80");
	ck_assert_uint_eq(a->f_bytes.len, 4);
	ck_assert_mem_eq(a->f_bytes.data, "\x00\x01\x02\xff", 4);
	ck_assert_int_eq(a->f_enum, GPXTEST__COLOR__COLOR_GREEN);
	ck_assert_int_eq(a->legacy->has_opt_int32, 1);
	ck_assert_ptr_nonnull(a->legacy->opt_string);
	ck_assert_int_eq(a->legacy->has_opt_bytes, 0);
	ck_assert_uint_eq(a->n_r_int64, 2);
	ck_assert(a->r_int64[1] == -2);
	ck_assert_uint_eq(a->n_r_enum, 2);
	ck_assert_int_eq(a->r_enum[1], 7);
	ck_assert(isnan(a->r_float[1]) && isinf(a->r_float[2]) && a->r_float[3] < 0);
	ck_assert_uint_eq(a->n_m_int32, 2);
	ck_assert_int_eq(a->m_int32[0]->key, -1);
	ck_assert_str_eq(a->m_int32[0]->value, "neg");
	ck_assert_int_eq(a->m_bool[0]->key, 1);
	ck_assert(a->m_bool[1]->value == 0);
	ck_assert(a->m_msg[0]->key == UINT64_MAX);
	ck_assert_int_eq(a->m_msg[0]->value->f_int32, 1);
	ck_assert(a->dur->seconds == -1 && a->dur->nanos == -500000000);
	ck_assert(a->ts->seconds == 1795429440 && a->ts->nanos == 123000000);
	ck_assert(a->w_uint64->value == UINT64_MAX);
	ck_assert_uint_eq(a->w_bytes->value.len, 2);
	ck_assert_mem_eq(a->w_bytes->value.data, "\xff\xef", 2);
	ck_assert(a->w_double->value == 0 && signbit(a->w_double->value));
	ck_assert_uint_eq(a->st->n_fields, 1);
	Google__Protobuf__Value *arr = a->st->fields[0]->value;
	ck_assert_int_eq(arr->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE);
	ck_assert_uint_eq(arr->list_value->n_values, 5);
	ck_assert_int_eq(arr->list_value->values[2]->kind_case,
			 GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE);
	ck_assert_ptr_nonnull(a->lv);
	ck_assert_uint_eq(a->lv->n_values, 0);
	ck_assert_ptr_nonnull(a->empty);
	ck_assert_uint_eq(a->mask->n_paths, 2);
	ck_assert_str_eq(a->mask->paths[0], "a.foo_bar");
	ck_assert_str_eq(a->child->f_string, "c");
	ck_assert_uint_eq(a->n_children, 2);
	ck_assert_int_eq(a->choice_case, GPXTEST__ALL__CHOICE_C_MSG);
	FREE(a);
}
END_TEST

START_TEST(test_json_omits_defaults_and_prints_empty_message_as_object)
{
	Gpxtest__All a = GPXTEST__ALL__INIT;
	ck_assert_str_eq(enc(&a), "{}");
	/* explicit presence (proto2 optional, required): printed when set,
	 * even with the default value */
	Gpxtest__Legacy l = GPXTEST__LEGACY__INIT;
	ck_assert_str_eq(enc(&l), "{\"reqBool\":false}");
	l.has_opt_int32 = 1;
	l.opt_string = "";
	l.has_opt_double = 1;
	ck_assert_str_eq(enc(&l),
			 "{\"optInt32\":0,\"optString\":\"\",\"optDouble\":1.5,\"reqBool\":false}");
	Gpxtest__Legacy *d = (Gpxtest__Legacy *)dec_ok(&gpxtest__legacy__descriptor,
						       "{\"optBytes\":\"\",\"optDouble\":0}");
	ck_assert_int_eq(d->has_opt_bytes, 1);
	ck_assert_int_eq(d->has_opt_double, 1);
	ck_assert_ptr_null(d->opt_string);
	ck_assert_str_eq(enc(d), "{\"optBytes\":\"\",\"optDouble\":0,\"reqBool\":false}");
	FREE(d);
}
END_TEST

START_TEST(test_json_options_emit_defaults_proto_names_enum_ints)
{
	Gpix__V1__ListImagesRequest r = GPIX__V1__LIST_IMAGES_REQUEST__INIT;
	gpx_json_opts o = {.emit_defaults = 1};
	ck_assert_str_eq(
		enc_opts(&r, &o),
		"{\"source\":\"IMAGE_SOURCE_UNSPECIFIED\",\"pageSize\":0,\"pageToken\":\"\"}");
	r.page_size = 5;
	r.source = GPIX__V1__IMAGE_SOURCE__IMAGE_SOURCE_UPLOAD;
	gpx_json_opts p = {.use_proto_names = 1, .enums_as_ints = 1};
	ck_assert_str_eq(enc_opts(&r, &p), "{\"source\":2,\"page_size\":5}");
	Gpix__V1__FilterDefinition d = GPIX__V1__FILTER_DEFINITION__INIT;
	ck_assert_str_eq(
		enc_opts(&d, &o),
		"{\"name\":\"\",\"displayName\":\"\",\"description\":\"\",\"parameters\":[],"
		"\"backends\":[],\"plugin\":\"\",\"version\":\"\"}");
}
END_TEST

/* ---- names --------------------------------------------------------------- */

START_TEST(test_json_name_follows_protoc)
{
	char b[32];
	ck_assert_uint_eq(gpx_json_name("page_size", b, sizeof(b)), 8);
	ck_assert_str_eq(b, "pageSize");
	gpx_json_name("foo_bar_baz", b, sizeof(b));
	ck_assert_str_eq(b, "fooBarBaz");
	gpx_json_name("_x", b, sizeof(b));
	ck_assert_str_eq(b, "X");
	gpx_json_name("a__b", b, sizeof(b));
	ck_assert_str_eq(b, "aB");
	gpx_json_name("x1_2", b, sizeof(b));
	ck_assert_str_eq(b, "x12");
	ck_assert_uint_eq(gpx_json_name("long_name", b, 4), 8);
	ck_assert_str_eq(b, "lon");
}
END_TEST

START_TEST(test_json_accepts_proto_and_camel_names_and_prints_camel)
{
	Gpix__V1__ListImagesRequest *r =
		DEC(Gpix__V1__ListImagesRequest, "{\"page_size\":7,\"pageToken\":\"t\"}");
	ck_assert_int_eq(r->page_size, 7);
	ck_assert_str_eq(r->page_token, "t");
	ck_assert_str_eq(enc(r), "{\"pageSize\":7,\"pageToken\":\"t\"}");
	FREE(r);
	ck_assert_str_eq(dec_err(LIST_IMAGES, "{\"pageSize\":1,\"page_size\":2}"),
			 "field \"pageSize\": field given more than once");
}
END_TEST

START_TEST(test_json_ignores_unknown_fields)
{
	Gpix__V1__ListImagesRequest *r = DEC(
		Gpix__V1__ListImagesRequest,
		"{\"nope\":{\"deep\":[1,{\"x\":null}]},\"pageSize\":3,\"PageSize\":4,\"page-size\":5}");
	ck_assert_int_eq(r->page_size, 3);
	FREE(r);
}
END_TEST

/* ---- gpix.v1 messages ------------------------------------------------------ */

START_TEST(test_json_process_image_request_with_bytes_oneof_and_value_map)
{
	const char *in =
		"{\"imageData\":\"aGVsbG8\",\"filters\":[{\"name\":\"blur\",\"params\":"
		"{\"sigma\":1.5,\"mode\":\"fast\",\"on\":true,\"list\":[1,2],\"nothing\":null}}],"
		"\"backend\":\"cpu\",\"output\":{\"format\":\"IMAGE_FORMAT_PNG\",\"quality\":90},"
		"\"save\":true}";
	Gpix__V1__ProcessImageRequest *r = DEC(Gpix__V1__ProcessImageRequest, in);
	ck_assert_int_eq(r->source_case, GPIX__V1__PROCESS_IMAGE_REQUEST__SOURCE_IMAGE_DATA);
	ck_assert_uint_eq(r->image_data.len, 5);
	ck_assert_mem_eq(r->image_data.data, "hello", 5);
	ck_assert_uint_eq(r->n_filters, 1);
	Gpix__V1__FilterStep *f = r->filters[0];
	ck_assert_uint_eq(f->n_params, 5);
	ck_assert_str_eq(f->params[0]->key, "sigma");
	ck_assert_int_eq(f->params[0]->value->kind_case,
			 GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE);
	ck_assert(f->params[0]->value->number_value == 1.5);
	ck_assert_str_eq(f->params[1]->value->string_value, "fast");
	ck_assert_int_eq(f->params[4]->value->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE);
	ck_assert_int_eq(r->output->format, GPIX__V1__IMAGE_FORMAT__IMAGE_FORMAT_PNG);
	ck_assert_int_eq(r->save, 1);
	ck_assert_str_eq(
		enc(r),
		"{\"imageData\":\"aGVsbG8=\",\"filters\":[{\"name\":\"blur\",\"params\":"
		"{\"sigma\":1.5,\"mode\":\"fast\",\"on\":true,\"list\":[1,2],\"nothing\":null}}],"
		"\"backend\":\"cpu\",\"output\":{\"format\":\"IMAGE_FORMAT_PNG\",\"quality\":90},"
		"\"save\":true}");
	FREE(r);

	r = DEC(Gpix__V1__ProcessImageRequest, "{\"image_id\":\"\"}");
	ck_assert_int_eq(r->source_case, GPIX__V1__PROCESS_IMAGE_REQUEST__SOURCE_IMAGE_ID);
	/* a set oneof member is printed even when it holds the default */
	ck_assert_str_eq(enc(r), "{\"imageId\":\"\"}");
	FREE(r);
}
END_TEST

START_TEST(test_json_timestamp_in_get_version_response)
{
	Gpix__V1__GetVersionResponse *r = DEC(
		Gpix__V1__GetVersionResponse,
		"{\"version\":\"v0.1.0\",\"apiVersion\":\"gpix.v1\",\"startedAt\":\"2026-11-23T11:24:00.5+01:00\"}");
	ck_assert(r->started_at->seconds == 1795429440);
	ck_assert_int_eq(r->started_at->nanos, 500000000);
	ck_assert_str_eq(enc(r), "{\"version\":\"v0.1.0\",\"apiVersion\":\"gpix.v1\","
				 "\"startedAt\":\"2026-11-23T10:24:00.500Z\"}");
	FREE(r);
}
END_TEST

START_TEST(test_json_timestamp_forms)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"\"1970-01-01T00:00:00Z\"", "\"1970-01-01T00:00:00Z\""},
		{"\"1970-01-01t00:00:00.000001z\"", "\"1970-01-01T00:00:00.000001Z\""},
		{"\"1969-12-31T23:59:59.123456789Z\"", "\"1969-12-31T23:59:59.123456789Z\""},
		{"\"0001-01-01T00:00:00Z\"", "\"0001-01-01T00:00:00Z\""},
		{"\"9999-12-31T23:59:59.999999999Z\"", "\"9999-12-31T23:59:59.999999999Z\""},
		{"\"2024-02-29T12:00:00-05:30\"", "\"2024-02-29T17:30:00Z\""},
		{"\"2000-03-01T00:30:00+01:00\"", "\"2000-02-29T23:30:00Z\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ProtobufCMessage *m = dec_ok(&google__protobuf__timestamp__descriptor, cases[i].in);
		ck_assert_str_eq(enc(m), cases[i].out);
		protobuf_c_message_free_unpacked(m, NULL);
	}
}
END_TEST

START_TEST(test_json_filter_parameter_value_default_and_repeated_options)
{
	Gpix__V1__FilterParameter *p =
		DEC(Gpix__V1__FilterParameter,
		    "{\"name\":\"mode\",\"type\":\"PARAMETER_TYPE_ENUM\",\"defaultValue\":\"fast\","
		    "\"min\":0,\"max\":10,\"step\":0.5,\"options\":[\"fast\",\"good\"]}");
	ck_assert_int_eq(p->default_value->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE);
	ck_assert_uint_eq(p->n_options, 2);
	ck_assert_str_eq(p->options[1], "good");
	ck_assert_str_eq(enc(p), "{\"name\":\"mode\",\"type\":\"PARAMETER_TYPE_ENUM\","
				 "\"defaultValue\":\"fast\",\"max\":10,\"step\":0.5,"
				 "\"options\":[\"fast\",\"good\"]}");
	FREE(p);
}
END_TEST

START_TEST(test_json_image_int64_size_and_enum_by_name_or_number)
{
	/* 2^53 + 1 has no double: only exact parsing keeps it */
	Gpix__V1__Image *im =
		DEC(Gpix__V1__Image, "{\"id\":\"x\",\"format\":2,\"sizeBytes\":9007199254740993}");
	ck_assert(im->size_bytes == 9007199254740993LL);
	ck_assert_int_eq(im->format, GPIX__V1__IMAGE_FORMAT__IMAGE_FORMAT_PNG);
	ck_assert_str_eq(enc(im), "{\"id\":\"x\",\"format\":\"IMAGE_FORMAT_PNG\","
				  "\"sizeBytes\":\"9007199254740993\"}");
	FREE(im);
	im = DEC(Gpix__V1__Image, "{\"format\":\"IMAGE_FORMAT_JPEG\",\"sizeBytes\":\"-42\"}");
	ck_assert(im->size_bytes == -42);
	ck_assert_int_eq(im->format, GPIX__V1__IMAGE_FORMAT__IMAGE_FORMAT_JPEG);
	FREE(im);
	/* an enum number without a name is printed as the number */
	im = DEC(Gpix__V1__Image, "{\"format\":99,\"sizeBytes\":\"1e3\",\"width\":\"12\"}");
	ck_assert(im->size_bytes == 1000);
	ck_assert_int_eq(im->width, 12);
	ck_assert_str_eq(enc(im), "{\"format\":99,\"width\":12,\"sizeBytes\":\"1000\"}");
	FREE(im);
}
END_TEST

START_TEST(test_json_tune_request_uint32_and_double)
{
	Gpix__V1__TuneRequest *t = DEC(
		Gpix__V1__TuneRequest,
		"{\"seq\":4294967295,\"value\":-2.5e-3,\"parameter\":\"blur.sigma\",\"previewWidth\":\"640\"}");
	ck_assert_uint_eq(t->seq, 4294967295u);
	ck_assert(t->value == -0.0025);
	ck_assert_str_eq(enc(t), "{\"parameter\":\"blur.sigma\",\"value\":-0.0025,"
				 "\"previewWidth\":640,\"seq\":4294967295}");
	FREE(t);
}
END_TEST

START_TEST(test_json_big_uint64_and_int64_as_strings_and_numbers)
{
	Google__Protobuf__UInt64Value *u =
		DEC(Google__Protobuf__UInt64Value, "18446744073709551615");
	ck_assert(u->value == UINT64_MAX);
	ck_assert_str_eq(enc(u), "\"18446744073709551615\"");
	FREE(u);
	u = DEC(Google__Protobuf__UInt64Value, "\"18446744073709551615\"");
	ck_assert(u->value == UINT64_MAX);
	FREE(u);
	u = DEC(Google__Protobuf__UInt64Value, "1.8446744073709551615e19");
	ck_assert(u->value == UINT64_MAX);
	FREE(u);
	Google__Protobuf__Int64Value *i = DEC(Google__Protobuf__Int64Value, "-9223372036854775808");
	ck_assert(i->value == INT64_MIN);
	ck_assert_str_eq(enc(i), "\"-9223372036854775808\"");
	FREE(i);
	i = DEC(Google__Protobuf__Int64Value, "\"-0\"");
	ck_assert(i->value == 0);
	FREE(i);
	ck_assert_str_eq(
		dec_err(&google__protobuf__uint64_value__descriptor, "18446744073709551616"),
		"invalid JSON value: value 18446744073709551616 out of range for uint64");
	ck_assert_str_eq(dec_err(&google__protobuf__uint64_value__descriptor, "-1"),
			 "invalid JSON value: value -1 out of range for uint64");
	ck_assert_str_eq(
		dec_err(&google__protobuf__int64_value__descriptor, "\"-9223372036854775809\""),
		"invalid JSON value: value \"-9223372036854775809\" out of range for int64");
	ck_assert_str_eq(dec_err(&google__protobuf__int64_value__descriptor, "1e400"),
			 "invalid JSON value: value 1e400 out of range for int64");
}
END_TEST

START_TEST(test_json_cjson_numbers_for_int64_must_be_exact)
{
	/* a tree built with cJSON_CreateNumber has only the double */
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "sizeBytes", 9007199254740992.0);
	ProtobufCMessage *m = NULL;
	ck_assert_int_eq(gpx_json_from_cjson(&gpix__v1__image__descriptor, o, &m, &st), 0);
	ck_assert(((Gpix__V1__Image *)m)->size_bytes == 9007199254740992LL);
	protobuf_c_message_free_unpacked(m, NULL);
	cJSON_DeleteItemFromObject(o, "sizeBytes");
	cJSON_AddNumberToObject(o, "sizeBytes", 1e17);
	ck_assert_int_eq(gpx_json_from_cjson(&gpix__v1__image__descriptor, o, &m, &st), -1);
	ck_assert_ptr_null(m);
	ck_assert_str_eq(st.msg, "field \"sizeBytes\": value 1e+17 cannot be represented exactly "
				 "as a JSON number; send it as a string");
	/* a parsed number changed afterwards falls back to its double */
	cJSON *p = NULL;
	ck_assert_int_eq(gpx_json_parse("{\"width\":1}", 11, NULL, &p, &st), 0);
	cJSON_SetNumberValue(cJSON_GetObjectItem(p, "width"), 3);
	ck_assert_int_eq(gpx_json_from_cjson(&gpix__v1__image__descriptor, p, &m, &st), 0);
	ck_assert_int_eq(((Gpix__V1__Image *)m)->width, 3);
	protobuf_c_message_free_unpacked(m, NULL);
	cJSON_Delete(p);
	cJSON_Delete(o);
}
END_TEST

START_TEST(test_json_float_specials_and_ranges)
{
	Google__Protobuf__FloatValue *f = DEC(Google__Protobuf__FloatValue, "\"-Infinity\"");
	ck_assert(isinf(f->value) && f->value < 0);
	ck_assert_str_eq(enc(f), "\"-Infinity\"");
	FREE(f);
	f = DEC(Google__Protobuf__FloatValue, "3.4e38");
	ck_assert_str_eq(enc(f), "3.4e+38");
	FREE(f);
	f = DEC(Google__Protobuf__FloatValue, "\"0.1\"");
	ck_assert_str_eq(enc(f), "0.1");
	FREE(f);
	ck_assert_str_eq(dec_err(&google__protobuf__float_value__descriptor, "3.5e38"),
			 "invalid JSON value: value 3.5e38 out of range for float");
	ck_assert_str_eq(dec_err(&google__protobuf__double_value__descriptor, "1e999"),
			 "invalid JSON value: value 1e999 out of range");
	ck_assert_str_eq(dec_err(&google__protobuf__double_value__descriptor, "\"nan\""),
			 "invalid JSON value: expected number, got \"nan\"");
	ck_assert_str_eq(dec_err(&google__protobuf__double_value__descriptor, "\" 1\""),
			 "invalid JSON value: expected number, got \" 1\"");
	Gpix__V1__Timing t = GPIX__V1__TIMING__INIT;
	t.queue_ms = NAN;
	t.decode_ms = INFINITY;
	t.filter_ms = 1e300;
	t.encode_ms = 5e-324;
	t.total_ms = 1.0 / 3;
	ck_assert_str_eq(enc(&t),
			 "{\"queueMs\":\"NaN\",\"decodeMs\":\"Infinity\",\"filterMs\":1e+300,"
			 "\"encodeMs\":4.94065645841247e-324,\"totalMs\":0.3333333333333333}");
	Gpix__V1__Timing *back = DEC(Gpix__V1__Timing, enc(&t));
	ck_assert(isnan(back->queue_ms) && back->total_ms == 1.0 / 3 && back->encode_ms == 5e-324);
	FREE(back);
}
END_TEST

START_TEST(test_json_bytes_accept_url_safe_and_unpadded)
{
	Google__Protobuf__BytesValue *b = DEC(Google__Protobuf__BytesValue, "\"-_8\"");
	ck_assert_uint_eq(b->value.len, 2);
	ck_assert_mem_eq(b->value.data, "\xfb\xff", 2);
	ck_assert_str_eq(enc(b), "\"+/8=\"");
	FREE(b);
	b = DEC(Google__Protobuf__BytesValue, "\"+/8=\"");
	ck_assert_mem_eq(b->value.data, "\xfb\xff", 2);
	FREE(b);
	b = DEC(Google__Protobuf__BytesValue, "\"\"");
	ck_assert_uint_eq(b->value.len, 0);
	ck_assert_str_eq(enc(b), "\"\"");
	FREE(b);
}
END_TEST

START_TEST(test_json_null_means_unset_except_for_value)
{
	Gpix__V1__UploadResponse *u =
		DEC(Gpix__V1__UploadResponse, "{\"image\":null,\"imageId\":null}");
	ck_assert_ptr_null(u->image);
	ck_assert_str_eq(u->image_id, "");
	FREE(u);
	Gpix__V1__ProcessImageRequest *r = DEC(
		Gpix__V1__ProcessImageRequest,
		"{\"imageId\":null,\"imageData\":\"AA==\",\"filters\":null,\"output\":null,\"save\":null}");
	ck_assert_int_eq(r->source_case, GPIX__V1__PROCESS_IMAGE_REQUEST__SOURCE_IMAGE_DATA);
	ck_assert_uint_eq(r->n_filters, 0);
	FREE(r);
	Gpix__V1__FilterParameter *p = DEC(Gpix__V1__FilterParameter, "{\"defaultValue\":null}");
	ck_assert_ptr_nonnull(p->default_value);
	ck_assert_int_eq(p->default_value->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE);
	ck_assert_str_eq(enc(p), "{\"defaultValue\":null}");
	FREE(p);
	Gpxtest__All *a =
		DEC(Gpxtest__All, "{\"wInt32\":null,\"st\":null,\"nv\":null,\"cVal\":null,"
				  "\"mask\":null,\"ts\":null,\"rInt64\":null,\"mBool\":null}");
	ck_assert_ptr_null(a->w_int32);
	ck_assert_ptr_null(a->st);
	ck_assert_ptr_null(a->ts);
	ck_assert_int_eq(a->choice_case, GPXTEST__ALL__CHOICE_C_VAL);
	ck_assert_str_eq(enc(a), "{\"cVal\":null}");
	FREE(a);
	ck_assert_str_eq(dec_err(ALL, "{\"rString\":[\"a\",null]}"),
			 "field \"rString[1]\": null is not allowed in arrays");
	ck_assert_str_eq(dec_err(ALL, "{\"mInt32\":{\"1\":null}}"),
			 "field \"mInt32[\"1\"]\": null is not allowed as a map value");
	Google__Protobuf__Value *v = DEC(Google__Protobuf__Value, "null");
	ck_assert_int_eq(v->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE);
	ck_assert_str_eq(enc(v), "null");
	FREE(v);
}
END_TEST

START_TEST(test_json_value_struct_and_list_hold_any_json)
{
	roundtrip(
		&google__protobuf__value__descriptor,
		" {\"a\" : [ 1, -2.5e3, \"s\", true, false, null, {\"b\":{}}, [[]] ], \"\":\"\"} ",
		"{\"a\":[1,-2500,\"s\",true,false,null,{\"b\":{}},[[]]],\"\":\"\"}");
	roundtrip(&google__protobuf__list_value__descriptor, "[1,[2]]", "[1,[2]]");
	roundtrip(&google__protobuf__struct__descriptor, "{}", "{}");
	ck_assert_str_eq(dec_err(&google__protobuf__struct__descriptor, "{\"a\":1,\"a\":2}"),
			 "invalid JSON value: duplicate key \"a\"");
	ck_assert_str_eq(dec_err(&google__protobuf__struct__descriptor, "[]"),
			 "invalid JSON value: expected object, got array");
	ck_assert_str_eq(dec_err(&google__protobuf__value__descriptor, "1e400"),
			 "invalid JSON value: value 1e400 out of range");
}
END_TEST

START_TEST(test_json_duration_forms)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"\"0s\"", "\"0s\""},
		{"\"1.5s\"", "\"1.500s\""},
		{"\"-0.000000001s\"", "\"-0.000000001s\""},
		{"\"315576000000.999999999s\"", "\"315576000000.999999999s\""},
		{"\"-315576000000s\"", "\"-315576000000s\""},
		{"\"3.000010s\"", "\"3.000010s\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ProtobufCMessage *m = dec_ok(&google__protobuf__duration__descriptor, cases[i].in);
		ck_assert_str_eq(enc(m), cases[i].out);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	static const char *bad[] = {"\"1.5\"",		 "\"s\"",   "\"1.s\"",
				    "\"1.0000000001s\"", "\" 1s\"", "\"315576000001s\"",
				    "\"--1s\"",		 "\"+1s\"", "1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		dec_err(&google__protobuf__duration__descriptor, bad[i]);
	ck_assert_str_eq(dec_err(ALL, "{\"dur\":\"1.5\"}"),
			 "field \"dur\": invalid duration \"1.5\"");
}
END_TEST

START_TEST(test_json_fieldmask_converts_path_names)
{
	Gpxtest__All *a = DEC(Gpxtest__All, "{\"mask\":\"\"}");
	ck_assert_uint_eq(a->mask->n_paths, 0);
	ck_assert_str_eq(enc(a), "{\"mask\":\"\"}");
	FREE(a);
	ck_assert_str_eq(dec_err(ALL, "{\"mask\":\"a_b\"}"),
			 "field \"mask\": invalid field mask path");
	Google__Protobuf__FieldMask fm = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	char *paths[] = {"Bad"};
	fm.n_paths = 1;
	fm.paths = paths;
	gpx_buf b;
	gpx_buf_init(&b, 0);
	ck_assert_int_eq(gpx_json_encode(&fm.base, &b, NULL, &st), -1);
	ck_assert_int_eq(st.code, GPX_INTERNAL);
	gpx_buf_free(&b);
}
END_TEST

/* ---- rejections ------------------------------------------------------------ */

START_TEST(test_json_rejects_wrong_type_naming_the_field)
{
	ck_assert_str_eq(dec_err(LIST_IMAGES, "{\"pageSize\":\"abc\"}"),
			 "field \"pageSize\": expected integer, got \"abc\"");
	ck_assert_str_eq(dec_err(PROCESS_IMAGE, "{\"filters\":[{\"params\":[]}]}"),
			 "field \"filters[0].params\": expected object, got array");
	ck_assert_str_eq(dec_err(PROCESS_IMAGE, "{\"filters\":[{},{\"name\":5}]}"),
			 "field \"filters[1].name\": expected string, got 5");
	ck_assert_str_eq(dec_err(PROCESS_IMAGE, "{\"save\":\"true\"}"),
			 "field \"save\": expected boolean, got \"true\"");
	ck_assert_str_eq(dec_err(PROCESS_IMAGE, "{\"imageData\":1}"),
			 "field \"imageData\": expected base64 string, got 1");
	ck_assert_str_eq(dec_err(PROCESS_IMAGE, "{\"output\":{\"format\":true}}"),
			 "field \"output.format\": expected enum name or number, got true");
	ck_assert_str_eq(dec_err(PROCESS_IMAGE, "{\"output\":[]}"),
			 "field \"output\": expected object, got array");
	ck_assert_str_eq(dec_err(PROCESS_IMAGE, "{\"filters\":{}}"),
			 "field \"filters\": expected array, got object");
	ck_assert_str_eq(dec_err(&gpix__v1__tune_request__descriptor, "{\"value\":\"abc\"}"),
			 "field \"value\": expected number, got \"abc\"");
	ck_assert_str_eq(dec_err(ALL, "{\"ts\":5}"),
			 "field \"ts\": expected RFC 3339 timestamp, got 5");
	ck_assert_str_eq(dec_err(ALL, "{\"mInt32\":{\"x\":\"a\"}}"),
			 "field \"mInt32[\"x\"]\": map key must be an integer");
	ck_assert_str_eq(dec_err(ALL, "{\"mBool\":{\"yes\":\"1\"}}"),
			 "field \"mBool[\"yes\"]\": map key must be \"true\" or \"false\"");
	ck_assert_str_eq(
		dec_err(ALL, "{\"mMsg\":{\"1\":{\"children\":[{\"rInt64\":[\"x\"]}]}}}"),
		"field \"mMsg[\"1\"].children[0].rInt64[0]\": expected integer, got \"x\"");
	ck_assert_str_eq(
		dec_err(ALL,
			"{\"fString\":\""
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			"\",\"fInt32\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}"),
		"field \"fInt32\": expected integer, got \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"");
	ck_assert_str_eq(dec_err(LIST_IMAGES, "[]"),
			 "invalid JSON value: expected object, got array");
	ck_assert_str_eq(dec_err(ALL, "{\"any\":{}}"),
			 "field \"any\": google.protobuf.Any is not supported in JSON");
}
END_TEST

START_TEST(test_json_rejects_out_of_range_and_fractional_integers)
{
	ck_assert_str_eq(dec_err(LIST_IMAGES, "{\"pageSize\":2147483648}"),
			 "field \"pageSize\": value 2147483648 out of range for int32");
	ck_assert_str_eq(dec_err(LIST_IMAGES, "{\"pageSize\":-2147483649}"),
			 "field \"pageSize\": value -2147483649 out of range for int32");
	ck_assert_str_eq(dec_err(LIST_IMAGES, "{\"pageSize\":1.5}"),
			 "field \"pageSize\": expected integer, got 1.5");
	ck_assert_str_eq(dec_err(LIST_IMAGES, "{\"pageSize\":\"1.5\"}"),
			 "field \"pageSize\": expected integer, got \"1.5\"");
	ck_assert_str_eq(dec_err(LIST_IMAGES, "{\"pageSize\":1e-1}"),
			 "field \"pageSize\": expected integer, got 1e-1");
	ck_assert_str_eq(dec_err(&gpix__v1__tune_request__descriptor, "{\"seq\":-1}"),
			 "field \"seq\": value -1 out of range for uint32");
	ck_assert_str_eq(dec_err(&gpix__v1__tune_request__descriptor, "{\"seq\":4294967296}"),
			 "field \"seq\": value 4294967296 out of range for uint32");
	ck_assert_str_eq(dec_err(&gpix__v1__image__descriptor, "{\"format\":2147483648}"),
			 "field \"format\": value 2147483648 out of range for enum");
	dec_err(LIST_IMAGES, "{\"pageSize\":\"\"}");
	dec_err(LIST_IMAGES, "{\"pageSize\":\"+1\"}");
	dec_err(LIST_IMAGES, "{\"pageSize\":\"0x10\"}");
	dec_err(LIST_IMAGES, "{\"pageSize\":\"01\"}");
	/* integral spellings are fine */
	Gpix__V1__ListImagesRequest *r =
		DEC(Gpix__V1__ListImagesRequest, "{\"pageSize\":-2147483648}");
	ck_assert_int_eq(r->page_size, INT32_MIN);
	FREE(r);
	r = DEC(Gpix__V1__ListImagesRequest, "{\"pageSize\":2.50e1}");
	ck_assert_int_eq(r->page_size, 25);
	FREE(r);
	r = DEC(Gpix__V1__ListImagesRequest, "{\"pageSize\":1000e-3}");
	ck_assert_int_eq(r->page_size, 1);
	FREE(r);
	r = DEC(Gpix__V1__ListImagesRequest, "{\"pageSize\":0.0e99999999999}");
	ck_assert_int_eq(r->page_size, 0);
	FREE(r);
}
END_TEST

START_TEST(test_json_rejects_unknown_enum_name)
{
	ck_assert_str_eq(
		dec_err(LIST_IMAGES, "{\"source\":\"IMAGE_SOURCE_NOPE\"}"),
		"field \"source\": unknown enum value \"IMAGE_SOURCE_NOPE\" for gpix.v1.ImageSource");
	ck_assert_str_eq(dec_err(LIST_IMAGES, "{\"source\":\"1\"}"),
			 "field \"source\": unknown enum value \"1\" for gpix.v1.ImageSource");
}
END_TEST

START_TEST(test_json_rejects_bad_base64)
{
	ck_assert_str_eq(dec_err(PROCESS_IMAGE, "{\"imageData\":\"***\"}"),
			 "field \"imageData\": invalid base64");
	dec_err(PROCESS_IMAGE, "{\"imageData\":\"A\"}");
	dec_err(PROCESS_IMAGE, "{\"imageData\":\"AA=A\"}");
}
END_TEST

START_TEST(test_json_rejects_malformed_json)
{
	static const char *bad[] = {
		"",
		" ",
		"{",
		"{\"a\"",
		"{\"a\":}",
		"{\"a\":1,}",
		"{,}",
		"[1 2]",
		"[1,]",
		"{'a':1}",
		"{a:1}",
		"\"abc",
		"\"\\x\"",
		"\"\\u12\"",
		"\"\\ud800\"",
		"\"\\udc00x\"",
		"\"\\ud800\\u0041\"",
		"\"\\u0000\"",
		"\"a\x01\"",
		"\"\xff\"",
		"\"\xc0\xaf\"",
		"\"\xed\xa0\x80\"",
		"\"\xf4\x90\x80\x80\"",
		"01",
		"1.",
		".5",
		"-",
		"+1",
		"1e",
		"1e+",
		"tru",
		"nul",
		"True",
		"NaN",
		"Infinity",
		"{} {}",
		"{}x",
		"[]]",
		"\"\\",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ProtobufCMessage *m = (ProtobufCMessage *)1;
		int rc = gpx_json_decode(&google__protobuf__value__descriptor, bad[i],
					 strlen(bad[i]), &m, &st);
		ck_assert_msg(rc == -1, "accepted %s", bad[i]);
		ck_assert_ptr_null(m);
		ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
		ck_assert_msg(!strncmp(st.msg, "malformed JSON at offset ", 25), "%s: %s", bad[i],
			      st.msg);
	}
	ProtobufCMessage *m = NULL;
	ck_assert_int_eq(gpx_json_decode(LIST_IMAGES, "{}\0", 3, &m, &st), -1);
	ck_assert_str_eq(st.msg,
			 "malformed JSON at offset 2: unexpected data after the JSON value");
	ck_assert_int_eq(gpx_json_decode(LIST_IMAGES, "{\"a\" 1}", 7, &m, &st), -1);
	ck_assert_str_eq(st.msg, "malformed JSON at offset 5: expected ':'");
	/* not NUL-terminated: only len bytes are read */
	ck_assert_int_eq(gpx_json_decode(LIST_IMAGES, "{}garbage", 2, &m, &st), 0);
	protobuf_c_message_free_unpacked(m, NULL);
}
END_TEST

START_TEST(test_json_accepts_valid_unicode)
{
	Google__Protobuf__Value *v =
		DEC(Google__Protobuf__Value,
		    "\"\\u00e9\\u20ac\\uD834\\uDD1E\xe2\x82\xac\\/\\b\\f\\r\\t\\u001f\x7f\"");
	ck_assert_str_eq(v->string_value,
			 "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\xe2\x82\xac/\b\f\r\t\x1f\x7f");
	ck_assert_str_eq(
		enc(v),
		"\"\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\xe2\x82\xac/\\b\\f\\r\\t\\u001f\x7f\"");
	FREE(v);
}
END_TEST

START_TEST(test_json_encoder_replaces_invalid_utf8)
{
	Gpix__V1__GetImageRequest r = GPIX__V1__GET_IMAGE_REQUEST__INIT;
	r.image_id = "a\xff"
		     "b\xc3";
	ck_assert_str_eq(enc(&r), "{\"imageId\":\"a\xef\xbf\xbd"
				  "b\xef\xbf\xbd\"}");
}
END_TEST

START_TEST(test_json_rejects_nesting_beyond_the_depth_limit)
{
	char buf[512];
	/* All object (1) + 63 arrays = 64 levels: fine */
	size_t n = 0;
	n += (size_t)sprintf(buf + n, "{\"v\":");
	for (int i = 0; i < 63; i++)
		buf[n++] = '[';
	for (int i = 0; i < 63; i++)
		buf[n++] = ']';
	buf[n++] = '}';
	buf[n] = 0;
	ProtobufCMessage *m = dec_ok(ALL, buf);
	protobuf_c_message_free_unpacked(m, NULL);
	n = 0;
	n += (size_t)sprintf(buf + n, "{\"v\":");
	for (int i = 0; i < 64; i++)
		buf[n++] = '[';
	for (int i = 0; i < 64; i++)
		buf[n++] = ']';
	buf[n++] = '}';
	buf[n] = 0;
	ck_assert_str_eq(dec_err(ALL, buf), "JSON nested too deeply (limit 64 levels)");
	/* the decoder enforces it too on trees it did not parse */
	cJSON *root = cJSON_CreateObject(), *cur = cJSON_AddArrayToObject(root, "v");
	for (int i = 0; i < 100; i++) {
		cJSON *a = cJSON_CreateArray();
		cJSON_AddItemToArray(cur, a);
		cur = a;
	}
	m = NULL;
	ck_assert_int_eq(gpx_json_from_cjson(ALL, root, &m, &st), -1);
	ck_assert_ptr_null(m);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_ptr_nonnull(strstr(st.msg, "nested too deeply"));
	cJSON_Delete(root);
	/* own limits */
	gpx_json_opts o = {.max_depth = 2};
	ck_assert_int_eq(gpx_json_decode_opts(ALL, "{\"v\":[[]]}", 10, &o, &m, &st), -1);
	ck_assert_int_eq(gpx_json_decode_opts(ALL, "{\"v\":[]}", 8, &o, &m, &st), 0);
	protobuf_c_message_free_unpacked(m, NULL);
}
END_TEST

START_TEST(test_json_rejects_input_over_the_length_limit)
{
	gpx_json_opts o = {.max_input = 8};
	cJSON *j = NULL;
	ck_assert_int_eq(gpx_json_parse("{\"a\":12}", 8, &o, &j, &st), 0);
	cJSON_Delete(j);
	ck_assert_int_eq(gpx_json_parse("{\"a\":123}", 9, &o, &j, &st), -1);
	ck_assert_ptr_null(j);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_str_eq(st.msg, "JSON input of 9 bytes exceeds the limit of 8");
	ProtobufCMessage *m = NULL;
	ck_assert_int_eq(gpx_json_decode_opts(LIST_IMAGES, "{\"a\":123}", 9, &o, &m, &st), -1);
	ck_assert_ptr_null(m);
}
END_TEST

START_TEST(test_json_rejects_two_members_of_a_oneof)
{
	ck_assert_str_eq(
		dec_err(PROCESS_IMAGE, "{\"imageId\":\"a\",\"imageData\":\"AA==\"}"),
		"field \"imageData\": only one field of a oneof may be set, \"imageId\" is set already");
	ck_assert_str_eq(
		dec_err(ALL, "{\"cMsg\":{\"fInt32\":1},\"cVal\":null}"),
		"field \"cVal\": only one field of a oneof may be set, \"cMsg\" is set already");
}
END_TEST

START_TEST(test_json_rejects_bad_timestamps)
{
	ck_assert_str_eq(
		dec_err(&gpix__v1__get_version_response__descriptor,
			"{\"startedAt\":\"2026-13-01T00:00:00Z\"}"),
		"field \"startedAt\": invalid RFC 3339 timestamp \"2026-13-01T00:00:00Z\"");
	static const char *bad[] = {
		"\"2026-02-29T00:00:00Z\"",
		"\"2026-01-01T00:00:00\"",
		"\"2026-01-01 00:00:00Z\"",
		"\"2026-01-01T24:00:00Z\"",
		"\"2026-01-01T00:60:00Z\"",
		"\"2026-01-01T00:00:60Z\"",
		"\"0000-01-01T00:00:00Z\"",
		"\"2026-01-01T00:00:00.Z\"",
		"\"2026-01-01T00:00:00.1234567890Z\"",
		"\"2026-1-01T00:00:00Z\"",
		"\"2026-01-01T00:00:00+1:00\"",
		"\"2026-01-01T00:00:00+24:00\"",
		"\"0001-01-01T00:00:00+00:01\"",
		"\"9999-12-31T23:59:59-00:01\"",
		"\"2026-01-01T00:00:00Zx\"",
		"\"2026-04-31T00:00:00Z\"",
		"\"\"",
		"1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		dec_err(&google__protobuf__timestamp__descriptor, bad[i]);
}
END_TEST

/* ---- encoder failures ------------------------------------------------------- */

START_TEST(test_json_encode_fails_for_values_without_json_form)
{
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Gpix__V1__GetVersionResponse r = GPIX__V1__GET_VERSION_RESPONSE__INIT;
	r.version = "v";
	r.started_at = &ts;
	ts.seconds = 253402300800LL;
	gpx_buf b;
	gpx_buf_init(&b, 0);
	gpx_buf_append_str(&b, "xy");
	ck_assert_int_eq(gpx_json_encode(&r.base, &b, NULL, &st), -1);
	ck_assert_int_eq(st.code, GPX_INTERNAL);
	ck_assert_str_eq(st.msg,
			 "cannot encode field \"startedAt\" as JSON: timestamp out of range");
	ck_assert_uint_eq(b.len, 2); /* restored */
	ck_assert_str_eq((char *)b.data, "xy");
	ts.seconds = 0;
	ts.nanos = -1;
	ck_assert_int_eq(gpx_json_encode(&r.base, &b, NULL, &st), -1);

	Google__Protobuf__Value v = GOOGLE__PROTOBUF__VALUE__INIT;
	v.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
	v.number_value = NAN;
	ck_assert_int_eq(gpx_json_encode(&v.base, &b, NULL, &st), -1);
	ck_assert_int_eq(st.code, GPX_INTERNAL);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_json_encode_respects_the_buffer_limit)
{
	Gpix__V1__GetImageRequest r = GPIX__V1__GET_IMAGE_REQUEST__INIT;
	r.image_id = "0123456789abcdef";
	gpx_buf b;
	gpx_buf_init(&b, 17); /* "ab" + {"imageId":"x"} */
	gpx_buf_append_str(&b, "ab");
	ck_assert_int_eq(gpx_json_encode(&r.base, &b, NULL, &st), -1);
	ck_assert_int_eq(st.code, GPX_RESOURCE_EXHAUSTED);
	ck_assert_uint_eq(b.len, 2);
	ck_assert_str_eq((char *)b.data, "ab");
	r.image_id = "x";
	ck_assert_int_eq(gpx_json_encode(&r.base, &b, NULL, &st), 0);
	ck_assert_str_eq((char *)b.data, "ab{\"imageId\":\"x\"}");
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_json_encode_prints_unset_oneof_message_as_default)
{
	Gpxtest__All a = GPXTEST__ALL__INIT;
	a.choice_case = GPXTEST__ALL__CHOICE_C_MSG; /* member set, pointer NULL */
	ck_assert_str_eq(enc(&a), "{\"cMsg\":{}}");
	a.choice_case = GPXTEST__ALL__CHOICE_C_VAL;
	ck_assert_str_eq(enc(&a), "{\"cVal\":null}");
}
END_TEST

/* ---- query parameters ----------------------------------------------------- */

static ProtobufCMessage *from_obj(const ProtobufCMessageDescriptor *d, cJSON *o)
{
	ProtobufCMessage *m = NULL;
	int rc = gpx_json_from_cjson(d, o, &m, &st);
	ck_assert_msg(rc == 0, "%s", st.msg);
	return m;
}

START_TEST(test_json_set_field_from_string_converts_per_field_type)
{
	cJSON *o = cJSON_CreateObject();
	ck_assert_int_eq(gpx_json_set_field_from_string(o, LIST_IMAGES, "page_size", "25", &st), 0);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, LIST_IMAGES, "source",
							"IMAGE_SOURCE_UPLOAD", &st),
			 0);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, LIST_IMAGES, "pageToken", "t", &st), 0);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, LIST_IMAGES, "unknown", "x", &st), 1);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, LIST_IMAGES, "page_size.x", "x", &st),
			 -1);
	Gpix__V1__ListImagesRequest *r = (Gpix__V1__ListImagesRequest *)from_obj(LIST_IMAGES, o);
	ck_assert_int_eq(r->page_size, 25);
	ck_assert_int_eq(r->source, GPIX__V1__IMAGE_SOURCE__IMAGE_SOURCE_UPLOAD);
	ck_assert_str_eq(r->page_token, "t");
	FREE(r);
	/* replaced, under either spelling */
	ck_assert_int_eq(gpx_json_set_field_from_string(o, LIST_IMAGES, "pageSize", "abc", &st), 0);
	ck_assert_int_eq(cJSON_GetArraySize(o), 3);
	ProtobufCMessage *m = (ProtobufCMessage *)1;
	ck_assert_int_eq(gpx_json_from_cjson(LIST_IMAGES, o, &m, &st), -1);
	ck_assert_ptr_null(m);
	ck_assert_str_eq(st.msg, "field \"pageSize\": expected integer, got \"abc\"");
	ck_assert_int_eq(gpx_json_set_field_from_string(o, LIST_IMAGES, "source", "1", &st), 0);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, LIST_IMAGES, "page_size", "-3", &st), 0);
	r = (Gpix__V1__ListImagesRequest *)from_obj(LIST_IMAGES, o);
	ck_assert_int_eq(r->source, GPIX__V1__IMAGE_SOURCE__IMAGE_SOURCE_SAMPLE);
	ck_assert_int_eq(r->page_size, -3);
	FREE(r);
	cJSON_Delete(o);
}
END_TEST

START_TEST(test_json_set_field_from_string_nested_repeated_and_body_merge)
{
	cJSON *o = NULL;
	const char *body = "{\"image_id\":\"body\",\"save\":false,\"output\":{\"quality\":5}}";
	ck_assert_int_eq(gpx_json_parse(body, strlen(body), NULL, &o, &st), 0);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, PROCESS_IMAGE, "imageId", "path", &st),
			 0);
	ck_assert_int_eq(
		gpx_json_set_field_from_string(o, PROCESS_IMAGE, "output.max_width", "100", &st),
		0);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, PROCESS_IMAGE, "output.format",
							"IMAGE_FORMAT_PNG", &st),
			 0);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, PROCESS_IMAGE, "save", "1", &st), 0);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, PROCESS_IMAGE, "save", "maybe", &st),
			 -1);
	ck_assert_str_eq(st.msg, "field \"save\": expected boolean, got \"maybe\"");
	ck_assert_int_eq(gpx_json_set_field_from_string(o, PROCESS_IMAGE, "filters", "x", &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, PROCESS_IMAGE, "filters.name", "x", &st),
			 -1);
	ck_assert_str_eq(st.msg,
			 "field \"filters\": cannot set a field inside it from a parameter");
	ck_assert_int_eq(gpx_json_set_field_from_string(o, PROCESS_IMAGE, "output.nope", "x", &st),
			 1);
	Gpix__V1__ProcessImageRequest *r =
		(Gpix__V1__ProcessImageRequest *)from_obj(PROCESS_IMAGE, o);
	ck_assert_int_eq(r->source_case, GPIX__V1__PROCESS_IMAGE_REQUEST__SOURCE_IMAGE_ID);
	ck_assert_str_eq(r->image_id, "path");
	ck_assert_int_eq(r->save, 1);
	ck_assert_int_eq(r->output->quality, 5);
	ck_assert_int_eq(r->output->max_width, 100);
	ck_assert_int_eq(r->output->format, GPIX__V1__IMAGE_FORMAT__IMAGE_FORMAT_PNG);
	FREE(r);
	cJSON_Delete(o);

	o = cJSON_CreateObject();
	const ProtobufCMessageDescriptor *fd = &gpix__v1__filter_definition__descriptor;
	ck_assert_int_eq(gpx_json_set_field_from_string(o, fd, "backends", "cpu", &st), 0);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, fd, "backends", "cuda", &st), 0);
	Gpix__V1__FilterDefinition *d = (Gpix__V1__FilterDefinition *)from_obj(fd, o);
	ck_assert_uint_eq(d->n_backends, 2);
	ck_assert_str_eq(d->backends[1], "cuda");
	FREE(d);
	cJSON_Delete(o);

	o = cJSON_CreateObject();
	ck_assert_int_eq(gpx_json_set_field_from_string(o, &gpix__v1__filter_step__descriptor,
							"params", "x", &st),
			 -1);
	ck_assert_str_eq(st.msg, "field \"params\": map fields cannot be set from a parameter");
	/* well-known types take their string forms */
	ck_assert_int_eq(gpx_json_set_field_from_string(o, ALL, "ts", "2026-11-23T10:24:00Z", &st),
			 0);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, ALL, "w_bool", "true", &st), 0);
	ck_assert_int_eq(
		gpx_json_set_field_from_string(o, ALL, "wInt64", "-9223372036854775808", &st), 0);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, ALL, "rInt64", "18", &st), 0);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, ALL, "f_float", "NaN", &st), 0);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, ALL, "v", "text", &st), 0);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, ALL, "child.child.fBytes", "AA", &st),
			 0);
	ck_assert_int_eq(gpx_json_set_field_from_string(o, ALL, "st", "x", &st), -1);
	Gpxtest__All *a = (Gpxtest__All *)from_obj(ALL, o);
	ck_assert_str_eq(enc(a),
			 "{\"fFloat\":\"NaN\",\"rInt64\":[\"18\"],\"ts\":\"2026-11-23T10:24:00Z\","
			 "\"wInt64\":\"-9223372036854775808\",\"wBool\":true,\"v\":\"text\","
			 "\"child\":{\"child\":{\"fBytes\":\"AA==\"}}}");
	FREE(a);
	cJSON_Delete(o);
}
END_TEST

/* ---- failing allocator ------------------------------------------------------ */

/* Without ASan, the test binary interposes malloc to fail the n-th
 * allocation and to count live blocks, proving that every error path frees
 * what it took. (ASan owns malloc in the sanitized build, whose leak checker
 * covers the paths the other tests reach.) */
#if defined(__SANITIZE_ADDRESS__)
#define FAILING_ALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FAILING_ALLOC 0
#endif
#endif
#ifndef FAILING_ALLOC
#define FAILING_ALLOC 1
#endif

#if FAILING_ALLOC
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t k);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static long fail_after = -1; /* allocations left before one fails; -1: never */
static long live;

static int should_fail(void)
{
	if (fail_after < 0)
		return 0;
	return fail_after-- == 0;
}

void *malloc(size_t n)
{
	if (should_fail())
		return NULL;
	void *p = __libc_malloc(n);
	live += p != NULL;
	return p;
}

void *calloc(size_t n, size_t k)
{
	if (should_fail())
		return NULL;
	void *p = __libc_calloc(n, k);
	live += p != NULL;
	return p;
}

void *realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	void *q = __libc_realloc(p, n);
	live += p == NULL && q != NULL;
	return q;
}

void free(void *p)
{
	live -= p != NULL;
	__libc_free(p);
}

/* Runs op with the k-th allocation failing, for every k, until op
 * completes without reaching a failure. */
static void under_failing_alloc(int (*op)(void))
{
	for (long k = 0;; k++) {
		live = 0;
		fail_after = k;
		int rc = op();
		int failed_alloc = fail_after < 0;
		fail_after = -1;
		ck_assert_msg(live == 0, "%ld blocks leaked with allocation %ld failing", live, k);
		if (!failed_alloc) {
			ck_assert_int_eq(rc, 0);
			ck_assert_int_gt(k, 0); /* the op did allocate */
			break;
		}
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(st.code == GPX_RESOURCE_EXHAUSTED, "k=%ld: %s", k, st.msg);
	}
}

static int op_decode_all(void)
{
	ProtobufCMessage *m = NULL;
	int rc = gpx_json_decode(ALL, all_in, strlen(all_in), &m, &st);
	if (rc == 0)
		protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

static int op_encode_all(void)
{
	static ProtobufCMessage *m;
	if (!m) { /* decoded once, outside the failure window */
		long saved = fail_after;
		fail_after = -1;
		ck_assert_int_eq(gpx_json_decode(ALL, all_in, strlen(all_in), &m, &st), 0);
		fail_after = saved;
		live = 0;
	}
	gpx_buf b;
	gpx_buf_init(&b, 0);
	int rc = gpx_json_encode(m, &b, NULL, &st);
	gpx_buf_free(&b);
	return rc;
}

static int op_query_params(void)
{
	cJSON *o = cJSON_CreateObject();
	if (!o) {
		st.code = GPX_RESOURCE_EXHAUSTED;
		return -1;
	}
	int rc = 0;
	static const char *const kv[][2] = {
		{"output.max_width", "100"}, {"save", "true"},	{"backend", "cpu"},
		{"output.format", "2"},	     {"image_id", "x"}, {"backend", "cuda"},
	};
	for (size_t i = 0; rc == 0 && i < sizeof(kv) / sizeof(kv[0]); i++)
		rc = gpx_json_set_field_from_string(o, PROCESS_IMAGE, kv[i][0], kv[i][1], &st);
	ProtobufCMessage *m = NULL;
	if (rc == 0 && (rc = gpx_json_from_cjson(PROCESS_IMAGE, o, &m, &st)) == 0)
		protobuf_c_message_free_unpacked(m, NULL);
	cJSON_Delete(o);
	return rc;
}

START_TEST(test_json_frees_everything_when_allocations_fail)
{
	under_failing_alloc(op_decode_all);
	under_failing_alloc(op_encode_all);
	under_failing_alloc(op_query_params);
}
END_TEST
#endif

int main(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_json_roundtrips_every_field_type);
	tcase_add_test(tc, test_json_decodes_every_field_type_into_the_c_struct);
	tcase_add_test(tc, test_json_omits_defaults_and_prints_empty_message_as_object);
	tcase_add_test(tc, test_json_options_emit_defaults_proto_names_enum_ints);
	tcase_add_test(tc, test_json_name_follows_protoc);
	tcase_add_test(tc, test_json_accepts_proto_and_camel_names_and_prints_camel);
	tcase_add_test(tc, test_json_ignores_unknown_fields);
	tcase_add_test(tc, test_json_process_image_request_with_bytes_oneof_and_value_map);
	tcase_add_test(tc, test_json_timestamp_in_get_version_response);
	tcase_add_test(tc, test_json_timestamp_forms);
	tcase_add_test(tc, test_json_filter_parameter_value_default_and_repeated_options);
	tcase_add_test(tc, test_json_image_int64_size_and_enum_by_name_or_number);
	tcase_add_test(tc, test_json_tune_request_uint32_and_double);
	tcase_add_test(tc, test_json_big_uint64_and_int64_as_strings_and_numbers);
	tcase_add_test(tc, test_json_cjson_numbers_for_int64_must_be_exact);
	tcase_add_test(tc, test_json_float_specials_and_ranges);
	tcase_add_test(tc, test_json_bytes_accept_url_safe_and_unpadded);
	tcase_add_test(tc, test_json_null_means_unset_except_for_value);
	tcase_add_test(tc, test_json_value_struct_and_list_hold_any_json);
	tcase_add_test(tc, test_json_duration_forms);
	tcase_add_test(tc, test_json_fieldmask_converts_path_names);
	tcase_add_test(tc, test_json_rejects_wrong_type_naming_the_field);
	tcase_add_test(tc, test_json_rejects_out_of_range_and_fractional_integers);
	tcase_add_test(tc, test_json_rejects_unknown_enum_name);
	tcase_add_test(tc, test_json_rejects_bad_base64);
	tcase_add_test(tc, test_json_rejects_malformed_json);
	tcase_add_test(tc, test_json_accepts_valid_unicode);
	tcase_add_test(tc, test_json_encoder_replaces_invalid_utf8);
	tcase_add_test(tc, test_json_rejects_nesting_beyond_the_depth_limit);
	tcase_add_test(tc, test_json_rejects_input_over_the_length_limit);
	tcase_add_test(tc, test_json_rejects_two_members_of_a_oneof);
	tcase_add_test(tc, test_json_rejects_bad_timestamps);
	tcase_add_test(tc, test_json_encode_fails_for_values_without_json_form);
	tcase_add_test(tc, test_json_encode_respects_the_buffer_limit);
	tcase_add_test(tc, test_json_encode_prints_unset_oneof_message_as_default);
	tcase_add_test(tc, test_json_set_field_from_string_converts_per_field_type);
	tcase_add_test(tc, test_json_set_field_from_string_nested_repeated_and_body_merge);
#if FAILING_ALLOC
	tcase_add_test(tc, test_json_frees_everything_when_allocations_fail);
#endif
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
