#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codec/codec.h"
#include "common/log.h"
#include "engine/store/store.h"

static char root[64], data_dir[128], store_dir[128];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void setup(void)
{
	gpx_log_setup(GPX_LOG_TEXT, GPX_LOG_ERROR);
	snprintf(root, sizeof(root), "/tmp/gpx-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(data_dir, sizeof(data_dir), "%s/data", root);
	snprintf(store_dir, sizeof(store_dir), "%s/store", root);
	ck_assert_int_eq(mkdir(data_dir, 0700), 0);
}

static void teardown(void)
{
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A small real image, w x h, JPEG or PNG, pixels varied by seed. */
static gpx_buf make_image(int format, uint32_t w, uint32_t h, int seed)
{
	gpx_image img;
	ck_assert_int_eq(gpx_image_alloc(&img, w, h, 3), 0);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w * 3; x++)
			gpx_image_row(&img, y)[x] = (uint8_t)(x + y * 3 + seed * 17);
	gpx_buf b;
	gpx_status st;
	gpx_buf_init(&b, 0);
	ck_assert_int_eq(gpx_codec_encode(&img, format, 80, &b, &st), 0);
	gpx_image_free(&img);
	return b;
}

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void write_image_file(const char *dir, const char *name, int format, int seed)
{
	gpx_buf b = make_image(format, 24, 16, seed);
	write_file(dir, name, b.data, b.len);
	gpx_buf_free(&b);
}

static int file_exists(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* Field by field: padding bytes are not part of the value. */
static void assert_meta_eq(const gpx_image_meta *a, const gpx_image_meta *b)
{
	ck_assert_str_eq(a->id, b->id);
	ck_assert_str_eq(a->name, b->name);
	ck_assert_int_eq(a->format, b->format);
	ck_assert_uint_eq(a->width, b->width);
	ck_assert_uint_eq(a->height, b->height);
	ck_assert_uint_eq(a->size_bytes, b->size_bytes);
	ck_assert_str_eq(a->sha256, b->sha256);
	ck_assert_int_eq(a->source, b->source);
	ck_assert(a->created_at == b->created_at); /* exact, not close */
}

static gpx_store *open_store(void)
{
	gpx_store *s;
	gpx_status st;
	ck_assert_msg(gpx_store_open(&s, data_dir, store_dir, NULL, &st) == 0, "%s", st.msg);
	return s;
}

static gpx_image_meta put(gpx_store *s, int format, int seed, const char *name, int source)
{
	gpx_buf b = make_image(format, 20, 12, seed);
	gpx_image_meta m;
	gpx_status st;
	ck_assert_msg(gpx_store_put(s, b.data, b.len, name, source, &m, &st) == 0, "%s", st.msg);
	gpx_buf_free(&b);
	return m;
}

/* Lists everything with the given page size; returns the ids joined. */
static size_t list_all(gpx_store *s, int source, int page, char ids[][GPX_STORE_ID_MAX + 1],
		       size_t max)
{
	char tok[GPX_STORE_TOKEN_MAX] = "";
	size_t total = 0;
	for (int guard = 0; guard < 1000; guard++) {
		gpx_image_meta *v;
		size_t n;
		gpx_status st;
		char next[GPX_STORE_TOKEN_MAX];
		ck_assert_msg(
			gpx_store_list(s, source, page, tok, &v, &n, next, sizeof(next), &st) == 0,
			"%s", st.msg);
		if (page > 0)
			ck_assert_uint_le(n, (size_t)page);
		for (size_t i = 0; i < n && total < max; i++)
			memcpy(ids[total++], v[i].id, GPX_STORE_ID_MAX + 1);
		gpx_store_list_free(v);
		if (!next[0])
			return total;
		ck_assert_uint_eq(n, (size_t)page);
		memcpy(tok, next, sizeof(tok));
	}
	ck_abort_msg("pagination does not end");
	return 0;
}

START_TEST(test_store_put_get_read_delete_round_trip)
{
	gpx_store *s = open_store();
	gpx_buf b = make_image(GPX_FMT_PNG, 30, 20, 1);
	gpx_image_meta m;
	gpx_status st;
	ck_assert_int_eq(gpx_store_put(s, b.data, b.len, "cat.png", GPX_SRC_UPLOAD, &m, &st), 0);
	ck_assert_str_eq(m.name, "cat.png");
	ck_assert_int_eq(m.format, GPX_FMT_PNG);
	ck_assert_uint_eq(m.width, 30);
	ck_assert_uint_eq(m.height, 20);
	ck_assert_uint_eq(m.size_bytes, b.len);
	ck_assert_int_eq(m.source, GPX_SRC_UPLOAD);
	ck_assert_uint_eq(strlen(m.sha256), 64);
	ck_assert_double_gt(m.created_at, 1.6e9);
	/* UUIDv4: version nibble 4, variant 8..b. */
	ck_assert_uint_eq(strlen(m.id), 36);
	ck_assert_int_eq(m.id[14], '4');
	ck_assert_ptr_nonnull(strchr("89ab", m.id[19]));

	gpx_image_meta g;
	ck_assert_int_eq(gpx_store_get(s, m.id, &g, &st), 0);
	assert_meta_eq(&g, &m);

	gpx_buf r;
	gpx_buf_init(&r, 0);
	ck_assert_int_eq(gpx_store_read(s, m.id, &r, &g, &st), 0);
	ck_assert_uint_eq(r.len, b.len);
	ck_assert_mem_eq(r.data, b.data, b.len);
	gpx_buf_free(&r);

	char path[512];
	ck_assert_int_eq(gpx_store_path(s, m.id, path, sizeof(path), &st), 0);
	ck_assert_ptr_nonnull(strstr(path, store_dir));
	int fd = gpx_store_open_fd(s, m.id, NULL, &st);
	ck_assert_int_ge(fd, 0);

	ck_assert_int_eq(gpx_store_delete(s, m.id, &st), 0);
	ck_assert_int_eq(gpx_store_get(s, m.id, &g, &st), -1);
	ck_assert_int_eq(st.code, GPX_NOT_FOUND);
	ck_assert_int_eq(count_files(store_dir), 0);
	/* An fd opened before the delete still reads the bytes. */
	uint8_t first[8];
	ck_assert_int_eq(read(fd, first, 8), 8);
	ck_assert_mem_eq(first, b.data, 8);
	close(fd);
	ck_assert_int_eq(gpx_store_delete(s, m.id, &st), -1);
	ck_assert_int_eq(st.code, GPX_NOT_FOUND);
	gpx_buf_free(&b);
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_unknown_id_is_not_found_with_its_id_in_the_message)
{
	gpx_store *s = open_store();
	gpx_status st;
	gpx_image_meta m;
	gpx_buf r;
	gpx_buf_init(&r, 0);
	char p[256];
	ck_assert_int_eq(gpx_store_get(s, "nope-123", &m, &st), -1);
	ck_assert_int_eq(st.code, GPX_NOT_FOUND);
	ck_assert_str_eq(st.msg, "image nope-123 not found");
	ck_assert_int_eq(gpx_store_read(s, "nope-123", &r, NULL, &st), -1);
	ck_assert_int_eq(st.code, GPX_NOT_FOUND);
	ck_assert_int_eq(gpx_store_open_fd(s, "nope-123", NULL, &st), -1);
	ck_assert_int_eq(st.code, GPX_NOT_FOUND);
	ck_assert_int_eq(gpx_store_path(s, "nope-123", p, sizeof(p), &st), -1);
	ck_assert_int_eq(st.code, GPX_NOT_FOUND);
	ck_assert_uint_eq(r.len, 0);
	gpx_buf_free(&r);
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_rejects_traversal_ids_before_touching_files)
{
	write_image_file(data_dir, "a.jpg", GPX_FMT_JPEG, 1);
	gpx_store *s = open_store();
	static const char *bad[] = {
		"../data/a.jpg",
		"..",
		"/etc/passwd",
		"a/b",
		"",
		"a.b",
		"sample-a\n",
		"%2e%2e",
		"sample-a/..",
		"0123456789012345678901234567890123456789012345678901234567890123x"};
	gpx_status st;
	gpx_image_meta m;
	char p[256];
	gpx_buf r;
	gpx_buf_init(&r, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(gpx_store_get(s, bad[i], &m, &st), -1);
		ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
		ck_assert_int_eq(gpx_store_delete(s, bad[i], &st), -1);
		ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
		ck_assert_int_eq(gpx_store_read(s, bad[i], &r, NULL, &st), -1);
		ck_assert_int_eq(gpx_store_open_fd(s, bad[i], NULL, &st), -1);
		ck_assert_int_eq(gpx_store_path(s, bad[i], p, sizeof(p), &st), -1);
		ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	}
	ck_assert_int_eq(gpx_store_get(s, NULL, &m, &st), -1);
	ck_assert(file_exists(data_dir, "a.jpg"));
	ck_assert_uint_eq(r.len, 0);
	gpx_buf_free(&r);
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_lists_samples_by_name_with_stable_ids_and_skips_bad_files)
{
	write_image_file(data_dir, "Beach Photo.JPG", GPX_FMT_JPEG, 1);
	write_image_file(data_dir, "b.png", GPX_FMT_PNG, 2);
	write_image_file(data_dir, "A.jpeg", GPX_FMT_JPEG, 3);
	write_image_file(data_dir, "a.png", GPX_FMT_PNG, 4); /* same stem as A.jpeg */
	write_image_file(data_dir, ".hidden.jpg", GPX_FMT_JPEG, 5);
	write_image_file(data_dir, "image.gif", GPX_FMT_PNG, 6);
	write_file(data_dir, "notes.jpg", "just some text\n", 15);
	write_file(data_dir, "empty.png", "", 0);
	char sub[256];
	snprintf(sub, sizeof(sub), "%s/nested", data_dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	write_image_file(sub, "deep.jpg", GPX_FMT_JPEG, 7); /* no recursion */
	gpx_buf three = make_image(GPX_FMT_JPEG, 64, 32, 1);
	write_file(data_dir, "___.jpg", three.data, three.len);
	gpx_buf_free(&three);

	gpx_store *s = open_store();
	ck_assert_uint_eq(gpx_store_count(s, GPX_SRC_SAMPLE), 5);
	gpx_image_meta *v;
	size_t n;
	char next[GPX_STORE_TOKEN_MAX];
	gpx_status st;
	ck_assert_int_eq(gpx_store_list(s, GPX_SRC_ALL, 0, NULL, &v, &n, next, sizeof(next), &st),
			 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(next, "");
	/* strcmp order of the file names. */
	ck_assert_str_eq(v[0].name, "A.jpeg");
	ck_assert_str_eq(v[0].id, "sample-a");
	ck_assert_str_eq(v[1].name, "Beach Photo.JPG");
	ck_assert_str_eq(v[1].id, "sample-beach-photo");
	ck_assert_str_eq(v[2].name, "___.jpg");
	ck_assert_str_eq(v[2].id, "sample-image");
	ck_assert_uint_eq(v[2].width, 64);
	ck_assert_str_eq(v[3].name, "a.png");
	ck_assert_uint_eq(strlen(v[3].id), strlen("sample-a-") + 8);
	ck_assert_int_eq(strncmp(v[3].id, "sample-a-", 9), 0);
	ck_assert_str_eq(v[4].id, "sample-b");
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(v[i].source, GPX_SRC_SAMPLE);
		ck_assert(gpx_store_id_valid(v[i].id));
	}
	char collided[GPX_STORE_ID_MAX + 1];
	memcpy(collided, v[3].id, sizeof(collided));
	gpx_store_list_free(v);
	gpx_store_close(s);

	/* Same files, same ids on the next start. */
	s = open_store();
	gpx_image_meta m;
	ck_assert_int_eq(gpx_store_get(s, collided, &m, &st), 0);
	ck_assert_str_eq(m.name, "a.png");
	ck_assert_int_eq(gpx_store_get(s, "sample-beach-photo", &m, &st), 0);
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_refuses_to_delete_samples)
{
	write_image_file(data_dir, "keep.jpg", GPX_FMT_JPEG, 1);
	gpx_store *s = open_store();
	gpx_status st;
	ck_assert_int_eq(gpx_store_delete(s, "sample-keep", &st), -1);
	ck_assert_int_eq(st.code, GPX_PERMISSION_DENIED);
	ck_assert_str_eq(st.msg, "sample images cannot be deleted");
	ck_assert(file_exists(data_dir, "keep.jpg"));
	gpx_buf r;
	gpx_buf_init(&r, 0);
	gpx_image_meta m;
	ck_assert_int_eq(gpx_store_read(s, "sample-keep", &r, &m, &st), 0);
	ck_assert_uint_eq(r.len, m.size_bytes);
	gpx_buf_free(&r);
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_paginates_in_stable_order_with_opaque_tokens)
{
	write_image_file(data_dir, "s1.jpg", GPX_FMT_JPEG, 1);
	write_image_file(data_dir, "s2.jpg", GPX_FMT_JPEG, 2);
	gpx_store *s = open_store();
	char want[9][GPX_STORE_ID_MAX + 1];
	strcpy(want[0], "sample-s1");
	strcpy(want[1], "sample-s2");
	for (int i = 0; i < 7; i++) {
		gpx_image_meta m = put(s, i % 2 ? GPX_FMT_PNG : GPX_FMT_JPEG, i, "x.jpg",
				       i % 3 ? GPX_SRC_UPLOAD : GPX_SRC_RESULT);
		strcpy(want[2 + i], m.id);
	}
	for (int page = 1; page <= 10; page++) {
		char got[16][GPX_STORE_ID_MAX + 1];
		size_t n = list_all(s, GPX_SRC_ALL, page, got, 16);
		ck_assert_uint_eq(n, 9);
		for (int i = 0; i < 9; i++)
			ck_assert_str_eq(got[i], want[i]);
	}
	/* The token is URL-safe text. */
	gpx_image_meta *v;
	size_t n;
	char next[GPX_STORE_TOKEN_MAX];
	gpx_status st;
	ck_assert_int_eq(gpx_store_list(s, GPX_SRC_ALL, 4, NULL, &v, &n, next, sizeof(next), &st),
			 0);
	gpx_store_list_free(v);
	ck_assert_uint_gt(strlen(next), 0);
	ck_assert_uint_eq(
		strspn(next, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
		strlen(next));
	/* Page sizes: 0 → default, over the maximum → clamped, negative refused. */
	ck_assert_int_eq(
		gpx_store_list(s, GPX_SRC_ALL, 5000, NULL, &v, &n, next, sizeof(next), &st), 0);
	ck_assert_uint_eq(n, 9);
	gpx_store_list_free(v);
	ck_assert_int_eq(gpx_store_list(s, GPX_SRC_ALL, -1, NULL, &v, &n, next, sizeof(next), &st),
			 -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_int_eq(gpx_store_list(s, 9, 0, NULL, &v, &n, next, sizeof(next), &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_rejects_malformed_page_tokens)
{
	gpx_store *s = open_store();
	put(s, GPX_FMT_JPEG, 1, NULL, GPX_SRC_UPLOAD);
	static const char *bad[] = {"!!!!",
				    "abc",
				    "eHl6",		      /* "xyz" */
				    "dXw",		      /* "u|" */
				    "dXxub3RhbnVtYmVyfGFiYw", /* "u|notanumber|abc" */
				    "c3wuLi98eA",	      /* "s|../|x" */
				    "cXwxfGFiYw"};	      /* "q|1|abc" */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gpx_image_meta *v;
		size_t n;
		char next[GPX_STORE_TOKEN_MAX];
		gpx_status st;
		ck_assert_int_eq(gpx_store_list(s, 0, 0, bad[i], &v, &n, next, sizeof(next), &st),
				 -1);
		ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
		ck_assert_str_eq(st.msg, "invalid page_token");
		ck_assert_ptr_null(v);
	}
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_pagination_neither_skips_nor_repeats_after_a_delete)
{
	gpx_store *s = open_store();
	char ids[6][GPX_STORE_ID_MAX + 1];
	for (int i = 0; i < 6; i++)
		strcpy(ids[i], put(s, GPX_FMT_JPEG, i, NULL, GPX_SRC_UPLOAD).id);
	gpx_image_meta *v;
	size_t n;
	char next[GPX_STORE_TOKEN_MAX], next2[GPX_STORE_TOKEN_MAX];
	gpx_status st;
	ck_assert_int_eq(gpx_store_list(s, 0, 3, NULL, &v, &n, next, sizeof(next), &st), 0);
	ck_assert_str_eq(v[2].id, ids[2]);
	gpx_store_list_free(v);
	/* The last image of the page goes away before the next page. */
	ck_assert_int_eq(gpx_store_delete(s, ids[2], &st), 0);
	ck_assert_int_eq(gpx_store_list(s, 0, 3, next, &v, &n, next2, sizeof(next2), &st), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0].id, ids[3]);
	ck_assert_str_eq(v[2].id, ids[5]);
	ck_assert_str_eq(next2, "");
	gpx_store_list_free(v);
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_filters_lists_by_source)
{
	write_image_file(data_dir, "s.png", GPX_FMT_PNG, 1);
	gpx_store *s = open_store();
	for (int i = 0; i < 5; i++)
		put(s, GPX_FMT_JPEG, i, NULL, i < 2 ? GPX_SRC_RESULT : GPX_SRC_UPLOAD);
	char got[8][GPX_STORE_ID_MAX + 1];
	ck_assert_uint_eq(list_all(s, GPX_SRC_SAMPLE, 1, got, 8), 1);
	ck_assert_uint_eq(list_all(s, GPX_SRC_RESULT, 1, got, 8), 2);
	ck_assert_uint_eq(list_all(s, GPX_SRC_UPLOAD, 2, got, 8), 3);
	ck_assert_uint_eq(list_all(s, GPX_SRC_ALL, 2, got, 8), 6);
	ck_assert_uint_eq(gpx_store_count(s, GPX_SRC_UPLOAD), 3);
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_reopen_lists_the_same_images_with_the_same_metadata)
{
	write_image_file(data_dir, "s.jpg", GPX_FMT_JPEG, 1);
	gpx_store *s = open_store();
	gpx_image_meta a = put(s, GPX_FMT_JPEG, 1, "été ☀.jpg", GPX_SRC_UPLOAD);
	gpx_image_meta b = put(s, GPX_FMT_PNG, 2, "out.png", GPX_SRC_RESULT);
	gpx_store_close(s);

	s = open_store();
	ck_assert_uint_eq(gpx_store_count(s, GPX_SRC_ALL), 3);
	gpx_image_meta m;
	gpx_status st;
	ck_assert_int_eq(gpx_store_get(s, a.id, &m, &st), 0);
	assert_meta_eq(&m, &a);
	ck_assert_int_eq(gpx_store_get(s, b.id, &m, &st), 0);
	assert_meta_eq(&m, &b);
	char got[4][GPX_STORE_ID_MAX + 1];
	ck_assert_uint_eq(list_all(s, GPX_SRC_ALL, 10, got, 4), 3);
	ck_assert_str_eq(got[0], "sample-s");
	ck_assert_str_eq(got[1], a.id);
	ck_assert_str_eq(got[2], b.id);
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_names_are_metadata_never_paths)
{
	gpx_store *s = open_store();
	gpx_image_meta m = put(s, GPX_FMT_JPEG, 1, "../../etc/passwd.jpg", GPX_SRC_UPLOAD);
	ck_assert_str_eq(m.name, "passwd.jpg");
	m = put(s, GPX_FMT_JPEG, 2, "C:\\Users\\me\\x.jpg", GPX_SRC_UPLOAD);
	ck_assert_str_eq(m.name, "x.jpg");
	m = put(s, GPX_FMT_JPEG, 3, "a\nb\x01.jpg\xff", GPX_SRC_UPLOAD);
	ck_assert_str_eq(m.name, "ab.jpg_");
	m = put(s, GPX_FMT_PNG, 4, "dir/..", GPX_SRC_UPLOAD);
	char want[GPX_STORE_ID_MAX + 8];
	snprintf(want, sizeof(want), "%s.png", m.id);
	ck_assert_str_eq(m.name, want);
	m = put(s, GPX_FMT_PNG, 5, NULL, GPX_SRC_UPLOAD);
	snprintf(want, sizeof(want), "%s.png", m.id);
	ck_assert_str_eq(m.name, want);
	char longname[600];
	memset(longname, 'n', sizeof(longname));
	longname[sizeof(longname) - 1] = 0;
	m = put(s, GPX_FMT_PNG, 6, longname, GPX_SRC_UPLOAD);
	ck_assert_uint_eq(strlen(m.name), GPX_STORE_NAME_MAX - 1);
	/* Nothing outside store_dir: 6 images, 6 sidecars. */
	ck_assert_int_eq(count_files(store_dir), 12);
	ck_assert_int_eq(count_files(root), 2);
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_rejects_corrupt_or_oversized_uploads_writing_nothing)
{
	gpx_codec_limits lim = {.max_pixels = 100};
	gpx_store *s;
	gpx_status st;
	ck_assert_int_eq(gpx_store_open(&s, data_dir, store_dir, &lim, &st), 0);
	gpx_image_meta m;
	ck_assert_int_eq(
		gpx_store_put(s, (const uint8_t *)"hello", 5, "x.jpg", GPX_SRC_UPLOAD, &m, &st),
		-1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_int_eq(gpx_store_put(s, (const uint8_t *)"", 0, "x.jpg", GPX_SRC_UPLOAD, &m, &st),
			 -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	gpx_buf b = make_image(GPX_FMT_JPEG, 20, 12, 1); /* 240 pixels */
	ck_assert_int_eq(gpx_store_put(s, b.data, b.len / 2, "half.jpg", GPX_SRC_UPLOAD, &m, &st),
			 -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_int_eq(gpx_store_put(s, b.data, b.len, "big.jpg", GPX_SRC_UPLOAD, &m, &st), -1);
	ck_assert_int_eq(st.code, GPX_RESOURCE_EXHAUSTED);
	ck_assert_int_eq(gpx_store_put(s, b.data, b.len, "x.jpg", GPX_SRC_SAMPLE, &m, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_int_eq(count_files(store_dir), 0);
	ck_assert_uint_eq(gpx_store_count(s, GPX_SRC_ALL), 0);
	gpx_buf_free(&b);
	gpx_store_close(s);
}
END_TEST

static int write_tmp(gpx_store *s, const gpx_buf *b, size_t n, char *path)
{
	gpx_status st;
	int fd = gpx_store_tmpfile(s, path, 512, &st);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, b->data, n), (ssize_t)n);
	close(fd);
	return 0;
}

START_TEST(test_store_put_file_publishes_a_matching_upload)
{
	gpx_store *s = open_store();
	gpx_buf b = make_image(GPX_FMT_PNG, 16, 16, 1);
	char path[512];
	write_tmp(s, &b, b.len, path);
	gpx_image_meta ref;
	gpx_status st;
	/* Work out the digest the way a client would. */
	ck_assert_int_eq(gpx_store_put(s, b.data, b.len, "ref.png", GPX_SRC_UPLOAD, &ref, &st), 0);
	char upper[65];
	for (int i = 0; i < 65; i++)
		upper[i] = (char)toupper((unsigned char)ref.sha256[i]);
	gpx_image_meta m;
	ck_assert_msg(
		gpx_store_put_file(s, path, "up.png", GPX_SRC_UPLOAD, b.len, upper, &m, &st) == 0,
		"%s", st.msg);
	ck_assert_str_eq(m.sha256, ref.sha256);
	ck_assert_str_eq(m.name, "up.png");
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_eq(count_files(store_dir), 4);
	/* No expectations given: still fine. */
	write_tmp(s, &b, b.len, path);
	ck_assert_int_eq(gpx_store_put_file(s, path, NULL, GPX_SRC_RESULT, 0, NULL, &m, &st), 0);
	ck_assert_int_eq(m.source, GPX_SRC_RESULT);
	gpx_buf_free(&b);
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_put_file_with_wrong_size_or_sha256_leaves_nothing)
{
	gpx_store *s = open_store();
	gpx_buf b = make_image(GPX_FMT_JPEG, 16, 16, 1);
	char path[512];
	gpx_image_meta m;
	gpx_status st;
	const char *zero = "0000000000000000000000000000000000000000000000000000000000000000";

	write_tmp(s, &b, b.len, path);
	ck_assert_int_eq(
		gpx_store_put_file(s, path, "a.jpg", GPX_SRC_UPLOAD, b.len + 1, NULL, &m, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_int_ne(access(path, F_OK), 0);

	write_tmp(s, &b, b.len, path);
	ck_assert_int_eq(gpx_store_put_file(s, path, "a.jpg", GPX_SRC_UPLOAD, b.len, zero, &m, &st),
			 -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_ptr_nonnull(strstr(st.msg, "sha256"));

	write_tmp(s, &b, b.len, path);
	ck_assert_int_eq(
		gpx_store_put_file(s, path, "a.jpg", GPX_SRC_UPLOAD, 0, "not-hex", &m, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);

	write_tmp(s, &b, b.len - 10, path); /* stream cut short, sizes agree */
	ck_assert_int_eq(
		gpx_store_put_file(s, path, "a.jpg", GPX_SRC_UPLOAD, b.len - 10, NULL, &m, &st),
		-1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);

	write_tmp(s, &b, 0, path);
	ck_assert_int_eq(gpx_store_put_file(s, path, "a.jpg", GPX_SRC_UPLOAD, 0, NULL, &m, &st),
			 -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);

	ck_assert_int_eq(count_files(store_dir), 0);
	ck_assert_uint_eq(gpx_store_count(s, GPX_SRC_ALL), 0);
	gpx_buf_free(&b);
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_put_file_refuses_paths_that_are_not_its_temp_files)
{
	write_image_file(data_dir, "victim.jpg", GPX_FMT_JPEG, 1);
	gpx_store *s = open_store();
	gpx_status st;
	gpx_image_meta m;
	char p[512];
	snprintf(p, sizeof(p), "%s/victim.jpg", data_dir);
	ck_assert_int_eq(gpx_store_put_file(s, p, NULL, GPX_SRC_UPLOAD, 0, NULL, &m, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	snprintf(p, sizeof(p), "%s/.tmp-x/../../data/victim.jpg", store_dir);
	ck_assert_int_eq(gpx_store_put_file(s, p, NULL, GPX_SRC_UPLOAD, 0, NULL, &m, &st), -1);
	snprintf(p, sizeof(p), "%s/.tmp-", store_dir);
	ck_assert_int_eq(gpx_store_put_file(s, p, NULL, GPX_SRC_UPLOAD, 0, NULL, &m, &st), -1);
	ck_assert_int_eq(gpx_store_put_file(s, NULL, NULL, GPX_SRC_UPLOAD, 0, NULL, &m, &st), -1);
	ck_assert(file_exists(data_dir, "victim.jpg"));
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_open_removes_leftover_temp_files)
{
	ck_assert_int_eq(mkdir(store_dir, 0700), 0);
	write_file(store_dir, ".tmp-abc123", "partial", 7);
	write_file(store_dir, ".tmp-zzzzzz", "", 0);
	gpx_store *s = open_store();
	ck_assert_int_eq(count_files(store_dir), 0);
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_open_ignores_and_cleans_images_without_metadata)
{
	gpx_store *s = open_store();
	gpx_image_meta keep = put(s, GPX_FMT_JPEG, 1, NULL, GPX_SRC_UPLOAD);
	gpx_image_meta lose_side = put(s, GPX_FMT_JPEG, 2, NULL, GPX_SRC_UPLOAD);
	gpx_image_meta lose_img = put(s, GPX_FMT_PNG, 3, NULL, GPX_SRC_UPLOAD);
	gpx_image_meta short_img = put(s, GPX_FMT_PNG, 4, NULL, GPX_SRC_UPLOAD);
	gpx_image_meta bad_json = put(s, GPX_FMT_PNG, 5, NULL, GPX_SRC_UPLOAD);
	gpx_store_close(s);

	char p[512];
	snprintf(p, sizeof(p), "%s/%s.json", store_dir, lose_side.id);
	ck_assert_int_eq(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/%s.png", store_dir, lose_img.id);
	ck_assert_int_eq(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/%s.png", store_dir, short_img.id);
	ck_assert_int_eq(truncate(p, 10), 0);
	snprintf(p, sizeof(p), "%s.json", bad_json.id);
	write_file(store_dir, p, "{\"id\":", 6);
	write_file(store_dir, "README.txt", "not ours", 8);
	write_file(store_dir, "holiday.jpg", "not ours either", 15);

	s = open_store();
	ck_assert_uint_eq(gpx_store_count(s, GPX_SRC_ALL), 1);
	gpx_image_meta m;
	gpx_status st;
	ck_assert_int_eq(gpx_store_get(s, keep.id, &m, &st), 0);
	ck_assert_int_eq(gpx_store_get(s, lose_side.id, &m, &st), -1);
	ck_assert_int_eq(gpx_store_get(s, lose_img.id, &m, &st), -1);
	ck_assert_int_eq(gpx_store_get(s, short_img.id, &m, &st), -1);
	ck_assert_int_eq(gpx_store_get(s, bad_json.id, &m, &st), -1);
	/* keep's two files plus the two files that are not the store's. */
	ck_assert_int_eq(count_files(store_dir), 4);
	ck_assert(file_exists(store_dir, "README.txt"));
	ck_assert(file_exists(store_dir, "holiday.jpg"));
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_survives_kill_9_during_writes)
{
	for (int round = 0; round < 6; round++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			gpx_store *s;
			gpx_status st;
			if (gpx_store_open(&s, NULL, store_dir, NULL, &st) < 0)
				_exit(2);
			for (int i = 0;; i++) {
				gpx_buf b =
					make_image(i % 2 ? GPX_FMT_PNG : GPX_FMT_JPEG, 200, 150, i);
				gpx_store_put(s, b.data, b.len, "k.jpg", GPX_SRC_UPLOAD, NULL, &st);
				gpx_buf_free(&b);
			}
		}
		usleep(20000 + (useconds_t)round * 13000);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);

		/* Everything listed must be whole: bytes hash to the recorded
		 * digest and decode. */
		gpx_store *s;
		gpx_status st;
		ck_assert_int_eq(gpx_store_open(&s, NULL, store_dir, NULL, &st), 0);
		char ids[256][GPX_STORE_ID_MAX + 1];
		size_t n = list_all(s, GPX_SRC_ALL, 1000, ids, 256);
		for (size_t i = 0; i < n; i++) {
			gpx_buf r;
			gpx_image_meta m;
			gpx_buf_init(&r, 0);
			ck_assert_int_eq(gpx_store_read(s, ids[i], &r, &m, &st), 0);
			ck_assert_uint_eq(r.len, m.size_bytes);
			gpx_image img;
			ck_assert_msg(gpx_codec_decode(r.data, r.len, NULL, &img, &st) == 0, "%s",
				      st.msg);
			gpx_image_free(&img);
			gpx_buf_free(&r);
		}
		ck_assert_int_eq(count_files(store_dir), (int)n * 2);
		gpx_store_close(s);
	}
}
END_TEST

struct worker {
	gpx_store *s;
	int ok;
};

static void *put_many(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 20; i++) {
		gpx_buf b = make_image(GPX_FMT_JPEG, 16, 16, i);
		gpx_status st;
		if (gpx_store_put(w->s, b.data, b.len, NULL, GPX_SRC_RESULT, NULL, &st) < 0)
			w->ok = 0;
		gpx_buf_free(&b);
		gpx_image_meta *v;
		size_t n;
		char next[GPX_STORE_TOKEN_MAX];
		if (gpx_store_list(w->s, 0, 7, NULL, &v, &n, next, sizeof(next), &st) < 0)
			w->ok = 0;
		gpx_store_list_free(v);
	}
	return NULL;
}

START_TEST(test_store_serves_lists_while_workers_save_results)
{
	gpx_store *s = open_store();
	pthread_t t[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){s, 1};
		ck_assert_int_eq(pthread_create(&t[i], NULL, put_many, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert(w[i].ok);
	}
	char ids[100][GPX_STORE_ID_MAX + 1];
	ck_assert_uint_eq(list_all(s, GPX_SRC_RESULT, 9, ids, 100), 80);
	gpx_codec_thread_cleanup();
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_reports_whether_its_directory_is_writable)
{
	gpx_store *s = open_store();
	gpx_status st;
	ck_assert_int_eq(gpx_store_check_writable(s, &st), 0);
	ck_assert_int_eq(count_files(store_dir), 0);
	if (geteuid() != 0) { /* root writes anyway */
		chmod(store_dir, 0500);
		ck_assert_int_eq(gpx_store_check_writable(s, &st), -1);
		ck_assert_int_eq(st.code, GPX_UNAVAILABLE);
		chmod(store_dir, 0700);
	}
	gpx_store_close(s);
}
END_TEST

START_TEST(test_store_open_without_data_dir_has_no_samples)
{
	gpx_store *s;
	gpx_status st;
	ck_assert_int_eq(gpx_store_open(&s, NULL, store_dir, NULL, &st), 0);
	ck_assert_uint_eq(gpx_store_count(s, GPX_SRC_ALL), 0);
	gpx_store_close(s);
	char missing[256];
	snprintf(missing, sizeof(missing), "%s/missing", root);
	ck_assert_int_eq(gpx_store_open(&s, missing, store_dir, NULL, &st), 0);
	gpx_store_close(s);
	ck_assert_int_eq(gpx_store_open(&s, data_dir, "", NULL, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_store_loads_every_shipped_sample)
{
	const char *src = getenv("GPX_SOURCE_ROOT");
	if (!src)
		return; /* run outside meson test */
	char samples[512];
	snprintf(samples, sizeof(samples), "%s/data/samples", src);
	gpx_store *s;
	gpx_status st;
	ck_assert_int_eq(gpx_store_open(&s, samples, store_dir, NULL, &st), 0);
	char ids[32][GPX_STORE_ID_MAX + 1];
	size_t n = list_all(s, GPX_SRC_SAMPLE, 0, ids, 32);
	ck_assert_uint_ge(n, 4);
	int big = 0;
	for (size_t i = 0; i < n; i++) {
		gpx_image_meta m;
		ck_assert_int_eq(gpx_store_get(s, ids[i], &m, &st), 0);
		ck_assert_int_eq(strncmp(m.id, "sample-", 7), 0);
		big |= m.width >= 1920 && m.height >= 1080;
	}
	ck_assert_msg(big, "no sample of at least 1920x1080");
	gpx_image_meta m;
	ck_assert_int_eq(gpx_store_get(s, "sample-astronaut", &m, &st), 0);
	ck_assert_int_eq(m.format, GPX_FMT_PNG);
	ck_assert_uint_eq(m.width, 512);
	ck_assert_str_eq(m.sha256,
			 "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5");
	gpx_store_close(s);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("store");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_store_put_get_read_delete_round_trip);
	tcase_add_test(tc, test_store_unknown_id_is_not_found_with_its_id_in_the_message);
	tcase_add_test(tc, test_store_rejects_traversal_ids_before_touching_files);
	tcase_add_test(tc, test_store_lists_samples_by_name_with_stable_ids_and_skips_bad_files);
	tcase_add_test(tc, test_store_refuses_to_delete_samples);
	tcase_add_test(tc, test_store_paginates_in_stable_order_with_opaque_tokens);
	tcase_add_test(tc, test_store_rejects_malformed_page_tokens);
	tcase_add_test(tc, test_store_pagination_neither_skips_nor_repeats_after_a_delete);
	tcase_add_test(tc, test_store_filters_lists_by_source);
	tcase_add_test(tc, test_store_reopen_lists_the_same_images_with_the_same_metadata);
	tcase_add_test(tc, test_store_names_are_metadata_never_paths);
	tcase_add_test(tc, test_store_rejects_corrupt_or_oversized_uploads_writing_nothing);
	tcase_add_test(tc, test_store_put_file_publishes_a_matching_upload);
	tcase_add_test(tc, test_store_put_file_with_wrong_size_or_sha256_leaves_nothing);
	tcase_add_test(tc, test_store_put_file_refuses_paths_that_are_not_its_temp_files);
	tcase_add_test(tc, test_store_open_removes_leftover_temp_files);
	tcase_add_test(tc, test_store_open_ignores_and_cleans_images_without_metadata);
	tcase_add_test(tc, test_store_survives_kill_9_during_writes);
	tcase_add_test(tc, test_store_serves_lists_while_workers_save_results);
	tcase_add_test(tc, test_store_reports_whether_its_directory_is_writable);
	tcase_add_test(tc, test_store_open_without_data_dir_has_no_samples);
	tcase_add_test(tc, test_store_loads_every_shipped_sample);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
