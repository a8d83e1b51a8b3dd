/* pin.h — materializing a view: make TARGET independent of the cache.
 *
 * wfs_pin() walks the composed lower layer of TARGET's view and, for every
 * entry that the upper layer (TARGET's underlying directory) neither
 * shadows nor whites out, writes a real entry into the upper layer:
 *
 *   directories  mkdir, by the worker whose file first needs it (so
 *                workers make them in parallel); mode and mtime from the
 *                tree, set once the whole run is done (placing children
 *                changes the mtime);
 *   symlinks     symlinkat to a temp name, mtime set, renamed into place;
 *   files        materialized by reflink (FICLONE), hardlink (linkat from
 *                the blob), copy (read, hash, write) or symlink (to the blob),
 *                checked before they are placed: the XXH3-128 of what the
 *                venv file holds must be the blob's name.  copy hashes while
 *                copying; reflink compares the copy's extents with the
 *                blob's (FIEMAP: then the blob is what gets hashed) or
 *                reads the copy back; hardlink and symlink hash the blob,
 *                once per run.  With two threads or more, one of them
 *                hashes blobs ahead of the others (a verifier), so hashing
 *                overlaps the metadata work.  Mode and mtime come from the
 *                tree, so .pyc files written against the mounted view stay
 *                valid.
 *
 * Directories are opened one component at a time with O_NOFOLLOW from
 * TARGET: pin never follows a symlink in the upper layer (it may run as
 * root on a venv someone else owns).
 *
 * A file is written under no name at all (O_TMPFILE) or under a temp name
 * ".wheelfs-tmp-pin.<pid>.<n>" in its own directory (the mount hides such
 * names, see upper.h), and placed with linkat or renameat2
 * (RENAME_NOREPLACE): if the name appeared in the upper layer
 * meanwhile (a write through the mount copied it up), the upper one wins
 * and ours is dropped.  Nothing half-written ever carries a final name, so
 * killing pin at any point is safe; the next run removes leftover temp
 * names (a journal, TARGET/.wheelfs/pinning, says one was interrupted) and
 * completes.  Files already placed by an interrupted run are complete upper
 * copies of lower files, which the overlay serves exactly as before.  Files
 * are not fsynced one by one, so after a power failure during a run some
 * may come back empty or torn: the resuming run re-hashes every upper file
 * that still has the tree's exact mtime (what pin gives them; the user's
 * edits change it) and places again the ones that do not match.
 *
 * When everything is placed, pin syncs TARGET's filesystem and marks the
 * view record pinned (wfs_view_write with pinned = 1).  pinned = 1 means
 * "every lower entry of the view has an upper counterpart (or is hidden)":
 * the daemon may then serve from the upper layer alone and the cache may
 * go away (except with symlink mode).  The dist lines stay, so `show`,
 * `uninstall` and gc still know what is installed; an install that adds
 * distributions later keeps pinned = 1 and places their files as real
 * files too (wfs_pin_files, in the mode the view was pinned with, else
 * auto), so that no mount of a pinned view ever needs its cache, which
 * may be gone: a distribution without its tree is then removed by its
 * RECORD.
 *
 * Modes (enum wfs_pin_mode):
 *   auto      per file: reflink, then hardlink, then copy.  A failure of a
 *             class (EXDEV: different filesystems; EOPNOTSUPP/EINVAL/ENOTTY:
 *             unsupported; EPERM/EACCES: not permitted) switches that method
 *             off for the rest of the run.  Hardlink is only tried when the
 *             kernel itself protects the blobs from the caller (not their
 *             owner, no CAP_FOWNER/CAP_DAC_OVERRIDE): a hardlinked file IS
 *             the blob, and root or the blobs' owner could change the cache
 *             by editing it in place.  Otherwise auto never hardlinks and the
 *             summary says why.
 *   reflink, hardlink, copy, symlink
 *             that method; when it cannot be used, copy (and the summary
 *             says so), or with strict, fail naming the first such file.
 *             hardlink never links an executable entry (blobs are 0444).
 *   With strict, auto may reflink or hardlink but never copy.
 *
 * Hardlink protection: the mount daemon must call wfs_pin_is_shared() /
 * wfs_pin_break_link() before it opens an upper file for writing,
 * truncates it, or changes its attributes, so that a write through the
 * mount goes to a private copy (the equivalent of copy-up).  Offline, a
 * hardlinked file is 0444; tools that replace files (pip, sed -i, most
 * editors) leave the blob alone, but an in-place write by root, or by the
 * owner after chmod, changes the cache.  symlink mode gives no protection
 * at all and makes the venv depend on the cache: before placing anything
 * it writes TARGET/.wheelfs/pinned-symlinks (the absolute blob paths the
 * symlinks point to, pin_symlist.c) and registers TARGET in the cache, so
 * that gc of that cache keeps them whatever cache the view record names;
 * the caller must open the cache writable (its shared lock held for the
 * run keeps gc out).  A run in any other mode replaces such a symlink to
 * the entry's own blob by a real file (pin_redo.c) and removes the list
 * (or keeps the symlinks left in place, into another cache).
 *
 * Space: before copying, pin compares the bytes it will write (rounded up to
 * the block size) and the inodes it will create with fstatvfs of TARGET and
 * stops with "not enough space on <mount point> (<fstype>)".  ENOSPC midway
 * stops cleanly (temp removed, view not marked); rerun after freeing space.
 *
 * Test hooks (environment; for the integration tests only):
 *   WFS_TEST_PIN_DELAY_US=N       sleep N µs after writing each file, before
 *                                 it is placed (widens kill -9 windows)
 *   WFS_TEST_PIN_CRASH_AT=N       SIGKILL itself there, at the N-th job
 *   WFS_TEST_PIN_NO_TMPFILE=1     use named temp files, never O_TMPFILE
 *   WFS_TEST_PIN_NO_SPACE_CHECK=1 skip the free-space check (reach ENOSPC)
 */
