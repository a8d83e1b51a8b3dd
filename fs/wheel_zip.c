/* wheel_zip.c — reading .whl files with libzip.
 *
 * Pass 1 reads only the central directory: names, types, sizes and limits
 * are checked before any content is inflated.  Pass 2 inflates each entry
 * in archive order through the sink.
 *
 * libzip returns names as C strings and does not expose their length, so a
 * name with an embedded NUL ("evil.py\0.txt") would silently become
 * "evil.py".  We therefore also walk the central directory ourselves (it is
 * small): each record's name length must equal strlen() of libzip's name,
 * and the bytes must agree.  The same walk yields the raw DOS date and time,
 * which we interpret as UTC so trees do not depend on the local timezone
 * (libzip's zip_stat mtime is mktime() of those fields).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zip.h>

#include "wheel_int.h"

struct cd_ent {
	const uint8_t *name;
	uint16_t name_len, flags, dos_time, dos_date;
};

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int cd_bad(struct wfs_ingest *ing)
{
	return wfs_ing_err(ing, -EINVAL, NULL,
			   "inconsistent zip central directory");
}

/* Locate the central directory (end record, zip64 when present). */
static int find_cd(struct wfs_ingest *ing, int fd, uint64_t fsize, uint64_t *n,
		   uint64_t *cd_off, uint64_t *cd_size)
{
	size_t tail_len = fsize < 65535 + 22 ? (size_t)fsize : 65535 + 22;
	uint64_t eocd, limit;
	uint8_t *tail, loc[20], e64[56];
	ssize_t p;

	if (tail_len < 22)
		return cd_bad(ing);
	tail = malloc(tail_len);
	if (!tail)
		return wfs_ing_err(ing, -ENOMEM, NULL, "out of memory");
	if (wfs_pread_full(fd, tail, tail_len, (off_t)(fsize - tail_len)) !=
	    (ssize_t)tail_len) {
		free(tail);
		return wfs_ing_err(ing, -EIO, NULL, "read error");
	}
	/* The end record's comment must reach the end of the file. */
	for (p = (ssize_t)tail_len - 22; p >= 0; p--)
		if (!memcmp(tail + p, "PK\5\6", 4) &&
		    le16(tail + p + 20) == tail_len - (size_t)p - 22)
			break;
	if (p < 0) {
		free(tail);
		return cd_bad(ing);
	}
	eocd = fsize - tail_len + (uint64_t)p;
	*n = le16(tail + p + 10);
	*cd_size = le32(tail + p + 12);
	*cd_off = le32(tail + p + 16);
	free(tail);
	limit = eocd;
	if (eocd >= 20 &&
	    wfs_pread_full(fd, loc, 20, (off_t)(eocd - 20)) == 20 &&
	    !memcmp(loc, "PK\6\7", 4)) {
		uint64_t off64 = le64(loc + 8);
		if (off64 > eocd - 20 || eocd - 20 - off64 < 56 ||
		    wfs_pread_full(fd, e64, 56, (off_t)off64) != 56 ||
		    memcmp(e64, "PK\6\6", 4))
			return cd_bad(ing);
		*n = le64(e64 + 32);
		*cd_size = le64(e64 + 40);
		*cd_off = le64(e64 + 48);
		limit = off64;
	}
	if (*cd_off > limit || *cd_size > limit - *cd_off)
		return cd_bad(ing);
	return 0;
}

/* Read and index the central directory: cd[i] describes libzip entry i. */
static int read_cd(struct wfs_ingest *ing, int fd, uint64_t fsize,
		   uint64_t expect, uint8_t **bufp, struct cd_ent **cdp)
{
	uint64_t n = 0, off = 0, size = 0, pos = 0;
	struct cd_ent *cd;
	uint8_t *buf;
	int rc;

	*bufp = NULL;
	*cdp = NULL;
	if ((rc = find_cd(ing, fd, fsize, &n, &off, &size)))
		return rc;
	if (n != expect)
		return cd_bad(ing);
	if (n > WFS_WHEEL_MAX_ENTRIES)
		return wfs_ing_err(ing, -EFBIG, NULL, "more than %d entries",
				   WFS_WHEEL_MAX_ENTRIES);
	buf = malloc(size ? size : 1);
	cd = calloc(n ? n : 1, sizeof(*cd));
	if (!buf || !cd) {
		free(buf);
		free(cd);
		return wfs_ing_err(ing, -ENOMEM, NULL, "out of memory");
	}
	*bufp = buf;
	*cdp = cd;
	if (wfs_pread_full(fd, buf, size, (off_t)off) != (ssize_t)size)
		return wfs_ing_err(ing, -EIO, NULL, "read error");
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *h = buf + pos;
		uint64_t len;
		if (size - pos < 46 || memcmp(h, "PK\1\2", 4))
			return cd_bad(ing);
		cd[i].flags = le16(h + 8);
		cd[i].dos_time = le16(h + 12);
		cd[i].dos_date = le16(h + 14);
		cd[i].name_len = le16(h + 28);
		cd[i].name = h + 46;
		len = 46 + (uint64_t)le16(h + 28) + le16(h + 30) + le16(h + 32);
		if (len > size - pos)
			return cd_bad(ing);
		pos += len;
	}
	return 0;
}

