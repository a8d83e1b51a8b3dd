/* install.c — installing, replacing and uninstalling distributions of a
 * venv: conflicts, the order of writes, removal of what an old version left.
 * See install.h for the semantics; install_plan.c computes each plan. */
#include "install.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "install_ctx.h"
#include "upper.h"
#include "wheel.h"

/* ---- the upper layer ---------------------------------------------------- */

/* "a/__pycache__/m.cpython-311.pyc" (any tag or optimization level)
 * belongs to "a/m.py" when that is in the sorted set v. */
static int pyc_of(const char *u, char *const *v, size_t n)
{
	const char *name = strrchr(u, '/'), *dot;
	char src[WFS_VPATH_MAX];
	size_t dl;

	name = name ? name + 1 : u;
	if ((size_t)(name - u) < 12 || strncmp(name - 12, "__pycache__/", 12) ||
	    strlen(name) < 5 || strcmp(name + strlen(name) - 4, ".pyc"))
		return 0;
	dl = (size_t)(name - 12 - u);
	for (dot = strchr(name, '.'); dot; dot = strchr(dot + 1, '.')) {
		if (dot == name ||
		    snprintf(src, sizeof(src), "%.*s%.*s.py", (int)dl, u,
			     (int)(dot - name), name) >= (int)sizeof(src))
			continue;
		if (wfs_sorted_has(v, n, src))
			return 1;
	}
	return 0;
}

static void report(const struct wfs_inst_ctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void report(const struct wfs_inst_ctx *x, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!x->o || !x->o->report)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	x->o->report(line, x->o->report_arg);
}

/* Drop from cand the paths outside site-packages that a RECORD in the
 * upper layer other than that of t's .dist-info lists: with no RECORD of
 * its own (a rerun after a crash, or pip replaced it through the mount),
 * t's plan may name a file that --force-overwrite gave to another
 * distribution of the view since, or that pip installed for another. */
static int drop_claimed(struct wfs_inst_ctx *x, const struct wfs_tree *t,
			struct wfs_strset *cand)
{
	const char *di = wfs_tree_str(t, t->hdr->distinfo_off);
	struct wfs_strset others = { 0 };
	char vp[WFS_VPATH_MAX], odi[WFS_VPATH_MAX];
	size_t kept = 0;
	int rc = 0;

	for (size_t k = 0; k < x->upper.n && !rc; k++) {
		const char *u = x->upper.v[k], *slash = strchr(u, '/');
		struct wfs_record rec = { 0 };
		size_t l = slash ? (size_t)(slash - u) : 0;
		if (l < 11 || l >= sizeof(odi) || strcmp(slash, "/RECORD") ||
		    strncmp(slash - 10, ".dist-info", 10))
			continue;
		snprintf(odi, sizeof(odi), "%.*s", (int)l, u);
		if (!strcmp(odi, di))
			continue; /* t's own */
		rc = wfs_venv_record_read(x->v, odi, &rec);
		if (rc) {
			rc = rc == -ENOENT || rc == -EINVAL ? 0 : rc;
			continue;
		}
		for (size_t i = 0; !rc && i < rec.n; i++)
			if (!wfs_record_target(x->site_v, rec.rows[i].path, vp,
					       sizeof(vp)) &&
			    !wfs_in_site(x->site_v, vp))
				rc = wfs_ss_add(&others, vp);
		wfs_record_free(&rec);
	}
	wfs_ss_sort(&others);
	for (size_t i = 0; !rc && i < cand->n; i++) {
		if (wfs_sorted_has(others.v, others.n, cand->v[i]))
			free(cand->v[i]);
		else
			cand->v[kept++] = cand->v[i];
	}
	if (!rc)
		cand->n = kept;
	wfs_ss_free(&others);
	return rc;
}

