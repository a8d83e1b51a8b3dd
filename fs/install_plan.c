/* install_plan.c — what installing one tree into one venv writes: the
 * scheme mapping of .data/, #!python rewriting, entry-point launchers,
 * INSTALLER / REQUESTED / direct_url.json and the venv's RECORD.
 * Matches pip 23 where the specifications leave room (see install.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "install_int.h"
#include "wheel.h"

/* ---- small helpers ------------------------------------------------------ */

int wfs_sha256_row(const void *buf, size_t len, char *hash)
{
	struct wfs_hasher *h = wfs_hasher_new(1);
	struct wfs_digest d;
	uint8_t sha[32];

	if (!h)
		return -ENOMEM;
	wfs_hasher_update(h, buf, len);
	wfs_hasher_final(h, &d, sha);
	wfs_hasher_free(h);
	memcpy(hash, "sha256=", 7);
	wfs_b64url_nopad(sha, sizeof(sha), hash + 7);
	return 0;
}

int wfs_blob_read(struct wfs_cache *c, const struct wfs_digest *d, size_t max,
		  char **buf, size_t *len)
{
	struct wfs_digest got;
	struct stat st;
	ssize_t n;
	char *p;
	int fd = wfs_cache_open_blob(c, d), rc = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
	} else if ((uint64_t)st.st_size > max) {
		rc = -EFBIG;
	} else if (!(p = malloc((size_t)st.st_size + 1))) {
		rc = -ENOMEM;
	} else if ((n = wfs_pread_full(fd, p, (size_t)st.st_size, 0)) < 0) {
		rc = (int)n;
		free(p);
	} else if (wfs_digest_buf(p, (size_t)n, &got),
		   !wfs_digest_equal(&got, d)) {
		rc = -EBADMSG;
		free(p);
	} else {
		p[n] = '\0';
		*buf = p;
		*len = (size_t)n;
	}
	close(fd);
	return rc;
}

/* ---- the plan ----------------------------------------------------------- */

static struct wfs_pfile *pf_add(struct wfs_plan *p, const char *path,
				const char *wheel_path, int kind, mode_t mode)
{
	struct wfs_pfile *f;

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		f = realloc(p->f, cap * sizeof(*f));
		if (!f)
			return NULL;
		p->f = f;
		p->cap = cap;
	}
	f = &p->f[p->n];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	f->wheel_path = wheel_path ? strdup(wheel_path) : NULL;
	if (!f->path || (wheel_path && !f->wheel_path)) {
		free(f->path);
		free(f->wheel_path);
		return NULL;
	}
	f->kind = kind;
	f->mode = mode;
	f->seq = p->n++;
	return f;
}

/* A generated file: content in memory, hash computed. */
int wfs_pf_gen(struct wfs_plan *p, const char *path, const void *data,
	       size_t len, mode_t mode)
{
	struct wfs_pfile *f = pf_add(p, path, NULL, WFS_PF_BUF, mode);

	if (!f || wfs_buf_append(&f->buf, data, len))
		return -ENOMEM;
	f->size = (int64_t)len;
	return wfs_sha256_row(data, len, f->hash);
}

/* direct_url.json as pip writes it for a wheel file: PEP 610, the path
 * quoted like urllib's pathname2url. */
static int direct_url(struct wfs_plan *p, const char *dir, const char *whl)
{
	struct wfs_buf b = { 0 };
	char path[WFS_VPATH_MAX];
	int rc =
		wfs_buf_printf(&b, "{\"archive_info\": {}, \"url\": \"file://");

	for (const unsigned char *s = (const unsigned char *)whl; !rc && *s;
	     s++)
		rc = isalnum(*s) || strchr("_.-~/", *s)
			     ? wfs_buf_append(&b, s, 1)
			     : wfs_buf_printf(&b, "%%%02X", *s);
	if (!rc)
		rc = wfs_buf_printf(&b, "\"}");
	if (!rc && snprintf(path, sizeof(path), "%s/direct_url.json", dir) >=
			   (int)sizeof(path))
		rc = -ENAMETOOLONG;
	if (!rc)
		rc = wfs_pf_gen(p, path, b.data, b.len, 0644);
	wfs_buf_free(&b);
	return rc;
}

