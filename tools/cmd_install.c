/* cmd_install.c — `wheelfs install [--cache CACHE] [--python X.Y]
 * [--force-overwrite] [-j N] [-q] VENV WHEEL|DIR...`: ingest the sources
 * into the cache, then install them into VENV's view (fs/install.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "install.h"

int wfs_cmd_install(int argc, char **argv, struct wfs_config *cfg)
{
	static const struct option longopts[] = {
		{ "cache", required_argument, NULL, 'c' },
		{ "python", required_argument, NULL, 'p' },
		{ "force-overwrite", no_argument, NULL, 'f' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct wfs_ingest_opts iopts = { .warn = wfs_cli_warn };
	struct wfs_install_opts opts = { .warn = wfs_cli_warn,
					 .report = wfs_cli_say };
	struct wfs_ingest_item *items = NULL;
	struct wfs_install_src *srcs = NULL;
	struct wfs_err err = { { 0 } };
	struct wfs_cache cache = { .dirfd = -1 };
	struct wfs_venv venv;
	struct wfs_view view = { 0 };
	const char *cache_flag = NULL, *python = NULL;
	char *cache_path = NULL, *dflt = NULL, **abs = NULL;
	char why[sizeof(err.msg)] = "", warn[sizeof(why) + 1024];
	int jobs = cfg->jobs, opt, rc = WFS_EXIT_FAIL, existed, have_cache = 0;
	int ro; /* 1: the cache is read-only here */
	size_t n;

	while ((opt = getopt_long(argc, argv, "c:p:fj:qh", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'c':
			cache_flag = optarg;
			break;
		case 'p':
			python = optarg;
			break;
		case 'f':
			opts.force_overwrite = 1;
			break;
		case 'j':
			if (wfs_parse_jobs("install", optarg, &jobs))
				return WFS_EXIT_USAGE;
			break;
		case 'q':
			opts.report = NULL;
			break;
		default:
			return wfs_usage("install");
		}
	}
	if (argc - optind < 2)
		return wfs_usage("install");
	if (wfs_venv_open(argv[optind], python,
			  WFS_VENV_CREATE_LIB | WFS_VENV_LOCK, &venv, &err))
		return wfs_fail("%s", err.msg);
	if (wfs_venv_view(&venv, 1, &view, &existed, &err))
		goto fail;
	dflt = wfs_config_cache_path(cfg, NULL);
	cache_path = wfs_venv_cache_path(&view, cache_flag, dflt);
	if (!cache_path) {
		wfs_errf(&err, -ENOMEM, "out of memory");
		goto fail;
	}
	ro = wfs_cache_open(cache_path, WFS_CACHE_CREATE, &cache, &err);
	if (wfs_cache_ro_errno(ro)) {
		/* A cache shared read-only: what is already there installs,
		 * without its lock and the view's registration. */
		snprintf(why, sizeof(why), "%s", err.msg);
		err.msg[0] = '\0';
		ro = wfs_cache_open(cache_path, WFS_CACHE_READONLY, &cache,
				    &err);
		ro = ro ? ro : 1;
	}
	if (ro < 0)
		goto fail;
	have_cache = 1;
	if (wfs_venv_use_cache(&venv, &view, &cache, &err))
		goto fail;

	n = (size_t)(argc - optind - 1);
	items = calloc(n, sizeof(*items));
	srcs = calloc(n, sizeof(*srcs));
	abs = calloc(n, sizeof(*abs));
	if (!items || !srcs || !abs) {
		wfs_errf(&err, -ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		items[i].source = argv[optind + 1 + (int)i];
	iopts.max_file_size = cfg->max_file_size;
	iopts.max_total_size = cfg->max_total_size;
	wfs_ingest_many(&cache, items, n, jobs, &iopts, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (items[i].rc == -EROFS && ro) {
			wfs_fail("%s: not in the read-only cache %s (%s): add "
				 "it there where the cache is writable "
				 "(nothing installed)",
				 items[i].source, cache.path, why);
			continue;
		} else if (items[i].rc) {
			/* One line per bad source; the venv is left alone. */
			wfs_fail("%s (nothing installed)",
				 items[i].err.msg[0] ? items[i].err.msg
						     : items[i].source);
			continue;
		}
		srcs[i].source = items[i].source;
		srcs[i].tree = items[i].res.tree;
		srcs[i].requested = 1;
		if (stat(items[i].source, &st) == 0 && S_ISREG(st.st_mode))
			srcs[i].whl_abs = abs[i] = wfs_abspath(items[i].source);
	}
	for (size_t i = 0; i < n; i++)
		if (items[i].rc)
			goto out; /* reported above */
	if (wfs_install(&venv, &cache, &view, srcs, n, &opts, &err))
		goto fail;
	if (ro) {
		wfs_cache_unregistered_msg(warn, sizeof(warn), why, venv.lib,
					   "the trees and blobs its view uses");
		wfs_cli_warn(warn, NULL);
	}
	rc = 0;
	goto out;
fail:
	rc = wfs_fail("%s", err.msg[0] ? err.msg : "failed");
out:
	for (size_t i = 0; abs && i < n; i++)
		free(abs[i]);
	free(abs);
	free(items);
	free(srcs);
	free(cache_path);
	free(dflt);
	wfs_view_free(&view);
	if (have_cache)
		wfs_cache_close(&cache);
	wfs_venv_close(&venv);
	return rc;
}
