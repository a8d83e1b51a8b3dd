/* cmd_uninstall.c — `wheelfs uninstall [-q] VENV NAME...`: remove
 * distributions from VENV's view with their real files (fs/install.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "install.h"

int wfs_cmd_uninstall(int argc, char **argv, struct wfs_config *cfg)
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct wfs_install_opts opts = { .report = wfs_cli_say };
	struct wfs_err err = { { 0 } };
	struct wfs_cache cache;
	struct wfs_venv venv;
	struct wfs_view view = { 0 };
	int opt, rc, opened, have_cache;

	(void)cfg;
	while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			opts.report = NULL;
			break;
		default:
			return wfs_usage("uninstall");
		}
	}
	if (argc - optind < 2)
		return wfs_usage("uninstall");
	if (wfs_venv_open(argv[optind], NULL,
			  WFS_VENV_VIEW_PYTHON | WFS_VENV_LOCK, &venv, &err))
		return wfs_fail("%s", err.msg);
	/* A cache that is gone is no error: RECORDs drive the removal. */
	rc = wfs_venv_view_cache(&venv, 0, &view, &cache, &have_cache, &err);
	opened = !rc;
	if (!rc)
		rc = wfs_uninstall(&venv, have_cache ? &cache : NULL, &view,
				   argv + optind + 1,
				   (size_t)(argc - optind - 1), &opts, &err);
	if (opened) {
		if (have_cache)
			wfs_cache_close(&cache);
		wfs_view_free(&view);
	}
	wfs_venv_close(&venv);
	return rc ? wfs_fail("%s", err.msg[0] ? err.msg : "failed") : 0;
}
