/* install_run.c — writing and removing the files of an install or
 * uninstall (install.c plans them): real files atomically, removals with
 * their emptied directories, whiteouts over new paths forgotten. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"
#include "install_ctx.h"
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
			     strerror(-rc))
		  : 0;
}

/* Remove one VENV-relative file; its parents become candidates for
 * removal when empty (never the top level, nor site-packages and up). */
static int remove_file(struct wfs_inst_ctx *x, const char *vpath,
		       struct wfs_strset *dirs)
{
	const char *rel, *base;
	char dir[WFS_VPATH_MAX];
	int fd, pfd, rc = 0;

	wfs_venv_route(x->v, vpath, &fd, &rel);
	pfd = wfs_parent_beneath(fd, rel, &base);
	if (pfd < 0) /* gone, or behind a symlink: not ours to touch */
		return pfd == -ENOENT || pfd == -ENOTDIR || pfd == -EXDEV
			       ? 0
			       : wfs_errf(x->err, pfd, "%s/%s: %s", x->v->path,
					  vpath, strerror(-pfd));
	if (unlinkat(pfd, base, 0) < 0 && errno != ENOENT && errno != EISDIR &&
	    errno != ENOTDIR)
		rc = wfs_errf(x->err, -errno, "%s/%s: %s", x->v->path, vpath,
			      strerror(errno));
	close(pfd);
	if (rc)
		return rc;
	/* Like pip: the file's own directory when that empties (bin/,
	 * include/...); in the upper layer, every directory up to
	 * site-packages, which are mere traces of copy-ups. */
	snprintf(dir, sizeof(dir), "%s", vpath);
	for (char *s = strrchr(dir, '/'); s; s = strrchr(dir, '/')) {
		*s = '\0';
		if (!strchr(dir, '/') ||
		    (strlen(dir) <= strlen(x->site_v) &&
		     !strncmp(x->site_v, dir, strlen(dir))))
			break;
		if (wfs_ss_add(dirs, dir))
			return -ENOMEM;
		if (strncmp(vpath, "lib/", 4))
			break;
	}
	return 0;
}

static int cmp_len_desc(const void *a, const void *b)
{
	size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);
	return x < y ? 1 : x > y ? -1 : 0;
}

int wfs_inst_run_removal(struct wfs_inst_ctx *x, struct wfs_inst_dist *d)
{
	struct wfs_strset dirs = { 0 };
	int rc = 0;

	for (size_t i = 0; !rc && i < d->rm.n; i++)
		rc = remove_file(x, d->rm.v[i], &dirs);
	wfs_ss_sort(&d->last);
	for (size_t i = 0; !rc && i < d->last.n; i++)
		rc = remove_file(x, d->last.v[i], &dirs);
	wfs_ss_sort(&dirs);
	if (dirs.n)
		qsort(dirs.v, dirs.n, sizeof(*dirs.v), cmp_len_desc);
	for (size_t i = 0; !rc && i < dirs.n; i++) {
		const char *rel, *base;
		int fd, pfd;
		wfs_venv_route(x->v, dirs.v[i], &fd, &rel);
		pfd = wfs_parent_beneath(fd, rel, &base);
		if (pfd >= 0) {
			unlinkat(pfd, base, AT_REMOVEDIR); /* only when empty */
			close(pfd);
		}
	}
	wfs_ss_free(&dirs);
	return rc;
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
	struct wfs_buf rec = { 0 };
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
	if (!rc && x->pinned) /* a pinned view stays so: real files */
		rc = wfs_install_site_files(x->v, x->c, x->view, &d->tree,
					    x->err);
	if (!rc && x->pinned && x->v->live)
		rc = inval_replaced(x, d);
	if (rc)
		return rc;
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
