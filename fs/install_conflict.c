/* install_conflict.c — real files (outside site-packages) claimed by two
 * distributions: the new ones being installed, and those staying in the
 * view (what their venv RECORD lists; a pinned view's distribution whose
 * tree is gone is known by its upper .dist-info).  Refused naming both, or with
 * force_overwrite the later one wins and the earlier one is told to drop
 * the path (a new one's file is not written, a staying one's RECORD loses
 * the row).  Conflicts inside site-packages are the view's (view.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "install_int.h"
#include "wheel.h"

struct claim {
	const char *path;
	long who; /* >= 0: plans[who]; < 0: ex[-1 - who] */
	struct wfs_pfile *pf;
};

static int cmp_claim(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	return c ? c : (x->who < y->who ? -1 : x->who > y->who);
}

static const char *who_name(struct wfs_plan *const *plans,
			    const struct wfs_exist *ex, long who)
{
	return who >= 0 ? plans[who]->name : ex[-1 - who].name;
}

/* Whether name (normalized) is one of the new distributions', or one of
 * the first nt trees of cv. */
static int among(const char *name, struct wfs_plan *const *plans, size_t n,
		 const struct wfs_composed *cv, size_t nt)
{
	char norm[256], other[256];

	wfs_wheel_normalize(name, norm, sizeof(norm));
	for (size_t k = 0; k < n; k++) {
		wfs_wheel_normalize(plans[k]->name, other, sizeof(other));
		if (!strcmp(norm, other))
			return 1;
	}
	for (size_t i = 0; i < nt; i++) {
		const struct wfs_tree *t = &cv->trees[i];
		wfs_wheel_normalize(wfs_tree_str(t, t->hdr->name_off), other,
				    sizeof(other));
		if (!strcmp(norm, other))
			return 1;
	}
	return 0;
}

/* e's real files: what its venv RECORD lists outside site-packages. */
static int claims(const struct wfs_venv *v, const char *site_v,
		  struct wfs_exist *e)
{
	struct wfs_record rec = { 0 };
	char vp[WFS_VPATH_MAX];
	int rc = 0;

	if (wfs_venv_record_read(v, e->di, &rec))
		return 0; /* nothing known: nothing to claim */
	for (size_t r = 0; r < rec.n && !rc; r++)
		if (!wfs_record_target(site_v, rec.rows[r].path, vp,
				       sizeof(vp)) &&
		    !wfs_in_site(site_v, vp))
			rc = wfs_ss_add(&e->paths, vp);
	wfs_record_free(&rec);
	return rc;
}

/* The distributions that stay, with their real files: those of cv, and
 * those of a pinned view whose tree is gone (not in cv), known by their
 * upper .dist-info. */
static int staying(const struct wfs_venv *v, const char *site_v,
		   struct wfs_plan *const *plans, size_t n,
		   const struct wfs_composed *cv, const struct wfs_view *view,
		   struct wfs_exist *ex, size_t *nex)
{
	int rc = 0;

	for (size_t i = 0; i < cv->ntrees && !rc; i++) {
		const struct wfs_tree *t = &cv->trees[i];
		const char *name = wfs_tree_str(t, t->hdr->name_off);
		if (among(name, plans, n, cv, 0))
			continue;
		struct wfs_exist *e = &ex[(*nex)++];
		e->name = name;
		e->di = wfs_tree_str(t, t->hdr->distinfo_off);
		rc = claims(v, site_v, e);
	}
	for (size_t k = 0; view && k < view->n && !rc; k++) {
		struct wfs_exist *e = &ex[*nex];
		if (among(view->dists[k].name, plans, n, cv, cv->ntrees))
			continue;
		rc = wfs_upper_distinfo(v, view, k, &e->di_own);
		if (rc == -ENOENT) { /* no RECORD: nothing to claim */
			rc = 0;
			continue;
		}
		(*nex)++;
		e->name = view->dists[k].name;
		e->di = e->di_own;
		if (!rc)
			rc = claims(v, site_v, e);
	}
	return rc;
}

int wfs_install_conflicts(const struct wfs_venv *v,
			  struct wfs_plan *const *plans, size_t n,
			  const struct wfs_composed *cv,
			  const struct wfs_view *view, int force,
			  struct wfs_exist **exout, size_t *nex,
			  struct wfs_err *err)
{
	struct wfs_exist *ex =
		calloc(cv->ntrees + (view ? view->n : 0) + 1, sizeof(*ex));
	struct claim *cl = NULL;
	size_t ncl = 0, cap = 0;
	char site_v[80];
	int rc;

