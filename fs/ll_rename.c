/* ll_rename.c — rename (see ll.h).  Renaming an upper entry renames it in
 * the upper layer; a lower entry is copied up first, and the old name's
 * lower entry whited out.  Renaming a directory with lower content first
 * copies that content up (copy_up_tree: the names of the lower layer are
 * fixed), then renames the upper directory.
 */
#include "ll.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#define LOCK(fs) pthread_mutex_lock(&(fs)->mu)
#define UNLOCK(fs) pthread_mutex_unlock(&(fs)->mu)

/* Copy up everything below directory n that comes from the lower layer:
 * each lower child not whited out or shadowed, files cloned or copied,
 * directories made and walked.  After it, n's upper directory holds the
 * whole merged listing.  An interruption leaves upper copies that shadow
 * identical lower entries: nothing a reader could tell. */
static int copy_up_tree(struct wfs_fs *fs, struct wfs_node *n)
{
	const struct wfs_lower *l = fs->lower;
	uint32_t dir = (uint32_t)n->lower;
	int rc = 0;

	for (uint32_t k = l->kid_off[dir]; !rc && k < l->kid_off[dir + 1];
	     k++) {
		const char *name = l->cv.v[l->kids[k]].name;
		struct wfs_node *c;

		rc = wfs_node_resolve(fs, n, name, -1, &c, NULL);
		if (rc == -ENOENT) { /* whited out */
			rc = 0;
			continue;
		}
		if (rc)
			break;
		c->pins++;
		rc = wfs_copy_up(fs, c, 0);
		if (!rc && c->utype == S_IFDIR && c->lower >= 0 && !c->opaque &&
		    wfs_lower_isdir(l, (uint32_t)c->lower))
			rc = copy_up_tree(fs, c);
		c->pins--;
		wfs_node_put(fs, c);
	}
	return rc;
}

/* After copy_up_tree(top) and its move: nothing below top has lower
 * content any more. */
static void drop_lower(struct wfs_fs *fs, struct wfs_node *n, void *top)
{
	for (struct wfs_node *p = n->parent; p; p = p->parent)
		if (p == top) {
			n->lower = -1;
			n->opaque = 0;
			wfs_node_dir_changed(fs, n);
			return;
		}
}

/* ---- rename ------------------------------------------------------------- */

/* n shows lower content below it (a merged directory). */
static int has_lower_tree(struct wfs_fs *fs, struct wfs_node *n)
{
	return wfs_node_is_dir(fs, n) && n->lower >= 0 && !n->opaque &&
	       wfs_lower_isdir(fs->lower, (uint32_t)n->lower);
}

/* Copy n up, with its lower content when tree (the names of the lower
 * layer are fixed: what moves is an upper copy). */
static int copy_up_node(struct wfs_fs *fs, struct wfs_node *n, int tree)
{
	int rc = wfs_copy_up(fs, n, 0);

	return !rc && tree ? copy_up_tree(fs, n) : rc;
}

/* The upper directories of d1 and d2, both open or neither. */
static int upper_parents(struct wfs_fs *fs, struct wfs_node *d1,
			 struct wfs_node *d2, int *pfd1, int *pfd2)
{
	*pfd1 = wfs_node_upper_dir(fs, d1);
	if (*pfd1 < 0)
		return *pfd1;
	*pfd2 = wfs_node_upper_dir(fs, d2);
	if (*pfd2 < 0) {
		close(*pfd1);
		return *pfd2;
	}
	return 0;
}

static int do_rename(struct wfs_fs *fs, struct wfs_node *d1, const char *name,
		     struct wfs_node *d2, const char *newname,
		     unsigned int flags, struct wfs_node *src,
		     struct wfs_node **dstp)
{
	struct wfs_node *dst = *dstp;
	char p1[PATH_MAX], p2[PATH_MAX];
	int srcdir = wfs_node_is_dir(fs, src), tree = 0, rc, pfd1, pfd2;
	int prev = WFS_WO_NONE;
	long raw;

