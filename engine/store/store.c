/* The image store. The index is a sorted array of gpx_image_meta values
 * (samples by name, then the rest by created_at and id) under an rwlock;
 * file paths are derived from the metadata, never kept. Decoding, hashing
 * and file writes happen before the lock is taken. */
#include "engine/store/store.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/log.h"

#define TMP_PREFIX ".tmp-"
#define SIDECAR_MAX (64 * 1024)
#define SAMPLE_FILE_MAX ((off_t)512 * 1024 * 1024)
#define SAMPLE_STEM_MAX 48
#define UUID_LEN 36

struct gpx_store {
	char *data_dir; /* NULL: no samples */
	char *store_dir;
	gpx_codec_limits lim;
	pthread_rwlock_t lock;
	gpx_image_meta *v; /* sorted, see entry_cmp */
	size_t n, cap;
};

/* --- small helpers --- */

int gpx_store_id_valid(const char *id)
{
	if (!id)
		return 0;
	size_t n = 0;
	for (; id[n]; n++) {
		unsigned char c = (unsigned char)id[n];
		if (n >= GPX_STORE_ID_MAX || !(isascii(c) && (isalnum(c) || c == '-')))
			return 0;
	}
	return n > 0;
}

static int check_id(const char *id, gpx_status *st)
{
	if (gpx_store_id_valid(id))
		return 0;
	return gpx_status_set(st, GPX_INVALID_ARGUMENT,
			      "invalid image id: expected 1 to %d characters of [A-Za-z0-9-]",
			      GPX_STORE_ID_MAX);
}

/* Our own upload/result ids: lowercase UUID text. Only files named like
 * this are ever deleted from store_dir at open. */
