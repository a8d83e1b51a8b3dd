/* wheel_name.c — wheel file names and distribution name forms.
 *
 * {name}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl
 *
 * Components are split on '-', which is why none of them may contain one
 * (tools escape it to '_').  Accepted characters:
 *   name     [A-Za-z0-9._], starting and ending with a letter or digit
 *   version  [A-Za-z0-9._+!], starting with a letter or digit
 *   build    [A-Za-z0-9._], starting with a digit
 *   tags     [A-Za-z0-9._], '.'-separated non-empty parts (compressed sets)
 */
#include <errno.h>
#include <string.h>

#include "wheel.h"

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* Every character of [s, s+n) is alphanumeric or in extra. */
static int all_in(const char *s, size_t n, const char *extra)
{
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && !strchr(extra, s[i]))
			return 0;
	return 1;
}

/* A tag: '.'-separated, non-empty alphanumeric/underscore parts. */
static int valid_tag(const char *s, size_t n)
{
	if (!n || s[0] == '.' || s[n - 1] == '.' || !all_in(s, n, "._"))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (s[i] == '.' && s[i - 1] == '.')
			return 0;
	return 1;
}

static int copy_part(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return -EINVAL;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int wfs_wheel_name_parse(const char *filename, struct wfs_wheel_name *wn)
{
	const char *part[6];
	size_t plen[6], len, np = 0;
	const char *s, *end;

	memset(wn, 0, sizeof(*wn));
	len = strlen(filename);
	if (len <= 4 || strcmp(filename + len - 4, ".whl") != 0)
		return -EINVAL;
	end = filename + len - 4;
	for (s = filename;;) {
		const char *dash = memchr(s, '-', (size_t)(end - s));
		const char *e = dash ? dash : end;
		if (np == 6)
			return -EINVAL;
		part[np] = s;
		plen[np] = (size_t)(e - s);
		if (!plen[np])
			return -EINVAL;
		np++;
		if (!dash)
			break;
		s = dash + 1;
	}
	if (np != 5 && np != 6)
		return -EINVAL;

	/* name */
	if (!all_in(part[0], plen[0], "._") || !is_alnum(part[0][0]) ||
	    !is_alnum(part[0][plen[0] - 1]))
		return -EINVAL;
	/* version */
	if (!all_in(part[1], plen[1], "._+!") || !is_alnum(part[1][0]))
		return -EINVAL;
	/* build tag */
	if (np == 6 && (!all_in(part[2], plen[2], "._") ||
			!(part[2][0] >= '0' && part[2][0] <= '9')))
		return -EINVAL;
	for (size_t i = np - 3; i < np; i++)
		if (!valid_tag(part[i], plen[i]))
			return -EINVAL;

	if (copy_part(wn->name, sizeof(wn->name), part[0], plen[0]) ||
	    copy_part(wn->version, sizeof(wn->version), part[1], plen[1]))
		goto toolong;
	if (np == 6 &&
	    copy_part(wn->build, sizeof(wn->build), part[2], plen[2]))
		goto toolong;
	/* The three tags are contiguous in filename: copy them in one go. */
	if (copy_part(wn->tags, sizeof(wn->tags), part[np - 3],
		      (size_t)(end - part[np - 3])))
		goto toolong;
	return 0;
toolong:
	memset(wn, 0, sizeof(*wn));
	return -EINVAL;
}

/* Copy name to out, replacing runs of [-_.] by sep; lowercase if asked. */
static void fold(const char *name, char *out, size_t outlen, char sep,
		 int lower)
{
	size_t o = 0;

	if (!outlen)
		return;
	for (const char *p = name; *p && o + 1 < outlen; p++) {
		if (*p == '-' || *p == '_' || *p == '.') {
			while (p[1] == '-' || p[1] == '_' || p[1] == '.')
				p++;
			out[o++] = sep;
		} else {
			out[o++] = lower && *p >= 'A' && *p <= 'Z'
					   ? (char)(*p - 'A' + 'a')
					   : *p;
		}
	}
	out[o] = '\0';
}

void wfs_wheel_normalize(const char *name, char *out, size_t outlen)
{
	fold(name, out, outlen, '-', 1);
}

void wfs_wheel_escape(const char *name, char *out, size_t outlen)
{
	fold(name, out, outlen, '_', 0);
}