static int script(struct wfs_plan *p, struct wfs_cache *c, const char *exe,
		  const struct wfs_tree_ent *e, const char *wp,
		  const char *dest)
{
	struct wfs_pfile *f;
	char head[8], *buf = NULL;
	size_t len = 0;
	ssize_t got;
	int fd, rc;

	fd = wfs_cache_open_blob(c, (const struct wfs_digest *)e->digest);
	if (fd < 0)
		return fd;
	got = wfs_pread_full(fd, head, sizeof(head), 0);
	close(fd);
	if (got < 0)
		return (int)got;
	if (got < 8 || memcmp(head, "#!python", 8)) {
		f = pf_add(p, dest, wp, WFS_PF_BLOB, 0755);
		if (!f)
			return -ENOMEM;
		memcpy(&f->blob, e->digest, sizeof(f->blob));
		f->size = (int64_t)e->size;
		return 0;
	}
	rc = wfs_blob_read(c, (const struct wfs_digest *)e->digest, 256u << 20,
			   &buf, &len);
	if (rc)
		return rc;
	f = pf_add(p, dest, wp, WFS_PF_BUF, 0755);
	if (!f) {
		free(buf);
		return -ENOMEM;
	}
	const char *nl = memchr(buf, '\n', len);
	size_t rest = nl ? (size_t)(nl + 1 - buf) : len;
	rc = wfs_shebang(exe, &f->buf);
	if (!rc)
		rc = wfs_buf_append(&f->buf, buf + rest, len - rest);
	free(buf);
	if (!rc) {
		f->size = (int64_t)f->buf.len;
		rc = wfs_sha256_row(f->buf.data, f->buf.len, f->hash);
	}
	return rc;
}

