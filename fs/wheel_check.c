/* wheel_check.c — checks that need the whole wheel, and the tree.
 *
 * Runs after a reader has stored every entry: finds the .dist-info
 * directory, parses WHEEL, checks every entry against RECORD, makes sure no
 * symlink resolves outside the wheel, then builds and publishes the tree.
 * Entries are sorted by path (wfs_ing_check_layout) on entry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "record.h"
#include "tree.h"
#include "wheel_int.h"

/* What WHEEL says. */
struct wheel_info {
	int have_version, major, minor;
	int have_purelib;
	uint32_t flags;
	char build[64];
	struct wfs_buf tag[3]; /* python, abi and platform sets, '.'-joined */
	int ntags;
};

/* The single top-level <name>-<version>.dist-info directory, malloc'd. */
static int find_distinfo(struct wfs_ingest *ing, char **out)
{
	const char *found = NULL;
	size_t flen = 0;

	*out = NULL;
	for (size_t i = 0; i < ing->n; i++) {
		const char *p = ing->ents[i].path, *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (!slash && !S_ISDIR(ing->ents[i].mode))
			continue;
		if (n <= 10 || memcmp(p + n - 10, ".dist-info", 10))
			continue;
		if (found && (flen != n || memcmp(found, p, n)))
			return wfs_ing_err(ing, -EINVAL, NULL,
					   "more than one .dist-info directory "
					   "(%.*s, %.*s)",
					   (int)flen, found, (int)n, p);
		found = p;
		flen = n;
	}
	if (!found)
		return wfs_ing_err(ing, -EINVAL, NULL,
				   "no .dist-info directory");
	*out = strndup(found, flen);
	return *out ? 0 : wfs_ing_err(ing, -ENOMEM, NULL, "out of memory");
}

/* Add each '.'-separated part of [s, s+n) to set unless present. */
static int set_add(struct wfs_buf *set, const char *s, size_t n)
{
	while (n) {
		const char *dot = memchr(s, '.', n);
		size_t cl = dot ? (size_t)(dot - s) : n;
		int have = 0;

		for (const char *p = set->data; p && *p && !have;) {
			const char *e = strchr(p, '.');
			size_t pl = e ? (size_t)(e - p) : strlen(p);
			have = pl == cl && !memcmp(p, s, cl);
			p = e ? e + 1 : p + pl;
		}
		if (cl && !have &&
		    ((set->len && wfs_buf_append(set, ".", 1)) ||
		     wfs_buf_append(set, s, cl)))
			return -ENOMEM;
		s += cl + (dot ? 1 : 0);
		n -= cl + (dot ? 1 : 0);
	}
	return 0;
}

/* "Tag: py3-none-any": three non-empty parts of [A-Za-z0-9._]. */
static int add_tag(struct wheel_info *wi, const char *v)
{
	const char *p = v;

	for (int i = 0; i < 3; i++) {
		size_t n = strcspn(p, "-");
		if (!n || (i < 2 && p[n] != '-') || (i == 2 && p[n]))
			return -EINVAL;
		for (size_t k = 0; k < n; k++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._",
				    p[k]))
				return -EINVAL;
		if (set_add(&wi->tag[i], p, n))
			return -ENOMEM;
		p += n + 1;
	}
	wi->ntags++;
	return 0;
}

/* Parse 1 to 6 decimal digits at *s, advancing it. */
static int parse_uint(const char **s, int *out)
{
	int v = 0, n = 0;

	for (; **s >= '0' && **s <= '9' && n < 7; (*s)++, n++)
		v = v * 10 + (**s - '0');
	*out = v;
	return n && n < 7 ? 0 : -EINVAL;
}

/* "M.N" as the spec writes it; like pip, "M" and "M.N.P" are accepted. */
static int parse_version(const char *v, int *major, int *minor)
{
	int extra;

	*minor = 0;
	if (parse_uint(&v, major))
		return -EINVAL;
	if (*v && (*v++ != '.' || parse_uint(&v, minor)))
		return -EINVAL;
	while (*v)
		if (*v++ != '.' || parse_uint(&v, &extra))
			return -EINVAL;
	return 0;
}