/* DOS date and time fields taken as UTC. */
static int64_t dos_to_utc(uint16_t date, uint16_t time)
{
	struct tm tm = { 0 };

	tm.tm_year = ((date >> 9) & 0x7f) + 80;
	tm.tm_mon = ((date >> 5) & 0x0f) - 1;
	tm.tm_mday = date & 0x1f;
	tm.tm_hour = (time >> 11) & 0x1f;
	tm.tm_min = (time >> 5) & 0x3f;
	tm.tm_sec = (time & 0x1f) * 2;
	return (int64_t)timegm(&tm);
}

/* File type and permissions of entry i, from the Unix external attributes
 * when the archive was made on Unix. */
static int entry_mode(struct wfs_ingest *ing, zip_t *za, uint64_t i,
		      const char *name, int is_dir, uint64_t size,
		      uint32_t *mode)
{
	zip_uint8_t opsys = 0;
	zip_uint32_t attr = 0;
	uint32_t umode = 0;

	if (zip_file_get_external_attributes(za, i, 0, &opsys, &attr) < 0)
		return wfs_ing_err(ing, -EINVAL, name, "%s", zip_strerror(za));
	if (opsys == ZIP_OPSYS_UNIX)
		umode = attr >> 16;
	switch (umode & S_IFMT) {
	case 0:
	case S_IFREG:
		*mode = is_dir ? S_IFDIR | 0755
			       : S_IFREG | (umode & 0111 ? 0755 : 0644);
		break;
	case S_IFDIR:
		*mode = S_IFDIR | 0755;
		break;
	case S_IFLNK:
		if (is_dir)
			return wfs_ing_err(ing, -EINVAL, name,
					   "symlink with a directory name");
		*mode = S_IFLNK | 0777;
		break;
	default:
		return wfs_ing_err(ing, -EINVAL, name,
				   "unsupported file type (mode %06o)", umode);
	}
	if (S_ISDIR(*mode) && size)
		return wfs_ing_err(ing, -EINVAL, name,
				   "directory with content");
	return 0;
}

/* libzip shows a NUL in a name as a space: report the raw name. */
static int nul_name(struct wfs_ingest *ing, const struct cd_ent *cd)
{
	char disp[256];
	size_t o = 0;

	for (size_t k = 0; k < cd->name_len && o + 5 < sizeof(disp); k++) {
		if (cd->name[k] < 0x20 || cd->name[k] == 0x7f)
			o += (size_t)snprintf(disp + o, sizeof(disp) - o,
					      "\\x%02x", cd->name[k]);
		else
			disp[o++] = (char)cd->name[k];
	}
	disp[o] = '\0';
	return wfs_ing_err(ing, -EINVAL, NULL,
			   "%s: file name contains a NUL byte", disp);
}

