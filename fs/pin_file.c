/* pin_file.c — placing one entry of a pin run (see pin.h): the four ways to
 * materialize a regular file (reflink, hardlink, copy, symlink to the
 * blob) and tree symlinks, choosing among them with per-run fallback (a
 * method that fails for a whole-run reason is switched off), --strict, and
 * the messages of a failed job.  The tools they use are in pin_io.c. */
#include "pin_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "digest.h"

/* Method results besides 0, -EEXIST (the upper layer won) and -errno. */
enum {
	M_OFF = 1, /* the method cannot work in this run: switch it off */
	M_NEXT = 2 /* not for this file: try the next method */
};

/* ---- the methods --------------------------------------------------------- */

struct job {
	size_t j;
	const struct wfs_vent *e;
	const struct wfs_tree_ent *te;
	int pfd;
	const char *what; /* the step that failed, for messages */
};

static int off_class(int e)
{
	switch (e) {
	case EXDEV:
	case EOPNOTSUPP:
	case ENOTTY:
	case EINVAL:
	case ENOSYS:
	case EPERM:
	case EACCES:
		return 1;
	}
	return 0;
}

/* Fill, check and place a temp file; shared tail of reflink and copy. */
static int finish_tmp(struct wfs_pin_worker *w, struct job *jb,
		      struct wfs_pin_tmp *t)
{
	int rc;

	jb->what = "setting mode and mtime";
	rc = wfs_pin_set_meta(w->p, t->fd, jb->te);
	if (!rc) {
		wfs_pin_test_hook(w->p, jb->j);
		jb->what = "placing";
		rc = w->p->replace[w->p->jobs[jb->j]]
			     ? wfs_pin_replace_symlink(w->p, jb->pfd, t, jb->j,
						       jb->e)
			     : wfs_pin_tmp_publish(w->p, jb->pfd, t,
						   jb->e->name);
	}
	wfs_pin_tmp_discard(jb->pfd, t);
	return rc;
}

/* The blob, read-only, and the temp file its copy goes to.  Returns the
 * blob fd (t filled) or -errno with neither open. */
static int open_blob_and_tmp(struct wfs_pin_worker *w, struct job *jb,
			     struct wfs_pin_tmp *t)
{
	int bfd, rc;

	jb->what = "opening its blob";
	bfd = wfs_cache_open_blob(w->p->cache, wfs_vent_digest(jb->e));
	if (bfd < 0)
		return bfd;
	jb->what = "creating a temp file";
	rc = wfs_pin_tmp_open(w->p, jb->pfd, jb->j, jb->te->mode & 0777, t);
	if (rc) {
		close(bfd);
		return rc;
	}
	return bfd;
}

static int by_reflink(struct wfs_pin_worker *w, struct job *jb, int *e)
{
	struct wfs_digest got = { { 0 } };
	struct stat st;
	struct wfs_pin_tmp t;
	uint64_t size = 0;
	int bfd, rc;

	bfd = open_blob_and_tmp(w, jb, &t);
	if (bfd < 0)
		return bfd;
	jb->what = "reflinking";
	rc = ioctl(t.fd, FICLONE, bfd) < 0 ? -errno : 0;
	if (rc) {
		close(bfd);
		wfs_pin_tmp_discard(jb->pfd, &t);
		*e = -rc;
		return off_class(-rc) ? M_OFF : rc;
	}
	/* The check: when the copy's extents are the blob's own (FIEMAP),
	 * its bytes are the blob's, and the blob is hashed (once per run,
	 * usually from the page cache); otherwise read the copy back. */
	jb->what = "checking the reflinked copy";
	if (fstat(t.fd, &st) < 0)
		rc = -errno;
	else if ((uint64_t)st.st_size != jb->te->size)
		rc = -EBADMSG;
	else if (wfs_pin_same_extents(bfd, t.fd))
		rc = wfs_pin_verify_blob(w, jb->te, bfd);
	else if (!(rc = wfs_pin_hash_fd(w, t.fd, &got, &size)))
		rc = wfs_pin_check_digest(jb->te, &got, size);
	close(bfd);
	if (rc) {
		wfs_pin_tmp_discard(jb->pfd, &t);
		return rc;
	}
	return finish_tmp(w, jb, &t);
}

