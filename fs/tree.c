/* tree.c — building, storing, loading and searching per-wheel trees. */
#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A relative path with no empty, "." or ".." component. */
static int path_ok(const char *p, uint32_t len)
{
	if (!len || strlen(p) != len || p[0] == '/' || p[len - 1] == '/')
		return 0;
	for (const char *c = p; *c;) {
		const char *s = strchrnul(c, '/');
		size_t cl = (size_t)(s - c);
		if (cl == 0 || (cl == 1 && c[0] == '.') ||
		    (cl == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		c = *s ? s + 1 : s;
	}
	return 1;
}

/* ---- building ---------------------------------------------------------- */

struct bent {
	char *path;
	char *target;
	uint32_t mode, mtime_nsec;
	int64_t mtime_sec;
	uint64_t size;
	struct wfs_digest digest;
};

struct wfs_tree_builder {
	struct bent *v;
	size_t n, cap;
};

struct wfs_tree_builder *wfs_tree_builder_new(void)
{
	return calloc(1, sizeof(struct wfs_tree_builder));
}

void wfs_tree_builder_free(struct wfs_tree_builder *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i].path);
		free(b->v[i].target);
	}
	free(b->v);
	free(b);
}

static int push(struct wfs_tree_builder *b, const char *path, size_t plen,
		uint32_t mode, uint64_t size, int64_t sec, uint32_t nsec,
		const struct wfs_digest *digest, const char *target)
{
	struct bent *e;

	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct bent *v = realloc(b->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	e = &b->v[b->n];
	memset(e, 0, sizeof(*e));
	e->path = strndup(path, plen);
	e->target = target ? strdup(target) : NULL;
	if (!e->path || (target && !e->target)) {
		free(e->path);
		free(e->target);
		return -ENOMEM;
	}
	e->mode = mode;
	e->size = size;
	e->mtime_sec = sec;
	e->mtime_nsec = nsec;
	if (digest && S_ISREG(mode))
		e->digest = *digest;
	b->n++;
	return 0;
}

int wfs_tree_builder_add(struct wfs_tree_builder *b, const char *path,
			 uint32_t mode, uint64_t size, int64_t mtime_sec,
			 uint32_t mtime_nsec, const struct wfs_digest *digest,
			 const char *target)
{
	size_t len = strlen(path);

	if (!path_ok(path, (uint32_t)len))
		return -EINVAL;
	if (!S_ISREG(mode) && !S_ISDIR(mode) && !S_ISLNK(mode))
		return -EINVAL;
	if (S_ISLNK(mode) != (target != NULL))
		return -EINVAL;
	return push(b, path, len, mode, S_ISDIR(mode) ? 0 : size, mtime_sec,
		    mtime_nsec, digest, target);
}

static int cmp_bent(const void *a, const void *b)
{
	return strcmp(((const struct bent *)a)->path,
		      ((const struct bent *)b)->path);
}

static struct bent *bfind(struct wfs_tree_builder *b, size_t n,
			  const char *path)
{
	struct bent key = { .path = (char *)path };
	return bsearch(&key, b->v, n, sizeof(*b->v), cmp_bent);
}

/* Add directories for every parent that was not given explicitly. */
static int add_parents(struct wfs_tree_builder *b, struct wfs_err *err)
{
	size_t n = b->n;
	int rc;

	qsort(b->v, n, sizeof(*b->v), cmp_bent);
	for (size_t i = 0; i < n; i++) {
		const char *p = b->v[i].path;
		for (const char *s = strchr(p, '/'); s;
		     s = strchr(s + 1, '/')) {
			char *pre = strndup(p, (size_t)(s - p));
			struct bent *hit;
			if (!pre)
				return -ENOMEM;
			hit = bfind(b, n, pre);
			if (hit && !S_ISDIR(hit->mode)) {
				rc = wfs_errf(
					err, -ENOTDIR,
					"%s: parent %s is not a directory", p,
					pre);
				free(pre);
				return rc;
			}
			/* Implicit parents found among the added ones are
			 * duplicates; they are dropped after sorting. */
			rc = hit ? 0
				 : push(b, pre, strlen(pre), S_IFDIR | 0755, 0,
					b->v[i].mtime_sec, b->v[i].mtime_nsec,
					NULL, NULL);
			free(pre);
			if (rc)
				return rc;
		}
	}
	qsort(b->v, b->n, sizeof(*b->v), cmp_bent);
	/* Drop repeated implicit directories (only those can repeat here),
	 * keeping the newest child mtime so the result is independent of the
	 * order entries were added in. */
	size_t w = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct bent *prev = w ? &b->v[w - 1] : NULL;
		if (prev && !strcmp(prev->path, b->v[i].path)) {
			if (b->v[i].mtime_sec > prev->mtime_sec ||
			    (b->v[i].mtime_sec == prev->mtime_sec &&
			     b->v[i].mtime_nsec > prev->mtime_nsec)) {
				prev->mtime_sec = b->v[i].mtime_sec;
				prev->mtime_nsec = b->v[i].mtime_nsec;
			}
			free(b->v[i].path);
			free(b->v[i].target);
			continue;
		}
		b->v[w++] = b->v[i];
	}
	b->n = w;
	return 0;
}