/* One "Key: value" header of WHEEL; unknown keys are ignored. */
static int wheel_header(struct wfs_ingest *ing, const char *entry, size_t line,
			const char *key, const char *v, struct wheel_info *wi)
{
	char disp[128];
	int rc;

	if (!strcasecmp(key, "Wheel-Version")) {
		if (wi->have_version)
			return wfs_ing_err(ing, -EINVAL, entry,
					   "Wheel-Version given twice");
		if (parse_version(v, &wi->major, &wi->minor))
			return wfs_ing_err(
				ing, -EINVAL, entry,
				"line %zu: invalid Wheel-Version '%s'", line,
				wfs_ing_disp(v, disp, sizeof(disp)));
		wi->have_version = 1;
	} else if (!strcasecmp(key, "Root-Is-Purelib")) {
		if (wi->have_purelib)
			return wfs_ing_err(ing, -EINVAL, entry,
					   "Root-Is-Purelib given twice");
		wi->have_purelib = 1;
		if (!strcasecmp(v, "true"))
			wi->flags |= WFS_TREE_PURELIB;
		else if (strcasecmp(v, "false"))
			return wfs_ing_err(ing, -EINVAL, entry,
					   "line %zu: Root-Is-Purelib is "
					   "neither true nor false",
					   line);
	} else if (!strcasecmp(key, "Tag")) {
		rc = add_tag(wi, v);
		if (rc == -ENOMEM)
			return wfs_ing_err(ing, rc, NULL, "out of memory");
		if (rc)
			return wfs_ing_err(ing, rc, entry,
					   "line %zu: invalid Tag '%s'", line,
					   wfs_ing_disp(v, disp, sizeof(disp)));
	} else if (!strcasecmp(key, "Build")) {
		if (!*v || strlen(v) >= sizeof(wi->build) || *v < '0' ||
		    *v > '9' ||
		    strspn(v, "abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._") !=
			    strlen(v))
			return wfs_ing_err(ing, -EINVAL, entry,
					   "line %zu: invalid Build '%s'", line,
					   wfs_ing_disp(v, disp, sizeof(disp)));
		strcpy(wi->build, v);
	}
	return 0;
}

/* Parse WHEEL: email-style headers up to the first empty line. */
static int parse_wheel(struct wfs_ingest *ing, const char *entry,
		       const char *buf, size_t len, struct wheel_info *wi)
{
	const char *p = buf, *end = buf + len;
	char key[64], val[512];
	size_t line = 0;
	int rc;

	if (memchr(buf, '\0', len))
		return wfs_ing_err(ing, -EINVAL, entry, "NUL byte");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *next = nl ? nl + 1 : end;
		const char *colon, *v;

		line++;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p)
			break;		       /* end of the headers */
		if (*p == ' ' || *p == '\t') { /* folded continuation */
			p = next;
			continue;
		}
		colon = memchr(p, ':', (size_t)(le - p));
		if (!colon || colon == p)
			return wfs_ing_err(
				ing, -EINVAL, entry,
				"line %zu: not a 'Key: value' header", line);
		for (v = colon + 1; v < le && (*v == ' ' || *v == '\t'); v++)
			;
		while (le > v && (le[-1] == ' ' || le[-1] == '\t'))
			le--;
		if ((size_t)(colon - p) < sizeof(key) &&
		    (size_t)(le - v) < sizeof(val)) {
			memcpy(key, p, (size_t)(colon - p));
			key[colon - p] = '\0';
			memcpy(val, v, (size_t)(le - v));
			val[le - v] = '\0';
			rc = wheel_header(ing, entry, line, key, val, wi);
			if (rc)
				return rc;
		}
		p = next;
	}
	if (!wi->have_version)
		return wfs_ing_err(ing, -EINVAL, entry, "no Wheel-Version");
	if (wi->major != 1)
		return wfs_ing_err(ing, -EINVAL, entry,
				   "Wheel-Version %d.%d is not supported "
				   "(major version 1 is)",
				   wi->major, wi->minor);
	if (wi->minor > 0 && ing->warn) {
		char msg[1024];
		snprintf(msg, sizeof(msg),
			 "%s: Wheel-Version 1.%d is newer than 1.0",
			 ing->source, wi->minor);
		ing->warn(msg, ing->warn_arg);
	}
	return 0;
}

