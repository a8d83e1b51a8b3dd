/* pin_entry.c — the entry points of a pin run (see pin.h): wfs_pin (the
 * pin lock, the view lock, the view record marked pinned and the mode
 * recorded) and wfs_pin_files (an install's run over its new
 * distributions, under the install's view lock), both around
 * wfs_pin_body (pin.c). */
#include "pin_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define LOCKFILE WFS_STATE_DIR "/pin.lock"

/* ---- the view record ----------------------------------------------------- */

static int same_dists(const struct wfs_view *a, const struct wfs_view *b)
{
	if (a->n != b->n || strcmp(a->python, b->python))
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		long k = wfs_view_find(b, a->dists[i].name);
		if (k < 0 ||
		    !wfs_digest_equal(&a->dists[i].tree, &b->dists[k].tree))
			return 0;
	}
	return 1;
}

/* -EAGAIN when TARGET's view is no longer v (read before the lock). */
static int view_unchanged(struct wfs_pin_run *p, const struct wfs_view *v,
			  struct wfs_err *err)
{
	struct wfs_view now;
	int rc = wfs_view_read(p->dirfd, p->target, &now, err);

	if (rc)
		return rc;
	rc = same_dists(v, &now) && now.pinned == v->pinned ? 0 : -EAGAIN;
	wfs_view_free(&now);
	return rc ? wfs_errf(err, rc, "%s: the view changed", p->target) : 0;
}

/* The mode of this run, for later installs (wfs_pin_mode_recorded). */
static int record_mode(struct wfs_pin_run *p, struct wfs_err *err)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%s\n",
			 wfs_pin_mode_name(p->o->mode));
	int rc;

	/* Only pin writes it, holding the view lock: a temp file of it is
	 * a killed run's. */
	wfs_write_atomic_sweep(p->dirfd, WFS_PIN_MODE_FILE);
	rc = wfs_write_atomic(p->dirfd, WFS_PIN_MODE_FILE, line, (size_t)n,
			      0644, 1);
	return rc ? wfs_errf(err, rc, "%s/%s: %s", p->target, WFS_PIN_MODE_FILE,
			     strerror(-rc))
		  : 0;
}

static int mark_pinned(struct wfs_pin_run *p, const struct wfs_view *v,
		       struct wfs_err *err)
{
	struct wfs_view now;
	int rc = wfs_view_read(p->dirfd, p->target, &now, err);

	if (rc)
		return rc;
	if (!same_dists(v, &now)) { /* cannot happen: we hold the lock */
		wfs_view_free(&now);
		return wfs_errf(err, -EAGAIN,
				"%s: the view changed while pinning",
				p->target);
	}
	now.pinned = 1;
	rc = wfs_view_write(p->dirfd, &now);
	wfs_view_free(&now);
	if (rc)
		return wfs_errf(err, rc, "%s/%s: %s", p->target, WFS_VIEW_FILE,
				strerror(-rc));
	return 0;
}

int wfs_pin_mode_recorded(int dirfd, enum wfs_pin_mode *m)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = wfs_read_file(dirfd, WFS_PIN_MODE_FILE, &buf, &len);

	if (rc)
		return rc;
	buf[strcspn(buf, "\n")] = '\0';
	rc = wfs_pin_mode_parse(buf, m);
	free(buf);
	return rc ? -EBADMSG : 0;
}

/* ---- the run ------------------------------------------------------------- */

static int env_int(const char *name)
{
	const char *s = getenv(name);
	return s ? atoi(s) : 0;
}

static int lock_target(struct wfs_pin_run *p, int *lockfd, struct wfs_err *err)
{
	int fd = openat(p->dirfd, LOCKFILE,
			O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return wfs_errf(err, -errno, "%s/%s: %s", p->target, LOCKFILE,
				strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return wfs_errf(err, -EBUSY,
					"%s: another `wheelfs pin` is running "
					"on it",
					p->target);
		return wfs_errf(err, -e, "%s/%s: flock: %s", p->target,
				LOCKFILE, strerror(e));
	}
	*lockfd = fd;
	return 0;
}

/* Keep an fd open for every upper directory when the fd limit allows
 * (raising the soft limit up to the hard one): placing a file is then one
 * openat relative to its directory's fd. */
static void fd_budget(struct wfs_pin_run *p)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)p->cv->n + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < want && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	atomic_store(&p->dfd_budget,
		     rl.rlim_cur > 256 ? (int)(rl.rlim_cur - 256 > INT_MAX / 2
						       ? INT_MAX / 2
						       : rl.rlim_cur - 256)
				       : 0);
}

static int run_init(struct wfs_pin_run *p, int dirfd, const char *target,
		    struct wfs_cache *c, const struct wfs_pin_opts *o,
		    struct wfs_pin_result *r, struct wfs_err *err)
{
	struct statvfs vf;
	char real[PATH_MAX];

