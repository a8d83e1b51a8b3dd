/* ll_attr.c — setattr, write and fsync (see ll.h): what changes a file's
 * content or attributes.  A lower file is copied up first (truncation to
 * zero skips copying its content), an upper file linked to a cache blob
 * (pin --mode hardlink) gets a private copy first; the cache is never
 * written. */
#include "ll.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define LOCK(fs) pthread_mutex_lock(&(fs)->mu)
#define UNLOCK(fs) pthread_mutex_unlock(&(fs)->mu)

/* A detached node (deleted or replaced while open) whose descriptor may
 * not be written (a cache blob, or an upper file linked to one) gets an
 * unnamed private copy in the upper filesystem, as the deleted file of a
 * native directory stays writable through its open descriptors. */
static int detached_private(struct wfs_fs *fs, struct wfs_node *n)
{
	struct stat st;
	int fd, rc;

	if (n->fd < 0)
		return -ENOENT;
	if (n->fd_kind == WFS_FD_UPPER_RW)
		return 0;
	if (fstat(n->fd, &st) < 0)
		return -errno;
	fd = openat(fs->upperfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC,
		    st.st_mode & 07777);
	if (fd < 0)
		return errno == EOPNOTSUPP || errno == EISDIR ? -EROFS : -errno;
	rc = wfs_upper_copy_data(fd, n->fd, (uint64_t)st.st_size);
	if (!rc && fchmod(fd, st.st_mode & 07777) < 0)
		rc = -errno;
	if (rc) {
		close(fd);
		return rc;
	}
	wfs_node_adopt_fd(fs, n, fd, WFS_FD_UPPER_RW);
	return 0;
}

/* ---- attributes ------------------------------------------------------------- */

static int set_attrs(struct wfs_fs *fs, struct wfs_node *n, struct stat *attr,
		     int to_set)
{
	const char *name = ".";
	int rc, pfd;

	if (n->detached) {
		/* Only an open, deleted file can still change: through its
		 * own writable copy. */
		rc = detached_private(fs, n);
		if (rc)
			return rc;
		pfd = fcntl(n->fd, F_DUPFD_CLOEXEC, 0);
		if (pfd < 0)
			return -errno;
		name = NULL;
	} else {
		rc = wfs_copy_up_for_write(fs, n,
					   (to_set & FUSE_SET_ATTR_SIZE) &&
						   attr->st_size == 0);
		if (rc)
			return rc;
		if (n == fs->root) {
			pfd = fcntl(fs->upperfd, F_DUPFD_CLOEXEC, 0);
			if (pfd < 0)
				return -errno;
		} else {
			pfd = wfs_node_upper_parent(fs, n, &name);
			if (pfd < 0)
				return pfd;
		}
	}
	rc = 0;
	if (to_set & FUSE_SET_ATTR_MODE) {
		if (name ? fchmodat(pfd, name, attr->st_mode & 07777, 0)
			 : fchmod(pfd, attr->st_mode & 07777))
			rc = -errno;
	}
	if (!rc && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
		uid_t u = to_set & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1;
		gid_t g = to_set & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1;
		if (name ? fchownat(pfd, name, u, g, AT_SYMLINK_NOFOLLOW)
			 : fchown(pfd, u, g))
			rc = -errno;
	}
	if (!rc && (to_set & FUSE_SET_ATTR_SIZE)) {
		int fd = name ? wfs_node_dupfd(fs, n, 1) : pfd;
		if (fd < 0)
			rc = fd;
		else if (ftruncate(fd, attr->st_size) < 0)
			rc = -errno;
		if (fd >= 0 && name)
			close(fd);
	}
	if (!rc && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
		struct timespec ts[2] = { { 0, UTIME_OMIT },
					  { 0, UTIME_OMIT } };
		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_ATIME)
			ts[0] = attr->st_atim;
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			ts[1].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_MTIME)
			ts[1] = attr->st_mtim;
		if (name ? utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW)
			 : futimens(pfd, ts))
			rc = -errno;
		else if (to_set & FUSE_SET_ATTR_MTIME)
			n->bump = (struct timespec){ 0, 0 }; /* what was set */
	}
	close(pfd);
	return rc;
}

void wfs_ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		    int to_set, struct fuse_file_info *fi)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	struct wfs_node *n;
	struct stat st;
	int rc;

	LOCK(fs);
	n = wfs_node_of(fs, ino);
	(void)fi;
	rc = set_attrs(fs, n, attr, to_set);
	if (!rc)
		rc = wfs_node_stat(fs, n, &st);
	UNLOCK(fs);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, fs->timeout);
}

/* ---- data ----------------------------------------------------------------- */

/* A writable descriptor of ino's content (copied up first; a detached node
 * has its own), owned by the caller; or −errno. */
static int write_fd(struct wfs_fs *fs, fuse_ino_t ino)
{
	struct wfs_node *node;
	int fd;

	LOCK(fs);
	node = wfs_node_of(fs, ino);
	fd = node->detached ? detached_private(fs, node)
			    : wfs_copy_up_for_write(fs, node, 0);
	if (!fd)
		fd = wfs_node_dupfd(fs, node, 1);
	UNLOCK(fs);
	return fd;
}

void wfs_ll_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv,
		      off_t off, struct fuse_file_info *fi)
{
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(bufv));
	ssize_t n;
	int fd = write_fd(wfs_req_fs(req), ino);

	(void)fi;
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = fd;
	out.buf[0].pos = off;
	n = fuse_buf_copy(&out, bufv, 0);
	close(fd);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

void wfs_ll_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
		      off_t len, struct fuse_file_info *fi)
{
	int fd = write_fd(wfs_req_fs(req), ino), rc;

	(void)fi;
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	rc = fallocate(fd, mode, off, len) < 0 ? errno : 0;
	close(fd);
	fuse_reply_err(req, rc);
}

void wfs_ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		  struct fuse_file_info *fi)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	int fd, rc;

	(void)fi;
	LOCK(fs);
	{
		struct wfs_node *n = wfs_node_of(fs, ino);
		fd = n->utype == S_IFREG || n->detached
			     ? wfs_node_dupfd(fs, n, 0)
			     : -EINVAL;
	}
	UNLOCK(fs);
	if (fd == -EINVAL) {
		/* Nothing of ours to flush (lower files never change). */
		fuse_reply_err(req, 0);
		return;
	}
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	rc = (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? errno : 0;
	close(fd);
	fuse_reply_err(req, rc);
}