/* sha384 / sha512 of an entry, read back from the cache (rarely used). */
static int other_digest(struct wfs_ingest *ing, struct wfs_went *e,
			const EVP_MD *md, uint8_t *out, unsigned *outlen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = 0, fd = -1;
	ssize_t n;

	if (!ctx || !EVP_DigestInit_ex(ctx, md, NULL)) {
		rc = -ENOMEM;
		goto out;
	}
	if (S_ISLNK(e->mode)) {
		EVP_DigestUpdate(ctx, e->target, strlen(e->target));
	} else {
		fd = wfs_cache_open_blob(ing->c, &e->digest);
		if (fd < 0) {
			rc = fd;
			goto out;
		}
		while ((n = read(fd, ing->chunk, WFS_WHEEL_CHUNK)) != 0) {
			if (n < 0) {
				rc = -errno;
				goto out;
			}
			EVP_DigestUpdate(ctx, ing->chunk, (size_t)n);
		}
	}
	if (!EVP_DigestFinal_ex(ctx, out, outlen))
		rc = -EIO;
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	return rc ? wfs_ing_err(ing, rc, e->path, "hashing: %s", strerror(-rc))
		  : 0;
}

/* Compare RECORD's "algo=b64" with the entry's content. */
static int check_hash(struct wfs_ingest *ing, struct wfs_went *e,
		      const char *hash)
{
	const char *eq = strchr(hash, '='), *v;
	char calc[100], disp[64];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t vlen;
	int rc;

	if (!eq || eq == hash)
		return wfs_ing_err(ing, -EINVAL, e->path,
				   "malformed hash '%s' in RECORD",
				   wfs_ing_disp(hash, disp, sizeof(disp)));
	v = eq + 1;
	vlen = strlen(v);
	while (vlen && v[vlen - 1] == '=') /* tolerate base64 padding */
		vlen--;
	if (eq - hash == 6 && !memcmp(hash, "sha256", 6)) {
		wfs_b64url_nopad(e->sha256, 32, calc);
	} else if (eq - hash == 6 &&
		   (!memcmp(hash, "sha384", 6) || !memcmp(hash, "sha512", 6))) {
		rc = other_digest(ing, e,
				  hash[3] == '3' ? EVP_sha384() : EVP_sha512(),
				  md, &mdlen);
		if (rc)
			return rc;
		wfs_b64url_nopad(md, mdlen, calc);
	} else {
		*(char *)eq = '\0';
		wfs_ing_disp(hash, disp, sizeof(disp));
		*(char *)eq = '=';
		return wfs_ing_err(ing, -EINVAL, e->path,
				   "unsupported hash algorithm '%s' in RECORD "
				   "(sha256, sha384 or sha512 expected)",
				   disp);
	}
	if (strlen(calc) != vlen || memcmp(calc, v, vlen))
		return wfs_ing_err(ing, -EBADMSG, e->path,
				   "%.6s does not match RECORD", hash);
	return 0;
}

/* RECORD, RECORD.jws and RECORD.p7s of the .dist-info need no row. */
static int record_exempt(const char *path, const char *di)
{
	size_t n = strlen(di);

	if (strncmp(path, di, n) || path[n] != '/')
		return 0;
	path += n + 1;
	return !strcmp(path, "RECORD") || !strcmp(path, "RECORD.jws") ||
	       !strcmp(path, "RECORD.p7s");
}

/* Every row names an entry whose hash and size match; every file and
 * symlink has a row. */
