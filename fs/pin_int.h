/* pin_int.h — internals of pin (see pin.h), shared by
 *   pin.c         planning, the journal, directories, workers, space
 *                 checks: the body of a run;
 *   pin_entry.c   wfs_pin (the locks, marking the view pinned, recording
 *                 the mode) and wfs_pin_files (an install's run);
 *   pin_file.c    placing one entry: methods, fallback, --strict;
 *   pin_io.c      temp files, placement, directory fds, digests, and the
 *                 daemon's break-link helpers;
 *   pin_layer.c   what the upper layer says about a path (whiteouts);
 *   pin_redo.c    upper entries of an earlier run placed again (torn files
 *                 of an interrupted run, symlinks of a symlink run);
 *   pin_symlist.c the list of blobs symlinks point to, for gc;
 *   pin_report.c  mode names, reasons, the summary line.
 * Not a public interface. */
#ifndef WFS_PIN_INT_H
#define WFS_PIN_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>

#include "pin.h"
#include "upper.h"

/* What pin does with one composed entry. */
enum {
	WFS_PS_HIDDEN, /* whited out, or under something that hides it */
	WFS_PS_UPPER,  /* the upper layer has this name: it wins */
	WFS_PS_MERGE,  /* a lower directory the upper layer has too: descend */
	WFS_PS_CREATE, /* a lower directory to create */
	WFS_PS_PLACE,  /* a file or symlink to place (a job) */
};

/* ---- the upper layer as pin sees it (pin_layer.c) ------------------------ */

enum { WFS_PL_NONE, WFS_PL_UPPER, WFS_PL_WHITEOUT, WFS_PL_OPAQUE };

struct wfs_pin_layer {
	int dirfd;   /* TARGET's underlying directory (not owned) */
	void *store; /* the whiteout store, when there is one */
};

int wfs_pin_layer_open(struct wfs_pin_layer *l, int dirfd, struct wfs_err *err);
void wfs_pin_layer_close(struct wfs_pin_layer *l);
/* WFS_PL_WHITEOUT when path (a view path) is whited out, WFS_PL_OPAQUE when an
 * upper directory replaced it; else, when check_upper, WFS_PL_UPPER with *st
 * filled when the upper layer has an entry there (not following symlinks);
 * else WFS_PL_NONE.  <0 on errors. */
int wfs_pin_layer_lookup(struct wfs_pin_layer *l, const char *path,
			 int check_upper, struct stat *st);

/* ---- a run --------------------------------------------------------------- */

struct wfs_pin_vset; /* the set of blobs verified during the run */

struct wfs_pin_run {
	int dirfd;
	const char *target;
	struct wfs_cache *cache;
	const struct wfs_composed *cv;
	const struct wfs_pin_opts *o;
	struct wfs_pin_result *r;
	char blobs_abs[PATH_MAX]; /* absolute CACHE/blobs, for symlink mode */

	uint8_t *state; /* PS_* per composed entry */
	uint32_t *jobs; /* indices of WFS_PS_PLACE entries, in path order */
	size_t njobs;
	uint8_t *how;	  /* per job: WFS_BY_* + 1 once placed by us, 0 not */
	uint8_t *replace; /* per composed index: over a symlink to its blob */
	uint64_t bytes_total; /* regular file bytes of all jobs */
	uint64_t bsize;	      /* TARGET's block size, for space estimates */

	int partial; /* wfs_pin_files: some distributions, for an install */
	int delay_us, crash_at, no_tmpfile, no_space_check; /* test hooks */
	int hardlink_auto; /* auto may hardlink (blobs protected by kernel) */
	mode_t umask;

