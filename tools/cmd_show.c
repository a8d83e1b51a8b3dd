/* cmd_show.c — `wheelfs show [--json] [--files] VENV`: what a venv's view
 * holds (per distribution: version, files, bytes, requested; totals; the
 * cache, python, pinned and mounted state), or with --files every path of
 * the composed view with its type, mode, size, mtime and blob. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "install.h"
#include "upper.h"
#include "venv.h"
#include "view.h"

/* A path for a text line: control bytes and backslashes escaped. */
static void put_path(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

static int show_files(const struct wfs_venv *venv, struct wfs_view *view,
		      struct wfs_cache *c, int json, struct wfs_err *err)
{
	struct wfs_composed cv;
	int rc;

	if (!c) /* every entry comes from a tree */
		return wfs_errf(err, -ENOENT,
				"%s: the cache %s is gone: --files lists its "
				"trees%s",
				venv->lib, view->cache,
				view->pinned
					? "; the venv is pinned, its files "
					  "are real under that directory"
					: "");
	rc = wfs_view_compose(view, c, &cv, err);
	if (rc)
		return rc;
	if (json) {
		printf("{\"lib\": ");
		wfs_json_str(stdout, venv->lib);
		printf(", \"cache\": ");
		wfs_json_str(stdout, c->path);
		printf(", \"python\": ");
		wfs_json_str(stdout, view->python);
		printf(", \"files\": [");
	}
	for (size_t i = 1; i < cv.n; i++) {
		const struct wfs_vent *e = &cv.v[i];
		const struct wfs_tree *t =
			e->dist == UINT32_MAX ? NULL : &cv.trees[e->dist];
		uint32_t mode = e->ent ? e->ent->mode : (S_IFDIR | 0755);
		char type = S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' : 'f';
		char blob[4096] = "-", rel[3 + WFS_DIGEST_HEX + 1];
		int64_t sec = e->ent ? e->ent->mtime_sec : 0;
		uint32_t nsec = e->ent ? e->ent->mtime_nsec : 0;
		uint64_t size = e->ent && !S_ISDIR(mode) ? e->ent->size : 0;
		const char *target =
			t && S_ISLNK(mode) ? wfs_tree_str(t, e->ent->target_off)
					   : NULL;
		if (type == 'f') {
			wfs_cache_blob_rel(wfs_vent_digest(e), rel);
			snprintf(blob, sizeof(blob), "%s/blobs/%s", c->path,
				 rel);
		}
		if (!json) {
			printf("%c %04o %" PRIu64 " %" PRId64 ".%09u %s ", type,
			       mode & 07777, size, sec, nsec, blob);
			put_path(e->path);
			if (target) {
				printf(" -> ");
				put_path(target);
			}
			putchar('\n');
			continue;
		}
		printf("%s\n  {\"path\": ", i > 1 ? "," : "");
		wfs_json_str(stdout, e->path);
		printf(", \"type\": \"%s\", \"mode\": %u, \"size\": %" PRIu64
		       ", \"mtime_sec\": %" PRId64 ", \"mtime_nsec\": %u",
		       type == 'd'   ? "dir"
		       : type == 'l' ? "symlink"
				     : "file",
		       mode & 07777, size, sec, nsec);
		printf(", \"dist\": ");
		if (t)
			wfs_json_str(stdout, view->dists[e->dist].name);
		else
			printf("null");
		printf(", \"blob\": ");
		if (type == 'f')
			wfs_json_str(stdout, blob);
		else
			printf("null");
		if (target) {
			printf(", \"target\": ");
			wfs_json_str(stdout, target);
		}
		printf("}");
	}
	if (json)
		printf("\n]}\n");
	wfs_composed_free(&cv);
	return 0;
}

static int show_dists(const struct wfs_venv *venv, struct wfs_view *view,
		      struct wfs_cache *c, int json, struct wfs_err *err)
{
	uint64_t *files = calloc(view->n + 1, sizeof(*files));
	uint64_t *bytes = calloc(view->n + 1, sizeof(*bytes)), tf = 0, tb = 0;
	char *known = calloc(view->n + 1, 1), hb[32], fb[32];
	char *gone = calloc(view->n + 1, 1);
	size_t unknown = 0, ngone = 0;
	struct wfs_whiteouts w;
	int rc = files && bytes && known && gone ? 0 : -ENOMEM, have_w = 0;

	if (!rc && (rc = wfs_wo_load(&w, venv->libfd, 1)))
		wfs_errf(err, rc, "%s/%s: %s", venv->lib, WFS_WHITEOUTS_FILE,
			 strerror(-rc));
	have_w = !rc;
	for (size_t i = 0; i < view->n && !rc; i++) {
		struct wfs_tree t;
		/* Without its tree (the cache is gone or pruned; fine for a
		 * pinned view) a distribution's counts are unknown. */
		rc = wfs_view_tree(view, i, c, &t, err);
		if (rc == -ENOENT) {
			err->msg[0] = '\0';
			rc = wfs_dist_removed(venv, view, i, NULL, &w);
			gone[i] = rc > 0;
			ngone += gone[i];
			unknown += !gone[i];
			rc = rc < 0 ? wfs_errf(err, rc, "%s/%s: %s", venv->lib,
					       venv->site, strerror(-rc))
				    : 0;
			continue;
		}
		if (rc)
			break;
		/* Deleted through the mount (pip uninstall): gone from the
		 * venv, though the view still names it. */
		rc = wfs_dist_removed(venv, view, i, &t, &w);
		if (rc) {
			wfs_tree_free(&t);
			gone[i] = rc > 0;
			ngone += gone[i];
			rc = rc < 0 ? wfs_errf(err, rc, "%s/%s: %s", venv->lib,
					       venv->site, strerror(-rc))
				    : 0;
			continue;
		}
		known[i] = 1;
		for (uint32_t k = 0; k < t.hdr->n_entries; k++)
			files[i] += S_ISREG(t.ents[k].mode) != 0;
		bytes[i] = t.hdr->total_size;
		tf += files[i];
		tb += bytes[i];
		wfs_tree_free(&t);
	}
	if (!rc && json) {
		printf("{\"venv\": ");
		wfs_json_str(stdout, venv->path);
		printf(", \"mounted\": %s, \"cache\": ",
		       venv->live ? "true" : "false");
		wfs_json_str(stdout, view->cache ? view->cache : "");
		printf(", \"cache_gone\": %s, \"python\": ",
		       c ? "false" : "true");
		wfs_json_str(stdout, view->python);
		printf(", \"pinned\": %s,\n \"distributions\": [",
		       view->pinned ? "true" : "false");
		for (size_t i = 0; i < view->n; i++) {
			char hex[WFS_DIGEST_HEX + 1];
			wfs_digest_hex(&view->dists[i].tree, hex);
			printf("%s\n  {\"name\": ", i ? "," : "");
			wfs_json_str(stdout, view->dists[i].name);
			printf(", \"version\": ");
			wfs_json_str(stdout, view->dists[i].version);
			printf(", \"tree\": \"%s\", \"requested\": %s, "
			       "\"removed\": %s, ",
			       hex, view->dists[i].requested ? "true" : "false",
			       gone[i] ? "true" : "false");
			if (known[i])
				printf("\"files\": %" PRIu64
				       ", \"bytes\": %" PRIu64 "}",
				       files[i], bytes[i]);
			else
				printf("\"files\": null, \"bytes\": null}");
		}
		printf("\n ],\n \"total\": {\"distributions\": %zu, \"files\": "
		       "%" PRIu64 ", \"bytes\": %" PRIu64 "}}\n",
		       view->n - ngone, tf, tb);
	} else if (!rc) {
		printf("venv:    %s (%s)\n", venv->path,
		       venv->live ? "mounted" : "not mounted");
		printf("cache:   %s%s\npython:  %s\npinned:  %s\n",
		       view->cache ? view->cache : "-", c ? "" : " (gone)",
		       view->python, view->pinned ? "yes" : "no");
		if (view->n)
			printf("\n%-32s %-16s %8s %11s  %s\n", "NAME",
			       "VERSION", "FILES", "SIZE", "REQUESTED");
		for (size_t i = 0; i < view->n; i++) {
			snprintf(fb, sizeof(fb), "%" PRIu64, files[i]);
			printf("%-32s %-16s %8s %11s  %s%s\n",
			       view->dists[i].name, view->dists[i].version,
			       known[i] ? fb : "-",
			       known[i] ? wfs_human_bytes(bytes[i], hb,
							  sizeof(hb))
					: "-",
			       view->dists[i].requested ? "yes" : "no",
			       gone[i] ? "  (removed: its .dist-info is gone "
					 "from the venv)"
				       : "");
		}
		printf("\n%zu distribution%s, %" PRIu64 " files, %s",
		       view->n - ngone, view->n - ngone == 1 ? "" : "s", tf,
		       wfs_human_bytes(tb, hb, sizeof(hb)));
		if (ngone)
			printf(" (not counting %zu removed)", ngone);
		if (unknown)
			printf(" (not counting %zu whose tree%s not in the "
			       "cache)",
			       unknown, unknown == 1 ? " is" : "s are");
		putchar('\n');
	}
	if (have_w)
		wfs_wo_free(&w);
	free(files);
	free(bytes);
	free(known);
	free(gone);
	return rc;
}

int wfs_cmd_show(int argc, char **argv, struct wfs_config *cfg)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "files", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct wfs_err err = { { 0 } };
	struct wfs_cache cache;
	struct wfs_venv venv;
	struct wfs_view view = { 0 };
	int opt, rc, json = 0, files = 0, opened, have_cache;

	(void)cfg;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'J':
			json = 1;
			break;
		case 'F':
			files = 1;
			break;
		default:
			return wfs_usage("show");
		}
	}
	if (argc - optind != 1)
		return wfs_usage("show");
	if (wfs_venv_open(argv[optind], NULL, WFS_VENV_VIEW_PYTHON, &venv,
			  &err))
		return wfs_fail("%s", err.msg);
	rc = wfs_venv_view_cache(&venv, WFS_CACHE_READONLY, &view, &cache,
				 &have_cache, &err);
	opened = !rc;
	if (!rc)
		rc = files ? show_files(&venv, &view,
					have_cache ? &cache : NULL, json, &err)
			   : show_dists(&venv, &view,
					have_cache ? &cache : NULL, json, &err);
	if (opened) {
		if (have_cache)
			wfs_cache_close(&cache);
		wfs_view_free(&view);
	}
	wfs_venv_close(&venv);
	return rc ? wfs_fail("%s", err.msg[0] ? err.msg : strerror(-rc)) : 0;
}
