/* pin_io.c — the file-level tools of a pin run (see pin.h): the set of
 * verified blobs, workers and their directory fds (never following a
 * symlink), temp files (O_TMPFILE or named) and their NOREPLACE placement,
 * mode and mtime, digests (hashing, the once-per-run blob check, FIEMAP
 * comparison of a reflink with its blob); and the daemon's helpers that
 * break a pinned hardlink before a write. */
#include "pin_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"

#define BUF_SIZE (256 * 1024) /* stays in L2 while it is hashed */

/* ---- the set of blobs verified in this run ------------------------------- */

struct wfs_pin_vset {
	size_t cap, n;
	struct wfs_digest *d;
	uint8_t *used;
};

void wfs_pin_vset_free(struct wfs_pin_vset *s)
{
	if (!s)
		return;
	free(s->d);
	free(s->used);
	free(s);
}

static size_t vslot(const struct wfs_pin_vset *s, const struct wfs_digest *d)
{
	uint64_t h;

	memcpy(&h, d->b, sizeof(h));
	for (size_t i = (size_t)h & (s->cap - 1);; i = (i + 1) & (s->cap - 1))
		if (!s->used[i] || wfs_digest_equal(&s->d[i], d))
			return i;
}

/* 1 when d is in the set; with add, insert it.  Under p->mu. */
static int vset_has(struct wfs_pin_run *p, const struct wfs_digest *d, int add)
{
	struct wfs_pin_vset *s = p->verified;
	size_t i;

	if (!s) {
		size_t cap = 64;
		while (cap < 2 * p->njobs + 2)
			cap *= 2;
		s = calloc(1, sizeof(*s));
		if (!s || !(s->d = calloc(cap, sizeof(*s->d))) ||
		    !(s->used = calloc(cap, 1))) {
			wfs_pin_vset_free(s);
			return -ENOMEM;
		}
		s->cap = cap;
		p->verified = s;
	}
	i = vslot(s, d);
	if (s->used[i])
		return 1;
	if (add) {
		s->d[i] = *d;
		s->used[i] = 1;
		s->n++;
	}
	return 0;
}

/* ---- workers ------------------------------------------------------------- */

int wfs_pin_worker_init(struct wfs_pin_worker *w, struct wfs_pin_run *p)
{
	memset(w, 0, sizeof(*w));
	w->p = p;
	for (size_t i = 0; i < sizeof(w->dirs) / sizeof(w->dirs[0]); i++)
		w->dirs[i].fd = -1;
	w->cap = BUF_SIZE;
	w->buf = malloc(w->cap);
	w->h = wfs_hasher_new(0);
	if (!w->buf || !w->h) {
		wfs_pin_worker_free(w);
		return -ENOMEM;
	}
	return 0;
}

void wfs_pin_worker_free(struct wfs_pin_worker *w)
{
	for (size_t i = 0; i < sizeof(w->dirs) / sizeof(w->dirs[0]); i++)
		if (w->dirs[i].fd >= 0)
			close(w->dirs[i].fd);
	free(w->buf);
	if (w->h)
		wfs_hasher_free(w->h);
	memset(w, 0, sizeof(*w));
}

mode_t wfs_pin_dir_mode(const struct wfs_vent *e)
{
	return e->ent ? e->ent->mode & 07777 : 0755;
}

/* Make the lower directory idx in the upper layer (its parent is pfd).
 * It gets its final mode at the end (finish_dirs in pin.c); until then the
 * owner may write into it whatever the tree says.  EEXIST: another worker
 * or the mount was faster, fine. */
