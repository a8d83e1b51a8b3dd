/* pin.c — the body of a pin run (see pin.h): planning against the upper
 * layer, the journal, directories, the workers, space checks.  Its entry
 * points (locks, the view record) are pin_entry.c; placing one entry is
 * pin_file.c. */
#include "pin_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int wfs_pin_fail(struct wfs_pin_run *p, size_t j, int rc, const char *fmt, ...)
{
	va_list ap;
	size_t cur;

	pthread_mutex_lock(&p->mu);
	if (!p->rc || j < p->err_at) {
		p->rc = rc;
		p->err_at = j;
		va_start(ap, fmt);
		vsnprintf(p->err.msg, sizeof(p->err.msg), fmt, ap);
		va_end(ap);
	}
	cur = atomic_load(&p->stop_at);
	while (j < cur && !atomic_compare_exchange_weak(&p->stop_at, &cur, j))
		;
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int wfs_pin_space_check(struct wfs_pin_run *p, uint64_t bytes, uint64_t inodes,
			size_t j)
{
	struct statvfs vf;
	char b1[32], b2[32];
	uint64_t have;

	if (p->no_space_check)
		return 0;
	if (fstatvfs(p->dirfd, &vf) < 0)
		return wfs_pin_fail(p, j, -errno, "%s: statvfs: %s", p->target,
				    strerror(errno));
	have = (uint64_t)vf.f_bavail * vf.f_frsize;
	if (bytes > have)
		return wfs_pin_fail(p, j, -ENOSPC,
				    "not enough space on %s: need %s, have %s",
				    p->r->target_fs,
				    wfs_human_bytes(bytes, b1, sizeof(b1)),
				    wfs_human_bytes(have, b2, sizeof(b2)));
	if (vf.f_files && inodes > vf.f_favail)
		return wfs_pin_fail(
			p, j, -ENOSPC,
			"not enough inodes on %s: need %llu, have %llu",
			p->r->target_fs, (unsigned long long)inodes,
			(unsigned long long)vf.f_favail);
	return 0;
}

/* ---- planning ------------------------------------------------------------ */

struct plan {
	uint32_t *dirs; /* WFS_PS_CREATE entries, in path order */
	size_t ndirs;
	uint32_t *merge; /* WFS_PS_MERGE entries (but the root) */
	size_t nmerge;
};

static void plan_free(struct plan *pl)
{
	free(pl->dirs);
	free(pl->merge);
	memset(pl, 0, sizeof(*pl));
}

static int plan(struct wfs_pin_run *p, struct wfs_pin_layer *l, struct plan *pl,
		struct wfs_pin_worker *w, struct wfs_err *err)
{
	const struct wfs_composed *cv = p->cv;

	p->state = calloc(cv->n, 1);
	p->dfd = malloc(cv->n * sizeof(*p->dfd));
	p->made = calloc(cv->n, sizeof(*p->made));
	p->replace = calloc(cv->n, 1);
	if (p->dfd)
		for (size_t i = 0; i < cv->n; i++)
			atomic_init(&p->dfd[i], -1);
	p->jobs = malloc(cv->n * sizeof(*p->jobs));
	pl->dirs = malloc(cv->n * sizeof(*pl->dirs));
	pl->merge = malloc(cv->n * sizeof(*pl->merge));
	if (!p->state || !p->dfd || !p->made || !p->replace || !p->jobs ||
	    !pl->dirs || !pl->merge)
		return -ENOMEM;
	p->state[0] = WFS_PS_MERGE;
	for (size_t i = 1; i < cv->n; i++) {
		const struct wfs_vent *e = &cv->v[i];
		int ps = p->state[e->parent], lk;
		int is_dir = !e->ent || S_ISDIR(e->ent->mode);
		struct stat st;

		if (ps == WFS_PS_HIDDEN || ps == WFS_PS_UPPER) {
			p->state[i] = WFS_PS_HIDDEN;
			p->r->hidden++;
			continue;
		}
		lk = wfs_pin_layer_lookup(l, e->path, ps != WFS_PS_CREATE, &st);
		if (lk == WFS_PL_UPPER && p->r->resumed && !is_dir) {
			int t = wfs_pin_torn(p, w, e, &st);
			lk = t > 0 ? WFS_PL_NONE : t < 0 ? t : lk;
		}
		if (lk == WFS_PL_UPPER && !is_dir &&
		    wfs_pin_blob_symlink(p, w, e, &st)) {
			/* a symlink run's, made real: its directory's
			 * mtime is set again at the end */
			p->replace[i] = p->replace[e->parent] = 1;
			lk = WFS_PL_NONE;
		}
		if (lk < 0)
			return wfs_errf(err, lk, "%s/%s: %s", p->target,
					e->path, strerror(-lk));
		if (lk == WFS_PL_WHITEOUT) {
			p->state[i] = WFS_PS_HIDDEN;
			p->r->hidden++;
		} else if (lk == WFS_PL_UPPER && is_dir &&
			   S_ISDIR(st.st_mode)) {
			p->state[i] = WFS_PS_MERGE;
			pl->merge[pl->nmerge++] = (uint32_t)i;
		} else if (lk == WFS_PL_UPPER || lk == WFS_PL_OPAQUE) {
			p->state[i] = WFS_PS_UPPER;
			p->r->upper++;
		} else if (is_dir) {
			p->state[i] = WFS_PS_CREATE;
			pl->dirs[pl->ndirs++] = (uint32_t)i;
		} else {
			p->state[i] = WFS_PS_PLACE;
			p->jobs[p->njobs++] = (uint32_t)i;
			if (S_ISREG(e->ent->mode))
				p->bytes_total +=
					(e->ent->size + p->bsize - 1) /
					p->bsize * p->bsize;
		}
	}
	p->how = calloc(p->njobs ? p->njobs : 1, 1);
	return p->how ? 0 : -ENOMEM;
}

/* Remove temp names an interrupted run left in the upper directories. */
static int cleanup_leftovers(struct wfs_pin_run *p, struct wfs_pin_worker *w,
			     const struct plan *pl)
{
	for (size_t k = 0; k <= pl->nmerge; k++) {
		uint32_t idx = k < pl->nmerge ? pl->merge[k] : 0;
		int fd = wfs_pin_dir_fd(w, idx);
		struct dirent *de;
		DIR *d;

		if (fd < 0 || wfs_opendirat(fd, ".", 0, &d))
			continue;
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, WFS_PIN_TMP_PREFIX,
				     strlen(WFS_PIN_TMP_PREFIX)) &&
			    de->d_type != DT_DIR &&
			    unlinkat(fd, de->d_name, 0) == 0)
				p->r->cleaned++;
		closedir(d);
	}
	return 0;
}

