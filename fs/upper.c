/* upper.c — whiteout journal and copy-up primitives (see upper.h). */
#include "upper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <xxhash.h>

#include "util.h"

#define WO_HEADER "wheelfs-whiteouts 1\n"

struct wfs_wo_ent {
	struct wfs_wo_ent *next;
	uint64_t hash;
	int type;
	char path[];
};

/* ---- the in-memory set ------------------------------------------------- */

static uint64_t hash_path(const char *p)
{
	return XXH3_64bits(p, strlen(p));
}

static struct wfs_wo_ent **slot(const struct wfs_whiteouts *w, const char *p,
				uint64_t h)
{
	struct wfs_wo_ent **e = &w->tab[h & (w->cap - 1)];

	while (*e && ((*e)->hash != h || strcmp((*e)->path, p)))
		e = &(*e)->next;
	return e;
}

static int grow(struct wfs_whiteouts *w)
{
	size_t cap = w->cap ? 2 * w->cap : 64;
	struct wfs_wo_ent **tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < w->cap; i++) {
		struct wfs_wo_ent *e = w->tab[i], *next;
		for (; e; e = next) {
			next = e->next;
			e->next = tab[e->hash & (cap - 1)];
			tab[e->hash & (cap - 1)] = e;
		}
	}
	free(w->tab);
	w->tab = tab;
	w->cap = cap;
	return 0;
}

/* Set the in-memory record only. */
static int mem_set(struct wfs_whiteouts *w, const char *p, int type)
{
	uint64_t h = hash_path(p);
	struct wfs_wo_ent **s, *e;
	size_t len = strlen(p);

	if (type != WFS_WO_NONE && (w->n + 1) * 4 > w->cap * 3 && grow(w))
		return -ENOMEM;
	if (!w->cap)
		return 0; /* nothing to remove */
	s = slot(w, p, h);
	if (*s) {
		if (type == WFS_WO_NONE) {
			e = *s;
			*s = e->next;
			free(e);
			w->n--;
		} else {
			(*s)->type = type;
		}
		return 0;
	}
	if (type == WFS_WO_NONE)
		return 0;
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return -ENOMEM;
	e->hash = h;
	e->type = type;
	memcpy(e->path, p, len + 1);
	e->next = NULL;
	*s = e;
	w->n++;
	return 0;
}

static void mem_clear(struct wfs_whiteouts *w)
{
	for (size_t i = 0; i < w->cap; i++) {
		struct wfs_wo_ent *e = w->tab[i], *next;
		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(w->tab);
	w->tab = NULL;
	w->cap = w->n = 0;
}

int wfs_wo_get(const struct wfs_whiteouts *w, const char *path)
{
	struct wfs_wo_ent **s;

	if (!w->n)
		return WFS_WO_NONE;
	s = slot(w, path, hash_path(path));
	return *s ? (*s)->type : WFS_WO_NONE;
}

int wfs_wo_each(const struct wfs_whiteouts *w,
		int (*fn)(const char *path, int type, void *arg), void *arg)
{
	for (size_t i = 0; i < w->cap; i++)
		for (struct wfs_wo_ent *e = w->tab[i]; e; e = e->next) {
			int rc = fn(e->path, e->type, arg);
			if (rc)
				return rc;
		}
	return 0;
}

static int below(const char *path, const char *dir)
{
	size_t dl = strlen(dir);

	if (!dl)
		return 1;
	return !strncmp(path, dir, dl) && path[dl] == '/';
}

int wfs_wo_any_under(const struct wfs_whiteouts *w, const char *dir)
{
	for (size_t i = 0; w->n && i < w->cap; i++)
		for (struct wfs_wo_ent *e = w->tab[i]; e; e = e->next)
			if (below(e->path, dir))
				return 1;
	return 0;
}

/* ---- the journal --------------------------------------------------------- */

static int unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%') {
			unsigned v;
			if (sscanf(s + 1, "%2x", &v) != 1 || !s[1] || !s[2])
				return -EINVAL;
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return 0;
}

static int escape(struct wfs_buf *b, const char *p)
{
	int rc = 0;

	for (const unsigned char *s = (const unsigned char *)p; !rc && *s; s++)
		rc = *s <= 0x20 || *s == '%' || *s == 0x7f
			     ? wfs_buf_printf(b, "%%%02X", *s)
			     : wfs_buf_append(b, s, 1);
	return rc;
}

