/* pin_symlist.c — TARGET/.wheelfs/pinned-symlinks (see pin.h): the blobs
 * that symlinks in the venv point to, one absolute path a line, which is
 * what gc reads to keep them (gc.c), whatever cache the view record names.
 *
 * A symlink run writes the list before it places any symlink: every file
 * it is about to symlink, and every symlink to a blob it finds already in
 * place (an interrupted run's, or a run's whose list was lost), so a kill
 * at any point leaves a list naming at least what is there.  It then
 * registers TARGET in the cache the symlinks point into (CACHE/views), so
 * gc of that cache reads the list; the caller holds the cache's shared
 * lock for the whole run, so gc never runs in between.  A run in another
 * mode replaces the symlinks to its cache's blobs and keeps in the list
 * only those left (into another cache), or removes it.  An install's run
 * (wfs_pin_files) in symlink mode adds its own to the list. */
#include "pin_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The upper entry of composed entry i when it is a symlink to an absolute
 * path ending in the entry's blob name (xx/<hex>): added to l. */
static int add_upper_symlink(struct wfs_pin_run *p, struct wfs_pin_worker *w,
			     size_t i, struct wfs_strset *l)
{
	const struct wfs_vent *e = &p->cv->v[i];
	char rel[3 + WFS_DIGEST_HEX + 1], tgt[PATH_MAX];
	size_t rl = sizeof(rel) - 1;
	ssize_t n;
	int pfd;

	if (p->state[i] != WFS_PS_UPPER || !e->ent || !S_ISREG(e->ent->mode))
		return 0;
	pfd = wfs_pin_dir_fd(w, e->parent);
	if (pfd < 0)
		return 0;
	n = readlinkat(pfd, e->name, tgt, sizeof(tgt) - 1);
	if (n < 0)
		return 0; /* not a symlink (EINVAL), or gone */
	wfs_cache_blob_rel(wfs_vent_digest(e), rel);
	if (tgt[0] != '/' || (size_t)n <= rl || tgt[n - rl - 1] != '/' ||
	    memcmp(tgt + n - rl, rel, rl))
		return 0;
	return wfs_ss_addn(l, tgt, (size_t)n);
}

int wfs_pin_symlist_update(struct wfs_pin_run *p, struct wfs_pin_worker *w,
			   struct wfs_err *err)
{
	int symlink = p->o->mode == WFS_PIN_SYMLINK, rc, ours = 0;
	size_t blen = strlen(p->blobs_abs), len = 0;
	struct wfs_strset l = { 0 };
	struct wfs_buf b = { 0 };
	char *old = NULL, abs[PATH_MAX];

	rc = wfs_read_file(p->dirfd, WFS_PIN_SYMLIST_FILE, &old, &len);
	if (rc == -ENOENT && !symlink)
		return 0; /* never symlink-pinned: nothing to look at */
	if (rc && rc != -ENOENT)
		return wfs_errf(err, rc, "%s/%s: %s", p->target,
				WFS_PIN_SYMLIST_FILE, strerror(-rc));
	rc = 0;
	/* An install's run: the symlinks of the rest of the view stay. */
	for (char *ln = old, *nl; !rc && p->partial && ln && *ln; ln = nl) {
		size_t n = strcspn(ln, "\n");
		nl = ln[n] ? ln + n + 1 : ln + n;
		if (n && ln[0] != '#')
			rc = wfs_ss_addn(&l, ln, n);
	}
	for (size_t j = 0; !rc && symlink && j < p->njobs; j++) {
		const struct wfs_vent *e = &p->cv->v[p->jobs[j]];
		char path[PATH_MAX + 3 + WFS_DIGEST_HEX + 1];
		if (!S_ISREG(e->ent->mode))
			continue;
		memcpy(path, p->blobs_abs, blen);
		path[blen] = '/';
		wfs_cache_blob_rel(wfs_vent_digest(e), path + blen + 1);
		rc = wfs_ss_addn(&l, path, strlen(path));
	}
	for (size_t i = 1; !rc && i < p->cv->n; i++)
		rc = add_upper_symlink(p, w, i, &l);
	wfs_ss_sort(&l);
	if (!rc)
		rc = wfs_buf_printf(&b, "# blobs that symlinks in this venv "
					"point to (wheelfs pin --mode "
					"symlink)\n");
	for (size_t i = 0; !rc && i < l.n; i++) {
		ours |= !strncmp(l.v[i], p->blobs_abs, blen) &&
			l.v[i][blen] == '/';
		rc = wfs_buf_printf(&b, "%s\n", l.v[i]);
	}
	/* Every writer of the list holds the view lock (pin and install):
	 * a temp file of it is a killed run's. */
	if (!rc)
		wfs_write_atomic_sweep(p->dirfd, WFS_PIN_SYMLIST_FILE);
	if (!rc && !l.n && !symlink) {
		/* every symlink was made a real file */
		if (unlinkat(p->dirfd, WFS_PIN_SYMLIST_FILE, 0) < 0 &&
		    errno != ENOENT)
			rc = -errno;
	} else if (!rc && (!old || len != b.len || memcmp(old, b.data, len))) {
		rc = wfs_write_atomic(p->dirfd, WFS_PIN_SYMLIST_FILE, b.data,
				      b.len, 0644, 1);
	}
	if (rc) {
		rc = wfs_errf(err, rc, "%s/%s: %s", p->target,
			      WFS_PIN_SYMLIST_FILE, strerror(-rc));
	} else if (symlink && ours && p->cache->tmpfd >= 0) {
		/* gc of the cache the symlinks point into reads the list
		 * (a read-only cache cannot record it: cmd_pin warns) */
		if (!realpath(p->target, abs))
			rc = wfs_errf(err, -errno, "%s: %s", p->target,
				      strerror(errno));
		else if ((rc = wfs_cache_register_view(p->cache, abs)))
			rc = wfs_errf(err, rc, "%s: registering %s: %s",
				      p->cache->path, abs, strerror(-rc));
	}
	wfs_buf_free(&b);
	wfs_ss_free(&l);
	free(old);
	return rc;
}
