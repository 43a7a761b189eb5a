/* Proto3 JSON mapping over protobuf-c descriptors; see json.h.
 *
 * Layout of the file: a strict JSON parser that builds cJSON trees (and
 * keeps the text of numbers), the decoder (cJSON -> message), the encoder
 * (message -> text), then the query parameter helper.
 *
 * The decoder builds every sub-message, string and byte array on its own and
 * stores it into the parent only once it is complete, so a failure anywhere
 * leaves the parent consistent for protobuf_c_message_free_unpacked: every
 * pointer is either the descriptor default or an allocation, repeated counts
 * match the elements stored, and oneof cases match the member stored. */
#include "server/rpc/json.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"

/* Encoding recursion limit: messages that came in over binary protobuf are
 * not depth-checked by protobuf-c. */
#define ENC_MAX_DEPTH 100
/* Longest excerpt of a bad value quoted back in an error message. */
#define GOT_MAX 40

/* Timestamp range allowed by google/protobuf/timestamp.proto:
 * 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define TS_MIN_SECONDS (-62135596800LL)
#define TS_MAX_SECONDS 253402300799LL
/* Duration range: about +-10000 years. */
#define DUR_MAX_SECONDS 315576000000LL

/* ---- descriptors ------------------------------------------------------ */

enum wkt {
	WKT_NONE,
	WKT_TIMESTAMP,
	WKT_DURATION,
	WKT_VALUE,
	WKT_STRUCT,
	WKT_LIST,
	WKT_WRAPPER,
	WKT_FIELDMASK,
	WKT_ANY,
};

static enum wkt wkt_of(const ProtobufCMessageDescriptor *d)
{
	static const char prefix[] = "google.protobuf.";
	static const char *const wrappers[] = {
		"DoubleValue", "FloatValue", "Int64Value",  "UInt64Value", "Int32Value",
		"UInt32Value", "BoolValue",  "StringValue", "BytesValue",
	};
	if (strncmp(d->name, prefix, sizeof(prefix) - 1) != 0)
		return WKT_NONE;
	const char *n = d->name + sizeof(prefix) - 1;
	if (!strcmp(n, "Timestamp"))
		return WKT_TIMESTAMP;
	if (!strcmp(n, "Duration"))
		return WKT_DURATION;
	if (!strcmp(n, "Value"))
		return WKT_VALUE;
	if (!strcmp(n, "Struct"))
		return WKT_STRUCT;
	if (!strcmp(n, "ListValue"))
		return WKT_LIST;
	if (!strcmp(n, "FieldMask"))
		return WKT_FIELDMASK;
	if (!strcmp(n, "Any"))
		return WKT_ANY;
	for (size_t i = 0; i < sizeof(wrappers) / sizeof(wrappers[0]); i++)
		if (!strcmp(n, wrappers[i]))
			return d->n_fields == 1 ? WKT_WRAPPER : WKT_NONE;
	return WKT_NONE;
}

static int is_null_value_enum(const ProtobufCFieldDescriptor *f)
{
	return f->type == PROTOBUF_C_TYPE_ENUM &&
	       !strcmp(((const ProtobufCEnumDescriptor *)f->descriptor)->name,
		       "google.protobuf.NullValue");
}

/* Fields to which JSON null is a value rather than "unset". */
static int null_is_value(const ProtobufCFieldDescriptor *f)
{
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return wkt_of(f->descriptor) == WKT_VALUE;
	return is_null_value_enum(f);
}

static void *field_ptr(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return (char *)m + f->offset;
}

static void *quant_ptr(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return (char *)m + f->quantifier_offset;
}

static size_t type_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM: return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: return 8;
	case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* One decoded value of any field type; the member used matches the field
 * type and sits at offset 0, so it can be copied into a message with
 * type_size(type) bytes. */
typedef union scalar {
	int32_t i32;
	uint32_t u32;
	int64_t i64;
	uint64_t u64;
	float f32;
	double f64;
	protobuf_c_boolean b;
	char *str;
	ProtobufCBinaryData bin;
	ProtobufCMessage *msg;
} scalar;

/* Stores s into singular field f and marks it present. */
static void store_singular(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const scalar *s)
{
	memcpy(field_ptr(m, f), s, type_size(f->type));
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		*(uint32_t *)quant_ptr(m, f) = f->id;
	else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
		 f->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)quant_ptr(m, f) = 1;
}

static char ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

size_t gpx_json_name(const char *proto_name, char *out, size_t cap)
{
	size_t n = 0;
	int up = 0;
	for (const char *p = proto_name; *p; p++) {
		if (*p == '_') {
			up = 1;
			continue;
		}
		if (n + 1 < cap)
			out[n] = up ? ascii_upper(*p) : *p;
		n++;
		up = 0;
	}
	if (cap)
		out[n < cap ? n : cap - 1] = 0;
	return n;
}

/* Whether key (klen bytes) is the JSON name of proto_name, computed the way
 * protoc does without building it. */
static int json_name_eq(const char *proto_name, const char *key, size_t klen)
{
	size_t i = 0;
	int up = 0;
	for (const char *p = proto_name; *p; p++) {
		if (*p == '_') {
			up = 1;
			continue;
		}
		char c = up ? ascii_upper(*p) : *p;
		up = 0;
		if (i >= klen || key[i] != c)
			return 0;
		i++;
	}
	return i == klen;
}

/* Field named key (klen bytes) by proto name or JSON name. */
static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d,
						  const char *key, size_t klen)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		const char *n = d->fields[i].name;
		if (strlen(n) == klen && !memcmp(n, key, klen))
			return &d->fields[i];
	}
	for (unsigned i = 0; i < d->n_fields; i++)
		if (json_name_eq(d->fields[i].name, key, klen))
			return &d->fields[i];
	return NULL;
}

/* protobuf-c does not keep the map_entry option; a map field is recognised
 * by the entry message protoc generates for it: nested in the parent, named
 * after the field ("params" -> "ParamsEntry"), with key = 1 and value = 2. */
static int is_map_field(const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *f)
{
	if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return 0;
	const ProtobufCMessageDescriptor *e = f->descriptor;
	if (e->n_fields != 2 || e->fields[0].id != 1 || e->fields[1].id != 2 ||
	    strcmp(e->fields[0].name, "key") != 0 || strcmp(e->fields[1].name, "value") != 0)
		return 0;
	/* short name: field name in UpperCamelCase + "Entry" */
	const char *s = e->short_name;
	int up = 1;
	for (const char *p = f->name; *p; p++) {
		if (*p == '_') {
			up = 1;
			continue;
		}
		if (*s++ != (up ? ascii_upper(*p) : *p))
			return 0;
		up = 0;
	}
	if (strcmp(s, "Entry") != 0)
		return 0;
	size_t pl = strlen(parent->name);
	return !strncmp(e->name, parent->name, pl) && e->name[pl] == '.' &&
	       !strcmp(e->name + pl + 1, e->short_name);
}

static const ProtobufCFieldDescriptor *wkt_field(const ProtobufCMessageDescriptor *d,
						 const char *name, ProtobufCType type)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(d, name);
	return f && f->type == type ? f : NULL;
}

/* ---- UTF-8 ------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
	unsigned c = p[0];
	size_t n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

static int utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	uint32_t cp;
	while (p < end) {
		size_t k = utf8_seq(p, end, &cp);
		if (!k)
			return 0;
		p += k;
	}
	return 1;
}

static size_t utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* ---- numbers ------------------------------------------------------------ */

/* A JSON number split into its parts: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
typedef struct numparts {
	int neg;
	const char *ip; /* integer digits */
	size_t ni;
	const char *fp; /* fraction digits */
	size_t nf;
	long long exp; /* saturated at +-1e9, far beyond any input length */
	int has_exp;
} numparts;

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Scans a JSON number at p; returns its end, or NULL when p does not start
 * with a valid one. Stops at the first character that cannot continue it. */
static const char *scan_number(const char *p, const char *end, numparts *np)
{
	memset(np, 0, sizeof(*np));
	if (p < end && *p == '-') {
		np->neg = 1;
		p++;
	}
	np->ip = p;
	if (p >= end || !is_digit(*p))
		return NULL;
	if (*p == '0')
		p++;
	else
		while (p < end && is_digit(*p))
			p++;
	np->ni = (size_t)(p - np->ip);
	if (p < end && *p == '.') {
		p++;
		np->fp = p;
		while (p < end && is_digit(*p))
			p++;
		np->nf = (size_t)(p - np->fp);
		if (!np->nf)
			return NULL;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		int eneg = 0;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p >= end || !is_digit(*p))
			return NULL;
		long long e = 0;
		while (p < end && is_digit(*p)) {
			if (e < 1000000000LL)
				e = e * 10 + (*p - '0');
			p++;
		}
		np->exp = eneg ? -e : e;
		np->has_exp = 1;
	}
	return p;
}

