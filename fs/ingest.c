/* ingest.c — a small thread pool over wfs_wheel_ingest(), behind the wheel
 * index (CACHE/wheels/, see ingest.h) that lets a wheel already in the cache
 * cost one hash of its file instead of an inflate. */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree.h"

struct pool {
	struct wfs_cache *cache;
	struct wfs_ingest_item *items;
	size_t n, next, done;
	const struct wfs_ingest_opts *opts;
	wfs_ingest_progress_fn progress;
	void *arg;
	pthread_mutex_t lock;
};

static void *worker(void *p)
{
	struct pool *pl = p;

	for (;;) {
		struct wfs_ingest_item *it;
		pthread_mutex_lock(&pl->lock);
		if (pl->next == pl->n) {
			pthread_mutex_unlock(&pl->lock);
			return NULL;
		}
		it = &pl->items[pl->next++];
		pthread_mutex_unlock(&pl->lock);

		it->err.msg[0] = '\0';
		it->rc = wfs_wheel_ingest(pl->cache, it->source, pl->opts,
					  &it->res, &it->err);

		pthread_mutex_lock(&pl->lock);
		pl->done++;
		if (pl->progress)
			pl->progress(pl->done, pl->n, it, pl->arg);
		pthread_mutex_unlock(&pl->lock);
	}
}

static int run_pool(struct wfs_cache *c, struct wfs_ingest_item *items,
		    size_t n, int jobs, const struct wfs_ingest_opts *opts,
		    wfs_ingest_progress_fn progress, void *arg)
{
	struct pool pl = { .cache = c,
			   .items = items,
			   .n = n,
			   .opts = opts,
			   .progress = progress,
			   .arg = arg };
	pthread_t *th;
	size_t nth;

	if (jobs <= 0)
		jobs = wfs_ncpus();
	nth = (size_t)jobs < n ? (size_t)jobs : n;
	pthread_mutex_init(&pl.lock, NULL);
	th = calloc(nth ? nth : 1, sizeof(*th));
	if (!th) {
		pthread_mutex_destroy(&pl.lock);
		return -ENOMEM;
	}
	/* The calling thread works too; nth-1 helpers join it. */
	size_t started = 0;
	for (size_t i = 1; i < nth; i++)
		if (pthread_create(&th[i], NULL, worker, &pl) == 0)
			th[started++ + 1] = th[i];
	worker(&pl);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i + 1], NULL);
	free(th);
	pthread_mutex_destroy(&pl.lock);
	return 0;
}

/* Items that could not be run at all (out of memory) fail with rc. */
static void fail_all(struct wfs_ingest_item *items, size_t n, int rc)
{
	for (size_t i = 0; i < n; i++) {
		items[i].rc = rc;
		wfs_errf(&items[i].err, rc, "%s: %s", items[i].source,
			 strerror(-rc));
	}
}

/* ---- the wheel index ---------------------------------------------------- */

#define INDEX_DIR "wheels"

/* XXH3-128 of basename, '\0' and the file's bytes (read, not mapped: a
 * file truncated meanwhile must not kill us with SIGBUS).  -EISDIR for a
 * directory source. */
