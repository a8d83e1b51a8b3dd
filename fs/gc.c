/* gc.c — verify and gc over the cache's blobs, trees and registered views. */
#include "gc.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "daemon.h"
#include "tree.h"
#include "view.h"

static void say(wfs_report_fn report, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(wfs_report_fn report, void *arg, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!report)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	report(line, arg);
}

/* Call fn for every blob in blobs/xx/, and bad_dir for every blobs/xx
 * that cannot be opened (its errno); either may stop the walk. */
static int each_blob(struct wfs_cache *c,
		     int (*fn)(struct wfs_cache *c, int dirfd, const char *name,
			       const struct wfs_digest *d, void *arg),
		     int (*bad_dir)(struct wfs_cache *c, const char *name,
				    int rc, void *arg),
		     void *arg)
{
	DIR *top;
	struct dirent *de;
	int rc = wfs_opendirat(c->blobsfd, ".", 0, &top);

	if (rc)
		return rc;
	while (!rc && (de = readdir(top))) {
		DIR *sub;
		struct dirent *be;
		if (strlen(de->d_name) != 2 || de->d_name[0] == '.')
			continue;
		int orc = wfs_opendirat(c->blobsfd, de->d_name, 0, &sub);
		if (orc) {
			rc = bad_dir(c, de->d_name, orc, arg);
			continue;
		}
		while (!rc && (be = readdir(sub))) {
			struct wfs_digest d;
			if (be->d_name[0] == '.')
				continue;
			if (wfs_digest_parse(be->d_name, &d) ||
			    strncmp(be->d_name, de->d_name, 2))
				continue;
			rc = fn(c, dirfd(sub), be->d_name, &d, arg);
		}
		closedir(sub);
	}
	closedir(top);
	return rc;
}

/* ---- verify ------------------------------------------------------------ */

struct vctx {
	int repair;
	wfs_report_fn report;
	void *arg;
	struct wfs_verify_stats *st;
};

static int verify_blob(struct wfs_cache *c, int dirfd, const char *name,
		       const struct wfs_digest *d, void *arg)
{
	struct vctx *v = arg;
	int rc = wfs_cache_verify_blob(c, d);

	(void)dirfd;
	v->st->blobs++;
	if (rc == 0)
		return 0;
	v->st->bad_blobs++;
	/* Only a blob known to be wrong is removed: one that could not be
	 * read (EIO, EMFILE...) may be fine, and views may need it. */
	say(v->report, v->arg, "%s/blobs/%.2s/%s: %s%s", c->path, name, name,
	    rc == -EBADMSG ? "content does not match its name" : strerror(-rc),
	    !v->repair	     ? ""
	    : rc == -EBADMSG ? " (removed; add its wheel again)"
			     : " (not removed: it could not be checked)");
	if (v->repair && rc == -EBADMSG)
		unlinkat(dirfd, name, 0);
	return 0;
}

static int verify_bad_dir(struct wfs_cache *c, const char *name, int rc,
			  void *arg)
{
	struct vctx *v = arg;

	v->st->bad_dirs++;
	say(v->report, v->arg, "%s/blobs/%s: cannot open: %s", c->path, name,
	    strerror(-rc));
	return 0;
}

struct tctx {
	struct wfs_cache *c;
	struct vctx *v;
};

static int check_tree(const struct wfs_digest *id, void *arg)
{
	struct tctx *t = arg;
	struct wfs_err err = { { 0 } };
	struct wfs_tree tr;
	char hex[WFS_DIGEST_HEX + 1];
	int rc;

	t->v->st->trees++;
	rc = wfs_tree_load(t->c, id, &tr, &err);
	if (rc) {
		t->v->st->bad_trees++;
		say(t->v->report, t->v->arg, "%s%s", err.msg,
		    rc == -EBADMSG ? " (add its wheel again)" : "");
		return 0;
	}
	wfs_digest_hex(id, hex);
	for (uint32_t i = 0; i < tr.hdr->n_entries; i++) {
		const struct wfs_tree_ent *e = &tr.ents[i];
		if (!S_ISREG(e->mode))
			continue;
		if (wfs_cache_has_blob(t->c, (const void *)e->digest) != 1) {
			char bh[WFS_DIGEST_HEX + 1];
			wfs_digest_hex((const void *)e->digest, bh);
			t->v->st->missing_blobs++;
			say(t->v->report, t->v->arg,
			    "%s/trees/%s.tree (%s %s): %s: blob %s is missing",
			    t->c->path, hex,
			    wfs_tree_str(&tr, tr.hdr->name_off),
			    wfs_tree_str(&tr, tr.hdr->version_off),
			    wfs_tree_path(&tr, e), bh);
		}
	}
	wfs_tree_free(&tr);
	return 0;
}