/* What removing the distribution of the upper .dist-info directory di
 * means: its venv RECORD (else the plan its installed tree t would have
 * had; nothing when t is NULL), its upper dist-info files, the upper
 * copies and __pycache__ of its files.  keep (sorted): paths its
 * replacement writes, which are overwritten then rather than removed now.
 * files: also the upper copies and __pycache__ (not when the same tree is
 * reinstalled, which keeps edits made through the mount).  The old RECORD
 * is removed last, so a rerun after a crash still finds what it lists. */
static int plan_removal(struct wfs_inst_ctx *x, struct wfs_inst_dist *d,
			const char *di, const struct wfs_tree *t,
			const struct wfs_strset *keep, int files)
{
	struct wfs_record rec = { 0 };
	struct wfs_strset inside = { 0 }, cand = { 0 };
	struct wfs_plan tmp;
	char vp[WFS_VPATH_MAX], rp[WFS_VPATH_MAX * 2], last[WFS_VPATH_MAX];
	size_t dil = strlen(di);
	int rc, have_plan = 0;

	rc = wfs_venv_record_read(x->v, di, &rec);
	if ((rc == -ENOENT || rc == -EINVAL) && !t) {
		rc = 0;
	} else if (rc == -ENOENT || rc == -EINVAL) {
		/* No (usable) RECORD: what install would have written is
		 * what there is to remove. */
		rc = wfs_plan_build(&tmp, x->c, x->v, t, NULL, 1, x->err);
		have_plan = !rc;
		for (size_t i = 0; have_plan && !rc && i < tmp.n; i++)
			rc = wfs_ss_add(&cand, tmp.f[i].path);
		for (size_t i = 0; have_plan && !rc && i < tmp.nv; i++)
			rc = wfs_ss_add(&inside, tmp.vpaths[i]);
		if (!rc)
			rc = drop_claimed(x, t, &cand);
	} else if (rc) {
		rc = wfs_errf(x->err, rc, "%s/%s/%s/RECORD: %s", x->v->lib,
			      x->v->site, di, strerror(-rc));
	}
	for (size_t i = 0; !rc && i < rec.n; i++) {
		const char *s;
		if (wfs_record_target(x->site_v, rec.rows[i].path, vp,
				      sizeof(vp)))
			continue; /* absolute or escaping: never touched */
		s = wfs_in_site(x->site_v, vp);
		rc = s ? wfs_ss_add(&inside, s) : wfs_ss_add(&cand, vp);
	}
	if (have_plan)
		wfs_plan_free(&tmp);
	wfs_ss_sort(&inside);
	for (size_t i = 0; !rc && i < inside.n; i++) {
		snprintf(rp, sizeof(rp), "%s/%s", x->site_v, inside.v[i]);
		rc = wfs_remove_dirs_of(x->site_v, rp, &d->dirs);
	}
	for (size_t i = 0; !rc && i < x->upper.n; i++) {
		const char *u = x->upper.v[i];
		if ((!strncmp(u, di, dil) && u[dil] == '/') ||
		    (files && (wfs_sorted_has(inside.v, inside.n, u) ||
			       pyc_of(u, inside.v, inside.n)))) {
			snprintf(rp, sizeof(rp), "%s/%s", x->site_v, u);
			rc = wfs_ss_add(&cand, rp);
		}
	}
	snprintf(last, sizeof(last), "%s/%s/RECORD", x->site_v, di);
	wfs_ss_sort(&cand);
	for (size_t i = 0; !rc && i < cand.n; i++) {
		if (keep && wfs_sorted_has(keep->v, keep->n, cand.v[i]))
			continue;
		rc = wfs_ss_add(strcmp(cand.v[i], last) ? &d->rm : &d->last,
				cand.v[i]);
	}
	wfs_record_free(&rec);
	wfs_ss_free(&inside);
	wfs_ss_free(&cand);
	return rc;
}

/* Upper copies (and __pycache__) of a new tree's files: what pip would
 * have overwritten. */
