/* ll.c — the fuse_lowlevel_ops table and the read-side operations.
 *
 * Caching choices (see ../shared/notes/fuse-performance.md): every entry,
 * attribute and negative entry is cached for fs->timeout seconds, because
 * the tree only changes through this daemon (which then tells the kernel)
 * or through RELOAD (which invalidates what changed).  OPEN and OPENDIR
 * answer ENOSYS when the kernel supports no-open, which keeps page and
 * readdir caches and saves the round trips; reads then arrive with fh 0 and
 * are served from a per-node descriptor (a blob, or the upper file), spliced
 * into /dev/fuse.  FLUSH and RELEASE are not implemented (nothing to do: no
 * per-open state), so the kernel stops sending FLUSH.
 */
#include "ll.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "control.h"

#define LOCK(fs) pthread_mutex_lock(&(fs)->mu)
#define UNLOCK(fs) pthread_mutex_unlock(&(fs)->mu)

void wfs_ll_fill_entry(struct wfs_fs *fs, struct wfs_node *n,
		       const struct stat *st, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = wfs_node_id(fs, n);
	e->generation = n->gen;
	e->attr = *st;
	e->attr_timeout = fs->timeout;
	e->entry_timeout = fs->timeout;
	n->nlookup++;
}

void wfs_ll_reply_entry(struct wfs_fs *fs, fuse_req_t req, struct wfs_node *n,
			struct fuse_entry_param *e)
{
	if (fuse_reply_entry(req, e)) {
		LOCK(fs);
		wfs_node_forget(fs, n, 1);
		UNLOCK(fs);
	}
}

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	struct wfs_fs *fs = userdata;

	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	conn->want &=
		~(unsigned)(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
	if (fs->readdirplus && (conn->capable & FUSE_CAP_READDIRPLUS))
		conn->want |=
			FUSE_CAP_READDIRPLUS |
			(fs->readdirplus == 1 ? FUSE_CAP_READDIRPLUS_AUTO : 0);
	/* With no-open the daemon never sees O_TRUNC: have the kernel send
	 * a SETATTR instead. */
	conn->want &= ~(unsigned)FUSE_CAP_ATOMIC_O_TRUNC;
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE;
	/* Requests are small: read them, do not splice them. */
	conn->want &= ~(unsigned)FUSE_CAP_SPLICE_READ;
	fs->no_open = !!(conn->capable & FUSE_CAP_NO_OPEN_SUPPORT);
	fs->no_opendir = !!(conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT);
	conn->time_gran = 1;
	fs->inited = 1;
	if (fs->ready)
		fs->ready(fs->ready_arg);
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	struct fuse_entry_param e;
	struct wfs_node *n;
	struct stat st;
	int rc;

	LOCK(fs);
	rc = wfs_node_resolve(fs, wfs_node_of(fs, parent), name, -1, &n, &st);
	if (rc == -ENOENT) {
		UNLOCK(fs);
		/* A negative entry: cached like the rest. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = fs->timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (rc) {
		if (n)
			wfs_node_put(fs, n);
		UNLOCK(fs);
		fuse_reply_err(req, -rc);
		return;
	}
	wfs_ll_fill_entry(fs, n, &st, &e);
	UNLOCK(fs);
	wfs_ll_reply_entry(fs, req, n, &e);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct wfs_fs *fs = wfs_req_fs(req);

	LOCK(fs);
	wfs_node_forget(fs, wfs_node_of(fs, ino), nlookup);
	UNLOCK(fs);
	fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct wfs_fs *fs = wfs_req_fs(req);

	LOCK(fs);
	for (size_t i = 0; i < count; i++)
		wfs_node_forget(fs, wfs_node_of(fs, forgets[i].ino),
				forgets[i].nlookup);
	UNLOCK(fs);
	fuse_reply_none(req);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	struct stat st;
	int rc;

	(void)fi;
	LOCK(fs);
	rc = wfs_node_stat(fs, wfs_node_of(fs, ino), &st);
	UNLOCK(fs);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, fs->timeout);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	struct wfs_node *n;
	char buf[PATH_MAX + 1];
	int rc;

	LOCK(fs);
	n = wfs_node_of(fs, ino);
	rc = wfs_node_readlink(fs, n, buf, sizeof(buf));
	UNLOCK(fs);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, buf);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct wfs_fs *fs = wfs_req_fs(req);

	(void)ino;
	if (fs->no_open) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	/* Old kernels: a handle-less open; I/O resolves the node. */
	fi->fh = 0;
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void ll_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct wfs_fs *fs = wfs_req_fs(req);

	(void)ino;
	if (fs->no_opendir) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->fh = 0;
	fi->keep_cache = 1;
	fi->cache_readdir = 1;
	fuse_reply_open(req, fi);
}

static void reply_fd(fuse_req_t req, int fd, size_t size, off_t off)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);

	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = fd;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	int fd;

	(void)fi;
	LOCK(fs);
	fd = wfs_node_dupfd(fs, wfs_node_of(fs, ino), 0);
	UNLOCK(fs);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	reply_fd(req, fd, size, off);
	close(fd);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	struct statvfs sv;

	(void)ino;
	if (fstatvfs(fs->upperfd, &sv) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

/* ---- extended attributes: upper entries only ------------------------- */

/* An O_PATH descriptor of n's upper entry; -ENODATA when it has none. */
static int upper_opath(struct wfs_fs *fs, struct wfs_node *n)
{
	const char *name;
	int pfd, fd;

	if (n == fs->root)
		return fcntl(fs->upperfd, F_DUPFD_CLOEXEC, 0);
	if (!n->utype)
		return -ENODATA;
	pfd = wfs_node_upper_parent(fs, n, &name);
	if (pfd < 0)
		return pfd;
	fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	close(pfd);
	return fd < 0 ? -errno : fd;
}

static void xattr_reply(fuse_req_t req, ssize_t len, size_t size,
			const char *buf)
{
	if (len < 0)
		fuse_reply_err(req, (int)-len);
	else if (!size)
		fuse_reply_xattr(req, (size_t)len);
	else
		fuse_reply_buf(req, buf, (size_t)len);
}

static void ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	char proc[32], *buf = NULL;
	ssize_t len;
	int fd;

	if (ino == FUSE_ROOT_ID && !strcmp(name, WFS_CONTROL_XATTR)) {
		/* where the control socket is, once the mount has moved */
		len = (ssize_t)strlen(fs->target);
		xattr_reply(req, size && (size_t)len > size ? -ERANGE : len,
			    size, fs->target);
		return;
	}
	LOCK(fs);
	fd = upper_opath(fs, wfs_node_of(fs, ino));
	UNLOCK(fs);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	if (size && !(buf = malloc(size))) {
		close(fd);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	len = getxattr(wfs_upper_fdpath(fd, proc, sizeof(proc)), name, buf,
		       size);
	xattr_reply(req, len < 0 ? -errno : len, size, buf);
	free(buf);
	close(fd);
}

static void ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	char proc[32], *buf = NULL;
	ssize_t len;
	int fd;

	LOCK(fs);
	fd = upper_opath(fs, wfs_node_of(fs, ino));
	UNLOCK(fs);
	if (fd == -ENODATA) {
		xattr_reply(req, 0, size, "");
		return;
	}
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	if (size && !(buf = malloc(size))) {
		close(fd);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	len = listxattr(wfs_upper_fdpath(fd, proc, sizeof(proc)), buf, size);
	xattr_reply(req, len < 0 ? -errno : len, size, buf);
	free(buf);
	close(fd);
}

static void ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	struct wfs_node *n;
	char proc[32];
	int fd, rc;

	LOCK(fs);
	n = wfs_node_of(fs, ino);
	rc = n->detached ? -ENOENT : wfs_copy_up_for_write(fs, n, 0);
	fd = rc ? rc : upper_opath(fs, n);
	UNLOCK(fs);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	rc = setxattr(wfs_upper_fdpath(fd, proc, sizeof(proc)), name, value,
		      size, flags);
	close(fd);
	fuse_reply_err(req, rc < 0 ? errno : 0);
}

