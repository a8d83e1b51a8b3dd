/* test_view.c — the view record (round trip, rejection of malformed input)
 * and composition (scheme mapping, merged directories, conflicts). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "view.h"

static int write_file(int dirfd, const char *path, const char *s)
{
	return wfs_write_atomic(dirfd, path, s, strlen(s), 0644, 0);
}

/* Store a tree with the given regular files (all content `body`). */
static void store_tree_with(struct wfs_cache *c, const char *name,
			    const char *ver, const char **paths,
			    const char *body, struct wfs_digest *id)
{
	struct wfs_tree_builder *b = wfs_tree_builder_new();
	struct wfs_err err = { { 0 } };
	struct wfs_digest d;
	char di[128];
	void *out;
	size_t len;

	wfs_digest_buf(body, 1, &d);
	CHECK(wfs_cache_put_buf(c, &d, body, 1, NULL) == 0);
	for (; *paths; paths++)
		CHECK(wfs_tree_builder_add(b, *paths, S_IFREG | 0644, 1, 7, 0,
					   &d, NULL) == 0);
	snprintf(di, sizeof(di), "%s-%s.dist-info", name, ver);
	CHECK(wfs_tree_builder_finish(b, name, ver, "py3-none-any", di, 0, &out,
				      &len, &err) == 0);
	CHECK(wfs_tree_store(c, out, len, id) == 0);
	free(out);
	wfs_tree_builder_free(b);
}

static void store_tree(struct wfs_cache *c, const char *name, const char *ver,
		       const char **paths, struct wfs_digest *id)
{
	store_tree_with(c, name, ver, paths, "x", id);
}

int main(void)
{
	char dir[] = "/tmp/wfs-test-view-XXXXXX";
	struct wfs_err err = { { 0 } };
	struct wfs_view v, w;
	struct wfs_cache c;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0);

	/* No record: a clear error that says what to run. */
	CHECK(wfs_view_read(fd, dir, &v, &err) == -ENOENT);
	CHECK(strstr(err.msg, "wheelfs install") != NULL);

	/* Round trip. */
	struct wfs_digest t1, t2;
	wfs_digest_buf("t1", 2, &t1);
	wfs_digest_buf("t2", 2, &t2);
	memset(&v, 0, sizeof(v));
	strcpy(v.python, "3.11");
	v.cache = strdup("/var/cache/wheelfs");
	CHECK(wfs_view_set(&v, "Zeta_Pkg", "2.0", &t2, 0) == 0);
	CHECK(wfs_view_set(&v, "alpha", "1.0", &t1, 1) == 0);
	CHECK(wfs_view_set(&v, "zeta-pkg", "2.1", &t1, 1) == 0); /* replaces */
	CHECK(v.n == 2);
	CHECK(wfs_view_find(&v, "ZETA.PKG") >= 0);
	CHECK(wfs_view_write(fd, &v) == 0);
	CHECK(wfs_view_read(fd, dir, &w, &err) == 0);
	CHECK(w.n == 2 && !strcmp(w.python, "3.11") && !w.pinned);
	CHECK(w.cache && !strcmp(w.cache, "/var/cache/wheelfs"));
	CHECK(!strcmp(w.dists[0].name, "alpha") && w.dists[0].requested == 1);
	CHECK(!strcmp(w.dists[1].version, "2.1") &&
	      wfs_digest_equal(&w.dists[1].tree, &t1));
	wfs_view_remove(&w, 0);
	CHECK(w.n == 1 && wfs_view_find(&w, "alpha") < 0);
	wfs_view_free(&w);
	wfs_view_free(&v);

	/* Malformed records are refused with the file and line. */
	const char *bad[] = {
		"wheelfs-view 2\npython 3.11\n",
		"not a view\n",
		"wheelfs-view 1\n",
		"wheelfs-view 1\npython three\n",
		"wheelfs-view 1\npython 3.11\ndist a 1.0 nothex 0\n",
		"wheelfs-view 1\npython 3.11\nbogus line\n",
		"wheelfs-view 1\npython 3.11\ndist a 1.0\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wfs_err e = { { 0 } };
		CHECK(write_file(fd, WFS_VIEW_FILE, bad[i]) == 0);
		int rc = wfs_view_read(fd, dir, &w, &e);
		if (rc == 0) {
			fprintf(stderr, "accepted view #%zu\n", i);
			wfs_view_free(&w);
		}
		CHECK(rc < 0 && strstr(e.msg, ".wheelfs/view") != NULL);
	}

	/* Composition. */
	char cdir[256];
	snprintf(cdir, sizeof(cdir), "%s/cache", dir);
	CHECK(wfs_cache_open(cdir, WFS_CACHE_CREATE, &c, &err) == 0);
	const char *a_paths[] = {
		"a/__init__.py",
		"a-1.0.dist-info/RECORD",
		"a-1.0.dist-info/METADATA",
		"a-1.0.data/purelib/a_extra.py",
		"a-1.0.data/platlib/shared/x.so",
		"a-1.0.data/scripts/tool",
		"a-1.0.data/headers/a.h",
		"a-1.0.data/data/share/a.txt",
		NULL,
	};
	const char *b_paths[] = {
		"b/__init__.py",
		"shared/y.py",
		"b-2.0.dist-info/METADATA",
		NULL,
	};
	const char *c_paths[] = { "c/__init__.py", "a/__init__.py",
				  "c-1.dist-info/METADATA", NULL };
	struct wfs_digest ta, tb, tc;
	store_tree(&c, "a", "1.0", a_paths, &ta);
	store_tree(&c, "b", "2.0", b_paths, &tb);
	store_tree_with(&c, "c", "1", c_paths, "y", &tc);

	struct wfs_composed cv;
	memset(&v, 0, sizeof(v));
	strcpy(v.python, "3.11");
	CHECK(wfs_view_set(&v, "a", "1.0", &ta, 1) == 0);
	CHECK(wfs_view_set(&v, "b", "2.0", &tb, 1) == 0);
	CHECK(wfs_view_compose(&v, &c, &cv, &err) == 0);
	const char *sp = "python3.11/site-packages";
	char p[256];
