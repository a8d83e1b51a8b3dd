/* pin_redo.c — upper entries an earlier pin run left that this run places
 * again (see pin.h):
 *
 *   torn files   after an interrupted run (the journal), a file with the
 *                tree's exact mtime that does not hold the lower file's
 *                content (a power failure: files are not fsynced one by
 *                one) is removed, then placed as usual;
 *   symlinks     a symlink to the entry's own blob (what --mode symlink
 *                places) is replaced by a run in another mode, so that
 *                the venv stops depending on the cache.  The new file gets
 *                the name in one step (RENAME_EXCHANGE, then the symlink
 *                is dropped): the venv never lacks the file, and when
 *                something else took the name meanwhile (a write through
 *                the mount) it is put back and wins. */
#include "pin_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int wfs_pin_torn(struct wfs_pin_run *p, struct wfs_pin_worker *w,
		 const struct wfs_vent *e, const struct stat *st)
{
	const struct wfs_tree_ent *te = e->ent;
	char rel[3 + WFS_DIGEST_HEX + 1];
	struct wfs_digest got;
	struct stat bst, here;
	uint64_t size;
	int fd, rc, pfd;

	if (!S_ISREG(st->st_mode) || !S_ISREG(te->mode) ||
	    st->st_mtim.tv_sec != te->mtime_sec ||
	    st->st_mtim.tv_nsec != (long)te->mtime_nsec)
		return 0; /* not ours, or written since: the user's */
	wfs_cache_blob_rel(wfs_vent_digest(e), rel);
	if (fstatat(p->cache->blobsfd, rel, &bst, 0) == 0 &&
	    bst.st_ino == st->st_ino && bst.st_dev == st->st_dev)
		return 0; /* the blob itself (hardlink mode) */
	/* From here on through the parent opened with O_NOFOLLOW (pin may
	 * run as root): the same file, or none of ours. */
	pfd = wfs_pin_dir_fd(w, e->parent);
	if (pfd < 0 || fstatat(pfd, e->name, &here, AT_SYMLINK_NOFOLLOW) < 0 ||
	    here.st_ino != st->st_ino || here.st_dev != st->st_dev)
		return 0;
	if ((uint64_t)st->st_size == te->size) {
		fd = openat(pfd, e->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		rc = wfs_pin_hash_fd(w, fd, &got, &size);
		close(fd);
		if (rc)
			return rc;
		if (!wfs_pin_check_digest(te, &got, size))
			return 0;
	}
	if (unlinkat(pfd, e->name, 0) < 0)
		return -errno;
	p->r->repaired++;
	return 1;
}

/* 1 when pfd/name is a symlink that resolves to e's blob. */
static int is_blob_symlink(struct wfs_pin_run *p, int pfd, const char *name,
			   const struct wfs_vent *e)
{
	char rel[3 + WFS_DIGEST_HEX + 1];
	struct stat lst, st, bst;

	wfs_cache_blob_rel(wfs_vent_digest(e), rel);
	return fstatat(pfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISLNK(lst.st_mode) && fstatat(pfd, name, &st, 0) == 0 &&
	       fstatat(p->cache->blobsfd, rel, &bst, AT_SYMLINK_NOFOLLOW) ==
		       0 &&
	       st.st_dev == bst.st_dev && st.st_ino == bst.st_ino;
}

int wfs_pin_blob_symlink(struct wfs_pin_run *p, struct wfs_pin_worker *w,
			 const struct wfs_vent *e, const struct stat *st)
{
	int pfd;

	if (p->o->mode == WFS_PIN_SYMLINK || !S_ISLNK(st->st_mode) ||
	    !S_ISREG(e->ent->mode))
		return 0;
	pfd = wfs_pin_dir_fd(w, e->parent);
	return pfd >= 0 && is_blob_symlink(p, pfd, e->name, e);
}

int wfs_pin_replace_symlink(struct wfs_pin_run *p, int pfd,
			    struct wfs_pin_tmp *t, size_t j,
			    const struct wfs_vent *e)
{
	char proc[64];

	if (!t->name[0]) { /* an O_TMPFILE: give it a temp name first */
		snprintf(t->name, sizeof(t->name), WFS_PIN_TMP_PREFIX "%d.%zu",
			 (int)getpid(), j);
		unlinkat(pfd, t->name, 0); /* a dead run with our pid */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
		if (linkat(AT_FDCWD, proc, pfd, t->name, AT_SYMLINK_FOLLOW) <
		    0) {
			t->name[0] = '\0';
			return -errno;
		}
	}
	if (renameat2(pfd, t->name, pfd, e->name, RENAME_EXCHANGE) == 0) {
		if (!is_blob_symlink(p, pfd, t->name, e)) {
			/* Not the symlink any more: theirs wins. */
			if (renameat2(pfd, t->name, pfd, e->name,
				      RENAME_EXCHANGE) < 0) {
				int rc = -errno;
				t->name[0] = '\0'; /* theirs: never removed */
				return rc;
			}
			return -EEXIST;
		}
		unlinkat(pfd, t->name, 0);
		t->name[0] = '\0';
		return 0;
	}
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* No RENAME_EXCHANGE here: check, then replace. */
	if (!is_blob_symlink(p, pfd, e->name, e))
		return -EEXIST;
	if (renameat(pfd, t->name, pfd, e->name) < 0)
		return -errno;
	t->name[0] = '\0';
	return 0;
}
