/* pin_report.c — what pin says: mode names, the filesystems involved
 * (mount point and type from /proc/self/mountinfo), why a method could not
 * be used, and the one-line summary of a run (pin.h). */
#include "pin_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static const char *const mode_names[] = { "auto", "reflink", "hardlink", "copy",
					  "symlink" };

int wfs_pin_mode_parse(const char *s, enum wfs_pin_mode *m)
{
	for (int i = 0; i < (int)(sizeof(mode_names) / sizeof(*mode_names));
	     i++)
		if (!strcmp(s, mode_names[i])) {
			*m = (enum wfs_pin_mode)i;
			return 0;
		}
	return -EINVAL;
}

const char *wfs_pin_mode_name(enum wfs_pin_mode m)
{
	return (unsigned)m < sizeof(mode_names) / sizeof(*mode_names)
		       ? mode_names[m]
		       : "?";
}

/* ---- messages ------------------------------------------------------------ */

/* "<mount point> (<fstype>)" of the filesystem holding fd. */
void wfs_pin_describe_fs(int fd, char *buf, size_t len)
{
	char line[4096], mp[2048], fstype[64], best[2400] = "";
	unsigned maj, min;
	struct stat st;
	FILE *f;

	snprintf(buf, len, "?");
	if (fstat(fd, &st) < 0 || !(f = fopen("/proc/self/mountinfo", "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		char root[2048], *dash = strstr(line, " - ");
		if (!dash ||
		    sscanf(line, "%*d %*d %u:%u %2047s %2047s", &maj, &min,
			   root, mp) != 4 ||
		    maj != major(st.st_dev) || min != minor(st.st_dev) ||
		    sscanf(dash + 3, "%63s", fstype) != 1)
			continue;
		/* Undo the octal escapes of spaces and friends. */
		for (char *s = mp, *d = mp;; s++, d++) {
			if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
			    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
			    s[3] <= '7') {
				*d = (char)((s[1] - '0') << 6 |
					    (s[2] - '0') << 3 | (s[3] - '0'));
				s += 3;
			} else if (!(*d = *s)) {
				break;
			}
		}
		if (!best[0] || !strcmp(root, "/"))
			snprintf(best, sizeof(best), "%s (%s)", mp, fstype);
		if (!strcmp(root, "/"))
			break;
	}
	fclose(f);
	if (best[0])
		snprintf(buf, len, "%s", best);
}

void wfs_pin_reason(const struct wfs_pin_result *r, int method, int e,
		    char *buf, size_t len)
{
	const char *what = method == WFS_BY_REFLINK    ? "reflinks"
			   : method == WFS_BY_HARDLINK ? "hardlinks"
						       : "symlinks";
	const char *name = e > 0 ? strerrorname_np(e) : NULL;

	if (e == -1)
		snprintf(buf, len,
			 "%s, so an in-place edit of a hardlinked file could "
			 "change the cache (--mode hardlink accepts that)",
			 r->hardlink_policy == 2 ? "you own the cache's blobs"
						 : "you can write to any file "
						   "(root, CAP_FOWNER)");
	else if (e == -2)
		snprintf(buf, len,
			 "it is executable, and a hardlink would "
			 "have the blob's mode 0444");
	else if (e == EXDEV)
		snprintf(buf, len,
			 "the cache is on %s and the venv on %s: different "
			 "filesystems (EXDEV)",
			 r->cache_fs, r->target_fs);
	else if (e == EOPNOTSUPP || e == ENOTTY || e == EINVAL || e == ENOSYS)
		snprintf(buf, len, "%s does not support %s (%s)", r->target_fs,
			 what, name ? name : "?");
	else if (e == EPERM && method == WFS_BY_HARDLINK)
		snprintf(buf, len,
			 "not permitted (EPERM; with fs.protected_hardlinks=1 "
			 "only the blobs' owner may link them)");
	else if (e == EPERM || e == EACCES)
		snprintf(buf, len, "not permitted (%s)", name ? name : "?");
	else if (e == EMLINK)
		snprintf(buf, len,
			 "its blob has as many links as %s allows "
			 "(EMLINK)",
			 r->target_fs);
	else
		snprintf(buf, len, "%s (%s)", strerror(e), name ? name : "?");
}

/* ---- the summary --------------------------------------------------------- */

void wfs_pin_summary(const struct wfs_pin_result *r,
		     const struct wfs_pin_opts *o, char *buf, size_t len)
{
	struct wfs_buf b = { 0 };
	char hb[32], why[512];
	enum wfs_pin_mode m = o->mode;

	if (!r->files && !r->symlinks && !r->dirs && !r->raced) {
		snprintf(buf, len,
			 "nothing to pin: all %llu entries of the view are in "
			 "the upper layer%s",
			 (unsigned long long)r->upper,
			 r->hidden ? " or deleted" : "");
		return;
	}
	wfs_buf_printf(&b,
		       "pinned %llu files (%llu reflinked, %llu hardlinked, "
		       "%llu copied, %s written",
		       (unsigned long long)r->files,
		       (unsigned long long)r->by[WFS_BY_REFLINK],
		       (unsigned long long)r->by[WFS_BY_HARDLINK],
		       (unsigned long long)r->by[WFS_BY_COPY],
		       wfs_human_bytes(r->bytes_written, hb, sizeof(hb)));
	if (r->by[WFS_BY_SYMLINK])
		wfs_buf_printf(&b, ", %llu symlinked",
			       (unsigned long long)r->by[WFS_BY_SYMLINK]);
	wfs_buf_printf(&b, "), %llu symlinks, %llu directories",
		       (unsigned long long)r->symlinks,
		       (unsigned long long)r->dirs);
	if (r->upper)
		wfs_buf_printf(&b,
			       "; %llu entries were already in the upper "
			       "layer",
			       (unsigned long long)r->upper);
	if (r->hidden)
		wfs_buf_printf(&b,
			       "; %llu deleted or shadowed entries left out",
			       (unsigned long long)r->hidden);
	if (r->raced)
		wfs_buf_printf(&b,
			       "; %llu entries written through the mount "
			       "meanwhile were kept",
			       (unsigned long long)r->raced);
	if (r->resumed)
		wfs_buf_printf(&b,
			       "; completed an interrupted pin (%llu temp "
			       "files removed, %llu torn files placed again)",
			       (unsigned long long)r->cleaned,
			       (unsigned long long)r->repaired);
	if (r->reflink_errno && (m == WFS_PIN_AUTO || m == WFS_PIN_REFLINK)) {
		wfs_pin_reason(r, WFS_BY_REFLINK, r->reflink_errno, why,
			       sizeof(why));
		wfs_buf_printf(&b, "; reflink %s: %s",
			       m == WFS_PIN_AUTO ? "skipped"
						 : "failed, copied instead",
			       why);
	}
	if (m == WFS_PIN_AUTO && r->hardlink_policy) {
		wfs_pin_reason(r, WFS_BY_HARDLINK, -1, why, sizeof(why));
		if (r->by[WFS_BY_COPY])
			wfs_buf_printf(&b, "; hardlink not used: %s", why);
	} else if (r->hardlink_errno &&
		   (m == WFS_PIN_AUTO || m == WFS_PIN_HARDLINK)) {
		wfs_pin_reason(r, WFS_BY_HARDLINK, r->hardlink_errno, why,
			       sizeof(why));
		wfs_buf_printf(&b, "; hardlink %s: %s",
			       m == WFS_PIN_AUTO ? "skipped"
						 : "failed, copied instead",
			       why);
	}
	if (r->symlink_errno && m == WFS_PIN_SYMLINK) {
		wfs_pin_reason(r, WFS_BY_SYMLINK, r->symlink_errno, why,
			       sizeof(why));
		wfs_buf_printf(&b, "; symlink failed, copied instead: %s", why);
	}
	if (r->exec_copied)
		wfs_buf_printf(&b,
			       "; %llu executable files copied (a hardlink "
			       "would have the blob's mode 0444)",
			       (unsigned long long)r->exec_copied);
	if (r->emlink)
		wfs_buf_printf(&b,
			       "; %llu files copied: their blob is at the "
			       "link limit",
			       (unsigned long long)r->emlink);
	if (r->by[WFS_BY_HARDLINK])
		wfs_buf_printf(&b,
			       "; hardlinked files are read-only (0444) and "
			       "share their inode with the cache: the mount "
			       "copies them before a write, but unmounted, "
			       "editors that write in place (as root, or "
			       "after chmod) will change the cache");
	if (r->by[WFS_BY_SYMLINK])
		wfs_buf_printf(&b,
			       "; symlinked files point into the cache: the "
			       "venv breaks if the cache is removed, and "
			       "writing through them changes the cache");
	snprintf(buf, len, "%s", b.data ? b.data : "pinned");
	wfs_buf_free(&b);
}