static int plan_purge(struct wfs_inst_ctx *x, struct wfs_inst_dist *d)
{
	char rp[WFS_VPATH_MAX * 2];
	int rc = 0;

	for (size_t i = 0; !rc && i < x->upper.n; i++) {
		const char *u = x->upper.v[i];
		if (wfs_sorted_has(d->plan.vpaths, d->plan.nv, u) ||
		    pyc_of(u, d->plan.vpaths, d->plan.nv)) {
			snprintf(rp, sizeof(rp), "%s/%s", x->site_v, u);
			rc = wfs_ss_add(&d->rm, rp);
		}
	}
	return rc;
}

/* Other versions of d's distribution in the upper layer, which pip
 * installed there (a .dist-info directory of d's normalized name other
 * than the view's): removed as pip replaces them, by their RECORD. */
static int plan_strays(struct wfs_inst_ctx *x, struct wfs_inst_dist *d,
		       const struct wfs_strset *keep)
{
	const char *old =
		!d->have_old ? NULL
		: d->old_di  ? d->old_di
			     : wfs_tree_str(&d->old, d->old.hdr->distinfo_off);
	char want[256], have[256], di[WFS_VPATH_MAX];
	size_t voff, vlen;
	int rc = 0;

	wfs_wheel_normalize(d->plan.name, want, sizeof(want));
	di[0] = '\0';
	for (size_t i = 0; !rc && i < x->upper.n; i++) {
		const char *u = x->upper.v[i], *slash = strchr(u, '/');
		size_t l = slash ? (size_t)(slash - u) : 0;
		if (l >= sizeof(di) || (!strncmp(u, di, l) && !di[l]) ||
		    wfs_distinfo_split(u, l, have, sizeof(have), &voff, &vlen))
			continue; /* not a .dist-info, or seen already */
		snprintf(di, sizeof(di), "%.*s", (int)l, u);
		if (strcmp(have, want) || (old && !strcmp(di, old)))
			continue;
		rc = plan_removal(x, d, di, NULL, keep, 1);
		if (!rc && !d->have_old && strcmp(di, d->plan.distinfo) &&
		    !d->replaces_upper) {
			d->replaces_upper = 1;
			free(d->old_version);
			d->old_version = strndup(di + voff, vlen);
			if (!d->old_version)
				rc = -ENOMEM;
		}
	}
	return rc;
}

/* ---- the commands ------------------------------------------------------- */

static void ctx_free(struct wfs_inst_ctx *x)
{
	for (size_t i = 0; i < x->n; i++) {
		struct wfs_inst_dist *d = &x->d[i];
		if (d->have_plan)
			wfs_plan_free(&d->plan);
		if (d->have_old && !d->same)
			wfs_tree_free(&d->old);
		if (d->have_tree)
			wfs_tree_free(&d->tree);
		free(d->old_version);
		free(d->old_di);
		free(d->name);
		wfs_ss_free(&d->last);
		wfs_ss_free(&d->dirs);
		wfs_ss_free(&d->rm);
	}
	free(x->d);
	wfs_ss_free(&x->upper);
}

static int scan_upper(struct wfs_inst_ctx *x)
{
	int rc = wfs_scan_files(x->v->libfd, x->v->site, &x->upper);
	size_t l = strlen(x->v->site) + 1;

	if (rc)
		return wfs_errf(x->err, rc, "%s/%s: %s", x->v->lib, x->v->site,
				strerror(-rc));
	for (size_t i = 0; i < x->upper.n; i++)
		memmove(x->upper.v[i], x->upper.v[i] + l,
			strlen(x->upper.v[i] + l) + 1);
	wfs_ss_sort(&x->upper);
	return 0;
}

static int keep_set(struct wfs_inst_ctx *x, const struct wfs_inst_dist *d,
		    struct wfs_strset *keep)
{
	char path[WFS_VPATH_MAX];
	int rc = 0;

	for (size_t i = 0; !rc && i < d->plan.n; i++)
		if (!d->plan.f[i].dropped)
			rc = wfs_ss_add(keep, d->plan.f[i].path);
	snprintf(path, sizeof(path), "%s/%s/RECORD", x->site_v,
		 d->plan.distinfo);
	if (!rc)
		rc = wfs_ss_add(keep, path);
	wfs_ss_sort(keep);
	return rc;
}

