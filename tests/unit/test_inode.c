/* test_inode.c — the daemon's node table without a kernel (ll_inode.h):
 * nodes resolved over a real view, and detaching (wfs_fs_inval_path, as
 * the control socket's INVAL runs it) of a directory that only its child
 * holds: the kernel forgot the directory (FORGET) but still holds the
 * child.  Detaching must not free a node it still uses (a use-after-free
 * once, seen under ASan). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ll.h"
#include "view.h"

#define SP "python3.11/site-packages"

/* A view of one distribution "pkg" holding pkg/sub/x.py, over upperfd. */
static void make_view(struct wfs_cache *c, int upperfd)
{
	struct wfs_tree_builder *b = wfs_tree_builder_new();
	struct wfs_err err = { { 0 } };
	struct wfs_digest d, id;
	struct wfs_view v;
	void *out;
	size_t len;

	wfs_digest_buf("x", 1, &d);
	CHECK(wfs_cache_put_buf(c, &d, "x", 1, NULL) == 0);
	CHECK(wfs_tree_builder_add(b, "pkg/sub/x.py", S_IFREG | 0644, 1, 7, 0,
				   &d, NULL) == 0);
	CHECK(wfs_tree_builder_add(b, "pkg-1.0.dist-info/METADATA",
				   S_IFREG | 0644, 1, 7, 0, &d, NULL) == 0);
	CHECK(wfs_tree_builder_finish(b, "pkg", "1.0", "py3-none-any",
				      "pkg-1.0.dist-info", 0, &out, &len,
				      &err) == 0);
	CHECK(wfs_tree_store(c, out, len, &id) == 0);
	free(out);
	wfs_tree_builder_free(b);
	memset(&v, 0, sizeof(v));
	strcpy(v.python, "3.11");
	v.cache = strdup(c->path);
	CHECK(wfs_view_set(&v, "pkg", "1.0", &id, 1) == 0);
	CHECK(wfs_view_write(upperfd, &v) == 0);
	wfs_view_free(&v);
}

/* Resolve SP/pkg/sub as the kernel would have looked it up, then let the
 * kernel forget everything but sub (nlookup 1): pkg is held by its child
 * alone.  Returns sub. */
static struct wfs_node *hold_sub_only(struct wfs_fs *fs)
{
	const char *names[] = { "python3.11", "site-packages", "pkg", "sub" };
	struct wfs_node *n = fs->root, *got[4];

	for (int i = 0; i < 4; i++) {
		CHECK(wfs_node_resolve(fs, n, names[i], -1, &got[i], NULL) ==
		      0);
		if (!got[i])
			return NULL;
		n = got[i];
	}
	got[3]->nlookup = 1;
	for (int i = 3; i >= 0; i--)
		wfs_node_put(fs, got[i]);
	return got[3];
}

int main(void)
{
	char dir[] = "/tmp/wfs-test-inode-XXXXXX", path[256];
	struct wfs_err err = { { 0 } };
	struct wfs_lower *lower = NULL;
	struct wfs_cache c;
	struct wfs_fs fs;
	struct wfs_node *sub;
	int upperfd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/cache", dir);
	CHECK(wfs_cache_open(path, WFS_CACHE_CREATE, &c, &err) == 0);
	snprintf(path, sizeof(path), "%s/lib", dir);
	CHECK(mkdir(path, 0755) == 0);
	upperfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(upperfd >= 0);
	make_view(&c, upperfd);
	CHECK(wfs_lower_load(upperfd, path, &c, &lower, &err) == 0);
	CHECK(wfs_fs_init(&fs, upperfd, path, &c, lower, &err) == 0);

	/* INVAL of the directory: its child goes with it. */
	sub = hold_sub_only(&fs);
	CHECK(sub && !sub->detached);
	CHECK(wfs_fs_inval_path(&fs, SP "/pkg") == 0);
	CHECK(sub->detached && !sub->parent);
	/* Nothing held the directories above but their children: gone. */
	CHECK(!wfs_node_find(&fs, fs.root, "python3.11"));
	wfs_node_forget(&fs, sub, 1); /* the kernel's FORGET: freed now */

	/* INVAL of the child: its directory, held by it alone, goes too,
	 * while inval still notes it. */
	sub = hold_sub_only(&fs);
	CHECK(sub && !sub->detached);
	CHECK(wfs_fs_inval_path(&fs, SP "/pkg/sub") == 0);
	CHECK(sub->detached);
	wfs_node_forget(&fs, sub, 1);

	/* The lower layer still resolves afresh. */
	sub = hold_sub_only(&fs);
	CHECK(sub && !sub->detached && sub->lower >= 0);
	wfs_node_forget(&fs, sub, 1);

	wfs_fs_destroy(&fs);
	wfs_cache_close(&c);
	snprintf(path, sizeof(path), "chmod -R u+w '%s'; rm -rf '%s'", dir,
		 dir);
	CHECK(system(path) == 0);
	CHECK_DONE();
}