#ifndef WFS_PIN_H
#define WFS_PIN_H

#include <stdint.h>

#include "cache.h"
#include "util.h"
#include "view.h"

enum wfs_pin_mode {
	WFS_PIN_AUTO,
	WFS_PIN_REFLINK,
	WFS_PIN_HARDLINK,
	WFS_PIN_COPY,
	WFS_PIN_SYMLINK,
};

/* "auto", "reflink", ... ; -EINVAL for anything else. */
int wfs_pin_mode_parse(const char *s, enum wfs_pin_mode *m);
const char *wfs_pin_mode_name(enum wfs_pin_mode m);

struct wfs_pin_opts {
	enum wfs_pin_mode mode;
	int strict;  /* fail instead of falling back (auto: never copy) */
	int threads; /* workers; 0: one per CPU, at most 8 */
	/* Called now and then from some worker (serialized); may be NULL. */
	void (*progress)(uint64_t done, uint64_t total, void *arg);
	void *arg;
};

/* How a regular file got into the venv. */
enum { WFS_BY_REFLINK, WFS_BY_HARDLINK, WFS_BY_COPY, WFS_BY_SYMLINK, WFS_BY_N };

struct wfs_pin_result {
	uint64_t files;		/* regular files placed */
	uint64_t by[WFS_BY_N];	/* ... per method */
	uint64_t symlinks;	/* symlink entries placed */
	uint64_t dirs;		/* directories created */
	uint64_t bytes_written; /* data written by copies */
	uint64_t bytes_shared;	/* data shared by reflinks and hardlinks */
	uint64_t upper;		/* lower entries the upper layer already had */
	uint64_t hidden;	/* lower entries hidden (whiteouts, shadowed) */
	uint64_t raced;		/* appeared in the upper layer meanwhile */
	uint64_t exec_copied;	/* executables not hardlinked */
	uint64_t emlink;	/* blob at its link limit: not hardlinked */
	uint64_t cleaned;	/* leftover temp names removed */
	uint64_t repaired;	/* torn files of an interrupted run replaced */
	int reflink_errno;	/* what switched reflink off (0: never) */
	int hardlink_errno;	/* ... hardlink */
	int hardlink_policy;	/* auto did not hardlink: blobs unprotected */
	int symlink_errno;	/* ... symlink (falls back to copy) */
	int resumed;		/* an interrupted run was completed */
	char target_fs[256];	/* "<mount point> (<fstype>)" of TARGET */
	char cache_fs[256];	/* ... of the cache's blobs */
};

/* Pin the view v (read from dirfd's .wheelfs/view) whose trees live in c.
 * dirfd is TARGET's underlying directory (wfs_control_open_target); target
 * is its path, for messages.  On success the view record is marked pinned.
 * -EAGAIN: the view record changed meanwhile (run again).  Sending RELOAD to
 * a live daemon is the caller's job. */
int wfs_pin(int dirfd, const char *target, struct wfs_cache *c,
	    const struct wfs_view *v, const struct wfs_pin_opts *o,
	    struct wfs_pin_result *r, struct wfs_err *err);

/* For `wheelfs install` into a pinned view, holding the view lock
 * (wfs_view_lock): place the entries of v's distributions (the new ones:
 * v need not be TARGET's whole view, its trees must be in c) that the
 * upper layer lacks, as wfs_pin does: the same methods and checks, temp
 * files, journal, and the tree's mode and mtime for the directories it
 * makes.  Entries the upper layer has win.  Nothing marks the view (the
 * caller writes it); pinned-symlinks only gets the blobs of the symlinks
 * this run makes (symlink mode). */
int wfs_pin_files(int dirfd, const char *target, struct wfs_cache *c,
		  const struct wfs_view *v, const struct wfs_pin_opts *o,
		  struct wfs_pin_result *r, struct wfs_err *err);

/* The mode TARGET was last pinned with (TARGET/.wheelfs/pin-mode, which
 * wfs_pin writes before it marks the view pinned): -ENOENT when pinned by
 * an older wheelfs, -EBADMSG when unreadable. */
int wfs_pin_mode_recorded(int dirfd, enum wfs_pin_mode *m);

/* The one-line summary of a run ("pinned N files (...)"), into buf. */
void wfs_pin_summary(const struct wfs_pin_result *r,
		     const struct wfs_pin_opts *o, char *buf, size_t len);

/* 1 when dirfd/path is a regular file with more than one link (a pinned
 * hardlink shares its inode with a cache blob), 0 when not, -errno. */
int wfs_pin_is_shared(int dirfd, const char *path);
int wfs_pin_fd_is_shared(int fd);

/* Replace dirfd/path by a private copy of itself (temp file in the same
 * directory, renamed over it), keeping mode, mtime and content, so that a
 * write no longer reaches the other links.  0 when done or not shared. */
int wfs_pin_break_link(int dirfd, const char *path);

#endif