static int prepare(struct wfs_inst_ctx *x, const struct wfs_install_src *srcs)
{
	struct wfs_view *view = x->view;
	char a[256], b[256];
	int rc = 0;

	for (size_t i = 0; i < x->n && !rc; i++) {
		struct wfs_inst_dist *d = &x->d[i];
		d->src = &srcs[i];
		rc = wfs_tree_load(x->c, &srcs[i].tree, &d->tree, x->err);
		d->have_tree = !rc;
	}
	for (size_t i = 0; i < x->n && !rc; i++)
		for (size_t j = i + 1; j < x->n && !rc; j++) {
			wfs_wheel_normalize(
				wfs_tree_str(&x->d[i].tree,
					     x->d[i].tree.hdr->name_off),
				a, sizeof(a));
			wfs_wheel_normalize(
				wfs_tree_str(&x->d[j].tree,
					     x->d[j].tree.hdr->name_off),
				b, sizeof(b));
			if (!strcmp(a, b))
				rc = wfs_errf(x->err, -EINVAL,
					      "%s and %s are both %s: install "
					      "one version at a time",
					      srcs[i].source, srcs[j].source,
					      a);
		}
	for (size_t i = 0; i < x->n && !rc; i++) {
		struct wfs_inst_dist *d = &x->d[i];
		const struct wfs_tree *t = &d->tree;
		const char *name = wfs_tree_str(t, t->hdr->name_off);
		long k = wfs_view_find(view, name);
		if (k >= 0) {
			d->have_old = 1;
			d->same = wfs_digest_equal(&view->dists[k].tree,
						   &srcs[i].tree);
			d->old_version = strdup(view->dists[k].version);
			if (!d->old_version)
				rc = -ENOMEM;
			else if (d->same)
				d->old = d->tree;
			else
				rc = wfs_view_tree(view, (size_t)k, x->c,
						   &d->old, x->err);
			/* Pinned: its files are real, its RECORD says which. */
			if (rc == -ENOENT && x->pinned)
				rc = wfs_treeless_dist(x->v, view, (size_t)k,
						       "replace", &d->old_di,
						       x->err);
			if (rc)
				d->have_old = 0;
		}
		if (!rc)
			rc = wfs_view_set(view, name,
					  wfs_tree_str(t, t->hdr->version_off),
					  &srcs[i].tree, srcs[i].requested);
	}
	return rc;
}

