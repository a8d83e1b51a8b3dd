/* ll_dir.c — directory listings: upper + lower − whiteouts − .wheelfs.
 *
 * With no-opendir there is no per-stream handle, so a listing is a
 * snapshot kept on the directory's node: built when a stream starts
 * (offset 0) or when the directory changed.  The kernel caches listings
 * (cache_readdir), so a directory is normally listed once per change.
 *
 * An entry's d_off is a cookie made from its name alone, as ext4's hashed
 * directories do: "." is 1, ".." is 2, a name is 3 + the top 62 bits of
 * its XXH3 hash, and a listing runs in cookie order.  So a stream that
 * goes on after the directory changed (a program that deletes entries as
 * it reads them) resumes where it was: every entry neither added nor
 * removed meanwhile is returned exactly once, as POSIX asks.  Names that
 * share a cookie go out in one reply.
 */
#include "ll.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define LOCK(fs) pthread_mutex_lock(&(fs)->mu)
#define UNLOCK(fs) pthread_mutex_unlock(&(fs)->mu)

struct snapent {
	uint64_t off;  /* the cookie: this entry's d_off */
	uint64_t ino;  /* upper entries: their inode number; else 0 (lower
			* entries and files shared with a blob: path hash) */
	uint32_t name; /* offset into names */
	uint8_t type;  /* DT_* */
};

struct wfs_dirsnap {
	uint64_t dver;
	size_t n, cap;
	struct snapent *e;
	struct wfs_buf names;
};

void wfs_dirsnap_free(struct wfs_dirsnap *s)
{
	if (!s)
		return;
	free(s->e);
	wfs_buf_free(&s->names);
	free(s);
}

static int snap_add(struct wfs_dirsnap *s, const char *name, uint8_t type,
		    uint64_t ino)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct snapent *e = realloc(s->e, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		s->e = e;
		s->cap = cap;
	}
	s->e[s->n].off = !strcmp(name, ".") ? 1
			 : !strcmp(name, "..")
				 ? 2
				 : 3 + (XXH3_64bits(name, strlen(name)) >> 2);
	s->e[s->n].name = (uint32_t)s->names.len;
	s->e[s->n].type = type;
	s->e[s->n].ino = ino;
	s->n++;
	return wfs_buf_append(&s->names, name, strlen(name) + 1);
}

static uint8_t dtype_of(const struct wfs_tree_ent *e)
{
	if (!e || S_ISDIR(e->mode))
		return DT_DIR;
	return S_ISLNK(e->mode) ? DT_LNK : DT_REG;
}

/* A small set of upper names, to drop the lower names they shadow. */
struct nameset {
	uint64_t *h;
	size_t cap;
};

static int set_add(struct nameset *s, const char *name, size_t n)
{
	uint64_t h = XXH3_64bits(name, strlen(name)) | 1;

	if (!s->h) {
		s->cap = 64;
		while (s->cap < 2 * n + 2)
			s->cap *= 2;
		if (!(s->h = calloc(s->cap, sizeof(*s->h))))
			return -ENOMEM;
	}
	for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1))
		if (!s->h[i] || s->h[i] == h) {
			s->h[i] = h;
			return 0;
		}
}

/* May say yes for a lower name that merely collides: checked exactly. */
static int set_has(const struct nameset *s, const char *name)
{
	uint64_t h;

	if (!s->h)
		return 0;
	h = XXH3_64bits(name, strlen(name)) | 1;
	for (size_t i = h & (s->cap - 1); s->h[i]; i = (i + 1) & (s->cap - 1))
		if (s->h[i] == h)
			return 1;
	return 0;
}

/* Read n's upper directory into s (hidden names left out). */
static int read_upper(struct wfs_fs *fs, struct wfs_node *n,
		      struct wfs_dirsnap *s, size_t *first, size_t *count)
{
	struct dirent *d;
	DIR *dir;
	int rc, pfd;