enum { INT_OK, INT_SYNTAX, INT_FRACTION, INT_RANGE };

/* Exact integer value of a number given in decimal text (exponents and
 * fractions allowed as long as the value is integral: "1e2", "3.0"). */
static int int_from_parts(const numparts *np, int *neg, uint64_t *mag)
{
	size_t nd = np->ni + np->nf;
#define DIGIT(k) ((k) < np->ni ? np->ip[(k)] : np->fp[(k)-np->ni])
	size_t first = 0, last = nd;
	while (first < nd && DIGIT(first) == '0')
		first++;
	*neg = np->neg;
	*mag = 0;
	if (first == nd)
		return INT_OK; /* zero, "-0" included */
	while (DIGIT(last - 1) == '0')
		last--;
	/* value = digits[first, last) * 10^e10 */
	long long e10 = np->exp - (long long)np->nf + (long long)(nd - last);
	if (e10 < 0)
		return INT_FRACTION;
	if ((long long)(last - first) + e10 > 20)
		return INT_RANGE;
	uint64_t v = 0;
	for (size_t k = first; k < last; k++) {
		unsigned d = (unsigned)(DIGIT(k) - '0');
		if (v > (UINT64_MAX - d) / 10)
			return INT_RANGE;
		v = v * 10 + d;
	}
	for (long long k = 0; k < e10; k++) {
		if (v > UINT64_MAX / 10)
			return INT_RANGE;
		v *= 10;
	}
#undef DIGIT
	*mag = v;
	return INT_OK;
}

static int int_from_text(const char *s, size_t n, int *neg, uint64_t *mag)
{
	numparts np;
	if (scan_number(s, s + n, &np) != s + n)
		return INT_SYNTAX;
	return int_from_parts(&np, neg, mag);
}

/* Text a number node was parsed from, when the node is one of ours and has
 * not been changed since (cJSON_SetNumberValue leaves valuestring alone). */
static const char *number_text(const cJSON *j)
{
	if (!j->valuestring)
		return NULL;
	char *end;
	double v = strtod(j->valuestring, &end);
	if (*end || !(v == j->valuedouble || (isnan(v) && isnan(j->valuedouble))))
		return NULL;
	return j->valuestring;
}

static int int_from_json_number(const cJSON *j, int *neg, uint64_t *mag, int *inexact)
{
	const char *t = number_text(j);
	*inexact = 0;
	if (t)
		return int_from_text(t, strlen(t), neg, mag);
	double v = j->valuedouble;
	if (!isfinite(v))
		return INT_RANGE;
	if (v != trunc(v))
		return INT_FRACTION;
	*neg = v < 0;
	double a = fabs(v);
	if (a >= 18446744073709551616.0)
		return INT_RANGE;
	/* Above 2^53 a double no longer says which integer was meant. */
	*inexact = a > 9007199254740992.0;
	*mag = (uint64_t)a;
	return INT_OK;
}

/* ---- error text --------------------------------------------------------- */

/* Where in the message the decoder is, in JSON names: filters[0].params["k"] */
typedef struct jpath {
	char buf[256];
	size_t len;
} jpath;

static size_t path_put(jpath *p, const char *s, size_t n)
{
	size_t old = p->len;
	size_t room = sizeof(p->buf) - 1 - p->len;
	if (n > room)
		n = room;
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = 0;
	return old;
}

static size_t path_push_field(jpath *p, const ProtobufCFieldDescriptor *f)
{
	char name[128];
	size_t old = p->len;
	if (p->len)
		path_put(p, ".", 1);
	size_t n = gpx_json_name(f->name, name, sizeof(name));
	path_put(p, name, n < sizeof(name) ? n : sizeof(name) - 1);
	return old;
}

static size_t path_push_index(jpath *p, size_t i)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "[%zu]", i);
	return path_put(p, b, (size_t)n);
}

static void excerpt(char *out, size_t cap, const char *s, int quote);

static size_t path_push_key(jpath *p, const char *key)
{
	char b[GOT_MAX + 16];
	size_t old = path_put(p, "[", 1);
	excerpt(b, sizeof(b), key, 1);
	path_put(p, b, strlen(b));
	path_put(p, "]", 1);
	return old;
}

static void path_pop(jpath *p, size_t old)
{
	p->len = old;
	p->buf[old] = 0;
}

/* Quotes at most GOT_MAX bytes of s, cut at a character boundary, with
 * control characters replaced, so the excerpt is safe in a message. */
static void excerpt(char *out, size_t cap, const char *s, int quote)
{
	size_t n = strlen(s), k = n > GOT_MAX ? GOT_MAX : n, o = 0;
	while (k < n && k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	if (quote)
		out[o++] = '"';
	for (size_t i = 0; i < k && o + 6 < cap; i++)
		out[o++] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	if (k < n && o + 6 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	if (quote)
		out[o++] = '"';
	out[o] = 0;
}

static const char *describe(const cJSON *j, char *buf, size_t cap)
{
	if (!j)
		return "nothing";
	switch (j->type & 0xff) {
	case cJSON_False: return "false";
	case cJSON_True: return "true";
	case cJSON_NULL: return "null";
	case cJSON_Array: return "array";
	case cJSON_Object: return "object";
	case cJSON_String: excerpt(buf, cap, j->valuestring ? j->valuestring : "", 1); return buf;
	case cJSON_Number: {
		const char *t = number_text(j);
		if (t)
			excerpt(buf, cap, t, 0);
		else
			snprintf(buf, cap, "%.17g", j->valuedouble);
		return buf;
	}
	}
	return "invalid JSON";
}

/* ---- parser ------------------------------------------------------------- */

typedef struct parser {
	const char *start, *p, *end;
	int depth, max_depth;
	gpx_status *st;
} parser;

static int perr(parser *ps, const char *what)
{
	return gpx_status_set(ps->st, GPX_INVALID_ARGUMENT, "malformed JSON at offset %zu: %s",
			      (size_t)(ps->p - ps->start), what);
}

static int pnomem(parser *ps)
{
	return gpx_status_set(ps->st, GPX_RESOURCE_EXHAUSTED, "out of memory parsing JSON");
}

static void skip_ws(parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int hex4(const char *p, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		*v = (*v << 4) | d;
	}
	return 0;
}

/* Parses the string at ps->p (at the opening quote) into a new NUL-ended
 * buffer from cJSON_malloc. */
static char *parse_string(parser *ps)
{
	const char *q = ps->p + 1, *close = q;
	/* a quote closes the string unless an odd run of backslashes precedes it */
	for (;;) {
		close = memchr(close, '"', (size_t)(ps->end - close));
		if (!close) {
			perr(ps, "unterminated string");
			return NULL;
		}
		const char *b = close;
		while (b > q && b[-1] == '\\')
			b--;
		if ((close - b) % 2 == 0)
			break;
		close++;
	}
	/* escapes only shrink: the raw length bounds the decoded one */
	char *out = cJSON_malloc((size_t)(close - q) + 1), *o = out;
	if (!out) {
		pnomem(ps);
		return NULL;
	}
	while (q < close) {
		/* runs of plain ASCII (all of base64 image data) in one copy */
		const char *run = q;
		while (q < close && (unsigned char)*q >= 0x20 && (unsigned char)*q < 0x80 &&
		       *q != '\\')
			q++;
		memcpy(o, run, (size_t)(q - run));
		o += q - run;
		if (q == close)
			break;
		unsigned char c = (unsigned char)*q;
		if (c == '\\') {
			ps->p = q;
			char e = q[1];
			q += 2;
			switch (e) {
			case '"': *o++ = '"'; continue;
			case '\\': *o++ = '\\'; continue;
			case '/': *o++ = '/'; continue;
			case 'b': *o++ = '\b'; continue;
			case 'f': *o++ = '\f'; continue;
			case 'n': *o++ = '\n'; continue;
			case 'r': *o++ = '\r'; continue;
			case 't': *o++ = '\t'; continue;
			case 'u': break;
			default: perr(ps, "invalid escape in string"); goto fail;
			}
			uint32_t cp, lo;
			if (close - q < 4 || hex4(q, &cp) < 0) {
				perr(ps, "invalid \\u escape in string");
				goto fail;
			}
			q += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (close - q < 6 || q[0] != '\\' || q[1] != 'u' ||
				    hex4(q + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) {
					perr(ps, "unpaired surrogate in string");
					goto fail;
				}
				q += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				perr(ps, "unpaired surrogate in string");
				goto fail;
			} else if (cp == 0) {
				perr(ps, "U+0000 is not allowed in strings");
				goto fail;
			}
			o += utf8_put(o, cp);
		} else if (c < 0x20) {
			ps->p = q;
			perr(ps, "control character in string");
			goto fail;
		} else if (c < 0x80) {
			*o++ = (char)c;
			q++;
		} else {
			uint32_t cp;
			size_t k = utf8_seq((const unsigned char *)q, (const unsigned char *)close,
					    &cp);
			if (!k) {
				ps->p = q;
				perr(ps, "invalid UTF-8 in string");
				goto fail;
			}
			memcpy(o, q, k);
			o += k;
			q += k;
		}
	}
	*o = 0;
	ps->p = close + 1;
	return out;
fail:
	cJSON_free(out);
	return NULL;
}

static cJSON *parse_value(parser *ps);

static int enter(parser *ps)
{
	if (++ps->depth > ps->max_depth)
		return gpx_status_set(ps->st, GPX_INVALID_ARGUMENT,
				      "JSON nested too deeply (limit %d levels)", ps->max_depth);
	return 0;
}

static cJSON *parse_container(parser *ps, int is_obj)
{
	cJSON *c = is_obj ? cJSON_CreateObject() : cJSON_CreateArray();
	const char close = is_obj ? '}' : ']';
	if (!c) {
		pnomem(ps);
		return NULL;
	}
	if (enter(ps) < 0)
		goto fail;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return c;
	}
	for (;;) {
		char *key = NULL;
		skip_ws(ps);
		if (is_obj) {
			if (ps->p >= ps->end || *ps->p != '"') {
				perr(ps, "expected a string key");
				goto fail;
			}
			if (!(key = parse_string(ps)))
				goto fail;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				cJSON_free(key);
				perr(ps, "expected ':'");
				goto fail;
			}
			ps->p++;
		}
		cJSON *v = parse_value(ps);
		if (!v) {
			cJSON_free(key);
			goto fail;
		}
		v->string = key;
		cJSON_AddItemToArray(c, v); /* appends: O(1) since cJSON 1.7.13 */
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			break;
		}
		perr(ps, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
		goto fail;
	}
	ps->depth--;
	return c;
fail:
	cJSON_Delete(c);
	return NULL;
}

