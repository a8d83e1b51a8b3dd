/* test_pin.c — pin's helpers for the mount daemon (is_shared, break_link)
 * and the mode names. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "pin.h"
#include "util.h"

static void write_file(int dirfd, const char *name, const char *s, mode_t mode)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CHECK(fd >= 0);
	CHECK(wfs_write_all(fd, s, strlen(s)) == 0);
	close(fd);
	CHECK(fchmodat(dirfd, name, mode, 0) == 0);
}

int main(void)
{
	char tmpl[] = "/tmp/wfs-pin-unit.XXXXXX";
	struct timespec ts[2] = { { 1577836800, 5 }, { 1577836800, 5 } };
	enum wfs_pin_mode m;
	struct stat a, b;
	char *buf;
	size_t len;
	int dirfd, fd;

	CHECK(mkdtemp(tmpl) != NULL);
	dirfd = open(tmpl, O_RDONLY | O_DIRECTORY);
	CHECK(dirfd >= 0);
	CHECK(mkdirat(dirfd, "sub", 0755) == 0);

	/* Mode names. */
	CHECK(wfs_pin_mode_parse("auto", &m) == 0 && m == WFS_PIN_AUTO);
	CHECK(wfs_pin_mode_parse("reflink", &m) == 0 && m == WFS_PIN_REFLINK);
	CHECK(wfs_pin_mode_parse("hardlink", &m) == 0 && m == WFS_PIN_HARDLINK);
	CHECK(wfs_pin_mode_parse("copy", &m) == 0 && m == WFS_PIN_COPY);
	CHECK(wfs_pin_mode_parse("symlink", &m) == 0 && m == WFS_PIN_SYMLINK);
	CHECK(wfs_pin_mode_parse("Copy", &m) == -EINVAL);
	CHECK(!strcmp(wfs_pin_mode_name(WFS_PIN_HARDLINK), "hardlink"));

	/* A "blob" and a pinned hardlink to it. */
	write_file(dirfd, "blob", "print('hi')\n", 0444);
	CHECK(utimensat(dirfd, "blob", ts, 0) == 0);
	CHECK(linkat(dirfd, "blob", dirfd, "sub/mod.py", 0) == 0);
	CHECK(wfs_pin_is_shared(dirfd, "sub/mod.py") == 1);
	fd = openat(dirfd, "sub/mod.py", O_RDONLY);
	CHECK(wfs_pin_fd_is_shared(fd) == 1);
	close(fd);

	/* Breaking it: a private copy with the same bytes, mode, mtime. */
	CHECK(wfs_pin_break_link(dirfd, "sub/mod.py") == 0);
	CHECK(wfs_pin_is_shared(dirfd, "sub/mod.py") == 0);
	CHECK(wfs_pin_is_shared(dirfd, "blob") == 0);
	CHECK(fstatat(dirfd, "blob", &a, 0) == 0);
	CHECK(fstatat(dirfd, "sub/mod.py", &b, 0) == 0);
	CHECK(a.st_ino != b.st_ino && a.st_nlink == 1 && b.st_nlink == 1);
	CHECK((b.st_mode & 07777) == 0444);
	CHECK(b.st_mtim.tv_sec == 1577836800 && b.st_mtim.tv_nsec == 5);
	CHECK(wfs_read_file(dirfd, "sub/mod.py", &buf, &len) == 0);
	CHECK(len == 12 && !memcmp(buf, "print('hi')\n", 12));
	free(buf);

	/* A write to the copy does not reach the blob. */
	CHECK(fchmodat(dirfd, "sub/mod.py", 0644, 0) == 0);
	write_file(dirfd, "sub/mod.py", "print('edited')\n", 0644);
	CHECK(wfs_read_file(dirfd, "blob", &buf, &len) == 0);
	CHECK(len == 12 && !memcmp(buf, "print('hi')\n", 12));
	free(buf);

	/* Not shared: a no-op.  Missing: -ENOENT.  Symlinks, dirs: 0. */
	CHECK(wfs_pin_break_link(dirfd, "sub/mod.py") == 0);
	CHECK(fstatat(dirfd, "sub/mod.py", &a, 0) == 0 && a.st_ino == b.st_ino);
	CHECK(wfs_pin_break_link(dirfd, "sub/missing") == -ENOENT);
	CHECK(wfs_pin_is_shared(dirfd, "sub/missing") == -ENOENT);
	CHECK(symlinkat("blob", dirfd, "ln") == 0);
	CHECK(wfs_pin_is_shared(dirfd, "ln") == 0);
	CHECK(wfs_pin_is_shared(dirfd, "sub") == 0);
	CHECK(wfs_pin_break_link(dirfd, "ln") == -ELOOP);
	CHECK(wfs_pin_break_link(dirfd, "blob") == 0);

	/* No temp names left. */
	CHECK(faccessat(dirfd, "sub/.wheelfs-tmp-pin.x", F_OK, 0) < 0);
	CHECK(wfs_rmtree(AT_FDCWD, tmpl) == 0);
	close(dirfd);
	CHECK_DONE();
}