static int check_record(struct wfs_ingest *ing, const char *di,
			const struct wfs_went *rec)
{
	struct wfs_record r = { 0 };
	char *what = NULL;
	int rc;

	if (asprintf(&what, "%s: %s", ing->source, rec->path) < 0)
		return wfs_ing_err(ing, -ENOMEM, NULL, "out of memory");
	rc = wfs_record_parse_max(rec->meta, rec->meta_len, what, ing->n + 64,
				  &r, ing->err);
	free(what);
	if (rc)
		return rc;
	for (size_t i = 0; i < r.n && !rc; i++) {
		struct wfs_record_row *row = &r.rows[i];
		struct wfs_went *e = wfs_ing_find(ing, row->path);
		size_t pl = strlen(row->path);

		if (!e && pl > 1 && row->path[pl - 1] == '/') {
			row->path[pl - 1] = '\0';
			e = wfs_ing_find(ing, row->path);
			if (e && !S_ISDIR(e->mode))
				e = NULL;
		}
		if (!e)
			rc = wfs_ing_err(
				ing, -EBADMSG, row->path,
				"listed in RECORD but not in the wheel");
		else if (e->recorded)
			rc = wfs_ing_err(ing, -EINVAL, row->path,
					 "listed more than once in RECORD");
		else if ((e->recorded = 1, record_exempt(e->path, di)))
			continue;
		else if (S_ISDIR(e->mode) && row->hash[0])
			rc = wfs_ing_err(ing, -EBADMSG, e->path,
					 "RECORD lists a hash for a directory");
		else if (S_ISDIR(e->mode))
			continue;
		else if (!row->hash[0])
			rc = wfs_ing_err(ing, -EBADMSG, e->path,
					 "RECORD has no hash for it");
		else if (!(rc = check_hash(ing, e, row->hash)) &&
			 row->size >= 0 && (uint64_t)row->size != e->size)
			rc = wfs_ing_err(
				ing, -EBADMSG, e->path,
				"size %llu does not match RECORD (%lld)",
				(unsigned long long)e->size,
				(long long)row->size);
	}
	wfs_record_free(&r);
	for (size_t i = 0; i < ing->n && !rc; i++) {
		struct wfs_went *e = &ing->ents[i];
		if (!e->recorded && !S_ISDIR(e->mode) &&
		    !record_exempt(e->path, di))
			rc = wfs_ing_err(ing, -EBADMSG, e->path,
					 "not listed in RECORD");
	}
	return rc;
}

/* Resolve a symlink inside the wheel, following symlinks it passes through
 * (as the kernel would), and refuse it if it ever climbs above the root.
 * A name the wheel does not have may be a symlink of another wheel or of
 * the upper layer once installed, so ".." after one is refused too. */
static int check_symlink(struct wfs_ingest *ing, const struct wfs_went *link)
{
	struct wfs_buf cur = { 0 }, rest = { 0 }, tmp = { 0 };
	const char *slash = strrchr(link->path, '/');
	size_t pos = 0;
	int hops = 0, rc = 0, unknown = 0;

	if ((slash &&
	     wfs_buf_append(&cur, link->path, (size_t)(slash - link->path))) ||
	    wfs_buf_append(&rest, link->target, strlen(link->target))) {
		rc = wfs_ing_err(ing, -ENOMEM, NULL, "out of memory");
		goto out;
	}
	while (pos < rest.len) {
		const char *c = rest.data + pos;
		const char *s = memchr(c, '/', rest.len - pos);
		size_t n = s ? (size_t)(s - c) : rest.len - pos, save;
		struct wfs_went *e;

		pos += n + (s ? 1 : 0);
		if (!n || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			char *up;
			if (!cur.len) {
				rc = wfs_ing_err(ing, -EINVAL, link->path,
						 "symlink escapes the wheel");
				goto out;
			}
			if (unknown) {
				rc = wfs_ing_err(
					ing, -EINVAL, link->path,
					"symlink target climbs out of a "
					"name the wheel does not have");
				goto out;
			}
			up = memrchr(cur.data, '/', cur.len);
			cur.len = up ? (size_t)(up - cur.data) : 0;
			cur.data[cur.len] = '\0';
			continue;
		}
		save = cur.len;
		if ((cur.len && wfs_buf_append(&cur, "/", 1)) ||
		    wfs_buf_append(&cur, c, n)) {
			rc = wfs_ing_err(ing, -ENOMEM, NULL, "out of memory");
			goto out;
		}
		e = wfs_ing_find(ing, cur.data);
		if (e && S_ISLNK(e->mode)) {
			if (++hops > 40) {
				rc = wfs_ing_err(
					ing, -ELOOP, link->path,
					"too many levels of symbolic links");
				goto out;
			}
			cur.len = save;
			cur.data[save] = '\0';
			/* Continue with the target, then what was left. */
			tmp.len = 0;
			if (wfs_buf_append(&tmp, e->target,
					   strlen(e->target)) ||
			    wfs_buf_append(&tmp, "/", 1) ||
			    wfs_buf_append(&tmp, rest.data + pos,
					   rest.len - pos)) {
				rc = wfs_ing_err(ing, -ENOMEM, NULL,
						 "out of memory");
				goto out;
			}
			struct wfs_buf swap = rest;
			rest = tmp;
			tmp = swap;
			pos = 0;
		} else if (e && !S_ISDIR(e->mode)) {
			break; /* anything further fails with ENOTDIR */
		} else if (!e && !wfs_ing_has_dir(ing, cur.data)) {
			unknown = 1; /* neither an entry nor a parent of one */
		}
	}
out:
	wfs_buf_free(&cur);
	wfs_buf_free(&rest);
	wfs_buf_free(&tmp);
	return rc;
}

