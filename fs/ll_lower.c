/* ll_lower.c — one generation of the lower layer: the composed view plus
 * an index of each directory's children, and the attributes its entries
 * show (see ll_inode.h). */
#include "ll_inode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the lower layer ----------------------------------------------------- */

void wfs_lower_free(struct wfs_lower *l)
{
	if (!l)
		return;
	wfs_composed_free(&l->cv);
	wfs_view_free(&l->view);
	free(l->kid_off);
	free(l->kids);
	free(l->nsubdirs);
	free(l);
}

int wfs_lower_isdir(const struct wfs_lower *l, uint32_t i)
{
	const struct wfs_tree_ent *e = l->cv.v[i].ent;

	return !e || S_ISDIR(e->mode);
}

static int build_index(struct wfs_lower *l)
{
	size_t n = l->cv.n;
	uint32_t *fill;

	l->kid_off = calloc(n + 1, sizeof(*l->kid_off));
	l->kids = malloc((n ? n : 1) * sizeof(*l->kids));
	l->nsubdirs = calloc(n ? n : 1, sizeof(*l->nsubdirs));
	fill = malloc((n ? n : 1) * sizeof(*fill));
	if (!l->kid_off || !l->kids || !l->nsubdirs || !fill) {
		free(fill);
		return -ENOMEM;
	}
	if (l->view.pinned)
		n = 1; /* only the root: everything is served from upper */
	for (size_t i = 1; i < n; i++)
		l->kid_off[l->cv.v[i].parent + 1]++;
	for (size_t i = 0; i < l->cv.n; i++)
		l->kid_off[i + 1] += l->kid_off[i];
	memcpy(fill, l->kid_off, l->cv.n * sizeof(*fill));
	/* Entries are sorted by path, so each directory's children come in
	 * name order. */
	for (size_t i = 1; i < n; i++) {
		uint32_t p = l->cv.v[i].parent;
		l->kids[fill[p]++] = (uint32_t)i;
		l->nsubdirs[p] += (uint32_t)wfs_lower_isdir(l, (uint32_t)i);
	}
	free(fill);
	return 0;
}

int wfs_lower_load(int upperfd, const char *target, struct wfs_cache *c,
		   struct wfs_lower **out, struct wfs_err *err)
{
	struct wfs_lower *l = calloc(1, sizeof(*l));
	struct wfs_view pinned;
	struct stat st;
	int rc;

	*out = NULL;
	if (!l)
		return -ENOMEM;
	rc = wfs_view_read(upperfd, target, &l->view, err);
	if (rc) {
		free(l);
		return rc;
	}
	if (fstatat(upperfd, WFS_VIEW_FILE, &st, 0) == 0)
		l->mtime = st.st_mtim;
	if (!l->view.pinned && c->treesfd < 0) {
		rc = wfs_errf(err, -ENOENT,
			      "%s: the view is not pinned, and this mount "
			      "serves it without its cache (%s was gone when "
			      "it started): `wheelfs umount` and mount it "
			      "again",
			      target, c->path);
		wfs_lower_free(l);
		return rc;
	}
	/* A pinned view has every file in the upper layer: load no tree. */
	pinned = l->view;
	if (pinned.pinned)
		pinned.n = 0;
	rc = wfs_view_compose(&pinned, c, &l->cv, err);
	if (!rc)
		rc = build_index(l);
	if (rc) {
		wfs_lower_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

long wfs_lower_kid(const struct wfs_lower *l, uint32_t dir, const char *name)
{
	size_t lo = l->kid_off[dir], hi = l->kid_off[dir + 1];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t k = l->kids[mid];
		int c = strcmp(name, l->cv.v[k].name);
		if (!c)
			return k;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

int wfs_lower_same(const struct wfs_lower *a, uint32_t i,
		   const struct wfs_lower *b, uint32_t j)
{
	const struct wfs_tree_ent *x = a->cv.v[i].ent, *y = b->cv.v[j].ent;
	const char *tx, *ty;

	if (wfs_lower_isdir(a, i) != wfs_lower_isdir(b, j))
		return 0;
	if (!x || !y)
		return !x == !y;
	if (x->mode != y->mode || x->size != y->size ||
	    x->mtime_sec != y->mtime_sec || x->mtime_nsec != y->mtime_nsec ||
	    memcmp(x->digest, y->digest, sizeof(x->digest)))
		return 0;
	if (!S_ISLNK(x->mode))
		return 1;
	tx = wfs_tree_str(&a->cv.trees[a->cv.v[i].dist], x->target_off);
	ty = wfs_tree_str(&b->cv.trees[b->cv.v[j].dist], y->target_off);
	return !strcmp(tx, ty);
}

void wfs_lower_stat(struct wfs_fs *fs, uint32_t i, struct stat *st)
{
	const struct wfs_lower *l = fs->lower;
	const struct wfs_tree_ent *e = l->cv.v[i].ent;

	memset(st, 0, sizeof(*st));
	if (!e) {
		st->st_mode = S_IFDIR | 0755;
		st->st_mtim = l->mtime;
	} else {
		/* Never setuid/setgid from the cache. */
		st->st_mode =
			(mode_t)(e->mode & ~(uint32_t)(S_ISUID | S_ISGID));
		st->st_mtim.tv_sec = e->mtime_sec;
		st->st_mtim.tv_nsec = e->mtime_nsec;
		st->st_size = S_ISDIR(e->mode) ? 4096 : (off_t)e->size;
	}
	if (S_ISDIR(st->st_mode)) {
		st->st_size = 4096;
		st->st_nlink = 2 + l->nsubdirs[i];
	} else {
		st->st_nlink = 1;
	}
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_blksize = 4096;
	st->st_blocks = (st->st_size + 4095) / 4096 * 8;
	st->st_atim = st->st_ctim = st->st_mtim;
}
