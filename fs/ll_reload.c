/* ll_reload.c — live reload of the view (RELOAD on the control socket).
 *
 * The new lower layer is composed without the lock.  Under fs->mu every
 * node the kernel knows is revalidated, parents first: its new lower entry
 * (through its parent's), its upper entry (re-stat: commands may have
 * written through DIRFD), its opaque mark.  A node whose path is gone or
 * changed type is detached (open files keep working) and its name
 * invalidated; a node whose content or attributes changed keeps its node
 * id and has its inode invalidated.  Then the old and new lower layers are
 * merged by path to find names added or removed under directories the
 * kernel knows (positive and negative dentries alike); those directories
 * get a fresh mtime, so Python's import caches notice.  Node ids of
 * unchanged paths do not change.  The kernel is told after the lock is
 * released, from the control thread, never from a request handler.
 */
#include "ll.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct upd {
	struct wfs_node *n;
	unsigned depth;
	int64_t lower;
	mode_t utype;
	int opaque, gone, changed;
};

struct note {
	struct wfs_node *n; /* pinned until told: its id is not reused */
	fuse_ino_t ino;
	char *name; /* NULL: invalidate the inode */
};

struct notes {
	struct note *v;
	size_t n, cap;
};

/* Under fs->mu. */
static void note(struct wfs_fs *fs, struct notes *ns, struct wfs_node *n,
		 const char *name)
{
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 64;
		struct note *v = realloc(ns->v, cap * sizeof(*v));
		if (!v)
			return; /* the kernel's cache expires eventually */
		ns->v = v;
		ns->cap = cap;
	}
	ns->v[ns->n].n = n;
	ns->v[ns->n].ino = wfs_node_id(fs, n);
	ns->v[ns->n].name = name ? strdup(name) : NULL;
	if (name && !ns->v[ns->n].name)
		return;
	n->pins++;
	ns->n++;
}

/* Without fs->mu: the kernel may call back (FORGET) meanwhile.  A node
 * stays pinned until its notes are sent, or a node made meanwhile at its
 * address would take them (and the kernel answer ENOTDIR, logged). */
static void send_notes(struct wfs_fs *fs, struct notes *ns)
{
	for (size_t i = 0; i < ns->n; i++) {
		struct note *t = &ns->v[i];
		if (fs->inited && fs->se) {
			if (t->name)
				fuse_lowlevel_notify_inval_entry(
					fs->se, t->ino, t->name,
					strlen(t->name));
			else
				fuse_lowlevel_notify_inval_inode(fs->se, t->ino,
								 0, 0);
		}
		free(t->name);
	}
	pthread_mutex_lock(&fs->mu);
	for (size_t i = 0; i < ns->n; i++) {
		ns->v[i].n->pins--;
		wfs_node_put(fs, ns->v[i].n);
	}
	pthread_mutex_unlock(&fs->mu);
	free(ns->v);
	memset(ns, 0, sizeof(*ns));
}

static mode_t lower_type(const struct wfs_lower *l, int64_t i)
{
	const struct wfs_tree_ent *e;

	if (i < 0)
		return 0;
	e = l->cv.v[i].ent;
	return e ? e->mode & S_IFMT : S_IFDIR;
}

struct collect {
	struct upd *v;
	size_t n, cap;
	int oom;
};

