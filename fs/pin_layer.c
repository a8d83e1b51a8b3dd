/* pin_layer.c — what the upper layer says about a view path, as pin needs
 * it: whited out or opaque (the whiteout store of upper.h: the lower entry
 * was deleted, or replaced by an upper directory, through the mount),
 * shadowed (TARGET's underlying directory has an entry of that name,
 * checked with fstatat, never following symlinks), or neither.
 *
 * This is the only place pin touches the whiteout store. */
#include "pin_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "upper.h"

int wfs_pin_layer_open(struct wfs_pin_layer *l, int dirfd, struct wfs_err *err)
{
	struct wfs_whiteouts *wo = calloc(1, sizeof(*wo));
	int rc;

	l->dirfd = dirfd;
	l->store = NULL;
	if (!wo)
		return -ENOMEM;
	rc = wfs_wo_load(wo, dirfd, 1);
	if (rc) {
		free(wo);
		return wfs_errf(err, rc, "%s: %s", WFS_WHITEOUTS_FILE,
				strerror(-rc));
	}
	l->store = wo;
	return 0;
}

void wfs_pin_layer_close(struct wfs_pin_layer *l)
{
	if (l->store) {
		wfs_wo_free(l->store);
		free(l->store);
	}
	l->store = NULL;
}

int wfs_pin_layer_lookup(struct wfs_pin_layer *l, const char *path,
			 int check_upper, struct stat *st)
{
	int wo = l->store ? wfs_wo_get(l->store, path) : WFS_WO_NONE;

	/* Whited out: the lower entry was deleted.  Opaque: an upper
	 * directory replaced it, and the lower content below stays hidden. */
	if (wo == WFS_WO_WHITEOUT)
		return WFS_PL_WHITEOUT;
	if (wo == WFS_WO_OPAQUE)
		return WFS_PL_OPAQUE;
	if (!check_upper)
		return WFS_PL_NONE;
	if (fstatat(l->dirfd, path, st, AT_SYMLINK_NOFOLLOW) == 0)
		return WFS_PL_UPPER;
	return errno == ENOENT || errno == ENOTDIR ? WFS_PL_NONE : -errno;
}
