/* install_record.c — the venv's RECORD: mapping wheel paths to installed
 * paths (relative to site-packages, ../../../bin/x outside it) and writing
 * the rows pip would write, sorted, as CSV. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "install_int.h"

/* Split path into components; returns the count (at most max). */
static int split(char *s, char **comp, int max)
{
	int n = 0;

	for (char *c = s; *c && n < max;) {
		char *e = strchrnul(c, '/');
		int end = !*e;
		*e = '\0';
		if (*c)
			comp[n++] = c;
		c = end ? e : e + 1;
	}
	return n;
}

int wfs_record_target(const char *site_v, const char *row, char *out,
		      size_t len)
{
	char buf[WFS_VPATH_MAX * 2], *comp[1024];
	size_t o = 0;
	int n, k = 0;

	if (row[0] == '/' || snprintf(buf, sizeof(buf), "%s/%s", site_v, row) >=
				     (int)sizeof(buf))
		return -EINVAL;
	n = split(buf, comp, 1024);
	for (int i = 0; i < n; i++) {
		if (!strcmp(comp[i], "."))
			continue;
		if (!strcmp(comp[i], "..")) {
			if (!k)
				return -EINVAL;
			k--;
			continue;
		}
		comp[k++] = comp[i];
	}
	if (!k)
		return -EINVAL;
	for (int i = 0; i < k; i++) {
		size_t cl = strlen(comp[i]);
		if (o + cl + 2 > len)
			return -ENAMETOOLONG;
		if (i)
			out[o++] = '/';
		memcpy(out + o, comp[i], cl);
		o += cl;
	}
	out[o] = '\0';
	return 0;
}

int wfs_record_relpath(const char *site_v, const char *vpath, char *out,
		       size_t len)
{
	char a[256], b[WFS_VPATH_MAX], *ca[16], *cb[1024];
	int na, nb, k = 0;
	size_t o = 0;

	if (snprintf(a, sizeof(a), "%s", site_v) >= (int)sizeof(a) ||
	    snprintf(b, sizeof(b), "%s", vpath) >= (int)sizeof(b))
		return -ENAMETOOLONG;
	na = split(a, ca, 16);
	nb = split(b, cb, 1024);
	while (k < na && k < nb && !strcmp(ca[k], cb[k]))
		k++;
	out[0] = '\0';
	for (int i = k; i < na; i++) {
		if (o + 4 > len)
			return -ENAMETOOLONG;
		memcpy(out + o, "../", 4);
		o += 3;
	}
	for (int i = k; i < nb; i++) {
		size_t cl = strlen(cb[i]);
		if (o + cl + 2 > len)
			return -ENAMETOOLONG;
		memcpy(out + o, cb[i], cl);
		o += cl;
		if (i + 1 < nb)
			out[o++] = '/';
	}
	out[o] = '\0';
	return 0;
}

/* ---- the venv's RECORD -------------------------------------------------- */

struct row {
	char *path;
	const char *hash;
	int64_t size;
	int rank;     /* of one path, the row of the highest rank stays */
	size_t order; /* then the last: generated files come after the
		       * wheel's */
};

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (!c)
		c = x->rank - y->rank;
	return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int cmp_pf_wheel(const void *a, const void *b)
{
	return strcmp((*(struct wfs_pfile *const *)a)->wheel_path,
		      (*(struct wfs_pfile *const *)b)->wheel_path);
}

static int push_row(struct row **rows, size_t *n, const char *path,
		    const char *hash, int64_t size, int rank)
{
	struct row *r = realloc(*rows, (*n + 1) * sizeof(**rows));

	if (!r)
		return -ENOMEM;
	*rows = r;
	r[*n].path = strdup(path);
	r[*n].hash = hash;
	r[*n].size = size;
	r[*n].rank = rank;
	r[*n].order = *n;
	if (!r[*n].path)
		return -ENOMEM;
	(*n)++;
	return 0;
}

int wfs_plan_record(const struct wfs_plan *p, struct wfs_buf *out)
{
	struct wfs_pfile **by = NULL, key, *kp = &key;
	struct row *rows = NULL;
	size_t nrows = 0, nby = 0, dl = strlen(p->distinfo) - 10;
	char rp[WFS_VPATH_MAX], self[WFS_VPATH_MAX];
	int rc = 0;

	by = malloc((p->n ? p->n : 1) * sizeof(*by));
	if (!by)
		return -ENOMEM;
	for (size_t i = 0; i < p->n; i++)
		if (p->f[i].wheel_path && !p->f[i].dropped)
			by[nby++] = &p->f[i];
	qsort(by, nby, sizeof(*by), cmp_pf_wheel);
	snprintf(self, sizeof(self), "%s/RECORD", p->distinfo);
	for (size_t i = 0; i < p->wrec.n && !rc; i++) {
		const struct wfs_record_row *r = &p->wrec.rows[i];
		const char *s = r->path + dl + 6;
		if (!strcmp(r->path, self))
			continue;
		if (strncmp(r->path, p->distinfo, dl) ||
		    strncmp(r->path + dl, ".data/", 6)) {
			rc = push_row(&rows, &nrows, r->path, r->hash, r->size,
				      0);
			continue;
		}
		/* A path also in the root or platlib: the copy that the
		 * view serves (view.h) has the row. */
		if (!strncmp(s, "purelib/", 8) || !strncmp(s, "platlib/", 8)) {
			rc = push_row(&rows, &nrows, s + 8, r->hash, r->size,
				      s[1] == 'u' ? 2 : 1);
			continue;
		}
		key.wheel_path = r->path;
		struct wfs_pfile **hit =
			nby ? bsearch(&kp, by, nby, sizeof(*by), cmp_pf_wheel)
			    : NULL;
		if (!hit) /* not installed: an entry-point wrapper, dropped */
			continue;
		rc = wfs_record_relpath(p->site_v, (*hit)->path, rp,
					sizeof(rp));
		if (!rc)
			rc = (*hit)->hash[0]
				     ? push_row(&rows, &nrows, rp, (*hit)->hash,
						(*hit)->size, 0)
				     : push_row(&rows, &nrows, rp, r->hash,
						r->size, 0);
	}
	for (size_t i = 0; i < p->n && !rc; i++) {
		if (p->f[i].wheel_path || p->f[i].dropped)
			continue;
		rc = wfs_record_relpath(p->site_v, p->f[i].path, rp,
					sizeof(rp));
		if (!rc)
			rc = push_row(&rows, &nrows, rp, p->f[i].hash,
				      p->f[i].size, 3);
	}
	if (!rc)
		rc = push_row(&rows, &nrows, self, "", -1, 3);
	if (!rc) {
		qsort(rows, nrows, sizeof(*rows), cmp_row);
		/* One row a path: the last pushed of the highest rank, so
		 * a file wheelfs writes (INSTALLER, REQUESTED,
		 * direct_url.json) has its own hash even when the wheel
		 * shipped one. */
		for (size_t i = 0; i < nrows && !rc; i++)
			if (i + 1 == nrows ||
			    strcmp(rows[i].path, rows[i + 1].path))
				rc = wfs_record_append(out, rows[i].path,
						       rows[i].hash,
						       rows[i].size);
	}
	for (size_t i = 0; i < nrows; i++)
		free(rows[i].path);
	free(rows);
	free(by);
	return rc;
}