#define HAS(rel)                                   \
	(snprintf(p, sizeof(p), "%s/%s", sp, rel), \
	 wfs_composed_find(&cv, p) >= 0)
	CHECK(wfs_composed_find(&cv, "") == 0);
	CHECK(wfs_composed_find(&cv, "python3.11") > 0);
	CHECK(wfs_composed_find(&cv, sp) > 0);
	CHECK(HAS("a/__init__.py"));
	CHECK(HAS("a_extra.py"));  /* .data/purelib */
	CHECK(HAS("shared/x.so")); /* .data/platlib */
	CHECK(HAS("shared/y.py")); /* merged with b's shared/ */
	CHECK(HAS("a-1.0.dist-info/METADATA"));
	CHECK(!HAS("a-1.0.dist-info/RECORD")); /* the venv owns RECORD */
	CHECK(!HAS("a-1.0.data/scripts/tool"));
	CHECK(!HAS("a-1.0.data"));
	for (size_t i = 0; i < cv.n; i++) {
		CHECK(strncmp(cv.v[i].path, "python3.11", 10) == 0 || i == 0);
		if (i) {
			CHECK(strcmp(cv.v[i - 1].path, cv.v[i].path) < 0);
			CHECK(cv.v[cv.v[i].parent].ent == NULL ||
			      S_ISDIR(cv.v[cv.v[i].parent].ent->mode));
		}
	}
	long xi = (snprintf(p, sizeof(p), "%s/shared/x.so", sp),
		   wfs_composed_find(&cv, p));
	CHECK(xi > 0 && !strcmp(cv.v[xi].name, "x.so"));
	CHECK(xi > 0 && !strcmp(cv.v[cv.v[xi].parent].name, "shared"));
	wfs_composed_free(&cv);

	/* c claims a/__init__.py too: a conflict naming both. */
	CHECK(wfs_view_set(&v, "c", "1", &tc, 1) == 0);
	err.msg[0] = '\0';
	CHECK(wfs_view_compose(&v, &c, &cv, &err) == -EEXIST);
	CHECK(strstr(err.msg, "a/__init__.py") && strstr(err.msg, " a ") &&
	      strstr(err.msg, " c"));
	/* ...but the same file from two distributions (a namespace
	 * package's __init__.py) is no conflict: one serves. */
	const char *d_paths[] = { "d/__init__.py", "a/__init__.py",
				  "d-1.dist-info/METADATA", NULL };
	struct wfs_digest td;
	store_tree(&c, "d", "1", d_paths, &td);
	wfs_view_remove(&v, (size_t)wfs_view_find(&v, "c"));
	CHECK(wfs_view_set(&v, "d", "1", &td, 1) == 0);
	err.msg[0] = '\0';
	CHECK(wfs_view_compose(&v, &c, &cv, &err) == 0);
	CHECK(HAS("a/__init__.py") && HAS("d/__init__.py"));
	wfs_composed_free(&cv);
	wfs_view_free(&v);

	wfs_cache_close(&c);
	close(fd);
	wfs_rmtree(AT_FDCWD, dir);
	CHECK_DONE();
}