/* ---- directories --------------------------------------------------------- */

/* The directories no file needed (empty in the tree, or holding only
 * entries the upper layer has): made after the jobs. */
static int make_rest(struct wfs_pin_run *p, struct wfs_pin_worker *w,
		     const struct plan *pl, struct wfs_err *err)
{
	for (size_t k = 0; k < pl->ndirs; k++) {
		const struct wfs_vent *e = &p->cv->v[pl->dirs[k]];
		int rc = wfs_pin_dir_fd(w, pl->dirs[k]);

		if (rc >= 0 || rc == -ENOENT || rc == -ENOTDIR)
			continue; /* done, or the upper layer took it */
		if (rc == -ENOSPC || rc == -EDQUOT)
			return wfs_errf(err, rc, "%s: no space left on %s (%s)",
					e->path, p->r->target_fs,
					strerror(-rc));
		return wfs_errf(err, rc, "%s/%s: mkdir: %s", p->target, e->path,
				strerror(-rc));
	}
	return 0;
}

/* Mode and mtime of the directories pin made (and, when resuming, of the
 * ones an interrupted run made), deepest first, once all their children
 * are placed. */
static int finish_dirs(struct wfs_pin_run *p, struct wfs_pin_worker *w,
		       const uint32_t *dirs, size_t n, struct wfs_err *err)
{
	for (size_t k = n; k-- > 0;) {
		const struct wfs_vent *e = &p->cv->v[dirs[k]];
		int fd, rc = 0;

		if (!e->ent)
			continue;
		struct timespec ts[2] = {
			{ e->ent->mtime_sec, e->ent->mtime_nsec },
			{ e->ent->mtime_sec, e->ent->mtime_nsec },
		};
		/* made with dir_mode | S_IRWXU, so often right already */
		int chmod = !atomic_load(&p->made[dirs[k]]) ||
			    (wfs_pin_dir_mode(e) & S_IRWXU) != S_IRWXU;
		/* Through a descriptor opened with O_NOFOLLOW: the owner of
		 * the venv may have put a symlink there, and pin may run
		 * as root. */
		fd = wfs_pin_dir_fd(w, dirs[k]);
		if (fd < 0)
			rc = fd;
		else if ((chmod && fchmod(fd, wfs_pin_dir_mode(e)) < 0) ||
			 futimens(fd, ts) < 0)
			rc = -errno;
		if (rc && rc != -ENOENT && rc != -ENOTDIR && rc != -ELOOP)
			return wfs_errf(err, rc,
					"%s/%s: setting mode and mtime: %s",
					p->target, e->path, strerror(-rc));
	}
	return 0;
}

