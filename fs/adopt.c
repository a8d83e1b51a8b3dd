/* adopt.c — wfs_adopt(): a pip/uv-installed site-packages into the cache
 * and a view, in the steps adopt.h describes (store, view, then verify and
 * free in adopt_free.c).
 *
 * Test hook: WFS_TEST_CRASH_AFTER=store|view|free makes adopt _exit(99)
 * right after that step ("free": after the first file is freed), so tests
 * can interrupt it between steps and check that a rerun completes.  It has
 * no other effect and nothing else reads it.
 */
#include "adopt.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adopt_int.h"
#include "install_int.h"
#include "record.h"
#include "tree.h"
#include "upper.h"
#include "wheel.h"

#define SMALL_FILE (8u << 20)

void wfs_adopt_crash_point(const char *step)
{
	const char *want = getenv("WFS_TEST_CRASH_AFTER");

	if (want && !strcmp(want, step))
		_exit(99);
}

static void say(const struct actx *x, int warn, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(const struct actx *x, int warn, const char *fmt, ...)
{
	void (*fn)(const char *, void *) = warn ? x->o->warn : x->o->report;
	char line[1024];
	va_list ap;

	if (!fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fn(line, warn ? x->o->warn_arg : x->o->report_arg);
}

/* ---- metadata ----------------------------------------------------------- */

static int token_ok(const char *s, int name)
{
	if (!*s || strlen(s) >= 128)
		return 0;
	for (; *s; s++)
		if (name ? !(isalnum((unsigned char)*s) || strchr("._-", *s))
			 : ((unsigned char)*s <= ' ' || *s == 0x7f))
			return 0;
	return 1;
}

/* "Key: value" headers of an RFC 822 style file, up to the first blank
 * line; calls fn for each. */
static void headers(char *text, void (*fn)(const char *k, char *v, void *a),
		    void *arg)
{
	for (char *line = text; line && *line && *line != '\n';) {
		char *nl = strchr(line, '\n'), *colon, *val, *e;
		if (nl)
			*nl = '\0';
		colon = strchr(line, ':');
		if (colon) {
			*colon = '\0';
			for (val = colon + 1; *val == ' ' || *val == '\t';
			     val++)
				;
			for (e = val + strlen(val);
			     e > val && isspace((unsigned char)e[-1]);)
				*--e = '\0';
			fn(line, val, arg);
		}
		line = nl ? nl + 1 : NULL;
	}
}

static void meta_kv(const char *k, char *v, void *arg)
{
	struct adist *d = arg;

	if (!strcasecmp(k, "Name") && token_ok(v, 1))
		snprintf(d->name, sizeof(d->name), "%s", v);
	else if (!strcasecmp(k, "Version") && token_ok(v, 0))
		snprintf(d->version, sizeof(d->version), "%s", v);
}

struct wheel_meta {
	char tags[256];
	char build[64];
	uint32_t flags;
};

static void wheel_kv(const char *k, char *v, void *arg)
{
	struct wheel_meta *w = arg;

	if (!strcasecmp(k, "Tag") && !w->tags[0] && token_ok(v, 0))
		snprintf(w->tags, sizeof(w->tags), "%s", v);
	else if (!strcasecmp(k, "Build") && token_ok(v, 0))
		snprintf(w->build, sizeof(w->build), "%.63s", v);
	else if (!strcasecmp(k, "Root-Is-Purelib") && !strcasecmp(v, "true"))
		w->flags |= WFS_TREE_PURELIB;
}

static int read_small(int fd, const char *di, const char *name, char **buf)
{
	char path[WFS_VPATH_MAX];
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", di, name);
	return wfs_read_file(fd, path, buf, &len);
}

/* Name and version: METADATA, else the directory's name. */
static int identify(struct actx *x, struct adist *d)
{
	size_t stem = strlen(d->di) - 10;
	const char *dash = memchr(d->di, '-', stem);
	char *meta = NULL;
	struct stat st;
	char path[WFS_VPATH_MAX];
	int rc = read_small(x->sfd, d->di, "METADATA", &meta);

	if (!rc) {
		headers(meta, meta_kv, d);
		free(meta);
	}
	if (!d->name[0] && dash && (size_t)(dash - d->di) < sizeof(d->name))
		snprintf(d->name, sizeof(d->name), "%.*s", (int)(dash - d->di),
			 d->di);
	if (!d->version[0] && dash &&
	    (size_t)(d->di + stem - dash) < sizeof(d->version))
		snprintf(d->version, sizeof(d->version), "%.*s",
			 (int)(d->di + stem - dash - 1), dash + 1);
	snprintf(path, sizeof(path), "%s/REQUESTED", d->di);
	d->requested = fstatat(x->sfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
	return token_ok(d->name, 1) && token_ok(d->version, 0) ? 0 : -EINVAL;
}

/* ---- candidates --------------------------------------------------------- */

static int per_venv(const char *di, const char *s)
{
	size_t l = strlen(di);

	return !strncmp(s, di, l) && s[l] == '/' &&
	       (!strcmp(s + l + 1, "RECORD") ||
		!strcmp(s + l + 1, "INSTALLER") ||
		!strcmp(s + l + 1, "REQUESTED") ||
		!strcmp(s + l + 1, "direct_url.json"));
}

/* The site-relative path of a RECORD row, or -1 when it stays real. */
static int row_path(const struct actx *x, const struct adist *d,
		    const char *row, char *out, size_t len)
{
	char vp[WFS_VPATH_MAX];
	size_t l = strlen(x->site_v);

	if (wfs_record_target(x->site_v, row, vp, sizeof(vp)) ||
	    strncmp(vp, x->site_v, l) || vp[l] != '/' ||
	    per_venv(d->di, vp + l + 1))
		return -1;
	snprintf(out, len, "%s", vp + l + 1);
	return 0;
}

/* A symlink target that stays inside site-packages (relative). */
static int link_ok(const struct actx *x, const char *s, const char *target)
{
	char joined[WFS_VPATH_MAX * 2], vp[WFS_VPATH_MAX];
	const char *slash = strrchr(s, '/');
	size_t l = strlen(x->site_v);

	if (target[0] == '/' || !target[0])
		return 0;
	snprintf(joined, sizeof(joined), "%.*s%s%s",
		 slash ? (int)(slash - s) : 0, s, slash ? "/" : "", target);
	return !wfs_record_target(x->site_v, joined, vp, sizeof(vp)) &&
	       !strncmp(vp, x->site_v, l) && vp[l] == '/';
}

/* Hash a file (and store it as a blob) while checking its RECORD row. */
static int store_file(struct actx *x, int fd, uint64_t size,
		      const struct wfs_record_row *row, struct wfs_digest *d,
		      int *match)
{
	struct wfs_blob_writer w = { .fd = -1 };
	uint8_t sha[32];
	char b64[48], *buf = NULL;
	size_t cap = size <= SMALL_FILE ? (size_t)size + 1 : 1u << 20, got = 0;
	ssize_t n;
	int rc = 0, stream = size > SMALL_FILE;

	if (!(buf = malloc(cap)))
		return -ENOMEM;
	if (stream && (rc = wfs_cache_blob_begin(x->c, &w))) {
		free(buf);
		return rc;
	}
	wfs_hasher_reset(x->h);
	for (;;) {
		n = read(fd, stream ? buf : buf + got,
			 stream ? cap : cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		wfs_hasher_update(x->h, stream ? buf : buf + got, (size_t)n);
		if (stream && (rc = wfs_write_all(w.fd, buf, (size_t)n)))
			break;
		got += (size_t)n;
		if (!stream && got == cap) { /* grew since the stat */
			rc = -EAGAIN;
			break;
		}
	}
	wfs_hasher_final(x->h, d, sha);
	wfs_b64url_nopad(sha, sizeof(sha), b64);
	*match = (row->size < 0 || (uint64_t)row->size == got) &&
		 (strncmp(row->hash, "sha256=", 7) ||
		  !strcmp(row->hash + 7, b64));
	if (!rc && *match)
		rc = stream ? wfs_cache_blob_commit(x->c, &w, d, NULL)
			    : wfs_cache_put_buf(x->c, d, buf, got, NULL);
	else if (stream)
		wfs_cache_blob_abort(x->c, &w);
	free(buf);
	return rc;
}

static int add_found(struct actx *x, struct adist *d,
		     struct wfs_tree_builder *b, const char *s,
		     const struct wfs_record_row *row, int pfd,
		     const char *base, const struct stat *stp);

/* One RECORD row: a candidate entry of d's tree. */
static int add_entry(struct actx *x, struct adist *d,
		     struct wfs_tree_builder *b, const char *s,
		     const struct wfs_record_row *row)
{
	const char *base;
	struct stat st;
	int pfd, rc;

	if (wfs_sorted_has(x->taken.v, x->taken.n, s))
		return 0; /* claimed by another distribution */
	pfd = wfs_parent_beneath(x->sfd, s, &base);
	if (pfd < 0 || fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (pfd >= 0)
			close(pfd);
		return 0; /* absent, or behind a symlinked directory */
	}
	rc = add_found(x, d, b, s, row, pfd, base, &st);
	close(pfd);
	return rc;
}

static int add_found(struct actx *x, struct adist *d,
		     struct wfs_tree_builder *b, const char *s,
		     const struct wfs_record_row *row, int pfd,
		     const char *base, const struct stat *stp)
{
	const struct stat st = *stp;
	struct wfs_digest dg;
	char target[WFS_VPATH_MAX];
	int fd, rc, match = 0;
	mode_t perm;

	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(pfd, base, target, sizeof(target) - 1);
		if (n < 0 || (target[n] = '\0', !link_ok(x, s, target))) {
			x->st->kept++;
			return 0;
		}
		rc = wfs_tree_builder_add(
			b, s, S_IFLNK | 0777, (uint64_t)n, st.st_mtim.tv_sec,
			(uint32_t)st.st_mtim.tv_nsec, NULL, target);
		return rc ? rc : wfs_ss_add(&d->cand, s);
	}
	perm = st.st_mode & 07777;
	if (!S_ISREG(st.st_mode) || (perm != 0644 && perm != 0755)) {
		x->st->kept++;
		return 0;
	}
	fd = openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return wfs_errf(x->err, -errno, "%s/%s/%s: %s", x->v->lib,
				x->v->site, s, strerror(errno));
	rc = store_file(x, fd, (uint64_t)st.st_size, row, &dg, &match);
	close(fd);
	if (rc)
		return wfs_errf(x->err, rc, "%s/%s/%s: %s", x->v->lib,
				x->v->site, s, strerror(-rc));
	if (!match) {
		say(x, 1,
		    "%s/%s/%s: differs from %s's RECORD (edited since it "
		    "was installed): kept as a real file",
		    x->v->lib, x->v->site, s, d->name);
		x->st->kept++;
		return 0;
	}
	rc = wfs_tree_builder_add(b, s, S_IFREG | perm, (uint64_t)st.st_size,
				  st.st_mtim.tv_sec,
				  (uint32_t)st.st_mtim.tv_nsec, &dg, NULL);
	d->files++;
	return rc ? rc : wfs_ss_add(&d->cand, s);
}

/* The real files of d that the view now holds, from its RECORD. */
static int each_row(struct actx *x, struct adist *d, struct wfs_tree_builder *b)
{
	struct wfs_record rec = { 0 };
	struct wfs_strset seen = { 0 };
	char path[WFS_VPATH_MAX], s[WFS_VPATH_MAX], *buf;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/RECORD", d->di);
	rc = wfs_read_file(x->sfd, path, &buf, &len);
	if (rc)
		return rc;
	rc = wfs_record_parse(buf, len, path, &rec, x->err);
	free(buf);
	for (size_t i = 0; !rc && i < rec.n; i++) {
		if (row_path(x, d, rec.rows[i].path, s, sizeof(s)) ||
		    wfs_sorted_has(seen.v, seen.n, s))
			continue;
		if ((rc = wfs_ss_add(&seen, s)))
			break;
		wfs_ss_sort(&seen);
		rc = b ? add_entry(x, d, b, s, &rec.rows[i])
		       : wfs_ss_add(&d->cand, s);
	}
	wfs_ss_free(&seen);
	wfs_record_free(&rec);
	return rc;
}

static int build_tree(struct actx *x, struct adist *d)
{
	struct wfs_tree_builder *b = wfs_tree_builder_new();
	struct wheel_meta wm = { .tags = "" };
	char tags[330], *wheel = NULL;
	void *data = NULL;
	size_t len = 0;
	int rc;

	if (!b)
		return -ENOMEM;
	if (!read_small(x->sfd, d->di, "WHEEL", &wheel)) {
		headers(wheel, wheel_kv, &wm);
		free(wheel);
	}
	snprintf(tags, sizeof(tags), "%s%s%s", wm.build, wm.build[0] ? "-" : "",
		 wm.tags[0] ? wm.tags : "adopted");
	rc = each_row(x, d, b);
	if (!rc)
		rc = wfs_tree_builder_finish(b, d->name, d->version, tags,
					     d->di, wm.flags, &data, &len,
					     x->err);
	if (!rc)
		rc = wfs_tree_store(x->c, data, len, &d->tree);
	free(data);
	wfs_tree_builder_free(b);
	for (size_t i = 0; !rc && i < d->cand.n; i++)
		rc = wfs_ss_add(&x->taken, d->cand.v[i]);
	wfs_ss_sort(&x->taken);
	return rc ? wfs_errf(x->err, rc, "%s/%s/%s: %s", x->v->lib, x->v->site,
			     d->di, strerror(-rc))
		  : 0;
}

/* ---- the steps ---------------------------------------------------------- */

static int list_dists(struct actx *x)
{
	struct wfs_strset names = { 0 };
	struct dirent *de;
	DIR *dir;
	int rc = wfs_opendirat(x->sfd, ".", 0, &dir);

	if (rc)
		return rc;
	while (!rc && (de = readdir(dir))) {
		size_t l = strlen(de->d_name);
		struct stat st;
		if (l > 10 && !strcmp(de->d_name + l - 10, ".dist-info") &&
		    !fstatat(x->sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
		    S_ISDIR(st.st_mode))
			rc = wfs_ss_add(&names, de->d_name);
	}
	closedir(dir);
	wfs_ss_sort(&names);
	x->d = calloc(names.n + 1, sizeof(*x->d));
	if (!x->d)
		rc = -ENOMEM;
	for (size_t i = 0; !rc && i < names.n; i++) {
		x->d[x->n].di = names.v[i];
		names.v[i] = NULL;
		x->n++;
	}
	wfs_ss_free(&names);
	return rc;
}

/* Decide, per .dist-info: merge (already in the view), adopt, or skip. */
static int classify(struct actx *x, const struct wfs_composed *old, char *adopt)
{
	struct wfs_strset replaced = { 0 };
	char path[WFS_VPATH_MAX];
	struct stat st;
	int rc = 0;

	for (size_t i = 0; i < x->n && !rc; i++) {
		struct adist *d = &x->d[i];
		long k;
		snprintf(path, sizeof(path), "%s/RECORD", d->di);
		if (identify(x, d) || fstatat(x->sfd, path, &st, 0) < 0) {
			say(x, 1,
			    "%s/%s/%s: no RECORD or no usable name and "
			    "version: left as real files",
			    x->v->lib, x->v->site, d->di);
			continue;
		}
		int dup = 0;
		char n1[256], n2[256];
		wfs_wheel_normalize(d->name, n1, sizeof(n1));
		for (size_t j = 0; j < i && !dup; j++) {
			wfs_wheel_normalize(x->d[j].name, n2, sizeof(n2));
			dup = (adopt[j] || x->d[j].merge) && !strcmp(n1, n2);
			if (dup)
				say(x, 1,
				    "%s/%s: %s and %s are both %s: only the "
				    "first is adopted",
				    x->v->lib, x->v->site, x->d[j].di, d->di,
				    n1);
		}
		if (dup)
			continue;
		k = wfs_view_find(x->view, d->name);
		if (k >= 0) {
			const struct wfs_tree *t = &old->trees[k];
			if (!strcmp(wfs_tree_str(t, t->hdr->distinfo_off),
				    d->di)) {
				d->merge = 1;
				continue;
			}
			rc = wfs_ss_add(&replaced, x->view->dists[k].name);
		}
		adopt[i] = 1;
	}
	wfs_ss_sort(&replaced);
	/* Paths the view keeps (dists not replaced) stay theirs. */
	for (size_t i = 1; !rc && i < old->n; i++) {
		const struct wfs_vent *e = &old->v[i];
		size_t sl = strlen(x->v->site);
		if (!e->ent || S_ISDIR(e->ent->mode) ||
		    wfs_sorted_has(replaced.v, replaced.n,
				   x->view->dists[e->dist].name) ||
		    strncmp(e->path, x->v->site, sl) || e->path[sl] != '/')
			continue;
		rc = wfs_ss_add(&x->taken, e->path + sl + 1);
	}
	wfs_ss_sort(&x->taken);
	wfs_ss_free(&replaced);
	return rc;
}

int wfs_adopt(struct wfs_venv *v, struct wfs_cache *c, struct wfs_view *view,
	      const struct wfs_adopt_opts *o, struct wfs_adopt_stats *st,
	      struct wfs_err *err)
{
	static const struct wfs_adopt_opts none = { 0 };
	struct actx x = { .v = v,
			  .c = c,
			  .view = view,
			  .o = o ? o : &none,
			  .st = st,
			  .err = err,
			  .sfd = -1 };
	struct wfs_composed old = { 0 }, cv = { 0 };
	char *adopt = NULL;
	int rc, have_old = 0, have_cv = 0;

	memset(st, 0, sizeof(*st));
	if (v->live)
		return wfs_errf(err, -EBUSY,
				"%s: mounted; adopt works on an "
				"unmounted venv (unmount it first)",
				v->lib);
	snprintf(x.site_v, sizeof(x.site_v), "lib/%s", v->site);
	x.sfd = openat(v->libfd, v->site, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x.sfd < 0)
		return wfs_errf(err, -errno, "%s/%s: %s", v->lib, v->site,
				strerror(errno));
	x.h = wfs_hasher_new(1);
	rc = x.h ? list_dists(&x) : -ENOMEM;
	if (!rc && !(adopt = calloc(x.n + 1, 1)))
		rc = -ENOMEM;
	if (!rc) {
		rc = wfs_view_compose(view, c, &old, err);
		have_old = !rc;
	}
	if (!rc)
		rc = classify(&x, &old, adopt);
	/* 1. store */
	for (size_t i = 0; i < x.n && !rc; i++)
		if (adopt[i])
			rc = build_tree(&x, &x.d[i]);
	wfs_adopt_crash_point("store");
	/* 2. view */
	for (size_t i = 0; i < x.n && !rc; i++) {
		struct adist *d = &x.d[i];
		if (adopt[i]) {
			rc = wfs_view_set(view, d->name, d->version, &d->tree,
					  d->requested);
			st->dists++;
			st->files += d->files;
			say(&x, 0, "adopted %s %s (%llu files)", d->name,
			    d->version, (unsigned long long)d->files);
		} else if (d->merge) {
			rc = each_row(&x, d, NULL);
			st->merged++;
		}
	}
	/* What is freed next is lower only: not pinned any more (pin.h). */
	view->pinned = 0;
	if (!rc) {
		rc = wfs_view_compose(view, c, &cv, err);
		have_cv = !rc;
	}
	if (!rc && (rc = wfs_cache_register_view(c, v->lib)))
		wfs_errf(err, rc, "%s: registering the view: %s", c->path,
			 strerror(-rc));
	if (!rc)
		rc = wfs_venv_commit(v, view, err);
	if (!rc)
		wfs_adopt_crash_point("view");
	/* 3. verify, 4. free */
	if (!rc)
		rc = wfs_adopt_free_files(&x, &cv);
	if (rc && !err->msg[0])
		wfs_errf(err, rc, "%s: %s", v->path, strerror(-rc));
	if (have_cv)
		wfs_composed_free(&cv);
	if (have_old)
		wfs_composed_free(&old);
	for (size_t i = 0; i < x.n; i++) {
		free(x.d[i].di);
		wfs_ss_free(&x.d[i].cand);
	}
	free(x.d);
	free(adopt);
	wfs_ss_free(&x.taken);
	wfs_hasher_free(x.h);
	close(x.sfd);
	return rc;
}