int wfs_verify(struct wfs_cache *c, int repair, wfs_report_fn report, void *arg,
	       struct wfs_verify_stats *st)
{
	struct vctx v = { repair, report, arg, st };
	struct tctx t = { c, &v };
	int rc;

	memset(st, 0, sizeof(*st));
	rc = each_blob(c, verify_blob, verify_bad_dir, &v);
	if (!rc)
		rc = wfs_tree_list(c, check_tree, &t);
	return rc;
}

/* ---- gc ---------------------------------------------------------------- */

struct digests {
	struct wfs_digest *v;
	size_t n, cap;
};

static int digests_add(struct digests *s, const struct wfs_digest *d)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4096;
		struct wfs_digest *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *d;
	return 0;
}

static int cmp_digest(const void *a, const void *b)
{
	return memcmp(a, b, WFS_DIGEST_LEN);
}

static int digests_has(const struct digests *s, const struct wfs_digest *d)
{
	return s->n && bsearch(d, s->v, s->n, sizeof(*d), cmp_digest);
}

struct gctx {
	struct wfs_cache *c;
	int prune, dry_run;
	wfs_report_fn report;
	void *arg;
	struct wfs_gc_stats *st;
	struct digests live_trees, marks;
	char cache_real[PATH_MAX];
	char blobs_real[PATH_MAX + 8]; /* cache_real + "/blobs" */
};

/* The blobs of this cache that TARGET's symlinks point to, from its
 * pinned-symlinks list (pin_symlist.c), into g->marks: absolute paths into
 * this cache's blobs, or (an older list) bare names, which are this
 * cache's when the view names it.  How many, or -errno. */
static int symlinked_blobs(struct gctx *g, int tfd, int names_this)
{
	size_t blen = strlen(g->blobs_real), len;
	char *buf = NULL, *line, *save = NULL;
	int rc = wfs_read_file(tfd, WFS_PIN_SYMLIST_FILE, &buf, &len), n = 0;

	if (rc)
		return rc == -ENOENT ? 0 : rc;
	for (line = strtok_r(buf, "\n", &save); !rc && line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct wfs_digest d;
		const char *hex = line;
		if (line[0] == '/') {
			/* <this cache's blobs>/xx/<hex> */
			hex = line + blen + 4;
			if (strncmp(line, g->blobs_real, blen) ||
			    line[blen] != '/' || strlen(line) <= blen + 4 ||
			    line[blen + 3] != '/' ||
			    strncmp(line + blen + 1, hex, 2))
				continue;
		} else if (!names_this) {
			continue;
		}
		if (wfs_digest_parse(hex, &d))
			continue;
		rc = digests_add(&g->marks, &d);
		n++;
	}
	free(buf);
	return rc ? rc : n;
}

/* Read the registered views; collect the trees they name, and the blobs
 * their symlinks point to. */
