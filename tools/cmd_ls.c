/* cmd_ls.c — `wheelfs ls [--json] CACHE`: the wheels a cache holds. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tree.h"

struct row {
	char *name, *version, *tags;
	uint64_t files, size;
	char id[WFS_DIGEST_HEX + 1];
};

struct ls_ctx {
	struct wfs_cache *cache;
	struct row *rows;
	size_t n, cap;
	int bad;
};

static int collect(const struct wfs_digest *id, void *arg)
{
	struct ls_ctx *lc = arg;
	struct wfs_err err = { { 0 } };
	struct wfs_tree t;
	struct row *r;

	if (wfs_tree_load(lc->cache, id, &t, &err)) {
		wfs_fail("%s", err.msg);
		lc->bad = 1;
		return 0;
	}
	if (lc->n == lc->cap) {
		size_t cap = lc->cap ? 2 * lc->cap : 32;
		struct row *v = realloc(lc->rows, cap * sizeof(*v));
		if (!v) {
			wfs_tree_free(&t);
			return -ENOMEM;
		}
		lc->rows = v;
		lc->cap = cap;
	}
	r = &lc->rows[lc->n++];
	r->name = strdup(wfs_tree_str(&t, t.hdr->name_off));
	r->version = strdup(wfs_tree_str(&t, t.hdr->version_off));
	r->tags = strdup(wfs_tree_str(&t, t.hdr->tags_off));
	r->files = 0;
	for (uint32_t i = 0; i < t.hdr->n_entries; i++)
		r->files += !S_ISDIR(t.ents[i].mode);
	r->size = t.hdr->total_size;
	wfs_digest_hex(id, r->id);
	wfs_tree_free(&t);
	return r->name && r->version && r->tags ? 0 : -ENOMEM;
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (!c)
		c = strverscmp(x->version, y->version);
	if (!c)
		c = strcmp(x->tags, y->tags);
	return c ? c : strcmp(x->id, y->id);
}

int wfs_cmd_ls(int argc, char **argv, struct wfs_config *cfg)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct wfs_err err = { { 0 } };
	struct wfs_cache cache;
	struct ls_ctx lc = { .cache = &cache };
	int json = 0, opt, rc;
	char *path;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt != 'J')
			return wfs_usage("ls");
		json = 1;
	}
	if (argc - optind > 1)
		return wfs_usage("ls");
	path = wfs_config_cache_path(cfg, argc > optind ? argv[optind] : NULL);
	if (!path)
		return wfs_fail("out of memory");
	rc = wfs_cache_open(path, WFS_CACHE_READONLY, &cache, &err);
	free(path);
	if (rc)
		return wfs_fail("%s", err.msg);
	rc = wfs_tree_list(&cache, collect, &lc);
	if (rc)
		wfs_fail("%s/trees: %s", cache.path, strerror(-rc));
	if (lc.n)
		qsort(lc.rows, lc.n, sizeof(*lc.rows), cmp_row);
	if (json)
		putchar('[');
	for (size_t i = 0; i < lc.n; i++) {
		struct row *r = &lc.rows[i];
		char hb[32];
		if (json) {
			printf("%s\n  {\"name\": ", i ? "," : "");
			wfs_json_str(stdout, r->name);
			printf(", \"version\": ");
			wfs_json_str(stdout, r->version);
			printf(", \"tags\": ");
			wfs_json_str(stdout, r->tags);
			printf(", \"files\": %llu, \"size\": %llu, \"tree\": "
			       "\"%s\"}",
			       (unsigned long long)r->files,
			       (unsigned long long)r->size, r->id);
		} else {
			printf("%-24s %-12s %-28s %6llu files %10s\n", r->name,
			       r->version, r->tags,
			       (unsigned long long)r->files,
			       wfs_human_bytes(r->size, hb, sizeof(hb)));
		}
		free(r->name);
		free(r->version);
		free(r->tags);
	}
	if (json)
		printf("%s]\n", lc.n ? "\n" : "");
	free(lc.rows);
	wfs_cache_close(&cache);
	return rc || lc.bad ? WFS_EXIT_FAIL : 0;
}