	*exout = ex;
	*nex = 0;
	if (!ex)
		return -ENOMEM;
	snprintf(site_v, sizeof(site_v), "lib/%s", v->site);
	rc = staying(v, site_v, plans, n, cv, view, ex, nex);
	if (rc && rc != -ENOMEM)
		return wfs_errf(err, rc, "%s/%s: %s", v->lib, v->site,
				strerror(-rc));
	for (size_t pass = 0; pass < 2 && !rc; pass++) {
		for (size_t k = 0; k < n; k++)
			for (size_t i = 0; i < plans[k]->n; i++) {
				struct wfs_pfile *f = &plans[k]->f[i];
				if (f->dropped || wfs_in_site(site_v, f->path))
					continue;
				if (pass)
					cl[ncl++] =
						(struct claim){ f->path,
								(long)k, f };
				else
					cap++;
			}
		for (size_t k = 0; k < *nex; k++)
			for (size_t i = 0; i < ex[k].paths.n; i++) {
				if (pass)
					cl[ncl++] = (struct claim){
						ex[k].paths.v[i], -1 - (long)k,
						NULL
					};
				else
					cap++;
			}
		if (!pass && !(cl = malloc((cap ? cap : 1) * sizeof(*cl))))
			rc = -ENOMEM;
	}
	if (!rc && ncl)
		qsort(cl, ncl, sizeof(*cl), cmp_claim);
	for (size_t i = 0; !rc && i < ncl;) {
		size_t j = i + 1;
		long winner = -1, first = cl[i].who, other = -1;
		int several = 0;
		while (j < ncl && !strcmp(cl[j].path, cl[i].path))
			j++;
		for (size_t k = i; k < j; k++) {
			several |= cl[k].who != first;
			if (cl[k].who >= 0)
				winner =
					cl[k].who; /* sorted: the last new one */
		}
		if (!several || winner < 0) {
			i = j;
			continue;
		}
		for (size_t k = i; k < j; k++)
			if (cl[k].who != winner)
				other = cl[k].who;
		if (!force) {
			rc = wfs_errf(
				err, -EEXIST,
				"%s/%s: claimed by both %s and %s "
				"(--force-overwrite lets the later one win)",
				v->path, cl[i].path, who_name(plans, ex, other),
				who_name(plans, ex, winner));
			break;
		}
		for (size_t k = i; k < j && !rc; k++) {
			if (cl[k].who == winner)
				continue;
			if (cl[k].who >= 0)
				cl[k].pf->dropped = 1;
			else
				rc = wfs_ss_add(&ex[-1 - cl[k].who].drop,
						cl[k].path);
		}
		i = j;
	}
	free(cl);
	return rc == -ENOMEM ? wfs_errf(err, rc, "out of memory") : rc;
}

int wfs_install_drop_rows(const struct wfs_venv *v, struct wfs_exist *e,
			  struct wfs_err *err)
{
	struct wfs_record rec = { 0 };
	struct wfs_buf out = { 0 };
	char vp[WFS_VPATH_MAX], path[WFS_VPATH_MAX], site_v[80];
	int rc;

	snprintf(site_v, sizeof(site_v), "lib/%s", v->site);
	wfs_ss_sort(&e->drop);
	rc = wfs_venv_record_read(v, e->di, &rec);
	for (size_t i = 0; !rc && i < rec.n; i++) {
		const struct wfs_record_row *r = &rec.rows[i];
		if (!wfs_record_target(site_v, r->path, vp, sizeof(vp)) &&
		    wfs_sorted_has(e->drop.v, e->drop.n, vp))
			continue;
		rc = wfs_record_append(&out, r->path, r->hash, r->size);
	}
	snprintf(path, sizeof(path), "%s/%s/RECORD", v->site, e->di);
	if (!rc)
		rc = wfs_buf_write_atomic(v->libfd, path,
					  out.data ? out.data : "", out.len,
					  0644);
	wfs_record_free(&rec);
	wfs_buf_free(&out);
	return rc ? wfs_errf(err, rc, "%s/%s: %s", v->lib, path, strerror(-rc))
		  : 0;
}

void wfs_exist_free(struct wfs_exist *ex, size_t n)
{
	for (size_t i = 0; ex && i < n; i++) {
		wfs_ss_free(&ex[i].paths);
		wfs_ss_free(&ex[i].drop);
		free(ex[i].di_own);
	}
	free(ex);
}
