/* cmd_gc.c — `wheelfs gc [--prune] [--dry-run] [CACHE]`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gc.h"

int wfs_cmd_gc(int argc, char **argv, struct wfs_config *cfg)
{
	static const struct option longopts[] = {
		{ "prune", no_argument, NULL, 'p' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct wfs_err err = { { 0 } };
	struct wfs_gc_stats st;
	struct wfs_cache cache;
	int prune = 0, dry = 0, opt, rc;
	char *path, hb[32];

	while ((opt = getopt_long(argc, argv, "nh", longopts, NULL)) != -1) {
		if (opt == 'p')
			prune = 1;
		else if (opt == 'n')
			dry = 1;
		else
			return wfs_usage("gc");
	}
	if (argc - optind > 1)
		return wfs_usage("gc");
	path = wfs_config_cache_path(cfg, argc > optind ? argv[optind] : NULL);
	if (!path)
		return wfs_fail("out of memory");
	rc = wfs_cache_open(path, 0, &cache, &err);
	free(path);
	if (rc)
		return wfs_fail("%s", err.msg);
	rc = wfs_gc(&cache, prune, dry, wfs_cli_report, NULL, &st);
	if (rc) {
		wfs_fail("%s: gc stopped: %s", cache.path, strerror(-rc));
	} else {
		printf("%s%llu live views, %llu trees kept, %llu removed; "
		       "%llu blobs removed (%s), %llu kept; %llu temp files "
		       "and %llu index entries removed\n",
		       dry ? "dry run: " : "", (unsigned long long)st.views,
		       (unsigned long long)st.trees,
		       (unsigned long long)st.trees_removed,
		       (unsigned long long)st.blobs_removed,
		       wfs_human_bytes(st.bytes_freed, hb, sizeof(hb)),
		       (unsigned long long)(st.blobs - st.blobs_removed),
		       (unsigned long long)st.tmp_removed,
		       (unsigned long long)st.index_removed);
	}
	wfs_cache_close(&cache);
	return rc ? WFS_EXIT_FAIL : 0;
}
