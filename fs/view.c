/* view.c — the view record (read/write) and the composed lower layer. */
#include "view.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "wheel.h"

/* ---- the record -------------------------------------------------------- */

void wfs_view_free(struct wfs_view *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->dists[i].name);
		free(v->dists[i].version);
	}
	free(v->dists);
	free(v->cache);
	memset(v, 0, sizeof(*v));
}

static int bad(struct wfs_err *err, const char *target, int line,
	       const char *why)
{
	return wfs_errf(err, -EBADMSG, "%s/%s:%d: %s", target, WFS_VIEW_FILE,
			line, why);
}

int wfs_view_read(int targetfd, const char *target, struct wfs_view *v,
		  struct wfs_err *err)
{
	char *buf, *line, *save = NULL;
	size_t len;
	int rc, ln = 0, seen_header = 0;

	memset(v, 0, sizeof(*v));
	rc = wfs_read_file(targetfd, WFS_VIEW_FILE, &buf, &len);
	if (rc == -ENOENT)
		return wfs_errf(
			err, rc,
			"%s: no wheelfs view here; run `wheelfs install` "
			"or `wheelfs adopt` first",
			target);
	if (rc)
		return wfs_errf(err, rc, "%s/%s: %s", target, WFS_VIEW_FILE,
				strerror(-rc));
	if (strlen(buf) != len) {
		rc = bad(err, target, 0, "contains a NUL byte");
		goto out;
	}
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[256], ver[256], hex[64];
		int req, n = 0;
		ln++;
		if (!seen_header) {
			int version;
			if (sscanf(line, "wheelfs-view %d%n", &version, &n) !=
				    1 ||
			    line[n]) {
				rc = bad(err, target, ln, "not a wheelfs view");
				goto out;
			}
			if (version != WFS_VIEW_VERSION) {
				rc = wfs_errf(err, -EPROTONOSUPPORT,
					      "%s/%s: view format %d is not "
					      "supported (knows %d)",
					      target, WFS_VIEW_FILE, version,
					      WFS_VIEW_VERSION);
				goto out;
			}
			seen_header = 1;
		} else if (!strncmp(line, "python ", 7)) {
			if (strlen(line + 7) >= sizeof(v->python) ||
			    sscanf(line + 7, "%*u.%*u%n", &n) != 0 ||
			    line[7 + n]) {
				rc = bad(err, target, ln, "bad python version");
				goto out;
			}
			strcpy(v->python, line + 7);
		} else if (!strncmp(line, "pinned ", 7)) {
			v->pinned = atoi(line + 7) != 0;
		} else if (!strncmp(line, "cache ", 6)) {
			free(v->cache);
			v->cache = strdup(line + 6);
			if (!v->cache) {
				rc = -ENOMEM;
				goto out;
			}
		} else if (sscanf(line, "dist %255s %255s %63s %d%n", name, ver,
				  hex, &req, &n) == 4 &&
			   !line[n]) {
			struct wfs_digest d;
			if (wfs_digest_parse(hex, &d)) {
				rc = bad(err, target, ln, "bad tree digest");
				goto out;
			}
			rc = wfs_view_set(v, name, ver, &d, req);
			if (rc)
				goto out;
		} else {
			rc = bad(err, target, ln, "unrecognized line");
			goto out;
		}
	}
	if (!seen_header || !v->python[0])
		rc = bad(err, target, ln, "missing header or python line");
out:
	free(buf);
	if (rc)
		wfs_view_free(v);
	return rc;
}

static int cmp_dist(const void *a, const void *b)
{
	char x[256], y[256];

	wfs_wheel_normalize(((const struct wfs_view_dist *)a)->name, x,
			    sizeof(x));
	wfs_wheel_normalize(((const struct wfs_view_dist *)b)->name, y,
			    sizeof(y));
	return strcmp(x, y);
}

