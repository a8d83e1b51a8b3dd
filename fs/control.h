/* control.h — the control channel between `wheelfs` commands and a running
 * mount daemon.
 *
 * The daemon serving TARGET listens on the abstract unix socket
 * "\0wheelfs-<xxh128 of the absolute TARGET path>" and accepts connections
 * only from its own uid or root (SO_PEERCRED).  Requests are one line each:
 *
 *   DIRFD\n    reply "OK\n" with the daemon's fd of TARGET's underlying
 *              directory (the upper layer) attached (SCM_RIGHTS), so
 *              commands can write the view record and upper files that the
 *              mount hides;
 *   RELOAD\n   the daemon re-reads the view record, swaps in the new lower
 *              layer and invalidates what changed in the kernel's caches;
 *              reply "OK\n" when done, or "ERR <message>\n";
 *   INVAL <path>\n
 *              drop the kernel's cached entry for <path> (relative to
 *              TARGET), for a command that created a name behind the mount
 *              through DIRFD; reply "OK\n";
 *   PING\n     reply "OK\n".
 *
 * Without a daemon (connect fails with ECONNREFUSED/ENOENT) commands work
 * on TARGET directly.
 *
 * A mount moves with its directory (mv of the venv) while the socket keeps
 * the name of the path it was mounted on: the daemon answers the extended
 * attribute WFS_CONTROL_XATTR of the mount's root with that path, and
 * wfs_control_connect() falls back on it.
 */
#ifndef WFS_CONTROL_H
#define WFS_CONTROL_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "util.h"

/* The path TARGET was mounted on, served on the mount's root. */
#define WFS_CONTROL_XATTR "user.wheelfs.control"

/* Fill the abstract socket address for an absolute TARGET path. */
void wfs_control_addr(const char *target_abs, struct sockaddr_un *sa,
		      socklen_t *len);

/* Connect to the daemon serving target (any path; it is made absolute),
 * also when the mount was moved since (WFS_CONTROL_XATTR).  Returns a
 * socket fd, or -ENOTCONN when no daemon serves it. */
int wfs_control_connect(const char *target);

/* Send one request; on "OK" return 0 (and *fd, when non-NULL, receives an
 * attached descriptor or -1).  On "ERR msg" return -EIO with msg copied into
 * errbuf. */
int wfs_control_request(int sock, const char *req, int *fd, char *errbuf,
			size_t errlen);

/* Daemon side: reply to a request, optionally attaching fd (>= 0). */
int wfs_control_reply(int sock, const char *line, int fd);

/* Open TARGET's underlying directory: through the daemon when one serves it
 * (*live = 1, *sock receives the connection, keep it for RELOAD), else
 * directly (*live = 0, *sock = -1).  Returns the dirfd or -errno. */
int wfs_control_open_target(const char *target, int *live, int *sock);
/* Record in err why wfs_control_open_target(target) failed with rc: a
 * stale mount (its daemon gone, -ENOTCONN) says to unmount it first. */
int wfs_control_target_err(struct wfs_err *err, const char *target, int rc);

#endif