int wfs_install(struct wfs_venv *venv, struct wfs_cache *c,
		struct wfs_view *view, const struct wfs_install_src *srcs,
		size_t n, const struct wfs_install_opts *o, struct wfs_err *err)
{
	struct wfs_inst_ctx x = {
		.v = venv, .c = c, .view = view, .o = o, .err = err, .n = n
	};
	struct wfs_composed cv = { 0 };
	struct wfs_view present = { 0 };
	const struct wfs_view *cvv; /* what cv composes */
	struct wfs_exist *ex = NULL;
	struct wfs_plan **plans = NULL;
	unsigned char *fresh = NULL; /* per distribution of cvv */
	size_t nex = 0;
	int rc, composed = 0;

	snprintf(x.site_v, sizeof(x.site_v), "lib/%s", venv->site);
	x.pinned = view->pinned;
	cvv = x.pinned ? &present : view;
	x.d = calloc(n ? n : 1, sizeof(*x.d));
	if (!x.d)
		return wfs_errf(err, -ENOMEM, "out of memory");
	/* Everything is checked before anything is written. */
	rc = prepare(&x, srcs);
	/* A pinned view's distributions whose tree is gone have real files
	 * only: they are not part of the composition. */
	if (!rc && x.pinned)
		rc = wfs_view_present(view, c, &present);
	if (!rc) {
		rc = wfs_view_compose(cvv, c, &cv, err);
		composed = !rc;
		if (rc == -EEXIST) { /* name the venv's path */
			char msg[sizeof(err->msg)];
			snprintf(msg, sizeof(msg), "%s", err->msg);
			snprintf(err->msg, sizeof(err->msg), "%s/%.900s%s",
				 venv->lib, msg,
				 o && o->force_overwrite
					 ? " (--force-overwrite cannot "
					   "override a conflict in "
					   "site-packages)"
					 : "");
		}
	}
	for (size_t i = 0; i < n && !rc; i++) {
		rc = wfs_plan_build(&x.d[i].plan, c, venv, &x.d[i].tree,
				    srcs[i].whl_abs, srcs[i].requested, err);
		x.d[i].have_plan = !rc;
	}
	if (!rc && !(plans = calloc(n, sizeof(*plans))))
		rc = -ENOMEM;
	for (size_t i = 0; i < n && !rc; i++)
		plans[i] = &x.d[i].plan;
	/* The composed view's distributions that this command installs
	 * again: their directories do not keep what the old ones leave. */
	if (!rc && !(fresh = calloc(cvv->n ? cvv->n : 1, 1)))
		rc = -ENOMEM;
	for (size_t i = 0; i < n && !rc; i++) {
		long k = wfs_view_find(cvv, x.d[i].plan.name);
		if (k >= 0)
			fresh[k] = 1;
	}
	if (!rc)
		rc = wfs_install_conflicts(
			venv, plans, n, &cv, x.pinned ? view : NULL,
			o && o->force_overwrite, &ex, &nex, err);
	if (!rc)
		rc = scan_upper(&x);
	for (size_t i = 0; i < n && !rc; i++) {
		struct wfs_inst_dist *d = &x.d[i];
		struct wfs_strset keep = { 0 };
		rc = keep_set(&x, d, &keep);
		if (!rc && d->have_old && d->old_di)
			rc = plan_removal(&x, d, d->old_di, NULL, &keep, 1);
		else if (!rc && d->have_old)
			rc = plan_removal(
				&x, d,
				wfs_tree_str(&d->old, d->old.hdr->distinfo_off),
				&d->old, &keep, !d->same);
		if (!rc)
			rc = plan_strays(&x, d, &keep);
		if (!rc && !d->same)
			rc = plan_purge(&x, d);
		wfs_ss_free(&keep);
		wfs_ss_sort(&d->rm);
	}
	/* A read-only cache cannot record it (the caller warns). */
	if (!rc && !c->readonly && (rc = wfs_cache_register_view(c, venv->lib)))
		wfs_errf(err, rc, "%s: registering the view: %s", c->path,
			 strerror(-rc));
	/* Old files go, new ones come (each RECORD last), the view last. */
	for (size_t i = 0; i < n && !rc; i++)
		rc = wfs_remove_run(venv, x.site_v, &cv, fresh, &x.d[i].rm,
				    &x.d[i].last, &x.d[i].dirs, err);
	for (size_t i = 0; i < n && !rc; i++)
		rc = wfs_inst_write_dist(&x, &x.d[i]);
	/* Whiteouts first: pin leaves out what they hide. */
	if (!rc)
		rc = wfs_inst_clear_whiteouts(&x);
	if (!rc && x.pinned)
		rc = wfs_inst_place_pinned(&x);
	for (size_t i = 0; i < n && !rc; i++)
		rc = wfs_inst_write_record(&x, &x.d[i]);
	for (size_t i = 0; i < nex && !rc; i++)
		if (ex[i].drop.n)
			rc = wfs_install_drop_rows(venv, &ex[i], err);
	/* The new trees' files are lower only: no longer pinned (pin.h),
	 * unless it was (their files are real then). */
	view->pinned = x.pinned;
	if (!rc)
		rc = wfs_venv_commit(venv, view, err);
	for (size_t i = 0; i < n && !rc; i++) {
		const struct wfs_inst_dist *d = &x.d[i];
		if (!d->have_old && !d->replaces_upper)
			report(&x, "installed %s %s", d->plan.name,
			       d->plan.version);
		else if (d->same || !strcmp(d->old_version, d->plan.version))
			/* the same version (adopt's tree is built from the
			 * venv's files, another build's differs) */
			report(&x, "reinstalled %s %s", d->plan.name,
			       d->plan.version);
		else
			report(&x, "replaced %s %s -> %s", d->plan.name,
			       d->old_version, d->plan.version);
	}
	if (rc && !err->msg[0])
		wfs_errf(err, rc, "%s: %s", venv->path, strerror(-rc));
	wfs_exist_free(ex, nex);
	free(present.dists);
	free(plans);
	free(fresh);
	if (composed)
		wfs_composed_free(&cv);
	ctx_free(&x);
	return rc;
}

