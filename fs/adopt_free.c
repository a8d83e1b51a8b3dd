/* adopt_free.c — adopt's last step: verify each adopted real file against
 * what the view now serves, then delete it (adopt.h, step 4). */
#include "adopt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "upper.h"

/* The real file base (in pfd) is what the view serves at site/s: same
 * type, mode and digest (or link target), and the blob exists. */
static int same_as_view(struct actx *x, const struct wfs_composed *cv,
			const char *s, int pfd, const char *base,
			const struct stat *st)
{
	char path[WFS_VPATH_MAX * 2], target[WFS_VPATH_MAX];
	const struct wfs_vent *e;
	struct wfs_digest d;
	uint64_t size;
	long i;
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", x->v->site, s);
	i = wfs_composed_find(cv, path);
	if (i < 0 || !cv->v[i].ent || S_ISDIR(cv->v[i].ent->mode))
		return 0;
	e = &cv->v[i];
	if (S_ISLNK(e->ent->mode)) {
		ssize_t n = readlinkat(pfd, base, target, sizeof(target) - 1);
		const struct wfs_tree *t = &cv->trees[e->dist];
		if (n < 0 || !S_ISLNK(st->st_mode))
			return 0;
		target[n] = '\0';
		return !strcmp(target, wfs_tree_str(t, e->ent->target_off));
	}
	if (!S_ISREG(st->st_mode) ||
	    (st->st_mode & 07777) != (e->ent->mode & 07777) ||
	    wfs_cache_has_blob(x->c, wfs_vent_digest(e)) != 1)
		return 0;
	fd = openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ok = !wfs_digest_fd(fd, &d, &size) && size == e->ent->size &&
	     wfs_digest_equal(&d, wfs_vent_digest(e));
	close(fd);
	return ok;
}

static int cmp_len_desc(const void *a, const void *b)
{
	size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);
	return x < y ? 1 : x > y ? -1 : 0;
}

int wfs_adopt_free_files(struct actx *x, const struct wfs_composed *cv)
{
	struct wfs_strset dirs = { 0 };
	struct wfs_whiteouts w;
	const char *base;
	struct stat st;
	int rc = wfs_wo_load(&w, x->v->libfd, 0), pfd;

	if (rc)
		return wfs_errf(x->err, rc, "%s/%s: %s", x->v->lib,
				WFS_WHITEOUTS_FILE, strerror(-rc));
	for (size_t k = 0; k < x->n && !rc; k++) {
		struct adist *d = &x->d[k];
		for (size_t i = 0; i < d->cand.n && !rc; i++) {
			const char *s = d->cand.v[i];
			char dir[WFS_VPATH_MAX];
			int same;
			pfd = wfs_parent_beneath(x->sfd, s, &base);
			if (pfd < 0)
				continue;
			same = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) ==
				       0 &&
			       same_as_view(x, cv, s, pfd, base, &st);
			/* Served from the view next: no whiteout or opaque
			 * directory (written through a mount) may hide it. */
			if (same && w.n) {
				char vp[WFS_VPATH_MAX * 2];
				snprintf(vp, sizeof(vp), "%s/%s", x->v->site,
					 s);
				rc = wfs_wo_expose(&w, vp);
				if (rc)
					rc = wfs_errf(x->err, rc, "%s/%s: %s",
						      x->v->lib,
						      WFS_WHITEOUTS_FILE,
						      strerror(-rc));
			}
			if (same && !rc && unlinkat(pfd, base, 0) < 0)
				rc = wfs_errf(x->err, -errno, "%s/%s/%s: %s",
					      x->v->lib, x->v->site, s,
					      strerror(errno));
			close(pfd);
			if (!same || rc)
				continue;
			x->st->freed++;
			x->st->freed_bytes +=
				S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
			wfs_adopt_crash_point("free");
			snprintf(dir, sizeof(dir), "%s", s);
			for (char *sl = strrchr(dir, '/'); sl && !rc;
			     sl = strrchr(dir, '/')) {
				*sl = '\0';
				rc = wfs_ss_add(&dirs, dir);
			}
		}
	}
	wfs_ss_sort(&dirs);
	if (dirs.n)
		qsort(dirs.v, dirs.n, sizeof(*dirs.v), cmp_len_desc);
	for (size_t i = 0; i < dirs.n; i++) {
		pfd = wfs_parent_beneath(x->sfd, dirs.v[i], &base);
		if (pfd < 0)
			continue;
		unlinkat(pfd, base, AT_REMOVEDIR); /* when empty */
		close(pfd);
	}
	wfs_ss_free(&dirs);
	wfs_wo_free(&w);
	return rc;
}
