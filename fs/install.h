/* install.h — installer duties: putting wheels from the cache into a venv.
 *
 * A distribution installed by wheelfs lives in two places:
 *
 *   the view (VENV/lib/.wheelfs/view, view.h): every file of the wheel
 *   that belongs in site-packages — the root (Root-Is-Purelib true or
 *   false: both are site-packages in a venv), .data/purelib and
 *   .data/platlib — served from the cache by the mount;
 *
 *   real files, one copy per venv, written atomically (temp + rename):
 *     .data/scripts/X  -> VENV/bin/X, 0755; a first line "#!python..." or
 *                         "#!pythonw..." becomes "#!/abs/VENV/bin/python"
 *                         (what pip writes; the arguments are dropped);
 *     .data/headers/X  -> VENV/include/site/pythonX.Y/<name>/X
 *                         (<name>: the wheel's name, '_' -> '-', as pip);
 *     .data/data/X     -> VENV/X (under lib/: the upper layer);
 *     console_scripts, gui_scripts (entry_points.txt)
 *                      -> VENV/bin/<name>, 0755, distlib's template as
 *                         pip 23 writes it, with pip's special names
 *                         (pip, pipX, pipX.Y; easy_install[-X.Y]);
 *     and in the upper layer, site-packages/<dist-info>/:
 *       INSTALLER ("wheelfs\n"), REQUESTED (empty; named on the command
 *       line), direct_url.json (for .whl files, as pip writes it) and
 *       RECORD: every installed path relative to site-packages (the bin/
 *       and other paths as ../../../bin/X), sha256 and size — the wheel's
 *       own hash for unchanged files, a fresh one for rewritten scripts
 *       and generated files — and RECORD itself with neither.
 *
 * A distribution already in the view (same normalized name) is replaced
 * like pip does: the old version's real files (its venv RECORD: bin/,
 * include/, data files; its upper dist-info files) and the upper layer's
 * copies and __pycache__ .pyc files of its modules are removed first, then the
 * new version is installed.  Two distributions claiming the same
 * site-packages path are refused (the view cannot hold both); the same
 * real file (bin/ scripts and launchers, headers, data) too, unless
 * force_overwrite, with which the later one wins and the earlier one's
 * RECORD drops the path.
 *
 * A pinned view (pin.h) stays pinned: the new trees' site-packages files
 * are written as real files too, with the trees' modes and mtimes
 * (install_pinned.c).  Its distributions' trees may be gone with the cache:
 * such a distribution is replaced or uninstalled by its RECORD (the upper
 * .dist-info of its name and version), and is left out of the composition
 * that checks site-packages conflicts.
 *
 * Crash safety: nothing outside the cache is written until every check has
 * passed; then old files go (each old RECORD last), new real files are
 * written (each RECORD last), the venv is synced and the view record is
 * written last of all (then RELOAD when mounted).  Rerunning an
 * interrupted command completes it.
 */
#ifndef WFS_INSTALL_H
#define WFS_INSTALL_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "ingest.h"
#include "util.h"
#include "venv.h"
#include "view.h"

struct wfs_install_src {
	const char *source;  /* as given, for messages */
	const char *whl_abs; /* absolute path of a .whl (direct_url.json), or
			       * NULL (an unpacked wheel directory) */
	struct wfs_digest tree;
	int requested; /* write REQUESTED */
};

struct wfs_install_opts {
	int force_overwrite;
	void (*warn)(const char *msg, void *arg);
	void *warn_arg;
	/* One line per installed distribution ("installed demo 1.0",
	 * "replaced demo 1.0 -> 2.0"); NULL for none. */
	void (*report)(const char *line, void *arg);
	void *report_arg;
};

/* Install the trees of srcs (already in the cache) into venv, updating
 * view (read with wfs_venv_view) and committing it.  The venv is
 * registered in the cache (CACHE/views) unless c is read-only (the caller
 * warns). */
int wfs_install(struct wfs_venv *venv, struct wfs_cache *c,
		struct wfs_view *view, const struct wfs_install_src *srcs,
		size_t n, const struct wfs_install_opts *o,
		struct wfs_err *err);

struct wfs_whiteouts;
/* 1 when the venv no longer has view->dists[k] (pip uninstalled it
 * through the mount, say): its .dist-info directory (named by its tree t)
 * is not in the upper layer, and in a pinned view, or hidden by a whiteout
 * (w, upper.h) on it or on a parent, nor in the lower one.  Without t, a
 * pinned view's upper .dist-info with a RECORD decides; else 0 (unknown).
 * <0 on error. */
int wfs_dist_removed(const struct wfs_venv *v, const struct wfs_view *view,
		     size_t k, const struct wfs_tree *t,
		     const struct wfs_whiteouts *w);

/* Remove the named distributions (PEP 503 names) from the view, with their
 * real files (driven by each one's RECORD in the upper layer; computed
 * from the tree when that RECORD is gone), upper dist-info files, upper
 * copies and __pycache__ of their modules.  A name not installed, or one
 * with neither RECORD nor tree, is an error and nothing is changed.  c may
 * be NULL: the cache is gone. */
int wfs_uninstall(struct wfs_venv *venv, struct wfs_cache *c,
		  struct wfs_view *view, char *const *names, size_t n,
		  const struct wfs_install_opts *o, struct wfs_err *err);

#endif
