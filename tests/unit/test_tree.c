/* test_tree.c — the tree format: build, serialize, parse, find; and the
 * rejection of malformed or tampered input. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tree.h"

static void *build(size_t *len, int dup)
{
	struct wfs_tree_builder *b = wfs_tree_builder_new();
	struct wfs_digest d1, d2;
	void *out = NULL;
	struct wfs_err err = { { 0 } };

	wfs_digest_buf("one", 3, &d1);
	wfs_digest_buf("two", 3, &d2);
	/* Added out of order, without parents. */
	CHECK(wfs_tree_builder_add(b, "pkg/sub/mod.py", S_IFREG | 0644, 3, 100,
				   5, &d2, NULL) == 0);
	CHECK(wfs_tree_builder_add(b, "pkg/__init__.py", S_IFREG | 0644, 3, 200,
				   0, &d1, NULL) == 0);
	CHECK(wfs_tree_builder_add(b, "pkg-1.0.dist-info/RECORD",
				   S_IFREG | 0644, 3, 50, 0, &d1, NULL) == 0);
	CHECK(wfs_tree_builder_add(b, "pkg/run", S_IFREG | 0755, 3, 300, 0, &d1,
				   NULL) == 0);
	CHECK(wfs_tree_builder_add(b, "pkg/link", S_IFLNK | 0777, 6, 300, 0,
				   NULL, "sub/mod.py") == 0);
	/* Invalid additions are refused up front. */
	CHECK(wfs_tree_builder_add(b, "/abs", S_IFREG | 0644, 0, 0, 0, &d1,
				   NULL) == -EINVAL);
	CHECK(wfs_tree_builder_add(b, "trailing/", S_IFREG | 0644, 0, 0, 0, &d1,
				   NULL) == -EINVAL);
	CHECK(wfs_tree_builder_add(b, "fifo", S_IFIFO | 0644, 0, 0, 0, NULL,
				   NULL) == -EINVAL);
	if (dup)
		CHECK(wfs_tree_builder_add(b, "pkg/run", S_IFREG | 0644, 3, 0,
					   0, &d2, NULL) == 0);
	int rc = wfs_tree_builder_finish(b, "pkg", "1.0", "py3-none-any",
					 "pkg-1.0.dist-info", WFS_TREE_PURELIB,
					 &out, len, &err);
	if (dup) {
		CHECK(rc == -EEXIST);
		CHECK(strstr(err.msg, "pkg/run") != NULL);
	} else {
		CHECK(rc == 0);
	}
	wfs_tree_builder_free(b);
	return out;
}