static cJSON *parse_literal(parser *ps, const char *word, cJSON *(*create)(void))
{
	size_t n = strlen(word);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
		perr(ps, "invalid literal");
		return NULL;
	}
	cJSON *v = create();
	if (!v) {
		pnomem(ps);
		return NULL;
	}
	ps->p += n;
	return v;
}

static cJSON *create_true(void)
{
	return cJSON_CreateTrue();
}

static cJSON *create_false(void)
{
	return cJSON_CreateFalse();
}

static cJSON *create_null(void)
{
	return cJSON_CreateNull();
}

/* A number node that keeps its source text (see json.h). */
static cJSON *number_node(const char *text, size_t n)
{
	char *t = cJSON_malloc(n + 1);
	if (!t)
		return NULL;
	memcpy(t, text, n);
	t[n] = 0;
	cJSON *v = cJSON_CreateNumber(strtod(t, NULL));
	if (!v) {
		cJSON_free(t);
		return NULL;
	}
	v->valuestring = t;
	return v;
}

static cJSON *parse_value(parser *ps)
{
	skip_ws(ps);
	if (ps->p >= ps->end) {
		perr(ps, "unexpected end of input");
		return NULL;
	}
	switch (*ps->p) {
	case '{': return parse_container(ps, 1);
	case '[': return parse_container(ps, 0);
	case '"': {
		char *s = parse_string(ps);
		if (!s)
			return NULL;
		cJSON *v = cJSON_CreateNull();
		if (!v) {
			cJSON_free(s);
			pnomem(ps);
			return NULL;
		}
		v->type = cJSON_String;
		v->valuestring = s;
		return v;
	}
	case 't': return parse_literal(ps, "true", create_true);
	case 'f': return parse_literal(ps, "false", create_false);
	case 'n': return parse_literal(ps, "null", create_null);
	default: {
		numparts np;
		const char *e = scan_number(ps->p, ps->end, &np);
		if (!e) {
			perr(ps, *ps->p == '-' || is_digit(*ps->p) ? "invalid number" :
								     "unexpected character");
			return NULL;
		}
		cJSON *v = number_node(ps->p, (size_t)(e - ps->p));
		if (!v) {
			pnomem(ps);
			return NULL;
		}
		ps->p = e;
		return v;
	}
	}
}

int gpx_json_parse(const char *json, size_t len, const gpx_json_opts *opts, cJSON **out,
		   gpx_status *st)
{
	size_t max_input = opts && opts->max_input ? opts->max_input : GPX_JSON_DEFAULT_MAX_INPUT;
	int max_depth = opts && opts->max_depth > 0 ? opts->max_depth : GPX_JSON_DEFAULT_MAX_DEPTH;
	*out = NULL;
	if (len > max_input)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "JSON input of %zu bytes exceeds the limit of %zu", len,
				      max_input);
	if (!json) {
		if (len)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT, "no JSON input");
		json = "";
	}
	parser ps = {.start = json, .p = json, .end = json + len, .max_depth = max_depth, .st = st};
	cJSON *root = parse_value(&ps);
	if (!root)
		return -1;
	skip_ws(&ps);
	if (ps.p != ps.end) {
		cJSON_Delete(root);
		return perr(&ps, "unexpected data after the JSON value");
	}
	*out = root;
	return 0;
}

/* ---- decoder ------------------------------------------------------------ */

typedef struct dec {
	jpath path;
	int depth, max_depth;
	gpx_status *st;
} dec;

