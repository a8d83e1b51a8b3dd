/* ll_write.c — operations that change the names of the tree (overlay
 * semantics); rename is in ll_rename.c, setattr, write and fsync in
 * ll_attr.c.
 *
 * Everything written lands in the upper layer.  A write or setattr on a
 * lower file copies it up first (wfs_copy_up: parents first, the blob
 * cloned or copied, the tree's mode and mtime kept); the cache is only ever
 * read.  Removing a lower name records a whiteout (and copies its directory
 * up, to give it the removal's mtime); a directory made where a
 * lower directory was removed is opaque; making any name removes its
 * whiteout.  Hard links are not supported (EXDEV).
 */
#include "ll.h"
#include "pin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOCK(fs) pthread_mutex_lock(&(fs)->mu)
#define UNLOCK(fs) pthread_mutex_unlock(&(fs)->mu)

int wfs_node_is_dir(struct wfs_fs *fs, struct wfs_node *n)
{
	if (n->utype)
		return S_ISDIR(n->utype);
	return n->lower >= 0 && wfs_lower_isdir(fs->lower, (uint32_t)n->lower);
}

int wfs_copy_up(struct wfs_fs *fs, struct wfs_node *n, int empty)
{
	struct wfs_upper_attr a;
	struct stat st;
	const char *name;
	int pfd, rc, src = -1;

	if (n->utype)
		return 0;
	if (n->detached || !n->parent || n->lower < 0)
		return -ENOENT;
	rc = wfs_copy_up(fs, n->parent, 0);
	if (rc)
		return rc;
	if (n->parent->utype != S_IFDIR)
		return -ENOTDIR;
	wfs_lower_stat(fs, (uint32_t)n->lower, &st);
	a = (struct wfs_upper_attr){ .mode = st.st_mode & 07777,
				     .mtime = st.st_mtim,
				     .uid = fs->uid,
				     .gid = fs->gid,
				     .set_owner = fs->privileged };
	pfd = wfs_node_upper_parent(fs, n, &name);
	if (pfd < 0)
		return pfd;
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR:
		rc = wfs_upper_copy_dir(pfd, name, &a);
		break;
	case S_IFLNK: {
		const struct wfs_vent *v = &fs->lower->cv.v[n->lower];
		rc = wfs_upper_copy_symlink(
			pfd, name,
			wfs_tree_str(&fs->lower->cv.trees[v->dist],
				     v->ent->target_off),
			&a);
		break;
	}
	case S_IFREG:
		if (!empty && st.st_size > 0) {
			src = wfs_node_dupfd(fs, n, 0);
			if (src < 0) {
				rc = src;
				break;
			}
		}
		rc = wfs_upper_copy_file(pfd, name, src,
					 empty ? 0 : (uint64_t)st.st_size, &a);
		if (src >= 0)
			close(src);
		break;
	default:
		rc = -EINVAL;
	}
	if (rc == -EEXIST) { /* someone made it meanwhile: use theirs */
		struct stat u;
		if (fstatat(pfd, name, &u, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (u.st_mode & S_IFMT) == (st.st_mode & S_IFMT))
			rc = 0;
	}
	close(pfd);
	if (rc)
		return rc;
	n->utype = st.st_mode & S_IFMT;
	n->priv = 1;
	wfs_node_closefd(fs, n); /* the blob's; the upper file is next */
	return 0;
}

int wfs_copy_up_for_write(struct wfs_fs *fs, struct wfs_node *n, int empty)
{
	const char *name;
	int rc = wfs_copy_up(fs, n, empty), pfd, shared;

	if (rc || n->utype != S_IFREG || n->priv || n->detached)
		return rc;
	pfd = wfs_node_upper_parent(fs, n, &name);
	if (pfd < 0)
		return pfd;
	shared = wfs_pin_is_shared(pfd, name);
	if (shared > 0) {
		rc = wfs_pin_break_link(pfd, name);
		wfs_node_closefd(fs, n); /* it was the shared inode's */
	} else {
		rc = shared;
	}
	close(pfd);
	if (!rc)
		n->priv = 1;
	return rc;
}

/* ---- creating names ------------------------------------------------------- */

/* Checks for making dir/name, and dir's upper directory.  Returns an
 * O_PATH fd of it; path receives dir/name. */
static int prep_create(struct wfs_fs *fs, struct wfs_node *dir,
		       const char *name, char *path, size_t len)
{
	struct wfs_node *n;
	int rc;

	if (dir->detached)
		return -ENOENT;
	if (wfs_node_reserved(fs, dir, name))
		return -EPERM;
	if (!wfs_node_is_dir(fs, dir))
		return -ENOTDIR;
	rc = wfs_node_resolve(fs, dir, name, -1, &n, NULL);
	if (!rc) {
		wfs_node_put(fs, n);
		return -EEXIST;
	}
	if (rc != -ENOENT)
		return rc;
	rc = wfs_copy_up(fs, dir, 0);
	if (rc)
		return rc;
	if (wfs_node_path(dir, name, path, len) < 0)
		return -ENAMETOOLONG;
	return wfs_node_upper_dir(fs, dir);
}

