/* The image store: read-only samples from the data directory, uploads and
 * results in the store directory.
 *
 * Samples are the .jpg/.jpeg/.png files directly inside data_dir (no
 * recursion, hidden files skipped), each fully decoded once at open; a file
 * that does not decode is skipped with a warning. Their ids are stable
 * across restarts: "sample-" + the file name's stem, lowercased, with every
 * run of characters outside [a-z0-9] turned into one '-' (trimmed, at most
 * 48 characters, "image" if nothing is left). When two files map to the same
 * id, the one later in name order gets "-" + the first 8 hex digits of the
 * SHA-256 of its full file name appended. "Beach Photo.JPG" →
 * "sample-beach-photo".
 *
 * Uploads and results get a random UUIDv4 id (lowercase, 36 chars) and are
 * kept in store_dir as "<id>.<jpg|png>" plus a JSON sidecar "<id>.json"
 * holding the metadata. Each file is written to ".tmp-XXXXXX" in store_dir,
 * fsynced, renamed into place (image first, sidecar second), then the
 * directory is fsynced. At open, leftover ".tmp-*" files are deleted and an
 * image without its sidecar (or a sidecar without its image, or one whose
 * size does not match) is deleted, so a crash at any point never leaves a
 * listable partial image. Delete removes the sidecar first.
 *
 * Ids coming from clients are checked (1..GPX_STORE_ID_MAX characters of
 * [A-Za-z0-9-]) before anything touches the file system; a bad id is
 * GPX_INVALID_ARGUMENT. Names are metadata only: directory components and
 * control characters are stripped, and they never become paths.
 *
 * Threads: every function except open/close may be called from any thread
 * at the same time (an rwlock guards the index; hashing, decoding and
 * writing happen outside it). */
#ifndef GPX_STORE_H
#define GPX_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "codec/codec.h"
#include "common/buf.h"
#include "common/status.h"

/* Same numbers as gpix.v1.ImageSource. */
enum {
	GPX_SRC_ALL = 0, /* list filter only */
	GPX_SRC_SAMPLE = 1,
	GPX_SRC_UPLOAD = 2,
	GPX_SRC_RESULT = 3,
};

#define GPX_STORE_ID_MAX 64	/* characters, without the NUL */
#define GPX_STORE_NAME_MAX 256	/* bytes, with the NUL */
#define GPX_STORE_TOKEN_MAX 512 /* page token, with the NUL */
#define GPX_STORE_PAGE_DEFAULT 50
#define GPX_STORE_PAGE_MAX 1000

/* Plain value, no pointers: copy it freely. */
typedef struct gpx_image_meta {
	char id[GPX_STORE_ID_MAX + 1];
	char name[GPX_STORE_NAME_MAX]; /* original file name, no directories */
	int format;		       /* GPX_FMT_JPEG / GPX_FMT_PNG */
	uint32_t width;		       /* displayed size (EXIF applied) */
	uint32_t height;
	uint64_t size_bytes; /* of the stored file */
	char sha256[65];     /* lowercase hex of the stored bytes */
	int source;	     /* GPX_SRC_SAMPLE / UPLOAD / RESULT */
	double created_at;   /* unix seconds; a sample's file mtime */
} gpx_image_meta;

typedef struct gpx_store gpx_store;

/* Opens the store: scans data_dir for samples (read-only; data_dir may be
 * NULL or missing, then there are none — a warning is logged), creates
 * store_dir if needed (0700) and loads its uploads and results, cleaning up
 * leftovers as described above. lim (copied; NULL = defaults) applies to
 * samples and to every put. *out is freed with gpx_store_close. */
int gpx_store_open(gpx_store **out, const char *data_dir, const char *store_dir,
		   const gpx_codec_limits *lim, gpx_status *st);
void gpx_store_close(gpx_store *s);

/* Stores len bytes as a new image after probing and fully decoding them
 * (corrupt → GPX_INVALID_ARGUMENT, over the limits →
 * GPX_RESOURCE_EXHAUSTED; nothing is written then). source is
 * GPX_SRC_UPLOAD or GPX_SRC_RESULT. name may be NULL/empty (then
 * "<id>.<ext>"). On success *out_meta (may be NULL) describes the image. */
