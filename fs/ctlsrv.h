/* ctlsrv.h — the control socket server of a mount daemon.
 *
 * One thread polls the listening socket (bound before mounting, so a second
 * daemon for the same TARGET fails early with EADDRINUSE) and up to
 * WFS_CTLSRV_MAXCONN connections.  Requests (control.h): DIRFD hands out
 * the upper directory, RELOAD runs wfs_fs_reload() (ll.h) and answers OK or
 * "ERR <message>" (also logged), "INVAL <path>" runs wfs_fs_inval_path(),
 * PING answers OK.  The thread blocks every signal: they belong to the
 * session loop.  Connections stay open until wfs_ctlsrv_close(), which the
 * daemon calls last, so a client waiting for EOF (`wheelfs umount`) knows
 * the daemon is done.
 */
#ifndef WFS_CTLSRV_H
#define WFS_CTLSRV_H

#include <pthread.h>
#include <stddef.h>

#include "util.h"

struct wfs_fs;

#define WFS_CTLSRV_MAXCONN 32

struct wfs_ctlconn {
	int fd;
	size_t len;
	char buf[4096];
};

struct wfs_ctlsrv {
	struct wfs_fs *fs;
	int lfd;     /* listening socket, -1 */
	int wake[2]; /* pipe that stops the thread, -1 */
	pthread_t th;
	int started;
	struct wfs_ctlconn conn[WFS_CTLSRV_MAXCONN];
	int nconn;
};

/* Bind and listen on the abstract address of target_abs (set c->fs and
 * initialize lfd/wake to -1 first). */
int wfs_ctlsrv_listen(struct wfs_ctlsrv *c, const char *target_abs,
		      struct wfs_err *err);
int wfs_ctlsrv_start(struct wfs_ctlsrv *c);
/* Stop and join the thread; connections stay open. */
void wfs_ctlsrv_stop(struct wfs_ctlsrv *c);
/* Close every connection and the socket. */
void wfs_ctlsrv_close(struct wfs_ctlsrv *c);

#endif
