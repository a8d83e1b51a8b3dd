/* control.c — client and reply helpers for the daemon's control socket. */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "digest.h"
#include "util.h"

void wfs_control_addr(const char *target_abs, struct sockaddr_un *sa,
		      socklen_t *len)
{
	struct wfs_digest d;
	char hex[WFS_DIGEST_HEX + 1];

	wfs_digest_buf(target_abs, strlen(target_abs), &d);
	wfs_digest_hex(&d, hex);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* sun_path[0] stays '\0': the abstract namespace. */
	snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "wheelfs-%s", hex);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			   strlen(sa->sun_path + 1));
}

static int connect_abs(const char *abs)
{
	struct sockaddr_un sa;
	struct ucred cr;
	socklen_t len, crlen = sizeof(cr);
	int s;

	wfs_control_addr(abs, &sa, &len);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sa, len) < 0) {
		int rc = errno == ECONNREFUSED || errno == ENOENT ? -ENOTCONN
								  : -errno;
		close(s);
		return rc;
	}
	/* The name is predictable: only a daemon of our own user or of
	 * root is one to trust with our venv. */
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0 ||
	    (cr.uid != geteuid() && cr.uid != 0)) {
		close(s);
		return -EPERM;
	}
	return s;
}

int wfs_control_connect(const char *target)
{
	char abs[PATH_MAX], was[PATH_MAX];
	ssize_t n;
	int s;

	if (!realpath(target, abs))
		return -errno;
	s = connect_abs(abs);
	if (s != -ENOTCONN)
		return s;
	/* A mount moved since: its daemon listens under the old path. */
	n = getxattr(abs, WFS_CONTROL_XATTR, was, sizeof(was) - 1);
	if (n <= 0 || was[0] != '/')
		return -ENOTCONN;
	was[n] = '\0';
	if (!strcmp(was, abs) || strlen(was) != (size_t)n)
		return -ENOTCONN;
	return connect_abs(was);
}

int wfs_control_request(int sock, const char *req, int *fd, char *errbuf,
			size_t errlen)
{
	char line[1024], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { line, sizeof(line) - 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	size_t got = 0;
	ssize_t n;
	int rc;

	if (fd)
		*fd = -1;
	rc = wfs_write_all(sock, req, strlen(req));
	if (rc)
		return rc;
	/* Read up to the newline; the descriptor rides on the first byte. */
	while (!got || line[got - 1] != '\n') {
		iov.iov_base = line + got;
		iov.iov_len = sizeof(line) - 1 - got;
		if (!iov.iov_len)
			return -EPROTO;
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_RIGHTS) {
				int f;
				memcpy(&f, CMSG_DATA(cm), sizeof(f));
				if (fd && *fd < 0)
					*fd = f;
				else
					close(f);
			}
		}
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		got += (size_t)n;
	}
	line[got - 1] = '\0';
	if (!strcmp(line, "OK"))
		return 0;
	if (fd && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s",
			 strncmp(line, "ERR ", 4) ? line : line + 4);
	return -EIO;
}

int wfs_control_reply(int sock, const char *line, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)line, strlen(line) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *cm;
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* A short send of a line this small does not happen on a unix
	 * stream socket; send the rest plainly if it ever does. */
	if ((size_t)n < iov.iov_len)
		return wfs_write_all(sock, line + n, iov.iov_len - (size_t)n);
	return 0;
}

int wfs_control_open_target(const char *target, int *live, int *sock)
{
	int s = wfs_control_connect(target), fd, rc;

	*live = 0;
	*sock = -1;
	if (s >= 0) {
		struct stat st;
		rc = wfs_control_request(s, "DIRFD\n", &fd, NULL, 0);
		if (rc == 0 && fd >= 0 &&
		    (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))) {
			close(fd);
			fd = -1;
			rc = -EPROTO;
		}
		if (rc == 0 && fd >= 0) {
			*live = 1;
			*sock = s;
			return fd;
		}
		close(s);
		return rc ? rc : -EPROTO;
	}
	if (s != -ENOTCONN)
		return s;
	fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int wfs_control_target_err(struct wfs_err *err, const char *target, int rc)
{
	if (rc == -ENOTCONN)
		return wfs_errf(err, rc,
				"%s: a wheelfs mount whose daemon is gone "
				"(Transport endpoint is not connected); run "
				"`wheelfs umount %s` first",
				target, target);
	return wfs_errf(err, rc, "%s: %s", target, strerror(-rc));
}
