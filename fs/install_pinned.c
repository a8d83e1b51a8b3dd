/* install_pinned.c — installing into and removing from a pinned view, whose
 * trees may be gone with its cache: every file of a pinned view is real in
 * the upper layer (pin.h), so a distribution without its tree is removed
 * by its RECORD, like pip does, and a new one gets real files too (the
 * view stays pinned, and no mount needs a cache to serve it), placed by
 * pin's own code (wfs_inst_place_pinned, install_run.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "install_int.h"
#include "upper.h"
#include "wheel.h"

int wfs_upper_distinfo(const struct wfs_venv *v, const struct wfs_view *view,
		       size_t k, char **out)
{
	const struct wfs_view_dist *vd = &view->dists[k];
	char want[256], have[256], rec[WFS_VPATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = wfs_opendirat(v->libfd, v->site, 0, &d);

	*out = NULL;
	if (rc)
		return rc;
	wfs_wheel_normalize(vd->name, want, sizeof(want));
	while ((de = readdir(d))) {
		size_t voff, vlen;
		if (wfs_distinfo_split(de->d_name, strlen(de->d_name), have,
				       sizeof(have), &voff, &vlen) ||
		    strcmp(have, want) || strlen(vd->version) != vlen ||
		    strncmp(de->d_name + voff, vd->version, vlen))
			continue;
		snprintf(rec, sizeof(rec), "%s/%s/RECORD", v->site, de->d_name);
		if (faccessat(v->libfd, rec, F_OK, AT_SYMLINK_NOFOLLOW))
			continue;
		*out = strdup(de->d_name);
		rc = *out ? 0 : -ENOMEM;
		break;
	}
	closedir(d);
	return rc ? rc : *out ? 0 : -ENOENT;
}

int wfs_treeless_dist(const struct wfs_venv *v, const struct wfs_view *view,
		      size_t k, const char *what, char **di,
		      struct wfs_err *err)
{
	char why[sizeof(err->msg)];
	int rc;

	snprintf(why, sizeof(why), "%s", err->msg);
	rc = wfs_upper_distinfo(v, view, k, di);
	if (rc == -ENOENT)
		return wfs_errf(err, rc,
				"cannot %s %s %s: %s/%s has no %s-%s.dist-info "
				"with a RECORD to go by, and %.600s",
				what, view->dists[k].name,
				view->dists[k].version, v->lib, v->site,
				view->dists[k].name, view->dists[k].version,
				why);
	if (rc)
		return wfs_errf(err, rc, "%s/%s: %s", v->lib, v->site,
				strerror(-rc));
	err->msg[0] = '\0';
	return 0;
}

int wfs_view_present(const struct wfs_view *view, const struct wfs_cache *c,
		     struct wfs_view *sub)
{
	*sub = *view;
	sub->n = 0;
	sub->dists = malloc((view->n ? view->n : 1) * sizeof(*sub->dists));
	if (!sub->dists)
		return -ENOMEM;
	for (size_t i = 0; i < view->n; i++)
		if (wfs_tree_exists(c, &view->dists[i].tree) == 1)
			sub->dists[sub->n++] = view->dists[i];
	return 0;
}

int wfs_dist_removed(const struct wfs_venv *v, const struct wfs_view *view,
		     size_t k, const struct wfs_tree *t,
		     const struct wfs_whiteouts *w)
{
	char path[WFS_VPATH_MAX], *di = NULL;
	struct stat st;
	int rc;

	if (!t) { /* a pinned view's RECORD says; else unknown */
		if (!view->pinned)
			return 0;
		rc = wfs_upper_distinfo(v, view, k, &di);
		free(di);
		return rc == -ENOENT ? 1 : rc;
	}
	snprintf(path, sizeof(path), "%s/%s", v->site,
		 wfs_tree_str(t, t->hdr->distinfo_off));
	if (fstatat(v->libfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0; /* the upper layer has it */
	if (errno != ENOENT && errno != ENOTDIR)
		return -errno;
	if (view->pinned) /* no lower layer */
		return 1;
	/* The lower one shows unless a whiteout or an opaque directory
	 * (an upper one replaced a deleted lower one) on it or on a parent
	 * hides it. */
	for (;;) {
		char *slash;
		if (wfs_wo_get(w, path) != WFS_WO_NONE)
			return 1;
		slash = strrchr(path, '/');
		if (!slash)
			return 0;
		*slash = '\0';
	}
}
