/* ll_fd.c — descriptors for file content, cached per node (see
 * ll_inode.h): a blob of the cache (opened read-only, its size checked
 * against the tree's; a missing or mis-sized blob is EIO and one log line
 * per node) or the upper file.  At most fs->maxfds are kept, least
 * recently used first out; detached nodes keep theirs until they go.
 * I/O gets a dup(), so a reload or an eviction may close the cached one
 * at any time. */
#include "ll_inode.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void lru_unlink(struct wfs_fs *fs, struct wfs_node *n)
{
	if (!n->lru_prev && fs->lru_head != n)
		return;
	if (n->lru_prev)
		n->lru_prev->lru_next = n->lru_next;
	else
		fs->lru_head = n->lru_next;
	if (n->lru_next)
		n->lru_next->lru_prev = n->lru_prev;
	else
		fs->lru_tail = n->lru_prev;
	n->lru_prev = n->lru_next = NULL;
	fs->nfds--;
}

static void lru_push(struct wfs_fs *fs, struct wfs_node *n)
{
	n->lru_prev = NULL;
	n->lru_next = fs->lru_head;
	if (fs->lru_head)
		fs->lru_head->lru_prev = n;
	fs->lru_head = n;
	if (!fs->lru_tail)
		fs->lru_tail = n;
	fs->nfds++;
}

void wfs_node_keepfd(struct wfs_fs *fs, struct wfs_node *n)
{
	lru_unlink(fs, n);
}

void wfs_node_closefd(struct wfs_fs *fs, struct wfs_node *n)
{
	lru_unlink(fs, n);
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	n->fd_kind = WFS_FD_NONE;
}

static void set_fd(struct wfs_fs *fs, struct wfs_node *n, int fd, int kind)
{
	wfs_node_closefd(fs, n);
	n->fd = fd;
	n->fd_kind = kind;
	if (n->detached)
		return; /* kept until the node goes: never evicted */
	lru_push(fs, n);
	while (fs->nfds > fs->maxfds && fs->lru_tail && fs->lru_tail != n)
		wfs_node_closefd(fs, fs->lru_tail);
}

void wfs_node_adopt_fd(struct wfs_fs *fs, struct wfs_node *n, int fd, int kind)
{
	set_fd(fs, n, fd, kind);
}

static int open_upper(struct wfs_fs *fs, struct wfs_node *n, int want_write)
{
	struct stat st;
	const char *name;
	int pfd = wfs_node_upper_parent(fs, n, &name), fd;

	if (pfd < 0)
		return pfd;
	fd = openat(pfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && !n->priv && fstat(fd, &st) == 0 && st.st_nlink > 1) {
		/* Linked to a cache blob (pin --mode hardlink; the mount
		 * makes no hard links): never a writable descriptor of it,
		 * which a detached node would keep (writes copy up first). */
		close(fd);
		fd = -1;
		errno = EPERM;
	}
	if (fd >= 0) {
		close(pfd);
		set_fd(fs, n, fd, WFS_FD_UPPER_RW);
		return 0;
	}
	if (want_write || (errno != EACCES && errno != EROFS &&
			   errno != ETXTBSY && errno != EPERM)) {
		int rc = -errno;
		close(pfd);
		return rc;
	}
	fd = openat(pfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(pfd);
	if (fd < 0)
		return -errno;
	set_fd(fs, n, fd, WFS_FD_UPPER_RO);
	return 0;
}

static int open_blob(struct wfs_fs *fs, struct wfs_node *n)
{
	const struct wfs_vent *v = &fs->lower->cv.v[n->lower];
	const char *dist = fs->lower->view.dists[v->dist].name;
	char hex[WFS_DIGEST_HEX + 1];
	struct stat st;
	int fd = wfs_cache_open_blob(fs->cache, wfs_vent_digest(v));

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size == v->ent->size) {
		set_fd(fs, n, fd, WFS_FD_BLOB);
		n->eio = 0; /* logged again if it breaks again */
		return 0;
	}
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)))
		st.st_size = -1;
	if (!n->eio) {
		wfs_digest_hex(wfs_vent_digest(v), hex);
		if (fd < 0 && fd != -ENOENT)
			wfs_fs_log(
				fs, "blob %s for %s in %s cannot be opened: %s",
				hex, v->path, fs->cache->path, strerror(-fd));
		else if (fd < 0)
			wfs_fs_log(fs,
				   "blob %s for %s is missing from %s (%s); "
				   "re-add the %s wheel with `wheelfs add` or "
				   "run `wheelfs pin`",
				   hex, v->path, fs->cache->path, strerror(-fd),
				   dist);
		else
			wfs_fs_log(
				fs,
				"blob %s for %s in %s is corrupt (size %lld, "
				"expected %llu); re-add the %s wheel with "
				"`wheelfs add` or run `wheelfs verify`",
				hex, v->path, fs->cache->path,
				(long long)st.st_size,
				(unsigned long long)v->ent->size, dist);
		n->eio = 1;
	}
	if (fd >= 0)
		close(fd);
	return -EIO;
}

int wfs_node_dupfd(struct wfs_fs *fs, struct wfs_node *n, int want_write)
{
	int rc = 0, fd;

	if (n->detached) {
		if (n->fd < 0)
			return -EIO;
		if (want_write && n->fd_kind != WFS_FD_UPPER_RW)
			return -EROFS;
	} else if (n->utype == S_IFREG) {
		if (n->fd_kind != WFS_FD_UPPER_RW &&
		    (want_write || n->fd_kind != WFS_FD_UPPER_RO))
			rc = open_upper(fs, n, want_write);
	} else if (n->utype) {
		return S_ISDIR(n->utype) ? -EISDIR : -EINVAL;
	} else if (n->lower >= 0) {
		const struct wfs_tree_ent *e = fs->lower->cv.v[n->lower].ent;
		if (!e || !S_ISREG(e->mode))
			return !e || S_ISDIR(e->mode) ? -EISDIR : -EINVAL;
		if (want_write)
			return -EROFS; /* the caller copies up first */
		if (n->fd_kind != WFS_FD_BLOB)
			rc = open_blob(fs, n);
	} else {
		return -ENOENT;
	}
	if (rc)
		return rc;
	if (!n->detached && fs->lru_head != n) { /* most recently used */
		lru_unlink(fs, n);
		lru_push(fs, n);
	}
	fd = fcntl(n->fd, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}