static int scan_views(struct gctx *g)
{
	DIR *d;
	struct dirent *de;
	int rc = wfs_opendirat(g->c->dirfd, "views", 0, &d);

	if (rc)
		return rc == -ENOENT ? 0 : rc;
	while (!rc && (de = readdir(d))) {
		char target[PATH_MAX], real[PATH_MAX];
		struct wfs_err err = { { 0 } };
		struct wfs_view v;
		int live, sock, tfd, vrc, names_this = 0, links = 0;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), de->d_name, target,
			       sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		tfd = wfs_control_open_target(target, &live, &sock);
		vrc = tfd < 0 ? tfd : wfs_view_read(tfd, target, &v, &err);
		if (!vrc) {
			names_this = v.cache && realpath(v.cache, real) &&
				     !strcmp(real, g->cache_real);
			/* Symlinks into this cache (pin --mode symlink),
			 * whatever cache the record names. */
			links = symlinked_blobs(g, tfd, names_this);
			if (links < 0) {
				snprintf(err.msg, sizeof(err.msg), "%s: %s",
					 WFS_PIN_SYMLIST_FILE,
					 strerror(-links));
				wfs_view_free(&v);
				vrc = links;
			}
		}
		if (tfd >= 0)
			close(tfd);
		if (sock >= 0)
			close(sock);
		/* A mounted view may be served from this cache whatever
		 * its record names (a copy of the cache): kept. */
		if (vrc == -ENOENT || vrc == -ENOTDIR ||
		    (!vrc && !live && !names_this && !links)) {
			say(g->report, g->arg,
			    "%s: no view using this cache any "
			    "more; forgetting it",
			    target);
			g->st->views_dropped++;
			if (!g->dry_run)
				unlinkat(dirfd(d), de->d_name, 0);
			if (!vrc)
				wfs_view_free(&v);
			continue;
		}
		if (vrc) {
			/* Cannot tell what it needs: free nothing. */
			rc = vrc;
			say(g->report, g->arg,
			    "%s: cannot read the view (%s); "
			    "gc stops without freeing anything",
			    target, err.msg[0] ? err.msg : strerror(-vrc));
			break;
		}
		g->st->views++;
		for (size_t i = 0; !rc && i < v.n; i++)
			rc = digests_add(&g->live_trees, &v.dists[i].tree);
		wfs_view_free(&v);
	}
	closedir(d);
	return rc;
}

/* The trees of every wheelfs mount this process sees, whatever its
 * registration says: a venv moved (mv) while mounted is registered at its
 * old place, and its daemon, found through the mount, still serves this
 * cache's blobs.  A mount whose daemon cannot be reached (another user's,
 * or dead) serves nothing gc could free under it. */
static int scan_mounts(struct gctx *g)
{
	char **mps;
	size_t n;
	int rc = wfs_mount_list_wheelfs(&mps, &n);

	if (rc)
		return rc == -ENOENT ? 0 : rc;
	for (size_t k = 0; k < n; k++) {
		struct wfs_err err = { { 0 } };
		struct wfs_view v;
		int live = 0, sock = -1, tfd;

		tfd = rc ? -1 : wfs_control_open_target(mps[k], &live, &sock);
		if (tfd >= 0 && live && !wfs_view_read(tfd, mps[k], &v, &err)) {
			for (size_t i = 0; !rc && i < v.n; i++)
				rc = digests_add(&g->live_trees,
						 &v.dists[i].tree);
			wfs_view_free(&v);
		}
		if (tfd >= 0)
			close(tfd);
		if (sock >= 0)
			close(sock);
		free(mps[k]);
	}
	free(mps);
	return rc;
}

static int gc_tree(const struct wfs_digest *id, void *arg)
{
	struct gctx *g = arg;
	struct wfs_err err = { { 0 } };
	struct wfs_tree t;
	char name[WFS_TREE_NAME_MAX];
	int live = digests_has(&g->live_trees, id), rc;

	wfs_tree_name(id, name);
	if (g->prune && !live) {
		g->st->trees_removed++;
		if (!g->dry_run && unlinkat(g->c->treesfd, name, 0) < 0)
			return -errno;
		return 0;
	}
	rc = wfs_tree_load(g->c, id, &t, &err);
	if (rc) {
		say(g->report, g->arg, "%s", err.msg);
		/* A live tree we cannot read: its blobs must not go. */
		return live ? rc : 0;
	}
	g->st->trees++;
	for (uint32_t i = 0; !rc && i < t.hdr->n_entries; i++)
		if (S_ISREG(t.ents[i].mode))
			rc = digests_add(&g->marks,
					 (const void *)t.ents[i].digest);
	wfs_tree_free(&t);
	return rc;
}

