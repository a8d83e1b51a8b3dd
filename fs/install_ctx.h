/* install_ctx.h — the state of one install or uninstall command, shared
 * by install.c (planning, the commands) and install_run.c (writing
 * files). */
#ifndef WFS_INSTALL_CTX_H
#define WFS_INSTALL_CTX_H

#include "install.h"
#include "install_int.h"

struct wfs_inst_dist {
	const struct wfs_install_src *src; /* NULL for uninstall */
	struct wfs_tree tree;		   /* the new version */
	struct wfs_plan plan;
	int have_tree, have_plan;
	int have_old, same; /* replacing; by the same tree */
	struct wfs_tree old;
	char *old_di; /* pinned, its tree gone: the old .dist-info */
	char *name;   /* uninstall: as the view spells it */
	char *old_version;
	struct wfs_strset rm;	/* VENV-relative paths to remove */
	struct wfs_strset last; /* the old RECORDs, removed last */
	struct wfs_strset dirs; /* directories they may leave empty */
	int replaces_upper;	/* replaces a version pip installed */
};

struct wfs_inst_ctx {
	struct wfs_venv *v;
	struct wfs_cache *c;
	struct wfs_view *view;
	const struct wfs_install_opts *o;
	struct wfs_err *err;
	int pinned;		 /* the view was: new files are real too */
	char site_v[80];	 /* "lib/pythonX.Y/site-packages" */
	struct wfs_strset upper; /* upper files, site-relative */
	struct wfs_inst_dist *d;
	size_t n;
};

/* Write d's real files outside the view (scripts, launchers, headers,
 * data, the upper dist-info's), but its RECORD. */
int wfs_inst_write_dist(struct wfs_inst_ctx *x, struct wfs_inst_dist *d);
/* A pinned view stays pinned: place the new distributions' files of the
 * view as real files, as `wheelfs pin` does (wfs_pin_files, in the mode
 * the view was pinned with, else auto), and have a mount drop the nodes of
 * the upper files replaced. */
int wfs_inst_place_pinned(struct wfs_inst_ctx *x);
/* Write d's RECORD: the last of its files. */
int wfs_inst_write_record(struct wfs_inst_ctx *x, struct wfs_inst_dist *d);
/* Forget the whiteouts over the new trees' paths. */
int wfs_inst_clear_whiteouts(struct wfs_inst_ctx *x);

#endif