static int is_uuid(const char *s, size_t n)
{
	if (n != UUID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

const char *gpx_store_source_name(int source)
{
	switch (source) {
	case GPX_SRC_SAMPLE: return "SAMPLE";
	case GPX_SRC_UPLOAD: return "UPLOAD";
	case GPX_SRC_RESULT: return "RESULT";
	default: return NULL;
	}
}

static int source_from_name(const char *s)
{
	for (int i = GPX_SRC_SAMPLE; i <= GPX_SRC_RESULT; i++)
		if (strcmp(s, gpx_store_source_name(i)) == 0)
			return i;
	return 0;
}

static void hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

static int sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -1;
	hex(out, md, 32);
	return 0;
}

static int make_uuid(char out[UUID_LEN + 1])
{
	uint8_t r[16];
	size_t got = 0;
	while (got < sizeof(r)) {
		ssize_t k = getrandom(r + got, sizeof(r) - got, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)k;
	}
	r[6] = (uint8_t)((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (uint8_t)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	char h[33];
	hex(h, r, 16);
	snprintf(out, UUID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
	return 0;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A display name: the last path component, valid UTF-8 (bad bytes become
 * '_'), no control characters, cut at a character boundary to fit. */
static void clean_name(char *out, size_t cap, const char *name, const char *fallback)
{
	const char *base = name ? name : "";
	for (const char *p = base; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	size_t n = strlen(base), o = 0;
	const unsigned char *s = (const unsigned char *)base;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(s + i, n - i);
		if (k == 0) {
			if (o + 1 >= cap)
				break;
			out[o++] = '_';
			i++;
			continue;
		}
		if (k == 1 && (s[i] < 0x20 || s[i] == 0x7f)) {
			i++;
			continue;
		}
		if (o + k >= cap)
			break;
		memcpy(out + o, s + i, k);
		o += k;
		i += k;
	}
	out[o] = 0;
	if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		snprintf(out, cap, "%s", fallback);
}

static int image_path(const gpx_store *s, const gpx_image_meta *m, char *out, size_t cap)
{
	int n;
	if (m->source == GPX_SRC_SAMPLE)
		n = snprintf(out, cap, "%s/%s", s->data_dir, m->name);
	else
		n = snprintf(out, cap, "%s/%s.%s", s->store_dir, m->id, gpx_codec_ext(m->format));
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int sidecar_path(const gpx_store *s, const char *id, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s.json", s->store_dir, id);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t k = write(fd, b, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

/* --- the index --- */

/* Samples first, by file name; then uploads and results by (created_at,
 * id). A page token holds exactly these fields. */
static int key_cmp(int a_sample, const char *a_name, double a_time, const char *a_id,
		   const gpx_image_meta *b)
{
	int b_sample = b->source == GPX_SRC_SAMPLE;
	if (a_sample != b_sample)
		return a_sample ? -1 : 1;
	if (a_sample) {
		int c = strcmp(a_name, b->name);
		return c ? c : strcmp(a_id, b->id);
	}
	if (a_time != b->created_at)
		return a_time < b->created_at ? -1 : 1;
	return strcmp(a_id, b->id);
}

static int entry_cmp(const gpx_image_meta *a, const gpx_image_meta *b)
{
	return key_cmp(a->source == GPX_SRC_SAMPLE, a->name, a->created_at, a->id, b);
}

/* Caller holds the write lock (or is open, before anyone else sees s). */
static int index_insert(gpx_store *s, const gpx_image_meta *m)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		gpx_image_meta *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (entry_cmp(&s->v[mid], m) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&s->v[lo + 1], &s->v[lo], (s->n - lo) * sizeof(*s->v));
	s->v[lo] = *m;
	s->n++;
	return 0;
}

static ssize_t index_find(const gpx_store *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].id, id) == 0)
			return (ssize_t)i;
	return -1;
}

/* --- validating bytes --- */

/* Probe, limits, full decode: the same checks for samples and puts. */
static int validate_image(const gpx_store *s, const uint8_t *data, size_t len, gpx_codec_info *info,
			  gpx_status *st)
{
	if (gpx_codec_probe(data, len, info, st) < 0 ||
	    gpx_codec_check_limits(info, &s->lim, st) < 0)
		return -1;
	gpx_image img;
	if (gpx_codec_decode(data, len, &s->lim, &img, st) < 0)
		return -1;
	gpx_image_free(&img);
	return 0;
}

/* --- sidecars --- */

static char *sidecar_json(const gpx_image_meta *m)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	char *out = NULL;
	if (!cJSON_AddStringToObject(o, "id", m->id) ||
	    !cJSON_AddStringToObject(o, "name", m->name) ||
	    !cJSON_AddStringToObject(o, "format", gpx_codec_ext(m->format)) ||
	    !cJSON_AddNumberToObject(o, "width", m->width) ||
	    !cJSON_AddNumberToObject(o, "height", m->height) ||
	    !cJSON_AddNumberToObject(o, "size_bytes", (double)m->size_bytes) ||
	    !cJSON_AddStringToObject(o, "sha256", m->sha256) ||
	    !cJSON_AddStringToObject(o, "source", gpx_store_source_name(m->source)) ||
	    !cJSON_AddNumberToObject(o, "created_at", m->created_at))
		goto done;
	out = cJSON_PrintUnformatted(o);
done:
	cJSON_Delete(o);
	return out;
}

static const char *json_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int json_num(const cJSON *o, const char *k, double lo, double hi, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
		return -1;
	*out = v->valuedouble;
	return 0;
}

/* Parses and checks a sidecar; -1 with a reason when it is not one of
 * ours or does not describe a usable image. */
static int sidecar_parse(const char *text, const char *want_id, gpx_image_meta *m, const char **why)
{
	cJSON *o = cJSON_Parse(text);
	int rc = -1;
	*why = "not valid JSON";
	if (!o)
		return -1;
	memset(m, 0, sizeof(*m));
	const char *id = json_str(o, "id"), *name = json_str(o, "name");
	const char *fmt = json_str(o, "format"), *sha = json_str(o, "sha256");
	const char *src = json_str(o, "source");
	double w, h, size, t;
	*why = "missing or bad fields";
	if (!id || !name || !fmt || !sha || !src || json_num(o, "width", 1, UINT32_MAX, &w) < 0 ||
	    json_num(o, "height", 1, UINT32_MAX, &h) < 0 ||
	    json_num(o, "size_bytes", 1, 9007199254740992.0, &size) < 0 ||
	    json_num(o, "created_at", 0, 1e12, &t) < 0)
		goto done;
	*why = "id does not match the file name";
	if (strcmp(id, want_id) != 0)
		goto done;
	snprintf(m->id, sizeof(m->id), "%s", id);
	clean_name(m->name, sizeof(m->name), name, id);
	m->format = strcmp(fmt, "jpg") == 0 ? GPX_FMT_JPEG :
		    strcmp(fmt, "png") == 0 ? GPX_FMT_PNG :
					      GPX_FMT_UNKNOWN;
	m->source = source_from_name(src);
	*why = "bad format, source or sha256";
	if (m->format == GPX_FMT_UNKNOWN ||
	    (m->source != GPX_SRC_UPLOAD && m->source != GPX_SRC_RESULT) || strlen(sha) != 64 ||
	    strspn(sha, "0123456789abcdef") != 64)
		goto done;
	memcpy(m->sha256, sha, 65);
	m->width = (uint32_t)w;
	m->height = (uint32_t)h;
	m->size_bytes = (uint64_t)size;
	m->created_at = t;
	rc = 0;
done:
	cJSON_Delete(o);
	return rc;
}

/* temp file → fsync → rename onto final. The temp file is gone afterwards
 * whatever happened. */
static int publish_bytes(gpx_store *s, const char *final, const void *data, size_t len,
			 gpx_status *st)
{
	char tmp[PATH_MAX];
	int fd = gpx_store_tmpfile(s, tmp, sizeof(tmp), st);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return gpx_status_set(st, GPX_INTERNAL, "cannot write to the store: %s",
				      strerror(e));
	}
	if (close(fd) < 0 || rename(tmp, final) < 0) {
		int e = errno;
		unlink(tmp);
		return gpx_status_set(st, GPX_INTERNAL, "cannot write to the store: %s",
				      strerror(e));
	}
	return 0;
}

/* The image file is in place as <id>.<ext>: write the sidecar, make both
 * durable, then list the image. On failure the image file is removed. */
static int commit_image(gpx_store *s, const gpx_image_meta *m, gpx_status *st)
{
	char img[PATH_MAX], side[PATH_MAX];
	if (image_path(s, m, img, sizeof(img)) < 0 ||
	    sidecar_path(s, m->id, side, sizeof(side)) < 0)
		return gpx_status_set(st, GPX_INTERNAL, "store path too long");
	char *json = sidecar_json(m);
	if (!json) {
		unlink(img);
		return gpx_status_set(st, GPX_INTERNAL, "out of memory");
	}
	int rc = publish_bytes(s, side, json, strlen(json), st);
	cJSON_free(json);
	if (rc < 0) {
		unlink(img);
		return -1;
	}
	if (fsync_dir(s->store_dir) < 0)
		gpx_warn("store: fsync of %s failed: %s", s->store_dir, strerror(errno));

	pthread_rwlock_wrlock(&s->lock);
	rc = index_insert(s, m);
	pthread_rwlock_unlock(&s->lock);
	if (rc < 0) {
		unlink(side);
		unlink(img);
		return gpx_status_set(st, GPX_INTERNAL, "out of memory");
	}
	return 0;
}

static int new_meta(gpx_store *s, const gpx_codec_info *info, const char *name, int source,
		    uint64_t size, const char *sha, gpx_image_meta *m, gpx_status *st)
{
	memset(m, 0, sizeof(*m));
	if (make_uuid(m->id) < 0)
		return gpx_status_set(st, GPX_INTERNAL, "no randomness for an id: %s",
				      strerror(errno));
	char fallback[GPX_STORE_ID_MAX + 8];
	snprintf(fallback, sizeof(fallback), "%s.%s", m->id, gpx_codec_ext(info->format));
	clean_name(m->name, sizeof(m->name), name, fallback);
	m->format = info->format;
	m->width = info->width;
	m->height = info->height;
	m->size_bytes = size;
	memcpy(m->sha256, sha, 65);
	m->source = source;
	/* Whole milliseconds: cJSON prints 15 significant digits when they
	 * come within an epsilon of the value, which would drop sub-ms digits
	 * and change the value (and the list order) across a restart. */
	m->created_at = (double)(int64_t)(gpx_now_wall() * 1000.0 + 0.5) / 1000.0;
	return 0;
}

static int check_source(int source, gpx_status *st)
{
	if (source == GPX_SRC_UPLOAD || source == GPX_SRC_RESULT)
		return 0;
	return gpx_status_set(st, GPX_INVALID_ARGUMENT,
			      "images can only be stored as uploads or results");
}

int gpx_store_put(gpx_store *s, const uint8_t *bytes, size_t len, const char *name, int source,
		  gpx_image_meta *out_meta, gpx_status *st)
{
	if (check_source(source, st) < 0)
		return -1;
	gpx_codec_info info;
	if (validate_image(s, bytes, len, &info, st) < 0)
		return -1;
	char sha[65];
	if (sha256_hex(bytes, len, sha) < 0)
		return gpx_status_set(st, GPX_INTERNAL, "sha256 failed");
	gpx_image_meta m;
	if (new_meta(s, &info, name, source, len, sha, &m, st) < 0)
		return -1;
	char path[PATH_MAX];
	if (image_path(s, &m, path, sizeof(path)) < 0)
		return gpx_status_set(st, GPX_INTERNAL, "store path too long");
	if (publish_bytes(s, path, bytes, len, st) < 0 || commit_image(s, &m, st) < 0)
		return -1;
	if (out_meta)
		*out_meta = m;
	return 0;
}

int gpx_store_tmpfile(gpx_store *s, char *path_out, size_t cap, gpx_status *st)
{
	int n = snprintf(path_out, cap, "%s/" TMP_PREFIX "XXXXXX", s->store_dir);
	if (n < 0 || (size_t)n >= cap)
		return gpx_status_set(st, GPX_INTERNAL, "temp file path too long");
	int fd = mkostemp(path_out, O_CLOEXEC);
	if (fd < 0)
		return gpx_status_set(st, GPX_INTERNAL, "cannot create a file in the store: %s",
				      strerror(errno));
	return fd;
}

static int is_own_tmp(const gpx_store *s, const char *path)
{
	size_t d = strlen(s->store_dir);
	if (!path || strncmp(path, s->store_dir, d) != 0 || path[d] != '/')
		return 0;
	const char *base = path + d + 1;
	return strncmp(base, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 && !strchr(base, '/') &&
	       strlen(base) > strlen(TMP_PREFIX);
}

static int sha_matches(const char *want, const char *got)
{
	return strlen(want) == 64 && strspn(want, "0123456789abcdefABCDEF") == 64 &&
	       strcasecmp(want, got) == 0;
}

int gpx_store_put_file(gpx_store *s, const char *tmp_path, const char *name, int source,
		       uint64_t expected_size, const char *expected_sha256,
		       gpx_image_meta *out_meta, gpx_status *st)
{
	if (!is_own_tmp(s, tmp_path))
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "not a temp file of this store");
	int rc = -1;
	void *map = MAP_FAILED;
	struct stat sb;
	int fd = open(tmp_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		gpx_status_set(st, GPX_INTERNAL, "cannot open the upload: %s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		gpx_status_set(st, GPX_INTERNAL, "the upload is not a regular file");
		goto out;
	}
	uint64_t size = (uint64_t)sb.st_size;
	if (expected_size && size != expected_size) {
		gpx_status_set(st, GPX_INVALID_ARGUMENT,
			       "upload is %llu bytes, but size_bytes says %llu",
			       (unsigned long long)size, (unsigned long long)expected_size);
		goto out;
	}
	if (check_source(source, st) < 0)
		goto out;
	if (size == 0 || size > SIZE_MAX) {
		gpx_status_set(st, GPX_INVALID_ARGUMENT, "empty image data");
		goto out;
	}
	map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		gpx_status_set(st, GPX_INTERNAL, "cannot map the upload: %s", strerror(errno));
		goto out;
	}
	char sha[65];
	if (sha256_hex(map, (size_t)size, sha) < 0) {
		gpx_status_set(st, GPX_INTERNAL, "sha256 failed");
		goto out;
	}
	if (expected_sha256 && *expected_sha256 && !sha_matches(expected_sha256, sha)) {
		gpx_status_set(st, GPX_INVALID_ARGUMENT,
			       "upload sha256 is %s, but the request says %.80s", sha,
			       expected_sha256);
		goto out;
	}
	gpx_codec_info info;
	if (validate_image(s, map, (size_t)size, &info, st) < 0)
		goto out;
	if (fsync(fd) < 0) {
		gpx_status_set(st, GPX_INTERNAL, "cannot write to the store: %s", strerror(errno));
		goto out;
	}
	gpx_image_meta m;
	char path[PATH_MAX];
	if (new_meta(s, &info, name, source, size, sha, &m, st) < 0)
		goto out;
	if (image_path(s, &m, path, sizeof(path)) < 0) {
		gpx_status_set(st, GPX_INTERNAL, "store path too long");
		goto out;
	}
	if (rename(tmp_path, path) < 0) {
		gpx_status_set(st, GPX_INTERNAL, "cannot write to the store: %s", strerror(errno));
		goto out;
	}
	if (commit_image(s, &m, st) < 0)
		goto out_renamed; /* commit_image removed the image */
	if (out_meta)
		*out_meta = m;
	rc = 0;
	goto out_renamed;
out:
	unlink(tmp_path);
out_renamed:
	if (map != MAP_FAILED)
		munmap(map, (size_t)sb.st_size);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* --- lookups --- */

static int not_found(const char *id, gpx_status *st)
{
	return gpx_status_set(st, GPX_NOT_FOUND, "image %s not found", id);
}

int gpx_store_get(gpx_store *s, const char *id, gpx_image_meta *meta, gpx_status *st)
{
	if (check_id(id, st) < 0)
		return -1;
	pthread_rwlock_rdlock(&s->lock);
	ssize_t i = index_find(s, id);
	if (i >= 0 && meta)
		*meta = s->v[i];
	pthread_rwlock_unlock(&s->lock);
	return i < 0 ? not_found(id, st) : 0;
}

int gpx_store_open_fd(gpx_store *s, const char *id, gpx_image_meta *meta, gpx_status *st)
{
	if (check_id(id, st) < 0)
		return -1;
	char path[PATH_MAX];
	int fd = -1, err = 0;
	pthread_rwlock_rdlock(&s->lock);
	ssize_t i = index_find(s, id);
	if (i >= 0) {
		if (meta)
			*meta = s->v[i];
		if (image_path(s, &s->v[i], path, sizeof(path)) == 0)
			fd = open(path, O_RDONLY | O_CLOEXEC);
		err = errno;
	}
	pthread_rwlock_unlock(&s->lock);
	if (i < 0)
		return not_found(id, st);
	if (fd < 0)
		return gpx_status_set(st, err == ENOENT ? GPX_NOT_FOUND : GPX_INTERNAL,
				      "cannot open image %s: %s", id, strerror(err));
	return fd;
}

int gpx_store_read(gpx_store *s, const char *id, gpx_buf *out, gpx_image_meta *meta, gpx_status *st)
{
	int fd = gpx_store_open_fd(s, id, meta, st);
	if (fd < 0)
		return -1;
	struct stat sb;
	size_t start = out->len;
	int rc = -1;
	if (fstat(fd, &sb) < 0) {
		gpx_status_set(st, GPX_INTERNAL, "cannot read image %s: %s", id, strerror(errno));
		goto done;
	}
	if ((uint64_t)sb.st_size > SIZE_MAX / 2 || gpx_buf_reserve(out, (size_t)sb.st_size) < 0) {
		gpx_status_set(st, out->limit ? GPX_RESOURCE_EXHAUSTED : GPX_INTERNAL,
			       "image %s is %lld bytes, over the buffer limit", id,
			       (long long)sb.st_size);
		goto done;
	}
	size_t want = (size_t)sb.st_size;
	while (want) {
		ssize_t k = read(fd, out->data + out->len, want);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			gpx_status_set(st, GPX_INTERNAL, "cannot read image %s: %s", id,
				       k ? strerror(errno) : "file shrank");
			out->len = start;
			goto done;
		}
		out->len += (size_t)k;
		want -= (size_t)k;
	}
	rc = 0;
done:
	if (out->data)
		out->data[out->len] = 0;
	close(fd);
	return rc;
}

int gpx_store_path(gpx_store *s, const char *id, char *out, size_t cap, gpx_status *st)
{
	if (check_id(id, st) < 0)
		return -1;
	pthread_rwlock_rdlock(&s->lock);
	ssize_t i = index_find(s, id);
	int rc = i < 0 ? -2 : image_path(s, &s->v[i], out, cap);
	pthread_rwlock_unlock(&s->lock);
	if (rc == -2)
		return not_found(id, st);
	if (rc < 0)
		return gpx_status_set(st, GPX_INTERNAL, "path buffer too small");
	return 0;
}

size_t gpx_store_count(gpx_store *s, int source)
{
	size_t c = 0;
	pthread_rwlock_rdlock(&s->lock);
	for (size_t i = 0; i < s->n; i++)
		c += source == GPX_SRC_ALL || s->v[i].source == source;
	pthread_rwlock_unlock(&s->lock);
	return c;
}

int gpx_store_delete(gpx_store *s, const char *id, gpx_status *st)
{
	if (check_id(id, st) < 0)
		return -1;
	char img[PATH_MAX], side[PATH_MAX];
	int rc = 0;
	pthread_rwlock_wrlock(&s->lock);
	ssize_t i = index_find(s, id);
	if (i < 0) {
		rc = not_found(id, st);
	} else if (s->v[i].source == GPX_SRC_SAMPLE) {
		rc = gpx_status_set(st, GPX_PERMISSION_DENIED, "sample images cannot be deleted");
	} else if (image_path(s, &s->v[i], img, sizeof(img)) < 0 ||
		   sidecar_path(s, id, side, sizeof(side)) < 0) {
		rc = gpx_status_set(st, GPX_INTERNAL, "store path too long");
	} else if (unlink(side) < 0 && errno != ENOENT) {
		/* The sidecar goes first: without it the image is no longer
		 * listed after a restart, even if the next unlink never runs. */
		rc = gpx_status_set(st, GPX_INTERNAL, "cannot delete image %s: %s", id,
				    strerror(errno));
	} else {
		if (unlink(img) < 0 && errno != ENOENT)
			gpx_warn("store: cannot remove %s: %s", img, strerror(errno));
		memmove(&s->v[i], &s->v[i + 1], (s->n - (size_t)i - 1) * sizeof(*s->v));
		s->n--;
	}
	pthread_rwlock_unlock(&s->lock);
	if (rc == 0 && fsync_dir(s->store_dir) < 0)
		gpx_warn("store: fsync of %s failed: %s", s->store_dir, strerror(errno));
	return rc;
}

int gpx_store_check_writable(gpx_store *s, gpx_status *st)
{
	char path[PATH_MAX];
	int fd = gpx_store_tmpfile(s, path, sizeof(path), st);
	if (fd < 0) {
		if (st)
			st->code = GPX_UNAVAILABLE;
		return -1;
	}
	int rc = write_all(fd, "ok", 2) < 0 || fsync(fd) < 0 ? -1 : 0;
	int e = errno;
	close(fd);
	unlink(path);
	if (rc < 0)
		return gpx_status_set(st, GPX_UNAVAILABLE, "store directory %s is not writable: %s",
				      s->store_dir, strerror(e));
	return 0;
}

/* --- listing --- */

/* Token text: "s|<id>|<name>" after a sample, "u|<created_at>|<id>" after
 * an upload or result; base64url without padding on the wire. */
static int token_encode(const gpx_image_meta *m, char *out, size_t cap)
{
	char raw[GPX_STORE_NAME_MAX + GPX_STORE_ID_MAX + 40];
	int n = m->source == GPX_SRC_SAMPLE ?
			snprintf(raw, sizeof(raw), "s|%s|%s", m->id, m->name) :
			snprintf(raw, sizeof(raw), "u|%.17g|%s", m->created_at, m->id);
	if (n < 0 || (size_t)n >= sizeof(raw) || gpx_base64_encoded_len((size_t)n) >= cap)
		return -1;
	size_t len = gpx_base64_encode(out, (const uint8_t *)raw, (size_t)n, 1);
	while (len && out[len - 1] == '=')
		out[--len] = 0;
	return 0;
}

struct token {
	int sample;
	double time;
	char id[GPX_STORE_ID_MAX + 1];
	char name[GPX_STORE_NAME_MAX];
};

static int token_decode(const char *tok, struct token *t, gpx_status *st)
{
	size_t n = strlen(tok);
	char raw[GPX_STORE_TOKEN_MAX];
	if (n >= GPX_STORE_TOKEN_MAX || gpx_base64_decoded_max(n) >= sizeof(raw))
		goto bad;
	long len = gpx_base64_decode((uint8_t *)raw, tok, n);
	if (len < 3 || memchr(raw, 0, (size_t)len))
		goto bad;
	raw[len] = 0;
	memset(t, 0, sizeof(*t));
	char *sep = strchr(raw + 2, '|');
	if (raw[1] != '|' || !sep)
		goto bad;
	*sep = 0;
	const char *a = raw + 2, *b = sep + 1;
	if (raw[0] == 's') {
		t->sample = 1;
		if (!gpx_store_id_valid(a) || strlen(b) >= sizeof(t->name))
			goto bad;
		memcpy(t->id, a, strlen(a) + 1);
		memcpy(t->name, b, strlen(b) + 1);
		return 0;
	}
	if (raw[0] == 'u') {
		char *end;
		t->time = strtod(a, &end);
		if (end == a || *end || !gpx_store_id_valid(b))
			goto bad;
		memcpy(t->id, b, strlen(b) + 1);
		return 0;
	}
bad:
	return gpx_status_set(st, GPX_INVALID_ARGUMENT, "invalid page_token");
}

int gpx_store_list(gpx_store *s, int source, int page_size, const char *page_token,
		   gpx_image_meta **metas, size_t *count, char *next_token, size_t next_cap,
		   gpx_status *st)
{
	*metas = NULL;
	*count = 0;
	if (next_cap)
		next_token[0] = 0;
	if (source < GPX_SRC_ALL || source > GPX_SRC_RESULT)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "unknown image source %d", source);
	if (page_size < 0)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "page_size must not be negative");
	size_t want = page_size == 0		     ? GPX_STORE_PAGE_DEFAULT :
		      page_size > GPX_STORE_PAGE_MAX ? GPX_STORE_PAGE_MAX :
						       (size_t)page_size;
	struct token t;
	int have_token = page_token && *page_token;
	if (have_token && token_decode(page_token, &t, st) < 0)
		return -1;
	if (next_cap < GPX_STORE_TOKEN_MAX)
		return gpx_status_set(st, GPX_INTERNAL, "page token buffer too small");

	gpx_image_meta *out = malloc(want * sizeof(*out));
	if (!out)
		return gpx_status_set(st, GPX_INTERNAL, "out of memory");
	size_t n = 0;
	int more = 0;
	pthread_rwlock_rdlock(&s->lock);
	size_t i = 0;
	if (have_token) { /* first entry after the token's position */
		size_t lo = 0, hi = s->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (key_cmp(t.sample, t.name, t.time, t.id, &s->v[mid]) >= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		i = lo;
	}
	for (; i < s->n; i++) {
		if (source != GPX_SRC_ALL && s->v[i].source != source)
			continue;
		if (n == want) {
			more = 1;
			break;
		}
		out[n++] = s->v[i];
	}
	pthread_rwlock_unlock(&s->lock);
	if (more && token_encode(&out[n - 1], next_token, next_cap) < 0) {
		free(out);
		return gpx_status_set(st, GPX_INTERNAL, "page token too long");
	}
	if (n == 0) {
		free(out);
		out = NULL;
	}
	*metas = out;
	*count = n;
	return 0;
}

