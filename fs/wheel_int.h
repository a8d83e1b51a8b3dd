/* wheel_int.h — internals shared by wheel.c, wheel_zip.c and wheel_dir.c.
 *
 * Ingesting a wheel collects one struct wfs_went per entry (file, directory
 * or symlink) in a struct wfs_ingest.  The two readers (zip and directory)
 * validate names and feed content through the "sink", which hashes it
 * (XXH3-128 + sha256) and stores it as a blob.  wfs_ingest_finish() then
 * runs the checks that need the whole wheel (dist-info, WHEEL, RECORD,
 * symlink targets) and publishes the tree.
 */
#ifndef WFS_WHEEL_INT_H
#define WFS_WHEEL_INT_H

#include <stdint.h>
#include <sys/stat.h>

#include "cache.h"
#include "digest.h"
#include "util.h"
#include "wheel.h"

/* Files up to this size are hashed in memory and stored with one write
 * (nothing at all when the blob exists); larger ones stream to a temp file. */
#define WFS_WHEEL_BUF_MAX (8u << 20)
/* Read size for zip_fread() / read(). */
#define WFS_WHEEL_CHUNK (256u << 10)
/* Limits that keep trees and FUSE sane. */
#define WFS_WHEEL_MAX_ENTRIES 1000000
#define WFS_WHEEL_MAX_PATH 4095
#define WFS_WHEEL_MAX_NAME 255
#define WFS_WHEEL_MAX_LINK 4095
/* WHEEL and RECORD are kept in memory; refuse absurd sizes. */
#define WFS_WHEEL_MAX_META (64u << 20)

struct wfs_went {
	char *path;    /* owned; relative, no trailing '/' */
	uint32_t mode; /* S_IFREG/S_IFDIR/S_IFLNK | 0755 or 0644 */
	uint64_t size; /* content size (target length for symlinks) */
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint64_t index; /* zip entry index */
	char *target;	/* owned; symlinks only */
	char *meta;	/* owned; content of WHEEL / RECORD */
	size_t meta_len;
	struct wfs_digest digest; /* regular files */
	uint8_t sha256[32];	  /* files and symlinks, once read */
	int recorded;		  /* matched a RECORD row */
};

struct wfs_ingest {
	struct wfs_cache *c;
	const char *source;
	struct wfs_err *err;
	int dir_source; /* an unpacked directory, not a .whl */
	uint64_t max_file, max_total, total;
	void (*warn)(const char *msg, void *arg);
	void *warn_arg;

	struct wfs_went *ents;
	size_t n, cap;

	/* the sink: one per ingest, reused for every entry */
	struct wfs_hasher *h;
	struct wfs_buf buf;
	char *chunk; /* WFS_WHEEL_CHUNK bytes of scratch for the readers */
	struct wfs_blob_writer w;
	enum {
		WFS_SINK_BUF,	 /* into buf */
		WFS_SINK_STREAM, /* to the temp blob w */
		WFS_SINK_HASH,	 /* hashed only (a read-only cache) */
	} streaming;
	int keep;
	uint64_t declared, got;

	uint64_t files, bytes, new_blobs, new_bytes;
};

/* Report "<source>: <entry>: <reason>" (entry may be NULL). */
int wfs_ing_err(struct wfs_ingest *ing, int rc, const char *entry,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Validate a raw entry name of len bytes (a zip name or a path built while
 * walking a directory).  On success *path is a malloc'd copy without the
 * trailing '/', and *is_dir tells whether there was one. */
int wfs_ing_check_name(struct wfs_ingest *ing, const char *name, size_t len,
		       char **path, int *is_dir);

/* Append an entry, taking ownership of path (freed on failure too); checks
 * the entry count and size limits. */
int wfs_ing_add(struct wfs_ingest *ing, char *path, uint32_t mode,
		uint64_t size, int64_t mtime_sec, uint32_t mtime_nsec,
		struct wfs_went **out);

/* Sort entries by path and reject duplicates and files used as
 * directories.  Entries are left sorted by path. */
int wfs_ing_check_layout(struct wfs_ingest *ing);

/* Sort entries by path. */
void wfs_ing_sort(struct wfs_ingest *ing);

/* Binary search of the (sorted) entries by path; NULL when absent. */
struct wfs_went *wfs_ing_find(struct wfs_ingest *ing, const char *path);

/* Is path a directory of the (sorted) entries: a directory entry, or the
 * parent of an entry without one of its own (zips rarely have them)? */
int wfs_ing_has_dir(struct wfs_ingest *ing, const char *path);

/* The sink: begin, write chunks, then commit (or abort on error). */
int wfs_sink_begin(struct wfs_ingest *ing, struct wfs_went *e);
int wfs_sink_write(struct wfs_ingest *ing, struct wfs_went *e, const void *data,
		   size_t n);
int wfs_sink_commit(struct wfs_ingest *ing, struct wfs_went *e);
void wfs_sink_abort(struct wfs_ingest *ing);

/* Whole-wheel checks and tree publication.  wn is the parsed file name of a
 * .whl, or NULL for a directory (name, version and tags then come from the
 * .dist-info directory and WHEEL). */
int wfs_ingest_finish(struct wfs_ingest *ing, const struct wfs_wheel_name *wn,
		      struct wfs_ingest_result *res);

/* Readers: fill ing->ents (content stored through the sink). */
int wfs_ingest_zip(struct wfs_ingest *ing, const char *path);
int wfs_ingest_dir(struct wfs_ingest *ing, const char *path);

/* Copy s into buf with control bytes escaped as \xNN, for messages. */
const char *wfs_ing_disp(const char *s, char *buf, size_t len);

#endif
