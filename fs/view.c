/* view.c — the view record (read/write) and the composed lower layer. */
#include "view.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
		return wfs_errf(err, rc,
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
			if (sscanf(line, "wheelfs-view %d%n", &version, &n) != 1 ||
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
			    sscanf(line + 7, "%*u.%*u%n", &n) != 0 || line[7 + n]) {
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
				  hex, &req, &n) == 4 && !line[n]) {
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

	wfs_wheel_normalize(((const struct wfs_view_dist *)a)->name, x, sizeof(x));
	wfs_wheel_normalize(((const struct wfs_view_dist *)b)->name, y, sizeof(y));
	return strcmp(x, y);
}

int wfs_view_write(int targetfd, const struct wfs_view *v)
{
	struct wfs_buf b = { 0 };
	int rc;

	if (mkdirat(targetfd, WFS_STATE_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
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

static int cmp_item(const void *a, const void *b, void *arena)
{
	return strcmp((const char *)arena + ((const struct item *)a)->off,
		      (const char *)arena + ((const struct item *)b)->off);
}

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

static int add_item(struct wfs_buf *arena, struct item **items, size_t *n,
		    size_t *cap, const char *path, uint32_t dist,
		    const struct wfs_tree_ent *ent)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 1024;
		struct item *v = realloc(*items, c * sizeof(*v));
		if (!v)
			return -ENOMEM;
		*items = v;
		*cap = c;
	}
	(*items)[*n] = (struct item){ arena->len, dist, ent };
	(*n)++;
	return wfs_buf_append(arena, path, strlen(path) + 1);
}

static const char *dist_name(const struct wfs_view *v, uint32_t d)
{
	return d == UINT32_MAX ? "the view" : v->dists[d].name;
}

int wfs_view_compose(const struct wfs_view *v, struct wfs_cache *c,
		     struct wfs_composed *out, struct wfs_err *err)
{
	struct wfs_buf arena = { 0 };
	struct item *items = NULL;
	size_t n = 0, cap = 0, w;
	char site[64], path[8192];
	int rc = 0;

	memset(out, 0, sizeof(*out));
	wfs_view_site(v, site, sizeof(site));
	out->trees = calloc(v->n ? v->n : 1, sizeof(*out->trees));
	if (!out->trees)
		return -ENOMEM;
	rc = add_item(&arena, &items, &n, &cap, "", UINT32_MAX, NULL);
	if (!rc)
		rc = add_item(&arena, &items, &n, &cap, site + 0, UINT32_MAX, NULL);
	if (!rc) {
		*strchr(site, '/') = '\0';
		rc = add_item(&arena, &items, &n, &cap, site, UINT32_MAX, NULL);
		site[strlen(site)] = '/';
	}
	for (size_t d = 0; !rc && d < v->n; d++) {
		struct wfs_tree *t = &out->trees[d];
		rc = wfs_tree_load(c, &v->dists[d].tree, t, err);
		if (rc)
			break;
		out->ntrees++;
		for (uint32_t i = 0; !rc && i < t->hdr->n_entries; i++) {
			const struct wfs_tree_ent *e = &t->ents[i];
			int m = wfs_view_map(v, t, wfs_tree_path(t, e), path,
					     sizeof(path));
			if (m < 0)
				rc = m;
			else if (m > 0)
				rc = add_item(&arena, &items, &n, &cap, path,
					      (uint32_t)d, e);
		}
	}
	if (rc)
		goto fail;

	qsort_r(items, n, sizeof(*items), cmp_item, arena.data);

	out->v = calloc(n, sizeof(*out->v));
	if (!out->v) {
		rc = -ENOMEM;
		goto fail;
	}
	w = 0;
	for (size_t i = 0; i < n; i++) {
		const char *p = arena.data + items[i].off;
		struct wfs_vent *prev = w ? &out->v[w - 1] : NULL;
		if (prev && !strcmp(prev->path, p)) {
			int pdir = !prev->ent || S_ISDIR(prev->ent->mode);
			int idir = !items[i].ent || S_ISDIR(items[i].ent->mode);
			if (pdir && idir) { /* directories merge */
				if (!prev->ent) {
					prev->ent = items[i].ent;
					prev->dist = items[i].dist;
				}
				continue;
			}
			rc = wfs_errf(err, -EEXIST,
				      "%s: claimed by both %s and %s", p,
				      dist_name(v, prev->dist),
				      dist_name(v, items[i].dist));
			goto fail;
		}
		out->v[w].path = p;
		out->v[w].dist = items[i].dist;
		out->v[w].ent = items[i].ent;
		w++;
	}
	out->n = w;
	/* Parents: every path's parent directory precedes it in the sort. */
	for (size_t i = 0; i < w; i++) {
		struct wfs_vent *e = &out->v[i];
		const char *slash = strrchr(e->path, '/');
		long pi = 0;
		e->name = slash ? slash + 1 : e->path;
		if (slash) {
			size_t pl = (size_t)(slash - e->path);
			memcpy(path, e->path, pl);
			path[pl] = '\0';
			pi = wfs_composed_find(out, path);
		}
		if (pi < 0 || (out->v[pi].ent && !S_ISDIR(out->v[pi].ent->mode))) {
			rc = wfs_errf(err, -EEXIST,
				      "%s: its parent is a file of %s", e->path,
				      dist_name(v, pi < 0 ? e->dist : out->v[pi].dist));
			goto fail;
		}
		e->parent = (uint32_t)pi;
	}
	out->paths = arena.data;
	free(items);
	return 0;
fail:
	free(items);
	out->paths = NULL;
	wfs_buf_free(&arena);
	wfs_composed_free(out);
	return rc;
}
