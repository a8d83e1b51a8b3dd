/* upper.h — the writable upper layer of a mount: whiteouts and copy-up.
 *
 * The upper layer is TARGET's underlying directory (the daemon opens it
 * before mounting over it).  Everything written through the mount lands
 * there as ordinary files.  Its state directory TARGET/.wheelfs (view
 * record, whiteouts) is hidden inside the mount.
 *
 * Whiteouts.  Deleting a name that comes from the lower layer (the wheel
 * trees) records a whiteout; a directory created in the upper layer over a
 * deleted lower directory is recorded as opaque (its lower content stays
 * hidden).  Records live in TARGET/.wheelfs/whiteouts, an append-only
 * journal of lines, one change each:
 *
 *   wheelfs-whiteouts 1
 *   w <path>          <path> is whited out
 *   o <path>          <path> is an opaque directory
 *   - <path>          forget the record for <path>
 *
 * <path> is relative to TARGET, with bytes <= 0x20, '%' and 0x7f written as
 * %XX.  Each change is appended with one write(2) under flock(LOCK_EX), so
 * several writers (the daemon, and commands holding the control channel's
 * DIRFD) may append at once.  Compaction rewrites the journal atomically
 * (temp + rename) under the same lock; an appender that finds the file it
 * locked unlinked (st_nlink == 0) reopens it.  A torn last line (no
 * newline) is ignored when reading.
 *
 * Copy-up.  wfs_upper_copy_file() creates a file from a blob: an O_TMPFILE
 * in the destination directory (a named temp when the filesystem lacks it),
 * filled by FICLONE when the cache and the upper layer share a reflink
 * filesystem, else copy_file_range, else read/write; mode, mtime and owner
 * are set; then it is linked (or renamed) into place, so the final name
 * never holds a partial copy.  The source is only ever read.
 */
#ifndef WFS_UPPER_H
#define WFS_UPPER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define WFS_WHITEOUTS_FILE ".wheelfs/whiteouts"
/* Temp names of the named-temp fallback; hidden in listings. */
#define WFS_UPPER_TMP_PREFIX ".wheelfs-tmp-"

enum { WFS_WO_NONE = 0, WFS_WO_WHITEOUT = 'w', WFS_WO_OPAQUE = 'o' };

struct wfs_wo_ent;

struct wfs_whiteouts {
	struct wfs_wo_ent **tab;
	size_t cap, n; /* buckets, records held */
	size_t lines;  /* change lines in the journal file */
	int dirfd;     /* TARGET's underlying directory (not owned) */
	int jfd;       /* the journal, opened for appending; -1 */
	int readonly;  /* never write */
};

/* Read TARGET/.wheelfs/whiteouts (a missing file is an empty store).
 * Compacts the journal when it holds many more lines than records (not
 * when readonly). */
int wfs_wo_load(struct wfs_whiteouts *w, int dirfd, int readonly);
void wfs_wo_free(struct wfs_whiteouts *w);
/* Re-read the journal (changes appended by others), replacing the set. */
int wfs_wo_reload(struct wfs_whiteouts *w);

/* WFS_WO_NONE, WFS_WO_WHITEOUT or WFS_WO_OPAQUE for path. */
int wfs_wo_get(const struct wfs_whiteouts *w, const char *path);
/* Record type (WFS_WO_NONE removes) for path and append it to the journal.
 * A no-op when the record is already so. */
int wfs_wo_set(struct wfs_whiteouts *w, const char *path, int type);
/* Remove the records of path and of each of its parents, so that a lower
 * entry at path shows (what install and adopt do for what they add). */
int wfs_wo_expose(struct wfs_whiteouts *w, const char *path);
/* Remove every record strictly below dir (dir "" means everything). */
int wfs_wo_clear_under(struct wfs_whiteouts *w, const char *dir);
/* Any records strictly below dir? */
int wfs_wo_any_under(const struct wfs_whiteouts *w, const char *dir);
/* Rewrite the journal with just the current records. */
int wfs_wo_compact(struct wfs_whiteouts *w);
/* Call fn for every record; stops at the first nonzero return. */
int wfs_wo_each(const struct wfs_whiteouts *w,
		int (*fn)(const char *path, int type, void *arg), void *arg);

/* ---- upper files --------------------------------------------------------- */

struct wfs_upper_attr {
	mode_t mode;	       /* permission bits (07777) */
	struct timespec mtime; /* also used for atime */
	uid_t uid;
	gid_t gid;
	int set_owner; /* chown to uid/gid (root daemons) */
};

/* Open dirfd/rel as an O_PATH directory without following symlinks and
 * without leaving dirfd (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS).
 * rel "" opens dirfd itself.  Returns the fd or -errno. */
int wfs_upper_opendir(int dirfd, const char *rel);

/* Create pfd/name as a copy of size bytes of srcfd (srcfd -1: an empty
 * file).  -EEXIST when name exists; -EIO when srcfd is shorter than size. */
int wfs_upper_copy_file(int pfd, const char *name, int srcfd, uint64_t size,
			const struct wfs_upper_attr *a);
/* Create a symlink / directory with the given attributes. */
int wfs_upper_copy_symlink(int pfd, const char *name, const char *target,
			   const struct wfs_upper_attr *a);
int wfs_upper_copy_dir(int pfd, const char *name,
		       const struct wfs_upper_attr *a);

/* 1 when name is a temp name of the named-temp fallback: never listed,
 * never looked up, never created through the mount. */
int wfs_upper_hidden_name(const char *name);
/* Copy size bytes of src into the empty file dst (cloned when the
 * filesystem can); 0 or -errno. */
int wfs_upper_copy_data(int dst, int src, uint64_t size);

/* "/proc/self/fd/N" for fd into buf (>= 32 bytes). */
const char *wfs_upper_fdpath(int fd, char *buf, size_t len);

#endif