void gpx_store_list_free(gpx_image_meta *metas)
{
	free(metas);
}

/* --- open --- */

static int read_small(int dirfd, const char *name, size_t max, char **out)
{
	*out = NULL;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat sb;
	int rc = -1;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max)
		goto done;
	char *p = malloc((size_t)sb.st_size + 1);
	if (!p)
		goto done;
	size_t got = 0;
	while (got < (size_t)sb.st_size) {
		ssize_t k = read(fd, p + got, (size_t)sb.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	if (got != (size_t)sb.st_size) {
		free(p);
		goto done;
	}
	p[got] = 0;
	*out = p;
	rc = (int)got;
done:
	close(fd);
	return rc;
}

static void sample_stem_id(const char *fname, char *out, size_t cap)
{
	const char *dot = strrchr(fname, '.');
	size_t n = dot ? (size_t)(dot - fname) : strlen(fname);
	char stem[SAMPLE_STEM_MAX + 1];
	size_t o = 0;
	int dash = 0;
	for (size_t i = 0; i < n && o < SAMPLE_STEM_MAX; i++) {
		unsigned char c = (unsigned char)fname[i];
		if (isascii(c) && isalnum(c)) {
			if (dash && o > 0 && o < SAMPLE_STEM_MAX - 1)
				stem[o++] = '-';
			dash = 0;
			stem[o++] = (char)tolower(c);
		} else {
			dash = 1;
		}
	}
	stem[o] = 0;
	snprintf(out, cap, "sample-%s", o ? stem : "image");
}

static int has_image_ext(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
		       strcasecmp(dot, ".png") == 0);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_sample(gpx_store *s, int dfd, const char *fname)
{
	int fd = openat(dfd, fname, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		gpx_warn("samples: skipping %s: %s", fname, strerror(errno));
		return 0;
	}
	struct stat sb;
	void *map = MAP_FAILED;
	gpx_status st;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    sb.st_size > SAMPLE_FILE_MAX) {
		gpx_warn("samples: skipping %s: not a regular file of a sane size", fname);
		goto done;
	}
	map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		gpx_warn("samples: skipping %s: %s", fname, strerror(errno));
		goto done;
	}
	gpx_codec_info info;
	if (validate_image(s, map, (size_t)sb.st_size, &info, &st) < 0) {
		gpx_warn("samples: skipping %s: %s", fname, st.msg);
		goto done;
	}
	gpx_image_meta m = {0};
	if (sha256_hex(map, (size_t)sb.st_size, m.sha256) < 0)
		goto done;
	sample_stem_id(fname, m.id, sizeof(m.id));
	if (index_find(s, m.id) >= 0) {
		char h[65];
		sha256_hex(fname, strlen(fname), h);
		size_t l = strlen(m.id);
		snprintf(m.id + l, sizeof(m.id) - l, "-%.8s", h);
		if (index_find(s, m.id) >= 0) {
			gpx_warn("samples: skipping %s: id %s taken", fname, m.id);
			goto done;
		}
	}
	snprintf(m.name, sizeof(m.name), "%s", fname);
	m.format = info.format;
	m.width = info.width;
	m.height = info.height;
	m.size_bytes = (uint64_t)sb.st_size;
	m.source = GPX_SRC_SAMPLE;
	m.created_at = (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec / 1e9;
	if (index_insert(s, &m) < 0) {
		munmap(map, (size_t)sb.st_size);
		close(fd);
		return -1;
	}
done:
	if (map != MAP_FAILED)
		munmap(map, (size_t)sb.st_size);
	close(fd);
	return 0;
}