	*first = s->n;
	*count = 0;
	pfd = n == fs->root ? fcntl(fs->upperfd, F_DUPFD_CLOEXEC, 0)
			    : wfs_node_upper_dir(fs, n);
	if (pfd < 0)
		return pfd == -1 ? -errno : pfd;
	rc = wfs_opendirat(pfd, ".", 0, &dir);
	close(pfd);
	if (rc)
		return rc;
	while ((d = readdir(dir))) {
		uint8_t type = d->d_type;
		uint64_t ino = wfs_upper_ino(d->d_ino);
		struct stat st;
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..") ||
		    wfs_node_reserved(fs, n, d->d_name))
			continue;
		/* A file linked to a blob shows its path's hash, as a lookup
		 * gives it (wfs_upper_shared): only stat tells. */
		if ((type == DT_REG || type == DT_UNKNOWN) &&
		    fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
			    0) {
			type = (uint8_t)IFTODT(st.st_mode);
			if (wfs_upper_shared(&st))
				ino = 0;
		}
		rc = snap_add(s, d->d_name, type, ino);
		if (rc) {
			closedir(dir);
			return rc;
		}
		(*count)++;
	}
	closedir(dir);
	return 0;
}

static int lower_listed(struct wfs_fs *fs, struct wfs_node *n)
{
	return n->lower >= 0 && !n->opaque &&
	       wfs_lower_isdir(fs->lower, (uint32_t)n->lower);
}