	/* Shared by the workers. */
	pthread_mutex_t mu;
	struct wfs_pin_vset *verified;
	atomic_size_t next;    /* next job to hand out */
	atomic_size_t stop_at; /* index of the first failed job; SIZE_MAX */
	size_t err_at;	       /* job err describes (under mu) */
	int rc;		       /* (under mu) */
	struct wfs_err err;    /* (under mu) */
	atomic_int reflink_off, hardlink_off, symlink_off; /* errno or 0 */
	atomic_int tmpfile_off, emptypath_off, noreplace_off;
	atomic_int *dfd;       /* per composed index: its upper dir's fd, -1 */
	atomic_uchar *made;    /* per composed index: this run made the dir */
	atomic_int dfd_budget; /* how many more fds dfd may hold */
	atomic_int copy_checked; /* space checked for copying the rest */
	atomic_uint_fast64_t done, bytes_done, by[WFS_BY_N], symlinks;
	atomic_uint_fast64_t bytes_written, bytes_shared, raced;
	atomic_uint_fast64_t exec_copied, emlink;
	uint64_t progress_at; /* (under mu) */
	int pipeline; /* a verifier thread hashes blobs ahead (pin_file.c) */
};

struct wfs_pin_worker {
	struct wfs_pin_run *p;
	char *buf;
	size_t cap;
	struct wfs_hasher *h;
	struct {
		uint32_t idx; /* composed index of the directory */
		int fd;
		unsigned long used;
	} dirs[8];
	unsigned long tick;
};

int wfs_pin_worker_init(struct wfs_pin_worker *w, struct wfs_pin_run *p);
void wfs_pin_worker_free(struct wfs_pin_worker *w);

/* fd of the upper directory of composed entry idx (a directory), opened
 * without following symlinks, and made first when it is a WFS_PS_CREATE
 * directory not made yet (p->made records who made it); owned by the run
 * or the worker: do not close, use it only until the next call. */
int wfs_pin_dir_fd(struct wfs_pin_worker *w, uint32_t idx);

/* ---- pin_io.c ------------------------------------------------------------ */

void wfs_pin_vset_free(struct wfs_pin_vset *s);

/* A lower directory's mode in the tree (0755 for the view's own). */
mode_t wfs_pin_dir_mode(const struct wfs_vent *e);

/* A file being written: an O_TMPFILE (name "") or a named temp file. */
struct wfs_pin_tmp {
	int fd;
	char name[64];
};

/* Create a temp file in pfd for job j with mode (minus the umask). */
int wfs_pin_tmp_open(struct wfs_pin_run *p, int pfd, size_t j, mode_t mode,
		     struct wfs_pin_tmp *t);
/* Close it, and remove its name if it still has one. */
void wfs_pin_tmp_discard(int pfd, struct wfs_pin_tmp *t);
/* Give it the final name, never replacing anything: -EEXIST. */
int wfs_pin_tmp_publish(struct wfs_pin_run *p, int pfd, struct wfs_pin_tmp *t,
			const char *name);
/* renameat2(RENAME_NOREPLACE), or link + unlink where unsupported. */
int wfs_pin_rename_noreplace(struct wfs_pin_run *p, int pfd, const char *tmp,
			     const char *name);
/* The tree entry's mode (when the umask changed it) and mtime. */
int wfs_pin_set_meta(struct wfs_pin_run *p, int fd,
		     const struct wfs_tree_ent *te);
/* The test hooks' spot: after writing job j, before placing it. */
void wfs_pin_test_hook(struct wfs_pin_run *p, size_t j);
/* XXH3-128 and size of fd's content. */
int wfs_pin_hash_fd(struct wfs_pin_worker *w, int fd, struct wfs_digest *d,
		    uint64_t *size);
/* 0 when digest and size are the tree entry's, else -EBADMSG. */
int wfs_pin_check_digest(const struct wfs_tree_ent *te,
			 const struct wfs_digest *got, uint64_t size);
/* Check te's blob (read from fd, or opened when fd < 0) once per run. */
int wfs_pin_verify_blob(struct wfs_pin_worker *w, const struct wfs_tree_ent *te,
			int fd);
