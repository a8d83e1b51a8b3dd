/* cache.h — the content-addressed blob store.
 *
 * Layout of a cache directory (see wheelfs-cache(5)):
 *
 *   CACHE/wheelfs-cache        marker file: "wheelfs-cache 1\n", written
 *                              first; WFS_CACHE_CREATE makes only a missing
 *                              or empty directory a cache
 *   CACHE/blobs/ab/ab0123...   file contents, named by XXH3-128 hex digest,
 *                              fanned out by the first two hex characters;
 *                              mode 0444, never modified once named
 *   CACHE/trees/<hex>.tree     per-wheel manifests (tree.h), named by the
 *                              XXH3-128 of the tree file itself
 *   CACHE/tmp/                 temp files; always on the same filesystem so
 *                              publishing is a rename/link
 *   CACHE/wheels/<hex>         the wheel index: symlink to a tree's hex name,
 *                              keyed by a .whl file's name and bytes
 *                              (ingest.h)
 *   CACHE/views/<hex>          symlinks to the venv lib directories (mount
 *                              targets) whose views use this cache, or
 *                              whose symlinks (pin --mode symlink) point
 *                              into it; <hex> is the XXH3-128 of the
 *                              target's absolute path.  gc keeps what
 *                              these views need.
 *   CACHE/lock                 flock(2): writers hold it shared while they
 *                              add blobs, trees and views; gc holds it
 *                              exclusive while it sweeps
 *
 * Publishing is atomic: content is written to a temp file in CACHE/tmp, then
 * linked to its final name with link(2) (EEXIST means another writer won with
 * the same bytes, which is fine).  A partial blob never carries a final name.
 * Several processes may add to one cache at once; no lock is needed because
 * every final name is a pure function of its content.
 *
 * Durability: blobs are not fsynced one by one; wfs_cache_sync() (syncfs) is
 * called once before a tree that references them is published, so a tree
 * never outlives the blobs it names across a crash.
 */
#ifndef WFS_CACHE_H
#define WFS_CACHE_H

#include <stdint.h>
#include <sys/types.h>

#include "digest.h"
#include "util.h"

struct wfs_cache {
	int dirfd;   /* the cache root */
	int blobsfd; /* CACHE/blobs */
	int treesfd; /* CACHE/trees */
	int tmpfd;   /* CACHE/tmp (-1 when opened read-only) */
	int lockfd;  /* CACHE/lock, held shared (-1 when read-only) */
	int readonly;
	char *path;
};

/* The marker file's name (CACHE/wheelfs-cache). */
#define WFS_CACHE_MARKER "wheelfs-cache"

enum {
	WFS_CACHE_CREATE = 1 << 0,   /* create the layout when missing */
	WFS_CACHE_READONLY = 1 << 1, /* never write (shared read-only cache) */
};

int wfs_cache_open(const char *path, int flags, struct wfs_cache *c,
		   struct wfs_err *err);
void wfs_cache_close(struct wfs_cache *c);

/* Resolve the default cache path: $WHEELFS_CACHE_DIR, else
 * $XDG_CACHE_HOME/wheelfs, else ~/.cache/wheelfs. Returns malloc'd string. */
char *wfs_cache_default_path(void);

/* "ab/ab0123..." relative to blobsfd; rel must hold 3 + WFS_DIGEST_HEX + 1. */
void wfs_cache_blob_rel(const struct wfs_digest *d, char *rel);

/* 1 when the blob exists, 0 when not, <0 on error. */
int wfs_cache_has_blob(struct wfs_cache *c, const struct wfs_digest *d);

/* Open a blob read-only (O_RDONLY|O_CLOEXEC). Returns fd or -errno. */
/* 1 when nothing exists at path (a removed or moved cache), else 0. */
int wfs_cache_gone(const char *path);

int wfs_cache_open_blob(struct wfs_cache *c, const struct wfs_digest *d);

/* Store a buffer whose digest is already known.  *was_new (optional) is 1
 * when this call wrote the blob.  An existing blob costs one fstatat. */
int wfs_cache_put_buf(struct wfs_cache *c, const struct wfs_digest *d,
		      const void *data, size_t len, int *was_new);

/* Streaming put for content too large to hold in memory: write to the fd
 * returned by begin, then commit with the digest computed while writing. */
struct wfs_blob_writer {
	int fd;
	char tmpname[64];
};
int wfs_cache_blob_begin(struct wfs_cache *c, struct wfs_blob_writer *w);
int wfs_cache_blob_commit(struct wfs_cache *c, struct wfs_blob_writer *w,
			  const struct wfs_digest *d, int *was_new);
void wfs_cache_blob_abort(struct wfs_cache *c, struct wfs_blob_writer *w);

/* Create a unique temp file in CACHE/tmp; fills name (>= 64 bytes). */
int wfs_cache_tmpfile(struct wfs_cache *c, char *name, mode_t mode);

/* Register TARGET (absolute path of a venv lib dir) as a view using this
 * cache, so gc keeps its trees and blobs. Idempotent, atomic. */
int wfs_cache_register_view(struct wfs_cache *c, const char *target_abs);

/* 1 when rc, from opening the cache for writing, means this user may not
 * write it (EROFS, EACCES, EPERM): a cache shared read-only. */
int wfs_cache_ro_errno(int rc);

/* The warning of a command that cannot register target in a cache it may
 * not write: "<why>; <target> is not registered there, so `wheelfs gc
 * --prune` of that cache does not know it and may free <what>". */
void wfs_cache_unregistered_msg(char *buf, size_t len, const char *why,
				const char *target, const char *what);

/* Trade the shared lock for an exclusive one (gc). Blocks until writers
 * are done. */
int wfs_cache_lock_exclusive(struct wfs_cache *c);

/* syncfs() on the cache filesystem. */
int wfs_cache_sync(struct wfs_cache *c);

/* Check that a blob's content hashes to its name. 0 ok, -EBADMSG mismatch. */
int wfs_cache_verify_blob(struct wfs_cache *c, const struct wfs_digest *d);

#endif