/* Replay a journal held in buf into w (the set is cleared first). */
static int replay(struct wfs_whiteouts *w, char *buf, size_t len)
{
	char *line = buf, *nl;
	int rc = 0;

	mem_clear(w);
	w->lines = 0;
	/* A header cut short (a crash in the first append) is an empty
	 * journal; the next append cuts it off. */
	if (len < sizeof(WO_HEADER) - 1 && !memcmp(buf, WO_HEADER, len))
		return 0;
	if (len < sizeof(WO_HEADER) - 1 ||
	    memcmp(buf, WO_HEADER, sizeof(WO_HEADER) - 1))
		return -EBADMSG;
	line += sizeof(WO_HEADER) - 1;
	/* A last line without its newline is a torn append: ignore it. */
	while (!rc && (nl = memchr(line, '\n', (size_t)(buf + len - line)))) {
		*nl = '\0';
		if (line[0] && line[1] == ' ' && !unescape(line + 2) &&
		    line[2]) {
			int type = line[0] == 'w'   ? WFS_WO_WHITEOUT
				   : line[0] == 'o' ? WFS_WO_OPAQUE
						    : WFS_WO_NONE;
			if (type || line[0] == '-')
				rc = mem_set(w, line + 2, type);
		}
		w->lines++;
		line = nl + 1;
	}
	return rc;
}

static int read_journal(struct wfs_whiteouts *w)
{
	char *buf;
	size_t len;
	int rc = wfs_read_file(w->dirfd, WFS_WHITEOUTS_FILE, &buf, &len);

	if (rc == -ENOENT) {
		mem_clear(w);
		w->lines = 0;
		return 0;
	}
	if (rc)
		return rc;
	rc = replay(w, buf, len);
	free(buf);
	return rc;
}

/* The size of the journal without a torn last line (one with no newline,
 * left by a crash or a full disk in the middle of an append), which it
 * cuts off, so that the next line does not run into it.  Called locked. */
static off_t drop_torn_tail(struct wfs_whiteouts *w, int fd, off_t size)
{
	char last, *buf, *nl;
	size_t len;
	off_t keep;
	int rc;

	if (size == 0)
		return 0;
	if (pread(fd, &last, 1, size - 1) != 1)
		return -EIO;
	if (last == '\n')
		return size;
	rc = wfs_read_file(w->dirfd, WFS_WHITEOUTS_FILE, &buf, &len);
	if (rc)
		return rc;
	nl = len ? memrchr(buf, '\n', len) : NULL;
	keep = nl ? nl - buf + 1 : 0;
	free(buf);
	return ftruncate(fd, keep) < 0 ? -errno : keep;
}

/* Open the journal for appending, locked; creates it with its header. */
static int open_locked(struct wfs_whiteouts *w)
{
	for (int tries = 0; tries < 100; tries++) {
		struct stat st;
		int fd = w->jfd;

		if (fd < 0) {
			if (mkdirat(w->dirfd, ".wheelfs", 0755) < 0 &&
			    errno != EEXIST)
				return -errno;
			fd = openat(w->dirfd, WFS_WHITEOUTS_FILE,
				    O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
				    0644);
			if (fd < 0)
				return -errno;
			w->jfd = fd;
		}
		while (flock(fd, LOCK_EX) < 0)
			if (errno != EINTR)
				return -errno;
		if (fstat(fd, &st) < 0)
			return -errno;
		if (st.st_nlink > 0) {
			off_t size = drop_torn_tail(w, fd, st.st_size);
			int rc = size < 0 ? (int)size : 0;
			if (!rc && size == 0)
				rc = wfs_write_all(fd, WO_HEADER,
						   sizeof(WO_HEADER) - 1);
			if (rc) {
				flock(fd, LOCK_UN);
				return rc;
			}
			return fd;
		}
		/* Compacted away under us: open the new file. */
		flock(fd, LOCK_UN);
		close(fd);
		w->jfd = -1;
	}
	return -EAGAIN;
}

static int compact_locked(struct wfs_whiteouts *w)
{
	struct wfs_buf b = { 0 };
	int rc;

	/* Pick up whatever others appended, then write the records out. */
	rc = read_journal(w);
	if (!rc)
		rc = wfs_buf_append(&b, WO_HEADER, sizeof(WO_HEADER) - 1);
	for (size_t i = 0; !rc && i < w->cap; i++)
		for (struct wfs_wo_ent *e = w->tab[i]; !rc && e; e = e->next) {
			rc = wfs_buf_printf(&b, "%c ", e->type);
			if (!rc)
				rc = escape(&b, e->path);
			if (!rc)
				rc = wfs_buf_append(&b, "\n", 1);
		}
	/* Every compaction holds this lock: a temp file of the journal is
	 * a killed compaction's. */
	if (!rc)
		wfs_write_atomic_sweep(w->dirfd, WFS_WHITEOUTS_FILE);
	if (!rc)
		rc = wfs_write_atomic(w->dirfd, WFS_WHITEOUTS_FILE, b.data,
				      b.len, 0644,
				      1); /* it replaces them all */
	if (!rc)
		w->lines = w->n;
	wfs_buf_free(&b);
	return rc;
}