/* The lower entry at dir/name whether whited out or not; -1 when none. */
long wfs_node_lower_raw(struct wfs_fs *fs, struct wfs_node *dir,
			const char *name)
{
	if (dir->lower < 0 || dir->opaque ||
	    !wfs_lower_isdir(fs->lower, (uint32_t)dir->lower))
		return -1;
	return wfs_lower_kid(fs->lower, (uint32_t)dir->lower, name);
}

/* Record what a new upper entry at dir/name means for the whiteouts: a
 * directory over a lower directory is opaque, anything else just drops
 * the whiteout. */
static int mark_created(struct wfs_fs *fs, struct wfs_node *dir,
			const char *name, const char *path, int isdir)
{
	long raw = wfs_node_lower_raw(fs, dir, name);
	int want = WFS_WO_NONE, rc;

	if (isdir && raw >= 0 && wfs_lower_isdir(fs->lower, (uint32_t)raw))
		want = WFS_WO_OPAQUE;
	if (!fs->wo.n && want == WFS_WO_NONE)
		return 0;
	rc = wfs_wo_set(&fs->wo, path, want);
	if (!rc && isdir && fs->wo.n)
		rc = wfs_wo_clear_under(&fs->wo, path);
	return rc;
}

/* A root daemon gives what it made the caller's owner, and group unless
 * the directory is set-group-ID: then the entry keeps the directory's
 * group, which it got when made, as on a native directory.  A chown clears
 * S_ISUID and S_ISGID of anything but a directory, even root's, where a
 * native create keeps them for the owner: the mode the entry was made
 * with goes back on (the kernel applied the umask, and took S_ISGID away
 * from a caller not in a set-group-ID directory's group, before the
 * request came). */
static void chown_new(struct wfs_fs *fs, fuse_req_t req, int pfd,
		      const char *name)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct stat dst, st;
	gid_t gid = ctx->gid;
	int made;

	if (!fs->privileged)
		return;
	if (fstat(pfd, &dst) == 0 && (dst.st_mode & S_ISGID))
		gid = (gid_t)-1;
	made = fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (fchownat(pfd, name, ctx->uid, gid, AT_SYMLINK_NOFOLLOW) == 0 &&
	    made && (st.st_mode & (S_ISUID | S_ISGID)) &&
	    !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
		(void)fchmodat(pfd, name, st.st_mode & 07777, 0);
}

/* After making dir/name in the upper layer: whiteouts, node, entry. */
static int finish_create(struct wfs_fs *fs, struct wfs_node *dir,
			 const char *name, int pfd, const char *path, int isdir,
			 struct wfs_node **out, struct fuse_entry_param *e)
{
	struct stat st;
	int rc = mark_created(fs, dir, name, path, isdir);

	if (rc) {
		(void)unlinkat(pfd, name, isdir ? AT_REMOVEDIR : 0);
		return rc;
	}
	wfs_node_dir_changed(fs, dir);
	rc = wfs_node_resolve(fs, dir, name, pfd, out, &st);
	if (!rc)
		wfs_ll_fill_entry(fs, *out, &st, e);
	return rc;
}

static void reply_made(fuse_req_t req, struct wfs_fs *fs, int rc,
		       struct wfs_node *n, struct fuse_entry_param *e)
{
	if (rc)
		fuse_reply_err(req, -rc);
	else
		wfs_ll_reply_entry(fs, req, n, e);
}

void wfs_ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	struct wfs_node *dir, *n = NULL;
	struct fuse_entry_param e;
	char path[PATH_MAX];
	int pfd, rc;

	LOCK(fs);
	dir = wfs_node_of(fs, parent);
	pfd = rc = prep_create(fs, dir, name, path, sizeof(path));
	if (pfd >= 0) {
		rc = mkdirat(pfd, name, mode & 07777) < 0 ? -errno : 0;
		if (!rc) {
			chown_new(fs, req, pfd, name);
			rc = finish_create(fs, dir, name, pfd, path, 1, &n, &e);
		}
		close(pfd);
	}
	UNLOCK(fs);
	reply_made(req, fs, rc, n, &e);
}

