/* cmd_pin.c — `wheelfs pin [--cache CACHE] [--mode MODE] [--strict] [-q]
 * TARGET`: make a venv independent of the cache, live or offline
 * (fs/pin.h does the work; this file picks the cache, prints the summary,
 * and asks a live daemon to reload). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "pin.h"
#include "tree.h"

#define FUSE_SUPER_MAGIC 0x65735546

static void on_progress(uint64_t done, uint64_t total, void *arg)
{
	(void)arg;
	fprintf(stderr, "\r\033[K[%llu/%llu] pinning", (unsigned long long)done,
		(unsigned long long)total);
}

/* The index of a distribution of v whose tree is not in c, or -1. */
static long absent_tree(const struct wfs_view *v, const struct wfs_cache *c)
{
	for (size_t i = 0; i < v->n; i++)
		if (wfs_tree_exists(c, &v->dists[i].tree) == 0)
			return (long)i;
	return -1;
}

int wfs_cmd_pin(int argc, char **argv, struct wfs_config *cfg)
{
	static const struct option longopts[] = {
		{ "cache", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "strict", no_argument, NULL, 's' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct wfs_pin_opts o = { 0 };
	struct wfs_pin_result r;
	struct wfs_err err = { { 0 } };
	struct wfs_cache cache;
	struct wfs_view v;
	struct statfs sf;
	const char *flag_cache = NULL, *mode = cfg->pin_mode, *target;
	char *cpath, summary[4096], ebuf[512], warn[sizeof(err.msg) + 1024];
	int opt, live, sock, dirfd, rc, tty, quiet = 0;
	long missing;

	while ((opt = getopt_long(argc, argv, "c:m:j:qh", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'c':
			flag_cache = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 's':
			o.strict = 1;
			break;
		case 'j':
			if (wfs_parse_jobs("pin", optarg, &o.threads))
				return WFS_EXIT_USAGE;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			return wfs_usage("pin");
		}
	}
	if (argc - optind != 1)
		return wfs_usage("pin");
	target = argv[optind];
	/* [pin] mode was checked as the configuration was read. */
	if (wfs_pin_mode_parse(mode ? mode : "auto", &o.mode)) {
		fprintf(stderr, "wheelfs: unknown pin mode '%s'\n", mode);
		return wfs_usage("pin");
	}

	dirfd = wfs_control_open_target(target, &live, &sock);
	if (dirfd < 0) {
		wfs_control_target_err(&err, target, dirfd);
		return wfs_fail("%s", err.msg);
	}
	if (!live && fstatfs(dirfd, &sf) == 0 &&
	    sf.f_type == FUSE_SUPER_MAGIC) {
		close(dirfd);
		return wfs_fail(
			"%s: a FUSE mount whose daemon does not answer "
			"on its control socket; pin needs the directory "
			"underneath (`wheelfs umount %s` first)",
			target, target);
	}
	rc = wfs_view_read(dirfd, target, &v, &err);
	if (rc)
		goto out_fd;
	cpath = flag_cache ? strdup(flag_cache)
		: v.cache  ? strdup(v.cache)
			   : wfs_config_cache_path(cfg, NULL);
	if (!cpath) {
		wfs_view_free(&v);
		rc = wfs_errf(&err, -ENOMEM, "out of memory");
		goto out_fd;
	}
	/* Symlinks tie the venv to the cache: the pin registers it there
	 * (for gc), holding the cache's shared lock for the whole run. */
	rc = wfs_cache_open(cpath,
			    o.mode == WFS_PIN_SYMLINK ? 0 : WFS_CACHE_READONLY,
			    &cache, &err);
	if (o.mode == WFS_PIN_SYMLINK && wfs_cache_ro_errno(rc)) {
		wfs_cache_unregistered_msg(warn, sizeof(warn), err.msg, target,
					   "the blobs its symlinks point to");
		wfs_cli_warn(warn, NULL);
		err.msg[0] = '\0';
		rc = wfs_cache_open(cpath, WFS_CACHE_READONLY, &cache, &err);
	}
	if (rc && v.pinned && rc == -ENOENT) {
		/* Pinned, and nothing was added since (install resets the
		 * flag): there is nothing to do without the cache. */
		printf("%s is already pinned (its cache %s is gone, so it was "
		       "not checked again)\n",
		       target, cpath);
		rc = 0;
		err.msg[0] = '\0';
		free(cpath);
		wfs_view_free(&v);
		goto out_fd;
	}
	free(cpath);
	if (rc) {
		wfs_view_free(&v);
		goto out_fd;
	}
	if (v.pinned && (missing = absent_tree(&v, &cache)) >= 0) {
		/* The same, for a cache that lost some of the view's trees
		 * (pruned, or a new cache an install moved the view to). */
		printf("%s is already pinned (the tree of %s %s is not in %s, "
		       "so it was not checked again)\n",
		       target, v.dists[missing].name, v.dists[missing].version,
		       cache.path);
		wfs_view_free(&v);
		wfs_cache_close(&cache);
		goto out_fd;
	}
	if (o.mode == WFS_PIN_SYMLINK)
		fprintf(stderr,
			"wheelfs: warning: --mode symlink: files will "
			"point into %s; the venv breaks if the cache is "
			"removed\n",
			cache.path);
	tty = !quiet && isatty(STDERR_FILENO);
	if (tty)
		o.progress = on_progress;
	for (int tries = 0;; tries++) {
		rc = wfs_pin(dirfd, target, &cache, &v, &o, &r, &err);
		if (rc != -EAGAIN || tries == 2)
			break;
		/* An install changed the view meanwhile: pin it as it is. */
		wfs_view_free(&v);
		err.msg[0] = '\0';
		rc = wfs_view_read(dirfd, target, &v, &err);
		if (rc)
			break;
	}
	if (tty)
		fputs("\r\033[K", stderr);
	wfs_view_free(&v); /* zeroed when a re-read failed */
	wfs_cache_close(&cache);
	if (rc)
		goto out_fd;
	if (!quiet) {
		wfs_pin_summary(&r, &o, summary, sizeof(summary));
		printf("%s\n", summary);
		fflush(stdout);
	}
	if (live) {
		rc = wfs_control_request(sock, "RELOAD\n", NULL, ebuf,
					 sizeof(ebuf));
		if (rc)
			rc = wfs_errf(&err, rc,
				      "%s is pinned, but its mount did not "
				      "reload (%s): it may still read files "
				      "from the cache; run `wheelfs umount %s` "
				      "and mount it again",
				      target, rc == -EIO ? ebuf : strerror(-rc),
				      target);
	}
out_fd:
	if (sock >= 0)
		close(sock);
	close(dirfd);
	return rc ? wfs_fail("%s", err.msg[0] ? err.msg : strerror(-rc)) : 0;
}