static int add_vpath(struct wfs_plan *p, const char *s)
{
	size_t off = p->arena.len;
	char **v;

	if (p->nv % 256 == 0) {
		v = realloc(p->vpaths, (p->nv + 256) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		p->vpaths = v;
	}
	p->vpaths[p->nv++] = (char *)off; /* fixed up when the arena settles */
	return wfs_buf_append(&p->arena, s, strlen(s) + 1);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_pf_path(const void *a, const void *b)
{
	const struct wfs_pfile *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	/* Same path: in the order they were planned (the last one wins). */
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int read_meta(struct wfs_plan *p, struct wfs_cache *c, const char *rel,
		     char **buf, size_t *len)
{
	char path[WFS_VPATH_MAX];
	const struct wfs_tree_ent *e;

	*buf = NULL;
	*len = 0;
	snprintf(path, sizeof(path), "%s/%s", p->distinfo, rel);
	e = wfs_tree_find(p->t, path);
	if (!e || !S_ISREG(e->mode))
		return 0;
	return wfs_blob_read(c, (const struct wfs_digest *)e->digest, 64u << 20,
			     buf, len);
}

/* The VENV-relative destination of a .data/data file sub.  Its first
 * component may be a symlink of the venv: lib64 -> lib (python -m venv
 * makes one) stands for lib/, so that what goes there is known as lib/
 * (the upper layer, and wheelfs's state kept out); any other symlink is
 * refused, as installing through it would leave the venv. */
static int data_dest(struct wfs_plan *p, const struct wfs_venv *v,
		     const char *wp, const char *sub, char *dest, size_t len,
		     struct wfs_err *err)
{
	const char *slash = strchr(sub, '/');
	size_t fl = slash ? (size_t)(slash - sub) : strlen(sub);
	char first[256], target[256];
	struct stat st;
	ssize_t n;

	snprintf(dest, len, "%s", sub);
	if (fl >= sizeof(first))
		return 0;
	memcpy(first, sub, fl);
	first[fl] = '\0';
	if (fstatat(v->rootfd, first, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISLNK(st.st_mode))
		return 0;
	n = readlinkat(v->rootfd, first, target, sizeof(target) - 1);
	if (n > 0)
		target[n] = '\0';
	if (n > 0 && slash &&
	    (!strcmp(target, "lib") || !strcmp(target, "lib/"))) {
		snprintf(dest, len, "lib%s", slash);
		return 0;
	}
	return wfs_errf(err, -EINVAL,
			"%s: %s: would install through the venv's symlink %s",
			p->name, wp, first);
}

int wfs_plan_build(struct wfs_plan *p, struct wfs_cache *c,
		   const struct wfs_venv *v, const struct wfs_tree *t,
		   const char *whl_abs, int requested, struct wfs_err *err)
{
	char exe[WFS_VPATH_MAX], dir[WFS_VPATH_MAX], dest[WFS_VPATH_MAX * 2];
	char hname[128], *rec = NULL, *eptext = NULL;
	struct wfs_ep *eps = NULL;
	size_t reclen, eplen, neps = 0, dl;
	int rc;

	memset(p, 0, sizeof(*p));
	p->t = t;
	p->name = wfs_tree_str(t, t->hdr->name_off);
	p->version = wfs_tree_str(t, t->hdr->version_off);
	p->distinfo = wfs_tree_str(t, t->hdr->distinfo_off);
	snprintf(p->site_v, sizeof(p->site_v), "lib/%s", v->site);
	snprintf(hname, sizeof(hname), "%s", p->name);
	for (char *s = hname; *s; s++)
		if (*s == '_')
			*s = '-';
	snprintf(exe, sizeof(exe), "%s/bin/python", v->path);
	dl = strlen(p->distinfo) - strlen(".dist-info");

	if ((rc = read_meta(p, c, "RECORD", &rec, &reclen)) ||
	    (rec &&
	     (rc = wfs_record_parse(rec, reclen, "RECORD", &p->wrec, err))) ||
	    (rc = read_meta(p, c, "entry_points.txt", &eptext, &eplen)) ||
	    (eptext && (rc = wfs_eps_parse(eptext, &eps, &neps)))) {
		rc = wfs_errf(err, rc, "%s: %s: %s", p->name, p->distinfo,
			      wfs_blob_strerror(rc));
		goto out;
	}
	for (uint32_t i = 0; i < t->hdr->n_entries && !rc; i++) {
		const struct wfs_tree_ent *e = &t->ents[i];
		const char *wp = wfs_tree_path(t, e), *scheme, *sub;
		struct wfs_pfile *f;
		if (S_ISDIR(e->mode))
			continue;
		if (strncmp(wp, p->distinfo, dl) ||
		    strncmp(wp + dl, ".data/", 6)) {
			if (strncmp(wp, p->distinfo, dl + 10) ||
			    strcmp(wp + dl + 10, "/RECORD"))
				rc = add_vpath(p, wp);
			continue;
		}
		scheme = wp + dl + 6;
		sub = strchr(scheme, '/');
		if (!sub) {
			rc = wfs_errf(err, -EINVAL,
				      "%s: %s: not inside a scheme "
				      "directory of .data",
				      p->name, wp);
			break;
		}
		sub++;
		if (!strncmp(scheme, "purelib/", 8) ||
		    !strncmp(scheme, "platlib/", 8)) {
			rc = add_vpath(p, sub);
			continue;
		}
		if (!strncmp(scheme, "scripts/", 8)) {
			const char *base = strrchr(sub, '/');
			if (wfs_eps_is_wrapper(base ? base + 1 : sub, eps,
					       neps))
				continue;
			snprintf(dest, sizeof(dest), "bin/%s", sub);
		} else if (!strncmp(scheme, "headers/", 8)) {
			snprintf(dest, sizeof(dest),
				 "include/site/python%s/%s/%s", v->python,
				 hname, sub);
		} else if (!strncmp(scheme, "data/", 5)) {
			rc = data_dest(p, v, wp, sub, dest, sizeof(dest), err);
			if (rc)
				break;
			if (!strcmp(dest, "lib/" WFS_STATE_DIR) ||
			    !strncmp(dest, "lib/" WFS_STATE_DIR "/", 12)) {
				rc = wfs_errf(err, -EINVAL,
					      "%s: %s: would overwrite "
					      "wheelfs's own state",
					      p->name, wp);
				break;
			}
		} else {
			rc = wfs_errf(
				err, -EINVAL,
				"%s: %s: unknown .data scheme "
				"(purelib, platlib, scripts, headers, data)",
				p->name, wp);
			break;
		}
		if (strlen(dest) >= WFS_VPATH_MAX) {
			rc = wfs_errf(err, -ENAMETOOLONG,
				      "%s: %s: path too long", p->name, wp);
			break;
		}
		if (S_ISREG(e->mode) && !strncmp(scheme, "scripts/", 8)) {
			rc = script(p, c, exe, e, wp, dest);
			if (rc)
				rc = wfs_errf(err, rc, "%s: %s: %s", p->name,
					      wp, wfs_blob_strerror(rc));
			continue;
		}
		f = pf_add(p, dest, wp,
			   S_ISLNK(e->mode) ? WFS_PF_LINK : WFS_PF_BLOB,
			   (e->mode & 0111) ? 0755 : 0644);
		if (!f) {
			rc = -ENOMEM;
			break;
		}
		f->size = (int64_t)e->size;
		if (S_ISLNK(e->mode) &&
		    !(f->target = strdup(wfs_tree_str(t, e->target_off))))
			rc = -ENOMEM;
		memcpy(&f->blob, e->digest, sizeof(f->blob));
	}
	if (!rc)
		rc = wfs_plan_launchers(p, v, exe, eps, neps, err);
	snprintf(dir, sizeof(dir), "%s/%s", p->site_v, p->distinfo);
	if (!rc) {
		snprintf(dest, sizeof(dest), "%s/INSTALLER", dir);
		rc = wfs_pf_gen(p, dest, "wheelfs\n", 8, 0644);
	}
	if (!rc && requested) {
		snprintf(dest, sizeof(dest), "%s/REQUESTED", dir);
		rc = wfs_pf_gen(p, dest, "", 0, 0644);
	}
	if (!rc && whl_abs)
		rc = direct_url(p, dir, whl_abs);
	if (rc) {
		rc = wfs_errf(err, rc, "%s: %s", p->name, strerror(-rc));
		goto out;
	}
	/* Settle the arena, sort the view paths; among real files for one
	 * path (a data file and a launcher, say) the last one wins. */
	for (size_t i = 0; i < p->nv; i++)
		p->vpaths[i] = p->arena.data + (size_t)p->vpaths[i];
	if (p->nv)
		qsort(p->vpaths, p->nv, sizeof(*p->vpaths), cmp_str);
	if (p->n)
		qsort(p->f, p->n, sizeof(*p->f), cmp_pf_path);
	for (size_t i = 1; i < p->n; i++)
		if (!strcmp(p->f[i - 1].path, p->f[i].path))
			p->f[i - 1].dropped = 1;
out:
	free(eps);
	free(eptext);
	free(rec);
	if (rc)
		wfs_plan_free(p);
	return rc;
}

void wfs_plan_free(struct wfs_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->f[i].path);
		free(p->f[i].wheel_path);
		free(p->f[i].target);
		wfs_buf_free(&p->f[i].buf);
	}
	free(p->f);
	free(p->vpaths);
	wfs_buf_free(&p->arena);
	wfs_record_free(&p->wrec);
	memset(p, 0, sizeof(*p));
}