/* ---- workers ------------------------------------------------------------- */

static void *worker_main(void *arg)
{
	struct wfs_pin_worker *w = arg;
	struct wfs_pin_run *p = w->p;

	for (;;) {
		size_t j = atomic_fetch_add(&p->next, 1);
		if (j >= p->njobs || j >= atomic_load(&p->stop_at))
			break;
		wfs_pin_place(w, j);
	}
	return NULL;
}

static int run_jobs(struct wfs_pin_run *p, struct wfs_pin_worker *main_w)
{
	int n = p->o->threads > 0 ? p->o->threads : wfs_ncpus();
	struct wfs_pin_worker *ws;
	pthread_t *tids;
	int started = 0;

	if (n > 8 && p->o->threads <= 0)
		n = 8;
	if ((size_t)n > p->njobs / 64 + 1)
		n = (int)(p->njobs / 64 + 1);
	/* The first job alone: it settles which methods work, and a strict
	 * failure names the first file deterministically. */
	if (p->njobs) {
		atomic_store(&p->next, 1);
		wfs_pin_place(main_w, 0);
	}
	ws = calloc((size_t)n, sizeof(*ws));
	tids = calloc((size_t)n, sizeof(*tids));
	if (!ws || !tids) {
		free(ws);
		free(tids);
		worker_main(main_w);
		return 0;
	}
	/* With two threads or more, one is the verifier when the blobs are
	 * what gets checked: hashing then overlaps the metadata work. */
	p->pipeline = n >= 2 && p->njobs > 1 && wfs_pin_wants_verifier(p);
	for (int i = 1; i < n; i++) {
		int verifier = p->pipeline && i == 1;
		if (wfs_pin_worker_init(&ws[i], p))
			break;
		if (pthread_create(&tids[i], NULL,
				   verifier ? wfs_pin_verifier : worker_main,
				   &ws[i])) {
			wfs_pin_worker_free(&ws[i]);
			break;
		}
		started = i;
	}
	worker_main(main_w);
	for (int i = 1; i <= started; i++) {
		pthread_join(tids[i], NULL);
		wfs_pin_worker_free(&ws[i]);
	}
	free(ws);
	free(tids);
	return 0;
}

/* ---- the blobs auto may hardlink ----------------------------------------- */