static void ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	struct wfs_node *n;
	char proc[32];
	int fd, rc = 0;

	LOCK(fs);
	n = wfs_node_of(fs, ino);
	/* An upper file linked to a cache blob gets its own copy first,
	 * as for setxattr; a lower file has no attributes to remove. */
	if (n->utype && !n->detached)
		rc = wfs_copy_up_for_write(fs, n, 0);
	fd = rc ? rc : upper_opath(fs, n);
	UNLOCK(fs);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	rc = removexattr(wfs_upper_fdpath(fd, proc, sizeof(proc)), name);
	close(fd);
	fuse_reply_err(req, rc < 0 ? errno : 0);
}

const struct fuse_lowlevel_ops wfs_ll_ops = {
	.init = ll_init,
	.lookup = ll_lookup,
	.forget = ll_forget,
	.forget_multi = ll_forget_multi,
	.getattr = ll_getattr,
	.setattr = wfs_ll_setattr,
	.readlink = ll_readlink,
	.mknod = wfs_ll_mknod,
	.mkdir = wfs_ll_mkdir,
	.unlink = wfs_ll_unlink,
	.rmdir = wfs_ll_rmdir,
	.symlink = wfs_ll_symlink,
	.rename = wfs_ll_rename,
	.link = wfs_ll_link,
	.open = ll_open,
	.read = ll_read,
	.write_buf = wfs_ll_write_buf,
	.fallocate = wfs_ll_fallocate,
	.fsync = wfs_ll_fsync,
	.opendir = ll_opendir,
	.readdir = wfs_ll_readdir,
	.readdirplus = wfs_ll_readdirplus,
	.statfs = ll_statfs,
	.setxattr = ll_setxattr,
	.getxattr = ll_getxattr,
	.listxattr = ll_listxattr,
	.removexattr = ll_removexattr,
	.create = wfs_ll_create,
};
