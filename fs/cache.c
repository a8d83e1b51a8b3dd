/* cache.c — the content-addressed blob store (layout in cache.h). */
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MARKER WFS_CACHE_MARKER
#define CACHE_MARKER_LINE "wheelfs-cache 1\n"

static int open_dir(int dirfd, const char *name, int create)
{
	int fd;

	if (create && mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* 1 when a directory without the marker may become a cache: it holds
 * nothing but a fresh filesystem's lost+found and the marker's temp file
 * (wfs_write_atomic) of another process creating the cache, or of one
 * killed meanwhile: the marker is the first thing a cache gets. */
static int blank_dir(int dirfd)
{
	struct dirent *de;
	DIR *d;
	int blank = 1;

	if (wfs_opendirat(dirfd, ".", 0, &d))
		return 0;
	while (blank && (de = readdir(d)))
		blank = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
			!strcmp(de->d_name, "lost+found") ||
			!strncmp(de->d_name, ".wfs-tmp.", 9);
	closedir(d);
	return blank;
}

static int check_marker(int dirfd, const char *path, int create,
			struct wfs_err *err)
{
	char *buf = NULL;
	size_t len;
	int rc = wfs_read_file(dirfd, CACHE_MARKER, &buf, &len);

	if (rc == -ENOENT && create && blank_dir(dirfd))
		return wfs_write_atomic(dirfd, CACHE_MARKER, CACHE_MARKER_LINE,
					strlen(CACHE_MARKER_LINE), 0644, 1);
	/* Not blank: another process may have made it a cache since the
	 * marker was read; the marker is in place before anything else. */
	if (rc == -ENOENT && create)
		rc = wfs_read_file(dirfd, CACHE_MARKER, &buf, &len);
	if (rc == -ENOENT && create)
		return wfs_errf(err, -ENOTEMPTY,
				"%s: not a wheelfs cache (no %s file), and "
				"not empty: refusing to make it one",
				path, CACHE_MARKER);
	if (rc == -ENOENT)
		return wfs_errf(err, -ENOENT,
				"%s: not a wheelfs cache (no %s file)", path,
				CACHE_MARKER);
	if (rc)
		return wfs_errf(err, rc, "%s/%s: %s", path, CACHE_MARKER,
				strerror(-rc));
	if (strncmp(buf, "wheelfs-cache ", 14) != 0) {
		rc = wfs_errf(err, -EINVAL, "%s/%s: malformed marker", path,
			      CACHE_MARKER);
	} else if (atoi(buf + 14) != 1) {
		rc = wfs_errf(err, -EPROTONOSUPPORT,
			      "%s: cache format %d is not supported by this "
			      "wheelfs (knows 1)",
			      path, atoi(buf + 14));
	}
	free(buf);
	return rc;
}

int wfs_cache_open(const char *path, int flags, struct wfs_cache *c,
		   struct wfs_err *err)
{
	int create =
		(flags & WFS_CACHE_CREATE) && !(flags & WFS_CACHE_READONLY);
	int rc;

	memset(c, 0, sizeof(*c));
	c->dirfd = c->blobsfd = c->treesfd = c->tmpfd = c->lockfd = -1;
	c->readonly = !!(flags & WFS_CACHE_READONLY);
	c->path = strdup(path);
	if (!c->path)
		return -ENOMEM;
	if (create && mkdir(path, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		wfs_errf(err, rc, "%s: cannot create cache: %s", path,
			 strerror(-rc));
		goto fail;
	}
	c->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0) {
		rc = -errno;
		wfs_errf(err, rc, "%s: cannot open cache: %s", path,
			 strerror(-rc));
		goto fail;
	}
	rc = check_marker(c->dirfd, path, create, err);
	if (rc)
		goto fail;
	c->blobsfd = open_dir(c->dirfd, "blobs", create);
	c->treesfd = open_dir(c->dirfd, "trees", create);
	if (c->blobsfd < 0 || c->treesfd < 0) {
		rc = c->blobsfd < 0 ? c->blobsfd : c->treesfd;
		wfs_errf(err, rc, "%s: damaged cache layout: %s", path,
			 strerror(-rc));
		goto fail;
	}
	if (!c->readonly) {
		c->tmpfd = open_dir(c->dirfd, "tmp", 1);
		if (c->tmpfd < 0) {
			rc = c->tmpfd;
			wfs_errf(err, rc, "%s/tmp: %s", path, strerror(-rc));
			goto fail;
		}
		c->lockfd = openat(c->dirfd, "lock",
				   O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (c->lockfd < 0 || flock(c->lockfd, LOCK_SH) < 0) {
			rc = -errno;
			wfs_errf(err, rc, "%s/lock: %s", path, strerror(-rc));
			goto fail;
		}
	}
	return 0;
fail:
	wfs_cache_close(c);
	return rc;
}

int wfs_cache_gone(const char *path)
{
	struct stat st;

	return lstat(path, &st) < 0 && errno == ENOENT;
}

void wfs_cache_close(struct wfs_cache *c)
{
	if (c->dirfd >= 0)
		close(c->dirfd);
	if (c->blobsfd >= 0)
		close(c->blobsfd);
	if (c->treesfd >= 0)
		close(c->treesfd);
	if (c->tmpfd >= 0)
		close(c->tmpfd);
	if (c->lockfd >= 0)
		close(c->lockfd); /* releases the flock */
	free(c->path);
	c->path = NULL;
	c->dirfd = c->blobsfd = c->treesfd = c->tmpfd = c->lockfd = -1;
}

char *wfs_cache_default_path(void)
{
	const char *v = getenv("WHEELFS_CACHE_DIR");
	char *out = NULL;

	if (v && *v)
		return strdup(v);
	v = getenv("XDG_CACHE_HOME");
	if (v && *v) {
		if (asprintf(&out, "%s/wheelfs", v) < 0)
			return NULL;
		return out;
	}
	v = getenv("HOME");
	if (asprintf(&out, "%s/.cache/wheelfs", v && *v ? v : "/root") < 0)
		return NULL;
	return out;
}

void wfs_cache_blob_rel(const struct wfs_digest *d, char *rel)
{
	char hex[WFS_DIGEST_HEX + 1];

	wfs_digest_hex(d, hex);
	rel[0] = hex[0];
	rel[1] = hex[1];
	rel[2] = '/';
	memcpy(rel + 3, hex, WFS_DIGEST_HEX + 1);
}

int wfs_cache_has_blob(struct wfs_cache *c, const struct wfs_digest *d)
{
	char rel[3 + WFS_DIGEST_HEX + 1];
	struct stat st;

	wfs_cache_blob_rel(d, rel);
	if (fstatat(c->blobsfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return S_ISREG(st.st_mode) ? 1 : -EUCLEAN;
	return errno == ENOENT ? 0 : -errno;
}

int wfs_cache_open_blob(struct wfs_cache *c, const struct wfs_digest *d)
{
	char rel[3 + WFS_DIGEST_HEX + 1];
	int fd;

	wfs_cache_blob_rel(d, rel);
	fd = openat(c->blobsfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

int wfs_cache_tmpfile(struct wfs_cache *c, char *name, mode_t mode)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	if (c->tmpfd < 0)
		return -EROFS;
	for (int tries = 0; tries < 100; tries++) {
		unsigned long r =
			(unsigned long)random() << 16 ^ (unsigned long)random();
		char suf[9];
		int fd;
		for (int i = 0; i < 8; i++) {
			suf[i] = al[r % 36];
			r /= 36;
		}
		suf[8] = '\0';
		snprintf(name, 64, "%d.%s", (int)getpid(), suf);
		fd = openat(c->tmpfd, name,
			    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* Give a finished temp file (tmpfd/name) its final blob name.  link(2)
 * rather than rename(2): when the name exists we learn it (EEXIST) and keep
 * the first writer's inode, which readers may already hold open. */
static int publish(struct wfs_cache *c, const char *tmpname,
		   const struct wfs_digest *d, int *was_new)
{
	char rel[3 + WFS_DIGEST_HEX + 1];
	int rc = 0;

	wfs_cache_blob_rel(d, rel);
	if (linkat(c->tmpfd, tmpname, c->blobsfd, rel, 0) < 0) {
		rc = -errno;
		if (rc == -ENOENT) { /* fan-out directory missing */
			rel[2] = '\0';
			if (mkdirat(c->blobsfd, rel, 0755) < 0 &&
			    errno != EEXIST)
				rc = -errno;
			else
				rc = 0;
			rel[2] = '/';
			if (!rc &&
			    linkat(c->tmpfd, tmpname, c->blobsfd, rel, 0) < 0)
				rc = -errno;
		}
	}
	if (was_new)
		*was_new = rc == 0;
	if (rc == -EEXIST)
		rc = 0;
	unlinkat(c->tmpfd, tmpname, 0);
	return rc;
}

int wfs_cache_put_buf(struct wfs_cache *c, const struct wfs_digest *d,
		      const void *data, size_t len, int *was_new)
{
	char name[64];
	int fd, rc;

	if (was_new)
		*was_new = 0;
	rc = wfs_cache_has_blob(c, d);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	fd = wfs_cache_tmpfile(c, name, 0444);
	if (fd < 0)
		return fd;
	rc = wfs_write_all(fd, data, len);
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (rc) {
		unlinkat(c->tmpfd, name, 0);
		return rc;
	}
	return publish(c, name, d, was_new);
}

int wfs_cache_blob_begin(struct wfs_cache *c, struct wfs_blob_writer *w)
{
	w->fd = wfs_cache_tmpfile(c, w->tmpname, 0444);
	return w->fd < 0 ? w->fd : 0;
}

int wfs_cache_blob_commit(struct wfs_cache *c, struct wfs_blob_writer *w,
			  const struct wfs_digest *d, int *was_new)
{
	int rc = 0;

	if (close(w->fd) < 0)
		rc = -errno;
	w->fd = -1;
	if (rc) {
		unlinkat(c->tmpfd, w->tmpname, 0);
		return rc;
	}
	return publish(c, w->tmpname, d, was_new);
}

void wfs_cache_blob_abort(struct wfs_cache *c, struct wfs_blob_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	unlinkat(c->tmpfd, w->tmpname, 0);
}

int wfs_cache_register_view(struct wfs_cache *c, const char *target_abs)
{
	struct wfs_digest d;
	char name[WFS_DIGEST_HEX + 1], tmp[64], cur[4096];
	ssize_t n;
	int fd, viewsfd, rc = 0;

	if (c->tmpfd < 0)
		return -EROFS;
	wfs_digest_buf(target_abs, strlen(target_abs), &d);
	wfs_digest_hex(&d, name);
	viewsfd = open_dir(c->dirfd, "views", 1);
	if (viewsfd < 0)
		return viewsfd;
	n = readlinkat(viewsfd, name, cur, sizeof(cur) - 1);
	if (n >= 0 && (size_t)n == strlen(target_abs) &&
	    !memcmp(cur, target_abs, (size_t)n))
		goto out;
	/* A fresh temp name, then symlink + rename over it. */
	fd = wfs_cache_tmpfile(c, tmp, 0600);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	close(fd);
	unlinkat(c->tmpfd, tmp, 0);
	if (symlinkat(target_abs, c->tmpfd, tmp) < 0 ||
	    renameat(c->tmpfd, tmp, viewsfd, name) < 0) {
		rc = -errno;
		unlinkat(c->tmpfd, tmp, 0);
	}
out:
	close(viewsfd);
	return rc;
}

int wfs_cache_ro_errno(int rc)
{
	return rc == -EROFS || rc == -EACCES || rc == -EPERM;
}

void wfs_cache_unregistered_msg(char *buf, size_t len, const char *why,
				const char *target, const char *what)
{
	snprintf(buf, len,
		 "%s; %s is not registered there, so `wheelfs gc --prune` of "
		 "that cache does not know it and may free %s",
		 why, target, what);
}

int wfs_cache_lock_exclusive(struct wfs_cache *c)
{
	if (c->lockfd < 0)
		return -EROFS;
	return flock(c->lockfd, LOCK_EX) < 0 ? -errno : 0;
}

int wfs_cache_sync(struct wfs_cache *c)
{
	return syncfs(c->dirfd) < 0 ? -errno : 0;
}

int wfs_cache_verify_blob(struct wfs_cache *c, const struct wfs_digest *d)
{
	struct wfs_digest got;
	int fd = wfs_cache_open_blob(c, d), rc;

	if (fd < 0)
		return fd;
	rc = wfs_digest_fd(fd, &got, NULL);
	close(fd);
	if (rc)
		return rc;
	return wfs_digest_equal(&got, d) ? 0 : -EBADMSG;
}
