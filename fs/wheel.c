/* wheel.c — wfs_wheel_ingest() and the pieces both readers share: entry
 * names, the entry list and the sink that hashes and stores content.
 *
 * The readers live in wheel_zip.c (.whl files) and wheel_dir.c (unpacked
 * wheels); the whole-wheel checks and the tree in wheel_check.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wheel_int.h"

const char *wfs_ing_disp(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	if (len < 4) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	/* Invariant: o + 4 <= len, room for "..." and the NUL. */
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		int ctl = ch < 0x20 || ch == 0x7f;
		if (o + (ctl ? 4 : 1) + 4 > len) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (ctl)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	buf[o] = '\0';
	return buf;
}

int wfs_ing_err(struct wfs_ingest *ing, int rc, const char *entry,
		const char *fmt, ...)
{
	char reason[512], disp[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (entry)
		return wfs_errf(ing->err, rc, "%s: %s: %s", ing->source,
				wfs_ing_disp(entry, disp, sizeof(disp)),
				reason);
	return wfs_errf(ing->err, rc, "%s: %s", ing->source, reason);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid:
 * overlong forms, surrogates and code points over U+10FFFF are refused. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int wfs_ing_check_name(struct wfs_ingest *ing, const char *name, size_t len,
		       char **path, int *is_dir)
{
	const unsigned char *u = (const unsigned char *)name;
	const char *why = NULL;
	size_t plen = len;

	*path = NULL;
	*is_dir = 0;
	if (!len)
		return wfs_ing_err(ing, -EINVAL, NULL,
				   "entry with an empty name");
	if (memchr(name, '\0', len))
		return wfs_ing_err(ing, -EINVAL, name,
				   "file name contains a NUL byte");
	for (size_t i = 0; i < len && !why;) {
		size_t n = utf8_seq(u + i, len - i);
		if (!n)
			why = "file name is not valid UTF-8";
		else if (u[i] < 0x20 || u[i] == 0x7f)
			why = "file name contains a control character";
		else if (u[i] == '\\')
			why = "file name contains a backslash";
		i += n ? n : 1;
	}
	if (!why && name[0] == '/')
		why = "absolute path";
	if (!why && len > 1 && name[len - 1] == '/') {
		*is_dir = 1;
		plen--;
	}
	if (!why && plen > WFS_WHEEL_MAX_PATH)
		why = "path too long";
	/* Components: non-empty, not "." or "..", at most NAME_MAX bytes. */
	for (size_t s = 0; !why && s <= plen;) {
		const char *slash = memchr(name + s, '/', plen - s);
		size_t e = slash ? (size_t)(slash - name) : plen;
		size_t cl = e - s;
		if (!cl)
			why = "empty path component";
		else if (cl == 1 && name[s] == '.')
			why = "'.' path component";
		else if (cl == 2 && name[s] == '.' && name[s + 1] == '.')
			why = "'..' path component";
		else if (cl > WFS_WHEEL_MAX_NAME)
			why = "path component too long";
		s = e + 1;
	}
	if (why)
		return wfs_ing_err(ing, -EINVAL, name, "%s", why);
	*path = strndup(name, plen);
	if (!*path)
		return wfs_ing_err(ing, -ENOMEM, NULL, "out of memory");
	return 0;
}

int wfs_ing_add(struct wfs_ingest *ing, char *path, uint32_t mode,
		uint64_t size, int64_t mtime_sec, uint32_t mtime_nsec,
		struct wfs_went **out)
{
	struct wfs_went *e;
	int rc;

	if (ing->n >= WFS_WHEEL_MAX_ENTRIES) {
		rc = wfs_ing_err(ing, -EFBIG, NULL, "more than %d entries",
				 WFS_WHEEL_MAX_ENTRIES);
		goto fail;
	}
	if (S_ISLNK(mode) && (size > WFS_WHEEL_MAX_LINK || !size)) {
		rc = wfs_ing_err(ing, -EINVAL, path,
				 "symlink target of %llu bytes",
				 (unsigned long long)size);
		goto fail;
	}
	if (S_ISDIR(mode)) {
		size = 0;
	} else {
		if (size > ing->max_file) {
			rc = wfs_ing_err(ing, -EFBIG, path,
					 "%llu bytes, over the limit of %llu",
					 (unsigned long long)size,
					 (unsigned long long)ing->max_file);
			goto fail;
		}
		if (size > ing->max_total - ing->total) {
			rc = wfs_ing_err(ing, -EFBIG, path,
					 "the wheel inflates beyond the limit "
					 "of %llu bytes",
					 (unsigned long long)ing->max_total);
			goto fail;
		}
		ing->total += size;
	}
	if (ing->n == ing->cap) {
		size_t ncap = ing->cap ? 2 * ing->cap : 64;
		void *p = realloc(ing->ents, ncap * sizeof(*ing->ents));
		if (!p) {
			rc = wfs_ing_err(ing, -ENOMEM, NULL, "out of memory");
			goto fail;
		}
		ing->ents = p;
		ing->cap = ncap;
	}
	e = &ing->ents[ing->n++];
	memset(e, 0, sizeof(*e));
	e->path = path;
	e->mode = mode;
	e->size = size;
	e->mtime_sec = mtime_sec;
	e->mtime_nsec = mtime_nsec;
	if (out)
		*out = e;
	return 0;
fail:
	free(path);
	return rc;
}

static int cmp_went(const void *a, const void *b)
{
	return strcmp(((const struct wfs_went *)a)->path,
		      ((const struct wfs_went *)b)->path);
}

struct wfs_went *wfs_ing_find(struct wfs_ingest *ing, const char *path)
{
	struct wfs_went key = { .path = (char *)path };
	return bsearch(&key, ing->ents, ing->n, sizeof(*ing->ents), cmp_went);
}

int wfs_ing_has_dir(struct wfs_ingest *ing, const char *path)
{
	size_t n = strlen(path), lo = 0, hi = ing->n;
	struct wfs_went *e = wfs_ing_find(ing, path);

	if (e)
		return S_ISDIR(e->mode);
	/* Paths under path/ are contiguous in sorted order: find the first
	 * one not below "path/" and see whether it has that prefix. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *p = ing->ents[mid].path;
		int c = strncmp(p, path, n);
		if (c < 0 || (!c && (unsigned char)p[n] < '/'))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ing->n && !strncmp(ing->ents[lo].path, path, n) &&
	       ing->ents[lo].path[n] == '/';
}

void wfs_ing_sort(struct wfs_ingest *ing)
{
	qsort(ing->ents, ing->n, sizeof(*ing->ents), cmp_went);
}

int wfs_ing_check_layout(struct wfs_ingest *ing)
{
	char pre[WFS_WHEEL_MAX_PATH + 1];

	wfs_ing_sort(ing);
	for (size_t i = 1; i < ing->n; i++)
		if (!strcmp(ing->ents[i - 1].path, ing->ents[i].path))
			return wfs_ing_err(ing, -EINVAL, ing->ents[i].path,
					   "duplicate entry");
	/* Every parent of every entry that is itself an entry must be a
	 * directory.  Paths are at most WFS_WHEEL_MAX_PATH bytes. */
	for (size_t i = 0; i < ing->n; i++) {
		const char *p = ing->ents[i].path;
		for (const char *s = strchr(p, '/'); s;
		     s = strchr(s + 1, '/')) {
			struct wfs_went *hit;
			memcpy(pre, p, (size_t)(s - p));
			pre[s - p] = '\0';
			hit = wfs_ing_find(ing, pre);
			if (hit && !S_ISDIR(hit->mode))
				return wfs_ing_err(ing, -EINVAL, p,
						   "a parent directory is not "
						   "a directory");
		}
	}
	return 0;
}

/* <x>.dist-info/WHEEL or <x>.dist-info/RECORD: content kept in memory. */
static int is_meta(const char *path)
{
	const char *slash = strchr(path, '/');
	size_t n;

	if (!slash || strchr(slash + 1, '/'))
		return 0;
	n = (size_t)(slash - path);
	if (n <= 10 || memcmp(slash - 10, ".dist-info", 10))
		return 0;
	return !strcmp(slash + 1, "WHEEL") || !strcmp(slash + 1, "RECORD");
}

int wfs_sink_begin(struct wfs_ingest *ing, struct wfs_went *e)
{
	int rc;

	wfs_hasher_reset(ing->h);
	ing->buf.len = 0;
	ing->got = 0;
	ing->declared = e->size;
	ing->keep = S_ISLNK(e->mode) || is_meta(e->path);
	ing->streaming = WFS_SINK_BUF;
	if (ing->keep && e->size > WFS_WHEEL_MAX_META)
		return wfs_ing_err(ing, -EFBIG, e->path, "too large");
	if (S_ISREG(e->mode) && !ing->keep && e->size > WFS_WHEEL_BUF_MAX) {
		/* A read-only cache: hash only; the blob must be there. */
		if (ing->c->tmpfd < 0) {
			ing->streaming = WFS_SINK_HASH;
			return 0;
		}
		rc = wfs_cache_blob_begin(ing->c, &ing->w);
		if (rc)
			return wfs_ing_err(
				ing, rc, e->path,
				"cannot create a temp file in the cache: %s",
				strerror(-rc));
		ing->streaming = WFS_SINK_STREAM;
	} else if (e->size >= ing->buf.cap) {
		/* Reserve once rather than doubling up to the size. */
		char *p = realloc(ing->buf.data, e->size + 1);
		if (!p)
			return wfs_ing_err(ing, -ENOMEM, e->path,
					   "out of memory");
		ing->buf.data = p;
		ing->buf.cap = e->size + 1;
	}
	return 0;
}

static int size_err(struct wfs_ingest *ing, struct wfs_went *e, int more)
{
	if (ing->dir_source)
		return wfs_ing_err(ing, -EBADMSG, e->path,
				   "changed size while being read");
	if (more)
		return wfs_ing_err(
			ing, -EBADMSG, e->path,
			"inflates beyond its declared size of %llu bytes",
			(unsigned long long)ing->declared);
	return wfs_ing_err(
		ing, -EBADMSG, e->path,
		"inflates to %llu bytes, less than its declared size of %llu",
		(unsigned long long)ing->got,
		(unsigned long long)ing->declared);
}

int wfs_sink_write(struct wfs_ingest *ing, struct wfs_went *e, const void *data,
		   size_t n)
{
	int rc;

	if (n > ing->declared - ing->got)
		return size_err(ing, e, 1);
	ing->got += n;
	wfs_hasher_update(ing->h, data, n);
	if (ing->streaming == WFS_SINK_HASH)
		return 0;
	if (ing->streaming == WFS_SINK_STREAM) {
		rc = wfs_write_all(ing->w.fd, data, n);
		if (rc)
			return wfs_ing_err(ing, rc, e->path,
					   "writing to the cache: %s",
					   strerror(-rc));
		return 0;
	}
	if (wfs_buf_append(&ing->buf, data, n))
		return wfs_ing_err(ing, -ENOMEM, e->path, "out of memory");
	return 0;
}

/* Symlink content becomes the target: non-empty, no NUL, relative. */
static int sink_target(struct wfs_ingest *ing, struct wfs_went *e)
{
	const char *t = ing->buf.data;

	if (memchr(t, '\0', ing->buf.len))
		return wfs_ing_err(ing, -EINVAL, e->path,
				   "symlink target contains a NUL byte");
	if (t[0] == '/')
		return wfs_ing_err(ing, -EINVAL, e->path,
				   "symlink target is absolute");
	e->target = strdup(t);
	if (!e->target)
		return wfs_ing_err(ing, -ENOMEM, NULL, "out of memory");
	return 0;
}

int wfs_sink_commit(struct wfs_ingest *ing, struct wfs_went *e)
{
	const void *data = ing->buf.data ? ing->buf.data : "";
	int was_new = 0, rc;

	if (ing->got != ing->declared)
		return size_err(ing, e, 0);
	wfs_hasher_final(ing->h, &e->digest, e->sha256);
	if (S_ISLNK(e->mode)) {
		memset(&e->digest, 0, sizeof(e->digest));
		return sink_target(ing, e);
	}
	if (ing->streaming == WFS_SINK_HASH) {
		ing->streaming = WFS_SINK_BUF;
		rc = wfs_cache_has_blob(ing->c, &e->digest);
		rc = rc > 0 ? 0 : rc ? rc : -EROFS;
	} else if (ing->streaming == WFS_SINK_STREAM) {
		ing->streaming = WFS_SINK_BUF;
		rc = wfs_cache_blob_commit(ing->c, &ing->w, &e->digest,
					   &was_new);
	} else {
		rc = wfs_cache_put_buf(ing->c, &e->digest, data, ing->buf.len,
				       &was_new);
	}
	if (rc)
		return wfs_ing_err(ing, rc, e->path, "storing the blob: %s",
				   strerror(-rc));
	if (ing->keep) {
		/* Hand the buffer (NUL-terminated) over to the entry. */
		if (!ing->buf.data && wfs_buf_append(&ing->buf, "", 0))
			return wfs_ing_err(ing, -ENOMEM, NULL, "out of memory");
		e->meta = ing->buf.data;
		e->meta_len = ing->buf.len;
		memset(&ing->buf, 0, sizeof(ing->buf));
	}
	ing->files++;
	ing->bytes += e->size;
	if (was_new) {
		ing->new_blobs++;
		ing->new_bytes += e->size;
	}
	return 0;
}

void wfs_sink_abort(struct wfs_ingest *ing)
{
	if (ing->streaming == WFS_SINK_STREAM)
		wfs_cache_blob_abort(ing->c, &ing->w);
	ing->streaming = WFS_SINK_BUF;
}

static void ingest_free(struct wfs_ingest *ing)
{
	wfs_sink_abort(ing);
	for (size_t i = 0; i < ing->n; i++) {
		free(ing->ents[i].path);
		free(ing->ents[i].target);
		free(ing->ents[i].meta);
	}
	free(ing->ents);
	wfs_buf_free(&ing->buf);
	free(ing->chunk);
	if (ing->h)
		wfs_hasher_free(ing->h);
}

int wfs_wheel_ingest(struct wfs_cache *c, const char *source,
		     const struct wfs_ingest_opts *opts,
		     struct wfs_ingest_result *res, struct wfs_err *err)
{
	struct wfs_ingest ing = { .c = c, .source = source, .err = err };
	struct wfs_wheel_name wn;
	const char *base;
	struct stat st;
	int rc;

	if (res)
		memset(res, 0, sizeof(*res));
	ing.max_file =
		opts && opts->max_file_size ? opts->max_file_size : 4ull << 30;
	ing.max_total = opts && opts->max_total_size ? opts->max_total_size
						     : 16ull << 30;
	if (opts) {
		ing.warn = opts->warn;
		ing.warn_arg = opts->warn_arg;
	}
	ing.w.fd = -1;
	ing.h = wfs_hasher_new(1);
	ing.chunk = malloc(WFS_WHEEL_CHUNK);
	if (!ing.h || !ing.chunk) {
		rc = wfs_ing_err(&ing, -ENOMEM, NULL, "out of memory");
		goto out;
	}
	if (stat(source, &st) < 0) {
		rc = wfs_ing_err(&ing, -errno, NULL, "%s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ing.dir_source = 1;
		rc = wfs_ingest_dir(&ing, source);
		if (!rc)
			rc = wfs_ingest_finish(&ing, NULL, res);
	} else if (S_ISREG(st.st_mode)) {
		base = strrchr(source, '/');
		base = base ? base + 1 : source;
		if (wfs_wheel_name_parse(base, &wn)) {
			rc = wfs_ing_err(&ing, -EINVAL, NULL,
					 "not a wheel file name "
					 "({name}-{version}(-{build})?-{python}"
					 "-{abi}-{platform}.whl)");
			goto out;
		}
		rc = wfs_ingest_zip(&ing, source);
		if (!rc)
			rc = wfs_ingest_finish(&ing, &wn, res);
	} else {
		rc = wfs_ing_err(&ing, -EINVAL, NULL,
				 "not a .whl file or a directory");
	}
out:
	ingest_free(&ing);
	if (rc && res)
		memset(res, 0, sizeof(*res));
	return rc;
}
