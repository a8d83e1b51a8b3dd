/* adopt.h — turning a venv that pip or uv installed into cache blobs and a
 * view, so its site-packages is served from the cache like one installed
 * by `wheelfs install`.
 *
 * For each *.dist-info directory of VENV/lib/pythonX.Y/site-packages with
 * a RECORD and a METADATA, a tree is built: name and version from METADATA
 * (else the directory's name), tags from its WHEEL (else "adopted"),
 * Root-Is-Purelib from WHEEL, and as entries the regular files and
 * symlinks (relative, staying inside site-packages) that RECORD lists
 * inside site-packages — except the per-venv files RECORD, INSTALLER,
 * REQUESTED and direct_url.json, which stay real files.  Paths outside
 * site-packages (../../../bin/x) stay real.  A file whose sha256 or size
 * differs from its RECORD row (edited since it was installed), with a mode
 * other than 0644 or 0755, or already claimed by another distribution stays
 * a real upper file, with a warning for edits.
 *
 * Steps, each safe to interrupt (rerunning completes the work; a file
 * both real and in the view is fine: the upper layer shadows the lower):
 *   1. store  — blobs and trees into the cache (durable);
 *   2. view   — the view record, written atomically after a sync;
 *   3. verify — compose the view from the cache; for every adopted real
 *               file, its digest must equal its view entry's and the blob
 *               must exist;
 *   4. free   — only then delete the verified real files, and directories
 *               left empty.
 * With a view already there, adopt merges: a distribution the view holds
 * under the same .dist-info name is not ingested again, but its duplicate
 * real files are still verified and freed; one held under another
 * .dist-info (another version) is replaced.  Files that no RECORD lists
 * (__pycache__ written later, for one) stay real.  Adopt refuses a mounted
 * venv: its upper layer is the daemon's.
 */
#ifndef WFS_ADOPT_H
#define WFS_ADOPT_H

#include <stdint.h>

#include "cache.h"
#include "util.h"
#include "venv.h"
#include "view.h"

struct wfs_adopt_opts {
	void (*warn)(const char *msg, void *arg);
	void *warn_arg;
	void (*report)(const char *line, void *arg); /* one per distribution */
	void *report_arg;
};

struct wfs_adopt_stats {
	uint64_t dists;		     /* ingested into the cache now */
	uint64_t merged;	     /* already in the view */
	uint64_t files;		     /* files in the new trees */
	uint64_t freed, freed_bytes; /* real files replaced by the view */
	uint64_t kept;		     /* listed files that stay real */
};

/* Adopt VENV's site-packages into cache c and view (read with
 * wfs_venv_view(create=1), its cache set with wfs_venv_use_cache). */
int wfs_adopt(struct wfs_venv *v, struct wfs_cache *c, struct wfs_view *view,
	      const struct wfs_adopt_opts *o, struct wfs_adopt_stats *st,
	      struct wfs_err *err);

#endif
