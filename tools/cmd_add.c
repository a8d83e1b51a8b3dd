/* cmd_add.c — `wheelfs add CACHE SOURCE...`: ingest wheels into a cache. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ingest.h"

struct progress {
	int tty;
};

static void on_progress(size_t done, size_t total,
			const struct wfs_ingest_item *it, void *arg)
{
	struct progress *p = arg;

	if (!p->tty)
		return;
	fprintf(stderr, "\r\033[K[%zu/%zu] %s", done, total,
		it->rc ? "(failed)" : it->res.name);
	if (done == total)
		fputs("\r\033[K", stderr);
}

int wfs_cmd_add(int argc, char **argv, struct wfs_config *cfg)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct wfs_ingest_opts opts = { .warn = wfs_cli_warn };
	struct wfs_ingest_item *items;
	struct wfs_cache cache;
	struct wfs_err err = { { 0 } };
	struct progress prog = { 0 };
	int quiet = 0, jobs = cfg->jobs, opt, failed = 0;
	uint64_t files = 0, bytes = 0, newb = 0;
	size_t n, ok = 0;
	char b1[32], b2[32];

	while ((opt = getopt_long(argc, argv, "j:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			if (wfs_parse_jobs("add", optarg, &jobs))
				return WFS_EXIT_USAGE;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			return wfs_usage("add");
		}
	}
	if (argc - optind < 2)
		return wfs_usage("add");
	if (wfs_cache_open(argv[optind], WFS_CACHE_CREATE, &cache, &err))
		return wfs_fail("%s", err.msg);
	n = (size_t)(argc - optind - 1);
	items = calloc(n, sizeof(*items));
	if (!items) {
		wfs_cache_close(&cache);
		return wfs_fail("out of memory");
	}
	for (size_t i = 0; i < n; i++)
		items[i].source = argv[optind + 1 + (int)i];
	opts.max_file_size = cfg->max_file_size;
	opts.max_total_size = cfg->max_total_size;
	prog.tty = !quiet && isatty(STDERR_FILENO) && n > 1;
	wfs_ingest_many(&cache, items, n, jobs, &opts, on_progress, &prog);
	for (size_t i = 0; i < n; i++) {
		if (items[i].rc) {
			failed++;
			wfs_fail("%s", items[i].err.msg[0] ? items[i].err.msg
							   : items[i].source);
			continue;
		}
		ok++;
		files += items[i].res.files;
		bytes += items[i].res.bytes;
		newb += items[i].res.new_bytes;
	}
	if (!quiet)
		printf("added %zu wheel%s%s: %llu files, %s new, %s "
		       "deduplicated\n",
		       ok, ok == 1 ? "" : "s", failed ? " (some failed)" : "",
		       (unsigned long long)files,
		       wfs_human_bytes(newb, b1, sizeof(b1)),
		       wfs_human_bytes(bytes - newb, b2, sizeof(b2)));
	free(items);
	wfs_cache_close(&cache);
	return failed ? WFS_EXIT_FAIL : 0;
}