int gpx_store_put(gpx_store *s, const uint8_t *bytes, size_t len, const char *name, int source,
		  gpx_image_meta *out_meta, gpx_status *st);

/* Creates an empty temp file in store_dir for a streaming writer: writes
 * its path (NUL-terminated) to path_out and returns an fd open for writing
 * (O_CLOEXEC), or -1 with st set. The caller writes, closes the fd and then
 * hands the path to gpx_store_put_file — or unlinks it itself. A temp file
 * left behind by a crash is removed at the next open. */
int gpx_store_tmpfile(gpx_store *s, char *path_out, size_t cap, gpx_status *st);

/* Publishes a temp file made by gpx_store_tmpfile after the same checks as
 * gpx_store_put, plus: expected_size (0 = not checked) must equal the file
 * size and expected_sha256 (NULL or "" = not checked; hex, any case) its
 * digest, else GPX_INVALID_ARGUMENT. The store takes the temp file in every
 * case: on success it is renamed into place, on any error it is deleted.
 * A path that is not a temp file of this store is refused (and left alone). */
int gpx_store_put_file(gpx_store *s, const char *tmp_path, const char *name, int source,
		       uint64_t expected_size, const char *expected_sha256,
		       gpx_image_meta *out_meta, gpx_status *st);

/* Unknown id → GPX_NOT_FOUND "image <id> not found". */
int gpx_store_get(gpx_store *s, const char *id, gpx_image_meta *meta, gpx_status *st);

/* One page of images in a stable order: samples by file name, then uploads
 * and results by (created_at, id). source: GPX_SRC_ALL or one source.
 * page_size: 0 → 50, over 1000 → 1000, negative → GPX_INVALID_ARGUMENT.
 * page_token: NULL/"" for the first page, else a next_token from an earlier
 * call (an opaque URL-safe string; a malformed one is GPX_INVALID_ARGUMENT).
 * Tokens name a position, not an index, so deletes between pages neither
 * skip nor repeat images.
 * *metas gets a malloc'd array of *count entries (NULL when 0) that the
 * caller frees with gpx_store_list_free. next_token (cap >=
 * GPX_STORE_TOKEN_MAX) gets the token for the next page, or "" when this is
 * the last. */
int gpx_store_list(gpx_store *s, int source, int page_size, const char *page_token,
		   gpx_image_meta **metas, size_t *count, char *next_token, size_t next_cap,
		   gpx_status *st);
void gpx_store_list_free(gpx_image_meta *metas);

/* Sample → GPX_PERMISSION_DENIED "sample images cannot be deleted";
 * unknown → GPX_NOT_FOUND. Readers that already opened the file keep their
 * bytes. */
int gpx_store_delete(gpx_store *s, const char *id, gpx_status *st);

/* Appends the stored bytes to *out (subject to its limit:
 * GPX_RESOURCE_EXHAUSTED) and fills *meta (may be NULL). */
int gpx_store_read(gpx_store *s, const char *id, gpx_buf *out, gpx_image_meta *meta,
		   gpx_status *st);

/* Opens the stored file read-only (O_CLOEXEC) for zero-copy serving
 * (sendfile, mmap); returns the fd, which the caller closes, or -1. Race
 * free against a concurrent delete: the fd stays valid. */
int gpx_store_open_fd(gpx_store *s, const char *id, gpx_image_meta *meta, gpx_status *st);

/* Writes the file's path to out. The file may be deleted right after; prefer
 * gpx_store_open_fd when serving. -1 when unknown or cap too small. */
int gpx_store_path(gpx_store *s, const char *id, char *out, size_t cap, gpx_status *st);

/* For readiness checks: creates, fsyncs and removes a temp file in
 * store_dir. GPX_UNAVAILABLE with the reason when that fails. */
int gpx_store_check_writable(gpx_store *s, gpx_status *st);

/* Number of images of a source (GPX_SRC_ALL = all). */
size_t gpx_store_count(gpx_store *s, int source);

/* 1 when the id is well-formed (not whether it exists). */
int gpx_store_id_valid(const char *id);

/* "SAMPLE", "UPLOAD", "RESULT" (the proto enum name without its prefix);
 * NULL for anything else. */
const char *gpx_store_source_name(int source);

#endif