int wfs_view_write(int targetfd, const struct wfs_view *v)
{
	struct wfs_buf b = { 0 };
	int rc;

	if (mkdirat(targetfd, WFS_STATE_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* Every writer holds the view lock: a temp file of the view is a
	 * killed writer's. */
	wfs_write_atomic_sweep(targetfd, WFS_VIEW_FILE);
	qsort(v->dists, v->n, sizeof(*v->dists), cmp_dist);
	rc = wfs_buf_printf(&b, "wheelfs-view %d\npython %s\npinned %d\n",
			    WFS_VIEW_VERSION, v->python, v->pinned);
	if (!rc && v->cache)
		rc = wfs_buf_printf(&b, "cache %s\n", v->cache);
	for (size_t i = 0; !rc && i < v->n; i++) {
		char hex[WFS_DIGEST_HEX + 1];
		wfs_digest_hex(&v->dists[i].tree, hex);
		rc = wfs_buf_printf(&b, "dist %s %s %s %d\n", v->dists[i].name,
				    v->dists[i].version, hex,
				    v->dists[i].requested);
	}
	if (!rc)
		rc = wfs_write_atomic(targetfd, WFS_VIEW_FILE, b.data, b.len,
				      0644, 1);
	wfs_buf_free(&b);
	return rc;
}

int wfs_view_lock(int targetfd, const char *target, struct wfs_err *err)
{
	/* A new open file description: flock(2) locks belong to those, and
	 * targetfd may be one shared with the mount daemon. */
	int fd = openat(targetfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return wfs_errf(err, -errno, "%s: %s", target, strerror(errno));
	while (flock(fd, LOCK_EX) < 0) {
		int e = errno;
		if (e == EINTR)
			continue;
		close(fd);
		return wfs_errf(err, -e, "%s: flock: %s", target, strerror(e));
	}
	return fd;
}

long wfs_view_find(const struct wfs_view *v, const char *name)
{
	char want[256], have[256];

	wfs_wheel_normalize(name, want, sizeof(want));
	for (size_t i = 0; i < v->n; i++) {
		wfs_wheel_normalize(v->dists[i].name, have, sizeof(have));
		if (!strcmp(want, have))
			return (long)i;
	}
	return -1;
}

int wfs_view_set(struct wfs_view *v, const char *name, const char *version,
		 const struct wfs_digest *tree, int requested)
{
	long i = wfs_view_find(v, name);
	struct wfs_view_dist *d;
	char *nm = strdup(name), *ver = strdup(version);

	if (!nm || !ver) {
		free(nm);
		free(ver);
		return -ENOMEM;
	}
	if (i < 0) {
		d = realloc(v->dists, (v->n + 1) * sizeof(*d));
		if (!d) {
			free(nm);
			free(ver);
			return -ENOMEM;
		}
		v->dists = d;
		i = (long)v->n++;
	} else {
		free(v->dists[i].name);
		free(v->dists[i].version);
	}
	d = &v->dists[i];
	d->name = nm;
	d->version = ver;
	d->tree = *tree;
	d->requested = requested;
	return 0;
}

void wfs_view_remove(struct wfs_view *v, size_t i)
{
	free(v->dists[i].name);
	free(v->dists[i].version);
	memmove(&v->dists[i], &v->dists[i + 1],
		(v->n - i - 1) * sizeof(*v->dists));
	v->n--;
}

void wfs_view_site(const struct wfs_view *v, char *buf, size_t len)
{
	snprintf(buf, len, "python%s/site-packages", v->python);
}

/* ---- composition ------------------------------------------------------- */

int wfs_view_tree(const struct wfs_view *v, size_t d, struct wfs_cache *c,
		  struct wfs_tree *t, struct wfs_err *err)
{
	const struct wfs_view_dist *vd = &v->dists[d];
	const char *cpath = c ? c->path : v->cache ? v->cache : "the cache";
	struct wfs_err mine = { { 0 } };
	char hex[WFS_DIGEST_HEX + 1];
	int rc;

	if (!c)
		return wfs_errf(err, -ENOENT,
				"%s: the cache is gone, and %s %s has its "
				"files only there: add its wheel to a cache "
				"again (`wheelfs add`)%s",
				cpath, vd->name, vd->version,
				v->pinned ? "" : ", or reinstall it");
	rc = wfs_tree_load(c, &vd->tree, t, &mine);
	if (rc && rc != -ENOENT)
		return wfs_errf(err, rc, "%s", mine.msg);
	if (!rc)
		return 0;
	wfs_digest_hex(&vd->tree, hex);
	return wfs_errf(err, rc,
			"%s/trees/%s.tree: missing, and %s %s needs it: add "
			"its wheel to %s again (`wheelfs add`)",
			cpath, hex, vd->name, vd->version, cpath);
}

int wfs_view_map(const struct wfs_view *v, const struct wfs_tree *t,
		 const char *p, char *buf, size_t len)
{
	const char *di = wfs_tree_str(t, t->hdr->distinfo_off);
	size_t dil = strlen(di) - strlen(".dist-info"), n;
	char site[64];

	wfs_view_site(v, site, sizeof(site));
	/* <name>-<ver>.data[/scheme[/rest]] */
	if (!strncmp(p, di, dil) && !strncmp(p + dil, ".data", 5) &&
	    (p[dil + 5] == '\0' || p[dil + 5] == '/')) {
		const char *s = p + dil + 5;
		if (!*s)
			return 0;
		s++;
		if (strncmp(s, "purelib/", 8) && strncmp(s, "platlib/", 8))
			return 0;
		n = (size_t)snprintf(buf, len, "%s/%s", site, s + 8);
		return n < len ? 1 : -ENAMETOOLONG;
	}
	if (!strncmp(p, di, dil + 10) && !strcmp(p + dil + 10, "/RECORD"))
		return 0;
	n = (size_t)snprintf(buf, len, "%s/%s", site, p);
	return n < len ? 1 : -ENAMETOOLONG;
}

struct item {
	size_t off; /* into the path arena */
	uint32_t dist;
	const struct wfs_tree_ent *ent;
};

void wfs_composed_free(struct wfs_composed *cv)
{
	for (size_t i = 0; i < cv->ntrees; i++)
		wfs_tree_free(&cv->trees[i]);
	free(cv->trees);
	free(cv->v);
	free(cv->paths);
	memset(cv, 0, sizeof(*cv));
}

long wfs_composed_find(const struct wfs_composed *cv, const char *path)
{
	size_t lo = 0, hi = cv->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(path, cv->v[mid].path);
		if (!c)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* Two tree entries that are the same regular file: content, size and
 * mode. */
static int same_file(const struct wfs_tree_ent *a, const struct wfs_tree_ent *b)
{
	return a && b && S_ISREG(a->mode) && a->mode == b->mode &&
	       a->size == b->size &&
	       !memcmp(a->digest, b->digest, sizeof(a->digest));
}

static const char *dist_name(const struct wfs_view *v, uint32_t d)
{
	return d == UINT32_MAX ? "the view" : v->dists[d].name;
}

/* A sorted run of items (one per tree and scheme) for the k-way merge. */
struct run {
	struct item *v;
	size_t n, pos;
	uint32_t order; /* tie-break: earlier runs first */
};

static int run_less(const struct run *a, const struct run *b, const char *arena)
{
	int c = strcmp(arena + a->v[a->pos].off, arena + b->v[b->pos].off);
	return c < 0 || (!c && a->order < b->order);
}

static void sift(struct run **h, size_t n, size_t i, const char *arena)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && run_less(h[l], h[m], arena))
			m = l;
		if (l + 1 < n && run_less(h[l + 1], h[m], arena))
			m = l + 1;
		if (m == i)
			return;
		struct run *t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static size_t put_path(struct wfs_buf *a, const char *site, size_t sl,
		       const char *rest, size_t rl)
{
	size_t off = a->len;
	char *p = a->data + off;

	memcpy(p, site, sl);
	p[sl] = '/';
	memcpy(p + sl + 1, rest, rl + 1);
	a->len += sl + 1 + rl + 1;
	return off;
}

int wfs_view_compose(const struct wfs_view *v, struct wfs_cache *c,
		     struct wfs_composed *out, struct wfs_err *err)
{
	struct wfs_buf arena = { 0 };
	struct item *items = NULL, *sorted = NULL;
	struct run *runs = NULL, **heap = NULL;
	size_t n = 0, nruns = 0, total = 3, bytes = 0, w, sl, cap;
	uint32_t *tab = NULL;
	char site[64], path[8192];
	int rc = 0;

	memset(out, 0, sizeof(*out));
	wfs_view_site(v, site, sizeof(site));
	sl = strlen(site);
	out->trees = calloc(v->n ? v->n : 1, sizeof(*out->trees));
	if (!out->trees)
		return -ENOMEM;
	for (size_t d = 0; d < v->n; d++) {
		struct wfs_tree *t = &out->trees[d];
		rc = wfs_view_tree(v, d, c, t, err);
		if (rc)
			goto fail;
		out->ntrees++;
		total += t->hdr->n_entries;
		bytes +=
			t->hdr->n_strtab + (size_t)t->hdr->n_entries * (sl + 2);
	}
	bytes += 3 * (sl + 2);
	arena.data = malloc(bytes);
	items = malloc(total * sizeof(*items));
	runs = calloc(3 * v->n + 1, sizeof(*runs));
	if (!arena.data || !items || !runs) {
		rc = -ENOMEM;
		goto fail;
	}
	arena.cap = bytes;
	/* The view's own directories: "", pythonX.Y, pythonX.Y/site-packages
	 * (already in order). */
	runs[0] = (struct run){ items, 3, 0, 0 };
	items[0] = (struct item){ arena.len, UINT32_MAX, NULL };
	arena.data[arena.len++] = '\0';
	items[1] = (struct item){ arena.len, UINT32_MAX, NULL };
	memcpy(arena.data + arena.len, site, sl - strlen(strchr(site, '/')));
	arena.len += sl - strlen(strchr(site, '/'));
	arena.data[arena.len++] = '\0';
	items[2] = (struct item){ arena.len, UINT32_MAX, NULL };
	memcpy(arena.data + arena.len, site, sl + 1);
	arena.len += sl + 1;
	n = 3;
	nruns = 1;
	/* Per tree, three runs, each sorted because the tree is: the root,
	 * .data/platlib and .data/purelib (prefixes replaced), merged in
	 * that order for equal paths. */
	for (size_t d = 0; d < v->n; d++) {
		const struct wfs_tree *t = &out->trees[d];
		const char *di = wfs_tree_str(t, t->hdr->distinfo_off);
		size_t dil = strlen(di) - strlen(".dist-info");
		struct run *r[3];
		for (int k = 0; k < 3; k++) {
			r[k] = &runs[nruns];
			r[k]->order = (uint32_t)nruns++;
		}
		/* Two passes would keep the runs contiguous; instead count. */
		size_t cnt[3] = { 0, 0, 0 };
		for (uint32_t i = 0; i < t->hdr->n_entries; i++) {
			const char *p = wfs_tree_path(t, &t->ents[i]);
			if (!strncmp(p, di, dil) &&
			    !strncmp(p + dil, ".data", 5) &&
			    (p[dil + 5] == '\0' || p[dil + 5] == '/')) {
				const char *s = p + dil + 5;
				if (*s && !strncmp(s + 1, "platlib/", 8))
					cnt[1]++;
				else if (*s && !strncmp(s + 1, "purelib/", 8))
					cnt[2]++;
			} else if (!(!strncmp(p, di, dil + 10) &&
				     !strcmp(p + dil + 10, "/RECORD"))) {
				cnt[0]++;
			}
		}
		r[0]->v = items + n;
		r[1]->v = r[0]->v + cnt[0];
		r[2]->v = r[1]->v + cnt[1];
		n += cnt[0] + cnt[1] + cnt[2];
		for (uint32_t i = 0; i < t->hdr->n_entries; i++) {
			const struct wfs_tree_ent *e = &t->ents[i];
			const char *p = wfs_tree_path(t, e);
			struct run *to;
			const char *rest = p;
			size_t rl;
			if (!strncmp(p, di, dil) &&
			    !strncmp(p + dil, ".data", 5) &&
			    (p[dil + 5] == '\0' || p[dil + 5] == '/')) {
				const char *s = p + dil + 5;
				if (!*s)
					continue;
				if (!strncmp(s + 1, "platlib/", 8))
					to = r[1];
				else if (!strncmp(s + 1, "purelib/", 8))
					to = r[2];
				else
					continue;
				rest = s + 9;
			} else if (!strncmp(p, di, dil + 10) &&
				   !strcmp(p + dil + 10, "/RECORD")) {
				continue;
			} else {
				to = r[0];
			}
			rl = e->path_len - (size_t)(rest - p);
			if (sl + 1 + rl >= sizeof(path)) {
				rc = -ENAMETOOLONG;
				goto fail;
			}
			to->v[to->n++] = (struct item){ put_path(&arena, site,
								 sl, rest, rl),
							(uint32_t)d, e };
		}
	}
	/* k-way merge */
	sorted = malloc((n ? n : 1) * sizeof(*sorted));
	heap = malloc(nruns * sizeof(*heap));
	if (!sorted || !heap) {
		rc = -ENOMEM;
		goto fail;
	}
	size_t hn = 0;
	for (size_t i = 0; i < nruns; i++)
		if (runs[i].n)
			heap[hn++] = &runs[i];
	for (size_t i = hn; i-- > 0;)
		sift(heap, hn, i, arena.data);
	w = 0;
	while (hn) {
		struct run *r = heap[0];
		sorted[w++] = r->v[r->pos++];
		if (r->pos == r->n)
			heap[0] = heap[--hn];
		sift(heap, hn, 0, arena.data);
	}
	out->v = calloc(n, sizeof(*out->v));
	if (!out->v) {
		rc = -ENOMEM;
		goto fail;
	}
	w = 0;
	for (size_t i = 0; i < n; i++) {
		const char *p = arena.data + sorted[i].off;
		struct wfs_vent *prev = w ? &out->v[w - 1] : NULL;
		if (prev && !strcmp(prev->path, p)) {
			int pdir = !prev->ent || S_ISDIR(prev->ent->mode);
			int idir =
				!sorted[i].ent || S_ISDIR(sorted[i].ent->mode);
			if (pdir && idir) {
				if (!prev->ent) {
					prev->ent = sorted[i].ent;
					prev->dist = sorted[i].dist;
				}
				continue;
			}
			/* The same file from both (a pkgutil-style namespace
			 * __init__.py that several distributions ship): one
			 * serves, and it stays while either is installed. */
			if (same_file(prev->ent, sorted[i].ent))
				continue;
			/* One distribution's file in its root and .data, or
			 * in platlib and purelib: pip writes the root's files
			 * first, then .data's in the wheel's order (sorted,
			 * as the wheel tool makes it); the last one stays. */
			if (prev->dist == sorted[i].dist && !pdir && !idir) {
				prev->ent = sorted[i].ent;
				continue;
			}
			rc = wfs_errf(err, -EEXIST,
				      "%s: claimed by both %s and %s", p,
				      dist_name(v, prev->dist),
				      dist_name(v, sorted[i].dist));
			goto fail;
		}
		out->v[w].path = p;
		out->v[w].dist = sorted[i].dist;
		out->v[w].ent = sorted[i].ent;
		w++;
	}
	out->n = w;
	/* Parents through a hash table of paths (index + 1; 0: empty). */
	for (cap = 16; cap < 2 * w; cap *= 2)
		;
	tab = calloc(cap, sizeof(*tab));
	if (!tab) {
		rc = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < w; i++) {
		const char *p = out->v[i].path;
		size_t h = XXH3_64bits(p, strlen(p)) & (cap - 1);
		while (tab[h])
			h = (h + 1) & (cap - 1);
		tab[h] = (uint32_t)i + 1;
	}
	for (size_t i = 0; i < w; i++) {
		struct wfs_vent *e = &out->v[i];
		const char *slash = strrchr(e->path, '/');
		long pi = 0;
		e->name = slash ? slash + 1 : e->path;
		if (slash) {
			size_t pl = (size_t)(slash - e->path);
			size_t h = XXH3_64bits(e->path, pl) & (cap - 1);
			pi = -1;
			for (; tab[h]; h = (h + 1) & (cap - 1)) {
				const char *q = out->v[tab[h] - 1].path;
				if (!strncmp(q, e->path, pl) && !q[pl]) {
					pi = tab[h] - 1;
					break;
				}
			}
		}
		if (pi < 0 ||
		    (out->v[pi].ent && !S_ISDIR(out->v[pi].ent->mode))) {
			rc = wfs_errf(err, -EEXIST,
				      "%s: its parent is a file of %s", e->path,
				      dist_name(v, pi < 0 ? e->dist
							  : out->v[pi].dist));
			goto fail;
		}
		e->parent = (uint32_t)pi;
	}
	out->paths = arena.data;
	free(tab);
	free(items);
	free(sorted);
	free(runs);
	free(heap);
	return 0;
fail:
	free(tab);
	free(items);
	free(sorted);
	free(runs);
	free(heap);
	out->paths = NULL;
	wfs_buf_free(&arena);
	wfs_composed_free(out);
	return rc;
}