int wfs_tree_builder_finish(struct wfs_tree_builder *b, const char *name,
			    const char *version, const char *tags,
			    const char *distinfo, uint32_t flags, void **out,
			    size_t *out_len, struct wfs_err *err)
{
	struct wfs_buf strtab = { 0 };
	struct wfs_tree_hdr hdr;
	struct wfs_tree_ent *ents = NULL;
	uint64_t total = 0;
	char *data;
	size_t size;
	int rc;

	/* Explicit duplicates are errors; check before parents are added. */
	qsort(b->v, b->n, sizeof(*b->v), cmp_bent);
	for (size_t i = 1; i < b->n; i++)
		if (!strcmp(b->v[i - 1].path, b->v[i].path))
			return wfs_errf(err, -EEXIST, "%s: duplicate entry",
					b->v[i].path);
	rc = add_parents(b, err);
	if (rc)
		return rc;

	memset(&hdr, 0, sizeof(hdr));
	memcpy(hdr.magic, WFS_TREE_MAGIC, 8);
	hdr.version = WFS_TREE_VERSION;
	hdr.flags = flags;
	hdr.n_entries = (uint32_t)b->n;
	rc = wfs_buf_append(&strtab, "", 1);
#define ADDSTR(field, s)                                                \
	do {                                                            \
		if (!rc) {                                              \
			field = (uint32_t)strtab.len;                   \
			rc = wfs_buf_append(&strtab, s, strlen(s) + 1); \
		}                                                       \
	} while (0)
	ADDSTR(hdr.name_off, name);
	ADDSTR(hdr.version_off, version);
	ADDSTR(hdr.tags_off, tags);
	ADDSTR(hdr.distinfo_off, distinfo);
	if (!rc && b->n && !(ents = calloc(b->n, sizeof(*ents))))
		rc = -ENOMEM;
	for (size_t i = 0; !rc && i < b->n; i++) {
		struct bent *e = &b->v[i];
		ents[i].path_len = (uint32_t)strlen(e->path);
		ADDSTR(ents[i].path_off, e->path);
		if (e->target)
			ADDSTR(ents[i].target_off, e->target);
		ents[i].mode = e->mode;
		ents[i].mtime_sec = e->mtime_sec;
		ents[i].mtime_nsec = e->mtime_nsec;
		ents[i].size = e->size;
		memcpy(ents[i].digest, e->digest.b, WFS_DIGEST_LEN);
		if (S_ISREG(e->mode))
			total += e->size;
	}
#undef ADDSTR
	if (!rc && strtab.len > UINT32_MAX)
		rc = -EFBIG;
	if (rc)
		goto out;
	hdr.n_strtab = (uint32_t)strtab.len;
	hdr.total_size = total;
	size = sizeof(hdr) + b->n * sizeof(*ents) + strtab.len;
	data = malloc(size);
	if (!data) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(data, &hdr, sizeof(hdr));
	if (b->n)
		memcpy(data + sizeof(hdr), ents, b->n * sizeof(*ents));
	memcpy(data + sizeof(hdr) + b->n * sizeof(*ents), strtab.data,
	       strtab.len);
	*out = data;
	*out_len = size;
out:
	free(ents);
	wfs_buf_free(&strtab);
	return rc;
}

