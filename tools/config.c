/* config.c — reading wheelfs.conf with inih. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cache.h"

int wfs_config_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	case 't':
	case 'T':
		v <<= 40;
		end++;
		break;
	default:
		break;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	*out = v;
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
		cfg->jobs = (int)strtol(value, &end, 10);
		if (*end || cfg->jobs < 0)
			goto bad;
	} else if (IS("add", "max_file_size")) {
		if (wfs_config_parse_size(value, &cfg->max_file_size))
			goto bad;
	} else if (IS("add", "max_wheel_size")) {
		if (wfs_config_parse_size(value, &cfg->max_total_size))
			goto bad;
	} else if (IS("pin", "mode")) {
		free(cfg->pin_mode);
		cfg->pin_mode = strdup(value);
	} else if (IS("mount", "threads")) {
		cfg->mount_threads = (int)strtol(value, &end, 10);
		if (*end || cfg->mount_threads < 0)
			goto bad;
	} else if (IS("mount", "timeout")) {
		cfg->mount_timeout = strtod(value, &end);
		if (*end || cfg->mount_timeout < 0)
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
