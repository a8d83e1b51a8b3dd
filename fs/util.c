/* util.c — error formatting, whole-file I/O, atomic writes, buffers. */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int wfs_errf(struct wfs_err *err, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!err || err->msg[0])
		return rc;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

int wfs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t wfs_pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  off + (off_t)done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int wfs_read_file(int dirfd, const char *path, char **buf, size_t *len)
{
	struct stat st;
	char *p;
	ssize_t n;
	int fd, rc;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	p = malloc((size_t)st.st_size + 1);
	if (!p) {
		close(fd);
		return -ENOMEM;
	}
	n = wfs_pread_full(fd, p, (size_t)st.st_size, 0);
	close(fd);
	if (n < 0) {
		free(p);
		return (int)n;
	}
	p[n] = '\0';
	*buf = p;
	*len = (size_t)n;
	return 0;
}

#define ATOMIC_TMP ".wfs-tmp."

int wfs_write_atomic(int dirfd, const char *path, const void *buf, size_t len,
		     mode_t mode, int durable)
{
	char tmp[4096];
	const char *slash = strrchr(path, '/'),
		   *base = slash ? slash + 1 : path;
	const char *crash = getenv("WFS_TEST_ATOMIC_CRASH");
	int fd, rc;

	/* .wfs-tmp.<target's name>.<pid>.XXXXXX: wfs_write_atomic_sweep
	 * tells the temp files of one target from the others'. */
	rc = snprintf(tmp, sizeof(tmp), "%.*s%s" ATOMIC_TMP "%s.%d.XXXXXX",
		      slash ? (int)(slash - path) : 0, path, slash ? "/" : "",
		      base, (int)getpid());
	if (rc < 0 || (size_t)rc >= sizeof(tmp) ||
	    strlen(base) + sizeof(ATOMIC_TMP) + 20 > NAME_MAX)
		return -ENAMETOOLONG;
	/* mkstemp works on a path; make it relative to dirfd by hand. */
	for (int tries = 0;; tries++) {
		char *x = tmp + strlen(tmp) - 6;
		unsigned r = (unsigned)random() ^ (unsigned)getpid() ^
			     (unsigned)tries * 2654435761u;
		for (int i = 0; i < 6; i++) {
			x[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[r % 36];
			r /= 36;
		}
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			    mode);
		if (fd >= 0)
			break;
		if (errno != EEXIST || tries > 100)
			return -errno;
		memcpy(x, "XXXXXX", 6);
	}
	rc = wfs_write_all(fd, buf, len);
	if (!rc && fchmod(fd, mode) < 0)
		rc = -errno;
	if (!rc && durable && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (crash && !strcmp(crash, base)) /* test hook: killed here */
		raise(SIGKILL);
	if (!rc && renameat(dirfd, tmp, dirfd, path) < 0)
		rc = -errno;
	if (rc)
		unlinkat(dirfd, tmp, 0);
	return rc;
}

int wfs_write_atomic_sweep(int at, const char *path)
{
	const char *slash = strrchr(path, '/'),
		   *base = slash ? slash + 1 : path;
	char dir[4096], prefix[NAME_MAX + 1];
	struct dirent *de;
	DIR *d = NULL;
	size_t plen;
	int rc, n = 0;

	if ((size_t)snprintf(dir, sizeof(dir), "%.*s",
			     slash ? (int)(slash - path) : 1,
			     slash ? path : ".") >= sizeof(dir) ||
	    (size_t)snprintf(prefix, sizeof(prefix), ATOMIC_TMP "%s.", base) >=
		    sizeof(prefix))
		return -ENAMETOOLONG;
	plen = strlen(prefix);
	rc = wfs_opendirat(at, dir, O_NOFOLLOW, &d);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	while ((de = readdir(d))) {
		struct stat st;
		/* <prefix><pid>.XXXXXX, a regular file (not one of a target
		 * whose name only starts like ours: "view.1" is not "view") */
		const char *rest = de->d_name + plen, *dot;
		if (strncmp(de->d_name, prefix, plen) ||
		    !(dot = strchr(rest, '.')) || dot == rest ||
		    strspn(rest, "0123456789") != (size_t)(dot - rest) ||
		    strlen(dot + 1) != 6 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int wfs_mkdirs(int dirfd, const char *path, mode_t mode)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdirat(dirfd, buf, mode) < 0 && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

int wfs_opendirat(int dirfd, const char *path, int flags, DIR **out)
{
	int fd =
		openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);
	DIR *d;

	if (fd < 0)
		return -errno;
	if (!(d = fdopendir(fd))) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	*out = d;
	return 0;
}

int wfs_rmtree(int at, const char *path)
{
	struct dirent *de;
	DIR *d = NULL;
	int rc;

	if (unlinkat(at, path, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	rc = wfs_opendirat(at, path, O_NOFOLLOW, &d);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = wfs_rmtree(dirfd(d), de->d_name);
		if (rc)
			break;
	}
	closedir(d);
	if (!rc && unlinkat(at, path, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -errno;
	return rc;
}

int wfs_buf_append(struct wfs_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *d;
		while (cap < b->len + n + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int wfs_buf_printf(struct wfs_buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return wfs_buf_append(b, small, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = wfs_buf_append(b, big, (size_t)n);
	free(big);
	return rc;
}

void wfs_buf_free(struct wfs_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* ---- sets of strings ---------------------------------------------------- */

int wfs_ss_add(struct wfs_strset *s, const char *p)
{
	return wfs_ss_addn(s, p, strlen(p));
}

int wfs_ss_addn(struct wfs_strset *s, const char *p, size_t len)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		char **v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	if (!(s->v[s->n] = strndup(p, len)))
		return -ENOMEM;
	s->n++;
	s->sorted = 0;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void wfs_ss_sort(struct wfs_strset *s)
{
	size_t w = 0;

	if (s->sorted)
		return;
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_str);
	for (size_t i = 0; i < s->n; i++) {
		if (w && !strcmp(s->v[w - 1], s->v[i]))
			free(s->v[i]);
		else
			s->v[w++] = s->v[i];
	}
	s->n = w;
	s->sorted = 1;
}

int wfs_sorted_has(char *const *v, size_t n, const char *p)
{
	return n && bsearch(&p, v, n, sizeof(*v), cmp_str) != NULL;
}

void wfs_ss_free(struct wfs_strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int wfs_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

const char *wfs_human_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}
