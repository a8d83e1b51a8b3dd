/* ll_inode.c — the node table: paths, lookup, lifetime, attributes (see
 * ll_inode.h); the lower layer index is in ll_lower.c, descriptors in
 * ll_fd.c. */
#include "ll_inode.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <xxhash.h>

/* ---- logging ------------------------------------------------------------ */

void wfs_fs_log(struct wfs_fs *fs, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (fs->use_syslog)
		syslog(LOG_ERR, "%s", line);
	if (fs->logfd >= 0) {
		char out[2100];
		int m = snprintf(out, sizeof(out), "wheelfs: %s\n", line);
		if (m > 0)
			(void)wfs_write_all(fs->logfd, out, (size_t)m);
	}
}

/* ---- paths ------------------------------------------------------------- */

uint64_t wfs_path_ino(const char *path, size_t len)
{
	return XXH3_64bits(path, len) | WFS_INO_HASHED;
}

uint64_t wfs_upper_ino(ino_t ino)
{
	uint64_t i = (uint64_t)ino & ~WFS_INO_HASHED;

	return i < 2 ? i + 2 : i;
}

int wfs_upper_shared(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_nlink > 1;
}

int wfs_node_path(const struct wfs_node *n, const char *child, char *buf,
		  size_t len)
{
	const struct wfs_node *chain[PATH_MAX / 2];
	size_t depth = 0, pos = 0;

	for (; n && n->parent; n = n->parent) {
		if (depth == sizeof(chain) / sizeof(chain[0]))
			return -ENAMETOOLONG;
		chain[depth++] = n;
	}
	while (depth--) {
		size_t l = strlen(chain[depth]->name);
		if (pos + l + 2 > len)
			return -ENAMETOOLONG;
		if (pos)
			buf[pos++] = '/';
		memcpy(buf + pos, chain[depth]->name, l);
		pos += l;
	}
	if (child) {
		size_t l = strlen(child);
		if (pos + l + 2 > len)
			return -ENAMETOOLONG;
		if (pos)
			buf[pos++] = '/';
		memcpy(buf + pos, child, l);
		pos += l;
	}
	buf[pos] = '\0';
	return (int)pos;
}

int wfs_node_reserved(struct wfs_fs *fs, struct wfs_node *dir, const char *name)
{
	return (dir == fs->root && !strcmp(name, WFS_STATE_DIR)) ||
	       wfs_upper_hidden_name(name);
}

/* ---- the table ----------------------------------------------------------- */

static uint64_t key(const struct wfs_node *dir, const char *name)
{
	return XXH3_64bits_withSeed(name, strlen(name), (uintptr_t)dir);
}

static int table_grow(struct wfs_fs *fs)
{
	size_t cap = fs->cap ? 2 * fs->cap : 1024;
	struct wfs_node **tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < fs->cap; i++) {
		struct wfs_node *n = fs->tab[i], *next;
		for (; n; n = next) {
			next = n->hnext;
			n->hnext = tab[n->hash & (cap - 1)];
			tab[n->hash & (cap - 1)] = n;
		}
	}
	free(fs->tab);
	fs->tab = tab;
	fs->cap = cap;
	return 0;
}

static int table_add(struct wfs_fs *fs, struct wfs_node *n)
{
	if ((fs->nnodes + 1) * 4 > fs->cap * 3 && table_grow(fs))
		return -ENOMEM;
	n->hash = key(n->parent, n->name);
	n->hnext = fs->tab[n->hash & (fs->cap - 1)];
	fs->tab[n->hash & (fs->cap - 1)] = n;
	fs->nnodes++;
	return 0;
}

static void table_del(struct wfs_fs *fs, struct wfs_node *n)
{
	struct wfs_node **p = &fs->tab[n->hash & (fs->cap - 1)];

	while (*p && *p != n)
		p = &(*p)->hnext;
	if (*p) {
		*p = n->hnext;
		fs->nnodes--;
	}
	n->hnext = NULL;
}

struct wfs_node *wfs_node_find(struct wfs_fs *fs, struct wfs_node *dir,
			       const char *name)
{
	uint64_t h = key(dir, name);

	for (struct wfs_node *n = fs->tab[h & (fs->cap - 1)]; n; n = n->hnext)
		if (n->hash == h && n->parent == dir && !strcmp(n->name, name))
			return n;
	return NULL;
}

void wfs_node_each(struct wfs_fs *fs,
		   void (*fn)(struct wfs_fs *fs, struct wfs_node *n, void *arg),
		   void *arg)
{
	for (size_t i = 0; i < fs->cap; i++) {
		struct wfs_node *n = fs->tab[i], *next;
		for (; n; n = next) {
			next = n->hnext;
			fn(fs, n, arg);
		}
	}
}