static int dfail(dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int dfail(dec *d, const char *fmt, ...)
{
	char msg[GPX_STATUS_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->path.len)
		return gpx_status_set(d->st, GPX_INVALID_ARGUMENT, "field \"%s\": %s", d->path.buf,
				      msg);
	return gpx_status_set(d->st, GPX_INVALID_ARGUMENT, "invalid JSON value: %s", msg);
}

static int dnomem(dec *d)
{
	return gpx_status_set(d->st, GPX_RESOURCE_EXHAUSTED, "out of memory decoding JSON");
}

static int dexpected(dec *d, const char *what, const cJSON *j)
{
	char b[GOT_MAX + 16];
	return dfail(d, "expected %s, got %s", what, describe(j, b, sizeof(b)));
}

static int denter(dec *d)
{
	if (++d->depth > d->max_depth)
		return dfail(d, "JSON nested too deeply (limit %d levels)", d->max_depth);
	return 0;
}

/* String of a string node; trees built by other code may hold NULL. */
static const char *jstr(const cJSON *j)
{
	return j->valuestring ? j->valuestring : "";
}

static size_t count_children(const cJSON *j)
{
	size_t n = 0;
	for (const cJSON *c = j->child; c; c = c->next)
		n++;
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Map and Struct keys must be unique; sorting keeps this O(n log n). */
static int check_unique_keys(dec *d, const cJSON *obj, size_t n)
{
	if (n < 2)
		return 0;
	const char **keys = malloc(n * sizeof(*keys));
	if (!keys)
		return dnomem(d);
	size_t k = 0;
	for (const cJSON *c = obj->child; c; c = c->next)
		keys[k++] = c->string ? c->string : "";
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (size_t i = 1; i < n; i++) {
		if (!strcmp(keys[i - 1], keys[i])) {
			char b[GOT_MAX + 16];
			excerpt(b, sizeof(b), keys[i], 1);
			free(keys);
			return dfail(d, "duplicate key %s", b);
		}
	}
	free(keys);
	return 0;
}

static int dec_int(dec *d, const cJSON *j, int is_signed, uint64_t max, const char *tname,
		   scalar *out)
{
	int neg = 0, inexact = 0, r;
	uint64_t mag = 0;
	char b[GOT_MAX + 16];
	if (cJSON_IsNumber(j))
		r = int_from_json_number(j, &neg, &mag, &inexact);
	else if (cJSON_IsString(j))
		r = int_from_text(jstr(j), strlen(jstr(j)), &neg, &mag);
	else
		return dexpected(d, "integer", j);
	if (r == INT_SYNTAX || r == INT_FRACTION)
		return dexpected(d, "integer", j);
	if (r == INT_OK && neg && mag == 0)
		neg = 0;
	if (r == INT_RANGE || (neg && (!is_signed || mag > max + 1)) || (!neg && mag > max))
		return dfail(d, "value %s out of range for %s", describe(j, b, sizeof(b)), tname);
	if (inexact)
		return dfail(
			d,
			"value %s cannot be represented exactly as a JSON number; send it as a string",
			describe(j, b, sizeof(b)));
	/* two's complement conversion without overflow: -mag */
	uint64_t u = neg ? (uint64_t)0 - mag : mag;
	if (max > UINT32_MAX)
		out->u64 = u;
	else if (is_signed)
		out->i32 = (int32_t)(int64_t)u;
	else
		out->u32 = (uint32_t)u;
	return 0;
}

static int dec_float(dec *d, const cJSON *j, int is_float, scalar *out)
{
	double v;
	char b[GOT_MAX + 16];
	if (cJSON_IsNumber(j)) {
		v = j->valuedouble;
		if (!isfinite(v))
			return dfail(d, "value %s out of range", describe(j, b, sizeof(b)));
	} else if (cJSON_IsString(j)) {
		const char *s = jstr(j);
		numparts np;
		if (!strcmp(s, "NaN")) {
			v = NAN;
		} else if (!strcmp(s, "Infinity")) {
			v = INFINITY;
		} else if (!strcmp(s, "-Infinity")) {
			v = -INFINITY;
		} else if (*s && scan_number(s, s + strlen(s), &np) == s + strlen(s)) {
			v = strtod(s, NULL);
			if (!isfinite(v))
				return dfail(d, "value %s out of range", describe(j, b, sizeof(b)));
		} else {
			return dexpected(d, "number", j);
		}
	} else {
		return dexpected(d, "number", j);
	}
	if (is_float) {
		float f = (float)v;
		if (isinf(f) && !isinf(v))
			return dfail(d, "value %s out of range for float",
				     describe(j, b, sizeof(b)));
		out->f32 = f;
	} else {
		out->f64 = v;
	}
	return 0;
}

static int dec_enum(dec *d, const ProtobufCFieldDescriptor *f, const cJSON *j, scalar *out)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;
	if (cJSON_IsNull(j) && is_null_value_enum(f)) {
		out->i32 = 0;
		return 0;
	}
	if (cJSON_IsString(j)) {
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value_by_name(ed, jstr(j));
		if (!ev) {
			char b[GOT_MAX + 16];
			return dfail(d, "unknown enum value %s for %s", describe(j, b, sizeof(b)),
				     ed->name);
		}
		out->i32 = ev->value;
		return 0;
	}
	if (cJSON_IsNumber(j)) /* proto3 enums are open: any int32 */
		return dec_int(d, j, 1, INT32_MAX, "enum", out);
	return dexpected(d, "enum name or number", j);
}

static int dec_message_new(dec *d, const ProtobufCMessageDescriptor *desc, const cJSON *j,
			   ProtobufCMessage **out);

/* Decodes j as one value of f's type (one element for repeated fields).
 * On success the caller owns what *out points to. */
static int dec_value(dec *d, const ProtobufCFieldDescriptor *f, const cJSON *j, scalar *out)
{
	memset(out, 0, sizeof(*out));
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: return dec_int(d, j, 1, INT32_MAX, "int32", out);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: return dec_int(d, j, 0, UINT32_MAX, "uint32", out);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: return dec_int(d, j, 1, INT64_MAX, "int64", out);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: return dec_int(d, j, 0, UINT64_MAX, "uint64", out);
	case PROTOBUF_C_TYPE_FLOAT: return dec_float(d, j, 1, out);
	case PROTOBUF_C_TYPE_DOUBLE: return dec_float(d, j, 0, out);
	case PROTOBUF_C_TYPE_BOOL:
		if (!cJSON_IsBool(j))
			return dexpected(d, "boolean", j);
		out->b = cJSON_IsTrue(j);
		return 0;
	case PROTOBUF_C_TYPE_ENUM: return dec_enum(d, f, j, out);
	case PROTOBUF_C_TYPE_STRING: {
		if (!cJSON_IsString(j))
			return dexpected(d, "string", j);
		const char *s = jstr(j);
		size_t n = strlen(s);
		if (!utf8_valid(s, n))
			return dfail(d, "string is not valid UTF-8");
		if (!(out->str = malloc(n + 1)))
			return dnomem(d);
		memcpy(out->str, s, n + 1);
		return 0;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		if (!cJSON_IsString(j))
			return dexpected(d, "base64 string", j);
		size_t n = strlen(jstr(j));
		if (!n)
			return 0;
		uint8_t *buf = malloc(gpx_base64_decoded_max(n));
		if (!buf)
			return dnomem(d);
		long k = gpx_base64_decode(buf, jstr(j), n);
		if (k < 0) {
			free(buf);
			return dfail(d, "invalid base64");
		}
		out->bin.data = buf;
		out->bin.len = (size_t)k;
		return 0;
	}
	case PROTOBUF_C_TYPE_MESSAGE: return dec_message_new(d, f->descriptor, j, &out->msg);
	}
	return dfail(d, "unsupported field type");
}

/* Decodes a map key (always a JSON string) per the key field's type. */
static int dec_map_key(dec *d, const ProtobufCFieldDescriptor *kf, const char *key, scalar *out)
{
	cJSON tmp;
	memset(&tmp, 0, sizeof(tmp));
	memset(out, 0, sizeof(*out));
	if (kf->type == PROTOBUF_C_TYPE_BOOL) {
		if (strcmp(key, "true") != 0 && strcmp(key, "false") != 0)
			return dfail(d, "map key must be \"true\" or \"false\"");
		out->b = key[0] == 't';
		return 0;
	}
	if (kf->type != PROTOBUF_C_TYPE_STRING) {
		/* integer keys: plain decimal only, so that distinct keys stay
		 * distinct ("1" vs "1.0") */
		for (const char *p = key; *p; p++)
			if (!is_digit(*p) && !(p == key && *p == '-'))
				return dfail(d, "map key must be an integer");
	}
	tmp.type = cJSON_String;
	tmp.valuestring = (char *)key;
	return dec_value(d, kf, &tmp, out);
}

static int dec_repeated(dec *d, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			const cJSON *j)
{
	if (!cJSON_IsArray(j))
		return dexpected(d, "array", j);
	if (denter(d) < 0)
		return -1;
	size_t n = count_children(j), esz = type_size(f->type), i = 0;
	size_t *np = quant_ptr(m, f);
	void **arrp = field_ptr(m, f);
	if (n) {
		/* field is unset here: each field is decoded at most once */
		if (!(*arrp = calloc(n, esz)))
			return dnomem(d);
		*np = 0;
	}
	for (const cJSON *c = j->child; c; c = c->next, i++) {
		scalar s;
		size_t old = path_push_index(&d->path, i);
		if (cJSON_IsNull(c) && !null_is_value(f))
			return dfail(d, "null is not allowed in arrays");
		if (dec_value(d, f, c, &s) < 0)
			return -1;
		path_pop(&d->path, old);
		memcpy((char *)*arrp + i * esz, &s, esz);
		(*np)++;
	}
	d->depth--;
	return 0;
}

static int dec_map(dec *d, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const cJSON *j)
{
	if (!cJSON_IsObject(j))
		return dexpected(d, "object", j);
	if (denter(d) < 0)
		return -1;
	size_t n = count_children(j);
	if (check_unique_keys(d, j, n) < 0)
		return -1;
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
	size_t *np = quant_ptr(m, f);
	ProtobufCMessage ***arrp = field_ptr(m, f);
	if (n) {
		if (!(*arrp = calloc(n, sizeof(ProtobufCMessage *))))
			return dnomem(d);
		*np = 0;
	}
	for (const cJSON *c = j->child; c; c = c->next) {
		const char *key = c->string ? c->string : "";
		size_t old = path_push_key(&d->path, key);
		ProtobufCMessage *e = malloc(ed->sizeof_message);
		if (!e)
			return dnomem(d);
		protobuf_c_message_init(ed, e);
		(*arrp)[(*np)++] = e;
		scalar s;
		if (dec_map_key(d, kf, key, &s) < 0)
			return -1;
		store_singular(e, kf, &s);
		if (cJSON_IsNull(c) && !null_is_value(vf))
			return dfail(d, "null is not allowed as a map value");
		if (dec_value(d, vf, c, &s) < 0)
			return -1;
		store_singular(e, vf, &s);
		path_pop(&d->path, old);
	}
	d->depth--;
	return 0;
}

static int dec_field(dec *d, const ProtobufCMessageDescriptor *desc, ProtobufCMessage *m,
		     const ProtobufCFieldDescriptor *f, const cJSON *j)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		if (cJSON_IsNull(j))
			return 0;
		return is_map_field(desc, f) ? dec_map(d, m, f, j) : dec_repeated(d, m, f, j);
	}
	if (cJSON_IsNull(j) && !null_is_value(f))
		return 0;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t cs = *(uint32_t *)quant_ptr(m, f);
		if (cs && cs != f->id) {
			const ProtobufCFieldDescriptor *o =
				protobuf_c_message_descriptor_get_field(desc, cs);
			char name[128];
			gpx_json_name(o ? o->name : "?", name, sizeof(name));
			return dfail(d,
				     "only one field of a oneof may be set, \"%s\" is set already",
				     name);
		}
	}
	scalar s;
	if (dec_value(d, f, j, &s) < 0)
		return -1;
	store_singular(m, f, &s);
	return 0;
}