static int load_samples(gpx_store *s, gpx_status *st)
{
	DIR *d = opendir(s->data_dir);
	if (!d) {
		gpx_warn("samples: cannot open data directory %s: %s; no samples", s->data_dir,
			 strerror(errno));
		return 0;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !has_image_ext(e->d_name) ||
		    strlen(e->d_name) >= GPX_STORE_NAME_MAX)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **v = realloc(names, cap * sizeof(*v));
			if (!v)
				goto oom;
			names = v;
		}
		if (!(names[n] = strdup(e->d_name)))
			goto oom;
		n++;
	}
	/* Name order decides which of two colliding ids gets the suffix, so it
	 * is the same on every start. */
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++)
		if (load_sample(s, dirfd(d), names[i]) < 0)
			goto oom;
	goto done;
oom:
	rc = gpx_status_set(st, GPX_INTERNAL, "out of memory loading samples");
done:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

struct dirlist {
	char **v;
	size_t n, cap;
};

static int dirlist_add(struct dirlist *l, const char *name)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(name)))
		return -1;
	l->n++;
	return 0;
}

static void dirlist_free(struct dirlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* Loads one "<id>.json" whose image must be "<id>.<ext>" of the recorded
 * size; removes both when they do not add up. */
static int load_upload(gpx_store *s, int dfd, const char *side, size_t stem)
{
	char id[GPX_STORE_ID_MAX + 1];
	snprintf(id, sizeof(id), "%.*s", (int)stem, side);
	char *text = NULL;
	const char *why = "unreadable";
	gpx_image_meta m;
	char img[GPX_STORE_ID_MAX + 8];
	if (read_small(dfd, side, SIDECAR_MAX, &text) < 0 || sidecar_parse(text, id, &m, &why) < 0)
		goto bad;
	snprintf(img, sizeof(img), "%s.%s", id, gpx_codec_ext(m.format));
	struct stat sb;
	why = "its image file is missing or has the wrong size";
	if (fstatat(dfd, img, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size != m.size_bytes)
		goto bad;
	free(text);
	return index_insert(s, &m);
bad:
	gpx_warn("store: removing %s: %s", side, why);
	free(text);
	unlinkat(dfd, side, 0);
	for (int f = GPX_FMT_JPEG; f <= GPX_FMT_PNG; f++) {
		snprintf(img, sizeof(img), "%s.%s", id, gpx_codec_ext(f));
		unlinkat(dfd, img, 0);
	}
	return 0;
}

static int load_store(gpx_store *s, gpx_status *st)
{
	DIR *d = opendir(s->store_dir);
	if (!d)
		return gpx_status_set(st, GPX_UNAVAILABLE, "cannot open store directory %s: %s",
				      s->store_dir, strerror(errno));
	int dfd = dirfd(d);
	struct dirlist sides = {0}, images = {0};
	int rc = 0, removed = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *nm = e->d_name;
		if (strncmp(nm, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
			/* A write that never reached its rename. */
			if (unlinkat(dfd, nm, 0) == 0)
				removed = 1;
			gpx_info("store: removed leftover temp file %s", nm);
			continue;
		}
		const char *dot = strrchr(nm, '.');
		if (!dot || !is_uuid(nm, (size_t)(dot - nm)))
			continue; /* not ours: left alone */
		if (strcmp(dot, ".json") == 0) {
			if (dirlist_add(&sides, nm) < 0)
				goto oom;
		} else if (strcmp(dot, ".jpg") == 0 || strcmp(dot, ".png") == 0) {
			if (dirlist_add(&images, nm) < 0)
				goto oom;
		}
	}
	for (size_t i = 0; i < sides.n; i++)
		if (load_upload(s, dfd, sides.v[i], UUID_LEN) < 0)
			goto oom;
	/* Images whose sidecar never landed (or was just removed). */
	for (size_t i = 0; i < images.n; i++) {
		char id[UUID_LEN + 1];
		snprintf(id, sizeof(id), "%.*s", UUID_LEN, images.v[i]);
		if (index_find(s, id) >= 0)
			continue;
		if (unlinkat(dfd, images.v[i], 0) == 0) {
			gpx_warn("store: removed %s: no metadata (interrupted write)", images.v[i]);
			removed = 1;
		}
	}
	goto done;
oom:
	rc = gpx_status_set(st, GPX_INTERNAL, "out of memory loading the store");
done:
	if (removed)
		fsync(dfd);
	dirlist_free(&sides);
	dirlist_free(&images);
	closedir(d);
	return rc;
}

static char *dir_dup(const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strndup(dir, n);
}

int gpx_store_open(gpx_store **out, const char *data_dir, const char *store_dir,
		   const gpx_codec_limits *lim, gpx_status *st)
{
	*out = NULL;
	if (!store_dir || !*store_dir)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "no store directory");
	if (strlen(store_dir) > PATH_MAX - 64 || (data_dir && strlen(data_dir) > PATH_MAX - 300))
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "directory path too long");
	gpx_store *s = calloc(1, sizeof(*s));
	if (!s)
		return gpx_status_set(st, GPX_INTERNAL, "out of memory");
	gpx_codec_limits_default(&s->lim);
	if (lim && lim->max_pixels)
		s->lim.max_pixels = lim->max_pixels;
	if (lim && lim->max_side)
		s->lim.max_side = lim->max_side;
	if (pthread_rwlock_init(&s->lock, NULL) != 0) {
		free(s);
		return gpx_status_set(st, GPX_INTERNAL, "cannot create the store lock");
	}
	s->store_dir = dir_dup(store_dir);
	s->data_dir = data_dir && *data_dir ? dir_dup(data_dir) : NULL;
	if (!s->store_dir || (data_dir && *data_dir && !s->data_dir)) {
		gpx_status_set(st, GPX_INTERNAL, "out of memory");
		goto fail;
	}
	if (mkdir(s->store_dir, 0700) < 0 && errno != EEXIST) {
		gpx_status_set(st, GPX_UNAVAILABLE, "cannot create store directory %s: %s",
			       s->store_dir, strerror(errno));
		goto fail;
	}
	if (s->data_dir && load_samples(s, st) < 0)
		goto fail;
	if (load_store(s, st) < 0)
		goto fail;
	gpx_info("store: %zu samples, %zu uploads, %zu results", gpx_store_count(s, GPX_SRC_SAMPLE),
		 gpx_store_count(s, GPX_SRC_UPLOAD), gpx_store_count(s, GPX_SRC_RESULT));
	*out = s;
	return 0;
fail:
	gpx_store_close(s);
	return -1;
}

void gpx_store_close(gpx_store *s)
{
	if (!s)
		return;
	pthread_rwlock_destroy(&s->lock);
	free(s->v);
	free(s->data_dir);
	free(s->store_dir);
	free(s);
}