int wfs_wo_compact(struct wfs_whiteouts *w)
{
	int fd, rc;

	if (w->readonly)
		return -EROFS;
	fd = open_locked(w);
	if (fd < 0)
		return fd;
	rc = compact_locked(w);
	flock(fd, LOCK_UN);
	/* The old file is unlinked now; the next append reopens. */
	close(fd);
	w->jfd = -1;
	return rc;
}

int wfs_wo_load(struct wfs_whiteouts *w, int dirfd, int readonly)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->dirfd = dirfd;
	w->jfd = -1;
	w->readonly = readonly;
	rc = read_journal(w);
	if (rc)
		return rc;
	if (!readonly && w->lines > 2 * w->n + 64)
		rc = wfs_wo_compact(w);
	return rc == -EROFS || rc == -EACCES ? 0 : rc;
}

int wfs_wo_reload(struct wfs_whiteouts *w)
{
	return read_journal(w);
}

void wfs_wo_free(struct wfs_whiteouts *w)
{
	mem_clear(w);
	if (w->jfd >= 0)
		close(w->jfd);
	w->jfd = -1;
}

static int append(struct wfs_whiteouts *w, const char *path, int type)
{
	struct wfs_buf b = { 0 };
	int fd, rc;

	if (w->readonly)
		return -EROFS;
	rc = wfs_buf_printf(&b, "%c ", type ? type : '-');
	if (!rc)
		rc = escape(&b, path);
	if (!rc)
		rc = wfs_buf_append(&b, "\n", 1);
	if (rc) {
		wfs_buf_free(&b);
		return rc;
	}
	fd = open_locked(w);
	if (fd < 0) {
		wfs_buf_free(&b);
		return fd;
	}
	/* One write(2) of one line: O_APPEND makes it atomic. */
	rc = wfs_write_all(fd, b.data, b.len);
	if (!rc)
		w->lines++;
	if (!rc && w->lines > 4 * w->n + 1024)
		rc = compact_locked(w);
	flock(fd, LOCK_UN);
	wfs_buf_free(&b);
	return rc;
}

int wfs_wo_set(struct wfs_whiteouts *w, const char *path, int type)
{
	int rc;

	if (wfs_wo_get(w, path) == type)
		return 0;
	rc = append(w, path, type);
	return rc ? rc : mem_set(w, path, type);
}

int wfs_wo_expose(struct wfs_whiteouts *w, const char *path)
{
	char p[PATH_MAX];
	int rc = 0;

	if ((size_t)snprintf(p, sizeof(p), "%s", path) >= sizeof(p))
		return -ENAMETOOLONG;
	for (char *s = p + strlen(p); s && !rc && w->n; s = strrchr(p, '/')) {
		*s = '\0';
		if (wfs_wo_get(w, p) != WFS_WO_NONE)
			rc = wfs_wo_set(w, p, WFS_WO_NONE);
	}
	return rc;
}

int wfs_wo_clear_under(struct wfs_whiteouts *w, const char *dir)
{
	struct wfs_buf paths = { 0 };
	int rc = 0;

	/* Collect first: each removal appends to the journal, and an append
	 * may compact it, which rebuilds the table being walked. */
	for (size_t i = 0; !rc && w->n && i < w->cap; i++)
		for (struct wfs_wo_ent *e = w->tab[i]; !rc && e; e = e->next)
			if (below(e->path, dir))
				rc = wfs_buf_append(&paths, e->path,
						    strlen(e->path) + 1);
	for (size_t off = 0; !rc && off < paths.len;
	     off += strlen(paths.data + off) + 1)
		rc = wfs_wo_set(w, paths.data + off, WFS_WO_NONE);
	wfs_buf_free(&paths);
	return rc;
}

/* ---- upper files ------------------------------------------------------- */

int wfs_upper_hidden_name(const char *name)
{
	return !strncmp(name, WFS_UPPER_TMP_PREFIX,
			sizeof(WFS_UPPER_TMP_PREFIX) - 1);
}

const char *wfs_upper_fdpath(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
	return buf;
}

