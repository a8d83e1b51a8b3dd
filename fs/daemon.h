/* daemon.h — the mount daemon: session setup, mount options, readiness,
 * signals, the control socket server, and unmounting.
 *
 * wfs_mount() opens TARGET's underlying directory (the upper layer) and
 * the cache (read-only), composes the view, binds the control socket
 * (control.h), mounts over TARGET and serves.  In the background (the
 * default) it forks: the parent returns only once the kernel's INIT has
 * been answered, i.e. once the mount serves requests, or with the child's
 * error.  SIGTERM, SIGINT and SIGHUP unmount cleanly; an aborted kernel
 * connection detaches the dead mount and fails (ECONNABORTED).
 *
 * Mount options (-o, comma-separated):
 *   allow_other          let other users in (implies default_permissions;
 *                        needs user_allow_other in /etc/fuse.conf for
 *                        non-root users)
 *   default_permissions  accepted; always on (the kernel checks modes)
 *   ro / rw              read-only mount / read-write (default)
 *   debug                libfuse request tracing on stderr (implies -f)
 *   threads=N            N worker threads (0: single-threaded, default)
 *   timeout=SECONDS      kernel cache lifetime of entries and attributes
 *   readdirplus=yes|auto|no   (default yes)
 *   log=FILE             append the daemon's log lines to FILE
 *   maxfds=N             descriptors kept open for file content (1024)
 *   spin=USEC            single-threaded loop: after a request, keep
 *                        polling the device this long before sleeping
 *                        (0: never; see wheelfs-mount(1))
 *   follow=yes|no        single-threaded loop: run beside a thread that
 *                        sends request after request (default yes;
 *                        see loop.h)
 */
#ifndef WFS_DAEMON_H
#define WFS_DAEMON_H

#include "util.h"

struct wfs_mount_opts {
	const char *cache; /* NULL: the cache named in the view */
	const char *target;
	int foreground;
	int allow_other, ro, debug;
	int threads;
	double timeout;
	int readdirplus; /* 0 no, 1 auto, 2 yes */
	const char *log;
	unsigned maxfds;
	unsigned spin_us;
	int follow;
};

void wfs_mount_opts_init(struct wfs_mount_opts *o);
/* Parse one -o argument (modified in place; values point into it). */
int wfs_mount_parse(struct wfs_mount_opts *o, char *optstr,
		    struct wfs_err *err);

/* Mount and serve.  Background: returns 0 once the mount serves (the
 * daemon lives on), or the error.  Foreground: returns when unmounted. */
int wfs_mount(const struct wfs_mount_opts *o, struct wfs_err *err);

/* 1 when target_abs is the mount point of a wheelfs mount, 0 when not,
 * <0 on error (reads /proc/self/mountinfo). */
int wfs_mount_is_wheelfs(const char *target_abs);

/* The mount points of every wheelfs mount this process can see, where they
 * are now (a mount moves with its directory): *paths is a malloc'ed array
 * of malloc'ed strings, *n of them.  0 or -errno. */
int wfs_mount_list_wheelfs(char ***paths, size_t *n);

/* Unmount TARGET (umount2 as root, else fusermount3 -u) and wait up to
 * wait_s seconds for its daemon to exit.  lazy: detach even when busy. */
int wfs_umount(const char *target, int lazy, double wait_s,
	       struct wfs_err *err);

#endif