	memset(r, 0, sizeof(*r));
	wfs_pin_describe_fs(dirfd, r->target_fs, sizeof(r->target_fs));
	wfs_pin_describe_fs(c->blobsfd, r->cache_fs, sizeof(r->cache_fs));
	p->dirfd = dirfd;
	p->target = target;
	p->cache = c;
	p->o = o;
	p->r = r;
	p->bsize =
		fstatvfs(dirfd, &vf) == 0 && vf.f_frsize ? vf.f_frsize : 4096;
	p->umask = umask(0);
	umask(p->umask);
	p->delay_us = env_int("WFS_TEST_PIN_DELAY_US");
	p->crash_at = env_int("WFS_TEST_PIN_CRASH_AT");
	p->no_tmpfile = env_int("WFS_TEST_PIN_NO_TMPFILE");
	p->no_space_check = env_int("WFS_TEST_PIN_NO_SPACE_CHECK");
	atomic_store(&p->stop_at, SIZE_MAX);
	if (!realpath(c->path, real) ||
	    (size_t)snprintf(p->blobs_abs, sizeof(p->blobs_abs), "%s/blobs",
			     real) >= sizeof(p->blobs_abs))
		return wfs_errf(err, -ENAMETOOLONG,
				"%s: cannot resolve the path", c->path);
	return 0;
}

/* Compose v, run the body, free what the run holds. */
static int run(struct wfs_pin_run *p, const struct wfs_view *v,
	       struct wfs_err *err)
{
	struct wfs_composed cv;
	struct wfs_pin_worker w;
	int rc = wfs_view_compose(v, p->cache, &cv, err);

	if (rc)
		return rc;
	p->cv = &cv;
	fd_budget(p);
	pthread_mutex_init(&p->mu, NULL);
	rc = wfs_pin_worker_init(&w, p);
	if (!rc) {
		rc = wfs_pin_body(p, &w, err);
		wfs_pin_worker_free(&w);
	}
	if (rc == -ENOMEM)
		wfs_errf(err, rc, "out of memory");
	pthread_mutex_destroy(&p->mu);
	wfs_pin_vset_free(p->verified);
	for (size_t i = 1; p->dfd && i < cv.n; i++)
		if (p->dfd[i] >= 0)
			close(p->dfd[i]);
	free(p->dfd);
	free(p->made);
	free(p->replace);
	free(p->state);
	free(p->jobs);
	free(p->how);
	wfs_composed_free(&cv);
	p->cv = NULL;
	return rc;
}

int wfs_pin(int dirfd, const char *target, struct wfs_cache *c,
	    const struct wfs_view *v, const struct wfs_pin_opts *o,
	    struct wfs_pin_result *r, struct wfs_err *err)
{
	struct wfs_pin_run p = { 0 };
	int rc, lockfd = -1, viewlock;

	rc = run_init(&p, dirfd, target, c, o, r, err);
	if (!rc)
		rc = lock_target(&p, &lockfd, err);
	if (rc)
		return rc;
	/* The view stays as v until the end: install, uninstall and adopt
	 * wait (else files of trees they just removed would be placed). */
	viewlock = wfs_view_lock(dirfd, target, err);
	if (viewlock < 0) {
		close(lockfd);
		return viewlock;
	}
	rc = view_unchanged(&p, v, err);
	if (!rc)
		rc = run(&p, v, err);
	if (!rc)
		rc = record_mode(&p, err);
	if (!rc)
		rc = mark_pinned(&p, v, err);
	if (!rc)
		unlinkat(dirfd, WFS_PIN_JOURNAL, 0);
	close(viewlock);
	close(lockfd);
	return rc;
}

int wfs_pin_files(int dirfd, const char *target, struct wfs_cache *c,
		  const struct wfs_view *v, const struct wfs_pin_opts *o,
		  struct wfs_pin_result *r, struct wfs_err *err)
{
	struct wfs_pin_run p = { .partial = 1 };
	int rc = run_init(&p, dirfd, target, c, o, r, err);

	/* No pin lock: every pin holds the view lock, which our caller
	 * holds, from before it looks at the journal to the end. */
	if (!rc)
		rc = run(&p, v, err);
	/* Done: our journal (or an earlier install's) goes; a pin's stays
	 * for the next pin to resume. */
	if (!rc) {
		char *j = NULL;
		size_t len = 0;
		if (!wfs_read_file(dirfd, WFS_PIN_JOURNAL, &j, &len) &&
		    !strcmp(j, WFS_PIN_JOURNAL_INSTALL))
			unlinkat(dirfd, WFS_PIN_JOURNAL, 0);
		free(j);
	}
	return rc;
}