static int by_copy(struct wfs_pin_worker *w, struct job *jb)
{
	struct wfs_digest got;
	struct wfs_pin_tmp t;
	uint64_t size = 0;
	int bfd, rc = 0;

	bfd = open_blob_and_tmp(w, jb, &t);
	if (bfd < 0)
		return bfd;
	/* Hash what is written while copying: read, hash, write. */
	wfs_hasher_reset(w->h);
	for (;;) {
		ssize_t n = read(bfd, w->buf, w->cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			jb->what = "reading its blob";
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		wfs_hasher_update(w->h, w->buf, (size_t)n);
		jb->what = "writing";
		rc = wfs_write_all(t.fd, w->buf, (size_t)n);
		if (rc)
			break;
		size += (uint64_t)n;
		if ((size_t)n < w->cap) /* short read of a regular file: EOF */
			break;
	}
	close(bfd);
	if (!rc) {
		wfs_hasher_final(w->h, &got, NULL);
		jb->what = "checking the copy";
		rc = wfs_pin_check_digest(jb->te, &got, size);
	}
	if (rc) {
		wfs_pin_tmp_discard(jb->pfd, &t);
		return rc;
	}
	return finish_tmp(w, jb, &t);
}

static int by_hardlink(struct wfs_pin_worker *w, struct job *jb, int *e)
{
	char rel[3 + WFS_DIGEST_HEX + 1];
	int rc;

	jb->what = "verifying its blob";
	rc = wfs_pin_verify_blob(w, jb->te, -1);
	if (rc)
		return rc;
	wfs_pin_test_hook(w->p, jb->j);
	wfs_cache_blob_rel(wfs_vent_digest(jb->e), rel);
	jb->what = "hardlinking";
	if (w->p->replace[w->p->jobs[jb->j]]) {
		/* Under a temp name, then in place of the symlink. */
		struct wfs_pin_tmp t = { .fd = -1 };
		snprintf(t.name, sizeof(t.name), WFS_PIN_TMP_PREFIX "%d.%zu",
			 (int)getpid(), jb->j);
		unlinkat(jb->pfd, t.name, 0); /* a dead run with our pid */
		if (linkat(w->p->cache->blobsfd, rel, jb->pfd, t.name, 0) ==
		    0) {
			jb->what = "placing";
			rc = wfs_pin_replace_symlink(w->p, jb->pfd, &t, jb->j,
						     jb->e);
			wfs_pin_tmp_discard(jb->pfd, &t);
			return rc;
		}
		t.name[0] = '\0';
	} else if (linkat(w->p->cache->blobsfd, rel, jb->pfd, jb->e->name, 0) ==
		   0) {
		return 0;
	}
	rc = -errno;
	*e = -rc;
	if (rc == -EMLINK)
		return M_NEXT;
	return rc != -EEXIST && off_class(-rc) ? M_OFF : rc;
}

/* A symlink to target under a temp name, its mtime set, then placed. */
static int make_symlink(struct wfs_pin_worker *w, struct job *jb,
			const char *target, int *e)
{
	struct timespec ts[2] = {
		{ jb->te->mtime_sec, jb->te->mtime_nsec },
		{ jb->te->mtime_sec, jb->te->mtime_nsec },
	};
	char tmp[64];
	int rc;

	snprintf(tmp, sizeof(tmp), WFS_PIN_TMP_PREFIX "%d.%zu", (int)getpid(),
		 jb->j);
	jb->what = "creating a symlink";
	rc = symlinkat(target, jb->pfd, tmp) < 0 ? -errno : 0;
	if (rc == -EEXIST) { /* a dead run with our pid left it */
		unlinkat(jb->pfd, tmp, 0);
		rc = symlinkat(target, jb->pfd, tmp) < 0 ? -errno : 0;
	}
	if (rc) {
		if (!e)
			return rc;
		*e = -rc;
		return rc == -EPERM || rc == -EOPNOTSUPP ? M_OFF : rc;
	}
	jb->what = "setting its mtime";
	rc = utimensat(jb->pfd, tmp, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	if (!rc) {
		wfs_pin_test_hook(w->p, jb->j);
		jb->what = "placing";
		rc = wfs_pin_rename_noreplace(w->p, jb->pfd, tmp, jb->e->name);
	}
	if (rc)
		unlinkat(jb->pfd, tmp, 0);
	return rc;
}

static int by_symlink(struct wfs_pin_worker *w, struct job *jb, int *e)
{
	char target[PATH_MAX + 64], rel[3 + WFS_DIGEST_HEX + 1];
	int rc;

	jb->what = "verifying its blob";
	rc = wfs_pin_verify_blob(w, jb->te, -1);
	if (rc)
		return rc;
	wfs_cache_blob_rel(wfs_vent_digest(jb->e), rel);
	snprintf(target, sizeof(target), "%s/%s", w->p->blobs_abs, rel);
	return make_symlink(w, jb, target, e);
}

/* ---- choosing ------------------------------------------------------------ */

static int exec_entry(const struct wfs_tree_ent *te)
{
	return (te->mode & 0111) != 0;
}

/* The next method for a file, or -1 when none is allowed (strict). */
static int choose(struct wfs_pin_run *p, const struct wfs_tree_ent *te,
		  unsigned tried)
{
	int r_ok = !(tried & 1u << WFS_BY_REFLINK) &&
		   !atomic_load(&p->reflink_off);
	int h_ok = !(tried & 1u << WFS_BY_HARDLINK) &&
		   !atomic_load(&p->hardlink_off) && !exec_entry(te);

	switch (p->o->mode) {
	case WFS_PIN_AUTO:
		if (r_ok)
			return WFS_BY_REFLINK;
		if (h_ok && p->hardlink_auto)
			return WFS_BY_HARDLINK;
		break;
	case WFS_PIN_REFLINK:
		if (r_ok)
			return WFS_BY_REFLINK;
		break;
	case WFS_PIN_HARDLINK:
		if (h_ok)
			return WFS_BY_HARDLINK;
		break;
	case WFS_PIN_SYMLINK:
		if (!(tried & 1u << WFS_BY_SYMLINK) &&
		    !atomic_load(&p->symlink_off))
			return WFS_BY_SYMLINK;
		break;
	case WFS_PIN_COPY:
		break;
	}
	return p->o->strict ? -1 : WFS_BY_COPY;
}

/* Every cheap method is off for the run: the rest will be copied. */
static int all_off(struct wfs_pin_run *p)
{
	switch (p->o->mode) {
	case WFS_PIN_AUTO:
		return atomic_load(&p->reflink_off) &&
		       (!p->hardlink_auto || atomic_load(&p->hardlink_off));
	case WFS_PIN_REFLINK:
		return atomic_load(&p->reflink_off) != 0;
	case WFS_PIN_HARDLINK:
		return atomic_load(&p->hardlink_off) != 0;
	case WFS_PIN_SYMLINK:
		return atomic_load(&p->symlink_off) != 0;
	default:
		return 1;
	}
}

static const char *const method_verb[WFS_BY_N] = { "reflink", "hardlink",
						   "copy", "symlink" };

static atomic_int *off_flag(struct wfs_pin_run *p, int m)
{
	return m == WFS_BY_REFLINK    ? &p->reflink_off
	       : m == WFS_BY_HARDLINK ? &p->hardlink_off
				      : &p->symlink_off;
}

static int strict_fail(struct wfs_pin_run *p, struct job *jb, int m_e[])
{
	char why[512], r1[512], r2[512];
	enum wfs_pin_mode mode = p->o->mode;
	int m = mode == WFS_PIN_REFLINK	   ? WFS_BY_REFLINK
		: mode == WFS_PIN_HARDLINK ? WFS_BY_HARDLINK
					   : WFS_BY_SYMLINK;

	if (mode == WFS_PIN_AUTO) {
		wfs_pin_reason(p->r, WFS_BY_REFLINK,
			       m_e[WFS_BY_REFLINK]
				       ? m_e[WFS_BY_REFLINK]
				       : atomic_load(&p->reflink_off),
			       r1, sizeof(r1));
		if (!p->hardlink_auto)
			wfs_pin_reason(p->r, WFS_BY_HARDLINK, -1, r2,
				       sizeof(r2));
		else if (exec_entry(jb->te))
			wfs_pin_reason(p->r, WFS_BY_HARDLINK, -2, r2,
				       sizeof(r2));
		else
			wfs_pin_reason(p->r, WFS_BY_HARDLINK,
				       m_e[WFS_BY_HARDLINK]
					       ? m_e[WFS_BY_HARDLINK]
					       : atomic_load(&p->hardlink_off),
				       r2, sizeof(r2));
		return wfs_pin_fail(
			p, jb->j, -ENOTSUP,
			"cannot reflink or hardlink %s (reflink: %s; "
			"hardlink: %s); --strict forbids copying",
			jb->e->path, r1, r2);
	}
	if (m == WFS_BY_HARDLINK && exec_entry(jb->te))
		wfs_pin_reason(p->r, m, -2, why, sizeof(why));
	else
		wfs_pin_reason(p->r, m,
			       m_e[m] ? m_e[m] : atomic_load(off_flag(p, m)),
			       why, sizeof(why));
	return wfs_pin_fail(
		p, jb->j, -ENOTSUP,
		"cannot %s %s: %s; --strict forbids falling back to copy",
		method_verb[m], jb->e->path, why);
}

/* Record why job j failed (its step: what), in words a user can act on. */
static void job_error(struct wfs_pin_run *p, size_t j, int rc, const char *what)
{
	const struct wfs_vent *e = &p->cv->v[p->jobs[j]];
	char hex[WFS_DIGEST_HEX + 1];

	wfs_digest_hex(wfs_vent_digest(e), hex);
	if (rc == -ENOSPC || rc == -EDQUOT)
		wfs_pin_fail(p, j, rc, "%s: no space left on %s (%s)", e->path,
			     p->r->target_fs, strerror(-rc));
	else if (rc == -EBADMSG)
		wfs_pin_fail(p, j, rc,
			     "%s: %s: the content does not hash to its blob's "
			     "name %s; the cache is damaged: run `wheelfs "
			     "verify --repair`, then add the wheel again",
			     e->path, what, hex);
	else if (rc == -ENOENT && strstr(what, "blob"))
		wfs_pin_fail(p, j, rc,
			     "%s: its blob %s is missing from %s: run `wheelfs "
			     "verify --repair`, then add the wheel again",
			     e->path, hex, p->cache->path);
	else
		wfs_pin_fail(p, j, rc, "%s: %s: %s", e->path, what,
			     strerror(-rc));
}

/* ---- the verifier -------------------------------------------------------- */

/* With reflink, hardlink and symlink, the blob is what gets checked (once
 * per run), by the worker that places the file, before placing it.  A
 * verifier thread hashes blobs ahead of the workers meanwhile, so that the
 * hashing overlaps their metadata work (FICLONE, linkat) instead of adding
 * to it: a worker finds its blob verified already, or verifies it itself
 * when it has caught up.  Nothing unverified is ever placed. */

int wfs_pin_wants_verifier(struct wfs_pin_run *p)
{
	return p->o->mode != WFS_PIN_COPY && !all_off(p);
}

void *wfs_pin_verifier(void *arg)
{
	struct wfs_pin_worker *w = arg;
	struct wfs_pin_run *p = w->p;

	for (size_t j = atomic_load(&p->next); j < p->njobs; j++) {
		const struct wfs_tree_ent *te;
		size_t next = atomic_load(&p->next);

		if (atomic_load(&p->stop_at) <= j || all_off(p))
			break; /* stopped, or everything is copied now */
		if (j < next + 8)
			j = next + 8; /* keep ahead of the workers */
		if (j >= p->njobs)
			break;
		te = p->cv->v[p->jobs[j]].ent;
		if (!S_ISREG(te->mode) ||
		    (p->o->mode == WFS_PIN_HARDLINK && exec_entry(te)))
			continue;
		/* A bad blob is left for its worker to report, in order. */
		wfs_pin_verify_blob(w, te, -1);
	}
	return NULL;
}

static int place_file(struct wfs_pin_worker *w, struct job *jb)
{
	struct wfs_pin_run *p = w->p;
	int m_e[WFS_BY_N] = { 0 }, rc = 0, m, e;
	unsigned tried = 0;

	if (p->o->mode == WFS_PIN_HARDLINK && exec_entry(jb->te)) {
		if (p->o->strict)
			return strict_fail(p, jb, m_e);
		atomic_fetch_add(&p->exec_copied, 1);
	}
	for (;;) {
		m = choose(p, jb->te, tried);
		if (m < 0)
			return strict_fail(p, jb, m_e);
		tried |= 1u << m;
		e = 0;
		if (m == WFS_BY_COPY && !atomic_load(&p->copy_checked) &&
		    all_off(p) && !atomic_exchange(&p->copy_checked, 1)) {
			uint64_t done = atomic_load(&p->bytes_done);
			rc = wfs_pin_space_check(p, p->bytes_total - done, 0,
						 jb->j);
			if (rc)
				return rc;
		}
		switch (m) {
		case WFS_BY_REFLINK:
			rc = by_reflink(w, jb, &e);
			break;
		case WFS_BY_HARDLINK:
			rc = by_hardlink(w, jb, &e);
			break;
		case WFS_BY_SYMLINK:
			rc = by_symlink(w, jb, &e);
			break;
		default:
			rc = by_copy(w, jb);
		}
		if (rc == M_OFF) {
			int zero = 0;
			atomic_compare_exchange_strong(off_flag(p, m), &zero,
						       e);
			m_e[m] = e;
			continue;
		}
		if (rc == M_NEXT) {
			m_e[m] = e;
			if (e == EMLINK)
				atomic_fetch_add(&p->emlink, 1);
			if (p->o->strict && p->o->mode != WFS_PIN_AUTO)
				return strict_fail(p, jb, m_e);
			continue;
		}
		break;
	}
	if (rc)
		return rc;
	p->how[jb->j] = (uint8_t)(m + 1);
	atomic_fetch_add(&p->by[m], 1);
	if (m == WFS_BY_COPY)
		atomic_fetch_add(&p->bytes_written, jb->te->size);
	else if (m != WFS_BY_SYMLINK)
		atomic_fetch_add(&p->bytes_shared, jb->te->size);
	return 0;
}

/* The directory a job was to go into is no longer part of the upper
 * layer (removed, or replaced by something that is not a directory). */
static int dir_gone(const struct job *jb)
{
	struct stat st;

	return jb->pfd < 0 || (fstat(jb->pfd, &st) == 0 && st.st_nlink == 0);
}

int wfs_pin_place(struct wfs_pin_worker *w, size_t j)
{
	struct wfs_pin_run *p = w->p;
	struct job jb = { .j = j, .e = &p->cv->v[p->jobs[j]] };
	int rc;

	jb.te = jb.e->ent;
	jb.what = "opening its directory";
	jb.pfd = rc = wfs_pin_dir_fd(w, jb.e->parent);
	if (rc >= 0 && S_ISLNK(jb.te->mode)) {
		rc = make_symlink(w, &jb,
				  wfs_tree_str(p->cv->trees + jb.e->dist,
					       jb.te->target_off),
				  NULL);
		if (!rc) {
			p->how[j] = WFS_BY_N + 1;
			atomic_fetch_add(&p->symlinks, 1);
		}
	} else if (rc >= 0) {
		rc = place_file(w, &jb);
	}
	if (rc == -EEXIST ||
	    ((rc == -ENOENT || rc == -ENOTDIR || rc == -ELOOP) &&
	     dir_gone(&jb))) {
		/* The name appeared in the upper layer, or its directory
		 * went away or was replaced (a write, rm or mv through the
		 * mount) meanwhile: the upper layer wins. */
		atomic_fetch_add(&p->raced, 1);
		rc = 0;
	}
	if (!rc && S_ISREG(jb.te->mode))
		atomic_fetch_add(&p->bytes_done, (jb.te->size + p->bsize - 1) /
							 p->bsize * p->bsize);
	if (rc && atomic_load(&p->stop_at) > j)
		job_error(p, j, rc, jb.what);
	if (!rc) {
		uint64_t d = atomic_fetch_add(&p->done, 1) + 1;
		if (p->o->progress && d % 256 == 0) {
			pthread_mutex_lock(&p->mu);
			if (d > p->progress_at) {
				p->progress_at = d;
				p->o->progress(d, p->njobs, p->o->arg);
			}
			pthread_mutex_unlock(&p->mu);
		}
	}
	return rc;
}
