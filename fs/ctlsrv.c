/* ctlsrv.c — the daemon's side of the control socket (control.h): a
 * thread that accepts connections from the daemon's own user and root
 * (SO_PEERCRED), reads request lines and answers DIRFD, RELOAD, INVAL and
 * PING (see ctlsrv.h). */
#include "ctlsrv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"
#include "daemon.h"
#include "ll.h"

/* The pid of the daemon listening on sa, or -1. */
static pid_t daemon_pid(const struct sockaddr_un *sa, socklen_t len)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid = -1;

	if (s < 0)
		return -1;
	if (connect(s, (const struct sockaddr *)sa, len) == 0 &&
	    getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &l) == 0)
		pid = cr.pid;
	close(s);
	return pid;
}

int wfs_ctlsrv_listen(struct wfs_ctlsrv *c, const char *target_abs,
		      struct wfs_err *err)
{
	struct sockaddr_un sa;
	socklen_t len;

	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		return wfs_errf(err, -errno, "control socket: %s",
				strerror(errno));
	wfs_control_addr(target_abs, &sa, &len);
	if (bind(c->lfd, (struct sockaddr *)&sa, len) < 0) {
		int e = errno;
		pid_t pid;
		if (e == EADDRINUSE && wfs_mount_is_wheelfs(target_abs) == 0 &&
		    (pid = daemon_pid(&sa, len)) > 0)
			return wfs_errf(
				err, -e,
				"%s: an earlier wheelfs daemon (pid %d) "
				"still serves it, unmounted lazily "
				"while in use; it exits once the "
				"processes using it are done (or kill "
				"%d)",
				target_abs, (int)pid, (int)pid);
		return wfs_errf(
			err, -e,
			e == EADDRINUSE ? "%s is already served by a wheelfs "
					  "daemon (run `wheelfs umount %s`)"
					: "%s: control socket: %s",
			target_abs, e == EADDRINUSE ? target_abs : strerror(e));
	}
	if (listen(c->lfd, 16) < 0)
		return wfs_errf(err, -errno, "control socket: %s",
				strerror(errno));
	if (pipe2(c->wake, O_CLOEXEC) < 0)
		return wfs_errf(err, -errno, "pipe: %s", strerror(errno));
	return 0;
}

/* Serve one request line; the reply's result (<0: drop the client). */
static int ctl_request(struct wfs_ctlsrv *c, int fd, char *line)
{
	struct wfs_err err = { { 0 } };
	char reply[1100];
	int rc;

	if (!strcmp(line, "PING"))
		return wfs_control_reply(fd, "OK\n", -1);
	if (!strcmp(line, "DIRFD"))
		return wfs_control_reply(fd, "OK\n", c->fs->upperfd);
	if (!strcmp(line, "RELOAD")) {
		rc = wfs_fs_reload(c->fs, &err);
		if (rc) {
			if (!err.msg[0])
				snprintf(err.msg, sizeof(err.msg), "%s",
					 strerror(-rc));
			wfs_fs_log(c->fs, "reload of %s failed: %s",
				   c->fs->target, err.msg);
			snprintf(reply, sizeof(reply), "ERR %s\n", err.msg);
			return wfs_control_reply(fd, reply, -1);
		}
		return wfs_control_reply(fd, "OK\n", -1);
	}
	if (!strncmp(line, "INVAL ", 6)) {
		rc = wfs_fs_inval_path(c->fs, line + 6);
		snprintf(reply, sizeof(reply), rc ? "ERR %s\n" : "OK\n",
			 strerror(-rc));
		return wfs_control_reply(fd, reply, -1);
	}
	return wfs_control_reply(fd, "ERR unknown request\n", -1);
}

static void ctl_accept(struct wfs_ctlsrv *c)
{
	struct ucred cr;
	struct timeval snd = { .tv_sec = 1 };
	socklen_t l = sizeof(cr);
	int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0 ||
	    (cr.uid != geteuid() && cr.uid != 0) ||
	    c->nconn == WFS_CTLSRV_MAXCONN) {
		close(fd);
		return;
	}
	/* A client that stops reading must not block this thread (and with
	 * it the daemon's shutdown): replies give up after a second. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd));
	c->conn[c->nconn].fd = fd;
	c->conn[c->nconn].len = 0;
	c->nconn++;
}

/* Returns 0 to keep the connection, -1 to drop it. */
static int ctl_read(struct wfs_ctlsrv *c, struct wfs_ctlconn *k)
{
	ssize_t n = recv(k->fd, k->buf + k->len, sizeof(k->buf) - 1 - k->len,
			 MSG_DONTWAIT);
	char *nl;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	k->len += (size_t)n;
	while ((nl = memchr(k->buf, '\n', k->len))) {
		size_t used = (size_t)(nl - k->buf) + 1;
		*nl = '\0';
		if (ctl_request(c, k->fd, k->buf) < 0)
			return -1; /* not reading its replies: dropped */
		memmove(k->buf, nl + 1, k->len - used);
		k->len -= used;
	}
	return k->len == sizeof(k->buf) - 1 ? -1 : 0;
}

static void *ctl_main(void *arg)
{
	struct wfs_ctlsrv *c = arg;

	for (;;) {
		struct pollfd p[WFS_CTLSRV_MAXCONN + 2];
		int n = c->nconn;
		p[0] = (struct pollfd){ .fd = c->wake[0], .events = POLLIN };
		p[1] = (struct pollfd){ .fd = c->lfd, .events = POLLIN };
		for (int i = 0; i < n; i++)
			p[i + 2] = (struct pollfd){ .fd = c->conn[i].fd,
						    .events = POLLIN };
		if (poll(p, (nfds_t)n + 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		for (int i = n - 1; i >= 0; i--) {
			if (!p[i + 2].revents)
				continue;
			if (ctl_read(c, &c->conn[i]) < 0) {
				close(c->conn[i].fd);
				c->conn[i] = c->conn[--c->nconn];
			}
		}
		if (p[1].revents & POLLIN)
			ctl_accept(c);
	}
	return NULL;
}

int wfs_ctlsrv_start(struct wfs_ctlsrv *c)
{
	sigset_t all, old;
	int rc;

	/* Signals belong to the session loop (fuse_set_signal_handlers). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&c->th, NULL, ctl_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	c->started = 1;
	return 0;
}

void wfs_ctlsrv_stop(struct wfs_ctlsrv *c)
{
	if (c->started) {
		(void)!write(c->wake[1], "x", 1);
		pthread_join(c->th, NULL);
		c->started = 0;
	}
}

/* Closed last, so `wheelfs umount` sees EOF only once all is done. */
void wfs_ctlsrv_close(struct wfs_ctlsrv *c)
{
	for (int i = 0; i < c->nconn; i++)
		close(c->conn[i].fd);
	c->nconn = 0;
	if (c->lfd >= 0)
		close(c->lfd);
	for (int i = 0; i < 2; i++)
		if (c->wake[i] >= 0)
			close(c->wake[i]);
	c->lfd = c->wake[0] = c->wake[1] = -1;
}