	if (dst == src)
		return 0;
	if (dst && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (srcdir) {
		if (dst && !wfs_node_is_dir(fs, dst))
			return -ENOTDIR;
		if (dst && (rc = wfs_dir_empty(fs, dst)) <= 0)
			return rc ? rc : -ENOTEMPTY;
		tree = has_lower_tree(fs, src);
	} else if (dst && wfs_node_is_dir(fs, dst)) {
		return -EISDIR;
	}
	if (wfs_node_path(d1, name, p1, sizeof(p1)) < 0 ||
	    wfs_node_path(d2, newname, p2, sizeof(p2)) < 0)
		return -ENAMETOOLONG;
	rc = copy_up_node(fs, src, tree);
	if (!rc)
		rc = wfs_copy_up(fs, d2, 0);
	if (rc)
		return rc;
	if (dst)
		wfs_node_keep_open(fs, dst);
	if ((rc = upper_parents(fs, d1, d2, &pfd1, &pfd2)))
		return rc;
	/* Whiteouts: the old name's lower entry must stay hidden (recorded
	 * first, see wo_hide); the new name is an upper entry now (opaque if
	 * a directory over a lower directory). */
	if (src->lower >= 0 && (rc = wfs_ll_wo_hide(fs, p1, &prev))) {
		close(pfd1);
		close(pfd2);
		return rc;
	}
	if (flags)
		rc = renameat2(pfd1, name, pfd2, newname, flags);
	else
		rc = renameat(pfd1, name, pfd2, newname);
	rc = rc < 0 ? -errno : 0;
	close(pfd1);
	close(pfd2);
	if (rc) {
		if (src->lower >= 0)
			(void)wfs_wo_set(&fs->wo, p1, prev);
		return rc;
	}
	if (src->lower < 0 && fs->wo.n)
		rc = wfs_wo_set(&fs->wo, p1, WFS_WO_NONE);
	raw = wfs_node_lower_raw(fs, d2, newname);
	if (!rc && (fs->wo.n || (srcdir && raw >= 0)))
		rc = wfs_wo_set(&fs->wo, p2,
				srcdir && raw >= 0 &&
						wfs_lower_isdir(fs->lower,
								(uint32_t)raw)
					? WFS_WO_OPAQUE
					: WFS_WO_NONE);
	if (!rc && srcdir && fs->wo.n)
		rc = wfs_wo_clear_under(&fs->wo, p2);
	/* Below a whited-out name, records are moot. */
	if (!rc && tree && fs->wo.n)
		rc = wfs_wo_clear_under(&fs->wo, p1);
	if (tree)
		wfs_node_each(fs, drop_lower, src);
	if (dst) {
		dst->pins--;
		wfs_node_detach(fs, dst);
		*dstp = NULL;
	}
	wfs_node_dir_changed(fs, d1);
	wfs_node_dir_changed(fs, d2);
	if (wfs_node_move(fs, src, d2, newname))
		wfs_node_detach(fs, src);
	else {
		src->lower = wfs_node_lower_child(fs, d2, newname, p2);
		src->opaque =
			fs->wo.n && wfs_wo_get(&fs->wo, p2) == WFS_WO_OPAQUE;
	}
	return rc;
}

/* ---- RENAME_EXCHANGE ------------------------------------------------------ */

/* What the whiteouts record at path once an upper entry that is a
 * directory (isdir) or not stands there, all its lower content copied up:
 * a directory over a lower directory is opaque, anything else has no
 * record. */
static int wo_want(struct wfs_fs *fs, struct wfs_node *dir, const char *name,
		   int isdir)
{
	long raw = wfs_node_lower_raw(fs, dir, name);

	return isdir && raw >= 0 && wfs_lower_isdir(fs->lower, (uint32_t)raw)
		       ? WFS_WO_OPAQUE
		       : WFS_WO_NONE;
}

/* Node n now stands at dir/name (path): its lower entry and opaque mark. */
static void settle(struct wfs_fs *fs, struct wfs_node *n, struct wfs_node *dir,
		   const char *name, const char *path)
{
	if (wfs_node_move(fs, n, dir, name)) {
		wfs_node_detach(fs, n);
		return;
	}
	n->lower = wfs_node_lower_child(fs, dir, name, path);
	n->opaque = fs->wo.n && wfs_wo_get(&fs->wo, path) == WFS_WO_OPAQUE;
}

/* Swap d1/name (a) and d2/newname (b).  Both are copied up, directories
 * with their lower content (the names of the lower layer are fixed), and
 * swapped in the upper layer; each name then holds an upper entry, opaque
 * when it is a directory over a lower directory.  A name's new opaque
 * mark is recorded before the swap (nothing of its current entry is
 * lower any more, so it hides nothing), a dropped one after. */
static int do_exchange(struct wfs_fs *fs, struct wfs_node *d1, const char *name,
		       struct wfs_node *d2, const char *newname,
		       struct wfs_node *a, struct wfs_node *b)
{
	char p1[PATH_MAX], p2[PATH_MAX];
	int adir = wfs_node_is_dir(fs, a), bdir = wfs_node_is_dir(fs, b);
	int atree = has_lower_tree(fs, a), btree = has_lower_tree(fs, b);
	int want1, want2, prev1, prev2, rc, pfd1, pfd2;

