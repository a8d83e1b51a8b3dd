/* wheel.h — reading and validating wheels, and ingesting them into a cache.
 *
 * A source is a .whl file (read with libzip) or an unpacked wheel directory
 * (for example uv's archive-v0/<id>).  Validation follows the binary
 * distribution format spec, stricter than pip and uv:
 *   - the file name grammar (for .whl files);
 *   - WHEEL: Wheel-Version major 1 (newer minor: a warning), Root-Is-Purelib;
 *   - exactly one .dist-info directory, matching the distribution name;
 *   - every file listed in RECORD with a sha256 and size that match, and every
 *     RECORD entry present (RECORD itself and RECORD.jws/.p7s excepted);
 *   - hostile entries refused: "..", absolute, backslash or NUL paths,
 *     duplicates, symlinks escaping the tree, encrypted entries, declared size
 *     versus inflated size, sizes over the cap, corrupt deflate.
 * Content is hashed (XXH3-128 and sha256) while it is inflated: one pass.
 * Errors are one line: "<source>: <entry>: <reason>".
 */
#ifndef WFS_WHEEL_H
#define WFS_WHEEL_H

#include <stdint.h>

#include "cache.h"
#include "digest.h"
#include "util.h"

/* Parsed wheel file name: {name}-{version}(-{build})?-{py}-{abi}-{plat}.whl */
struct wfs_wheel_name {
	char name[128];
	char version[128];
	char build[64]; /* "" when absent */
	char tags[256]; /* "py-abi-plat" */
};

/* Parse a file name (a basename, with the .whl suffix). */
int wfs_wheel_name_parse(const char *filename, struct wfs_wheel_name *wn);

/* PEP 503 normalization: lowercase, runs of [-_.] become one '-'. */
void wfs_wheel_normalize(const char *name, char *out, size_t outlen);

/* Distribution name as it appears in .dist-info directories: runs of
 * [-_.] become one '_' (case kept). */
void wfs_wheel_escape(const char *name, char *out, size_t outlen);

struct wfs_ingest_opts {
	uint64_t max_file_size; /* refuse entries larger than this (0: 4 GiB) */
	uint64_t
		max_total_size; /* refuse wheels inflating beyond (0: 16 GiB) */
	void (*warn)(const char *msg, void *arg); /* warnings, one line each */
	void *warn_arg;
};

struct wfs_ingest_result {
	struct wfs_digest tree; /* the tree's id in the cache */
	char name[128], version[128], tags[256];
	uint64_t files;		       /* regular files */
	uint64_t bytes;		       /* bytes of regular files */
	uint64_t new_blobs, new_bytes; /* written by this call */
};

/* Validate source and add its blobs and tree to the cache.  Nothing is
 * written outside the cache; on failure no tree is published (blobs that were
 * already written stay: they are valid content, and gc removes orphans). */
int wfs_wheel_ingest(struct wfs_cache *c, const char *source,
		     const struct wfs_ingest_opts *opts,
		     struct wfs_ingest_result *res, struct wfs_err *err);

#endif