static int dec_object(dec *d, const ProtobufCMessageDescriptor *desc, ProtobufCMessage *m,
		      const cJSON *j)
{
	unsigned char seen_small[64], *seen = seen_small;
	int rc = -1;
	if (!cJSON_IsObject(j))
		return dexpected(d, "object", j);
	if (denter(d) < 0)
		return -1;
	if (desc->n_fields > sizeof(seen_small)) {
		if (!(seen = calloc(desc->n_fields, 1)))
			return dnomem(d);
	} else {
		memset(seen, 0, sizeof(seen_small));
	}
	for (const cJSON *c = j->child; c; c = c->next) {
		if (!c->string)
			continue;
		const ProtobufCFieldDescriptor *f = find_field(desc, c->string, strlen(c->string));
		if (!f)
			continue; /* unknown fields are ignored */
		size_t idx = (size_t)(f - desc->fields);
		size_t old = path_push_field(&d->path, f);
		if (seen[idx]) {
			dfail(d, "field given more than once");
			goto out;
		}
		seen[idx] = 1;
		if (dec_field(d, desc, m, f, c) < 0)
			goto out;
		path_pop(&d->path, old);
	}
	d->depth--;
	rc = 0;
out:
	if (seen != seen_small)
		free(seen);
	return rc;
}

/* Civil calendar <-> days since 1970-01-01 (proleptic Gregorian), after
 * Howard Hinnant's algorithms; exact for the whole Timestamp range. */
static int64_t days_from_civil(int64_t y, unsigned mo, unsigned dd)
{
	y -= mo <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + dd - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *mo, unsigned *dd)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*dd = doy - (153 * mp + 2) / 5 + 1;
	*mo = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*mo <= 2);
}

static int read_digits(const char **p, const char *end, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (*p >= end || !is_digit(**p))
			return -1;
		*v = *v * 10 + (unsigned)(**p - '0');
	}
	return 0;
}

/* Consumes one character that is any of chars. */
static int expect(const char **p, const char *end, const char *chars)
{
	if (*p >= end || !strchr(chars, **p) || !**p)
		return -1;
	(*p)++;
	return 0;
}

/* Optional ".d{1,9}" into nanoseconds. */
static int read_fraction(const char **p, const char *end, int32_t *nanos)
{
	*nanos = 0;
	if (*p >= end || **p != '.')
		return 0;
	(*p)++;
	int k = 0;
	int32_t v = 0;
	while (*p < end && is_digit(**p) && k < 9) {
		v = v * 10 + (**p - '0');
		(*p)++;
		k++;
	}
	if (!k || (*p < end && is_digit(**p)))
		return -1;
	while (k++ < 9)
		v *= 10;
	*nanos = v;
	return 0;
}

/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM), 't'/'z' too. */
static int parse_timestamp(const char *s, int64_t *secs, int32_t *nanos)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = s, *end = s + strlen(s);
	unsigned y, mo, dd, h, mi, se;
	if (read_digits(&p, end, 4, &y) || expect(&p, end, "-") || read_digits(&p, end, 2, &mo) ||
	    expect(&p, end, "-") || read_digits(&p, end, 2, &dd) || expect(&p, end, "Tt") ||
	    read_digits(&p, end, 2, &h) || expect(&p, end, ":") || read_digits(&p, end, 2, &mi) ||
	    expect(&p, end, ":") || read_digits(&p, end, 2, &se) || read_fraction(&p, end, nanos) ||
	    p >= end)
		return -1;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1 || mo < 1 || mo > 12 || dd < 1 || dd > mdays[mo - 1] + (mo == 2 && leap) ||
	    h > 23 || mi > 59 || se > 59)
		return -1;
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int neg = *p++ == '-';
		unsigned oh, om;
		if (read_digits(&p, end, 2, &oh) || expect(&p, end, ":") ||
		    read_digits(&p, end, 2, &om) || oh > 23 || om > 59)
			return -1;
		off = (int64_t)(oh * 3600 + om * 60) * (neg ? -1 : 1);
	} else {
		return -1;
	}
	if (p != end)
		return -1;
	int64_t t = days_from_civil(y, mo, dd) * 86400 + h * 3600 + mi * 60 + se - off;
	if (t < TS_MIN_SECONDS || t > TS_MAX_SECONDS)
		return -1;
	*secs = t;
	return 0;
}

/* "-12.5s": seconds with up to 9 fractional digits and an 's'. */
static int parse_duration(const char *s, int64_t *secs, int32_t *nanos)
{
	const char *p = s, *end = s + strlen(s);
	int neg = 0;
	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	if (p >= end || !is_digit(*p))
		return -1;
	int64_t v = 0;
	while (p < end && is_digit(*p)) {
		v = v * 10 + (*p++ - '0');
		if (v > DUR_MAX_SECONDS)
			return -1;
	}
	if (read_fraction(&p, end, nanos) || p >= end || *p++ != 's' || p != end)
		return -1;
	*secs = neg ? -v : v;
	if (neg)
		*nanos = -*nanos;
	return 0;
}

/* Timestamp and Duration: int64 seconds, int32 nanos. */
static int dec_seconds_nanos(dec *d, const ProtobufCMessageDescriptor *desc, ProtobufCMessage *m,
			     const cJSON *j, int is_ts)
{
	const ProtobufCFieldDescriptor *fs = wkt_field(desc, "seconds", PROTOBUF_C_TYPE_INT64);
	const ProtobufCFieldDescriptor *fn = wkt_field(desc, "nanos", PROTOBUF_C_TYPE_INT32);
	const char *what = is_ts ? "RFC 3339 timestamp" : "duration";
	int64_t secs;
	int32_t nanos;
	if (!fs || !fn)
		return gpx_status_set(d->st, GPX_INTERNAL, "unexpected layout of %s", desc->name);
	if (!cJSON_IsString(j))
		return dexpected(d, what, j);
	if ((is_ts ? parse_timestamp : parse_duration)(jstr(j), &secs, &nanos) < 0) {
		char b[GOT_MAX + 16];
		return dfail(d, "invalid %s %s", what, describe(j, b, sizeof(b)));
	}
	*(int64_t *)field_ptr(m, fs) = secs;
	*(int32_t *)field_ptr(m, fn) = nanos;
	return 0;
}

/* FieldMask: "a.fooBar,b" -> paths ["a.foo_bar", "b"]. */
static int dec_fieldmask(dec *d, const ProtobufCMessageDescriptor *desc, ProtobufCMessage *m,
			 const cJSON *j)
{
	const ProtobufCFieldDescriptor *f = wkt_field(desc, "paths", PROTOBUF_C_TYPE_STRING);
	if (!f || f->label != PROTOBUF_C_LABEL_REPEATED)
		return gpx_status_set(d->st, GPX_INTERNAL, "unexpected layout of %s", desc->name);
	if (!cJSON_IsString(j))
		return dexpected(d, "field mask string", j);
	const char *s = jstr(j);
	if (!*s)
		return 0;
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	char ***arrp = field_ptr(m, f);
	size_t *np = quant_ptr(m, f);
	if (!(*arrp = calloc(n, sizeof(char *))))
		return dnomem(d);
	for (const char *p = s;; p++) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p), upper = 0;
		for (size_t i = 0; i < len; i++) {
			if (p[i] == '_' || (unsigned char)p[i] >= 0x80)
				return dfail(d, "invalid field mask path");
			upper += p[i] >= 'A' && p[i] <= 'Z';
		}
		char *out = malloc(len + upper + 1), *o = out;
		if (!out)
			return dnomem(d);
		for (size_t i = 0; i < len; i++) {
			if (p[i] >= 'A' && p[i] <= 'Z') {
				*o++ = '_';
				*o++ = (char)(p[i] - 'A' + 'a');
			} else {
				*o++ = p[i];
			}
		}
		*o = 0;
		(*arrp)[(*np)++] = out;
		if (!e)
			break;
		p = e;
	}
	return 0;
}

/* google.protobuf.Value: any JSON value. */
static int dec_wkt_value(dec *d, const ProtobufCMessageDescriptor *desc, ProtobufCMessage *m,
			 const cJSON *j)
{
	const char *member;
	switch (j ? j->type & 0xff : 0) {
	case cJSON_NULL: member = "null_value"; break;
	case cJSON_False:
	case cJSON_True: member = "bool_value"; break;
	case cJSON_Number: member = "number_value"; break;
	case cJSON_String: member = "string_value"; break;
	case cJSON_Object: member = "struct_value"; break;
	case cJSON_Array: member = "list_value"; break;
	default: return dexpected(d, "JSON value", j);
	}
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(desc, member);
	if (!f)
		return gpx_status_set(d->st, GPX_INTERNAL, "unexpected layout of %s", desc->name);
	scalar s;
	if (dec_value(d, f, j, &s) < 0)
		return -1;
	store_singular(m, f, &s);
	return 0;
}