int wfs_uninstall(struct wfs_venv *venv, struct wfs_cache *c,
		  struct wfs_view *view, char *const *names, size_t n,
		  const struct wfs_install_opts *o, struct wfs_err *err)
{
	struct wfs_inst_ctx x = {
		.v = venv, .c = c, .view = view, .o = o, .err = err
	};
	struct wfs_view present = { 0 };
	struct wfs_composed cv = { 0 };
	int rc = 0, composed = 0;

	snprintf(x.site_v, sizeof(x.site_v), "lib/%s", venv->site);
	x.d = calloc(n ? n : 1, sizeof(*x.d));
	if (!x.d)
		return wfs_errf(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n && !rc; i++) {
		long k = wfs_view_find(view, names[i]);
		int dup = 0;
		if (k < 0) {
			rc = wfs_errf(err, -ENOENT, "%s: not installed in %s",
				      names[i], venv->path);
			break;
		}
		for (size_t j = 0; j < x.n && !dup; j++)
			dup = !strcmp(x.d[j].name, view->dists[k].name);
		if (dup)
			continue;
		struct wfs_inst_dist *d = &x.d[x.n++];
		d->name = strdup(view->dists[k].name);
		d->old_version = strdup(view->dists[k].version);
		if (!d->name || !d->old_version) {
			rc = wfs_errf(err, -ENOMEM, "out of memory");
			break;
		}
		/* Without its tree (the cache is gone or pruned) its RECORD
		 * drives the removal, as for pip. */
		rc = wfs_view_tree(view, (size_t)k, c, &d->tree, err);
		d->have_tree = !rc;
		if (rc == -ENOENT)
			rc = wfs_treeless_dist(venv, view, (size_t)k,
					       "uninstall", &d->old_di, err);
	}
	if (!rc)
		rc = scan_upper(&x);
	for (size_t i = 0; i < x.n && !rc; i++) {
		const struct wfs_tree *t = &x.d[i].tree;
		rc = plan_removal(
			&x, &x.d[i],
			x.d[i].have_tree ? wfs_tree_str(t, t->hdr->distinfo_off)
					 : x.d[i].old_di,
			x.d[i].have_tree ? t : NULL, NULL, 1);
		wfs_ss_sort(&x.d[i].rm);
	}
	for (size_t i = 0; i < x.n && !rc; i++) {
		long k = wfs_view_find(view, x.d[i].name);
		if (k >= 0)
			wfs_view_remove(view, (size_t)k);
	}
	/* What stays in the view keeps its directories (the distributions
	 * whose trees are at hand: without, their files are real). */
	if (!rc && c && !(rc = wfs_view_present(view, c, &present))) {
		rc = wfs_view_compose(&present, c, &cv, err);
		composed = !rc;
	}
	for (size_t i = 0; i < x.n && !rc; i++)
		rc = wfs_remove_run(venv, x.site_v, composed ? &cv : NULL, NULL,
				    &x.d[i].rm, &x.d[i].last, &x.d[i].dirs,
				    err);
	if (!rc)
		rc = wfs_venv_commit(venv, view, err);
	for (size_t i = 0; i < x.n && !rc; i++)
		report(&x, "uninstalled %s %s", x.d[i].name,
		       x.d[i].old_version);
	if (rc && !err->msg[0])
		wfs_errf(err, rc, "%s: %s", venv->path, strerror(-rc));
	if (composed)
		wfs_composed_free(&cv);
	free(present.dists);
	ctx_free(&x);
	return rc;
}
