/* view.h — a venv's view: which wheel trees make up its lib/ directory.
 *
 * The view record lives in the mount target (VENV/lib) at
 * .wheelfs/view; the .wheelfs state directory is hidden inside the mount.
 * Format (text, UTF-8, one item per line; wheelfs-view(5)):
 *
 *   wheelfs-view 1
 *   python 3.11
 *   pinned 0
 *   cache /abs/path/of/the/cache
 *   dist <name> <version> <tree-hex> <requested 0|1>
 *   ...
 *
 * Lines are written sorted by normalized name; unknown keys are an error.
 * The record is replaced atomically (temp + rename, fsync).
 *
 * Composition: a tree entry at wheel path P appears in the view at
 *   pythonX.Y/site-packages/<rest>  when P is <name>-<ver>.data/purelib/<rest>
 *                                   or <name>-<ver>.data/platlib/<rest>;
 *   (not at all)                    for the other .data/ schemes (scripts,
 *                                   headers, data), which `install` writes
 *                                   as real files, and for the dist-info's
 *                                   RECORD, which the venv owns;
 *   pythonX.Y/site-packages/P       otherwise.
 * Directories shared by several distributions merge; two distributions
 * claiming the same non-directory path is a conflict (unless both ship the
 * same file).  One distribution shipping a path twice is not: like pip,
 * which writes the root's files, then .data's, the .data/purelib copy
 * serves, else the .data/platlib one.
 */
#ifndef WFS_VIEW_H
#define WFS_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "tree.h"
#include "util.h"

#define WFS_STATE_DIR ".wheelfs"
#define WFS_VIEW_FILE ".wheelfs/view"
/* Blobs that symlinks in the venv point to (pin_symlist.c, read by gc). */
#define WFS_PIN_SYMLIST_FILE ".wheelfs/pinned-symlinks"
/* The mode the view was last pinned with, for installs (pin_entry.c). */
#define WFS_PIN_MODE_FILE ".wheelfs/pin-mode"
#define WFS_VIEW_VERSION 1

struct wfs_view_dist {
	char *name; /* as in the tree (wheel file name spelling) */
	char *version;
	struct wfs_digest tree;
	int requested; /* named on the command line (REQUESTED) */
};

struct wfs_view {
	char python[16]; /* "3.11" */
	int pinned;
	char *cache; /* absolute path of the cache the trees live in */
	struct wfs_view_dist *dists;
	size_t n;
};

/* Read TARGET/.wheelfs/view.  -ENOENT when there is none (err says to run
 * `wheelfs install` or `wheelfs adopt` first); -EBADMSG when malformed. */
int wfs_view_read(int targetfd, const char *target, struct wfs_view *v,
		  struct wfs_err *err);
/* Write it atomically (creates .wheelfs when missing), holding the view
 * lock; temp files a killed writer left are removed first. */
int wfs_view_write(int targetfd, const struct wfs_view *v);
/* Lock TARGET's view against other changers: flock(2) LOCK_EX on TARGET's
 * underlying directory itself (so nothing is created), waiting for the
 * holder.  Every
 * read-change-write of the view (install, uninstall, adopt, pin's final
 * mark) holds it, so that concurrent commands never lose each other's
 * changes.  Returns the lock's fd (close it to unlock) or -errno. */
int wfs_view_lock(int targetfd, const char *target, struct wfs_err *err);
void wfs_view_free(struct wfs_view *v);

/* Find a distribution by (PEP 503-normalized) name; -1 when absent. */
long wfs_view_find(const struct wfs_view *v, const char *name);
/* Add or replace (same normalized name) a distribution. */
int wfs_view_set(struct wfs_view *v, const char *name, const char *version,
		 const struct wfs_digest *tree, int requested);
void wfs_view_remove(struct wfs_view *v, size_t i);

/* "pythonX.Y/site-packages" for the view's python, into buf. */
void wfs_view_site(const struct wfs_view *v, char *buf, size_t len);

/* ---- composition ------------------------------------------------------- */

/* One entry of the composed lower layer. */
struct wfs_vent {
	const char *path;		/* view path, relative to TARGET */
	const char *name;		/* last component of path */
	uint32_t parent;		/* index of the parent; root: itself */
	uint32_t dist;			/* index into view->dists; UINT32_MAX
					 * for directories made by the view */
	const struct wfs_tree_ent *ent; /* NULL for directories made by the
					 * view (pythonX.Y, site-packages) */
};

struct wfs_composed {
	struct wfs_tree *trees; /* one per dist, same order */
	size_t ntrees;
	struct wfs_vent *v; /* v[0] is the root (""); sorted by path */
	size_t n;
	char *paths; /* storage for the composed paths */
};

/* Load the tree of v's distribution d from c; c NULL: the cache is gone.
 * A missing tree (or cache) fails with -ENOENT and one line naming it,
 * the distribution and the remedy. */
int wfs_view_tree(const struct wfs_view *v, size_t d, struct wfs_cache *c,
		  struct wfs_tree *t, struct wfs_err *err);

/* Load every tree of the view and compose the lower layer.  A conflict
 * fails with -EEXIST and names the path and both distributions. */
int wfs_view_compose(const struct wfs_view *v, struct wfs_cache *c,
		     struct wfs_composed *out, struct wfs_err *err);
void wfs_composed_free(struct wfs_composed *cv);
/* Binary search by view path; -1 when absent. */
long wfs_composed_find(const struct wfs_composed *cv, const char *path);
/* Blob digest of a regular entry. */
static inline const struct wfs_digest *wfs_vent_digest(const struct wfs_vent *e)
{
	return (const struct wfs_digest *)e->ent->digest;
}

/* Map a wheel path of dist `d` to its view path (relative to TARGET) into
 * buf.  Returns 1 when the path is part of the view, 0 when it is not
 * (other .data schemes, RECORD). */
int wfs_view_map(const struct wfs_view *v, const struct wfs_tree *t,
		 const char *wheel_path, char *buf, size_t len);

#endif
