/* ingest.h — ingesting many wheels at once, on a pool of threads.
 *
 * Used by `wheelfs add` and `wheelfs install`.  Each source gets its own
 * result and error; one failing source does not stop the others.
 *
 * The wheel index: a wheel already in the cache is not inflated and hashed
 * again.  CACHE/wheels/<hex> is a symlink whose target is the hex name of
 * the wheel's tree, where <hex> is the XXH3-128 of the wheel's file name, a
 * NUL byte and its bytes.  It is written after a successful ingest; when it
 * is used, the tree must load, match the file name's distribution, version
 * and tags, and every blob it names must exist, otherwise the wheel is
 * ingested as usual (which also restores blobs that `wheelfs verify
 * --repair` removed).  Unpacked wheel directories always take the slow
 * path.  The index caches a pure function: removing CACHE/wheels costs only
 * speed.  An index hit reports no new bytes.  With a read-only cache
 * (WFS_CACHE_READONLY) the slow path writes nothing: a blob or tree not
 * already there fails the item with -EROFS.
 */
#ifndef WFS_INGEST_H
#define WFS_INGEST_H

#include <stddef.h>

#include "wheel.h"

struct wfs_ingest_item {
	const char *source;
	int rc; /* 0 or -errno */
	struct wfs_ingest_result res;
	struct wfs_err err;
};

/* Called from worker threads (serialized by a lock) after each item. */
typedef void (*wfs_ingest_progress_fn)(size_t done, size_t total,
				       const struct wfs_ingest_item *it,
				       void *arg);

/* jobs <= 0: one per CPU.  Returns 0 when every item succeeded, else the
 * first failing item's rc (details are in the items). */
int wfs_ingest_many(struct wfs_cache *c, struct wfs_ingest_item *items,
		    size_t n, int jobs, const struct wfs_ingest_opts *opts,
		    wfs_ingest_progress_fn progress, void *arg);

#endif