static void collect(struct wfs_fs *fs, struct wfs_node *n, void *arg)
{
	struct collect *c = arg;

	(void)fs;
	if (n->detached || c->oom)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		struct upd *v = realloc(c->v, cap * sizeof(*v));
		if (!v) {
			c->oom = 1;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	memset(&c->v[c->n], 0, sizeof(c->v[0]));
	c->v[c->n].n = n;
	for (struct wfs_node *p = n->parent; p; p = p->parent)
		c->v[c->n].depth++;
	n->pins++;
	c->n++;
}

static int by_depth(const void *a, const void *b)
{
	const struct upd *x = a, *y = b;

	return x->depth < y->depth ? -1 : x->depth > y->depth;
}

/* New state of u->n from its parent's (already computed) new state. */
static void revalidate(struct wfs_fs *fs, struct wfs_lower *nl, struct upd *v,
		       struct upd *u)
{
	struct wfs_node *n = u->n;
	const struct upd *pu = &v[n->parent->stamp];
	char path[PATH_MAX];
	struct stat st;
	mode_t before, after;

	if (pu->gone || wfs_node_path(n, NULL, path, sizeof(path)) < 0) {
		u->gone = 1;
		return;
	}
	u->lower = -1;
	if (pu->lower >= 0 && !pu->opaque &&
	    wfs_lower_isdir(nl, (uint32_t)pu->lower)) {
		u->lower = wfs_lower_kid(nl, (uint32_t)pu->lower, n->name);
		if (u->lower >= 0 && fs->wo.n &&
		    wfs_wo_get(&fs->wo, path) == WFS_WO_WHITEOUT)
			u->lower = -1;
	}
	u->opaque = fs->wo.n && wfs_wo_get(&fs->wo, path) == WFS_WO_OPAQUE;
	u->utype = 0;
	if (pu->utype == S_IFDIR &&
	    fstatat(fs->upperfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
		u->utype = st.st_mode & S_IFMT;
	before = n->utype ? n->utype : lower_type(fs->lower, n->lower);
	after = u->utype ? u->utype : lower_type(nl, u->lower);
	if (!after || before != after) {
		u->gone = 1;
	} else if (!S_ISDIR(after) && !u->utype &&
		   (n->utype || !wfs_lower_same(fs->lower, (uint32_t)n->lower,
						nl, (uint32_t)u->lower))) {
		/* Another file under the name: a new node for new lookups,
		 * while open files and mappings (an imported extension)
		 * keep the old content, as when pip replaces a file. */
		u->gone = 1;
	} else if (u->utype != n->utype || u->utype == S_IFDIR ||
		   (!u->utype && !wfs_lower_same(fs->lower, (uint32_t)n->lower,
						 nl, (uint32_t)u->lower))) {
		/* Upper directories: their listing may have changed (entries
		 * written through DIRFD); drop their caches too.  Changed
		 * upper files are the writer's to report (INVAL). */
		u->changed = 1;
	}
}

/* The attached node of a directory path, or NULL. */
static struct wfs_node *find_path(struct wfs_fs *fs, const char *path,
				  size_t len)
{
	struct wfs_node *n = fs->root;
	char comp[NAME_MAX + 1];

	while (n && len) {
		const char *slash = memchr(path, '/', len);
		size_t l = slash ? (size_t)(slash - path) : len;
		if (l > NAME_MAX)
			return NULL;
		memcpy(comp, path, l);
		comp[l] = '\0';
		n = wfs_node_find(fs, n, comp);
		path += l + (slash ? 1 : 0);
		len -= l + (slash ? 1 : 0);
	}
	return n;
}

/* A name added or removed in the lower layer: tell its directory. */
static void membership(struct wfs_fs *fs, const char *path, char *last,
		       struct notes *ns, const struct timespec *now)
{
	size_t ll = strlen(last);
	const char *slash;
	struct wfs_node *dir;

	if (ll && !strncmp(path, last, ll) && path[ll] == '/')
		return; /* below a name already handled */
	snprintf(last, PATH_MAX, "%s", path);
	slash = strrchr(path, '/');
	dir = find_path(fs, path, slash ? (size_t)(slash - path) : 0);
	if (!dir || dir->detached)
		return;
	note(fs, ns, dir, slash ? slash + 1 : path);
	note(fs, ns, dir, NULL);
	dir->bump = *now;
	wfs_node_dir_changed(fs, dir);
}

static void diff_lower(struct wfs_fs *fs, const struct wfs_lower *a,
		       const struct wfs_lower *b, struct notes *ns)
{
	size_t na = a->view.pinned ? 1 : a->cv.n;
	size_t nb = b->view.pinned ? 1 : b->cv.n;
	size_t i = 1, j = 1;
	char last[PATH_MAX] = "";
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	while (i < na || j < nb) {
		int c = i >= na	  ? 1
			: j >= nb ? -1
				  : strcmp(a->cv.v[i].path, b->cv.v[j].path);
		if (c < 0)
			membership(fs, a->cv.v[i++].path, last, ns, &now);
		else if (c > 0)
			membership(fs, b->cv.v[j++].path, last, ns, &now);
		else
			i++, j++;
	}
}

/* Whiteout records, to find the ones a command added or dropped. */
struct wo_snap {
	char **path;
	int *type;
	size_t n, cap;
	int oom;
};

static int snap_one(const char *path, int type, void *arg)
{
	struct wo_snap *s = arg;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		char **p = realloc(s->path, cap * sizeof(*p));
		int *t = p ? realloc(s->type, cap * sizeof(*t)) : NULL;
		if (p)
			s->path = p;
		if (!p || !t) {
			s->oom = 1;
			return 1;
		}
		s->type = t;
		s->cap = cap;
	}
	if (!(s->path[s->n] = strdup(path))) {
		s->oom = 1;
		return 1;
	}
	s->type[s->n++] = type;
	return 0;
}

static void snap_free(struct wo_snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->path[i]);
	free(s->path);
	free(s->type);
}

/* A whiteout or opaque mark that appeared or went changes what its
 * directory lists, though the lower layer may be the same: tell the
 * directory, as for a lower name added or removed. */
static void diff_whiteouts(struct wfs_fs *fs, const struct wo_snap *old,
			   struct notes *ns)
{
	struct wo_snap now = { 0 };
	struct timespec ts;
	char last[PATH_MAX];

	clock_gettime(CLOCK_REALTIME, &ts);
	for (size_t i = 0; i < old->n; i++)
		if (wfs_wo_get(&fs->wo, old->path[i]) != old->type[i]) {
			last[0] = '\0';
			membership(fs, old->path[i], last, ns, &ts);
		}
	wfs_wo_each(&fs->wo, snap_one, &now);
	for (size_t i = 0; i < now.n; i++) {
		int had = WFS_WO_NONE;
		for (size_t j = 0; j < old->n && had == WFS_WO_NONE; j++)
			if (!strcmp(old->path[j], now.path[i]))
				had = old->type[j];
		if (had != now.type[i]) {
			last[0] = '\0';
			membership(fs, now.path[i], last, ns, &ts);
		}
	}
	snap_free(&now);
}

int wfs_fs_reload(struct wfs_fs *fs, struct wfs_err *err)
{
	struct wo_snap wold = { 0 };
	struct wfs_lower *nl, *old;
	struct collect c = { 0 };
	struct notes ns = { 0 };
	int rc;

	rc = wfs_lower_load(fs->upperfd, fs->target, fs->cache, &nl, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&fs->mu);
	wfs_wo_each(&fs->wo, snap_one, &wold);
	rc = wfs_wo_reload(&fs->wo);
	if (rc) {
		pthread_mutex_unlock(&fs->mu);
		snap_free(&wold);
		wfs_lower_free(nl);
		return wfs_errf(err, rc, "%s/%s: %s", fs->target,
				WFS_WHITEOUTS_FILE, strerror(-rc));
	}
	old = fs->lower;
	collect(fs, fs->root, &c);
	wfs_node_each(fs, collect, &c);
	if (c.oom) {
		rc = wfs_errf(err, -ENOMEM, "out of memory");
		goto unpin;
	}
	qsort(c.v, c.n, sizeof(*c.v), by_depth);
	for (size_t i = 0; i < c.n; i++) {
		struct upd *u = &c.v[i];
		u->n->stamp = i;
		if (u->n == fs->root) {
			u->lower = 0;
			u->utype = S_IFDIR;
			note(fs, &ns, fs->root, NULL);
			continue;
		}
		revalidate(fs, nl, c.v, u);
		if (u->gone)
			note(fs, &ns, u->n->parent, u->n->name);
		else if (u->changed)
			note(fs, &ns, u->n, NULL);
	}
	/* Deepest first, while the node still describes the old layer. */
	for (size_t i = c.n; i-- > 0;)
		if (c.v[i].gone) {
			wfs_node_dir_changed(fs, c.v[i].n->parent);
			wfs_node_detach(fs, c.v[i].n);
		}
	fs->lower = nl;
	for (size_t i = 0; i < c.n; i++) {
		struct upd *u = &c.v[i];
		if (u->gone)
			continue;
		if (u->changed &&
		    !S_ISDIR(u->utype ? u->utype : lower_type(nl, u->lower))) {
			wfs_node_closefd(fs, u->n);
			u->n->eio = 0;
		}
		u->n->lower = u->lower;
		u->n->utype = u->utype;
		u->n->priv = 0; /* pin may have linked it to a blob */
		u->n->opaque = (unsigned)u->opaque;
		wfs_node_dir_changed(fs, u->n);
	}
	diff_lower(fs, old, nl, &ns);
	if (!wold.oom)
		diff_whiteouts(fs, &wold, &ns);
	nl = NULL;
unpin:
	for (size_t i = 0; i < c.n; i++) {
		c.v[i].n->pins--;
		wfs_node_put(fs, c.v[i].n);
	}
	free(c.v);
	pthread_mutex_unlock(&fs->mu);
	snap_free(&wold);
	send_notes(fs, &ns);
	if (!rc)
		wfs_lower_free(old);
	wfs_lower_free(nl);
	return rc;
}

int wfs_fs_inval_path(struct wfs_fs *fs, const char *path)
{
	struct notes ns = { 0 };
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	struct wfs_node *dir, *n;

	if (!*name)
		return -EINVAL;
	pthread_mutex_lock(&fs->mu);
	dir = find_path(fs, path, slash ? (size_t)(slash - path) : 0);
	if (dir && !dir->detached) {
		dir->pins++; /* detaching its last child must not free it */
		n = wfs_node_find(fs, dir, name);
		if (n)
			wfs_node_detach(fs, n);
		note(fs, &ns, dir, name);
		note(fs, &ns, dir, NULL);
		wfs_node_dir_changed(fs, dir);
		dir->pins--;
		wfs_node_put(fs, dir);
	}
	pthread_mutex_unlock(&fs->mu);
	send_notes(fs, &ns);
	return 0;
}