/* ---- loading ----------------------------------------------------------- */

/* Is there a NUL-terminated string at off, inside the string table? */
static int str_ok(const char *strtab, uint32_t n, uint32_t off)
{
	return off < n && memchr(strtab + off, '\0', n - off) != NULL;
}

int wfs_tree_parse(void *data, size_t size, const struct wfs_digest *id,
		   struct wfs_tree *t, struct wfs_err *err)
{
	const struct wfs_tree_hdr *h = data;
	const char *strtab;
	char hex[WFS_DIGEST_HEX + 1] = "(memory)";
	struct wfs_digest got;
	int rc = -EBADMSG;

	memset(t, 0, sizeof(*t));
	if (id)
		wfs_digest_hex(id, hex);
	if (size < sizeof(*h) || memcmp(h->magic, WFS_TREE_MAGIC, 8) != 0) {
		wfs_errf(err, rc, "tree %s: not a wheelfs tree", hex);
		goto fail;
	}
	if (h->version != WFS_TREE_VERSION) {
		wfs_errf(err, -EPROTONOSUPPORT,
			 "tree %s: format version %u is not supported (knows "
			 "%d)",
			 hex, h->version, WFS_TREE_VERSION);
		rc = -EPROTONOSUPPORT;
		goto fail;
	}
	if ((uint64_t)sizeof(*h) +
		    (uint64_t)h->n_entries * sizeof(struct wfs_tree_ent) +
		    h->n_strtab !=
	    size) {
		wfs_errf(err, rc, "tree %s: truncated or oversized", hex);
		goto fail;
	}
	if (id) {
		wfs_digest_buf(data, size, &got);
		if (!wfs_digest_equal(&got, id)) {
			wfs_errf(err, rc,
				 "tree %s: content does not match its name",
				 hex);
			goto fail;
		}
	}
	t->ents = (const void *)((const char *)data + sizeof(*h));
	strtab = (const char *)(t->ents + h->n_entries);
	if (!h->n_strtab || strtab[0] || strtab[h->n_strtab - 1] ||
	    !str_ok(strtab, h->n_strtab, h->name_off) ||
	    !str_ok(strtab, h->n_strtab, h->version_off) ||
	    !str_ok(strtab, h->n_strtab, h->tags_off) ||
	    !str_ok(strtab, h->n_strtab, h->distinfo_off)) {
		wfs_errf(err, rc, "tree %s: bad string table", hex);
		goto fail;
	}
	for (uint32_t i = 0; i < h->n_entries; i++) {
		const struct wfs_tree_ent *e = &t->ents[i];
		uint32_t type = e->mode & S_IFMT;
		if (e->path_off >= h->n_strtab ||
		    h->n_strtab - e->path_off <= e->path_len ||
		    !path_ok(strtab + e->path_off, e->path_len) ||
		    !str_ok(strtab, h->n_strtab, e->target_off) ||
		    (type != S_IFREG && type != S_IFDIR && type != S_IFLNK) ||
		    (e->mode & ~(uint32_t)(S_IFMT | 0777)) ||
		    (i && strcmp(strtab + t->ents[i - 1].path_off,
				 strtab + e->path_off) >= 0)) {
			wfs_errf(err, rc, "tree %s: entry %u is malformed", hex,
				 i);
			goto fail;
		}
	}
	t->data = data;
	t->size = size;
	t->hdr = h;
	t->strtab = strtab;
	if (id)
		t->id = *id;
	return 0;
fail:
	free(data);
	memset(t, 0, sizeof(*t));
	return rc;
}