static int dec_message_fill(dec *d, const ProtobufCMessageDescriptor *desc, ProtobufCMessage *m,
			    const cJSON *j)
{
	switch (wkt_of(desc)) {
	case WKT_TIMESTAMP: return dec_seconds_nanos(d, desc, m, j, 1);
	case WKT_DURATION: return dec_seconds_nanos(d, desc, m, j, 0);
	case WKT_WRAPPER: {
		scalar s;
		if (dec_value(d, &desc->fields[0], j, &s) < 0)
			return -1;
		store_singular(m, &desc->fields[0], &s);
		return 0;
	}
	case WKT_VALUE: return dec_wkt_value(d, desc, m, j);
	case WKT_STRUCT: {
		const ProtobufCFieldDescriptor *f =
			wkt_field(desc, "fields", PROTOBUF_C_TYPE_MESSAGE);
		if (!f || !is_map_field(desc, f))
			return gpx_status_set(d->st, GPX_INTERNAL, "unexpected layout of %s",
					      desc->name);
		return dec_map(d, m, f, j);
	}
	case WKT_LIST: {
		const ProtobufCFieldDescriptor *f =
			wkt_field(desc, "values", PROTOBUF_C_TYPE_MESSAGE);
		if (!f || f->label != PROTOBUF_C_LABEL_REPEATED)
			return gpx_status_set(d->st, GPX_INTERNAL, "unexpected layout of %s",
					      desc->name);
		return dec_repeated(d, m, f, j);
	}
	case WKT_FIELDMASK: return dec_fieldmask(d, desc, m, j);
	case WKT_ANY: return dfail(d, "google.protobuf.Any is not supported in JSON");
	case WKT_NONE: break;
	}
	return dec_object(d, desc, m, j);
}

static int dec_message_new(dec *d, const ProtobufCMessageDescriptor *desc, const cJSON *j,
			   ProtobufCMessage **out)
{
	ProtobufCMessage *m = malloc(desc->sizeof_message);
	if (!m)
		return dnomem(d);
	protobuf_c_message_init(desc, m);
	if (dec_message_fill(d, desc, m, j) < 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		return -1;
	}
	*out = m;
	return 0;
}

static int from_cjson(const ProtobufCMessageDescriptor *desc, const cJSON *root, int max_depth,
		      ProtobufCMessage **out, gpx_status *st)
{
	dec d;
	memset(&d, 0, sizeof(d));
	d.max_depth = max_depth > 0 ? max_depth : GPX_JSON_DEFAULT_MAX_DEPTH;
	d.st = st;
	*out = NULL;
	if (!root)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "no JSON value");
	return dec_message_new(&d, desc, root, out);
}

int gpx_json_from_cjson(const ProtobufCMessageDescriptor *desc, const cJSON *root,
			ProtobufCMessage **out, gpx_status *st)
{
	return from_cjson(desc, root, 0, out, st);
}

int gpx_json_decode_opts(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
			 const gpx_json_opts *opts, ProtobufCMessage **out, gpx_status *st)
{
	cJSON *root;
	*out = NULL;
	if (gpx_json_parse(json, len, opts, &root, st) < 0)
		return -1;
	int rc = from_cjson(desc, root, opts ? opts->max_depth : 0, out, st);
	cJSON_Delete(root);
	return rc;
}

int gpx_json_decode(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
		    ProtobufCMessage **out, gpx_status *st)
{
	return gpx_json_decode_opts(desc, json, len, NULL, out, st);
}

/* ---- encoder ------------------------------------------------------------ */

typedef struct enc {
	gpx_buf *out;
	const gpx_json_opts *o;
	gpx_status *st;
	int depth;
	int full; /* an append failed: the buffer limit was reached */
	jpath path;
} enc;