/* 1 when b maps the very same physical extents as a (FIEMAP). */
int wfs_pin_same_extents(int a, int b);

/* ---- pin_file.c ---------------------------------------------------------- */

/* Place job j.  0 placed or given up to the upper layer; <0 the run
 * stops (the error is recorded with wfs_pin_fail). */
int wfs_pin_place(struct wfs_pin_worker *w, size_t j);
/* Whether a verifier thread would help the rest of the run (the blobs are
 * what gets checked), and its thread function (arg: its own worker). */
int wfs_pin_wants_verifier(struct wfs_pin_run *p);
void *wfs_pin_verifier(void *arg);

/* ---- pin.c --------------------------------------------------------------- */

/* Its presence means a run was interrupted; an install's run
 * (wfs_pin_files) that made it writes WFS_PIN_JOURNAL_INSTALL in it. */
#define WFS_PIN_JOURNAL WFS_STATE_DIR "/pinning"
#define WFS_PIN_JOURNAL_INSTALL "install\n"

/* The run after its set-up (pin_entry.c): plan against the upper layer,
 * write the journal, place every job, make and finish the directories,
 * sync, and (a whole view's run) update pinned-symlinks.  The journal is
 * the caller's to remove. */
int wfs_pin_body(struct wfs_pin_run *p, struct wfs_pin_worker *w,
		 struct wfs_err *err);

/* Record a failure at job j (the lowest job's message is kept) and stop
 * handing out later jobs.  Returns rc. */
int wfs_pin_fail(struct wfs_pin_run *p, size_t j, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Free-space check for writing `bytes` more and creating `inodes` more. */
int wfs_pin_space_check(struct wfs_pin_run *p, uint64_t bytes, uint64_t inodes,
			size_t j);

/* ---- pin_redo.c ---------------------------------------------------------- */

/* After an interrupted run: 1 when e's upper file st (with the tree's
 * mtime) does not hold the lower content and was removed, 0 when kept. */
int wfs_pin_torn(struct wfs_pin_run *p, struct wfs_pin_worker *w,
		 const struct wfs_vent *e, const struct stat *st);
/* 1 when e's upper entry st is a symlink to e's own blob that this run
 * replaces (any mode but symlink). */
int wfs_pin_blob_symlink(struct wfs_pin_run *p, struct wfs_pin_worker *w,
			 const struct wfs_vent *e, const struct stat *st);
/* Put the finished temp t of job j in place of e's symlink to its blob;
 * -EEXIST (t kept for discarding) when the name is something else now. */
int wfs_pin_replace_symlink(struct wfs_pin_run *p, int pfd,
			    struct wfs_pin_tmp *t, size_t j,
			    const struct wfs_vent *e);

/* ---- pin_symlist.c ------------------------------------------------------- */

/* TARGET/.wheelfs/pinned-symlinks.  Symlink mode, before the jobs: write
 * it (the jobs' blobs and the symlinks to blobs already in place) and
 * register TARGET in the cache.  Other modes, at the end: keep only the
 * symlinks to blobs left in place, or remove it. */
int wfs_pin_symlist_update(struct wfs_pin_run *p, struct wfs_pin_worker *w,
			   struct wfs_err *err);

/* ---- pin_report.c -------------------------------------------------------- */

/* "<mount point> (<fstype>)" of the filesystem holding fd. */
void wfs_pin_describe_fs(int fd, char *buf, size_t len);

/* Why a method (WFS_BY_*) could not be used, for messages: an errno, or
 * -1 (auto does not hardlink unprotected blobs), -2 (executable). */
void wfs_pin_reason(const struct wfs_pin_result *r, int method, int e,
		    char *buf, size_t len);

/* Temp names: under upper.h's prefix, so the mount never shows them. */
#define WFS_PIN_TMP_PREFIX WFS_UPPER_TMP_PREFIX "pin."

#endif