	if (a == b)
		return 0;
	if (wfs_node_path(d1, name, p1, sizeof(p1)) < 0 ||
	    wfs_node_path(d2, newname, p2, sizeof(p2)) < 0)
		return -ENAMETOOLONG;
	rc = copy_up_node(fs, a, atree);
	if (!rc)
		rc = copy_up_node(fs, b, btree);
	if (!rc)
		rc = upper_parents(fs, d1, d2, &pfd1, &pfd2);
	if (rc)
		return rc;
	want1 = wo_want(fs, d1, name, bdir);
	want2 = wo_want(fs, d2, newname, adir);
	prev1 = wfs_wo_get(&fs->wo, p1);
	prev2 = wfs_wo_get(&fs->wo, p2);
	if (want1 == WFS_WO_OPAQUE)
		rc = wfs_wo_set(&fs->wo, p1, want1);
	if (!rc && want2 == WFS_WO_OPAQUE)
		rc = wfs_wo_set(&fs->wo, p2, want2);
	if (!rc && renameat2(pfd1, name, pfd2, newname, RENAME_EXCHANGE) < 0)
		rc = -errno;
	close(pfd1);
	close(pfd2);
	if (rc) {
		(void)wfs_wo_set(&fs->wo, p1, prev1);
		(void)wfs_wo_set(&fs->wo, p2, prev2);
		return rc;
	}
	rc = wfs_wo_set(&fs->wo, p1, want1);
	if (!rc)
		rc = wfs_wo_set(&fs->wo, p2, want2);
	/* Below each name, records are moot now: its directory is opaque
	 * or has no lower directory. */
	if (!rc && fs->wo.n)
		rc = wfs_wo_clear_under(&fs->wo, p1);
	if (!rc && fs->wo.n)
		rc = wfs_wo_clear_under(&fs->wo, p2);
	if (atree)
		wfs_node_each(fs, drop_lower, a);
	if (btree)
		wfs_node_each(fs, drop_lower, b);
	wfs_node_dir_changed(fs, d1);
	wfs_node_dir_changed(fs, d2);
	wfs_node_dir_changed(fs, a);
	wfs_node_dir_changed(fs, b);
	/* The kernel holds both parents for the request: neither goes while
	 * its child moves out. */
	settle(fs, a, d2, newname, p2);
	settle(fs, b, d1, name, p1);
	return rc;
}

void wfs_ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		   fuse_ino_t newparent, const char *newname,
		   unsigned int flags)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	struct wfs_node *d1, *d2, *src = NULL, *dst = NULL;
	int rc;

	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	LOCK(fs);
	d1 = wfs_node_of(fs, parent);
	d2 = wfs_node_of(fs, newparent);
	if (wfs_node_reserved(fs, d2, newname))
		rc = -EPERM;
	else if (d1->detached || d2->detached)
		rc = -ENOENT;
	else
		rc = wfs_node_resolve(fs, d1, name, -1, &src, NULL);
	if (!rc) {
		src->pins++;
		rc = wfs_node_resolve(fs, d2, newname, -1, &dst, NULL);
		if (rc == -ENOENT)
			rc = 0;
		if (dst)
			dst->pins++;
		if (!rc && (flags & RENAME_EXCHANGE))
			rc = dst ? do_exchange(fs, d1, name, d2, newname, src,
					       dst)
				 : -ENOENT;
		else if (!rc)
			rc = do_rename(fs, d1, name, d2, newname, flags, src,
				       &dst);
	}
	if (dst) {
		dst->pins--;
		wfs_node_put(fs, dst);
	}
	if (src) {
		src->pins--;
		wfs_node_put(fs, src);
	}
	UNLOCK(fs);
	fuse_reply_err(req, -rc);
}