static int efail(enc *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int efail(enc *e, const char *fmt, ...)
{
	char msg[GPX_STATUS_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (e->path.len)
		return gpx_status_set(e->st, GPX_INTERNAL, "cannot encode field \"%s\" as JSON: %s",
				      e->path.buf, msg);
	return gpx_status_set(e->st, GPX_INTERNAL, "cannot encode message as JSON: %s", msg);
}

static void put(enc *e, const void *p, size_t n)
{
	if (!e->full && gpx_buf_append(e->out, p, n) < 0)
		e->full = 1;
}

static void put_str(enc *e, const char *s)
{
	put(e, s, strlen(s));
}

static void put_ch(enc *e, char c)
{
	put(e, &c, 1);
}

/* A JSON string from n bytes of s; invalid UTF-8 becomes U+FFFD so the
 * output is always valid. */
static void put_json_string(enc *e, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
	put_ch(e, '"');
	while (p < end) {
		unsigned char c = *p;
		const char *esc = NULL;
		char ub[8];
		size_t k = 1;
		uint32_t cp;
		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else if (c == '\b')
			esc = "\\b";
		else if (c == '\f')
			esc = "\\f";
		else if (c < 0x20) {
			snprintf(ub, sizeof(ub), "\\u%04x", c);
			esc = ub;
		} else if (c >= 0x80 && !(k = utf8_seq(p, end, &cp))) {
			esc = "\xef\xbf\xbd";
			k = 1;
		}
		if (esc) {
			put(e, run, (size_t)(p - run));
			put_str(e, esc);
			p += k;
			run = p;
		} else {
			p += k;
		}
	}
	put(e, run, (size_t)(p - run));
	put_ch(e, '"');
}

static void put_key(enc *e, const ProtobufCFieldDescriptor *f)
{
	char name[128];
	put_ch(e, '"');
	if (e->o->use_proto_names) {
		put_str(e, f->name);
	} else if (gpx_json_name(f->name, name, sizeof(name)) < sizeof(name)) {
		put_str(e, name);
	} else {
		int up = 0;
		for (const char *p = f->name; *p; p++) {
			if (*p == '_') {
				up = 1;
				continue;
			}
			put_ch(e, up ? ascii_upper(*p) : *p);
			up = 0;
		}
	}
	put(e, "\":", 2);
}

/* Shortest %g precision that reads back as the same value. */
static void put_double(enc *e, double v, int is_float)
{
	char b[40];
	if (isnan(v)) {
		put_str(e, "\"NaN\"");
		return;
	}
	if (isinf(v)) {
		put_str(e, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
		return;
	}
	for (int prec = is_float ? 6 : 15; prec <= (is_float ? 9 : 17); prec++) {
		snprintf(b, sizeof(b), "%.*g", prec, v);
		double back = strtod(b, NULL);
		if (is_float ? (float)back == (float)v : back == v)
			break;
	}
	put_str(e, b);
}

static void put_base64(enc *e, const uint8_t *data, size_t n)
{
	size_t k = gpx_base64_encoded_len(n);
	put_ch(e, '"');
	if (!e->full && gpx_buf_reserve(e->out, k) < 0)
		e->full = 1;
	if (!e->full) {
		gpx_base64_encode((char *)e->out->data + e->out->len, data, n, 0);
		e->out->len += k;
	}
	put_ch(e, '"');
}

static int enc_message(enc *e, const ProtobufCMessage *m);

/* One value of f's type stored at p. */
static int enc_value(enc *e, const ProtobufCFieldDescriptor *f, const void *p)
{
	char b[48];
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		snprintf(b, sizeof(b), "%" PRId32, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		snprintf(b, sizeof(b), "%" PRIu32, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		snprintf(b, sizeof(b), "\"%" PRId64 "\"", *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		snprintf(b, sizeof(b), "\"%" PRIu64 "\"", *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT: put_double(e, *(const float *)p, 1); return 0;
	case PROTOBUF_C_TYPE_DOUBLE: put_double(e, *(const double *)p, 0); return 0;
	case PROTOBUF_C_TYPE_BOOL:
		put_str(e, *(const protobuf_c_boolean *)p ? "true" : "false");
		return 0;
	case PROTOBUF_C_TYPE_ENUM: {
		int32_t v = *(const int32_t *)p;
		const ProtobufCEnumValue *ev;
		if (is_null_value_enum(f)) {
			put_str(e, "null");
			return 0;
		}
		if (!e->o->enums_as_ints &&
		    (ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v)) != NULL) {
			put_json_string(e, ev->name, strlen(ev->name));
			return 0;
		}
		snprintf(b, sizeof(b), "%" PRId32, v);
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		put_json_string(e, s ? s : "", s ? strlen(s) : 0);
		return 0;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *bd = p;
		put_base64(e, bd->data, bd->data ? bd->len : 0);
		return 0;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sm = *(ProtobufCMessage *const *)p;
		if (sm)
			return enc_message(e, sm);
		/* a set oneof member or map value without a message: print
		 * the default instance */
		const ProtobufCMessageDescriptor *sd = f->descriptor;
		if (wkt_of(sd) == WKT_VALUE) {
			put_str(e, "null");
			return 0;
		}
		ProtobufCMessage *tmp = malloc(sd->sizeof_message);
		if (!tmp)
			return gpx_status_set(e->st, GPX_RESOURCE_EXHAUSTED,
					      "out of memory encoding JSON");
		protobuf_c_message_init(sd, tmp);
		int rc = enc_message(e, tmp);
		free(tmp);
		return rc;
	}
	}
	put_str(e, b);
	return 0;
}

static int enc_repeated(enc *e, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	size_t n = *(const size_t *)quant_ptr(m, f), esz = type_size(f->type);
	const char *arr = *(char *const *)field_ptr(m, f);
	put_ch(e, '[');
	for (size_t i = 0; arr && i < n; i++) {
		if (i)
			put_ch(e, ',');
		size_t old = path_push_index(&e->path, i);
		if (enc_value(e, f, arr + i * esz) < 0)
			return -1;
		path_pop(&e->path, old);
	}
	put_ch(e, ']');
	return 0;
}

static int enc_map(enc *e, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	size_t n = *(const size_t *)quant_ptr(m, f);
	ProtobufCMessage *const *arr = *(ProtobufCMessage * *const *)field_ptr(m, f);
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
	int first = 1;
	put_ch(e, '{');
	for (size_t i = 0; arr && i < n; i++) {
		const ProtobufCMessage *en = arr[i];
		if (!en)
			continue;
		const void *kp = field_ptr(en, kf);
		char kb[48];
		const char *key = kb;
		switch (kf->type) {
		case PROTOBUF_C_TYPE_STRING:
			key = *(char *const *)kp ? *(char *const *)kp : "";
			break;
		case PROTOBUF_C_TYPE_BOOL:
			key = *(const protobuf_c_boolean *)kp ? "true" : "false";
			break;
		case PROTOBUF_C_TYPE_INT64:
		case PROTOBUF_C_TYPE_SINT64:
		case PROTOBUF_C_TYPE_SFIXED64:
			snprintf(kb, sizeof(kb), "%" PRId64, *(const int64_t *)kp);
			break;
		case PROTOBUF_C_TYPE_UINT64:
		case PROTOBUF_C_TYPE_FIXED64:
			snprintf(kb, sizeof(kb), "%" PRIu64, *(const uint64_t *)kp);
			break;
		case PROTOBUF_C_TYPE_UINT32:
		case PROTOBUF_C_TYPE_FIXED32:
			snprintf(kb, sizeof(kb), "%" PRIu32, *(const uint32_t *)kp);
			break;
		default: snprintf(kb, sizeof(kb), "%" PRId32, *(const int32_t *)kp); break;
		}
		if (!first)
			put_ch(e, ',');
		first = 0;
		put_json_string(e, key, strlen(key));
		put_ch(e, ':');
		size_t old = path_push_key(&e->path, key);
		if (enc_value(e, vf, field_ptr(en, vf)) < 0)
			return -1;
		path_pop(&e->path, old);
	}
	put_ch(e, '}');
	return 0;
}

static int is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	static const unsigned char zero[8];
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return !s || !*s;
	}
	case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE: return *(ProtobufCMessage *const *)p == NULL;
	default:
		/* bit pattern, so that -0.0 counts as set, as in protobuf */
		return !memcmp(p, zero, type_size(f->type));
	}
}

static int should_emit(enc *e, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const void *p = field_ptr(m, f);
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)quant_ptr(m, f) == f->id;
	switch (f->label) {
	case PROTOBUF_C_LABEL_REQUIRED: return 1;
	case PROTOBUF_C_LABEL_OPTIONAL:
		if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
			return *(void *const *)p != NULL;
		return *(const protobuf_c_boolean *)quant_ptr(m, f) != 0;
	case PROTOBUF_C_LABEL_REPEATED:
		return *(const size_t *)quant_ptr(m, f) > 0 || e->o->emit_defaults;
	case PROTOBUF_C_LABEL_NONE:
		if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			return *(void *const *)p != NULL;
		return e->o->emit_defaults || !is_default(f, p);
	}
	return 0;
}

static void put_nanos(enc *e, int32_t nanos)
{
	char b[16];
	if (!nanos)
		return;
	if (nanos % 1000000 == 0)
		snprintf(b, sizeof(b), ".%03" PRId32, nanos / 1000000);
	else if (nanos % 1000 == 0)
		snprintf(b, sizeof(b), ".%06" PRId32, nanos / 1000);
	else
		snprintf(b, sizeof(b), ".%09" PRId32, nanos);
	put_str(e, b);
}

static int enc_seconds_nanos(enc *e, const ProtobufCMessage *m, int is_ts)
{
	const ProtobufCMessageDescriptor *desc = m->descriptor;
	const ProtobufCFieldDescriptor *fs = wkt_field(desc, "seconds", PROTOBUF_C_TYPE_INT64);
	const ProtobufCFieldDescriptor *fn = wkt_field(desc, "nanos", PROTOBUF_C_TYPE_INT32);
	if (!fs || !fn)
		return efail(e, "unexpected layout of %s", desc->name);
	int64_t s = *(const int64_t *)field_ptr(m, fs);
	int32_t n = *(const int32_t *)field_ptr(m, fn);
	char b[64];
	if (is_ts) {
		if (s < TS_MIN_SECONDS || s > TS_MAX_SECONDS || n < 0 || n > 999999999)
			return efail(e, "timestamp out of range");
		int64_t days = s / 86400, rem = s % 86400, y;
		unsigned mo, dd;
		if (rem < 0) {
			rem += 86400;
			days--;
		}
		civil_from_days(days, &y, &mo, &dd);
		snprintf(b, sizeof(b), "\"%04d-%02u-%02uT%02d:%02d:%02d", (int)y, mo, dd,
			 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
		put_str(e, b);
		put_nanos(e, n);
		put_str(e, "Z\"");
		return 0;
	}
	if (s < -DUR_MAX_SECONDS || s > DUR_MAX_SECONDS || n < -999999999 || n > 999999999 ||
	    (s > 0 && n < 0) || (s < 0 && n > 0))
		return efail(e, "duration out of range");
	int neg = s < 0 || n < 0;
	snprintf(b, sizeof(b), "\"%s%" PRId64, neg ? "-" : "", s < 0 ? -s : s);
	put_str(e, b);
	put_nanos(e, n < 0 ? -n : n);
	put_str(e, "s\"");
	return 0;
}

static int enc_fieldmask(enc *e, const ProtobufCMessage *m)
{
	const ProtobufCFieldDescriptor *f =
		wkt_field(m->descriptor, "paths", PROTOBUF_C_TYPE_STRING);
	if (!f || f->label != PROTOBUF_C_LABEL_REPEATED)
		return efail(e, "unexpected layout of %s", m->descriptor->name);
	size_t n = *(const size_t *)quant_ptr(m, f);
	char *const *paths = *(char **const *)field_ptr(m, f);
	gpx_buf tmp;
	gpx_buf_init(&tmp, 0);
	int rc = 0;
	for (size_t i = 0; paths && i < n; i++) {
		const char *s = paths[i] ? paths[i] : "";
		if (i && gpx_buf_append(&tmp, ",", 1) < 0)
			rc = -1;
		for (const char *p = s; *p && rc == 0; p++) {
			/* only paths that map back to themselves have a JSON form */
			if ((*p >= 'A' && *p <= 'Z') ||
			    (*p == '_' && !(p[1] >= 'a' && p[1] <= 'z'))) {
				gpx_buf_free(&tmp);
				return efail(e, "field mask path \"%s\" has no JSON form", s);
			}
			char c = *p == '_' ? ascii_upper(*++p) : *p;
			if (gpx_buf_append(&tmp, &c, 1) < 0)
				rc = -1;
		}
	}
	if (rc < 0) {
		gpx_buf_free(&tmp);
		return gpx_status_set(e->st, GPX_RESOURCE_EXHAUSTED, "out of memory encoding JSON");
	}
	put_json_string(e, tmp.data ? (const char *)tmp.data : "", tmp.len);
	gpx_buf_free(&tmp);
	return 0;
}

static int enc_wkt_value(enc *e, const ProtobufCMessage *m)
{
	const ProtobufCFieldDescriptor *f = NULL;
	for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
		const ProtobufCFieldDescriptor *c = &m->descriptor->fields[i];
		if ((c->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)quant_ptr(m, c) == c->id)
			f = c;
	}
	if (!f) { /* no kind set: the closest JSON is null */
		put_str(e, "null");
		return 0;
	}
	if (f->type == PROTOBUF_C_TYPE_DOUBLE && !isfinite(*(const double *)field_ptr(m, f)))
		return efail(e, "a Value cannot hold NaN or Infinity");
	return enc_value(e, f, field_ptr(m, f));
}

static int enc_message(enc *e, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *desc = m->descriptor;
	if (++e->depth > ENC_MAX_DEPTH)
		return efail(e, "message nested more than %d levels", ENC_MAX_DEPTH);
	int rc = 0;
	switch (wkt_of(desc)) {
	case WKT_TIMESTAMP: rc = enc_seconds_nanos(e, m, 1); break;
	case WKT_DURATION: rc = enc_seconds_nanos(e, m, 0); break;
	case WKT_WRAPPER:
		rc = enc_value(e, &desc->fields[0], field_ptr(m, &desc->fields[0]));
		break;
	case WKT_VALUE: rc = enc_wkt_value(e, m); break;
	case WKT_STRUCT: {
		const ProtobufCFieldDescriptor *f =
			wkt_field(desc, "fields", PROTOBUF_C_TYPE_MESSAGE);
		if (!f || !is_map_field(desc, f))
			return efail(e, "unexpected layout of %s", desc->name);
		rc = enc_map(e, m, f);
		break;
	}
	case WKT_LIST: {
		const ProtobufCFieldDescriptor *f =
			wkt_field(desc, "values", PROTOBUF_C_TYPE_MESSAGE);
		if (!f || f->label != PROTOBUF_C_LABEL_REPEATED)
			return efail(e, "unexpected layout of %s", desc->name);
		rc = enc_repeated(e, m, f);
		break;
	}
	case WKT_FIELDMASK: rc = enc_fieldmask(e, m); break;
	case WKT_ANY:
		return gpx_status_set(e->st, GPX_UNIMPLEMENTED,
				      "google.protobuf.Any is not supported in JSON");
	case WKT_NONE: {
		int first = 1;
		put_ch(e, '{');
		for (unsigned i = 0; i < desc->n_fields && rc == 0; i++) {
			const ProtobufCFieldDescriptor *f = &desc->fields[i];
			if (!should_emit(e, m, f))
				continue;
			if (!first)
				put_ch(e, ',');
			first = 0;
			put_key(e, f);
			size_t old = path_push_field(&e->path, f);
			if (f->label == PROTOBUF_C_LABEL_REPEATED)
				rc = is_map_field(desc, f) ? enc_map(e, m, f) :
							     enc_repeated(e, m, f);
			else
				rc = enc_value(e, f, field_ptr(m, f));
			path_pop(&e->path, old);
		}
		put_ch(e, '}');
		break;
	}
	}
	e->depth--;
	return rc;
}

int gpx_json_encode(const ProtobufCMessage *msg, gpx_buf *out, const gpx_json_opts *opts,
		    gpx_status *st)
{
	static const gpx_json_opts defaults;
	enc e;
	memset(&e, 0, sizeof(e));
	e.out = out;
	e.o = opts ? opts : &defaults;
	e.st = st;
	size_t start = out->len;
	int rc = enc_message(&e, msg);
	if (rc == 0 && e.full)
		rc = gpx_status_set(st, GPX_RESOURCE_EXHAUSTED,
				    "JSON output exceeds the limit of %zu bytes", out->limit);
	if (rc < 0 && out->data) {
		out->len = start;
		out->data[start] = 0;
	}
	return rc;
}

/* ---- query parameters --------------------------------------------------- */

static int key_is_field(const char *key, const ProtobufCFieldDescriptor *f)
{
	return key && (!strcmp(key, f->name) || json_name_eq(f->name, key, strlen(key)));
}

static cJSON *get_member(cJSON *obj, const ProtobufCFieldDescriptor *f)
{
	for (cJSON *c = obj->child; c; c = c->next)
		if (key_is_field(c->string, f))
			return c;
	return NULL;
}

static void delete_members(cJSON *obj, const ProtobufCFieldDescriptor *f)
{
	cJSON *c = obj->child;
	while (c) {
		cJSON *next = c->next;
		if (key_is_field(c->string, f))
			cJSON_Delete(cJSON_DetachItemViaPointer(obj, c));
		c = next;
	}
}

static int add_member(cJSON *obj, const ProtobufCFieldDescriptor *f, cJSON *v)
{
	size_t n = gpx_json_name(f->name, NULL, 0);
	char *name = malloc(n + 1);
	if (!name)
		return -1;
	gpx_json_name(f->name, name, n + 1);
	int ok = cJSON_AddItemToObject(obj, name, v);
	free(name);
	return ok ? 0 : -1;
}

static int parse_bool_text(const char *s, int *v)
{
	static const char *const t[] = {"true", "True", "TRUE", "t", "T", "1"};
	static const char *const f[] = {"false", "False", "FALSE", "f", "F", "0"};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!strcmp(s, t[i]))
			return *v = 1, 0;
		if (!strcmp(s, f[i]))
			return *v = 0, 0;
	}
	return -1;
}