static int make_dir(struct wfs_pin_run *p, int pfd, uint32_t idx)
{
	const struct wfs_vent *e = &p->cv->v[idx];
	mode_t mode = wfs_pin_dir_mode(e) | S_IRWXU;

	int fd, rc = 0;

	if (mkdirat(pfd, e->name, mode) < 0)
		return errno == EEXIST ? 0 : -errno;
	atomic_store(&p->made[idx], 1);
	if (!(mode & p->umask))
		return 0;
	/* Not fchmodat: the name may be a symlink by now (see below). */
	fd = openat(pfd, e->name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -ENOTDIR : -errno;
	if (fchmod(fd, mode) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* The upper directory of composed entry idx, opened one component at a
 * time from TARGET with O_NOFOLLOW, so no symlink is ever followed (the
 * upper layer belongs to the venv's owner, pin may run as root), and made
 * first when it is a lower directory the upper layer lacks (so workers
 * make directories in parallel, as their files need them).  Shared by all
 * workers in p->dfd while the fd budget lasts, else cached in the worker's
 * own small LRU. */
int wfs_pin_dir_fd(struct wfs_pin_worker *w, uint32_t idx)
{
	struct wfs_pin_run *p = w->p;
	size_t n = sizeof(w->dirs) / sizeof(w->dirs[0]), lru = 0;
	int fd, pfd, rc, expect = -1;
	const int oflags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

	if (idx == 0)
		return p->dirfd;
	fd = atomic_load(&p->dfd[idx]);
	if (fd >= 0)
		return fd;
	for (size_t i = 0; i < n; i++) {
		if (w->dirs[i].fd >= 0 && w->dirs[i].idx == idx) {
			w->dirs[i].used = ++w->tick;
			return w->dirs[i].fd;
		}
		if (w->dirs[i].used < w->dirs[lru].used)
			lru = i;
	}
	pfd = wfs_pin_dir_fd(w, p->cv->v[idx].parent);
	if (pfd < 0)
		return pfd;
	fd = openat(pfd, p->cv->v[idx].name, oflags);
	if (fd < 0 && errno == ENOENT && p->state[idx] == WFS_PS_CREATE) {
		rc = make_dir(p, pfd, idx);
		if (rc)
			return rc;
		fd = openat(pfd, p->cv->v[idx].name, oflags);
	}
	if (fd < 0)
		return errno == ELOOP ? -ENOTDIR : -errno;
	if (atomic_fetch_sub(&p->dfd_budget, 1) > 0) {
		if (atomic_compare_exchange_strong(&p->dfd[idx], &expect, fd))
			return fd;
		close(fd); /* another worker was faster */
		atomic_fetch_add(&p->dfd_budget, 1);
		return expect;
	}
	atomic_fetch_add(&p->dfd_budget, 1);
	/* The parent may sit in the slot we evict: it is not needed any
	 * more, the caller only uses the fd returned. */
	if (w->dirs[lru].fd >= 0)
		close(w->dirs[lru].fd);
	w->dirs[lru].fd = fd;
	w->dirs[lru].idx = idx;
	w->dirs[lru].used = ++w->tick;
	return fd;
}

/* ---- temp files and placement -------------------------------------------- */

/* A temp file created with mode (its final mode when the umask allows:
 * writing through the fd works whatever the mode). */
int wfs_pin_tmp_open(struct wfs_pin_run *p, int pfd, size_t j, mode_t mode,
		     struct wfs_pin_tmp *t)
{
	t->name[0] = '\0';
	if (!p->no_tmpfile && !atomic_load(&p->tmpfile_off)) {
		t->fd = openat(pfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
		if (t->fd >= 0)
			return 0;
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			return -errno;
		atomic_store(&p->tmpfile_off, 1);
	}
	snprintf(t->name, sizeof(t->name), WFS_PIN_TMP_PREFIX "%d.%zu",
		 (int)getpid(), j);
	for (int tries = 0; tries < 2; tries++) {
		t->fd = openat(pfd, t->name,
			       O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
				       O_CLOEXEC,
			       mode);
		if (t->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
		/* A dead run with our pid left it; we hold the pin lock. */
		unlinkat(pfd, t->name, 0);
	}
	return -errno;
}

void wfs_pin_tmp_discard(int pfd, struct wfs_pin_tmp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->name[0])
		unlinkat(pfd, t->name, 0);
	t->name[0] = '\0';
}

/* Give the temp name `tmp` (a file or symlink in pfd) the final name,
 * never replacing anything: -EEXIST when the name is taken. */
int wfs_pin_rename_noreplace(struct wfs_pin_run *p, int pfd, const char *tmp,
			     const char *name)
{
	if (!atomic_load(&p->noreplace_off)) {
		if (renameat2(pfd, tmp, pfd, name, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EINVAL && errno != ENOSYS)
			return -errno;
		atomic_store(&p->noreplace_off, 1);
	}
	if (linkat(pfd, tmp, pfd, name, 0) < 0)
		return -errno;
	unlinkat(pfd, tmp, 0);
	return 0;
}

/* Place a finished temp file under name (consumes t on success). */
int wfs_pin_tmp_publish(struct wfs_pin_run *p, int pfd, struct wfs_pin_tmp *t,
			const char *name)
{
	char proc[64];
	int rc;

	if (t->name[0]) {
		rc = wfs_pin_rename_noreplace(p, pfd, t->name, name);
		if (!rc)
			t->name[0] = '\0';
		return rc;
	}
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc does not. */
	if (!atomic_load(&p->emptypath_off)) {
		if (linkat(t->fd, "", pfd, name, AT_EMPTY_PATH) == 0)
			return 0;
		if (errno != ENOENT && errno != EPERM)
			return -errno;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
	if (linkat(AT_FDCWD, proc, pfd, name, AT_SYMLINK_FOLLOW) < 0)
		return -errno;
	atomic_store(&p->emptypath_off, 1);
	return 0;
}

int wfs_pin_set_meta(struct wfs_pin_run *p, int fd,
		     const struct wfs_tree_ent *te)
{
	struct timespec ts[2] = {
		{ te->mtime_sec, te->mtime_nsec },
		{ te->mtime_sec, te->mtime_nsec },
	};
	mode_t mode = te->mode & 07777;

	/* wfs_pin_tmp_open gave it mode & ~umask */
	if (((mode & p->umask) || (mode & 07000)) && fchmod(fd, mode) < 0)
		return -errno;
	return futimens(fd, ts) < 0 ? -errno : 0;
}

/* Test hooks: between writing a file and placing it (pin.h). */
void wfs_pin_test_hook(struct wfs_pin_run *p, size_t j)
{
	if (p->crash_at > 0 && j + 1 == (size_t)p->crash_at)
		raise(SIGKILL);
	if (p->delay_us > 0) {
		struct timespec ts = { p->delay_us / 1000000,
				       (long)(p->delay_us % 1000000) * 1000 };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

/* ---- digests ------------------------------------------------------------- */

int wfs_pin_hash_fd(struct wfs_pin_worker *w, int fd, struct wfs_digest *d,
		    uint64_t *size)
{
	off_t off = 0;

	/* pread, not mmap: a file truncated meanwhile (a blob edited in
	 * place through a hardlink elsewhere) must give an error, not
	 * SIGBUS. */
	wfs_hasher_reset(w->h);
	for (;;) {
		ssize_t n = pread(fd, w->buf, w->cap, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		wfs_hasher_update(w->h, w->buf, (size_t)n);
		off += n;
		if ((size_t)n < w->cap) /* short read of a regular file: EOF */
			break;
	}
	wfs_hasher_final(w->h, d, NULL);
	*size = (uint64_t)off;
	return 0;
}

int wfs_pin_check_digest(const struct wfs_tree_ent *te,
			 const struct wfs_digest *got, uint64_t size)
{
	return size == te->size &&
			       wfs_digest_equal(
				       got,
				       (const struct wfs_digest *)te->digest)
		       ? 0
		       : -EBADMSG;
}

/* Verify a blob once per run (hardlink and symlink share its bytes). */
int wfs_pin_verify_blob(struct wfs_pin_worker *w, const struct wfs_tree_ent *te,
			int fd)
{
	struct wfs_pin_run *p = w->p;
	const struct wfs_digest *d = (const struct wfs_digest *)te->digest;
	struct wfs_digest got = { { 0 } };
	uint64_t size = 0;
	int rc, own = fd < 0;

	pthread_mutex_lock(&p->mu);
	rc = vset_has(p, d, 0);
	pthread_mutex_unlock(&p->mu);
	if (rc)
		return rc < 0 ? rc : 0;
	if (own && (fd = wfs_cache_open_blob(p->cache, d)) < 0)
		return fd;
	rc = wfs_pin_hash_fd(w, fd, &got, &size);
	if (own)
		close(fd);
	if (!rc)
		rc = wfs_pin_check_digest(te, &got, size);
	if (!rc) {
		pthread_mutex_lock(&p->mu);
		rc = vset_has(p, d, 1);
		pthread_mutex_unlock(&p->mu);
		rc = rc < 0 ? rc : 0;
	}
	return rc;
}

/* 1 when a and b map the very same physical extents over their whole
 * length (b is a reflink of a), 0 when that cannot be told. */
int wfs_pin_same_extents(int a, int b)
{
	enum { N = 64 };
	union {
		struct fiemap fm;
		char buf[sizeof(struct fiemap) +
			 N * sizeof(struct fiemap_extent)];
	} m[2];
	const uint32_t bad =
		FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |
		FIEMAP_EXTENT_ENCODED | FIEMAP_EXTENT_DATA_ENCRYPTED |
		FIEMAP_EXTENT_NOT_ALIGNED | FIEMAP_EXTENT_DATA_INLINE |
		FIEMAP_EXTENT_DATA_TAIL | FIEMAP_EXTENT_UNWRITTEN;
	uint32_t n;

	for (int i = 0; i < 2; i++) {
		memset(&m[i].fm, 0, sizeof(m[i].fm));
		m[i].fm.fm_length = FIEMAP_MAX_OFFSET;
		m[i].fm.fm_extent_count = N;
		if (ioctl(i ? b : a, FS_IOC_FIEMAP, &m[i].fm) < 0)
			return 0;
	}
	n = m[0].fm.fm_mapped_extents;
	if (n != m[1].fm.fm_mapped_extents)
		return 0;
	if (n == 0)
		return 1; /* both all holes */
	for (uint32_t k = 0; k < n; k++) {
		const struct fiemap_extent *x = &m[0].fm.fm_extents[k],
					   *y = &m[1].fm.fm_extents[k];
		if (x->fe_logical != y->fe_logical ||
		    x->fe_physical != y->fe_physical ||
		    x->fe_length != y->fe_length ||
		    ((x->fe_flags | y->fe_flags) & bad))
			return 0;
	}
	return (m[0].fm.fm_extents[n - 1].fe_flags &
		m[1].fm.fm_extents[n - 1].fe_flags & FIEMAP_EXTENT_LAST) != 0;
}

/* ---- breaking a pinned hardlink (for the daemon) ------------------------- */

int wfs_pin_fd_is_shared(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	return S_ISREG(st.st_mode) && st.st_nlink > 1;
}

int wfs_pin_is_shared(int dirfd, const char *path)
{
	struct stat st;

	if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return S_ISREG(st.st_mode) && st.st_nlink > 1;
}

static int copy_fd(int in, int out)
{
	char buf[65536];

	if (ioctl(out, FICLONE, in) == 0)
		return 0; /* a reflink is a private copy-on-write copy */
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP &&
		    errno != ENOSYS)
			return -errno;
		break;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		int rc = wfs_write_all(out, buf, (size_t)n);
		if (rc)
			return rc;
	}
}

int wfs_pin_break_link(int dirfd, const char *path)
{
	const char *slash = strrchr(path, '/'),
		   *name = slash ? slash + 1 : path;
	char dir[PATH_MAX], tmp[64];
	struct stat st;
	int pfd = dirfd, in = -1, out = -1, rc;

	if (slash) {
		if ((size_t)(slash - path) >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		pfd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0)
			return -errno;
	}
	in = openat(pfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0) {
		rc = -errno;
		goto out;
	}
	rc = 0;
	if (!S_ISREG(st.st_mode) || st.st_nlink <= 1)
		goto out;
	for (int tries = 0; tries < 100 && out < 0; tries++) {
		snprintf(tmp, sizeof(tmp), WFS_PIN_TMP_PREFIX "%d.b%lx",
			 (int)getpid(), (unsigned long)random());
		out = openat(pfd, tmp,
			     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				     O_CLOEXEC,
			     0600);
		if (out < 0 && errno != EEXIST) {
			rc = -errno;
			goto out;
		}
	}
	if (out < 0) {
		rc = -EEXIST;
		goto out;
	}
	rc = copy_fd(in, out);
	if (!rc && fchown(out, st.st_uid, st.st_gid) < 0 && errno != EPERM)
		rc = -errno;
	if (!rc && fchmod(out, st.st_mode & 07777) < 0)
		rc = -errno;
	if (!rc) {
		struct timespec ts[2] = { st.st_atim, st.st_mtim };
		if (futimens(out, ts) < 0)
			rc = -errno;
	}
	if (!rc && renameat(pfd, tmp, pfd, name) < 0)
		rc = -errno;
	if (rc)
		unlinkat(pfd, tmp, 0);
out:
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	if (pfd != dirfd)
		close(pfd);
	return rc;
}