void wfs_tree_name(const struct wfs_digest *id, char name[WFS_TREE_NAME_MAX])
{
	wfs_digest_hex(id, name);
	strcat(name, ".tree");
}

int wfs_tree_exists(const struct wfs_cache *c, const struct wfs_digest *id)
{
	char name[WFS_TREE_NAME_MAX];

	wfs_tree_name(id, name);
	if (faccessat(c->treesfd, name, F_OK, 0) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

int wfs_tree_load(struct wfs_cache *c, const struct wfs_digest *id,
		  struct wfs_tree *t, struct wfs_err *err)
{
	char name[WFS_TREE_NAME_MAX];
	char *buf;
	size_t len;
	int rc;

	wfs_tree_name(id, name);
	rc = wfs_read_file(c->treesfd, name, &buf, &len);
	if (rc)
		return wfs_errf(err, rc, "%s/trees/%s: %s", c->path, name,
				strerror(-rc));
	return wfs_tree_parse(buf, len, id, t, err);
}

void wfs_tree_free(struct wfs_tree *t)
{
	free(t->data);
	memset(t, 0, sizeof(*t));
}

const struct wfs_tree_ent *wfs_tree_find(const struct wfs_tree *t,
					 const char *path)
{
	size_t lo = 0, hi = t->hdr->n_entries;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(path, wfs_tree_path(t, &t->ents[mid]));
		if (!c)
			return &t->ents[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- the cache's trees/ directory -------------------------------------- */

int wfs_tree_store(struct wfs_cache *c, const void *data, size_t len,
		   struct wfs_digest *id)
{
	char name[WFS_TREE_NAME_MAX], tmp[64], *have = NULL;
	size_t have_len = 0;
	int fd, rc, replace;

	wfs_digest_buf(data, len, id);
	wfs_tree_name(id, name);
	/* A tree of that name that holds other bytes is damaged (wheelfs
	 * verify reports it): this one replaces it, so that adding the
	 * wheel again repairs the cache. */
	rc = wfs_read_file(c->treesfd, name, &have, &have_len);
	if (rc && rc != -ENOENT)
		return rc;
	replace = !rc;
	/* The blobs this tree names must be durable before the tree is,
	 * and before an existing tree is taken as done: this run may have
	 * published some of them again (after verify --repair). */
	rc = wfs_cache_sync(c);
	if (!rc && replace && have_len == len && !memcmp(have, data, len))
		rc = 1;
	free(have);
	if (rc)
		return rc < 0 ? rc : 0;
	fd = wfs_cache_tmpfile(c, tmp, 0444);
	if (fd < 0)
		return fd;
	rc = wfs_write_all(fd, data, len);
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && replace && renameat(c->tmpfd, tmp, c->treesfd, name) < 0)
		rc = -errno;
	else if (!rc && !replace &&
		 linkat(c->tmpfd, tmp, c->treesfd, name, 0) < 0 &&
		 errno != EEXIST)
		rc = -errno;
	unlinkat(c->tmpfd, tmp, 0);
	if (!rc && fsync(c->treesfd) < 0)
		rc = -errno;
	return rc;
}

int wfs_tree_list(struct wfs_cache *c,
		  int (*fn)(const struct wfs_digest *id, void *arg), void *arg)
{
	struct dirent *de;
	DIR *d;
	int rc = wfs_opendirat(c->treesfd, ".", 0, &d);

	if (rc)
		return rc;
	while (!rc && (de = readdir(d))) {
		char hex[WFS_DIGEST_HEX + 1];
		struct wfs_digest id;
		if (strlen(de->d_name) != WFS_DIGEST_HEX + 5 ||
		    strcmp(de->d_name + WFS_DIGEST_HEX, ".tree"))
			continue;
		memcpy(hex, de->d_name, WFS_DIGEST_HEX);
		hex[WFS_DIGEST_HEX] = '\0';
		if (wfs_digest_parse(hex, &id) == 0)
			rc = fn(&id, arg);
	}
	closedir(d);
	return rc;
}