static int sweep_blob(struct wfs_cache *c, int dirfd, const char *name,
		      const struct wfs_digest *d, void *arg)
{
	struct gctx *g = arg;
	struct stat st;

	(void)c;
	g->st->blobs++;
	if (digests_has(&g->marks, d))
		return 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		g->st->bytes_freed += (uint64_t)st.st_size;
	g->st->blobs_removed++;
	if (!g->dry_run && unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int sweep_bad_dir(struct wfs_cache *c, const char *name, int rc,
			 void *arg)
{
	struct gctx *g = arg;

	say(g->report, g->arg,
	    "%s/blobs/%s: cannot open: %s; its blobs are "
	    "not swept",
	    c->path, name, strerror(-rc));
	return 0;
}

/* Drop wheel-index entries (ingest.h) whose tree is gone. */
static void sweep_index(struct gctx *g)
{
	DIR *d;
	struct dirent *de;

	if (wfs_opendirat(g->c->dirfd, "wheels", 0, &d))
		return;
	while ((de = readdir(d))) {
		char target[WFS_DIGEST_HEX + 8];
		struct stat st;
		ssize_t n;
		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), de->d_name, target,
			       WFS_DIGEST_HEX + 1);
		if (n == WFS_DIGEST_HEX) {
			memcpy(target + n, ".tree", 6);
			if (fstatat(g->c->treesfd, target, &st, 0) == 0)
				continue;
		}
		g->st->index_removed++;
		if (!g->dry_run)
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

/* Temp files older than an hour: those in CACHE/tmp, and those of the
 * cache marker in the cache root (wfs_write_atomic's, of a process killed
 * creating the cache: no lock exists yet to tell a running one's). */
static void sweep_tmp(struct gctx *g, int fd, const char *prefix)
{
	DIR *d;
	struct dirent *de;
	time_t now = time(NULL);

	if (wfs_opendirat(fd, ".", 0, &d))
		return;
	while ((de = readdir(d))) {
		struct stat st;
		if ((prefix ? strncmp(de->d_name, prefix, strlen(prefix))
			    : de->d_name[0] == '.') ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    (prefix && !S_ISREG(st.st_mode)) ||
		    now - st.st_mtime < 3600)
			continue;
		g->st->tmp_removed++;
		if (!g->dry_run)
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

int wfs_gc(struct wfs_cache *c, int prune, int dry_run, wfs_report_fn report,
	   void *arg, struct wfs_gc_stats *st)
{
	struct gctx g = { .c = c,
			  .prune = prune,
			  .dry_run = dry_run,
			  .report = report,
			  .arg = arg,
			  .st = st };
	int rc;

	memset(st, 0, sizeof(*st));
	if (!realpath(c->path, g.cache_real))
		return -errno;
	snprintf(g.blobs_real, sizeof(g.blobs_real), "%s/blobs", g.cache_real);
	rc = wfs_cache_lock_exclusive(c);
	if (!rc)
		rc = scan_views(&g);
	if (!rc)
		rc = scan_mounts(&g);
	if (!rc) {
		if (g.live_trees.n)
			qsort(g.live_trees.v, g.live_trees.n,
			      sizeof(*g.live_trees.v), cmp_digest);
		rc = wfs_tree_list(c, gc_tree, &g);
	}
	if (!rc) {
		if (g.marks.n)
			qsort(g.marks.v, g.marks.n, sizeof(*g.marks.v),
			      cmp_digest);
		rc = each_blob(c, sweep_blob, sweep_bad_dir, &g);
	}
	if (!rc) {
		sweep_index(&g);
		sweep_tmp(&g, c->tmpfd, NULL);
		sweep_tmp(&g, c->dirfd, ".wfs-tmp." WFS_CACHE_MARKER ".");
	}
	free(g.live_trees.v);
	free(g.marks.v);
	return rc;
}