static int wheel_key(const char *source, struct wfs_digest *key)
{
	const char *base = strrchr(source, '/');
	struct wfs_hasher *h;
	struct stat st;
	char *buf;
	ssize_t n;
	int fd, rc = 0;

	base = base ? base + 1 : source;
	fd = open(source, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if (rc) {
		close(fd);
		return rc;
	}
	h = wfs_hasher_new(0);
	buf = malloc(1 << 20);
	if (!h || !buf) {
		rc = -ENOMEM;
		goto out;
	}
	wfs_hasher_update(h, base, strlen(base) + 1);
	while ((n = read(fd, buf, 1 << 20)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		wfs_hasher_update(h, buf, (size_t)n);
	}
	wfs_hasher_final(h, key, NULL);
out:
	free(buf);
	wfs_hasher_free(h);
	close(fd);
	return rc;
}

/* Fill it->res from an indexed tree when it is usable; 1 on a hit. */
static int lookup(struct wfs_cache *c, int idxfd, const struct wfs_digest *key,
		  struct wfs_ingest_item *it)
{
	char hex[WFS_DIGEST_HEX + 1], target[WFS_DIGEST_HEX + 2], tags[400];
	char rel[3 + WFS_DIGEST_HEX + 1], n1[128], n2[128];
	const char *base = strrchr(it->source, '/');
	struct wfs_wheel_name wn;
	struct wfs_digest id;
	struct wfs_tree t;
	struct stat st;
	ssize_t n;
	int ok = 1;

	base = base ? base + 1 : it->source;
	wfs_digest_hex(key, hex);
	n = readlinkat(idxfd, hex, target, sizeof(target) - 1);
	if (n != WFS_DIGEST_HEX)
		return 0;
	target[n] = '\0';
	if (wfs_digest_parse(target, &id) || wfs_wheel_name_parse(base, &wn) ||
	    wfs_tree_load(c, &id, &t, NULL))
		return 0;
	snprintf(tags, sizeof(tags), "%s%s%s", wn.build, wn.build[0] ? "-" : "",
		 wn.tags);
	wfs_wheel_normalize(wn.name, n1, sizeof(n1));
	wfs_wheel_normalize(wfs_tree_str(&t, t.hdr->name_off), n2, sizeof(n2));
	if (strcmp(n1, n2) ||
	    strcmp(wn.version, wfs_tree_str(&t, t.hdr->version_off)) ||
	    strcmp(tags, wfs_tree_str(&t, t.hdr->tags_off)))
		ok = 0;
	memset(&it->res, 0, sizeof(it->res));
	for (uint32_t i = 0; ok && i < t.hdr->n_entries; i++) {
		if (!S_ISREG(t.ents[i].mode))
			continue;
		wfs_cache_blob_rel((const struct wfs_digest *)t.ents[i].digest,
				   rel);
		if (fstatat(c->blobsfd, rel, &st, 0) < 0)
			ok = 0;
		it->res.files++;
	}
	if (ok) {
		it->res.tree = id;
		snprintf(it->res.name, sizeof(it->res.name), "%s",
			 wfs_tree_str(&t, t.hdr->name_off));
		snprintf(it->res.version, sizeof(it->res.version), "%s",
			 wfs_tree_str(&t, t.hdr->version_off));
		snprintf(it->res.tags, sizeof(it->res.tags), "%.255s", tags);
		it->res.bytes = t.hdr->total_size;
		it->rc = 0;
		it->err.msg[0] = '\0';
	}
	wfs_tree_free(&t);
	return ok;
}

/* Publish key -> tree (a symlink, renamed into place). */
static void remember(struct wfs_cache *c, int idxfd,
		     const struct wfs_digest *key,
		     const struct wfs_digest *tree)
{
	char hex[WFS_DIGEST_HEX + 1], thex[WFS_DIGEST_HEX + 1], tmp[64];
	int fd;

	if (idxfd < 0 || c->tmpfd < 0)
		return;
	fd = wfs_cache_tmpfile(c, tmp, 0600);
	if (fd < 0)
		return;
	close(fd);
	unlinkat(c->tmpfd, tmp, 0);
	wfs_digest_hex(key, hex);
	wfs_digest_hex(tree, thex);
	if (symlinkat(thex, c->tmpfd, tmp) == 0 &&
	    renameat(c->tmpfd, tmp, idxfd, hex) < 0)
		unlinkat(c->tmpfd, tmp, 0);
}

int wfs_ingest_many(struct wfs_cache *c, struct wfs_ingest_item *items,
		    size_t n, int jobs, const struct wfs_ingest_opts *opts,
		    wfs_ingest_progress_fn progress, void *arg)
{
	struct wfs_digest *keys = calloc(n ? n : 1, sizeof(*keys));
	struct wfs_ingest_item *miss = calloc(n ? n : 1, sizeof(*miss));
	size_t *from = calloc(n ? n : 1, sizeof(*from)), nmiss = 0;
	char *haskey = calloc(n ? n : 1, 1);
	int idxfd, rc = 0;

	if (!keys || !miss || !from || !haskey) {
		rc = -ENOMEM;
		fail_all(items, n, rc);
		goto out;
	}
	idxfd = openat(c->dirfd, INDEX_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (idxfd < 0 && errno == ENOENT && !c->readonly &&
	    (mkdirat(c->dirfd, INDEX_DIR, 0755) == 0 || errno == EEXIST))
		idxfd = openat(c->dirfd, INDEX_DIR,
			       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; i < n; i++) {
		haskey[i] = wheel_key(items[i].source, &keys[i]) == 0;
		if (haskey[i] && idxfd >= 0 &&
		    lookup(c, idxfd, &keys[i], &items[i]))
			continue;
		miss[nmiss] = items[i];
		from[nmiss++] = i;
	}
	if (nmiss)
		rc = run_pool(c, miss, nmiss, jobs, opts, progress, arg);
	if (rc)
		fail_all(miss, nmiss, rc);
	for (size_t m = 0; m < nmiss; m++) {
		size_t i = from[m];
		struct wfs_digest again;
		items[i] = miss[m];
		/* Only if the file is still what was hashed: one replaced
		 * meanwhile must not map its old bytes to the new tree. */
		if (!items[i].rc && haskey[i] &&
		    !wheel_key(items[i].source, &again) &&
		    wfs_digest_equal(&again, &keys[i]))
			remember(c, idxfd, &keys[i], &items[i].res.tree);
	}
	if (idxfd >= 0)
		close(idxfd);
	for (size_t i = 0; !rc && i < n; i++)
		if (items[i].rc)
			rc = items[i].rc;
out:
	free(keys);
	free(miss);
	free(from);
	free(haskey);
	return rc;
}
