/* cmd_adopt.c — `wheelfs adopt [--cache CACHE] [--python X.Y] [-q] VENV`:
 * turn a pip/uv-installed site-packages into cache blobs and a view
 * (fs/adopt.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "adopt.h"
#include "cli.h"

int wfs_cmd_adopt(int argc, char **argv, struct wfs_config *cfg)
{
	static const struct option longopts[] = {
		{ "cache", required_argument, NULL, 'c' },
		{ "python", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct wfs_adopt_opts opts = { .warn = wfs_cli_warn,
				       .report = wfs_cli_say };
	struct wfs_adopt_stats st;
	struct wfs_err err = { { 0 } };
	struct wfs_cache cache;
	struct wfs_venv venv;
	struct wfs_view view = { 0 };
	const char *cache_flag = NULL, *python = NULL;
	char *path = NULL, *dflt = NULL, hb[32];
	int opt, rc, existed, have_view, have_cache = 0, quiet = 0;

	while ((opt = getopt_long(argc, argv, "c:p:qh", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'c':
			cache_flag = optarg;
			break;
		case 'p':
			python = optarg;
			break;
		case 'q':
			quiet = 1;
			opts.report = NULL;
			break;
		default:
			return wfs_usage("adopt");
		}
	}
	if (argc - optind != 1)
		return wfs_usage("adopt");
	if (wfs_venv_open(argv[optind], python, WFS_VENV_LOCK, &venv, &err))
		return wfs_fail("%s", err.msg);
	rc = wfs_venv_view(&venv, 1, &view, &existed, &err);
	have_view = !rc;
	if (!rc) {
		dflt = wfs_config_cache_path(cfg, NULL);
		path = wfs_venv_cache_path(&view, cache_flag, dflt);
		rc = path ? wfs_cache_open(path, WFS_CACHE_CREATE, &cache, &err)
			  : wfs_errf(&err, -ENOMEM, "out of memory");
		have_cache = !rc;
		if (wfs_cache_ro_errno(rc)) {
			char why[sizeof(err.msg)];
			snprintf(why, sizeof(why), "%s", err.msg);
			err.msg[0] = '\0';
			wfs_errf(&err, rc,
				 "%s: adopt stores the venv's files in the "
				 "cache, which is read-only here (%.900s); "
				 "nothing adopted",
				 path, why);
		}
	}
	if (!rc)
		rc = wfs_venv_use_cache(&venv, &view, &cache, &err);
	if (!rc)
		rc = wfs_adopt(&venv, &cache, &view, &opts, &st, &err);
	if (!rc && !quiet)
		printf("adopted %llu distribution%s (%llu files), %llu already "
		       "in the view; freed %llu real files (%s), %llu kept\n",
		       (unsigned long long)st.dists, st.dists == 1 ? "" : "s",
		       (unsigned long long)st.files,
		       (unsigned long long)st.merged,
		       (unsigned long long)st.freed,
		       wfs_human_bytes(st.freed_bytes, hb, sizeof(hb)),
		       (unsigned long long)st.kept);
	if (have_cache)
		wfs_cache_close(&cache);
	if (have_view)
		wfs_view_free(&view);
	free(path);
	free(dflt);
	wfs_venv_close(&venv);
	return rc ? wfs_fail("%s", err.msg[0] ? err.msg : "failed") : 0;
}
