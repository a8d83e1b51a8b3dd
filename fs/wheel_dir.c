/* wheel_dir.c — reading unpacked wheels (for example uv's archive-v0/<id>).
 *
 * The directory is walked with openat/fdopendir/fstatat and O_NOFOLLOW, so
 * no symlink inside it is ever followed; each file is read through the fd
 * that was checked.  Names, types and limits get the same checks as zip
 * entries.  Modes: directories 0755, files 0755 when any exec bit is set,
 * else 0644; mtimes come from st_mtim.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wheel_int.h"

/* Deeper trees are refused: one fd is open per level while walking. */
#define WFS_WHEEL_MAX_DEPTH 128

static int walk(struct wfs_ingest *ing, int dfd, struct wfs_buf *path,
		int depth);

static int changed(struct wfs_ingest *ing, const char *path)
{
	return wfs_ing_err(ing, -EAGAIN, path, "changed while being read");
}

/* Read a regular file through the sink. */
static int read_file(struct wfs_ingest *ing, int dfd, const char *name,
		     struct wfs_went *e, const struct stat *lst)
{
	struct stat st;
	ssize_t n;
	int fd, rc;

	fd = openat(dfd, name,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return wfs_ing_err(ing, -errno, e->path, "%s", strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_dev != lst->st_dev || st.st_ino != lst->st_ino) {
		close(fd);
		return changed(ing, e->path);
	}
	if ((rc = wfs_sink_begin(ing, e)))
		goto out;
	for (;;) {
		n = read(fd, ing->chunk, WFS_WHEEL_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = wfs_ing_err(ing, -errno, e->path, "%s",
					 strerror(errno));
			goto out;
		}
		if (!n)
			break;
		if ((rc = wfs_sink_write(ing, e, ing->chunk, (size_t)n)))
			goto out;
	}
	rc = wfs_sink_commit(ing, e);
out:
	wfs_sink_abort(ing);
	close(fd);
	return rc;
}

/* A symlink: its target is its content (hashed for RECORD). */
static int read_link(struct wfs_ingest *ing, int dfd, const char *name,
		     char *path, const struct stat *st)
{
	struct wfs_went *e;
	ssize_t n;
	int rc;

	n = readlinkat(dfd, name, ing->chunk, WFS_WHEEL_MAX_LINK + 1);
	if (n < 0) {
		rc = wfs_ing_err(ing, -errno, path, "%s", strerror(errno));
		free(path);
		return rc;
	}
	if ((rc = wfs_ing_add(ing, path, S_IFLNK | 0777, (uint64_t)n,
			      st->st_mtim.tv_sec, (uint32_t)st->st_mtim.tv_nsec,
			      &e)))
		return rc;
	if (!(rc = wfs_sink_begin(ing, e)) &&
	    !(rc = wfs_sink_write(ing, e, ing->chunk, (size_t)n)))
		rc = wfs_sink_commit(ing, e);
	wfs_sink_abort(ing);
	return rc;
}

/* One directory entry; path already holds its relative path. */
static int visit(struct wfs_ingest *ing, int dfd, const char *name,
		 struct wfs_buf *path, int depth)
{
	struct wfs_went *e;
	struct stat st, st2;
	char *p;
	int rc, is_dir, sub;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return wfs_ing_err(ing, -errno, path->data, "%s",
				   strerror(errno));
	if ((rc = wfs_ing_check_name(ing, path->data, path->len, &p, &is_dir)))
		return rc;
	if (S_ISLNK(st.st_mode))
		return read_link(ing, dfd, name, p, &st);
	if (S_ISREG(st.st_mode)) {
		rc = wfs_ing_add(ing, p,
				 S_IFREG | (st.st_mode & 0111 ? 0755 : 0644),
				 (uint64_t)st.st_size, st.st_mtim.tv_sec,
				 (uint32_t)st.st_mtim.tv_nsec, &e);
		return rc ? rc : read_file(ing, dfd, name, e, &st);
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = wfs_ing_err(ing, -EINVAL, p,
				 "unsupported file type (mode %06o)",
				 (unsigned)st.st_mode);
		free(p);
		return rc;
	}
	if ((rc = wfs_ing_add(ing, p, S_IFDIR | 0755, 0, st.st_mtim.tv_sec,
			      (uint32_t)st.st_mtim.tv_nsec, NULL)))
		return rc;
	if (depth >= WFS_WHEEL_MAX_DEPTH)
		return wfs_ing_err(ing, -EINVAL, path->data,
				   "directories nested too deeply");
	sub = openat(dfd, name,
		     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return wfs_ing_err(ing, -errno, path->data, "%s",
				   strerror(errno));
	if (fstat(sub, &st2) < 0 || st2.st_dev != st.st_dev ||
	    st2.st_ino != st.st_ino) {
		close(sub);
		return changed(ing, path->data);
	}
	return walk(ing, sub, path, depth + 1);
}

/* Walk the directory open on dfd (taking ownership of dfd). */
static int walk(struct wfs_ingest *ing, int dfd, struct wfs_buf *path,
		int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		rc = -errno;
		close(dfd);
		return wfs_ing_err(ing, rc, path->len ? path->data : NULL, "%s",
				   strerror(-rc));
	}
	for (;;) {
		size_t save = path->len;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				rc = wfs_ing_err(ing, -errno,
						 path->len ? path->data : NULL,
						 "%s", strerror(errno));
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((path->len && wfs_buf_append(path, "/", 1)) ||
		    wfs_buf_append(path, de->d_name, strlen(de->d_name))) {
			rc = wfs_ing_err(ing, -ENOMEM, NULL, "out of memory");
			break;
		}
		rc = visit(ing, dirfd(d), de->d_name, path, depth);
		path->len = save;
		path->data[save] = '\0';
		if (rc)
			break;
	}
	closedir(d);
	return rc;
}

/* Does the directory open on fd have a <something>.dist-info directory at
 * its top?  Checked first, so that a directory that is no unpacked wheel
 * at all is called so, not refused for whatever it holds. */
static int has_distinfo(int fd)
{
	struct dirent *de;
	DIR *d;
	int found = 0;

	if (wfs_opendirat(fd, ".", 0, &d))
		return 1; /* the walk reports it */
	while (!found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct stat st;
		found = n > 10 && !strcmp(de->d_name + n - 10, ".dist-info") &&
			fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
				0 &&
			S_ISDIR(st.st_mode);
	}
	closedir(d);
	return found;
}

int wfs_ingest_dir(struct wfs_ingest *ing, const char *path)
{
	struct wfs_buf rel = { 0 };
	int fd, rc;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return wfs_ing_err(ing, -errno, NULL, "%s", strerror(errno));
	if (!has_distinfo(fd)) {
		close(fd);
		return wfs_ing_err(
			ing, -EINVAL, NULL,
			"not an unpacked wheel: no "
			"<name>-<version>.dist-info directory in it");
	}
	rc = walk(ing, fd, &rel, 0);
	wfs_buf_free(&rel);
	if (!rc)
		rc = wfs_ing_check_layout(ing);
	return rc;
}
