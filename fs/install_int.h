/* install_int.h — internals of the install module (install*.c) and adopt.c:
 * plans (install_plan.c), RECORD paths (install_record.c), launchers
 * (install_scripts.c), real-file conflicts (install_conflict.c) and file
 * helpers (install_io.c).
 *
 * A plan is what installing one tree into one venv means, computed before
 * anything is written: the real files to write (struct wfs_pfile: their
 * VENV-relative path, mode, content and RECORD hash), the tree's paths in
 * the view (site-packages-relative, sorted) and the wheel's own RECORD.
 * install.c builds plans for the new distributions (and, when a venv's
 * RECORD is gone, for the old ones, to know what to remove), resolves
 * conflicts between them, then writes.
 */
#ifndef WFS_INSTALL_INT_H
#define WFS_INSTALL_INT_H

#include <sys/types.h>

#include "cache.h"
#include "digest.h"
#include "record.h"
#include "tree.h"
#include "util.h"
#include "venv.h"
#include "view.h"

#define WFS_VPATH_MAX 4096

enum { WFS_PF_BLOB, WFS_PF_BUF, WFS_PF_LINK };

struct wfs_pfile {
	char *path;	  /* VENV-relative ("bin/tool") */
	char *wheel_path; /* the tree path it comes from; NULL: generated */
	int kind;	  /* WFS_PF_* */
	mode_t mode;	  /* 0755 or 0644 */
	struct wfs_digest blob; /* WFS_PF_BLOB */
	struct wfs_buf buf;	/* WFS_PF_BUF content */
	char *target;		/* WFS_PF_LINK */
	char hash[64];		/* RECORD hash when computed here, else "" (the
			   * wheel's RECORD row is used) */
	int64_t size;
	int dropped; /* lost to another distribution */
	size_t seq;  /* order of planning: ties sort by it */
};

struct wfs_plan {
	const struct wfs_tree *t;
	const char *name, *version, *distinfo; /* in t */
	char site_v[80]; /* "lib/pythonX.Y/site-packages" */
	struct wfs_pfile *f;
	size_t n, cap;
	char **vpaths; /* the tree's files in the view, site-relative,
			   * sorted (pointers into arena) */
	size_t nv;
	struct wfs_buf arena;
	struct wfs_record wrec; /* the wheel's RECORD (empty when none) */
};

/* ---- install_plan.c, install_record.c: plans ---- */

/* Plan installing t.  whl_abs: for direct_url.json (NULL: none). */
int wfs_plan_build(struct wfs_plan *p, struct wfs_cache *c,
		   const struct wfs_venv *v, const struct wfs_tree *t,
		   const char *whl_abs, int requested, struct wfs_err *err);
void wfs_plan_free(struct wfs_plan *p);

/* The RECORD text of a plan (after conflicts dropped some files). */
int wfs_plan_record(const struct wfs_plan *p, struct wfs_buf *out);

/* ---- install_record.c ---- */

/* VENV-relative path of a RECORD row (relative to site_v); -EINVAL when
 * the row is absolute or escapes VENV. */
int wfs_record_target(const char *site_v, const char *row, char *out,
		      size_t len);
/* RECORD path (relative to site_v) of a VENV-relative path. */
int wfs_record_relpath(const char *site_v, const char *vpath, char *out,
		       size_t len);

/* ---- install_plan.c ---- */

/* A generated file of the plan: content in memory, sha256 computed. */
int wfs_pf_gen(struct wfs_plan *p, const char *path, const void *data,
	       size_t len, mode_t mode);

/* "sha256=<b64>" of a buffer into hash[64]. */
int wfs_sha256_row(const void *buf, size_t len, char *hash);

/* Read a blob whole (at most max bytes; -EFBIG beyond). */
int wfs_blob_read(struct wfs_cache *c, const struct wfs_digest *d, size_t max,
		  char **buf, size_t *len);

/* ---- install_scripts.c ---- */

/* The interpreter line for exe into out: "#!EXE\n", or (a space in EXE,
 * or a line over 127 bytes) distlib's /bin/sh exec wrapper. */
int wfs_shebang(const char *exe, struct wfs_buf *out);

struct wfs_ep {
	char *name, *value; /* into the parsed text */
	int gui;	    /* gui_scripts, else console_scripts */
};
/* Parse entry_points.txt (modified in place) into a malloc'd array. */
int wfs_eps_parse(char *text, struct wfs_ep **out, size_t *nout);
/* pip's filter: .data/scripts/<base> is a setuptools wrapper for an
 * entry point (EP, EP.exe, EP-script.py, EP.pya) and is not installed. */
int wfs_eps_is_wrapper(const char *base, const struct wfs_ep *eps, size_t n);
/* Add a launcher to p for every console_scripts / gui_scripts entry. */
int wfs_plan_launchers(struct wfs_plan *p, const struct wfs_venv *v,
		       const char *exe, struct wfs_ep *eps, size_t n,
		       struct wfs_err *err);

/* ---- install_io.c ---- */

/* The site-packages-relative part of a VENV-relative path inside
 * site_v ("lib/pythonX.Y/site-packages"), or NULL. */
const char *wfs_in_site(const char *site_v, const char *vpath);

/* The first len bytes of s name a "<name>-<version>.dist-info" directory:
 * its name, normalized (PEP 503), into norm, and the offset and length of
 * its version into *voff and *vlen.  0, or -EINVAL when they name none
 * (no ".dist-info", no version, a name too long for norm). */