void wfs_ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		    const char *name)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	struct wfs_node *dir, *n = NULL;
	struct fuse_entry_param e;
	char path[PATH_MAX];
	int pfd, rc;

	LOCK(fs);
	dir = wfs_node_of(fs, parent);
	pfd = rc = prep_create(fs, dir, name, path, sizeof(path));
	if (pfd >= 0) {
		rc = symlinkat(link, pfd, name) < 0 ? -errno : 0;
		if (!rc) {
			chown_new(fs, req, pfd, name);
			rc = finish_create(fs, dir, name, pfd, path, 0, &n, &e);
		}
		close(pfd);
	}
	UNLOCK(fs);
	reply_made(req, fs, rc, n, &e);
}

void wfs_ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, dev_t rdev)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	struct wfs_node *dir, *n = NULL;
	struct fuse_entry_param e;
	char path[PATH_MAX];
	int pfd, rc, fd;

	(void)rdev;
	if (!S_ISREG(mode) && !S_ISFIFO(mode) && !S_ISSOCK(mode)) {
		fuse_reply_err(req, EPERM); /* no device nodes */
		return;
	}
	LOCK(fs);
	dir = wfs_node_of(fs, parent);
	pfd = rc = prep_create(fs, dir, name, path, sizeof(path));
	if (pfd >= 0) {
		if (S_ISREG(mode)) {
			fd = openat(pfd, name,
				    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				    mode & 07777);
			rc = fd < 0 ? -errno : 0;
			if (fd >= 0)
				close(fd);
		} else {
			rc = mknodat(pfd, name, mode & (S_IFMT | 07777), 0) < 0
				     ? -errno
				     : 0;
		}
		if (!rc) {
			chown_new(fs, req, pfd, name);
			rc = finish_create(fs, dir, name, pfd, path, 0, &n, &e);
		}
		close(pfd);
	}
	UNLOCK(fs);
	reply_made(req, fs, rc, n, &e);
}

void wfs_ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		   mode_t mode, struct fuse_file_info *fi)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	struct wfs_node *dir, *n = NULL;
	struct fuse_entry_param e;
	char path[PATH_MAX];
	int pfd = -1, rc, fd = -1;
	/* O_APPEND stays out: the kernel sends the offsets. */
	int oflags = O_RDWR | O_CLOEXEC | O_NOFOLLOW;

	LOCK(fs);
	dir = wfs_node_of(fs, parent);
	rc = wfs_node_resolve(fs, dir, name, -1, &n, NULL);
	if (!rc) {
		/* It exists after all (the kernel's dentry was negative). */
		if (fi->flags & O_EXCL)
			rc = -EEXIST;
		else if (wfs_node_is_dir(fs, n))
			rc = -EISDIR;
		else
			rc = wfs_copy_up_for_write(fs, n,
						   !!(fi->flags & O_TRUNC));
		if (!rc) {
			const char *nm;
			pfd = rc = wfs_node_upper_parent(fs, n, &nm);
		}
		if (pfd >= 0) {
			fd = openat(pfd, name, oflags | (fi->flags & O_TRUNC));
			rc = fd < 0 ? -errno : 0;
		}
		if (!rc) {
			struct stat st;
			rc = wfs_node_stat(fs, n, &st);
			if (!rc)
				wfs_ll_fill_entry(fs, n, &st, &e);
		} else {
			wfs_node_put(fs, n);
		}
	} else if (rc == -ENOENT) {
		pfd = rc = prep_create(fs, dir, name, path, sizeof(path));
		if (pfd >= 0) {
			fd = openat(pfd, name, oflags | O_CREAT | O_EXCL,
				    mode & 07777);
			rc = fd < 0 ? -errno : 0;
		}
		if (!rc) {
			chown_new(fs, req, pfd, name);
			rc = finish_create(fs, dir, name, pfd, path, 0, &n, &e);
		}
	}
	if (pfd >= 0)
		close(pfd);
	if (!rc) {
		/* The node keeps the descriptor for the writes to come. */
		wfs_node_adopt_fd(fs, n, fd, WFS_FD_UPPER_RW);
		n->priv = 1;
		fd = -1;
	}
	UNLOCK(fs);
	if (fd >= 0)
		close(fd);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = 0;
	fi->keep_cache = 1;
	if (fuse_reply_create(req, &e, fi)) {
		LOCK(fs);
		wfs_node_forget(fs, n, 1);
		UNLOCK(fs);
	}
}

void wfs_ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		 const char *newname)
{
	(void)ino;
	(void)newparent;
	(void)newname;
	fuse_reply_err(req, EXDEV);
}

/* ---- removing names ------------------------------------------------------- */

/* Record a whiteout for path before the upper entry there goes (a
 * whiteout under an upper entry still shows that entry): what was
 * recorded before goes to *prev, to put back if the upper change fails.
 * Else, had the daemon died between the two, the lower entry would show
 * again. */
int wfs_ll_wo_hide(struct wfs_fs *fs, const char *path, int *prev)
{
	*prev = wfs_wo_get(&fs->wo, path);
	return wfs_wo_set(&fs->wo, path, WFS_WO_WHITEOUT);
}

