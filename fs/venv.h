/* venv.h — a Python virtual environment as wheelfs sees it.
 *
 *   VENV/pyvenv.cfg   must exist; its `version` key (python -m venv) or
 *                     `version_info` key (uv, virtualenv) gives the X.Y of
 *                     lib/pythonX.Y/site-packages.  --python overrides it.
 *   VENV/lib          the mount target.  Its underlying directory is the
 *                     writable upper layer: real files (dist-info's RECORD,
 *                     INSTALLER, REQUESTED, __pycache__, edits) and the view
 *                     record .wheelfs/view (view.h, wheelfs-view(5)).
 *   VENV/bin, VENV/include, VENV/<data>
 *                     real files written by `wheelfs install` (scripts,
 *                     entry-point launchers, headers, data files).
 *
 * wfs_venv_open() opens VENV and the underlying directory of VENV/lib:
 * through the mount daemon when one serves it (the venv is then "live" and
 * changes to the view must be followed by wfs_venv_reload()), else
 * directly.  Paths of per-venv files are written VENV-relative
 * ("bin/tool", "lib/python3.11/site-packages/x.dist-info/RECORD");
 * wfs_venv_route() picks the directory fd to use for one of them, so files
 * under lib/ always go to the upper layer, never through the mount.
 */
#ifndef WFS_VENV_H
#define WFS_VENV_H

#include <stddef.h>

#include "cache.h"
#include "util.h"
#include "view.h"

struct wfs_venv {
	char *path;	 /* absolute, lexically normalized (like abspath) */
	char *lib;	 /* path + "/lib": the mount target */
	char python[16]; /* "3.11" */
	char site[64];	 /* "pythonX.Y/site-packages", relative to libfd */
	int rootfd;	 /* VENV */
	int libfd;	 /* VENV/lib's underlying directory (the upper) */
	int live;	 /* a daemon serves VENV/lib */
	int sock;	 /* its control connection, or -1 */
	int lockfd;	 /* the view lock (WFS_VENV_LOCK), or -1 */
	int flags;	 /* WFS_VENV_* */
};

enum {
	WFS_VENV_CREATE_LIB = 1 << 0,  /* mkdir VENV/lib when missing */
	WFS_VENV_VIEW_PYTHON = 1 << 1, /* the Python comes from the view
					* (wfs_venv_view); pyvenv.cfg must
					* exist, its version is not needed */
	WFS_VENV_LOCK = 1 << 2,	       /* hold the view lock (view.h) until
					* wfs_venv_close: for changers */
};

/* Open VENV.  python: "X.Y" overriding pyvenv.cfg, or NULL.  Errors are
 * one line: no such directory, not a venv (no pyvenv.cfg), no version. */
int wfs_venv_open(const char *path, const char *python, int flags,
		  struct wfs_venv *v, struct wfs_err *err);
void wfs_venv_close(struct wfs_venv *v);

/* The X.Y of a pyvenv.cfg's text into python[len]; -ENOENT when it has no
 * version key, -EINVAL when the value does not start with X.Y. */
int wfs_venv_parse_cfg(const char *text, char *python, size_t len);

/* 1 when s is "X.Y" (digits). */
int wfs_venv_python_ok(const char *s);

/* Pick the directory fd and relative path for a VENV-relative path:
 * "lib/..." goes to libfd, the rest to rootfd. */
void wfs_venv_route(const struct wfs_venv *v, const char *vpath, int *fd,
		    const char **rel);

/* Read the view; when there is none (-ENOENT) and create is set, start an
 * empty one for this venv's Python (its cache still unset).  A view made
 * for another Python is an error naming both, unless the venv was opened
 * with WFS_VENV_VIEW_PYTHON: then the view's Python is the venv's. */
int wfs_venv_view(struct wfs_venv *v, int create, struct wfs_view *view,
		  int *existed, struct wfs_err *err);

/* Read an existing view and open the cache it names (cache_flags as for
 * wfs_cache_open).  On success the caller frees both; on failure neither
 * is left open.  have_cache NULL: the cache must open; else a cache that is
 * gone (wfs_cache_gone) is no error: *have_cache says whether c is open. */
int wfs_venv_view_cache(struct wfs_venv *v, int cache_flags,
			struct wfs_view *view, struct wfs_cache *c,
			int *have_cache, struct wfs_err *err);

/* The cache a command uses for a venv: the --cache flag, else the one its
 * view records, else the configured default (dflt).  Returns a malloc'd
 * path. */
char *wfs_venv_cache_path(const struct wfs_view *view, const char *flag,
			  const char *dflt);

/* Record the opened cache in the view (a new view), or check that it is
 * the one the view already uses (an error naming both otherwise).  A
 * pinned view whose cache is gone moves to c (its files are all real);
 * an unpinned one is an error saying so. */
int wfs_venv_use_cache(struct wfs_venv *v, struct wfs_view *view,
		       const struct wfs_cache *c, struct wfs_err *err);

/* Publish an updated view: sync the venv's filesystems (so the real files
 * written before are durable first), write the record atomically, then ask
 * a live daemon to RELOAD.  The last step of every command that changes a
 * venv. */
int wfs_venv_commit(struct wfs_venv *v, struct wfs_view *view,
		    struct wfs_err *err);

/* Lexical absolute path (cwd + path, "." and ".." folded, no symlinks
 * resolved), like Python's os.path.abspath.  malloc'd, NULL on error. */
char *wfs_abspath(const char *path);

#endif