/* 0 when the kernel keeps the caller from writing to or chmod-ing the
 * blobs; else why not (1: capabilities, 2: owner). */
static int blobs_unprotected(struct wfs_pin_run *p)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3,
						0 };
	struct __user_cap_data_struct data[2];
	struct stat st;

	if (syscall(SYS_capget, &hdr, data) < 0 ||
	    (data[0].effective & (1u << CAP_DAC_OVERRIDE | 1u << CAP_FOWNER)))
		return 1;
	for (size_t j = 0; j < p->njobs; j++) {
		const struct wfs_vent *e = &p->cv->v[p->jobs[j]];
		char rel[3 + WFS_DIGEST_HEX + 1];
		if (!S_ISREG(e->ent->mode))
			continue;
		wfs_cache_blob_rel(wfs_vent_digest(e), rel);
		if (fstatat(p->cache->blobsfd, rel, &st, AT_SYMLINK_NOFOLLOW) <
		    0)
			return 2;
		return st.st_uid == geteuid() || (st.st_mode & 0222) ? 2 : 0;
	}
	return 0;
}

/* ---- the run ------------------------------------------------------------- */

static void collect(struct wfs_pin_run *p)
{
	struct wfs_pin_result *r = p->r;

	for (int m = 0; m < WFS_BY_N; m++) {
		r->by[m] = atomic_load(&p->by[m]);
		r->files += r->by[m];
	}
	r->symlinks = atomic_load(&p->symlinks);
	r->bytes_written = atomic_load(&p->bytes_written);
	r->bytes_shared = atomic_load(&p->bytes_shared);
	r->raced = atomic_load(&p->raced);
	r->exec_copied = atomic_load(&p->exec_copied);
	r->emlink = atomic_load(&p->emlink);
	r->reflink_errno = atomic_load(&p->reflink_off);
	r->hardlink_errno = atomic_load(&p->hardlink_off);
	r->symlink_errno = atomic_load(&p->symlink_off);
}

int wfs_pin_body(struct wfs_pin_run *p, struct wfs_pin_worker *w,
		 struct wfs_err *err)
{
	struct wfs_pin_layer layer;
	struct plan pl = { 0 };
	uint32_t *fin = NULL;
	size_t nfin;
	int rc, jfd;