/* The JSON node a query parameter value stands for in field f; NULL with
 * st set when it cannot stand for anything. */
static cJSON *query_node(const ProtobufCFieldDescriptor *f, const char *path, const char *value,
			 gpx_status *st)
{
	char b[GOT_MAX + 16];
	cJSON *v = NULL;
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL: {
		int bv;
		if (parse_bool_text(value, &bv) < 0) {
			excerpt(b, sizeof(b), value, 1);
			gpx_status_set(st, GPX_INVALID_ARGUMENT,
				       "field \"%s\": expected boolean, got %s", path, b);
			return NULL;
		}
		v = cJSON_CreateBool(bv);
		break;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		int neg;
		uint64_t mag;
		if (is_null_value_enum(f))
			v = cJSON_CreateNull();
		else if (*value && int_from_text(value, strlen(value), &neg, &mag) != INT_SYNTAX)
			v = number_node(value, strlen(value));
		else
			v = cJSON_CreateString(value);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *md = f->descriptor;
		switch (wkt_of(md)) {
		case WKT_WRAPPER: return query_node(&md->fields[0], path, value, st);
		case WKT_TIMESTAMP:
		case WKT_DURATION:
		case WKT_FIELDMASK:
		case WKT_VALUE: v = cJSON_CreateString(value); break;
		default:
			gpx_status_set(st, GPX_INVALID_ARGUMENT,
				       "field \"%s\": a message cannot be set from a parameter",
				       path);
			return NULL;
		}
		break;
	}
	default:
		/* numbers, strings and bytes: the decoder accepts the text */
		v = cJSON_CreateString(value);
		break;
	}
	if (!v)
		gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
	return v;
}

int gpx_json_set_field_from_string(cJSON *obj, const ProtobufCMessageDescriptor *desc,
				   const char *path, const char *value, gpx_status *st)
{
	jpath jp;
	memset(&jp, 0, sizeof(jp));
	if (!cJSON_IsObject(obj))
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "request body must be a JSON object");
	const char *seg = path;
	for (;;) {
		const char *dot = strchr(seg, '.');
		size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
		const ProtobufCFieldDescriptor *f = find_field(desc, seg, n);
		if (!f)
			return 1;
		path_push_field(&jp, f);
		if (!dot) {
			if (is_map_field(desc, f))
				return gpx_status_set(
					st, GPX_INVALID_ARGUMENT,
					"field \"%s\": map fields cannot be set from a parameter",
					jp.buf);
			cJSON *v = query_node(f, jp.buf, value, st);
			if (!v)
				return -1;
			if (f->label == PROTOBUF_C_LABEL_REPEATED) {
				cJSON *arr = get_member(obj, f);
				if (arr && !cJSON_IsArray(arr)) {
					delete_members(obj, f);
					arr = NULL;
				}
				if (!arr &&
				    (!(arr = cJSON_CreateArray()) || add_member(obj, f, arr) < 0)) {
					cJSON_Delete(arr);
					cJSON_Delete(v);
					return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED,
							      "out of memory");
				}
				cJSON_AddItemToArray(arr, v);
				return 0;
			}
			delete_members(obj, f);
			if (add_member(obj, f, v) < 0) {
				cJSON_Delete(v);
				return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
			}
			return 0;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE ||
		    wkt_of(f->descriptor) != WKT_NONE)
			return gpx_status_set(
				st, GPX_INVALID_ARGUMENT,
				"field \"%s\": cannot set a field inside it from a parameter",
				jp.buf);
		cJSON *child = get_member(obj, f);
		if (!child || !cJSON_IsObject(child)) {
			delete_members(obj, f);
			if (!(child = cJSON_CreateObject()) || add_member(obj, f, child) < 0) {
				cJSON_Delete(child);
				return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
			}
		}
		obj = child;
		desc = f->descriptor;
		seg = dot + 1;
	}
}
