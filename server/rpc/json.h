/* Proto3 JSON mapping over protobuf-c descriptors.
 *
 * Encodes any protobuf-c message to canonical proto3 JSON and decodes JSON
 * into a newly allocated message, driven only by the message descriptors
 * (https://protobuf.dev/programming-guides/json/). Well-known types are
 * recognised by full name: Timestamp, Duration, Struct, Value, ListValue,
 * NullValue, the wrappers, Empty and FieldMask; Any is refused.
 *
 * Ownership: messages returned by the decoders are allocated with
 * protobuf-c's default allocator; free them with
 * protobuf_c_message_free_unpacked(msg, NULL). A cJSON tree returned by
 * gpx_json_parse belongs to the caller (cJSON_Delete). On any error nothing
 * is left allocated and *out is NULL.
 *
 * Errors: bad input gives GPX_INVALID_ARGUMENT with a message that names the
 * field path in JSON names, e.g.
 *   field "filters[0].params": expected object, got array
 *   field "pageSize": expected integer, got "abc"
 * suitable to send to the client as is.
 *
 * 64-bit integers: encoded as JSON strings. On input strings and numbers are
 * both accepted and parsed exactly: gpx_json_parse keeps the source text of
 * every number (see below), so "18446744073709551615" and
 * 18446744073709551615 both decode exactly. Numbers in a cJSON tree built by
 * other means (cJSON_CreateNumber) only carry a double; for 64-bit fields
 * such a number must be integral with magnitude at most 2^53, otherwise it
 * is refused as inexact (send it as a string).
 *
 * Other decisions:
 * - Field names: output in lowerCamelCase computed as protoc computes
 *   json_name; input accepts that name or the proto name. A field given
 *   twice (under either name), two members of one oneof, and duplicate map
 *   or Struct keys are rejected. Unknown fields are ignored.
 * - null: unsets a field (repeated: empty), except for google.protobuf.Value
 *   (a null Value) and NullValue fields. null inside arrays and as a map
 *   value is rejected, again except for Value.
 * - Implicit-presence fields holding their default are omitted; set oneof
 *   members, set message fields and explicit-presence (proto2 optional,
 *   required) fields are always printed. Required fields are not checked
 *   on input.
 * - Integers accept any JSON number spelling of an integral value ("1e2",
 *   "3.0"), as a number or a string; fractions and out-of-range values are
 *   rejected. Enums accept names or numbers (proto3 enums are open); a
 *   number without a name is printed as the number.
 * - float/double print the shortest text that reads back exactly; NaN and
 *   the infinities are the strings "NaN", "Infinity", "-Infinity".
 * - Strings must be valid UTF-8 on input; the encoder replaces invalid bytes
 *   with U+FFFD so that its output is always valid JSON.
 * - Maps are recognised by the entry message protoc generates (protobuf-c
 *   does not keep the map_entry option): nested, named <Field>Entry, with
 *   key = 1 and value = 2.
 * - Number text uses the C locale (strtod, snprintf); the server never
 *   calls setlocale.
 *
 * Thread safety: no global state; every call is independent.
 */
#ifndef GPX_JSON_H
#define GPX_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <protobuf-c/protobuf-c.h>

#include "common/buf.h"
#include "common/status.h"

/* Limits applied when the caller passes 0 (or no options). The input limit
 * must leave room for inline image data in base64. */
#define GPX_JSON_DEFAULT_MAX_INPUT ((size_t)64 << 20)
#define GPX_JSON_DEFAULT_MAX_DEPTH 64

typedef struct gpx_json_opts {
	/* Encoding. */
	int emit_defaults;   /* also print implicit-presence fields holding their
	                        default (0, "", false, [], {}); unset message
	                        fields and unset oneofs are still omitted */
	int use_proto_names; /* "page_size" instead of "pageSize" */
	int enums_as_ints;   /* 2 instead of "IMAGE_FORMAT_PNG" */
	/* Decoding (gpx_json_parse, gpx_json_decode_opts). */
	size_t max_input; /* bytes; 0: GPX_JSON_DEFAULT_MAX_INPUT */
	int max_depth;	  /* nested objects/arrays; 0: GPX_JSON_DEFAULT_MAX_DEPTH */
} gpx_json_opts;

/* Appends msg as JSON to out (compact, no trailing newline). opts may be
 * NULL. On failure out is restored to its previous length. Fails with
 * GPX_RESOURCE_EXHAUSTED when out's limit is reached, GPX_INTERNAL for a
 * message that has no JSON form (Timestamp out of range, NaN in a Value,
 * Any). */
int gpx_json_encode(const ProtobufCMessage *msg, gpx_buf *out, const gpx_json_opts *opts,
		    gpx_status *st);

/* Parses and decodes len bytes of JSON (no NUL needed) as a message of type
 * desc. Unknown fields are ignored. Default limits. */
int gpx_json_decode(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
		    ProtobufCMessage **out, gpx_status *st);
/* The same with explicit limits; opts may be NULL. */
int gpx_json_decode_opts(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
			 const gpx_json_opts *opts, ProtobufCMessage **out, gpx_status *st);

/* Strict RFC 8259 parse into a cJSON tree (the REST layer parses a body,
 * merges path and query parameters with gpx_json_set_field_from_string,
 * then calls gpx_json_from_cjson). Rejects trailing data, invalid UTF-8,
 * lone surrogates and U+0000 in strings (proto strings are C strings), and
 * input over the length or depth limit. Number nodes keep their source text
 * in valuestring so that 64-bit integers decode exactly; cJSON_Delete frees
 * it. opts may be NULL. */
int gpx_json_parse(const char *json, size_t len, const gpx_json_opts *opts, cJSON **out,
		   gpx_status *st);

/* Decodes an already parsed JSON value (normally an object) as a message of
 * type desc. The depth limit is the default one. root is not modified. */
int gpx_json_from_cjson(const ProtobufCMessageDescriptor *desc, const cJSON *root,
			ProtobufCMessage **out, gpx_status *st);

/* Sets one field of the JSON object obj, which will later be decoded as
 * desc, from a path or query parameter: path is a dotted field path, each
 * part a proto name or a JSON name ("output.max_width", "pageSize").
 * Intermediate parts must be singular message fields; objects are created
 * as needed. A repeated field gets value appended; a singular field is
 * replaced (under either spelling of its name). The text is stored so that
 * decoding converts and checks it per the field type (bools accept
 * true/false/1/0/t/f, enums names or numbers), and errors then name the
 * field.
 *
 * Returns 0 when set, 1 when path names no field of desc (unknown query
 * parameters are ignored, as grpc-gateway does), -1 with
 * GPX_INVALID_ARGUMENT when the path goes through a repeated or map field,
 * ends at a map or at a message that has no string form, or value is not
 * valid for the field (bools), and GPX_RESOURCE_EXHAUSTED on allocation
 * failure. */
int gpx_json_set_field_from_string(cJSON *obj, const ProtobufCMessageDescriptor *desc,
				   const char *path, const char *value, gpx_status *st);

/* Writes the lowerCamelCase JSON name of a proto field name as protoc
 * computes it ("page_size" -> "pageSize") into out (NUL-terminated,
 * truncated to cap). Returns the full length. */
size_t gpx_json_name(const char *proto_name, char *out, size_t cap);

#endif