	/* The journal: its presence means a run was interrupted. */
	p->r->resumed = faccessat(p->dirfd, WFS_PIN_JOURNAL, F_OK,
				  AT_SYMLINK_NOFOLLOW) == 0;
	rc = wfs_pin_layer_open(&layer, p->dirfd, err);
	if (rc)
		return rc;
	rc = plan(p, &layer, &pl, w, err);
	wfs_pin_layer_close(&layer);
	if (rc)
		goto out;
	if (p->r->resumed)
		cleanup_leftovers(p, w, &pl);
	jfd = openat(p->dirfd, WFS_PIN_JOURNAL,
		     O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (jfd < 0) {
		rc = wfs_errf(err, -errno, "%s/%s: %s", p->target,
			      WFS_PIN_JOURNAL, strerror(errno));
		goto out;
	}
	/* An install's journal says so: the install removes it when done,
	 * and leaves a pin's to the next pin. */
	if (p->partial && !p->r->resumed &&
	    (rc = wfs_write_all(jfd, WFS_PIN_JOURNAL_INSTALL,
				strlen(WFS_PIN_JOURNAL_INSTALL)))) {
		close(jfd);
		rc = wfs_errf(err, rc, "%s/%s: %s", p->target, WFS_PIN_JOURNAL,
			      strerror(-rc));
		goto out;
	}
	close(jfd);
	if (p->o->mode == WFS_PIN_AUTO) {
		int why = blobs_unprotected(p);
		p->hardlink_auto = !why;
		p->r->hardlink_policy = why;
	}
	/* Space: copies need their bytes; every mode needs its inodes. */
	{
		struct stat a, b;
		int copying =
			p->o->mode == WFS_PIN_COPY ||
			(p->o->mode == WFS_PIN_AUTO &&
			 fstat(p->cache->blobsfd, &a) == 0 &&
			 fstat(p->dirfd, &b) == 0 && a.st_dev != b.st_dev);
		uint64_t inodes =
			pl.ndirs +
			(p->o->mode == WFS_PIN_HARDLINK ? 0 : p->njobs);
		rc = wfs_pin_space_check(p,
					 copying ? p->bytes_total +
							   pl.ndirs * p->bsize
						 : pl.ndirs * p->bsize,
					 inodes, 0);
		if (rc) {
			rc = wfs_errf(err, rc, "%s", p->err.msg);
			goto out;
		}
		atomic_store(&p->copy_checked, copying);
	}
	/* The list first, and TARGET registered in the cache (gc). */
	if (p->o->mode == WFS_PIN_SYMLINK &&
	    (rc = wfs_pin_symlist_update(p, w, err)))
		goto out;
	run_jobs(p, w);
	if (!p->rc)
		rc = make_rest(p, w, &pl, err);
	if (rc)
		goto out;
	collect(p);
	for (size_t k = 0; k < pl.ndirs; k++)
		p->r->dirs += atomic_load(&p->made[pl.dirs[k]]);
	if (p->rc) {
		char b1[32], hint[128];
		if (p->rc == -ENOTSUP)
			snprintf(hint, sizeof(hint),
				 "without --strict, `wheelfs pin` copies what "
				 "it cannot link");
		else
			snprintf(hint, sizeof(hint), "%s `wheelfs %s` again",
				 p->rc == -ENOSPC || p->rc == -EDQUOT
					 ? "free some space and run"
					 : "fix that and run",
				 p->partial ? "install" : "pin");
		rc = wfs_errf(
			err, p->rc,
			"%s; %llu of %zu entries placed (%s "
			"written)%s: %s",
			p->err.msg,
			(unsigned long long)(p->r->files + p->r->symlinks),
			p->njobs,
			wfs_human_bytes(p->r->bytes_written, b1, sizeof(b1)),
			p->partial ? ""
				   : "; the view is not marked pinned "
				     "and the venv works as before",
			hint);
		goto out;
	}
	/* Directories: those made now, and when resuming, the merged ones
	 * (an interrupted run made them, or they were there: either way the
	 * tree's mode and mtime), and those where a symlink was replaced. */
	fin = malloc((pl.ndirs + pl.nmerge + 1) * sizeof(*fin));
	if (!fin) {
		rc = -ENOMEM;
		goto out;
	}
	{ /* both lists are in path (= index) order; keep it */
		size_t a = 0, b = 0, nb = pl.nmerge;
		nfin = 0;
		while (a < pl.ndirs || b < nb) {
			uint32_t i = b >= nb || (a < pl.ndirs &&
						 pl.dirs[a] < pl.merge[b])
					     ? pl.dirs[a++]
					     : pl.merge[b++];
			/* not the ones made through the mount meanwhile */
			if (atomic_load(&p->made[i]) || p->r->resumed ||
			    p->replace[i])
				fin[nfin++] = i;
		}
	}
	rc = finish_dirs(p, w, fin, nfin, err);
	if (rc)
		goto out;
	if (syncfs(p->dirfd) < 0) {
		rc = wfs_errf(err, -errno, "%s: syncfs: %s", p->target,
			      strerror(errno));
		goto out;
	}
	/* A symlink run's symlinks are real files now: the list keeps
	 * only those into another cache, if any (an install's run places
	 * none of the view's other entries: the list stays). */
	if (p->o->mode != WFS_PIN_SYMLINK && !p->partial)
		rc = wfs_pin_symlist_update(p, w, err);
out:
	free(fin);
	plan_free(&pl);
	return rc;
}
