/* config.h — wheelfs.conf (INI, read with inih) and option precedence.
 *
 * Precedence, strongest first: command-line flags, environment variables
 * (WHEELFS_CACHE_DIR), the config file, built-in defaults.  The file is
 * $WHEELFS_CONFIG when set, else ~/.config/wheelfs/wheelfs.conf when it
 * exists, else WFS_SYSCONFDIR/wheelfs.conf.  A missing file is fine; a
 * malformed one is an error naming the file and line, and an unknown key or
 * a bad value (out of its flag's range, [pin] mode included) one naming the
 * file, section and key.  See wheelfs.conf(5).
 */
#ifndef WFS_CONFIG_H
#define WFS_CONFIG_H

#include <stdint.h>

struct wfs_config {
	char *cache_path;	 /* [cache] path; NULL: the XDG default */
	int jobs;		 /* [add] jobs; 0: one per CPU */
	uint64_t max_file_size;	 /* [add] max_file_size */
	uint64_t max_total_size; /* [add] max_wheel_size */
	char *pin_mode;		 /* [pin] mode */
	int mount_threads;	 /* [mount] threads; 0: single-threaded */
	double mount_timeout;	 /* [mount] timeout (seconds) for entries */
};

/* Load defaults, then the file. Prints the one-line error itself. */
int wfs_config_load(struct wfs_config *cfg);
void wfs_config_free(struct wfs_config *cfg);

/* Parse "123", "4k", "16M", "4GiB" (binary units); -EINVAL for a sign,
 * blanks, an unknown suffix or more than 2^64 - 1. */
int wfs_config_parse_size(const char *s, uint64_t *out);

/* The cache path to use: flag, else WHEELFS_CACHE_DIR, else config, else
 * the XDG default. Returns malloc'd string. */
char *wfs_config_cache_path(const struct wfs_config *cfg, const char *flag);

#endif