static int build_tree(struct wfs_ingest *ing, const char *name,
		      const char *version, const char *tags, const char *di,
		      uint32_t flags, struct wfs_digest *id)
{
	struct wfs_tree_builder *b = wfs_tree_builder_new();
	void *buf = NULL;
	size_t len = 0;
	int rc = 0;

	if (!b)
		return wfs_ing_err(ing, -ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < ing->n && !rc; i++) {
		const struct wfs_went *e = &ing->ents[i];
		rc = wfs_tree_builder_add(b, e->path, e->mode, e->size,
					  e->mtime_sec, e->mtime_nsec,
					  S_ISREG(e->mode) ? &e->digest : NULL,
					  S_ISLNK(e->mode) ? e->target : NULL);
		if (rc)
			rc = wfs_ing_err(ing, rc, e->path,
					 "adding to the tree: %s",
					 strerror(-rc));
	}
	if (!rc) {
		rc = wfs_tree_builder_finish(b, name, version, tags, di, flags,
					     &buf, &len, ing->err);
		if (rc)
			rc = wfs_ing_err(ing, rc, NULL, "building the tree: %s",
					 strerror(-rc));
	}
	if (!rc) {
		rc = wfs_tree_store(ing->c, buf, len, id);
		if (rc)
			rc = wfs_ing_err(ing, rc, NULL, "storing the tree: %s",
					 strerror(-rc));
	}
	free(buf);
	wfs_tree_builder_free(b);
	return rc;
}

/* Check the .dist-info name against the wheel name (or take name and
 * version from it for a directory), then WHEEL, RECORD and symlinks. */
int wfs_ingest_finish(struct wfs_ingest *ing, const struct wfs_wheel_name *wn,
		      struct wfs_ingest_result *res)
{
	struct wheel_info wi = { 0 };
	char name[128], version[128], tags[256], n1[128], n2[128];
	char *di = NULL, *path = NULL;
	struct wfs_went *e;
	struct wfs_digest id;
	const char *dash;
	size_t stem;
	int rc, tl;