int wfs_upper_opendir(int dirfd, const char *rel)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	static int no_openat2;
	int fd;

	if (!*rel)
		rel = ".";
	if (!no_openat2) {
		fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno != ENOSYS)
			return errno == ELOOP ? -ENOTDIR : -errno;
		no_openat2 = 1;
	}
	fd = openat(dirfd, rel, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int set_attrs(int fd, const struct wfs_upper_attr *a)
{
	struct timespec ts[2] = { a->mtime, a->mtime };

	if (a->set_owner && fchown(fd, a->uid, a->gid) < 0)
		return -errno;
	if (fchmod(fd, a->mode & 07777) < 0)
		return -errno;
	if (futimens(fd, ts) < 0)
		return -errno;
	return 0;
}

int wfs_upper_copy_data(int dst, int src, uint64_t size)
{
	uint64_t done = 0;
	loff_t in = 0, out = 0;

	if (src < 0 || !size)
		return 0;
	if (ioctl(dst, FICLONE, src) == 0) {
		struct stat st;
		if (fstat(dst, &st) == 0 && (uint64_t)st.st_size == size)
			return 0;
		if (ftruncate(dst, 0) < 0)
			return -errno;
	}
	while (done < size) {
		ssize_t n = copy_file_range(src, &in, dst, &out,
					    (size_t)(size - done), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0)
			return -EIO; /* source shorter than expected */
		done += (uint64_t)n;
	}
	/* Fallback: plain reads and writes. */
	if (done < size && lseek(dst, (off_t)done, SEEK_SET) < 0)
		return -errno;
	while (done < size) {
		char b[1 << 15];
		size_t want = size - done < sizeof(b) ? (size_t)(size - done)
						      : sizeof(b);
		ssize_t n = wfs_pread_full(src, b, want, (off_t)done);
		int rc;
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		rc = wfs_write_all(dst, b, (size_t)n);
		if (rc)
			return rc;
		done += (uint64_t)n;
	}
	return 0;
}

static int named_temp(int pfd, char *name, size_t len)
{
	for (int tries = 0; tries < 100; tries++) {
		unsigned r =
			(unsigned)random() ^ (unsigned)getpid() * 2654435761u;
		int fd;
		snprintf(name, len, WFS_UPPER_TMP_PREFIX "%08x", r);
		fd = openat(pfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			    0600);
		if (fd >= 0 || errno != EEXIST)
			return fd < 0 ? -errno : fd;
	}
	return -EEXIST;
}

int wfs_upper_copy_file(int pfd, const char *name, int srcfd, uint64_t size,
			const struct wfs_upper_attr *a)
{
	char tmp[64] = "", proc[32];
	int fd, rc;

	fd = openat(pfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		fd = named_temp(pfd, tmp, sizeof(tmp));
		if (fd < 0)
			return fd;
	}
	rc = wfs_upper_copy_data(fd, srcfd, size);
	if (!rc)
		rc = set_attrs(fd, a);
	if (!rc && !tmp[0]) {
		if (linkat(AT_FDCWD, wfs_upper_fdpath(fd, proc, sizeof(proc)),
			   pfd, name, AT_SYMLINK_FOLLOW) < 0) {
			rc = -errno;
			if (rc == -ENOENT &&
			    linkat(fd, "", pfd, name, AT_EMPTY_PATH) == 0)
				rc = 0;
		}
	} else if (!rc) {
		if (renameat2(pfd, tmp, pfd, name, RENAME_NOREPLACE) < 0) {
			rc = -errno;
			if (rc == -EINVAL || rc == -ENOSYS) {
				/* No RENAME_NOREPLACE: check, then rename. */
				struct stat st;
				rc = fstatat(pfd, name, &st,
					     AT_SYMLINK_NOFOLLOW) == 0
					     ? -EEXIST
				     : renameat(pfd, tmp, pfd, name) < 0
					     ? -errno
					     : 0;
			}
		}
	}
	if (rc && tmp[0]) /* a failed copy or rename: no temp file left */
		unlinkat(pfd, tmp, 0);
	close(fd);
	return rc;
}

int wfs_upper_copy_symlink(int pfd, const char *name, const char *target,
			   const struct wfs_upper_attr *a)
{
	struct timespec ts[2] = { a->mtime, a->mtime };

	if (symlinkat(target, pfd, name) < 0)
		return -errno;
	if (a->set_owner &&
	    fchownat(pfd, name, a->uid, a->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

int wfs_upper_copy_dir(int pfd, const char *name,
		       const struct wfs_upper_attr *a)
{
	struct timespec ts[2] = { a->mtime, a->mtime };

	if (mkdirat(pfd, name, a->mode & 07777) < 0)
		return -errno;
	if (a->set_owner &&
	    fchownat(pfd, name, a->uid, a->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (fchmodat(pfd, name, a->mode & 07777, 0) < 0)
		return -errno;
	if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}
