/* install_remove.c — removing what a distribution installed: its files,
 * then the directories that their removal left empty (install_int.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "install_int.h"
#include "upper.h"

/* Remove one VENV-relative file. */
static int remove_file(const struct wfs_venv *v, const char *vpath,
		       struct wfs_err *err)
{
	const char *rel, *base;
	int fd, pfd, rc = 0;

	wfs_venv_route(v, vpath, &fd, &rel);
	pfd = wfs_parent_beneath(fd, rel, &base);
	if (pfd < 0) /* gone, or behind a symlink: not ours to touch */
		return pfd == -ENOENT || pfd == -ENOTDIR || pfd == -EXDEV
			       ? 0
			       : wfs_errf(err, pfd, "%s/%s: %s", v->path, vpath,
					  strerror(-pfd));
	if (unlinkat(pfd, base, 0) < 0 && errno != ENOENT && errno != EISDIR &&
	    errno != ENOTDIR)
		rc = wfs_errf(err, -errno, "%s/%s: %s", v->path, vpath,
			      strerror(errno));
	close(pfd);
	return rc;
}

/* d is site_v, one of its parents, or the hidden state directory. */
static int protected_dir(const char *site_v, const char *d)
{
	size_t l = strlen(d);

	return !strncmp(site_v, d, l) && (!site_v[l] || site_v[l] == '/')
		       ? 1
		       : !strncmp(d, "lib/" WFS_STATE_DIR,
				  4 + strlen(WFS_STATE_DIR)) &&
				 (!d[4 + strlen(WFS_STATE_DIR)] ||
				  d[4 + strlen(WFS_STATE_DIR)] == '/');
}

int wfs_remove_dirs_of(const char *site_v, const char *vpath,
		       struct wfs_strset *dirs)
{
	char dir[WFS_VPATH_MAX];
	int inside = wfs_in_site(site_v, vpath) != NULL;

	snprintf(dir, sizeof(dir), "%s", vpath);
	for (char *s = strrchr(dir, '/'); s; s = strrchr(dir, '/')) {
		*s = '\0';
		if (protected_dir(site_v, dir))
			break;
		if (wfs_ss_add(dirs, dir))
			return -ENOMEM;
		if (!inside)
			break;
	}
	return 0;
}

/* 1 when the directory dfd holds anything but directories, at any depth
 * (symlinks count); 0 when not; -errno. */
static int holds_files(int dfd)
{
	struct dirent *de;
	DIR *d = NULL;
	int rc = wfs_opendirat(dfd, ".", 0, &d);

	while (!rc && (de = readdir(d))) {
		struct stat st;
		int sub;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			rc = errno == ENOENT ? 0 : -errno;
		else if (!S_ISDIR(st.st_mode))
			rc = 1;
		else if ((sub = openat(dirfd(d), de->d_name,
				       O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					       O_CLOEXEC)) < 0)
			rc = -errno;
		else {
			rc = holds_files(sub);
			close(sub);
		}
	}
	if (d)
		closedir(d);
	return rc;
}

/* Remove the empty directories under dfd, deepest first. */
static int rm_subdirs(int dfd)
{
	struct dirent *de;
	DIR *d = NULL;
	int rc = wfs_opendirat(dfd, ".", 0, &d);

	while (!rc && (de = readdir(d))) {
		int sub;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = openat(dirfd(d), de->d_name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			rc = -errno;
			break;
		}
		rc = rm_subdirs(sub);
		close(sub);
		if (!rc && unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0)
			rc = -errno;
	}
	if (d)
		closedir(d);
	return rc;
}

/* 1 when a distribution of cv that is not fresh (installed by this
 * command) has the view path d or anything under it. */
static int view_keeps(const struct wfs_composed *cv, const unsigned char *fresh,
		      const char *d)
{
	long k = wfs_composed_find(cv, d);
	size_t l = strlen(d);

	for (size_t i = k < 0 ? cv->n : (size_t)k; i < cv->n; i++) {
		const struct wfs_vent *e = &cv->v[i];
		if (i > (size_t)k &&
		    (strncmp(e->path, d, l) || e->path[l] != '/'))
			break;
		if (e->dist != UINT32_MAX && !(fresh && fresh[e->dist]))
			return 1;
	}
	return 0;
}

/* Remove the VENV-relative directory vd when it holds only empty
 * directories and the view keeps nothing there. */
static void remove_dir(const struct wfs_venv *v, const struct wfs_composed *cv,
		       const unsigned char *fresh, const char *vd)
{
	const char *rel, *base;
	int fd, pfd, dfd;

	if (cv && !strncmp(vd, "lib/", 4) && view_keeps(cv, fresh, vd + 4))
		return;
	wfs_venv_route(v, vd, &fd, &rel);
	pfd = wfs_parent_beneath(fd, rel, &base);
	if (pfd < 0)
		return;
	dfd = openat(pfd, base,
		     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd >= 0 && !holds_files(dfd) && !rm_subdirs(dfd))
		unlinkat(pfd, base, AT_REMOVEDIR); /* only when still empty */
	if (dfd >= 0)
		close(dfd);
	close(pfd);
}

static int cmp_len_desc(const void *a, const void *b)
{
	size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);
	return x < y ? 1 : x > y ? -1 : 0;
}

int wfs_remove_run(const struct wfs_venv *v, const char *site_v,
		   const struct wfs_composed *cv, const unsigned char *fresh,
		   const struct wfs_strset *rm, struct wfs_strset *last,
		   struct wfs_strset *dirs, struct wfs_err *err)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < rm->n; i++)
		if (!(rc = remove_file(v, rm->v[i], err)))
			rc = wfs_remove_dirs_of(site_v, rm->v[i], dirs);
	wfs_ss_sort(last);
	for (size_t i = 0; !rc && i < last->n; i++)
		if (!(rc = remove_file(v, last->v[i], err)))
			rc = wfs_remove_dirs_of(site_v, last->v[i], dirs);
	if (rc)
		return rc;
	wfs_ss_sort(dirs);
	if (dirs->n)
		qsort(dirs->v, dirs->n, sizeof(*dirs->v), cmp_len_desc);
	for (size_t i = 0; i < dirs->n; i++)
		remove_dir(v, cv, fresh, dirs->v[i]);
	return 0;
}