/* ---- nodes --------------------------------------------------------------- */

int wfs_node_upper_dir(struct wfs_fs *fs, struct wfs_node *n)
{
	char path[PATH_MAX];
	int rc;

	if (n->detached)
		return -ENOENT;
	rc = wfs_node_path(n, NULL, path, sizeof(path));
	return rc < 0 ? rc : wfs_upper_opendir(fs->upperfd, path);
}

int wfs_node_upper_parent(struct wfs_fs *fs, struct wfs_node *n,
			  const char **name)
{
	if (n->detached || !n->parent)
		return -ENOENT;
	*name = n->name;
	return wfs_node_upper_dir(fs, n->parent);
}

long wfs_node_lower_child(struct wfs_fs *fs, struct wfs_node *dir,
			  const char *name, const char *path)
{
	long k;

	if (dir->lower < 0 || dir->opaque ||
	    !wfs_lower_isdir(fs->lower, (uint32_t)dir->lower))
		return -1;
	k = wfs_lower_kid(fs->lower, (uint32_t)dir->lower, name);
	if (k >= 0 && fs->wo.n && wfs_wo_get(&fs->wo, path) == WFS_WO_WHITEOUT)
		return -1;
	return k;
}

/* A reload's new mtime for a directory shows when it is later than the
 * directory's own, to the nanosecond: an upper change in the same second
 * must not hide it (Python's import caches compare st_mtime_ns). */
static int bumped(const struct wfs_node *n, const struct stat *st)
{
	return n->bump.tv_sec > st->st_mtim.tv_sec ||
	       (n->bump.tv_sec == st->st_mtim.tv_sec &&
		n->bump.tv_nsec > st->st_mtim.tv_nsec);
}

/* Adjust an upper stat to what the mount shows. */
static void fix_upper(struct wfs_fs *fs, struct wfs_node *n, struct stat *st)
{
	st->st_ino = n->ino;
	if (S_ISDIR(st->st_mode) && n->lower >= 0 && !n->opaque &&
	    wfs_lower_isdir(fs->lower, (uint32_t)n->lower))
		st->st_nlink = 1; /* merged: the count is not known */
	if (bumped(n, st))
		st->st_mtim = st->st_ctim = n->bump;
}