	if ((rc = find_distinfo(ing, &di)))
		goto out;
	stem = strlen(di) - 10;
	dash = memchr(di, '-', stem);
	if (!dash || dash == di || dash + 1 == di + stem ||
	    memchr(dash + 1, '-', (size_t)(di + stem - dash - 1)) ||
	    (size_t)(dash - di) >= sizeof(name) ||
	    (size_t)(di + stem - dash) > sizeof(version)) {
		rc = wfs_ing_err(
			ing, -EINVAL, di,
			"not a {name}-{version}.dist-info directory name");
		goto out;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(dash - di), di);
	snprintf(version, sizeof(version), "%.*s", (int)(di + stem - dash - 1),
		 dash + 1);
	if (wn) {
		wfs_wheel_normalize(name, n1, sizeof(n1));
		wfs_wheel_normalize(wn->name, n2, sizeof(n2));
		if (strcmp(n1, n2) || strcmp(version, wn->version)) {
			rc = wfs_ing_err(ing, -EINVAL, di,
					 "does not match the wheel's name and "
					 "version (%s %s)",
					 wn->name, wn->version);
			goto out;
		}
		strcpy(name, wn->name);
		strcpy(version, wn->version);
	} else {
		/* An unpacked wheel has no file name to check: hold its
		 * name and version to a wheel file name's rules. */
		struct wfs_wheel_name fake;
		char fn[300];
		snprintf(fn, sizeof(fn), "%s-%s-py3-none-any.whl", name,
			 version);
		if (wfs_wheel_name_parse(fn, &fake)) {
			rc = wfs_ing_err(ing, -EINVAL, di,
					 "not a valid {name}-{version} "
					 "(as in a wheel file name)");
			goto out;
		}
	}

	if (asprintf(&path, "%s/WHEEL", di) < 0) {
		path = NULL;
		rc = wfs_ing_err(ing, -ENOMEM, NULL, "out of memory");
		goto out;
	}
	e = wfs_ing_find(ing, path);
	if (!e || !S_ISREG(e->mode) || !e->meta) {
		rc = wfs_ing_err(ing, -EINVAL, path, "missing");
		goto out;
	}
	if ((rc = parse_wheel(ing, path, e->meta, e->meta_len, &wi)))
		goto out;
	if (wn) {
		tl = snprintf(tags, sizeof(tags), "%s%s%s", wn->build,
			      wn->build[0] ? "-" : "", wn->tags);
	} else if (!wi.ntags) {
		rc = wfs_ing_err(ing, -EINVAL, path, "no Tag");
		goto out;
	} else {
		tl = snprintf(tags, sizeof(tags), "%s%s%s-%s-%s", wi.build,
			      wi.build[0] ? "-" : "", wi.tag[0].data,
			      wi.tag[1].data, wi.tag[2].data);
	}
	if (tl < 0 || (size_t)tl >= sizeof(tags)) {
		rc = wfs_ing_err(ing, -EINVAL, path, "tags too long");
		goto out;
	}

	free(path);
	if (asprintf(&path, "%s/RECORD", di) < 0) {
		path = NULL;
		rc = wfs_ing_err(ing, -ENOMEM, NULL, "out of memory");
		goto out;
	}
	e = wfs_ing_find(ing, path);
	if (!e || !S_ISREG(e->mode) || !e->meta) {
		rc = wfs_ing_err(ing, -EBADMSG, path, "missing");
		goto out;
	}
	for (size_t i = 0; i < ing->n && !rc; i++) {
		const struct wfs_went *l = &ing->ents[i];
		size_t stem = strlen(di) - 10; /* without ".dist-info" */
		if (!S_ISLNK(l->mode))
			continue;
		/* Installed elsewhere (bin/, include/, the venv's root):
		 * where its target would lead is not the wheel's to say. */
		if (!strncmp(l->path, di, stem) &&
		    !strncmp(l->path + stem, ".data/", 6))
			rc = wfs_ing_err(ing, -EINVAL, l->path,
					 "symlink in the .data directory");
		else
			rc = check_symlink(ing, l);
	}
	if (rc || (rc = check_record(ing, di, e)))
		goto out;

	if ((rc = build_tree(ing, name, version, tags, di, wi.flags, &id)))
		goto out;
	if (res) {
		res->tree = id;
		strcpy(res->name, name);
		strcpy(res->version, version);
		strcpy(res->tags, tags);
		res->files = ing->files;
		res->bytes = ing->bytes;
		res->new_blobs = ing->new_blobs;
		res->new_bytes = ing->new_bytes;
	}
out:
	for (int i = 0; i < 3; i++)
		wfs_buf_free(&wi.tag[i]);
	free(path);
	free(di);
	return rc;
}