/* Pass 1: one entry per central directory record, no content read. */
static int scan_entries(struct wfs_ingest *ing, zip_t *za, int fd,
			uint64_t fsize)
{
	zip_int64_t n = zip_get_num_entries(za, 0);
	struct cd_ent *cd = NULL;
	uint8_t *cdbuf = NULL;
	int rc;

	if (n < 0)
		return wfs_ing_err(ing, -EINVAL, NULL, "%s", zip_strerror(za));
	if ((rc = read_cd(ing, fd, fsize, (uint64_t)n, &cdbuf, &cd)))
		goto out;
	for (zip_int64_t i = 0; i < n && !rc; i++) {
		const char *name =
			zip_get_name(za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
		struct wfs_went *e;
		zip_stat_t st;
		char *path;
		uint32_t mode;
		int is_dir;

		if (!name) {
			rc = wfs_ing_err(ing, -EINVAL, NULL, "%s",
					 zip_strerror(za));
			break;
		}
		if (memchr(cd[i].name, '\0', cd[i].name_len)) {
			rc = nul_name(ing, &cd[i]);
			break;
		}
		if (strlen(name) != cd[i].name_len ||
		    memcmp(name, cd[i].name, cd[i].name_len)) {
			rc = cd_bad(ing);
			break;
		}
		zip_stat_init(&st);
		if (zip_stat_index(za, (zip_uint64_t)i, ZIP_FL_ENC_RAW, &st) <
			    0 ||
		    !(st.valid & ZIP_STAT_SIZE)) {
			rc = wfs_ing_err(ing, -EINVAL, name, "%s",
					 zip_strerror(za));
			break;
		}
		if ((cd[i].flags & 1) ||
		    ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
		     st.encryption_method != ZIP_EM_NONE)) {
			rc = wfs_ing_err(ing, -EINVAL, name, "encrypted entry");
			break;
		}
		if ((rc = wfs_ing_check_name(ing, name, cd[i].name_len, &path,
					     &is_dir)))
			break;
		if ((rc = entry_mode(ing, za, (zip_uint64_t)i, name, is_dir,
				     st.size, &mode))) {
			free(path);
			break;
		}
		rc = wfs_ing_add(ing, path, mode, st.size,
				 dos_to_utc(cd[i].dos_date, cd[i].dos_time), 0,
				 &e);
		if (!rc)
			e->index = (uint64_t)i;
	}
out:
	free(cd);
	free(cdbuf);
	return rc;
}

/* Pass 2 for one file or symlink: inflate through the sink. */
static int read_entry(struct wfs_ingest *ing, zip_t *za, struct wfs_went *e)
{
	zip_file_t *zf = zip_fopen_index(za, e->index, 0);
	zip_int64_t got;
	int rc;

	if (!zf)
		return wfs_ing_err(ing, -EINVAL, e->path, "%s",
				   zip_strerror(za));
	if ((rc = wfs_sink_begin(ing, e)))
		goto out;
	while ((got = zip_fread(zf, ing->chunk, WFS_WHEEL_CHUNK)) > 0)
		if ((rc = wfs_sink_write(ing, e, ing->chunk, (size_t)got)))
			goto out;
	if (got < 0) {
		rc = wfs_ing_err(ing, -EBADMSG, e->path, "%s",
				 zip_file_strerror(zf));
		goto out;
	}
	rc = wfs_sink_commit(ing, e);
out:
	wfs_sink_abort(ing);
	zip_fclose(zf);
	return rc;
}

static int cmp_index(const void *a, const void *b)
{
	uint64_t x = ((const struct wfs_went *)a)->index;
	uint64_t y = ((const struct wfs_went *)b)->index;

	return x < y ? -1 : x > y;
}

int wfs_ingest_zip(struct wfs_ingest *ing, const char *path)
{
	int fd, zfd, zerr = 0, rc;
	zip_t *za = NULL;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return wfs_ing_err(ing, -errno, NULL, "%s", strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = wfs_ing_err(ing, -EINVAL, NULL, "not a regular file");
		goto out;
	}
	/* zip_fdopen takes zfd on success only. */
	zfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (zfd < 0) {
		rc = wfs_ing_err(ing, -errno, NULL, "%s", strerror(errno));
		goto out;
	}
	za = zip_fdopen(zfd, ZIP_CHECKCONS | ZIP_RDONLY, &zerr);
	if (!za) {
		zip_error_t ze;
		close(zfd);
		zip_error_init_with_code(&ze, zerr);
		if (zerr == ZIP_ER_EXISTS) /* two entries, one name */
			rc = wfs_ing_err(ing, -EINVAL, NULL,
					 "duplicate entry names in the zip");
		else
			rc = wfs_ing_err(ing, -EINVAL, NULL,
					 "not a valid zip file: %s",
					 zip_error_strerror(&ze));
		zip_error_fini(&ze);
		goto out;
	}
	if ((rc = scan_entries(ing, za, fd, (uint64_t)st.st_size)) ||
	    (rc = wfs_ing_check_layout(ing)))
		goto out;
	/* Inflate in archive order (sequential reads), then back to paths. */
	qsort(ing->ents, ing->n, sizeof(*ing->ents), cmp_index);
	for (size_t i = 0; i < ing->n && !rc; i++)
		if (!S_ISDIR(ing->ents[i].mode))
			rc = read_entry(ing, za, &ing->ents[i]);
	wfs_ing_sort(ing);
out:
	if (za)
		zip_discard(za);
	close(fd);
	return rc;
}
