/* test_upper.c — the whiteout store (upper.h): records survive a reload,
 * a torn last line is ignored, compaction keeps every record, and
 * clearing a directory's records is right even when an append compacts
 * the journal half-way through (a use-after-free once); a header cut
 * short reads as an empty journal. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "upper.h"
#include "util.h"

static int count_lines(int dirfd)
{
	char *buf;
	size_t len;
	int n = 0;

	if (wfs_read_file(dirfd, WFS_WHITEOUTS_FILE, &buf, &len))
		return -1;
	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\n';
	free(buf);
	return n;
}

static int count_cb(const char *path, int type, void *arg)
{
	(void)path;
	(void)type;
	(*(size_t *)arg)++;
	return 0;
}

static size_t count_records(const struct wfs_whiteouts *w)
{
	size_t n = 0;

	wfs_wo_each(w, count_cb, &n);
	return n;
}

/* Set and get, across a reload from the journal, and a torn append. */
static void test_roundtrip(int dirfd)
{
	struct wfs_whiteouts w, r;
	int fd;

	CHECK(wfs_wo_load(&w, dirfd, 0) == 0);
	CHECK(wfs_wo_get(&w, "a/b") == WFS_WO_NONE);
	/* Removing what is not there, from an empty store, is a no-op. */
	CHECK(wfs_wo_set(&w, "nothing", WFS_WO_NONE) == 0);
	CHECK(wfs_wo_set(&w, "a/b", WFS_WO_WHITEOUT) == 0);
	CHECK(wfs_wo_set(&w, "a/c d%", WFS_WO_OPAQUE) == 0);
	CHECK(wfs_wo_set(&w, "a/e\nf", WFS_WO_WHITEOUT) == 0);
	CHECK(wfs_wo_set(&w, "gone", WFS_WO_WHITEOUT) == 0);
	CHECK(wfs_wo_set(&w, "gone", WFS_WO_NONE) == 0);
	CHECK(wfs_wo_get(&w, "gone") == WFS_WO_NONE);
	CHECK(wfs_wo_any_under(&w, "a") == 1);
	CHECK(wfs_wo_any_under(&w, "a/b") == 0);
	CHECK(wfs_wo_any_under(&w, "") == 1);

	/* A torn last line (no newline) is ignored on load. */
	fd = openat(dirfd, WFS_WHITEOUTS_FILE, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK(write(fd, "w torn", 6) == 6);
	close(fd);

	CHECK(wfs_wo_load(&r, dirfd, 1) == 0);
	CHECK(wfs_wo_get(&r, "a/b") == WFS_WO_WHITEOUT);
	CHECK(wfs_wo_get(&r, "a/c d%") == WFS_WO_OPAQUE);
	CHECK(wfs_wo_get(&r, "a/e\nf") == WFS_WO_WHITEOUT);
	CHECK(wfs_wo_get(&r, "gone") == WFS_WO_NONE);
	CHECK(wfs_wo_get(&r, "torn") == WFS_WO_NONE);
	CHECK(count_records(&r) == 3);
	/* A read-only store refuses changes. */
	CHECK(wfs_wo_set(&r, "x", WFS_WO_WHITEOUT) == -EROFS);
	wfs_wo_free(&r);

	/* The next append cuts the torn line off rather than run into it. */
	CHECK(wfs_wo_set(&w, "after", WFS_WO_WHITEOUT) == 0);
	CHECK(wfs_wo_load(&r, dirfd, 1) == 0);
	CHECK(wfs_wo_get(&r, "after") == WFS_WO_WHITEOUT);
	CHECK(count_records(&r) == 4);
	wfs_wo_free(&r);
	CHECK(wfs_wo_set(&w, "after", WFS_WO_NONE) == 0);
	wfs_wo_free(&w);
}

/* Clearing a directory's records appends one line per record; enough of
 * them compact the journal in the middle of the clearing. */
static void test_clear_under_compacts(int dirfd)
{
	struct wfs_whiteouts w, r;
	char p[64];
	int lines;

	CHECK(wfs_wo_load(&w, dirfd, 0) == 0);
	for (int i = 0; i < 3000; i++) {
		snprintf(p, sizeof(p), "pkg/sub/f%d", i);
		CHECK(wfs_wo_set(&w, p, WFS_WO_WHITEOUT) == 0);
	}
	for (int i = 0; i < 50; i++) {
		snprintf(p, sizeof(p), "pkg/keep%d", i);
		CHECK(wfs_wo_set(&w, p, WFS_WO_WHITEOUT) == 0);
	}
	CHECK(wfs_wo_set(&w, "pkg/sub", WFS_WO_WHITEOUT) == 0);
	CHECK(wfs_wo_set(&w, "pkg/subway", WFS_WO_WHITEOUT) == 0);
	CHECK(wfs_wo_clear_under(&w, "pkg/sub") == 0);
	/* The journal was rewritten on the way (else it would hold more
	 * than 6,000 lines). */
	lines = count_lines(dirfd);
	CHECK(lines > 0 && lines < 3000);
	CHECK(wfs_wo_any_under(&w, "pkg/sub") == 0);
	CHECK(wfs_wo_get(&w, "pkg/sub") == WFS_WO_WHITEOUT);
	CHECK(wfs_wo_get(&w, "pkg/subway") == WFS_WO_WHITEOUT);
	CHECK(wfs_wo_get(&w, "pkg/keep49") == WFS_WO_WHITEOUT);
	CHECK(count_records(&w) == 52 + 3); /* + test_roundtrip's */

	/* What is on disk is what is in memory. */
	CHECK(wfs_wo_load(&r, dirfd, 1) == 0);
	CHECK(count_records(&r) == count_records(&w));
	CHECK(wfs_wo_any_under(&r, "pkg/sub") == 0);
	for (int i = 0; i < 50; i++) {
		snprintf(p, sizeof(p), "pkg/keep%d", i);
		CHECK(wfs_wo_get(&r, p) == WFS_WO_WHITEOUT);
	}
	wfs_wo_free(&r);

	/* Everything, with "" as the directory. */
	CHECK(wfs_wo_clear_under(&w, "") == 0);
	CHECK(count_records(&w) == 0);
	CHECK(wfs_wo_load(&r, dirfd, 1) == 0);
	CHECK(count_records(&r) == 0);
	wfs_wo_free(&r);
	wfs_wo_free(&w);
}

/* A header cut short (a crash in the first append) is an empty journal,
 * which the next append repairs. */
static void test_torn_header(int dirfd)
{
	struct wfs_whiteouts w, r;
	int fd;

	CHECK(unlinkat(dirfd, WFS_WHITEOUTS_FILE, 0) == 0);
	fd = openat(dirfd, WFS_WHITEOUTS_FILE, O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, "wheelfs-whi", 11) == 11);
	close(fd);
	CHECK(wfs_wo_load(&w, dirfd, 0) == 0);
	CHECK(count_records(&w) == 0);
	CHECK(wfs_wo_set(&w, "a", WFS_WO_WHITEOUT) == 0);
	CHECK(wfs_wo_load(&r, dirfd, 1) == 0);
	CHECK(wfs_wo_get(&r, "a") == WFS_WO_WHITEOUT && count_records(&r) == 1);
	wfs_wo_free(&r);
	wfs_wo_free(&w);
	/* Anything else that is not a journal is still refused. */
	fd = openat(dirfd, WFS_WHITEOUTS_FILE, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0);
	CHECK(write(fd, "garbage\n", 8) == 8);
	close(fd);
	CHECK(wfs_wo_load(&w, dirfd, 1) == -EBADMSG);
}

int main(void)
{
	char tmpl[] = "/tmp/wfs-test-upper-XXXXXX";
	char cmd[128];
	int dirfd;

	if (!mkdtemp(tmpl))
		return 1;
	dirfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dirfd >= 0);
	test_roundtrip(dirfd);
	test_clear_under_compacts(dirfd);
	test_torn_header(dirfd);
	close(dirfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	CHECK(system(cmd) == 0);
	CHECK_DONE();
}
