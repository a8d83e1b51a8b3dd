/* cmd_mount.c — `wheelfs mount [-f] [-o OPTS] [CACHE] TARGET` and
 * `wheelfs umount [--lazy] [--wait S] TARGET` (see wheelfs-mount(1)). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "daemon.h"

int wfs_cmd_mount(int argc, char **argv, struct wfs_config *cfg)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "options", required_argument, NULL, 'o' },
		{ "cache", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct wfs_mount_opts o;
	struct wfs_err err = { { 0 } };
	char *optcopies[32];
	int nopts = 0, opt, rc, nargs;

	wfs_mount_opts_init(&o);
	o.threads = cfg->mount_threads;
	o.timeout = cfg->mount_timeout; /* 86400 unless configured */
	while ((opt = getopt_long(argc, argv, "fo:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			o.foreground = 1;
			break;
		case 'o':
			if (nopts ==
			    (int)(sizeof(optcopies) / sizeof(optcopies[0])))
				return wfs_fail("too many -o options");
			optcopies[nopts] = strdup(optarg);
			if (!optcopies[nopts])
				return wfs_fail("out of memory");
			rc = wfs_mount_parse(&o, optcopies[nopts++], &err);
			if (rc) {
				while (nopts)
					free(optcopies[--nopts]);
				fprintf(stderr, "wheelfs: %s\n", err.msg);
				return wfs_usage("mount");
			}
			break;
		case 'C':
			o.cache = optarg;
			break;
		default:
			while (nopts)
				free(optcopies[--nopts]);
			return wfs_usage("mount");
		}
	}
	nargs = argc - optind;
	if (nargs < 1 || nargs > 2) {
		while (nopts)
			free(optcopies[--nopts]);
		return wfs_usage("mount");
	}
	if (nargs == 2)
		o.cache = argv[optind];
	o.target = argv[argc - 1];
	rc = wfs_mount(&o, &err);
	while (nopts)
		free(optcopies[--nopts]);
	if (rc)
		return wfs_fail("%s", err.msg);
	return 0;
}

int wfs_cmd_umount(int argc, char **argv, struct wfs_config *cfg)
{
	static const struct option longopts[] = {
		{ "lazy", no_argument, NULL, 'l' },
		{ "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct wfs_err err = { { 0 } };
	double wait_s = 30;
	int lazy = 0, opt;
	char *end;

	(void)cfg;
	while ((opt = getopt_long(argc, argv, "lzw:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l':
		case 'z':
			lazy = 1;
			break;
		case 'w':
			/* a finite number of seconds, 0 or more */
			errno = 0;
			wait_s = strtod(optarg, &end);
			if (end == optarg || *end || errno ||
			    !isfinite(wait_s) || wait_s < 0) {
				fprintf(stderr,
					"wheelfs: bad value for --wait: %s\n",
					optarg);
				return wfs_usage("umount");
			}
			break;
		default:
			return wfs_usage("umount");
		}
	}
	if (argc - optind != 1)
		return wfs_usage("umount");
	if (wfs_umount(argv[optind], lazy, wait_s, &err))
		return wfs_fail("%s", err.msg);
	return 0;
}