/* A lower name's removal changes no upper directory, so the kernel does
 * not touch any directory's times: copy dir up (before anything else, so
 * that a failure changes nothing) and, once the name is gone, set its
 * mtime and ctime to now, as a native directory has them.  Persistent:
 * the upper directory keeps them across mounts (wheelfs uninstall removes
 * it when it is all that is left of a package).  A merged directory's
 * st_nlink is 1 (not counted), so it no longer counts the subdirectory. */
static void touch_dir(struct wfs_fs *fs, struct wfs_node *dir)
{
	static const struct timespec now[2] = { { 0, UTIME_OMIT },
						{ 0, UTIME_NOW } };
	const char *nm;
	int pfd;

	if (dir == fs->root) {
		(void)futimens(fs->upperfd, now);
	} else if ((pfd = wfs_node_upper_parent(fs, dir, &nm)) >= 0) {
		(void)utimensat(pfd, nm, now, AT_SYMLINK_NOFOLLOW);
		close(pfd);
	}
}

/* Remove name n (at path) for unlink (at_flags 0) and rmdir
 * (AT_REMOVEDIR): its directory copied up when only the lower layer has
 * the name (touch_dir), its lower entry whited out, then its upper entry
 * removed; nothing changed when that fails. */
static int remove_name(struct wfs_fs *fs, struct wfs_node *n, const char *path,
		       int at_flags)
{
	const char *nm;
	int rc = 0, pfd, prev = WFS_WO_NONE;

	if (!n->utype && n->lower >= 0 && (rc = wfs_copy_up(fs, n->parent, 0)))
		return rc;
	if (n->lower >= 0 && (rc = wfs_ll_wo_hide(fs, path, &prev)))
		return rc;
	if (n->utype) {
		pfd = rc = wfs_node_upper_parent(fs, n, &nm);
		if (pfd >= 0) {
			rc = unlinkat(pfd, nm, at_flags) < 0 ? -errno : 0;
			close(pfd);
		}
		if (rc && n->lower >= 0)
			(void)wfs_wo_set(&fs->wo, path, prev);
	} else {
		touch_dir(fs, n->parent);
	}
	return rc;
}

/* Make sure an open file keeps working once its name is gone. */
void wfs_node_keep_open(struct wfs_fs *fs, struct wfs_node *n)
{
	if (n->nlookup && (n->utype == S_IFREG || !n->utype)) {
		int fd = wfs_node_dupfd(fs, n, 0);
		if (fd >= 0)
			close(fd);
	}
}

void wfs_ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	struct wfs_node *dir, *n;
	char path[PATH_MAX];
	int rc;

	LOCK(fs);
	dir = wfs_node_of(fs, parent);
	rc = wfs_node_resolve(fs, dir, name, -1, &n, NULL);
	if (rc)
		goto out;
	if (wfs_node_is_dir(fs, n)) {
		rc = -EISDIR;
		goto put;
	}
	if (wfs_node_path(n, NULL, path, sizeof(path)) < 0) {
		rc = -ENAMETOOLONG;
		goto put;
	}
	wfs_node_keep_open(fs, n);
	if ((rc = remove_name(fs, n, path, 0)))
		goto put;
	wfs_node_dir_changed(fs, dir);
	wfs_node_detach(fs, n);
	goto out;
put:
	wfs_node_put(fs, n);
out:
	UNLOCK(fs);
	fuse_reply_err(req, -rc);
}

void wfs_ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	struct wfs_node *dir, *n;
	char path[PATH_MAX];
	int rc;

	LOCK(fs);
	dir = wfs_node_of(fs, parent);
	rc = wfs_node_resolve(fs, dir, name, -1, &n, NULL);
	if (rc)
		goto out;
	if (!wfs_node_is_dir(fs, n))
		rc = -ENOTDIR;
	else if ((rc = wfs_dir_empty(fs, n)) == 1)
		rc = wfs_node_path(n, NULL, path, sizeof(path)) < 0
			     ? -ENAMETOOLONG
			     : 0;
	else if (!rc)
		rc = -ENOTEMPTY;
	if (rc || (rc = remove_name(fs, n, path, AT_REMOVEDIR)))
		goto put;
	if (n->lower < 0 && fs->wo.n)
		rc = wfs_wo_set(&fs->wo, path, WFS_WO_NONE);
	/* Below a whited-out or gone name, records are moot. */
	if (!rc && fs->wo.n)
		rc = wfs_wo_clear_under(&fs->wo, path);
	wfs_node_dir_changed(fs, dir);
	wfs_node_detach(fs, n);
	goto out;
put:
	wfs_node_put(fs, n);
out:
	UNLOCK(fs);
	fuse_reply_err(req, -rc);
}
