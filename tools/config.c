/* config.c — reading wheelfs.conf with inih. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "pin.h"

int wfs_config_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "kmgt";
	const char *u;
	char *end;
	unsigned long long v;
	int shift = 0;

	/* strtoull would take leading blanks, a sign, and wrap "-1". */
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end && (u = strchr(units, *end | 0x20))) {
		shift = 10 * (int)(u - units + 1);
		end++;
		if (*end == 'i')
			end++;
	}
	if (*end == 'B')
		end++;
	if (*end || (shift && v > UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* A whole decimal number in [lo, hi]. */
static int parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	long v;

	if ((*s < '0' || *s > '9') && *s != '-')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

struct load_ctx {
	struct wfs_config *cfg;
	const char *file;
	int bad;
};

static int on_key(void *user, const char *section, const char *key,
		  const char *value)
{
	struct load_ctx *lc = user;
	struct wfs_config *cfg = lc->cfg;
	char *end;

#define IS(s, k) (!strcasecmp(section, s) && !strcasecmp(key, k))
	if (IS("cache", "path")) {
		free(cfg->cache_path);
		cfg->cache_path = *value ? strdup(value) : NULL;
	} else if (IS("add", "jobs")) {
		/* the range of -j */
		if (parse_int(value, 0, 1024, &cfg->jobs))
			goto bad;
	} else if (IS("add", "max_file_size")) {
		if (wfs_config_parse_size(value, &cfg->max_file_size))
			goto bad;
	} else if (IS("add", "max_wheel_size")) {
		if (wfs_config_parse_size(value, &cfg->max_total_size))
			goto bad;
	} else if (IS("pin", "mode")) {
		enum wfs_pin_mode m;
		if (wfs_pin_mode_parse(value, &m)) {
			fprintf(stderr,
				"wheelfs: %s: [%s] %s: unknown pin mode '%s' "
				"(auto, reflink, hardlink, copy or symlink)\n",
				lc->file, section, key, value);
			lc->bad = 1;
			return 0;
		}
		free(cfg->pin_mode);
		cfg->pin_mode = strdup(value);
	} else if (IS("mount", "threads")) {
		/* the range of -o threads */
		if (parse_int(value, 0, 256, &cfg->mount_threads))
			goto bad;
	} else if (IS("mount", "timeout")) {
		errno = 0;
		cfg->mount_timeout = strtod(value, &end);
		if (end == value || *end || errno ||
		    !isfinite(cfg->mount_timeout) || cfg->mount_timeout < 0)
			goto bad;
	} else {
		fprintf(stderr, "wheelfs: %s: unknown key [%s] %s\n", lc->file,
			section, key);
		lc->bad = 1;
		return 0;
	}
	return 1;
#undef IS
bad:
	fprintf(stderr, "wheelfs: %s: [%s] %s: bad value '%s'\n", lc->file,
		section, key, value);
	lc->bad = 1;
	return 0;
}

static char *config_file(void)
{
	const char *env = getenv("WHEELFS_CONFIG");
	const char *home = getenv("HOME");
	char *p = NULL;

	if (env && *env)
		return strdup(env);
	if (home && *home &&
	    asprintf(&p, "%s/.config/wheelfs/wheelfs.conf", home) >= 0) {
		if (access(p, F_OK) == 0)
			return p;
		free(p);
	}
	return strdup(WFS_SYSCONFDIR "/wheelfs.conf");
}

int wfs_config_load(struct wfs_config *cfg)
{
	struct load_ctx lc = { .cfg = cfg };
	struct stat st;
	char *file;
	FILE *f;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->max_file_size = 4ULL << 30;
	cfg->max_total_size = 16ULL << 30;
	cfg->pin_mode = strdup("auto");
	cfg->mount_timeout = 86400;
	file = config_file();
	if (!file || !cfg->pin_mode) {
		free(file);
		return -ENOMEM;
	}
	f = fopen(file, "r");
	if (f) {
		/* fopen opens a directory; reading it would fail quietly */
		int e = fstat(fileno(f), &st) < 0 ? errno
			: S_ISDIR(st.st_mode)	  ? EISDIR
			: !S_ISREG(st.st_mode)	  ? EINVAL
						  : 0;
		if (e) {
			fclose(f);
			f = NULL;
			errno = e;
		}
	}
	if (!f) {
		const char *named = getenv("WHEELFS_CONFIG");
		/* Only a file named in WHEELFS_CONFIG must exist. */
		rc = errno == ENOENT && !(named && *named) ? 0 : -errno;
		if (rc)
			fprintf(stderr, "wheelfs: %s: %s\n", file,
				strerror(-rc));
		free(file);
		return rc;
	}
	lc.file = file;
	rc = ini_parse_file(f, on_key, &lc);
	if (!rc && ferror(f)) {
		fprintf(stderr, "wheelfs: %s: read error\n", file);
		rc = -1;
	}
	fclose(f);
	if (rc > 0 && !lc.bad)
		fprintf(stderr, "wheelfs: %s:%d: syntax error\n", file, rc);
	free(file);
	return rc || lc.bad ? -EINVAL : 0;
}

void wfs_config_free(struct wfs_config *cfg)
{
	free(cfg->cache_path);
	free(cfg->pin_mode);
	memset(cfg, 0, sizeof(*cfg));
}

char *wfs_config_cache_path(const struct wfs_config *cfg, const char *flag)
{
	const char *env = getenv("WHEELFS_CACHE_DIR");

	if (flag)
		return strdup(flag);
	if (env && *env)
		return strdup(env);
	if (cfg->cache_path)
		return strdup(cfg->cache_path);
	return wfs_cache_default_path();
}
