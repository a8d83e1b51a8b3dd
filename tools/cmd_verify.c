/* cmd_verify.c — `wheelfs verify [--repair] [CACHE]`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gc.h"

int wfs_cmd_verify(int argc, char **argv, struct wfs_config *cfg)
{
	static const struct option longopts[] = {
		{ "repair", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct wfs_err err = { { 0 } };
	struct wfs_verify_stats st;
	struct wfs_cache cache;
	int repair = 0, opt, rc;
	char *path;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt != 'r')
			return wfs_usage("verify");
		repair = 1;
	}
	if (argc - optind > 1)
		return wfs_usage("verify");
	path = wfs_config_cache_path(cfg, argc > optind ? argv[optind] : NULL);
	if (!path)
		return wfs_fail("out of memory");
	rc = wfs_cache_open(path, repair ? 0 : WFS_CACHE_READONLY, &cache,
			    &err);
	free(path);
	if (rc)
		return wfs_fail("%s", err.msg);
	rc = wfs_verify(&cache, repair, wfs_cli_report, NULL, &st);
	if (rc)
		wfs_fail("%s: %s", cache.path, strerror(-rc));
	printf("verified %llu blobs and %llu trees: %llu corrupt blobs, "
	       "%llu unreadable trees, %llu missing blobs",
	       (unsigned long long)st.blobs, (unsigned long long)st.trees,
	       (unsigned long long)st.bad_blobs,
	       (unsigned long long)st.bad_trees,
	       (unsigned long long)st.missing_blobs);
	if (st.bad_dirs)
		printf(", %llu unreadable blob directories",
		       (unsigned long long)st.bad_dirs);
	printf("\n");
	wfs_cache_close(&cache);
	return rc || st.bad_blobs || st.bad_trees || st.missing_blobs ||
			       st.bad_dirs
		       ? WFS_EXIT_FAIL
		       : 0;
}