int wfs_distinfo_split(const char *s, size_t len, char *norm, size_t normlen,
		       size_t *voff, size_t *vlen);
/* Read site-packages/<di>/RECORD from the upper layer (-ENOENT: none). */
int wfs_venv_record_read(const struct wfs_venv *v, const char *di,
			 struct wfs_record *r);

/* The directory holding fd/rel, opened O_PATH without leaving fd and
 * without following symlinks (wfs_upper_opendir), and rel's last
 * component in *base: what RECORD-driven removals and adopt go through,
 * so a symlinked directory cannot lead them out of the venv.  -ENOTDIR
 * when a parent is a symlink or not a directory. */
int wfs_parent_beneath(int fd, const char *rel, const char **base);

/* Every non-directory under fd/rel ("" for fd itself), relative to fd. */
int wfs_scan_files(int fd, const char *rel, struct wfs_strset *out);
/* mkdir -p of rel's parent directory. */
int wfs_mkparents(int fd, const char *rel);
/* Write fd/rel atomically: a temp file next to it, hidden by the mount
 * (WFS_UPPER_TMP_PREFIX), renamed into place. */
int wfs_buf_write_atomic(int fd, const char *rel, const void *data, size_t len,
			 mode_t mode);
/* Remove the temp files of wfs_buf_write_atomic and friends that an
 * interrupted run left in the directory fd/dir (not followed through
 * symlinks; none there: 0). */
int wfs_tmp_sweep(int fd, const char *dir);
/* Copy a blob to fd/rel atomically (temp + rename), with mode; -EBADMSG
 * (nothing placed) when the blob's content does not hash to its name. */
int wfs_copy_blob_atomic(struct wfs_cache *c, const struct wfs_digest *d,
			 int fd, const char *rel, mode_t mode);
/* strerror(-rc), or for -EBADMSG what a damaged blob means and its
 * remedy. */
const char *wfs_blob_strerror(int rc);
/* Make fd/rel a symlink to target atomically. */
int wfs_symlink_atomic(int fd, const char *rel, const char *target);

/* ---- install_pinned.c: pinned views, whose trees may be gone ---- */

/* The upper .dist-info directory (with a RECORD) of view->dists[k], by
 * normalized name and version, into *out (malloc'd); -ENOENT: none. */
int wfs_upper_distinfo(const struct wfs_venv *v, const struct wfs_view *view,
		       size_t k, char **out);
/* After wfs_view_tree failed with -ENOENT in err: the upper .dist-info of
 * view->dists[k] into *di, or one line saying why `what` ("uninstall",
 * "replace") cannot be done without its tree. */
int wfs_treeless_dist(const struct wfs_venv *v, const struct wfs_view *view,
		      size_t k, const char *what, char **di,
		      struct wfs_err *err);
/* A shallow copy of view without the distributions whose tree is not in c
 * (free only sub->dists). */
int wfs_view_present(const struct wfs_view *view, const struct wfs_cache *c,
		     struct wfs_view *sub);

/* ---- install_remove.c ---- */

/* Add to dirs the VENV-relative directories that removing vpath may leave
 * empty: in site-packages every parent below it (the upper layer's
 * directories are mere traces of copy-ups, and the lower ones go with the
 * view), elsewhere vpath's own directory, as pip has it; never
 * site-packages and its parents, nor lib/.wheelfs. */
int wfs_remove_dirs_of(const char *site_v, const char *vpath,
		       struct wfs_strset *dirs);
/* Remove the VENV-relative files rm, then last (sorted here: the RECORDs,
 * so a rerun after a crash still finds what they list), then, deepest
 * first, each directory of dirs and of the removed files
 * (wfs_remove_dirs_of) that holds nothing but empty directories, with
 * those: what pip removes.  A directory of lib/ where a distribution of
 * the view cv (as it will be; NULL: none) has anything is kept, unless
 * fresh (NULL, or one flag per distribution of cv) says the command
 * installs that distribution now: pip would have removed the directory
 * before installing it again.  A file that is gone or behind a symlink is
 * skipped. */
int wfs_remove_run(const struct wfs_venv *v, const char *site_v,
		   const struct wfs_composed *cv, const unsigned char *fresh,
		   const struct wfs_strset *rm, struct wfs_strset *last,
		   struct wfs_strset *dirs, struct wfs_err *err);

/* ---- install_conflict.c ---- */

struct wfs_exist {		 /* a distribution of the view that stays */
	const char *name, *di;	 /* in its tree, or the view and di_own */
	char *di_own;		 /* its upper .dist-info, without a tree */
	struct wfs_strset paths; /* its real files outside site-packages */
	struct wfs_strset drop;	 /* lost to a new distribution */
};
/* Check the real files of plans against each other and against the
 * distributions that stay: those of cv, and those of view (NULL: none)
 * that cv lacks (a pinned view's, their trees gone: by the RECORD of
 * their upper .dist-info).  Filled into *ex, free with wfs_exist_free.
 * -EEXIST naming the path and both unless force. */
int wfs_install_conflicts(const struct wfs_venv *v,
			  struct wfs_plan *const *plans, size_t n,
			  const struct wfs_composed *cv,
			  const struct wfs_view *view, int force,
			  struct wfs_exist **ex, size_t *nex,
			  struct wfs_err *err);
/* Rewrite a staying distribution's RECORD without the rows of e->drop. */
int wfs_install_drop_rows(const struct wfs_venv *v, struct wfs_exist *e,
			  struct wfs_err *err);
void wfs_exist_free(struct wfs_exist *ex, size_t n);

#endif
