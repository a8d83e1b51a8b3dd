/* install_run.c — writing the files of an install (install.c plans them):
 * real files atomically, a pinned view's new files placed by pin's code,
 * each RECORD last, whiteouts over new paths forgotten.  Removals are
 * install_remove.c's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"
#include "install_ctx.h"
#include "pin.h"
#include "upper.h"

static int write_pfile(struct wfs_inst_ctx *x, const struct wfs_pfile *f)
{
	const char *rel;
	int fd, rc;

	wfs_venv_route(x->v, f->path, &fd, &rel);
	rc = wfs_mkparents(fd, rel);
	if (rc)
		;
	else if (f->kind == WFS_PF_BUF)
		rc = wfs_buf_write_atomic(fd, rel, f->buf.data, f->buf.len,
					  f->mode);
	else if (f->kind == WFS_PF_LINK)
		rc = wfs_symlink_atomic(fd, rel, f->target);
	else
		rc = wfs_copy_blob_atomic(x->c, &f->blob, fd, rel, f->mode);
	return rc ? wfs_errf(x->err, rc, "%s/%s: %s", x->v->path, f->path,
			     wfs_blob_strerror(rc))
		  : 0;
}

/* A mounted venv: the upper files just replaced behind the mount get new
 * nodes (a reload follows the lower layer, and a pinned view has none). */
static int inval_replaced(struct wfs_inst_ctx *x, struct wfs_inst_dist *d)
{
	char line[WFS_VPATH_MAX + 128], msg[256] = "";
	int rc = 0;

	for (size_t i = 0; i < d->plan.nv && !rc; i++) {
		const char *p = d->plan.vpaths[i];
		if (strchr(p, '\n') ||
		    !wfs_sorted_has(x->upper.v, x->upper.n, p) ||
		    snprintf(line, sizeof(line), "INVAL %s/%s\n", x->v->site,
			     p) >= (int)sizeof(line))
			continue;
		rc = wfs_control_request(x->v->sock, line, NULL, msg,
					 sizeof(msg));
	}
	return rc ? wfs_errf(x->err, rc, "%s: the mount did not drop %s: %s",
			     x->v->lib, line, msg[0] ? msg : strerror(-rc))
		  : 0;
}

int wfs_inst_write_dist(struct wfs_inst_ctx *x, struct wfs_inst_dist *d)
{
	char path[WFS_VPATH_MAX], dir[WFS_VPATH_MAX] = "\1"; /* none yet */
	const char *rel;
	int fd, rc = 0;

	/* The plan is sorted by path: a directory's files come together. */
	for (size_t i = 0; !rc && i < d->plan.n; i++) {
		const struct wfs_pfile *f = &d->plan.f[i];
		const char *slash;
		if (f->dropped)
			continue;
		slash = strrchr(f->path, '/');
		snprintf(path, sizeof(path), "%.*s",
			 slash ? (int)(slash - f->path) : 0, f->path);
		if (strcmp(path, dir)) {
			memcpy(dir, path, sizeof(dir));
			wfs_venv_route(x->v, f->path, &fd, &rel);
			slash = strrchr(rel, '/');
			snprintf(path, sizeof(path), "%.*s",
				 slash ? (int)(slash - rel) : 0, rel);
			if ((rc = wfs_tmp_sweep(fd, path)))
				return wfs_errf(x->err, rc, "%s/%s: %s",
						x->v->path, dir, strerror(-rc));
		}
		rc = write_pfile(x, f);
	}
	return rc;
}

int wfs_inst_place_pinned(struct wfs_inst_ctx *x)
{
	struct wfs_view sub = *x->view;
	struct wfs_pin_opts o = { .mode = WFS_PIN_AUTO };
	struct wfs_pin_result r;
	int rc = 0;

	/* The new distributions only: the others' files are in place (and
	 * their trees may be gone). */
	sub.n = 0;
	sub.dists = malloc((x->view->n ? x->view->n : 1) * sizeof(*sub.dists));
	if (!sub.dists)
		return wfs_errf(x->err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < x->view->n; i++)
		for (size_t k = 0; k < x->n; k++)
			if (wfs_view_find(x->view, x->d[k].plan.name) ==
			    (long)i) {
				sub.dists[sub.n++] = x->view->dists[i];
				break;
			}
	if (wfs_pin_mode_recorded(x->v->libfd, &o.mode))
		o.mode = WFS_PIN_AUTO; /* pinned by an older wheelfs */
	rc = wfs_pin_files(x->v->libfd, x->v->lib, x->c, &sub, &o, &r, x->err);
	free(sub.dists);
	for (size_t k = 0; k < x->n && !rc && x->v->live; k++)
		rc = inval_replaced(x, &x->d[k]);
	return rc;
}

int wfs_inst_write_record(struct wfs_inst_ctx *x, struct wfs_inst_dist *d)
{
	struct wfs_buf rec = { 0 };
	char path[WFS_VPATH_MAX];
	const char *rel;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s/RECORD", x->site_v,
		 d->plan.distinfo);
	wfs_venv_route(x->v, path, &fd, &rel);
	rc = wfs_plan_record(&d->plan, &rec);
	if (!rc)
		rc = wfs_mkparents(fd, rel);
	if (!rc)
		rc = wfs_buf_write_atomic(fd, rel, rec.data ? rec.data : "",
					  rec.len, 0644);
	wfs_buf_free(&rec);
	return rc ? wfs_errf(x->err, rc, "%s/%s: %s", x->v->path, path,
			     strerror(-rc))
		  : 0;
}

/* Whiteouts and opaque directories (upper.h) over a new tree's paths and
 * their parents would hide what pip would have written: forget them. */
int wfs_inst_clear_whiteouts(struct wfs_inst_ctx *x)
{
	struct wfs_whiteouts w;
	char path[WFS_VPATH_MAX * 2];
	int rc = wfs_wo_load(&w, x->v->libfd, 0);

	if (rc)
		return wfs_errf(x->err, rc, "%s/%s: %s", x->v->lib,
				WFS_WHITEOUTS_FILE, strerror(-rc));
	for (size_t k = 0; k < x->n && !rc && w.n; k++) {
		const struct wfs_plan *p = &x->d[k].plan;
		for (size_t i = 0; i < p->nv && !rc; i++) {
			snprintf(path, sizeof(path), "%s/%s", x->v->site,
				 p->vpaths[i]);
			rc = wfs_wo_expose(&w, path);
		}
	}
	wfs_wo_free(&w);
	return rc ? wfs_errf(x->err, rc, "%s/%s: %s", x->v->lib,
			     WFS_WHITEOUTS_FILE, strerror(-rc))
		  : 0;
}