static int by_cookie(const void *a, const void *b)
{
	const struct snapent *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static int snap_build(struct wfs_fs *fs, struct wfs_node *n,
		      struct wfs_dirsnap **out)
{
	struct wfs_dirsnap *s = calloc(1, sizeof(*s));
	struct nameset set = { 0 };
	char path[PATH_MAX];
	size_t first = 0, count = 0, plen = 0;
	int rc;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->dver = n->dver;
	rc = snap_add(s, ".", DT_DIR, 0);
	if (!rc)
		rc = snap_add(s, "..", DT_DIR, 0);
	if (!rc && n->utype == S_IFDIR)
		rc = read_upper(fs, n, s, &first, &count);
	for (size_t i = 0; !rc && i < count; i++)
		rc = set_add(&set, s->names.data + s->e[first + i].name, count);
	if (!rc && lower_listed(fs, n)) {
		const struct wfs_lower *l = fs->lower;
		int wo = fs->wo.n > 0;
		if (wo) {
			rc = wfs_node_path(n, NULL, path, sizeof(path));
			plen = rc < 0 ? 0 : (size_t)rc;
			rc = rc < 0 ? rc : 0;
		}
		for (uint32_t k = l->kid_off[n->lower];
		     !rc && k < l->kid_off[n->lower + 1]; k++) {
			const struct wfs_vent *v = &l->cv.v[l->kids[k]];
			if (set_has(&set, v->name)) {
				int dup = 0;
				for (size_t i = 0; !dup && i < count; i++)
					dup = !strcmp(
						s->names.data +
							s->e[first + i].name,
						v->name);
				if (dup)
					continue;
			}
			if (wo) {
				char cp[PATH_MAX];
				int m = snprintf(cp, sizeof(cp), "%.*s%s%s",
						 (int)plen, path,
						 plen ? "/" : "", v->name);
				if (m < 0 || (size_t)m >= sizeof(cp) ||
				    wfs_wo_get(&fs->wo, cp) == WFS_WO_WHITEOUT)
					continue;
			}
			rc = snap_add(s, v->name, dtype_of(v->ent), 0);
		}
	}
	free(set.h);
	if (rc) {
		wfs_dirsnap_free(s);
		return rc;
	}
	qsort(s->e, s->n, sizeof(*s->e), by_cookie);
	*out = s;
	return 0;
}

/* The index of the first entry of s whose cookie is above off. */
static size_t snap_seek(const struct wfs_dirsnap *s, uint64_t off)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->e[mid].off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int wfs_dir_empty(struct wfs_fs *fs, struct wfs_node *n)
{
	struct wfs_dirsnap *s;
	int rc;

	/* Correct but not cheap; rmdir and rename over a directory only. */
	rc = snap_build(fs, n, &s);
	if (rc)
		return rc;
	wfs_dirsnap_free(n->snap);
	n->snap = s;
	return s->n <= 2;
}

/* The d_ino of entry name: its node's when it has one, else what a node
 * made for it would get. */
static uint64_t entry_ino(struct wfs_fs *fs, struct wfs_node *dir,
			  const char *name, uint64_t upper_ino)
{
	struct wfs_node *c;
	char path[PATH_MAX];
	int len;

	if (!strcmp(name, "."))
		return dir->ino;
	if (!strcmp(name, ".."))
		return dir->parent ? dir->parent->ino : dir->ino;
	c = wfs_node_find(fs, dir, name);
	if (c)
		return c->ino;
	if (upper_ino)
		return upper_ino;
	len = wfs_node_path(dir, name, path, sizeof(path));
	return len < 0 ? 2 : wfs_path_ino(path, (size_t)len);
}

/* The room an entry named name takes in a READDIR(PLUS) reply. */
static size_t entry_size(fuse_req_t req, int plus, const char *name)
{
	struct fuse_entry_param e = { 0 };

	return plus ? fuse_add_direntry_plus(req, NULL, 0, name, &e, 0)
		    : fuse_add_direntry(req, NULL, 0, name, &e.attr, 0);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       int plus)
{
	struct wfs_fs *fs = wfs_req_fs(req);
	struct wfs_node *n;
	char *buf = malloc(size ? size : 1);
	size_t pos = 0;
	int rc = 0, pfd = -1;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	LOCK(fs);
	n = wfs_node_of(fs, ino);
	if (n->detached) {
		rc = -ENOENT;
	} else if (!n->snap || off == 0 || n->snap->dver != n->dver) {
		struct wfs_dirsnap *s;
		rc = snap_build(fs, n, &s);
		if (!rc) {
			wfs_dirsnap_free(n->snap);
			n->snap = s;
		}
	}
	if (!rc && plus && n->utype == S_IFDIR)
		pfd = n == fs->root ? -1 : wfs_node_upper_dir(fs, n);
	for (size_t i = n->snap ? snap_seek(n->snap, (uint64_t)off) : 0,
		    end = i;
	     !rc && n->snap && i < n->snap->n; i++) {
		const struct snapent *se = &n->snap->e[i];
		const char *name = n->snap->names.data + se->name;
		struct fuse_entry_param e;
		struct wfs_node *c = NULL;
		size_t len;

		if (i == end) {
			/* The next group of entries sharing a cookie (one
			 * but for a hash collision): all of it, or none. */
			size_t need = 0;
			for (;
			     end < n->snap->n && n->snap->e[end].off == se->off;
			     end++)
				need += entry_size(
					req, plus,
					n->snap->names.data +
						n->snap->e[end].name);
			if (need > size - pos)
				break;
		}
		memset(&e, 0, sizeof(e));
		e.attr.st_mode = (mode_t)se->type << 12;
		if (!plus || se->off <= 2) {
			e.attr.st_ino = entry_ino(fs, n, name, se->ino);
		} else {
			struct stat st;
			int r = wfs_node_resolve(
				fs, n, name, n == fs->root ? fs->upperfd : pfd,
				&c, &st);
			if (r == -ENOENT)
				continue; /* gone since the snapshot */
			if (r) {
				if (c)
					wfs_node_put(fs, c);
				rc = r;
				break;
			}
			wfs_ll_fill_entry(fs, c, &st, &e);
		}
		if (plus)
			len = fuse_add_direntry_plus(req, buf + pos, size - pos,
						     name, &e, (off_t)se->off);
		else
			len = fuse_add_direntry(req, buf + pos, size - pos,
						name, &e.attr, (off_t)se->off);
		pos += len; /* it fits: the group was measured */
	}
	if (pfd >= 0)
		close(pfd);
	UNLOCK(fs);
	if (rc && !pos)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, buf, pos);
	free(buf);
}

void wfs_ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, 0);
}

void wfs_ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, 1);
}
