/* venv.c — opening a venv, pyvenv.cfg, its view and committing it. */
#include "venv.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"

char *wfs_abspath(const char *path)
{
	char cwd[PATH_MAX], *buf, *out;
	size_t o = 0;

	if (!path || !*path) {
		errno = EINVAL;
		return NULL;
	}
	if (path[0] == '/') {
		buf = strdup(path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return NULL;
		if (asprintf(&buf, "%s/%s", cwd, path) < 0)
			buf = NULL;
	}
	if (!buf)
		return NULL;
	out = malloc(strlen(buf) + 2);
	if (!out) {
		free(buf);
		return NULL;
	}
	/* Fold components: out always starts with '/'. */
	for (char *c = buf; *c;) {
		char *s = strchrnul(c, '/');
		size_t cl = (size_t)(s - c);
		if (cl == 0 || (cl == 1 && c[0] == '.')) {
			/* skip */
		} else if (cl == 2 && c[0] == '.' && c[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			out[o++] = '/';
			memcpy(out + o, c, cl);
			o += cl;
		}
		c = *s ? s + 1 : s;
	}
	if (!o)
		out[o++] = '/';
	out[o] = '\0';
	free(buf);
	return out;
}

int wfs_venv_python_ok(const char *s)
{
	int n = 0;

	if (!isdigit((unsigned char)*s))
		return 0;
	if (sscanf(s, "%*u.%*u%n", &n) != 0 || s[n] || n >= 16)
		return 0;
	return isdigit((unsigned char)s[n - 1]);
}

int wfs_venv_parse_cfg(const char *text, char *python, size_t len)
{
	const char *p = text;
	int found = 0;

	while (*p) {
		const char *eol = strchrnul(p, '\n'), *eq, *k, *ke, *val;
		char key[32];
		unsigned maj, min;
		int n = 0;

		eq = memchr(p, '=', (size_t)(eol - p));
		if (eq) {
			for (k = p; k < eq && isspace((unsigned char)*k); k++)
				;
			for (ke = eq; ke > k && isspace((unsigned char)ke[-1]);
			     ke--)
				;
			snprintf(key, sizeof(key), "%.*s", (int)(ke - k), k);
			for (val = eq + 1;
			     val < eol && isspace((unsigned char)*val); val++)
				;
			if (!strcasecmp(key, "version") ||
			    !strcasecmp(key, "version_info")) {
				found = 1;
				/* "3.11.2", "3.12.1.final.0", "3.13.0rc1" */
				if (isdigit((unsigned char)*val) &&
				    sscanf(val, "%u.%u%n", &maj, &min, &n) ==
					    2 &&
				    isdigit((unsigned char)val[n - 1])) {
					snprintf(python, len, "%u.%u", maj,
						 min);
					return 0;
				}
			}
		}
		p = *eol ? eol + 1 : eol;
	}
	return found ? -EINVAL : -ENOENT;
}

void wfs_venv_close(struct wfs_venv *v)
{
	if (v->rootfd >= 0)
		close(v->rootfd);
	if (v->lockfd >= 0)
		close(v->lockfd);
	if (v->libfd >= 0)
		close(v->libfd);
	if (v->sock >= 0)
		close(v->sock);
	free(v->path);
	free(v->lib);
	memset(v, 0, sizeof(*v));
	v->rootfd = v->libfd = v->sock = v->lockfd = -1;
}

int wfs_venv_open(const char *path, const char *python, int flags,
		  struct wfs_venv *v, struct wfs_err *err)
{
	struct stat st;
	char *cfg = NULL;
	size_t len;
	int rc;

	memset(v, 0, sizeof(*v));
	v->rootfd = v->libfd = v->sock = v->lockfd = -1;
	v->flags = flags;
	v->path = wfs_abspath(path);
	if (!v->path || asprintf(&v->lib, "%s/lib", v->path) < 0) {
		v->lib = NULL;
		rc = wfs_errf(err, -ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	v->rootfd = open(v->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v->rootfd < 0) {
		rc = -errno;
		rc = wfs_errf(err, rc, "%s: %s", path,
			      rc == -ENOENT ? "no such virtual environment "
					      "(no such directory)"
					    : strerror(-rc));
		goto fail;
	}
	rc = wfs_read_file(v->rootfd, "pyvenv.cfg", &cfg, &len);
	if (rc) {
		rc = wfs_errf(err, rc, "%s/pyvenv.cfg: %s", path,
			      rc == -ENOENT
				      ? "missing; not a virtual environment"
				      : strerror(-rc));
		goto fail;
	}
	if (python) {
		if (!wfs_venv_python_ok(python)) {
			rc = wfs_errf(err, -EINVAL, "--python %s: not X.Y",
				      python);
			goto fail;
		}
		snprintf(v->python, sizeof(v->python), "%s", python);
	} else if ((rc = wfs_venv_parse_cfg(cfg, v->python,
					    sizeof(v->python))) &&
		   !(flags & WFS_VENV_VIEW_PYTHON)) {
		rc = wfs_errf(err, -EINVAL,
			      "%s/pyvenv.cfg: %s; pass --python X.Y", path,
			      rc == -ENOENT ? "no version key"
					    : "version is not X.Y[.Z]");
		goto fail;
	}
	snprintf(v->site, sizeof(v->site), "python%s/site-packages", v->python);
	if ((flags & WFS_VENV_CREATE_LIB) &&
	    fstatat(v->rootfd, "lib", &st, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno == ENOENT && mkdirat(v->rootfd, "lib", 0755) < 0 &&
	    errno != EEXIST) {
		rc = wfs_errf(err, -errno, "%s: %s", v->lib, strerror(errno));
		goto fail;
	}
	v->libfd = wfs_control_open_target(v->lib, &v->live, &v->sock);
	if (v->libfd < 0) {
		rc = wfs_control_target_err(err, v->lib, v->libfd);
		goto fail;
	}
	if ((flags & WFS_VENV_LOCK) &&
	    (rc = v->lockfd = wfs_view_lock(v->libfd, v->lib, err)) < 0)
		goto fail;
	free(cfg);
	return 0;
fail:
	free(cfg);
	wfs_venv_close(v);
	return rc;
}

void wfs_venv_route(const struct wfs_venv *v, const char *vpath, int *fd,
		    const char **rel)
{
	if (!strncmp(vpath, "lib/", 4)) {
		*fd = v->libfd;
		*rel = vpath + 4;
	} else {
		*fd = v->rootfd;
		*rel = vpath;
	}
}

int wfs_venv_view(struct wfs_venv *v, int create, struct wfs_view *view,
		  int *existed, struct wfs_err *err)
{
	int rc;

	*existed = 0;
	rc = wfs_view_read(v->libfd, v->lib, view, create ? NULL : err);
	if (rc == -ENOENT && create) {
		memset(view, 0, sizeof(*view));
		snprintf(view->python, sizeof(view->python), "%s", v->python);
		return 0;
	}
	if (rc) {
		if (create) /* the error was not recorded above */
			wfs_view_read(v->libfd, v->lib, view, err);
		return rc;
	}
	*existed = 1;
	if (v->flags & WFS_VENV_VIEW_PYTHON) {
		snprintf(v->python, sizeof(v->python), "%s", view->python);
		snprintf(v->site, sizeof(v->site), "python%s/site-packages",
			 v->python);
	} else if (strcmp(view->python, v->python)) {
		rc = wfs_errf(err, -EINVAL,
			      "%s: the view is for python %s, not %s "
			      "(pyvenv.cfg or --python)",
			      v->lib, view->python, v->python);
		wfs_view_free(view);
		return rc;
	}
	return 0;
}

char *wfs_venv_cache_path(const struct wfs_view *view, const char *flag,
			  const char *dflt)
{
	if (flag)
		return strdup(flag);
	if (view && view->cache)
		return strdup(view->cache);
	return dflt ? strdup(dflt) : NULL;
}

int wfs_venv_use_cache(struct wfs_venv *v, struct wfs_view *view,
		       const struct wfs_cache *c, struct wfs_err *err)
{
	char real[PATH_MAX], old[PATH_MAX];

	if (!realpath(c->path, real))
		return wfs_errf(err, -errno, "%s: %s", c->path,
				strerror(errno));
	if (view->cache &&
	    strcmp(realpath(view->cache, old) ? old : view->cache, real)) {
		if (!wfs_cache_gone(view->cache))
			return wfs_errf(err, -EINVAL,
					"%s: the view uses the cache %s, not "
					"%s (drop --cache, or pass --cache %s)",
					v->lib, view->cache, real, view->cache);
		if (!view->pinned)
			return wfs_errf(
				err, -ENOENT,
				"%s: the view's cache %s is gone, and "
				"the view is not pinned: its files are "
				"only there; add its wheels to %s again "
				"(`wheelfs add`)",
				v->lib, view->cache, view->cache);
		/* Pinned: every file is real, the old trees are not needed;
		 * the view moves to this cache. */
		free(view->cache);
		view->cache = NULL;
	}
	if (!view->cache) {
		view->cache = strdup(real);
		return view->cache ? 0
				   : wfs_errf(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int wfs_venv_commit(struct wfs_venv *v, struct wfs_view *view,
		    struct wfs_err *err)
{
	struct stat a, b;
	char msg[512] = "";
	int rc;

	if (syncfs(v->libfd) < 0 ||
	    (fstat(v->rootfd, &a) == 0 && fstat(v->libfd, &b) == 0 &&
	     a.st_dev != b.st_dev && syncfs(v->rootfd) < 0))
		return wfs_errf(err, -errno, "%s: sync: %s", v->path,
				strerror(errno));
	rc = wfs_view_write(v->libfd, view);
	if (rc)
		return wfs_errf(err, rc, "%s/%s: %s", v->lib, WFS_VIEW_FILE,
				strerror(-rc));
	if (!v->live)
		return 0;
	rc = wfs_control_request(v->sock, "RELOAD\n", NULL, msg, sizeof(msg));
	if (rc)
		return wfs_errf(err, rc,
				"%s: the mount did not reload the "
				"view: %s",
				v->lib, msg[0] ? msg : strerror(-rc));
	return 0;
}

int wfs_venv_view_cache(struct wfs_venv *v, int cache_flags,
			struct wfs_view *view, struct wfs_cache *c,
			int *have_cache, struct wfs_err *err)
{
	int existed, rc = wfs_venv_view(v, 0, view, &existed, err);

	if (have_cache)
		*have_cache = 0;
	if (rc)
		return rc;
	if (!view->cache)
		rc = wfs_errf(err, -EINVAL, "%s/%s: names no cache", v->lib,
			      WFS_VIEW_FILE);
	else if (have_cache && wfs_cache_gone(view->cache))
		return 0;
	else
		rc = wfs_cache_open(view->cache, cache_flags, c, err);
	if (rc)
		wfs_view_free(view);
	else if (have_cache)
		*have_cache = 1;
	return rc;
}