int wfs_node_stat(struct wfs_fs *fs, struct wfs_node *n, struct stat *st)
{
	if (n->detached) {
		if (n->fd >= 0 && n->fd_kind != WFS_FD_BLOB) {
			if (fstat(n->fd, st) < 0)
				return -errno;
		} else if (n->frozen) {
			*st = *n->frozen;
		} else {
			return -ENOENT;
		}
		st->st_ino = n->ino;
		return 0;
	}
	if (n->utype) {
		const char *name;
		int rc = 0, pfd;
		if (n == fs->root) {
			rc = fstat(fs->upperfd, st) < 0 ? -errno : 0;
		} else if ((pfd = wfs_node_upper_parent(fs, n, &name)) < 0) {
			rc = pfd;
		} else {
			if (fstatat(pfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
				rc = -errno;
			close(pfd);
		}
		if (!rc) {
			fix_upper(fs, n, st);
			return 0;
		}
		if (rc != -ENOENT && rc != -ENOTDIR)
			return rc;
		n->utype = 0; /* removed behind our back */
	}
	if (n->lower < 0)
		return -ENOENT;
	wfs_lower_stat(fs, (uint32_t)n->lower, st);
	st->st_ino = n->ino;
	if (S_ISDIR(st->st_mode) && bumped(n, st))
		st->st_mtim = st->st_ctim = n->bump;
	return 0;
}

int wfs_node_readlink(struct wfs_fs *fs, struct wfs_node *n, char *buf,
		      size_t len)
{
	if (n->detached) {
		if (!n->link)
			return -EINVAL;
		snprintf(buf, len, "%s", n->link);
		return 0;
	}
	if (n->utype == S_IFLNK) {
		const char *name;
		int pfd = wfs_node_upper_parent(fs, n, &name), rc = 0;
		ssize_t l;
		if (pfd < 0)
			return pfd;
		l = readlinkat(pfd, name, buf, len - 1);
		if (l < 0)
			rc = -errno;
		else
			buf[l] = '\0';
		close(pfd);
		return rc;
	}
	if (!n->utype && n->lower >= 0) {
		const struct wfs_vent *v = &fs->lower->cv.v[n->lower];
		if (v->ent && S_ISLNK(v->ent->mode)) {
			snprintf(buf, len, "%s",
				 wfs_tree_str(&fs->lower->cv.trees[v->dist],
					      v->ent->target_off));
			return 0;
		}
	}
	return -EINVAL;
}

static struct wfs_node *node_new(struct wfs_fs *fs, struct wfs_node *dir,
				 const char *name, uint64_t ino)
{
	struct wfs_node *n = calloc(1, sizeof(*n));

	if (!n || !(n->name = strdup(name))) {
		free(n);
		return NULL;
	}
	n->parent = dir;
	n->ino = ino;
	n->gen = ++fs->gen;
	n->fd = -1;
	n->lower = -1;
	if (table_add(fs, n)) {
		free(n->name);
		free(n);
		return NULL;
	}
	dir->refs++;
	return n;
}

int wfs_node_resolve(struct wfs_fs *fs, struct wfs_node *dir, const char *name,
		     int pfd, struct wfs_node **out, struct stat *st)
{
	struct wfs_node *n = wfs_node_find(fs, dir, name);
	char path[PATH_MAX];
	struct stat ust;
	mode_t utype = 0;
	long lower;
	int plen;

	*out = NULL;
	if (n) {
		*out = n;
		return st ? wfs_node_stat(fs, n, st) : 0;
	}
	if (dir->detached || wfs_node_reserved(fs, dir, name))
		return -ENOENT;
	plen = wfs_node_path(dir, name, path, sizeof(path));
	if (plen < 0)
		return plen;
	if (dir->utype == S_IFDIR) {
		int fd = pfd >= 0 ? pfd : wfs_node_upper_dir(fs, dir);
		if (fd >= 0) {
			if (fstatat(fd, name, &ust, AT_SYMLINK_NOFOLLOW) == 0)
				utype = ust.st_mode & S_IFMT;
			if (fd != pfd)
				close(fd);
		}
	}
	lower = wfs_node_lower_child(fs, dir, name, path);
	if (!utype && lower < 0)
		return -ENOENT;
	n = node_new(fs, dir, name,
		     utype && !wfs_upper_shared(&ust)
			     ? wfs_upper_ino(ust.st_ino)
			     : wfs_path_ino(path, (size_t)plen));
	if (!n)
		return -ENOMEM;
	n->utype = utype;
	n->lower = lower;
	n->opaque = fs->wo.n && wfs_wo_get(&fs->wo, path) == WFS_WO_OPAQUE;
	*out = n;
	if (!st)
		return 0;
	if (utype) {
		*st = ust;
		fix_upper(fs, n, st);
		return 0;
	}
	wfs_lower_stat(fs, (uint32_t)lower, st);
	st->st_ino = n->ino;
	return 0;
}

static void node_free(struct wfs_fs *fs, struct wfs_node *n)
{
	wfs_node_closefd(fs, n);
	wfs_dirsnap_free(n->snap);
	free(n->frozen);
	free(n->link);
	free(n->name);
	free(n);
}

void wfs_node_put(struct wfs_fs *fs, struct wfs_node *n)
{
	while (n && n != fs->root && !n->nlookup && !n->refs && !n->pins) {
		struct wfs_node *p = n->parent;
		table_del(fs, n);
		node_free(fs, n);
		if (!p)
			break;
		p->refs--;
		n = p;
	}
}

void wfs_node_forget(struct wfs_fs *fs, struct wfs_node *n, uint64_t count)
{
	if (n == fs->root)
		return;
	n->nlookup = count > n->nlookup ? 0 : n->nlookup - count;
	wfs_node_put(fs, n);
}

static void detach_children(struct wfs_fs *fs, struct wfs_node *dir)
{
	for (size_t i = 0; dir->refs && i < fs->cap; i++) {
		struct wfs_node *n = fs->tab[i], *next;
		for (; n; n = next) {
			next = n->hnext;
			if (n->parent == dir && !n->detached) {
				wfs_node_detach(fs, n);
				/* the table changed: rescan this bucket */
				next = fs->tab[i];
			}
		}
	}
}

void wfs_node_detach(struct wfs_fs *fs, struct wfs_node *n)
{
	struct wfs_node *p = n->parent;

	if (n->detached || n == fs->root)
		return;
	/* Pinned meanwhile: detaching its last child must not free it. */
	n->pins++;
	if (n->refs)
		detach_children(fs, n);
	if (n->nlookup) {
		/* The kernel may have it open: keep its content reachable. */
		struct stat st = { 0 };
		char lk[PATH_MAX + 1];
		int fd;
		if (n->utype == S_IFREG ||
		    (!n->utype && n->lower >= 0 &&
		     !wfs_lower_isdir(fs->lower, (uint32_t)n->lower))) {
			fd = wfs_node_dupfd(fs, n, 0);
			if (fd >= 0)
				close(fd);
		}
		if (wfs_node_stat(fs, n, &st) == 0 &&
		    (n->frozen = malloc(sizeof(st))))
			*n->frozen = st;
		/* A replaced symlink still reads as it was, as on a native
		 * filesystem: the kernel may still resolve its old name to
		 * this node (a reload tells it after the fact). */
		if (S_ISLNK(st.st_mode) &&
		    wfs_node_readlink(fs, n, lk, sizeof(lk)) == 0)
			n->link = strdup(lk);
		wfs_node_keepfd(fs, n); /* the fd stays until the node goes */
	} else {
		wfs_node_closefd(fs, n);
	}
	/* Detached nodes stay in the table under no parent, so that
	 * wfs_fs_destroy finds every node. */
	table_del(fs, n);
	n->detached = 1;
	n->parent = NULL;
	n->lower = -1;
	if (table_add(fs, n)) {
		/* cannot fail: it was in the table a moment ago */
	}
	n->pins--;
	if (p) {
		p->refs--;
		wfs_node_put(fs, n);
		wfs_node_put(fs, p);
	} else {
		wfs_node_put(fs, n);
	}
}

int wfs_node_move(struct wfs_fs *fs, struct wfs_node *n, struct wfs_node *dir,
		  const char *name)
{
	struct wfs_node *old = n->parent;
	char *nm = strdup(name);

	if (!nm)
		return -ENOMEM;
	table_del(fs, n);
	free(n->name);
	n->name = nm;
	n->parent = dir;
	dir->refs++;
	if (table_add(fs, n)) {
		/* Cannot happen: the table had room for it a moment ago. */
		dir->refs--;
		n->parent = old;
		return -ENOMEM;
	}
	old->refs--;
	wfs_node_put(fs, old);
	return 0;
}

void wfs_node_dir_changed(struct wfs_fs *fs, struct wfs_node *dir)
{
	dir->dver = ++fs->dver;
}

/* ---- the filesystem -------------------------------------------------------- */

int wfs_fs_init(struct wfs_fs *fs, int upperfd, const char *target,
		struct wfs_cache *cache, struct wfs_lower *lower,
		struct wfs_err *err)
{
	struct stat st;
	int rc;

	memset(fs, 0, sizeof(*fs));
	fs->upperfd = upperfd;
	fs->lower = lower;
	fs->cache = cache;
	fs->logfd = -1;
	fs->maxfds = 1024;
	fs->timeout = 86400;
	fs->readdirplus = 2;
	pthread_mutex_init(&fs->mu, NULL);
	fs->target = strdup(target);
	fs->root = calloc(1, sizeof(*fs->root));
	if (!fs->target || !fs->root || table_grow(fs) ||
	    !(fs->root->name = strdup(""))) {
		rc = -ENOMEM;
		goto fail;
	}
	if (fstat(upperfd, &st) < 0) {
		rc = wfs_errf(err, -errno, "%s: %s", target, strerror(errno));
		goto fail;
	}
	fs->uid = st.st_uid;
	fs->gid = st.st_gid;
	fs->privileged = geteuid() == 0;
	fs->root->ino = FUSE_ROOT_ID;
	fs->root->nlookup = 1;
	fs->root->fd = -1;
	fs->root->lower = 0;
	fs->root->utype = S_IFDIR;
	rc = wfs_wo_load(&fs->wo, upperfd, 0);
	if (rc) {
		rc = wfs_errf(err, rc, "%s/%s: %s", target, WFS_WHITEOUTS_FILE,
			      strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	fs->upperfd = -1; /* stays the caller's on failure */
	fs->lower = NULL;
	wfs_fs_destroy(fs);
	return rc;
}

static void free_any(struct wfs_fs *fs, struct wfs_node *n, void *arg)
{
	(void)arg;
	table_del(fs, n);
	node_free(fs, n);
}

void wfs_fs_destroy(struct wfs_fs *fs)
{
	if (fs->tab)
		wfs_node_each(fs, free_any, NULL);
	free(fs->tab);
	if (fs->root) {
		free(fs->root->name);
		wfs_dirsnap_free(fs->root->snap);
		free(fs->root);
	}
	wfs_wo_free(&fs->wo);
	wfs_lower_free(fs->lower);
	if (fs->upperfd >= 0)
		close(fs->upperfd);
	free(fs->target);
	pthread_mutex_destroy(&fs->mu);
	memset(fs, 0, sizeof(*fs));
	fs->upperfd = -1;
}