int main(void)
{
	struct wfs_err err = { { 0 } };
	struct wfs_tree t;
	struct wfs_digest id;
	size_t len;
	void *data = build(&len, 0);

	CHECK(build(&(size_t){ 0 }, 1) == NULL);
	CHECK(data != NULL);
	if (!data)
		CHECK_DONE();
	wfs_digest_buf(data, len, &id);

	/* Round trip. */
	void *copy = malloc(len);
	memcpy(copy, data, len);
	CHECK(wfs_tree_parse(copy, len, &id, &t, &err) == 0);
	CHECK(t.hdr->n_entries == 8); /* 5 + pkg, pkg/sub, dist-info dir */
	CHECK(!strcmp(wfs_tree_str(&t, t.hdr->name_off), "pkg"));
	CHECK(!strcmp(wfs_tree_str(&t, t.hdr->version_off), "1.0"));
	CHECK(!strcmp(wfs_tree_str(&t, t.hdr->tags_off), "py3-none-any"));
	CHECK(t.hdr->flags == WFS_TREE_PURELIB);
	CHECK(t.hdr->total_size == 12);
	for (uint32_t i = 1; i < t.hdr->n_entries; i++)
		CHECK(strcmp(wfs_tree_path(&t, &t.ents[i - 1]),
			     wfs_tree_path(&t, &t.ents[i])) < 0);
	const struct wfs_tree_ent *e = wfs_tree_find(&t, "pkg/sub/mod.py");
	CHECK(e && e->size == 3 && e->mtime_sec == 100 && e->mtime_nsec == 5);
	struct wfs_digest d2;
	wfs_digest_buf("two", 3, &d2);
	CHECK(e && !memcmp(e->digest, d2.b, 16));
	e = wfs_tree_find(&t, "pkg/sub");
	CHECK(e && S_ISDIR(e->mode) && e->mtime_sec == 100);
	e = wfs_tree_find(&t, "pkg");
	CHECK(e && S_ISDIR(e->mode) && e->mtime_sec == 300); /* newest child */
	e = wfs_tree_find(&t, "pkg/link");
	CHECK(e && S_ISLNK(e->mode) &&
	      !strcmp(wfs_tree_str(&t, e->target_off), "sub/mod.py"));
	e = wfs_tree_find(&t, "pkg/run");
	CHECK(e && (e->mode & 0777) == 0755);
	CHECK(wfs_tree_find(&t, "pkg/missing") == NULL);
	CHECK(wfs_tree_find(&t, "") == NULL);
	wfs_tree_free(&t);

	/* The same input gives the same bytes (so the same tree id). */
	size_t len2;
	void *again = build(&len2, 0);
	CHECK(len2 == len && !memcmp(again, data, len));
	free(again);

	/* Rejections.  Each case mutates a fresh copy. */
	struct {
		const char *what;
		size_t off; /* byte to change */
		uint8_t val;
		int skip_id; /* tamper without the digest check */
		size_t cut;  /* truncate by this much instead */
	} bad[] = {
		{ "magic", 0, 'X', 1, 0 },
		{ "version", 8, 9, 1, 0 },
		{ "entry count", 16, 200, 1, 0 },
		{ "digest", 64 + 56 * 3 + 20, 0x7f, 0, 0 },
		{ "truncated", 0, 0, 1, 1 },
		{ "path offset", 64 + 1, 0xff, 1, 0 }, /* ents[0].path_off */
		{ "mode type", 64 + 56 + 12 + 1, 0x10, 1,
		  0 },					/* ents[1].mode */
		{ "setuid", 64 + 56 + 13, 0x08, 1, 0 }, /* S_ISUID bit */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wfs_err e2 = { { 0 } };
		size_t l = len - bad[i].cut;
		uint8_t *c = malloc(len);
		memcpy(c, data, len);
		if (!bad[i].cut)
			c[bad[i].off] ^= bad[i].val ? bad[i].val : 1;
		int rc = wfs_tree_parse(c, l, bad[i].skip_id ? NULL : &id, &t,
					&e2);
		if (rc == 0) {
			fprintf(stderr, "accepted a tree with a bad %s\n",
				bad[i].what);
			wfs_tree_free(&t);
		}
		CHECK(rc < 0);
		CHECK(e2.msg[0] != '\0');
	}

	/* Entries out of order are refused: swap two entries' bytes. */
	uint8_t *c = malloc(len);
	memcpy(c, data, len);
	uint8_t tmp[56];
	memcpy(tmp, c + 64, 56);
	memcpy(c + 64, c + 64 + 56, 56);
	memcpy(c + 64 + 56, tmp, 56);
	CHECK(wfs_tree_parse(c, len, NULL, &t, &err) == -EBADMSG);

	/* A path with a ".." or empty component cannot even be added. */
	struct wfs_tree_builder *b = wfs_tree_builder_new();
	struct wfs_digest d;
	wfs_digest_buf("x", 1, &d);
	CHECK(wfs_tree_builder_add(b, "a/../b", S_IFREG | 0644, 1, 0, 0, &d,
				   NULL) == -EINVAL);
	CHECK(wfs_tree_builder_add(b, "a//b", S_IFREG | 0644, 1, 0, 0, &d,
				   NULL) == -EINVAL);
	CHECK(wfs_tree_builder_add(b, "./b", S_IFREG | 0644, 1, 0, 0, &d,
				   NULL) == -EINVAL);
	wfs_tree_builder_free(b);

	free(data);
	CHECK_DONE();
}
