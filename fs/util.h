/* util.h — small helpers shared by every wheelfs module.
 *
 * Error convention: functions return 0 on success or a negative errno value.
 * Functions that can fail for reasons a user must read also take a
 * struct wfs_err, into which they write one line (no trailing newline) that
 * names the file and the reason.  wfs_errf() formats it and returns the errno
 * it was given, so call sites read `return wfs_errf(err, -EINVAL, ...)`.
 */
#ifndef WFS_UTIL_H
#define WFS_UTIL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct wfs_err {
	char msg[1024];
};

/* Format a message into err (if non-NULL) and return rc.  A message already
 * present is kept: the first failure is the one worth reporting. */
int wfs_errf(struct wfs_err *err, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Read a whole file (relative to dirfd) into a malloc'd, NUL-terminated
 * buffer. *len excludes the terminator. */
int wfs_read_file(int dirfd, const char *path, char **buf, size_t *len);

/* Write len bytes to dirfd/path atomically: a temp file in the same directory
 * (".wfs-tmp.<path's last component>.<pid>.XXXXXX"), fsync when durable is
 * set, then rename over path.  mode is the final mode.  Test hook: with
 * WFS_TEST_ATOMIC_CRASH=<last component> in the environment, the process
 * kills itself (SIGKILL) between writing the temp file and renaming it. */
int wfs_write_atomic(int dirfd, const char *path, const void *buf, size_t len,
		     mode_t mode, int durable);
/* Remove the temp files wfs_write_atomic of dirfd/path left behind (killed
 * before its rename): those named for path's last component, in its
 * directory.  Call it only holding a lock that every writer of path holds
 * while it writes, so that none of them is a running writer's.  The
 * number removed, or -errno. */
int wfs_write_atomic_sweep(int dirfd, const char *path);

/* write() / pread() loops that handle short counts and EINTR. */
int wfs_write_all(int fd, const void *buf, size_t len);
ssize_t wfs_pread_full(int fd, void *buf, size_t len, off_t off);

/* mkdir -p relative to dirfd; existing directories are fine. */
int wfs_mkdirs(int dirfd, const char *path, mode_t mode);

/* A directory stream of dirfd/path; flags may add O_NOFOLLOW.  0, or
 * −errno (with *out untouched). */
int wfs_opendirat(int dirfd, const char *path, int flags, DIR **out);

/* Remove a directory tree relative to dirfd (like rm -rf). Missing is fine. */
int wfs_rmtree(int dirfd, const char *path);

/* Growable byte buffer. */
struct wfs_buf {
	char *data;
	size_t len, cap;
};
int wfs_buf_append(struct wfs_buf *b, const void *p, size_t n);
int wfs_buf_printf(struct wfs_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void wfs_buf_free(struct wfs_buf *b);

/* A growable set of malloc'd strings; wfs_ss_sort sorts and dedups. */
struct wfs_strset {
	char **v;
	size_t n, cap;
	int sorted;
};
int wfs_ss_add(struct wfs_strset *s, const char *p);
/* The first len bytes of p. */
int wfs_ss_addn(struct wfs_strset *s, const char *p, size_t len);
void wfs_ss_sort(struct wfs_strset *s);
void wfs_ss_free(struct wfs_strset *s);
/* Binary search in a sorted array of strings. */
int wfs_sorted_has(char *const *v, size_t n, const char *p);

/* Allocation helpers that abort on out-of-memory are deliberately absent:
 * callers propagate -ENOMEM. */

/* Number of CPUs available to this process (at least 1). */
int wfs_ncpus(void);

/* Human-readable byte count ("12.3 MiB") into buf. */
const char *wfs_human_bytes(uint64_t n, char *buf, size_t len);

#endif
