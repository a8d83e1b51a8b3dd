/* install_io.c — file-level helpers of install and adopt: walking the
 * upper layer, atomic copies and symlinks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "install_int.h"
#include "upper.h"
#include "wheel.h"

/* Every non-directory under fd/rel ("" for fd itself), as paths relative
 * to fd. */
int wfs_scan_files(int fd, const char *rel, struct wfs_strset *out)
{
	char path[WFS_VPATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = wfs_opendirat(fd, *rel ? rel : ".", O_NOFOLLOW, &d);

	if (rc)
		return rc == -ENOENT || rc == -ENOTDIR ? 0 : rc;
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "",
			     de->d_name) >= (int)sizeof(path))
			continue;
		if (de->d_type == DT_DIR)
			rc = wfs_scan_files(fd, path, out);
		else
			rc = wfs_ss_add(out, path);
	}
	closedir(d);
	return rc;
}

int wfs_distinfo_split(const char *s, size_t len, char *norm, size_t normlen,
		       size_t *voff, size_t *vlen)
{
	char raw[256];
	size_t base, nl;

	if (len < 11 || memcmp(s + len - 10, ".dist-info", 10))
		return -EINVAL;
	base = len - 10;
	for (nl = 0; nl < base && s[nl] != '-'; nl++)
		;
	if (nl + 1 >= base || nl >= sizeof(raw) || nl >= normlen)
		return -EINVAL;
	memcpy(raw, s, nl);
	raw[nl] = '\0';
	wfs_wheel_normalize(raw, norm, normlen);
	*voff = nl + 1;
	*vlen = base - nl - 1;
	return 0;
}

const char *wfs_in_site(const char *site_v, const char *vpath)
{
	size_t l = strlen(site_v);

	return !strncmp(vpath, site_v, l) && vpath[l] == '/' ? vpath + l + 1
							     : NULL;
}

int wfs_venv_record_read(const struct wfs_venv *v, const char *di,
			 struct wfs_record *r)
{
	char path[WFS_VPATH_MAX], *buf;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/%s/RECORD", v->site, di);
	rc = wfs_read_file(v->libfd, path, &buf, &len);
	if (rc)
		return rc;
	rc = wfs_record_parse(buf, len, path, r, NULL);
	free(buf);
	return rc;
}

int wfs_parent_beneath(int fd, const char *rel, const char **base)
{
	char dir[WFS_VPATH_MAX];
	const char *slash = strrchr(rel, '/');

	*base = slash ? slash + 1 : rel;
	if (!slash)
		return wfs_upper_opendir(fd, "");
	if ((size_t)(slash - rel) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, rel, (size_t)(slash - rel));
	dir[slash - rel] = '\0';
	return wfs_upper_opendir(fd, dir);
}

#define INST_TMP_PREFIX WFS_UPPER_TMP_PREFIX "inst."

int wfs_tmp_sweep(int fd, const char *dir)
{
	struct dirent *de;
	DIR *d;
	int pfd = wfs_upper_opendir(fd, dir), rc;

	if (pfd < 0)
		return pfd == -ENOENT || pfd == -ENOTDIR ? 0 : pfd;
	rc = wfs_opendirat(pfd, ".", 0, &d);
	close(pfd);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, INST_TMP_PREFIX,
			     sizeof(INST_TMP_PREFIX) - 1) &&
		    unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT &&
		    errno != EISDIR) {
			rc = -errno;
			break;
		}
	closedir(d);
	return rc;
}

/* A temp file next to rel, named so the mount hides it (upper.h). */
static int tmp_open(int fd, const char *rel, char *tmp, size_t len, mode_t mode)
{
	const char *slash = strrchr(rel, '/');

	for (int tries = 0; tries < 100; tries++) {
		int n = snprintf(tmp, len, "%.*s%s%s%d.%08lx",
				 slash ? (int)(slash - rel) : 0, rel,
				 slash ? "/" : "", INST_TMP_PREFIX,
				 (int)getpid(), (unsigned long)random());
		if (n < 0 || (size_t)n >= len)
			return -ENAMETOOLONG;
		int f = openat(fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			       mode);
		if (f >= 0 || errno != EEXIST)
			return f >= 0 ? f : -errno;
	}
	return -EEXIST;
}

int wfs_buf_write_atomic(int fd, const char *rel, const void *data, size_t len,
			 mode_t mode)
{
	char tmp[WFS_VPATH_MAX + 64];
	int out = tmp_open(fd, rel, tmp, sizeof(tmp), mode), rc;

	if (out < 0)
		return out;
	rc = wfs_write_all(out, data, len);
	if (!rc && fchmod(out, mode) < 0)
		rc = -errno;
	if (close(out) < 0 && !rc)
		rc = -errno;
	if (!rc && renameat(fd, tmp, fd, rel) < 0)
		rc = -errno;
	if (rc)
		unlinkat(fd, tmp, 0);
	return rc;
}

const char *wfs_blob_strerror(int rc)
{
	return rc == -EBADMSG ? "the content does not hash to its blob's name; "
				"the cache is damaged: run `wheelfs verify "
				"--repair`, then add the wheel again"
			      : strerror(-rc);
}

int wfs_copy_blob_atomic(struct wfs_cache *c, const struct wfs_digest *d,
			 int fd, const char *rel, mode_t mode)
{
	char tmp[WFS_VPATH_MAX + 64], buf[65536];
	int in = wfs_cache_open_blob(c, d), out, rc = 0, plain = 0;
	ssize_t n;

	if (in < 0)
		return in;
	out = tmp_open(fd, rel, tmp, sizeof(tmp), mode);
	if (out < 0) {
		close(in);
		return out;
	}
	for (;;) {
		n = plain ? -1
			  : copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n < 0 && !plain &&
		    (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
		     errno == EOPNOTSUPP)) {
			plain = 1;
			continue;
		}
		if (plain) {
			n = read(in, buf, sizeof(buf));
			if (n > 0 && (rc = wfs_write_all(out, buf, (size_t)n)))
				break;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
	}
	if (!rc) { /* what was copied is what the blob's name says */
		struct wfs_digest got;
		uint64_t size;
		rc = wfs_digest_fd(in, &got, &size);
		if (!rc && !wfs_digest_equal(&got, d))
			rc = -EBADMSG;
	}
	if (!rc && fchmod(out, mode) < 0)
		rc = -errno;
	if (close(out) < 0 && !rc)
		rc = -errno;
	close(in);
	if (!rc && renameat(fd, tmp, fd, rel) < 0)
		rc = -errno;
	if (rc)
		unlinkat(fd, tmp, 0);
	return rc;
}

int wfs_symlink_atomic(int fd, const char *rel, const char *target)
{
	char tmp[WFS_VPATH_MAX + 64];
	int f = tmp_open(fd, rel, tmp, sizeof(tmp), 0600), rc = 0;

	if (f < 0)
		return f;
	close(f);
	unlinkat(fd, tmp, 0);
	if (symlinkat(target, fd, tmp) < 0 || renameat(fd, tmp, fd, rel) < 0) {
		rc = -errno;
		unlinkat(fd, tmp, 0);
	}
	return rc;
}

int wfs_mkparents(int fd, const char *rel)
{
	char dir[WFS_VPATH_MAX];
	const char *slash = strrchr(rel, '/');

	if (!slash)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - rel), rel);
	return wfs_mkdirs(fd, dir, 0755);
}
