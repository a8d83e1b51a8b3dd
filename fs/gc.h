/* gc.h — keeping a cache honest: verify and garbage-collect.
 *
 * verify re-hashes every blob against its name and checks that every tree
 * loads and names only blobs that exist; a blobs/xx directory it cannot
 * open is a problem too (its blobs went unchecked).  With repair, corrupt blobs are
 * removed (so the next `wheelfs add` of their wheel restores them).
 *
 * gc never frees what a live view needs.  The live set is every tree named
 * by the view of a registered target (CACHE/views/, see cache.h: install
 * and adopt register a target, and so does a mount, in the cache it serves
 * from, and a symlink pin, in the cache its symlinks point into) whose
 * view record still names this cache, or that is mounted now, or whose
 * TARGET/.wheelfs/pinned-symlinks lists blobs of this cache (those blobs
 * are kept as well); other registrations are dropped.  gc then removes
 * blobs that no tree names, wheel-index entries whose tree is gone, temp
 * files older than an hour, and, with prune, trees that no live view
 * uses.  It holds the cache lock exclusive, so no add, install or symlink
 * pin runs meanwhile.
 */
#ifndef WFS_GC_H
#define WFS_GC_H

#include <stdint.h>

#include "cache.h"

typedef void (*wfs_report_fn)(const char *line, void *arg);

struct wfs_verify_stats {
	uint64_t blobs, bad_blobs, trees, bad_trees, missing_blobs;
	uint64_t bad_dirs; /* blobs/xx directories that could not be opened */
};

int wfs_verify(struct wfs_cache *c, int repair, wfs_report_fn report, void *arg,
	       struct wfs_verify_stats *st);

struct wfs_gc_stats {
	uint64_t views, views_dropped, trees, trees_removed;
	uint64_t blobs, blobs_removed, bytes_freed, tmp_removed, index_removed;
};

int wfs_gc(struct wfs_cache *c, int prune, int dry_run, wfs_report_fn report,
	   void *arg, struct wfs_gc_stats *st);

#endif
