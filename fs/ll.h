/* ll.h — the FUSE low-level operations of a mount and what they share.
 *
 *   ll.c         the ops table, lookup/forget/getattr/readlink/read,
 *                statfs, xattrs, INIT (capabilities and caching choices)
 *   ll_write.c   the operations that change the tree: copy-up, create,
 *                mkdir, symlink, mknod, unlink, rmdir, link
 *   ll_rename.c  rename
 *   ll_attr.c    setattr, write and fsync
 *   ll_dir.c     readdir / readdirplus over merged listings
 *   ll_reload.c  live reload of the view, and kernel cache invalidation
 *
 * Every handler takes fs->mu around table work and replies after
 * releasing it, except where a reply must be undone on failure.
 */
#ifndef WFS_LL_H
#define WFS_LL_H

#include "ll_inode.h"

extern const struct fuse_lowlevel_ops wfs_ll_ops;

/* No file has a per-open handle (fi->fh is always 0): with no-open the
 * kernel never sends RELEASE, not even for files made by CREATE, so a
 * handle could never be freed.  CREATE opens the new file and gives the
 * descriptor to its node instead; all I/O resolves the node. */

static inline struct wfs_fs *wfs_req_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* Fill e for node n with attributes st; counts a kernel lookup. */
void wfs_ll_fill_entry(struct wfs_fs *fs, struct wfs_node *n,
		       const struct stat *st, struct fuse_entry_param *e);
/* Reply to a request that made n known to the kernel (lookup, mkdir ...):
 * counts the lookup and undoes it when the reply cannot be delivered.
 * Called without fs->mu held, with the lookup already counted. */
void wfs_ll_reply_entry(struct wfs_fs *fs, fuse_req_t req, struct wfs_node *n,
			struct fuse_entry_param *e);

/* Make sure n exists in the upper layer (copying it and its parents up).
 * empty: a regular file's content is not copied (it is about to be
 * truncated to 0). */
int wfs_copy_up(struct wfs_fs *fs, struct wfs_node *n, int empty);
/* wfs_copy_up(), and for an upper file that shares its inode with other
 * links (a `wheelfs pin --mode hardlink` file is a link to a cache blob)
 * a private copy first (pin.h), so that no change reaches the cache.
 * Every operation that changes a file's content or attributes calls it. */
int wfs_copy_up_for_write(struct wfs_fs *fs, struct wfs_node *n, int empty);
/* 1 when directory n shows no entries (upper and lower merged), 0 when it
 * does, or -errno when it cannot be listed. */
int wfs_dir_empty(struct wfs_fs *fs, struct wfs_node *n);

/* 1 when n shows a directory (its upper entry's type, else its lower's). */
int wfs_node_is_dir(struct wfs_fs *fs, struct wfs_node *n);
/* The lower entry at dir/name whether whited out or not; -1 when none. */
long wfs_node_lower_raw(struct wfs_fs *fs, struct wfs_node *dir,
			const char *name);
/* Record a whiteout for path before the upper entry there changes; what
 * was recorded before goes to *prev, to put back if that change fails. */
int wfs_ll_wo_hide(struct wfs_fs *fs, const char *path, int *prev);
/* Make sure an open file keeps working once its name is gone. */
void wfs_node_keep_open(struct wfs_fs *fs, struct wfs_node *n);

/* ll_write.c / ll_rename.c / ll_attr.c / ll_dir.c handlers of the ops
 * table. */
void wfs_ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		    int to_set, struct fuse_file_info *fi);
void wfs_ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, dev_t rdev);
void wfs_ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode);
void wfs_ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void wfs_ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void wfs_ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		    const char *name);
void wfs_ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		   fuse_ino_t newparent, const char *newname,
		   unsigned int flags);
void wfs_ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		 const char *newname);
void wfs_ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		   mode_t mode, struct fuse_file_info *fi);
void wfs_ll_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv,
		      off_t off, struct fuse_file_info *fi);
void wfs_ll_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
		      off_t len, struct fuse_file_info *fi);
void wfs_ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		  struct fuse_file_info *fi);
void wfs_ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi);
void wfs_ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi);

/* Live reload (control thread): re-read the view and the whiteouts, swap
 * in the new lower layer, keep node ids for unchanged paths, and tell the
 * kernel what changed.  Never call it from a request handler. */
int wfs_fs_reload(struct wfs_fs *fs, struct wfs_err *err);
/* Forget what the kernel caches about path (relative to TARGET): for
 * commands that change the upper layer through DIRFD. */
int wfs_fs_inval_path(struct wfs_fs *fs, const char *path);

#endif
