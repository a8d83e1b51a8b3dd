/* adopt_int.h — what adopt.c and adopt_free.c share: the state of one
 * wfs_adopt() run (see adopt.h for the steps). */
#ifndef WFS_ADOPT_INT_H
#define WFS_ADOPT_INT_H

#include "adopt.h"
#include "digest.h"
#include "install_int.h"
#include "util.h"

struct adist {
	char *di; /* the .dist-info directory */
	char name[128], version[128];
	int requested;
	int merge; /* in the view under this .dist-info */
	struct wfs_digest tree;
	uint64_t files;
	struct wfs_strset cand; /* site-relative real files to free */
};

struct actx {
	struct wfs_venv *v;
	struct wfs_cache *c;
	struct wfs_view *view;
	const struct wfs_adopt_opts *o;
	struct wfs_adopt_stats *st;
	struct wfs_err *err;
	int sfd; /* site-packages in the upper layer */
	char site_v[80];
	struct wfs_strset taken; /* site-relative paths already claimed */
	struct wfs_hasher *h;
	struct adist *d;
	size_t n;
};

/* Test hook (adopt.c): WFS_TEST_CRASH_AFTER=step makes adopt _exit(99)
 * right after that step. */
void wfs_adopt_crash_point(const char *step);

/* Step 4, free: delete every candidate real file that the composed view
 * cv serves with the same type, mode and content (and whose blob exists),
 * exposing it under any whiteout or opaque record, then the directories
 * left empty.  0 or -errno (with x->err set). */
int wfs_adopt_free_files(struct actx *x, const struct wfs_composed *cv);

#endif
